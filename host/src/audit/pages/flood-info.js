// Hostile page script (main window): `flood` calls to app:info (quota
// 20/s), posted in 40 batches over about two seconds; every answer's code.
async ({ args, settle, sleep, now }) => {
  const started = now();
  const flood = [];
  const batch = Math.ceil(args.flood / 40);
  for (let sent = 0; sent < args.flood; sent += batch) {
    for (let i = 0; i < batch && sent + i < args.flood; i++) flood.push(settle(window.tollgate.invoke("app:info", {})));
    await sleep(50);
  }
  const answers = await Promise.all(flood);
  const codes = {};
  for (const a of answers) { const k = a.ok ? "ok" : a.code; codes[k] = (codes[k] || 0) + 1; }
  return { codes, floodMs: now() - started };
}
