// Hostile page script: POSTs a large body (args.mib MiB) where the host
// must refuse it without reading it: to an asset path (only GET is
// served), and to the binary path with no secret; then to the binary path
// through the page's own client, over the channel's cap, where the host
// reads one byte past the cap and no more. Meanwhile app:ping is timed.
async ({ args, settle, sleep, now }) => {
  const body = new Uint8Array(args.mib * 1024 * 1024);
  const status = (p) => p.then((r) => r.status, (e) => "error: " + e);
  const started = now();
  const asset = status(fetch("tollgate://localhost/index.html", { method: "POST", body }));
  const noSecret = status(fetch("tollgate://localhost/__bridge/diag:upload", {
    method: "POST", body, headers: { "x-tollgate-request-id": "no-secret-1" },
  }));
  const overCap = settle(window.tollgate.upload("diag:upload", body));
  let pending = 3;
  const done = Promise.all([asset, noSecret, overCap]).finally(() => { pending = 0; });
  const pings = [];
  while (pending) {
    const t = now();
    const a = await settle(window.tollgate.invoke("app:ping", {}));
    if (!a.ok) break;
    pings.push(now() - t);
    await sleep(10);
  }
  const [assetStatus, noSecretStatus, over] = await done;
  return {
    assetStatus, noSecretStatus, overCap: over.ok ? "accepted" : over.code, overCapMessage: over.message || "",
    pings, totalMs: now() - started, ping: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
