//! A trap (deadline, memory, stack overflow, unreachable) becomes a typed
//! error; the key-carrying call that trapped quarantines the plugin, so the
//! next sign is refused `PLUGIN_QUARANTINED`; trusted again, the same
//! plugin signs (the host kept serving).

use std::time::{Duration, Instant};

use serde_json::json;
use tollgate::jwt::{Algorithm, JwtSigner, SignRequest};
use tollgate::runtime::InstanceReuse;

use crate::common::{misbehaving, signing_key};

fn sign(signer: &JwtSigner, behaviour: Option<&str>) -> Result<String, tollgate::jwt::JwtError> {
    let key = signing_key(Algorithm::HS256);
    let claims = match behaviour {
        Some(b) => json!({"sub": "x", "hostile": b}),
        None => json!({"sub": "x"}),
    };
    signer.sign(SignRequest { key: &key, claims, kid: None, typ: None, extra: Default::default() })
}

fn assert_trap_then_recovery(reuse: InstanceReuse, behaviour: &str, code: &str) {
    let signer = JwtSigner::from_plugin(misbehaving().with_reuse(reuse));
    assert!(sign(&signer, None).is_ok(), "the plugin works before the trap");
    let err = sign(&signer, Some(behaviour)).expect_err(behaviour);
    assert_eq!(err.code(), code, "{behaviour}: {err}");
    crate::common::assert_quarantined_then_trusted(&signer, || sign(&signer, None));
}

#[test]
fn a_looping_guest_hits_its_deadline_and_the_next_call_works() {
    let signer = JwtSigner::from_plugin(misbehaving());
    let started = Instant::now();
    let err = sign(&signer, Some("spin")).expect_err("spins");
    let took = started.elapsed();
    assert_eq!(err.code(), "PLUGIN_DEADLINE_EXCEEDED", "{err}");
    assert!(err.to_string().contains("250 ms"), "{err}");
    assert!(took >= Duration::from_millis(250), "stopped before its deadline: {took:?}");
    assert!(took < Duration::from_secs(5), "not stopped near its deadline: {took:?}");
    crate::common::assert_quarantined_then_trusted(&signer, || sign(&signer, None));
    for reuse in [InstanceReuse::FreshPerCall, InstanceReuse::Warm] {
        assert_trap_then_recovery(reuse, "spin", "PLUGIN_DEADLINE_EXCEEDED");
    }
}

#[test]
fn a_memory_growing_guest_hits_its_limit_and_the_next_call_works() {
    for reuse in [InstanceReuse::FreshPerCall, InstanceReuse::Warm] {
        assert_trap_then_recovery(reuse, "grow", "PLUGIN_MEMORY_LIMIT");
    }
}

#[test]
fn a_recursing_guest_overflows_its_stack_and_the_next_call_works() {
    for reuse in [InstanceReuse::FreshPerCall, InstanceReuse::Warm] {
        assert_trap_then_recovery(reuse, "recurse", "PLUGIN_STACK_OVERFLOW");
        // Rust keeps address-taken locals on a shadow stack in linear
        // memory; overflowing it is an out-of-bounds access, not a wasm
        // stack overflow, and must be contained just the same.
        assert_trap_then_recovery(reuse, "recurse-shadow", "PLUGIN_TRAPPED");
    }
}

#[test]
fn an_unreachable_trap_is_typed_and_the_next_call_works() {
    for reuse in [InstanceReuse::FreshPerCall, InstanceReuse::Warm] {
        assert_trap_then_recovery(reuse, "unreachable", "PLUGIN_TRAPPED");
    }
}

#[test]
fn a_flood_of_calls_is_rate_limited_by_the_manifest_quota() {
    use std::borrow::Cow;
    use tollgate::guest_artifacts as artifacts;
    use tollgate::runtime::PluginSource;
    let manifest = std::fs::read_to_string(artifacts::MISBEHAVING_SIGNER_MANIFEST_PATH).expect("manifest");
    let manifest = manifest.replace("per-second = 1000", "per-second = 1").replace("burst = 100", "burst = 5");
    let source = PluginSource {
        wasm: Cow::Owned(std::fs::read(artifacts::MISBEHAVING_SIGNER_WASM_PATH).expect("wasm")),
        manifest: Cow::Owned(manifest),
        what: "misbehaving-signer with a tight quota".into(),
    };
    let signer = JwtSigner::from_plugin(crate::common::engine().load(&source).expect("loads"));
    let results: Vec<_> = (0..20).map(|_| sign(&signer, None)).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let limited = results.iter().filter(|r| matches!(r, Err(e) if e.code() == "RATE_LIMITED")).count();
    assert_eq!(ok + limited, 20, "every call either ran or was limited: {results:?}");
    assert!((5..=7).contains(&ok), "a burst of 5 at 1/s let {ok} of 20 through");
}
