// @ts-check
/**
 * The page's first calls, made while the document is still being parsed.
 *
 * A classic script, first in <head>: it runs as soon as it arrives, before
 * the stylesheets and the 35 modules are fetched and compiled, which takes
 * this page ~150 ms more (docs/benchmarks.md, "Cold start"). The calls
 * whose answers the first screen needs go out now and are answered while
 * that happens; the modules take each answer once through `firstCall` in
 * ui/bridge.js, and make every later call themselves.
 *
 * Only calls that nothing else updates before the modules subscribe to
 * events are made here: the app's version, the settings, the profiles and
 * the key set hosts change only when this page asks. The plugins list (dev
 * reload events) and the sign-in session (auth events) are left to their
 * modules, which subscribe first.
 *
 * The one thing this page puts on `window`: `tollgateFirstCalls`, frozen,
 * not writable, whose `take` hands out each promise once. Page script can
 * already make the same calls, so it learns nothing new from them.
 */
(() => {
  "use strict";
  if (typeof tollgate === "undefined") return;
  /** @type {Map<FirstCallChannel, Promise<unknown>>} */
  const calls = new Map();
  /** @type {FirstCallChannel[]} */
  const channels = ["app:info", "settings:get", "profiles:load", "jwt:key-set-hosts"];
  for (const channel of channels) {
    const call = tollgate.invoke(channel, {});
    // The module that takes it handles a rejection; one nobody takes
    // (a module that failed to load) must not be reported as unhandled.
    call.catch(() => {});
    calls.set(channel, call);
  }
  /** @type {TollgateFirstCalls["take"]} */
  const take = (channel) => {
    const call = calls.get(channel);
    calls.delete(channel);
    return /** @type {any} */ (call);
  };
  Object.defineProperty(window, "tollgateFirstCalls", { value: Object.freeze({ take }) });
})();
