//! Audit cases: the channels a signer could leak its key through while its
//! tokens still verify (issue 15). Each case runs the leaky signer
//! (`guest-plugins/hostile/leaky-signer`, embedded in this binary) twice:
//! raw, past the host's checks, where the receiver
//! ([`crate::audit::key_recovery`]) must get the key back, which shows the
//! attack is real on this build; and through [`JwtSigner`], where the same
//! receiver must get nothing. A case that cannot show the first half fails:
//! a broken attack proves nothing about the host.
//!
//! Every key is fresh for the case and planted for the secrets search.
//!
//! Trusts: the host's own library. Does not trust: the leaky signer.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::audit::key_recovery as rx;
use crate::audit::{Area, AuditEnv, Case, Outcome};
use crate::guest_artifacts as artifacts;
use crate::jwt::backend::SignerBackend as _;
use crate::jwt::{Algorithm, AnswerSchedule, JwtError, JwtSigner, NOT_CANONICAL, SignRequest, SigningKey};
use crate::runtime::worlds::JwtSignerWorld;
use crate::runtime::{Plugin, PluginSource};

/// Key bits swept by the outcome and timing cases: a quarter of an HS256
/// key, enough that a decoder that works reads them all and one that
/// guesses is visibly a coin flip.
const SWEPT_BITS: usize = 64;

/// Key bits swept by the timing case (each held call takes the 50 ms floor).
const TIMED_BITS: usize = 32;

/// How long the timing leaker spins on a 1 bit: well inside the floor, so
/// the schedule has something to hide, and far above the noise, so the
/// unheld control reads every bit.
const TIMING_SPIN_MS: u64 = 15;

/// A spin past the 50 ms floor: an overrun.
const OVERRUN_SPIN_MS: u64 = 200;

/// Capacity (bits per call) above which a closed channel counts as open.
/// A coin flip over 32 to 64 samples measures 0.0-0.2 (1 - H(p) for p near
/// a half); a working decoder measures 1.0.
const OPEN_CHANNEL_BITS: f64 = 0.5;

fn case(id: &'static str, must: &'static str, body: impl FnOnce(&AuditEnv) -> Result<Outcome, String> + 'static) -> Case {
    Case::new(id, Area::Guest, "guest-plugins/hostile/leaky-signer", must, move |env| match body(env) {
        Ok(outcome) => outcome,
        Err(setup) => Outcome::fail(format!("the case could not run: {setup}")),
    })
}

fn leaky_plugin(env: &AuditEnv) -> Result<Plugin<JwtSignerWorld>, String> {
    let source = PluginSource {
        wasm: Cow::Borrowed(artifacts::LEAKY_SIGNER_WASM),
        manifest: Cow::Borrowed(artifacts::LEAKY_SIGNER_MANIFEST),
        what: "leaky-signer".into(),
    };
    env.engine().load(&source).map_err(|e| format!("leaky-signer does not load: {e}"))
}

/// The leaky signer behind the host, with the app's answer schedule.
fn leaky_signer(env: &AuditEnv) -> Result<JwtSigner, String> {
    Ok(JwtSigner::from_plugin(leaky_plugin(env)?))
}

/// A fresh key for `alg`: (checked key, private material, public key PEM).
struct FreshKey {
    key: SigningKey,
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a fresh key: {e}"))?;
    Ok(bytes)
}

fn fresh_key(env: &AuditEnv, alg: Algorithm) -> Result<FreshKey, String> {
    use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
    let pem_err = |e: &dyn std::fmt::Display| format!("the fresh key does not encode: {e}");
    let (private, public): (Zeroizing<Vec<u8>>, Vec<u8>) = match alg {
        Algorithm::ES256 => {
            let secret = loop {
                if let Ok(s) = p256::SecretKey::from_slice(&random::<32>()?) {
                    break s;
                }
            };
            let private = secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| pem_err(&e))?;
            let public = secret.public_key().to_public_key_pem(LineEnding::LF).map_err(|e| pem_err(&e))?;
            (Zeroizing::new(private.as_bytes().to_vec()), public.into_bytes())
        }
        Algorithm::ES384 => {
            let secret = loop {
                if let Ok(s) = p384::SecretKey::from_slice(&random::<48>()?) {
                    break s;
                }
            };
            let private = secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| pem_err(&e))?;
            let public = secret.public_key().to_public_key_pem(LineEnding::LF).map_err(|e| pem_err(&e))?;
            (Zeroizing::new(private.as_bytes().to_vec()), public.into_bytes())
        }
        Algorithm::EdDSA => {
            let signing = ed25519_dalek::SigningKey::from_bytes(&random::<32>()?);
            // PKCS#8 v1 (no public key inside), the form jsonwebtoken reads.
            let pair = ed25519_dalek::pkcs8::KeypairBytes { secret_key: signing.to_bytes(), public_key: None };
            let private = pair.to_pkcs8_pem(LineEnding::LF).map_err(|e| pem_err(&e))?;
            let public = signing.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| pem_err(&e))?;
            (Zeroizing::new(private.as_bytes().to_vec()), public.into_bytes())
        }
        Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => {
            use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
            let mut rng = <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_seed(random::<32>()?);
            let secret = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| format!("no RSA key: {e}"))?;
            let private = secret.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).map_err(|e| pem_err(&e))?;
            let public = secret.to_public_key().to_public_key_pem(rsa::pkcs8::LineEnding::LF).map_err(|e| pem_err(&e))?;
            (Zeroizing::new(private.as_bytes().to_vec()), public.into_bytes())
        }
        _ => (Zeroizing::new(random::<32>()?.to_vec()), Vec::new()),
    };
    plant_key(env, alg, &private);
    let key = SigningKey::new(alg, private.clone()).map_err(|e| format!("the fresh key is refused: {e}"))?;
    Ok(FreshKey { key, private, public })
}

/// Plants a key for the secrets search: an HMAC secret as hex, a PEM by
/// each of its body lines.
fn plant_key(env: &AuditEnv, alg: Algorithm, private: &[u8]) {
    let label = format!("key handed to leaky-signer ({alg})");
    if alg.is_hmac() {
        env.plant(label, hex::encode(private));
        return;
    }
    let text = String::from_utf8_lossy(private);
    for line in text.lines().filter(|l| l.len() >= 16 && !l.starts_with("-----")) {
        env.plant(label.clone(), line.to_owned());
    }
}

fn claims(leak: &str) -> Value {
    json!({"sub": "tollgate-audit", "exp": 4_000_000_000u64, "leak": leak})
}

fn sign(signer: &JwtSigner, key: &SigningKey, claims: Value) -> Result<String, JwtError> {
    signer.sign(SignRequest { key, claims, kid: None, typ: None, extra: Default::default() })
}

/// The leaky guest's own token for `claims`, past every host check.
fn raw_token(env: &AuditEnv, fresh: &FreshKey, claims: &Value) -> Result<String, String> {
    let text = serde_json::to_string(claims).map_err(|e| e.to_string())?;
    let answer = leaky_plugin(env)?.sign(fresh.key.algorithm(), &fresh.private, None, None, &Default::default(), &text);
    match answer {
        Ok(Ok(token)) => Ok(token),
        Ok(Err(e)) => Err(format!("the leaky guest refused: {e:?}")),
        Err(e) => Err(format!("the leaky guest failed: {e}")),
    }
}

/// The host's side of a token channel: the token refused for not being
/// the canonical one, and the plugin quarantined.
fn refused_and_quarantined(signer: &JwtSigner, fresh: &FreshKey, leak: &str) -> Result<String, String> {
    let said = match sign(signer, &fresh.key, claims(leak)) {
        Err(e) if e.code() == "PLUGIN_OUTPUT_REJECTED" && e.to_string().contains(NOT_CANONICAL) => format!("{}: {e}", e.code()),
        Err(e) => return Err(format!("{} instead of PLUGIN_OUTPUT_REJECTED ({NOT_CANONICAL}): {e}", e.code())),
        Ok(_) => return Err("the host passed the leaky token on".into()),
    };
    match sign(signer, &fresh.key, json!({"sub": "tollgate-audit"})) {
        Err(e) if e.code() == "PLUGIN_QUARANTINED" => Ok(format!("{said}; the next sign was refused PLUGIN_QUARANTINED before its key was sent")),
        Err(e) => Err(format!("{said}; then {} instead of PLUGIN_QUARANTINED", e.code())),
        Ok(_) => Err(format!("{said}; then the plugin signed again: not quarantined")),
    }
}

fn chosen_nonce_case(id: &'static str, alg: Algorithm, must: &'static str) -> Case {
    case(id, must, move |env| {
        let fresh = fresh_key(env, alg)?;
        let raw = raw_token(env, &fresh, &claims("chosen-nonce"))?;
        let (recovered, real) = match alg {
            Algorithm::EdDSA => (rx::recover_eddsa_scalar(&raw, &fresh.public).map(|a| a.to_vec()), rx::eddsa_private_scalar(&fresh.private).map(|a| a.to_vec())),
            _ => (rx::recover_ecdsa_key(alg.to_jsonwebtoken(), &raw, &fresh.public), rx::ecdsa_private_scalar(alg.to_jsonwebtoken(), &fresh.private)),
        };
        if recovered.is_none() || recovered != real {
            return Ok(Outcome::fail("the receiver did not recover the key from the raw token: the attack is broken, so this case shows nothing"));
        }
        let signer = leaky_signer(env)?;
        Ok(match refused_and_quarantined(&signer, &fresh, "chosen-nonce") {
            Ok(said) => Outcome::pass(format!("raw, one token gave the receiver the private key; through the host: {said}; the receiver got no token")),
            Err(said) => Outcome::fail(said),
        })
    })
}

fn high_s_case(id: &'static str, alg: Algorithm, must: &'static str) -> Case {
    case(id, must, move |env| {
        let fresh = fresh_key(env, alg)?;
        let raw = raw_token(env, &fresh, &claims("high-s"))?;
        if rx::signature_is_high_s(alg.to_jsonwebtoken(), &raw) != Some(true) {
            return Ok(Outcome::fail("the raw token is not high-S: the attack is broken"));
        }
        let signer = leaky_signer(env)?;
        Ok(match refused_and_quarantined(&signer, &fresh, "high-s") {
            Ok(said) => Outcome::pass(format!("raw, (r, n - s) verifies; through the host: {said}")),
            Err(said) => Outcome::fail(said),
        })
    })
}

fn pss_salt_case() -> Case {
    case(
        "guest/pss-chosen-salt",
        "a PS256 signature whose salt carries a piece of the RSA prime p (it verifies) is refused PLUGIN_OUTPUT_REJECTED (not the canonical, derived-salt signature) and the plugin quarantined",
        |env| {
            let alg = Algorithm::PS256;
            let fresh = fresh_key(env, alg)?;
            let raw = raw_token(env, &fresh, &claims("pss-salt"))?;
            let salt = rx::recover_pss_salt(alg.to_jsonwebtoken(), &raw, &fresh.public).ok_or("the raw token is not PSS")?;
            if !rx::pss_salt_leaks_key(alg.to_jsonwebtoken(), &raw, &salt, &fresh.private) {
                return Ok(Outcome::fail("the raw salt carries no key bytes: the attack is broken"));
            }
            let signer = leaky_signer(env)?;
            Ok(match refused_and_quarantined(&signer, &fresh, "pss-salt") {
                Ok(said) => Outcome::pass(format!("raw, the salt carried a piece of p; through the host: {said}")),
                Err(said) => Outcome::fail(said),
            })
        },
    )
}

/// An outcome sweep: (bit, whether the call failed) and each call's code.
type Sweep = (Vec<(usize, bool)>, Vec<&'static str>);

fn outcome_case() -> Case {
    case(
        "guest/outcome-bit-leak",
        "a signer that fails when key bit n is 1 (n from a claim) leaks bits up to the first 1 and no more: that call fails, every later one is refused PLUGIN_QUARANTINED whatever the bit, and the receiver's decode of them is a coin flip (under 0.5 bit/call); without quarantine the same receiver reads all 64 bits",
        |env| {
            let fresh = fresh_key(env, Algorithm::HS256)?;
            let sweep = |trust_each_time: bool| -> Result<Sweep, String> {
                let signer = leaky_signer(env)?.with_schedule(AnswerSchedule::OFF);
                let mut seen = Vec::new();
                let mut codes = Vec::new();
                for bit in 0..SWEPT_BITS {
                    let result = sign(&signer, &fresh.key, json!({"sub": "tollgate-audit", "leak": "outcome-bit", "bit": bit}));
                    codes.push(result.as_ref().err().map_or("OK", JwtError::code));
                    seen.push((bit, result.is_err()));
                    if trust_each_time {
                        signer.quarantine().trust(signer.plugin_sha256()).map_err(|e| e.to_string())?;
                    }
                }
                Ok((seen, codes))
            };
            let (open, _) = sweep(true)?;
            let (open_errors, open_total) = rx::count_bit_errors(&rx::recover_bits_from_outcomes(&open, SWEPT_BITS), &fresh.private);
            if (open_errors, open_total) != (0, SWEPT_BITS) {
                return Ok(Outcome::fail(format!("without quarantine the receiver read {open_total} bits with {open_errors} errors: the attack is broken")));
            }
            let (closed, codes) = sweep(false)?;
            let Some(first_one) = (0..SWEPT_BITS).find(|&n| rx::key_bit(&fresh.private, n) == Some(true)) else {
                return Err("the fresh key's first 64 bits are all 0".into());
            };
            let later = &closed[first_one + 1..];
            let (errors, total) = rx::count_bit_errors(&rx::recover_bits_from_outcomes(later, SWEPT_BITS), &fresh.private);
            let capacity = rx::binary_channel_capacity(errors, total);
            let quarantined_after = codes[first_one + 1..].iter().all(|c| *c == "PLUGIN_QUARANTINED");
            let passed = codes[first_one] == "SIGNING_FAILED" && quarantined_after && capacity < OPEN_CHANNEL_BITS;
            Ok(Outcome::check(passed, format!(
                "without quarantine: {SWEPT_BITS}/{SWEPT_BITS} bits read; with it: {first_one} calls answered, call {first_one} {}, the next {} calls {}; the receiver's decode of those: {errors}/{total} errors, {capacity:.3} bit/call; bits learned: {}",
                codes[first_one],
                SWEPT_BITS - first_one - 1,
                if quarantined_after { "all PLUGIN_QUARANTINED" } else { "not all refused alike" },
                first_one + 1,
            )))
        },
    )
}

fn timing_case() -> Case {
    case(
        "guest/timing-bit-leak",
        "a signer that spins 15 ms when key bit n is 1: unheld, latency gives the receiver over 0.5 bit/call (the channel is real); with the app's answer schedule, under 0.5 bit/call and no answer before the 50 ms floor",
        |env| {
            let fresh = fresh_key(env, Algorithm::HS256)?;
            let measure = |signer: &JwtSigner| -> Result<(f64, Duration), String> {
                let mut seen = Vec::new();
                for bit in 0..TIMED_BITS {
                    let started = Instant::now();
                    sign(signer, &fresh.key, json!({"sub": "tollgate-audit", "leak": "timing-bit", "bit": bit, "spin_ms": TIMING_SPIN_MS}))
                        .map_err(|e| format!("a timing call failed: {}: {e}", e.code()))?;
                    seen.push((bit, started.elapsed()));
                }
                let fastest = seen.iter().map(|(_, d)| *d).min().unwrap_or_default();
                let (errors, total) = rx::count_bit_errors(&rx::recover_bits_from_timings(&seen, TIMED_BITS), &fresh.private);
                Ok((rx::binary_channel_capacity(errors, total), fastest))
            };
            let (open, _) = measure(&leaky_signer(env)?.with_schedule(AnswerSchedule::OFF))?;
            let (held, fastest) = measure(&leaky_signer(env)?)?;
            let floor = AnswerSchedule::DEFAULT.min_floor;
            let passed = open > OPEN_CHANNEL_BITS && held < OPEN_CHANNEL_BITS && fastest >= floor;
            Ok(Outcome::check(passed, format!(
                "{TIMED_BITS} calls each: unheld {open:.3} bit/call, held {held:.3} bit/call (fastest held answer {} ms)",
                fastest.as_millis()
            )))
        },
    )
}

fn overrun_case() -> Case {
    case(
        "guest/timing-overrun",
        "a signer that spins 200 ms (past the 50 ms floor) on 1 bits: each overrun's answer is held to 2 s, so an overrun is one event, not a duration; after 3 the plugin is quarantined (PLUGIN_QUARANTINED)",
        |env| {
            let fresh = fresh_key(env, Algorithm::HS256)?;
            let signer = leaky_signer(env)?;
            let schedule = AnswerSchedule::DEFAULT;
            let ones: Vec<usize> = (0..256).filter(|&n| rx::key_bit(&fresh.private, n) == Some(true)).take(schedule.max_overruns as usize).collect();
            let mut held = Vec::new();
            for bit in ones {
                let started = Instant::now();
                sign(&signer, &fresh.key, json!({"sub": "tollgate-audit", "leak": "timing-bit", "bit": bit, "spin_ms": OVERRUN_SPIN_MS}))
                    .map_err(|e| format!("an overrun failed: {}: {e}", e.code()))?;
                held.push(started.elapsed());
            }
            let after = sign(&signer, &fresh.key, json!({"sub": "tollgate-audit"}));
            let all_held = held.iter().all(|d| *d >= schedule.overrun_hold);
            let code = after.as_ref().err().map_or("OK", JwtError::code);
            Ok(Outcome::check(all_held && code == "PLUGIN_QUARANTINED", format!(
                "overruns answered at {} ms; the next sign: {code}",
                held.iter().map(|d| d.as_millis().to_string()).collect::<Vec<_>>().join(", ")
            )))
        },
    )
}

/// The key-channel cases, in the guest area.
pub fn cases() -> Vec<Case> {
    vec![
        chosen_nonce_case(
            "guest/chosen-nonce-es256",
            Algorithm::ES256,
            "an ES256 token signed with a nonce only the attacker can recompute (it verifies; one token gives away the key) is refused PLUGIN_OUTPUT_REJECTED (not the canonical RFC 6979 low-S signature) and the plugin quarantined",
        ),
        chosen_nonce_case(
            "guest/chosen-nonce-es384",
            Algorithm::ES384,
            "the same for ES384: refused PLUGIN_OUTPUT_REJECTED, the plugin quarantined",
        ),
        chosen_nonce_case(
            "guest/chosen-nonce-eddsa",
            Algorithm::EdDSA,
            "an Ed25519 signature with an attacker's nonce (it verifies; one token gives the signing scalar) is refused PLUGIN_OUTPUT_REJECTED (not RFC 8032's) and the plugin quarantined",
        ),
        high_s_case(
            "guest/high-s-es256",
            Algorithm::ES256,
            "(r, n - s), which verifies as well as (r, s) and so carries a free bit, is refused PLUGIN_OUTPUT_REJECTED and the plugin quarantined",
        ),
        pss_salt_case(),
        outcome_case(),
        timing_case(),
        overrun_case(),
    ]
}
