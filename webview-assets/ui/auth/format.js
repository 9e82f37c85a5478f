// @ts-check
/**
 * How the sign-in area words things: clock times, countdowns, the host's
 * lowercase reasons as sentences, installation labels, and the badge that
 * stands in for an avatar.
 */
import { h } from "../dom.js";
import { formatDuration, formatLocal } from "../time-format.js";

/**
 * "14:32" (24-hour, local time), with the date in front when it is not
 * today: "Mar 3 14:32".
 * @param {string} iso
 */
export function formatClock(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${time}`;
}

/**
 * A `<time>` element showing `formatClock`, with the full local date and
 * time as its tooltip.
 * @param {string} iso
 */
export function clockElement(iso) {
  const time = h("time", "", formatClock(iso));
  time.dateTime = iso;
  time.title = formatLocal(iso);
  return time;
}

/**
 * "in 42 min" or "3 min ago", from now.
 * @param {number} ms a time on this page's clock
 */
export function relativeTo(ms) {
  const delta = ms - Date.now();
  return delta >= 0 ? `in ${formatDuration(delta / 1000)}` : `${formatDuration(-delta / 1000)} ago`;
}

/**
 * "14:59" for a countdown.
 * @param {number} ms non-negative
 */
export function formatCountdown(ms) {
  const total = Math.ceil(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
}

/**
 * The host's lowercase reasons as a sentence: "The session reached its end."
 * @param {string} text
 */
export function asSentence(text) {
  const trimmed = text.trim();
  if (trimmed === "") return trimmed;
  const capitalized = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalized) ? capitalized : `${capitalized}.`;
}

/** @param {Installation} installation */
export function installationLabel(installation) {
  const kind = installation.accountType === "Organization" ? "org" : installation.accountType === "User" ? "personal" : installation.accountType;
  return `${installation.accountLogin} (${kind})`;
}

/**
 * The login's first letter, for the badge that stands in for the avatar
 * (the page's CSP loads only the app's own images).
 * @param {string} login
 */
export function initialOf(login) {
  return (Array.from(login)[0] ?? "?").toUpperCase();
}

/**
 * One of the badge's six colours, the same for a login every time.
 * @param {string} login
 */
export function hueOf(login) {
  let hash = 0;
  for (const ch of login) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return hash % 6;
}
