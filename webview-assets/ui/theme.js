// @ts-check
/**
 * The theme choice both pages follow: kept in page storage (one origin, so
 * the about window sees the main window's choice) and shown as
 * `<html data-theme>`. No choice, or no storage, means the system's theme.
 *
 * Touches only page storage and `<html>`, never the main page's elements,
 * so the about page imports it too.
 */

/** @typedef {"system" | "light" | "dark"} ThemeChoice */

/** Where the theme choice is kept between runs. */
const THEME_STORAGE_KEY = "tollgate.theme";

/**
 * The light or dark choice kept in page storage, or null when there is none
 * (or no storage).
 * @returns {"light" | "dark" | null}
 */
function storedTheme() {
  try {
    const value = localStorage.getItem(THEME_STORAGE_KEY);
    if (value === "light" || value === "dark") return value;
  } catch {
    // Storage may be unavailable under the app's scheme: no choice.
  }
  return null;
}

/**
 * The theme to start with: the user's stored choice, else one the host set
 * on <html> before this script ran, else the system's.
 * @returns {ThemeChoice}
 */
export function initialTheme() {
  const stored = storedTheme();
  if (stored !== null) return stored;
  const preset = document.documentElement.dataset.theme;
  return preset === "light" || preset === "dark" ? preset : "system";
}

/** @returns {boolean} whether page storage holds a theme choice */
export function storedThemeChoice() {
  try {
    return localStorage.getItem(THEME_STORAGE_KEY) !== null;
  } catch {
    return false;
  }
}

/**
 * Shows a choice on the page: `<html data-theme>`, or none for the system's.
 * @param {ThemeChoice} choice
 */
export function setPageTheme(choice) {
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

/**
 * Keeps a choice for the next run and for the about window; the system's
 * theme is kept as no choice.
 * @param {ThemeChoice} choice
 */
export function rememberTheme(choice) {
  try {
    if (choice === "system") localStorage.removeItem(THEME_STORAGE_KEY);
    else localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // Not persisted; the choice still holds for this run.
  }
}

/**
 * The about page's theme: the choice made in the main window, else the
 * system's (the about page has no toggle and asks the host for no setting).
 */
export function followStoredTheme() {
  const choice = storedTheme();
  if (choice !== null) setPageTheme(choice);
}
