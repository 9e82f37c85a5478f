//! `tollgate audit`: the hostile corpus, run against this build in the real
//! runtime, as evidence a security tester can rerun.
//!
//! Each [`Case`] names a real artifact (a hostile guest component, a bridge
//! message or page script, a socket client, a token, a file), what must
//! happen to it, and runs it through the same library code the app uses.
//! The runner catches a case that panics (that is a failure, never a crash
//! of the audit), times every case, and renders one table or JSON report.
//!
//! The last case searches every log line, error message and crash output
//! the corpus produced for every secret the corpus planted
//! ([`AuditEnv::plant`]), so it runs after all the others
//! ([`secrets::scan_case`]).
//!
//! Trust: nothing here is reachable from the webview or a guest; the audit
//! is a command the machine's user runs.

use std::fmt::Write as _;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use crate::runtime::{EngineOptions, PluginEngine, PluginError};

pub mod guests;
pub mod jwt;
pub mod key_channels;
pub mod key_recovery;
pub mod bridge;
pub mod plugins;
pub mod secrets;
pub mod socket;
pub mod storage;
pub mod window;

/// Where a case crosses into the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// A guest component against the plugin runtime.
    Guest,
    /// A message a page could send, against the bridge.
    Bridge,
    /// A script in the real webview, against the window and the bridge.
    Page,
    /// A client of the worker socket, against the handshake.
    Socket,
    /// A token, against the host's verification.
    Jwt,
    /// A file or keychain fault, against the stores.
    Storage,
    /// Everything the corpus produced, searched for the secrets it planted.
    Secrets,
    /// The host process itself, over the whole run.
    Host,
}

impl Area {
    /// The area as the table and JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Bridge => "bridge",
            Self::Page => "page",
            Self::Socket => "socket",
            Self::Jwt => "jwt",
            Self::Storage => "storage",
            Self::Secrets => "secrets",
            Self::Host => "host",
        }
    }
}

/// A case's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// What must happen happened.
    Pass,
    /// Something else happened.
    Fail,
    /// The case could not run here (it says why: e.g. it needs root to
    /// mount a small disk). Not a failure, but never silent.
    Skip,
}

/// What a case observed, and whether that is what must happen.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What happened, in a sentence (error codes quoted as the host gave them).
    pub happened: String,
    /// The verdict.
    pub verdict: Verdict,
}

impl Outcome {
    /// The case got what it must.
    pub fn pass(happened: impl Into<String>) -> Self {
        Self { happened: happened.into(), verdict: Verdict::Pass }
    }

    /// The case got something else.
    pub fn fail(happened: impl Into<String>) -> Self {
        Self { happened: happened.into(), verdict: Verdict::Fail }
    }

    /// The case can't run on this machine; `why` says what it needs.
    pub fn skip(why: impl Into<String>) -> Self {
        Self { happened: why.into(), verdict: Verdict::Skip }
    }

    /// Passes when `passed` holds.
    pub fn check(passed: bool, happened: impl Into<String>) -> Self {
        Self { happened: happened.into(), verdict: if passed { Verdict::Pass } else { Verdict::Fail } }
    }

    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// Passes when `result` is a refusal with one of the `codes`; says what came instead otherwise.
    pub fn refused_with<T: std::fmt::Debug>(result: Result<T, PluginError>, codes: &[&str]) -> Self {
        match result {
            Err(e) if codes.contains(&e.code()) => Self::pass(format!("{}: {e}", e.code())),
            Err(e) => Self::fail(format!("refused with {} instead of {}: {e}", e.code(), codes.join(" or "))),
            Ok(value) => Self::fail(format!("accepted: {}", short_debug(&value))),
        }
    }
}

/// A value's Debug text, cut to a table cell's worth.
pub fn short_debug(value: &impl std::fmt::Debug) -> String {
    let text = format!("{value:?}");
    match text.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// One case of the corpus.
pub struct Case {
    /// Stable id: `<area>/<name>`, e.g. `guest/infinite-loop`.
    pub id: &'static str,
    /// Where it crosses.
    pub area: Area,
    /// The artifact it uses (a path in the source tree, or what it is).
    pub artifact: String,
    /// What must happen.
    pub must: &'static str,
    /// Runs it.
    pub run: Box<dyn FnOnce(&AuditEnv) -> Outcome>,
}

impl Case {
    /// A case from a plain function.
    pub fn new(id: &'static str, area: Area, artifact: impl Into<String>, must: &'static str, run: impl FnOnce(&AuditEnv) -> Outcome + 'static) -> Self {
        Self { id, area, artifact: artifact.into(), must, run: Box::new(run) }
    }
}

/// A case's line in the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// The case's id.
    pub id: String,
    /// Where it crosses.
    pub area: Area,
    /// The artifact it used.
    pub artifact: String,
    /// What must happen.
    pub must: String,
    /// What happened.
    pub happened: String,
    /// Pass, fail or skip.
    pub verdict: Verdict,
    /// Whether that is what must happen (the verdict is pass).
    pub passed: bool,
    /// How long the case took, in milliseconds.
    pub millis: u64,
}

/// Shared state of one audit run: the engine the cases load guests into,
/// a scratch directory, the captured log and the planted secrets.
pub struct AuditEnv {
    engine: PluginEngine,
    scratch: tempfile::TempDir,
    log: LogCapture,
    record: Record,
}

/// What the secrets search looks through, shared with what a case hands it
/// to (an app bridge records every answer it gives as it gives it).
#[derive(Clone, Default)]
pub(crate) struct Record {
    planted: Arc<Mutex<Vec<(String, String)>>>,
    said: Arc<Mutex<Vec<String>>>,
}

impl Record {
    /// See [`AuditEnv::plant`].
    pub(crate) fn plant(&self, what: impl Into<String>, secret: impl Into<String>) {
        if let Ok(mut planted) = self.planted.lock() {
            planted.push((what.into(), secret.into()));
        }
    }

    /// Plants what `keychain`'s entry holds now (a master key: raw bytes),
    /// in hex and base64, if it holds anything. Called before an audit
    /// entry is deleted, so whatever a case did with it is searched for.
    pub(crate) fn plant_keychain_entry(&self, what: &str, keychain: &dyn crate::secrets::Keychain) {
        use base64::Engine as _;
        if let Ok(Some(key)) = keychain.read() {
            self.plant(format!("{what} (hex)"), hex::encode(&*key));
            self.plant(format!("{what} (base64)"), base64::engine::general_purpose::STANDARD.encode(&*key));
        }
    }

    /// See [`AuditEnv::heard`].
    pub(crate) fn heard(&self, text: impl Into<String>) {
        if let Ok(mut said) = self.said.lock() {
            said.push(text.into());
        }
    }
}

impl AuditEnv {
    /// A fresh environment: an engine with its own code cache in the scratch directory.
    pub fn new(log: LogCapture) -> Result<Self, PluginError> {
        let scratch = tempfile::Builder::new()
            .prefix("tollgate-audit-")
            .tempdir()
            .map_err(|e| PluginError::Runtime(format!("cannot create the audit's scratch directory: {e}")))?;
        let engine = PluginEngine::new(EngineOptions { cache_dir: Some(scratch.path().join("code-cache")), ..EngineOptions::default() })?;
        Ok(Self { engine, scratch, log, record: Record::default() })
    }

    /// The engine the cases load guests into (with the app's policy and limits).
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// A scratch directory, removed when the audit ends.
    pub fn scratch(&self) -> &std::path::Path {
        self.scratch.path()
    }

    /// The log captured since the audit began (JSON lines).
    pub fn log(&self) -> &LogCapture {
        &self.log
    }

    /// Records a secret the corpus handed to the host (a key, a token), so the
    /// last case can search everything the audit produced for it. `what`
    /// names it in the report; the secret itself is never printed.
    pub fn plant(&self, what: impl Into<String>, secret: impl Into<String>) {
        self.record.plant(what, secret);
    }

    /// Records text the host said to a caller (an error message, an answer,
    /// a crashed child's output), for the secrets search.
    pub fn heard(&self, text: impl Into<String>) {
        self.record.heard(text);
    }

    /// The record [`AuditEnv::plant`] and [`AuditEnv::heard`] write to, for
    /// a case's part that outlives a borrow of the environment.
    pub(crate) fn record(&self) -> Record {
        self.record.clone()
    }

    /// The planted secrets: (what, secret).
    pub fn planted(&self) -> Vec<(String, String)> {
        self.record.planted.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Everything callers were told, as recorded by [`AuditEnv::heard`].
    pub fn said(&self) -> Vec<String> {
        self.record.said.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Runs `cases` in order, each caught: a case that panics has failed.
pub fn run_cases(env: &AuditEnv, cases: Vec<Case>, progress: &mut dyn FnMut(&CaseResult)) -> Vec<CaseResult> {
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let started = Instant::now();
        let run = case.run;
        let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| run(env))) {
            Ok(outcome) => outcome,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                Outcome::fail(format!("the case itself failed: {text}"))
            }
        };
        env.heard(outcome.happened.clone());
        let result = CaseResult {
            id: case.id.to_owned(),
            area: case.area,
            artifact: case.artifact,
            must: case.must.to_owned(),
            passed: outcome.passed(),
            verdict: outcome.verdict,
            happened: outcome.happened,
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        progress(&result);
        results.push(result);
    }
    results
}

/// Every case that runs without a window, in order: guests, bridge,
/// socket, JWT, storage. The page cases (a window) and the secrets search
/// (everything before it) are run by the caller around these.
pub fn headless_cases() -> Vec<Case> {
    let mut cases = guests::cases();
    cases.extend(bridge::cases());
    cases.extend(socket::cases());
    cases.extend(jwt::cases());
    cases.extend(storage::cases());
    cases
}

/// The cases that judge the whole run, after every other: no panic
/// anywhere in the process, then the secrets search.
pub fn closing_cases() -> Vec<Case> {
    vec![no_panic_case(), secrets::scan_case()]
}

/// Where each panic of this process happened since [`watch_panics`].
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records every panic of the process from now on, on any thread (a
/// handler thread's panic the bridge turns into `INTERNAL_ERROR`, a page
/// handler's, a case's own), for `host/no-panic`; the previous hook still
/// runs. Only where a panic happened is kept: its message could quote
/// input. Installed once by `tollgate audit`.
pub fn watch_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map_or_else(|| "an unknown place".to_owned(), |l| format!("{}:{}", l.file(), l.line()));
            if let Ok(mut panics) = PANICS.lock() {
                panics.push(at);
            }
            previous(info);
        }));
    });
}

/// No input of the corpus made the host panic: a panic caught by a guard
/// (the bridge's, a case's) is still a bug hostile input reached.
fn no_panic_case() -> Case {
    Case::new(
        "host/no-panic",
        Area::Host,
        "every panic of this process during the run (a panic hook), and the log's handler-panic lines",
        "no panic anywhere: hostile input gets typed errors, never a panic caught by a guard",
        |env| {
            let panics = PANICS.lock().map(|p| p.clone()).unwrap_or_default();
            let handler_panics = env.log().text().matches("handler panicked").count();
            Outcome::check(
                panics.is_empty() && handler_panics == 0,
                if panics.is_empty() && handler_panics == 0 {
                    format!("no panic on any thread; {} log lines, none of a handler panic", env.log().text().lines().count())
                } else {
                    format!("{} panics (at {}); {handler_panics} handler panics logged", panics.len(), panics.join(", "))
                },
            )
        },
    )
}

/// A whole run's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The build audited (`tollgate` version).
    pub version: String,
    /// Every case, in the order run.
    pub cases: Vec<CaseResult>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// How many could not run here.
    pub skipped: usize,
}

impl Report {
    /// The report over `cases`.
    pub fn new(cases: Vec<CaseResult>) -> Self {
        let count = |v: Verdict| cases.iter().filter(|c| c.verdict == v).count();
        let (passed, failed, skipped) = (count(Verdict::Pass), count(Verdict::Fail), count(Verdict::Skip));
        Self { version: env!("CARGO_PKG_VERSION").to_owned(), cases, passed, failed, skipped }
    }

    /// Whether every case passed.
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && !self.cases.is_empty()
    }

    /// The report as a table for a terminal of `width` columns.
    pub fn table(&self, width: u16) -> String {
        use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width)
            .set_header(["case", "must", "happened", "result"]);
        for case in &self.cases {
            table.add_row([
                case.id.as_str(),
                case.must.as_str(),
                case.happened.as_str(),
                match case.verdict {
                    Verdict::Pass => "pass",
                    Verdict::Fail => "FAIL",
                    Verdict::Skip => "skip",
                },
            ]);
        }
        let mut out = table.to_string();
        let _ = write!(out, "\n{} cases: {} passed, {} failed, {} skipped\n", self.cases.len(), self.passed, self.failed, self.skipped);
        out
    }
}

/// A keychain entry of the audit's own in the real OS keychain:
/// `tollgate-audit`/`<purpose>-<64 random bits>`, so the audit never reads
/// or writes the user's entries. Whoever writes to it deletes it.
pub fn audit_keychain(purpose: &str) -> Arc<dyn crate::secrets::Keychain> {
    let mut nonce = [0u8; 8];
    let _ = getrandom::fill(&mut nonce);
    Arc::new(crate::secrets::OsKeychain::with_entry("tollgate-audit", &format!("{purpose}-{}", hex::encode(nonce))))
}

/// The process's capture, which `tollgate audit`'s log writes into.
pub fn global_capture() -> &'static LogCapture {
    static CAPTURE: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
    CAPTURE.get_or_init(LogCapture::default)
}

/// Captures the log into memory as JSON lines, so the secrets case can
/// search every line the audit produced.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }

    /// A subscriber writing JSON lines at every level into this capture
    /// (for `tracing::subscriber::with_default` on one thread).
    pub fn json_subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        tracing_subscriber::fmt().json().with_max_level(tracing::Level::TRACE).with_writer(self.clone()).finish()
    }

    /// The captured lines that parse as JSON objects.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Security events (target `tollgate::security`) captured so far whose
    /// fields contain `needle`.
    pub fn security_events_with(&self, needle: &str) -> usize {
        self.lines()
            .iter()
            .filter(|l| l.get("target").and_then(|t| t.as_str()) == Some("tollgate::security"))
            .filter(|l| l.to_string().contains(needle))
            .count()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> AuditEnv {
        AuditEnv::new(LogCapture::default()).expect("audit env")
    }

    #[test]
    fn a_failing_or_panicking_case_fails_the_report_and_shows_in_the_table() {
        let env = env();
        let cases = vec![
            Case::new("guest/ok", Area::Guest, "a", "passes", |_| Outcome::pass("fine")),
            Case::new("guest/wrong", Area::Guest, "b", "must be refused", |_| Outcome::fail("accepted")),
            Case::new("guest/broken", Area::Guest, "c", "anything", |_| panic!("boom")),
            Case::new("storage/needs-root", Area::Storage, "d", "anything", |_| Outcome::skip("needs root")),
        ];
        let mut seen = 0;
        let results = run_cases(&env, cases, &mut |_| seen += 1);
        assert_eq!(seen, 4, "progress for every case");
        let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
        assert_eq!(verdicts, [Verdict::Pass, Verdict::Fail, Verdict::Fail, Verdict::Skip]);
        assert!(results[2].happened.contains("boom"), "{}", results[2].happened);
        let report = Report::new(results);
        assert!(!report.all_passed());
        assert_eq!((report.passed, report.failed, report.skipped), (1, 2, 1));
        let table = report.table(120);
        assert!(table.contains("FAIL") && table.contains("skip") && table.contains("guest/wrong"), "{table}");
        assert!(table.contains("4 cases: 1 passed, 2 failed, 1 skipped"), "{table}");
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["cases"][1]["verdict"], "fail");
    }

    #[test]
    fn a_panic_on_any_thread_fails_host_no_panic_naming_where() {
        watch_panics();
        let env = env();
        // A panic a guard catches (here another thread's, joined) is still a panic.
        let caught = std::thread::spawn(|| panic!("deliberate, for host/no-panic")).join();
        assert!(caught.is_err());
        let results = run_cases(&env, vec![no_panic_case()], &mut |_| {});
        assert_eq!(results[0].verdict, Verdict::Fail, "{}", results[0].happened);
        assert!(results[0].happened.contains("audit.rs:"), "names where: {}", results[0].happened);
        assert!(!results[0].happened.contains("deliberate"), "never the message: {}", results[0].happened);
    }

    #[test]
    fn an_empty_run_does_not_pass() {
        assert!(!Report::new(Vec::new()).all_passed(), "no evidence is not a pass");
    }

    #[test]
    fn the_secrets_search_finds_a_planted_secret_in_the_log_or_a_message() {
        let log = LogCapture::default();
        let env = AuditEnv::new(log.clone()).expect("audit env");
        env.plant("a key", "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        let clean = run_cases(&env, vec![secrets::scan_case()], &mut |_| {});
        assert_eq!(clean[0].verdict, Verdict::Pass, "{}", clean[0].happened);
        let mut writer = log.clone();
        let _ = writeln!(writer, "{{\"message\":\"key is 0f1e2d3c4b5a69788796a5b4c3d2e1f0\"}}");
        let leaked = run_cases(&env, vec![secrets::scan_case()], &mut |_| {});
        assert_eq!(leaked[0].verdict, Verdict::Fail);
        assert!(leaked[0].happened.contains("a key in the log"), "{}", leaked[0].happened);
        // Hex of the text in a message counts too.
        let env = AuditEnv::new(LogCapture::default()).expect("audit env");
        env.plant("a token", "tollgate-planted-token-123456");
        env.heard(format!("error: {}", hex::encode("tollgate-planted-token-123456")));
        let leaked = run_cases(&env, vec![secrets::scan_case()], &mut |_| {});
        assert_eq!(leaked[0].verdict, Verdict::Fail, "{}", leaked[0].happened);
    }
}
