// @ts-check
/**
 * The error banners of the profiles card and the sign-in panel: the code,
 * the message and, when there is some, advice on what to do.
 */
import { h, icon, ICON_ALERT } from "./dom.js";
/** @import { ShownError } from "./bridge.js" */

/** @param {ShownError} error */
function errorBody(error) {
  const body = h("div", "error-body");
  const title = h("p", "error-title");
  title.append(h("span", "error-code", error.code), h("span", "error-message", error.message));
  body.append(title);
  return body;
}

/**
 * Shows an error in one of the banners, or hides it.
 * @param {HTMLElement} banner
 * @param {ShownError | null} error
 * @param {string} [advice] a sentence saying what to do
 */
export function showBanner(banner, error, advice) {
  if (error === null) {
    banner.hidden = true;
    banner.replaceChildren();
    return;
  }
  const body = errorBody(error);
  if (advice) body.append(h("p", "error-advice", advice));
  banner.replaceChildren(icon(ICON_ALERT, "error-icon"), body);
  banner.hidden = false;
}
