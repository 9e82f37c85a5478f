// Hostile page script: tries to replay a request id on a state-changing
// channel (diag:emit). The client's ids are `<load id>-<n>`, and a refusal
// tells the page the id it used, so page script can learn a used id and
// predict the next one. It sends the used id again and the predicted one
// first, both forged (the secret is out of reach), then lets the real
// client use the predicted id.
async ({ settle, post, randomHex, envelope, watchEchoes }) => {
  const real = "audit-replay-real-" + randomHex(6);
  const forged = "audit-replay-forged-" + randomHex(6);
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await settle(window.tollgate.invoke("diag:emit", {}))).requestId);
  const last = ids[ids.length - 1];
  const dash = last.lastIndexOf("-");
  const body = JSON.stringify({ message: forged });
  const echoes = await watchEchoes(async () => {
    // watchEchoes' subscribe used one id; predict past it.
    const next = last.slice(0, dash + 1) + (Number(last.slice(dash + 1)) + 2);
    post(envelope(randomHex(32), last, "diag:emit", body));
    post(envelope("", last, "diag:emit", body));
    post(envelope(randomHex(32), next, "diag:emit", body));
    const realCall = await settle(window.tollgate.invoke("diag:emit", { message: real }));
    const afterwards = await settle(window.tollgate.invoke("diag:emit", {}));
    post(envelope(randomHex(32), next, "diag:emit", body));
    let binary = null;
    try {
      const response = await fetch("tollgate://localhost/__bridge/diag:upload", {
        method: "POST",
        headers: { "X-Tollgate-Request-Id": next, "Content-Type": "application/octet-stream" },
        body: new Uint8Array(4),
      });
      binary = JSON.parse(await response.text()).error.code;
    } catch (e) {
      binary = "failed: " + e.name;
    }
    return { next, realCall, afterwardsId: afterwards.requestId, binary };
  });
  const v = echoes.value;
  return {
    ids,
    next: v.next,
    realCall: v.realCall,
    realCallId: v.realCall.ok ? null : v.realCall.requestId,
    afterwardsId: v.afterwardsId,
    binary: v.binary,
    idsUnique: new Set([...ids, v.afterwardsId]).size === ids.length + 1,
    realEchoed: echoes.seen.filter((m) => m === real).length,
    forgedEchoed: echoes.seen.filter((m) => m === forged).length,
  };
}
