// Hostile page script: malformed requests through the real client: wrong
// types, unknown and missing fields, a non-object top level, deep nesting,
// unsafe numbers, and values JSON can't carry; each a diag:emit where it
// can be, so one that got through would echo.
async ({ settle, randomHex, watchEchoes }) => {
  const marker = "audit-malformed-" + randomHex(6);
  // 100 levels in a few hundred bytes: under diag:emit's size cap, past the depth cap.
  let deep = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  const cyclic = { message: marker };
  cyclic.self = cyclic;
  const cases = {
    wrongType: ["diag:emit", { message: 42 }],
    unknownField: ["diag:emit", { message: marker, extra: true }],
    missingField: ["diag:emit", {}],
    arrayTopLevel: ["diag:emit", [marker]],
    stringTopLevel: ["diag:emit", marker],
    nullTopLevel: ["diag:emit", null],
    deepNesting: ["diag:emit", { message: marker, deep }],
    unsafeNumber: ["jwt:decode", { token: 2 ** 60 }],
    nonStringChannel: [42, { message: marker }],
    bigInt: ["diag:emit", { message: marker, n: 1n }],
    cyclic: ["diag:emit", cyclic],
    functionRequest: ["diag:emit", () => marker],
    loneSurrogate: ["jwt:decode", { token: "\ud800.a.b" }],
  };
  const answers = {};
  const echoes = await watchEchoes(async () => {
    for (const [name, [channel, request]] of Object.entries(cases)) {
      const a = await settle(window.tollgate.invoke(channel, request));
      answers[name] = { code: a.ok ? "accepted" : a.code, message: a.message || null };
    }
  });
  return { answers, echoed: echoes.seen.filter((m) => m === marker).length, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
