// Hostile page script: tries to make the host open a file dialog (and so
// read a file or write one), or allow a host to fetch key sets from,
// without the user. It calls the three dialog
// channels directly, then after every input page script can fake (a
// synthetic click on the app's own buttons, mouse and key events, focus),
// then in a burst. Each call is given `waitMs` to answer: a dialog that
// opened would hold its call until the user closed it.
async ({ args, settle, within, sleep }) => {
  const { waitMs, token } = args;
  const calls = [
    ["keys:import-file", { algorithm: "ES256" }],
    ["keys:save-jwks", {}],
    ["jwt:verify-key-set-file", { token }],
    // A host the user never allowed: the host's own question, under the same rule.
    ["jwt:verify-key-set-url", { token, url: "https://jwks.example.invalid/keys" }],
  ];
  const answers = [];
  const ask = async (how) => {
    for (const [channel, request] of calls) {
      const a = await within(window.tollgate.invoke(channel, request), waitMs);
      answers.push({ how, channel, ok: a.ok, code: a.code || null, message: a.message || null });
    }
  };
  await ask("direct");
  // Inputs page script can make: none of them is GDK's.
  for (const id of ["key-import", "jwks-save", "keyset-file"]) {
    const button = document.getElementById(id);
    if (button) {
      button.disabled = false;
      button.focus();
      button.dispatchEvent(new MouseEvent("mousedown", { bubbles: true, cancelable: true, view: window, button: 0 }));
      button.dispatchEvent(new MouseEvent("mouseup", { bubbles: true, cancelable: true, view: window, button: 0 }));
      button.click();
    }
  }
  document.body.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  // The buttons' own handlers called the channels too: let their quotas
  // (1/s, burst 2) refill, so the next calls reach the dialog check.
  await sleep(2500);
  await ask("after synthetic input");
  // A burst, all at once.
  const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => within(window.tollgate.invoke(calls[i % 4][0], calls[i % 4][1]), waitMs)));
  for (const [i, a] of burst.entries()) answers.push({ how: "burst", channel: calls[i % 4][0], ok: a.ok, code: a.code || null, message: a.message || null });
  await sleep(300);
  return { answers, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
