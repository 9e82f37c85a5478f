//! What the host refuses at load, and what loading costs when cached.

use std::borrow::Cow;

use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::JwtSigner;
use tollgate::runtime::worlds::JwtSignerWorld;
use tollgate::runtime::{EngineOptions, PluginEngine, PluginError, PluginSource};

use crate::common::{engine, load};

fn source(wasm: Vec<u8>, manifest: &str) -> PluginSource<'static> {
    PluginSource { wasm: Cow::Owned(wasm), manifest: Cow::Owned(manifest.to_owned()), what: "test input".into() }
}

fn load_bytes(wasm: Vec<u8>) -> Result<(), PluginError> {
    engine().load::<JwtSignerWorld>(&source(wasm, artifacts::JWT_SIGNER_MANIFEST)).map(drop)
}

#[test]
fn a_file_that_is_not_wasm_is_refused() {
    let err = load_bytes(b"#!/bin/sh\necho not wasm\n".to_vec()).expect_err("not wasm");
    assert_eq!(err.code(), "PLUGIN_NOT_WASM", "{err}");
    assert_eq!(load_bytes(Vec::new()).expect_err("empty").code(), "PLUGIN_NOT_WASM");
}

#[test]
fn a_core_module_is_refused_as_not_a_component() {
    let core = wat::parse_str("(module (func (export \"sign\")))").expect("wat");
    let err = load_bytes(core).expect_err("core module");
    assert_eq!(err.code(), "PLUGIN_NOT_A_COMPONENT", "{err}");
    assert!(err.to_string().contains("core WebAssembly module"), "{err}");
}

#[test]
fn a_truncated_component_is_refused_as_invalid() {
    let mut bytes = artifacts::JWT_SIGNER_WASM.to_vec();
    bytes.truncate(bytes.len() / 2);
    assert_eq!(load_bytes(bytes).expect_err("truncated").code(), "PLUGIN_INVALID");
}

#[test]
fn a_component_missing_the_worlds_exports_is_refused() {
    let empty = wat::parse_str("(component)").expect("wat");
    let err = load_bytes(empty).expect_err("no exports");
    assert_eq!(err.code(), "PLUGIN_WORLD_MISMATCH", "{err}");
}

#[test]
fn a_guest_importing_an_undeclared_host_interface_is_refused_at_load_naming_it() {
    let err = load(artifacts::UNDECLARED_IMPORT_WASM_PATH, artifacts::UNDECLARED_IMPORT_MANIFEST_PATH).err().expect("refused");
    assert_eq!(err.code(), "PLUGIN_IMPORT_REFUSED");
    assert!(err.to_string().contains("`tollgate:host/keychain@0.1.0`"), "{err}");
}

#[test]
fn a_guest_importing_the_filesystem_is_refused_at_load_naming_it() {
    let err = load(artifacts::FILESYSTEM_READER_WASM_PATH, artifacts::FILESYSTEM_READER_MANIFEST_PATH).err().expect("refused");
    assert_eq!(err.code(), "PLUGIN_IMPORT_REFUSED");
    let msg = err.to_string();
    assert!(msg.contains("wasi:filesystem/types@"), "{msg}");
    assert!(msg.contains("wasi:filesystem/preopens@"), "{msg}");
}

#[test]
fn manifests_with_unknown_keys_or_over_policy_limits_are_refused() {
    let wasm = || artifacts::JWT_SIGNER_WASM.to_vec();
    let unknown = format!("allow-network = true\n{}", artifacts::JWT_SIGNER_MANIFEST);
    let err = engine().load::<JwtSignerWorld>(&source(wasm(), &unknown)).err().expect("unknown key");
    assert_eq!(err.code(), "MANIFEST_INVALID");
    assert!(err.to_string().contains("allow-network"), "{err}");

    let greedy = artifacts::JWT_SIGNER_MANIFEST.replace("memory-mib = 64", "memory-mib = 100000");
    let err = engine().load::<JwtSignerWorld>(&source(wasm(), &greedy)).err().expect("over policy");
    assert_eq!(err.code(), "MANIFEST_OVER_POLICY");
    assert!(err.to_string().contains("100000"), "{err}");

    let other_world = artifacts::JWT_SIGNER_MANIFEST.replace("jwt-signer@0.3.0", "jwt-signer@0.9.0");
    let err = engine().load::<JwtSignerWorld>(&source(wasm(), &other_world)).err().expect("world");
    assert_eq!(err.code(), "MANIFEST_UNKNOWN_WORLD");
}

#[test]
fn a_second_engine_loads_the_signer_from_the_compiled_code_cache() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = || EngineOptions { cache_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let first = PluginEngine::new(options()).expect("engine");
    JwtSigner::builtin(&first).expect("cold load");
    assert_eq!(first.cache_stats(), Some((0, 1)), "the cold load compiles");
    drop(first);
    let second = PluginEngine::new(options()).expect("engine");
    JwtSigner::builtin(&second).expect("warm load");
    assert_eq!(second.cache_stats(), Some((1, 0)), "the warm load comes from the cache");
}
