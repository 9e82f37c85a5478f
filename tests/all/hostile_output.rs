//! A hostile signer cannot get anything past the host's output checks:
//! not the key in claims, header, padding or signature, not a token for
//! other claims or another algorithm, not a lie from decode or verify.

use serde_json::json;
use tollgate::jwt::{Algorithm, JwtSigner, SignRequest};

use crate::common::{HMAC_SECRET, misbehaving, signing_key};

#[test]
fn every_smuggling_signer_output_is_rejected() {
    let signer = JwtSigner::from_plugin(misbehaving());
    let key = signing_key(Algorithm::HS256);
    let cases = [
        "smuggle-claims",
        "smuggle-header",
        "smuggle-signature",
        "smuggle-padding",
        "smuggle-trailing-bits",
        "smuggle-whitespace",
        "other-claims",
        "other-alg",
        "huge-output",
    ];
    for behaviour in cases {
        let claims = json!({"sub": "x", "hostile": behaviour});
        let err = signer.sign(SignRequest { key: &key, claims, kid: None, typ: None, extra: Default::default() }).expect_err(behaviour);
        assert_eq!(err.code(), "PLUGIN_OUTPUT_REJECTED", "{behaviour}: {err}");
        let hex: String = HMAC_SECRET.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!err.to_string().contains(&hex), "{behaviour}: the error quotes the key");
        // A refused answer quarantines the plugin; trusted again, the same
        // plugin signs honestly when not asked to misbehave.
        crate::common::assert_quarantined_then_trusted(&signer, || {
            signer.sign(SignRequest { key: &key, claims: json!({"sub": "x"}), kid: None, typ: None, extra: Default::default() })
        });
    }
}

#[test]
fn a_signer_error_that_carries_the_key_reaches_nobody() {
    let signer = JwtSigner::from_plugin(misbehaving());
    let key = signing_key(Algorithm::HS256);
    let claims = json!({"hostile": "error-with-key"});
    let err = signer.sign(SignRequest { key: &key, claims, kid: None, typ: None, extra: Default::default() }).expect_err("fails");
    assert_eq!(err.code(), "SIGNING_FAILED");
    let hex: String = HMAC_SECRET.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!format!("{err} {err:?}").contains(&hex), "the guest's message reached the caller");
}

#[test]
fn lying_decode_and_verify_answers_are_rejected() {
    let honest = crate::common::signer();
    let key = signing_key(Algorithm::HS256);
    let token = honest
        .sign(SignRequest { key: &key, claims: json!({"exp": 4_000_000_000u64}), kid: None, typ: None, extra: Default::default() })
        .expect("sign");
    let liar = JwtSigner::from_plugin(misbehaving());
    assert_eq!(liar.decode(&token).expect_err("lies").code(), "PLUGIN_OUTPUT_REJECTED");
    // It claims any token is valid; the host knows this one's key is wrong.
    let err = liar.verify(&token, b"not-the-key-not-the-key-not-the-key!", &[Algorithm::HS256], 0).expect_err("lies");
    assert_eq!(err.code(), "PLUGIN_OUTPUT_REJECTED");
    // `verify` carries a key too: the lie quarantined the plugin.
    assert_eq!(liar.verify(&token, HMAC_SECRET, &[Algorithm::HS256], 0).expect_err("quarantined").code(), "PLUGIN_QUARANTINED");
    liar.quarantine().trust(liar.plugin_sha256()).expect("trust");
    // And it returns other claims for a valid one.
    let err = liar.verify(&token, HMAC_SECRET, &[Algorithm::HS256], 0).expect_err("lies");
    assert_eq!(err.code(), "PLUGIN_OUTPUT_REJECTED");
}
