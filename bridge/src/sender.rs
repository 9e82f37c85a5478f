//! Who is calling, decided from the host's own state.
//!
//! The window adapter tells the bridge which webview a message came from
//! (it registered one handler per webview) and what URL that webview's main
//! frame shows (asked of WebKit, not of the page). The page proves it is the
//! app's own main-frame page with a per-webview secret, injected before any
//! page script runs, into the main frame only, inside a closure page
//! globals can't reach. Nothing in the payload takes part.

use serde::Serialize;
use subtle::ConstantTimeEq;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::envelope::SECRET_HEX_LEN;
use crate::error::{BridgeError, ErrorCode};

/// The app's own URL scheme; every page and asset is served through it.
pub const APP_SCHEME: &str = "tollgate";
/// The app's one origin. Compared exactly: no prefix, suffix or
/// case-folding match.
pub const APP_ORIGIN: &str = "tollgate://localhost";

/// The windows the app can open: a closed set, so limiter and subscription
/// state is keyed on it and never on a string a caller chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "TollgateWindow")]
pub enum WindowLabel {
    /// The main app window.
    Main,
    /// The about window: shows version and licences; may call almost nothing.
    About,
}

impl WindowLabel {
    /// Every window, in index order.
    pub const ALL: &'static [WindowLabel] = &[Self::Main, Self::About];

    /// The label as wry and the logs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::About => "about",
        }
    }

    /// Dense index for per-window tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label for a wry webview id, if it is one of ours.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|w| w.as_str() == label)
    }
}

/// A per-webview secret: 256 random bits, kept zeroizing, compared in
/// constant time.
pub struct PageSecret {
    bytes: Zeroizing<[u8; 32]>,
}

impl PageSecret {
    /// A fresh secret from the OS generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut())?;
        Ok(Self { bytes })
    }

    /// The hex form injected into the page. Handle as a secret.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.bytes.as_ref()))
    }

    /// Whether `presented` (hex, as sent) is this secret. Constant time in
    /// the secret's content; a wrong length fails before comparing.
    pub fn matches(&self, presented: &str) -> bool {
        if presented.len() != SECRET_HEX_LEN {
            return false;
        }
        let mut decoded = Zeroizing::new([0u8; 32]);
        if hex::decode_to_slice(presented, decoded.as_mut()).is_err() {
            return false;
        }
        bool::from(decoded.as_ref().ct_eq(self.bytes.as_ref()))
    }
}

impl std::fmt::Debug for PageSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageSecret(<redacted>)")
    }
}

/// Whether `url` is a page or resource of the app's own origin. Textual
/// and exact: the URL must begin with `tollgate://localhost` and the next
/// character, if any, must end the authority (`/`, `?`, `#`). So
/// `tollgate://localhost.evil`, `tollgate://localhostx`, `tollgate://localhost:1`,
/// `tollgate://user@localhost` and case variants all fail; WebKit reports
/// the main frame's URL in this canonical form.
pub fn is_app_url(url: &str) -> bool {
    url.strip_prefix(APP_ORIGIN).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
        && url::Url::parse(url).is_ok_and(|u| u.scheme() == APP_SCHEME && u.host_str() == Some("localhost"))
}

/// The origin part of a URL, for logs: scheme, host and port, never the
/// path or query (which can carry tokens), at most 100 characters.
pub fn origin_for_log(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.host_str() {
            Some(host) => format!("{}://{}{}", u.scheme(), host, u.port().map(|p| format!(":{p}")).unwrap_or_default()),
            None => format!("{}:", u.scheme()),
        },
        Err(_) => "<unparseable>".to_owned(),
    }
    .chars()
    .take(100)
    .collect()
}

/// The sender's check result for the webview that sent a message.
pub fn check_origin(page_url: &str) -> Result<(), BridgeError> {
    if is_app_url(page_url) {
        Ok(())
    } else {
        Err(BridgeError::new(ErrorCode::IpcForbidden, "the calling page is not the app's own origin"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_origin_is_matched_exactly() {
        for ok in ["tollgate://localhost/", "tollgate://localhost/index.html?x=1#y", "tollgate://localhost"] {
            assert!(is_app_url(ok), "{ok}");
        }
        for bad in [
            "tollgate://localhost.evil/",
            "tollgate://localhostx/",
            "tollgate://evil.localhost/",
            "tollgate://user@localhost/",
            "tollgate://localhost:8080/",
            "http://localhost/",
            "https://tollgate.localhost/",
            "TOLLGATE://LOCALHOST/",
            "data:text/html,hi",
            "blob:tollgate://localhost/1234",
            "about:blank",
            "",
            "tollgate:localhost",
        ] {
            assert!(!is_app_url(bad), "{bad}");
        }
    }

    #[test]
    fn secret_matches_only_itself() {
        let secret = PageSecret::generate().expect("random");
        let hex = secret.to_hex();
        assert!(secret.matches(&hex));
        let mut wrong = hex.to_string();
        let last = if wrong.ends_with('0') { "1" } else { "0" };
        wrong.replace_range(63..64, last);
        assert!(!secret.matches(&wrong));
        assert!(!secret.matches(&hex[..63]));
        assert!(!secret.matches(""));
        assert!(!secret.matches(&"z".repeat(64)));
        assert_eq!(format!("{secret:?}"), "PageSecret(<redacted>)");
    }

    #[test]
    fn logged_origin_drops_path_and_query() {
        assert_eq!(origin_for_log("tollgate://localhost/index.html?token=abc"), "tollgate://localhost");
        assert_eq!(origin_for_log("https://evil.example:8443/x?access_token=1"), "https://evil.example:8443");
        assert_eq!(origin_for_log("data:text/html,<script>"), "data:");
        assert_eq!(origin_for_log("not a url"), "<unparseable>");
    }

    #[test]
    fn window_labels_round_trip() {
        for w in WindowLabel::ALL {
            assert_eq!(WindowLabel::from_label(w.as_str()), Some(*w));
        }
        assert_eq!(WindowLabel::from_label("Main"), None);
    }
}
