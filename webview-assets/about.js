// @ts-check
/**
 * The about window's page: the host's version and the contract, through
 * `app:info`, the one channel this window may call.
 *
 * Trusts: the `tollgate` bridge the host injects before this script runs.
 * Writes to the DOM through `textContent` only. Shares the main page's
 * element lookup and theme choice (ui/dom.js, ui/theme.js), neither of
 * which touches the main page's elements.
 */
import { byId } from "./ui/dom.js";
import { followStoredTheme } from "./ui/theme.js";

async function loadInfo() {
  try {
    if (typeof tollgate === "undefined") throw new Error("the host bridge is not available");
    const info = await tollgate.invoke("app:info", {});
    byId("about-version", HTMLElement).textContent = info.version;
    byId("about-contract", HTMLElement).textContent = info.contractVersion;
    byId("about-window", HTMLElement).textContent = info.window;
  } catch (reason) {
    const error = byId("about-error", HTMLElement);
    const code = typeof reason === "object" && reason !== null && "code" in reason ? String(reason.code) : "";
    const message = typeof reason === "object" && reason !== null && "message" in reason ? String(reason.message) : String(reason);
    error.textContent = `The host did not answer: ${code ? `${code}: ` : ""}${message}`;
    error.hidden = false;
  }
}

followStoredTheme();
void loadInfo().then(() => {
  // The audit and tests wait on data-ready.
  document.body.dataset.ready = "true";
});
