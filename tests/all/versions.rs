//! The host API, versioned: the host serves the current minor
//! (`tollgate:jwt@0.3` over `tollgate:host@0.2`) and the previous ones
//! (`@0.2`, `@0.1` over `tollgate:host@0.1`) side by side, so a guest built
//! against an older one still loads and works. The guests here are the
//! first-party signer's own source, built against 0.2 and 0.1
//! (`guest-plugins/jwt-signer-v0-2`, `-v0-1`).

use std::path::Path;

use serde_json::json;
use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::{Algorithm, JwtSigner, SignRequest};
use tollgate::runtime::policy::WorldSpec;
use tollgate::runtime::worlds::JwtSignerWorld;
use tollgate::runtime::{PluginSource, WorldBindings};

use crate::common::{engine, keys_for, signing_key};

fn old_guest() -> PluginSource<'static> {
    PluginSource::from_files(Path::new(artifacts::JWT_SIGNER_V0_1_WASM_PATH), Some(Path::new(artifacts::JWT_SIGNER_V0_1_MANIFEST_PATH)))
        .expect("the 0.1 guest was built")
}

fn imports_of(wasm: &str, world: &str) -> Vec<(String, &'static str)> {
    let bytes = std::fs::read(wasm).expect("component");
    let world = WorldSpec::find(world).expect("served world");
    engine().inspect(&bytes, "guest", world).expect("inspects").imports.into_iter().map(|i| (i.name, i.decision)).collect()
}

fn v0_2_guest() -> PluginSource<'static> {
    PluginSource::from_files(Path::new(artifacts::JWT_SIGNER_V0_2_WASM_PATH), Some(Path::new(artifacts::JWT_SIGNER_V0_2_MANIFEST_PATH)))
        .expect("the 0.2 guest was built")
}

#[test]
fn a_guest_built_against_the_previous_minor_still_loads_and_signs() {
    let signer = JwtSigner::load(engine(), &v0_2_guest(), false).expect("the 0.2 signer loads");
    let key = signing_key(Algorithm::ES256);
    let token = signer
        .sign(SignRequest { key: &key, claims: json!({ "sub": "v0.2", "exp": 4_102_444_800u64 }), kid: Some("k".into()), typ: None, extra: Default::default() })
        .expect("signs");
    assert_eq!(signer.verify(&token, &keys_for(Algorithm::ES256).1, &[Algorithm::ES256], 0).expect("verifies")["sub"], "v0.2");
}

#[test]
fn a_guest_built_against_the_previous_host_api_still_loads_and_signs() {
    let signer = JwtSigner::load(engine(), &old_guest(), false).expect("the 0.1 signer loads");
    for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::EdDSA] {
        let key = signing_key(alg);
        let token = signer
            .sign(SignRequest { key: &key, claims: json!({ "sub": "old-guest", "exp": 4_102_444_800u64 }), kid: None, typ: None, extra: Default::default() })
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        // Verified by the host (inside sign) and again through the old guest.
        let claims = signer.verify(&token, &keys_for(alg).1, &[alg], 0).expect("verifies");
        assert_eq!(claims["sub"], "old-guest");
    }
    assert_eq!(signer.decode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln").expect("decodes").payload, r#"{"sub":"x"}"#);
}

#[test]
fn each_version_imports_its_own_host_api_and_both_are_granted() {
    let old = imports_of(artifacts::JWT_SIGNER_V0_1_WASM_PATH, "tollgate:jwt/jwt-signer@0.1.0");
    let previous = imports_of(artifacts::JWT_SIGNER_V0_2_WASM_PATH, "tollgate:jwt/jwt-signer@0.2.0");
    let current = imports_of(artifacts::JWT_SIGNER_WASM_PATH, JwtSignerWorld::WORLD);
    // (imports, the host API's version, the signer contract's version)
    for (imports, host, jwt) in [(&old, "0.1.0", "0.1.0"), (&previous, "0.2.0", "0.2.0"), (&current, "0.2.0", "0.3.0")] {
        // The signer uses the host's clock (and not its logging, so that
        // import is not in the component at all).
        let clock = format!("tollgate:host/clock@{host}");
        assert!(imports.iter().any(|(n, d)| *n == clock && *d == "host-interface"), "{clock}: {imports:?}");
        for (name, decision) in imports.iter().filter(|(n, _)| n.starts_with("tollgate:")) {
            let version = if name.starts_with("tollgate:jwt/") { jwt } else { host };
            assert!(name.ends_with(&format!("@{version}")) && *decision == "host-interface", "{name}: {decision}");
        }
    }
    assert!(!old.iter().any(|(n, _)| n.contains("@0.2.0")), "{old:?}");
}

#[test]
fn a_guest_claiming_a_version_it_was_not_built_for_is_refused_naming_the_import() {
    let mut source = old_guest();
    source.manifest = source.manifest.replace("jwt-signer@0.1.0", "jwt-signer@0.2.0").into();
    let err = JwtSigner::load(engine(), &source, false).err().expect("refused");
    assert_eq!(err.code(), "PLUGIN_IMPORT_REFUSED", "{err}");
    assert!(err.to_string().contains("tollgate:host/logging@0.1.0") || err.to_string().contains("tollgate:host/clock@0.1.0"), "{err}");
}

#[test]
fn the_built_in_signer_is_on_the_current_version() {
    let manifest = tollgate::runtime::Manifest::parse(artifacts::JWT_SIGNER_MANIFEST, &Default::default()).expect("manifest");
    assert_eq!(manifest.world, "tollgate:jwt/jwt-signer@0.3.0");
    assert_eq!(manifest.world, JwtSignerWorld::WORLD);
}
