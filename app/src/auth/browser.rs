//! Opening the verification page. The address comes from the backend, so
//! it is checked before anything opens it: `https`, no user info, the
//! default port, and a host on the allowlist (exactly; no suffix match, so
//! `github.com.evil.example` is not `github.com`). Anything else is refused
//! and logged as a security event, and the sign-in attempt stops: the page
//! is not shown an address the host would not open.

use url::Url;

/// Opens a checked address in the user's browser.
pub trait BrowserOpener: Send + Sync {
    /// Opens `url`; the error says why not (shown to nobody but the log).
    fn open(&self, url: &Url) -> Result<(), String>;
}

/// The system's browser, through the `webbrowser` crate (`$BROWSER`, then
/// `xdg-open` and friends on Linux).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemBrowser;

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        webbrowser::open(url.as_str()).map_err(|e| e.to_string())
    }
}

/// Checks a verification address against `allowed_hosts`.
pub fn check_verification_uri(uri: &str, allowed_hosts: &[String]) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|e| format!("not an absolute URL ({e})"))?;
    if url.scheme() != "https" {
        return Err(format!("scheme {:?} (only https is opened)", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the address carries user info".to_owned());
    }
    if url.port().is_some() {
        return Err("the address names a port".to_owned());
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if !allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(format!("host {host:?} is not on the allowlist ({})", allowed_hosts.join(", ")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> Vec<String> {
        vec!["github.com".to_owned()]
    }

    #[test]
    fn github_https_is_allowed() {
        assert!(check_verification_uri("https://github.com/login/device", &allow()).is_ok());
        assert!(check_verification_uri("https://GitHub.com/login/device", &allow()).is_ok());
    }

    #[test]
    fn everything_else_is_refused_with_the_reason() {
        for (uri, why) in [
            ("http://github.com/login/device", "scheme"),
            ("https://github.com.evil.example/login/device", "allowlist"),
            ("https://evil.example/github.com", "allowlist"),
            ("https://user:pw@github.com/", "user info"),
            ("https://github.com:8443/", "port"),
            ("javascript:alert(1)", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("/login/device", "absolute"),
        ] {
            let err = check_verification_uri(uri, &allow()).expect_err(uri);
            assert!(err.contains(why), "{uri}: {err}");
        }
    }
}
