// Hostile page script: iframes with data: and blob: documents whose own
// scripts try to reach the host (the frame's message handler, with a
// guessed secret), and the page trying to reach into them.
async ({ settle, sleep, post, randomHex, envelope, watchEchoes }) => {
  const marker = "audit-data-blob-" + randomHex(6);
  const html = (id) =>
    "<p>audit</p><script>try{window.webkit.messageHandlers.ipc.postMessage(" +
    JSON.stringify(envelope("1".repeat(64), id, "diag:emit", JSON.stringify({ message: marker }))) +
    ")}catch(e){}<\/script>";
  const blobUrl = URL.createObjectURL(new Blob([html("blob-frame")], { type: "text/html" }));
  const frames = [];
  const echoes = await watchEchoes(async () => {
    for (const [kind, src] of [["data", "data:text/html," + encodeURIComponent(html("data-frame"))], ["blob", blobUrl]]) {
      const frame = document.createElement("iframe");
      frame.src = src;
      document.body.append(frame);
      await sleep(800);
      const seen = { kind };
      try {
        const w = frame.contentWindow;
        seen.href = String(w.location.href);
        const handler = w.webkit && w.webkit.messageHandlers && w.webkit.messageHandlers.ipc;
        seen.handlerReachable = !!handler;
        if (handler) {
          post(envelope(randomHex(32), kind + "-reach-in", "diag:emit", JSON.stringify({ message: marker })), w);
          seen.posted = true;
        }
      } catch (e) {
        seen.error = e.name;
      }
      frames.push(seen);
      frame.remove();
    }
  });
  URL.revokeObjectURL(blobUrl);
  return {
    frames,
    echoed: echoes.seen.filter((m) => m === marker).length,
    ping: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
