// @ts-check
/**
 * The sign-in notices: the dismissible banner under the header, and what is
 * announced to screen readers.
 */
import { adom } from "./elements.js";

/** @param {string} text */
export function announce(text) {
  // Cleared first, so saying the same thing twice is still announced.
  adom.announce.textContent = "";
  setTimeout(() => {
    adom.announce.textContent = text;
  }, 50);
}

/**
 * Shows the dismissible notice under the header.
 * @param {"warn" | "danger"} tone
 * @param {string} title
 * @param {string} text
 */
export function showAuthNotice(tone, title, text) {
  adom.notice.dataset.tone = tone;
  adom.noticeTitle.textContent = title;
  adom.noticeText.textContent = text;
  adom.notice.hidden = false;
}

export function hideAuthNotice() {
  const hadFocus = adom.notice.contains(document.activeElement);
  adom.notice.hidden = true;
  adom.noticeTitle.textContent = "";
  adom.noticeText.textContent = "";
  if (hadFocus) focusAccountArea();
}

/** Puts focus on whichever account control is shown. */
function focusAccountArea() {
  if (!adom.signin.hidden) adom.signin.focus();
  else if (!adom.account.hidden) adom.installation.focus();
}
