// @ts-check
/**
 * Public keys out: the stored profile's public key under its sealed key
 * (`keys:public`), and a JWKS of every profile with one (`keys:jwks`) on
 * the clipboard, or saved to a file through the host's own dialog
 * (`keys:save-jwks`), for the services that verify the tokens. The page asks
 * the host for them; it never holds a private key to derive them from.
 */
import { bridge } from "../bridge.js";
import { pdom } from "./elements.js";
import { profileState } from "./state.js";

/** How long the JWKS button says what it copied. */
const JWKS_FEEDBACK_MS = 2_000;

/** Numbers `keys:public` calls, so an answer for a profile no longer shown is dropped. */
let publicSeq = 0;

/**
 * Shows the public key of the profile in the editor (asymmetric, saved);
 * hides the panel for anything else, or when the host can't open the key.
 * @param {Profile | null} profile
 */
export async function showStoredPublicKey(profile) {
  const seq = ++publicSeq;
  pdom.storedPublic.hidden = true;
  pdom.storedPublicPem.textContent = "";
  pdom.storedPublicKid.textContent = "";
  if (profile === null || profile.algorithm.startsWith("HS")) return;
  try {
    const answer = await bridge().invoke("keys:public", { id: profile.id });
    if (seq !== publicSeq || profileState.selected?.id !== profile.id) return;
    pdom.storedPublicPem.textContent = answer.publicKey.pem;
    pdom.storedPublicKid.textContent = answer.publicKey.thumbprint;
    pdom.storedPublic.hidden = profileState.replacingKey;
  } catch {
    // A locked keychain shows its own banner; the panel just stays hidden.
  }
}

/** Puts the JWKS of every profile with a public key on the clipboard. */
export async function onCopyJwks() {
  const button = pdom.jwksCopy;
  let label;
  try {
    const set = await bridge().invoke("keys:jwks", {});
    if (set.keys.length === 0) {
      label = "No public keys yet";
    } else {
      await navigator.clipboard.writeText(JSON.stringify(set, null, 2));
      label = `Copied ${set.keys.length} key${set.keys.length === 1 ? "" : "s"}`;
    }
  } catch {
    label = "Copy failed";
  }
  button.textContent = label;
  setTimeout(() => {
    button.textContent = "Copy JWKS";
  }, JWKS_FEEDBACK_MS);
}

/** Saves the JWKS to a file the user picks in the host's dialog. */
export async function onSaveJwks() {
  const button = pdom.jwksSave;
  let label;
  try {
    const saved = await bridge().invoke("keys:save-jwks", {});
    label = saved.saved ? `Saved ${saved.keys} key${saved.keys === 1 ? "" : "s"}` : "Not saved";
  } catch {
    label = "Save failed";
  }
  button.textContent = label;
  setTimeout(() => {
    button.textContent = "Save JWKS…";
  }, JWKS_FEEDBACK_MS);
}
