// Generated from the Rust channel and event declarations (host/src/bridge, host/src/app).
// Do not edit: run `just contract` after changing a declaration.
// Bridge contract version 1.0.

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

type EventSubscription = { 
/**
 * A declared event name.
 */
event: keyof TollgateEvents, };

type JwtDecodeRequest = { 
/**
 * The token (compact JWS).
 */
token: string, };

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

type TollgateErrorCode = "VALIDATION_ERROR" | "NOT_FOUND" | "RATE_LIMITED" | "PAYLOAD_TOO_LARGE" | "IPC_FORBIDDEN" | "IPC_UNAUTHORIZED" | "UNKNOWN_CHANNEL" | "REPLAYED_REQUEST" | "INTERNAL_ERROR" | "PLUGIN_ERROR" | "INVALID_TOKEN";

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
