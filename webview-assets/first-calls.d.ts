// The page's first calls (first-calls.js), made before its modules load.
// Written by hand: this is the page's own, not the host's contract.

/** The channels first-calls.js calls before the modules load. */
type FirstCallChannel = "app:info" | "settings:get" | "profiles:load" | "jwt:key-set-hosts";

interface TollgateFirstCalls {
  /** The call made for `channel` while the page loaded, once; then `undefined`. */
  take<C extends FirstCallChannel>(channel: C): Promise<TollgateChannels[C]["response"]> | undefined;
}

interface Window { readonly tollgateFirstCalls?: TollgateFirstCalls }
declare const tollgateFirstCalls: TollgateFirstCalls | undefined;
