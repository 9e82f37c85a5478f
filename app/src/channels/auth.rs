//! GitHub sign-in's channels and events: one declaration each, over the
//! auth service (`crate::auth`). The page starts a sign-in, reads the
//! session view, picks an installation, signs out and asks whether the
//! service is reachable; progress comes as `auth:*` events. No channel or
//! event carries a token, a device code or a backend credential.

use std::sync::Arc;

use serde::Deserialize;
use ts_rs::TS;

use crate::services::AppServices;
use crate::auth::{
    self, AuthError, AuthEvent, AuthEvents, BackendError, DeviceCodeExpired, InstallationSelected, InstallationTokenCached,
    LoggedOut, LoginError, LoginStarted, LoginSuccess, LogoutSuccess, OfflineModeDisabled, OfflineModeEnabled, OfflineStatus,
    SessionExpired, SessionView, TokenRefreshed, UserCode,
};
use crate::bridge::channels::{Empty, MAIN_ONLY, SMALL_REQUEST_BYTES};
use crate::bridge::events::Event;
use crate::bridge::registry::{Body, Channel, ChannelRegistry, ChannelSpec, Direction, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode, EventHub};

/// The contract version these appeared in.
const SINCE: &str = "1.2";

const BASE: ChannelSpec = ChannelSpec {
    name: "",
    summary: "",
    direction: Direction::WebviewToHost,
    windows: MAIN_ONLY,
    max_payload_bytes: SMALL_REQUEST_BYTES,
    quota: Quota { per_second: 20, burst: 20 },
    since: SINCE,
    deprecated: None,
    state_changing: false,
    // The keychain (D-Bus) or the network: never on the UI thread.
    execution: Execution::Heavy,
    body: Body::Json,
};

/// Calls that reach the sign-in service: a page can't use the app to flood it.
const NETWORK_QUOTA: Quota = Quota { per_second: 2, burst: 5 };

/// `auth:select-installation` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectInstallationRequest {
    /// One of the signed-in user's installations.
    #[ts(type = "number")]
    pub installation_id: u64,
}

/// `auth:github-login`.
pub struct GithubLogin;
impl Channel for GithubLogin {
    type Request = Empty;
    type Response = LoginStarted;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "auth:github-login",
        summary: "Starts a GitHub device-flow sign-in; progress comes as auth:* events (one attempt per 10 s).",
        quota: NETWORK_QUOTA,
        state_changing: true,
        ..BASE
    };
}

/// `auth:get-session`.
pub struct GetSession;
impl Channel for GetSession {
    type Request = Empty;
    type Response = Option<SessionView>;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "auth:get-session",
        summary: "The signed-in user, installations and token expiry (no token), or null.",
        quota: Quota { per_second: 50, burst: 50 },
        ..BASE
    };
}

/// `auth:select-installation`.
pub struct SelectInstallation;
impl Channel for SelectInstallation {
    type Request = SelectInstallationRequest;
    type Response = InstallationSelected;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "auth:select-installation",
        summary: "Picks one of the user's installations and caches its token in the keychain.",
        quota: NETWORK_QUOTA,
        state_changing: true,
        ..BASE
    };
}

/// `auth:logout`.
pub struct Logout;
impl Channel for Logout {
    type Request = Empty;
    type Response = LoggedOut;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "auth:logout",
        summary: "Signs out: deletes the session and cached tokens, tells the service without waiting.",
        quota: NETWORK_QUOTA,
        state_changing: true,
        ..BASE
    };
}

/// `auth:check-offline-status`.
pub struct CheckOfflineStatus;
impl Channel for CheckOfflineStatus {
    type Request = Empty;
    type Response = OfflineStatus;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "auth:check-offline-status",
        summary: "Probes the sign-in service: offline or not, why, and until when the cached token works.",
        quota: NETWORK_QUOTA,
        ..BASE
    };
}

macro_rules! auth_event {
    ($ty:ident, $payload:ty, $name:literal, $summary:literal) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty;
        impl Event for $ty {
            type Payload = $payload;
            const NAME: &'static str = $name;
            const SUMMARY: &'static str = $summary;
            const SINCE: &'static str = SINCE;
        }
    };
}

auth_event!(UserCodeEvent, UserCode, "auth:user-code", "A code to enter at the verification address, with its lifetime.");
auth_event!(LoginSuccessEvent, LoginSuccess, "auth:login-success", "Signed in: the user and their installations.");
auth_event!(LoginErrorEvent, LoginError, "auth:login-error", "A sign-in attempt failed: code, message, whether to retry.");
auth_event!(DeviceCodeExpiredEvent, DeviceCodeExpired, "auth:device-code-expired", "The code's lifetime ran out before approval.");
auth_event!(
    InstallationTokenCachedEvent,
    InstallationTokenCached,
    "auth:installation-token-cached",
    "An installation token was fetched and stored (its expiry, not the token)."
);
auth_event!(TokenRefreshedEvent, TokenRefreshed, "auth:token-refreshed", "The installation token was refreshed (shared by concurrent callers).");
auth_event!(SessionExpiredEvent, SessionExpired, "auth:session-expired", "Signed out because the session could not be renewed.");
auth_event!(LogoutSuccessEvent, LogoutSuccess, "auth:logout-success", "Signed out (sent even when the service is unreachable).");
auth_event!(OfflineModeEnabledEvent, OfflineModeEnabled, "auth:offline-mode-enabled", "The sign-in service is unreachable.");
auth_event!(OfflineModeDisabledEvent, OfflineModeDisabled, "auth:offline-mode-disabled", "The sign-in service answers again.");

/// Declares the `auth:*` events.
pub fn declare_events(events: &mut EventHub) {
    events.declare::<UserCodeEvent>();
    events.declare::<LoginSuccessEvent>();
    events.declare::<LoginErrorEvent>();
    events.declare::<DeviceCodeExpiredEvent>();
    events.declare::<InstallationTokenCachedEvent>();
    events.declare::<TokenRefreshedEvent>();
    events.declare::<SessionExpiredEvent>();
    events.declare::<LogoutSuccessEvent>();
    events.declare::<OfflineModeEnabledEvent>();
    events.declare::<OfflineModeDisabledEvent>();
}

/// The auth service's events, forwarded to subscribed windows.
pub struct HubAuthEvents(pub Arc<EventHub>);

impl AuthEvents for HubAuthEvents {
    fn emit(&self, event: AuthEvent) {
        let hub = &self.0;
        match event {
            AuthEvent::UserCode(p) => hub.emit::<UserCodeEvent>(&p),
            AuthEvent::LoginSuccess(p) => hub.emit::<LoginSuccessEvent>(&p),
            AuthEvent::LoginError(p) => hub.emit::<LoginErrorEvent>(&p),
            AuthEvent::DeviceCodeExpired(p) => hub.emit::<DeviceCodeExpiredEvent>(&p),
            AuthEvent::InstallationTokenCached(p) => hub.emit::<InstallationTokenCachedEvent>(&p),
            AuthEvent::TokenRefreshed(p) => hub.emit::<TokenRefreshedEvent>(&p),
            AuthEvent::SessionExpired(p) => hub.emit::<SessionExpiredEvent>(&p),
            AuthEvent::LogoutSuccess(p) => hub.emit::<LogoutSuccessEvent>(&p),
            AuthEvent::OfflineModeEnabled(p) => hub.emit::<OfflineModeEnabledEvent>(&p),
            AuthEvent::OfflineModeDisabled(p) => hub.emit::<OfflineModeDisabledEvent>(&p),
        };
    }
}

/// Registers the `auth:*` channels against `services`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<GithubLogin, _>(move |_, _: Empty| {
        // The attempt runs on its own thread; its handle is not needed.
        s.auth().start_login().map(|(started, _)| started).map_err(auth_error)
    })?;

    let s = Arc::clone(services);
    registry.register::<GetSession, _>(move |_, _: Empty| s.auth().session().map_err(auth_error))?;

    let s = Arc::clone(services);
    registry.register::<SelectInstallation, _>(move |_, req: SelectInstallationRequest| {
        s.auth().select_installation(req.installation_id).map_err(auth_error)
    })?;

    let s = Arc::clone(services);
    registry.register::<Logout, _>(move |_, _: Empty| Ok(s.auth().logout()))?;

    let s = Arc::clone(services);
    registry.register::<CheckOfflineStatus, _>(move |_, _: Empty| Ok(s.auth().check_offline_status()))?;
    Ok(())
}

/// The page's view of an auth failure.
pub fn auth_error(e: AuthError) -> BridgeError {
    let message = e.to_string();
    match e {
        AuthError::NotSignedIn | AuthError::SessionExpired => BridgeError::new(ErrorCode::Unauthorized, message),
        AuthError::InvalidInstallation(_) | AuthError::NoInstallation => BridgeError::new(ErrorCode::InvalidInstallation, message),
        AuthError::LoginRateLimited { retry_after, .. } => BridgeError::new(ErrorCode::RateLimited, message)
            .with_details(serde_json::json!({ "retryAfterMs": u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX) })),
        AuthError::Backend(BackendError::Network(_)) => BridgeError::new(ErrorCode::NetworkError, message),
        AuthError::Backend(BackendError::Timeout(_)) => BridgeError::new(ErrorCode::Timeout, message),
        AuthError::Backend(BackendError::Status { status: 429, retry_after, .. }) => {
            let e = BridgeError::new(ErrorCode::RateLimited, message);
            match retry_after {
                Some(s) => e.with_details(serde_json::json!({ "retryAfterMs": s.saturating_mul(1000) })),
                None => e,
            }
        }
        AuthError::Backend(_) => BridgeError::new(ErrorCode::BackendError, message),
        AuthError::Vault(auth::VaultError::Keychain(_)) => BridgeError::new(ErrorCode::KeychainUnavailable, message),
        AuthError::Vault(_) => BridgeError::new(ErrorCode::LoadFailed, message),
    }
}
