//! The closed set of error codes the webview can see, and the error type
//! that carries one. The code is data the page branches on; the message is
//! for people. A message never carries host secrets; a validation message
//! may quote a value of the caller's own payload back to the caller (serde's
//! "invalid type: string ..."), which is why messages are never logged.

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

/// Every code a bridge response can carry. Closed: adding one is a
/// contract change (see `contract`), removing one a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[ts(rename = "TollgateErrorCode")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The payload is not what the channel declares (types, unknown
    /// fields, forbidden keys, depth, numbers, validator).
    ValidationError,
    /// The thing asked for does not exist.
    NotFound,
    /// The (window, channel) quota or the global ceiling is spent, or an
    /// operation's own limit (one sign-in attempt per 10 s; the sign-in
    /// service's limit); `details.retryAfterMs` says when to try again
    /// when it is known.
    RateLimited,
    /// The message or payload is over its cap.
    PayloadTooLarge,
    /// The caller is not allowed: wrong window, origin or frame.
    IpcForbidden,
    /// The caller did not prove it is the app's page (missing or wrong
    /// per-webview secret).
    IpcUnauthorized,
    /// No channel of that name is declared.
    UnknownChannel,
    /// A request id was used twice on a state-changing channel.
    ReplayedRequest,
    /// The host failed (a handler panicked, a worker died); nothing the
    /// caller can fix.
    InternalError,
    /// A plugin refused or failed the call (the message says how).
    PluginError,
    /// A token could not be decoded.
    InvalidToken,
    /// A stored file could not be read (an I/O error, or a file written by a newer version); it is left as it is.
    LoadFailed,
    /// A stored file was unreadable; it was moved aside (kept, never overwritten) and the message says where.
    ParseError,
    /// Another profile already has that name (compared without case).
    DuplicateName,
    /// The most profiles the app keeps already exist.
    ProfileLimitReached,
    /// A file could not be written (e.g. the disk is full); the previous version is intact.
    SaveFailed,
    /// A profile could not be deleted because the file could not be written; nothing changed.
    DeleteFailed,
    /// A key does not suit its algorithm (an RSA key that does not parse, an HMAC secret under 32 bytes).
    InvalidInput,
    /// A key could not be sealed under the master key.
    EncryptionFailed,
    /// A stored key could not be opened: the profile was created by another user or machine, or altered.
    DecryptionFailed,
    /// The OS keychain is missing or locked; nothing is stored or read in its place.
    KeychainUnavailable,
    /// The signer could not produce a token the host accepts.
    SigningFailed,
    /// The signer plugin failed a key-carrying call without an explanation
    /// and gets no key until the user trusts it again (`plugins:trust`).
    PluginQuarantined,
    /// No one is signed in, or the session ended (sign in again).
    Unauthorized,
    /// The installation is not one of the signed-in user's (or none is selected).
    InvalidInstallation,
    /// The sign-in service could not be reached.
    NetworkError,
    /// The sign-in service did not answer in time.
    Timeout,
    /// The sign-in service answered with an error; the message says which.
    BackendError,
    /// The user cancelled the operation (since 1.10: a key generation).
    Cancelled,
}

impl ErrorCode {
    /// Every code, in declaration order (the contract and docs list these).
    pub const ALL: &'static [ErrorCode] = &[
        Self::ValidationError,
        Self::NotFound,
        Self::RateLimited,
        Self::PayloadTooLarge,
        Self::IpcForbidden,
        Self::IpcUnauthorized,
        Self::UnknownChannel,
        Self::ReplayedRequest,
        Self::InternalError,
        Self::PluginError,
        Self::InvalidToken,
        Self::LoadFailed,
        Self::ParseError,
        Self::DuplicateName,
        Self::ProfileLimitReached,
        Self::SaveFailed,
        Self::DeleteFailed,
        Self::InvalidInput,
        Self::EncryptionFailed,
        Self::DecryptionFailed,
        Self::KeychainUnavailable,
        Self::SigningFailed,
        Self::PluginQuarantined,
        Self::Unauthorized,
        Self::InvalidInstallation,
        Self::NetworkError,
        Self::Timeout,
        Self::BackendError,
        Self::Cancelled,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationError => "VALIDATION_ERROR",
            Self::NotFound => "NOT_FOUND",
            Self::RateLimited => "RATE_LIMITED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::IpcForbidden => "IPC_FORBIDDEN",
            Self::IpcUnauthorized => "IPC_UNAUTHORIZED",
            Self::UnknownChannel => "UNKNOWN_CHANNEL",
            Self::ReplayedRequest => "REPLAYED_REQUEST",
            Self::InternalError => "INTERNAL_ERROR",
            Self::PluginError => "PLUGIN_ERROR",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::LoadFailed => "LOAD_FAILED",
            Self::ParseError => "PARSE_ERROR",
            Self::DuplicateName => "DUPLICATE_NAME",
            Self::ProfileLimitReached => "PROFILE_LIMIT_REACHED",
            Self::SaveFailed => "SAVE_FAILED",
            Self::DeleteFailed => "DELETE_FAILED",
            Self::InvalidInput => "INVALID_INPUT",
            Self::EncryptionFailed => "ENCRYPTION_FAILED",
            Self::DecryptionFailed => "DECRYPTION_FAILED",
            Self::KeychainUnavailable => "KEYCHAIN_UNAVAILABLE",
            Self::SigningFailed => "SIGNING_FAILED",
            Self::PluginQuarantined => "PLUGIN_QUARANTINED",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::InvalidInstallation => "INVALID_INSTALLATION",
            Self::NetworkError => "NETWORK_ERROR",
            Self::Timeout => "TIMEOUT",
            Self::BackendError => "BACKEND_ERROR",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Whether a refusal with this code is a security event (logged at
    /// warn with category `security`) rather than an ordinary error.
    pub fn is_security_event(self) -> bool {
        matches!(
            self,
            Self::IpcForbidden
                | Self::IpcUnauthorized
                | Self::UnknownChannel
                | Self::ReplayedRequest
                | Self::RateLimited
                | Self::PayloadTooLarge
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused or failed crossing: a code, a message for people, and
/// optional structured details (field paths, limits; never payload
/// contents or secrets).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BridgeError {
    /// The code the page branches on.
    pub code: ErrorCode,
    /// What was wrong, in a sentence.
    pub message: String,
    /// Structured details, or `None`.
    pub details: Option<Value>,
}

impl BridgeError {
    /// An error with no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None }
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// `VALIDATION_ERROR`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    /// `INTERNAL_ERROR`, with a message that gives nothing away.
    pub fn internal() -> Self {
        Self::new(ErrorCode::InternalError, "the host failed to handle this request; it is still running")
    }
}
