//! `tollgate audit`'s page cases: hostile scripts run in the real window.
//!
//! The audit opens the app's own window (the same webview, handlers,
//! bridge and services as the app, over a scratch data directory and
//! keychain entries of its own) and, once the page is ready, evaluates each
//! hostile script of `host/src/audit/pages/` in the main frame, as page
//! script. A script records what it observed in a page global; the host
//! reads that back, and reads its own log for the security events the
//! script should have caused. No WebDriver: this runs from a release build.
//!
//! The event loop stays on the calling (main) thread; the cases run on a
//! driver thread that asks the loop to evaluate scripts and report the
//! page's URL and the number of windows (tollgate-window's `Driver`, the
//! window's one driver seam), and ends the
//! loop when the last case is done.
//!
//! Trust: nothing here is reachable from the page. The scripts are
//! injected only when the machine's user runs the audit.

mod cases;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use crate::app::assets::AssetSource;
use crate::app::driver::{Driver, Observer};
use crate::app::window::{WindowError, WindowOptions, has_display};
use crate::app::{AppServices, build_bridge};
use crate::audit::{AuditEnv, CaseResult, Record, audit_keychain, run_cases};
use crate::auth::{AuthConfig, AuthService, BrowserOpener, SystemClock};
use crate::bridge::WindowLabel;
use crate::secrets::Keychain;

/// The harness every page script runs in (`pages/prelude.js`).
const PRELUDE: &str = include_str!("pages/prelude.js");
/// How long the window may take to open and its page to report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one evaluation may take to come back from the web process.
const EVAL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one hostile script may run (the flood and the brute force are
/// the longest, a few seconds each).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the host asks the page whether a script has finished.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// A sign-in backend nobody listens on: the audit's window never reaches
/// the network, whatever a page script asks of `auth:*`.
const NO_BACKEND: &str = "http://127.0.0.1:9/";

/// The driver's handle on one window's page: evaluates scripts through the
/// event loop and waits for their answers.
#[derive(Clone)]
pub(crate) struct Page {
    driver: Driver,
    runs: Arc<AtomicU64>,
    /// What the page scripts observed (every answer the host gave them),
    /// handed to the secrets search after each case.
    observed: Arc<Mutex<Vec<String>>>,
}

impl Page {
    /// Evaluates `script` in the main frame; its value as JSON (`null` when
    /// it has none WebKit can serialize).
    pub(crate) fn eval(&self, script: &str) -> Result<Value, String> {
        let text = self.driver.eval(script, EVAL_TIMEOUT)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The URL the main frame shows.
    pub(crate) fn url(&self) -> Result<String, String> {
        self.driver.url(EVAL_TIMEOUT)
    }

    /// Toplevel windows shown by this process.
    pub(crate) fn windows(&self) -> Result<usize, String> {
        self.driver.windows(EVAL_TIMEOUT)
    }

    /// Opens (or closes) the web inspector on this page's window; whether
    /// WebKit's developer extras were on before (see `Driver::inspector`).
    pub(crate) fn inspector(&self, open: bool) -> Result<bool, String> {
        self.driver.inspector(open, EVAL_TIMEOUT)
    }

    /// Closes this page's window as its close button would; whether it was shown.
    pub(crate) fn close_window(&self) -> Result<bool, String> {
        self.driver.close_window(EVAL_TIMEOUT)
    }

    /// Waits until the page shows `url_prefix` and says its first calls
    /// settled (`body[data-ready]`).
    pub(crate) fn wait_ready(&self, url_prefix: &str) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < READY_TIMEOUT {
            let url = self.url()?;
            if url.starts_with(url_prefix) {
                match self.eval("!!(document.body && document.body.dataset.ready === 'true')") {
                    Ok(Value::Bool(true)) => return Ok(()),
                    Ok(other) => last = format!("{url}: ready is {other}"),
                    Err(e) => last = e,
                }
            } else {
                last = format!("the page shows {url}");
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        Err(format!("the page was not ready within {READY_TIMEOUT:?} ({last})"))
    }

    /// Runs one hostile script (`source`, an async function of the
    /// prelude's helpers) with `args`; what it returned, or why there is
    /// nothing (it threw, or its document went away).
    pub(crate) fn run(&self, source: &str, args: &Value) -> Result<Value, String> {
        let run = self.start(source, args)?;
        self.wait(&run)
    }

    /// Starts a hostile script without waiting for it (another window's
    /// script runs meanwhile); [`Page::wait`] collects what it returned.
    pub(crate) fn start(&self, source: &str, args: &Value) -> Result<String, String> {
        let id = format!("run-{}", self.runs.fetch_add(1, Ordering::Relaxed));
        let id_json = Value::String(id.clone()).to_string();
        self.eval(&format!("({PRELUDE})({id_json}, {args}, ({source})); null"))?;
        Ok(id)
    }

    /// What the script started as `run` returned (see [`Page::run`]).
    pub(crate) fn wait(&self, run: &str) -> Result<Value, String> {
        let id_json = Value::String(run.to_owned()).to_string();
        let poll = format!("(window.__tollgateAudit && window.__tollgateAudit[{id_json}]) || null");
        let started = Instant::now();
        loop {
            match self.eval(&poll)? {
                Value::Null => {}
                Value::Object(mut result) => {
                    if let Some(thrown) = result.remove("thrown") {
                        return Err(format!("the page script threw: {}", thrown.as_str().unwrap_or_default()));
                    }
                    let value = result.remove("ok").unwrap_or(Value::Null);
                    if let Ok(mut observed) = self.observed.lock() {
                        observed.push(value.to_string());
                    }
                    return Ok(value);
                }
                other => return Err(format!("the page script's record is not an object: {other}")),
            }
            if started.elapsed() > SCRIPT_TIMEOUT {
                let url = self.url().unwrap_or_default();
                return Err(format!("no result within {SCRIPT_TIMEOUT:?}; the page shows {url}"));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// The same driver aimed at another window's page (which may not be
    /// open yet: its URL reads empty until it is).
    pub(crate) fn in_window(&self, window: WindowLabel) -> Page {
        Page { driver: self.driver.in_window(window), ..self.clone() }
    }

    /// Everything the page scripts observed since the last call.
    pub(crate) fn take_observed(&self) -> Vec<String> {
        self.observed.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default()
    }

    fn quit(&self) {
        self.driver.quit();
    }
}

/// Ends the event loop when the driver is done, however it ends.
struct QuitOnDrop(Option<Page>);

impl Drop for QuitOnDrop {
    fn drop(&mut self) {
        if let Some(page) = &self.0 {
            page.quit();
        }
    }
}

/// A browser that opens nothing: no page case may start a sign-in that
/// reaches a real browser.
struct NoBrowser;

impl BrowserOpener for NoBrowser {
    fn open(&self, _url: &url::Url) -> Result<(), String> {
        Err("the audit opens no browser".into())
    }
}

/// Runs every page case in the real window, in order, and returns their
/// results (ids `page/<name>`). Opens the app's window over `data_dir`
/// (WebKit's data, profiles, settings; a scratch directory) with keychain
/// entries of its own, and closes it before returning. Call on the main
/// thread, once per process (a tao event loop can be made only once).
/// `progress` sees each result as it is made, from the driver thread.
pub fn run_page_cases(
    env: &AuditEnv,
    data_dir: &Path,
    progress: &mut (dyn FnMut(&CaseResult) + Send),
) -> Result<Vec<CaseResult>, WindowError> {
    if !has_display() {
        return Err(WindowError::NoDisplay);
    }
    std::fs::create_dir_all(data_dir).map_err(|e| WindowError::App(format!("cannot create {}: {e}", data_dir.display())))?;
    let keychains = AuditKeychains::new(env.record());
    let auth_config = AuthConfig::new(NO_BACKEND).map_err(|e| WindowError::App(e.to_string()))?;
    let auth = AuthService::with_parts(auth_config, Arc::clone(&keychains.session), Arc::new(SystemClock), Arc::new(NoBrowser));
    let services = AppServices::with_keychain(env.engine(), data_dir, Arc::clone(&keychains.master))
        .map_err(|e| WindowError::App(e.to_string()))?
        .with_auth(auth);
    let services = Arc::new(services);
    let bridge = Arc::new(build_bridge(&services).map_err(|e| WindowError::App(e.to_string()))?);
    let about = cases::AboutReach::of(&bridge);
    let (driver_tx, driver_rx) = mpsc::channel::<Driver>();
    let options = WindowOptions {
        data_dir: data_dir.to_path_buf(),
        assets: AssetSource::Embedded,
        screenshot: None,
        allow_automation: false,
        opener: Some(Arc::clone(services.window_opener())),
        trust_prompt: Some(Arc::clone(services.trust_prompt())),
        file_dialogs: Some(Arc::clone(services.file_dialogs())),
        observer: Some(Arc::new(AuditObserver { record: env.record(), driver: Mutex::new(Some(driver_tx)) })),
    };

    let first_line = env.log().lines().len();

    let (ran, results) = std::thread::scope(|scope| {
        let driver = std::thread::Builder::new().name("audit-page-driver".into()).spawn_scoped(scope, move || {
            let Ok(driver) = driver_rx.recv() else { return Vec::new() };
            let page = Page { driver, runs: Arc::new(AtomicU64::new(0)), observed: Arc::default() };
            let _quit = QuitOnDrop(Some(page.clone()));
            let ready = page.wait_ready(cases::APP_PAGE);
            run_cases(env, cases::cases(&page, ready, first_line, &about), progress)
        });
        let ran = crate::app::window::run(bridge, options);
        let results = match driver {
            Ok(handle) => handle.join().map_err(|_| WindowError::App("the page driver panicked".into())),
            Err(e) => Err(WindowError::App(format!("could not start the page driver: {e}"))),
        };
        (ran, results)
    });
    drop(services);
    ran?;
    results
}

/// What the audit watches of the window: each page secret (planted for the
/// secrets search, which must find the real windows' secrets nowhere), and
/// the driver, handed to the page-driver thread.
struct AuditObserver {
    record: Record,
    driver: Mutex<Option<mpsc::Sender<Driver>>>,
}

impl Observer for AuditObserver {
    fn started(&self, driver: Driver) {
        if let Some(sender) = self.driver.lock().ok().and_then(|mut d| d.take()) {
            let _ = sender.send(driver);
        }
    }

    fn secret_issued(&self, window: WindowLabel, secret: &str) {
        self.record.plant(format!("the {} window's page secret (real window)", window.as_str()), secret);
    }
}

/// The audit window's keychain entries (master key, sign-in session):
/// fresh names, deleted when the run ends, so the audit never reads or
/// writes the user's.
struct AuditKeychains {
    master: Arc<dyn Keychain>,
    session: Arc<dyn Keychain>,
    record: Record,
}

impl AuditKeychains {
    fn new(record: Record) -> Self {
        Self { master: audit_keychain("page-master-key"), session: audit_keychain("page-session"), record }
    }
}

impl Drop for AuditKeychains {
    /// The window's master key (if the page cases made one) is planted for
    /// the secrets search before its entry goes.
    fn drop(&mut self) {
        self.record.plant_keychain_entry("the page window's master key", &*self.master);
        for keychain in [&self.master, &self.session] {
            if let Err(e) = keychain.delete() {
                tracing::debug!(error = %e, keychain = %keychain.describe(), "audit keychain entry not deleted");
            }
        }
    }
}
