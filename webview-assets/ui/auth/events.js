// @ts-check
/**
 * What the `auth:*` events say, rendered: the device code, a sign-in that
 * worked or failed, an expired code, installation tokens cached or
 * refreshed, a session that ended, signing out elsewhere, and the sign-in
 * service going offline and back.
 *
 * Does not trust: event contents (codes, addresses, reasons, names); they
 * reach the DOM as text.
 */
import { asShownError, bridge } from "../bridge.js";
import { formatLocal } from "../time-format.js";
import { renderAccount, renderInstallations, selectInstallation, signedOut } from "./account.js";
import { adom } from "./elements.js";
import { asSentence } from "./format.js";
import { announce, hideAuthNotice, showAuthNotice } from "./notices.js";
import { setOffline } from "./offline.js";
import { closePanel, focusInPanel, keepFocusInPanel, setPhase, showLoginFailure, startCountdown } from "./panel.js";
import { authState } from "./state.js";

/** @param {UserCode} event */
function onUserCode(event) {
  // Counted from the lifetime rather than `expiresAt`, so a clock that
  // differs between host and page can't show a wrong countdown.
  authState.codeDeadline = Date.now() + event.expiresIn * 1000;
  adom.code.textContent = event.userCode;
  adom.uri.textContent = event.verificationUri;
  adom.browserNote.textContent = event.browserOpened ? "Your browser opened this address" : "Open this address in your browser";
  adom.countdown.title = `Expires at ${formatLocal(event.expiresAt)}`;
  adom.status.textContent = event.browserOpened
    ? `Your browser is open at GitHub (if it isn't, open the address below). Enter the code ${event.userCode} there.`
    : `Tollgate could not open your browser: open the address below yourself and enter the code ${event.userCode}.`;
  setPhase("code");
  startCountdown();
  if (adom.panel.open && !adom.panel.contains(document.activeElement)) focusInPanel();
  else if (adom.panel.open && document.activeElement === adom.close) adom.copyCode.focus();
}

/** @param {LoginSuccess} event */
function onLoginSuccess(event) {
  authState.seq += 1;
  authState.account = { user: event.user, installations: event.installations, currentId: null, tokenExpiresAt: null, sessionExpiresAt: null };
  authState.loaded = true;
  authState.selecting = null;
  authState.installationError = null;
  hideAuthNotice();
  setPhase("idle");
  renderAccount();
  const only = event.installations.length === 1 ? event.installations[0] : undefined;
  // Several: the user picks one. One: it is picked here, and the picker is busy meanwhile.
  closePanel(event.installations.length > 1 ? adom.installation : adom.user);
  announce(`Signed in to GitHub as ${event.user.login}.`);
  if (only) void selectInstallation(only.id);
}

/** @param {LoginError} event */
function onLoginError(event) {
  showLoginFailure(event, event.retryable);
}

/** @param {DeviceCodeExpired} event */
function onDeviceCodeExpired(event) {
  if (authState.phase !== "code" && authState.phase !== "expired") return;
  // A newer attempt's code is on screen: this one is not news.
  if (adom.code.textContent !== event.userCode) return;
  setPhase(adom.panel.open ? "expired" : "idle");
  keepFocusInPanel();
}

/** @param {InstallationTokenCached} event */
function onInstallationTokenCached(event) {
  const account = authState.account;
  if (account === null || !account.installations.some((i) => i.id === event.installationId)) return;
  account.currentId = event.installationId;
  account.tokenExpiresAt = event.expiresAt;
  renderInstallations(account);
}

/** @param {TokenRefreshed} event */
function onTokenRefreshed(event) {
  const account = authState.account;
  if (account === null || (account.currentId !== null && account.currentId !== event.installationId)) return;
  account.currentId = event.installationId;
  account.tokenExpiresAt = event.expiresAt;
  renderInstallations(account);
}

/** @param {SessionExpired} event */
function onSessionExpired(event) {
  if (authState.account === null && authState.loaded) {
    // Nothing on screen was signed in; still say why a stored session is gone.
    showAuthNotice("warn", "Your GitHub session ended", asSentence(event.reason));
    return;
  }
  signedOut();
  showAuthNotice("warn", "You were signed out of GitHub", asSentence(event.reason));
}

function onLogoutSuccess() {
  if (authState.account !== null) signedOut();
}

/** @param {OfflineModeEnabled} event */
function onOfflineModeEnabled(event) {
  setOffline(true, event.reason, event.cachedTokenExpiresAt);
}

function onOfflineModeDisabled() {
  setOffline(false, null, authState.offline.cachedTokenExpiresAt);
}

/** Listens to every `auth:*` event; remembers the first refusal. */
export async function subscribeAuthEvents() {
  const t = bridge();
  const results = await Promise.allSettled([
    t.on("auth:user-code", onUserCode),
    t.on("auth:login-success", onLoginSuccess),
    t.on("auth:login-error", onLoginError),
    t.on("auth:device-code-expired", onDeviceCodeExpired),
    t.on("auth:installation-token-cached", onInstallationTokenCached),
    t.on("auth:token-refreshed", onTokenRefreshed),
    t.on("auth:session-expired", onSessionExpired),
    t.on("auth:logout-success", onLogoutSuccess),
    t.on("auth:offline-mode-enabled", onOfflineModeEnabled),
    t.on("auth:offline-mode-disabled", onOfflineModeDisabled),
  ]);
  authState.subscribeError = null;
  for (const result of results) {
    if (result.status === "rejected") {
      authState.subscribeError = asShownError(result.reason);
      break;
    }
  }
}
