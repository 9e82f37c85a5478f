// @ts-check
/**
 * What the profiles card knows between events: the profiles as loaded, the
 * one in the editor, whether the keychain works, the token on screen, and
 * the timers and sequence numbers that drop stale answers. Only the modules
 * under profiles/ (and profiles.js) read or write it.
 */

export const profileState = {
  /** @type {Profile[]} */
  profiles: [],
  /** The profile in the editor, or null for a new one. @type {Profile | null} */
  selected: null,
  /** Whether the key field replaces the stored key. */
  replacingKey: false,
  /** A key the host generated or read from a file for the editor (sealed; the page never sees it), for the algorithm it was made for. @type {{ algorithm: string, encryptedKey: string, publicKey: PublicKeyInfo | null, source: "generated" | "imported" } | null} */
  madeKey: null,
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
