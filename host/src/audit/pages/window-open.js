// Hostile page script: tries to get a second window (which would be a
// second webview the host never vetted): window.open of the app's own page
// and of other origins, with and without features, a target=_blank link
// and a target=_blank form.
async ({ settle, sleep }) => {
  const blobUrl = URL.createObjectURL(new Blob(["<p>audit</p>"], { type: "text/html" }));
  const targets = [
    "tollgate://localhost/index.html",
    "/index.html?second=1",
    "https://popup.example.invalid/audit",
    "about:blank",
    "data:text/html,<p>audit</p>",
    blobUrl,
  ];
  const opened = [];
  for (const url of targets) {
    for (const features of [undefined, "popup,width=400,height=300"]) {
      let got;
      try {
        got = window.open(url, "_blank", features);
      } catch (e) {
        got = e.name;
      }
      opened.push({ url: url.slice(0, 40), features: features || null, returned: got === null ? null : typeof got });
      await sleep(100);
    }
  }
  const link = document.createElement("a");
  link.href = "https://blank.example.invalid/audit";
  link.target = "_blank";
  document.body.append(link);
  link.click();
  link.remove();
  const form = document.createElement("form");
  form.action = "tollgate://localhost/index.html";
  form.target = "_blank";
  document.body.append(form);
  try { form.submit(); } catch (e) { opened.push({ url: "form", returned: e.name }); }
  form.remove();
  await sleep(600);
  URL.revokeObjectURL(blobUrl);
  return {
    opened,
    windowsOpened: opened.filter((o) => o.returned !== null).length,
    href: location.href,
    ping: await settle(window.tollgate.invoke("app:ping", {})),
  };
}
