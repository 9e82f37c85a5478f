//! Audit cases: hostile tokens, against the host's verification (the
//! first-party signer guest and the host's native check, which must agree).
//! Every token is made here, natively, with keys fresh for the run; the
//! signer reads time from a clock the case fixes, so every edge is exact.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::audit::audit_keychain;
use crate::audit::bridge::AuditApp;
use crate::audit::{Area, AuditEnv, Case, Outcome};
use crate::bridge::ErrorCode;
use crate::guest_artifacts::{JWT_SIGNER_MANIFEST, JWT_SIGNER_WASM};
use crate::jwt::{Algorithm, JwtError, JwtSigner};
use crate::runtime::worlds::JwtSignerWorld;
use crate::runtime::{FixedClock, PluginSource};

/// "Now" for every case: a fixed instant, so edges are exact.
const NOW: u64 = 1_900_000_000;

/// The leeway the edge cases verify with.
const LEEWAY: u32 = 30;

/// An RSA public key (2048 bits) a profile for RS256 would hold: public by
/// nature, so the algorithm-confusion case can use it as a forger would.
const RSA_PUBLIC_PEM: &str = include_str!("../../../tests/fixtures/keys/rsa2048.pub.pem");

/// The built-in signer, reading time from a clock fixed at [`NOW`].
fn signer(env: &AuditEnv) -> Result<JwtSigner, String> {
    let source = PluginSource {
        wasm: std::borrow::Cow::Borrowed(JWT_SIGNER_WASM),
        manifest: std::borrow::Cow::Borrowed(JWT_SIGNER_MANIFEST),
        what: "built-in jwt-signer".into(),
    };
    let plugin = env.engine().load::<JwtSignerWorld>(&source).map_err(|e| e.to_string())?;
    Ok(JwtSigner::from_plugin(plugin.with_clock(Arc::new(FixedClock(UNIX_EPOCH + Duration::from_secs(NOW))))))
}

/// A fresh 32-byte HMAC secret, planted for the secrets search.
fn secret(env: &AuditEnv) -> Vec<u8> {
    let mut key = [0u8; 32];
    let _ = getrandom::fill(&mut key);
    env.plant("an HMAC secret of the JWT cases (hex)", hex::encode(key));
    key.to_vec()
}

fn hs256(claims: &Value, key: &[u8], kid: Option<&str>) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap_or_default()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn code_of(r: &Result<Value, JwtError>) -> String {
    match r {
        Ok(claims) => format!("valid ({claims})"),
        Err(e) => format!("{}: {e}", e.code()),
    }
}

/// One verification: what it is, the token, the allowed algorithms, the
/// leeway, and the error code it must get (`None`: valid).
type Check<'a> = (&'a str, String, Vec<Algorithm>, u32, Option<&'a str>);

/// Verifies each check and requires its code.
fn expect_codes(env: &AuditEnv, key: &[u8], checks: Vec<Check<'_>>) -> Outcome {
    let signer = match signer(env) {
        Ok(s) => s,
        Err(e) => return Outcome::fail(format!("the signer did not load: {e}")),
    };
    let mut said = Vec::new();
    let mut ok = true;
    for (what, token, allowed, leeway, expected) in checks {
        let result = signer.verify(&token, key, &allowed, leeway);
        let got = result.as_ref().err().map(JwtError::code);
        ok &= got == expected;
        if let Err(e) = &result {
            env.heard(e.to_string());
        }
        said.push(format!("{what}: {}", match &result {
            Ok(_) => "valid".to_owned(),
            Err(e) => e.code().to_owned(),
        }));
        if got != expected {
            said.push(format!("(must be {}; got {})", expected.unwrap_or("valid"), code_of(&result)));
        }
    }
    Outcome::check(ok, said.join("; "))
}

/// The JWT cases, in order.
pub fn cases() -> Vec<Case> {
    let exp = NOW + 3600;
    vec![
        Case::new(
            "jwt/alg-none",
            Area::Jwt,
            "tokens with alg none, None and NONE and an empty signature, under an HS256 profile",
            "ALGORITHM_NONE for each, whatever the allowed list",
            move |env| {
                let key = secret(env);
                let checks = ["none", "None", "NONE"]
                    .into_iter()
                    .map(|alg| {
                        let token = format!("{}.{}.", b64(&json!({"alg": alg, "typ": "JWT"})), b64(&json!({"sub": "admin", "exp": exp})));
                        ("alg ".to_owned() + alg, token)
                    })
                    .collect::<Vec<_>>();
                let checks = checks.iter().map(|(w, t)| (w.as_str(), t.clone(), vec![Algorithm::HS256], 0, Some("ALGORITHM_NONE"))).collect();
                expect_codes(env, &key, checks)
            },
        ),
        Case::new(
            "jwt/hs256-signed-with-the-rsa-public-key",
            Area::Jwt,
            "an HS256 token whose HMAC secret is the RS256 profile's public key PEM (algorithm confusion)",
            "refused under the RS256 profile: ALGORITHM_NOT_ALLOWED; and where a verifier allows HS256 too, INVALID_KEY: the public key is never used as an HMAC secret",
            move |env| {
                let forged = hs256(&json!({"sub": "admin", "exp": exp}), RSA_PUBLIC_PEM.as_bytes(), None);
                expect_codes(
                    env,
                    RSA_PUBLIC_PEM.as_bytes(),
                    vec![
                        ("RS256 allowed", forged.clone(), vec![Algorithm::RS256], 0, Some("ALGORITHM_NOT_ALLOWED")),
                        ("RS256 and HS256 allowed", forged, vec![Algorithm::RS256, Algorithm::HS256], 0, Some("INVALID_KEY")),
                    ],
                )
            },
        ),
        Case::new(
            "jwt/kid-path-traversal",
            Area::Jwt,
            "tokens whose kid is ../../../../<a file the forger controls> and /dev/null, HMAC-signed with that file's bytes",
            "INVALID_SIGNATURE: the key comes from the profile only; kid is never a path",
            move |env| {
                let key = secret(env);
                let planted = env.scratch().join("kid-key");
                let forger_key = b"the forger's key file, 32 bytes or more";
                if let Err(e) = std::fs::write(&planted, forger_key) {
                    return Outcome::fail(format!("cannot write the forger's file: {e}"));
                }
                let traversal = format!("../../../../../../..{}", planted.display());
                let claims = json!({"sub": "admin", "exp": exp});
                expect_codes(
                    env,
                    &key,
                    vec![
                        ("kid naming the forger's file", hs256(&claims, forger_key, Some(&traversal)), vec![Algorithm::HS256], 0, Some("INVALID_SIGNATURE")),
                        ("kid /dev/null, empty key", hs256(&claims, b"", Some("/dev/null")), vec![Algorithm::HS256], 0, Some("INVALID_SIGNATURE")),
                        ("kid traversal, the profile's key", hs256(&claims, &key, Some(&traversal)), vec![Algorithm::HS256], 0, None),
                    ],
                )
            },
        ),
        Case::new(
            "jwt/exp-as-a-string",
            Area::Jwt,
            "a correctly signed token with \"exp\": \"<a far future date>\"",
            "INVALID_CLAIM_TYPE: a NumericDate is a number, never coerced",
            move |env| {
                let key = secret(env);
                let token = hs256(&json!({"exp": (exp + 1_000_000).to_string()}), &key, None);
                expect_codes(env, &key, vec![("string exp", token, vec![Algorithm::HS256], 0, Some("INVALID_CLAIM_TYPE"))])
            },
        ),
        Case::new(
            "jwt/nbf-in-the-future",
            Area::Jwt,
            "correctly signed tokens with nbf an hour ahead, and nbf exactly leeway seconds ahead",
            "NOT_YET_VALID an hour ahead; valid at the leeway's edge",
            move |env| {
                let key = secret(env);
                let ahead = hs256(&json!({"exp": exp, "nbf": NOW + 3600}), &key, None);
                let edge = hs256(&json!({"exp": exp, "nbf": NOW + u64::from(LEEWAY)}), &key, None);
                expect_codes(
                    env,
                    &key,
                    vec![
                        ("nbf + 1 h", ahead, vec![Algorithm::HS256], LEEWAY, Some("NOT_YET_VALID")),
                        ("nbf = now + leeway", edge, vec![Algorithm::HS256], LEEWAY, None),
                    ],
                )
            },
        ),
        Case::new(
            "jwt/missing-exp",
            Area::Jwt,
            "a correctly signed token without exp",
            "MISSING_CLAIM: a token that never expires is refused",
            move |env| {
                let key = secret(env);
                let token = hs256(&json!({"sub": "admin"}), &key, None);
                expect_codes(env, &key, vec![("no exp", token, vec![Algorithm::HS256], 0, Some("MISSING_CLAIM"))])
            },
        ),
        Case::new(
            "jwt/leeway-edge",
            Area::Jwt,
            "tokens with exp = now - leeway + 1 and exp = now - leeway, verified with a 30 s leeway",
            "valid one second inside the leeway; EXPIRED at exp + leeway = now",
            move |env| {
                let key = secret(env);
                let inside = hs256(&json!({"exp": NOW - u64::from(LEEWAY) + 1}), &key, None);
                let at = hs256(&json!({"exp": NOW - u64::from(LEEWAY)}), &key, None);
                expect_codes(
                    env,
                    &key,
                    vec![
                        ("exp + leeway = now + 1", inside, vec![Algorithm::HS256], LEEWAY, None),
                        ("exp + leeway = now", at, vec![Algorithm::HS256], LEEWAY, Some("EXPIRED")),
                    ],
                )
            },
        ),
        Case::new(
            "jwt/iat-in-the-future",
            Area::Jwt,
            "correctly signed tokens issued (iat) an hour ahead, and exactly leeway seconds ahead",
            "NOT_YET_VALID an hour ahead (a wrong clock or a forger); valid at the leeway's edge",
            move |env| {
                let key = secret(env);
                let ahead = hs256(&json!({"exp": exp, "iat": NOW + 3600}), &key, None);
                let edge = hs256(&json!({"exp": exp, "iat": NOW + u64::from(LEEWAY)}), &key, None);
                expect_codes(
                    env,
                    &key,
                    vec![
                        ("iat + 1 h", ahead, vec![Algorithm::HS256], LEEWAY, Some("NOT_YET_VALID")),
                        ("iat = now + leeway", edge, vec![Algorithm::HS256], LEEWAY, None),
                    ],
                )
            },
        ),
        Case::new(
            "jwt/tampered-payload",
            Area::Jwt,
            "a valid token whose payload is swapped for {\"sub\":\"admin\"} keeping the signature",
            "INVALID_SIGNATURE",
            move |env| {
                let key = secret(env);
                let token = hs256(&json!({"sub": "user", "exp": exp}), &key, None);
                let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
                if let Some(payload) = parts.get_mut(1) {
                    *payload = b64(&json!({"sub": "admin", "exp": exp}));
                }
                expect_codes(env, &key, vec![("swapped payload", parts.join("."), vec![Algorithm::HS256], 0, Some("INVALID_SIGNATURE"))])
            },
        ),
        Case::new(
            "jwt/custom-header-fields-a-verifier-acts-on",
            Area::Jwt,
            "profiles:save with headerFields crit, b64: false, jku, x5c, ALG, aud, a float, 17 fields, 2.1 KiB",
            "VALIDATION_ERROR naming headerFields for each, and no profile saved; an ordinary field saves and is signed into the token after kid",
            custom_header_fields,
        ),
    ]
}

/// A page (or a bundle, or the CLI: the same check) asking for header
/// fields that change how a verifier reads a token.
fn custom_header_fields(env: &AuditEnv) -> Outcome {
    let dir = env.scratch().join("header-fields");
    let _ = std::fs::create_dir_all(&dir);
    let app = match AuditApp::at(env, &dir, audit_keychain("master-key")) {
        Ok(app) => app,
        Err(e) => return Outcome::fail(e),
    };
    let sealed = match app.json("crypto:encrypt", &json!({"algorithm": "HS256", "key": "a-secret-for-the-header-field-audit-0123"})) {
        Ok(v) => v["encryptedKey"].clone(),
        Err((code, m)) => return Outcome::fail(format!("crypto:encrypt: {}: {m}", code.as_str())),
    };
    let save = |name: &str, fields: Value| {
        app.json(
            "profiles:save",
            &json!({"name": name, "algorithm": "HS256", "encryptedKey": sealed, "payload": {}, "expirationPreset": "1h", "headerFields": fields}),
        )
    };
    let many: serde_json::Map<String, Value> = (0..17).map(|i| (format!("f{i}"), json!(i))).collect();
    let hostile = [
        ("crit", json!({"crit": ["exp"]})),
        ("b64", json!({"b64": false})),
        ("jku", json!({"jku": "https://attacker.example/jwks"})),
        ("x5c", json!({"x5c": ["MIIB"]})),
        ("ALG", json!({"ALG": "none"})),
        ("aud", json!({"aud": "another-api"})),
        ("a float", json!({"x": 1.000_000_000_000_000_1e-307})),
        ("17 fields", Value::Object(many)),
        ("2.1 KiB", json!({"big": "x".repeat(2100)})),
    ];
    let mut wrong = Vec::new();
    for (what, fields) in hostile {
        match save(what, fields) {
            Err((ErrorCode::ValidationError, m)) if m.contains("headerFields") => {}
            Err((code, m)) => wrong.push(format!("{what}: {}: {m}", code.as_str())),
            Ok(_) => wrong.push(format!("{what}: saved")),
        }
    }
    let saved = app.json("profiles:load", &json!({})).map(|v| v["profiles"].as_array().map_or(0, Vec::len)).unwrap_or(usize::MAX);
    // The honest control: saved, and in the token after kid.
    let header = save("ordinary", json!({"x-tenant": "eu-1"}))
        .and_then(|p| app.json("jwt:generate", &json!({"profileId": p["id"]})))
        .map(|t| t["header"].clone());
    let signed = matches!(&header, Ok(h) if h["x-tenant"] == "eu-1");
    Outcome::check(
        wrong.is_empty() && saved == 0 && signed,
        format!("refused as they must be: {}; profiles saved by them: {saved}; the ordinary field signed: {signed} ({header:?})",
            if wrong.is_empty() { "all nine".to_owned() } else { wrong.join("; ") }),
    )
}
