// @ts-check
/**
 * The sign-in elements (the account area in the header, the notices under
 * it, the sign-in panel), looked up once when the page loads.
 */
import { byId } from "../dom.js";

export const adom = {
  area: byId("auth-area", HTMLElement),
  signin: byId("auth-signin", HTMLButtonElement),
  signinLabel: byId("auth-signin-label", HTMLElement),
  account: byId("auth-account", HTMLElement),
  user: byId("auth-user", HTMLElement),
  userInitial: byId("auth-user-initial", HTMLElement),
  userLogin: byId("auth-user-login", HTMLElement),
  userName: byId("auth-user-name", HTMLElement),
  installationField: byId("auth-installation-field", HTMLElement),
  installation: byId("auth-installation", HTMLSelectElement),
  tokenExpiry: byId("auth-token-expiry", HTMLElement),
  installationStatus: byId("auth-installation-status", HTMLElement),
  installationError: byId("auth-installation-error", HTMLElement),
  signout: byId("auth-signout", HTMLButtonElement),
  offline: byId("auth-offline-banner", HTMLElement),
  offlineText: byId("auth-offline-text", HTMLElement),
  offlineReason: byId("auth-offline-reason", HTMLElement),
  offlineCheck: byId("auth-offline-check", HTMLButtonElement),
  notice: byId("auth-notice", HTMLElement),
  noticeTitle: byId("auth-notice-title", HTMLElement),
  noticeText: byId("auth-notice-text", HTMLElement),
  noticeDismiss: byId("auth-notice-dismiss", HTMLButtonElement),
  announce: byId("auth-announce", HTMLElement),
  panel: byId("auth-panel", HTMLDialogElement),
  close: byId("auth-close", HTMLButtonElement),
  status: byId("auth-status", HTMLElement),
  starting: byId("auth-starting", HTMLElement),
  codeView: byId("auth-code-view", HTMLElement),
  browserNote: byId("auth-browser-note", HTMLElement),
  uri: byId("auth-verification-uri", HTMLElement),
  code: byId("auth-user-code", HTMLElement),
  copyCode: byId("auth-copy-code", HTMLButtonElement),
  countdown: byId("auth-countdown", HTMLElement),
  waiting: byId("auth-waiting", HTMLElement),
  error: byId("auth-error", HTMLDivElement),
  retry: byId("auth-retry", HTMLButtonElement),
  dismiss: byId("auth-dismiss", HTMLButtonElement),
};
