//! The plugin author's kit: a scaffolded plugin builds and passes its own
//! test through the real runtime with no edits; its package records the
//! component's SHA-256, and a component that does not match is refused at
//! load naming both hashes.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tollgate::guest_artifacts as artifacts;
use tollgate::runtime::worlds::JwtSignerWorld;
use tollgate::runtime::{PluginError, PluginSource, component_sha256};

use crate::common::engine;

fn tollgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate")).args(args).output().expect("run tollgate")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The guests' target directory: a scaffold's dependencies are the
/// first-party guests' (same lock file, profile and flags), already built.
fn guest_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-plugins/target")
}

#[test]
fn a_scaffolded_plugin_builds_packs_and_passes_its_test_with_no_edits() {
    let package = scaffold_build_and_test("scaffold-e2e", "tollgate:jwt/jwt-signer@0.3.0", 4);

    // One byte changed after packing: refused at load, both hashes named.
    let packed_wasm = package.path.join("scaffold-e2e.wasm");
    let bytes = std::fs::read(&packed_wasm).expect("packed component");
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    std::fs::write(&packed_wasm, &tampered).expect("tamper");
    let refused = tollgate(&["plugin", "test", package.crate_dir.to_str().expect("path"), "--wasm", packed_wasm.to_str().expect("path")]);
    assert!(!refused.status.success());
    let said = text(&refused);
    assert!(said.contains("PLUGIN_INTEGRITY_MISMATCH"), "{said}");
    assert!(said.contains(&component_sha256(&bytes)) && said.contains(&component_sha256(&tampered)), "both hashes: {said}");
}

#[test]
fn a_scaffolded_linter_builds_and_passes_its_test_with_no_edits() {
    scaffold_build_and_test("scaffold-lint-e2e", "tollgate:lint/claims-linter@0.1.0", 3);
}

/// A scaffold's crate and its package.
struct Built {
    _dir: tempfile::TempDir,
    crate_dir: PathBuf,
    path: PathBuf,
}

/// `plugin new`, cargo build, `plugin pack`, `plugin test`: all must pass.
fn scaffold_build_and_test(name: &str, world: &str, calls: usize) -> Built {
    let dir = tempfile::tempdir().expect("dir");
    let parent = dir.path().to_str().expect("utf-8 path");
    let made = tollgate(&["plugin", "new", name, "--world", world, "--dir", parent]);
    assert!(made.status.success(), "{}", text(&made));
    let crate_dir = dir.path().join(name);

    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build
        .current_dir(&crate_dir)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--offline", "--target-dir"])
        .arg(guest_target());
    // The lock file (copied from the guests') gains this crate; no network:
    // every dependency is one the first-party guests already use.
    // The test's own build flags belong to the host, not the guest (and
    // `just test` compiles the workspace through clippy's driver).
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "CARGO_BUILD_RUSTFLAGS", "RUSTC_WORKSPACE_WRAPPER"] {
        build.env_remove(var);
    }
    let built = build.output().expect("run cargo");
    assert!(built.status.success(), "the scaffold does not build:\n{}", text(&built));
    // What a plugin author starts from passes clippy with warnings denied.
    let mut lint = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    lint.current_dir(&crate_dir)
        .args(["clippy", "--release", "--target", "wasm32-wasip2", "--offline", "--target-dir"])
        .arg(guest_target())
        .args(["--", "-D", "warnings"]);
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "CARGO_BUILD_RUSTFLAGS", "RUSTC_WORKSPACE_WRAPPER"] {
        lint.env_remove(var);
    }
    let linted = lint.output().expect("run cargo clippy");
    assert!(linted.status.success(), "the scaffold has clippy warnings:\n{}", text(&linted));

    let wasm = guest_target().join(format!("wasm32-wasip2/release/{}.wasm", name.replace('-', "_")));
    let package = dir.path().join("package");
    let packed = tollgate(&["plugin", "pack", crate_dir.to_str().expect("path"), "--wasm", wasm.to_str().expect("path"), "--out", package.to_str().expect("path")]);
    assert!(packed.status.success(), "{}", text(&packed));
    let manifest = std::fs::read_to_string(package.join("tollgate.toml")).expect("packed manifest");
    let bytes = std::fs::read(package.join(format!("{name}.wasm"))).expect("packed component");
    assert!(manifest.contains(&format!("sha256 = \"{}\"", component_sha256(&bytes))), "{manifest}");

    let packed_wasm = package.join(format!("{name}.wasm"));
    let tested = tollgate(&["plugin", "test", crate_dir.to_str().expect("path"), "--wasm", packed_wasm.to_str().expect("path")]);
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(text(&tested).contains(&format!("{calls} calls passed")), "{}", text(&tested));
    Built { _dir: dir, crate_dir, path: package }
}

fn source_with(manifest_extra: &str) -> PluginSource<'static> {
    let manifest = std::fs::read_to_string(artifacts::JWT_SIGNER_MANIFEST_PATH).expect("manifest");
    let manifest = manifest.replacen("world = ", &format!("{manifest_extra}world = "), 1);
    PluginSource {
        wasm: Cow::Owned(std::fs::read(artifacts::JWT_SIGNER_WASM_PATH).expect("signer")),
        manifest: Cow::Owned(manifest),
        what: "test signer".into(),
    }
}

#[test]
fn a_component_that_does_not_match_its_manifest_hash_is_refused_naming_both() {
    let wrong = "0".repeat(64);
    let source = source_with(&format!("sha256 = \"{wrong}\"\n"));
    let actual = component_sha256(&source.wasm);
    match engine().load::<JwtSignerWorld>(&source) {
        Err(e @ PluginError::IntegrityMismatch { .. }) => {
            assert_eq!(e.code(), "PLUGIN_INTEGRITY_MISMATCH");
            let message = e.to_string();
            assert!(message.contains(&wrong) && message.contains(&actual), "{message}");
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a mismatched component loaded"),
    }
    let right = source_with(&format!("sha256 = \"{actual}\"\n"));
    engine().load_verified::<JwtSignerWorld>(&right).expect("the matching component loads");
}

#[test]
fn the_app_path_requires_a_hash_and_a_malformed_one_is_a_manifest_error() {
    match engine().load_verified::<JwtSignerWorld>(&source_with("")) {
        Err(e @ PluginError::IntegrityMissing { .. }) => assert!(e.to_string().contains("tollgate plugin hash --write"), "{e}"),
        other => panic!("{:?}", other.err()),
    }
    match engine().load::<JwtSignerWorld>(&source_with("sha256 = \"ABC\"\n")) {
        Err(e) => assert_eq!(e.code(), "MANIFEST_INVALID", "{e}"),
        Ok(_) => panic!("a malformed hash was accepted"),
    }
}
