// Hostile page script standing in for code typed into the web inspector's
// console (WebKit runs both in the same world; the host can't tell them
// apart). With `inspected`, the host has opened the inspector: wait until
// a state-changing call is refused, then try channels that sign, seal,
// save, delete, sign out, trust and move bytes, and the read-only ones.
// Without it, the inspector has closed: wait until calls answer again.
async ({ args, settle, sleep }) => {
  const inspected = !!args.inspected;
  const started = Date.now();
  let probe;
  for (;;) {
    probe = await settle(window.tollgate.invoke("diag:emit", { message: "devtools-probe" }));
    const refused = !probe.ok && probe.code === "IPC_FORBIDDEN";
    if (refused === inspected || Date.now() - started > 10000) break;
    await sleep(100);
  }
  const waitedMs = Date.now() - started;
  if (!inspected) return { waitedMs, probe };
  const tries = {
    "crypto:encrypt": { algorithm: "HS256", key: "a-console-secret-of-32-bytes-or-more!!" },
    "profiles:save": { name: "console", algorithm: "HS256", payload: {}, expirationPreset: "1h" },
    "profiles:delete": { id: "00000000-0000-4000-8000-000000000000" },
    "settings:save": { theme: "dark" },
    "jwt:generate": { profileId: "00000000-0000-4000-8000-000000000000" },
    "auth:logout": {},
    "plugins:trust": { sha256: "0".repeat(64) },
    "app:open-about": {},
  };
  const refused = {};
  for (const [channel, payload] of Object.entries(tries)) {
    const a = await settle(window.tollgate.invoke(channel, payload));
    refused[channel] = a.ok ? "accepted" : a.code;
  }
  const upload = await settle(window.tollgate.upload("diag:upload", new Uint8Array(16)));
  refused["diag:upload"] = upload.ok ? "accepted" : upload.code;
  const readOnly = {};
  for (const channel of ["app:ping", "app:info", "plugins:list", "settings:get"]) {
    const a = await settle(window.tollgate.invoke(channel, {}));
    readOnly[channel] = a.ok ? "ok" : a.code;
  }
  return { waitedMs, probe, refused, readOnly };
}
