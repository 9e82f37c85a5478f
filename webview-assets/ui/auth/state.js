// @ts-check
/**
 * What the page knows about GitHub sign-in: the account as the host last
 * described it, where a sign-in attempt stands, whether the sign-in service
 * can be reached, and the timers and sequence number that drop stale
 * answers. Only the modules under auth/ (and auth.js) read or write it.
 */
/** @import { ShownError } from "../bridge.js" */

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

export const authState = {
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
