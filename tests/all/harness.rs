//! The app as the page reaches it, without a window: the real services and
//! bridge over a temporary data directory, a test sender for the main
//! window, and the real Secret Service (gnome-keyring) for the master key.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tollgate::app::{AppServices, SignerIsolation, build_bridge};
use tollgate::bridge::core::{Answer, Sender};
use tollgate::bridge::envelope::build;
use tollgate::bridge::registry::Reply;
use tollgate::bridge::{Bridge, BridgeError, ErrorCode, WindowLabel};
use tollgate::secrets::{Keychain, KeychainError, OsKeychain};
use zeroize::Zeroizing;

use crate::common::engine;

const APP_PAGE: &str = "tollgate://localhost/index.html";

/// The keychain service name every test entry uses (never the app's own).
pub const TEST_SERVICE: &str = "tollgate-test";

/// How long a rate-limited call waits before trying again. The quotas are
/// the real ones; tests that make many writes wait for them.
const RATE_LIMIT_BACKOFF: Duration = Duration::from_millis(250);

/// The app over a data directory.
pub struct AppHarness {
    /// The services behind the bridge.
    pub services: Arc<AppServices>,
    /// The bridge.
    pub bridge: Bridge,
    /// Where profiles.json and settings.json live.
    pub data_dir: PathBuf,
    secret: String,
    seq: AtomicU64,
    _owned: Option<tempfile::TempDir>,
}

impl AppHarness {
    /// A fresh data directory and this test run's keychain entry in the
    /// real Secret Service.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("data dir");
        let mut app = Self::at(dir.path(), real_keychain());
        app._owned = Some(dir);
        app
    }

    /// A fresh data directory, this run's keychain entry, and `auth` as
    /// the sign-in service (a test's backend, clock and browser).
    pub fn with_auth(auth: tollgate::auth::AuthService) -> Self {
        let dir = tempfile::tempdir().expect("data dir");
        let mut app = Self::build(dir.path(), real_keychain(), Some(auth));
        app._owned = Some(dir);
        app
    }

    /// The app over `data_dir` and `keychain`.
    pub fn at(data_dir: &Path, keychain: Arc<dyn Keychain>) -> Self {
        Self::build(data_dir, keychain, None)
    }

    fn build(data_dir: &Path, keychain: Arc<dyn Keychain>, auth: Option<tollgate::auth::AuthService>) -> Self {
        // Installed signers run in the worker cargo built beside `tollgate`
        // (not beside this test binary, where the app would look).
        let worker = Path::new(env!("CARGO_BIN_EXE_tollgate")).with_file_name(tollgate::worker::WORKER_PROGRAM);
        let services = AppServices::with_keychain(engine(), data_dir, keychain)
            .expect("app services")
            .with_signer_isolation(SignerIsolation::Worker { program: worker });
        let services = Arc::new(match auth {
            Some(auth) => services.with_auth(auth),
            None => services,
        });
        let bridge = build_bridge(&services).expect("bridge builds");
        let secret = bridge.issue_secret(WindowLabel::Main).expect("secret").to_string();
        Self { services, bridge, data_dir: data_dir.to_path_buf(), secret, seq: AtomicU64::new(0), _owned: None }
    }

    /// A call from the main window's app page. A `RATE_LIMITED` answer is
    /// waited out (with a fresh request id), so tests see the real quotas
    /// without failing on them.
    pub fn call(&self, channel: &str, payload: &Value) -> Answer {
        let started = Instant::now();
        loop {
            let id = format!("p-{}", self.seq.fetch_add(1, Ordering::Relaxed));
            let message = build(&self.secret, &id, channel, &payload.to_string());
            let answer = self.bridge.handle_message(Sender { window: WindowLabel::Main, page_url: APP_PAGE }, &message).finish();
            if answer.code() != Some(ErrorCode::RateLimited) || started.elapsed() > Duration::from_secs(30) {
                return answer;
            }
            std::thread::sleep(RATE_LIMIT_BACKOFF);
        }
    }

    /// The data of a call that must succeed.
    pub fn ok(&self, channel: &str, payload: Value) -> Value {
        match self.call(channel, &payload).result {
            Ok(Reply::Json(v)) => v,
            other => panic!("{channel} failed: {other:?}"),
        }
    }

    /// The error of a call that must fail.
    pub fn err(&self, channel: &str, payload: Value) -> BridgeError {
        match self.call(channel, &payload).result {
            Err(e) => e,
            Ok(v) => panic!("{channel} {payload} succeeded: {v:?}"),
        }
    }

    /// `crypto:encrypt` of a text key.
    pub fn encrypt(&self, alg: &str, key: &str) -> String {
        let v = self.ok("crypto:encrypt", serde_json::json!({ "algorithm": alg, "key": key }));
        v["encryptedKey"].as_str().expect("encryptedKey").to_owned()
    }
}

/// The keychain entry of this test process, in the real Secret Service.
pub fn real_keychain() -> Arc<dyn Keychain> {
    ensure_secret_service();
    Arc::new(OsKeychain::with_entry(TEST_SERVICE, &format!("master-key-{}", std::process::id())))
}

/// A keychain entry standing for another install (another user or
/// machine): its own master key.
pub fn other_install_keychain(name: &str) -> Arc<dyn Keychain> {
    ensure_secret_service();
    Arc::new(OsKeychain::with_entry(TEST_SERVICE, &format!("other-install-{name}-{}", std::process::id())))
}

/// A keychain that is locked or missing: every call fails. Injected only
/// to show that failure; everything else uses the real one.
pub struct FailingKeychain;

impl Keychain for FailingKeychain {
    fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        Err(KeychainError("no access to the keychain: the collection is locked (test)".into()))
    }
    fn write(&self, _: &[u8]) -> Result<(), KeychainError> {
        Err(KeychainError("no access to the keychain: the collection is locked (test)".into()))
    }
    fn delete(&self) -> Result<(), KeychainError> {
        Err(KeychainError("no access to the keychain: the collection is locked (test)".into()))
    }
    fn describe(&self) -> String {
        "failing test keychain".into()
    }
}

/// Makes sure a Secret Service with an unlocked default collection
/// answers on this process's session bus: if none does, starts
/// gnome-keyring-daemon (secrets only, a throwaway login keyring in a
/// temporary directory, unlocked with a password on stdin). Once per test
/// process. The suite runs inside `dbus-run-session` (scripts/with-display).
pub fn ensure_secret_service() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(why) = READY.get_or_init(start_secret_service) {
        panic!("no Secret Service for the keychain tests: {why}");
    }
}

fn answers() -> Result<(), KeychainError> {
    OsKeychain::with_entry(TEST_SERVICE, "probe").read().map(|_| ())
}

fn start_secret_service() -> Result<(), String> {
    if answers().is_ok() {
        return Ok(());
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return Err("there is no D-Bus session bus: run the tests inside dbus-run-session (scripts/with-display)".into());
    }
    // The keyring files live as long as this process; the daemon leaves
    // with the session bus.
    static KEYRING_HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let home = KEYRING_HOME.get_or_init(|| tempfile::tempdir().expect("keyring dir")).path();
    // Two attempts: D-Bus may have auto-started a locked daemon on the first
    // probe, which the first `--replace` races with (seen once here).
    let mut last = String::new();
    for _attempt in 0..2 {
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--replace", "--components=secrets", "--daemonize", "--unlock"])
            .env("XDG_DATA_HOME", home)
            .env("XDG_RUNTIME_DIR", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run gnome-keyring-daemon (Debian package gnome-keyring): {e}"))?;
        if let Some(mut stdin) = daemon.stdin.take() {
            stdin.write_all(b"tollgate-test-keyring").map_err(|e| e.to_string())?;
        }
        let out = daemon.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            last = format!("gnome-keyring-daemon failed: {}", String::from_utf8_lossy(&out.stderr));
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match answers() {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    last = format!("the Secret Service still does not answer: {e}");
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    Err(last)
}
