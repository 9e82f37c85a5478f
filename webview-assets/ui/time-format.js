// @ts-check
/**
 * Times in words, shared by the decoder, the profiles and the account area:
 * durations ("3 h 20 min"), local dates, and how often relative times are
 * refreshed while they are on screen.
 */

/** Refresh "in 58 min" / "expired 3 h ago" this often while a token is shown. */
export const RELATIVE_TIME_REFRESH_MS = 30_000;

/**
 * "58 min", "3 h 20 min", "12 d": a compact, rounded duration.
 * @param {number} seconds non-negative
 */
export function formatDuration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(s / 3600);
  if (hours < 10) {
    const rest = Math.round((s - hours * 3600) / 60);
    return rest === 0 || rest === 60 ? `${rest === 60 ? hours + 1 : hours} h` : `${hours} h ${rest} min`;
  }
  if (hours < 48) return `${Math.round(s / 3600)} h`;
  const days = Math.round(s / 86_400);
  if (days < 730) return `${days} d`;
  return `${Math.round(s / 31_557_600)} years`;
}

/** @param {string} iso */
export function formatLocal(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
