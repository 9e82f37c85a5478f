//! The UI's files, embedded at build time from `webview-assets/`, and the
//! headers every response carries.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rust_embed::RustEmbed;

/// The page's Content-Security-Policy: nothing inline, no eval, nothing
/// remote, no frames, no workers, no forms, no plugins. Scripts and
/// styles come only from the app's own origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; media-src 'none'; object-src 'none'; \
frame-src 'none'; child-src 'none'; worker-src 'none'; frame-ancestors 'none'; form-action 'none'; \
base-uri 'none'; manifest-src 'none'";

/// Headers on every asset response besides the CSP.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
];

#[derive(RustEmbed)]
#[folder = "../webview-assets/"]
#[include = "*.html"]
#[include = "*.js"]
#[include = "*.css"]
#[include = "*.svg"]
#[include = "*.png"]
#[exclude = "node_modules/*"]
struct Embedded;

/// Where the UI's files come from.
#[derive(Debug, Clone)]
pub enum AssetSource {
    /// Embedded in the binary (the default).
    Embedded,
    /// A directory on disk (the `--dev-assets` flag), read on every request.
    Directory(PathBuf),
}

/// A served file.
pub struct Asset {
    /// The bytes.
    pub body: Cow<'static, [u8]>,
    /// Its content type.
    pub content_type: &'static str,
}

impl AssetSource {
    /// The file for a URL path, or `None`. Only plain names of the allowed
    /// kinds are served: no `..`, no hidden files, no directories.
    pub fn get(&self, url_path: &str) -> Option<Asset> {
        let name = match url_path.trim_start_matches('/') {
            "" => "index.html",
            other => other,
        };
        let content_type = content_type(name)?;
        if name.contains("..") || name.contains('\\') || name.starts_with('.') || name.contains("/.") {
            return None;
        }
        let body = match self {
            Self::Embedded => Embedded::get(name)?.data,
            Self::Directory(dir) => Cow::Owned(read_under(dir, name)?),
        };
        Some(Asset { body, content_type })
    }
}

fn read_under(dir: &Path, name: &str) -> Option<Vec<u8>> {
    let path = dir.join(name);
    let canonical = path.canonicalize().ok()?;
    let root = dir.canonicalize().ok()?;
    if !canonical.starts_with(&root) {
        return None;
    }
    std::fs::read(canonical).ok()
}

fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_script_are_embedded() {
        let index = AssetSource::Embedded.get("/").expect("index.html");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert!(AssetSource::Embedded.get("/app.js").is_some());
        assert!(AssetSource::Embedded.get("/about.html").is_some(), "the about window's page");
        assert!(AssetSource::Embedded.get("/about.js").is_some());
    }

    #[test]
    fn only_plain_files_of_known_kinds_are_served() {
        for path in ["/../Cargo.toml", "/bridge.d.ts", "/package.json", "/node_modules/typescript/package.json", "/.hidden.js", "/x/../app.js"] {
            assert!(AssetSource::Embedded.get(path).is_none(), "{path}");
        }
    }

    #[test]
    fn csp_forbids_inline_eval_and_remote() {
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'none'"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-eval"));
        assert!(!CONTENT_SECURITY_POLICY.contains("http"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-src 'none'"));
    }
}
