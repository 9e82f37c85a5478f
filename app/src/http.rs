//! The host's HTTP client settings, one place for the sign-in backend's
//! client and the key set fetch: a deadline for the whole exchange, no
//! redirects (one could lead off the host the user or the app chose, and
//! carry a bearer token there), statuses read as answers, not errors.

use std::time::Duration;

use url::Url;

/// A client bounded by `timeout` per request, following no redirect.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Whether `url` names this machine (127.0.0.0/8, ::1, `localhost`): the
/// one place plain http is allowed.
pub fn is_loopback(url: &Url) -> bool {
    matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost")
}
