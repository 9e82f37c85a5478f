// @ts-check
/**
 * The thin wrapper around the `tollgate` bridge the host injects before any
 * module runs: the bridge itself, or a rejection in the bridge's own error
 * shape when the page was opened outside the host; and the one shape every
 * error is shown in.
 *
 * Trusts: the injected bridge (its type is `TollgateBridge` in
 * bridge.d.ts, generated from the host's declarations). Does not trust a
 * rejection's contents: they are checked to be strings before they are shown.
 */

/**
 * An error as shown: a bridge rejection, or anything else normalized to the
 * same shape. `code` stays a plain string so a code this page doesn't know
 * yet still shows as the host sent it.
 * @typedef {{ code: string, message: string, details: unknown, requestId: string }} ShownError
 */

/**
 * The injected bridge, or a rejection in the bridge's own error shape when
 * the page was opened outside the host.
 * @returns {TollgateBridge}
 */
export function bridge() {
  if (typeof tollgate === "undefined") {
    throw { code: "INTERNAL_ERROR", message: "the host bridge is not available", details: null, requestId: "" };
  }
  return tollgate;
}

/**
 * The answer to one of the page's first calls: the call first-calls.js made
 * while the page was still loading, taken once; or, when that script did
 * not run or its answer was already taken, the same call made now.
 * @template {FirstCallChannel} C
 * @param {C} channel
 * @returns {Promise<TollgateChannels[C]["response"]>}
 */
export function firstCall(channel) {
  const early = typeof tollgateFirstCalls === "undefined" ? undefined : tollgateFirstCalls.take(channel);
  return early ?? bridge().invoke(channel, /** @type {TollgateChannels[C]["request"]} */ ({}));
}

/**
 * Normalizes a rejection. Bridge calls reject with a TollgateError; anything
 * else (a missing bridge, a bug here) is shown the same way.
 * @param {unknown} reason
 * @returns {ShownError}
 */
export function asShownError(reason) {
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
