// @ts-check
/**
 * The offline banner: shown while signed in and the sign-in service can't
 * be reached, with how long the cached installation token still works;
 * "Check again" asks the host to probe (`auth:check-offline-status`).
 */
import { asShownError, bridge } from "../bridge.js";
import { h } from "../dom.js";
import { adom } from "./elements.js";
import { asSentence, clockElement, relativeTo } from "./format.js";
import { announce, showAuthNotice } from "./notices.js";
import { authState } from "./state.js";

/**
 * @param {boolean} isOffline
 * @param {string | null} reason
 * @param {string | null} cachedTokenExpiresAt
 */
export function setOffline(isOffline, reason, cachedTokenExpiresAt) {
  const wasShown = !adom.offline.hidden;
  authState.offline = { isOffline, reason, cachedTokenExpiresAt };
  renderOffline();
  if (wasShown && adom.offline.hidden && authState.account) announce("The sign-in service can be reached again.");
}

/** The offline banner: shown while signed in and the sign-in service can't be reached. */
export function renderOffline() {
  const { isOffline, reason, cachedTokenExpiresAt: at } = authState.offline;
  const show = authState.account !== null && isOffline;
  adom.offline.hidden = !show;
  if (!show) return;
  const lead = h("strong", "", "Offline");
  const ms = at === null ? Number.NaN : Date.parse(at);
  if (at === null) {
    adom.offlineText.replaceChildren(lead, " — the sign-in service can't be reached, and there is no cached token.");
  } else if (Number.isNaN(ms) || ms > Date.now()) {
    const after = Number.isNaN(ms) ? "." : ` (${relativeTo(ms)}).`;
    adom.offlineText.replaceChildren(lead, " — the sign-in service can't be reached. Your cached GitHub token works until ", clockElement(at), after);
  } else {
    adom.offlineText.replaceChildren(lead, " — the sign-in service can't be reached, and your cached GitHub token expired at ", clockElement(at), ` (${relativeTo(ms)}).`);
  }
  adom.offlineReason.hidden = !reason;
  adom.offlineReason.textContent = reason ? `Reason: ${reason}` : "";
}

/**
 * Asks the host to probe the sign-in service. Never rejects.
 * @param {boolean} asked whether the user pressed Check again
 */
export async function checkOffline(asked) {
  adom.offlineCheck.disabled = true;
  adom.offlineCheck.dataset.busy = "true";
  try {
    const status = await bridge().invoke("auth:check-offline-status", {});
    setOffline(status.isOffline, status.reason, status.cachedTokenExpiresAt);
  } catch (reason) {
    const error = asShownError(reason);
    if (asked && !adom.offline.hidden) {
      adom.offlineReason.hidden = false;
      adom.offlineReason.textContent = `Could not check again: ${asSentence(error.message)}`;
    } else {
      showAuthNotice("danger", "Could not check the sign-in service", asSentence(error.message));
    }
  } finally {
    adom.offlineCheck.disabled = false;
    delete adom.offlineCheck.dataset.busy;
  }
}
