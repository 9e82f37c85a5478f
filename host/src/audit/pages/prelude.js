// The audit's harness in the page (tollgate audit only; never part of the
// app). The host evaluates `(<this>)(runId, args, hostile)` in the main
// frame: it runs one hostile script with a few helpers and records what the
// script observed in `window.__tollgateAudit[runId]`, which the host reads
// back. The helpers are captured here, before a hostile script can hook
// the built-ins they use.
(runId, args, hostile) => {
  "use strict";
  const results = window.__tollgateAudit || (window.__tollgateAudit = {});
  const PromiseCtor = Promise;
  const setTimer = window.setTimeout.bind(window);
  const getRandomValues = crypto.getRandomValues.bind(crypto);
  const now = performance.now.bind(performance);
  const sleep = (ms) => new PromiseCtor((resolve) => setTimer(resolve, ms));
  // A bridge promise as {ok, data} or {ok: false, code, message, details, requestId}.
  const settle = (promise) =>
    PromiseCtor.resolve(promise).then(
      (data) => ({ ok: true, data }),
      (e) => ({ ok: false, code: e && e.code, message: e && e.message, details: e && e.details, requestId: e && e.requestId }),
    );
  // A promise that may never settle, or {ok: false, code: "NO_ANSWER"} after `ms`.
  const within = (promise, ms) => PromiseCtor.race([settle(promise), sleep(ms).then(() => ({ ok: false, code: "NO_ANSWER" }))]);
  // A raw postMessage to the host, past the client (what any script can do).
  const post = (message, target) => (target || window).webkit.messageHandlers.ipc.postMessage(message);
  const randomHex = (bytes) => Array.from(getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
  // A raw envelope as the client would build it, with a secret of the caller's choosing.
  const envelope = (secret, id, channel, body) => "tg1\n" + secret + "\n" + id + "\n" + channel + "\n" + body;
  // Runs `during` while subscribed to diag:echo through the real client and
  // returns every echoed message: a forged diag:emit that got through would
  // show up here, whatever the log says.
  const watchEchoes = async (during) => {
    const seen = [];
    const unsubscribe = await window.tollgate.on("diag:echo", (payload) => seen.push(payload && payload.message));
    let value;
    try {
      value = await during();
      await sleep(300);
    } finally {
      await unsubscribe();
    }
    return { seen, value };
  };
  const helpers = Object.freeze({ args, settle, within, sleep, post, randomHex, envelope, watchEchoes, now });
  PromiseCtor.resolve()
    .then(() => hostile(helpers))
    .then(
      (value) => { results[runId] = { ok: value === undefined ? null : value }; },
      (e) => { results[runId] = { thrown: String((e && e.stack) || e) }; },
    );
}
