//! The REST API's bodies, exactly as docs/auth-backend.openapi.yaml states
//! them: JSON, camelCase.
//!
//! Request bodies are untrusted and parsed strictly (`deny_unknown_fields`);
//! responses derive `Deserialize` too so clients and tests can read them.
//! Types that carry a token print it redacted in `Debug`, so a stray
//! `{:?}` in a log line cannot leak it.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A body that must be the empty object `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"`.
    pub status: String,
}

/// `POST /v1/device/code`: what the user needs to approve the sign-in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodeResponse {
    /// The code the app polls with; a secret between the app and the backend.
    pub device_code: String,
    /// The code the user types at GitHub.
    pub user_code: String,
    /// Where the user types it.
    pub verification_uri: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: u64,
}

impl fmt::Debug for DeviceCodeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCodeResponse")
            .field("device_code", &"<redacted>")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

/// `POST /v1/device/poll` request.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PollRequest {
    /// The device code from `/v1/device/code`.
    pub device_code: String,
}

impl fmt::Debug for PollRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PollRequest { device_code: <redacted> }")
    }
}

/// Where a device flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    /// The user has not approved yet (202).
    Pending,
    /// The app polls too often; `interval` is the new interval (202).
    SlowDown,
    /// Approved: a session was created (200).
    Complete,
}

/// `POST /v1/device/poll`, 202: not done yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollWaiting {
    /// `pending` or `slow_down`.
    pub status: PollStatus,
    /// Seconds to wait before the next poll.
    pub interval: u64,
}

/// `POST /v1/device/poll`, 200: signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollComplete {
    /// Always `complete`.
    pub status: PollStatus,
    /// The new backend session.
    pub session: SessionGrant,
    /// Who signed in.
    pub user: User,
    /// The App's installations the user can reach.
    pub installations: Vec<Installation>,
}

/// A backend session as handed to the app once, at sign-in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionGrant {
    /// The opaque bearer token for the backend (256 random bits, base64url).
    pub token: String,
    /// When the session ends unless refreshed.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for SessionGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionGrant").field("token", &"<redacted>").field("expires_at", &self.expires_at).finish()
    }
}

/// A GitHub user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// GitHub's numeric user id.
    pub id: u64,
    /// The login (`octocat`).
    pub login: String,
    /// The display name, when the user set one.
    pub name: Option<String>,
    /// The avatar's URL.
    pub avatar_url: Option<String>,
}

/// A GitHub App installation the user can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    /// The installation id.
    pub id: u64,
    /// The account it is installed on.
    pub account_login: String,
    /// `Organization` or `User` (as GitHub names it).
    pub account_type: String,
}

/// `POST /v1/installations/{installationId}/token`, 200, and part of
/// `/v1/session/refresh`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationToken {
    /// The installation it is for.
    pub installation_id: u64,
    /// The account the installation is on.
    pub account_login: String,
    /// The installation access token (`ghs_...`).
    pub token: String,
    /// When GitHub expires it.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for InstallationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallationToken")
            .field("installation_id", &self.installation_id)
            .field("account_login", &self.account_login)
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `POST /v1/session/refresh` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    /// The installation to mint a fresh token for.
    pub installation_id: u64,
}

/// `POST /v1/session/refresh`, 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshResponse {
    /// The session's new end.
    #[serde(with = "time::serde::rfc3339")]
    pub session_expires_at: OffsetDateTime,
    /// A freshly minted installation token.
    pub installation_token: InstallationToken,
}

/// Every error's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The machine-readable code (snake case).
    pub error: String,
    /// Text for people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_poll_serializes_to_the_documented_shape() {
        let body = PollComplete {
            status: PollStatus::Complete,
            session: SessionGrant { token: "t".into(), expires_at: OffsetDateTime::UNIX_EPOCH },
            user: User { id: 1, login: "octocat".into(), name: None, avatar_url: Some("https://a/b".into()) },
            installations: vec![Installation { id: 11, account_login: "octo-org".into(), account_type: "Organization".into() }],
        };
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "status": "complete",
                "session": {"token": "t", "expiresAt": "1970-01-01T00:00:00Z"},
                "user": {"id": 1, "login": "octocat", "name": null, "avatarUrl": "https://a/b"},
                "installations": [{"id": 11, "accountLogin": "octo-org", "accountType": "Organization"}],
            })
        );
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        assert!(serde_json::from_str::<PollRequest>(r#"{"deviceCode":"x","extra":1}"#).is_err());
        assert!(serde_json::from_str::<EmptyBody>(r#"{"a":1}"#).is_err());
        assert!(serde_json::from_str::<EmptyBody>("{}").is_ok());
        assert!(serde_json::from_str::<RefreshRequest>(r#"{"installationId":-1}"#).is_err());
    }

    #[test]
    fn debug_output_never_shows_tokens() {
        let grant = SessionGrant { token: "secret-session".into(), expires_at: OffsetDateTime::UNIX_EPOCH };
        let token = InstallationToken {
            installation_id: 1,
            account_login: "o".into(),
            token: "ghs_secret".into(),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let poll = PollRequest { device_code: "dc_secret".into() };
        let all = format!("{grant:?} {token:?} {poll:?}");
        assert!(!all.contains("secret"), "{all}");
    }
}
