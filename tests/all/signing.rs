//! Sign then verify through the guest for every algorithm; byte-equal to
//! native jsonwebtoken where the algorithm is deterministic.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header, Validation};
use serde_json::{Value, json};
use tollgate::jwt::{Algorithm, JwtSigner, SignRequest};
use tollgate::runtime::FixedClock;

use crate::common::{keys_for, native_decoding_key, signer, signing_key};

fn claims() -> Value {
    json!({"sub": "user-1", "name": "Ada", "roles": ["admin", "dev"], "exp": 4_000_000_000u64, "iat": 1_700_000_000u64, "nested": {"b": 1, "a": 2}})
}

fn native_encoding_key(alg: Algorithm, private: &[u8]) -> EncodingKey {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => EncodingKey::from_secret(private),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(private).expect("ec"),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(private).expect("ed"),
        _ => EncodingKey::from_rsa_pem(private).expect("rsa"),
    }
}

#[test]
fn every_algorithm_signs_in_the_guest_and_verifies_natively_and_in_the_guest() {
    let signer = signer();
    for alg in Algorithm::ALL {
        let key = signing_key(alg);
        let (private, public) = keys_for(alg);
        let token = signer
            .sign(SignRequest { key: &key, claims: claims(), kid: Some("key-1".into()), typ: None, extra: Default::default() })
            .unwrap_or_else(|e| panic!("{alg}: {e}"));

        // Natively, with jsonwebtoken's own full validation.
        let mut validation = Validation::new(alg.to_jsonwebtoken());
        validation.validate_exp = true;
        let data = jsonwebtoken::decode::<Value>(&token, &native_decoding_key(alg, &public), &validation)
            .unwrap_or_else(|e| panic!("{alg}: native verify: {e}"));
        assert_eq!(data.claims, claims(), "{alg}");
        assert_eq!(data.header.kid.as_deref(), Some("key-1"));
        assert_eq!(data.header.alg, alg.to_jsonwebtoken());

        // Through the guest, with the public key.
        let verified = signer.verify(&token, &public, &[alg], 0).unwrap_or_else(|e| panic!("{alg}: guest verify: {e}"));
        assert_eq!(verified, claims(), "{alg}");

        // Byte-equal to the canonical token (every algorithm, PS* too),
        // which is jsonwebtoken's own for the deterministic ones, and
        // jsonwebtoken's RFC 6979 signature with s made low for ES*.
        let message = token.rsplit_once('.').expect("three segments").0;
        let canonical = tollgate_jwt_canonical::CanonicalSigner::new(alg.to_jsonwebtoken(), &private).expect("canonical key");
        assert_eq!(token, canonical.token(message).expect("canonical sign"), "{alg}: guest token is not the canonical one");
        if alg.is_deterministic() {
            let mut header = Header::new(alg.to_jsonwebtoken());
            header.kid = Some("key-1".into());
            let native = jsonwebtoken::encode(&header, &claims(), &native_encoding_key(alg, &private)).expect("native sign");
            let (native_message, native_signature) = native.rsplit_once('.').expect("three segments");
            assert_eq!(message, native_message, "{alg}: the signing input differs from jsonwebtoken's");
            let raw = URL_SAFE_NO_PAD.decode(native_signature).expect("base64url");
            let expected = match alg {
                Algorithm::ES256 | Algorithm::ES384 => tollgate_jwt_canonical::low_s(alg.to_jsonwebtoken(), &raw).expect("low-S"),
                _ => raw,
            };
            assert_eq!(token, format!("{message}.{}", URL_SAFE_NO_PAD.encode(expected)), "{alg}: not jsonwebtoken's signature (low-S for ES*)");
        }
    }
}

#[test]
fn verify_refuses_wrong_keys_algorithms_and_times() {
    let signer = signer();
    let key = signing_key(Algorithm::HS256);
    let token = signer.sign(SignRequest { key: &key, claims: json!({"exp": 2_000, "nbf": 1_000}), kid: None, typ: None, extra: Default::default() }).expect("sign");
    let at = |secs: u64| JwtSigner::from_plugin(
        crate::common::load(
            tollgate::guest_artifacts::JWT_SIGNER_WASM_PATH,
            tollgate::guest_artifacts::JWT_SIGNER_MANIFEST_PATH,
        )
        .expect("load")
        .with_clock(Arc::new(FixedClock(UNIX_EPOCH + Duration::from_secs(secs))))
    );
    let secret = crate::common::HMAC_SECRET;
    assert!(at(1_500).verify(&token, secret, &[Algorithm::HS256], 0).is_ok());
    assert_eq!(at(2_000).verify(&token, secret, &[Algorithm::HS256], 0).expect_err("expired").code(), "EXPIRED");
    assert!(at(2_000).verify(&token, secret, &[Algorithm::HS256], 1).is_ok(), "leeway covers the edge");
    assert_eq!(at(999).verify(&token, secret, &[Algorithm::HS256], 0).expect_err("nbf").code(), "NOT_YET_VALID");
    let wrong = b"another-secret-that-is-long-enough-0000";
    assert_eq!(at(1_500).verify(&token, wrong, &[Algorithm::HS256], 0).expect_err("key").code(), "INVALID_SIGNATURE");
    assert_eq!(
        at(1_500).verify(&token, secret, &[Algorithm::RS256], 0).expect_err("alg").code(),
        "ALGORITHM_NOT_ALLOWED"
    );
}

#[test]
fn tokens_with_alg_none_string_exp_or_no_exp_are_refused() {
    use base64::Engine as _;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let signer = signer();
    let none = format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(json!({"exp": 4_000_000_000u64})));
    let err = signer.verify(&none, crate::common::HMAC_SECRET, &[Algorithm::HS256], 0).expect_err("none");
    assert_eq!(err.code(), "ALGORITHM_NONE");

    let key = signing_key(Algorithm::HS256);
    let sign = |claims| signer.sign(SignRequest { key: &key, claims, kid: None, typ: None, extra: Default::default() }).expect("sign");
    let string_exp = sign(json!({"exp": "4000000000"}));
    let err = signer.verify(&string_exp, crate::common::HMAC_SECRET, &[Algorithm::HS256], 0).expect_err("string exp");
    assert_eq!(err.code(), "INVALID_CLAIM_TYPE");
    let no_exp = sign(json!({"sub": "x"}));
    let err = signer.verify(&no_exp, crate::common::HMAC_SECRET, &[Algorithm::HS256], 0).expect_err("no exp");
    assert_eq!(err.code(), "MISSING_CLAIM");
}

#[test]
fn decode_through_the_guest_matches_the_token() {
    let signer = signer();
    let key = signing_key(Algorithm::ES256);
    let token = signer.sign(SignRequest { key: &key, claims: claims(), kid: None, typ: Some("at+jwt".into()), extra: Default::default() }).expect("sign");
    let decoded = signer.decode(&token).expect("decode");
    let header: Value = serde_json::from_str(&decoded.header).expect("json");
    assert_eq!(header, json!({"alg": "ES256", "typ": "at+jwt"}));
    assert_eq!(serde_json::from_str::<Value>(&decoded.payload).expect("json"), claims());
    assert_eq!(Some(decoded.signature.as_str()), token.rsplit('.').next());
    for bad in ["", "a.b", "not.a.token", "e30.e30.x.y"] {
        assert_eq!(signer.decode(bad).expect_err(bad).code(), "MALFORMED_TOKEN", "{bad}");
    }
}

#[test]
fn bad_input_gets_typed_errors_before_the_guest_is_called() {
    use tollgate::jwt::SigningKey;
    use zeroize::Zeroizing;
    let key = |alg: Algorithm, bytes: &[u8]| SigningKey::new(alg, Zeroizing::new(bytes.to_vec())).expect_err("refused");

    let rsa = crate::common::key_bytes("rsa2048.pem");
    assert_eq!(key(Algorithm::HS256, &rsa).code(), "INVALID_KEY", "an RSA key for HS256");
    let short = key(Algorithm::HS256, b"short-secret");
    assert!(short.to_string().contains("at least 32 bytes"), "{short}");
    assert_eq!(key(Algorithm::RS256, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").code(), "INVALID_KEY");
    let weak = key(Algorithm::RS256, &crate::common::key_bytes("rsa1024.pem"));
    assert!(weak.to_string().contains("1024 bits"), "{weak}");
    assert_eq!(key(Algorithm::ES256, &crate::common::key_bytes("p384.pem")).code(), "INVALID_KEY", "P-384 key for ES256");
    assert_eq!(key(Algorithm::EdDSA, &rsa).code(), "INVALID_KEY");

    assert_eq!("none".parse::<Algorithm>().expect_err("none").code(), "ALGORITHM_NONE");
    assert_eq!("HS999".parse::<Algorithm>().expect_err("unknown").code(), "UNKNOWN_ALGORITHM");

    let signer = signer();
    let k = signing_key(Algorithm::HS256);
    for claims in [json!([1, 2]), json!("claims"), json!(null)] {
        let err = signer.sign(SignRequest { key: &k, claims, kid: None, typ: None, extra: Default::default() }).expect_err("not object");
        assert_eq!(err.code(), "INVALID_CLAIMS");
    }
}
