//! The app's channels and events: one declaration each, handlers beside
//! them. The bridge's own channels (ping, event subscription) are in
//! `crate::bridge::channels`.

// Channels by namespace, one module each (issue 16: a channel's handler
// is found by its channel's name). This file holds what they share: the
// caps, the base declarations, the error mappings and `register_all`.
pub mod app;
pub mod auth;
pub mod bundles;
pub mod crypto;
pub mod diag;
pub mod jwt;
pub mod keys;
pub mod lint;
pub mod plugins;
pub mod profiles;
pub mod settings;

pub use app::{AppInfo, Info, OpenAbout, OpenedWindow};
pub use diag::{DiagDownload, DiagEcho, DiagEchoEvent, DiagEmit, DiagEmitRequest, DiagUpload, DownloadRequest, UploadReceipt};
pub use jwt::{DecodeJwt, DecodedJwt, GenerateRequest, GenerateToken, JwtDecodeRequest, VerifyRequest, VerifyToken};
pub use plugins::{PluginImport, PluginIsolation, PluginList, PluginSummary};

use std::sync::Arc;

use serde_json::json;

use crate::services::AppServices;
use crate::tokens::TokenError;
use crate::bridge::channels::{MAIN_ONLY, SMALL_REQUEST_BYTES};
use crate::bridge::events::EventHub;
use crate::bridge::registry::{Body, ChannelRegistry, ChannelSpec, Direction, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode};
use crate::secrets::SecretsError;
use crate::store::StoreError;
use crate::store::profiles::{MAX_ENCRYPTED_KEY_BYTES, MAX_PAYLOAD_BYTES};

/// Largest token `jwt:decode` accepts. Real tokens are a few KiB; this
/// bounds what page script can make the guest parse.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Largest body on the diagnostics binary paths (the 1 MiB benchmarks fit
/// with room).
pub const MAX_DIAG_BYTES: usize = 8 * 1024 * 1024;

/// The base of the read-mostly app channels (`app:*`, `plugins:*`,
/// `jwt:decode`, `diag:*`): main window, small, inline.
pub(crate) const READ: ChannelSpec = ChannelSpec {
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

/// Declares the app's events.
pub fn declare_events(events: &mut EventHub) {
    events.declare::<diag::DiagEchoEvent>();
    events.declare::<crate::dev_plugins::PluginReloadedEvent>();
    events.declare::<crate::dev_plugins::PluginReloadFailedEvent>();
    events.declare::<keys::KeyFileDroppedEvent>();
    events.declare::<keys::KeyGenerateProgressEvent>();
}

/// Registers `app:*`, `plugins:*`, `jwt:decode` and `diag:*`, in that order.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    app::register(registry, services)?;
    plugins::register(registry, services)?;
    jwt::register_decode(registry, services)?;
    diag::register(registry, services)?;
    Ok(())
}

// What the token generator's channels (profiles, crypto, jwt, settings) share.

/// The contract version these channels appeared in.
pub(crate) const SINCE: &str = "1.1";

/// The largest key `crypto:encrypt` takes, as sent: a 64 KiB key (the
/// signer's cap) in base64, plus the request's other fields.
pub const MAX_ENCRYPT_REQUEST_BYTES: usize = 90 * 1024;
/// The largest `profiles:save` request: the payload and the sealed key at
/// their caps, plus the other fields. Bounds parsing before the rules run.
pub const MAX_SAVE_REQUEST_BYTES: usize = MAX_PAYLOAD_BYTES + MAX_ENCRYPTED_KEY_BYTES + 4 * 1024;

pub(crate) const BASE: ChannelSpec = ChannelSpec {
    name: "",
    summary: "",
    direction: Direction::WebviewToHost,
    windows: MAIN_ONLY,
    max_payload_bytes: SMALL_REQUEST_BYTES,
    quota: Quota { per_second: 50, burst: 50 },
    since: SINCE,
    deprecated: None,
    state_changing: false,
    // Every one of these touches the disk: the light lane. Channels that
    // call a plugin, hold key material or reach the network say
    // `Execution::Heavy` instead.
    execution: Execution::Blocking,
    body: Body::Json,
};

/// Disk writes a page can cause: each save rewrites the whole file (up to
/// a few MiB), so a hostile page is held to a few per second.
pub(crate) const WRITE_QUOTA: Quota = Quota { per_second: 5, burst: 10 };

pub(crate) fn invalid(field: &str, message: String) -> BridgeError {
    BridgeError::validation(message).with_details(json!({ "field": field }))
}

/// A store error as the page sees it: the code, the message (file names,
/// fields, never key material), and details to act on.
pub(crate) fn store_error(e: StoreError) -> BridgeError {
    let code = match &e {
        StoreError::LoadFailed { .. } => ErrorCode::LoadFailed,
        StoreError::Corrupt { .. } => ErrorCode::ParseError,
        StoreError::SaveFailed { .. } => ErrorCode::SaveFailed,
        StoreError::DeleteFailed { .. } => ErrorCode::DeleteFailed,
        StoreError::Invalid { .. } => ErrorCode::ValidationError,
        StoreError::DuplicateName(_) => ErrorCode::DuplicateName,
        StoreError::LimitReached(_) => ErrorCode::ProfileLimitReached,
        StoreError::NotFound(_) => ErrorCode::NotFound,
    };
    if matches!(code, ErrorCode::LoadFailed | ErrorCode::SaveFailed | ErrorCode::DeleteFailed) {
        tracing::warn!(code = code.as_str(), error = %e, "store operation failed");
    }
    let details = match &e {
        StoreError::Corrupt { file, moved_to, .. } => Some(json!({ "file": file, "movedTo": moved_to.display().to_string() })),
        StoreError::Invalid { field, .. } => Some(json!({ "field": field })),
        StoreError::LimitReached(limit) => Some(json!({ "limit": limit })),
        _ => None,
    };
    let error = BridgeError::new(code, e.to_string());
    match details {
        Some(d) => error.with_details(d),
        None => error,
    }
}

pub(crate) fn secrets_error(e: SecretsError) -> BridgeError {
    let code = match &e {
        SecretsError::KeychainUnavailable(_) => ErrorCode::KeychainUnavailable,
        SecretsError::DecryptionFailed | SecretsError::Malformed(_) => ErrorCode::DecryptionFailed,
        SecretsError::EncryptionFailed(_) => ErrorCode::EncryptionFailed,
    };
    BridgeError::new(code, e.to_string())
}

pub(crate) fn token_error(e: TokenError) -> BridgeError {
    match e {
        TokenError::Secrets(e) => secrets_error(e),
        TokenError::ExpirationPassed | TokenError::InvalidClaims(_) | TokenError::InvalidHeader(_) => BridgeError::validation(e.to_string()),
        TokenError::KeyUnusable(_) | TokenError::Signing(_) => BridgeError::new(ErrorCode::SigningFailed, e.to_string()),
        TokenError::Plugin(_) => BridgeError::new(ErrorCode::PluginError, e.to_string()),
        TokenError::Quarantined(_) => BridgeError::new(ErrorCode::PluginQuarantined, e.to_string()),
        TokenError::KeySet(_) => BridgeError::new(ErrorCode::InvalidInput, e.to_string()),
    }
}

/// Registers every app channel against `services`, in the order the
/// contract has always listed them (`contract/bridge.json` keeps
/// registration order, which interleaves namespaces).
pub fn register_all(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    register(registry, services)?;
    profiles::register(registry, services)?;
    crypto::register(registry, services)?;
    jwt::register_tokens(registry, services)?;
    settings::register(registry, services)?;
    auth::register(registry, services)?;
    lint::register(registry, services)?;
    keys::register(registry, services)?;
    bundles::register(registry, services)?;
    Ok(())
}
