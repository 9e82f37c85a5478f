// Hostile page script, in the document a navigation within the app's origin
// loaded: its bridge client must work (it got the client again), and forged
// messages must still be refused.
async ({ settle, post, randomHex, envelope, watchEchoes }) => {
  const real = "audit-after-nav-real-" + randomHex(6);
  const forged = "audit-after-nav-forged-" + randomHex(6);
  const echoes = await watchEchoes(async () => {
    post(envelope(randomHex(32), "after-nav-guess", "diag:emit", JSON.stringify({ message: forged })));
    return settle(window.tollgate.invoke("diag:emit", { message: real }));
  });
  return {
    href: location.href,
    client: typeof window.tollgate,
    frozen: Object.isFrozen(window.tollgate),
    emit: echoes.value,
    realEchoed: echoes.seen.filter((m) => m === real).length,
    forgedEchoed: echoes.seen.filter((m) => m === forged).length,
    ping: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
