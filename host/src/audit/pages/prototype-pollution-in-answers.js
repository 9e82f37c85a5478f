// Hostile page script: a token whose header and claims carry `__proto__`,
// `constructor` and `prototype` keys, decoded through the real client: the
// host's answer carries those keys back to the page, which must not
// pollute a prototype or hide the keys from the page.
async ({ args, settle }) => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort().join(",");
  const answer = await settle(window.tollgate.invoke("jwt:decode", { token: args.token }));
  const after = Object.getOwnPropertyNames(Object.prototype).sort().join(",");
  const out = { code: answer.ok ? "answered" : answer.code, prototypeUntouched: before === after && ({}).polluted === undefined && ({}).admin === undefined };
  if (answer.ok) {
    const payload = answer.data.payload;
    out.payloadOwnKeys = Object.keys(payload);
    out.payloadInheritsPolluted = payload.polluted === true && !Object.prototype.hasOwnProperty.call(payload, "polluted");
    out.payloadPrototypeIsObject = Object.getPrototypeOf(payload) === Object.prototype;
    out.shownAs = JSON.stringify(payload);
  }
  out.ping = await settle(window.tollgate.invoke("app:ping", {}));
  return out;
}
