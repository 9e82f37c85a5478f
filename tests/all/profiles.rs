//! Profiles and settings through the real bridge: every rule and code, the
//! files on disk (schema version, atomic writes under SIGKILL, corrupted
//! files moved aside, a full disk).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tollgate::bridge::ErrorCode;
use tollgate::jwt::Algorithm;
use tollgate::audit::storage::{SmallDisk, save_payload};
use tollgate::secrets::KeyBinding;
use tollgate::store::profiles::{MAX_PROFILES, PROFILES_FILE};
use tollgate::store::settings::SETTINGS_FILE;
use tollgate::store::{ExpirationPreset, ProfileDraft, ProfileId, ProfileStore, SettingsStore, timestamp};

use crate::common::HMAC_SECRET;
use crate::harness::{AppHarness, other_install_keychain, real_keychain};

fn hmac() -> String {
    String::from_utf8(HMAC_SECRET.to_vec()).expect("ascii")
}

fn profile_input(app: &AppHarness, name: &str) -> Value {
    json!({
        "name": name, "algorithm": "HS256", "encryptedKey": app.encrypt("HS256", &hmac()),
        "payload": { "sub": "ada" }, "expirationPreset": "1d"
    })
}

fn with(mut base: Value, field: &str, value: Value) -> Value {
    base[field] = value;
    base
}

fn without(mut base: Value, field: &str) -> Value {
    base.as_object_mut().expect("object").remove(field);
    base
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    names.sort();
    names
}

#[test]
fn with_no_files_there_are_no_profiles_and_default_settings() {
    let app = AppHarness::new();
    assert_eq!(app.ok("profiles:load", json!({})), json!({ "profiles": [] }));
    let settings = app.ok("settings:get", json!({}));
    assert_eq!(settings, json!({ "lastSelectedProfileId": null, "theme": "light", "windowBounds": null, "version": 1 }));
    assert!(files_in(&app.data_dir).is_empty(), "reading writes nothing: {:?}", files_in(&app.data_dir));
}

#[test]
fn a_profile_is_created_read_updated_and_deleted_and_survives_a_restart() {
    let app = AppHarness::new();
    let created = app.ok("profiles:save", profile_input(&app, "  Staging API  "));
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 4), "{id}");
    assert_eq!(created["name"], "Staging API", "trimmed");
    assert_eq!(created["algorithm"], "HS256");
    assert_eq!(created["expirationPreset"], "1d");
    assert_eq!(created["customExpiration"], Value::Null);
    assert_eq!(created["createdAt"], created["updatedAt"]);
    for stamp in ["createdAt", "updatedAt"] {
        let text = created[stamp].as_str().expect("stamp");
        assert!(timestamp::parse(text).is_ok() && text.ends_with('Z'), "{stamp}: {text}");
    }
    assert!(created["encryptedKey"].as_str().is_some_and(|k| k.starts_with("v1.")));

    assert_eq!(app.ok("profiles:load", json!({}))["profiles"], json!([created.clone()]));
    assert_eq!(app.ok("profiles:get", json!({ "id": id })), created);

    std::thread::sleep(Duration::from_millis(5));
    let update = json!({
        "id": id, "name": "Staging", "algorithm": "HS256", "encryptedKey": created["encryptedKey"],
        "payload": { "sub": "grace" }, "expirationPreset": "1w"
    });
    let updated = app.ok("profiles:save", update);
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert!(updated["updatedAt"].as_str() > created["updatedAt"].as_str(), "updatedAt moves on");
    assert_eq!(updated["payload"], json!({ "sub": "grace" }));
    assert_eq!(updated["encryptedKey"], created["encryptedKey"], "an unchanged key is kept as it is");

    // On disk: a schema version, the same profile.
    let text = std::fs::read_to_string(app.data_dir.join(PROFILES_FILE)).expect("profiles.json");
    let file: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(file["schemaVersion"], tollgate::store::profiles::PROFILES_SCHEMA_VERSION);
    assert_eq!(file["profiles"][0], updated);

    // A restart finds it.
    let again = AppHarness::at(&app.data_dir, real_keychain());
    assert_eq!(again.ok("profiles:load", json!({}))["profiles"], json!([updated]));

    let deleted = again.ok("profiles:delete", json!({ "id": id }));
    assert_eq!(deleted, json!({ "id": id, "deletedId": id, "lastSelectedCleared": false }));
    assert_eq!(again.err("profiles:get", json!({ "id": id })).code, ErrorCode::NotFound);
    assert_eq!(again.ok("profiles:load", json!({}))["profiles"], json!([]));
}

#[test]
fn every_profile_rule_is_a_validation_error_that_names_the_field() {
    let app = AppHarness::new();
    let base = profile_input(&app, "Rules");
    let future = timestamp::format(timestamp::now() + time::Duration::days(2));
    let past = timestamp::format(timestamp::now() - time::Duration::minutes(1));
    let other = AppHarness::at(&app.data_dir, other_install_keychain("rules"));
    let foreign_key = other.encrypt("HS256", &hmac());
    let big = "x".repeat(64 * 1024);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("empty name", with(base.clone(), "name", json!("   ")), "empty"),
        ("51 characters", with(base.clone(), "name", json!("n".repeat(51))), "at most 50"),
        ("a line break", with(base.clone(), "name", json!("a\nb")), "control"),
        ("no name", without(base.clone(), "name"), "name"),
        ("alg none", with(base.clone(), "algorithm", json!("none")), "none"),
        ("unknown alg", with(base.clone(), "algorithm", json!("HS257")), "HS257"),
        ("empty key", with(base.clone(), "encryptedKey", json!("")), "missing"),
        ("not sealed", with(base.clone(), "encryptedKey", json!("plaintext-secret")), "not produced by this install"),
        ("another install's key", with(base.clone(), "encryptedKey", json!(foreign_key)), "not produced by this install"),
        ("payload array", with(base.clone(), "payload", json!([1, 2])), "expected a map"),
        ("payload string", with(base.clone(), "payload", json!("x")), "expected a map"),
        ("payload 64 KiB", with(base.clone(), "payload", json!({ "big": big })), "under 65536"),
        ("unknown preset", with(base.clone(), "expirationPreset", json!("2h")), "2h"),
        ("custom without a date", with(base.clone(), "expirationPreset", json!("custom")), "needs a date"),
        (
            "custom in the past",
            with(with(base.clone(), "expirationPreset", json!("custom")), "customExpiration", json!(past)),
            "future",
        ),
        (
            "custom not a date",
            with(with(base.clone(), "expirationPreset", json!("custom")), "customExpiration", json!("next tuesday")),
            "ISO 8601",
        ),
        ("id not a uuid", with(base.clone(), "id", json!("1234")), "UUID"),
        ("unknown field", with(base.clone(), "createdAt", json!(future.clone())), "unknown field"),
    ];
    for (what, payload, says) in cases {
        let e = app.err("profiles:save", payload);
        assert_eq!(e.code, ErrorCode::ValidationError, "{what}: {e:?}");
        assert!(e.message.contains(says), "{what}: {:?} does not say {says:?}", e.message);
    }
    assert_eq!(app.ok("profiles:load", json!({}))["profiles"], json!([]), "nothing was saved");

    // The edges that are allowed: 50 characters, a payload just under
    // 64 KiB, a custom expiration in the future.
    let edge = json!({ "p": "y".repeat(64 * 1024 - 9) });
    assert_eq!(serde_json::to_string(&edge).expect("json").len(), 64 * 1024 - 1);
    let ok = with(with(base.clone(), "name", json!("é".repeat(50))), "payload", edge);
    let ok = with(with(ok, "expirationPreset", json!("custom")), "customExpiration", json!(future));
    let saved = app.ok("profiles:save", ok);
    assert_eq!(saved["customExpiration"].as_str(), Some(future.as_str()));
}

#[test]
fn names_are_unique_without_case_and_a_profile_may_keep_its_own() {
    let app = AppHarness::new();
    let first = app.ok("profiles:save", profile_input(&app, "Production"));
    let e = app.err("profiles:save", profile_input(&app, "  PRODUCTION "));
    assert_eq!(e.code, ErrorCode::DuplicateName);
    assert!(e.message.contains("PRODUCTION"), "{}", e.message);
    let second = app.ok("profiles:save", profile_input(&app, "Staging"));
    let rename = json!({
        "id": second["id"], "name": "production", "algorithm": "HS256", "encryptedKey": second["encryptedKey"],
        "payload": {}, "expirationPreset": "1h"
    });
    assert_eq!(app.err("profiles:save", rename).code, ErrorCode::DuplicateName);
    let own = json!({
        "id": first["id"], "name": "PRODUCTION", "algorithm": "HS256", "encryptedKey": first["encryptedKey"],
        "payload": {}, "expirationPreset": "1h"
    });
    assert_eq!(app.ok("profiles:save", own)["name"], "PRODUCTION");
}

#[test]
fn the_fifty_first_profile_is_refused() {
    let app = AppHarness::new();
    // Fifty through the store itself (the bridge's write quota would make
    // this slow), each with a key sealed for it by this install.
    let now = timestamp::now();
    for i in 0..MAX_PROFILES {
        let id = ProfileId::random().expect("rng");
        let sealed = app.services.secrets().seal(HMAC_SECRET, KeyBinding::profile(Algorithm::HS256, id)).expect("sealed");
        let draft = ProfileDraft {
            id,
            create: true,
            name: format!("profile {i}"),
            algorithm: Algorithm::HS256,
            encrypted_key: sealed,
            payload: Map::new(),
            expiration_preset: ExpirationPreset::OneHour,
            custom_expiration: None,
            kid: None,
            typ: None,
            header_fields: Default::default(),
        };
        app.services.profiles().save(draft, now).expect("saved");
    }
    assert_eq!(app.ok("profiles:load", json!({}))["profiles"].as_array().map(Vec::len), Some(MAX_PROFILES));
    let e = app.err("profiles:save", profile_input(&app, "one too many"));
    assert_eq!(e.code, ErrorCode::ProfileLimitReached);
    assert_eq!(e.details, Some(json!({ "limit": MAX_PROFILES })));
    // Updating one of the fifty still works.
    let first = app.ok("profiles:load", json!({}))["profiles"][0].clone();
    let update = json!({
        "id": first["id"], "name": "renamed", "algorithm": "HS256", "encryptedKey": first["encryptedKey"],
        "payload": {}, "expirationPreset": "1h"
    });
    assert_eq!(app.ok("profiles:save", update)["name"], "renamed");
}

#[test]
fn unknown_ids_answer_not_found() {
    let app = AppHarness::new();
    let id = uuid::Uuid::new_v4().to_string();
    assert_eq!(app.err("profiles:get", json!({ "id": id })).code, ErrorCode::NotFound);
    assert_eq!(app.err("profiles:delete", json!({ "id": id })).code, ErrorCode::NotFound);
    assert_eq!(app.err("profiles:save", with(profile_input(&app, "x"), "id", json!(id))).code, ErrorCode::NotFound);
    assert_eq!(app.err("jwt:generate", json!({ "profileId": id })).code, ErrorCode::NotFound);
    assert_eq!(app.err("jwt:verify", json!({ "profileId": id, "token": "a.b.c" })).code, ErrorCode::NotFound);
    assert_eq!(app.err("settings:save", json!({ "lastSelectedProfileId": id })).code, ErrorCode::NotFound);
    assert_eq!(app.err("profiles:get", json!({ "id": "not-a-uuid" })).code, ErrorCode::ValidationError);
}

#[test]
fn deleting_the_last_selected_profile_clears_the_setting() {
    let app = AppHarness::new();
    let a = app.ok("profiles:save", profile_input(&app, "A"));
    let b = app.ok("profiles:save", profile_input(&app, "B"));
    let settings = app.ok("settings:save", json!({ "lastSelectedProfileId": a["id"] }));
    assert_eq!(settings["lastSelectedProfileId"], a["id"]);
    assert_eq!(app.ok("profiles:delete", json!({ "id": b["id"] }))["lastSelectedCleared"], false);
    assert_eq!(app.ok("settings:get", json!({}))["lastSelectedProfileId"], a["id"]);
    assert_eq!(app.ok("profiles:delete", json!({ "id": a["id"] }))["lastSelectedCleared"], true);
    assert_eq!(app.ok("settings:get", json!({}))["lastSelectedProfileId"], Value::Null);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(app.data_dir.join(SETTINGS_FILE)).expect("settings.json")).expect("json");
    assert_eq!(file["lastSelectedProfileId"], Value::Null, "cleared on disk too");
    assert_eq!(file["schemaVersion"], 1);
}

/// The delete is what the user asked for; clearing the setting after it is
/// housekeeping. When settings.json can't be written (a directory where the
/// new file is renamed to, which refuses even root), the profile is deleted
/// all the same, the answer says the setting was not cleared, and
/// `settings:get` still never names the profile that is gone.
#[test]
fn deleting_the_selected_profile_when_the_settings_cannot_be_saved_still_deletes_it() {
    let app = AppHarness::new();
    let a = app.ok("profiles:save", profile_input(&app, "A"));
    app.ok("settings:save", json!({ "lastSelectedProfileId": a["id"] }));
    let settings = app.data_dir.join(SETTINGS_FILE);
    std::fs::remove_file(&settings).expect("remove");
    std::fs::create_dir(&settings).expect("a directory in its place");
    std::fs::write(settings.join("keep"), b"x").expect("not empty");
    let deleted = app.ok("profiles:delete", json!({ "id": a["id"] }));
    assert_eq!(deleted["deletedId"], a["id"]);
    assert_eq!(deleted["lastSelectedCleared"], false, "the setting could not be cleared");
    assert_eq!(app.err("profiles:get", json!({ "id": a["id"] })).code, ErrorCode::NotFound);
    assert_eq!(app.ok("settings:get", json!({}))["lastSelectedProfileId"], Value::Null, "the gone id is never answered");
    let on_disk = std::fs::read_to_string(app.data_dir.join(PROFILES_FILE)).expect("profiles.json");
    assert!(!on_disk.contains(a["id"].as_str().expect("an id")), "deleted on disk: {on_disk}");
}

#[test]
fn settings_are_saved_field_by_field_and_bad_values_refused() {
    let app = AppHarness::new();
    let p = app.ok("profiles:save", profile_input(&app, "P"));
    let saved = app.ok("settings:save", json!({ "theme": "dark" }));
    assert_eq!(saved["theme"], "dark");
    // Numbers come back as JSON numbers (10 as 10.0: the same number to the page).
    let bounds = json!({ "x": 10.0, "y": -20.5, "width": 1200.0, "height": 800.0 });
    let saved = app.ok("settings:save", json!({ "windowBounds": bounds, "lastSelectedProfileId": p["id"], "version": 1 }));
    assert_eq!(saved, json!({ "lastSelectedProfileId": p["id"], "theme": "dark", "windowBounds": bounds, "version": 1 }));
    for (what, payload) in [
        ("theme", json!({ "theme": "blue" })),
        ("bounds type", json!({ "windowBounds": { "x": "10", "y": 0, "width": 1, "height": 1 } })),
        ("bounds missing a number", json!({ "windowBounds": { "x": 10, "y": 0, "width": 1 } })),
        ("bounds off screen", json!({ "windowBounds": { "x": 1e7, "y": 0, "width": 100, "height": 100 } })),
        ("zero size", json!({ "windowBounds": { "x": 0, "y": 0, "width": 0, "height": 100 } })),
        ("id", json!({ "lastSelectedProfileId": "nope" })),
        ("version", json!({ "version": 2 })),
        ("unknown field", json!({ "fontSize": 12 })),
    ] {
        assert_eq!(app.err("settings:save", payload).code, ErrorCode::ValidationError, "{what}");
    }
    let cleared = app.ok("settings:save", json!({ "windowBounds": null, "lastSelectedProfileId": null }));
    assert_eq!(cleared, json!({ "lastSelectedProfileId": null, "theme": "dark", "windowBounds": null, "version": 1 }));
    let again = AppHarness::at(&app.data_dir, real_keychain());
    assert_eq!(again.ok("settings:get", json!({})), cleared, "kept across a restart");
}

#[test]
fn a_corrupted_file_is_moved_aside_and_parse_error_names_the_copy() {
    let app = AppHarness::new();
    let path = app.data_dir.join(PROFILES_FILE);
    let mut copies = Vec::new();
    for garbage in ["{\"schemaVersion\": 1, \"profiles\": [", "\u{0}\u{1}binary", "{\"schemaVersion\":1,\"profiles\":[{\"id\":1}]}"] {
        std::fs::write(&path, garbage).expect("write");
        let fresh = AppHarness::at(&app.data_dir, real_keychain());
        let e = fresh.err("profiles:load", json!({}));
        assert_eq!(e.code, ErrorCode::ParseError, "{garbage:?}: {e:?}");
        let moved_to = e.details.as_ref().and_then(|d| d["movedTo"].as_str()).expect("details.movedTo").to_owned();
        assert!(e.message.contains(&moved_to), "the message says where the copy is: {}", e.message);
        assert!(moved_to.contains("profiles.json.corrupt-"), "{moved_to}");
        assert_eq!(std::fs::read_to_string(&moved_to).expect("the copy is kept"), garbage);
        assert!(!path.exists(), "the bad file is no longer in the way");
        copies.push((PathBuf::from(moved_to), garbage));
        // The app goes on with no profiles and can save again.
        assert_eq!(fresh.ok("profiles:load", json!({}))["profiles"], json!([]));
        fresh.ok("profiles:save", profile_input(&fresh, "after"));
        std::fs::remove_file(&path).expect("reset");
    }
    for (copy, garbage) in &copies {
        assert_eq!(std::fs::read_to_string(copy).expect("every copy is kept"), *garbage, "never overwritten");
    }

    std::fs::write(app.data_dir.join(SETTINGS_FILE), "theme = dark").expect("write");
    let fresh = AppHarness::at(&app.data_dir, real_keychain());
    let e = fresh.err("settings:get", json!({}));
    assert_eq!(e.code, ErrorCode::ParseError);
    assert!(e.message.contains("settings.json.corrupt-"), "{}", e.message);
    assert_eq!(fresh.ok("settings:get", json!({}))["theme"], "light");
}

#[test]
fn a_file_from_a_newer_version_is_left_alone_and_never_written_over() {
    let app = AppHarness::new();
    let path = app.data_dir.join(PROFILES_FILE);
    let newer = format!(r#"{{"schemaVersion": {}, "profiles": [], "folders": []}}"#, tollgate::store::profiles::PROFILES_SCHEMA_VERSION + 1);
    let newer = newer.as_str();
    std::fs::write(&path, newer).expect("write");
    let e = app.err("profiles:load", json!({}));
    assert_eq!(e.code, ErrorCode::LoadFailed);
    assert!(e.message.contains("newer version"), "{}", e.message);
    let e = app.err("profiles:save", profile_input(&app, "x"));
    assert_eq!(e.code, ErrorCode::LoadFailed, "a save does not replace what it could not read");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), newer);
    assert_eq!(files_in(&app.data_dir), vec![PROFILES_FILE.to_owned()], "nothing moved aside");
}

#[test]
fn a_full_disk_answers_save_failed_and_keeps_the_old_file() {
    let scratch = tempfile::tempdir().expect("scratch");
    let disk = SmallDisk::mount(scratch.path())
        .unwrap_or_else(|e| panic!("mounting a 64 KiB tmpfs failed ({e}): the full-disk test needs root (the suite runs as root)"));
    let data = disk.path().join("data");
    let app = AppHarness::at(&data, real_keychain());
    let p = app.ok("profiles:save", profile_input(&app, "Before"));
    app.ok("settings:save", json!({ "theme": "dark" }));
    let profiles_before = std::fs::read(data.join(PROFILES_FILE)).expect("profiles.json");
    let settings_before = std::fs::read(data.join(SETTINGS_FILE)).expect("settings.json");
    let filler = disk.fill();

    let update = json!({
        "id": p["id"], "name": "After", "algorithm": "HS256", "encryptedKey": p["encryptedKey"],
        "payload": { "note": "n".repeat(8 * 1024) }, "expirationPreset": "1h"
    });
    let e = app.err("profiles:save", update.clone());
    assert_eq!(e.code, ErrorCode::SaveFailed, "{e:?}");
    assert!(e.message.contains("No space left on device") && e.message.contains("intact"), "{}", e.message);
    let e = app.err("profiles:save", profile_input(&app, "New"));
    assert_eq!(e.code, ErrorCode::SaveFailed);
    let e = app.err("settings:save", json!({ "theme": "light" }));
    assert_eq!(e.code, ErrorCode::SaveFailed);
    let e = app.err("profiles:delete", json!({ "id": p["id"] }));
    assert_eq!(e.code, ErrorCode::DeleteFailed);

    assert_eq!(std::fs::read(data.join(PROFILES_FILE)).expect("read"), profiles_before, "the old profiles.json is intact");
    assert_eq!(std::fs::read(data.join(SETTINGS_FILE)).expect("read"), settings_before, "the old settings.json is intact");
    assert_eq!(files_in(&data), vec![PROFILES_FILE.to_owned(), SETTINGS_FILE.to_owned()], "no temporary file left behind");
    // The app's view did not change either, and a restart reads the old files.
    assert_eq!(app.ok("profiles:get", json!({ "id": p["id"] }))["name"], "Before");
    let restarted = AppHarness::at(&data, real_keychain());
    assert_eq!(restarted.ok("profiles:load", json!({}))["profiles"][0]["name"], "Before");
    assert_eq!(restarted.ok("settings:get", json!({}))["theme"], "dark");

    std::fs::remove_file(filler).expect("free space");
    assert_eq!(app.ok("profiles:save", update)["name"], "After", "works again once there is room");
}

/// Kill rounds. Each kills a process that is saving as fast as it can.
const KILL_ROUNDS: usize = 100;

/// A small pseudo-random sequence for kill delays (no dependency needed).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn killing_a_process_mid_save_leaves_every_file_old_or_new() {
    let dir = tempfile::tempdir().expect("dir");
    let logs = tempfile::tempdir().expect("log dir");
    // The saver is the one `tollgate audit` kills too: the real stores in a loop.
    let exe = env!("CARGO_BIN_EXE_tollgate");
    let mut seed = u64::from(std::process::id()) | 1;
    let mut last_acked = 0u64;
    let mut torn_candidates = 0usize;
    let started = Instant::now();
    for round in 0..KILL_ROUNDS {
        let mut child = Command::new(exe)
            .arg("audit-save-loop")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(logs.path().join("stderr")).expect("stderr file")))
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest may print its "test ... " line before ours.
                if let Some(n) = line.rfind("saved ").and_then(|i| line[i + 6..].trim().parse::<u64>().ok()) {
                    let _ = tx.send(n);
                }
            }
        });
        // Wait until it is saving, then kill it at a random moment.
        let first = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
            let _ = child.kill();
            let stderr = std::fs::read_to_string(logs.path().join("stderr")).unwrap_or_default();
            panic!("round {round}: the child did not save:\n{stderr}")
        });
        assert!(first > last_acked, "round {round}: the child went back from {last_acked} to {first}");
        std::thread::sleep(Duration::from_micros(next_random(&mut seed) % 20_000));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let _ = reader.join();
        let acked = rx.try_iter().last().unwrap_or(first);

        // Every file is whole: the last acknowledged save or the one after.
        let profiles = ProfileStore::new(dir.path()).list().unwrap_or_else(|e| panic!("round {round}: profiles.json: {e}"));
        assert_eq!(profiles.len(), 1);
        let n = profiles[0].payload["n"].as_u64().expect("n");
        assert!(n == acked || n == acked + 1, "round {round}: profiles.json holds save {n}, the child acknowledged {acked}");
        assert_eq!(profiles[0].payload, save_payload(n), "round {round}: the payload is save {n}'s, whole");
        assert_eq!(profiles[0].name, format!("save {n}"));
        let settings = SettingsStore::new(dir.path()).get().unwrap_or_else(|e| panic!("round {round}: settings.json: {e}"));
        let x = settings.window_bounds.expect("bounds").x as u64;
        assert!(x == acked || x == acked + 1, "round {round}: settings.json holds save {x}, the child acknowledged {acked}");
        if n == acked + 1 || x == acked + 1 {
            torn_candidates += 1;
        }
        assert!(!files_in(dir.path()).iter().any(|f| f.contains("corrupt")), "round {round}: nothing was unreadable");
        last_acked = n.max(x);
    }
    eprintln!(
        "{KILL_ROUNDS} kills in {:?}; {last_acked} saves; {torn_candidates} kills landed between a write and its acknowledgement",
        started.elapsed()
    );
    assert!(last_acked > KILL_ROUNDS as u64, "the child saved between kills");
}

/// `nbf` and `auth_time` written relative to signing in the payload (and
/// in a call's overrides) are signed as NumericDates from the same clock
/// as `iat`; other text there is refused, naming the claim.
#[test]
fn relative_time_claims_are_signed_as_numeric_dates() {
    let app = AppHarness::new();
    let input = with(profile_input(&app, "relative"), "payload", json!({ "sub": "r", "nbf": "now", "auth_time": "-5m" }));
    let id = app.ok("profiles:save", input)["id"].clone();
    let token = app.ok("jwt:generate", json!({ "profileId": id }));
    let claims = &token["payload"];
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(claims["nbf"].as_i64(), Some(iat), "{claims}");
    assert_eq!(claims["auth_time"].as_i64(), Some(iat - 300), "{claims}");

    let overridden = app.ok("jwt:generate", json!({ "profileId": id, "overrides": { "nbf": "+15m" } }));
    let iat = overridden["payload"]["iat"].as_i64().expect("iat");
    assert_eq!(overridden["payload"]["nbf"].as_i64(), Some(iat + 900));

    let refused = app.err("jwt:generate", json!({ "profileId": id, "overrides": { "nbf": "tomorrow" } }));
    assert_eq!(refused.code, ErrorCode::ValidationError);
    assert!(refused.message.contains("`nbf` is \"tomorrow\""), "{}", refused.message);
}

/// Schema version 2 added `kid` and `typ`, version 3 `headerFields`: a
/// version 1 file reads as it is and is written back as the current version
/// on the next save; a file from a newer version is left alone.
#[test]
fn a_version_1_profiles_file_reads_and_is_written_back_as_the_current_version() {
    let app = AppHarness::new();
    let sealed = app.encrypt("HS256", "an-hmac-secret-of-32-bytes-or-more!!");
    let saved = app.ok("profiles:save", json!({ "name": "from v1", "algorithm": "HS256", "encryptedKey": sealed, "payload": {}, "expirationPreset": "1h" }));
    let path = app.data_dir.join("profiles.json");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(file["schemaVersion"], 3);
    // The same profile as version 1 wrote it: no kid, no typ, no headerFields.
    file["schemaVersion"] = 1.into();
    for p in file["profiles"].as_array_mut().expect("profiles") {
        let p = p.as_object_mut().expect("object");
        p.remove("kid");
        p.remove("typ");
        p.remove("headerFields");
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&file).expect("json")).expect("write");
    let reopened = AppHarness::at(&app.data_dir, crate::harness::real_keychain());
    let listed = reopened.ok("profiles:load", json!({}));
    assert_eq!(listed["profiles"][0]["name"], "from v1", "{listed}");
    assert_eq!(listed["profiles"][0]["kid"], Value::Null);
    reopened.ok("profiles:save", json!({ "id": saved["id"], "name": "from v1", "algorithm": "HS256", "encryptedKey": listed["profiles"][0]["encryptedKey"], "payload": {}, "expirationPreset": "1h", "typ": "JWT+x" }));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!((written["schemaVersion"].clone(), written["profiles"][0]["typ"].clone()), (json!(3), json!("JWT+x")));
    assert_eq!(written["profiles"][0]["headerFields"], json!({}));
    // A newer version's file: refused, and left byte for byte.
    let mut newer = written;
    newer["schemaVersion"] = 4.into();
    let text = serde_json::to_vec_pretty(&newer).expect("json");
    std::fs::write(&path, &text).expect("write");
    let later = AppHarness::at(&app.data_dir, crate::harness::real_keychain());
    assert_eq!(later.err("profiles:load", json!({})).code, ErrorCode::LoadFailed);
    assert_eq!(std::fs::read(&path).expect("read"), text, "the newer file was changed");
}

/// A profile's custom header fields: saved, signed into every token after
/// `kid` in name order, kept when a save leaves them out, cleared by `{}`;
/// a registered JOSE name, too many fields or too many bytes is refused
/// naming `headerFields`, and nothing is saved.
#[test]
fn custom_header_fields_are_saved_signed_and_refused_by_the_header_rules() {
    let app = AppHarness::new();
    let input = with(profile_input(&app, "headers"), "headerFields", json!({ "zone": "eu-1", "tenant": { "id": 7 } }));
    let saved = app.ok("profiles:save", input.clone());
    assert_eq!(saved["headerFields"], json!({ "tenant": { "id": 7 }, "zone": "eu-1" }));
    let token = app.ok("jwt:generate", json!({ "profileId": saved["id"] }));
    let header = token["raw"].as_str().and_then(|t| t.split('.').next()).expect("header segment");
    let header = String::from_utf8(URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("utf-8");
    assert_eq!(header, r#"{"typ":"JWT","alg":"HS256","tenant":{"id":7},"zone":"eu-1"}"#);

    // Left out of a save: kept. `{}`: cleared.
    let update = with(without(input, "headerFields"), "id", saved["id"].clone());
    let update = with(update, "encryptedKey", saved["encryptedKey"].clone());
    assert_eq!(app.ok("profiles:save", update.clone())["headerFields"]["zone"], "eu-1");
    assert_eq!(app.ok("profiles:save", with(update.clone(), "headerFields", json!({})))["headerFields"], json!({}));

    let too_many: Map<String, Value> = (0..17).map(|i| (format!("f{i}"), json!(i))).collect();
    for (fields, says) in [
        (json!({ "crit": ["exp"] }), "`crit`"),
        (json!({ "ALG": "none" }), "`ALG`"),
        (json!({ "jku": "https://attacker.example/keys" }), "`jku`"),
        (json!({ "b64": false }), "`b64`"),
        (Value::Object(too_many), "at most 16"),
        (json!({ "big": "x".repeat(2100) }), "at most 2048"),
        (json!({ "with space": 1 }), "printable ASCII"),
        // A float may not come back byte for byte from the signer's JSON
        // round trip, and an honest signer would be quarantined for it.
        (json!({ "x": 1.000_000_000_000_000_1e-307 }), "not an integer"),
        (json!({ "aud": "api" }), "`aud`"),
    ] {
        let err = app.err("profiles:save", with(update.clone(), "headerFields", fields.clone()));
        assert_eq!(err.code, ErrorCode::ValidationError, "{fields}");
        assert!(err.message.contains("headerFields") && err.message.contains(says), "{fields}: {}", err.message);
    }
    let listed = app.ok("profiles:load", json!({}));
    assert_eq!(listed["profiles"][0]["headerFields"], json!({}), "a refused save changed the profile");
}
