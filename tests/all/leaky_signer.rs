//! Issue 15: a hostile signer must not be able to leak the key it is
//! handed, through the token, the outcome or the timing of a call.
//!
//! The leaky signer (`guest-plugins/hostile/leaky-signer`, real wasm) is
//! first called raw, past the host's checks, and the receiver
//! (`tollgate::audit::key_recovery`) really gets the key back: the attack
//! works, so the same receiver getting nothing through `JwtSigner` means
//! the host closed the channel, not that the attack was broken.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tollgate::audit::key_recovery as rx;
use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::backend::SignerBackend as _;
use tollgate::jwt::{Algorithm, AnswerSchedule, JwtError, JwtSigner, SignRequest, SigningKey};
use tollgate::runtime::Plugin;
use tollgate::runtime::worlds::JwtSignerWorld;
use tollgate::store::plugin_quarantine;
use zeroize::Zeroizing;

use crate::common::{HMAC_SECRET, keys_for, load, signing_key};

fn leaky_plugin() -> Plugin<JwtSignerWorld> {
    load(artifacts::LEAKY_SIGNER_WASM_PATH, artifacts::LEAKY_SIGNER_MANIFEST_PATH).expect("leaky signer loads")
}

/// The leaky signer behind the host's checks, its answers not held (the
/// schedule has tests of its own below).
fn leaky() -> JwtSigner {
    JwtSigner::from_plugin(leaky_plugin()).with_schedule(AnswerSchedule::OFF)
}

fn claims(leak: &str) -> Value {
    json!({"sub": "leak-test", "exp": 4_000_000_000u64, "leak": leak})
}

/// Claims with no `leak`: the leaky signer signs honestly.
fn honest_claims() -> Value {
    json!({"sub": "leak-test", "exp": 4_000_000_000u64})
}

/// The guest's token, raw: what a receiver would get if the host passed
/// along anything that verifies.
fn raw_token(alg: Algorithm, private: &[u8], claims: &Value) -> String {
    let text = serde_json::to_string(claims).expect("json");
    leaky_plugin()
        .sign(alg, private, None, None, &Default::default(), &text)
        .expect("the runtime answers")
        .unwrap_or_else(|e| panic!("{alg}: the guest refused: {e:?}"))
}

fn sign(signer: &JwtSigner, key: &SigningKey, claims: Value) -> Result<String, JwtError> {
    signer.sign(SignRequest { key, claims, kid: None, typ: None, extra: Default::default() })
}

#[test]
fn a_chosen_nonce_token_carries_the_key_and_the_host_refuses_it() {
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
        let (private, public) = keys_for(alg);
        let raw = raw_token(alg, &private, &claims("chosen-nonce"));
        // The attack is real: one token gives the receiver the key.
        let recovered = match alg {
            Algorithm::EdDSA => rx::recover_eddsa_scalar(&raw, &public).map(|a| a.to_vec()),
            _ => rx::recover_ecdsa_key(alg.to_jsonwebtoken(), &raw, &public),
        };
        let real = match alg {
            Algorithm::EdDSA => rx::eddsa_private_scalar(&private).map(|a| a.to_vec()),
            _ => rx::ecdsa_private_scalar(alg.to_jsonwebtoken(), &private),
        };
        assert!(recovered.is_some() && recovered == real, "{alg}: the receiver does not recover the key from the raw token");

        let signer = leaky();
        let err = sign(&signer, &signing_key(alg), claims("chosen-nonce")).expect_err("refused");
        assert_eq!(err.code(), "PLUGIN_OUTPUT_REJECTED", "{alg}: {err}");
        assert!(err.to_string().contains(tollgate::jwt::NOT_CANONICAL), "{alg}: refused for the wrong reason: {err}");
        assert!(!err.to_string().contains(raw.rsplit('.').next().unwrap_or("-")), "{alg}: the error carries the signature");
        crate::common::assert_quarantined_then_trusted(&signer, || sign(&signer, &signing_key(alg), honest_claims()));
    }
}

#[test]
fn a_high_s_signature_verifies_and_is_refused() {
    for alg in [Algorithm::ES256, Algorithm::ES384] {
        let (private, _) = keys_for(alg);
        let raw = raw_token(alg, &private, &claims("high-s"));
        assert_eq!(rx::signature_is_high_s(alg.to_jsonwebtoken(), &raw), Some(true), "{alg}");
        let err = sign(&leaky(), &signing_key(alg), claims("high-s")).expect_err("refused");
        assert_eq!(err.code(), "PLUGIN_OUTPUT_REJECTED", "{alg}: {err}");
        assert!(err.to_string().contains(tollgate::jwt::NOT_CANONICAL), "{alg}: {err}");
    }
}

#[test]
fn a_pss_salt_that_carries_the_key_is_refused() {
    for alg in [Algorithm::PS256, Algorithm::PS384, Algorithm::PS512] {
        let (private, public) = keys_for(alg);
        let raw = raw_token(alg, &private, &claims("pss-salt"));
        let salt = rx::recover_pss_salt(alg.to_jsonwebtoken(), &raw, &public).expect("a PSS signature");
        assert!(rx::pss_salt_leaks_key(alg.to_jsonwebtoken(), &raw, &salt, &private), "{alg}: the raw salt carries key bytes");
        let err = sign(&leaky(), &signing_key(alg), claims("pss-salt")).expect_err("refused");
        assert_eq!(err.code(), "PLUGIN_OUTPUT_REJECTED", "{alg}: {err}");
        // The honest PS* token is the canonical one: its salt is the
        // host's derived salt, not the key's bytes.
        let signer = leaky();
        let token = sign(&signer, &signing_key(alg), honest_claims()).expect("honest PSS is accepted");
        let salt = rx::recover_pss_salt(alg.to_jsonwebtoken(), &token, &public).expect("a PSS signature");
        assert!(!rx::pss_salt_leaks_key(alg.to_jsonwebtoken(), &token, &salt, &private), "{alg}");
    }
}

/// Sweeps `bits` key bits through `outcome-bit`; (bit, whether it failed),
/// with the error codes seen.
fn outcome_sweep(signer: &JwtSigner, bits: usize, trust_each_time: bool) -> (Vec<(usize, bool)>, Vec<&'static str>) {
    let key = SigningKey::new(Algorithm::HS256, Zeroizing::new(HMAC_SECRET.to_vec())).expect("key");
    let mut seen = Vec::new();
    let mut codes = Vec::new();
    for bit in 0..bits {
        let result = sign(signer, &key, json!({"sub": "x", "leak": "outcome-bit", "bit": bit}));
        codes.push(result.as_ref().err().map_or("OK", JwtError::code));
        seen.push((bit, result.is_err()));
        if trust_each_time {
            signer.quarantine().trust(signer.plugin_sha256()).expect("trust");
        }
    }
    (seen, codes)
}

#[test]
fn the_outcome_channel_gives_one_event_per_install_not_one_bit_per_call() {
    const BITS: usize = 64;
    // Without quarantine (trusting the plugin after every call) the
    // receiver reads every bit: the channel is real and the test can fail.
    let (open, _) = outcome_sweep(&leaky(), BITS, true);
    let (errors, total) = rx::count_bit_errors(&rx::recover_bits_from_outcomes(&open, BITS), HMAC_SECRET);
    assert_eq!((errors, total), (0, BITS), "the open channel reads the key exactly");

    let (closed, codes) = outcome_sweep(&leaky(), BITS, false);
    let first_one = (0..BITS).find(|&n| rx::key_bit(HMAC_SECRET, n) == Some(true)).expect("a 1 bit");
    assert_eq!(codes[first_one], "SIGNING_FAILED", "{codes:?}");
    assert!(codes[..first_one].iter().all(|c| *c == "OK"), "{codes:?}");
    assert!(codes[first_one + 1..].iter().all(|c| *c == "PLUGIN_QUARANTINED"), "every later call is refused alike: {codes:?}");
    // What the receiver learns past the first failure is a coin flip.
    let later: Vec<_> = closed[first_one + 1..].to_vec();
    let (errors, total) = rx::count_bit_errors(&rx::recover_bits_from_outcomes(&later, BITS), HMAC_SECRET);
    let capacity = rx::binary_channel_capacity(errors, total);
    eprintln!("outcome channel: {first_one} zero bits and one 1 bit, then {errors}/{total} errors ({capacity:.3} bits/call)");
    assert!(capacity < 0.5, "calls after the quarantine still carry bits: {capacity}");
}

#[test]
fn quarantine_is_kept_in_the_data_directory_until_the_plugin_is_trusted() {
    let dir = tempfile::tempdir().expect("dir");
    let key = signing_key(Algorithm::HS256);
    let first = leaky().with_quarantine(plugin_quarantine::open(dir.path()));
    sign(&first, &key, json!({"sub": "x", "leak": "unknown-behaviour"})).expect_err("the guest fails");
    // Another process (a new list read from the same directory).
    let again = leaky().with_quarantine(plugin_quarantine::open(dir.path()));
    let err = sign(&again, &key, json!({"sub": "x"})).expect_err("quarantined");
    assert_eq!(err.code(), "PLUGIN_QUARANTINED", "{err}");
    assert!(err.to_string().contains("leaky-signer"), "{err}");
    let entry = &again.quarantine().list()[0];
    assert_eq!(entry.sha256, again.plugin_sha256());
    assert!(entry.reason.contains("returned an error for a key and input the host had checked"), "{entry:?}");
    // The built-in signer is another component: not refused.
    let builtin = crate::common::signer().with_quarantine(plugin_quarantine::open(dir.path()));
    sign(&builtin, &key, json!({"sub": "x"})).expect("another plugin still signs");
    assert_eq!(again.quarantine().trust("leaky-signer").expect("trust").len(), 1);
    sign(&leaky().with_quarantine(plugin_quarantine::open(dir.path())), &key, json!({"sub": "x"})).expect("trusted again");
}

/// Sweeps key bits through `timing-bit` `rounds` times and decodes them
/// from each bit's median latency (as a patient receiver would: one
/// preempted call on a busy machine then can't flip a bit).
fn timing_capacity(signer: &JwtSigner, bits: usize, rounds: usize, spin_ms: u64) -> (f64, Vec<Duration>) {
    let key = SigningKey::new(Algorithm::HS256, Zeroizing::new(HMAC_SECRET.to_vec())).expect("key");
    let mut seen = Vec::new();
    for _ in 0..rounds {
        for bit in 0..bits {
            let started = Instant::now();
            sign(signer, &key, json!({"sub": "x", "leak": "timing-bit", "bit": bit, "spin_ms": spin_ms})).expect("signs");
            seen.push((bit, started.elapsed()));
        }
    }
    let (errors, total) = rx::count_bit_errors(&rx::recover_bits_from_timings(&seen, bits), HMAC_SECRET);
    (rx::binary_channel_capacity(errors, total), seen.into_iter().map(|(_, d)| d).collect())
}

#[test]
fn the_answer_schedule_hides_a_guest_that_times_the_key() {
    const BITS: usize = 32;
    const ROUNDS: usize = 3;
    const SPIN_MS: u64 = 15;
    let (open, _) = timing_capacity(&leaky(), BITS, ROUNDS, SPIN_MS);
    let held = JwtSigner::from_plugin(leaky_plugin());
    let (closed, latencies) = timing_capacity(&held, BITS, ROUNDS, SPIN_MS);
    eprintln!("timing channel: {open:.3} bits/call unheld, {closed:.3} bits/call held");
    assert!(open > 0.8, "the unheld channel is real: {open}");
    assert!(closed < 0.4, "held answers still carry bits: {closed}");
    let floor = AnswerSchedule::DEFAULT.min_floor;
    assert!(latencies.iter().all(|d| *d >= floor), "an answer left before the floor: {latencies:?}");
}

#[test]
fn a_guest_that_runs_past_the_floor_is_held_then_quarantined() {
    let signer = JwtSigner::from_plugin(leaky_plugin());
    let key = SigningKey::new(Algorithm::HS256, Zeroizing::new(HMAC_SECRET.to_vec())).expect("key");
    let schedule = AnswerSchedule::DEFAULT;
    let ones: Vec<usize> = (0..64).filter(|&n| rx::key_bit(HMAC_SECRET, n) == Some(true)).take(schedule.max_overruns as usize).collect();
    for (i, bit) in ones.iter().enumerate() {
        let started = Instant::now();
        let result = sign(&signer, &key, json!({"sub": "x", "leak": "timing-bit", "bit": bit, "spin_ms": 200}));
        let took = started.elapsed();
        assert!(result.is_ok(), "an overrun still answers: {result:?}");
        assert!(took >= schedule.overrun_hold, "overrun {i} answered at {took:?}, before the hold");
    }
    let err = sign(&signer, &key, json!({"sub": "x"})).expect_err("quarantined");
    assert_eq!(err.code(), "PLUGIN_QUARANTINED", "{err}");
    assert!(err.to_string().contains("ran past their answer floor"), "{err}");
}

#[test]
fn the_leaky_signer_artifact_is_the_one_embedded() {
    let on_disk = std::fs::read(Path::new(artifacts::LEAKY_SIGNER_WASM_PATH)).expect("built");
    assert_eq!(on_disk, artifacts::LEAKY_SIGNER_WASM, "the audit runs the same component the tests do");
}


/// The timing channel as a page sees it: the leaky signer installed as the
/// app's signer (as dev reload installs a package), an HS256 profile whose
/// key sits sealed in the real keychain, and `jwt:generate` timed through
/// the bridge with the claims overrides choosing the key bit. Every answer
/// leaves at the floor, and the page's decode of the latencies is a coin
/// flip. (The same sweep unheld reads every bit: the test above.)
#[test]
fn jwt_generate_as_the_page_times_it_carries_no_key_bits() {
    const BITS: usize = 32;
    let app = crate::harness::AppHarness::new();
    let package = tempfile::tempdir().expect("package dir");
    let manifest = package.path().join("tollgate.toml");
    std::fs::copy(artifacts::LEAKY_SIGNER_MANIFEST_PATH, &manifest).expect("manifest");
    tollgate::scaffold::record_hash(artifacts::LEAKY_SIGNER_WASM, &manifest).expect("hash");
    let wasm = package.path().join("leaky-signer.wasm");
    std::fs::write(&wasm, artifacts::LEAKY_SIGNER_WASM).expect("component");
    let source = tollgate::runtime::PluginSource::from_files(&wasm, Some(&manifest)).expect("package");
    app.services.install_dev_plugin(&source, "dev: leaky-signer").expect("the leaky signer installs");

    let secret = std::str::from_utf8(HMAC_SECRET).expect("a text secret");
    let encrypted_key = app.encrypt("HS256", secret);
    let profile = app.ok(
        "profiles:save",
        json!({"name": "leaky", "algorithm": "HS256", "encryptedKey": encrypted_key, "payload": {"sub": "page"}, "expirationPreset": "1h"}),
    );
    let mut seen = Vec::new();
    for bit in 0..BITS {
        let overrides = json!({"leak": "timing-bit", "bit": bit, "spin_ms": 15});
        let started = Instant::now();
        app.ok("jwt:generate", json!({"profileId": profile["id"], "overrides": overrides}));
        seen.push((bit, started.elapsed()));
    }
    let (errors, total) = rx::count_bit_errors(&rx::recover_bits_from_timings(&seen, BITS), HMAC_SECRET);
    let capacity = rx::binary_channel_capacity(errors, total);
    let fastest = seen.iter().map(|(_, d)| *d).min().unwrap_or_default();
    eprintln!("jwt:generate as the page times it: {errors}/{total} bits wrong, {capacity:.3} bit/call, fastest answer {fastest:?}");
    assert!(capacity < 0.4, "the page reads key bits from jwt:generate's latency: {capacity}");
    assert!(fastest >= AnswerSchedule::DEFAULT.min_floor, "an answer left before the floor: {fastest:?}");
}
