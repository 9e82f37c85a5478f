//! The plugin author's kit: `tollgate plugin new` lays out a guest crate
//! from a world the host serves, `tollgate plugin pack` makes the
//! loadable package (component + manifest with its SHA-256), and the
//! scaffold's `calls.json` is the test `tollgate plugin test` runs through
//! the real runtime.
//!
//! A scaffolded crate is self-contained: the world's WIT is copied into
//! its `wit/` (as cargo-component does), so it builds wherever it is put.
//! Inside `guest-plugins/` it joins that workspace; elsewhere it carries
//! its own workspace table, release profile, lock file and target flags.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::runtime::policy::HostPolicy;
use crate::runtime::{Manifest, component_sha256};

/// The JWT package's WIT, as the host serves it.
const JWT_WIT: &str = include_str!("../../wit/jwt@0.3/jwt.wit");
/// The linter package's WIT.
const LINT_WIT: &str = include_str!("../../wit/lint@0.1/lint.wit");
/// The first-party claims linter: the template of a `claims-linter` plugin.
const LINTER_SOURCE: &str = include_str!("../../guest-plugins/claims-linter/src/lib.rs");
/// The host package's WIT.
const HOST_WIT: &str = include_str!("../../wit/host@0.2/host.wit");
/// The first-party signer: the template of a `jwt-signer` plugin (one
/// source of truth; a scaffold starts from working code).
const SIGNER_SOURCE: &str = include_str!("../../guest-plugins/jwt-signer/src/lib.rs");
/// The guest workspace's lock file: a standalone scaffold builds with the
/// same dependency versions the first-party guests are tested with.
const GUEST_LOCK: &str = include_str!("../../guest-plugins/Cargo.lock");
/// The canonical signing crate every signer must sign with (the host
/// accepts only its signature, byte for byte). A standalone scaffold gets
/// a copy under `vendor/`, with a manifest of its own (the crate's inherits
/// from this repository's workspace).
const CANONICAL_SOURCE: &str = include_str!("../../jwt-canonical/src/lib.rs");
/// The crate's own manifest: the vendored copy's `[dependencies]` are
/// taken from it, so the two can't drift apart.
const CANONICAL_CRATE_MANIFEST: &str = include_str!("../../jwt-canonical/Cargo.toml");

/// The vendored copy's manifest: a package header of its own (the crate's
/// inherits from this repository's workspace) and the crate's
/// `[dependencies]` section as it is.
fn canonical_manifest() -> String {
    let deps = CANONICAL_CRATE_MANIFEST
        .split_once("[dependencies]")
        .map(|(_, rest)| rest.split("\n[").next().unwrap_or(rest))
        .unwrap_or_default();
    format!(
        "[package]\nname = \"tollgate-jwt-canonical\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\
         description = \"Tollgate's canonical JWT signatures (vendored by `tollgate plugin new`; do not edit: the host accepts only these bytes).\"\n\n\
         [dependencies]{deps}"
    )
}

/// The guests' target flags (wide arithmetic, which the engine enables).
const GUEST_CARGO_CONFIG: &str = include_str!("../../guest-plugins/.cargo/config.toml");

/// A fixed HS256 token over `{"sub":"scaffold-test","exp":4102444800}`
/// with [`TEST_SECRET`], for the scaffold's decode and verify calls.
const TEST_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzY2FmZm9sZC10ZXN0IiwiZXhwIjo0MTAyNDQ0ODAwfQ._U5AiD3Ykq88zgIbLYKJWceTL-2dtG6Rb6obElMe1oQ";
/// The HMAC secret of the scaffold's test calls (test data, not a secret).
const TEST_SECRET: &str = "scaffold-test-secret-of-at-least-32-bytes";

/// A world a plugin can be scaffolded for.
struct Template {
    world: &'static str,
    /// (path in the crate, contents).
    wit: &'static [(&'static str, &'static str)],
    /// `src/lib.rs`, with the WIT path the template uses and what it becomes.
    source: &'static str,
    source_wit_path: &'static str,
    /// Dependencies beyond wit-bindgen: (name, version and features).
    deps: &'static [(&'static str, &'static str)],
    /// `[quotas.<fn>]` lines for the manifest.
    quotas: &'static [(&'static str, u32, u32)],
    /// Whether the plugin signs with `tollgate-jwt-canonical`.
    canonical: bool,
    /// The calls of the scaffold's test.
    calls: fn() -> Value,
}

const TEMPLATES: &[Template] = &[Template {
    world: "tollgate:jwt/jwt-signer@0.3.0",
    wit: &[("wit/jwt.wit", JWT_WIT), ("wit/deps/host/host.wit", HOST_WIT)],
    source: SIGNER_SOURCE,
    source_wit_path: "\"../../wit/jwt@0.3\"",
    deps: &[
        ("jsonwebtoken", r#"{ version = "11.1", default-features = false, features = ["use_pem", "rust_crypto"] }"#),
        ("serde_json", r#"{ version = "1", features = ["raw_value"] }"#),
        ("base64", r#""0.22""#),
    ],
    quotas: &[("sign", 200, 50), ("decode", 500, 100), ("verify", 200, 50)],
    canonical: true,
    calls: signer_calls,
}, Template {
    world: "tollgate:lint/claims-linter@0.1.0",
    wit: &[("wit/lint.wit", LINT_WIT)],
    source: LINTER_SOURCE,
    source_wit_path: "\"../../wit/lint@0.1\"",
    deps: &[("serde_json", r#"{ version = "1", features = ["float_roundtrip"] }"#)],
    quotas: &[("lint", 100, 50)],
    canonical: false,
    calls: linter_calls,
}];

fn linter_calls() -> Value {
    serde_json::json!([
        { "function": "lint", "args": { "claims": { "iss": "me", "aud": "api", "sub": "x" } }, "expect": { "findings": [] } },
        { "function": "lint", "args": { "claims": { "sub": "x" } }, "expect": { "findings": [{ "code": "MISSING_AUD" }, { "code": "MISSING_ISS" }] } },
        { "function": "lint", "args": { "claims": { "iss": "me", "aud": "api", "email": "a@b.example" } }, "expect": { "findings": [{ "code": "PERSONAL_DATA", "path": "email" }] } }
    ])
}

fn signer_calls() -> Value {
    serde_json::json!([
        { "function": "sign", "args": { "alg": "HS256", "key": TEST_SECRET, "claims": { "sub": "scaffold-test", "exp": 4102444800u64 } }, "expect": "ok" },
        { "function": "decode", "args": { "token": TEST_TOKEN }, "expect": { "payload": { "sub": "scaffold-test" } } },
        { "function": "verify", "args": { "token": TEST_TOKEN, "key": TEST_SECRET, "allowed": ["HS256"] }, "expect": { "claims": { "sub": "scaffold-test" } } },
        { "function": "verify", "args": { "token": TEST_TOKEN, "key": "another-secret-of-at-least-32-bytes!!", "allowed": ["HS256"] }, "expect": { "error": "INVALID_SIGNATURE" } }
    ])
}

/// The worlds `plugin new` knows.
pub fn scaffold_worlds() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.world).collect()
}

/// Why scaffolding or packing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// The name is not a plugin name.
    #[error("`{0}` is not a plugin name: use 1-64 lowercase letters, digits and `-`, not starting with `-`")]
    BadName(String),
    /// No template for that world.
    #[error("no template for world `{world}`; `plugin new` knows {known}")]
    UnknownWorld {
        /// What was asked for.
        world: String,
        /// What there is.
        known: String,
    },
    /// The crate directory exists.
    #[error("{0} already exists; pick another name or remove it")]
    Exists(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// The manifest is not one the host would load.
    #[error("{0}")]
    Manifest(String),
}

/// What `plugin new` made.
#[derive(Debug)]
pub struct Scaffolded {
    /// The crate's directory.
    pub dir: PathBuf,
    /// Whether it joined the `guest-plugins` workspace there.
    pub workspace_member: bool,
    /// The component the build produces, relative to the target directory.
    pub artifact: String,
}

fn write(path: &Path, contents: &str) -> Result<(), ScaffoldError> {
    let io = |source| ScaffoldError::Io { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, contents).map_err(io)
}

/// Lays out plugin `name` for `world` in `parent/name`.
pub fn scaffold(name: &str, world: &str, parent: &Path) -> Result<Scaffolded, ScaffoldError> {
    let name_ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if !name_ok {
        return Err(ScaffoldError::BadName(name.to_owned()));
    }
    let template = TEMPLATES.iter().find(|t| t.world == world).ok_or_else(|| ScaffoldError::UnknownWorld {
        world: world.to_owned(),
        known: scaffold_worlds().join(", "),
    })?;
    let dir = parent.join(name);
    if dir.exists() {
        return Err(ScaffoldError::Exists(dir));
    }
    let workspace = parent.join("Cargo.toml");
    let workspace_member = std::fs::read_to_string(&workspace).is_ok_and(|t| t.contains("[workspace]"));

    let manifest = manifest_text(name, template);
    Manifest::parse(&manifest, &HostPolicy::default()).map_err(|e| ScaffoldError::Manifest(e.to_string()))?;

    write(&dir.join("Cargo.toml"), &cargo_toml(name, template, workspace_member))?;
    write(&dir.join("src/lib.rs"), &lib_rs(name, template))?;
    if template.canonical && !workspace_member {
        write(&dir.join("vendor/tollgate-jwt-canonical/Cargo.toml"), &canonical_manifest())?;
        write(&dir.join("vendor/tollgate-jwt-canonical/src/lib.rs"), CANONICAL_SOURCE)?;
    }
    for (path, text) in template.wit {
        write(&dir.join(path), text)?;
    }
    write(&dir.join("tollgate.toml"), &manifest)?;
    let calls = serde_json::to_string_pretty(&(template.calls)()).unwrap_or_default();
    write(&dir.join("calls.json"), &format!("{calls}\n"))?;
    if workspace_member {
        add_member(&workspace, name)?;
    } else {
        write(&dir.join("Cargo.lock"), GUEST_LOCK)?;
        write(&dir.join(".cargo/config.toml"), GUEST_CARGO_CONFIG)?;
    }
    Ok(Scaffolded { dir, workspace_member, artifact: format!("wasm32-wasip2/release/{}.wasm", name.replace('-', "_")) })
}

fn manifest_text(name: &str, t: &Template) -> String {
    let mut text = format!(
        "# Plugin manifest, read by the host before the component is compiled\n\
         # (docs/plugin-guide.md). `tollgate plugin pack` adds the component's sha256.\n\
         name = \"{name}\"\nversion = \"0.1.0\"\nworld = \"{}\"\n\n[limits]\ndeadline-ms = 2000\nmemory-mib = 64\n",
        t.world
    );
    for (function, per_second, burst) in t.quotas {
        text.push_str(&format!("\n[quotas.{function}]\nper-second = {per_second}\nburst = {burst}\n"));
    }
    text
}

fn cargo_toml(name: &str, t: &Template, member: bool) -> String {
    let mut text = format!(
        "[package]\nname = \"{name}\"\ndescription = \"A Tollgate plugin for {}.\"\nedition = \"2024\"\nversion = \"0.1.0\"\npublish = false\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
         wit-bindgen = {{ version = \"0.61\", default-features = false, features = [\"macros\", \"realloc\", \"std\"] }}\n",
        t.world
    );
    for (dep, spec) in t.deps {
        text.push_str(&format!("{dep} = {spec}\n"));
    }
    if t.canonical {
        // The host accepts only this crate's signature, byte for byte.
        text.push_str(if member {
            "tollgate-jwt-canonical = { workspace = true }\n"
        } else {
            "tollgate-jwt-canonical = { path = \"vendor/tollgate-jwt-canonical\" }\n"
        });
    }
    if !member {
        text.push_str(
            "\n# A workspace of its own, built for wasm32-wasip2 (see .cargo/config.toml).\n[workspace]\n\n\
             [profile.release]\nopt-level = 3\nlto = true\ncodegen-units = 1\npanic = \"abort\"\nstrip = \"debuginfo\"\n",
        );
    }
    text
}

fn lib_rs(name: &str, t: &Template) -> String {
    // The first-party source also builds against older API versions (the
    // lines between the `scaffold: cut` marks, behind a feature); a new
    // plugin starts on the current one only.
    let mut cutting = false;
    let body: Vec<&str> = t
        .source
        .lines()
        .skip_while(|l| l.starts_with("//!"))
        .filter(|l| {
            let mark = l.trim();
            if mark == "// scaffold: cut-start" {
                cutting = true;
            } else if mark == "// scaffold: cut-end" {
                cutting = false;
                return false;
            }
            // The current version's own `cfg` (on when no older one is).
            let own_cfg = mark.starts_with("#[cfg(") && mark.contains("host-api-v0-");
            !cutting && !own_cfg
        })
        .collect();
    let header = format!(
        "//! `{name}`: a Tollgate plugin for the `{}` world, scaffolded by\n\
         //! `tollgate plugin new` from the first-party implementation. Build it with\n\
         //! `just plugin {name}` (or cargo for wasm32-wasip2); `calls.json` is its test.\n",
        t.world
    );
    format!("{header}{}\n", body.join("\n").replace(t.source_wit_path, "\"wit\""))
}

/// Adds `name` to the `members` of the workspace at `path`.
fn add_member(path: &Path, name: &str) -> Result<(), ScaffoldError> {
    let io = |source| ScaffoldError::Io { path: path.to_path_buf(), source };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut doc: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| ScaffoldError::Manifest(format!("{}: {e}", path.display())))?;
    let members = doc["workspace"]["members"]
        .as_array_mut()
        .ok_or_else(|| ScaffoldError::Manifest(format!("{} has no workspace.members list", path.display())))?;
    if !members.iter().any(|m| m.as_str() == Some(name)) {
        members.push(name);
    }
    std::fs::write(path, doc.to_string()).map_err(io)
}

/// Records `wasm`'s SHA-256 in the manifest at `manifest` (keeping its
/// comments and layout); returns the hash.
pub fn record_hash(wasm: &[u8], manifest: &Path) -> Result<String, ScaffoldError> {
    let io = |source| ScaffoldError::Io { path: manifest.to_path_buf(), source };
    let text = std::fs::read_to_string(manifest).map_err(io)?;
    let mut doc: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| ScaffoldError::Manifest(format!("{}: {e}", manifest.display())))?;
    let hash = component_sha256(wasm);
    doc["sha256"] = toml_edit::value(hash.clone());
    let text = doc.to_string();
    Manifest::parse(&text, &HostPolicy::default()).map_err(|e| ScaffoldError::Manifest(e.to_string()))?;
    std::fs::write(manifest, text).map_err(io)?;
    Ok(hash)
}

/// Makes `out/` the loadable package: `<name>.wasm` and `tollgate.toml`
/// (the crate's manifest with the component's SHA-256). Returns the
/// component's path there.
pub fn pack(crate_dir: &Path, wasm: &Path, out: &Path) -> Result<PathBuf, ScaffoldError> {
    let manifest_src = crate_dir.join("tollgate.toml");
    let text = std::fs::read_to_string(&manifest_src).map_err(|source| ScaffoldError::Io { path: manifest_src.clone(), source })?;
    let manifest = Manifest::parse(&text, &HostPolicy::default()).map_err(|e| ScaffoldError::Manifest(e.to_string()))?;
    let bytes = std::fs::read(wasm).map_err(|source| ScaffoldError::Io { path: wasm.to_path_buf(), source })?;
    std::fs::create_dir_all(out).map_err(|source| ScaffoldError::Io { path: out.to_path_buf(), source })?;
    let target = out.join(format!("{}.wasm", manifest.name));
    let manifest_out = out.join("tollgate.toml");
    // The manifest first, the component last: a watcher that sees a new
    // component finds its hash already recorded.
    let tmp_manifest = out.join(".tollgate.toml.tmp");
    write(&tmp_manifest, &text)?;
    record_hash(&bytes, &tmp_manifest)?;
    let tmp_wasm = out.join(format!(".{}.wasm.tmp", manifest.name));
    std::fs::write(&tmp_wasm, &bytes).map_err(|source| ScaffoldError::Io { path: tmp_wasm.clone(), source })?;
    std::fs::rename(&tmp_manifest, &manifest_out).map_err(|source| ScaffoldError::Io { path: manifest_out.clone(), source })?;
    std::fs::rename(&tmp_wasm, &target).map_err(|source| ScaffoldError::Io { path: target.clone(), source })?;
    Ok(target)
}

/// One call of a plugin's test (`calls.json`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCall {
    /// The export.
    pub function: String,
    /// Its arguments, as `tollgate plugin call --args` takes them.
    pub args: Value,
    /// `"ok"`, an object the result must contain, or `{ "error": CODE }`.
    pub expect: Value,
}

/// Reads `calls.json` in `crate_dir`.
pub fn read_calls(crate_dir: &Path) -> Result<Vec<TestCall>, ScaffoldError> {
    let path = crate_dir.join("calls.json");
    let text = std::fs::read_to_string(&path).map_err(|source| ScaffoldError::Io { path: path.clone(), source })?;
    serde_json::from_str(&text).map_err(|e| ScaffoldError::Manifest(format!("{}: {e}", path.display())))
}

/// Whether `outcome` (the result, or the error code) is what `expect` asks.
pub fn judge(expect: &Value, outcome: &Result<Value, String>) -> Result<(), String> {
    match (expect, outcome) {
        (Value::String(s), Ok(_)) if s == "ok" => Ok(()),
        (Value::Object(o), Err(code)) if o.len() == 1 && o.contains_key("error") => {
            if o["error"].as_str() == Some(code.as_str()) { Ok(()) } else { Err(format!("failed with {code}, expected {}", o["error"])) }
        }
        (Value::Object(o), Ok(_)) if o.len() == 1 && o.contains_key("error") => Err(format!("succeeded, expected {}", o["error"])),
        (Value::Object(_), Ok(result)) => {
            if contains(result, expect) { Ok(()) } else { Err(format!("got {result}, which does not contain {expect}")) }
        }
        (_, Err(code)) => Err(format!("failed with {code}")),
        (other, Ok(_)) => Err(format!("`expect` must be \"ok\", an object, or {{\"error\": CODE}}; got {other}")),
    }
}

/// Whether `have` contains everything in `want` (objects by key, recursively;
/// arrays of the same length element by element).
fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w.iter().all(|(k, v)| h.get(k).is_some_and(|hv| contains(hv, v))),
        (Value::Array(h), Value::Array(w)) => h.len() == w.len() && h.iter().zip(w).all(|(hv, wv)| contains(hv, wv)),
        (Value::String(h), Value::Object(_)) => serde_json::from_str::<Value>(h).is_ok_and(|parsed| contains(&parsed, want)),
        (h, w) => h == w,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_and_unknown_worlds_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(matches!(scaffold("Bad_Name", TEMPLATES[0].world, dir.path()), Err(ScaffoldError::BadName(_))));
        assert!(matches!(scaffold("ok", "tollgate:nope/x@1.0.0", dir.path()), Err(ScaffoldError::UnknownWorld { .. })));
    }

    #[test]
    fn a_scaffold_is_self_contained_outside_a_workspace() {
        let dir = tempfile::tempdir().expect("dir");
        let made = scaffold("demo", TEMPLATES[0].world, dir.path()).expect("scaffold");
        assert!(!made.workspace_member);
        let lib = std::fs::read_to_string(made.dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("path: \"wit\"") && !lib.contains("../../wit"));
        assert!(!lib.contains("host-api-v0-") && !lib.contains("scaffold: cut"), "older-version bindings are not scaffolded");
        for f in ["Cargo.toml", "Cargo.lock", ".cargo/config.toml", "tollgate.toml", "calls.json", "wit/jwt.wit", "wit/deps/host/host.wit"] {
            assert!(made.dir.join(f).is_file(), "{f}");
        }
        assert!(matches!(scaffold("demo", TEMPLATES[0].world, dir.path()), Err(ScaffoldError::Exists(_))));
    }

    #[test]
    fn a_linter_scaffold_carries_the_lint_wit() {
        let dir = tempfile::tempdir().expect("dir");
        let made = scaffold("my-linter", "tollgate:lint/claims-linter@0.1.0", dir.path()).expect("scaffold");
        assert!(made.dir.join("wit/lint.wit").is_file());
        let lib = std::fs::read_to_string(made.dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("path: \"wit\""), "{lib}");
        assert!(std::fs::read_to_string(made.dir.join("tollgate.toml")).expect("manifest").contains("[quotas.lint]"));
    }

    #[test]
    fn judging_expectations() {
        let ok: Result<Value, String> = Ok(serde_json::json!({ "payload": "{\"sub\":\"a\",\"exp\":1}" }));
        assert!(judge(&Value::from("ok"), &ok).is_ok());
        assert!(judge(&serde_json::json!({ "payload": { "sub": "a" } }), &ok).is_ok());
        assert!(judge(&serde_json::json!({ "payload": { "sub": "b" } }), &ok).is_err());
        assert!(judge(&serde_json::json!({ "error": "X" }), &Err("X".into())).is_ok());
        assert!(judge(&serde_json::json!({ "error": "X" }), &Err("Y".into())).is_err());
        assert!(judge(&Value::from("ok"), &Err("Y".into())).is_err());
    }
}
