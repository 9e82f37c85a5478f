//! The host's validators of guest output, fed answers directly: the
//! signer's token, decoded parts and verified claims (`jwt::JwtSigner` over
//! a backend that answers with the fuzzer's text, exactly where a real
//! guest's answer arrives) and the linter's findings
//! (`lint::verify_linter_output`).
//!
//! Input: one mode byte, then text.
//! - 0 `sign`: the text is the signer's token for a fixed HS256 request.
//! - 1 `decode`: `token \n header \n payload \n signature`: the token the
//!   host asks about and the guest's parts.
//! - 2 `verify`: `token \n claims`: the token and the claims the guest
//!   says it verified.
//! - 3 `lint`: `claims JSON \n` then one finding per line,
//!   `code \t severity \t path \t message`.
//!
//! For modes 0-2 a guest answer of `!<c>` is the guest's error (variant by
//! the byte `c`) instead of a value.
//!
//! What passes must be what the host promises: for `sign` the one token
//! the key makes (HS256 is deterministic, so jsonwebtoken computes it
//! independently); for `decode` the token's own parts; for `verify` a
//! token whose signature verifies and that has not expired; for `lint`
//! findings within every bound of the contract.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use tollgate::jwt::backend::{GuestAnswer, GuestError, RawDecoded, SignerBackend};
use tollgate::jwt::{Algorithm, AnswerSchedule, ExtraHeader, JwtSigner, SignRequest, SigningKey};
use tollgate::lint::{
    FindingCode, MAX_FINDINGS, MAX_MESSAGE_BYTES, MAX_PATH_BYTES, Severity, UncheckedFinding, verify_linter_output,
};
use tollgate::runtime::{FixedClock, HostClock};
use zeroize::Zeroizing;

/// The HMAC secret every signer call uses (the seeds' tokens are made with it).
const KEY: &[u8] = b"fuzz-secret-fuzz-secret-fuzz-secret-0123";
/// The host's "now" for `verify`: 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;

/// A signer whose every answer is the fuzzer's.
struct ScriptedSigner {
    answer: String,
}

impl ScriptedSigner {
    fn text(&self) -> GuestAnswer<String> {
        Ok(scripted_error(&self.answer).map_or_else(|| Ok(self.answer.clone()), Err))
    }
}

/// `!<c>`: the guest's own error, its variant picked by `c`.
fn scripted_error(answer: &str) -> Option<GuestError> {
    let rest = answer.strip_prefix('!')?;
    let pick = rest.bytes().next().unwrap_or(0);
    let text = rest.get(1..).unwrap_or("").to_owned();
    Some(match pick % 11 {
        0 => GuestError::InvalidKey(text),
        1 => GuestError::InvalidClaims(text),
        2 => GuestError::InvalidHeader(text),
        3 => GuestError::MalformedToken(text),
        4 => GuestError::AlgorithmNotAllowed(text),
        5 => GuestError::InvalidSignature,
        6 => GuestError::Expired,
        7 => GuestError::NotYetValid,
        8 => GuestError::MissingClaim(text),
        9 => GuestError::InvalidClaimType(text),
        _ => GuestError::SigningFailed(text),
    })
}

impl SignerBackend for ScriptedSigner {
    fn plugin_name(&self) -> &str {
        "scripted fuzz signer"
    }
    fn plugin_sha256(&self) -> &str {
        "scripted"
    }
    fn clock(&self) -> Arc<dyn HostClock> {
        Arc::new(FixedClock(UNIX_EPOCH + Duration::from_secs(NOW)))
    }
    fn takes_extra_header(&self) -> bool {
        true
    }
    fn sign(&self, _: Algorithm, _: &[u8], _: Option<&str>, _: Option<&str>, _: &ExtraHeader, _: &str) -> GuestAnswer<String> {
        self.text()
    }
    fn decode(&self, _: &str) -> GuestAnswer<RawDecoded> {
        if let Some(e) = scripted_error(&self.answer) {
            return Ok(Err(e));
        }
        let mut parts = self.answer.splitn(3, '\n');
        let mut next = || parts.next().unwrap_or("").to_owned();
        Ok(Ok(RawDecoded { header: next(), payload: next(), signature: next() }))
    }
    fn verify(&self, _: &str, _: &[u8], _: &[Algorithm], _: u32) -> GuestAnswer<String> {
        self.text()
    }
}

fn signer(answer: &str) -> JwtSigner {
    // Unheld: each input is a new signer (so a fresh quarantine list), and
    // the answer floor would only slow the fuzzer down.
    JwtSigner::from_backend(Box::new(ScriptedSigner { answer: answer.to_owned() })).with_schedule(AnswerSchedule::OFF)
}

/// The claims every `sign` asks for.
fn sign_claims() -> Value {
    json!({ "sub": "fuzz", "exp": 4_102_444_800u64 })
}

/// The one token HS256 makes for those claims, by jsonwebtoken directly.
fn expected_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &sign_claims(),
            &jsonwebtoken::EncodingKey::from_secret(KEY),
        )
        .expect("jsonwebtoken signs")
    })
}

fn key() -> &'static SigningKey {
    static KEY_: OnceLock<SigningKey> = OnceLock::new();
    KEY_.get_or_init(|| SigningKey::new(Algorithm::HS256, Zeroizing::new(KEY.to_vec())).expect("a valid HS256 key"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match mode % 4 {
        0 => sign(text),
        1 => decode(text),
        2 => verify(text),
        _ => lint(text),
    }
});

fn sign(answer: &str) {
    let request = SignRequest { key: key(), claims: sign_claims(), kid: None, typ: None, extra: Default::default() };
    if let Ok(token) = signer(answer).sign(request) {
        assert_eq!(token, expected_token(), "the host accepted a token the key did not make");
    }
}

fn decode(text: &str) {
    let (token, answer) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(decoded) = signer(answer).decode(token) {
        let mut segments = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (segments.next(), segments.next(), segments.next(), segments.next()) else {
            panic!("the host accepted parts of a token that is not three segments");
        };
        let segment = |s: &str| String::from_utf8(URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("UTF-8");
        assert_eq!(decoded.header, segment(h));
        assert_eq!(decoded.payload, segment(p));
        assert_eq!(decoded.signature, s);
    }
}

fn verify(text: &str) {
    let (token, answer) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(claims) = signer(answer).verify(token, KEY, &[Algorithm::HS256], 0) {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let native = jsonwebtoken::decode::<Value>(token, &jsonwebtoken::DecodingKey::from_secret(KEY), &validation)
            .expect("an accepted token verifies under the key");
        assert_eq!(native.claims, claims, "the claims are the token's own");
        let exp = claims["exp"].as_f64().expect("an accepted token has a numeric exp");
        assert!(exp > NOW as f64, "an accepted token has not expired");
    }
}

fn lint(text: &str) {
    let mut lines = text.split('\n');
    let Ok(Value::Object(claims)) = serde_json::from_str::<Value>(lines.next().unwrap_or("")) else { return };
    let findings: Vec<UncheckedFinding> = lines
        .map(|line| {
            let mut fields = line.splitn(4, '\t');
            let mut next = || fields.next().unwrap_or("").to_owned();
            let code = next();
            let severity = match next().as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                _ => Severity::Info,
            };
            UncheckedFinding { code, severity, path: next(), message: next() }
        })
        .collect();
    if let Ok(checked) = verify_linter_output(&claims, findings) {
        check_findings(&claims, &checked);
    }
}

/// Every bound the linter contract states, on an accepted answer.
fn check_findings(claims: &Map<String, Value>, findings: &[tollgate::lint::Finding]) {
    assert!(findings.len() <= MAX_FINDINGS);
    for f in findings {
        assert!(FindingCode::ALL.contains(&f.code));
        assert!(f.path.is_empty() || claims.contains_key(&f.path), "a path names a claim of the input");
        assert!(f.path.len() <= MAX_PATH_BYTES && !f.path.chars().any(char::is_control));
        assert!(!f.message.is_empty() && f.message.len() <= MAX_MESSAGE_BYTES && !f.message.chars().any(char::is_control));
    }
    for pair in findings.windows(2) {
        let key = |f: &tollgate::lint::Finding| (f.severity, f.path.clone(), f.code.as_str());
        assert!(key(&pair[0]) < key(&pair[1]), "ordered, no (code, path) twice");
    }
}
