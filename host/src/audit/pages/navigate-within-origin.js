// Page script: navigates the main frame to another page of the app's own
// origin (allowed). The host then waits for the new document and runs
// after-navigation.js in it.
async ({ args }) => {
  const before = typeof window.tollgate;
  setTimeout(() => { location.href = args.url; }, 50);
  return { before };
}
