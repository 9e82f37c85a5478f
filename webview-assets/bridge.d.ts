// Generated from the Rust channel and event declarations (bridge/src, app/src/channels).
// Do not edit: run `just contract` after changing a declaration.
// Bridge contract version 1.11.

type AlgorithmName = "HS256" | "HS384" | "HS512" | "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "EdDSA";

type AppInfo = { 
/**
 * The app's version.
 */
version: string, 
/**
 * The bridge contract version.
 */
contractVersion: string, 
/**
 * The calling window.
 */
window: string, 
/**
 * Whether the web inspector is compiled in (debug builds only).
 */
devtools: boolean, };

type CancelledGeneration = { 
/**
 * Whether a generation was running (it answers `CANCELLED`).
 */
cancelled: boolean, };

type DecodedJwt = { 
/**
 * The header, parsed.
 */
header: Record<string, unknown>, 
/**
 * The claims, parsed.
 */
payload: Record<string, unknown>, 
/**
 * The signature segment, base64url.
 */
signature: string, 
/**
 * The header's `alg`, when it is a string.
 */
algorithm: string | null, };

type DeviceCodeExpired = { 
/**
 * The code that expired.
 */
userCode: string, 
/**
 * What happened, in a sentence for the user.
 */
message: string, 
/**
 * Always true: a new sign-in gets a new code.
 */
canRetry: boolean, };

type DiagEcho = { 
/**
 * The text sent to `diag:emit`.
 */
message: string, 
/**
 * How many echoes this run has sent.
 */
seq: number, };

type DiagEmitRequest = { 
/**
 * Text echoed back in a `diag:echo` event.
 */
message: string, };

type DownloadBody = ArrayBuffer;

type DownloadRequest = { 
/**
 * How many bytes to send.
 */
bytes: number, };

type Empty = Record<symbol, never>;

type EncryptKeyRequest = { 
/**
 * The algorithm the key is for (it is checked for it).
 */
algorithm: AlgorithmName, 
/**
 * The key: a PEM private key (RSA, EC, Ed25519) or an HMAC secret.
 */
key: SecretText, 
/**
 * How `key` is written (`text` when absent).
 */
encoding?: KeyEncoding, };

type EncryptedKey = { 
/**
 * The sealed key, for `profiles:save`.
 */
encryptedKey: string, };

type EventSubscription = { 
/**
 * A declared event name.
 */
event: keyof TollgateEvents, };

type ExpirationPreset = "1h" | "1d" | "1w" | "custom";

type ExportBundleRequest = { 
/**
 * The profiles to export; every profile when absent.
 */
profileIds?: Array<ProfileId>, 
/**
 * What the bundle is encrypted under: 12 to 1024 characters.
 */
passphrase: SecretText, };

type ExportedBundle = { 
/**
 * Whether a file was written (false: the user cancelled).
 */
saved: boolean, 
/**
 * How many profiles it holds.
 */
profiles: number, };

type Finding = { 
/**
 * What was found.
 */
code: FindingCode, 
/**
 * How serious it is.
 */
severity: FindingSeverity, 
/**
 * The top-level claim it is about, or empty for a claim that is absent.
 */
path: string, 
/**
 * One sentence for people (no control characters).
 */
message: string, };

type FindingCode = "NOT_A_NUMBER" | "WRONG_TYPE" | "EXP_IN_PAST" | "EXPIRY_TOO_LONG" | "NBF_AFTER_EXP" | "IAT_IN_FUTURE" | "MISSING_ISS" | "MISSING_AUD" | "PERSONAL_DATA";

type FindingSeverity = "error" | "warning" | "info";

type ForgetKeySetHost = { 
/**
 * A host of the list.
 */
host: string, };

type GenerateKeyRequest = { 
/**
 * The algorithm the key is for: an HMAC secret as long as its hash,
 * an RSA key for the RS and PS algorithms, P-256 for ES256, P-384 for ES384, Ed25519
 * for EdDSA.
 */
algorithm: AlgorithmName, 
/**
 * The RS and PS algorithms only: 2048 (when absent), 3072 or 4096.
 */
rsaBits?: number, };

type GenerateRequest = { 
/**
 * The profile to sign with.
 */
profileId: ProfileId, 
/**
 * One-off claims over the profile's payload (`iat` and `exp` are the
 * host's regardless).
 */
overrides?: Record<string, unknown>, };

type GeneratedKey = { 
/**
 * The new key, sealed: for `profiles:save`'s `encryptedKey`.
 */
encryptedKey: string, 
/**
 * Its public half; `null` for an HMAC secret, which has none.
 */
publicKey: PublicKeyInfo | null, };

type GeneratedToken = { 
/**
 * The token.
 */
raw: string, 
/**
 * Its header.
 */
header: Record<string, unknown>, 
/**
 * Its claims (`iat` and `exp` set by the host).
 */
payload: Record<string, unknown>, 
/**
 * The signature segment, base64url.
 */
signature: string, 
/**
 * When it was made (ISO 8601, UTC).
 */
generatedAt: string, };

type GithubUser = { 
/**
 * GitHub's numeric id.
 */
id: number, 
/**
 * The login (`octocat`).
 */
login: string, 
/**
 * The display name, if set.
 */
name: string | null, 
/**
 * The avatar's address (the page does not load it: its CSP allows
 * only the app's own images).
 */
avatarUrl: string | null, };

type ImportBundleRequest = { 
/**
 * The bundle's passphrase.
 */
passphrase: SecretText, };

type ImportKeyFileRequest = { 
/**
 * The algorithm the key is for; the file must hold a key of its type.
 */
algorithm: AlgorithmName, };

type ImportedBundle = { 
/**
 * The profiles added, in the bundle's order.
 */
imported: Array<ImportedProfile>, 
/**
 * The ones that were not, and why.
 */
skipped: Array<SkippedProfile>, };

type ImportedProfile = { 
/**
 * Its new id.
 */
id: ProfileId, 
/**
 * Its name here (with " (imported)" when the name was taken).
 */
name: string, };

type Installation = { 
/**
 * GitHub's installation id.
 */
id: number, 
/**
 * The account it is installed on.
 */
accountLogin: string, 
/**
 * `User` or `Organization`.
 */
accountType: string, };

type InstallationSelected = { 
/**
 * Which installation.
 */
installationId: number, 
/**
 * Its account.
 */
accountLogin: string, 
/**
 * When its token expires (ISO 8601).
 */
expiresAt: string, };

type InstallationTokenCached = { 
/**
 * Which installation.
 */
installationId: number, 
/**
 * Its account.
 */
accountLogin: string, 
/**
 * When the token expires (ISO 8601).
 */
expiresAt: string, };

type InvalidReason = "expired" | "not-yet-valid" | "bad-signature" | "wrong-algorithm" | "invalid-claims" | "malformed";

type JwtDecodeRequest = { 
/**
 * The token (compact JWS).
 */
token: string, };

type KeyEncoding = "text" | "base64";

type KeyFileDropped = { 
/**
 * How many files were dropped; only a drop of one is kept for
 * `keys:import-dropped`.
 */
files: number, };

type KeyGenerateProgress = { 
/**
 * The algorithm the key is for.
 */
algorithm: string, 
/**
 * How long it has taken so far, in milliseconds.
 */
elapsedMs: number, };

type KeySet = { 
/**
 * One JWK per asymmetric profile, in profile order.
 */
keys: Array<Record<string, string>>, };

type KeySetHosts = { 
/**
 * The hosts key sets may be fetched from (`host` or `host:port`), in
 * the order the user allowed them.
 */
hosts: Array<string>, };

type KeySetInvalidReason = "no-matching-key" | "expired" | "not-yet-valid" | "bad-signature" | "wrong-algorithm" | "invalid-claims" | "malformed";

type KeySetVerification = { 
/**
 * Whether a key of the set verifies the signature and the token is
 * in date.
 */
valid: boolean, 
/**
 * Why not, when not.
 */
reason: KeySetInvalidReason | null, 
/**
 * The same in a sentence, when not.
 */
message: string | null, 
/**
 * The key whose signature check passed (also when the token is out
 * of date).
 */
key: MatchedKey | null, 
/**
 * How many keys of the set were tried.
 */
keysTried: number, };

type LintClaimsRequest = { 
/**
 * The claims as the editor has them: a JSON object.
 */
claims: Record<string, unknown>, 
/**
 * The longest a token may live, in seconds (1 day when absent).
 */
maxLifetimeSeconds?: number, };

type LintReport = { 
/**
 * What the linter found, most serious first (empty when nothing).
 */
findings: Array<Finding>, };

type LoggedOut = { 
/**
 * Always true: signing out can't fail (the session is forgotten even
 * when the keychain refuses; `keychainCleared` says whether it did).
 */
success: boolean, 
/**
 * Whether a session existed.
 */
wasSignedIn: boolean, 
/**
 * Whether the keychain entry is gone (false: the keychain refused; the
 * app forgot the session anyway and says so in the log).
 */
keychainCleared: boolean, };

type LoginError = { 
/**
 * The kind.
 */
code: LoginErrorCode, 
/**
 * For the user.
 */
message: string, 
/**
 * Whether trying again may work.
 */
retryable: boolean, };

type LoginErrorCode = "NETWORK_ERROR" | "TIMEOUT" | "ACCESS_DENIED" | "RATE_LIMIT" | "UNKNOWN";

type LoginStarted = { 
/**
 * This attempt's number (a newer attempt supersedes older ones).
 */
attempt: number, };

type LoginSuccess = { 
/**
 * Who.
 */
user: GithubUser, 
/**
 * The installations to pick from.
 */
installations: Array<Installation>, };

type LogoutSuccess = { 
/**
 * Whether a session existed.
 */
wasSignedIn: boolean, };

type MatchedKey = { 
/**
 * Its `kid`, when it has one.
 */
kid: string | null, 
/**
 * Its RFC 7638 SHA-256 thumbprint, base64url.
 */
thumbprint: string, 
/**
 * The algorithm it verified (the token's, allowed by the key).
 */
algorithm: string, };

type OfflineModeDisabled = { 
/**
 * When it answered (ISO 8601).
 */
lastSuccessfulConnection: string, };

type OfflineModeEnabled = { 
/**
 * What failed, in a sentence (the same text as `message`; kept for
 * pages of contract 1.5 and before).
 */
reason: string, 
/**
 * What failed, as a code a page can branch on.
 */
reasonCode: OfflineReason, 
/**
 * What failed, in a sentence.
 */
message: string, 
/**
 * Until when the cached installation token works (ISO 8601), if any.
 */
cachedTokenExpiresAt: string | null, };

type OfflineReason = "BACKEND_UNREACHABLE" | "TIMEOUT";

type OfflineStatus = { 
/**
 * Whether the sign-in service is unreachable.
 */
isOffline: boolean, 
/**
 * Why, when it is, in a sentence (the same text as `message`).
 */
reason: string | null, 
/**
 * Why, when it is, as a code.
 */
reasonCode: OfflineReason | null, 
/**
 * Why, when it is, in a sentence.
 */
message: string | null, 
/**
 * Until when the cached installation token works (ISO 8601), if any.
 */
cachedTokenExpiresAt: string | null, 
/**
 * The last time the service answered (ISO 8601), if it has since start.
 */
lastSuccessfulConnection: string | null, };

type OpenedWindow = { 
/**
 * The window asked for.
 */
window: TollgateWindow, 
/**
 * Whether the window adapter took the request (false when the host
 * runs without a window: tests, the CLI).
 */
requested: boolean, };

type PluginImport = { 
/**
 * The import's full name.
 */
name: string, 
/**
 * `host-interface`, `capability-less` or `refused`.
 */
decision: string, 
/**
 * What the guest gets.
 */
detail: string, };

type PluginIsolation = "in-process" | "worker";

type PluginList = { 
/**
 * Installed plugins.
 */
plugins: Array<PluginSummary>, };

type PluginReloadFailed = { 
/**
 * The package directory.
 */
package: string, 
/**
 * The refusal's stable code (`PLUGIN_INTEGRITY_MISMATCH`, `PLUGIN_IMPORT_REFUSED`, ...).
 */
code: string, 
/**
 * What was wrong, and with what.
 */
message: string, };

type PluginReloaded = { 
/**
 * Manifest name.
 */
name: string, 
/**
 * Its world.
 */
world: string, 
/**
 * The component's SHA-256.
 */
sha256: string, 
/**
 * Load time (compile, link, checks), in milliseconds.
 */
tookMs: number, };

type PluginSummary = { 
/**
 * Manifest name.
 */
name: string, 
/**
 * Manifest version.
 */
version: string, 
/**
 * World it implements.
 */
world: string, 
/**
 * Where it came from (`built-in`).
 */
source: string, 
/**
 * The component's SHA-256 (lowercase hex): what quarantine knows it by.
 */
sha256: string, 
/**
 * Why the host refuses it keys, if it does (see `plugins:trust`).
 */
quarantine: QuarantineEntry | null, 
/**
 * Where its guest code runs.
 */
isolation: PluginIsolation, 
/**
 * Every import and the host's decision.
 */
imports: Array<PluginImport>, };

type PluginTrustAnswer = { 
/**
 * Whether the user said yes in the host's dialog (and the entry is gone).
 */
trusted: boolean, 
/**
 * The plugins, as `plugins:list` shows them now.
 */
plugins: Array<PluginSummary>, };

type PluginTrustRequest = { 
/**
 * The quarantined component's SHA-256, lowercase hex (from `plugins:list`).
 */
sha256: string, };

type Profile = { 
/**
 * Chosen by the host at creation.
 */
id: ProfileId, 
/**
 * 1-50 characters, trimmed, unique without case.
 */
name: string, 
/**
 * One the signer supports.
 */
algorithm: AlgorithmName, 
/**
 * The key, sealed (`crypto:encrypt`).
 */
encryptedKey: string, 
/**
 * The claims every token of this profile starts from.
 */
payload: Record<string, unknown>, 
/**
 * How long its tokens live.
 */
expirationPreset: ExpirationPreset, 
/**
 * When its tokens expire, for the `custom` preset (else null).
 */
customExpiration: string | null, 
/**
 * The `kid` its tokens carry; null: the key's RFC 7638 thumbprint for
 * an RSA, EC or Ed25519 key, none for HMAC. Also the kid of its JWK.
 */
kid: string | null, 
/**
 * The `typ` its tokens carry; null: `JWT`.
 */
typ: string | null, 
/**
 * Since schema 3: custom header fields its tokens carry after `kid`,
 * in name order (the rules of `jwt::ExtraHeader`: at most 16, no
 * registered JOSE name, 2 KiB in all).
 */
headerFields: Record<string, unknown>, 
/**
 * When it was created (ISO 8601, UTC).
 */
createdAt: string, 
/**
 * When it was last saved (ISO 8601, UTC).
 */
updatedAt: string, };

type ProfileDeleted = { 
/**
 * The deleted profile's id.
 */
id: ProfileId, 
/**
 * The same id, under the name the JWT generator contract gives it.
 */
deletedId: ProfileId, 
/**
 * Whether `settings.lastSelectedProfileId` pointed at it and was cleared.
 */
lastSelectedCleared: boolean, };

type ProfileId = string;

type ProfileInput = { 
/**
 * The profile to update; absent to create one.
 */
id?: ProfileId, 
/**
 * 1-50 characters after trimming, unique without case.
 */
name: string, 
/**
 * One the signer supports.
 */
algorithm: AlgorithmName, 
/**
 * From `crypto:encrypt` (for this algorithm), or the profile's own.
 */
encryptedKey: string, 
/**
 * The claims: a JSON object under 64 KiB serialized.
 */
payload: Record<string, unknown>, 
/**
 * `1h`, `1d`, `1w` or `custom`.
 */
expirationPreset: ExpirationPreset, 
/**
 * ISO 8601 with a time zone, in the future; required for `custom`.
 */
customExpiration?: string | null, 
/**
 * Since 1.10: the tokens' `kid` (printable ASCII, at most 256 bytes);
 * `null` for the default (the key's thumbprint; none for HMAC);
 * absent keeps what the profile has.
 */
kid?: string | null, 
/**
 * Since 1.10: the tokens' `typ` (printable ASCII, at most 64 bytes);
 * `null` for `JWT`; absent keeps what the profile has.
 */
typ?: string | null, 
/**
 * Since 1.11: the tokens' custom header fields (a JSON object, at
 * most 16 fields and 2 KiB; no registered JOSE name such as `alg`,
 * `crit`, `b64`, `jku`, `x5c`); `{}` for none; absent keeps what the
 * profile has.
 */
headerFields?: Record<string, unknown>, };

type ProfileList = { 
/**
 * Every profile, in creation order.
 */
profiles: Array<Profile>, };

type ProfilePublicKey = { 
/**
 * The profile.
 */
id: ProfileId, 
/**
 * Its key's public half.
 */
publicKey: PublicKeyInfo, };

type ProfileRef = { 
/**
 * The profile's id.
 */
id: ProfileId, };

type PublicKeyInfo = { 
/**
 * The JWK: `kty` and its members, `alg`, `use: "sig"`, `kid` (the
 * thumbprint).
 */
jwk: Record<string, string>, 
/**
 * SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
 */
pem: string, 
/**
 * RFC 7638 SHA-256 thumbprint of the JWK, base64url.
 */
thumbprint: string, };

type QuarantineEntry = { 
/**
 * The component's SHA-256, lowercase hex.
 */
sha256: string, 
/**
 * The plugin's name from its manifest.
 */
plugin: string, 
/**
 * The export whose call failed (`sign`, `verify`).
 */
function: string, 
/**
 * What the host saw, in the host's words (never the guest's).
 */
reason: string, 
/**
 * When, in seconds since the Unix epoch.
 */
since: number, };

type SavedKeySet = { 
/**
 * Whether a file was written (false: the user cancelled).
 */
saved: boolean, 
/**
 * How many keys the set holds.
 */
keys: number, };

type SecretText = string;

type SelectInstallationRequest = { 
/**
 * One of the signed-in user's installations.
 */
installationId: number, };

type SessionExpired = { 
/**
 * Why.
 */
reason: string, };

type SessionView = { 
/**
 * Who is signed in.
 */
user: GithubUser, 
/**
 * The installations they can pick.
 */
installations: Array<Installation>, 
/**
 * The picked one.
 */
currentInstallation: Installation | null, 
/**
 * When its cached token expires (ISO 8601), if one is cached.
 */
installationTokenExpiresAt: string | null, 
/**
 * When the session ends (ISO 8601).
 */
sessionExpiresAt: string, 
/**
 * Whether the sign-in service is unreachable right now.
 */
offline: boolean, };

type Settings = { 
/**
 * The profile selected when the app was last used.
 */
lastSelectedProfileId: ProfileId | null, 
/**
 * The theme.
 */
theme: Theme, 
/**
 * The window's last bounds.
 */
windowBounds: WindowBounds | null, 
/**
 * The settings format version.
 */
version: number, };

type SettingsUpdate = { 
/**
 * A profile id, or null to clear.
 */
lastSelectedProfileId?: ProfileId | null, 
/**
 * The theme.
 */
theme?: Theme, 
/**
 * Bounds, or null to forget them.
 */
windowBounds?: WindowBounds | null, 
/**
 * The settings format version the page read.
 */
version?: number, };

type SkippedProfile = { 
/**
 * Its name in the bundle.
 */
name: string, 
/**
 * Why not, in a sentence.
 */
reason: string, };

type Theme = "light" | "dark";

type TokenRefreshed = { 
/**
 * Which installation.
 */
installationId: number, 
/**
 * The new token's expiry (ISO 8601).
 */
expiresAt: string, 
/**
 * Whether other callers asked for a refresh while this one ran and
 * shared it (one backend call for all of them).
 */
deduplicated: boolean, 
/**
 * How many callers shared it, this one included.
 */
callers: number, };

type TollgateErrorCode = "VALIDATION_ERROR" | "NOT_FOUND" | "RATE_LIMITED" | "PAYLOAD_TOO_LARGE" | "IPC_FORBIDDEN" | "IPC_UNAUTHORIZED" | "UNKNOWN_CHANNEL" | "REPLAYED_REQUEST" | "INTERNAL_ERROR" | "PLUGIN_ERROR" | "INVALID_TOKEN" | "LOAD_FAILED" | "PARSE_ERROR" | "DUPLICATE_NAME" | "PROFILE_LIMIT_REACHED" | "SAVE_FAILED" | "DELETE_FAILED" | "INVALID_INPUT" | "ENCRYPTION_FAILED" | "DECRYPTION_FAILED" | "KEYCHAIN_UNAVAILABLE" | "SIGNING_FAILED" | "PLUGIN_QUARANTINED" | "UNAUTHORIZED" | "INVALID_INSTALLATION" | "NETWORK_ERROR" | "TIMEOUT" | "BACKEND_ERROR" | "CANCELLED";

type TollgateWindow = "main" | "about";

type UploadBody = ArrayBuffer | Uint8Array;

type UploadReceipt = { 
/**
 * Bytes received.
 */
bytes: number, 
/**
 * Their SHA-256, hex.
 */
sha256: string, };

type UserCode = { 
/**
 * What the user types.
 */
userCode: string, 
/**
 * Where (checked: https on an allowed host).
 */
verificationUri: string, 
/**
 * Seconds the code lives.
 */
expiresIn: number, 
/**
 * When it expires (ISO 8601), for the countdown.
 */
expiresAt: string, 
/**
 * Whether the host opened the address in the system browser.
 */
browserOpened: boolean, };

type Verification = { 
/**
 * Whether the token verifies under the profile's key and is in date.
 */
valid: boolean, 
/**
 * Why not, when not.
 */
reason: InvalidReason | null, 
/**
 * The same in a sentence, when not.
 */
message: string | null, };

type VerifyKeySetFileRequest = { 
/**
 * The token (compact JWS).
 */
token: string, };

type VerifyKeySetRequest = { 
/**
 * The token (compact JWS).
 */
token: string, 
/**
 * A JSON Web Key Set (`{"keys": [...]}`), as text: public keys only.
 */
keySet: string, };

type VerifyKeySetUrlRequest = { 
/**
 * The token (compact JWS).
 */
token: string, 
/**
 * Where the key set is: https (http only to this machine).
 */
url: string, };

type VerifyRequest = { 
/**
 * The token (compact JWS).
 */
token: string, 
/**
 * The profile whose key and algorithm it must verify under.
 */
profileId: ProfileId, };

type WindowBounds = { 
/**
 * Left edge.
 */
x: number, 
/**
 * Top edge.
 */
y: number, 
/**
 * Width.
 */
width: number, 
/**
 * Height.
 */
height: number, };

interface TollgateChannels {
  /** Answers {}; measures the bridge itself. */
  "app:ping": { request: Empty, response: Empty };
  /** Subscribes this window to a declared event. */
  "events:subscribe": { request: EventSubscription, response: Empty };
  /** Ends this window's subscription to an event. */
  "events:unsubscribe": { request: EventSubscription, response: Empty };
  /** The app's version and contract version. */
  "app:info": { request: Empty, response: AppInfo };
  /** Opens the about window (or brings it to the front). */
  "app:open-about": { request: Empty, response: OpenedWindow };
  /** Installed plugins and what each may import. */
  "plugins:list": { request: Empty, response: PluginList };
  /** Asks the user, in a host dialog, to trust a quarantined plugin again. */
  "plugins:trust": { request: PluginTrustRequest, response: PluginTrustAnswer };
  /** Decodes a token for display, inside the jwt-signer guest (nothing is verified). */
  "jwt:decode": { request: JwtDecodeRequest, response: DecodedJwt };
  /** Sends a diag:echo event to every subscribed window (diagnostics). */
  "diag:emit": { request: DiagEmitRequest, response: Empty };
  /** Every signing profile (keys sealed). */
  "profiles:load": { request: Empty, response: ProfileList };
  /** One signing profile (key sealed). */
  "profiles:get": { request: ProfileRef, response: Profile };
  /** Creates (no id) or updates a signing profile; answers it as stored. */
  "profiles:save": { request: ProfileInput, response: Profile };
  /** Deletes a signing profile (and forgets it as the last selected one). */
  "profiles:delete": { request: ProfileRef, response: ProfileDeleted };
  /** Checks a key for its algorithm and seals it under this install's master key. */
  "crypto:encrypt": { request: EncryptKeyRequest, response: EncryptedKey };
  /** Signs a token with a profile's key, inside the jwt-signer guest, verified by the host. */
  "jwt:generate": { request: GenerateRequest, response: GeneratedToken };
  /** Verifies a token under a profile's key and algorithm: valid, or why not. */
  "jwt:verify": { request: VerifyRequest, response: Verification };
  /** Verifies a token against a JSON Web Key Set: the token's kid picks the key, the key its algorithm; says which key matched. */
  "jwt:verify-key-set": { request: VerifyKeySetRequest, response: KeySetVerification };
  /** Opens the host's file dialog (only right after a click or key press in the window) for a JWKS file and verifies the token against it as jwt:verify-key-set does; null if cancelled. The page never learns the file's path. */
  "jwt:verify-key-set-file": { request: VerifyKeySetFileRequest, response: KeySetVerification | null };
  /** Fetches the key set at an https URL (only from hosts the user allowed in the host's own dialog, asked on first use right after a click) and verifies the token against it as jwt:verify-key-set does; null if the user did not allow the host. */
  "jwt:verify-key-set-url": { request: VerifyKeySetUrlRequest, response: KeySetVerification | null };
  /** The hosts key sets may be fetched from. */
  "jwt:key-set-hosts": { request: Empty, response: KeySetHosts };
  /** Takes a host off the list key sets may be fetched from (adding one takes the user's answer in the host's dialog). */
  "jwt:forget-key-set-host": { request: ForgetKeySetHost, response: KeySetHosts };
  /** The app's settings (defaults when none are saved). */
  "settings:get": { request: Empty, response: Settings };
  /** Changes the settings sent (absent fields keep their value); answers them all. */
  "settings:save": { request: SettingsUpdate, response: Settings };
  /** Starts a GitHub device-flow sign-in; progress comes as auth:* events (one attempt per 10 s). */
  "auth:github-login": { request: Empty, response: LoginStarted };
  /** The signed-in user, installations and token expiry (no token), or null. */
  "auth:get-session": { request: Empty, response: SessionView | null };
  /** Picks one of the user's installations and caches its token in the keychain. */
  "auth:select-installation": { request: SelectInstallationRequest, response: InstallationSelected };
  /** Signs out: deletes the session and cached tokens, tells the service without waiting. */
  "auth:logout": { request: Empty, response: LoggedOut };
  /** Probes the sign-in service: offline or not, why, and until when the cached token works. */
  "auth:check-offline-status": { request: Empty, response: OfflineStatus };
  /** Lints a profile's claims inside the claims-linter guest: lifetime, audience, issuer, personal data. */
  "lint:claims": { request: LintClaimsRequest, response: LintReport };
  /** Generates a key for an algorithm in the host and seals it; answers the sealed key and the public half. Announces keys:generate-progress while it runs; keys:cancel-generate stops it. */
  "keys:generate": { request: GenerateKeyRequest, response: GeneratedKey };
  /** Cancels the keys:generate in progress: it answers CANCELLED at once; the key being made is discarded. */
  "keys:cancel-generate": { request: Empty, response: CancelledGeneration };
  /** A profile's public key (JWK, PEM, thumbprint); refused for HMAC profiles. */
  "keys:public": { request: ProfileRef, response: ProfilePublicKey };
  /** A JWKS of every profile with an asymmetric key. */
  "keys:jwks": { request: Empty, response: KeySet };
  /** Opens the host's file dialog (only right after a click or key press in the window); reads the key file the user picks (PEM, DER or JWK), checks it for the algorithm and seals it. Answers the sealed key and the public half, or null if cancelled; never the file's path or bytes. */
  "keys:import-file": { request: ImportKeyFileRequest, response: GeneratedKey | null };
  /** Reads the key file the user dropped on the window (at most 60 s ago, once), checks it for the algorithm and seals it, as keys:import-file does; null when there is none. */
  "keys:import-dropped": { request: ImportKeyFileRequest, response: GeneratedKey | null };
  /** Opens the host's save dialog (only right after a click or key press in the window) and writes the JWKS of every asymmetric profile where the user says; the page never learns where. */
  "keys:save-jwks": { request: Empty, response: SavedKeySet };
  /** Writes the profiles (every one, or those named) with their keys to a file the user picks in the host's save dialog, encrypted under the passphrase (Argon2id, XChaCha20-Poly1305). */
  "profiles:export-bundle": { request: ExportBundleRequest, response: ExportedBundle };
  /** Reads a profile bundle the user picks in the host's file dialog, opens it with the passphrase, checks each key and adds its profiles under this machine's master key; null if cancelled. */
  "profiles:import-bundle": { request: ImportBundleRequest, response: ImportedBundle | null };
}

interface TollgateUploadChannels {
  /** Receives raw bytes and answers their size and SHA-256 (diagnostics, benchmarks). */
  "diag:upload": { response: UploadReceipt };
}

interface TollgateDownloadChannels {
  /** Sends the number of bytes asked for (diagnostics, benchmarks). */
  "diag:download": { request: DownloadRequest };
}

interface TollgateEvents {
  /** Answer to diag:emit (diagnostics). */
  "diag:echo": DiagEcho;
  /** A rebuilt dev plugin was swapped in (--dev-plugin). */
  "plugins:reloaded": PluginReloaded;
  /** A rebuilt dev plugin was refused; the previous one keeps serving. */
  "plugins:reload-failed": PluginReloadFailed;
  /** The user dropped files on the window; the host holds one for keys:import-dropped (the page never gets the file). */
  "keys:file-dropped": KeyFileDropped;
  /** A keys:generate still running (an RSA key takes seconds), every 500 ms. */
  "keys:generate-progress": KeyGenerateProgress;
  /** A code to enter at the verification address, with its lifetime. */
  "auth:user-code": UserCode;
  /** Signed in: the user and their installations. */
  "auth:login-success": LoginSuccess;
  /** A sign-in attempt failed: code, message, whether to retry. */
  "auth:login-error": LoginError;
  /** The code's lifetime ran out before approval. */
  "auth:device-code-expired": DeviceCodeExpired;
  /** An installation token was fetched and stored (its expiry, not the token). */
  "auth:installation-token-cached": InstallationTokenCached;
  /** The installation token was refreshed (shared by concurrent callers). */
  "auth:token-refreshed": TokenRefreshed;
  /** Signed out because the session could not be renewed. */
  "auth:session-expired": SessionExpired;
  /** Signed out (sent even when the service is unreachable). */
  "auth:logout-success": LogoutSuccess;
  /** The sign-in service is unreachable. */
  "auth:offline-mode-enabled": OfflineModeEnabled;
  /** The sign-in service answers again. */
  "auth:offline-mode-disabled": OfflineModeDisabled;
}

/** How every failed call rejects. */
interface TollgateError {
  readonly code: TollgateErrorCode;
  readonly message: string;
  readonly details: unknown;
  readonly requestId: string | null;
}

interface TollgateBridge {
  /** Calls a declared channel; rejects with a TollgateError. */
  invoke<C extends keyof TollgateChannels>(channel: C, request: TollgateChannels[C]["request"]): Promise<TollgateChannels[C]["response"]>;
  /** Subscribes to a declared event; resolves to a function that unsubscribes. */
  on<E extends keyof TollgateEvents>(event: E, listener: (payload: TollgateEvents[E]) => void): Promise<() => Promise<void>>;
  /** Sends raw bytes to a binary upload channel (no base64, no JSON). */
  upload<C extends keyof TollgateUploadChannels>(channel: C, body: ArrayBuffer | Uint8Array): Promise<TollgateUploadChannels[C]["response"]>;
  /** Fetches raw bytes from a binary download channel. */
  download<C extends keyof TollgateDownloadChannels>(channel: C, request: TollgateDownloadChannels[C]["request"]): Promise<ArrayBuffer>;
}

interface Window { readonly tollgate: TollgateBridge }
declare const tollgate: TollgateBridge;
