// @ts-check
/**
 * What the profiles card says about an error beyond the host's message, and
 * the one error that changes the card: a locked or missing keychain turns
 * signing off.
 */
import { pdom } from "./elements.js";
import { updateGenerateState } from "./form.js";
import { profileState } from "./state.js";
/** @import { ShownError } from "../bridge.js" */

/**
 * What to tell the user about an error, beyond the host's message.
 * @param {ShownError} error
 * @returns {string | undefined}
 */
export function adviceFor(error) {
  switch (error.code) {
    case "PARSE_ERROR": {
      const details = /** @type {{ movedTo?: unknown } | null} */ (error.details);
      const moved = details && typeof details.movedTo === "string" ? details.movedTo : null;
      return moved
        ? `The damaged file was moved aside to ${moved} (nothing was deleted); Tollgate started from an empty list.`
        : "The damaged file was moved aside; Tollgate started from an empty list.";
    }
    case "KEYCHAIN_UNAVAILABLE":
      return "The OS keychain is locked or missing; profiles are listed but signing is off.";
    case "DECRYPTION_FAILED":
      return "This profile's key was sealed on another machine or by another user: replace the key and save.";
    case "PROFILE_LIMIT_REACHED":
      return "Delete a profile you no longer need to make room.";
    case "SIGNING_FAILED":
      return "The stored key no longer suits the algorithm: replace the key and save.";
    default:
      return undefined;
  }
}

/** @param {ShownError} error */
export function noteKeychain(error) {
  if (error.code === "KEYCHAIN_UNAVAILABLE") {
    profileState.keychainDown = true;
    pdom.banner.hidden = false;
    updateGenerateState();
  }
}
