// @ts-check
/**
 * Save and Delete, the editor's changes to the stored profiles: Save seals
 * a typed key through `crypto:encrypt` (or takes the one `keys:generate`
 * made and sealed in the host) and stores the profile, with the sealed key,
 * through `profiles:save`; Delete asks for a second click, then
 * calls `profiles:delete`. The host's refusals land on the field they name.
 */
import { asShownError, bridge } from "../bridge.js";
import { showBanner } from "../error-banner.js";
import { adviceFor, noteKeychain } from "./advice.js";
import { disarmDelete, editProfile } from "./editor.js";
import { pdom } from "./elements.js";
import {
  checkForm,
  customIso,
  editorFieldFor,
  focusFirstError,
  headerValue,
  isAlgorithm,
  isPreset,
  keyEncoding,
  madeKeyFits,
  parseClaims,
  parseHeaderFields,
  setBusy,
  setFieldError,
  syncKeyField,
} from "./form.js";
import { rememberSelection, renderProfileList } from "./list.js";
import { profileState } from "./state.js";

/** How long Delete waits for its confirmation before it disarms again. */
const DELETE_CONFIRM_MS = 5_000;

/** How long "Saved" stays beside the Save button. */
const SAVED_FEEDBACK_MS = 2_500;

/**
 * Saves the editor. Resolves to the stored profile, or null when it did not save.
 * @returns {Promise<Profile | null>}
 */
export async function saveProfile() {
  if (profileState.busy) return null;
  showBanner(pdom.error, null);
  if (!checkForm()) {
    focusFirstError();
    return null;
  }
  const parsed = parseClaims();
  if (!parsed.ok) return null;
  const headerFields = parseHeaderFields();
  if (!headerFields.ok) return null;
  const algorithm = pdom.algorithm.value;
  const preset = pdom.expiry.value;
  if (!isAlgorithm(algorithm) || !isPreset(preset)) return null;
  setBusy(true, pdom.save);
  try {
    let encryptedKey = profileState.selected?.encryptedKey ?? "";
    if ((profileState.selected === null || profileState.replacingKey) && profileState.madeKey !== null && madeKeyFits()) {
      encryptedKey = profileState.madeKey.encryptedKey;
    } else if (profileState.selected === null || profileState.replacingKey) {
      try {
        const sealed = await bridge().invoke("crypto:encrypt", { algorithm, key: pdom.key.value, encoding: keyEncoding() });
        encryptedKey = sealed.encryptedKey;
      } catch (reason) {
        const error = asShownError(reason);
        noteKeychain(error);
        if (error.code === "INVALID_INPUT") setFieldError("key", error.message);
        else showBanner(pdom.error, error, adviceFor(error));
        focusFirstError();
        return null;
      }
    }
    /** @type {ProfileInput} */
    const input = {
      name: pdom.name.value.trim(),
      algorithm,
      encryptedKey,
      payload: parsed.value,
      expirationPreset: preset,
      customExpiration: preset === "custom" ? customIso() : null,
      kid: headerValue(pdom.kid),
      typ: headerValue(pdom.typ),
      headerFields: headerFields.value,
    };
    if (profileState.selected) input.id = profileState.selected.id;
    const stored = await bridge().invoke("profiles:save", input);
    const index = profileState.profiles.findIndex((p) => p.id === stored.id);
    if (index === -1) profileState.profiles.push(stored);
    else profileState.profiles[index] = stored;
    editProfile(stored);
    renderProfileList();
    rememberSelection(stored.id);
    flashSaved("Saved");
    return stored;
  } catch (reason) {
    const error = asShownError(reason);
    noteKeychain(error);
    const details = /** @type {{ field?: unknown } | null} */ (error.details);
    const field = error.code === "DUPLICATE_NAME" ? "name" : error.code === "VALIDATION_ERROR" ? editorFieldFor(details?.field) : null;
    if (field !== null) {
      const message = error.code === "DUPLICATE_NAME"
        ? "Another profile already has this name (names are compared without case)."
        : field === "key" && profileState.selected && !profileState.replacingKey
          ? `${error.message}. Enter the key again for ${algorithm}.`
          : error.message;
      setFieldError(field, message);
      if (field === "key" && profileState.selected && !profileState.replacingKey) {
        profileState.replacingKey = true;
        syncKeyField();
      }
      focusFirstError();
    } else {
      showBanner(pdom.error, error, adviceFor(error));
    }
    return null;
  } finally {
    setBusy(false, pdom.save);
  }
}

/** @param {string} text */
function flashSaved(text) {
  clearTimeout(profileState.savedTimer);
  pdom.saved.textContent = text;
  profileState.savedTimer = setTimeout(() => {
    pdom.saved.textContent = "";
  }, SAVED_FEEDBACK_MS);
}

export async function onDelete() {
  const profile = profileState.selected;
  if (!profile || profileState.busy) return;
  if (pdom.del.dataset.armed !== "true") {
    pdom.del.dataset.armed = "true";
    pdom.del.textContent = `Delete “${profile.name}”`;
    pdom.delCancel.hidden = false;
    profileState.deleteTimer = setTimeout(disarmDelete, DELETE_CONFIRM_MS);
    return;
  }
  disarmDelete();
  setBusy(true, pdom.del);
  try {
    await bridge().invoke("profiles:delete", { id: profile.id });
    const index = profileState.profiles.findIndex((p) => p.id === profile.id);
    profileState.profiles = profileState.profiles.filter((p) => p.id !== profile.id);
    const next = profileState.profiles[Math.min(index, profileState.profiles.length - 1)] ?? null;
    if (profileState.generated?.profileId === profile.id) profileState.generated = null;
    editProfile(next);
    renderProfileList();
    if (next) rememberSelection(next.id);
    flashSaved(`Deleted “${profile.name}”`);
  } catch (reason) {
    showBanner(pdom.error, asShownError(reason));
  } finally {
    setBusy(false, pdom.del);
  }
}

/**
 * "Generate in Tollgate": the host makes a key for the algorithm shown and
 * seals it; the page keeps the sealed form and the public half only.
 */
export async function onMakeKey() {
  if (profileState.busy) return;
  const algorithm = pdom.algorithm.value;
  if (!isAlgorithm(algorithm)) return;
  setFieldError("key", null);
  showBanner(pdom.error, null);
  setBusy(true, pdom.keyMake);
  const rsa = isRsa(algorithm);
  /** @type {GenerateKeyRequest} */
  const request = { algorithm };
  if (rsa) request.rsaBits = Number(pdom.keyRsaBits.value);
  pdom.keyMakeCancel.hidden = !rsa;
  pdom.keyMakeProgress.hidden = !rsa;
  pdom.keyMakeProgress.textContent = rsa ? `Generating an RSA-${request.rsaBits} key…` : "";
  try {
    const made = await bridge().invoke("keys:generate", request);
    profileState.madeKey = { algorithm, encryptedKey: made.encryptedKey, publicKey: made.publicKey, source: "generated" };
    if (profileState.selected !== null) profileState.replacingKey = true;
    pdom.keyMakeProgress.hidden = true;
    syncKeyField();
  } catch (reason) {
    const error = asShownError(reason);
    if (error.code === "CANCELLED") {
      pdom.keyMakeProgress.textContent = "Cancelled: no key was made.";
    } else {
      pdom.keyMakeProgress.hidden = true;
      noteKeychain(error);
      showBanner(pdom.error, error, adviceFor(error));
    }
  } finally {
    pdom.keyMakeCancel.hidden = true;
    setBusy(false, pdom.keyMake);
  }
}

/**
 * Whether `algorithm` takes an RSA key (whose size the user picks).
 * @param {string} algorithm
 */
export function isRsa(algorithm) {
  return algorithm.startsWith("RS") || algorithm.startsWith("PS");
}

/**
 * A generation still running: how long it has taken.
 * @param {KeyGenerateProgress} progress
 */
export function onKeyGenerateProgress(progress) {
  if (pdom.keyMakeCancel.hidden) return;
  const seconds = Math.round(progress.elapsedMs / 1000);
  pdom.keyMakeProgress.textContent = `Generating a ${progress.algorithm} key… ${seconds} s`;
}

/** Asks the host to stop the generation in progress. */
export async function onCancelMakeKey() {
  try {
    await bridge().invoke("keys:cancel-generate", {});
  } catch {
    // The generation answers for itself.
  }
}

/**
 * "Import key file…": the host opens its own file dialog (it opens only
 * right after a click it saw), reads the key the user picks, checks it for
 * the algorithm shown and seals it. The page gets what "Generate" gives:
 * the sealed key and the public half; never the file, its path or the key.
 */
export async function onImportKeyFile() {
  await importKey("keys:import-file");
}

/**
 * A key file dropped on the window: the host kept it from this page and
 * holds it; it is read, checked for the algorithm shown and sealed as
 * "Import key file…" does.
 * @param {KeyFileDropped} drop
 */
export async function onKeyFileDropped(drop) {
  if (drop.files !== 1) {
    setFieldError("key", "Drop one key file at a time.");
    return;
  }
  await importKey("keys:import-dropped");
}

/** @param {"keys:import-file" | "keys:import-dropped"} channel */
async function importKey(channel) {
  if (profileState.busy) return;
  const algorithm = pdom.algorithm.value;
  if (!isAlgorithm(algorithm)) return;
  setFieldError("key", null);
  showBanner(pdom.error, null);
  setBusy(true, pdom.keyImport);
  try {
    const read = await bridge().invoke(channel, { algorithm });
    if (read === null) return;
    profileState.madeKey = { algorithm, encryptedKey: read.encryptedKey, publicKey: read.publicKey, source: "imported" };
    if (profileState.selected !== null) profileState.replacingKey = true;
    syncKeyField();
  } catch (reason) {
    const error = asShownError(reason);
    noteKeychain(error);
    if (error.code === "INVALID_INPUT") setFieldError("key", error.message);
    else showBanner(pdom.error, error, adviceFor(error));
  } finally {
    setBusy(false, pdom.keyImport);
  }
}
