// @ts-check
/**
 * The profiles card's elements, looked up once when the page loads (a
 * missing one stops the page there, as before any call is made).
 */
import { byId } from "../dom.js";

/**
 * The editor's inputs, by the name the host uses in `details.field`.
 * @typedef {"name" | "algorithm" | "key" | "claims" | "expiry" | "header"} EditorField
 */

export const pdom = {
  banner: byId("keychain-banner", HTMLDivElement),
  loadBanner: byId("profiles-banner", HTMLDivElement),
  list: byId("profile-list", HTMLUListElement),
  search: byId("profile-search", HTMLInputElement),
  searchEmpty: byId("profile-search-empty", HTMLElement),
  searchStatus: byId("profile-search-status", HTMLElement),
  discard: byId("discard-prompt", HTMLDivElement),
  discardText: byId("discard-prompt-text", HTMLElement),
  discardConfirm: byId("discard-confirm", HTMLButtonElement),
  discardCancel: byId("discard-cancel", HTMLButtonElement),
  newButton: byId("profile-new", HTMLButtonElement),
  form: byId("profile-form", HTMLFormElement),
  title: byId("editor-title", HTMLElement),
  dirty: byId("profile-dirty", HTMLElement),
  name: byId("profile-name", HTMLInputElement),
  algorithm: byId("profile-algorithm", HTMLSelectElement),
  expiry: byId("profile-expiry", HTMLSelectElement),
  customRow: byId("expiry-custom-row", HTMLDivElement),
  custom: byId("profile-expiry-custom", HTMLInputElement),
  customIso: byId("expiry-custom-iso", HTMLElement),
  keyLabel: byId("profile-key-label", HTMLLabelElement),
  keyStored: byId("key-stored", HTMLDivElement),
  keyReplace: byId("key-replace", HTMLButtonElement),
  keyEntry: byId("key-entry", HTMLDivElement),
  key: byId("profile-key", HTMLTextAreaElement),
  kid: byId("profile-kid", HTMLInputElement),
  typ: byId("profile-typ", HTMLInputElement),
  headerFields: byId("profile-header-fields", HTMLTextAreaElement),
  keyHint: byId("profile-key-hint", HTMLElement),
  keyKeep: byId("key-keep", HTMLButtonElement),
  keyMake: byId("key-make", HTMLButtonElement),
  keyMakeCancel: byId("key-make-cancel", HTMLButtonElement),
  keyMakeProgress: byId("key-make-progress", HTMLElement),
  keyRsaBits: byId("key-rsa-bits", HTMLSelectElement),
  keyImport: byId("key-import", HTMLButtonElement),
  storedPublic: byId("stored-public", HTMLDivElement),
  storedPublicKid: byId("stored-public-kid", HTMLElement),
  storedPublicPem: byId("stored-public-pem", HTMLElement),
  jwksCopy: byId("jwks-copy", HTMLButtonElement),
  jwksSave: byId("jwks-save", HTMLButtonElement),
  keyMade: byId("key-made", HTMLDivElement),
  keyMadeText: byId("key-made-text", HTMLElement),
  keyPublic: byId("key-public", HTMLDivElement),
  keyPublicPem: byId("key-public-pem", HTMLElement),
  claims: byId("profile-claims", HTMLTextAreaElement),
  claimsStatus: byId("claims-status", HTMLElement),
  claimsTimes: byId("profile-claims-times", HTMLUListElement),
  lintBox: byId("profile-lint-box", HTMLDivElement),
  lint: byId("profile-lint", HTMLUListElement),
  lintStatus: byId("profile-lint-status", HTMLElement),
  error: byId("profile-error", HTMLDivElement),
  save: byId("profile-save", HTMLButtonElement),
  revert: byId("profile-revert", HTMLButtonElement),
  saved: byId("profile-saved", HTMLElement),
  del: byId("profile-delete", HTMLButtonElement),
  delCancel: byId("profile-delete-cancel", HTMLButtonElement),
  generate: byId("generate-button", HTMLButtonElement),
  verify: byId("verify-button", HTMLButtonElement),
  decodeGenerated: byId("decode-generated", HTMLButtonElement),
  generateHint: byId("generate-hint", HTMLElement),
  generateError: byId("generate-error", HTMLDivElement),
  output: byId("generated-output", HTMLDivElement),
  token: byId("generated-token", HTMLElement),
  tokenMeta: byId("generated-meta", HTMLElement),
  verifyResult: byId("verify-result", HTMLDivElement),
  genHeader: byId("generated-header", HTMLPreElement),
  genPayload: byId("generated-payload", HTMLPreElement),
};

/** @type {Record<EditorField, HTMLElement>} */
export const fieldErrors = {
  name: byId("profile-name-error", HTMLElement),
  algorithm: byId("profile-algorithm-error", HTMLElement),
  key: byId("profile-key-error", HTMLElement),
  claims: byId("profile-claims-error", HTMLElement),
  expiry: byId("profile-expiry-error", HTMLElement),
  header: byId("profile-header-error", HTMLElement),
};

/** @type {Record<EditorField, HTMLElement>} */
export const fieldInputs = {
  name: pdom.name,
  algorithm: pdom.algorithm,
  key: pdom.key,
  claims: pdom.claims,
  expiry: pdom.expiry,
  header: pdom.kid,
};
