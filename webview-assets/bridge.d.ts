// Generated from the Rust channel and event declarations (host/src/bridge, host/src/app).
// Do not edit: run `just contract` after changing a declaration.
// Bridge contract version 1.1.

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

type InvalidReason = "expired" | "not-yet-valid" | "bad-signature" | "wrong-algorithm" | "invalid-claims" | "malformed";

type JwtDecodeRequest = { 
/**
 * The token (compact JWS).
 */
token: string, };

type KeyEncoding = "text" | "base64";

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

type PluginList = { 
/**
 * Installed plugins.
 */
plugins: Array<PluginSummary>, };

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
 * Every import and the host's decision.
 */
imports: Array<PluginImport>, };

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
customExpiration?: string | null, };

type ProfileList = { 
/**
 * Every profile, in creation order.
 */
profiles: Array<Profile>, };

type ProfileRef = { 
/**
 * The profile's id.
 */
id: ProfileId, };

type SecretText = string;

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

type Theme = "light" | "dark";

type TollgateErrorCode = "VALIDATION_ERROR" | "NOT_FOUND" | "RATE_LIMITED" | "PAYLOAD_TOO_LARGE" | "IPC_FORBIDDEN" | "IPC_UNAUTHORIZED" | "UNKNOWN_CHANNEL" | "REPLAYED_REQUEST" | "INTERNAL_ERROR" | "PLUGIN_ERROR" | "INVALID_TOKEN" | "LOAD_FAILED" | "PARSE_ERROR" | "DUPLICATE_NAME" | "PROFILE_LIMIT_REACHED" | "SAVE_FAILED" | "DELETE_FAILED" | "INVALID_INPUT" | "ENCRYPTION_FAILED" | "DECRYPTION_FAILED" | "KEYCHAIN_UNAVAILABLE" | "SIGNING_FAILED";

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
  /** Installed plugins and what each may import. */
  "plugins:list": { request: Empty, response: PluginList };
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
  /** The app's settings (defaults when none are saved). */
  "settings:get": { request: Empty, response: Settings };
  /** Changes the settings sent (absent fields keep their value); answers them all. */
  "settings:save": { request: SettingsUpdate, response: Settings };
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
