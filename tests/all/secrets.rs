//! Secrets never reach the log: every record the runtime and the guests
//! produce during signing is captured and searched for the key.

use serde_json::json;
use tollgate::jwt::{Algorithm, JwtSigner, SignRequest};

use crate::common::{HMAC_SECRET, LogCapture, TextLog, keys_for, misbehaving, signer, signing_key};

/// Runs `f` with every tracing record at every level captured (this thread).
fn captured(f: impl FnOnce()) -> String {
    let capture = LogCapture::default();
    tracing::subscriber::with_default(capture.subscriber(), f);
    capture.text()
}

/// Forms of `key` a leak could take: raw text, hex, base64, and every
/// 16-byte window of the raw key (catches a PEM line or a partial leak).
fn leak_forms(key: &[u8]) -> Vec<String> {
    use base64::Engine as _;
    let mut forms = vec![
        key.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        base64::engine::general_purpose::STANDARD.encode(key),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key),
    ];
    let text = String::from_utf8_lossy(key);
    // PEM bodies: each base64 line of the key.
    forms.extend(text.lines().filter(|l| l.len() >= 16 && !l.starts_with("-----")).map(str::to_owned));
    if !text.contains("-----") {
        forms.push(text.into_owned());
    }
    forms
}

#[test]
fn a_guest_that_logs_or_prints_the_key_is_withheld() {
    let signer = JwtSigner::from_plugin(misbehaving());
    let key = signing_key(Algorithm::HS256);
    let log = captured(|| {
        for behaviour in ["log-key", "stdout-key"] {
            let claims = json!({"sub": "x", "hostile": behaviour});
            signer.sign(SignRequest { key: &key, claims, kid: None, typ: None, extra: Default::default() }).expect("signs honestly after trying to leak");
        }
    });
    assert!(log.contains("guest output withheld"), "the capture saw nothing: {log}");
    for form in leak_forms(HMAC_SECRET) {
        assert!(!log.contains(&form), "the key reached the log as {form}");
    }
}

#[test]
fn signing_and_verifying_with_every_algorithm_logs_no_key_material() {
    let log = captured(|| {
        let signer = signer();
        for alg in Algorithm::ALL {
            let key = signing_key(alg);
            let token = signer
                .sign(SignRequest { key: &key, claims: json!({"exp": 4_000_000_000u64}), kid: None, typ: None, extra: Default::default() })
                .expect("sign");
            signer.verify(&token, &keys_for(alg).1, &[alg], 0).expect("verify");
            // A failing verify and a failing sign log too.
            let _ = signer.verify(&token, b"wrong-wrong-wrong-wrong-wrong-wrong!", &[Algorithm::HS256], 0);
            let _ = signer.sign(SignRequest { key: &key, claims: json!([1]), kid: None, typ: None, extra: Default::default() });
        }
    });
    assert!(log.contains("plugin call"), "the capture saw no plugin call: {log}");
    for alg in Algorithm::ALL {
        for form in leak_forms(&keys_for(alg).0) {
            assert!(!log.contains(&form), "{alg}: key material reached the log as {form}");
        }
    }
}
