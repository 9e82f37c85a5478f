// Hostile page script: requests over their channel's cap (a 70 KiB token,
// a 2 KiB diag:emit), a message over the bridge's 1 MiB envelope cap
// through the client and raw, and an upload over its cap.
async ({ args, settle, within, post, envelope }) => {
  const answers = {};
  const record = (name, a) => { answers[name] = { code: a.ok ? "accepted" : a.code, limit: a.details && a.details.limit }; };
  record("token70KiB", await settle(window.tollgate.invoke("jwt:decode", { token: "a".repeat(70 * 1024) })));
  record("emit2KiB", await settle(window.tollgate.invoke("diag:emit", { message: "m".repeat(2048) })));
  const big = "x".repeat(1100 * 1024);
  record("envelope1100KiB", await within(window.tollgate.invoke("jwt:decode", { token: big }), 5000));
  post(envelope("0".repeat(64), "raw-big", "jwt:decode", big));
  record("uploadOverCap", await within(window.tollgate.upload("diag:upload", new Uint8Array(args.uploadCap + 1)), 10000));
  return { answers, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
