// @ts-check
/**
 * The Tollgate window's page: shows the host's version, the loaded plugins
 * and their import decisions, and decodes tokens through `jwt:decode`.
 *
 * Trusts: the `tollgate` bridge the host injects before this script runs.
 * Does not trust: token contents and anything the host echoes from them or
 * from plugin metadata. All of it reaches the DOM through `textContent` and
 * `createElement` only; nothing here parses HTML.
 */

/** Wait after the last keystroke before decoding, so typing a token doesn't send one call per character. */
const DECODE_DEBOUNCE_MS = 250;
/** Show the loading state only for calls slower than this, so fast decodes don't flicker. */
const LOADING_DELAY_MS = 150;
/** Refresh "in 58 min" / "expired 3 h ago" this often while a token is shown. */
const RELATIVE_TIME_REFRESH_MS = 30_000;
/** How long a copy button says "Copied" before it reads "Copy" again. */
const COPY_FEEDBACK_MS = 1_500;
/** Where the theme choice is kept between runs. */
const THEME_STORAGE_KEY = "tollgate.theme";

/**
 * A compact JWS: three base64url segments. The signature may be empty
 * (unsecured tokens), so the host can say why it refuses them. Only inputs
 * of this shape are decoded as the user types; the Decode button sends
 * anything, and the host's validation answers.
 */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Largest |milliseconds| a JavaScript Date can hold (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;

/** Orders import badges: what the world declares, then what is linked harmless, then refusals. */
const DECISION_ORDER = ["host-interface", "capability-less", "refused"];

/** @typedef {"system" | "light" | "dark"} ThemeChoice */
/** @typedef {"empty" | "loading" | "results" | "error"} DecodeView */
/** @typedef {"ok" | "warn" | "danger" | "neutral"} Tone */
/**
 * An error as shown: a bridge rejection, or anything else normalized to the
 * same shape. `code` stays a plain string so a code this page doesn't know
 * yet still shows as the host sent it.
 * @typedef {{ code: string, message: string, details: unknown, requestId: string }} ShownError
 */
/**
 * One NumericDate claim as displayed.
 * @typedef {{ claim: "exp" | "nbf" | "iat", seconds: number }} TimeClaim
 */

// ---------------------------------------------------------------------------
// DOM helpers

/**
 * Looks up an element the page markup must contain.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) {
    throw new Error(`index.html has no <${type.name}> #${id}`);
  }
  return found;
}

/**
 * Creates an element with a class and text. Text is set with
 * `textContent`, so it is never parsed as markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Creates an SVG icon from path data the page itself defines.
 * @param {string} pathData
 * @param {string} className
 * @returns {SVGSVGElement}
 */
function icon(pathData, className) {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", className);
  const path = document.createElementNS(svgNs, "path");
  path.setAttribute("d", pathData);
  svg.append(path);
  return svg;
}

const ICON_ALERT = "M10 2.5 1.8 16.8h16.4L10 2.5zM10 8v4M10 14.4v.1";

const dom = {
  status: byId("app-status", HTMLElement),
  themeToggle: byId("theme-toggle", HTMLButtonElement),
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
  pluginsList: byId("plugins-list", HTMLUListElement),
  pluginsCount: byId("plugins-count", HTMLElement),
};

// ---------------------------------------------------------------------------
// Bridge access

/**
 * The injected bridge, or a rejection in the bridge's own error shape when
 * the page was opened outside the host.
 * @returns {TollgateBridge}
 */
function bridge() {
  if (typeof tollgate === "undefined") {
    throw { code: "INTERNAL_ERROR", message: "the host bridge is not available", details: null, requestId: "" };
  }
  return tollgate;
}

/**
 * Normalizes a rejection. Bridge calls reject with a TollgateError; anything
 * else (a missing bridge, a bug here) is shown the same way.
 * @param {unknown} reason
 * @returns {ShownError}
 */
function asShownError(reason) {
  if (typeof reason === "object" && reason !== null && "code" in reason && "message" in reason) {
    const { code, message } = reason;
    if (typeof code === "string" && typeof message === "string") {
      const details = "details" in reason ? reason.details : null;
      const requestId = "requestId" in reason && typeof reason.requestId === "string" ? reason.requestId : "";
      return { code, message, details, requestId };
    }
  }
  const message = reason instanceof Error ? reason.message : String(reason);
  return { code: "INTERNAL_ERROR", message, details: null, requestId: "" };
}

// ---------------------------------------------------------------------------
// Header: app info and theme

/** Shows `app:info` in the status pill. Never rejects. */
async function loadAppInfo() {
  const text = dom.status.querySelector(".status-text");
  try {
    const info = await bridge().invoke("app:info", {});
    dom.status.dataset.state = "ok";
    const parts = [`v${info.version}`, `contract ${info.contractVersion}`];
    if (info.devtools) parts.push("devtools on");
    if (text) text.textContent = parts.join(" · ");
    dom.status.title = `Tollgate ${info.version}, bridge contract ${info.contractVersion}, window “${info.window}”`;
  } catch (reason) {
    const error = asShownError(reason);
    dom.status.dataset.state = "error";
    if (text) text.textContent = `Host unavailable · ${error.code}`;
    dom.status.title = error.message;
  }
}

/**
 * The theme to start with: the user's stored choice, else one the host set
 * on <html> before this script ran, else the system's.
 * @returns {ThemeChoice}
 */
function initialTheme() {
  try {
    const value = localStorage.getItem(THEME_STORAGE_KEY);
    if (value === "light" || value === "dark") return value;
  } catch {
    // Storage may be unavailable under the app's scheme; fall through.
  }
  const preset = document.documentElement.dataset.theme;
  return preset === "light" || preset === "dark" ? preset : "system";
}

/** @param {ThemeChoice} choice */
function applyTheme(choice) {
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  dom.themeToggle.dataset.themeChoice = choice;
  const label = `Theme: ${choice}`;
  dom.themeToggle.setAttribute("aria-label", label);
  dom.themeToggle.title = `${label} (click to change)`;
}

function cycleTheme() {
  /** @type {Record<ThemeChoice, ThemeChoice>} */
  const next = { system: "light", light: "dark", dark: "system" };
  const current = dom.themeToggle.dataset.themeChoice;
  const choice = next[current === "light" || current === "dark" ? current : "system"];
  applyTheme(choice);
  if (choice !== "system") {
    void bridge().invoke("settings:save", { theme: choice }).catch(() => {
      // The choice still holds for this run.
    });
  }
  try {
    if (choice === "system") localStorage.removeItem(THEME_STORAGE_KEY);
    else localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // Not persisted; the choice still holds for this run.
  }
}

// ---------------------------------------------------------------------------
// Plugins

/** Shows `plugins:list`. Never rejects. */
async function loadPlugins() {
  try {
    const { plugins } = await bridge().invoke("plugins:list", {});
    renderPlugins(plugins);
  } catch (reason) {
    renderPluginsError(asShownError(reason));
  } finally {
    dom.pluginsList.setAttribute("aria-busy", "false");
  }
}

/** @param {PluginSummary[]} plugins */
function renderPlugins(plugins) {
  dom.pluginsCount.hidden = false;
  dom.pluginsCount.textContent = `${plugins.length} loaded`;
  if (plugins.length === 0) {
    const item = h("li", "plugin-empty");
    item.append(
      h("p", "empty-title", "No plugins loaded"),
      h("p", "empty-text", "The host found no guest components to load."),
    );
    dom.pluginsList.replaceChildren(item);
    return;
  }
  dom.pluginsList.replaceChildren(...plugins.map(renderPlugin));
}

/**
 * @param {PluginSummary} plugin
 * @returns {HTMLLIElement}
 */
function renderPlugin(plugin) {
  const item = h("li", "plugin");

  const head = h("div", "plugin-head");
  head.append(h("span", "plugin-name", plugin.name), h("span", "chip chip-small", `v${plugin.version}`));

  const meta = h("dl", "plugin-meta");
  const world = h("code", "plugin-world", plugin.world);
  const source = h("code", "plugin-source", plugin.source);
  source.title = plugin.source;
  meta.append(h("dt", "", "World"), wrapIn("dd", world), h("dt", "", "Source"), wrapIn("dd", source));

  item.append(head, meta, renderImports(plugin.imports));
  return item;
}

/**
 * @param {keyof HTMLElementTagNameMap} tag
 * @param {Node} child
 */
function wrapIn(tag, child) {
  const node = h(tag);
  node.append(child);
  return node;
}

/**
 * @param {PluginImport[]} imports
 * @returns {HTMLElement}
 */
function renderImports(imports) {
  const details = h("details", "imports");
  details.open = true;
  const summary = h("summary", "imports-summary");
  summary.append(h("span", "imports-title", `Imports (${imports.length})`));

  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const imp of imports) counts.set(imp.decision, (counts.get(imp.decision) ?? 0) + 1);
  const tally = h("span", "imports-tally");
  for (const [decision, count] of [...counts].sort((a, b) => decisionRank(a[0]) - decisionRank(b[0]))) {
    const badge = decisionBadge(decision, String(count));
    badge.title = `${count} ${decision}`;
    tally.append(badge);
  }
  summary.append(tally);
  details.append(summary);

  if (imports.length === 0) {
    details.append(h("p", "imports-none", "Imports nothing."));
    return details;
  }
  const list = h("ul", "import-list");
  const sorted = [...imports].sort((a, b) => decisionRank(a.decision) - decisionRank(b.decision));
  for (const imp of sorted) {
    const row = h("li", "import");
    const name = h("code", "import-name", imp.name);
    name.title = imp.name;
    const detail = h("span", "import-detail", imp.detail);
    detail.title = imp.detail;
    row.append(name, decisionBadge(imp.decision, imp.decision), detail);
    list.append(row);
  }
  details.append(list);
  return details;
}

/** @param {string} decision */
function decisionRank(decision) {
  const rank = DECISION_ORDER.indexOf(decision);
  return rank === -1 ? DECISION_ORDER.length : rank;
}

/**
 * @param {string} decision
 * @param {string} label
 */
function decisionBadge(decision, label) {
  const badge = h("span", "badge", label);
  badge.dataset.decision = DECISION_ORDER.includes(decision) ? decision : "other";
  return badge;
}

/** @param {ShownError} error */
function renderPluginsError(error) {
  dom.pluginsCount.hidden = true;
  const item = h("li", "plugin-error");
  item.append(icon(ICON_ALERT, "inline-icon"));
  const body = h("div");
  body.append(h("p", "error-code", error.code), h("p", "error-message", error.message));
  item.append(body);
  dom.pluginsList.replaceChildren(item);
}

// ---------------------------------------------------------------------------
// Decoding

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
function showDecodeView(view) {
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
  renderTimes(decoded.payload);
  timeRefreshTimer = setInterval(() => {
    if (shownPayload) renderTimes(shownPayload);
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

// ---------------------------------------------------------------------------
// JSON and time rendering

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
function renderJson(target, value) {
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

/**
 * "58 min", "3 h 20 min", "12 d": a compact, rounded duration.
 * @param {number} seconds non-negative
 */
function formatDuration(seconds) {
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

/**
 * "2026-11-23 13:00:00 UTC", or null when the value is no usable date.
 * @param {number} seconds
 */
function formatUtc(seconds) {
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
 */
function renderTimes(payload) {
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
      row.append(h("span", "time-absolute", utc), " ", toneChip("(", relative.text, ")", relative.tone));
    }
    rows.push(row);
  }
  dom.times.replaceChildren(...rows);
  dom.times.hidden = rows.length === 0;

  const timeWindow = describeWindow(usable, now);
  dom.validity.textContent = timeWindow.text;
  dom.validity.dataset.tone = timeWindow.tone;
}

/**
 * A chip whose parentheses are kept for copy and screen readers but not drawn,
 * so the row reads "exp: 2026-11-23 13:00:00 UTC (in 58 min)".
 * @param {string} open
 * @param {string} text
 * @param {string} close
 * @param {Tone} tone
 */
function toneChip(open, text, close, tone) {
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

// ---------------------------------------------------------------------------
// Sample token and copy

/** @param {unknown} value */
function base64url(value) {
  const bytes = new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A token for trying the decoder, issued now and valid for an hour. Its
 * signature segment is a label, not a signature: decoding doesn't check it,
 * and the label says so.
 */
function sampleToken() {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "HS256", typ: "JWT", kid: "sample" };
  const payload = { sub: "user-1234", name: "Ada Lovelace", aud: "tollgate-demo", iat: now, nbf: now, exp: now + 3600 };
  return `${base64url(header)}.${base64url(payload)}.${base64url("sample-signature-not-valid")}`;
}

/** @param {HTMLButtonElement} button */
async function copyFrom(button) {
  const source = button.dataset.copyFrom ? document.getElementById(button.dataset.copyFrom) : null;
  const text = source?.textContent ?? "";
  if (text === "") return;
  let label = "Copied";
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    label = "Copy failed";
  }
  button.textContent = label;
  button.dataset.state = label === "Copied" ? "done" : "failed";
  setTimeout(() => {
    button.textContent = "Copy";
    delete button.dataset.state;
  }, COPY_FEEDBACK_MS);
}

// ---------------------------------------------------------------------------
// Signing profiles

/** Every algorithm the signer supports, in the order the picker lists them. */
const ALGORITHMS = /** @type {const} */ (["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]);
/** How long Delete waits for its confirmation before it disarms again. */
const DELETE_CONFIRM_MS = 5_000;
/** How long "Saved" stays beside the Save button. */
const SAVED_FEEDBACK_MS = 2_500;
/** What the host accepts for a profile name (trimmed). */
const PROFILE_NAME_MAX = 50;

/** @type {Record<ExpirationPreset, string>} */
const PRESET_LABELS = { "1h": "1 hour", "1d": "1 day", "1w": "1 week", custom: "custom" };

/**
 * The editor's inputs, by the name the host uses in `details.field`.
 * @typedef {"name" | "algorithm" | "key" | "claims" | "expiry"} EditorField
 */

const pdom = {
  banner: byId("keychain-banner", HTMLDivElement),
  loadBanner: byId("profiles-banner", HTMLDivElement),
  list: byId("profile-list", HTMLUListElement),
  search: byId("profile-search", HTMLInputElement),
  searchEmpty: byId("profile-search-empty", HTMLElement),
  searchStatus: byId("profile-search-status", HTMLElement),
  discard: byId("discard-prompt", HTMLDivElement),
  discardText: byId("discard-prompt-text", HTMLElement),
  discardConfirm: byId("discard-confirm", HTMLButtonElement),
  discardCancel: byId("discard-cancel", HTMLButtonElement),
  newButton: byId("profile-new", HTMLButtonElement),
  form: byId("profile-form", HTMLFormElement),
  title: byId("editor-title", HTMLElement),
  dirty: byId("profile-dirty", HTMLElement),
  name: byId("profile-name", HTMLInputElement),
  algorithm: byId("profile-algorithm", HTMLSelectElement),
  expiry: byId("profile-expiry", HTMLSelectElement),
  customRow: byId("expiry-custom-row", HTMLDivElement),
  custom: byId("profile-expiry-custom", HTMLInputElement),
  customIso: byId("expiry-custom-iso", HTMLElement),
  keyLabel: byId("profile-key-label", HTMLLabelElement),
  keyStored: byId("key-stored", HTMLDivElement),
  keyReplace: byId("key-replace", HTMLButtonElement),
  keyEntry: byId("key-entry", HTMLDivElement),
  key: byId("profile-key", HTMLTextAreaElement),
  keyHint: byId("profile-key-hint", HTMLElement),
  keyKeep: byId("key-keep", HTMLButtonElement),
  claims: byId("profile-claims", HTMLTextAreaElement),
  claimsStatus: byId("claims-status", HTMLElement),
  error: byId("profile-error", HTMLDivElement),
  save: byId("profile-save", HTMLButtonElement),
  revert: byId("profile-revert", HTMLButtonElement),
  saved: byId("profile-saved", HTMLElement),
  del: byId("profile-delete", HTMLButtonElement),
  delCancel: byId("profile-delete-cancel", HTMLButtonElement),
  generate: byId("generate-button", HTMLButtonElement),
  verify: byId("verify-button", HTMLButtonElement),
  decodeGenerated: byId("decode-generated", HTMLButtonElement),
  generateHint: byId("generate-hint", HTMLElement),
  generateError: byId("generate-error", HTMLDivElement),
  output: byId("generated-output", HTMLDivElement),
  token: byId("generated-token", HTMLElement),
  tokenMeta: byId("generated-meta", HTMLElement),
  verifyResult: byId("verify-result", HTMLDivElement),
  genHeader: byId("generated-header", HTMLPreElement),
  genPayload: byId("generated-payload", HTMLPreElement),
};

/** @type {Record<EditorField, HTMLElement>} */
const fieldErrors = {
  name: byId("profile-name-error", HTMLElement),
  algorithm: byId("profile-algorithm-error", HTMLElement),
  key: byId("profile-key-error", HTMLElement),
  claims: byId("profile-claims-error", HTMLElement),
  expiry: byId("profile-expiry-error", HTMLElement),
};

/** @type {Record<EditorField, HTMLElement>} */
const fieldInputs = {
  name: pdom.name,
  algorithm: pdom.algorithm,
  key: pdom.key,
  claims: pdom.claims,
  expiry: pdom.expiry,
};

const profileState = {
  /** @type {Profile[]} */
  profiles: [],
  /** The profile in the editor, or null for a new one. @type {Profile | null} */
  selected: null,
  /** Whether the key field replaces the stored key. */
  replacingKey: false,
  /** Whether the keychain answered KEYCHAIN_UNAVAILABLE. */
  keychainDown: false,
  /** Whether a save or generate is in flight. */
  busy: false,
  /** The token on screen and the profile it came from. @type {{ raw: string, profileId: string } | null} */
  generated: null,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  deleteTimer: undefined,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  savedTimer: undefined,
  /** What the user asked for while the editor had unsaved changes; runs once they discard them. @type {(() => void) | null} */
  pendingDiscard: null,
};

/** @param {string} value @returns {value is AlgorithmName} */
function isAlgorithm(value) {
  return /** @type {readonly string[]} */ (ALGORITHMS).includes(value);
}

/** @param {string} value @returns {value is ExpirationPreset} */
function isPreset(value) {
  return value === "1h" || value === "1d" || value === "1w" || value === "custom";
}

/** @param {string} alg */
function isHmac(alg) {
  return alg.startsWith("HS");
}

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
function showBanner(banner, error, advice) {
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

/**
 * What to tell the user about an error, beyond the host's message.
 * @param {ShownError} error
 * @returns {string | undefined}
 */
function adviceFor(error) {
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
function noteKeychain(error) {
  if (error.code === "KEYCHAIN_UNAVAILABLE") {
    profileState.keychainDown = true;
    pdom.banner.hidden = false;
    updateGenerateState();
  }
}

// Listing ---------------------------------------------------------------

/**
 * Loads the profiles and selects `selectId` (or the remembered one, or the
 * first). Never rejects.
 * @param {string | null} selectId
 */
async function loadProfiles(selectId) {
  pdom.list.setAttribute("aria-busy", "true");
  try {
    const { profiles } = await bridge().invoke("profiles:load", {});
    profileState.profiles = profiles;
    showBanner(pdom.loadBanner, null);
  } catch (reason) {
    const error = asShownError(reason);
    profileState.profiles = [];
    showBanner(pdom.loadBanner, error, adviceFor(error));
  } finally {
    pdom.list.setAttribute("aria-busy", "false");
  }
  const chosen = profileState.profiles.find((p) => p.id === selectId) ?? profileState.profiles[0] ?? null;
  // Select first, so the list marks the chosen profile as current.
  editProfile(chosen);
  renderProfileList();
}

/**
 * The profiles the search box lets through: a case-insensitive match on
 * the name or the algorithm.
 * @returns {Profile[]}
 */
function visibleProfiles() {
  const query = pdom.search.value.trim().toLowerCase();
  if (query === "") return profileState.profiles;
  return profileState.profiles.filter((p) => p.name.toLowerCase().includes(query) || p.algorithm.toLowerCase().includes(query));
}

function renderProfileList() {
  // Re-rendering replaces the buttons: keep keyboard focus on the same profile.
  const focused = document.activeElement instanceof HTMLElement && pdom.list.contains(document.activeElement)
    ? document.activeElement.dataset.profileId ?? null
    : null;
  const query = pdom.search.value.trim();
  pdom.searchEmpty.hidden = true;
  if (profileState.profiles.length === 0) {
    const empty = h("li", "profile-empty");
    empty.append(h("p", "empty-title", "No profiles yet"), h("p", "empty-text", "A profile keeps a key, an algorithm and claims, so a token is one click away."));
    pdom.list.replaceChildren(empty);
    pdom.searchStatus.textContent = "";
    return;
  }
  const shown = visibleProfiles();
  pdom.searchStatus.textContent = query === "" ? "" : `${shown.length} of ${profileState.profiles.length} profiles match`;
  if (shown.length === 0) {
    pdom.list.replaceChildren();
    pdom.searchEmpty.textContent = `No profile's name or algorithm matches “${query}”.`;
    pdom.searchEmpty.hidden = false;
    return;
  }
  // One tab stop for the whole list (the selected profile, else the first);
  // the arrow keys move between the others.
  const tabStop = shown.find((p) => p.id === (focused ?? profileState.selected?.id))?.id ?? shown[0]?.id;
  pdom.list.replaceChildren(
    ...shown.map((profile) => {
      const item = h("li", "profile-item");
      const button = h("button", "profile-item-button");
      button.type = "button";
      button.dataset.profileId = profile.id;
      button.tabIndex = profile.id === tabStop ? 0 : -1;
      const selected = profileState.selected?.id === profile.id;
      button.setAttribute("aria-current", selected ? "true" : "false");
      const name = h("span", "profile-item-name", profile.name);
      name.title = profile.name;
      const meta = h("span", "profile-item-meta");
      const expiry = profile.expirationPreset === "custom" && profile.customExpiration
        ? `until ${formatLocal(profile.customExpiration)}`
        : `expires in ${PRESET_LABELS[profile.expirationPreset]}`;
      meta.append(h("span", "chip chip-small chip-accent", profile.algorithm), h("span", "profile-item-expiry", expiry));
      button.append(name, meta);
      button.addEventListener("click", () => selectProfile(profile.id));
      item.append(button);
      return item;
    }),
  );
  if (focused !== null) profileButtons().find((b) => b.dataset.profileId === focused)?.focus();
}

/** @returns {HTMLButtonElement[]} the list's buttons, in order */
function profileButtons() {
  return Array.from(pdom.list.querySelectorAll("button.profile-item-button")).filter((b) => b instanceof HTMLButtonElement);
}

/**
 * Up/Down (and Home/End) move through the list; Enter opens the focused
 * profile (the button's own click).
 * @param {KeyboardEvent} event
 */
function onListKeydown(event) {
  const buttons = profileButtons();
  if (buttons.length === 0) return;
  const current = buttons.findIndex((b) => b === document.activeElement);
  /** @type {number | null} */
  let next = null;
  if (event.key === "ArrowDown") next = current === -1 ? 0 : Math.min(current + 1, buttons.length - 1);
  else if (event.key === "ArrowUp") next = current === -1 ? 0 : current - 1;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = buttons.length - 1;
  if (next === null) return;
  event.preventDefault();
  if (next < 0) {
    // Up from the first profile goes back to the search box.
    pdom.search.focus();
    return;
  }
  for (const [i, b] of buttons.entries()) b.tabIndex = i === next ? 0 : -1;
  buttons[next]?.focus();
}

/**
 * Runs `action` now, or, when the editor holds unsaved changes, once the
 * user discards them in the on-page prompt.
 * @param {string} question what the prompt asks
 * @param {() => void} action
 */
function unlessUnsaved(question, action) {
  if (!isDirty()) {
    action();
    return;
  }
  profileState.pendingDiscard = action;
  pdom.discardText.textContent = question;
  pdom.discard.hidden = false;
  pdom.discardCancel.focus();
}

function closeDiscardPrompt() {
  profileState.pendingDiscard = null;
  pdom.discard.hidden = true;
}

/** @param {string} iso */
function formatLocal(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** @param {string} id */
function selectProfile(id) {
  if (profileState.busy) return;
  const profile = profileState.profiles.find((p) => p.id === id) ?? null;
  if (profile !== null && profile.id === profileState.selected?.id) return;
  const current = profileState.selected?.name ?? "the new profile";
  unlessUnsaved(`Discard the unsaved changes to “${current}” and open “${profile?.name ?? "the profile"}”?`, () => {
    editProfile(profile);
    renderProfileList();
    if (profile) rememberSelection(profile.id);
  });
}

/** @param {string | null} id */
function rememberSelection(id) {
  void bridge().invoke("settings:save", { lastSelectedProfileId: id }).catch(() => {
    // Remembering the selection is a convenience; the page works without it.
  });
}

// Editor ----------------------------------------------------------------

/**
 * Puts a profile (or a blank one) in the editor.
 * @param {Profile | null} profile
 */
function editProfile(profile) {
  profileState.selected = profile;
  profileState.replacingKey = profile === null;
  closeDiscardPrompt();
  disarmDelete();
  clearFieldErrors();
  showBanner(pdom.error, null);
  pdom.title.textContent = profile ? profile.name : "New profile";
  pdom.name.value = profile?.name ?? "";
  pdom.algorithm.value = profile?.algorithm ?? "HS256";
  pdom.expiry.value = profile?.expirationPreset ?? "1h";
  pdom.custom.value = profile?.customExpiration ? toLocalInput(profile.customExpiration) : "";
  pdom.key.value = "";
  setEncoding("text");
  pdom.claims.value = profile ? JSON.stringify(profile.payload, null, 2) : "";
  pdom.del.hidden = profile === null;
  pdom.save.textContent = profile ? "Save changes" : "Create profile";
  if (!profileState.generated || profileState.generated.profileId !== profile?.id) clearGenerated();
  syncKeyField();
  syncExpiry();
  validateClaims();
  updateDirty();
}

/** @param {KeyEncoding} encoding */
function setEncoding(encoding) {
  for (const radio of pdom.form.querySelectorAll('input[name="key-encoding"]')) {
    if (radio instanceof HTMLInputElement) radio.checked = radio.value === encoding;
  }
}

/** @returns {KeyEncoding} */
function keyEncoding() {
  const checked = pdom.form.querySelector('input[name="key-encoding"]:checked');
  return checked instanceof HTMLInputElement && checked.value === "base64" ? "base64" : "text";
}

/** Shows the stored-key line or the key textarea, with help for the algorithm. */
function syncKeyField() {
  const hmac = isHmac(pdom.algorithm.value);
  const stored = profileState.selected !== null && !profileState.replacingKey;
  pdom.keyStored.hidden = !stored;
  pdom.keyEntry.hidden = stored;
  pdom.keyKeep.hidden = !(profileState.selected !== null && profileState.replacingKey);
  pdom.keyLabel.textContent = hmac ? "HMAC secret" : "Private key (PEM)";
  const segmented = pdom.form.querySelector(".segmented");
  if (segmented instanceof HTMLElement) segmented.hidden = stored || !hmac;
  if (!hmac) setEncoding("text");
  pdom.key.placeholder = hmac
    ? keyEncoding() === "base64" ? "Base64 of 32 bytes or more" : "At least 32 characters (bytes) of secret"
    : "-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----";
  pdom.keyHint.textContent = hmac
    ? "Sealed by the OS keychain when you save; Tollgate never shows it again."
    : "PKCS#8 or traditional PEM. Sealed by the OS keychain when you save.";
}

function syncExpiry() {
  const custom = pdom.expiry.value === "custom";
  pdom.customRow.hidden = !custom;
  const iso = customIso();
  pdom.customIso.textContent = custom ? (iso ? `Sent as ${iso}` : "Pick a date and time") : "";
}

/**
 * The custom expiry as ISO 8601 UTC, or null when none is set.
 * @returns {string | null}
 */
function customIso() {
  if (pdom.custom.value === "") return null;
  const date = new Date(pdom.custom.value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * `2030-01-31T12:00` in local time, for a datetime-local input.
 * @param {string} iso
 */
function toLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * Parses the claims textarea. Empty means `{}`.
 * @returns {{ ok: true, value: Record<string, unknown> } | { ok: false, message: string }}
 */
function parseClaims() {
  const text = pdom.claims.value.trim();
  if (text === "") return { ok: true, value: {} };
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { ok: false, message: "Claims must be a JSON object: { \"name\": value, … }" };
    }
    return { ok: true, value };
  } catch (e) {
    return { ok: false, message: describeJsonError(text, e instanceof Error ? e.message : String(e)) };
  }
}

/**
 * Turns the engine's message into one with a line and column when it
 * gives a character position.
 * @param {string} text
 * @param {string} message
 */
function describeJsonError(text, message) {
  const at = /position (\d+)/i.exec(message);
  const cleaned = message.replace(/^JSON\.parse:\s*/i, "");
  if (!at) return cleaned;
  const index = Number(at[1]);
  const before = text.slice(0, index).split("\n");
  return `${cleaned} (line ${before.length}, column ${(before[before.length - 1] ?? "").length + 1})`;
}

/** Live validation of the claims. @returns {boolean} whether they parse */
function validateClaims() {
  const parsed = parseClaims();
  pdom.claimsStatus.dataset.tone = parsed.ok ? "ok" : "danger";
  pdom.claimsStatus.textContent = parsed.ok ? (pdom.claims.value.trim() === "" ? "Empty: {}" : "Valid JSON") : "Invalid JSON";
  setFieldError("claims", parsed.ok ? null : parsed.message);
  return parsed.ok;
}

/**
 * @param {EditorField} field
 * @param {string | null} message
 */
function setFieldError(field, message) {
  const slot = fieldErrors[field];
  slot.textContent = message ?? "";
  slot.hidden = message === null;
  const input = fieldInputs[field];
  if (message === null) input.removeAttribute("aria-invalid");
  else input.setAttribute("aria-invalid", "true");
}

function clearFieldErrors() {
  for (const field of /** @type {EditorField[]} */ (Object.keys(fieldErrors))) setFieldError(field, null);
}

/**
 * The editor field a host field path names (`payload.x` is the claims).
 * @param {unknown} path
 * @returns {EditorField | null}
 */
function editorFieldFor(path) {
  if (typeof path !== "string") return null;
  const head = path.split(/[.[]/)[0];
  switch (head) {
    case "name": return "name";
    case "algorithm": return "algorithm";
    case "encryptedKey": case "key": return "key";
    case "payload": return "claims";
    case "expirationPreset": case "customExpiration": return "expiry";
    default: return null;
  }
}

/** @returns {boolean} */
function isDirty() {
  const p = profileState.selected;
  if (p === null) {
    return pdom.name.value.trim() !== "" || pdom.key.value !== "" || pdom.claims.value.trim() !== "";
  }
  if (pdom.name.value !== p.name || pdom.algorithm.value !== p.algorithm || pdom.expiry.value !== p.expirationPreset) return true;
  if (p.expirationPreset === "custom" && customIso() !== (p.customExpiration ? new Date(p.customExpiration).toISOString() : null)) {
    // Only minutes are editable: compare at that precision.
    if (toLocalInput(p.customExpiration ?? "") !== pdom.custom.value) return true;
  }
  if (pdom.key.value !== "") return true;
  const parsed = parseClaims();
  return !parsed.ok || JSON.stringify(parsed.value) !== JSON.stringify(p.payload);
}

function updateDirty() {
  const dirty = isDirty();
  pdom.dirty.hidden = !(dirty && profileState.selected !== null);
  pdom.revert.hidden = !(dirty && profileState.selected !== null);
  updateGenerateState();
}

function updateGenerateState() {
  const saved = profileState.selected !== null;
  const dirty = saved && isDirty();
  pdom.generate.disabled = !saved || profileState.busy || profileState.keychainDown;
  pdom.verify.disabled = profileState.generated === null || profileState.busy || profileState.keychainDown;
  pdom.decodeGenerated.disabled = profileState.generated === null;
  pdom.generateHint.textContent = profileState.keychainDown
    ? "Signing is off: the OS keychain is locked or missing."
    : !saved
      ? "Create the profile to sign tokens with it."
      : dirty
        ? "Generating saves your changes first."
        : "Signs with the saved profile · Ctrl+G";
}

/** Checks the form here first, so obvious mistakes show without a round trip. @returns {boolean} */
function checkForm() {
  clearFieldErrors();
  let ok = validateClaims();
  const name = pdom.name.value.trim();
  if (name === "") {
    setFieldError("name", "Give the profile a name.");
    ok = false;
  } else if (name.length > PROFILE_NAME_MAX) {
    setFieldError("name", `At most ${PROFILE_NAME_MAX} characters.`);
    ok = false;
  }
  if ((profileState.selected === null || profileState.replacingKey) && pdom.key.value.trim() === "") {
    setFieldError("key", isHmac(pdom.algorithm.value) ? "Enter the HMAC secret." : "Paste the private key (PEM).");
    ok = false;
  }
  if (pdom.expiry.value === "custom") {
    const iso = customIso();
    if (iso === null) {
      setFieldError("expiry", "Pick when tokens expire.");
      ok = false;
    } else if (new Date(iso).getTime() <= Date.now()) {
      setFieldError("expiry", "The expiry must be in the future.");
      ok = false;
    }
  }
  return ok;
}

/**
 * Saves the editor. Resolves to the stored profile, or null when it did not save.
 * @returns {Promise<Profile | null>}
 */
async function saveProfile() {
  if (profileState.busy) return null;
  showBanner(pdom.error, null);
  if (!checkForm()) {
    focusFirstError();
    return null;
  }
  const parsed = parseClaims();
  if (!parsed.ok) return null;
  const algorithm = pdom.algorithm.value;
  const preset = pdom.expiry.value;
  if (!isAlgorithm(algorithm) || !isPreset(preset)) return null;
  setBusy(true, pdom.save);
  try {
    let encryptedKey = profileState.selected?.encryptedKey ?? "";
    if (profileState.selected === null || profileState.replacingKey) {
      try {
        const sealed = await bridge().invoke("crypto:encrypt", { algorithm, key: pdom.key.value, encoding: keyEncoding() });
        encryptedKey = sealed.encryptedKey;
      } catch (reason) {
        const error = asShownError(reason);
        noteKeychain(error);
        if (error.code === "INVALID_INPUT") setFieldError("key", error.message);
        else showBanner(pdom.error, error, adviceFor(error));
        focusFirstError();
        return null;
      }
    }
    /** @type {ProfileInput} */
    const input = {
      name: pdom.name.value.trim(),
      algorithm,
      encryptedKey,
      payload: parsed.value,
      expirationPreset: preset,
      customExpiration: preset === "custom" ? customIso() : null,
    };
    if (profileState.selected) input.id = profileState.selected.id;
    const stored = await bridge().invoke("profiles:save", input);
    const index = profileState.profiles.findIndex((p) => p.id === stored.id);
    if (index === -1) profileState.profiles.push(stored);
    else profileState.profiles[index] = stored;
    editProfile(stored);
    renderProfileList();
    rememberSelection(stored.id);
    flashSaved("Saved");
    return stored;
  } catch (reason) {
    const error = asShownError(reason);
    noteKeychain(error);
    const details = /** @type {{ field?: unknown } | null} */ (error.details);
    const field = error.code === "DUPLICATE_NAME" ? "name" : error.code === "VALIDATION_ERROR" ? editorFieldFor(details?.field) : null;
    if (field !== null) {
      const message = error.code === "DUPLICATE_NAME"
        ? "Another profile already has this name (names are compared without case)."
        : field === "key" && profileState.selected && !profileState.replacingKey
          ? `${error.message}. Enter the key again for ${algorithm}.`
          : error.message;
      setFieldError(field, message);
      if (field === "key" && profileState.selected && !profileState.replacingKey) {
        profileState.replacingKey = true;
        syncKeyField();
      }
      focusFirstError();
    } else {
      showBanner(pdom.error, error, adviceFor(error));
    }
    return null;
  } finally {
    setBusy(false, pdom.save);
  }
}

function focusFirstError() {
  for (const field of /** @type {EditorField[]} */ (["name", "algorithm", "expiry", "key", "claims"])) {
    if (!fieldErrors[field].hidden) {
      const input = fieldInputs[field];
      if (!(input instanceof HTMLTextAreaElement && input.closest("[hidden]"))) input.focus();
      return;
    }
  }
}

/**
 * @param {boolean} busy
 * @param {HTMLButtonElement} button
 */
function setBusy(busy, button) {
  profileState.busy = busy;
  if (busy) button.dataset.busy = "true";
  else delete button.dataset.busy;
  pdom.save.disabled = busy;
  updateGenerateState();
}

/** @param {string} text */
function flashSaved(text) {
  clearTimeout(profileState.savedTimer);
  pdom.saved.textContent = text;
  profileState.savedTimer = setTimeout(() => {
    pdom.saved.textContent = "";
  }, SAVED_FEEDBACK_MS);
}

// Delete ----------------------------------------------------------------

function disarmDelete() {
  clearTimeout(profileState.deleteTimer);
  delete pdom.del.dataset.armed;
  pdom.del.textContent = "Delete";
  pdom.delCancel.hidden = true;
}

async function onDelete() {
  const profile = profileState.selected;
  if (!profile || profileState.busy) return;
  if (pdom.del.dataset.armed !== "true") {
    pdom.del.dataset.armed = "true";
    pdom.del.textContent = `Delete “${profile.name}”`;
    pdom.delCancel.hidden = false;
    profileState.deleteTimer = setTimeout(disarmDelete, DELETE_CONFIRM_MS);
    return;
  }
  disarmDelete();
  setBusy(true, pdom.del);
  try {
    await bridge().invoke("profiles:delete", { id: profile.id });
    const index = profileState.profiles.findIndex((p) => p.id === profile.id);
    profileState.profiles = profileState.profiles.filter((p) => p.id !== profile.id);
    const next = profileState.profiles[Math.min(index, profileState.profiles.length - 1)] ?? null;
    if (profileState.generated?.profileId === profile.id) profileState.generated = null;
    editProfile(next);
    renderProfileList();
    if (next) rememberSelection(next.id);
    flashSaved(`Deleted “${profile.name}”`);
  } catch (reason) {
    showBanner(pdom.error, asShownError(reason));
  } finally {
    setBusy(false, pdom.del);
  }
}

// Generate and verify ---------------------------------------------------

function clearGenerated() {
  profileState.generated = null;
  pdom.output.hidden = true;
  pdom.token.textContent = "";
  pdom.genHeader.replaceChildren();
  pdom.genPayload.replaceChildren();
  pdom.verifyResult.hidden = true;
  pdom.verifyResult.replaceChildren();
  showBanner(pdom.generateError, null);
  updateGenerateState();
}

async function onGenerate() {
  if (profileState.busy || profileState.selected === null) return;
  let profile = profileState.selected;
  if (isDirty()) {
    const stored = await saveProfile();
    if (stored === null) return;
    profile = stored;
  }
  setBusy(true, pdom.generate);
  showBanner(pdom.generateError, null);
  try {
    const token = await bridge().invoke("jwt:generate", { profileId: profile.id });
    profileState.generated = { raw: token.raw, profileId: profile.id };
    pdom.token.textContent = token.raw;
    pdom.tokenMeta.textContent = `${profile.name} · ${token.raw.length} characters · ${formatLocal(token.generatedAt)}`;
    renderJson(pdom.genHeader, token.header);
    renderJson(pdom.genPayload, token.payload);
    pdom.verifyResult.hidden = true;
    pdom.verifyResult.replaceChildren();
    pdom.output.hidden = false;
    // The token is what the user came for: bring it on screen.
    pdom.output.scrollIntoView({ block: "nearest" });
  } catch (reason) {
    const error = asShownError(reason);
    noteKeychain(error);
    showBanner(pdom.generateError, error, adviceFor(error));
  } finally {
    setBusy(false, pdom.generate);
  }
}

async function onVerify() {
  const generated = profileState.generated;
  if (!generated || profileState.busy) return;
  setBusy(true, pdom.verify);
  try {
    const result = await bridge().invoke("jwt:verify", { token: generated.raw, profileId: generated.profileId });
    renderVerification(result.valid ? "ok" : "danger", result.valid ? "Valid" : (result.reason ?? "Invalid"), result.valid ? "The signature checks out under this profile's key, and the token is in date." : (result.message ?? ""));
  } catch (reason) {
    const error = asShownError(reason);
    noteKeychain(error);
    renderVerification("danger", error.code, error.message);
  } finally {
    setBusy(false, pdom.verify);
  }
}

/**
 * @param {Tone} tone
 * @param {string} label
 * @param {string} text
 */
function renderVerification(tone, label, text) {
  pdom.verifyResult.dataset.tone = tone;
  const chip = h("span", "chip verify-chip", label);
  chip.dataset.tone = tone;
  pdom.verifyResult.replaceChildren(chip, h("span", "verify-text", text));
  pdom.verifyResult.hidden = false;
  pdom.verifyResult.scrollIntoView({ block: "nearest" });
}

function openGeneratedInDecoder() {
  const generated = profileState.generated;
  if (!generated) return;
  dom.tokenInput.value = generated.raw;
  setHint(false);
  void decode();
  dom.tokenInput.scrollIntoView({ behavior: "smooth", block: "start" });
}

// Settings --------------------------------------------------------------

/**
 * Applies the saved theme (unless this machine's page storage holds a
 * choice) and answers the remembered profile. Never rejects.
 * @returns {Promise<string | null>}
 */
async function loadSettings() {
  try {
    const settings = await bridge().invoke("settings:get", {});
    if (!storedThemeChoice()) applyTheme(settings.theme);
    return settings.lastSelectedProfileId;
  } catch (reason) {
    const error = asShownError(reason);
    if (error.code === "PARSE_ERROR") showBanner(pdom.loadBanner, error, adviceFor(error)?.replace("empty list", "default settings"));
    return null;
  }
}

/** @returns {boolean} whether page storage holds a theme choice */
function storedThemeChoice() {
  try {
    return localStorage.getItem(THEME_STORAGE_KEY) !== null;
  } catch {
    return false;
  }
}

async function startProfiles() {
  const remembered = await loadSettings();
  await loadProfiles(remembered);
}

function wireProfileEvents() {
  for (const alg of ALGORITHMS) {
    const option = h("option", "", alg);
    option.value = alg;
    pdom.algorithm.append(option);
  }
  pdom.newButton.addEventListener("click", () => {
    if (profileState.busy) return;
    const current = profileState.selected?.name ?? "the new profile";
    unlessUnsaved(`Discard the unsaved changes to “${current}” and start a new profile?`, () => {
      editProfile(null);
      renderProfileList();
      pdom.name.focus();
    });
  });
  pdom.search.addEventListener("input", renderProfileList);
  pdom.search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      profileButtons()[0]?.focus();
    } else if (event.key === "Escape" && pdom.search.value !== "") {
      event.preventDefault();
      pdom.search.value = "";
      renderProfileList();
    }
  });
  pdom.list.addEventListener("keydown", onListKeydown);
  pdom.discardConfirm.addEventListener("click", () => {
    const action = profileState.pendingDiscard;
    closeDiscardPrompt();
    action?.();
  });
  pdom.discardCancel.addEventListener("click", closeDiscardPrompt);
  pdom.discard.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeDiscardPrompt();
    }
  });
  pdom.form.addEventListener("submit", (event) => {
    event.preventDefault();
    void saveProfile();
  });
  pdom.form.addEventListener("input", updateDirty);
  pdom.form.addEventListener("change", updateDirty);
  pdom.name.addEventListener("input", () => setFieldError("name", null));
  pdom.key.addEventListener("input", () => setFieldError("key", null));
  pdom.claims.addEventListener("input", validateClaims);
  pdom.algorithm.addEventListener("change", () => {
    setFieldError("algorithm", null);
    syncKeyField();
  });
  pdom.expiry.addEventListener("change", () => {
    setFieldError("expiry", null);
    syncExpiry();
  });
  pdom.custom.addEventListener("input", () => {
    setFieldError("expiry", null);
    syncExpiry();
  });
  for (const radio of pdom.form.querySelectorAll('input[name="key-encoding"]')) radio.addEventListener("change", syncKeyField);
  pdom.keyReplace.addEventListener("click", () => {
    profileState.replacingKey = true;
    syncKeyField();
    updateDirty();
    pdom.key.focus();
  });
  pdom.keyKeep.addEventListener("click", () => {
    profileState.replacingKey = false;
    pdom.key.value = "";
    setFieldError("key", null);
    syncKeyField();
    updateDirty();
  });
  pdom.revert.addEventListener("click", () => editProfile(profileState.selected));
  pdom.del.addEventListener("click", () => void onDelete());
  pdom.delCancel.addEventListener("click", disarmDelete);
  pdom.generate.addEventListener("click", () => void onGenerate());
  pdom.verify.addEventListener("click", () => void onVerify());
  pdom.decodeGenerated.addEventListener("click", openGeneratedInDecoder);
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey)) return;
    if (event.key === "s") {
      event.preventDefault();
      void saveProfile();
    } else if (event.key === "g") {
      event.preventDefault();
      if (!pdom.generate.disabled) void onGenerate();
    }
  });
}

// ---------------------------------------------------------------------------
// Start

function wireEvents() {
  dom.tokenInput.addEventListener("input", onTokenInput);
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
  dom.themeToggle.addEventListener("click", cycleTheme);
  for (const button of document.querySelectorAll("button[data-copy-from]")) {
    if (button instanceof HTMLButtonElement) button.addEventListener("click", () => void copyFrom(button));
  }
}

function start() {
  applyTheme(initialTheme());
  wireEvents();
  wireProfileEvents();
  showDecodeView("empty");
  // Tests wait on data-ready: set it once the first calls settled, either way.
  void Promise.allSettled([loadAppInfo(), loadPlugins(), startProfiles()]).then(() => {
    document.body.dataset.ready = "true";
  });
  // A token restored into the field (a reload) is decoded straight away.
  if (JWT_SHAPE.test(tokenFrom(dom.tokenInput.value))) void decode();
}

start();
