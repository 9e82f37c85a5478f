// @ts-check
/**
 * The Tollgate window's page: shows the host's version, the loaded plugins
 * and their import decisions, and decodes tokens through `jwt:decode`;
 * signs in to GitHub (the host runs the device flow; the page never sees
 * a token).
 *
 * Trusts: the `tollgate` bridge the host injects before this script runs.
 * Does not trust: token contents and anything the host echoes from them or
 * from plugin metadata. All of it reaches the DOM through `textContent` and
 * `createElement` only; nothing here parses HTML.
 */

/** Wait after the last keystroke before decoding, so typing a token doesn't send one call per character. */
const DECODE_DEBOUNCE_MS = 250;
/** Wait after the last keystroke in the claims before linting them (the channel allows 20 calls a second). */
const LINT_DEBOUNCE_MS = 300;
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
  aboutOpen: byId("about-open", HTMLButtonElement),
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

/** Asks the host for the about window; says so on the button if it can't. */
async function openAbout() {
  try {
    const opened = await bridge().invoke("app:open-about", {});
    dom.aboutOpen.title = opened.requested ? "About Tollgate" : "About Tollgate (no window system)";
  } catch (reason) {
    const error = asShownError(reason);
    dom.aboutOpen.title = `About Tollgate: ${error.code}: ${error.message}`;
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

/**
 * Dev reload (`--dev-plugin`): a swapped-in plugin refreshes the list; a
 * refused one says why (the previous one keeps serving).
 * @param {PluginReloaded} done
 */
function onPluginReloaded(done) {
  const note = byId("plugins-reload", HTMLElement);
  note.dataset.tone = "ok";
  note.textContent = `Reloaded ${done.name} (sha256 ${done.sha256.slice(0, 12)}…) in ${done.tookMs} ms.`;
  note.hidden = false;
  void loadPlugins();
}

/** @param {PluginReloadFailed} failed */
function onPluginReloadFailed(failed) {
  const note = byId("plugins-reload", HTMLElement);
  note.dataset.tone = "error";
  note.textContent = `Reload refused (${failed.code}): ${failed.message} The previous version keeps serving.`;
  note.hidden = false;
}

/** Listens for dev reloads. Never rejects. */
async function subscribePluginEvents() {
  const t = bridge();
  await Promise.allSettled([t.on("plugins:reloaded", onPluginReloaded), t.on("plugins:reload-failed", onPluginReloadFailed)]);
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

  item.append(head, meta);
  if (plugin.quarantine) item.append(renderQuarantine(plugin, plugin.quarantine));
  item.append(renderImports(plugin.imports));
  return item;
}

/**
 * A quarantined plugin: why, since when, and a button that asks the host
 * to ask the user (the host shows its own dialog; this page can't clear a
 * quarantine by itself).
 * @param {PluginSummary} plugin
 * @param {QuarantineEntry} entry
 * @returns {HTMLElement}
 */
function renderQuarantine(plugin, entry) {
  const box = h("div", "plugin-quarantine");
  box.setAttribute("role", "alert");
  const since = new Date(entry.since * 1000).toLocaleString();
  box.append(
    h("p", "plugin-quarantine-title", "Quarantined: gets no key"),
    h("p", "plugin-quarantine-reason", `Since ${since}: ${entry.reason}.`),
  );
  const button = h("button", "button button-quiet button-small", "Trust again…");
  button.type = "button";
  button.dataset.trust = plugin.sha256;
  button.addEventListener("click", () => void trustPlugin(button, plugin.sha256));
  box.append(button);
  return box;
}

/**
 * `plugins:trust`: the host asks the user in its own dialog and answers
 * whether they said yes, with the refreshed list. Never rejects.
 * @param {HTMLButtonElement} button
 * @param {string} sha256
 */
async function trustPlugin(button, sha256) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  const note = byId("plugins-reload", HTMLElement);
  try {
    const answer = await bridge().invoke("plugins:trust", { sha256 });
    note.dataset.tone = answer.trusted ? "ok" : "warn";
    note.textContent = answer.trusted ? "Trusted again: the plugin gets keys." : "Still quarantined (the host's dialog was declined or closed).";
    note.hidden = false;
    renderPlugins(answer.plugins);
  } catch (reason) {
    const error = asShownError(reason);
    note.dataset.tone = "error";
    note.textContent = `Could not ask (${error.code}): ${error.message}`;
    note.hidden = false;
    button.disabled = false;
  } finally {
    button.setAttribute("aria-busy", "false");
  }
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
  lintBox: byId("profile-lint-box", HTMLDivElement),
  lint: byId("profile-lint", HTMLUListElement),
  lintStatus: byId("profile-lint-status", HTMLElement),
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
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  lintTimer: undefined,
  /** Numbers lint calls, so an answer to an older text is dropped. */
  lintSeq: 0,
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
  scheduleLint();
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

// ---------------------------------------------------------------------------
// Claims findings: `lint:claims` runs the claims-linter guest over the
// claims as typed. Findings advise; they never block a save.

/** @type {Record<FindingSeverity, Tone>} */
const SEVERITY_TONE = { error: "danger", warning: "warn", info: "neutral" };

/** Lints the claims once the user pauses typing, if they parse as an object. */
function scheduleLint() {
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
  pdom.claims.addEventListener("input", () => {
    validateClaims();
    scheduleLint();
  });
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
// GitHub sign-in
//
// The host runs the device flow: it asks its sign-in service for a code,
// opens the browser and polls. This page starts an attempt, shows the code
// and the address, and renders what the `auth:*` events say. No channel or
// event carries a token, and nothing here asks for one or shows one: the
// page knows the user, the installations and when tokens expire.

/** The host allows one sign-in attempt per 10 s (`auth::LOGIN_COOLDOWN`): Try again waits it out rather than be refused. */
const LOGIN_COOLDOWN_MS = 10_000;
/** Added to every wait for the host: its clock starts a moment after the click. */
const LOGIN_COOLDOWN_SLACK_MS = 300;
/** The code's countdown and Try again's wait tick this often. */
const COUNTDOWN_TICK_MS = 1_000;
/** A token with less than this left is shown as a warning (the host renews it 5 min before its end). */
const TOKEN_EXPIRY_WARN_MS = 5 * 60_000;
/** Bridge refusals a second attempt can't get past: Try again is not offered. */
const FINAL_CALL_ERRORS = ["UNKNOWN_CHANNEL", "IPC_FORBIDDEN", "IPC_UNAUTHORIZED", "VALIDATION_ERROR"];

/**
 * Where a sign-in attempt stands, as this page shows it.
 * - idle: none, or the last one was closed after it ended
 * - starting: asked the host; no code yet
 * - code: the code is on screen; the host polls until it is approved
 * - error: the attempt failed (`auth:login-error`, or the call was refused)
 * - expired: the code's lifetime ran out
 * @typedef {"idle" | "starting" | "code" | "error" | "expired"} LoginPhase
 */
/**
 * The signed-in account as shown: what `auth:get-session`,
 * `auth:login-success` and the token events have said.
 * @typedef {{ user: GithubUser, installations: Installation[], currentId: number | null, tokenExpiresAt: string | null, sessionExpiresAt: string | null }} Account
 */
/**
 * Whether the sign-in service can be reached, why not, and until when the
 * cached installation token works.
 * @typedef {{ isOffline: boolean, reason: string | null, cachedTokenExpiresAt: string | null }} OfflineState
 */

const adom = {
  area: byId("auth-area", HTMLElement),
  signin: byId("auth-signin", HTMLButtonElement),
  signinLabel: byId("auth-signin-label", HTMLElement),
  account: byId("auth-account", HTMLElement),
  user: byId("auth-user", HTMLElement),
  userInitial: byId("auth-user-initial", HTMLElement),
  userLogin: byId("auth-user-login", HTMLElement),
  userName: byId("auth-user-name", HTMLElement),
  installationField: byId("auth-installation-field", HTMLElement),
  installation: byId("auth-installation", HTMLSelectElement),
  tokenExpiry: byId("auth-token-expiry", HTMLElement),
  installationStatus: byId("auth-installation-status", HTMLElement),
  installationError: byId("auth-installation-error", HTMLElement),
  signout: byId("auth-signout", HTMLButtonElement),
  offline: byId("auth-offline-banner", HTMLElement),
  offlineText: byId("auth-offline-text", HTMLElement),
  offlineReason: byId("auth-offline-reason", HTMLElement),
  offlineCheck: byId("auth-offline-check", HTMLButtonElement),
  notice: byId("auth-notice", HTMLElement),
  noticeTitle: byId("auth-notice-title", HTMLElement),
  noticeText: byId("auth-notice-text", HTMLElement),
  noticeDismiss: byId("auth-notice-dismiss", HTMLButtonElement),
  announce: byId("auth-announce", HTMLElement),
  panel: byId("auth-panel", HTMLDialogElement),
  close: byId("auth-close", HTMLButtonElement),
  status: byId("auth-status", HTMLElement),
  starting: byId("auth-starting", HTMLElement),
  codeView: byId("auth-code-view", HTMLElement),
  browserNote: byId("auth-browser-note", HTMLElement),
  uri: byId("auth-verification-uri", HTMLElement),
  code: byId("auth-user-code", HTMLElement),
  copyCode: byId("auth-copy-code", HTMLButtonElement),
  countdown: byId("auth-countdown", HTMLElement),
  waiting: byId("auth-waiting", HTMLElement),
  error: byId("auth-error", HTMLDivElement),
  retry: byId("auth-retry", HTMLButtonElement),
  dismiss: byId("auth-dismiss", HTMLButtonElement),
};

const authState = {
  /** Whether `auth:get-session` has answered (until then the account area stays empty). */
  loaded: false,
  /** @type {Account | null} */
  account: null,
  /** Moves on at every sign-in and sign-out; an answer for an older one is dropped. */
  seq: 0,
  /** @type {LoginPhase} */
  phase: "idle",
  /** Whether the failed attempt may be tried again. */
  retryable: false,
  /** When the shown code expires, on this page's clock (ms). */
  codeDeadline: 0,
  /** When Try again will not be refused, on this page's clock (ms). */
  retryAt: 0,
  /** The installation being picked while its token is fetched. @type {{ id: number, accountLogin: string } | null} */
  selecting: null,
  /** Why the last pick failed. @type {string | null} */
  installationError: null,
  signingOut: false,
  /** What the sign-in service's reachability was last said to be. @type {OfflineState} */
  offline: { isOffline: false, reason: null, cachedTokenExpiresAt: null },
  /** Why the page could not listen to the auth events, if it could not. @type {ShownError | null} */
  subscribeError: null,
  /** Where focus goes when the panel closes (else the sign-in button). @type {HTMLElement | null} */
  focusAfterClose: null,
  /** @type {ReturnType<typeof setInterval> | undefined} */
  countdownTimer: undefined,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  retryTimer: undefined,
  /** @type {ReturnType<typeof setInterval> | undefined} */
  relativeTimer: undefined,
};

// Formatting ------------------------------------------------------------

/**
 * "14:32" (24-hour, local time), with the date in front when it is not
 * today: "Mar 3 14:32".
 * @param {string} iso
 */
function formatClock(iso) {
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
function clockElement(iso) {
  const time = h("time", "", formatClock(iso));
  time.dateTime = iso;
  time.title = formatLocal(iso);
  return time;
}

/**
 * "in 42 min" or "3 min ago", from now.
 * @param {number} ms a time on this page's clock
 */
function relativeTo(ms) {
  const delta = ms - Date.now();
  return delta >= 0 ? `in ${formatDuration(delta / 1000)}` : `${formatDuration(-delta / 1000)} ago`;
}

/**
 * "14:59" for a countdown.
 * @param {number} ms non-negative
 */
function formatCountdown(ms) {
  const total = Math.ceil(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
}

/**
 * The host's lowercase reasons as a sentence: "The session reached its end."
 * @param {string} text
 */
function asSentence(text) {
  const trimmed = text.trim();
  if (trimmed === "") return trimmed;
  const capitalized = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalized) ? capitalized : `${capitalized}.`;
}

/** @param {Installation} installation */
function installationLabel(installation) {
  const kind = installation.accountType === "Organization" ? "org" : installation.accountType === "User" ? "personal" : installation.accountType;
  return `${installation.accountLogin} (${kind})`;
}

/**
 * The login's first letter, for the badge that stands in for the avatar
 * (the page's CSP loads only the app's own images).
 * @param {string} login
 */
function initialOf(login) {
  return (Array.from(login)[0] ?? "?").toUpperCase();
}

/**
 * One of the badge's six colours, the same for a login every time.
 * @param {string} login
 */
function hueOf(login) {
  let hash = 0;
  for (const ch of login) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return hash % 6;
}

/**
 * `details.retryAfterMs` of a RATE_LIMITED refusal, when it has one.
 * @param {unknown} details
 * @returns {number | null}
 */
function retryAfterMs(details) {
  if (typeof details !== "object" || details === null || !("retryAfterMs" in details)) return null;
  const value = details.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/** @param {string} text */
function announce(text) {
  // Cleared first, so saying the same thing twice is still announced.
  adom.announce.textContent = "";
  setTimeout(() => {
    adom.announce.textContent = text;
  }, 50);
}

// Notices ---------------------------------------------------------------

/**
 * Shows the dismissible notice under the header.
 * @param {"warn" | "danger"} tone
 * @param {string} title
 * @param {string} text
 */
function showAuthNotice(tone, title, text) {
  adom.notice.dataset.tone = tone;
  adom.noticeTitle.textContent = title;
  adom.noticeText.textContent = text;
  adom.notice.hidden = false;
}

function hideAuthNotice() {
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

// The account in the header -------------------------------------------

/** @param {SessionView} session @returns {Account} */
function accountFromSession(session) {
  return {
    user: session.user,
    installations: session.installations,
    currentId: session.currentInstallation?.id ?? null,
    tokenExpiresAt: session.installationTokenExpiresAt,
    sessionExpiresAt: session.sessionExpiresAt,
  };
}

/** Renders the whole account area from `authState`. */
function renderAccount() {
  const account = authState.account;
  adom.area.dataset.state = !authState.loaded ? "loading" : account ? "signed-in" : "signed-out";
  adom.signin.hidden = !authState.loaded || account !== null;
  adom.account.hidden = account === null;
  renderSigninButton();
  if (account) {
    renderUser(account);
    renderInstallations(account);
  }
  renderOffline();
  // Relative times ("in 42 min") and the token's warning tone go stale: refresh them while signed in.
  if (account && authState.relativeTimer === undefined) {
    authState.relativeTimer = setInterval(() => {
      if (authState.account) renderInstallationLine(authState.account);
      renderOffline();
    }, RELATIVE_TIME_REFRESH_MS);
  } else if (!account && authState.relativeTimer !== undefined) {
    clearInterval(authState.relativeTimer);
    authState.relativeTimer = undefined;
  }
}

function renderSigninButton() {
  const pending = authState.phase === "starting" || authState.phase === "code";
  adom.signinLabel.textContent = pending ? "Finish signing in…" : "Sign in with GitHub";
  if (pending) adom.signin.dataset.pending = "true";
  else delete adom.signin.dataset.pending;
  adom.signin.title = pending ? "A sign-in is waiting for you: show its code" : "Sign in with your GitHub account (device flow: you approve in the browser)";
}

/** @param {Account} account */
function renderUser(account) {
  const { user } = account;
  adom.userInitial.textContent = initialOf(user.login);
  adom.userInitial.dataset.hue = String(hueOf(user.login));
  adom.userLogin.textContent = user.login;
  adom.userName.textContent = user.name ?? "";
  adom.userName.hidden = !user.name;
  const lines = [`Signed in to GitHub as ${user.login}${user.name ? ` (${user.name})` : ""}`];
  if (account.sessionExpiresAt) lines.push(`Session ends ${formatLocal(account.sessionExpiresAt)}`);
  adom.user.title = lines.join("\n");
}

/** @param {Account} account */
function renderInstallations(account) {
  // While a pick is under way the picker shows it, not the one before.
  const shownId = authState.selecting?.id ?? account.currentId;
  const current = account.installations.some((i) => i.id === shownId) ? shownId : null;
  /** @type {HTMLOptionElement[]} */
  const options = [];
  if (current === null) {
    const placeholder = h("option", "", account.installations.length === 0 ? "No installations" : "Choose an installation…");
    placeholder.value = "";
    placeholder.disabled = true;
    options.push(placeholder);
  }
  for (const installation of account.installations) {
    const option = h("option", "", installationLabel(installation));
    option.value = String(installation.id);
    option.title = `${installation.accountLogin} (${installation.accountType}, installation ${installation.id})`;
    options.push(option);
  }
  adom.installation.replaceChildren(...options);
  adom.installation.value = current === null ? "" : String(current);
  adom.installation.disabled = authState.selecting !== null || account.installations.length === 0;
  adom.installation.setAttribute("aria-busy", authState.selecting !== null ? "true" : "false");
  if (authState.installationError !== null) adom.installation.setAttribute("aria-invalid", "true");
  else adom.installation.removeAttribute("aria-invalid");
  if (authState.selecting !== null) adom.installationField.dataset.busy = "true";
  else delete adom.installationField.dataset.busy;
  renderInstallationLine(account);
}

/**
 * The line under the picker: the pick's error, else what is happening
 * (a token being fetched, nothing picked yet), else the token's expiry.
 * @param {Account} account
 */
function renderInstallationLine(account) {
  const error = authState.installationError;
  adom.installationError.hidden = error === null;
  adom.installationError.textContent = error ?? "";

  /** @type {string | null} */
  let status = null;
  if (authState.selecting !== null) status = `Getting a token for ${authState.selecting.accountLogin}…`;
  else if (account.installations.length === 0) status = "Install the GitHub App on an account first";
  else if (account.currentId === null) status = "Pick one to get a token";
  else if (account.tokenExpiresAt === null) status = "No token cached";
  adom.installationStatus.hidden = error !== null || status === null;
  adom.installationStatus.textContent = status ?? "";

  const at = account.tokenExpiresAt;
  const showExpiry = error === null && status === null && at !== null;
  adom.tokenExpiry.hidden = !showExpiry;
  if (!showExpiry || at === null) {
    adom.tokenExpiry.replaceChildren();
    return;
  }
  const ms = Date.parse(at);
  const left = ms - Date.now();
  const expired = !Number.isNaN(ms) && left <= 0;
  adom.tokenExpiry.replaceChildren(expired ? "Token expired " : "Token expires ", clockElement(at));
  adom.tokenExpiry.dataset.tone = expired ? "danger" : left < TOKEN_EXPIRY_WARN_MS ? "warn" : "ok";
  const owner = account.installations.find((i) => i.id === account.currentId)?.accountLogin ?? "this installation";
  adom.tokenExpiry.title = Number.isNaN(ms)
    ? `The installation token for ${owner} expires ${at}`
    : `The installation token for ${owner} ${expired ? "expired" : "expires"} ${formatLocal(at)} (${relativeTo(ms)}). Tollgate renews it before then while the sign-in service can be reached.`;
}

/**
 * Picks an installation: the host fetches its token and keeps it in the
 * keychain; the page learns only when it expires.
 * @param {number} installationId
 */
async function selectInstallation(installationId) {
  const account = authState.account;
  if (account === null || authState.selecting !== null) return;
  const seq = authState.seq;
  const accountLogin = account.installations.find((i) => i.id === installationId)?.accountLogin ?? `installation ${installationId}`;
  authState.selecting = { id: installationId, accountLogin };
  authState.installationError = null;
  renderInstallations(account);
  try {
    const selected = await bridge().invoke("auth:select-installation", { installationId });
    if (seq !== authState.seq || authState.account === null) return;
    authState.account.currentId = selected.installationId;
    authState.account.tokenExpiresAt = selected.expiresAt;
    announce(`Using ${selected.accountLogin}. Token expires ${formatClock(selected.expiresAt)}.`);
  } catch (reason) {
    if (seq !== authState.seq) return;
    const error = asShownError(reason);
    if (error.code === "UNAUTHORIZED") {
      // The host no longer has a session (it ended, or was refused).
      signedOut();
      showAuthNotice("warn", "You were signed out of GitHub", asSentence(error.message));
      return;
    }
    authState.installationError = error.code === "KEYCHAIN_UNAVAILABLE"
      ? `${asSentence(error.message)} Unlock your keyring and pick again.`
      : asSentence(error.message);
  } finally {
    authState.selecting = null;
    if (seq === authState.seq && authState.account) {
      renderInstallations(authState.account);
      if (authState.installationError !== null) adom.installation.focus();
    }
  }
}

function onInstallationChange() {
  const value = adom.installation.value;
  const id = Number(value);
  if (value === "" || !Number.isSafeInteger(id)) return;
  void selectInstallation(id);
}

/** Forgets the account (signed out, or the session ended) and renders the signed-out state. */
function signedOut() {
  const hadFocus = adom.account.contains(document.activeElement);
  authState.seq += 1;
  authState.account = null;
  authState.selecting = null;
  authState.installationError = null;
  renderAccount();
  if (hadFocus) adom.signin.focus();
}

async function signOut() {
  if (authState.signingOut) return;
  authState.signingOut = true;
  adom.signout.disabled = true;
  adom.signout.dataset.busy = "true";
  try {
    const result = await bridge().invoke("auth:logout", {});
    signedOut();
    hideAuthNotice();
    if (!result.keychainCleared) {
      showAuthNotice("warn", "Signed out, but the keychain kept the session", "The OS keychain refused to delete the stored GitHub session. Tollgate no longer uses it; unlock your keyring, and it is replaced the next time you sign in.");
    } else {
      announce("Signed out of GitHub.");
    }
    adom.signin.focus();
  } catch (reason) {
    showAuthNotice("danger", "Sign-out failed", asSentence(asShownError(reason).message));
  } finally {
    authState.signingOut = false;
    adom.signout.disabled = false;
    delete adom.signout.dataset.busy;
  }
}

// Offline ---------------------------------------------------------------

/**
 * @param {boolean} isOffline
 * @param {string | null} reason
 * @param {string | null} cachedTokenExpiresAt
 */
function setOffline(isOffline, reason, cachedTokenExpiresAt) {
  const wasShown = !adom.offline.hidden;
  authState.offline = { isOffline, reason, cachedTokenExpiresAt };
  renderOffline();
  if (wasShown && adom.offline.hidden && authState.account) announce("The sign-in service can be reached again.");
}

/** The offline banner: shown while signed in and the sign-in service can't be reached. */
function renderOffline() {
  const { isOffline, reason, cachedTokenExpiresAt: at } = authState.offline;
  const show = authState.account !== null && isOffline;
  adom.offline.hidden = !show;
  if (!show) return;
  const lead = h("strong", "", "Offline");
  const ms = at === null ? Number.NaN : Date.parse(at);
  if (at === null) {
    adom.offlineText.replaceChildren(lead, " — the sign-in service can't be reached, and there is no cached token.");
  } else if (Number.isNaN(ms) || ms > Date.now()) {
    const after = Number.isNaN(ms) ? "." : ` (${relativeTo(ms)}).`;
    adom.offlineText.replaceChildren(lead, " — the sign-in service can't be reached. Your cached GitHub token works until ", clockElement(at), after);
  } else {
    adom.offlineText.replaceChildren(lead, " — the sign-in service can't be reached, and your cached GitHub token expired at ", clockElement(at), ` (${relativeTo(ms)}).`);
  }
  adom.offlineReason.hidden = !reason;
  adom.offlineReason.textContent = reason ? `Reason: ${reason}` : "";
}

/**
 * Asks the host to probe the sign-in service. Never rejects.
 * @param {boolean} asked whether the user pressed Check again
 */
async function checkOffline(asked) {
  adom.offlineCheck.disabled = true;
  adom.offlineCheck.dataset.busy = "true";
  try {
    const status = await bridge().invoke("auth:check-offline-status", {});
    setOffline(status.isOffline, status.reason, status.cachedTokenExpiresAt);
  } catch (reason) {
    const error = asShownError(reason);
    if (asked && !adom.offline.hidden) {
      adom.offlineReason.hidden = false;
      adom.offlineReason.textContent = `Could not check again: ${asSentence(error.message)}`;
    } else {
      showAuthNotice("danger", "Could not check the sign-in service", asSentence(error.message));
    }
  } finally {
    adom.offlineCheck.disabled = false;
    delete adom.offlineCheck.dataset.busy;
  }
}

// The sign-in panel -----------------------------------------------------

/** @param {LoginPhase} phase */
function setPhase(phase) {
  authState.phase = phase;
  if (phase !== "code") stopCountdown();
  renderPanel();
  renderSigninButton();
}

/** Renders the panel for the current phase. */
function renderPanel() {
  const phase = authState.phase;
  adom.panel.dataset.phase = phase;
  adom.starting.hidden = phase !== "starting";
  adom.codeView.hidden = phase !== "code" && phase !== "expired";
  adom.waiting.hidden = phase !== "code";
  adom.copyCode.disabled = phase !== "code";
  if (phase !== "error") showBanner(adom.error, null);
  switch (phase) {
    case "starting":
      adom.status.textContent = "Asking GitHub for a sign-in code…";
      break;
    case "code":
      renderCountdown();
      break;
    case "expired":
      adom.status.textContent = "The code expired before it was approved. Try again for a new one.";
      adom.countdown.textContent = "This code has expired";
      adom.countdown.dataset.tone = "danger";
      break;
    case "error":
      adom.status.textContent = authState.retryable ? "Signing in did not work. You can try again." : "Signing in did not work.";
      break;
    case "idle":
      adom.status.textContent = "";
      break;
  }
  renderRetry();
}

function openPanel() {
  if (!adom.panel.open) {
    if (typeof adom.panel.showModal === "function") adom.panel.showModal();
    else adom.panel.setAttribute("open", "");
  }
  renderPanel();
  focusInPanel();
}

/** Moves focus back into the panel when what had it was disabled or hidden. */
function keepFocusInPanel() {
  const active = document.activeElement;
  const lost = active === null || active === document.body || active === adom.panel
    || (active instanceof HTMLButtonElement && (active.disabled || active.closest("[hidden]") !== null));
  if (lost) focusInPanel();
}

/** Focus on what the user most likely does next in the panel. */
function focusInPanel() {
  if (!adom.panel.open) return;
  if (!adom.retry.hidden && !adom.retry.disabled) adom.retry.focus();
  else if (authState.phase === "code") adom.copyCode.focus();
  else adom.close.focus();
}

/** @param {HTMLElement | null} [focusTarget] where focus goes (else the sign-in button) */
function closePanel(focusTarget) {
  if (!adom.panel.open) {
    // Closed already: focus stays where the user put it.
    renderSigninButton();
    return;
  }
  authState.focusAfterClose = focusTarget ?? null;
  adom.panel.close();
}

/** After the panel closed (the close button, Escape, or a sign-in that finished). */
function onPanelClosed() {
  // An attempt that ended is over once its panel is closed: the next click starts afresh.
  if (authState.phase === "error" || authState.phase === "expired") setPhase("idle");
  renderSigninButton();
  const target = authState.focusAfterClose ?? (adom.signin.hidden ? null : adom.signin);
  authState.focusAfterClose = null;
  target?.focus();
}

function onSigninClick() {
  // A code is on its way or on screen: show it again rather than start over.
  if (authState.phase === "starting" || authState.phase === "code") {
    openPanel();
    return;
  }
  void startLogin();
}

/** Starts a sign-in attempt; its progress comes as events. Never rejects. */
async function startLogin() {
  if (authState.subscribeError) {
    // Without the events the page would wait for a code that never shows.
    openPanel();
    showLoginFailure(authState.subscribeError, false);
    return;
  }
  const previousRetryAt = authState.retryAt;
  authState.retryAt = Date.now() + LOGIN_COOLDOWN_MS + LOGIN_COOLDOWN_SLACK_MS;
  setPhase("starting");
  openPanel();
  try {
    await bridge().invoke("auth:github-login", {});
  } catch (reason) {
    const error = asShownError(reason);
    if (error.code === "RATE_LIMITED") {
      // Refused: no attempt started, so the host's wait is the one that counts.
      const wait = retryAfterMs(error.details);
      authState.retryAt = wait === null ? previousRetryAt : Date.now() + wait + LOGIN_COOLDOWN_SLACK_MS;
    }
    // The host may have said so already with an `auth:login-error` event; its wait is this one.
    if (authState.phase === "starting" || authState.phase === "error") showLoginFailure(error, !FINAL_CALL_ERRORS.includes(error.code));
  }
}

/**
 * Shows a failed attempt in the panel.
 * @param {{ code: string, message: string }} failure
 * @param {boolean} retryable
 */
function showLoginFailure(failure, retryable) {
  authState.retryable = retryable;
  setPhase("error");
  const shown = { code: failure.code, message: asSentence(failure.message), details: null, requestId: "" };
  showBanner(adom.error, shown, loginAdvice(failure.code, retryable));
  if (adom.panel.open) {
    focusInPanel();
    return;
  }
  // The user closed the panel while waiting: say it under the header, and let the next click start afresh.
  setPhase("idle");
  showAuthNotice("danger", "GitHub sign-in failed", shown.message);
}

/**
 * @param {string} code
 * @param {boolean} retryable
 * @returns {string | undefined}
 */
function loginAdvice(code, retryable) {
  switch (code) {
    case "NETWORK_ERROR":
      return "Tollgate could not reach its sign-in service. Check your connection, then try again.";
    case "TIMEOUT":
      return "The service may be busy: try again in a moment.";
    case "ACCESS_DENIED":
      return "Access was not granted on GitHub. Close this and sign in again to start over.";
    case "RATE_LIMIT":
    case "RATE_LIMITED":
      return "Sign-in attempts are limited; Try again unlocks when the wait is over.";
    default:
      return retryable ? undefined : "Close this and sign in again to start over.";
  }
}

/** Shows Try again when the attempt may be retried, disabled with a countdown until the host will accept it. */
function renderRetry() {
  clearTimeout(authState.retryTimer);
  authState.retryTimer = undefined;
  const ended = authState.phase === "error" || authState.phase === "expired";
  adom.dismiss.hidden = !ended;
  const show = (authState.phase === "error" && authState.retryable) || authState.phase === "expired";
  adom.retry.hidden = !show;
  if (!show) return;
  const wait = authState.retryAt - Date.now();
  if (wait > 0) {
    adom.retry.disabled = true;
    adom.retry.textContent = `Try again in ${Math.ceil(wait / 1000)} s`;
    authState.retryTimer = setTimeout(renderRetry, wait % COUNTDOWN_TICK_MS || COUNTDOWN_TICK_MS);
    return;
  }
  const wasDisabled = adom.retry.disabled;
  adom.retry.disabled = false;
  adom.retry.textContent = "Try again";
  // While it was disabled, focus went to the close button (or nowhere): Try again is what comes next.
  if (wasDisabled && adom.panel.open && document.activeElement === adom.close) adom.retry.focus();
  else if (wasDisabled) keepFocusInPanel();
}

function startCountdown() {
  stopCountdown();
  renderCountdown();
  authState.countdownTimer = setInterval(renderCountdown, COUNTDOWN_TICK_MS);
}

function stopCountdown() {
  clearInterval(authState.countdownTimer);
  authState.countdownTimer = undefined;
}

function renderCountdown() {
  if (authState.phase !== "code") return;
  const left = authState.codeDeadline - Date.now();
  if (left <= 0) {
    // The host says so too (`auth:device-code-expired`) once its last poll is answered.
    setPhase("expired");
    keepFocusInPanel();
    return;
  }
  const time = h("strong", "auth-countdown-time", formatCountdown(left));
  adom.countdown.replaceChildren("Code expires in ", time);
  adom.countdown.dataset.tone = left < 60_000 ? "warn" : "neutral";
}

// Events ----------------------------------------------------------------

/** @param {UserCode} event */
function onUserCode(event) {
  // Counted from the lifetime rather than `expiresAt`, so a clock that
  // differs between host and page can't show a wrong countdown.
  authState.codeDeadline = Date.now() + event.expiresIn * 1000;
  adom.code.textContent = event.userCode;
  adom.uri.textContent = event.verificationUri;
  adom.browserNote.textContent = event.browserOpened ? "Your browser opened this address" : "Open this address in your browser";
  adom.countdown.title = `Expires at ${formatLocal(event.expiresAt)}`;
  adom.status.textContent = event.browserOpened
    ? `Your browser is open at GitHub (if it isn't, open the address below). Enter the code ${event.userCode} there.`
    : `Tollgate could not open your browser: open the address below yourself and enter the code ${event.userCode}.`;
  setPhase("code");
  startCountdown();
  if (adom.panel.open && !adom.panel.contains(document.activeElement)) focusInPanel();
  else if (adom.panel.open && document.activeElement === adom.close) adom.copyCode.focus();
}

/** @param {LoginSuccess} event */
function onLoginSuccess(event) {
  authState.seq += 1;
  authState.account = { user: event.user, installations: event.installations, currentId: null, tokenExpiresAt: null, sessionExpiresAt: null };
  authState.loaded = true;
  authState.selecting = null;
  authState.installationError = null;
  hideAuthNotice();
  setPhase("idle");
  renderAccount();
  const only = event.installations.length === 1 ? event.installations[0] : undefined;
  // Several: the user picks one. One: it is picked here, and the picker is busy meanwhile.
  closePanel(event.installations.length > 1 ? adom.installation : adom.user);
  announce(`Signed in to GitHub as ${event.user.login}.`);
  if (only) void selectInstallation(only.id);
}

/** @param {LoginError} event */
function onLoginError(event) {
  showLoginFailure(event, event.retryable);
}

/** @param {DeviceCodeExpired} event */
function onDeviceCodeExpired(event) {
  if (authState.phase !== "code" && authState.phase !== "expired") return;
  // A newer attempt's code is on screen: this one is not news.
  if (adom.code.textContent !== event.userCode) return;
  setPhase(adom.panel.open ? "expired" : "idle");
  keepFocusInPanel();
}

/** @param {InstallationTokenCached} event */
function onInstallationTokenCached(event) {
  const account = authState.account;
  if (account === null || !account.installations.some((i) => i.id === event.installationId)) return;
  account.currentId = event.installationId;
  account.tokenExpiresAt = event.expiresAt;
  renderInstallations(account);
}

/** @param {TokenRefreshed} event */
function onTokenRefreshed(event) {
  const account = authState.account;
  if (account === null || (account.currentId !== null && account.currentId !== event.installationId)) return;
  account.currentId = event.installationId;
  account.tokenExpiresAt = event.expiresAt;
  renderInstallations(account);
}

/** @param {SessionExpired} event */
function onSessionExpired(event) {
  if (authState.account === null && authState.loaded) {
    // Nothing on screen was signed in; still say why a stored session is gone.
    showAuthNotice("warn", "Your GitHub session ended", asSentence(event.reason));
    return;
  }
  signedOut();
  showAuthNotice("warn", "You were signed out of GitHub", asSentence(event.reason));
}

function onLogoutSuccess() {
  if (authState.account !== null) signedOut();
}

/** @param {OfflineModeEnabled} event */
function onOfflineModeEnabled(event) {
  setOffline(true, event.reason, event.cachedTokenExpiresAt);
}

function onOfflineModeDisabled() {
  setOffline(false, null, authState.offline.cachedTokenExpiresAt);
}

// Start -----------------------------------------------------------------

/** Listens to every `auth:*` event; remembers the first refusal. */
async function subscribeAuthEvents() {
  const t = bridge();
  const results = await Promise.allSettled([
    t.on("auth:user-code", onUserCode),
    t.on("auth:login-success", onLoginSuccess),
    t.on("auth:login-error", onLoginError),
    t.on("auth:device-code-expired", onDeviceCodeExpired),
    t.on("auth:installation-token-cached", onInstallationTokenCached),
    t.on("auth:token-refreshed", onTokenRefreshed),
    t.on("auth:session-expired", onSessionExpired),
    t.on("auth:logout-success", onLogoutSuccess),
    t.on("auth:offline-mode-enabled", onOfflineModeEnabled),
    t.on("auth:offline-mode-disabled", onOfflineModeDisabled),
  ]);
  authState.subscribeError = null;
  for (const result of results) {
    if (result.status === "rejected") {
      authState.subscribeError = asShownError(result.reason);
      break;
    }
  }
}

/** Shows who is signed in, if anyone. Never rejects. */
async function loadSession() {
  const seq = authState.seq;
  try {
    const session = await bridge().invoke("auth:get-session", {});
    // A sign-in or sign-out event landed first: it is newer.
    if (seq !== authState.seq) return;
    authState.account = session ? accountFromSession(session) : null;
    if (session?.offline) setOffline(true, authState.offline.reason, session.installationTokenExpiresAt);
  } catch (reason) {
    if (seq !== authState.seq) return;
    authState.account = null;
    const error = asShownError(reason);
    const advice = error.code === "KEYCHAIN_UNAVAILABLE" ? " Unlock your keyring (or start a Secret Service) and reload." : "";
    showAuthNotice("warn", "GitHub sign-in could not be read", `${asSentence(error.message)}${advice}`);
  } finally {
    authState.loaded = true;
    renderAccount();
  }
}

/** Listens, shows the session, then probes the sign-in service once if signed in. Never rejects. */
async function startAuth() {
  try {
    await subscribeAuthEvents();
    await subscribePluginEvents();
  } catch (reason) {
    authState.subscribeError = asShownError(reason);
  }
  await loadSession();
  // Not awaited: a probe of an unreachable service takes the request's time limit.
  if (authState.account) void checkOffline(false);
}

function wireAuthEvents() {
  adom.signin.addEventListener("click", onSigninClick);
  adom.signout.addEventListener("click", () => void signOut());
  adom.installation.addEventListener("change", onInstallationChange);
  adom.close.addEventListener("click", () => closePanel());
  adom.dismiss.addEventListener("click", () => closePanel());
  adom.panel.addEventListener("close", onPanelClosed);
  adom.retry.addEventListener("click", () => {
    if (!adom.retry.disabled) void startLogin();
  });
  adom.noticeDismiss.addEventListener("click", hideAuthNotice);
  adom.offlineCheck.addEventListener("click", () => void checkOffline(true));
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
  dom.aboutOpen.addEventListener("click", () => void openAbout());
  wireAuthEvents();
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
  void Promise.allSettled([loadAppInfo(), loadPlugins(), startProfiles(), startAuth()]).then(() => {
    document.body.dataset.ready = "true";
  });
  // A token restored into the field (a reload) is decoded straight away.
  if (JWT_SHAPE.test(tokenFrom(dom.tokenInput.value))) void decode();
}

start();
