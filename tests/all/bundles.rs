//! Issue 19: profiles moved to another machine in a bundle encrypted under
//! a passphrase. Two installs with their own master keys (two keychain
//! entries in the real Secret Service); the dialogs answered by a test
//! closure where the window would show GTK's (the real dialogs are driven
//! in tests/all/window_profiles.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};
use tollgate::bridge::ErrorCode;

use crate::harness::{AppHarness, other_install_keychain};

const PASSPHRASE: &str = "a passphrase of some length";
const SECRET: &str = "an-hmac-secret-that-moves-between-machines";

/// The app's dialogs answer `path` (or cancel, for `None`).
fn dialogs_answer(app: &AppHarness, path: Option<PathBuf>) {
    app.services.file_dialogs().connect(move |_, _, answer| answer.send(Ok(path.clone())).is_ok());
}

fn save(app: &AppHarness, name: &str, alg: &str, sealed: &str) -> Value {
    app.ok(
        "profiles:save",
        json!({ "name": name, "algorithm": alg, "encryptedKey": sealed, "payload": { "sub": name, "aud": "bundle" }, "expirationPreset": "1h" }),
    )
}

fn verify(token: &str, alg: jsonwebtoken::Algorithm, key: &DecodingKey) -> Value {
    let mut validation = Validation::new(alg);
    validation.set_audience(&["bundle"]);
    jsonwebtoken::decode::<Value>(token, key, &validation).unwrap_or_else(|e| panic!("{alg:?}: {e}")).claims
}

#[test]
fn profiles_move_to_another_install_in_a_passphrase_bundle_and_sign_the_same_there() {
    let dirs = tempfile::tempdir().expect("dirs");
    let bundle = dirs.path().join("moved.tollgate-profiles");
    let a = AppHarness::at(&dirs.path().join("a"), other_install_keychain("bundle-a"));
    save(&a, "Shared HMAC", "HS256", &a.encrypt("HS256", SECRET));
    let made = a.ok("keys:generate", json!({ "algorithm": "ES256" }));
    let es = save(&a, "Host-made ES256", "ES256", made["encryptedKey"].as_str().expect("sealed"));

    // Refused before any dialog: a short passphrase, an unknown profile.
    dialogs_answer(&a, Some(bundle.clone()));
    let short = a.err("profiles:export-bundle", json!({ "passphrase": "short" }));
    assert_eq!(short.code, ErrorCode::ValidationError, "{}", short.message);
    let unknown = a.err("profiles:export-bundle", json!({ "passphrase": PASSPHRASE, "profileIds": ["00000000-0000-4000-8000-000000000000"] }));
    assert_eq!(unknown.code, ErrorCode::NotFound, "{}", unknown.message);
    assert!(!bundle.exists());
    // Cancelled: nothing written.
    dialogs_answer(&a, None);
    assert_eq!(a.ok("profiles:export-bundle", json!({ "passphrase": PASSPHRASE })), json!({ "saved": false, "profiles": 0 }));
    dialogs_answer(&a, Some(bundle.clone()));
    assert_eq!(a.ok("profiles:export-bundle", json!({ "passphrase": PASSPHRASE })), json!({ "saved": true, "profiles": 2 }));

    // Nothing of the profiles is readable in the file, and only its owner
    // may read it.
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&bundle).expect("bundle").permissions()) & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&bundle).expect("the bundle");
    for plain in [SECRET, "PRIVATE KEY", "Shared HMAC", "Host-made", "HS256", PASSPHRASE] {
        assert!(!text.contains(plain), "{plain:?} is readable in the bundle");
    }

    // Another install, its own master key.
    let b = AppHarness::at(&dirs.path().join("b"), other_install_keychain("bundle-b"));
    dialogs_answer(&b, Some(bundle.clone()));
    let wrong = b.err("profiles:import-bundle", json!({ "passphrase": "not the passphrase at all" }));
    assert_eq!(wrong.code, ErrorCode::DecryptionFailed, "{}", wrong.message);
    assert!(b.ok("profiles:load", json!({}))["profiles"].as_array().is_some_and(Vec::is_empty), "a wrong passphrase added something");
    let imported = b.ok("profiles:import-bundle", json!({ "passphrase": PASSPHRASE }));
    let names: Vec<&str> = imported["imported"].as_array().expect("imported").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["Shared HMAC", "Host-made ES256"], "{imported}");
    assert_eq!(imported["skipped"], json!([]));
    let answer = imported.to_string();
    assert!(!answer.contains("PRIVATE KEY") && !answer.contains(SECRET) && !answer.contains(&*dirs.path().to_string_lossy()), "{answer}");

    // The moved profiles sign there as they did here.
    let id_of = |name: &str| imported["imported"].as_array().and_then(|l| l.iter().find(|p| p["name"] == name)).map(|p| p["id"].clone()).expect("id");
    let hs = b.ok("jwt:generate", json!({ "profileId": id_of("Shared HMAC") }));
    assert_eq!(verify(hs["raw"].as_str().expect("raw"), jsonwebtoken::Algorithm::HS256, &DecodingKey::from_secret(SECRET.as_bytes()))["sub"], "Shared HMAC");
    let es_token = b.ok("jwt:generate", json!({ "profileId": id_of("Host-made ES256") }));
    let public = a.ok("keys:public", json!({ "id": es["id"] }));
    let key = DecodingKey::from_ec_pem(public["publicKey"]["pem"].as_str().expect("pem").as_bytes()).expect("pem");
    assert_eq!(verify(es_token["raw"].as_str().expect("raw"), jsonwebtoken::Algorithm::ES256, &key)["sub"], "Host-made ES256");
    // Sealed under b's master key now: a's does not open them.
    let moved = b.ok("profiles:get", json!({ "id": id_of("Shared HMAC") }));
    let binding = tollgate::secrets::KeyBinding::profile(tollgate::jwt::Algorithm::HS256, serde_json::from_value(moved["id"].clone()).expect("id"));
    assert!(a.services.secrets().open(moved["encryptedKey"].as_str().expect("sealed"), binding).is_err(), "a's master key opened b's key");

    // Again: the names are taken, so the copies say where they came from.
    let again = b.ok("profiles:import-bundle", json!({ "passphrase": PASSPHRASE }));
    assert_eq!(again["imported"][0]["name"], "Shared HMAC (imported)", "{again}");
    // A changed byte: nothing added.
    let mut bytes = std::fs::read(&bundle).expect("read");
    let at = bytes.len() - 10;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&bundle, &bytes).expect("write");
    let changed = b.err("profiles:import-bundle", json!({ "passphrase": PASSPHRASE }));
    assert_eq!(changed.code, ErrorCode::DecryptionFailed, "{}", changed.message);
    dialogs_answer(&b, None);
    assert_eq!(b.ok("profiles:import-bundle", json!({ "passphrase": PASSPHRASE })), Value::Null, "cancelled");
}

#[test]
fn the_cli_exports_and_imports_a_bundle() {
    let dir = tempfile::tempdir().expect("dir");
    let tollgate = || Command::new(env!("CARGO_BIN_EXE_tollgate"));
    let (from, to) = (dir.path().join("from"), dir.path().join("to"));
    // The CLI opens keys with the app's own keychain entry.
    let app = AppHarness::at(&from, std::sync::Arc::new(tollgate::secrets::OsKeychain::default()));
    save(&app, "cli moved", "HS256", &app.encrypt("HS256", SECRET));
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, format!("{PASSPHRASE}\n")).expect("write");
    let bundle = dir.path().join("out.tollgate-profiles");
    let run = |data: &Path, args: &[&str], extra: &[&Path]| {
        let mut cmd = tollgate();
        cmd.arg("--data-dir").arg(data).args(args);
        for p in extra {
            cmd.arg(p);
        }
        cmd.output().expect("run")
    };
    let out = run(&from, &["profiles", "export", "--passphrase-file"], &[&passphrase, Path::new("--out"), &bundle]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&bundle).expect("bundle").permissions()) & 0o777;
    assert_eq!(mode, 0o600);
    let again = run(&from, &["profiles", "export", "--passphrase-file"], &[&passphrase, Path::new("--out"), &bundle]);
    assert!(!again.status.success(), "overwrote an existing bundle");
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "a wrong passphrase entirely\n").expect("write");
    let refused = run(&to, &["profiles", "import", "--passphrase-file"], &[&wrong, Path::new("--file"), &bundle]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("DECRYPTION_FAILED"), "{}", String::from_utf8_lossy(&refused.stderr));
    let imported = run(&to, &["profiles", "import", "--passphrase-file"], &[&passphrase, Path::new("--file"), &bundle]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let report: Value = serde_json::from_slice(&imported.stdout).expect("a JSON report");
    assert_eq!(report["imported"][0]["name"], "cli moved", "{report}");
    let signed = AppHarness::at(&to, std::sync::Arc::new(tollgate::secrets::OsKeychain::default()))
        .ok("jwt:generate", json!({ "profileId": report["imported"][0]["id"] }));
    verify(signed["raw"].as_str().expect("raw"), jsonwebtoken::Algorithm::HS256, &DecodingKey::from_secret(SECRET.as_bytes()));
}

/// Export opens no key and runs no KDF until the user's click opened the
/// dialog and a place was picked: with the keychain failing, a page's call
/// without input is refused as such, and only a picked place reaches the
/// keys.
#[test]
fn an_export_touches_no_key_before_the_user_picks_a_place() {
    let dirs = tempfile::tempdir().expect("dirs");
    let data = dirs.path().join("data");
    let app = AppHarness::at(&data, other_install_keychain("bundle-order"));
    save(&app, "Ordered", "HS256", &app.encrypt("HS256", SECRET));
    let locked = AppHarness::at(&data, std::sync::Arc::new(crate::harness::FailingKeychain));
    locked.services.file_dialogs().connect(|_, _, answer| answer.send(Err(tollgate::app::file_dialogs::DialogRefusal::NoGesture)).is_ok());
    let e = locked.err("profiles:export-bundle", json!({ "passphrase": PASSPHRASE }));
    assert_eq!(e.code, ErrorCode::IpcForbidden, "{}", e.message);
    dialogs_answer(&locked, Some(dirs.path().join("never.tollgate-profiles")));
    let e = locked.err("profiles:export-bundle", json!({ "passphrase": PASSPHRASE }));
    assert_eq!(e.code, ErrorCode::KeychainUnavailable, "{}", e.message);
    assert!(!dirs.path().join("never.tollgate-profiles").exists());
}

/// A bundle someone who knows its passphrase made with a key the app
/// refuses: that profile is skipped with why, the others are added; and a
/// place that can't be written is SAVE_FAILED.
#[test]
fn a_bundle_profile_with_a_refused_key_is_skipped_and_the_rest_added() {
    let dirs = tempfile::tempdir().expect("dirs");
    let weak = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys/rsa1024.pem")).expect("fixture");
    let profiles = vec![
        tollgate::app::bundle::BundleProfile::new("weak".into(), tollgate::jwt::Algorithm::RS256, &weak, serde_json::Map::new(), tollgate::store::ExpirationPreset::OneHour, None),
        tollgate::app::bundle::BundleProfile::new("fine".into(), tollgate::jwt::Algorithm::HS256, SECRET.as_bytes(), serde_json::Map::new(), tollgate::store::ExpirationPreset::OneHour, None),
    ];
    let bundle = dirs.path().join("crafted.tollgate-profiles");
    std::fs::write(&bundle, tollgate::app::bundle::seal(profiles, PASSPHRASE).expect("sealed")).expect("write");
    let app = AppHarness::at(&dirs.path().join("data"), other_install_keychain("bundle-skip"));
    dialogs_answer(&app, Some(bundle));
    let missing = app.err("profiles:import-bundle", json!({}));
    assert_eq!(missing.code, ErrorCode::ValidationError, "{}", missing.message);
    let report = app.ok("profiles:import-bundle", json!({ "passphrase": PASSPHRASE }));
    assert_eq!(report["imported"][0]["name"], "fine", "{report}");
    assert_eq!(report["skipped"][0]["name"], "weak", "{report}");
    assert!(report["skipped"][0]["reason"].as_str().is_some_and(|r| r.contains("bits")), "{report}");
    dialogs_answer(&app, Some(dirs.path().join("no-such-folder/out.tollgate-profiles")));
    let e = app.err("profiles:export-bundle", json!({ "passphrase": PASSPHRASE }));
    assert_eq!(e.code, ErrorCode::SaveFailed, "{}", e.message);
}
