// @ts-check
/**
 * The editor form: the key field for the algorithm, the expiry, the claims'
 * live JSON check, field errors, whether the form holds unsaved changes,
 * and the state of the Save, Generate and Verify buttons that follows.
 *
 * Does not trust: what the user types. The claims are parsed here so
 * mistakes show without a round trip; the host validates everything again.
 */
import { fieldErrors, fieldInputs, pdom } from "./elements.js";
import { profileState } from "./state.js";
/** @import { EditorField } from "./elements.js" */

/** Every algorithm the signer supports, in the order the picker lists them. */
export const ALGORITHMS = /** @type {const} */ (["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]);

/** What the host accepts for a profile name (trimmed). */
const PROFILE_NAME_MAX = 50;

/** @param {string} value @returns {value is AlgorithmName} */
export function isAlgorithm(value) {
  return /** @type {readonly string[]} */ (ALGORITHMS).includes(value);
}

/** @param {string} value @returns {value is ExpirationPreset} */
export function isPreset(value) {
  return value === "1h" || value === "1d" || value === "1w" || value === "custom";
}

/** @param {string} alg */
function isHmac(alg) {
  return alg.startsWith("HS");
}

/** @param {KeyEncoding} encoding */
export function setEncoding(encoding) {
  for (const radio of pdom.form.querySelectorAll('input[name="key-encoding"]')) {
    if (radio instanceof HTMLInputElement) radio.checked = radio.value === encoding;
  }
}

/** @returns {KeyEncoding} */
export function keyEncoding() {
  const checked = pdom.form.querySelector('input[name="key-encoding"]:checked');
  return checked instanceof HTMLInputElement && checked.value === "base64" ? "base64" : "text";
}

/** Whether the host generated a key for the algorithm the editor shows now. */
export function madeKeyFits() {
  return profileState.madeKey !== null && profileState.madeKey.algorithm === pdom.algorithm.value;
}

/** Shows the stored-key line or the key textarea, with help for the algorithm. */
export function syncKeyField() {
  const hmac = isHmac(pdom.algorithm.value);
  const stored = profileState.selected !== null && !profileState.replacingKey;
  pdom.keyStored.hidden = !stored;
  pdom.keyEntry.hidden = stored;
  pdom.keyKeep.hidden = !(profileState.selected !== null && profileState.replacingKey);
  pdom.keyLabel.textContent = hmac ? "HMAC secret" : "Private key (PEM)";
  const segmented = pdom.form.querySelector(".segmented");
  if (segmented instanceof HTMLElement) segmented.hidden = stored || !hmac;
  if (!hmac) setEncoding("text");
  pdom.key.placeholder = hmac
    ? keyEncoding() === "base64" ? "Base64 of 32 bytes or more" : "At least 32 characters (bytes) of secret"
    : "-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----";
  pdom.keyHint.textContent = hmac
    ? "Sealed by the OS keychain when you save; Tollgate never shows it again."
    : "PKCS#8 or traditional PEM. Sealed by the OS keychain when you save.";
  const made = madeKeyFits() ? profileState.madeKey : null;
  pdom.keyRsaBits.hidden = !(pdom.algorithm.value.startsWith("RS") || pdom.algorithm.value.startsWith("PS"));
  pdom.key.disabled = made !== null;
  const verb = made?.source === "imported" ? "read from a file by" : "generated in";
  if (made) {
    pdom.key.value = "";
    pdom.key.placeholder = made.source === "imported"
      ? "Read from a file by Tollgate: the private key stays sealed in the app."
      : "Generated in Tollgate: the private key stays sealed in the app.";
  }
  pdom.keyMade.hidden = made === null;
  pdom.keyMadeText.textContent = made === null
    ? ""
    : made.publicKey
      ? `${made.source === "imported" ? "The" : "New"} ${pdom.algorithm.value} key ${verb} Tollgate; the private key never reached this page. Thumbprint (kid): ${made.publicKey.thumbprint}`
      : `${made.source === "imported" ? "The" : "New"} ${pdom.algorithm.value} secret ${verb} Tollgate; it never reached this page and has no public half.`;
  pdom.keyPublic.hidden = !made?.publicKey;
  pdom.keyPublicPem.textContent = made?.publicKey?.pem ?? "";
}

export function syncExpiry() {
  const custom = pdom.expiry.value === "custom";
  pdom.customRow.hidden = !custom;
  const iso = customIso();
  pdom.customIso.textContent = custom ? (iso ? `Sent as ${iso}` : "Pick a date and time") : "";
}

/**
 * The custom expiry as ISO 8601 UTC, or null when none is set.
 * @returns {string | null}
 */
export function customIso() {
  if (pdom.custom.value === "") return null;
  const date = new Date(pdom.custom.value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * `2030-01-31T12:00` in local time, for a datetime-local input.
 * @param {string} iso
 */
export function toLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * Parses the claims textarea. Empty means `{}`.
 * @returns {{ ok: true, value: Record<string, unknown> } | { ok: false, message: string }}
 */
export function parseClaims() {
  return parseObject(pdom.claims, "Claims", "");
}

/**
 * Parses the custom header fields textarea. Empty means `{}`. The host
 * checks the names and sizes; this only says when it is not an object.
 * @returns {{ ok: true, value: Record<string, unknown> } | { ok: false, message: string }}
 */
export function parseHeaderFields() {
  return parseObject(pdom.headerFields, "Custom header fields", "Custom header fields: ");
}

/**
 * A textarea's JSON object. Empty means `{}`.
 * @param {HTMLTextAreaElement} input
 * @param {string} what what the object is, to start the "must be an object" message
 * @param {string} prefix put before a parse error's message
 * @returns {{ ok: true, value: Record<string, unknown> } | { ok: false, message: string }}
 */
function parseObject(input, what, prefix) {
  const text = input.value.trim();
  if (text === "") return { ok: true, value: {} };
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { ok: false, message: `${what} must be a JSON object: { "name": value, … }` };
    }
    return { ok: true, value };
  } catch (e) {
    return { ok: false, message: prefix + describeJsonError(text, e instanceof Error ? e.message : String(e)) };
  }
}

/**
 * Turns the engine's message into one with a line and column when it
 * gives a character position.
 * @param {string} text
 * @param {string} message
 */
function describeJsonError(text, message) {
  const at = /position (\d+)/i.exec(message);
  const cleaned = message.replace(/^JSON\.parse:\s*/i, "");
  if (!at) return cleaned;
  const index = Number(at[1]);
  const before = text.slice(0, index).split("\n");
  return `${cleaned} (line ${before.length}, column ${(before[before.length - 1] ?? "").length + 1})`;
}

/** Live validation of the claims. @returns {boolean} whether they parse */
export function validateClaims() {
  const parsed = parseClaims();
  pdom.claimsStatus.dataset.tone = parsed.ok ? "ok" : "danger";
  pdom.claimsStatus.textContent = parsed.ok ? (pdom.claims.value.trim() === "" ? "Empty: {}" : "Valid JSON") : "Invalid JSON";
  setFieldError("claims", parsed.ok ? null : parsed.message);
  return parsed.ok;
}

/**
 * @param {EditorField} field
 * @param {string | null} message
 */
export function setFieldError(field, message) {
  const slot = fieldErrors[field];
  slot.textContent = message ?? "";
  slot.hidden = message === null;
  const input = fieldInputs[field];
  if (message === null) input.removeAttribute("aria-invalid");
  else input.setAttribute("aria-invalid", "true");
}

export function clearFieldErrors() {
  for (const field of /** @type {EditorField[]} */ (Object.keys(fieldErrors))) setFieldError(field, null);
}

/**
 * The editor field a host field path names (`payload.x` is the claims).
 * @param {unknown} path
 * @returns {EditorField | null}
 */
export function editorFieldFor(path) {
  if (typeof path !== "string") return null;
  const head = path.split(/[.[]/)[0];
  switch (head) {
    case "name": return "name";
    case "algorithm": return "algorithm";
    case "encryptedKey": case "key": return "key";
    case "payload": return "claims";
    case "expirationPreset": case "customExpiration": return "expiry";
    case "kid": case "typ": case "headerFields": return "header";
    default: return null;
  }
}

/**
 * A header field as the host takes it: its text, or null (the default)
 * when empty.
 * @param {HTMLInputElement} input
 * @returns {string | null}
 */
export function headerValue(input) {
  const value = input.value.trim();
  return value === "" ? null : value;
}

/** @returns {boolean} */
export function isDirty() {
  const p = profileState.selected;
  if (p === null) {
    return pdom.name.value.trim() !== "" || pdom.key.value !== "" || profileState.madeKey !== null || pdom.claims.value.trim() !== "";
  }
  if (pdom.name.value !== p.name || pdom.algorithm.value !== p.algorithm || pdom.expiry.value !== p.expirationPreset) return true;
  if (p.expirationPreset === "custom" && customIso() !== (p.customExpiration ? new Date(p.customExpiration).toISOString() : null)) {
    // Only minutes are editable: compare at that precision.
    if (toLocalInput(p.customExpiration ?? "") !== pdom.custom.value) return true;
  }
  if (pdom.key.value !== "" || profileState.madeKey !== null) return true;
  if (headerValue(pdom.kid) !== p.kid || headerValue(pdom.typ) !== p.typ) return true;
  const fields = parseHeaderFields();
  if (!fields.ok || JSON.stringify(fields.value) !== JSON.stringify(p.headerFields)) return true;
  const parsed = parseClaims();
  return !parsed.ok || JSON.stringify(parsed.value) !== JSON.stringify(p.payload);
}

export function updateDirty() {
  const dirty = isDirty();
  pdom.dirty.hidden = !(dirty && profileState.selected !== null);
  pdom.revert.hidden = !(dirty && profileState.selected !== null);
  updateGenerateState();
}

export function updateGenerateState() {
  const saved = profileState.selected !== null;
  const dirty = saved && isDirty();
  pdom.generate.disabled = !saved || profileState.busy || profileState.keychainDown;
  pdom.verify.disabled = profileState.generated === null || profileState.busy || profileState.keychainDown;
  pdom.decodeGenerated.disabled = profileState.generated === null;
  pdom.generateHint.textContent = profileState.keychainDown
    ? "Signing is off: the OS keychain is locked or missing."
    : !saved
      ? "Create the profile to sign tokens with it."
      : dirty
        ? "Generating saves your changes first."
        : "Signs with the saved profile · Ctrl+G";
}

/** Checks the form here first, so obvious mistakes show without a round trip. @returns {boolean} */
export function checkForm() {
  clearFieldErrors();
  let ok = validateClaims();
  const name = pdom.name.value.trim();
  if (name === "") {
    setFieldError("name", "Give the profile a name.");
    ok = false;
  } else if (name.length > PROFILE_NAME_MAX) {
    setFieldError("name", `At most ${PROFILE_NAME_MAX} characters.`);
    ok = false;
  }
  if ((profileState.selected === null || profileState.replacingKey) && pdom.key.value.trim() === "" && !madeKeyFits()) {
    setFieldError("key", isHmac(pdom.algorithm.value) ? "Enter the HMAC secret, or generate one in Tollgate." : "Paste the private key (PEM), or generate one in Tollgate.");
    ok = false;
  }
  const fields = parseHeaderFields();
  if (!fields.ok) {
    setFieldError("header", fields.message);
    ok = false;
  }
  if (pdom.expiry.value === "custom") {
    const iso = customIso();
    if (iso === null) {
      setFieldError("expiry", "Pick when tokens expire.");
      ok = false;
    } else if (new Date(iso).getTime() <= Date.now()) {
      setFieldError("expiry", "The expiry must be in the future.");
      ok = false;
    }
  }
  return ok;
}

export function focusFirstError() {
  for (const field of /** @type {EditorField[]} */ (["name", "algorithm", "expiry", "header", "key", "claims"])) {
    if (!fieldErrors[field].hidden) {
      const input = fieldInputs[field];
      if (!(input instanceof HTMLTextAreaElement && input.closest("[hidden]"))) input.focus();
      return;
    }
  }
}

/**
 * @param {boolean} busy
 * @param {HTMLButtonElement} button
 */
export function setBusy(busy, button) {
  profileState.busy = busy;
  if (busy) button.dataset.busy = "true";
  else delete button.dataset.busy;
  pdom.save.disabled = busy;
  updateGenerateState();
}
