//! The UI's files, embedded at build time from `webview-assets/` (the two
//! pages, their ES modules in `ui/` and their styles in `styles/`, served as
//! they are: no bundler), and the headers every response carries.

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

// The globs are globset's, matched against paths relative to the folder.
// rust-embed builds them with `Glob::new`, whose `*` also matches `/`, so
// `*.js` already takes in `ui/dom.js`; the folder patterns say what is meant
// and would still hold if it did not. Excludes win over includes: the
// TypeScript checker's node_modules and hidden files (editor and lock
// files) never reach the binary.
#[derive(RustEmbed)]
#[folder = "../webview-assets/"]
#[include = "*.html"]
#[include = "*.js"]
#[include = "ui/**/*.js"]
#[include = "*.css"]
#[include = "styles/**/*.css"]
#[include = "*.svg"]
#[include = "*.png"]
#[exclude = "node_modules/**"]
#[exclude = "**/.*"]
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
    /// The file for a URL path, or `None`. Only files of the allowed kinds
    /// are served, at the top or in a folder (`ui/dom.js`,
    /// `styles/base.css`): no `..`, no hidden files or folders, nothing
    /// under `node_modules`, no directories.
    pub fn get(&self, url_path: &str) -> Option<Asset> {
        let name = match url_path.trim_start_matches('/') {
            "" => "index.html",
            other => other,
        };
        let content_type = content_type(name)?;
        if name.contains("..")
            || name.contains('\\')
            || name.starts_with('.')
            || name.contains("/.")
        {
            return None;
        }
        // The embedded files leave node_modules out; a `--dev-assets`
        // directory has it next to the page, and it is not the page's.
        if name.split('/').any(|segment| segment == "node_modules") {
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
        let main = AssetSource::Embedded
            .get("/main.js")
            .expect("the page's entry module");
        assert_eq!(main.content_type, "text/javascript; charset=utf-8");
        let module = AssetSource::Embedded
            .get("/ui/dom.js")
            .expect("a module in ui/");
        assert_eq!(module.content_type, "text/javascript; charset=utf-8");
        assert!(
            AssetSource::Embedded.get("/ui/profiles/form.js").is_some(),
            "a module two folders down"
        );
        let style = AssetSource::Embedded
            .get("/styles/base.css")
            .expect("a stylesheet in styles/");
        assert_eq!(style.content_type, "text/css; charset=utf-8");
        assert!(
            AssetSource::Embedded.get("/about.html").is_some(),
            "the about window's page"
        );
        assert!(AssetSource::Embedded.get("/about.js").is_some());
    }

    #[test]
    fn only_plain_files_of_known_kinds_are_served() {
        for path in [
            "/../Cargo.toml",
            "/bridge.d.ts",
            "/package.json",
            "/tsconfig.json",
            "/node_modules/typescript/package.json",
            "/node_modules/typescript/lib/tsc.js",
            "/.hidden.js",
            "/ui/.hidden.js",
            "/x/../main.js",
            "/ui/../main.js",
            "/ui",
        ] {
            assert!(AssetSource::Embedded.get(path).is_none(), "{path}");
        }
    }

    #[test]
    fn a_dev_assets_directory_serves_folders_but_not_node_modules_or_hidden_files() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (path, body) in [
            ("main.js", "main"),
            ("ui/dom.js", "dom"),
            ("styles/base.css", "base"),
            ("node_modules/pkg/index.js", "dependency"),
            ("ui/.hidden.js", "hidden"),
        ] {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().expect("a parent folder"))
                .expect("create the folder");
            std::fs::write(&file, body).expect("write the file");
        }
        let source = AssetSource::Directory(dir.path().to_path_buf());
        let module = source.get("/ui/dom.js").expect("ui/dom.js");
        assert_eq!(module.content_type, "text/javascript; charset=utf-8");
        assert_eq!(&module.body[..], b"dom".as_slice());
        assert!(source.get("/styles/base.css").is_some());
        for path in [
            "/node_modules/pkg/index.js",
            "/ui/.hidden.js",
            "/ui/../main.js",
            "/ui",
        ] {
            assert!(source.get(path).is_none(), "{path}");
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

    /// index.html preloads every module of ui/ (so the page's imports are
    /// fetched at once, not one level at a time), and nothing else.
    #[test]
    fn the_page_preloads_exactly_its_modules() {
        let index = AssetSource::Embedded.get("/").expect("index.html");
        let html = String::from_utf8_lossy(&index.body);
        let mut preloaded: Vec<&str> = html
            .split("<link rel=\"modulepreload\" href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        preloaded.sort_unstable();
        let mut modules: Vec<String> = Embedded::iter().filter(|name| name.starts_with("ui/") && name.ends_with(".js")).map(|n| n.into_owned()).collect();
        modules.sort_unstable();
        assert!(!modules.is_empty(), "ui/ has modules");
        assert_eq!(preloaded, modules, "index.html's modulepreload list and webview-assets/ui/ differ");
    }
}
