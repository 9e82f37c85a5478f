// @ts-check
/**
 * The claims editor's preview of relative times: `"nbf": "now"` or
 * `"auth_time": "-30s"` shown as the date they will be signed as if the
 * token were generated now, and a relative value the host will refuse
 * shown as such before the user presses Generate.
 *
 * The host decides (app/src/tokens.rs, `RELATIVE_TIME_CLAIMS` and
 * `relative_seconds`): it resolves these claims from its own clock when it
 * signs and refuses other text there with `VALIDATION_ERROR`. This mirrors
 * its grammar for the preview only.
 *
 * Does not trust: the claims as typed; they reach the DOM as text.
 */
import { h } from "../dom.js";
import { formatUtc, toneChip } from "../decode/claim-times.js";
import { formatLocal } from "../time-format.js";
import { pdom } from "./elements.js";
import { parseClaims } from "./form.js";

/** The claims the host resolves when written relative (tokens.rs). */
const RELATIVE_TIME_CLAIMS = /** @type {const} */ (["nbf", "auth_time"]);

/** The farthest a relative time may reach, as the host allows: 10 years. */
const MAX_RELATIVE_SECONDS = 10 * 365 * 86_400;

/** @type {Record<string, number>} */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Refresh the preview this often while it shows a time ("now" moves). */
const PREVIEW_REFRESH_MS = 1000;

/** @type {ReturnType<typeof setInterval> | undefined} */
let refreshTimer;

/**
 * Seconds from signing for "now", "+15m", "-30s", "+2h", "+1d" (up to nine
 * digits, within 10 years); null for anything else.
 * @param {string} text
 * @returns {number | null}
 */
export function relativeSeconds(text) {
  if (text === "now") return 0;
  const match = /^([+-])(\d{1,9})([smhd])$/.exec(text);
  const unit = match?.[3];
  if (!match || unit === undefined) return null;
  const seconds = Number(match[2]) * (UNIT_SECONDS[unit] ?? 0);
  if (seconds > MAX_RELATIVE_SECONDS) return null;
  return match[1] === "-" ? -seconds : seconds;
}

/** Shows each relative time claim resolved against the clock now. */
export function showResolvedTimes() {
  const parsed = parseClaims();
  /** @type {HTMLLIElement[]} */
  const rows = [];
  let moving = false;
  if (parsed.ok) {
    const now = Math.floor(Date.now() / 1000);
    for (const claim of RELATIVE_TIME_CLAIMS) {
      const value = parsed.value[claim];
      if (typeof value !== "string") continue;
      const row = h("li", "time-row");
      row.dataset.claim = claim;
      row.append(h("span", "time-claim", `${claim}:`), " ", h("span", "time-absolute", JSON.stringify(value)), " ");
      const offset = relativeSeconds(value);
      const utc = offset === null ? null : formatUtc(now + offset);
      if (offset === null || utc === null) {
        row.dataset.state = "refused";
        row.append(toneChip("(", "not a time Tollgate can resolve: use now, +15m, -30s, +2h or +1d", ")", "danger"));
      } else {
        moving = true;
        row.dataset.state = "resolved";
        row.dataset.seconds = String(now + offset);
        const local = formatLocal(new Date((now + offset) * 1000).toISOString());
        row.append("→ ", h("span", "time-absolute", utc), " ", h("span", "time-local", `${local} local`), " ", toneChip("(", "if generated now", ")", "neutral"));
      }
      rows.push(row);
    }
  }
  pdom.claimsTimes.replaceChildren(...rows);
  pdom.claimsTimes.hidden = rows.length === 0;
  if (moving && refreshTimer === undefined) {
    refreshTimer = setInterval(showResolvedTimes, PREVIEW_REFRESH_MS);
  } else if (!moving && refreshTimer !== undefined) {
    clearInterval(refreshTimer);
    refreshTimer = undefined;
  }
}
