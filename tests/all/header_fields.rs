//! Custom header fields (`tollgate:jwt@0.3`): signed by every algorithm in
//! name order after `kid`, read back by an independent verifier, carried by
//! the worker; refused to signers of older contracts before the key is
//! sent; and a signer that drops or adds one is refused like any other
//! changed byte.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Validation;
use serde_json::{Value, json};
use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::{Algorithm, ExtraHeader, JwtSigner, SignRequest};
use tollgate::runtime::PluginSource;
use tollgate::worker::{WorkerOptions, WorkerPlugin, WorkerSigner};

use crate::common::{HMAC_SECRET, engine, keys_for, misbehaving, native_decoding_key, signer, signing_key};

fn extra() -> ExtraHeader {
    ExtraHeader::from_object(json!({"zone": "eu-1", "ver": 2, "ctx": {"b": [1, 2], "a": null}}).as_object().expect("object").clone())
        .expect("allowed")
}

fn claims() -> Value {
    json!({"sub": "header-fields", "exp": 4_000_000_000u64})
}

fn header_text(token: &str) -> String {
    let segment = token.split('.').next().expect("header segment");
    String::from_utf8(URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("utf-8")
}

#[test]
fn every_algorithm_signs_custom_header_fields_after_kid_and_a_native_verifier_reads_them() {
    let signer = signer();
    for alg in Algorithm::ALL {
        let key = signing_key(alg);
        let token = signer
            .sign(SignRequest { key: &key, claims: claims(), kid: Some("k-1".into()), typ: None, extra: extra() })
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(
            header_text(&token),
            format!(r#"{{"typ":"JWT","alg":"{alg}","kid":"k-1","ctx":{{"a":null,"b":[1,2]}},"ver":2,"zone":"eu-1"}}"#),
            "{alg}"
        );
        // jsonwebtoken, natively, with its full validation.
        let data = jsonwebtoken::decode::<Value>(&token, &native_decoding_key(alg, &keys_for(alg).1), &Validation::new(alg.to_jsonwebtoken()))
            .unwrap_or_else(|e| panic!("{alg}: native verify: {e}"));
        assert_eq!(data.header.extras.get::<String>("zone").expect("zone"), Some("eu-1".to_owned()), "{alg}");
        assert_eq!(data.header.extras.get::<u32>("ver").expect("ver"), Some(2), "{alg}");
    }
}

#[test]
fn the_worker_carries_custom_header_fields_and_gives_the_in_process_token() {
    let mut options = WorkerOptions::new(crate::common::worker_program());
    options.plugin = WorkerPlugin::default();
    let worker = JwtSigner::from_backend(Box::new(WorkerSigner::new(options).expect("worker")));
    let key = signing_key(Algorithm::ES256);
    let request = || SignRequest { key: &key, claims: claims(), kid: None, typ: None, extra: extra() };
    let remote = worker.sign(request()).expect("signed in the worker");
    assert_eq!(remote, signer().sign(request()).expect("signed here"));
    assert!(header_text(&remote).ends_with(r#""ver":2,"zone":"eu-1"}"#), "{}", header_text(&remote));
}

fn older(wasm: &str, manifest: &str) -> PluginSource<'static> {
    PluginSource::from_files(Path::new(wasm), Some(Path::new(manifest))).expect("built")
}

#[test]
fn signers_of_older_contracts_are_refused_custom_header_fields_before_the_key_is_sent() {
    let older_signers = [
        ("0.2", older(artifacts::JWT_SIGNER_V0_2_WASM_PATH, artifacts::JWT_SIGNER_V0_2_MANIFEST_PATH)),
        ("0.1", older(artifacts::JWT_SIGNER_V0_1_WASM_PATH, artifacts::JWT_SIGNER_V0_1_MANIFEST_PATH)),
    ];
    for (version, source) in older_signers {
        let in_process = JwtSigner::load(engine(), &source, false).expect("loads");
        let mut options = WorkerOptions::new(crate::common::worker_program());
        options.plugin = WorkerPlugin { wasm: None, manifest: None, sha256: None };
        let worker = JwtSigner::from_backend(Box::new(WorkerSigner::from_source(options, &source).expect("worker")));
        for (place, signer) in [("in process", &in_process), ("in a worker", &worker)] {
            let key = signing_key(Algorithm::HS256);
            let err = signer
                .sign(SignRequest { key: &key, claims: claims(), kid: None, typ: None, extra: extra() })
                .expect_err("no place for them in the contract");
            assert_eq!(err.code(), "INVALID_HEADER", "{version} {place}: {err}");
            assert!(err.to_string().contains("tollgate:jwt@0.3"), "{version} {place}: {err}");
            // Refused before any call: no worker was started, nothing was
            // quarantined, and the same signer signs without them.
            assert_eq!(signer.worker_pid(), None, "{version} {place}");
            let token = signer
                .sign(SignRequest { key: &key, claims: claims(), kid: None, typ: None, extra: ExtraHeader::none() })
                .unwrap_or_else(|e| panic!("{version} {place}: {e}"));
            assert_eq!(header_text(&token), r#"{"typ":"JWT","alg":"HS256"}"#, "{version} {place}");
        }
    }
}

#[test]
fn a_signer_that_drops_or_adds_a_header_field_is_refused_and_quarantined() {
    let signer = JwtSigner::from_plugin(misbehaving());
    let key = signing_key(Algorithm::HS256);
    // Honest when not asked to misbehave: the fields asked for, in order.
    let token = signer
        .sign(SignRequest { key: &key, claims: json!({"sub": "x"}), kid: None, typ: None, extra: extra() })
        .expect("honest");
    assert!(header_text(&token).contains(r#""zone":"eu-1""#), "{}", header_text(&token));
    let hex: String = HMAC_SECRET.iter().map(|b| format!("{b:02x}")).collect();
    for behaviour in ["drop-extra", "smuggle-extra"] {
        let err = signer
            .sign(SignRequest { key: &key, claims: json!({"sub": "x", "hostile": behaviour}), kid: None, typ: None, extra: extra() })
            .expect_err(behaviour);
        assert_eq!(err.code(), "PLUGIN_OUTPUT_REJECTED", "{behaviour}: {err}");
        assert!(err.to_string().contains("header or claims differ"), "{behaviour}: {err}");
        assert!(!err.to_string().contains(&hex), "{behaviour}: the error quotes the key");
        crate::common::assert_quarantined_then_trusted(&signer, || {
            signer.sign(SignRequest { key: &key, claims: json!({"sub": "x"}), kid: None, typ: None, extra: extra() })
        });
    }
}
