//! The sign-in backend as the host reaches it: one HTTP client for the
//! REST contract in `docs/auth-backend.openapi.yaml`.
//!
//! Trust: the backend is the app's own service, but its answers cross the
//! network: every body is size-capped before parsing, parsed into types
//! with bounded strings, and its messages are trimmed before anyone shows
//! them. Bearer tokens go in headers only, never in URLs, and no error here
//! carries one.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use url::Url;
use zeroize::Zeroizing;

use crate::auth::session::{GithubUser, Installation, SecretToken};
use crate::store::timestamp;

/// The largest answer the host reads from the backend: a user and up to
/// [`MAX_INSTALLATIONS`] installations fit many times over; anything
/// larger is refused before it is parsed (a hostile or broken backend
/// must not make the app allocate without bound).
pub const MAX_RESPONSE_BYTES: u64 = 256 * 1024;
/// The most installations kept for a user: a picker longer than this is
/// not usable, and it bounds what a backend can make the app store.
pub const MAX_INSTALLATIONS: usize = 200;
/// The longest backend message shown to a user.
const MAX_MESSAGE_CHARS: usize = 200;
/// The longest token the host accepts from the backend (GitHub's are ~40-100
/// characters; this bounds what goes into the keychain).
const MAX_TOKEN_CHARS: usize = 4096;

/// Why a backend call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// No answer: the connection was refused or dropped, or the name did
    /// not resolve. Worth retrying.
    #[error("the sign-in service could not be reached ({0})")]
    Network(String),
    /// The backend took longer than the request timeout.
    #[error("the sign-in service did not answer within {0:?}")]
    Timeout(Duration),
    /// The backend answered with an error status.
    #[error("the sign-in service answered {status} {code}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The `error` field of the body (snake case), or `http_<status>`.
        code: String,
        /// The `message` field, trimmed, or a generic text.
        message: String,
        /// `Retry-After`, in seconds, when the backend sent one.
        retry_after: Option<u64>,
    },
    /// The backend answered something that is not the contract.
    #[error("the sign-in service sent an answer the app does not understand: {0}")]
    Protocol(String),
}

impl BackendError {
    /// No answer at all (refused, reset, unresolvable, timed out): the app
    /// goes offline.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Network(_) | Self::Timeout(_))
    }

    /// The status and code, when the backend answered.
    pub fn status(&self) -> Option<(u16, &str)> {
        match self {
            Self::Status { status, code, .. } => Some((*status, code.as_str())),
            _ => None,
        }
    }
}

/// `POST /v1/device/code`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCode {
    /// Secret between the app and the backend; never shown.
    pub device_code: SecretToken,
    /// What the user types at GitHub.
    pub user_code: String,
    /// Where they type it.
    pub verification_uri: String,
    /// Seconds until the code expires (0 or absent: the app's default).
    #[serde(default)]
    pub expires_in: u64,
    /// Seconds between polls.
    #[serde(default)]
    pub interval: u64,
}

/// `POST /v1/device/poll`.
#[derive(Debug, Clone)]
pub enum PollOutcome {
    /// Not yet approved; poll again after `interval` seconds.
    Pending {
        /// The interval the backend wants, if it said.
        interval: Option<u64>,
    },
    /// Polling too fast: the new interval.
    SlowDown {
        /// The interval the backend wants, if it said.
        interval: Option<u64>,
    },
    /// Approved.
    Complete(Box<SignedIn>),
}

/// What a completed device flow gives.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    /// The backend session.
    pub session: BackendSession,
    /// Who signed in.
    pub user: GithubUser,
    /// The GitHub App's installations the user can reach.
    pub installations: Vec<Installation>,
}

/// The backend's session.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendSession {
    /// Bearer token for the backend.
    pub token: SecretToken,
    /// When the session ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// An installation token, as minted.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationToken {
    /// Which installation.
    pub installation_id: u64,
    /// Its account.
    pub account_login: String,
    /// The token.
    pub token: SecretToken,
    /// When GitHub expires it.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /v1/session/refresh`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refreshed {
    /// The session's new end.
    #[serde(with = "time::serde::rfc3339")]
    pub session_expires_at: OffsetDateTime,
    /// A fresh installation token.
    pub installation_token: InstallationToken,
}

#[derive(Deserialize)]
struct PollBody {
    status: String,
    #[serde(default)]
    interval: Option<u64>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The HTTP client.
#[derive(Debug, Clone)]
pub struct BackendClient {
    base: Url,
    agent: ureq::Agent,
    timeout: Duration,
}

impl BackendClient {
    /// A client for the backend at `base`, each request bounded by `timeout`.
    pub fn new(base: Url, timeout: Duration) -> Self {
        // No redirects: one would carry the bearer token somewhere else.
        Self { base, agent: crate::http::agent(timeout), timeout }
    }

    /// The backend's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `GET /v1/health`.
    pub fn health(&self) -> Result<(), BackendError> {
        let (status, body) = self.send("GET", "v1/health", None, None)?;
        expect_ok(status, &body).map(|_| ())
    }

    /// `POST /v1/device/code`.
    pub fn device_code(&self) -> Result<DeviceCode, BackendError> {
        let (status, body) = self.send("POST", "v1/device/code", None, Some("{}".to_owned()))?;
        let code: DeviceCode = parse(&expect_ok(status, &body)?)?;
        check_text("userCode", &code.user_code, 64)?;
        check_text("verificationUri", &code.verification_uri, 2048)?;
        check_secret("deviceCode", &code.device_code)?;
        Ok(code)
    }

    /// `POST /v1/device/poll`.
    pub fn poll(&self, device_code: &SecretToken) -> Result<PollOutcome, BackendError> {
        let payload = Zeroizing::new(serde_json::json!({ "deviceCode": device_code.expose() }).to_string());
        let (status, body) = self.send("POST", "v1/device/poll", None, Some(payload.to_string()))?;
        match status {
            200 => {
                let done: SignedIn = parse(&body)?;
                check_signed_in(&done)?;
                Ok(PollOutcome::Complete(Box::new(done)))
            }
            202 => {
                let poll: PollBody = parse(&body)?;
                match poll.status.as_str() {
                    "pending" => Ok(PollOutcome::Pending { interval: poll.interval }),
                    "slow_down" => Ok(PollOutcome::SlowDown { interval: poll.interval }),
                    other => Err(BackendError::Protocol(format!("unknown poll status {:?}", trim(other)))),
                }
            }
            _ => Err(status_error(status, &body, None)),
        }
    }

    /// `POST /v1/installations/{id}/token`.
    pub fn installation_token(&self, session: &SecretToken, installation_id: u64) -> Result<InstallationToken, BackendError> {
        let path = format!("v1/installations/{installation_id}/token");
        let (status, body) = self.send("POST", &path, Some(session), Some("{}".to_owned()))?;
        let token: InstallationToken = parse(&expect_ok(status, &body)?)?;
        check_installation_token(&token, installation_id)?;
        Ok(token)
    }

    /// `POST /v1/session/refresh`.
    pub fn refresh(&self, session: &SecretToken, installation_id: u64) -> Result<Refreshed, BackendError> {
        let payload = serde_json::json!({ "installationId": installation_id }).to_string();
        let (status, body) = self.send("POST", "v1/session/refresh", Some(session), Some(payload))?;
        let refreshed: Refreshed = parse(&expect_ok(status, &body)?)?;
        check_installation_token(&refreshed.installation_token, installation_id)?;
        Ok(refreshed)
    }

    /// `POST /v1/session/logout`.
    pub fn logout(&self, session: &SecretToken) -> Result<(), BackendError> {
        let (status, body) = self.send("POST", "v1/session/logout", Some(session), Some("{}".to_owned()))?;
        expect_ok(status, &body).map(|_| ())
    }

    fn send(&self, method: &str, path: &str, bearer: Option<&SecretToken>, body: Option<String>) -> Result<(u16, String), BackendError> {
        let url = self.base.join(path).map_err(|e| BackendError::Protocol(format!("bad backend path {path}: {e}")))?;
        let authorization = bearer.map(|t| Zeroizing::new(format!("Bearer {}", t.expose())));
        let result = match (method, body) {
            ("GET", _) => {
                let mut req = self.agent.get(url.as_str()).header("Accept", "application/json");
                if let Some(a) = &authorization {
                    req = req.header("Authorization", a.as_str());
                }
                req.call()
            }
            (_, body) => {
                let mut req = self.agent.post(url.as_str()).header("Accept", "application/json").header("Content-Type", "application/json");
                if let Some(a) = &authorization {
                    req = req.header("Authorization", a.as_str());
                }
                req.send(body.unwrap_or_default())
            }
        };
        let mut response = result.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => BackendError::Protocol(format!("an answer over {MAX_RESPONSE_BYTES} bytes")),
                other => self.transport_error(other),
            })?;
        if status == 429 || (status >= 400 && retry_after.is_some()) {
            return Err(status_error(status, &text, retry_after));
        }
        Ok((status, text))
    }

    fn transport_error(&self, e: ureq::Error) -> BackendError {
        match e {
            ureq::Error::Timeout(_) => BackendError::Timeout(self.timeout),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => BackendError::Timeout(self.timeout),
            ureq::Error::Io(io) => BackendError::Network(io.kind().to_string()),
            ureq::Error::HostNotFound => BackendError::Network("the host name did not resolve".to_owned()),
            ureq::Error::ConnectionFailed => BackendError::Network("the connection failed".to_owned()),
            ureq::Error::Tls(why) => BackendError::Network(format!("TLS: {why}")),
            other => BackendError::Protocol(trim(&other.to_string())),
        }
    }
}

fn expect_ok(status: u16, body: &str) -> Result<String, BackendError> {
    if (200..300).contains(&status) { Ok(body.to_owned()) } else { Err(status_error(status, body, None)) }
}

fn status_error(status: u16, body: &str, retry_after: Option<u64>) -> BackendError {
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let code = parsed
        .error
        .filter(|c| !c.is_empty() && c.len() <= 64 && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        .unwrap_or_else(|| format!("http_{status}"));
    let message = parsed.message.map(|m| trim(&m)).filter(|m| !m.is_empty()).unwrap_or_else(|| format!("HTTP {status}"));
    BackendError::Status { status, code, message, retry_after }
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T, BackendError> {
    serde_json::from_str(body).map_err(|e| BackendError::Protocol(format!("{e}")))
}

/// A backend message as the app may show it: no control characters, at
/// most [`MAX_MESSAGE_CHARS`].
fn trim(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE_CHARS).collect::<String>().trim().to_owned()
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), BackendError> {
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(BackendError::Protocol(format!("{field} is empty, over {max} characters or has control characters")));
    }
    Ok(())
}

fn check_secret(field: &str, value: &SecretToken) -> Result<(), BackendError> {
    let v = value.expose();
    if v.is_empty() || v.len() > MAX_TOKEN_CHARS || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BackendError::Protocol(format!("{field} is empty, too long or not printable ASCII")));
    }
    Ok(())
}

fn check_signed_in(done: &SignedIn) -> Result<(), BackendError> {
    check_secret("session.token", &done.session.token)?;
    check_text("user.login", &done.user.login, 100)?;
    if let Some(name) = &done.user.name {
        check_text("user.name", name, 256)?;
    }
    if done.installations.len() > MAX_INSTALLATIONS {
        return Err(BackendError::Protocol(format!("more than {MAX_INSTALLATIONS} installations")));
    }
    for i in &done.installations {
        check_text("installations[].accountLogin", &i.account_login, 100)?;
        check_text("installations[].accountType", &i.account_type, 32)?;
    }
    Ok(())
}

fn check_installation_token(token: &InstallationToken, asked: u64) -> Result<(), BackendError> {
    if token.installation_id != asked {
        return Err(BackendError::Protocol(format!("a token for installation {} when {asked} was asked for", token.installation_id)));
    }
    check_text("accountLogin", &token.account_login, 100)?;
    check_secret("token", &token.token)?;
    if token.expires_at <= timestamp::now() - Duration::from_secs(24 * 3600) {
        return Err(BackendError::Protocol("a token that expired long ago".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_become_typed_errors_without_control_characters() {
        let e = status_error(403, r#"{"error":"access_denied","message":"The user said\nno"}"#, None);
        assert_eq!(e.status(), Some((403, "access_denied")));
        assert!(e.to_string().contains("The user saidno"), "{e}");
        let e = status_error(500, "<html>oops</html>", None);
        assert_eq!(e.status(), Some((500, "http_500")));
        let e = status_error(400, r#"{"error":"Weird Code!","message":""}"#, None);
        assert_eq!(e.status(), Some((400, "http_400")));
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(5000);
        let e = status_error(502, &format!(r#"{{"error":"github_unavailable","message":"{long}"}}"#), None);
        let BackendError::Status { message, .. } = e else { panic!("status") };
        assert_eq!(message.len(), MAX_MESSAGE_CHARS);
    }
}
