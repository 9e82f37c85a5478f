// @ts-check
/**
 * The about window's page: the host's version and the contract, through
 * `app:info`, the one channel this window may call.
 *
 * Trusts: the `tollgate` bridge the host injects before this script runs.
 * Writes to the DOM through `textContent` only.
 */

/** Where the main page keeps the theme choice (same origin, same storage). */
const THEME_STORAGE_KEY = "tollgate.theme";

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** Follows the theme the user chose in the main window. */
function applyTheme() {
  try {
    const choice = localStorage.getItem(THEME_STORAGE_KEY);
    if (choice === "light" || choice === "dark") document.documentElement.dataset.theme = choice;
  } catch {
    // No page storage: the system theme.
  }
}

async function loadInfo() {
  try {
    if (typeof tollgate === "undefined") throw new Error("the host bridge is not available");
    const info = await tollgate.invoke("app:info", {});
    byId("about-version").textContent = info.version;
    byId("about-contract").textContent = info.contractVersion;
    byId("about-window").textContent = info.window;
  } catch (reason) {
    const error = byId("about-error");
    const code = typeof reason === "object" && reason !== null && "code" in reason ? String(reason.code) : "";
    const message = typeof reason === "object" && reason !== null && "message" in reason ? String(reason.message) : String(reason);
    error.textContent = `The host did not answer: ${code ? `${code}: ` : ""}${message}`;
    error.hidden = false;
  }
}

applyTheme();
void loadInfo().then(() => {
  // The audit and tests wait on data-ready.
  document.body.dataset.ready = "true";
});
