//! Fetching a key set from a URL for `jwt:verify-key-set-url` (issue 19):
//! opt-in per host, done by the host with the sign-in client's limits.
//!
//! - The URL is https (http only to this machine, for development and
//!   tests), without credentials or a fragment, at most 2 KiB.
//! - Its host (with a port other than the scheme's) must be on the user's
//!   list (`store::jwks_hosts`), which only the host's own dialog adds to.
//! - One GET, no redirects (a redirect could leave the allowed host), a
//!   10 s deadline for the whole exchange, `200` only, a body of at most
//!   64 KiB (the key set's cap) read before anything parses it.

use std::time::Duration;

use url::Url;

use crate::jwt::MAX_KEY_SET_BYTES;

/// The deadline for one fetch, connection to last byte.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest URL taken.
pub const MAX_URL_BYTES: usize = 2048;

/// Why a key set could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL is not one the host fetches.
    #[error("the key set URL is refused: {0}")]
    Url(String),
    /// No answer.
    #[error("the key set's host could not be reached ({0})")]
    Network(String),
    /// No answer in time.
    #[error("the key set's host did not answer within {0:?}")]
    Timeout(Duration),
    /// An answer that is not a key set: a status other than 200, a
    /// redirect, or a body over the cap.
    #[error("the key set's host answered {0}")]
    Answer(String),
}

/// A checked key set URL and the host it is allowed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUrl {
    /// The URL.
    pub url: Url,
    /// `host` or `host:port` (a port other than the scheme's), lowercase:
    /// what the user allows.
    pub host: String,
}

/// Checks `text` as a key set URL.
pub fn check_url(text: &str) -> Result<JwksUrl, FetchError> {
    let refuse = |why: &str| FetchError::Url(why.to_owned());
    if text.len() > MAX_URL_BYTES {
        return Err(refuse(&format!("it is over {MAX_URL_BYTES} bytes")));
    }
    let url = Url::parse(text.trim()).map_err(|e| refuse(&format!("not an absolute URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if crate::http::is_loopback(&url) => {}
        "http" => return Err(refuse("http is fetched only from this machine; use https")),
        other => return Err(refuse(&format!("the scheme {:?} (use https)", other.chars().take(16).collect::<String>()))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("credentials in the URL"));
    }
    if url.fragment().is_some() {
        return Err(refuse("a fragment"));
    }
    let Some(name) = url.host_str() else {
        return Err(refuse("no host"));
    };
    let host = match url.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_owned(),
    }
    .to_ascii_lowercase();
    Ok(JwksUrl { url, host })
}

/// GETs the key set at `url`: its text, at most the key set's cap.
pub fn fetch(url: &Url, timeout: Duration) -> Result<String, FetchError> {
    // No redirects: one could lead off the host the user allowed.
    let agent = crate::http::agent(timeout);
    let transport = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => FetchError::Timeout(timeout),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => FetchError::Timeout(timeout),
        ureq::Error::Io(io) => FetchError::Network(io.kind().to_string()),
        ureq::Error::HostNotFound => FetchError::Network("the host name did not resolve".into()),
        ureq::Error::ConnectionFailed => FetchError::Network("the connection failed".into()),
        ureq::Error::Tls(why) => FetchError::Network(format!("TLS: {why}")),
        ureq::Error::BodyExceedsLimit(_) => FetchError::Answer(format!("a body over {MAX_KEY_SET_BYTES} bytes")),
        other => FetchError::Answer(other.to_string().chars().take(200).collect()),
    };
    let mut response = agent.get(url.as_str()).header("accept", "application/jwk-set+json, application/json").call().map_err(transport)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(FetchError::Answer(format!("HTTP {status}, not 200")));
    }
    response.body_mut().with_config().limit(MAX_KEY_SET_BYTES as u64).read_to_string().map_err(transport)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_or_this_machines_http_are_fetched_and_the_host_keeps_its_port() {
        let ok = check_url("https://Login.Example.com/.well-known/jwks.json").expect("https");
        assert_eq!(ok.host, "login.example.com");
        assert_eq!(check_url("https://login.example.com:8443/keys?tenant=a").expect("port").host, "login.example.com:8443");
        assert_eq!(check_url("http://127.0.0.1:9000/jwks").expect("loopback").host, "127.0.0.1:9000");
        for (url, says) in [
            ("http://login.example.com/jwks", "only from this machine"),
            ("ftp://login.example.com/jwks", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("https://user:pw@login.example.com/jwks", "credentials"),
            ("https://login.example.com/jwks#frag", "fragment"),
            ("/relative/jwks", "absolute"),
        ] {
            let e = check_url(url).expect_err(url).to_string();
            assert!(e.contains(says), "{url}: {e}");
        }
        assert!(check_url(&format!("https://a.example/{}", "x".repeat(MAX_URL_BYTES))).is_err());
    }
}
