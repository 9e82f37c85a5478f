// @ts-check
/**
 * The main page's header: the host's version in the status pill
 * (`app:info`), the about button (`app:open-about`) and the theme toggle
 * (the choice is kept by theme.js and sent to the host's settings).
 *
 * Trusts: the bridge. What the host answers reaches the DOM as text only.
 */
import { asShownError, bridge, firstCall } from "./bridge.js";
import { byId } from "./dom.js";
import { rememberTheme, setPageTheme } from "./theme.js";
/** @import { ThemeChoice } from "./theme.js" */

const dom = {
  status: byId("app-status", HTMLElement),
  themeToggle: byId("theme-toggle", HTMLButtonElement),
  aboutOpen: byId("about-open", HTMLButtonElement),
};

/** Shows `app:info` in the status pill. Never rejects. */
export async function loadAppInfo() {
  const text = dom.status.querySelector(".status-text");
  try {
    const info = await firstCall("app:info");
    dom.status.dataset.state = "ok";
    const parts = [`v${info.version}`, `contract ${info.contractVersion}`];
    if (info.devtools) parts.push("devtools on");
    if (text) text.textContent = parts.join(" · ");
    dom.status.title = `Tollgate ${info.version}, bridge contract ${info.contractVersion}, window “${info.window}”`;
  } catch (reason) {
    const error = asShownError(reason);
    dom.status.dataset.state = "error";
    if (text) text.textContent = `Host unavailable · ${error.code}`;
    dom.status.title = error.message;
  }
}

/** Asks the host for the about window; says so on the button if it can't. */
async function openAbout() {
  try {
    const opened = await bridge().invoke("app:open-about", {});
    dom.aboutOpen.title = opened.requested ? "About Tollgate" : "About Tollgate (no window system)";
  } catch (reason) {
    const error = asShownError(reason);
    dom.aboutOpen.title = `About Tollgate: ${error.code}: ${error.message}`;
  }
}

/** @param {ThemeChoice} choice */
export function applyTheme(choice) {
  setPageTheme(choice);
  dom.themeToggle.dataset.themeChoice = choice;
  const label = `Theme: ${choice}`;
  dom.themeToggle.setAttribute("aria-label", label);
  dom.themeToggle.title = `${label} (click to change)`;
}

function cycleTheme() {
  /** @type {Record<ThemeChoice, ThemeChoice>} */
  const next = { system: "light", light: "dark", dark: "system" };
  const current = dom.themeToggle.dataset.themeChoice;
  const choice = next[current === "light" || current === "dark" ? current : "system"];
  applyTheme(choice);
  if (choice !== "system") {
    void bridge().invoke("settings:save", { theme: choice }).catch(() => {
      // The choice still holds for this run.
    });
  }
  rememberTheme(choice);
}

/** Wires the theme toggle and the about button. */
export function wireHeaderEvents() {
  dom.themeToggle.addEventListener("click", cycleTheme);
  dom.aboutOpen.addEventListener("click", () => void openAbout());
}
