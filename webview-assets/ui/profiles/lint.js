// @ts-check
/**
 * Claims findings: `lint:claims` runs the claims-linter guest over the
 * claims as typed. Findings advise; they never block a save.
 *
 * Does not trust: the findings (a guest wrote them, the host checked their
 * shape); their messages reach the DOM as text, `quoted` names as code.
 */
import { asShownError, bridge } from "../bridge.js";
import { h } from "../dom.js";
import { pdom } from "./elements.js";
import { parseClaims } from "./form.js";
import { profileState } from "./state.js";
/** @import { Tone } from "../dom.js" */

/** Wait after the last keystroke in the claims before linting them (the channel allows 20 calls a second). */
const LINT_DEBOUNCE_MS = 300;

/** @type {Record<FindingSeverity, Tone>} */
const SEVERITY_TONE = { error: "danger", warning: "warn", info: "neutral" };

/** Lints the claims once the user pauses typing, if they parse as an object. */
export function scheduleLint() {
  clearTimeout(profileState.lintTimer);
  profileState.lintSeq += 1;
  const parsed = parseClaims();
  if (!parsed.ok || pdom.claims.value.trim() === "") {
    // Nothing to lint: the JSON error (or the empty field) speaks for itself.
    // A check still in flight is now stale (its seq is old), so it won't
    // clear aria-busy: this does.
    pdom.lintBox.hidden = true;
    pdom.lintBox.removeAttribute("aria-busy");
    pdom.lint.replaceChildren();
    return;
  }
  const seq = profileState.lintSeq;
  pdom.lintBox.setAttribute("aria-busy", "true");
  profileState.lintTimer = setTimeout(() => void lintClaims(parsed.value, seq), LINT_DEBOUNCE_MS);
}

/**
 * @param {Record<string, unknown>} claims
 * @param {number} seq
 */
async function lintClaims(claims, seq) {
  try {
    const report = await bridge().invoke("lint:claims", { claims });
    if (seq === profileState.lintSeq) renderFindings(report.findings);
  } catch (reason) {
    if (seq !== profileState.lintSeq) return;
    const error = asShownError(reason);
    pdom.lint.replaceChildren();
    pdom.lintStatus.dataset.state = "error";
    pdom.lintStatus.textContent = `Claims checks unavailable: ${error.message}`;
    pdom.lintBox.hidden = false;
  } finally {
    if (seq === profileState.lintSeq) pdom.lintBox.removeAttribute("aria-busy");
  }
}

/**
 * A finding's message, with its `quoted` claim names set as code. Text
 * only: the message comes from a guest (checked by the host, still text).
 * @param {string} message
 */
function lintMessage(message) {
  const span = h("span", "lint-message");
  message.split("`").forEach((part, i) => {
    if (part !== "") span.append(i % 2 === 1 ? h("code", "lint-code", part) : part);
  });
  return span;
}

/** @param {Finding[]} findings */
function renderFindings(findings) {
  pdom.lint.replaceChildren(
    ...findings.map((finding) => {
      const item = h("li", "lint-finding");
      item.dataset.code = finding.code;
      item.dataset.severity = finding.severity;
      const chip = h("span", "chip chip-small lint-severity", finding.severity);
      chip.dataset.tone = SEVERITY_TONE[finding.severity];
      const text = h("span", "lint-text");
      if (finding.path !== "") text.append(h("code", "lint-path", finding.path), " ");
      text.append(lintMessage(finding.message));
      item.append(chip, text);
      item.title = finding.code;
      return item;
    }),
  );
  const counts = ["error", "warning", "info"]
    .map((severity) => [severity, findings.filter((f) => f.severity === severity).length])
    .filter(([, n]) => n !== 0)
    .map(([severity, n]) => `${n} ${severity}${n === 1 ? "" : "s"}`);
  pdom.lintStatus.dataset.state = findings.length === 0 ? "clean" : "findings";
  pdom.lintStatus.textContent = findings.length === 0 ? "No findings" : `Claims checks: ${counts.join(", ")}`;
  pdom.lintBox.hidden = false;
}
