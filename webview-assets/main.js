// @ts-check
/**
 * The Tollgate window's page: shows the host's version, the loaded plugins
 * and their import decisions, and decodes tokens through `jwt:decode`;
 * keeps signing profiles and signs with them; signs in to GitHub (the host
 * runs the device flow; the page never sees a token).
 *
 * Trusts: the `tollgate` bridge the host injects before any module runs.
 * Does not trust: token contents and anything the host echoes from them or
 * from plugin metadata. All of it reaches the DOM through `textContent` and
 * `createElement` only; nothing here parses HTML.
 *
 * Native ES modules, served from the binary as they are (no bundler). This
 * entry point starts the page; the modules:
 *
 * - ui/dom.js: byId, h (elements with text) and icon; the Tone type.
 * - ui/bridge.js: the injected bridge, or a rejection in its error shape;
 *   asShownError, the one shape every error is shown in.
 * - ui/theme.js: the theme choice in page storage and on <html> (shared
 *   with about.js).
 * - ui/header.js: the status pill (app:info), the about button and the
 *   theme toggle.
 * - ui/plugins.js: the plugins card (plugins:list, plugins:trust, dev
 *   reload notes).
 * - ui/decode.js: the decoder card (jwt:decode as you type); with
 *   ui/decode/claim-times.js (exp, nbf, iat and the time window),
 *   ui/decode/sample-token.js (Try a sample) and ui/decode/key-set.js
 *   (Verify against a key set: jwt:verify-key-set).
 * - ui/json-view.js: pretty-printed, highlighted JSON.
 * - ui/time-format.js: durations, local dates, the relative-time refresh.
 * - ui/error-banner.js: the error banners with advice.
 * - ui/copy.js: the copy buttons.
 * - ui/profiles.js: the signing profiles card, started and wired; its parts
 *   in ui/profiles/: elements.js, state.js, form.js (fields, checks, dirty
 *   and button state), list.js (load, search, keyboard, select), editor.js
 *   (a profile in the editor; discard prompt), save.js (Save, Delete),
 *   lint.js (claims findings), generate.js (Generate, Verify, Open in
 *   decoder), advice.js (what to say about an error).
 * - ui/auth.js: GitHub sign-in, started and wired; its parts in ui/auth/:
 *   elements.js, state.js, account.js (the header's account and
 *   installation picker; sign-out), panel.js (the sign-in panel and its
 *   countdown), events.js (the auth:* events), notices.js, offline.js,
 *   format.js (times and names in words).
 *
 * Each card's state lives in the module that owns it (profiles/state.js,
 * auth/state.js, decode.js); nothing is put on window. (first-calls.js,
 * which runs before this, puts one frozen object there: the first screen's
 * calls, made while the page loads, that ui/bridge.js firstCall takes.)
 */
import { startAuth, wireAuthEvents } from "./ui/auth.js";
import { wireCopyButtons } from "./ui/copy.js";
import { decodeRestoredToken, showDecodeView, wireDecodeEvents } from "./ui/decode.js";
import { applyTheme, loadAppInfo, wireHeaderEvents } from "./ui/header.js";
import { loadPlugins, subscribePluginEvents } from "./ui/plugins.js";
import { startProfiles, wireProfileEvents } from "./ui/profiles.js";
import { initialTheme } from "./ui/theme.js";

function start() {
  applyTheme(initialTheme());
  wireDecodeEvents();
  wireHeaderEvents();
  wireAuthEvents();
  wireCopyButtons();
  wireProfileEvents();
  showDecodeView("empty");
  // Tests wait on data-ready: set it once the first calls settled, either way.
  void Promise.allSettled([loadAppInfo(), loadPlugins(), startProfiles(), startAuth(subscribePluginEvents)]).then(() => {
    document.body.dataset.ready = "true";
  });
  // A token restored into the field (a reload) is decoded straight away.
  decodeRestoredToken();
}

start();
