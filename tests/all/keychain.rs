//! Keys at rest and in use, against the real Secret Service
//! (gnome-keyring, started by `harness::ensure_secret_service`) and an
//! injected failing keychain: the master key, sealing, `crypto:encrypt`,
//! `jwt:generate` and `jwt:verify`, another install's profiles, a locked
//! keychain, and that no key reaches a log line, an error or a response.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use tollgate::bridge::ErrorCode;
use tollgate::jwt::Algorithm;
use tollgate::secrets::{Keychain, KeyBinding, MASTER_KEY_BYTES, OsKeychain, Secrets};
use tollgate::store::profiles::PROFILES_FILE;
use tollgate::store::timestamp;

use crate::common::{HMAC_SECRET, LogCapture, key_bytes, keys_for};
use crate::harness::{AppHarness, FailingKeychain, TEST_SERVICE, other_install_keychain, real_keychain};

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 key")
}

/// Forms a leak of `key` could take: raw text, hex, base64, and each PEM
/// body line (a partial leak).
fn leak_forms(key: &[u8]) -> Vec<String> {
    let mut forms = vec![
        key.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        STANDARD.encode(key),
        URL_SAFE_NO_PAD.encode(key),
    ];
    let text = String::from_utf8_lossy(key);
    forms.extend(text.lines().filter(|l| l.len() >= 16 && !l.starts_with("-----")).map(str::to_owned));
    if !text.contains("-----") {
        forms.push(text.into_owned());
    }
    forms
}

fn verify_natively(token: &str, alg: Algorithm) -> Value {
    let public = keys_for(alg).1;
    let key = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => DecodingKey::from_secret(&public),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(&public).expect("ec"),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(&public).expect("ed"),
        _ => DecodingKey::from_rsa_pem(&public).expect("rsa"),
    };
    jsonwebtoken::decode::<Value>(token, &key, &Validation::new(alg.to_jsonwebtoken())).expect("verifies natively").claims
}

fn profile(app: &AppHarness, name: &str, alg: Algorithm, preset: &str) -> Value {
    let key = text(&keys_for(alg).0);
    let encrypted_key = app.encrypt(alg.name(), &key);
    app.ok(
        "profiles:save",
        json!({
            "name": name, "algorithm": alg.name(), "encryptedKey": encrypted_key,
            "payload": { "sub": "ada", "role": "admin" }, "expirationPreset": preset
        }),
    )
}

#[test]
fn the_master_key_is_created_once_in_the_real_keychain_and_reused() {
    let keychain = other_install_keychain("master");
    assert!(keychain.read().expect("the Secret Service answers").is_none(), "a fresh entry");
    let first = Secrets::new(Arc::clone(&keychain));
    let binding = KeyBinding::unassigned(Algorithm::HS256);
    let sealed = first.seal(HMAC_SECRET, binding).expect("sealed");
    let stored = keychain.read().expect("read").expect("created on first use");
    assert_eq!(stored.len(), MASTER_KEY_BYTES);
    // Another process of the same install (a restart) reads the same key.
    let second = Secrets::new(Arc::clone(&keychain));
    assert_eq!(second.open(&sealed, binding).expect("opens").as_slice(), HMAC_SECRET);
    assert_eq!(keychain.read().expect("read").expect("kept").as_slice(), stored.as_slice(), "not replaced");
    assert!(format!("{first:?}").contains("redacted"));
    for form in leak_forms(&stored) {
        assert!(!sealed.contains(&form) && !format!("{first:?}").contains(&form));
    }
    // The app's own entry is not the tests'.
    assert_eq!((OsKeychain::SERVICE, OsKeychain::ACCOUNT), ("tollgate", "master-key"));
    assert_ne!(TEST_SERVICE, OsKeychain::SERVICE);
}

#[test]
fn a_token_generated_through_jwt_generate_verifies() {
    let app = AppHarness::new();
    for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA, Algorithm::PS256] {
        let p = profile(&app, &format!("{alg} profile"), alg, "1h");
        let before = timestamp::unix_seconds(timestamp::now());
        let token = app.ok("jwt:generate", json!({ "profileId": p["id"] }));
        let after = timestamp::unix_seconds(timestamp::now());
        let raw = token["raw"].as_str().expect("raw");
        // The test verifies it with the public key, natively.
        let claims = verify_natively(raw, alg);
        assert_eq!(claims, token["payload"], "{alg}");
        assert_eq!(claims["sub"], "ada");
        assert_eq!(claims["role"], "admin");
        let iat = claims["iat"].as_i64().expect("iat");
        assert!((before..=after).contains(&iat), "{alg}: iat is now");
        assert_eq!(claims["exp"].as_i64(), Some(iat + 3_600), "{alg}: exp is iat + 1h");
        assert_eq!(token["header"]["alg"], alg.name());
        let parts: Vec<&str> = raw.split('.').collect();
        assert_eq!(parts[2], token["signature"]);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[0]).ok().and_then(|h| serde_json::from_slice::<Value>(&h).ok()), Some(token["header"].clone()));
        assert!(token["generatedAt"].as_str().is_some_and(|t| timestamp::parse(t).is_ok()));
        // And the app agrees.
        let verdict = app.ok("jwt:verify", json!({ "profileId": p["id"], "token": format!(" {raw}\n") }));
        assert_eq!(verdict, json!({ "valid": true, "reason": null, "message": null }), "{alg}");
    }
}

#[test]
fn presets_custom_expirations_and_overrides_shape_the_claims() {
    let app = AppHarness::new();
    for (preset, lifetime) in [("1d", 86_400), ("1w", 604_800)] {
        let p = profile(&app, preset, Algorithm::HS256, preset);
        let t = app.ok("jwt:generate", json!({ "profileId": p["id"] }));
        let claims = &t["payload"];
        assert_eq!(claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"), lifetime, "{preset}");
    }
    let at = timestamp::now() + time::Duration::days(30);
    let key = app.encrypt("HS256", &text(HMAC_SECRET));
    let custom = app.ok(
        "profiles:save",
        json!({
            "name": "custom", "algorithm": "HS256", "encryptedKey": key, "payload": { "sub": "ada", "role": "admin" },
            "expirationPreset": "custom", "customExpiration": timestamp::format(at)
        }),
    );
    let overrides = json!({ "role": "viewer", "scope": ["read"], "iat": 1, "exp": 2 });
    let t = app.ok("jwt:generate", json!({ "profileId": custom["id"], "overrides": overrides }));
    let claims = verify_natively(t["raw"].as_str().expect("raw"), Algorithm::HS256);
    assert_eq!(claims["exp"].as_i64(), Some(timestamp::unix_seconds(at)), "exp is the custom expiration");
    assert_eq!(claims["role"], "viewer", "an override wins over the payload");
    assert_eq!(claims["scope"], json!(["read"]));
    assert_eq!(claims["sub"], "ada");
    assert_ne!(claims["iat"], 1, "iat and exp are the host's");
    assert_eq!(app.ok("profiles:get", json!({ "id": custom["id"] }))["payload"]["role"], "admin", "overrides are one-off");
    let e = app.err("jwt:generate", json!({ "profileId": custom["id"], "overrides": [1] }));
    assert_eq!(e.code, ErrorCode::ValidationError);
}

#[test]
fn jwt_verify_says_why_a_token_is_not_valid() {
    let app = AppHarness::new();
    let hs = profile(&app, "hs", Algorithm::HS256, "1h");
    let rs = profile(&app, "rs", Algorithm::RS256, "1h");
    let now = timestamp::unix_seconds(timestamp::now());
    let sign = |alg: jsonwebtoken::Algorithm, key: &EncodingKey, exp: i64| {
        jsonwebtoken::encode(&Header::new(alg), &json!({ "sub": "x", "exp": exp }), key).expect("native token")
    };
    let secret = EncodingKey::from_secret(HMAC_SECRET);
    let good = app.ok("jwt:generate", json!({ "profileId": hs["id"] }))["raw"].as_str().expect("raw").to_owned();
    let mut tampered: Vec<char> = good.chars().collect();
    let middle = good.rfind('.').expect("dot") + 5;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let cases = [
        ("expired", &hs, sign(jsonwebtoken::Algorithm::HS256, &secret, now - 60), "expired"),
        ("bad signature", &hs, tampered, "bad-signature"),
        ("another secret", &hs, sign(jsonwebtoken::Algorithm::HS256, &EncodingKey::from_secret(&[9; 32]), now + 60), "bad-signature"),
        ("HS512 for an HS256 profile", &hs, sign(jsonwebtoken::Algorithm::HS512, &secret, now + 60), "wrong-algorithm"),
        ("HS256 for an RS256 profile", &rs, good.clone(), "wrong-algorithm"),
        ("no exp", &hs, jsonwebtoken::encode(&Header::default(), &json!({ "sub": "x" }), &secret).expect("t"), "invalid-claims"),
        ("malformed", &hs, "not.a.token".to_owned(), "malformed"),
    ];
    for (what, p, token, reason) in cases {
        let verdict = app.ok("jwt:verify", json!({ "profileId": p["id"], "token": token }));
        assert_eq!(verdict["valid"], false, "{what}");
        assert_eq!(verdict["reason"], reason, "{what}: {verdict}");
        assert!(verdict["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}");
    }
    assert_eq!(app.err("jwt:verify", json!({ "profileId": hs["id"], "token": "  " })).code, ErrorCode::ValidationError);
}

#[test]
fn crypto_encrypt_checks_the_key_for_its_algorithm_and_binds_it() {
    let app = AppHarness::new();
    let pem_public = text(&key_bytes("rsa2048.pub.pem"));
    for (what, alg, key, says) in [
        ("short HMAC secret", "HS256", "short-secret".to_owned(), "at least 32 bytes"),
        ("a PEM as an HMAC secret", "HS256", pem_public.clone(), "algorithm-confusion"),
        ("RSA under 2048 bits", "RS256", text(&key_bytes("rsa1024.pem")), "2048"),
        ("garbage PEM", "RS256", "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n".to_owned(), "not a private key"),
        ("a public key", "RS256", pem_public, "not a private key"),
        ("an EC key for RS256", "RS256", text(&key_bytes("p256.pem")), "not a private key"),
        ("a P-384 key for ES256", "ES256", text(&key_bytes("p384.pem")), "not a private key"),
        ("raw bytes for EdDSA", "EdDSA", "x".repeat(40), "PEM"),
    ] {
        let e = app.err("crypto:encrypt", json!({ "algorithm": alg, "key": key }));
        assert_eq!(e.code, ErrorCode::InvalidInput, "{what}: {e:?}");
        assert!(e.message.contains(says), "{what}: {:?}", e.message);
    }
    let e = app.err("crypto:encrypt", json!({ "algorithm": "HS256", "key": "%%%", "encoding": "base64" }));
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(app.err("crypto:encrypt", json!({ "algorithm": "none", "key": "k" })).code, ErrorCode::ValidationError);

    // Base64 of a binary secret; each sealing is fresh.
    let binary: Vec<u8> = (0u8..48).collect();
    let a = app.ok("crypto:encrypt", json!({ "algorithm": "HS512", "key": STANDARD.encode(&binary), "encoding": "base64" }));
    let b = app.ok("crypto:encrypt", json!({ "algorithm": "HS512", "key": URL_SAFE_NO_PAD.encode(&binary), "encoding": "base64" }));
    assert_ne!(a["encryptedKey"], b["encryptedKey"]);

    // A key encrypted for HS256 is not accepted for HS512...
    let hs256_key = app.encrypt("HS256", &text(HMAC_SECRET));
    let input = |alg: &str, key: &str| {
        json!({ "name": "bound", "algorithm": alg, "encryptedKey": key, "payload": {}, "expirationPreset": "1h" })
    };
    assert_eq!(app.err("profiles:save", input("HS512", &hs256_key)).code, ErrorCode::ValidationError);
    let p = app.ok("profiles:save", input("HS256", &hs256_key));
    assert_ne!(p["encryptedKey"], hs256_key, "rebound to the profile when saved");
    // ...but a saved profile may change to an algorithm its key suits.
    let to_hs512 = json!({ "id": p["id"], "name": "bound", "algorithm": "HS512", "encryptedKey": p["encryptedKey"], "payload": {}, "expirationPreset": "1h" });
    let p512 = app.ok("profiles:save", to_hs512);
    let t = app.ok("jwt:generate", json!({ "profileId": p["id"] }));
    assert_eq!(verify_natively(t["raw"].as_str().expect("raw"), Algorithm::HS512)["sub"], Value::Null);
    let to_rs256 = json!({ "id": p["id"], "name": "bound", "algorithm": "RS256", "encryptedKey": p512["encryptedKey"], "payload": {}, "expirationPreset": "1h" });
    let e = app.err("profiles:save", to_rs256);
    assert_eq!(e.code, ErrorCode::ValidationError);
    assert!(e.message.contains("does not suit RS256"), "{}", e.message);
}

#[test]
fn a_profile_from_another_install_or_an_edited_file_answers_decryption_failed() {
    let mine = AppHarness::new();
    let a = profile(&mine, "a", Algorithm::HS256, "1h");
    let b = profile(&mine, "b", Algorithm::HS256, "1h");
    let file = std::fs::read_to_string(mine.data_dir.join(PROFILES_FILE)).expect("profiles.json");

    // The same file on another machine (another master key).
    let elsewhere = tempfile::tempdir().expect("dir");
    std::fs::write(elsewhere.path().join(PROFILES_FILE), &file).expect("copy");
    let theirs = AppHarness::at(elsewhere.path(), other_install_keychain("copy"));
    assert_eq!(theirs.ok("profiles:load", json!({}))["profiles"].as_array().map(Vec::len), Some(2), "still listed");
    let e = theirs.err("jwt:generate", json!({ "profileId": a["id"] }));
    assert_eq!(e.code, ErrorCode::DecryptionFailed);
    assert!(e.message.contains("another user or on another machine"), "{}", e.message);
    assert_eq!(theirs.err("jwt:verify", json!({ "profileId": a["id"], "token": "a.b.c" })).code, ErrorCode::DecryptionFailed);

    // The keys of two profiles swapped by editing the file.
    let (ka, kb) = (a["encryptedKey"].as_str().expect("a"), b["encryptedKey"].as_str().expect("b"));
    let swapped = file.replace(ka, "@A@").replace(kb, ka).replace("@A@", kb);
    std::fs::write(mine.data_dir.join(PROFILES_FILE), swapped).expect("edit");
    let edited = AppHarness::at(&mine.data_dir, real_keychain());
    assert_eq!(edited.err("jwt:generate", json!({ "profileId": a["id"] })).code, ErrorCode::DecryptionFailed);
    // One character of a sealed key changed.
    let mut chars: Vec<char> = ka.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let altered: String = chars.into_iter().collect();
    std::fs::write(mine.data_dir.join(PROFILES_FILE), file.replace(ka, &altered)).expect("edit");
    let edited = AppHarness::at(&mine.data_dir, real_keychain());
    assert_eq!(edited.err("jwt:generate", json!({ "profileId": a["id"] })).code, ErrorCode::DecryptionFailed);
    assert!(edited.ok("jwt:generate", json!({ "profileId": b["id"] }))["raw"].is_string(), "the other profile still signs");
}

#[test]
fn with_the_keychain_locked_the_app_lists_profiles_and_signing_answers_keychain_unavailable() {
    let unlocked = AppHarness::new();
    let p = profile(&unlocked, "made while unlocked", Algorithm::HS256, "1h");
    let locked = AppHarness::at(&unlocked.data_dir, Arc::new(FailingKeychain));

    assert_eq!(locked.ok("profiles:load", json!({}))["profiles"][0]["id"], p["id"], "the app opens and lists profiles");
    assert_eq!(locked.ok("profiles:get", json!({ "id": p["id"] }))["name"], "made while unlocked");
    assert_eq!(locked.ok("settings:save", json!({ "lastSelectedProfileId": p["id"] }))["lastSelectedProfileId"], p["id"]);
    // Editing everything but the key needs no keychain.
    let rename = json!({ "id": p["id"], "name": "renamed", "algorithm": "HS256", "encryptedKey": p["encryptedKey"], "payload": {}, "expirationPreset": "1d" });
    assert_eq!(locked.ok("profiles:save", rename)["name"], "renamed");

    for (channel, payload) in [
        ("jwt:generate", json!({ "profileId": p["id"] })),
        ("jwt:verify", json!({ "profileId": p["id"], "token": "a.b.c" })),
        ("crypto:encrypt", json!({ "algorithm": "HS256", "key": text(HMAC_SECRET) })),
        (
            "profiles:save",
            json!({ "name": "new", "algorithm": "HS256", "encryptedKey": p["encryptedKey"], "payload": {}, "expirationPreset": "1h" }),
        ),
    ] {
        let e = locked.err(channel, payload);
        assert_eq!(e.code, ErrorCode::KeychainUnavailable, "{channel}: {e:?}");
        assert!(e.message.contains("keychain"), "{channel}: {}", e.message);
    }
    // Nothing was stored in the clear in its place.
    for entry in std::fs::read_dir(&unlocked.data_dir).expect("ls").flatten() {
        let bytes = std::fs::read(entry.path()).expect("read");
        let contents = String::from_utf8_lossy(&bytes);
        for form in leak_forms(HMAC_SECRET) {
            assert!(!contents.contains(&form), "{} holds the key", entry.path().display());
        }
    }
    // Unlocked again, the same profile signs.
    let again = AppHarness::at(&unlocked.data_dir, real_keychain());
    assert!(again.ok("jwt:generate", json!({ "profileId": p["id"] }))["raw"].is_string());
}

#[test]
fn the_secret_key_never_appears_in_a_log_line_an_error_message_or_a_response() {
    let app = AppHarness::new();
    let locked = AppHarness::at(&app.data_dir, Arc::new(FailingKeychain));
    let elsewhere = AppHarness::at(&app.data_dir, other_install_keychain("leak"));
    let capture = LogCapture::default();
    let mut seen = Vec::new();
    tracing::subscriber::with_default(capture.json_subscriber(), || {
        let record = |seen: &mut Vec<String>, app: &AppHarness, channel: &str, payload: Value| {
            let answer = app.call(channel, &payload);
            seen.push(answer.into_response().to_json());
        };
        for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES384, Algorithm::EdDSA] {
            let key = text(&keys_for(alg).0);
            let p = profile(&app, &format!("leak {alg}"), alg, "1h");
            seen.push(p.to_string());
            record(&mut seen, &app, "crypto:encrypt", json!({ "algorithm": alg.name(), "key": key }));
            record(&mut seen, &app, "profiles:load", json!({}));
            record(&mut seen, &app, "profiles:get", json!({ "id": p["id"] }));
            record(&mut seen, &app, "jwt:generate", json!({ "profileId": p["id"], "overrides": { "n": 1 } }));
            record(&mut seen, &app, "jwt:verify", json!({ "profileId": p["id"], "token": "x.y.z" }));
            // Failures of every kind.
            let wrong_alg = if alg.is_hmac() { "RS256" } else { "HS256" };
            record(&mut seen, &app, "crypto:encrypt", json!({ "algorithm": wrong_alg, "key": key }));
            record(&mut seen, &app, "crypto:encrypt", json!({ "algorithm": alg.name(), "key": key, "encoding": "base64" }));
            record(&mut seen, &app, "crypto:encrypt", json!({ "algorithm": alg.name(), "key": key, "bogus": true }));
            record(&mut seen, &locked, "crypto:encrypt", json!({ "algorithm": alg.name(), "key": key }));
            record(&mut seen, &locked, "jwt:generate", json!({ "profileId": p["id"] }));
            record(&mut seen, &elsewhere, "jwt:generate", json!({ "profileId": p["id"] }));
            record(&mut seen, &elsewhere, "jwt:verify", json!({ "profileId": p["id"], "token": "x.y.z" }));
        }
    });
    let log = capture.text();
    assert!(log.contains("crossing"), "the capture saw the calls");
    let master = OsKeychain::with_entry(TEST_SERVICE, &format!("master-key-{}", std::process::id()))
        .read()
        .expect("read")
        .expect("the master key exists");
    let everything = format!("{log}\n{}", seen.join("\n"));
    for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES384, Algorithm::EdDSA] {
        for form in leak_forms(&keys_for(alg).0) {
            assert!(!everything.contains(&form), "{alg}: the key appeared as {form}");
        }
    }
    for form in leak_forms(&master) {
        assert!(!everything.contains(&form), "the master key appeared as {form}");
    }
}

/// Issue 15: the app's signer shares the data directory's quarantine list.
/// A quarantined signer is refused before the key is opened for it
/// (`PLUGIN_QUARANTINED` from `jwt:generate` and `jwt:verify`), the plugins
/// list says why, and `plugins:trust` with no window to ask the user in is
/// declined: only the user clears it.
#[test]
fn a_quarantined_signer_is_refused_keys_and_the_page_alone_cannot_trust_it() {
    use tollgate::jwt::quarantine::QuarantineEntry;
    use tollgate::store::plugin_quarantine;
    let app = AppHarness::new();
    let p = profile(&app, "quarantine profile", Algorithm::HS256, "1h");
    let token = app.ok("jwt:generate", json!({ "profileId": p["id"] }));
    let sha256 = tollgate::runtime::component_sha256(tollgate::guest_artifacts::JWT_SIGNER_WASM);
    let entry = QuarantineEntry { sha256: sha256.clone(), plugin: "jwt-signer".into(), function: "sign".into(), reason: "planted by the test".into(), since: 1 };
    app.services.quarantine().add(entry.clone()).expect("quarantine");
    assert!(plugin_quarantine::open(&app.data_dir).get(&sha256).is_some(), "saved in the data directory");

    let refused = app.err("jwt:generate", json!({ "profileId": p["id"] }));
    assert_eq!(refused.code, ErrorCode::PluginQuarantined, "{refused:?}");
    assert!(refused.message.contains("planted by the test"), "{refused:?}");
    let refused = app.err("jwt:verify", json!({ "profileId": p["id"], "token": token["raw"] }));
    assert_eq!(refused.code, ErrorCode::PluginQuarantined, "{refused:?}");

    let listed = app.ok("plugins:list", json!({}));
    assert!(listed.to_string().contains("planted by the test"), "{listed}");
    let answer = app.ok("plugins:trust", json!({ "sha256": sha256 }));
    assert_eq!(answer["trusted"], false, "no window, no user: declined");
    assert_eq!(app.err("jwt:generate", json!({ "profileId": p["id"] })).code, ErrorCode::PluginQuarantined);
    assert_eq!(app.err("plugins:trust", json!({ "sha256": "not-hex" })).code, ErrorCode::ValidationError);

    // The user's yes, as the window adapter's dialog gives it.
    app.services.trust_prompt().connect(|_, answer| answer.send(true).is_ok());
    // First with a list that can't be saved (a directory where the file is
    // renamed to, which refuses even root): the trust is refused and takes
    // no effect, since the next start would read the plugin as quarantined.
    let list = app.data_dir.join(plugin_quarantine::QUARANTINE_FILE);
    let saved = std::fs::read(&list).expect("the list");
    std::fs::remove_file(&list).expect("remove");
    std::fs::create_dir(&list).expect("a directory in its place");
    std::fs::write(list.join("keep"), b"x").expect("not empty");
    let failed = app.err("plugins:trust", json!({ "sha256": sha256 }));
    assert_eq!(failed.code, ErrorCode::SaveFailed, "{failed:?}");
    assert!(failed.message.contains(plugin_quarantine::QUARANTINE_FILE), "says which file: {failed:?}");
    assert_eq!(app.err("jwt:generate", json!({ "profileId": p["id"] })).code, ErrorCode::PluginQuarantined, "still quarantined");
    std::fs::remove_dir_all(&list).expect("remove the directory");
    std::fs::write(&list, saved).expect("put the list back");
    let answer = app.ok("plugins:trust", json!({ "sha256": sha256 }));
    assert_eq!(answer["trusted"], true);
    assert!(answer["plugins"].as_array().is_some_and(|p| p.iter().all(|p| p["quarantine"].is_null())), "{answer}");
    app.ok("jwt:generate", json!({ "profileId": p["id"] }));
    assert_eq!(app.err("plugins:trust", json!({ "sha256": sha256 })).code, ErrorCode::NotFound);
}
