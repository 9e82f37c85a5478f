// Page script (about window): `samples` app:info round trips, one every
// `gapMs` (under the about window's own quota), timed; the first failure
// ends the run.
async ({ args, settle, sleep, now }) => {
  const rtts = [];
  for (let i = 0; i < args.samples; i++) {
    const t = now();
    const a = await settle(window.tollgate.invoke("app:info", {}));
    if (!a.ok) return { rtts, failed: a.code };
    rtts.push(now() - t);
    await sleep(args.gapMs);
  }
  return { rtts, failed: null };
}
