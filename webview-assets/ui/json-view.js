// @ts-check
/**
 * JSON as the page shows it: pretty-printed, with spans for highlighting
 * (the decoder's header and claims, the generated token's, error details).
 *
 * Does not trust: the value; it becomes text nodes and spans whose text is
 * set with `textContent`.
 */
import { h } from "./dom.js";

/**
 * Tokens of `JSON.stringify(_, null, 2)` output: a string (a key when a
 * colon follows), a literal, or a number. Strings match first, so numbers
 * and literals inside them are never split out.
 */
const JSON_TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * Pretty-prints JSON into `target` with spans for highlighting. The text is
 * exactly `JSON.stringify(value, null, 2)`, so copying it gives valid JSON.
 * @param {HTMLElement} target
 * @param {unknown} value
 */
export function renderJson(target, value) {
  const text = JSON.stringify(value, null, 2) ?? String(value);
  /** @type {(Node | string)[]} */
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(JSON_TOKEN)) {
    const index = match.index;
    if (index > last) parts.push(text.slice(last, index));
    const [whole, str, colon] = match;
    if (str !== undefined && colon !== undefined) {
      parts.push(h("span", "json-key", str), colon);
    } else if (str !== undefined) {
      parts.push(h("span", "json-string", str));
    } else if (whole === "true" || whole === "false") {
      parts.push(h("span", "json-boolean", whole));
    } else if (whole === "null") {
      parts.push(h("span", "json-null", whole));
    } else {
      parts.push(h("span", "json-number", whole));
    }
    last = index + whole.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  target.replaceChildren(...parts);
}
