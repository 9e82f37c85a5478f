//! Audit cases: storage and keychain faults, against the app's real stores
//! through its real bridge: a process killed mid-save, corrupted and
//! newer-version files, a full disk, a keychain that is missing or locked.
//! Invariant 5: no user data is lost; a bad file is kept aside, never
//! overwritten.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::audit::audit_keychain;
use crate::audit::bridge::AuditApp;
use crate::audit::{Area, AuditEnv, Case, Outcome};
use crate::bridge::ErrorCode;
use crate::jwt::Algorithm;
use crate::secrets::{Keychain, KeychainError};
use crate::store::profiles::{PROFILES_FILE, PROFILES_SCHEMA_VERSION};
use crate::store::settings::SETTINGS_FILE;
use crate::store::{ExpirationPreset, ProfileDraft, ProfileId, ProfileStore, SettingsStore, SettingsUpdate, Theme, WindowBounds, timestamp};

/// Kill rounds of the crash case: each kills a process saving as fast as it can.
const KILL_ROUNDS: usize = 25;

/// How long a killed child may take to start saving (a cold start on a loaded machine).
const CHILD_START_TIMEOUT: Duration = Duration::from_secs(30);

/// The size of the small disk the full-disk case mounts.
const SMALL_DISK: &str = "size=64k,mode=0700";

/// The payload of save `n` of [`save_loop`]: its size varies, so a torn
/// write would show.
pub fn save_payload(n: u64) -> Map<String, Value> {
    let mut payload = Map::new();
    payload.insert("n".into(), json!(n));
    payload.insert("pad".into(), json!("p".repeat(usize::try_from((n % 7) * 1500).unwrap_or(0))));
    payload
}

/// The process the crash case kills (`tollgate audit-save-loop DIR`): saves
/// profiles.json and settings.json over and over with the real stores,
/// printing `saved <n>` after both saves of round `n` returned. Returns
/// only when a save fails.
pub fn save_loop(dir: &Path) {
    let profiles = ProfileStore::new(dir);
    let settings = SettingsStore::new(dir);
    let (id, mut n) = match profiles.list() {
        Ok(existing) => match existing.first() {
            Some(p) => (p.id, p.payload.get("n").and_then(Value::as_u64).unwrap_or(0)),
            None => match ProfileId::random() {
                Ok(id) => (id, 0),
                Err(e) => return eprintln!("no randomness: {e}"),
            },
        },
        Err(e) => return eprintln!("the file left by the last kill does not read: {e}"),
    };
    let mut out = std::io::stdout().lock();
    loop {
        n += 1;
        let draft = ProfileDraft {
            id,
            create: n == 1,
            name: format!("save {n}"),
            algorithm: Algorithm::HS256,
            encrypted_key: "v1.not-opened-by-the-audit".into(),
            payload: save_payload(n),
            expiration_preset: ExpirationPreset::OneHour,
            custom_expiration: None,
            kid: None,
            typ: None,
            header_fields: Default::default(),
        };
        if let Err(e) = profiles.save(draft, timestamp::now()) {
            return eprintln!("save {n} of profiles.json failed: {e}");
        }
        #[expect(clippy::cast_precision_loss, reason = "n stays far below 2^52")]
        let bounds = WindowBounds { x: n as f64, y: 0.0, width: 800.0, height: 600.0 };
        let theme = if n % 2 == 0 { Theme::Dark } else { Theme::Light };
        if let Err(e) = settings.save(SettingsUpdate { window_bounds: Some(Some(bounds)), theme: Some(theme), ..Default::default() }) {
            return eprintln!("save {n} of settings.json failed: {e}");
        }
        let _ = writeln!(out, "saved {n}");
        let _ = out.flush();
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// One kill round: start the saver, wait for its first save, kill it after
/// `delay`, and return the last save it acknowledged. What the killed
/// process wrote to stderr (its crash output) goes to the secrets search.
fn kill_round(env: &AuditEnv, dir: &Path, delay: Duration) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut child = Command::new(exe)
        .arg("audit-save-loop")
        .arg(dir)
        .env("TOLLGATE_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the saver: {e}"))?;
    let stdout = child.stdout.take().ok_or("the saver has no stdout")?;
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("saved ").and_then(|n| n.trim().parse::<u64>().ok()) {
                let _ = tx.send(n);
            }
        }
    });
    let first = rx.recv_timeout(CHILD_START_TIMEOUT);
    if first.is_ok() {
        std::thread::sleep(delay);
    }
    let _ = child.kill();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = reader.join();
    env.heard(String::from_utf8_lossy(&output.stderr).into_owned());
    match first {
        Ok(first) => Ok(rx.try_iter().last().unwrap_or(first)),
        Err(_) => Err(format!("the saver did not save: {}", String::from_utf8_lossy(&output.stderr).trim())),
    }
}

fn crash_mid_write(env: &AuditEnv) -> Outcome {
    let dir = env.scratch().join("crash");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Outcome::fail(format!("cannot create {}: {e}", dir.display()));
    }
    let mut last = 0;
    let mut seed = u64::from(std::process::id()) | 1;
    for round in 0..KILL_ROUNDS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let acked = match kill_round(env, &dir, Duration::from_micros(seed % 20_000)) {
            Ok(n) => n,
            Err(e) => return Outcome::fail(format!("round {round}: {e}")),
        };
        let profiles = match ProfileStore::new(&dir).list() {
            Ok(p) => p,
            Err(e) => return Outcome::fail(format!("round {round}: profiles.json does not read after the kill: {e}")),
        };
        let Some(profile) = profiles.first() else { return Outcome::fail(format!("round {round}: the profile is gone")) };
        let n = profile.payload.get("n").and_then(Value::as_u64).unwrap_or(0);
        if !(n == acked || n == acked + 1) || profile.payload != save_payload(n) {
            return Outcome::fail(format!("round {round}: profiles.json holds save {n} (whole: {}), the saver acknowledged {acked}", profile.payload == save_payload(n)));
        }
        let settings = match SettingsStore::new(&dir).get() {
            Ok(s) => s,
            Err(e) => return Outcome::fail(format!("round {round}: settings.json does not read after the kill: {e}")),
        };
        let x = settings.window_bounds.map(|b| b.x).unwrap_or(-1.0);
        #[expect(clippy::cast_precision_loss, reason = "acked stays far below 2^52")]
        let (old, new) = (acked as f64, (acked + 1) as f64);
        if x != old && x != new {
            return Outcome::fail(format!("round {round}: settings.json holds save {x}, the saver acknowledged {acked}"));
        }
        if files_in(&dir).iter().any(|f| f.contains("corrupt")) {
            return Outcome::fail(format!("round {round}: a file was unreadable and moved aside"));
        }
        last = n;
    }
    Outcome::pass(format!("{KILL_ROUNDS} saving processes killed at random moments ({last} saves in all): every file read back whole, the last acknowledged save or the next"))
}

fn corrupted_files(env: &AuditEnv) -> Outcome {
    let dir = env.scratch().join("corrupt");
    let _ = std::fs::create_dir_all(&dir);
    let mut seen = Vec::new();
    for (file, garbage, channel) in [
        (PROFILES_FILE, "{\"schemaVersion\": 2, \"profiles\": [", "profiles:load"),
        (PROFILES_FILE, "\u{0}\u{1}binary", "profiles:load"),
        (SETTINGS_FILE, "theme = dark", "settings:get"),
    ] {
        if let Err(e) = std::fs::write(dir.join(file), garbage) {
            return Outcome::fail(format!("cannot write {file}: {e}"));
        }
        let app = match AuditApp::at(env, &dir, audit_keychain("master-key")) {
            Ok(app) => app,
            Err(e) => return Outcome::fail(e),
        };
        let (code, message) = match app.json(channel, &json!({})) {
            Err(e) => e,
            Ok(v) => return Outcome::fail(format!("{file} holding {garbage:?}: {channel} answered {v}")),
        };
        let copy = files_in(&dir).into_iter().find(|f| f.starts_with(&format!("{file}.corrupt-")) && !seen.contains(f));
        let Some(copy) = copy else { return Outcome::fail(format!("{file}: {}: no copy kept aside", code.as_str())) };
        let kept = std::fs::read_to_string(dir.join(&copy)).unwrap_or_default();
        if code != ErrorCode::ParseError || !message.contains(&copy) || kept != garbage {
            return Outcome::fail(format!("{file}: {} {message:?}; the copy {copy} holds the bad bytes: {}", code.as_str(), kept == garbage));
        }
        if app.json(channel, &json!({})).is_err() {
            return Outcome::fail(format!("{file}: the app did not go on after moving it aside"));
        }
        seen.push(copy);
    }
    let kept = seen.iter().all(|c| dir.join(c).exists());
    Outcome::check(kept, format!("3 corrupted files: each PARSE_ERROR naming its copy ({}), the bad bytes kept there, the app went on", seen.join(", ")))
}

fn newer_version(env: &AuditEnv) -> Outcome {
    let dir = env.scratch().join("newer");
    let _ = std::fs::create_dir_all(&dir);
    // One past the version this build writes.
    let newer = format!(r#"{{"schemaVersion": {}, "profiles": [], "folders": []}}"#, PROFILES_SCHEMA_VERSION + 1);
    let app = match AuditApp::at(env, &dir, audit_keychain("master-key")) {
        Ok(app) => app,
        Err(e) => return Outcome::fail(e),
    };
    // A valid save, so only the file's version can refuse it.
    let sealed = match app.json("crypto:encrypt", &json!({"algorithm": "HS256", "key": hex::encode([5u8; 24])})) {
        Ok(v) => v["encryptedKey"].clone(),
        Err((code, m)) => return Outcome::fail(format!("crypto:encrypt: {}: {m}", code.as_str())),
    };
    if let Err(e) = std::fs::write(dir.join(PROFILES_FILE), &newer) {
        return Outcome::fail(e.to_string());
    }
    let load = app.json("profiles:load", &json!({}));
    let save = app.json("profiles:save", &json!({"name": "x", "algorithm": "HS256", "encryptedKey": sealed, "payload": {}, "expirationPreset": "1h"}));
    let untouched = std::fs::read_to_string(dir.join(PROFILES_FILE)).unwrap_or_default() == newer;
    let code = |r: &Result<Value, (ErrorCode, String)>| r.as_ref().err().map(|e| e.0.as_str()).unwrap_or("answered");
    Outcome::check(
        matches!(&load, Err((ErrorCode::LoadFailed, _))) && matches!(&save, Err((ErrorCode::LoadFailed, _))) && untouched && files_in(&dir) == [PROFILES_FILE],
        format!("load: {}, save: {}; the file is untouched: {untouched}; files: {:?}", code(&load), code(&save), files_in(&dir)),
    )
}

/// A tmpfs of 64 KiB (a real full disk on demand), unmounted when dropped.
/// Mounting needs root.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts one in a new directory under `under`.
    pub fn mount(under: &Path) -> Result<Self, String> {
        let dir = tempfile::tempdir_in(under).map_err(|e| e.to_string())?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", SMALL_DISK, "tollgate-audit"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("mount refused".into());
        }
        Ok(Self { dir })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills it to the last byte; returns the filler file (remove it to free the space).
    pub fn fill(&self) -> PathBuf {
        let filler = self.dir.path().join("filler");
        if let Ok(mut file) = std::fs::File::create(&filler) {
            let chunk = [0u8; 512];
            while file.write_all(&chunk).is_ok() {}
            while file.write_all(&[0]).is_ok() {}
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn full_disk(env: &AuditEnv) -> Outcome {
    if !rustix::process::geteuid().is_root() {
        return Outcome::skip("needs root to mount a 64 KiB tmpfs (run the audit as root, as CI does)");
    }
    let disk = match SmallDisk::mount(env.scratch()) {
        Ok(d) => d,
        Err(e) => return Outcome::skip(format!("cannot mount a small tmpfs here: {e}")),
    };
    let data = disk.path().join("data");
    let app = match AuditApp::at(env, &data, audit_keychain("master-key")) {
        Ok(app) => app,
        Err(e) => return Outcome::fail(e),
    };
    let secret = match app.json("crypto:encrypt", &json!({"algorithm": "HS256", "key": hex::encode([7u8; 24])})) {
        Ok(v) => v["encryptedKey"].clone(),
        Err((code, m)) => return Outcome::fail(format!("crypto:encrypt: {}: {m}", code.as_str())),
    };
    let created = app.json("profiles:save", &json!({"name": "Before", "algorithm": "HS256", "encryptedKey": secret, "payload": {}, "expirationPreset": "1h"}));
    let Ok(created) = created else { return Outcome::fail(format!("the first save failed: {created:?}")) };
    let before = std::fs::read(data.join(PROFILES_FILE)).unwrap_or_default();
    let filler = disk.fill();
    let update = json!({"id": created["id"], "name": "After", "algorithm": "HS256", "encryptedKey": created["encryptedKey"],
        "payload": {"note": "n".repeat(8 * 1024)}, "expirationPreset": "1h"});
    let failed = app.json("profiles:save", &update);
    let intact = std::fs::read(data.join(PROFILES_FILE)).unwrap_or_default() == before;
    let leftovers = files_in(&data);
    let still = app.json("profiles:get", &json!({"id": created["id"]})).map(|p| p["name"] == "Before").unwrap_or(false);
    let _ = std::fs::remove_file(filler);
    let again = app.json("profiles:save", &update).map(|p| p["name"] == "After").unwrap_or(false);
    let said = match &failed {
        Err((code, message)) => format!("{}: {message}", code.as_str()),
        Ok(_) => "answered".into(),
    };
    env.heard(said.clone());
    Outcome::check(
        matches!(failed, Err((ErrorCode::SaveFailed, _))) && intact && leftovers == [PROFILES_FILE] && still && again,
        format!("{said}; old file intact: {intact}; files left: {leftovers:?}; the app still shows the old profile: {still}; saves again once there is room: {again}"),
    )
}

/// A keychain that refuses every use, as a locked or missing Secret
/// Service does (a fault injected here: the real one can't be locked on
/// demand without the user's session).
struct RefusingKeychain(&'static str);

impl Keychain for RefusingKeychain {
    fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        Err(KeychainError(self.0.into()))
    }
    fn write(&self, _: &[u8]) -> Result<(), KeychainError> {
        Err(KeychainError(self.0.into()))
    }
    fn delete(&self) -> Result<(), KeychainError> {
        Ok(())
    }
    fn describe(&self) -> String {
        "the audit's refusing keychain".into()
    }
}

fn keychain_unavailable(env: &AuditEnv, name: &str, why: &'static str) -> Outcome {
    let dir = env.scratch().join(format!("keychain-{name}"));
    let made = match AuditApp::at(env, &dir, audit_keychain("master-key")) {
        Ok(app) => {
            let key = app.json("crypto:encrypt", &json!({"algorithm": "HS256", "key": hex::encode([9u8; 24])}));
            let Ok(key) = key else { return Outcome::fail(format!("crypto:encrypt with a working keychain: {key:?}")) };
            let saved = app.json("profiles:save", &json!({"name": "made while unlocked", "algorithm": "HS256", "encryptedKey": key["encryptedKey"], "payload": {}, "expirationPreset": "1h"}));
            let Ok(saved) = saved else { return Outcome::fail(format!("profiles:save: {saved:?}")) };
            saved
        }
        Err(e) => return Outcome::fail(e),
    };
    let mut secret = [0u8; 24];
    let _ = getrandom::fill(&mut secret);
    let secret = hex::encode(secret);
    env.plant(format!("an HMAC secret sent while the keychain is {name}"), secret.as_str());
    let locked = match AuditApp::at(env, &dir, Arc::new(RefusingKeychain(why))) {
        Ok(app) => app,
        Err(e) => return Outcome::fail(e),
    };
    let listed = locked.json("profiles:load", &json!({})).map(|v| v["profiles"][0]["id"] == made["id"]).unwrap_or(false);
    let mut codes = Vec::new();
    for (channel, payload) in [
        ("jwt:generate", json!({"profileId": made["id"]})),
        ("crypto:encrypt", json!({"algorithm": "HS256", "key": secret})),
    ] {
        match locked.json(channel, &payload) {
            Err((code, message)) => {
                env.heard(message.clone());
                codes.push((channel, code));
            }
            Ok(v) => return Outcome::fail(format!("{channel} answered {v} with the keychain {name}")),
        }
    }
    let in_clear = files_in(&dir).iter().any(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default().contains(&secret));
    let all_unavailable = codes.iter().all(|(_, c)| *c == ErrorCode::KeychainUnavailable);
    Outcome::check(
        listed && all_unavailable && !in_clear,
        format!(
            "profiles still list: {listed}; {}; the key stored in the clear instead: {in_clear}",
            codes.iter().map(|(ch, c)| format!("{ch}: {}", c.as_str())).collect::<Vec<_>>().join(", ")
        ),
    )
}

/// The storage cases, in order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "storage/crash-mid-write",
            Area::Storage,
            "`tollgate audit-save-loop` (the real stores saving in a loop), SIGKILLed 25 times at random moments",
            "after every kill profiles.json and settings.json read back whole: the last acknowledged save or the next; nothing moved aside",
            crash_mid_write,
        ),
        Case::new(
            "storage/corrupted-files",
            Area::Storage,
            "profiles.json truncated, profiles.json binary, settings.json not JSON",
            "PARSE_ERROR naming the copy the bad file was moved to; the bytes kept there; the app goes on",
            corrupted_files,
        ),
        Case::new(
            "storage/newer-version-file",
            Area::Storage,
            "profiles.json with a schemaVersion one past the one this build writes",
            "LOAD_FAILED on load and on save; the file is never written over or moved",
            newer_version,
        ),
        Case::new(
            "storage/full-disk",
            Area::Storage,
            "a 64 KiB tmpfs filled to the last byte under the data directory",
            "SAVE_FAILED saying the old file is intact; the old file byte-identical; no temporary file left; saves work again once there is room",
            full_disk,
        ),
        Case::new(
            "storage/keychain-missing",
            Area::Storage,
            "no Secret Service on the session bus (injected fault)",
            "KEYCHAIN_UNAVAILABLE for signing and sealing; profiles still list; no key stored anywhere else instead",
            |env| keychain_unavailable(env, "missing", "no Secret Service provider on the session bus (audit)"),
        ),
        Case::new(
            "storage/keychain-locked",
            Area::Storage,
            "a locked collection (injected fault)",
            "KEYCHAIN_UNAVAILABLE for signing and sealing; profiles still list; no key stored anywhere else instead",
            |env| keychain_unavailable(env, "locked", "the collection is locked (audit)"),
        ),
    ]
}
