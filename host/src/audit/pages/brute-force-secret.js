// Hostile page script: a brute force of the per-webview secret, `guesses`
// random 256-bit guesses as raw diag:emit messages, with a real call every
// 100 guesses to see the host keeps answering the page's own client.
async ({ args, settle, post, randomHex, envelope, watchEchoes, now }) => {
  const marker = "audit-brute-" + randomHex(6);
  const body = JSON.stringify({ message: marker });
  const started = now();
  const echoes = await watchEchoes(async () => {
    const pings = [];
    for (let i = 0; i < args.guesses; i++) {
      post(envelope(randomHex(32), "brute-" + i, "diag:emit", body));
      if (i % 100 === 99) pings.push(settle(window.tollgate.invoke("app:ping", {})));
    }
    return Promise.all(pings);
  });
  const pings = echoes.value;
  return {
    guesses: args.guesses,
    elapsedMs: now() - started,
    pingsOk: pings.filter((p) => p.ok).length,
    pings: pings.length,
    echoed: echoes.seen.filter((m) => m === marker).length,
    after: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
