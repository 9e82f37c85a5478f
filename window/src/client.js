// Tollgate's bridge client. Injected by the host into the main frame of the
// app's own pages, before any page script runs. The per-webview secret
// below lives only in this closure: page script gets `window.tollgate`,
// a frozen object of four functions, and can't read the secret, replace the
// functions, or hook what they use (every built-in is captured here first).
(() => {
  "use strict";
  const SECRET = "__TOLLGATE_SECRET__";
  const ORIGIN = "tollgate://localhost";
  // The host's cap in bytes (envelope::MAX_MESSAGE_BYTES); a UTF-16 unit is
  // at least one byte, so longer messages can't pass. Shorter ones with
  // non-ASCII text may still be over in bytes: the host answers those.
  const MAX_MESSAGE_UNITS = __TOLLGATE_MAX_MESSAGE_BYTES__;
  if (window.top !== window || String(window.location.href).indexOf(ORIGIN + "/") !== 0) return;
  const handler = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.ipc;
  if (!handler) return;
  const post = handler.postMessage;
  const apply = Reflect.apply;
  const stringify = JSON.stringify;
  // Answers and events arrive as JSON text and are parsed here: JSON.parse
  // makes a `__proto__` key an own property, where an object literal (what
  // the host used to evaluate) would make it the object's prototype.
  const parse = JSON.parse;
  const PromiseCtor = Promise;
  const MapCtor = Map;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapDelete = Map.prototype.delete;
  const setAdd = Set.prototype.add;
  const setDelete = Set.prototype.delete;
  const setForEach = Set.prototype.forEach;
  const SetCtor = Set;
  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const nativeFetch = window.fetch;
  const headersGet = Headers.prototype.get;
  const responseJson = Response.prototype.json;
  const responseArrayBuffer = Response.prototype.arrayBuffer;
  // Brand checks for upload bodies, captured before page script runs: an
  // ArrayBuffer's byteLength getter throws on anything else, and isView
  // answers only for real typed arrays and DataViews.
  const isView = ArrayBuffer.isView;
  const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const isBytes = (data) => {
    if (isView(data)) return true;
    try {
      apply(arrayBufferByteLength, data, []);
      return true;
    } catch {
      return false;
    }
  };
  const getRandomValues = crypto.getRandomValues.bind(crypto);
  const toHex = (n) => (n >>> 0).toString(16).padStart(8, "0");
  const words = new Uint32Array(2);
  const random64 = () => {
    getRandomValues(words);
    return toHex(words[0]) + toHex(words[1]);
  };
  // Request ids: a per-document prefix (a reload never replays one), then
  // 64 random bits per call, so no other script can predict the id of a
  // call this page is about to make.
  const loadId = random64();
  const nextId = () => loadId + "-" + random64();

  const pending = new MapCtor();
  const listeners = new MapCtor();

  const makeError = (code, message, details, requestId) =>
    freeze({ code, message, details: details === undefined ? null : details, requestId: requestId === undefined ? null : requestId });

  const settle = (response) => {
    const entry = apply(mapGet, pending, [response.requestId]);
    if (!entry) return;
    apply(mapDelete, pending, [response.requestId]);
    if (response.success) entry.resolve(response.data);
    else entry.reject(makeError(response.error.code, response.error.message, response.error.details, response.requestId));
  };

  const invoke = (channel, request) => {
    if (typeof channel !== "string") {
      return PromiseCtor.reject(makeError("VALIDATION_ERROR", "channel must be a string", null, null));
    }
    let body;
    try {
      body = stringify(request === undefined ? {} : request);
    } catch (e) {
      return PromiseCtor.reject(makeError("VALIDATION_ERROR", "request could not be encoded as JSON", null, null));
    }
    if (typeof body !== "string") {
      return PromiseCtor.reject(makeError("VALIDATION_ERROR", "request could not be encoded as JSON", null, null));
    }
    const id = nextId();
    const message = "tg1\n" + SECRET + "\n" + id + "\n" + channel + "\n" + body;
    if (message.length > MAX_MESSAGE_UNITS) {
      return PromiseCtor.reject(makeError("PAYLOAD_TOO_LARGE", "request is over the bridge's 1 MiB message limit; use tollgate.upload for large data", { limit: MAX_MESSAGE_UNITS }, id));
    }
    return new PromiseCtor((resolve, reject) => {
      apply(mapSet, pending, [id, { resolve, reject }]);
      apply(post, handler, [message]);
    });
  };

  const binary = async (channel, body, contentType) => {
    if (typeof channel !== "string") throw makeError("VALIDATION_ERROR", "channel must be a string", null, null);
    const id = nextId();
    // Null-prototype records: fetch reads them with own-property lookups
    // only, so no getter page script puts on Object.prototype (or hook on
    // Headers.prototype) ever sees the secret.
    const headers = { __proto__: null, "X-Tollgate-Secret": SECRET, "X-Tollgate-Request-Id": id, "Content-Type": contentType };
    const init = { __proto__: null, method: "POST", headers, body, cache: "no-store", credentials: "omit", mode: "same-origin", redirect: "error", referrerPolicy: "no-referrer" };
    const response = await apply(nativeFetch, window, [ORIGIN + "/__bridge/" + channel, init]);
    const kind = apply(headersGet, response.headers, ["Content-Type"]);
    if (kind === "application/octet-stream") {
      // A streamed answer the host had to cut short (a failed piece, or
      // fewer bytes than it declared) fails the read: never a short buffer.
      try {
        return { bytes: await apply(responseArrayBuffer, response, []), id };
      } catch {
        throw makeError("INTERNAL_ERROR", "the download stopped before its end", null, id);
      }
    }
    const envelope = await apply(responseJson, response, []);
    if (!envelope.success) throw makeError(envelope.error.code, envelope.error.message, envelope.error.details, envelope.requestId);
    return { data: envelope.data, id };
  };

  // Bytes only: WebKitGTK (2.50) crashes the host inside
  // webkit_uri_scheme_request_get_http_body on a Blob, FormData or stream
  // body, and only this client holds the secret a body needs to be read.
  const upload = async (channel, data) => {
    if (!isBytes(data)) throw makeError("VALIDATION_ERROR", "tollgate.upload takes an ArrayBuffer or a typed array (read a Blob with its arrayBuffer() first)", null, null);
    return (await binary(channel, data, "application/octet-stream")).data;
  };
  const download = async (channel, request) => {
    const answer = await binary(channel, stringify(request === undefined ? {} : request), "application/json");
    if (!answer.bytes) throw makeError("INTERNAL_ERROR", "the host answered without bytes", null, answer.id);
    return answer.bytes;
  };

  const on = async (event, listener) => {
    if (typeof event !== "string" || typeof listener !== "function") {
      throw makeError("VALIDATION_ERROR", "on(event, listener) takes a name and a function", null, null);
    }
    let set = apply(mapGet, listeners, [event]);
    if (!set) {
      await invoke("events:subscribe", { event });
      set = apply(mapGet, listeners, [event]);
      if (!set) {
        set = new SetCtor();
        apply(mapSet, listeners, [event, set]);
      }
    }
    apply(setAdd, set, [listener]);
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      apply(setDelete, set, [listener]);
      if (set.size === 0 && apply(mapGet, listeners, [event]) === set) {
        apply(mapDelete, listeners, [event]);
        await invoke("events:unsubscribe", { event });
      }
    };
  };

  // Called by the host through evaluate_script. Not secret: anything page
  // script could learn here it could already get by calling.
  const deliver = (text) => {
    const response = apply(parse, JSON, [text]);
    if (response !== null && typeof response === "object") settle(response);
  };
  const emit = (event, payloadText) => {
    const set = apply(mapGet, listeners, [event]);
    if (!set) return;
    const payload = apply(parse, JSON, [payloadText]);
    apply(setForEach, set, [(listener) => {
      try {
        listener(payload);
      } catch (e) {
        // A failing listener must not stop the others.
      }
    }]);
  };
  defineProperty(window, "__tollgate_deliver", { value: deliver });
  defineProperty(window, "__tollgate_emit", { value: emit });
  defineProperty(window, "tollgate", { value: freeze({ invoke, on, upload, download }), enumerable: true });
})();
