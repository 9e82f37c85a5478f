// @ts-check
/**
 * The decoder's time claims: exp, nbf and iat in UTC with a relative time
 * ("in 58 min"), and the token's time window in a few words.
 *
 * Does not trust: the claims; a value that is no usable NumericDate is
 * shown as its JSON and marked as such.
 */
import { h } from "../dom.js";
import { formatDuration, formatLocal } from "../time-format.js";
/** @import { Tone } from "../dom.js" */

/** Largest |milliseconds| a JavaScript Date can hold (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;

/**
 * One NumericDate claim as displayed.
 * @typedef {{ claim: "exp" | "nbf" | "iat", seconds: number }} TimeClaim
 */

/**
 * "2026-11-23 13:00:00 UTC", or null when the value is no usable date.
 * @param {number} seconds
 */
export function formatUtc(seconds) {
  const ms = seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return null;
  const iso = new Date(ms).toISOString(); // e.g. 2026-11-23T13:00:00.000Z
  return iso.replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}

/**
 * @param {"exp" | "nbf" | "iat"} claim
 * @param {number} delta claim time minus now, in seconds
 * @returns {{ text: string, tone: Tone }}
 */
function describeRelative(claim, delta) {
  const span = formatDuration(Math.abs(delta));
  const future = delta > 0;
  switch (claim) {
    case "exp":
      return future ? { text: `in ${span}`, tone: "ok" } : { text: `expired ${span} ago`, tone: "danger" };
    case "nbf":
      return future ? { text: `not valid for ${span}`, tone: "warn" } : { text: `valid since ${span} ago`, tone: "neutral" };
    case "iat":
      return future ? { text: `issued in the future, in ${span}`, tone: "warn" } : { text: `${span} ago`, tone: "neutral" };
  }
}

/** @type {Record<"exp" | "nbf" | "iat", string>} */
const CLAIM_NAMES = { exp: "Expires", nbf: "Not before", iat: "Issued at" };

/**
 * Lists exp, nbf and iat in UTC with a relative time, and sums the token's
 * time window up in the summary.
 * @param {Record<string, unknown>} payload
 * @param {HTMLUListElement} list where the rows go, one per claim
 * @param {HTMLElement} validity the summary's time-window chip
 */
export function renderTimes(payload, list, validity) {
  const now = Date.now() / 1000;
  /** @type {HTMLLIElement[]} */
  const rows = [];
  /** @type {Partial<Record<"exp" | "nbf" | "iat", number>>} */
  const usable = {};
  for (const claim of /** @type {const} */ (["exp", "nbf", "iat"])) {
    if (!(claim in payload)) continue;
    const value = payload[claim];
    const row = h("li", "time-row");
    row.append(h("span", "time-claim", `${claim}:`), " ");
    row.title = CLAIM_NAMES[claim];
    const utc = typeof value === "number" ? formatUtc(value) : null;
    if (typeof value !== "number" || utc === null) {
      row.append(h("span", "time-absolute", JSON.stringify(value) ?? String(value)), " ");
      row.append(toneChip("(", "not a NumericDate", ")", "warn"));
    } else {
      usable[claim] = value;
      const relative = describeRelative(claim, value - now);
      const local = formatLocal(new Date(value * 1000).toISOString());
      row.append(h("span", "time-absolute", utc), " ", h("span", "time-local", `${local} local`), " ", toneChip("(", relative.text, ")", relative.tone));
    }
    rows.push(row);
  }
  list.replaceChildren(...rows);
  list.hidden = rows.length === 0;

  const timeWindow = describeWindow(usable, now);
  validity.textContent = timeWindow.text;
  validity.dataset.tone = timeWindow.tone;
}

/**
 * A chip whose parentheses are kept for copy and screen readers but not drawn,
 * so the row reads "exp: 2026-11-23 13:00:00 UTC (in 58 min)".
 * @param {string} open
 * @param {string} text
 * @param {string} close
 * @param {Tone} tone
 */
export function toneChip(open, text, close, tone) {
  const chip = h("span", "chip chip-small time-relative");
  chip.dataset.tone = tone;
  chip.append(h("span", "visually-hidden", open), text, h("span", "visually-hidden", close));
  return chip;
}

/**
 * @param {Partial<Record<"exp" | "nbf" | "iat", number>>} times
 * @param {number} now seconds since the epoch
 * @returns {{ text: string, tone: Tone }}
 */
function describeWindow(times, now) {
  if (times.exp !== undefined && times.exp <= now) return { text: `Expired ${formatDuration(now - times.exp)} ago`, tone: "danger" };
  if (times.nbf !== undefined && times.nbf > now) return { text: `Not valid yet`, tone: "warn" };
  if (times.exp !== undefined) return { text: `Valid for ${formatDuration(times.exp - now)}`, tone: "ok" };
  return { text: "Never expires", tone: "warn" };
}
