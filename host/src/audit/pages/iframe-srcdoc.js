// Hostile page script: an iframe made with srcdoc (an inline document of
// the app's own origin) tries to reach the host: through a bridge client
// of its own, and through raw posts on the frame's message handler with a
// guessed secret and with none. The srcdoc also carries an inline script
// that posts on its own (the app's CSP should stop it from running).
async ({ settle, sleep, post, randomHex, envelope, watchEchoes }) => {
  const marker = "audit-srcdoc-" + randomHex(6);
  const forged = (secret, id) => envelope(secret, id, "diag:emit", JSON.stringify({ message: marker }));
  const out = {};
  const echoes = await watchEchoes(async () => {
    const frame = document.createElement("iframe");
    frame.srcdoc =
      "<p>audit</p><script>window.webkit.messageHandlers.ipc.postMessage(" +
      JSON.stringify(forged("0".repeat(64), "srcdoc-inline")) +
      ");<\/script>";
    document.body.append(frame);
    await sleep(500);
    const w = frame.contentWindow;
    out.created = !!w;
    if (!w) return;
    try {
      out.href = String(w.location.href);
      out.clientInFrame = typeof w.tollgate;
      out.deliverInFrame = typeof w.__tollgate_deliver;
      const handler = w.webkit && w.webkit.messageHandlers && w.webkit.messageHandlers.ipc;
      out.handlerReachable = !!handler;
      out.posted = 0;
      if (handler) {
        post(forged(randomHex(32), "srcdoc-guess"), w);
        post(forged("", "srcdoc-empty"), w);
        out.posted = 2;
      }
    } catch (e) {
      out.error = e.name;
    }
    await sleep(300);
    frame.remove();
  });
  out.echoed = echoes.seen.filter((m) => m === marker).length;
  out.ping = await settle(window.tollgate.invoke("app:ping", {}));
  return out;
}
