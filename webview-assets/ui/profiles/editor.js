// @ts-check
/**
 * Puts a profile (or a blank one) in the editor, and what a switch resets:
 * the discard prompt, an armed Delete, field errors, and a token generated
 * from another profile. Leaving unsaved changes asks first, on the page
 * (no window.confirm).
 */
import { showBanner } from "../error-banner.js";
import { pdom } from "./elements.js";
import {
  clearFieldErrors,
  isDirty,
  setEncoding,
  syncExpiry,
  syncKeyField,
  toLocalInput,
  updateDirty,
  updateGenerateState,
  validateClaims,
} from "./form.js";
import { scheduleLint } from "./lint.js";
import { showResolvedTimes } from "./relative-times.js";
import { showStoredPublicKey } from "./public-key.js";
import { profileState } from "./state.js";

/**
 * Runs `action` now, or, when the editor holds unsaved changes, once the
 * user discards them in the on-page prompt.
 * @param {string} question what the prompt asks
 * @param {() => void} action
 */
export function unlessUnsaved(question, action) {
  if (!isDirty()) {
    action();
    return;
  }
  profileState.pendingDiscard = action;
  pdom.discardText.textContent = question;
  pdom.discard.hidden = false;
  pdom.discardCancel.focus();
}

export function closeDiscardPrompt() {
  profileState.pendingDiscard = null;
  pdom.discard.hidden = true;
}

/**
 * Puts a profile (or a blank one) in the editor.
 * @param {Profile | null} profile
 */
export function editProfile(profile) {
  profileState.selected = profile;
  profileState.replacingKey = profile === null;
  profileState.madeKey = null;
  closeDiscardPrompt();
  disarmDelete();
  clearFieldErrors();
  showBanner(pdom.error, null);
  pdom.title.textContent = profile ? profile.name : "New profile";
  pdom.name.value = profile?.name ?? "";
  pdom.algorithm.value = profile?.algorithm ?? "HS256";
  pdom.expiry.value = profile?.expirationPreset ?? "1h";
  pdom.custom.value = profile?.customExpiration ? toLocalInput(profile.customExpiration) : "";
  pdom.key.value = "";
  pdom.kid.value = profile?.kid ?? "";
  pdom.typ.value = profile?.typ ?? "";
  pdom.headerFields.value = profile && Object.keys(profile.headerFields).length > 0 ? JSON.stringify(profile.headerFields, null, 2) : "";
  setEncoding("text");
  pdom.claims.value = profile ? JSON.stringify(profile.payload, null, 2) : "";
  pdom.del.hidden = profile === null;
  pdom.save.textContent = profile ? "Save changes" : "Create profile";
  if (!profileState.generated || profileState.generated.profileId !== profile?.id) clearGenerated();
  syncKeyField();
  void showStoredPublicKey(profile);
  syncExpiry();
  validateClaims();
  showResolvedTimes();
  scheduleLint();
  updateDirty();
}

export function disarmDelete() {
  clearTimeout(profileState.deleteTimer);
  delete pdom.del.dataset.armed;
  pdom.del.textContent = "Delete";
  pdom.delCancel.hidden = true;
}

function clearGenerated() {
  profileState.generated = null;
  pdom.output.hidden = true;
  pdom.token.textContent = "";
  pdom.genHeader.replaceChildren();
  pdom.genPayload.replaceChildren();
  pdom.verifyResult.hidden = true;
  pdom.verifyResult.replaceChildren();
  showBanner(pdom.generateError, null);
  updateGenerateState();
}
