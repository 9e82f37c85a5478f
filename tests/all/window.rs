//! The real window, driven through WebKitWebDriver: a user decodes a token;
//! page script reaches every channel; hostile page script is refused, gets
//! the documented code, and leaves a security event in the log; navigation
//! and new windows are refused; a killed renderer comes back; nothing
//! secret reaches the log.
//!
//! Each test starts its own app (its own data directory, log file and
//! driver) and the tests take turns (one window at a time on two cores).
//! They need a display, a D-Bus session and a binary built with the
//! `automation` feature:
//!
//! ```text
//! xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
//!     cargo test -p tollgate-host --features automation --test all window::
//! ```
//!
//! Without those they fail and say so; they never pass without a window.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use tollgate::bridge::Channel;

use crate::webdriver::{Element, Session, SessionOptions, children_of, process_info};

/// One app window at a time: each holds a WebKit automation session, a
/// web process and a network process, on a two-core machine.
static ONE_WINDOW_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long the page may take to report ready (`body[data-ready]`).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an asynchronous page script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the page may stay busy or keep moving before a click.
const STILL_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a log line may take to appear after what caused it.
const LOG_TIMEOUT: Duration = Duration::from_secs(10);
/// The log filter the app runs with: the bridge's per-crossing debug lines
/// on, other crates' debug noise off.
const LOG_FILTER: &str = "info,tollgate=debug";
/// How the suite must be run, for failure messages.
const HOW_TO_RUN: &str = "run the window tests under a display and a D-Bus session, with the automation feature: \
    xvfb-run -a -s \"-screen 0 1280x800x24\" dbus-run-session -- \
    cargo test -p tollgate-host --features automation --test all window:: (`just test` does)";

/// What every page script starts with: `args` (the script's arguments),
/// `done` (the callback), `settle` (a bridge promise as `{ok, data}` or
/// `{ok: false, code, message, details, requestId}`) and `sleep`.
const PRELUDE: &str = r#"
const done = arguments[arguments.length - 1];
const args = Array.prototype.slice.call(arguments, 0, -1);
const settle = (promise) => promise.then(
  (data) => ({ ok: true, data }),
  (e) => ({ ok: false, code: e && e.code, message: e && e.message, details: e && e.details, requestId: e && e.requestId }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const post = (message) => window.webkit.messageHandlers.ipc.postMessage(message);
const randomHex = (bytes) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
"#;

/// A refused bridge call as page script saw it.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) code: String,
    pub(crate) message: String,
    details: Value,
    request_id: String,
}

/// One app under WebDriver, with its own data directory and log file.
/// Field order is drop order: the session (and the app) go first.
pub(crate) struct App {
    pub(crate) session: Session,
    log: PathBuf,
    driver_log: PathBuf,
    _dir: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl App {
    /// Starts the app and waits until its page is ready.
    pub(crate) fn launch() -> Self {
        Self::launch_in(None)
    }

    /// Starts the app on an existing data directory (profiles, settings,
    /// web storage), as a restart does; the caller keeps the directory.
    /// One window at a time: drop the previous app first.
    pub(crate) fn launch_with_data_dir(data_dir: &Path) -> Self {
        Self::launch_in(Some(data_dir))
    }

    fn launch_in(data_dir: Option<&Path>) -> Self {
        Self::launch_with(data_dir, &[], &[])
    }

    /// Starts the app with extra arguments and environment.
    pub(crate) fn launch_with(data_dir: Option<&Path>, extra_args: &[String], extra_env: &[(String, String)]) -> Self {
        require_window_environment();
        let turn = ONE_WINDOW_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = tempfile::tempdir().expect("a temp dir for the app");
        let log = dir.path().join("tollgate.log");
        let driver_log = dir.path().join("driver.log");
        let data_dir = data_dir.map_or_else(|| dir.path().join("data"), Path::to_path_buf);
        // Shared by the window tests of a run: the guest compiles once.
        let cache_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("window-e2e-cache");
        let options = SessionOptions {
            binary: PathBuf::from(env!("CARGO_BIN_EXE_tollgate")),
            args: vec![
                "--automation".into(),
                "--data-dir".into(),
                data_dir.display().to_string(),
                "--log-file".into(),
                log.display().to_string(),
                "--cache-dir".into(),
                cache_dir.display().to_string(),
            ]
            .into_iter()
            .chain(extra_args.iter().cloned())
            .collect(),
            env: [("TOLLGATE_LOG".to_owned(), LOG_FILTER.to_owned())].into_iter().chain(extra_env.iter().cloned()).collect(),
            driver_log: driver_log.clone(),
        };
        let session = match Session::start(&options) {
            Ok(session) => session,
            Err(e) => panic!("could not start the app under WebKitWebDriver: {e}\n{}", tail(&driver_log)),
        };
        let app = Self { session, log, driver_log, _dir: dir, _turn: turn };
        app.session.set_script_timeout(SCRIPT_TIMEOUT).expect("set the script timeout");
        app.wait_ready();
        app
    }

    /// Waits until the page says its first calls settled.
    pub(crate) fn wait_ready(&self) {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < READY_TIMEOUT {
            match self.session.execute("return !!(document.body && document.body.dataset.ready === 'true');", &[]) {
                Ok(Value::Bool(true)) => return,
                Ok(other) => last = other.to_string(),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the page was not ready within {READY_TIMEOUT:?} (last answer: {last})\n{}", tail(&self.driver_log));
    }

    /// Runs `body` (async JavaScript after [`PRELUDE`]; its `return` value
    /// is the result) in the page.
    pub(crate) fn run(&self, body: &str, args: &[Value]) -> Value {
        let script = format!(
            "{PRELUDE}\n(async () => {{\n{body}\n}})().then(done, (e) => done({{ __thrown: String((e && e.stack) || e) }}));"
        );
        let value = self.session.execute_async(&script, args).unwrap_or_else(|e| panic!("page script failed: {e}\n{body}"));
        if let Some(thrown) = value.get("__thrown") {
            panic!("page script threw: {thrown}\n{body}");
        }
        value
    }

    /// `tollgate.invoke(channel, request)` from page script.
    pub(crate) fn invoke(&self, channel: &str, request: Value) -> Result<Value, Refusal> {
        settled(&self.run("return await settle(tollgate.invoke(args[0], args[1]));", &[json!(channel), request]))
    }

    /// Clicks `css` once the page holds still, as a person looks before
    /// clicking: WebKitWebDriver computes the click point, then sends the
    /// click, and a layout change between the two (the claims checks
    /// appearing 300 ms after a save moved Generate 84 px down) sends it
    /// to whatever is there instead, so the click is lost with no error.
    pub(crate) fn click(&self, css: &str) {
        self.wait_still(css);
        self.session.click(&self.find(css)).unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Waits until nothing on the page is busy (`aria-busy="true"`: a
    /// check or a load in flight) and `css` stays in place for 100 ms.
    pub(crate) fn wait_still(&self, css: &str) {
        let settled = self.run(
            "const target = document.querySelector(args[0]);
             if (!target) return `no element ${args[0]}`;
             const deadline = Date.now() + args[1];
             let last = null;
             for (;;) {
               const busy = document.querySelector('[aria-busy=\"true\"]');
               const r = target.getBoundingClientRect();
               const here = busy ? null : `${r.x},${r.y},${r.width},${r.height}`;
               if (here !== null && here === last) return true;
               if (Date.now() > deadline) return busy ? `#${busy.id} stays busy` : 'it keeps moving';
               last = here;
               await sleep(100);
             }",
            &[json!(css), json!(STILL_TIMEOUT.as_millis())],
        );
        assert_eq!(settled, json!(true), "{css} did not hold still within {STILL_TIMEOUT:?}: {settled}");
    }

    pub(crate) fn find(&self, css: &str) -> Element {
        self.session.find(css).unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub(crate) fn text(&self, css: &str) -> String {
        self.session.text(&self.find(css)).unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// An element's rendered text as the page computes it (`innerText`).
    fn inner_text(&self, css: &str) -> String {
        let text = self.run("const e = document.querySelector(args[0]); return e ? e.innerText : null;", &[json!(css)]);
        text.as_str().unwrap_or_else(|| panic!("no element {css}")).to_owned()
    }

    /// Waits until `css` shows non-empty text; returns it.
    pub(crate) fn wait_for_text(&self, css: &str) -> String {
        let started = Instant::now();
        while started.elapsed() < SCRIPT_TIMEOUT {
            let text = self.text(css);
            if !text.trim().is_empty() {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{css} showed no text within {SCRIPT_TIMEOUT:?}");
    }

    /// The app's process (the driver's child).
    fn app_pid(&self) -> u32 {
        children_of(self.session.driver_pid())
            .into_iter()
            .find(|pid| process_info(*pid).is_some_and(|p| p.comm == "tollgate"))
            .expect("the app runs as a child of WebKitWebDriver")
    }

    /// The app's web (renderer) processes.
    fn web_processes(&self) -> Vec<u32> {
        // Down to four levels: the renderer sandbox puts two bubblewrap
        // processes between the app and its web process.
        let mut level = children_of(self.app_pid());
        let mut all = level.clone();
        for _ in 0..3 {
            level = level.iter().flat_map(|c| children_of(*c)).collect();
            all.extend(&level);
        }
        all.into_iter().filter(|pid| process_info(*pid).is_some_and(|p| p.comm.starts_with("WebKitWebProces"))).collect()
    }

    /// What a failure message needs to tell a slow page from a lost
    /// click: the page's visible state and the app log's last lines.
    pub(crate) fn diagnosis(&self) -> String {
        let page = self.session.execute(
            "const q = (css) => document.querySelector(css); \
             const shown = (css) => { const e = q(css); return e ? { hidden: e.hidden, disabled: e.disabled ?? null, text: e.textContent.slice(0, 200) } : null; }; \
             return { focused: document.activeElement && (document.activeElement.id || document.activeElement.tagName), \
                      editor: shown('#editor-title'), dirty: shown('#profile-dirty'), profileError: shown('#profile-error'), \
                      generate: shown('#generate-button'), generateError: shown('#generate-error'), token: shown('#generated-token'), \
                      prompt: shown('#discard-prompt') };",
            &[],
        );
        let page = page.map_or_else(|e| format!("(page unreadable: {e})"), |v| v.to_string());
        format!("the page: {page}\n{}", tail(&self.log))
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every log line, parsed (the log is JSON lines).
    fn log_lines(&self) -> Vec<Value> {
        self.log_text().lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
    }

    /// Security events (`target` `tollgate::security`) with this `event` code.
    fn security_events(&self, event: &str) -> Vec<Value> {
        self.log_lines()
            .into_iter()
            .filter(|line| line["target"] == "tollgate::security" && line["fields"]["category"] == "security")
            .map(|line| line["fields"].clone())
            .filter(|fields| fields["event"] == event)
            .collect()
    }

    /// Waits for a log line whose fields satisfy `wanted`; returns the fields.
    fn wait_for_log(&self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            if let Some(fields) = self.log_lines().into_iter().map(|l| l["fields"].clone()).find(|f| wanted(f)) {
                return fields;
            }
            if started.elapsed() > LOG_TIMEOUT {
                panic!("no log line for {what} within {LOG_TIMEOUT:?}; the log:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for a security event `event` on `channel`, from the main window.
    fn wait_for_security_event(&self, event: &str, channel: &str) -> Value {
        self.wait_for_log(&format!("{event} on {channel}"), |f| {
            f["category"] == "security" && f["event"] == event && f["channel"] == channel && f["window"] == "main"
        })
    }

    /// The `crossing` debug lines (calls that reached a handler).
    fn crossings(&self) -> Vec<Value> {
        self.log_lines().into_iter().map(|l| l["fields"].clone()).filter(|f| f["message"] == "crossing").collect()
    }
}

/// Fails, saying how to run them, where the window tests can't run.
fn require_window_environment() {
    if !cfg!(feature = "automation") {
        panic!("the window tests drive the app with WebKitWebDriver, which needs the `automation` feature; {HOW_TO_RUN}");
    }
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    assert!(set("DISPLAY") || set("WAYLAND_DISPLAY"), "no display (DISPLAY is not set); {HOW_TO_RUN}");
    assert!(
        Path::new(crate::webdriver::DRIVER_BINARY).exists(),
        "{} is missing: install the webkit2gtk-driver package; {HOW_TO_RUN}",
        crate::webdriver::DRIVER_BINARY
    );
}

fn settled(value: &Value) -> Result<Value, Refusal> {
    if value["ok"] == true {
        return Ok(value["data"].clone());
    }
    let text = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
    Err(Refusal { code: text("code"), message: text("message"), details: value["details"].clone(), request_id: text("requestId") })
}

/// The last lines of a file, for failure messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    format!("--- last lines of {} ---\n{}", path.display(), lines[lines.len().saturating_sub(40)..].join("\n"))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_secs()
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact HS256-shaped token. Decoding does not check signatures, so
/// the signature segment is any bytes.
fn compact_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", base64url(header.to_string().as_bytes()), base64url(claims.to_string().as_bytes()), base64url(signature))
}

/// Whether `text` holds 64 hex digits in a row (the bridge secret's form).
fn find_hex64(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, b) in bytes.iter().enumerate() {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run == 64 {
            return text.get(i + 1 - 64..=i);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// A user decodes a token

#[test]
fn a_user_decodes_a_typed_token_and_sees_its_claims() {
    let app = App::launch();
    let now = unix_now();
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let claims = json!({ "sub": "e2e-user-42", "name": "Grace Hopper", "admin": true, "iat": now, "exp": now + 3600 });
    let signature = b"any signature: decoding does not verify it";
    let token = compact_token(&header, &claims, signature);

    app.session.send_keys(&app.find("#token-input"), &token).expect("type the token");
    app.click("#decode-button");

    let shown: Value = serde_json::from_str(&app.wait_for_text("#decoded-payload")).expect("the payload pane shows JSON");
    assert_eq!(shown, claims, "the payload pane shows the claims typed in");
    let shown_header: Value = serde_json::from_str(&app.text("#decoded-header")).expect("the header pane shows JSON");
    assert_eq!(shown_header, header);
    // WebKitWebDriver's element text is empty for this chip (an
    // inline-flex box with overflow hidden), though it is drawn: read what
    // is rendered with innerText instead.
    assert_eq!(app.inner_text("#decoded-algorithm"), "HS256");
    assert_eq!(app.text("#decoded-signature"), base64url(signature));
    assert!(!app.session.is_displayed(&app.find("#decode-error")).expect("displayed"), "no error is shown");

    let screenshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/window-e2e.png");
    app.session.screenshot(&screenshot).expect("save a screenshot");
    if std::env::var("TOLLGATE_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("create docs/screenshots");
        std::fs::copy(&screenshot, docs.join("window.png")).expect("copy the screenshot to docs/screenshots/window.png");
    }
}

/// Pastes `text` over the key set field (one `input` event, as a paste).
fn paste_key_set(app: &App, text: &str) {
    app.run(
        "const e = document.querySelector('#keyset-input'); e.focus(); e.value = args[0]; e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
        &[json!(text)],
    );
}

/// Waits until `css`'s rendered text is neither empty nor `busy`.
fn wait_for_verdict(app: &App, css: &str, busy: &str) -> String {
    let started = Instant::now();
    while started.elapsed() < SCRIPT_TIMEOUT {
        let text = app.inner_text(css);
        if !text.trim().is_empty() && text != busy {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{css} showed no verdict within {SCRIPT_TIMEOUT:?}");
}

/// The decoder's "Verify against a key set" (jwt:verify-key-set): a
/// pasted token against a pasted JWKS says which key matched, and a set
/// without the token's key says so.
#[test]
fn a_user_verifies_a_decoded_token_against_a_pasted_key_set() {
    let app = App::launch();
    let token = crate::keys::fixture_token(Some("fixture-rsa"));
    let jwks = json!({ "keys": [crate::keys::fixture_public("fixture-rsa").jwk] }).to_string();
    app.session.send_keys(&app.find("#token-input"), &token).expect("type the token");
    app.click("#decode-button");
    app.wait_for_text("#decoded-payload");
    app.click("#keyset > summary");
    paste_key_set(&app, &jwks);
    app.click("#keyset-verify");
    assert_eq!(wait_for_verdict(&app, "#keyset-result", "Verifying…"), "Verified");
    let detail = app.inner_text("#keyset-detail");
    assert!(detail.contains("fixture-rsa") && detail.contains("RS256"), "{detail}");
    app.run("document.querySelector('#keyset').scrollIntoView({ block: 'center', behavior: 'instant' }); await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));", &[]);
    let screenshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/window-key-set.png");
    app.session.screenshot(&screenshot).expect("save a screenshot");
    if std::env::var("TOLLGATE_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::copy(&screenshot, docs.join("key-set.png")).expect("copy the screenshot to docs/screenshots/key-set.png");
    }

    // A set without the token's key: the verdict says so, and editing the
    // set cleared the last one first.
    paste_key_set(&app, "");
    assert!(!app.session.is_displayed(&app.find("#keyset-result")).expect("displayed"), "the old verdict stays after an edit");
    paste_key_set(&app, &json!({ "keys": [crate::keys::fixture_public("someone-else").jwk] }).to_string());
    app.click("#keyset-verify");
    assert_eq!(wait_for_verdict(&app, "#keyset-result", "Verifying…"), "No matching key");
    assert!(app.inner_text("#keyset-detail").contains("no key in the set has kid \"fixture-rsa\""));
}

/// The first screen's calls go out from first-calls.js, before the
/// stylesheets and modules load, and the modules take their answers
/// instead of asking again: each crosses once, and none is left untaken.
#[test]
fn the_first_screens_calls_are_made_once_before_the_modules_load() {
    let app = App::launch();
    let first = ["app:info", "settings:get", "profiles:load", "jwt:key-set-hosts"];
    let untaken = app.run(
        "if (typeof tollgateFirstCalls === 'undefined') return 'first-calls.js did not run';
         return args[0].filter((channel) => tollgateFirstCalls.take(channel) !== undefined);",
        &[json!(first)],
    );
    assert_eq!(untaken, json!([]), "every first call was taken by its module");
    let crossings = app.crossings();
    for channel in first {
        let made = crossings.iter().filter(|c| c["channel"] == channel).count();
        assert_eq!(made, 1, "{channel} crossed {made} times at start: {crossings:?}");
    }
    // Made first: before the host served the page's entry module.
    let lines = app.log_lines();
    let position = |wanted: &dyn Fn(&Value) -> bool| lines.iter().position(|l| wanted(&l["fields"]));
    let main_js = position(&|f| f["message"] == "asset" && f["path"] == "/main.js").expect("main.js served");
    let first_calls_js = position(&|f| f["message"] == "asset" && f["path"] == "/first-calls.js").expect("first-calls.js served");
    assert!(first_calls_js < main_js, "first-calls.js is requested before main.js");
}

#[test]
fn a_malformed_token_shows_invalid_token() {
    let app = App::launch();
    app.session.send_keys(&app.find("#token-input"), "this-is-not-a-token").expect("type");
    app.click("#decode-button");
    let error = app.wait_for_text("#decode-error");
    assert_eq!(app.text("#decode-error .error-code"), "INVALID_TOKEN", "the banner: {error}");
    assert!(app.session.is_displayed(&app.find("#decode-error")).expect("displayed"));
    assert_eq!(app.text("#decoded-payload"), "", "nothing decoded is shown");
}

// ---------------------------------------------------------------------------
// Every channel from page script

#[test]
fn page_script_reaches_every_json_channel() {
    // The channels come from the registry the app builds, so a channel
    // added later fails this test until a call to it is written here.
    let declared: std::collections::BTreeSet<&'static str> = {
        let data = tempfile::tempdir().expect("data dir");
        let services = std::sync::Arc::new(tollgate::app::AppServices::new(crate::common::engine(), data.path()).expect("services"));
        let bridge = tollgate::app::build_bridge(&services).expect("bridge");
        bridge
            .registry()
            .channels()
            .iter()
            .filter(|c| c.spec.body == tollgate::bridge::registry::Body::Json && c.spec.windows.contains(&tollgate::bridge::WindowLabel::Main))
            .map(|c| c.spec.name)
            .collect()
    };
    // Sign-in against a port nobody listens on: deterministic answers.
    let app = App::launch_with(None, &["--auth-backend".into(), "http://127.0.0.1:9/".into()], &[]);
    let mut called = std::collections::BTreeSet::new();
    let mut ok = |channel: &'static str, request: Value| -> Value {
        called.insert(channel);
        app.invoke(channel, request).unwrap_or_else(|e| panic!("{channel}: {} {}", e.code, e.message))
    };

    assert_eq!(ok("app:ping", json!({})), json!({}));
    let info = ok("app:info", json!({}));
    assert_eq!(info["window"], "main");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["contractVersion"], tollgate::bridge::channels::CONTRACT_VERSION);
    ok("events:subscribe", json!({ "event": "diag:echo" }));
    ok("diag:emit", json!({ "message": "every channel" }));
    ok("events:unsubscribe", json!({ "event": "diag:echo" }));

    let plugins = ok("plugins:list", json!({}));
    let plugins = plugins["plugins"].as_array().expect("a list of plugins");
    assert!(!plugins.is_empty(), "the built-in signer is listed");
    assert!(plugins.iter().all(|p| p["imports"].is_array() && p["world"].is_string()), "{plugins:?}");

    let token = compact_token(&json!({ "alg": "HS256" }), &json!({ "sub": "page-script" }), b"sig");
    let decoded = ok("jwt:decode", json!({ "token": token }));
    assert_eq!(decoded["payload"], json!({ "sub": "page-script" }));
    assert_eq!(decoded["algorithm"], "HS256");

    let sealed = ok("crypto:encrypt", json!({ "algorithm": "HS256", "key": "a page-script secret of 32+ bytes!!" }));
    let saved = ok(
        "profiles:save",
        json!({ "name": "every channel", "algorithm": "HS256", "encryptedKey": sealed["encryptedKey"], "payload": { "sub": "page" }, "expirationPreset": "1h" }),
    );
    let id = saved["id"].clone();
    let listed = ok("profiles:load", json!({}));
    assert!(listed["profiles"].as_array().is_some_and(|p| p.iter().any(|p| p["id"] == id)), "{listed}");
    assert_eq!(ok("profiles:get", json!({ "id": id }))["name"], "every channel");
    // Nothing is being generated: nothing to cancel.
    assert_eq!(ok("keys:cancel-generate", json!({})), json!({ "cancelled": false }));
    let made = ok("keys:generate", json!({ "algorithm": "ES256" }));
    let es = ok(
        "profiles:save",
        json!({ "name": "host-made key", "algorithm": "ES256", "encryptedKey": made["encryptedKey"], "payload": { "sub": "page" }, "expirationPreset": "1h" }),
    );
    assert_eq!(ok("keys:public", json!({ "id": es["id"] }))["publicKey"]["thumbprint"], made["publicKey"]["thumbprint"]);
    let jwks = ok("keys:jwks", json!({}));
    // Nothing was dropped on the window: nothing to read.
    assert_eq!(ok("keys:import-dropped", json!({ "algorithm": "ES256" })), Value::Null);
    assert_eq!(jwks["keys"][0]["kid"], made["publicKey"]["thumbprint"], "{jwks}");
    ok("profiles:delete", json!({ "id": es["id"] }));
    let generated = ok("jwt:generate", json!({ "profileId": id }));
    let signed = generated["raw"].as_str().expect("a token").to_owned();
    assert_eq!(generated["payload"]["sub"], "page", "{generated}");
    let verified = ok("jwt:verify", json!({ "token": signed, "profileId": id }));
    assert_eq!(verified["valid"], true, "{verified}");
    // This token's key is not in the set of the one ES256 key above.
    let against_set = ok("jwt:verify-key-set", json!({ "token": signed, "keySet": jwks.to_string() }));
    assert_eq!(against_set["reason"], "no-matching-key", "{against_set}");
    assert_eq!(ok("jwt:key-set-hosts", json!({})), json!({ "hosts": [] }), "offline by default");
    assert_eq!(ok("jwt:forget-key-set-host", json!({ "host": "jwks.example.invalid" })), json!({ "hosts": [] }));
    let lint = ok("lint:claims", json!({ "claims": { "sub": "page" } }));
    assert!(lint["findings"].is_array(), "{lint}");
    let settings = ok("settings:get", json!({}));
    assert!(settings.is_object(), "{settings}");
    ok("settings:save", json!({ "theme": "dark" }));
    ok("profiles:delete", json!({ "id": id }));

    let session = ok("auth:get-session", json!({}));
    assert!(session.is_null(), "no one is signed in: {session}");
    ok("auth:check-offline-status", json!({}));
    ok("auth:logout", json!({}));
    ok("auth:github-login", json!({}));
    ok("app:open-about", json!({}));

    // The refusals a handler gives, exactly.
    let mut refused = |channel: &'static str, request: Value, want: &str| {
        called.insert(channel);
        let e = app.invoke(channel, request).expect_err(channel);
        assert_eq!(e.code, want, "{channel}: {}", e.message);
    };
    refused("profiles:get", json!({ "id": id }), "NOT_FOUND");
    refused("plugins:trust", json!({ "sha256": "0".repeat(64) }), "NOT_FOUND");
    refused("auth:select-installation", json!({ "installationId": 1 }), "UNAUTHORIZED");
    refused("events:subscribe", json!({ "event": "diag:nothing" }), "NOT_FOUND");
    // The host's file dialogs open only right after a real click or key
    // press in the window; page script alone gets none.
    refused("keys:import-file", json!({ "algorithm": "ES256" }), "IPC_FORBIDDEN");
    refused("keys:save-jwks", json!({}), "IPC_FORBIDDEN");
    refused("jwt:verify-key-set-file", json!({ "token": signed }), "IPC_FORBIDDEN");
    refused("profiles:import-bundle", json!({ "passphrase": "a passphrase of some length" }), "IPC_FORBIDDEN");
    // A host the user never allowed: the host's dialog, refused without input.
    refused("jwt:verify-key-set-url", json!({ "token": signed, "url": "https://jwks.example.invalid/keys" }), "IPC_FORBIDDEN");
    // Every profile was deleted above: nothing to seal, said before any dialog.
    refused("profiles:export-bundle", json!({ "passphrase": "a passphrase of some length" }), "INVALID_INPUT");

    let missed: Vec<_> = declared.difference(&called).collect();
    assert!(missed.is_empty(), "JSON channels no call here reaches: {missed:?}");
}

#[test]
fn events_reach_a_listener_until_it_unsubscribes() {
    let app = App::launch();
    let result = app.run(
        r#"
        const seen = [];
        const unsubscribe = await tollgate.on("diag:echo", (payload) => seen.push(payload));
        const emitted = await settle(tollgate.invoke("diag:emit", { message: "first" }));
        for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
        const whileSubscribed = seen.slice();
        await unsubscribe();
        const emittedAfter = await settle(tollgate.invoke("diag:emit", { message: "second" }));
        await sleep(500);
        return { emitted, emittedAfter, whileSubscribed, all: seen };
        "#,
        &[],
    );
    assert_eq!(result["emitted"]["ok"], true, "{result}");
    assert_eq!(result["emittedAfter"]["ok"], true, "emitting with no subscriber still succeeds: {result}");
    let got = result["whileSubscribed"].as_array().expect("events");
    assert_eq!(got.len(), 1, "one echo while subscribed: {result}");
    assert_eq!(got[0]["message"], "first");
    assert!(got[0]["seq"].as_u64().is_some_and(|s| s >= 1), "{result}");
    assert_eq!(result["all"].as_array().map(Vec::len), Some(1), "no event after unsubscribing: {result}");
}

#[test]
fn a_mebibyte_crosses_each_way_on_the_binary_path() {
    const SIZE: usize = 1024 * 1024;
    let app = App::launch();
    let result = app.run(
        r#"
        const size = args[0];
        const up = new Uint8Array(size);
        for (let i = 0; i < size; i++) up[i] = (i * 31 + 7) & 255;
        const receipt = await settle(tollgate.upload("diag:upload", up));
        const down = await settle(tollgate.download("diag:download", { bytes: size }));
        let received = down;
        if (down.ok) {
          const bytes = new Uint8Array(down.data);
          let firstMismatch = -1;
          for (let i = 0; i < bytes.length; i++) if (bytes[i] !== i % 251) { firstMismatch = i; break; }
          received = { isArrayBuffer: down.data instanceof ArrayBuffer, length: bytes.length, firstMismatch };
        }
        return { receipt, received };
        "#,
        &[json!(SIZE)],
    );
    let sent: Vec<u8> = (0..SIZE).map(|i| ((i * 31 + 7) & 255) as u8).collect();
    assert_eq!(result["receipt"]["ok"], true, "{result}");
    assert_eq!(result["receipt"]["data"]["bytes"], json!(SIZE));
    assert_eq!(result["receipt"]["data"]["sha256"], json!(hex::encode(Sha256::digest(&sent))), "the host hashed what was sent");
    assert_eq!(result["received"]["isArrayBuffer"], true, "{result}");
    assert_eq!(result["received"]["length"], json!(SIZE));
    assert_eq!(result["received"]["firstMismatch"], -1, "every byte i is i % 251: {result}");
}

// ---------------------------------------------------------------------------
// Hostile page script

#[test]
fn an_unknown_channel_is_refused_and_logged() {
    let app = App::launch();
    let refusal = app.invoke("nope:missing", json!({})).expect_err("an undeclared channel");
    assert_eq!(refusal.code, "UNKNOWN_CHANNEL", "{refusal:?}");
    let event = app.wait_for_security_event("UNKNOWN_CHANNEL", "nope:missing");
    assert_eq!(event["origin"], "tollgate://localhost", "{event}");

    // Not even namespace:action: refused before lookup, logged without the name.
    let refusal = app.invoke("Not A Channel", json!({})).expect_err("a malformed channel name");
    assert_eq!(refusal.code, "UNKNOWN_CHANNEL", "{refusal:?}");
    app.wait_for_security_event("UNKNOWN_CHANNEL", "<malformed>");

    // A binary channel over the JSON path is refused too.
    let refusal = app.invoke("diag:upload", json!({})).expect_err("diag:upload over invoke");
    assert_eq!(refusal.code, "VALIDATION_ERROR", "{refusal:?}");
    app.wait_for_security_event("VALIDATION_ERROR", "diag:upload");
}

#[test]
fn malformed_requests_are_refused_with_validation_error() {
    let app = App::launch();
    let result = app.run(
        r#"
        let deep = 1;
        for (let i = 0; i < 100; i++) deep = [deep];
        const cases = {
          wrongType: ["jwt:decode", { token: 42 }],
          unknownField: ["jwt:decode", { token: "a.b.c", extra: true }],
          missingField: ["diag:emit", {}],
          notAnObject: ["app:ping", [1, 2, 3]],
          protoKey: ["jwt:decode", JSON.parse('{"token":"a.b.c","__proto__":{"admin":true}}')],
          constructorKey: ["diag:emit", JSON.parse('{"message":"x","nested":{"constructor":{"prototype":1}}}')],
          deepNesting: ["diag:emit", { message: "x", deep }],
          hugeNumber: ["jwt:decode", { token: 2 ** 60 }],
          emptyToken: ["jwt:decode", { token: "   " }],
        };
        const out = {};
        for (const [name, [channel, request]] of Object.entries(cases)) {
          out[name] = { channel, answer: await settle(tollgate.invoke(channel, request)) };
        }
        // The binary path's JSON requests go through the same checks.
        out.hugeNumberOnDownload = { channel: "diag:download", answer: await settle(tollgate.download("diag:download", { bytes: 2 ** 60 })) };
        return out;
        "#,
        &[],
    );
    let cases = result.as_object().expect("cases");
    let expected_reason = [
        ("protoKey", "__proto__"),
        ("constructorKey", "constructor"),
        ("deepNesting", "deeper"),
        ("hugeNumber", "safe integer"),
        ("hugeNumberOnDownload", "safe integer"),
        ("notAnObject", "object"),
    ];
    let mut refused_ids = Vec::new();
    for (name, case) in cases {
        let answer = settled(&case["answer"]).expect_err(name);
        refused_ids.push(answer.request_id.clone());
        assert_eq!(answer.code, "VALIDATION_ERROR", "{name}: {answer:?}");
        if let Some((_, why)) = expected_reason.iter().find(|(n, _)| n == name) {
            assert!(answer.message.contains(why), "{name}: the message says why: {answer:?}");
        }
        // Refused payloads of declared channels are logged at debug, with
        // the request id, and never reach a handler.
        let request_id = answer.request_id.clone();
        let line = app.wait_for_log(&format!("{name} refused"), |f| {
            f["message"] == "request refused" && f["request_id"] == request_id.as_str() && f["code"] == "VALIDATION_ERROR"
        });
        assert_eq!(line["channel"], case["channel"], "{name}");
    }
    let reached: Vec<Value> = app
        .crossings()
        .into_iter()
        .filter(|c| c["outcome"] == "ok" && refused_ids.iter().any(|id| c["request_id"] == id.as_str()))
        .collect();
    assert!(reached.is_empty(), "no refused request reached a handler: {reached:?}");
}

#[test]
fn an_oversized_payload_is_refused_before_decoding() {
    let app = App::launch();
    let token = "a".repeat(70 * 1024);
    let refusal = app.invoke("jwt:decode", json!({ "token": token })).expect_err("a 70 KiB token");
    assert_eq!(refusal.code, "PAYLOAD_TOO_LARGE", "{refusal:?}");
    assert_eq!(refusal.details["limit"], json!(tollgate::app::channels::MAX_TOKEN_BYTES + 64), "{refusal:?}");
    let event = app.wait_for_security_event("PAYLOAD_TOO_LARGE", "jwt:decode");
    assert!(!event["reason"].as_str().unwrap_or_default().contains("aaaa"), "the log does not carry the payload: {event}");
}

#[test]
fn a_message_over_the_envelope_cap_still_gets_an_answer() {
    let app = App::launch();
    // Over MAX_MESSAGE_BYTES (1 MiB + 512): refused before the envelope is
    // parsed. The caller's promise must still settle.
    let result = app.run(
        r#"
        const big = "x".repeat(1100 * 1024);
        const answer = await Promise.race([settle(tollgate.invoke("jwt:decode", { token: big })), sleep(5000).then(() => "no answer")]);
        // The same size posted raw (no client check) reaches the host's cap.
        post("tg1\n" + "0".repeat(64) + "\nraw-big\njwt:decode\n" + big);
        const after = await settle(tollgate.invoke("app:ping", {}));
        return { answer, after };
        "#,
        &[],
    );
    app.wait_for_security_event("PAYLOAD_TOO_LARGE", "<malformed>");
    assert_eq!(result["after"]["ok"], true, "the host still answers: {result}");
    assert_eq!(
        result["answer"]["code"], "PAYLOAD_TOO_LARGE",
        "an oversized message is refused with PAYLOAD_TOO_LARGE and its promise settles: {result}"
    );
}

#[test]
fn a_raw_message_with_a_wrong_secret_is_refused_and_logged() {
    let app = App::launch();
    let result = app.run(
        r#"
        post("tg1\n" + "0".repeat(64) + "\nraw-zero-secret\napp:ping\n{}");
        post("tg1\n" + randomHex(32) + "\nraw-random-secret\napp:info\n{}");
        post("tg1\n\nraw-no-secret\napp:ping\n{}");
        post("tg1\n" + "zz".repeat(32) + "\nraw-not-hex\napp:ping\n{}");
        post({ not: "a string" });
        post(42);
        await sleep(300);
        return await settle(tollgate.invoke("app:ping", {}));
        "#,
        &[],
    );
    assert_eq!(result["ok"], true, "the page's own client still works: {result}");
    app.wait_for_security_event("IPC_UNAUTHORIZED", "app:ping");
    app.wait_for_security_event("IPC_UNAUTHORIZED", "app:info");
    let refused = app.security_events("IPC_UNAUTHORIZED");
    assert_eq!(refused.len(), 4, "one event per forged message: {refused:?}");
    assert!(refused.iter().all(|e| e["window"] == "main" && e["reason"].as_str().is_some_and(|r| r.contains("secret"))), "{refused:?}");
    // Non-string messages are malformed envelopes.
    let malformed = app.security_events("VALIDATION_ERROR");
    assert!(malformed.iter().any(|e| e["channel"] == "<malformed>"), "{malformed:?}");
    let reached: Vec<Value> = app.crossings().into_iter().filter(|c| c["request_id"].as_str().is_some_and(|id| id.starts_with("raw-"))).collect();
    assert!(reached.is_empty(), "no forged message reached a handler: {reached:?}");
}

#[test]
fn guessing_the_secret_fails_and_the_host_keeps_answering() {
    const GUESSES: usize = 200;
    let app = App::launch();
    let result = app.run(
        r#"
        for (let i = 0; i < args[0]; i++) post("tg1\n" + randomHex(32) + "\nbrute-" + i + "\napp:ping\n{}");
        await sleep(300);
        return await settle(tollgate.invoke("app:ping", {}));
        "#,
        &[json!(GUESSES)],
    );
    assert_eq!(result["ok"], true, "a legitimate call still succeeds after the guesses: {result}");
    app.wait_for_security_event("IPC_UNAUTHORIZED", "app:ping");
    let reached: Vec<Value> = app.crossings().into_iter().filter(|c| c["request_id"].as_str().is_some_and(|id| id.starts_with("brute-"))).collect();
    assert!(reached.is_empty(), "no guess was accepted: {reached:?}");
    // Every guess is refused, but the log is rate-limited per window
    // (SECURITY_LOG_QUOTA), so a flood can't flood the log.
    let logged = app.security_events("IPC_UNAUTHORIZED").len();
    let quota = tollgate::bridge::limits::SECURITY_LOG_QUOTA;
    assert!((1..=GUESSES).contains(&logged), "{logged} events");
    assert!(logged <= quota.burst as usize + quota.per_second as usize * 2, "the security log is capped: {logged} events");
}

#[test]
fn an_iframe_made_by_page_script_can_not_call_the_host() {
    let app = App::launch();
    let result = app.run(
        r#"
        const frame = document.createElement("iframe");
        document.body.append(frame);
        await sleep(300);
        const w = frame.contentWindow;
        const out = { created: !!w };
        if (!w) return out;
        out.href = String(w.location.href);
        out.tollgate = typeof w.tollgate;
        const handler = w.webkit && w.webkit.messageHandlers && w.webkit.messageHandlers.ipc;
        out.handlerReachable = !!handler;
        if (handler) handler.postMessage("tg1\n" + randomHex(32) + "\niframe-call\napp:ping\n{}");
        await sleep(300);
        return out;
        "#,
        &[],
    );
    assert_eq!(result["created"], true, "CSP frame-src 'none' does not stop an about:blank frame: {result}");
    assert_eq!(result["tollgate"], "undefined", "the client is injected into the main frame only: {result}");
    if result["handlerReachable"] == true {
        // WebKit exposes the handler to every frame, and wry reports the
        // main frame's URL for it: only the secret keeps the frame out.
        let event = app.wait_for_security_event("IPC_UNAUTHORIZED", "app:ping");
        assert_eq!(event["origin"], "tollgate://localhost", "{event}");
        let reached: Vec<Value> = app.crossings().into_iter().filter(|c| c["request_id"] == "iframe-call").collect();
        assert!(reached.is_empty(), "{reached:?}");
    }
}

#[test]
fn page_script_can_not_replace_the_bridge() {
    let app = App::launch();
    let result = app.run(
        r#"
        const fake = () => Promise.resolve("forged");
        const attempt = (f) => { try { f(); return "no error"; } catch (e) { return e.name; } };
        const out = {
          assignGlobal: attempt(() => { "use strict"; window.tollgate = { invoke: fake }; }),
          assignInvoke: attempt(() => { "use strict"; tollgate.invoke = fake; }),
          defineGlobal: attempt(() => Object.defineProperty(window, "tollgate", { value: { invoke: fake } })),
          deleteGlobal: attempt(() => { "use strict"; delete window.tollgate; }),
          addMember: attempt(() => { "use strict"; tollgate.extra = 1; }),
          replaceDeliver: attempt(() => { "use strict"; window.__tollgate_deliver = () => {}; }),
        };
        const descriptor = Object.getOwnPropertyDescriptor(window, "tollgate");
        out.writable = descriptor.writable;
        out.configurable = descriptor.configurable;
        out.frozen = Object.isFrozen(tollgate);
        out.invokeIsFake = tollgate.invoke === fake;
        out.ping = await settle(tollgate.invoke("app:ping", {}));
        return out;
        "#,
        &[],
    );
    for attempt in ["assignGlobal", "assignInvoke", "defineGlobal", "deleteGlobal", "addMember", "replaceDeliver"] {
        assert_eq!(result[attempt], "TypeError", "{attempt}: {result}");
    }
    assert_eq!(result["writable"], false);
    assert_eq!(result["configurable"], false);
    assert_eq!(result["frozen"], true);
    assert_eq!(result["invokeIsFake"], false);
    assert_eq!(result["ping"], json!({ "ok": true, "data": {} }), "the real client still answers: {result}");
}

#[test]
fn page_script_can_not_read_the_bridge_secret() {
    let app = App::launch();
    // Page script hooks every built-in the client might use late, then
    // makes calls of every kind, and looks for 64 hex digits.
    let result = app.run(
        r#"
        const HEX64 = /[0-9a-f]{64}/i;
        const seenIn = new Set();
        let stolen = null;
        const note = (where, value) => {
          try { const m = HEX64.exec(String(value)); if (m) { seenIn.add(where); stolen = stolen || m[0]; } } catch (e) {}
        };
        const restore = [];
        const hook = (object, name, wrap) => {
          const original = object[name];
          try { object[name] = wrap(original); restore.push(() => { object[name] = original; }); } catch (e) {}
        };
        for (const name of ["append", "set"]) {
          hook(Headers.prototype, name, (orig) => function (k, v) { note("Headers.prototype." + name, v); return orig.call(this, k, v); });
        }
        hook(JSON, "stringify", (orig) => function (...a) { const r = orig.apply(this, a); note("JSON.stringify", r); return r; });
        hook(String.prototype, "concat", (orig) => function (...a) { const r = orig.apply(this, a); note("String.prototype.concat", r); return r; });
        hook(Array.prototype, "join", (orig) => function (...a) { const r = orig.apply(this, a); note("Array.prototype.join", r); return r; });
        hook(window, "fetch", (orig) => function (...a) { note("fetch", JSON.stringify(a)); return orig.apply(this, a); });
        // Fetch reads its init dictionary's absent members through the
        // prototype chain: a getter there sees the init object.
        const initKeys = ["signal", "referrer", "referrerPolicy", "mode", "credentials", "integrity", "keepalive", "redirect", "window", "priority", "duplex"];
        for (const key of initKeys) {
          Object.defineProperty(Object.prototype, key, { configurable: true, get() {
            try { if (this && this.headers instanceof Headers) for (const [, v] of this.headers) note("Object.prototype." + key + " getter", v); } catch (e) {}
            return undefined;
          } });
          restore.push(() => { delete Object.prototype[key]; });
        }
        try {
          await settle(tollgate.invoke("app:ping", {}));
          await settle(tollgate.upload("diag:upload", new Uint8Array(16)));
          await settle(tollgate.download("diag:download", { bytes: 16 }));
          const unsubscribe = await tollgate.on("diag:echo", () => {});
          await unsubscribe();
        } finally {
          for (const undo of restore.reverse()) undo();
        }
        for (const [name, f] of Object.entries(tollgate)) note("tollgate." + name + ".toString()", Function.prototype.toString.call(f));
        note("document", document.documentElement.outerHTML);
        // What a stolen secret is worth: a frame the client was kept out of
        // calls the host as the main frame.
        if (stolen) {
          const frame = document.createElement("iframe");
          document.body.append(frame);
          await sleep(300);
          frame.contentWindow.webkit.messageHandlers.ipc.postMessage("tg1\n" + stolen + "\nstolen-secret-call\napp:ping\n{}");
          await sleep(300);
        }
        return Array.from(seenIn);
        "#,
        &[],
    );
    let stolen_call_answered = app.crossings().iter().any(|c| c["request_id"] == "stolen-secret-call" && c["outcome"] == "ok");
    assert_eq!(
        result,
        json!([]),
        "page script saw the bridge secret through: {result}; an about:blank iframe using it was {}",
        if stolen_call_answered { "accepted by the host as the main frame" } else { "refused" }
    );
}

#[test]
fn a_flood_is_rate_limited_and_other_channels_still_answer() {
    const CALLS: usize = 200;
    let app = App::launch();
    let result = app.run(
        r#"
        const answers = await Promise.all(Array.from({ length: args[0] }, () => settle(tollgate.invoke("app:info", {}))));
        const codes = {};
        for (const a of answers) { const k = a.ok ? "ok" : a.code; codes[k] = (codes[k] || 0) + 1; }
        const ping = await settle(tollgate.invoke("app:ping", {}));
        return { codes, ping };
        "#,
        &[json!(CALLS)],
    );
    let count = |k: &str| result["codes"][k].as_u64().unwrap_or(0);
    let quota = <tollgate::app::channels::Info as Channel>::SPEC.quota;
    assert!(count("ok") >= 1 && count("ok") <= u64::from(quota.burst) + 10, "about a burst's worth succeed: {result}");
    assert!(count("RATE_LIMITED") >= 100, "the rest are refused: {result}");
    assert_eq!(count("ok") + count("RATE_LIMITED"), CALLS as u64, "nothing else: {result}");
    assert_eq!(result["ping"]["ok"], true, "another channel still answers right after: {result}");
    let event = app.wait_for_security_event("RATE_LIMITED", "app:info");
    assert!(event["reason"].as_str().is_some_and(|r| r.contains("app:info")), "{event}");
}

// ---------------------------------------------------------------------------
// Navigation and windows

#[test]
fn navigation_off_the_app_origin_is_refused() {
    let app = App::launch();
    app.run(
        r#"
        location.href = "https://example.invalid/e2e-navigation";
        await sleep(500);
        location.href = "data:text/html,<p>e2e</p>";
        await sleep(500);
        const link = document.createElement("a");
        link.id = "e2e-link";
        link.href = "https://link.example.invalid/e2e-link";
        link.textContent = "off-origin link";
        document.body.prepend(link);
        return null;
        "#,
        &[],
    );
    // A trusted click on a link, as a user would.
    app.click("#e2e-link");
    std::thread::sleep(Duration::from_millis(500));

    assert_eq!(app.session.url().expect("GET /url"), "tollgate://localhost/index.html", "the page stayed");
    let refused = |prefix: &'static str| {
        app.wait_for_log(&format!("NAVIGATION_REFUSED {prefix}"), move |f| {
            f["event"] == "NAVIGATION_REFUSED" && f["window"] == "main" && f["origin"].as_str().is_some_and(|o| o.starts_with(prefix))
        })
    };
    refused("https://example.invalid");
    refused("data:");
    assert!(
        app.security_events("NAVIGATION_REFUSED").iter().any(|e| e["origin"] == "https://link.example.invalid"),
        "the clicked link was refused too"
    );
    assert_eq!(app.invoke("app:ping", json!({})).expect("the page still works"), json!({}));
}

#[test]
fn a_refused_navigation_logs_the_origin_not_the_whole_url() {
    let app = App::launch();
    app.run(r#"location.href = "https://example.invalid/callback?access_token=e2e-query-marker"; await sleep(500); return null;"#, &[]);
    let event = app.wait_for_log("NAVIGATION_REFUSED", |f| f["event"] == "NAVIGATION_REFUSED");
    assert!(
        !app.log_text().contains("e2e-query-marker"),
        "a refused URL's query can carry a token; the log should keep its origin only (as the bridge's own events do): {event}"
    );
}

#[test]
fn new_windows_are_refused() {
    let app = App::launch();
    let scripted = app.run(r#"const w = window.open("https://example.invalid/e2e-popup"); await sleep(500); return w === null;"#, &[]);
    assert_eq!(scripted, true, "a scripted window.open gets no window");

    // With a user gesture WebKit asks the app, which refuses.
    app.run(
        r#"
        const button = document.createElement("button");
        button.id = "e2e-open";
        button.textContent = "open";
        button.addEventListener("click", () => { window.__e2eOpened = window.open("https://clicked.example.invalid/e2e-clicked"); });
        document.body.prepend(button);
        const link = document.createElement("a");
        link.id = "e2e-blank";
        link.href = "https://blank.example.invalid/e2e-target-blank";
        link.target = "_blank";
        link.textContent = "new tab";
        document.body.prepend(link);
        return null;
        "#,
        &[],
    );
    app.click("#e2e-open");
    app.click("#e2e-blank");
    // The log carries the origin only, never the path.
    for origin in ["https://clicked.example.invalid", "https://blank.example.invalid"] {
        app.wait_for_log(&format!("NEW_WINDOW_REFUSED {origin}"), |f| f["event"] == "NEW_WINDOW_REFUSED" && f["origin"] == origin);
    }
    assert_eq!(app.run("return window.__e2eOpened === null;", &[]), true, "window.open returned no window");
    assert_eq!(app.session.window_handles().expect("handles").len(), 1, "still one window");
    assert_eq!(app.session.url().expect("GET /url"), "tollgate://localhost/index.html");
}

// ---------------------------------------------------------------------------
// Crashes and secrets

#[test]
fn a_killed_renderer_comes_back_and_the_page_works_again() {
    let app = App::launch();
    let app_pid = app.app_pid();
    let renderers = app.web_processes();
    assert!(!renderers.is_empty(), "the app has a WebKitWebProcess child");
    let first_document = request_id_prefix(&app.crossings().first().expect("the page's first calls were logged")["request_id"]);
    for pid in &renderers {
        let pid = rustix::process::Pid::from_raw(*pid as i32).expect("a pid");
        rustix::process::kill_process(pid, rustix::process::Signal::KILL).expect("SIGKILL the renderer");
    }
    app.wait_for_log("the web process died", |f| f["message"].as_str().is_some_and(|m| m.contains("web process died")));

    // WebKit ends the WebDriver session with the web process it drove, so
    // the reloaded page is watched through the app's log: a new document
    // (a new request-id prefix) makes its first calls, `app:info` and
    // `plugins:list`, and the host answers both; the page sets
    // `data-ready` once they settle.
    for channel in ["app:info", "plugins:list"] {
        let answered = app.wait_for_log(&format!("{channel} from the reloaded page"), |f| {
            f["message"] == "crossing"
                && f["channel"] == channel
                && f["outcome"] == "ok"
                && request_id_prefix(&f["request_id"]) != first_document
        });
        assert_eq!(answered["window"], "main");
    }
    assert!(process_info(app_pid).is_some_and(|p| p.comm == "tollgate"), "the app process {app_pid} lives on");
    assert_eq!(app.app_pid(), app_pid, "the app itself did not restart");
    let now = app.web_processes();
    assert!(!now.is_empty() && now.iter().all(|p| !renderers.contains(p)), "a new renderer: {renderers:?} -> {now:?}");
}

/// The per-document part of a client request id (`<load id>-<seq>`).
fn request_id_prefix(id: &Value) -> String {
    id.as_str().and_then(|id| id.split_once('-')).map(|(prefix, _)| prefix.to_owned()).unwrap_or_default()
}

#[test]
fn secrets_stay_out_of_the_log() {
    const MARKER: &str = "e2e-claim-marker-do-not-log";
    let app = App::launch();
    let token = compact_token(&json!({ "alg": "HS256", "kid": MARKER }), &json!({ "sub": MARKER, "note": MARKER }), MARKER.as_bytes());
    app.session.send_keys(&app.find("#token-input"), &token).expect("type the token");
    app.click("#decode-button");
    assert!(app.wait_for_text("#decoded-payload").contains(MARKER));

    let result = app.run(
        r#"
        const marker = args[0];
        const seen = [];
        const unsubscribe = await tollgate.on("diag:echo", (p) => seen.push(p.message));
        const emitted = await settle(tollgate.invoke("diag:emit", { message: marker }));
        for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
        await unsubscribe();
        const refused = await settle(tollgate.invoke("jwt:decode", { token: marker + ".not.valid" }));
        const unknown = await settle(tollgate.invoke("diag:emit", { message: "x", [marker]: marker }));
        return { emitted, seen, refused: refused.code, unknown: unknown.code };
        "#,
        &[json!(MARKER)],
    );
    assert_eq!(result["emitted"]["ok"], true, "{result}");
    assert_eq!(result["seen"], json!([MARKER]), "the echo arrived: {result}");
    assert_eq!(result["refused"], "INVALID_TOKEN", "{result}");
    assert_eq!(result["unknown"], "VALIDATION_ERROR", "{result}");
    // Let everything land in the log, then look.
    app.wait_for_log("the last crossing", |f| f["message"] == "request refused" || f["outcome"] == "VALIDATION_ERROR");
    std::thread::sleep(Duration::from_millis(300));

    let log = app.log_text();
    assert!(!app.crossings().is_empty(), "the debug log is on, so there was something to leak into");
    let leaks: Vec<&str> = log.lines().filter(|l| l.contains(MARKER)).collect();
    assert!(leaks.is_empty(), "the marker reached the log: {leaks:?}");
    assert_eq!(find_hex64(&log), None, "nothing of the bridge secret's form (64 hex digits) is logged");
}

/// Issue 15: a quarantined signer shows on the plugins card with the host's
/// reason, and page script can only ask to trust it again: the host puts
/// its own dialog in front of the user (nobody answers it here), so the
/// call stays pending and the entry holds. Generating through it is
/// refused `PLUGIN_QUARANTINED` before the key leaves the host.
#[test]
fn a_quarantined_signer_shows_its_reason_and_page_script_cannot_clear_it() {
    const REASON: &str = "a window test planted this entry";
    let data = tempfile::tempdir().expect("data dir");
    let sha256 = tollgate::runtime::component_sha256(tollgate::guest_artifacts::JWT_SIGNER_WASM);
    let list = json!({"schemaVersion": 1, "entries": [
        {"sha256": sha256, "plugin": "jwt-signer", "function": "sign", "reason": REASON, "since": 1_796_500_000}
    ]});
    let file = data.path().join("plugin-quarantine.json");
    std::fs::write(&file, list.to_string()).expect("write the list");
    let app = App::launch_with_data_dir(data.path());

    let card = app.wait_for_text(".plugin-quarantine");
    assert!(card.contains("Quarantined") && card.contains(REASON), "{card}");
    let listed = app.invoke("plugins:list", json!({})).expect("plugins:list");
    let signer = listed["plugins"].as_array().and_then(|p| p.iter().find(|p| p["sha256"] == sha256.as_str())).cloned().expect("the signer");
    assert_eq!(signer["quarantine"]["reason"], REASON, "{signer}");
    crate::window_profiles::screenshot(&app, "plugins-quarantine.png");

    let asked = app.run(
        "const call = tollgate.invoke('plugins:trust', { sha256: args[0] });\n\
         return await Promise.race([call.then(() => 'answered', () => 'refused'), new Promise((ok) => setTimeout(() => ok('pending'), 2000))]);",
        &[json!(sha256)],
    );
    assert_eq!(asked, "pending", "the host answered without asking the user");
    let still = app.invoke("plugins:list", json!({})).expect("plugins:list");
    assert!(still.to_string().contains(REASON), "the entry was cleared without the user: {still}");
    assert!(std::fs::read_to_string(&file).expect("the list").contains(&sha256), "the file lost the entry");
}
