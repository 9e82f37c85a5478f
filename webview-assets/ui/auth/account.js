// @ts-check
/**
 * The account in the header: the sign-in button, or who is signed in, the
 * installation picker (`auth:select-installation`) and when its token
 * expires; and signing out (`auth:logout`). The page never sees a token:
 * it knows the user, the installations and when tokens expire.
 *
 * Does not trust: GitHub's names and logins; they reach the DOM as text.
 */
import { asShownError, bridge } from "../bridge.js";
import { h } from "../dom.js";
import { formatLocal, RELATIVE_TIME_REFRESH_MS } from "../time-format.js";
import { adom } from "./elements.js";
import { asSentence, clockElement, formatClock, hueOf, initialOf, installationLabel, relativeTo } from "./format.js";
import { announce, hideAuthNotice, showAuthNotice } from "./notices.js";
import { renderOffline } from "./offline.js";
import { authState } from "./state.js";
/** @import { Account } from "./state.js" */

/** A token with less than this left is shown as a warning (the host renews it 5 min before its end). */
const TOKEN_EXPIRY_WARN_MS = 5 * 60_000;

/** @param {SessionView} session @returns {Account} */
export function accountFromSession(session) {
  return {
    user: session.user,
    installations: session.installations,
    currentId: session.currentInstallation?.id ?? null,
    tokenExpiresAt: session.installationTokenExpiresAt,
    sessionExpiresAt: session.sessionExpiresAt,
  };
}

/** Renders the whole account area from `authState`. */
export function renderAccount() {
  const account = authState.account;
  adom.area.dataset.state = !authState.loaded ? "loading" : account ? "signed-in" : "signed-out";
  adom.signin.hidden = !authState.loaded || account !== null;
  adom.account.hidden = account === null;
  renderSigninButton();
  if (account) {
    renderUser(account);
    renderInstallations(account);
  }
  renderOffline();
  // Relative times ("in 42 min") and the token's warning tone go stale: refresh them while signed in.
  if (account && authState.relativeTimer === undefined) {
    authState.relativeTimer = setInterval(() => {
      if (authState.account) renderInstallationLine(authState.account);
      renderOffline();
    }, RELATIVE_TIME_REFRESH_MS);
  } else if (!account && authState.relativeTimer !== undefined) {
    clearInterval(authState.relativeTimer);
    authState.relativeTimer = undefined;
  }
}

export function renderSigninButton() {
  const pending = authState.phase === "starting" || authState.phase === "code";
  adom.signinLabel.textContent = pending ? "Finish signing in…" : "Sign in with GitHub";
  if (pending) adom.signin.dataset.pending = "true";
  else delete adom.signin.dataset.pending;
  adom.signin.title = pending ? "A sign-in is waiting for you: show its code" : "Sign in with your GitHub account (device flow: you approve in the browser)";
}

/** @param {Account} account */
function renderUser(account) {
  const { user } = account;
  adom.userInitial.textContent = initialOf(user.login);
  adom.userInitial.dataset.hue = String(hueOf(user.login));
  adom.userLogin.textContent = user.login;
  adom.userName.textContent = user.name ?? "";
  adom.userName.hidden = !user.name;
  const lines = [`Signed in to GitHub as ${user.login}${user.name ? ` (${user.name})` : ""}`];
  if (account.sessionExpiresAt) lines.push(`Session ends ${formatLocal(account.sessionExpiresAt)}`);
  adom.user.title = lines.join("\n");
}

/** @param {Account} account */
export function renderInstallations(account) {
  // While a pick is under way the picker shows it, not the one before.
  const shownId = authState.selecting?.id ?? account.currentId;
  const current = account.installations.some((i) => i.id === shownId) ? shownId : null;
  /** @type {HTMLOptionElement[]} */
  const options = [];
  if (current === null) {
    const placeholder = h("option", "", account.installations.length === 0 ? "No installations" : "Choose an installation…");
    placeholder.value = "";
    placeholder.disabled = true;
    options.push(placeholder);
  }
  for (const installation of account.installations) {
    const option = h("option", "", installationLabel(installation));
    option.value = String(installation.id);
    option.title = `${installation.accountLogin} (${installation.accountType}, installation ${installation.id})`;
    options.push(option);
  }
  adom.installation.replaceChildren(...options);
  adom.installation.value = current === null ? "" : String(current);
  adom.installation.disabled = authState.selecting !== null || account.installations.length === 0;
  adom.installation.setAttribute("aria-busy", authState.selecting !== null ? "true" : "false");
  if (authState.installationError !== null) adom.installation.setAttribute("aria-invalid", "true");
  else adom.installation.removeAttribute("aria-invalid");
  if (authState.selecting !== null) adom.installationField.dataset.busy = "true";
  else delete adom.installationField.dataset.busy;
  renderInstallationLine(account);
}

/**
 * The line under the picker: the pick's error, else what is happening
 * (a token being fetched, nothing picked yet), else the token's expiry.
 * @param {Account} account
 */
function renderInstallationLine(account) {
  const error = authState.installationError;
  adom.installationError.hidden = error === null;
  adom.installationError.textContent = error ?? "";

  /** @type {string | null} */
  let status = null;
  if (authState.selecting !== null) status = `Getting a token for ${authState.selecting.accountLogin}…`;
  else if (account.installations.length === 0) status = "Install the GitHub App on an account first";
  else if (account.currentId === null) status = "Pick one to get a token";
  else if (account.tokenExpiresAt === null) status = "No token cached";
  adom.installationStatus.hidden = error !== null || status === null;
  adom.installationStatus.textContent = status ?? "";

  const at = account.tokenExpiresAt;
  const showExpiry = error === null && status === null && at !== null;
  adom.tokenExpiry.hidden = !showExpiry;
  if (!showExpiry || at === null) {
    adom.tokenExpiry.replaceChildren();
    return;
  }
  const ms = Date.parse(at);
  const left = ms - Date.now();
  const expired = !Number.isNaN(ms) && left <= 0;
  adom.tokenExpiry.replaceChildren(expired ? "Token expired " : "Token expires ", clockElement(at));
  adom.tokenExpiry.dataset.tone = expired ? "danger" : left < TOKEN_EXPIRY_WARN_MS ? "warn" : "ok";
  const owner = account.installations.find((i) => i.id === account.currentId)?.accountLogin ?? "this installation";
  adom.tokenExpiry.title = Number.isNaN(ms)
    ? `The installation token for ${owner} expires ${at}`
    : `The installation token for ${owner} ${expired ? "expired" : "expires"} ${formatLocal(at)} (${relativeTo(ms)}). Tollgate renews it before then while the sign-in service can be reached.`;
}

/**
 * Picks an installation: the host fetches its token and keeps it in the
 * keychain; the page learns only when it expires.
 * @param {number} installationId
 */
export async function selectInstallation(installationId) {
  const account = authState.account;
  if (account === null || authState.selecting !== null) return;
  const seq = authState.seq;
  const accountLogin = account.installations.find((i) => i.id === installationId)?.accountLogin ?? `installation ${installationId}`;
  authState.selecting = { id: installationId, accountLogin };
  authState.installationError = null;
  renderInstallations(account);
  try {
    const selected = await bridge().invoke("auth:select-installation", { installationId });
    if (seq !== authState.seq || authState.account === null) return;
    authState.account.currentId = selected.installationId;
    authState.account.tokenExpiresAt = selected.expiresAt;
    announce(`Using ${selected.accountLogin}. Token expires ${formatClock(selected.expiresAt)}.`);
  } catch (reason) {
    if (seq !== authState.seq) return;
    const error = asShownError(reason);
    if (error.code === "UNAUTHORIZED") {
      // The host no longer has a session (it ended, or was refused).
      signedOut();
      showAuthNotice("warn", "You were signed out of GitHub", asSentence(error.message));
      return;
    }
    authState.installationError = error.code === "KEYCHAIN_UNAVAILABLE"
      ? `${asSentence(error.message)} Unlock your keyring and pick again.`
      : asSentence(error.message);
  } finally {
    authState.selecting = null;
    if (seq === authState.seq && authState.account) {
      renderInstallations(authState.account);
      if (authState.installationError !== null) adom.installation.focus();
    }
  }
}

export function onInstallationChange() {
  const value = adom.installation.value;
  const id = Number(value);
  if (value === "" || !Number.isSafeInteger(id)) return;
  void selectInstallation(id);
}

/** Forgets the account (signed out, or the session ended) and renders the signed-out state. */
export function signedOut() {
  const hadFocus = adom.account.contains(document.activeElement);
  authState.seq += 1;
  authState.account = null;
  authState.selecting = null;
  authState.installationError = null;
  renderAccount();
  if (hadFocus) adom.signin.focus();
}

export async function signOut() {
  if (authState.signingOut) return;
  authState.signingOut = true;
  adom.signout.disabled = true;
  adom.signout.dataset.busy = "true";
  try {
    const result = await bridge().invoke("auth:logout", {});
    signedOut();
    hideAuthNotice();
    if (!result.keychainCleared) {
      showAuthNotice("warn", "Signed out, but the keychain kept the session", "The OS keychain refused to delete the stored GitHub session. Tollgate no longer uses it; unlock your keyring, and it is replaced the next time you sign in.");
    } else {
      announce("Signed out of GitHub.");
    }
    adom.signin.focus();
  } catch (reason) {
    showAuthNotice("danger", "Sign-out failed", asSentence(asShownError(reason).message));
  } finally {
    authState.signingOut = false;
    adom.signout.disabled = false;
    delete adom.signout.dataset.busy;
  }
}
