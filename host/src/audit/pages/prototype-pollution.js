// Hostile page script: prototype-pollution payloads through the real
// client (`__proto__`, `constructor` and `prototype` keys, at the top and
// nested, as own keys made by JSON.parse and by computed keys), then a
// check that Object.prototype and Array.prototype are untouched.
async ({ settle }) => {
  const snapshot = () => ({
    object: Object.getOwnPropertyNames(Object.prototype).sort().join(","),
    array: Object.getOwnPropertyNames(Array.prototype).length,
    polluted: ({}).polluted,
    admin: ({}).admin,
  });
  const before = snapshot();
  const payloads = {
    protoTop: ["jwt:decode", JSON.parse('{"token":"a.b.c","__proto__":{"polluted":true}}')],
    protoComputed: ["diag:emit", { message: "x", ["__proto__"]: { polluted: true } }],
    protoNested: ["diag:emit", JSON.parse('{"message":"x","nested":{"__proto__":{"admin":true}}}')],
    constructorPrototype: ["diag:emit", JSON.parse('{"message":"x","constructor":{"prototype":{"polluted":true}}}')],
    prototypeInArray: ["diag:emit", JSON.parse('{"message":"x","list":[{"prototype":{"admin":true}}]}')],
    escapedProto: ["jwt:decode", JSON.parse('{"token":"a.b.c","\\u005f_proto__":{"polluted":true}}')],
    profileSave: ["settings:save", JSON.parse('{"theme":"dark","__proto__":{"admin":true}}')],
  };
  const answers = {};
  for (const [name, [channel, request]] of Object.entries(payloads)) {
    const a = await settle(window.tollgate.invoke(channel, request));
    answers[name] = { channel, code: a.ok ? "accepted" : a.code, message: a.message || null };
  }
  const after = snapshot();
  return {
    answers,
    prototypeUntouched: JSON.stringify(before) === JSON.stringify(after) && after.polluted === undefined && after.admin === undefined,
    before,
    after,
    ping: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
