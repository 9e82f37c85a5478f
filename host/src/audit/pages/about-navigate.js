// Hostile page script (about window): tries to turn the about window into
// the main page (index.html, same origin: it would run the main page's
// script with the about window's secret) and to leave the origin, by
// assigning location, location.replace and a scripted link click.
async ({ args, sleep }) => {
  const tried = [];
  const attempt = async (how, go) => {
    try {
      go();
      tried.push(how);
    } catch (e) {
      tried.push(how + ": " + e.name);
    }
    await sleep(400);
  };
  await attempt("location.href = index.html", () => { location.href = args.mainPage; });
  await attempt("location.replace(index.html?via=replace)", () => location.replace(args.mainPage + "?via=replace"));
  await attempt("link.click() to index.html", () => {
    const a = document.createElement("a");
    a.href = args.mainPage + "?via=link";
    document.body.append(a);
    a.click();
    a.remove();
  });
  await attempt("location.href = data:", () => { location.href = "data:text/html,<p>audit</p>"; });
  await sleep(400);
  return { tried, href: String(location.href) };
}
