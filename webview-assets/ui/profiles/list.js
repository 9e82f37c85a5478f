// @ts-check
/**
 * The profiles list: `profiles:load`, the search box's filter, moving
 * through the list with the keyboard, and opening a profile (remembered
 * through `settings:save`).
 *
 * Does not trust: profile names (the user's text, kept by the host); they
 * reach the DOM as text.
 */
import { asShownError, bridge, firstCall } from "../bridge.js";
import { h } from "../dom.js";
import { showBanner } from "../error-banner.js";
import { formatLocal } from "../time-format.js";
import { adviceFor } from "./advice.js";
import { editProfile, unlessUnsaved } from "./editor.js";
import { pdom } from "./elements.js";
import { profileState } from "./state.js";

/** @type {Record<ExpirationPreset, string>} */
const PRESET_LABELS = { "1h": "1 hour", "1d": "1 day", "1w": "1 week", custom: "custom" };

/**
 * Loads the profiles and selects `selectId` (or the remembered one, or the
 * first). Never rejects.
 * @param {string | null} selectId
 */
export async function loadProfiles(selectId) {
  pdom.list.setAttribute("aria-busy", "true");
  try {
    const { profiles } = await firstCall("profiles:load");
    profileState.profiles = profiles;
    showBanner(pdom.loadBanner, null);
  } catch (reason) {
    const error = asShownError(reason);
    profileState.profiles = [];
    showBanner(pdom.loadBanner, error, adviceFor(error));
  } finally {
    pdom.list.setAttribute("aria-busy", "false");
  }
  const chosen = profileState.profiles.find((p) => p.id === selectId) ?? profileState.profiles[0] ?? null;
  // Select first, so the list marks the chosen profile as current.
  editProfile(chosen);
  renderProfileList();
}

/**
 * The profiles the search box lets through: a case-insensitive match on
 * the name or the algorithm.
 * @returns {Profile[]}
 */
function visibleProfiles() {
  const query = pdom.search.value.trim().toLowerCase();
  if (query === "") return profileState.profiles;
  return profileState.profiles.filter((p) => p.name.toLowerCase().includes(query) || p.algorithm.toLowerCase().includes(query));
}

export function renderProfileList() {
  // Re-rendering replaces the buttons: keep keyboard focus on the same profile.
  const focused = document.activeElement instanceof HTMLElement && pdom.list.contains(document.activeElement)
    ? document.activeElement.dataset.profileId ?? null
    : null;
  const query = pdom.search.value.trim();
  pdom.searchEmpty.hidden = true;
  if (profileState.profiles.length === 0) {
    const empty = h("li", "profile-empty");
    empty.append(h("p", "empty-title", "No profiles yet"), h("p", "empty-text", "A profile keeps a key, an algorithm and claims, so a token is one click away."));
    pdom.list.replaceChildren(empty);
    pdom.searchStatus.textContent = "";
    return;
  }
  const shown = visibleProfiles();
  pdom.searchStatus.textContent = query === "" ? "" : `${shown.length} of ${profileState.profiles.length} profiles match`;
  if (shown.length === 0) {
    pdom.list.replaceChildren();
    pdom.searchEmpty.textContent = `No profile's name or algorithm matches “${query}”.`;
    pdom.searchEmpty.hidden = false;
    return;
  }
  // One tab stop for the whole list (the selected profile, else the first);
  // the arrow keys move between the others.
  const tabStop = shown.find((p) => p.id === (focused ?? profileState.selected?.id))?.id ?? shown[0]?.id;
  pdom.list.replaceChildren(
    ...shown.map((profile) => {
      const item = h("li", "profile-item");
      const button = h("button", "profile-item-button");
      button.type = "button";
      button.dataset.profileId = profile.id;
      button.tabIndex = profile.id === tabStop ? 0 : -1;
      const selected = profileState.selected?.id === profile.id;
      button.setAttribute("aria-current", selected ? "true" : "false");
      const name = h("span", "profile-item-name", profile.name);
      name.title = profile.name;
      const meta = h("span", "profile-item-meta");
      const expiry = profile.expirationPreset === "custom" && profile.customExpiration
        ? `until ${formatLocal(profile.customExpiration)}`
        : `expires in ${PRESET_LABELS[profile.expirationPreset]}`;
      meta.append(h("span", "chip chip-small chip-accent", profile.algorithm), h("span", "profile-item-expiry", expiry));
      button.append(name, meta);
      button.addEventListener("click", () => selectProfile(profile.id));
      item.append(button);
      return item;
    }),
  );
  if (focused !== null) profileButtons().find((b) => b.dataset.profileId === focused)?.focus();
}

/** @returns {HTMLButtonElement[]} the list's buttons, in order */
export function profileButtons() {
  return Array.from(pdom.list.querySelectorAll("button.profile-item-button")).filter((b) => b instanceof HTMLButtonElement);
}

/**
 * Up/Down (and Home/End) move through the list; Enter opens the focused
 * profile (the button's own click).
 * @param {KeyboardEvent} event
 */
export function onListKeydown(event) {
  const buttons = profileButtons();
  if (buttons.length === 0) return;
  const current = buttons.findIndex((b) => b === document.activeElement);
  /** @type {number | null} */
  let next = null;
  if (event.key === "ArrowDown") next = current === -1 ? 0 : Math.min(current + 1, buttons.length - 1);
  else if (event.key === "ArrowUp") next = current === -1 ? 0 : current - 1;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = buttons.length - 1;
  if (next === null) return;
  event.preventDefault();
  if (next < 0) {
    // Up from the first profile goes back to the search box.
    pdom.search.focus();
    return;
  }
  for (const [i, b] of buttons.entries()) b.tabIndex = i === next ? 0 : -1;
  buttons[next]?.focus();
}

/** @param {string} id */
function selectProfile(id) {
  if (profileState.busy) return;
  const profile = profileState.profiles.find((p) => p.id === id) ?? null;
  if (profile !== null && profile.id === profileState.selected?.id) return;
  const current = profileState.selected?.name ?? "the new profile";
  unlessUnsaved(`Discard the unsaved changes to “${current}” and open “${profile?.name ?? "the profile"}”?`, () => {
    editProfile(profile);
    renderProfileList();
    if (profile) rememberSelection(profile.id);
  });
}

/** @param {string | null} id */
export function rememberSelection(id) {
  void bridge().invoke("settings:save", { lastSelectedProfileId: id }).catch(() => {
    // Remembering the selection is a convenience; the page works without it.
  });
}
