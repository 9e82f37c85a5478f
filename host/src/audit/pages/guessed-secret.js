// Hostile page script: raw messages to the host with secrets it made up
// (zeros, random, empty, not hex, one digit short and long, upper case),
// messages that are not strings, and the binary path with a made-up secret
// header and none; every forged call is a diag:emit, so one that got
// through would echo.
async ({ settle, post, randomHex, envelope, watchEchoes }) => {
  const marker = "audit-guess-" + randomHex(6);
  const body = JSON.stringify({ message: marker });
  const secrets = {
    zeros: "0".repeat(64),
    random: randomHex(32),
    empty: "",
    notHex: "zz".repeat(32),
    short: randomHex(32).slice(0, 63),
    long: randomHex(32) + "0",
    upperCase: randomHex(32).toUpperCase(),
  };
  const echoes = await watchEchoes(async () => {
    for (const [name, secret] of Object.entries(secrets)) post(envelope(secret, "guess-" + name, "diag:emit", body));
    for (const junk of [{ not: "a string" }, 42, null, ["tg1", secrets.random]]) {
      try { post(junk); } catch (e) { /* WebKit may refuse to serialize */ }
    }
    const binary = {};
    for (const [name, headers] of [
      ["guessedSecret", { "X-Tollgate-Secret": secrets.random, "X-Tollgate-Request-Id": "guess-binary-1" }],
      ["noSecret", { "X-Tollgate-Request-Id": "guess-binary-2" }],
    ]) {
      try {
        const response = await fetch("tollgate://localhost/__bridge/diag:upload", {
          method: "POST",
          headers: { ...headers, "Content-Type": "application/octet-stream" },
          body: new Uint8Array(8),
        });
        const text = await response.text();
        let code = null;
        try { code = JSON.parse(text).error.code; } catch (e) { code = "status " + response.status; }
        binary[name] = code;
      } catch (e) {
        binary[name] = "fetch failed: " + e.name;
      }
    }
    return binary;
  });
  return {
    forged: Object.keys(secrets).length,
    binary: echoes.value,
    echoed: echoes.seen.filter((m) => m === marker).length,
    ping: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
