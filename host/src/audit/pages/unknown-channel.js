// Hostile page script: calls to channels that are not declared, names that
// are not even `namespace:action`, and a binary channel over the JSON path.
async ({ settle }) => {
  const cases = {
    undeclared: "audit:missing",
    malformed: "Not A Channel",
    overlong: "a".repeat(300) + ":b",
    controlCharacters: "app:\nping",
    prototypeName: "__proto__",
    binaryOverJson: "diag:upload",
  };
  const answers = {};
  for (const [name, channel] of Object.entries(cases)) {
    const a = await settle(window.tollgate.invoke(channel, {}));
    answers[name] = { code: a.ok ? "accepted" : a.code };
  }
  return { answers, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
