// @ts-check
/**
 * The plugins card: `plugins:list` with each guest's imports and what the
 * host decided for them, quarantined plugins and `plugins:trust`, and the
 * dev reload notes (`plugins:reloaded`, `plugins:reload-failed`).
 *
 * Does not trust: plugin metadata (names, worlds, sources, import details
 * and quarantine reasons come from guests and their files); all of it
 * reaches the DOM as text.
 */
import { asShownError, bridge } from "./bridge.js";
import { byId, h, icon, ICON_ALERT } from "./dom.js";
/** @import { ShownError } from "./bridge.js" */

/** Orders import badges: what the world declares, then what is linked harmless, then refusals. */
const DECISION_ORDER = ["host-interface", "capability-less", "refused"];

const dom = {
  pluginsList: byId("plugins-list", HTMLUListElement),
  pluginsCount: byId("plugins-count", HTMLElement),
};

/** Shows `plugins:list`. Never rejects. */
export async function loadPlugins() {
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
export async function subscribePluginEvents() {
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
  const runs = plugin.isolation === "worker" ? "Worker process (seccomp)" : "In the app";
  meta.append(
    h("dt", "", "World"), wrapIn("dd", world),
    h("dt", "", "Source"), wrapIn("dd", source),
    h("dt", "", "Runs"), h("dd", "plugin-isolation", runs),
  );

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
