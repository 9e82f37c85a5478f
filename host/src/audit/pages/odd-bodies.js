// Hostile page script: sends the binary path bodies of the kinds some
// WebKitGTK versions crash on inside get_http_body (a Blob, FormData, a
// ReadableStream) through the page's own client and raw, then checks the
// host still answers. Each must be answered (accepted or refused), never
// crash the host or hang.
async ({ settle, within }) => {
  const bytes = new Uint8Array(64 * 1024).fill(7);
  const form = new FormData();
  form.append("file", new Blob([bytes]), "x.bin");
  const stream = () => new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } });
  const code = (a) => (a.ok ? "accepted:" + (a.data && a.data.bytes) : a.code);
  const answers = {};
  answers.blob = code(await within(window.tollgate.upload("diag:upload", new Blob([bytes])), 10000));
  answers.formData = code(await within(window.tollgate.upload("diag:upload", form), 10000));
  answers.stream = code(await within(window.tollgate.upload("diag:upload", stream()), 10000));
  const raw = (body, extra) => within(fetch("tollgate://localhost/__bridge/diag:upload",
    Object.assign({ method: "POST", body, headers: { "x-tollgate-request-id": "odd-" + Math.random() } }, extra || {}))
    .then((r) => ({ bytes: r.status }), (e) => { throw { code: "FETCH_REFUSED:" + e.name }; }), 10000);
  answers.rawBlob = code(await raw(new Blob([bytes])));
  answers.rawForm = code(await raw(form));
  answers.rawStream = code(await raw(stream(), { duplex: "half" }));
  return { answers, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
