// Hostile page script (about window): calls every channel the about window
// is not given, through its own real client with its own valid secret
// (JSON channels with invoke, binary ones with upload and download), and
// subscribes to an event of the main window. Then the one channel it has.
async ({ args, settle }) => {
  const answers = {};
  for (const channel of args.json) answers[channel] = await settle(window.tollgate.invoke(channel, {}));
  for (const channel of args.upload) answers[channel] = await settle(window.tollgate.upload(channel, new Uint8Array([1, 2, 3])));
  for (const channel of args.download) answers[channel] = await settle(window.tollgate.download(channel, { bytes: 16 }));
  const subscribed = await settle(window.tollgate.on(args.event, () => {}));
  const info = await settle(window.tollgate.invoke("app:info", {}));
  return { answers, subscribed, info, href: String(location.href), ready: document.body.dataset.ready || null };
}
