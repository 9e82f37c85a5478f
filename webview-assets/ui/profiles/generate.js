// @ts-check
/**
 * Generate and Verify: `jwt:generate` signs with the saved profile (saving
 * pending changes first), `jwt:verify` checks the token on screen, and
 * "Open in decoder" hands it to the decoder card.
 */
import { asShownError, bridge } from "../bridge.js";
import { openInDecoder } from "../decode.js";
import { h } from "../dom.js";
import { showBanner } from "../error-banner.js";
import { renderJson } from "../json-view.js";
import { formatLocal } from "../time-format.js";
import { adviceFor, noteKeychain } from "./advice.js";
import { pdom } from "./elements.js";
import { isDirty, setBusy } from "./form.js";
import { saveProfile } from "./save.js";
import { profileState } from "./state.js";
/** @import { Tone } from "../dom.js" */

export async function onGenerate() {
  if (profileState.busy || profileState.selected === null) return;
  let profile = profileState.selected;
  if (isDirty()) {
    const stored = await saveProfile();
    if (stored === null) return;
    profile = stored;
  }
  setBusy(true, pdom.generate);
  showBanner(pdom.generateError, null);
  try {
    const token = await bridge().invoke("jwt:generate", { profileId: profile.id });
    profileState.generated = { raw: token.raw, profileId: profile.id };
    pdom.token.textContent = token.raw;
    pdom.tokenMeta.textContent = `${profile.name} · ${token.raw.length} characters · ${formatLocal(token.generatedAt)}`;
    renderJson(pdom.genHeader, token.header);
    renderJson(pdom.genPayload, token.payload);
    pdom.verifyResult.hidden = true;
    pdom.verifyResult.replaceChildren();
    pdom.output.hidden = false;
    // The token is what the user came for: bring it on screen.
    pdom.output.scrollIntoView({ block: "nearest" });
  } catch (reason) {
    const error = asShownError(reason);
    noteKeychain(error);
    showBanner(pdom.generateError, error, adviceFor(error));
  } finally {
    setBusy(false, pdom.generate);
  }
}

export async function onVerify() {
  const generated = profileState.generated;
  if (!generated || profileState.busy) return;
  setBusy(true, pdom.verify);
  try {
    const result = await bridge().invoke("jwt:verify", { token: generated.raw, profileId: generated.profileId });
    renderVerification(result.valid ? "ok" : "danger", result.valid ? "Valid" : (result.reason ?? "Invalid"), result.valid ? "The signature checks out under this profile's key, and the token is in date." : (result.message ?? ""));
  } catch (reason) {
    const error = asShownError(reason);
    noteKeychain(error);
    renderVerification("danger", error.code, error.message);
  } finally {
    setBusy(false, pdom.verify);
  }
}

/**
 * @param {Tone} tone
 * @param {string} label
 * @param {string} text
 */
function renderVerification(tone, label, text) {
  pdom.verifyResult.dataset.tone = tone;
  const chip = h("span", "chip verify-chip", label);
  chip.dataset.tone = tone;
  pdom.verifyResult.replaceChildren(chip, h("span", "verify-text", text));
  pdom.verifyResult.hidden = false;
  pdom.verifyResult.scrollIntoView({ block: "nearest" });
}

export function openGeneratedInDecoder() {
  const generated = profileState.generated;
  if (!generated) return;
  openInDecoder(generated.raw);
}
