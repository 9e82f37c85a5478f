// @ts-check
/**
 * GitHub sign-in. The host runs the device flow: it asks its sign-in
 * service for a code, opens the browser and polls. This page starts an
 * attempt, shows the code and the address, and renders what the `auth:*`
 * events say. No channel or event carries a token, and nothing here asks
 * for one or shows one: the page knows the user, the installations and when
 * tokens expire.
 *
 * This module starts sign-in (listen, read the session, probe once) and
 * wires its controls; its parts are in auth/: the elements and state, the
 * account in the header, the panel, the notices, the offline banner, the
 * events, and how times and names are worded.
 */
import { asShownError, bridge } from "./bridge.js";
import { accountFromSession, onInstallationChange, renderAccount, signOut } from "./auth/account.js";
import { adom } from "./auth/elements.js";
import { subscribeAuthEvents } from "./auth/events.js";
import { asSentence } from "./auth/format.js";
import { hideAuthNotice, showAuthNotice } from "./auth/notices.js";
import { checkOffline, setOffline } from "./auth/offline.js";
import { closePanel, onPanelClosed, onSigninClick, startLogin } from "./auth/panel.js";
import { authState } from "./auth/state.js";

/** Shows who is signed in, if anyone. Never rejects. */
async function loadSession() {
  const seq = authState.seq;
  try {
    const session = await bridge().invoke("auth:get-session", {});
    // A sign-in or sign-out event landed first: it is newer.
    if (seq !== authState.seq) return;
    authState.account = session ? accountFromSession(session) : null;
    if (session?.offline) setOffline(true, authState.offline.reason, session.installationTokenExpiresAt);
  } catch (reason) {
    if (seq !== authState.seq) return;
    authState.account = null;
    const error = asShownError(reason);
    const advice = error.code === "KEYCHAIN_UNAVAILABLE" ? " Unlock your keyring (or start a Secret Service) and reload." : "";
    showAuthNotice("warn", "GitHub sign-in could not be read", `${asSentence(error.message)}${advice}`);
  } finally {
    authState.loaded = true;
    renderAccount();
  }
}

/**
 * Listens, shows the session, then probes the sign-in service once if signed
 * in. Never rejects.
 * @param {() => Promise<void>} subscribeOthers the page's other listeners,
 *   registered after the auth ones and before the session is read
 */
export async function startAuth(subscribeOthers) {
  try {
    await subscribeAuthEvents();
    await subscribeOthers();
  } catch (reason) {
    authState.subscribeError = asShownError(reason);
  }
  await loadSession();
  // Not awaited: a probe of an unreachable service takes the request's time limit.
  if (authState.account) void checkOffline(false);
}

export function wireAuthEvents() {
  adom.signin.addEventListener("click", onSigninClick);
  adom.signout.addEventListener("click", () => void signOut());
  adom.installation.addEventListener("change", onInstallationChange);
  adom.close.addEventListener("click", () => closePanel());
  adom.dismiss.addEventListener("click", () => closePanel());
  adom.panel.addEventListener("close", onPanelClosed);
  adom.retry.addEventListener("click", () => {
    if (!adom.retry.disabled) void startLogin();
  });
  adom.noticeDismiss.addEventListener("click", hideAuthNotice);
  adom.offlineCheck.addEventListener("click", () => void checkOffline(true));
}
