//! GitHub as the backend reaches it: the OAuth device flow on the web
//! origin, and the REST API for the user, their installations and
//! installation tokens.
//!
//! Trust: GitHub is trusted for what it says, but its answers still cross
//! the network: bodies are size-capped, parsed into the few fields used, and
//! errors are reduced to a status and GitHub's snake-case error code. No
//! error or log line built here carries a token or a device code.
//!
//! The HTTP client is ureq (rustls with the ring provider), so each call
//! runs on tokio's blocking pool.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::app_jwt;
use crate::config::{AppPrivateKey, Config};
use crate::wire::{Installation, User};

/// Bounds every GitHub call (connect, send, receive): a stalled GitHub must
/// not hold a client's request, and a blocking-pool thread, for long.
pub const GITHUB_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest GitHub answer read. A page of 100 installations is a few
/// hundred KiB; anything far beyond that is not an answer we asked for.
pub const MAX_GITHUB_RESPONSE_BYTES: u64 = 2 * 1024 * 1024;
/// Installations per page of `GET /user/installations` (GitHub's maximum).
const INSTALLATIONS_PER_PAGE: usize = 100;
/// The most pages of installations read for one check: bounds the calls one
/// client request can cause. Users with more than 1000 installations of
/// this App are not a case this backend serves.
pub const MAX_INSTALLATION_PAGES: usize = 10;
/// The REST API version the requests are written against.
const API_VERSION: &str = "2022-11-28";
/// What GitHub sees as the client (it refuses requests without one).
pub const USER_AGENT: &str = "tollgate-auth-backend";
const DEVICE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// GitHub's OAuth error codes are short snake case; anything else from the
/// wire is not repeated.
const MAX_ERROR_CODE_LEN: usize = 64;

/// Why a GitHub call did not give what was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GithubError {
    /// No usable answer: connection refused, timeout, 5xx, an unreadable body.
    Unavailable(String),
    /// GitHub's rate limit (429, or 403 with the rate-limit headers).
    RateLimited {
        /// `Retry-After` as GitHub sent it, or derived from `x-ratelimit-reset`.
        retry_after: Option<HeaderValue>,
    },
    /// 401: the credential (user token, App JWT) was refused.
    Unauthorized,
    /// 404.
    NotFound,
    /// An OAuth error code this backend has no meaning for
    /// (`device_flow_disabled`, `incorrect_client_credentials`, ...).
    Refused(String),
    /// Any other status.
    Unexpected(u16),
}

impl GithubError {
    /// A short description for logs and 502 messages (never a secret).
    pub fn describe(&self) -> String {
        match self {
            Self::Unavailable(why) => why.clone(),
            Self::RateLimited { .. } => "rate limited".to_owned(),
            Self::Unauthorized => "GitHub answered 401".to_owned(),
            Self::NotFound => "GitHub answered 404".to_owned(),
            Self::Refused(code) => format!("GitHub refused the request ({code})"),
            Self::Unexpected(status) => format!("GitHub answered HTTP {status}"),
        }
    }
}

/// GitHub's answer to `POST /login/device/code`.
#[derive(Deserialize)]
pub struct DeviceCodeGrant {
    /// The device code (secret; it goes to the app, which polls with it).
    pub device_code: String,
    /// What the user types.
    pub user_code: String,
    /// Where they type it.
    pub verification_uri: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds between polls.
    pub interval: u64,
}

/// GitHub's answer to one poll of `POST /login/oauth/access_token`.
pub enum TokenPoll {
    /// Approved: the user's access token.
    Granted {
        /// The user access token (`ghu_...`). Never leaves the backend.
        access_token: Zeroizing<String>,
        /// Seconds until it expires, when the App has expiring user tokens.
        expires_in: Option<u64>,
    },
    /// `authorization_pending`.
    Pending,
    /// `slow_down`, with GitHub's new interval when it sent one.
    SlowDown(Option<u64>),
    /// `access_denied`.
    Denied,
    /// `expired_token`.
    Expired,
    /// `incorrect_device_code`.
    IncorrectDeviceCode,
}

/// An installation access token, as GitHub minted it.
pub struct MintedToken {
    /// `ghs_...`.
    pub token: Zeroizing<String>,
    /// When GitHub expires it.
    pub expires_at: OffsetDateTime,
}

/// The client. Cheap to share (`Arc`); each call runs on the blocking pool.
pub struct GithubClient {
    agent: ureq::Agent,
    oauth_base: String,
    api_base: String,
    client_id: String,
    app_id: String,
    app_key: AppPrivateKey,
}

impl GithubClient {
    /// A client for the GitHub `config` names (validated already).
    pub fn new(config: &Config) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(GITHUB_TIMEOUT))
            .http_status_as_error(false)
            // A redirect would carry a bearer token to wherever it points.
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .build()
            .into();
        Self {
            agent,
            oauth_base: config.github_url.clone(),
            api_base: config.github_api_url.clone(),
            client_id: config.client_id.clone(),
            app_id: config.app_id.clone(),
            app_key: config.app_key.clone(),
        }
    }

    /// `POST /login/device/code`.
    pub async fn device_code(self: &Arc<Self>) -> Result<DeviceCodeGrant, GithubError> {
        self.blocking(|gh| {
            let url = format!("{}/login/device/code", gh.oauth_base);
            let answer = read(gh.agent.post(&url).header("Accept", "application/json").send_form([("client_id", gh.client_id.as_str())]))?;
            answer.check_limits()?;
            if answer.status != 200 {
                return Err(answer.oauth_error().unwrap_or(GithubError::Unexpected(answer.status)));
            }
            if let Some(refused) = answer.oauth_error() {
                return Err(refused);
            }
            answer.json()
        })
        .await
    }

    /// One poll of `POST /login/oauth/access_token` for `device_code`.
    pub async fn poll_token(self: &Arc<Self>, device_code: Zeroizing<String>) -> Result<TokenPoll, GithubError> {
        self.blocking(move |gh| {
            let url = format!("{}/login/oauth/access_token", gh.oauth_base);
            let answer = read(gh.agent.post(&url).header("Accept", "application/json").send_form([
                ("client_id", gh.client_id.as_str()),
                ("device_code", device_code.as_str()),
                ("grant_type", DEVICE_GRANT_TYPE),
            ]))?;
            answer.check_limits()?;
            #[derive(Deserialize)]
            struct TokenAnswer {
                access_token: Option<String>,
                expires_in: Option<u64>,
                error: Option<String>,
                interval: Option<u64>,
            }
            // GitHub answers 200 for the flow's own errors; read the body for
            // any 2xx or 4xx and let its `error` decide.
            let parsed: Option<TokenAnswer> = serde_json::from_str(&answer.body).ok();
            let Some(parsed) = parsed else {
                return Err(GithubError::Unexpected(answer.status));
            };
            if let (200, Some(token)) = (answer.status, parsed.access_token) {
                return Ok(TokenPoll::Granted { access_token: Zeroizing::new(token), expires_in: parsed.expires_in });
            }
            match parsed.error.as_deref() {
                Some("authorization_pending") => Ok(TokenPoll::Pending),
                Some("slow_down") => Ok(TokenPoll::SlowDown(parsed.interval)),
                Some("access_denied") => Ok(TokenPoll::Denied),
                Some("expired_token") => Ok(TokenPoll::Expired),
                Some("incorrect_device_code") => Ok(TokenPoll::IncorrectDeviceCode),
                Some(other) => Err(GithubError::Refused(error_code(other))),
                None => Err(GithubError::Unexpected(answer.status)),
            }
        })
        .await
    }

    /// `GET /user` as the user.
    pub async fn user(self: &Arc<Self>, user_token: Zeroizing<String>) -> Result<User, GithubError> {
        self.blocking(move |gh| {
            #[derive(Deserialize)]
            struct GithubUser {
                id: u64,
                login: String,
                name: Option<String>,
                avatar_url: Option<String>,
            }
            let answer = gh.api_get("/user", &user_token)?;
            let user: GithubUser = answer.expect_json(200)?;
            Ok(User { id: user.id, login: user.login, name: user.name, avatar_url: user.avatar_url })
        })
        .await
    }

    /// `GET /user/installations` as the user: every installation of this
    /// App the user can reach (up to [`MAX_INSTALLATION_PAGES`] pages).
    pub async fn user_installations(self: &Arc<Self>, user_token: Zeroizing<String>) -> Result<Vec<Installation>, GithubError> {
        self.blocking(move |gh| {
            #[derive(Deserialize)]
            struct Page {
                total_count: usize,
                installations: Vec<GithubInstallation>,
            }
            #[derive(Deserialize)]
            struct GithubInstallation {
                id: u64,
                account: Account,
            }
            #[derive(Deserialize)]
            struct Account {
                login: String,
                #[serde(rename = "type")]
                kind: String,
            }
            let mut all = Vec::new();
            for page in 1..=MAX_INSTALLATION_PAGES {
                let path = format!("/user/installations?per_page={INSTALLATIONS_PER_PAGE}&page={page}");
                let answer: Page = gh.api_get(&path, &user_token)?.expect_json(200)?;
                let short_page = answer.installations.len() < INSTALLATIONS_PER_PAGE;
                all.extend(answer.installations.into_iter().map(|i| Installation {
                    id: i.id,
                    account_login: i.account.login,
                    account_type: i.account.kind,
                }));
                if short_page || all.len() >= answer.total_count {
                    break;
                }
            }
            Ok(all)
        })
        .await
    }

    /// `POST /app/installations/{id}/access_tokens` as the App.
    pub async fn create_installation_token(self: &Arc<Self>, installation_id: u64) -> Result<MintedToken, GithubError> {
        self.blocking(move |gh| {
            #[derive(Deserialize)]
            struct Minted {
                token: String,
                #[serde(with = "time::serde::rfc3339")]
                expires_at: OffsetDateTime,
            }
            let jwt = app_jwt::sign(&gh.app_id, &gh.app_key, OffsetDateTime::now_utc())
                .map_err(|e| GithubError::Unavailable(format!("could not sign the App JWT: {e}")))?;
            let url = format!("{}/app/installations/{installation_id}/access_tokens", gh.api_base);
            let answer = read(gh.api_headers(gh.agent.post(&url), &jwt).send_empty())?;
            let minted: Minted = answer.expect_json(201)?;
            Ok(MintedToken { token: Zeroizing::new(minted.token), expires_at: minted.expires_at })
        })
        .await
    }

    /// `DELETE /installation/token` with the token itself. A token GitHub no
    /// longer accepts (401) counts as revoked.
    pub async fn revoke_installation_token(self: &Arc<Self>, token: Zeroizing<String>) -> Result<(), GithubError> {
        self.blocking(move |gh| {
            let url = format!("{}/installation/token", gh.api_base);
            let answer = read(gh.api_headers(gh.agent.delete(&url), &token).call())?;
            answer.check_limits()?;
            match answer.status {
                204 | 401 => Ok(()),
                status => Err(GithubError::Unexpected(status)),
            }
        })
        .await
    }

    fn api_get(&self, path: &str, bearer: &str) -> Result<Answer, GithubError> {
        let url = format!("{}{path}", self.api_base);
        read(self.api_headers(self.agent.get(&url), bearer).call())
    }

    fn api_headers<B>(&self, request: ureq::RequestBuilder<B>, bearer: &str) -> ureq::RequestBuilder<B> {
        let authorization = Zeroizing::new(format!("Bearer {bearer}"));
        request
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .header("Authorization", authorization.as_str())
    }

    async fn blocking<T, F>(self: &Arc<Self>, call: F) -> Result<T, GithubError>
    where
        T: Send + 'static,
        F: FnOnce(&GithubClient) -> Result<T, GithubError> + Send + 'static,
    {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || call(&this))
            .await
            .map_err(|_| GithubError::Unavailable("the GitHub call did not finish".to_owned()))?
    }
}

/// A GitHub answer, read.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Zeroizing<String>,
}

fn read(result: Result<axum::http::Response<ureq::Body>, ureq::Error>) -> Result<Answer, GithubError> {
    let mut response = result.map_err(transport_error)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body =
        response.body_mut().with_config().limit(MAX_GITHUB_RESPONSE_BYTES).read_to_string().map(Zeroizing::new).map_err(transport_error)?;
    Ok(Answer { status, headers, body })
}

fn transport_error(e: ureq::Error) -> GithubError {
    let why = match e {
        ureq::Error::Timeout(_) => format!("no answer within {GITHUB_TIMEOUT:?}"),
        ureq::Error::HostNotFound => "the host name did not resolve".to_owned(),
        ureq::Error::ConnectionFailed => "the connection failed".to_owned(),
        ureq::Error::Io(io) => format!("connection error ({})", io.kind()),
        ureq::Error::Tls(why) => format!("TLS error ({why})"),
        ureq::Error::BodyExceedsLimit(limit) => format!("an answer over {limit} bytes"),
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => "GitHub redirected the request".to_owned(),
        other => format!("transport error ({other})"),
    };
    GithubError::Unavailable(why)
}

impl Answer {
    /// Rate limits and server errors, which mean the same on every endpoint.
    fn check_limits(&self) -> Result<(), GithubError> {
        let remaining_zero = self.header("x-ratelimit-remaining") == Some("0");
        let retry_after = self.headers.get("retry-after").filter(|v| is_sane_retry_after(v)).cloned();
        if self.status == 429 || (self.status == 403 && (remaining_zero || retry_after.is_some())) {
            let retry_after = retry_after.or_else(|| self.seconds_until_reset());
            return Err(GithubError::RateLimited { retry_after });
        }
        if self.status >= 500 {
            return Err(GithubError::Unavailable(format!("GitHub answered HTTP {}", self.status)));
        }
        Ok(())
    }

    fn expect_json<T: DeserializeOwned>(&self, expected: u16) -> Result<T, GithubError> {
        self.check_limits()?;
        match self.status {
            s if s == expected => self.json(),
            401 => Err(GithubError::Unauthorized),
            404 => Err(GithubError::NotFound),
            s => Err(GithubError::Unexpected(s)),
        }
    }

    fn json<T: DeserializeOwned>(&self) -> Result<T, GithubError> {
        // serde's message could quote the body (and so a token): drop it.
        serde_json::from_str(&self.body)
            .map_err(|_| GithubError::Unavailable(format!("GitHub's answer (HTTP {}) was not the expected JSON", self.status)))
    }

    /// An OAuth-style `{"error": "..."}` in the body, if there is one.
    fn oauth_error(&self) -> Option<GithubError> {
        #[derive(Deserialize)]
        struct OauthError {
            error: String,
        }
        let parsed: OauthError = serde_json::from_str(&self.body).ok()?;
        Some(GithubError::Refused(error_code(&parsed.error)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
    }

    fn seconds_until_reset(&self) -> Option<HeaderValue> {
        let reset: i64 = self.header("x-ratelimit-reset")?.parse().ok()?;
        let wait = (reset - OffsetDateTime::now_utc().unix_timestamp()).clamp(1, 3600);
        Some(HeaderValue::from(wait))
    }
}

/// `Retry-After` is copied only when it is what the header can be: delta
/// seconds or an HTTP date, short and printable.
fn is_sane_retry_after(value: &HeaderValue) -> bool {
    value.len() <= 64 && value.as_bytes().iter().all(|b| b.is_ascii_graphic() || *b == b' ')
}

/// An OAuth error code from the wire, kept only if it looks like one.
fn error_code(raw: &str) -> String {
    if !raw.is_empty() && raw.len() <= MAX_ERROR_CODE_LEN && raw.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        raw.to_owned()
    } else {
        "an unrecognized error".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &'static str)]) -> Answer {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        Answer { status, headers: map, body: Zeroizing::new(String::new()) }
    }

    #[test]
    fn a_403_is_a_rate_limit_only_with_the_rate_limit_headers() {
        assert_eq!(answer(403, &[]).check_limits(), Ok(()));
        let limited = answer(403, &[("x-ratelimit-remaining", "0")]).check_limits();
        assert!(matches!(limited, Err(GithubError::RateLimited { retry_after: None })), "{limited:?}");
        let secondary = answer(403, &[("retry-after", "30")]).check_limits();
        assert_eq!(secondary, Err(GithubError::RateLimited { retry_after: Some(HeaderValue::from_static("30")) }));
    }

    #[test]
    fn a_429_copies_retry_after_and_5xx_is_unavailable() {
        let limited = answer(429, &[("retry-after", "7")]).check_limits();
        assert_eq!(limited, Err(GithubError::RateLimited { retry_after: Some(HeaderValue::from_static("7")) }));
        assert!(matches!(answer(503, &[]).check_limits(), Err(GithubError::Unavailable(_))));
    }

    #[test]
    fn odd_error_codes_are_not_repeated() {
        assert_eq!(error_code("device_flow_disabled"), "device_flow_disabled");
        assert_eq!(error_code("ghu_SECRET"), "an unrecognized error");
        assert_eq!(error_code(&"a".repeat(65)), "an unrecognized error");
    }
}
