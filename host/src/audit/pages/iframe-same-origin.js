// Hostile page script: iframes pointed at the app's own pages (the same
// origin as the main frame) try to come up with a bridge client, and then
// post through their message handler with a guessed secret.
async ({ settle, sleep, post, randomHex, envelope, watchEchoes }) => {
  const marker = "audit-same-origin-" + randomHex(6);
  const frames = [];
  const echoes = await watchEchoes(async () => {
    for (const src of ["tollgate://localhost/index.html", "/index.html?framed=1"]) {
      const frame = document.createElement("iframe");
      frame.src = src;
      document.body.append(frame);
      await sleep(800);
      const seen = { src };
      try {
        const w = frame.contentWindow;
        seen.href = String(w.location.href);
        seen.appLoaded = !!(w.document && w.document.getElementById("token-input"));
        seen.clientInFrame = typeof w.tollgate;
        const handler = w.webkit && w.webkit.messageHandlers && w.webkit.messageHandlers.ipc;
        seen.handlerReachable = !!handler;
        if (handler) {
          post(envelope(randomHex(32), "same-origin-guess", "diag:emit", JSON.stringify({ message: marker })), w);
          seen.posted = true;
        }
      } catch (e) {
        seen.error = e.name;
      }
      frames.push(seen);
      frame.remove();
    }
  });
  return {
    frames,
    echoed: echoes.seen.filter((m) => m === marker).length,
    ping: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
