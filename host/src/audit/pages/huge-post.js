// Hostile page script: posts straight to the message handler, past the
// client, what the host must refuse without converting it: a string far
// over the 1 MiB message cap (args.mib MiB, with no secret) and values that
// are not strings at all (an object, a number, an array holding a big
// string). The host answers none of them (nothing was read, not even a
// request id); the page then checks the bridge still answers.
async ({ args, settle, sleep, post }) => {
  const huge = "x".repeat(args.mib * 1024 * 1024);
  post(huge);
  post({ channel: "app:ping", secret: "0".repeat(64) });
  post(42);
  post(["y".repeat(2 * 1024 * 1024)]);
  await sleep(200);
  return { posted: huge.length, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
