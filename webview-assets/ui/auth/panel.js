// @ts-check
/**
 * The sign-in panel: starts an attempt (`auth:github-login`; the host runs
 * the device flow and polls), shows the code and the address with a
 * countdown, and the failure with Try again once the host's cooldown is over.
 * Focus stays in the panel while it is open and returns where it was.
 */
import { asShownError, bridge } from "../bridge.js";
import { h } from "../dom.js";
import { showBanner } from "../error-banner.js";
import { renderSigninButton } from "./account.js";
import { adom } from "./elements.js";
import { asSentence, formatCountdown } from "./format.js";
import { showAuthNotice } from "./notices.js";
import { authState } from "./state.js";
/** @import { LoginPhase } from "./state.js" */

/** The host allows one sign-in attempt per 10 s (`auth::LOGIN_COOLDOWN`): Try again waits it out rather than be refused. */
const LOGIN_COOLDOWN_MS = 10_000;

/** Added to every wait for the host: its clock starts a moment after the click. */
const LOGIN_COOLDOWN_SLACK_MS = 300;

/** The code's countdown and Try again's wait tick this often. */
const COUNTDOWN_TICK_MS = 1_000;

/** Bridge refusals a second attempt can't get past: Try again is not offered. */
const FINAL_CALL_ERRORS = ["UNKNOWN_CHANNEL", "IPC_FORBIDDEN", "IPC_UNAUTHORIZED", "VALIDATION_ERROR"];

/**
 * `details.retryAfterMs` of a RATE_LIMITED refusal, when it has one.
 * @param {unknown} details
 * @returns {number | null}
 */
function retryAfterMs(details) {
  if (typeof details !== "object" || details === null || !("retryAfterMs" in details)) return null;
  const value = details.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/** @param {LoginPhase} phase */
export function setPhase(phase) {
  authState.phase = phase;
  if (phase !== "code") stopCountdown();
  renderPanel();
  renderSigninButton();
}

/** Renders the panel for the current phase. */
function renderPanel() {
  const phase = authState.phase;
  adom.panel.dataset.phase = phase;
  adom.starting.hidden = phase !== "starting";
  adom.codeView.hidden = phase !== "code" && phase !== "expired";
  adom.waiting.hidden = phase !== "code";
  adom.copyCode.disabled = phase !== "code";
  if (phase !== "error") showBanner(adom.error, null);
  switch (phase) {
    case "starting":
      adom.status.textContent = "Asking GitHub for a sign-in code…";
      break;
    case "code":
      renderCountdown();
      break;
    case "expired":
      adom.status.textContent = "The code expired before it was approved. Try again for a new one.";
      adom.countdown.textContent = "This code has expired";
      adom.countdown.dataset.tone = "danger";
      break;
    case "error":
      adom.status.textContent = authState.retryable ? "Signing in did not work. You can try again." : "Signing in did not work.";
      break;
    case "idle":
      adom.status.textContent = "";
      break;
  }
  renderRetry();
}

function openPanel() {
  if (!adom.panel.open) {
    if (typeof adom.panel.showModal === "function") adom.panel.showModal();
    else adom.panel.setAttribute("open", "");
  }
  renderPanel();
  focusInPanel();
}

/** Moves focus back into the panel when what had it was disabled or hidden. */
export function keepFocusInPanel() {
  const active = document.activeElement;
  const lost = active === null || active === document.body || active === adom.panel
    || (active instanceof HTMLButtonElement && (active.disabled || active.closest("[hidden]") !== null));
  if (lost) focusInPanel();
}

/** Focus on what the user most likely does next in the panel. */
export function focusInPanel() {
  if (!adom.panel.open) return;
  if (!adom.retry.hidden && !adom.retry.disabled) adom.retry.focus();
  else if (authState.phase === "code") adom.copyCode.focus();
  else adom.close.focus();
}

/** @param {HTMLElement | null} [focusTarget] where focus goes (else the sign-in button) */
export function closePanel(focusTarget) {
  if (!adom.panel.open) {
    // Closed already: focus stays where the user put it.
    renderSigninButton();
    return;
  }
  authState.focusAfterClose = focusTarget ?? null;
  adom.panel.close();
}

/** After the panel closed (the close button, Escape, or a sign-in that finished). */
export function onPanelClosed() {
  // An attempt that ended is over once its panel is closed: the next click starts afresh.
  if (authState.phase === "error" || authState.phase === "expired") setPhase("idle");
  renderSigninButton();
  const target = authState.focusAfterClose ?? (adom.signin.hidden ? null : adom.signin);
  authState.focusAfterClose = null;
  target?.focus();
}

export function onSigninClick() {
  // A code is on its way or on screen: show it again rather than start over.
  if (authState.phase === "starting" || authState.phase === "code") {
    openPanel();
    return;
  }
  void startLogin();
}

/** Starts a sign-in attempt; its progress comes as events. Never rejects. */
export async function startLogin() {
  if (authState.subscribeError) {
    // Without the events the page would wait for a code that never shows.
    openPanel();
    showLoginFailure(authState.subscribeError, false);
    return;
  }
  const previousRetryAt = authState.retryAt;
  authState.retryAt = Date.now() + LOGIN_COOLDOWN_MS + LOGIN_COOLDOWN_SLACK_MS;
  setPhase("starting");
  openPanel();
  try {
    await bridge().invoke("auth:github-login", {});
  } catch (reason) {
    const error = asShownError(reason);
    if (error.code === "RATE_LIMITED") {
      // Refused: no attempt started, so the host's wait is the one that counts.
      const wait = retryAfterMs(error.details);
      authState.retryAt = wait === null ? previousRetryAt : Date.now() + wait + LOGIN_COOLDOWN_SLACK_MS;
    }
    // The host may have said so already with an `auth:login-error` event; its wait is this one.
    if (authState.phase === "starting" || authState.phase === "error") showLoginFailure(error, !FINAL_CALL_ERRORS.includes(error.code));
  }
}

/**
 * Shows a failed attempt in the panel.
 * @param {{ code: string, message: string }} failure
 * @param {boolean} retryable
 */
export function showLoginFailure(failure, retryable) {
  authState.retryable = retryable;
  setPhase("error");
  const shown = { code: failure.code, message: asSentence(failure.message), details: null, requestId: "" };
  showBanner(adom.error, shown, loginAdvice(failure.code, retryable));
  if (adom.panel.open) {
    focusInPanel();
    return;
  }
  // The user closed the panel while waiting: say it under the header, and let the next click start afresh.
  setPhase("idle");
  showAuthNotice("danger", "GitHub sign-in failed", shown.message);
}

/**
 * @param {string} code
 * @param {boolean} retryable
 * @returns {string | undefined}
 */
function loginAdvice(code, retryable) {
  switch (code) {
    case "NETWORK_ERROR":
      return "Tollgate could not reach its sign-in service. Check your connection, then try again.";
    case "TIMEOUT":
      return "The service may be busy: try again in a moment.";
    case "ACCESS_DENIED":
      return "Access was not granted on GitHub. Close this and sign in again to start over.";
    case "RATE_LIMIT":
    case "RATE_LIMITED":
      return "Sign-in attempts are limited; Try again unlocks when the wait is over.";
    default:
      return retryable ? undefined : "Close this and sign in again to start over.";
  }
}

/** Shows Try again when the attempt may be retried, disabled with a countdown until the host will accept it. */
function renderRetry() {
  clearTimeout(authState.retryTimer);
  authState.retryTimer = undefined;
  const ended = authState.phase === "error" || authState.phase === "expired";
  adom.dismiss.hidden = !ended;
  const show = (authState.phase === "error" && authState.retryable) || authState.phase === "expired";
  adom.retry.hidden = !show;
  if (!show) return;
  const wait = authState.retryAt - Date.now();
  if (wait > 0) {
    adom.retry.disabled = true;
    adom.retry.textContent = `Try again in ${Math.ceil(wait / 1000)} s`;
    authState.retryTimer = setTimeout(renderRetry, wait % COUNTDOWN_TICK_MS || COUNTDOWN_TICK_MS);
    return;
  }
  const wasDisabled = adom.retry.disabled;
  adom.retry.disabled = false;
  adom.retry.textContent = "Try again";
  // While it was disabled, focus went to the close button (or nowhere): Try again is what comes next.
  if (wasDisabled && adom.panel.open && document.activeElement === adom.close) adom.retry.focus();
  else if (wasDisabled) keepFocusInPanel();
}

export function startCountdown() {
  stopCountdown();
  renderCountdown();
  authState.countdownTimer = setInterval(renderCountdown, COUNTDOWN_TICK_MS);
}

function stopCountdown() {
  clearInterval(authState.countdownTimer);
  authState.countdownTimer = undefined;
}

function renderCountdown() {
  if (authState.phase !== "code") return;
  const left = authState.codeDeadline - Date.now();
  if (left <= 0) {
    // The host says so too (`auth:device-code-expired`) once its last poll is answered.
    setPhase("expired");
    keepFocusInPanel();
    return;
  }
  const time = h("strong", "auth-countdown-time", formatCountdown(left));
  adom.countdown.replaceChildren("Code expires in ", time);
  adom.countdown.dataset.tone = left < 60_000 ? "warn" : "neutral";
}
