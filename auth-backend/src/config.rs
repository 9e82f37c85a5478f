//! What the backend is told at start: where GitHub is, which GitHub App it
//! speaks for (client id, app id, the App's private key) and how long
//! sessions live.
//!
//! Trust: the operator. Everything here is still checked once
//! ([`Config::validate`]) before the server starts, so a typo fails at
//! start-up and not on the first sign-in.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Uri;
use jsonwebtoken::{Algorithm, EncodingKey};

/// Where the binary listens unless told otherwise: loopback only, so a
/// backend started for a try-out is not reachable from the network.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// GitHub's web origin, which serves the OAuth device-flow endpoints.
pub const DEFAULT_GITHUB_URL: &str = "https://github.com";
/// GitHub's REST API.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
/// How long a session lasts after sign-in or its last refresh. Eight hours
/// is also how long GitHub's expiring user access tokens live, and the
/// session needs that token to check installations.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// How long refreshes may keep one session alive at most: a stolen session
/// token must not stay useful forever just because it is refreshed.
pub const DEFAULT_SESSION_MAX_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How many device codes the whole process asks GitHub for per minute.
/// Each one costs a call against the App's GitHub quota; a client looping on
/// `/v1/device/code` must not spend it for everyone.
pub const DEFAULT_DEVICE_CODES_PER_MINUTE: NonZeroU32 = NonZeroU32::new(30).expect("30 is not zero");

/// The backend's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of GitHub's OAuth endpoints (`/login/device/code`,
    /// `/login/oauth/access_token`), without a trailing slash.
    pub github_url: String,
    /// Base URL of GitHub's REST API, without a trailing slash.
    pub github_api_url: String,
    /// The GitHub App's client id (public; the device flow uses no secret).
    pub client_id: String,
    /// The GitHub App's id: the `iss` of the App JWTs.
    pub app_id: String,
    /// The GitHub App's private key, which signs the App JWTs.
    pub app_key: AppPrivateKey,
    /// How long a session lasts after sign-in or its last refresh.
    pub session_ttl: Duration,
    /// The most a session can be extended to, counted from sign-in.
    pub session_max_lifetime: Duration,
    /// Device-code requests allowed per minute for the whole process.
    pub device_codes_per_minute: NonZeroU32,
}

impl Config {
    /// A configuration for the given App against github.com, with the
    /// default lifetimes and limits.
    pub fn new(client_id: impl Into<String>, app_id: impl Into<String>, app_key: AppPrivateKey) -> Self {
        Self {
            github_url: DEFAULT_GITHUB_URL.to_owned(),
            github_api_url: DEFAULT_GITHUB_API_URL.to_owned(),
            client_id: client_id.into(),
            app_id: app_id.into(),
            app_key,
            session_ttl: DEFAULT_SESSION_TTL,
            session_max_lifetime: DEFAULT_SESSION_MAX_LIFETIME,
            device_codes_per_minute: DEFAULT_DEVICE_CODES_PER_MINUTE,
        }
    }

    /// Checks everything that can be checked without calling GitHub and
    /// normalizes the base URLs (no trailing slash).
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        self.github_url = base_url("github-url", &self.github_url)?;
        self.github_api_url = base_url("github-api-url", &self.github_api_url)?;
        for (name, value) in [("client-id", &self.client_id), ("app-id", &self.app_id)] {
            if value.is_empty() || value.len() > MAX_ID_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::InvalidId { name });
            }
        }
        if self.session_ttl.is_zero() {
            return Err(ConfigError::InvalidSessionLifetime("the session ttl is zero"));
        }
        if self.session_max_lifetime < self.session_ttl {
            return Err(ConfigError::InvalidSessionLifetime("the session max lifetime is shorter than its ttl"));
        }
        Ok(self)
    }
}

/// GitHub's ids are short; anything longer is a pasted file, not an id.
const MAX_ID_LEN: usize = 128;

fn base_url(name: &'static str, value: &str) -> Result<String, ConfigError> {
    let trimmed = value.trim_end_matches('/');
    let invalid = |reason: &'static str| ConfigError::InvalidUrl { name, reason };
    let uri: Uri = trimmed.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        _ => return Err(invalid("the scheme must be https or http")),
    }
    if uri.authority().is_none() {
        return Err(invalid("no host"));
    }
    if uri.query().is_some() || trimmed.contains('#') {
        return Err(invalid("a base URL takes no query or fragment"));
    }
    Ok(trimmed.to_owned())
}

/// The GitHub App's private key, parsed and tried once at start-up.
#[derive(Clone)]
pub struct AppPrivateKey(Arc<EncodingKey>);

impl AppPrivateKey {
    /// Parses an RSA private key in PEM (PKCS#1, as GitHub hands it out, or
    /// PKCS#8) and signs a probe with it, so a key that cannot sign is
    /// refused here rather than on the first installation token.
    pub fn from_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|_| ConfigError::InvalidPrivateKey)?;
        jsonwebtoken::crypto::sign(b"probe", &key, Algorithm::RS256).map_err(|_| ConfigError::InvalidPrivateKey)?;
        Ok(Self(Arc::new(key)))
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.0
    }
}

impl fmt::Debug for AppPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppPrivateKey(<redacted>)")
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A base URL is not an absolute http(s) URL without query or fragment.
    #[error("invalid --{name}: {reason}")]
    InvalidUrl {
        /// Which setting.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The client id or app id is empty, too long or not printable ASCII.
    #[error("invalid --{name}: empty, over {MAX_ID_LEN} characters or not printable ASCII")]
    InvalidId {
        /// Which setting.
        name: &'static str,
    },
    /// The private key is not an RSA private key in PEM that can sign RS256.
    #[error("the app private key is not an RSA private key in PEM that can sign RS256")]
    InvalidPrivateKey,
    /// The session lifetimes do not make sense.
    #[error("invalid session lifetime: {0}")]
    InvalidSessionLifetime(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_lose_their_trailing_slash_and_keep_a_path() {
        assert_eq!(base_url("x", "https://github.com/").as_deref(), Ok("https://github.com"));
        assert_eq!(base_url("x", "https://ghe.example/api/v3/").as_deref(), Ok("https://ghe.example/api/v3"));
        assert_eq!(base_url("x", "http://127.0.0.1:9").as_deref(), Ok("http://127.0.0.1:9"));
    }

    #[test]
    fn base_urls_without_http_scheme_or_with_query_are_refused() {
        assert!(base_url("x", "github.com").is_err());
        assert!(base_url("x", "ftp://github.com").is_err());
        assert!(base_url("x", "https://github.com/?a=b").is_err());
        assert!(base_url("x", "https://github.com/#frag").is_err());
    }

    #[test]
    fn garbage_is_not_a_private_key() {
        assert_eq!(AppPrivateKey::from_pem(b"not a key").err(), Some(ConfigError::InvalidPrivateKey));
        let bogus = b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(AppPrivateKey::from_pem(bogus).err(), Some(ConfigError::InvalidPrivateKey));
    }
}
