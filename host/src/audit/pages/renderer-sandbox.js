// Hostile page script: tries to read a file planted in the user's home
// through every way a page has to name a file (fetch and XHR of file://,
// an <img> and an <iframe> pointing at it), and reports what came back.
async ({ settle, sleep, path }) => {
  const url = "file://" + path;
  const out = {};
  try {
    const r = await fetch(url);
    out.fetch = "read " + (await r.text()).length + " bytes";
  } catch (e) { out.fetch = e.name; }
  out.xhr = await new Promise((resolve) => {
    try {
      const x = new XMLHttpRequest();
      x.onload = () => resolve("read " + String(x.responseText).length + " bytes");
      x.onerror = () => resolve("error");
      x.open("GET", url);
      x.send();
    } catch (e) { resolve(e.name); }
  });
  out.img = await new Promise((resolve) => {
    const img = document.createElement("img");
    img.onload = () => resolve("loaded");
    img.onerror = () => resolve("error");
    img.src = url;
    setTimeout(() => resolve("no answer"), 2000);
  });
  out.ping = await settle(window.tollgate.invoke("app:ping", {}));
  return out;
}
