//! What the sign-in flow announces. The service emits these through the
//! [`AuthEvents`] seam; the app forwards them to the page as bridge events
//! (`auth:*`), tests collect them. None carries a token or device code.

use serde::Serialize;
use ts_rs::TS;

use crate::auth::session::{GithubUser, Installation};

/// A device code to enter at GitHub (`auth:user-code`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserCode {
    /// What the user types.
    pub user_code: String,
    /// Where (checked: https on an allowed host).
    pub verification_uri: String,
    /// Seconds the code lives.
    #[ts(type = "number")]
    pub expires_in: u64,
    /// When it expires (ISO 8601), for the countdown.
    pub expires_at: String,
    /// Whether the host opened the address in the system browser.
    pub browser_opened: bool,
}

/// Signed in (`auth:login-success`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoginSuccess {
    /// Who.
    pub user: GithubUser,
    /// The installations to pick from.
    pub installations: Vec<Installation>,
}

/// Why a sign-in attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LoginErrorCode {
    /// The sign-in service could not be reached (after three retries).
    NetworkError,
    /// The sign-in service did not answer in time.
    Timeout,
    /// The user (or GitHub) refused.
    AccessDenied,
    /// Too many attempts: one per 10 seconds, or the service's own limit.
    RateLimit,
    /// Anything else; the message says what.
    Unknown,
}

/// A failed attempt (`auth:login-error`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoginError {
    /// The kind.
    pub code: LoginErrorCode,
    /// For the user.
    pub message: String,
    /// Whether trying again may work.
    pub retryable: bool,
}

/// The device code's lifetime ran out (`auth:device-code-expired`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodeExpired {
    /// The code that expired.
    pub user_code: String,
    /// What happened, in a sentence for the user.
    pub message: String,
    /// Always true: a new sign-in gets a new code.
    pub can_retry: bool,
}

/// An installation token was fetched and stored (`auth:installation-token-cached`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallationTokenCached {
    /// Which installation.
    #[ts(type = "number")]
    pub installation_id: u64,
    /// Its account.
    pub account_login: String,
    /// When the token expires (ISO 8601).
    pub expires_at: String,
}

/// The installation token was refreshed (`auth:token-refreshed`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TokenRefreshed {
    /// Which installation.
    #[ts(type = "number")]
    pub installation_id: u64,
    /// The new token's expiry (ISO 8601).
    pub expires_at: String,
    /// Whether other callers asked for a refresh while this one ran and
    /// shared it (one backend call for all of them).
    pub deduplicated: bool,
    /// How many callers shared it, this one included.
    pub callers: u32,
}

/// The user was signed out because the session could not be renewed
/// (`auth:session-expired`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionExpired {
    /// Why.
    pub reason: String,
}

/// Signed out (`auth:logout-success`); sent even when the backend was
/// unreachable.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogoutSuccess {
    /// Whether a session existed.
    pub was_signed_in: bool,
}

/// Why the sign-in service counts as unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfflineReason {
    /// No connection: refused, reset, or the name did not resolve.
    BackendUnreachable,
    /// Connected, but no answer within the request timeout.
    Timeout,
}

impl OfflineReason {
    /// The reason for a backend error that counts as unreachable.
    pub fn of(error: &crate::auth::BackendError) -> Self {
        match error {
            crate::auth::BackendError::Timeout(_) => Self::Timeout,
            _ => Self::BackendUnreachable,
        }
    }
}

/// The sign-in service became unreachable (`auth:offline-mode-enabled`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfflineModeEnabled {
    /// What failed, in a sentence (the same text as `message`; kept for
    /// pages of contract 1.5 and before).
    pub reason: String,
    /// What failed, as a code a page can branch on.
    pub reason_code: OfflineReason,
    /// What failed, in a sentence.
    pub message: String,
    /// Until when the cached installation token works (ISO 8601), if any.
    pub cached_token_expires_at: Option<String>,
}

/// The sign-in service answers again (`auth:offline-mode-disabled`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfflineModeDisabled {
    /// When it answered (ISO 8601).
    pub last_successful_connection: String,
}

/// Every event, by kind.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthEvent {
    /// `auth:user-code`.
    UserCode(UserCode),
    /// `auth:login-success`.
    LoginSuccess(LoginSuccess),
    /// `auth:login-error`.
    LoginError(LoginError),
    /// `auth:device-code-expired`.
    DeviceCodeExpired(DeviceCodeExpired),
    /// `auth:installation-token-cached`.
    InstallationTokenCached(InstallationTokenCached),
    /// `auth:token-refreshed`.
    TokenRefreshed(TokenRefreshed),
    /// `auth:session-expired`.
    SessionExpired(SessionExpired),
    /// `auth:logout-success`.
    LogoutSuccess(LogoutSuccess),
    /// `auth:offline-mode-enabled`.
    OfflineModeEnabled(OfflineModeEnabled),
    /// `auth:offline-mode-disabled`.
    OfflineModeDisabled(OfflineModeDisabled),
}

impl AuthEvent {
    /// The bridge event's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::UserCode(_) => "auth:user-code",
            Self::LoginSuccess(_) => "auth:login-success",
            Self::LoginError(_) => "auth:login-error",
            Self::DeviceCodeExpired(_) => "auth:device-code-expired",
            Self::InstallationTokenCached(_) => "auth:installation-token-cached",
            Self::TokenRefreshed(_) => "auth:token-refreshed",
            Self::SessionExpired(_) => "auth:session-expired",
            Self::LogoutSuccess(_) => "auth:logout-success",
            Self::OfflineModeEnabled(_) => "auth:offline-mode-enabled",
            Self::OfflineModeDisabled(_) => "auth:offline-mode-disabled",
        }
    }

    /// The payload as the page receives it: the same serde JSON the
    /// bridge's event hub sends (`HubAuthEvents`).
    pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Self::UserCode(p) => serde_json::to_value(p),
            Self::LoginSuccess(p) => serde_json::to_value(p),
            Self::LoginError(p) => serde_json::to_value(p),
            Self::DeviceCodeExpired(p) => serde_json::to_value(p),
            Self::InstallationTokenCached(p) => serde_json::to_value(p),
            Self::TokenRefreshed(p) => serde_json::to_value(p),
            Self::SessionExpired(p) => serde_json::to_value(p),
            Self::LogoutSuccess(p) => serde_json::to_value(p),
            Self::OfflineModeEnabled(p) => serde_json::to_value(p),
            Self::OfflineModeDisabled(p) => serde_json::to_value(p),
        }
    }
}

/// Where the service's events go.
pub trait AuthEvents: Send + Sync {
    /// Delivers one event.
    fn emit(&self, event: AuthEvent);
}
