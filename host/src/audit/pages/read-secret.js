// Hostile page script: hooks every built-in the client could use late
// (Headers, JSON.stringify, String and Array methods, fetch, and getters on
// Object.prototype for the members fetch reads from its init dictionary),
// makes calls of every kind, and looks for 64 hex digits (the secret's
// form) in everything it saw and in the client's source and the document.
async ({ settle, sleep, post, envelope }) => {
  const HEX64 = /[0-9a-f]{64}/i;
  const seenIn = [];
  let stolen = null;
  const note = (where, value) => {
    try {
      const m = HEX64.exec(String(value));
      if (m) {
        if (seenIn.indexOf(where) < 0) seenIn.push(where);
        stolen = stolen || m[0];
      }
    } catch (e) { /* a value that can't be a string */ }
  };
  const restore = [];
  const hook = (object, name, wrap) => {
    const original = object[name];
    try {
      object[name] = wrap(original);
      restore.push(() => { object[name] = original; });
    } catch (e) { /* frozen */ }
  };
  for (const name of ["append", "set"]) {
    hook(Headers.prototype, name, (orig) => function (k, v) { note("Headers.prototype." + name, v); return orig.call(this, k, v); });
  }
  hook(JSON, "stringify", (orig) => function (...a) { const r = orig.apply(this, a); note("JSON.stringify", r); return r; });
  hook(String.prototype, "concat", (orig) => function (...a) { const r = orig.apply(this, a); note("String.prototype.concat", r); return r; });
  hook(Array.prototype, "join", (orig) => function (...a) { const r = orig.apply(this, a); note("Array.prototype.join", r); return r; });
  hook(window, "fetch", (orig) => function (...a) { try { note("fetch", a[1] && a[1].headers && Object.values(a[1].headers)); } catch (e) {} return orig.apply(this, a); });
  hook(Map.prototype, "set", (orig) => function (k, v) { note("Map.prototype.set", k); return orig.call(this, k, v); });
  const initKeys = ["signal", "referrer", "referrerPolicy", "mode", "credentials", "integrity", "keepalive", "redirect", "window", "priority", "duplex", "cache"];
  for (const key of initKeys) {
    if (Object.prototype.hasOwnProperty.call(Object.prototype, key)) continue;
    Object.defineProperty(Object.prototype, key, {
      configurable: true,
      get() {
        try { if (this && typeof this === "object") for (const v of Object.values(this)) {
          note("Object.prototype." + key + " getter", v);
          if (v && typeof v === "object") for (const w of Object.values(v)) note("Object.prototype." + key + " getter", w);
        } } catch (e) {}
        return undefined;
      },
    });
    restore.push(() => { delete Object.prototype[key]; });
  }
  try {
    await settle(window.tollgate.invoke("app:ping", {}));
    await settle(window.tollgate.upload("diag:upload", new Uint8Array(16)));
    await settle(window.tollgate.download("diag:download", { bytes: 16 }));
    const unsubscribe = await window.tollgate.on("diag:echo", () => {});
    await unsubscribe();
  } finally {
    for (const undo of restore.reverse()) undo();
  }
  for (const [name, f] of Object.entries(window.tollgate)) note("tollgate." + name + ".toString()", Function.prototype.toString.call(f));
  for (const name of ["__tollgate_deliver", "__tollgate_emit"]) note(name + ".toString()", Function.prototype.toString.call(window[name]));
  note("document", document.documentElement.outerHTML);
  for (const s of document.scripts) note("script " + s.src, s.textContent);
  // What a stolen secret would be worth: a call from this frame that the host answers.
  let stolenCall = null;
  if (stolen) {
    stolenCall = "sent";
    post(envelope(stolen, "audit-stolen-secret", "app:ping", "{}"));
    await sleep(300);
  }
  return { seenIn, stolenCall, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
