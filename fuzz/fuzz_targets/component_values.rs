//! Component values coming back from a guest: a component whose answer is
//! the fuzzer's bytes (see `tollgate_fuzz::guest`), loaded through the real
//! `PluginEngine`, called through the host's typed fronts
//! (`jwt::JwtSigner`, `lint::ClaimsLinter`). wasmtime lifts whatever the
//! bytes say (bad discriminants, pointers out of bounds, invalid UTF-8,
//! huge lengths) and the host checks what lifts.
//!
//! Input: one byte picks the call (`lint`, `sign`, `decode`, `verify`),
//! the rest is the guest's memory from address 0, where its return area
//! is. Every call must end in a typed error or a value that passed the
//! host's checks; never a panic, never a host crash.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use tollgate::jwt::{Algorithm, AnswerSchedule, JwtError, JwtSigner, SignRequest, SigningKey};
use tollgate::lint::{ClaimsLinter, FindingCode, LintError, LintPolicy, MAX_FINDINGS};
use tollgate::runtime::worlds::{ClaimsLinterWorld, JwtSignerWorld};
use tollgate::runtime::PluginEngine;
use tollgate_fuzz::guest::EchoWorld;
use tollgate_fuzz::to_hex;
use zeroize::Zeroizing;

/// The guest's answer area is one page; the hex text that carries it is
/// twice as long and must stay under the signer's claims cap.
const MAX_ANSWER: usize = 16 * 1024;

struct Guests {
    signer: JwtSigner,
    linter: ClaimsLinter,
    key: SigningKey,
}

fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let engine = PluginEngine::new(tollgate_fuzz::engine_options()).expect("engine");
        Guests {
            // Unheld (the floor would only slow the fuzzer); its quarantine
            // is cleared after every key-carrying input (see below).
            signer: JwtSigner::from_plugin(EchoWorld::Signer.load::<JwtSignerWorld>(&engine).expect("the echo signer loads"))
                .with_schedule(AnswerSchedule::OFF),
            linter: ClaimsLinter::from_plugin(EchoWorld::Linter.load::<ClaimsLinterWorld>(&engine).expect("the echo linter loads")),
            key: SigningKey::new(Algorithm::HS256, Zeroizing::new(b"fuzz-secret-fuzz-secret-fuzz-secret-0123".to_vec()))
                .expect("an HS256 key"),
        }
    })
}

fuzz_target!(
    // Compiling the two guests runs before libFuzzer times any input.
    init: {
        guests();
    },
    |data: &[u8]| {
    let Some((&call, answer)) = data.split_first() else { return };
    if answer.len() > MAX_ANSWER {
        return;
    }
    let guests = guests();
    let hex = to_hex(answer);
    match call % 4 {
        0 => {
            // The claims text the guest gets is `{"x":"<hex>"}`: the one
            // claim a finding's path may name is `x`.
            let mut claims = Map::new();
            claims.insert("x".into(), Value::String(hex));
            match guests.linter.lint(&claims, LintPolicy { max_lifetime_seconds: 3600, now_seconds: 1_767_225_600 }) {
                Ok(findings) => {
                    assert!(findings.len() <= MAX_FINDINGS);
                    for f in &findings {
                        assert!(FindingCode::ALL.contains(&f.code));
                        assert!(f.path.is_empty() || f.path == "x");
                    }
                }
                Err(e) => check_lint_error(&e),
            }
        }
        1 => {
            let request = SignRequest { key: &guests.key, claims: json!({ "x": hex }), kid: None, typ: None, extra: Default::default() };
            match guests.signer.sign(request) {
                Ok(_) => panic!("the echo guest can't know the signature, yet its token passed"),
                Err(e) => check_jwt_error(&e),
            }
        }
        2 => match guests.signer.decode(&hex) {
            // Hex has no dots: not a token, so no parts of it can pass.
            Ok(parts) => panic!("parts of a malformed token passed: {parts:?}"),
            Err(e) => check_jwt_error(&e),
        },
        _ => match guests.signer.verify(&hex, b"fuzz-secret-fuzz-secret-fuzz-secret-0123", &[Algorithm::HS256], 0) {
            Ok(claims) => panic!("claims of a malformed token passed: {claims}"),
            Err(e) => check_jwt_error(&e),
        },
    }
    // The echo guest's answers are refused, which quarantines it; each
    // input starts trusted, so every input reaches the guest.
    let _ = guests.signer.quarantine().trust(guests.signer.plugin_sha256());
});

/// A typed error with a stable code and a message that renders.
fn check_jwt_error(e: &JwtError) {
    assert!(!e.code().is_empty());
    let _ = e.to_string();
}

fn check_lint_error(e: &LintError) {
    assert!(!e.code().is_empty());
    let _ = e.to_string();
}
