// Hostile page script: floods one channel (app:info, quota 20/s) with
// `flood` calls, posted in batches over about two seconds, while the
// round-trip time of another channel (app:ping) is measured call after
// call; before the flood, the same measure on a quiet bridge.
async ({ args, settle, sleep, now }) => {
  const measure = async (until) => {
    const rtts = [];
    while (!until()) {
      const t = now();
      const a = await settle(window.tollgate.invoke("app:ping", {}));
      if (!a.ok) return { rtts, failed: a.code };
      rtts.push(now() - t);
    }
    return { rtts };
  };
  let quietCount = 0;
  const quiet = await measure(() => quietCount++ >= args.quietSamples);
  const flood = [];
  let flooding = true;
  const started = now();
  const floodDone = (async () => {
    const batch = Math.ceil(args.flood / 40);
    for (let sent = 0; sent < args.flood; sent += batch) {
      for (let i = 0; i < batch && sent + i < args.flood; i++) flood.push(settle(window.tollgate.invoke("app:info", {})));
      await sleep(50);
    }
    const answers = await Promise.all(flood);
    flooding = false;
    return answers;
  })();
  const during = await measure(() => !flooding);
  const answers = await floodDone;
  const codes = {};
  for (const a of answers) { const k = a.ok ? "ok" : a.code; codes[k] = (codes[k] || 0) + 1; }
  return { quiet: quiet.rtts, during: during.rtts, failed: during.failed || quiet.failed || null, codes, floodMs: now() - started };
}
