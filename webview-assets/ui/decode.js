// @ts-check
/**
 * The decoder card: decodes the pasted token through `jwt:decode` as the
 * user types (JWT-shaped input only, debounced) or on Decode, and shows its
 * header, claims, times and signature. An answer for older input is dropped.
 *
 * Does not trust: the token and everything the host echoes from it; all of
 * it reaches the DOM through `textContent` and `createElement` only.
 */
import { asShownError, bridge } from "./bridge.js";
import { renderTimes } from "./decode/claim-times.js";
import { resetKeySet, wireKeySet } from "./decode/key-set.js";
import { sampleToken } from "./decode/sample-token.js";
import { byId, h, icon, ICON_ALERT } from "./dom.js";
import { renderJson } from "./json-view.js";
import { RELATIVE_TIME_REFRESH_MS } from "./time-format.js";
/** @import { ShownError } from "./bridge.js" */

/** Wait after the last keystroke before decoding, so typing a token doesn't send one call per character. */
const DECODE_DEBOUNCE_MS = 250;

/** Show the loading state only for calls slower than this, so fast decodes don't flicker. */
const LOADING_DELAY_MS = 150;

/**
 * A compact JWS: three base64url segments. The signature may be empty
 * (unsecured tokens), so the host can say why it refuses them. Only inputs
 * of this shape are decoded as the user types; the Decode button sends
 * anything, and the host's validation answers.
 */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** @typedef {"empty" | "loading" | "results" | "error"} DecodeView */

const dom = {
  tokenInput: byId("token-input", HTMLTextAreaElement),
  decodeButton: byId("decode-button", HTMLButtonElement),
  sampleButton: byId("sample-button", HTMLButtonElement),
  clearButton: byId("clear-button", HTMLButtonElement),
  hint: byId("decode-hint", HTMLElement),
  error: byId("decode-error", HTMLDivElement),
  empty: byId("decode-empty", HTMLElement),
  loading: byId("decode-loading", HTMLElement),
  results: byId("decode-results", HTMLElement),
  algorithm: byId("decoded-algorithm", HTMLElement),
  summaryType: byId("summary-type", HTMLElement),
  summaryKid: byId("summary-kid", HTMLElement),
  validity: byId("token-validity", HTMLElement),
  times: byId("decoded-times", HTMLUListElement),
  header: byId("decoded-header", HTMLPreElement),
  payload: byId("decoded-payload", HTMLPreElement),
  signature: byId("decoded-signature", HTMLElement),
};

/** Increases with every decode; an answer for an older one is dropped. */
let decodeSeq = 0;

/** @type {ReturnType<typeof setTimeout> | undefined} */
let debounceTimer;

/** @type {ReturnType<typeof setInterval> | undefined} */
let timeRefreshTimer;

/** The payload on screen, so relative times can be refreshed. */
/** @type {Record<string, unknown> | null} */
let shownPayload = null;

const DEFAULT_HINT = "Decodes as you type · ";

/** @param {DecodeView} view */
export function showDecodeView(view) {
  dom.empty.hidden = view !== "empty";
  dom.loading.hidden = view !== "loading";
  dom.results.hidden = view !== "results";
  dom.error.hidden = view !== "error";
  dom.results.classList.remove("is-stale");
}

/**
 * Accepts what people paste: surrounding whitespace and an
 * `Authorization: Bearer` prefix are dropped. Nothing inside the token is
 * changed, so the host validates what the user gave.
 * @param {string} raw
 */
function tokenFrom(raw) {
  return raw.trim().replace(/^(?:authorization:\s*)?bearer\s+/i, "");
}

/** @param {boolean} asTyped whether the hint should explain a skipped decode */
function setHint(asTyped) {
  dom.hint.replaceChildren();
  if (asTyped) {
    dom.hint.append("Not JWT-shaped yet · Decode sends it anyway");
    return;
  }
  const ctrl = h("kbd", "", "Ctrl");
  const enter = h("kbd", "", "Enter");
  dom.hint.append(DEFAULT_HINT, ctrl, "+", enter);
}

/** Drops a scheduled decode and any answer still on its way: the input changed since. */
function cancelPendingDecode() {
  clearTimeout(debounceTimer);
  decodeSeq += 1;
  delete dom.decodeButton.dataset.busy;
  dom.results.setAttribute("aria-busy", "false");
}

function onTokenInput() {
  cancelPendingDecode();
  const token = tokenFrom(dom.tokenInput.value);
  if (token === "") {
    clearResults();
    setHint(false);
    showDecodeView("empty");
    return;
  }
  if (!JWT_SHAPE.test(token)) {
    setHint(true);
    dom.results.classList.add("is-stale");
    return;
  }
  setHint(false);
  debounceTimer = setTimeout(() => void decode(), DECODE_DEBOUNCE_MS);
}

/** Decodes the input now, whatever its shape. */
async function decode() {
  clearTimeout(debounceTimer);
  // A verdict against a key set was for the token as it was.
  resetKeySet();
  const token = tokenFrom(dom.tokenInput.value);
  if (token === "") {
    dom.tokenInput.focus();
    showDecodeView("empty");
    return;
  }
  const seq = ++decodeSeq;
  // A slow answer: dim what is shown, or show the skeleton when nothing is.
  const loadingTimer = setTimeout(() => {
    if (seq !== decodeSeq) return;
    if (dom.results.hidden) showDecodeView("loading");
    else dom.results.classList.add("is-stale");
  }, LOADING_DELAY_MS);
  dom.decodeButton.dataset.busy = "true";
  dom.results.setAttribute("aria-busy", "true");
  try {
    const decoded = await bridge().invoke("jwt:decode", { token });
    if (seq !== decodeSeq) return;
    renderDecoded(decoded);
  } catch (reason) {
    if (seq !== decodeSeq) return;
    renderDecodeError(asShownError(reason));
  } finally {
    clearTimeout(loadingTimer);
    if (seq === decodeSeq) {
      delete dom.decodeButton.dataset.busy;
      dom.results.setAttribute("aria-busy", "false");
    }
  }
}

function clearResults() {
  shownPayload = null;
  clearInterval(timeRefreshTimer);
  timeRefreshTimer = undefined;
  dom.algorithm.textContent = "";
  dom.header.replaceChildren();
  dom.payload.replaceChildren();
  dom.signature.textContent = "";
  dom.times.replaceChildren();
  dom.validity.textContent = "";
  dom.error.replaceChildren();
}

/** @param {DecodedJwt} decoded */
function renderDecoded(decoded) {
  clearResults();

  const alg = decoded.algorithm;
  if (alg !== null) {
    dom.algorithm.textContent = alg;
    dom.algorithm.dataset.tone = "accent";
    dom.algorithm.title = "";
  } else {
    const claimed = decoded.header["alg"];
    dom.algorithm.textContent = typeof claimed === "string" ? `${claimed} (unsupported)` : "unknown";
    dom.algorithm.dataset.tone = "warn";
    dom.algorithm.title = "Tollgate cannot sign or verify with this algorithm";
  }
  showSummaryValue(dom.summaryType, decoded.header["typ"]);
  showSummaryValue(dom.summaryKid, decoded.header["kid"]);

  renderJson(dom.header, decoded.header);
  renderJson(dom.payload, decoded.payload);
  dom.signature.textContent = decoded.signature;
  dom.signature.title = `${decoded.signature.length} characters`;

  shownPayload = decoded.payload;
  renderTimes(decoded.payload, dom.times, dom.validity);
  timeRefreshTimer = setInterval(() => {
    if (shownPayload) renderTimes(shownPayload, dom.times, dom.validity);
  }, RELATIVE_TIME_REFRESH_MS);

  showDecodeView("results");
}

/**
 * Shows a header string (typ, kid) in the summary, or hides its slot.
 * @param {HTMLElement} slot
 * @param {unknown} value
 */
function showSummaryValue(slot, value) {
  const target = slot.querySelector(".summary-value");
  const shown = typeof value === "string" && value !== "";
  slot.hidden = !shown;
  if (target) target.textContent = shown ? value : "";
}

/** @param {ShownError} error */
function renderDecodeError(error) {
  clearResults();
  const body = h("div", "error-body");
  const title = h("p", "error-title");
  title.append(h("span", "error-code", error.code), h("span", "error-message", error.message));
  body.append(title);
  if (error.details !== null && error.details !== undefined) {
    const more = h("details", "error-details");
    more.append(h("summary", "", "Details"));
    const pre = h("pre", "code-block");
    renderJson(pre, error.details);
    more.append(pre);
    body.append(more);
  }
  if (error.requestId !== "") body.append(h("p", "error-request", `Request ${error.requestId}`));
  dom.error.append(icon(ICON_ALERT, "error-icon"), body);
  showDecodeView("error");
}

/** Wires the token field and the decoder's buttons. */
export function wireDecodeEvents() {
  dom.tokenInput.addEventListener("input", onTokenInput);
  dom.tokenInput.addEventListener("input", resetKeySet);
  wireKeySet(() => tokenFrom(dom.tokenInput.value));
  dom.tokenInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void decode();
    }
  });
  dom.decodeButton.addEventListener("click", () => void decode());
  dom.sampleButton.addEventListener("click", () => {
    dom.tokenInput.value = sampleToken();
    setHint(false);
    void decode();
  });
  dom.clearButton.addEventListener("click", () => {
    dom.tokenInput.value = "";
    onTokenInput();
    dom.tokenInput.focus();
  });
}

/** A token restored into the field (a reload) is decoded straight away. */
export function decodeRestoredToken() {
  if (JWT_SHAPE.test(tokenFrom(dom.tokenInput.value))) void decode();
}

/**
 * Puts a token in the field, decodes it and scrolls to it (the profiles
 * card's "Open in decoder").
 * @param {string} raw
 */
export function openInDecoder(raw) {
  dom.tokenInput.value = raw;
  setHint(false);
  void decode();
  dom.tokenInput.scrollIntoView({ behavior: "smooth", block: "start" });
}
