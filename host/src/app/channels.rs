//! The app's channels and events: one declaration each, handlers beside
//! them. The bridge's own channels (ping, event subscription) are in
//! `crate::bridge::channels`.

// Channels by namespace, one module each (issue 16: a channel's handler
// is found by its channel's name). `auth:*` and `lint:*` have moved here;
// the rest of this file and `profile_channels.rs` are still to be split.
pub mod auth;
pub mod lint;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::app::services::AppServices;
use crate::bridge::channels::{ALL_WINDOWS, CONTRACT_VERSION, Empty, MAIN_ONLY, SMALL_REQUEST_BYTES};
use crate::bridge::events::{Event, EventHub};
use crate::bridge::registry::{
    Body, Channel, ChannelRegistry, ChannelSpec, Direction, DownloadBody, Execution, Quota, RegistryError, UploadBody,
};
use crate::bridge::{BridgeError, ErrorCode, WindowLabel};
use crate::jwt::JwtError;
use crate::store::plugin_quarantine::QuarantineEntry;

/// Largest token `jwt:decode` accepts. Real tokens are a few KiB; this
/// bounds what page script can make the guest parse.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Largest body on the diagnostics binary paths (the 1 MiB benchmarks fit
/// with room).
pub const MAX_DIAG_BYTES: usize = 8 * 1024 * 1024;

const READ: ChannelSpec = ChannelSpec {
    name: "",
    summary: "",
    direction: Direction::WebviewToHost,
    windows: MAIN_ONLY,
    max_payload_bytes: SMALL_REQUEST_BYTES,
    quota: Quota { per_second: 20, burst: 20 },
    since: "1.0",
    deprecated: None,
    state_changing: false,
    execution: Execution::Inline,
    body: Body::Json,
};

/// `app:info` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// The bridge contract version.
    pub contract_version: String,
    /// The calling window.
    pub window: String,
    /// Whether the web inspector is compiled in (debug builds only).
    pub devtools: bool,
}

/// `app:info`.
pub struct Info;
impl Channel for Info {
    type Request = Empty;
    type Response = AppInfo;
    const SPEC: ChannelSpec =
        ChannelSpec { name: "app:info", summary: "The app's version and contract version.", windows: ALL_WINDOWS, ..READ };
}

/// `app:open-about` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OpenedWindow {
    /// The window asked for.
    pub window: WindowLabel,
    /// Whether the window adapter took the request (false when the host
    /// runs without a window: tests, the CLI).
    pub requested: bool,
}

/// `app:open-about`: the one way a page gets a second window. The host
/// opens its own about page in it (or brings it to the front), with its own
/// secret and only the channels the about window may call.
pub struct OpenAbout;
impl Channel for OpenAbout {
    type Request = Empty;
    type Response = OpenedWindow;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "app:open-about",
        summary: "Opens the about window (or brings it to the front).",
        quota: Quota { per_second: 2, burst: 3 },
        since: "1.4",
        ..READ
    };
}

/// One import of a plugin and the host's decision on it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginImport {
    /// The import's full name.
    pub name: String,
    /// `host-interface`, `capability-less` or `refused`.
    pub decision: String,
    /// What the guest gets.
    pub detail: String,
}

/// A plugin as `plugins:list` shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginSummary {
    /// Manifest name.
    pub name: String,
    /// Manifest version.
    pub version: String,
    /// World it implements.
    pub world: String,
    /// Where it came from (`built-in`).
    pub source: String,
    /// The component's SHA-256 (lowercase hex): what quarantine knows it by.
    pub sha256: String,
    /// Why the host refuses it keys, if it does (see `plugins:trust`).
    pub quarantine: Option<QuarantineEntry>,
    /// Every import and the host's decision.
    pub imports: Vec<PluginImport>,
}

/// `plugins:list` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginList {
    /// Installed plugins.
    pub plugins: Vec<PluginSummary>,
}

/// `plugins:list`.
pub struct ListPlugins;
impl Channel for ListPlugins {
    type Request = Empty;
    type Response = PluginList;
    const SPEC: ChannelSpec =
        ChannelSpec { name: "plugins:list", summary: "Installed plugins and what each may import.", ..READ };
}

/// `plugins:trust` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PluginTrustRequest {
    /// The quarantined component's SHA-256, lowercase hex (from `plugins:list`).
    pub sha256: String,
}

/// `plugins:trust` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginTrustAnswer {
    /// Whether the user said yes in the host's dialog (and the entry is gone).
    pub trusted: bool,
    /// The plugins, as `plugins:list` shows them now.
    pub plugins: Vec<PluginSummary>,
}

/// `plugins:trust`: asks the user, in a native dialog the page can't
/// script, whether to trust a quarantined plugin again
/// (`app::trust_prompt`). The page only asks; a hostile page that calls
/// this gets a dialog in front of the user, not a cleared quarantine.
pub struct TrustPlugin;
impl Channel for TrustPlugin {
    type Request = PluginTrustRequest;
    type Response = PluginTrustAnswer;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "plugins:trust",
        summary: "Asks the user, in a host dialog, to trust a quarantined plugin again.",
        quota: Quota { per_second: 1, burst: 2 },
        since: "1.5",
        state_changing: true,
        execution: Execution::Blocking,
        ..READ
    };
}

/// `jwt:decode` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct JwtDecodeRequest {
    /// The token (compact JWS).
    pub token: String,
}

/// `jwt:decode` response. Nothing here is verified.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecodedJwt {
    /// The header, parsed.
    #[ts(type = "Record<string, unknown>")]
    pub header: Value,
    /// The claims, parsed.
    #[ts(type = "Record<string, unknown>")]
    pub payload: Value,
    /// The signature segment, base64url.
    pub signature: String,
    /// The header's `alg`, when it is a string.
    pub algorithm: Option<String>,
}

/// `jwt:decode`: splits a token through the jwt-signer guest.
pub struct DecodeJwt;
impl Channel for DecodeJwt {
    type Request = JwtDecodeRequest;
    type Response = DecodedJwt;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:decode",
        summary: "Decodes a token for display, inside the jwt-signer guest (nothing is verified).",
        max_payload_bytes: MAX_TOKEN_BYTES + 64,
        quota: Quota { per_second: 30, burst: 30 },
        execution: Execution::Blocking,
        ..READ
    };

    fn validate(request: &JwtDecodeRequest) -> Result<(), BridgeError> {
        if request.token.trim().is_empty() {
            return Err(BridgeError::validation("token is empty"));
        }
        if request.token.len() > MAX_TOKEN_BYTES {
            return Err(BridgeError::validation(format!("token is over {MAX_TOKEN_BYTES} bytes")));
        }
        Ok(())
    }

    fn sanitize(request: JwtDecodeRequest) -> JwtDecodeRequest {
        JwtDecodeRequest { token: request.token.trim().to_owned() }
    }
}

/// `diag:emit` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct DiagEmitRequest {
    /// Text echoed back in a `diag:echo` event.
    pub message: String,
}

/// `diag:emit`: makes the host send a `diag:echo` event to subscribers. For
/// testing the event path end to end.
pub struct DiagEmit;
impl Channel for DiagEmit {
    type Request = DiagEmitRequest;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "diag:emit",
        summary: "Sends a diag:echo event to every subscribed window (diagnostics).",
        max_payload_bytes: 1024,
        state_changing: true,
        ..READ
    };
}

/// `diag:echo` payload.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DiagEcho {
    /// The text sent to `diag:emit`.
    pub message: String,
    /// How many echoes this run has sent.
    pub seq: u32,
}

/// `diag:echo`.
pub struct DiagEchoEvent;
impl Event for DiagEchoEvent {
    type Payload = DiagEcho;
    const NAME: &'static str = "diag:echo";
    const SUMMARY: &'static str = "Answer to diag:emit (diagnostics).";
    const SINCE: &'static str = "1.0";
}

/// `diag:upload` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UploadReceipt {
    /// Bytes received.
    pub bytes: u32,
    /// Their SHA-256, hex.
    pub sha256: String,
}

/// `diag:upload`: receives raw bytes (the binary path's check).
pub struct DiagUpload;
impl Channel for DiagUpload {
    type Request = UploadBody;
    type Response = UploadReceipt;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "diag:upload",
        summary: "Receives raw bytes and answers their size and SHA-256 (diagnostics, benchmarks).",
        max_payload_bytes: MAX_DIAG_BYTES,
        quota: Quota { per_second: 200, burst: 200 },
        body: Body::BinaryUpload,
        execution: Execution::Blocking,
        ..READ
    };
}

/// `diag:download` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct DownloadRequest {
    /// How many bytes to send.
    pub bytes: u32,
}

/// `diag:download`: sends raw bytes (a repeating pattern).
pub struct DiagDownload;
impl Channel for DiagDownload {
    type Request = DownloadRequest;
    type Response = DownloadBody;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "diag:download",
        summary: "Sends the number of bytes asked for (diagnostics, benchmarks).",
        max_payload_bytes: 256,
        quota: Quota { per_second: 200, burst: 200 },
        body: Body::BinaryDownload,
        ..READ
    };

    fn validate(request: &DownloadRequest) -> Result<(), BridgeError> {
        if request.bytes as usize > MAX_DIAG_BYTES {
            return Err(BridgeError::validation(format!("at most {MAX_DIAG_BYTES} bytes")));
        }
        Ok(())
    }
}

/// Declares the app's events.
pub fn declare_events(events: &mut EventHub) {
    events.declare::<DiagEchoEvent>();
    events.declare::<crate::app::dev_plugins::PluginReloadedEvent>();
    events.declare::<crate::app::dev_plugins::PluginReloadFailedEvent>();
}

/// Registers the app's channels against its services.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    registry.register::<Info, _>(|ctx, _: Empty| {
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            contract_version: CONTRACT_VERSION.to_owned(),
            window: ctx.window.as_str().to_owned(),
            devtools: cfg!(debug_assertions),
        })
    })?;

    let s = Arc::clone(services);
    registry.register::<OpenAbout, _>(move |_, _: Empty| {
        Ok(OpenedWindow { window: WindowLabel::About, requested: s.window_opener().open(WindowLabel::About) })
    })?;

    let s = Arc::clone(services);
    registry.register::<ListPlugins, _>(move |_, _: Empty| Ok(PluginList { plugins: s.plugins() }))?;

    let s = Arc::clone(services);
    registry.register::<TrustPlugin, _>(move |_, req: PluginTrustRequest| {
        let well_formed = req.sha256.len() == 64 && req.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(BridgeError::validation("sha256 must be 64 lowercase hex digits"));
        }
        let Some(entry) = s.quarantine().get(&req.sha256) else {
            return Err(BridgeError::new(ErrorCode::NotFound, "no quarantined plugin has this sha256"));
        };
        let trusted = s.trust_prompt().confirm(&entry);
        if trusted {
            s.quarantine().trust(&entry.sha256).map_err(|e| BridgeError::new(ErrorCode::SaveFailed, e.to_string()))?;
            tracing::warn!(target: "tollgate::security", plugin = %entry.plugin, sha256 = %entry.sha256, "the user trusted a quarantined plugin again");
        }
        Ok(PluginTrustAnswer { trusted, plugins: s.plugins() })
    })?;

    let s = Arc::clone(services);
    registry.register::<DecodeJwt, _>(move |_, req: JwtDecodeRequest| {
        let decoded = s.signer().decode(&req.token).map_err(decode_error)?;
        let header: Value = serde_json::from_str(&decoded.header).map_err(|_| invalid_token("the header is not JSON"))?;
        let payload: Value = serde_json::from_str(&decoded.payload).map_err(|_| invalid_token("the payload is not JSON"))?;
        let algorithm = header.get("alg").and_then(Value::as_str).map(str::to_owned);
        Ok(DecodedJwt { header, payload, signature: decoded.signature, algorithm })
    })?;

    let seq = Arc::new(std::sync::atomic::AtomicU32::new(0));
    registry.register::<DiagEmit, _>(move |ctx, req: DiagEmitRequest| {
        let seq = seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        ctx.events.emit::<DiagEchoEvent>(&DiagEcho { message: req.message, seq });
        Ok(Empty {})
    })?;

    registry.register_upload::<DiagUpload, _>(|_, bytes| {
        Ok(UploadReceipt { bytes: u32::try_from(bytes.len()).unwrap_or(u32::MAX), sha256: hex::encode(Sha256::digest(&bytes)) })
    })?;
    registry.register_download::<DiagDownload, _>(|_, req: DownloadRequest| {
        Ok((0..req.bytes).map(|i| (i % 251) as u8).collect())
    })?;
    Ok(())
}

fn invalid_token(message: &str) -> BridgeError {
    BridgeError::new(ErrorCode::InvalidToken, message)
}

fn decode_error(e: JwtError) -> BridgeError {
    match e.code() {
        "MALFORMED_TOKEN" | "INVALID_HEADER" | "INVALID_CLAIMS" | "TOKEN_TOO_LARGE" => invalid_token(&e.to_string()),
        _ => {
            tracing::warn!(error = %e, "jwt:decode failed in the plugin");
            BridgeError::new(ErrorCode::PluginError, "the jwt-signer plugin could not decode the token")
        }
    }
}
