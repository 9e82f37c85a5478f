// Page script (main window): asks the host for the about window
// `args.calls` times in a row through the real client, the one way a page
// gets a second window. Past the channel's quota the host refuses.
async ({ args, settle }) => {
  const answers = [];
  for (let i = 0; i < args.calls; i++) answers.push(await settle(window.tollgate.invoke("app:open-about", {})));
  return { answers };
}
