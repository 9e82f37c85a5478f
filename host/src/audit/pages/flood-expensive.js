// Hostile page script: makes an RSA-4096 profile (the audit's throwaway
// key, args.pem), then floods jwt:generate, the most expensive channel
// (~40 ms a call), at its quota (args.perTick calls every 10 ms for
// args.floodMs), while profiles:load, a cheap channel, is timed call after
// call. Then it records when the last flood answer arrived.
async ({ args, settle, sleep, now }) => {
  const sealed = await settle(window.tollgate.invoke("crypto:encrypt", { algorithm: "RS256", key: args.pem }));
  if (!sealed.ok) return { failed: "crypto:encrypt: " + sealed.code };
  const saved = await settle(window.tollgate.invoke("profiles:save", {
    name: "flood " + Math.round(now()), algorithm: "RS256", encryptedKey: sealed.data.encryptedKey,
    payload: { sub: "flood" }, expirationPreset: "1h",
  }));
  if (!saved.ok) return { failed: "profiles:save: " + saved.code };
  const profileId = saved.data.id;
  const first = await settle(window.tollgate.invoke("jwt:generate", { profileId }));
  if (!first.ok) return { failed: "jwt:generate: " + first.code };
  const quiet = [];
  for (let i = 0; i < 10; i++) {
    const t = now();
    const a = await settle(window.tollgate.invoke("profiles:load", {}));
    if (!a.ok) return { failed: "profiles:load: " + a.code };
    quiet.push(now() - t);
  }
  let flooding = true;
  const started = now();
  const flood = (async () => {
    const calls = [];
    while (now() - started < args.floodMs) {
      for (let i = 0; i < args.perTick; i++) calls.push(settle(window.tollgate.invoke("jwt:generate", { profileId })));
      await sleep(10);
    }
    const ended = now();
    const answers = await Promise.all(calls);
    const drained = now();
    flooding = false;
    return { answers, floodMs: ended - started, drainMs: drained - ended };
  })();
  const loads = [];
  let loadFailed = null;
  while (flooding) {
    const t = now();
    const a = await settle(window.tollgate.invoke("profiles:load", {}));
    if (!a.ok) { loadFailed = a.code; break; }
    loads.push(now() - t);
    await sleep(20);
  }
  const { answers, floodMs, drainMs } = await flood;
  const codes = {};
  let retryAfter = 0;
  for (const a of answers) {
    const k = a.ok ? "ok" : a.code;
    codes[k] = (codes[k] || 0) + 1;
    if (!a.ok && a.details && typeof a.details.retryAfterMs === "number") retryAfter++;
  }
  await settle(window.tollgate.invoke("profiles:delete", { id: profileId }));
  return { quiet, loads, loadFailed, codes, retryAfter, floodMs, drainMs };
}
