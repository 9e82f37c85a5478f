//! Audit cases: messages a page could send, against the app's real bridge
//! (its real channels, services and signer guest) without a window. The
//! window adapter hands the bridge exactly these inputs (the sender's window
//! label and page address, and the message text); the cases that need the
//! real webview are the page cases (`app::window_audit`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::{AppServices, build_bridge};
use crate::audit::{Area, AuditEnv, Case, Outcome, Record};
use crate::bridge::core::{Answer, Sender};
use crate::bridge::envelope::{MAX_MESSAGE_BYTES, build};
use crate::bridge::registry::Reply;
use crate::bridge::{Bridge, ErrorCode, WindowLabel};
use crate::audit::audit_keychain;
use crate::secrets::Keychain;

const APP_PAGE: &str = "tollgate://localhost/index.html";

/// Guesses in the brute-force case: far more than a page could try before
/// anyone noticed, far fewer than 2^256.
const BRUTE_FORCE_GUESSES: u32 = 2_000;

/// Security log lines the brute force may produce at most: the bridge logs
/// refusals at a bounded rate so a flood of bad secrets can't flood the log.
const MAX_SECURITY_LINES_FOR_BRUTE_FORCE: usize = 200;

/// Calls a flooding window makes in the flood case.
const FLOOD_CALLS: u32 = 300;

/// The other window's latency during a flood may be at most this many times
/// its latency before it, plus [`FLOOD_SLACK`]: each window has its own quota
/// and a refusal costs no work, so a flood must not queue anyone else.
const FLOOD_SLOWDOWN_FACTOR: u32 = 4;

/// Absolute slack on the flood bound: a shared 2-core machine's scheduling noise.
const FLOOD_SLACK: Duration = Duration::from_millis(2);

/// Page addresses that are not exactly the app origin: look-alikes,
/// another scheme, user info, a port, `data:`, `blob:`, `about:blank`,
/// nothing. The window adapter would pass any of these on if WebKit
/// reported it; the bridge must refuse every one.
pub const FOREIGN_PAGES: &[&str] = &[
    "https://evil.example/",
    "http://localhost/",
    "tollgate://localhost.evil/index.html",
    "tollgate://localhostx/",
    "tollgate://user@localhost/",
    "tollgate://localhost:1/",
    "data:text/html,<script>x</script>",
    "blob:tollgate://localhost/6f1c",
    "about:blank",
    "",
];

/// A bridge as the app builds it, with the main and about windows open,
/// over a data directory in the scratch directory and a keychain entry of
/// its own (`tollgate-audit`/<random>, deleted when the app is dropped):
/// the audit never touches the user's profiles or master key.
pub(crate) struct AuditApp {
    bridge: Bridge,
    main_secret: zeroize::Zeroizing<String>,
    about_secret: zeroize::Zeroizing<String>,
    seq: std::sync::atomic::AtomicU64,
    keychain: Arc<dyn Keychain>,
    record: Record,
    _services: Arc<AppServices>,
}

impl AuditApp {
    fn new(env: &AuditEnv, name: &str) -> Result<Self, String> {
        let data_dir = env.scratch().join(format!("bridge-{name}"));
        Self::at(env, &data_dir, audit_keychain("master-key"))
    }

    /// The app over `data_dir` and `keychain`.
    pub(crate) fn at(env: &AuditEnv, data_dir: &std::path::Path, keychain: Arc<dyn Keychain>) -> Result<Self, String> {
        std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let services = Arc::new(AppServices::with_keychain(env.engine(), data_dir, keychain.clone()).map_err(|e| e.to_string())?);
        let bridge = build_bridge(&services).map_err(|e| e.to_string())?;
        let main_secret = bridge.issue_secret(WindowLabel::Main).map_err(|e| e.to_string())?;
        let about_secret = bridge.issue_secret(WindowLabel::About).map_err(|e| e.to_string())?;
        env.plant("the main window's page secret", main_secret.as_str());
        env.plant("the about window's page secret", about_secret.as_str());
        Ok(Self { bridge, main_secret, about_secret, seq: Default::default(), keychain, record: env.record(), _services: services })
    }

    /// A JSON call from the main window: the data, or the error's code and message.
    pub(crate) fn json(&self, channel: &str, payload: &serde_json::Value) -> Result<serde_json::Value, (ErrorCode, String)> {
        match self.call(channel, &payload.to_string()).result {
            Ok(Reply::Json(v)) => Ok(v),
            Ok(Reply::Bytes(_) | Reply::Stream(_)) => Err((ErrorCode::InternalError, "bytes from a JSON channel".into())),
            Err(e) => Err((e.code, e.message)),
        }
    }


    fn next_id(&self) -> String {
        format!("audit-{}", self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    pub(crate) fn call(&self, channel: &str, payload: &str) -> Answer {
        let id = self.next_id();
        self.call_as(WindowLabel::Main, APP_PAGE, &self.main_secret, &id, channel, payload)
    }

    fn call_as(&self, window: WindowLabel, url: &str, secret: &str, id: &str, channel: &str, payload: &str) -> Answer {
        self.raw(window, url, &build(secret, id, channel, payload))
    }

    /// Every answer, data or error with its details, goes to the secrets
    /// search: it is what a page would have been told.
    fn raw(&self, window: WindowLabel, url: &str, message: &str) -> Answer {
        let answer = self.bridge.handle_message(Sender { window, page_url: url }, message).finish();
        self.record.heard(match &answer.result {
            Ok(Reply::Json(data)) => data.to_string(),
            Ok(Reply::Bytes(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            // The message path never answers with a stream (a download
            // channel called there is refused before its handler runs).
            Ok(Reply::Stream(_)) => "a stream on the message path".to_owned(),
            Err(e) => format!("{}: {} {}", e.code.as_str(), e.message, e.details.as_ref().map(|d| d.to_string()).unwrap_or_default()),
        });
        answer
    }

    /// Whether the main window's honest ping still answers.
    pub(crate) fn still_serves(&self) -> bool {
        matches!(self.call("app:ping", "{}").result, Ok(Reply::Json(_)))
    }
}

/// Runs `f` over a fresh app bridge; a bridge that can't be built fails the case.
fn with_app(env: &AuditEnv, name: &str, f: impl FnOnce(&AuditApp) -> Outcome) -> Outcome {
    match AuditApp::new(env, name) {
        Ok(app) => f(&app),
        Err(e) => Outcome::fail(format!("the app's bridge could not be built: {e}")),
    }
}

fn code_of(answer: &Answer) -> String {
    match &answer.result {
        Ok(_) => "answered".to_owned(),
        Err(e) => e.code.as_str().to_owned(),
    }
}

/// Sends every `(what, message-or-call)` and requires `expected` for each;
/// then the honest ping must still answer.
fn expect_all(app: &AuditApp, expected: ErrorCode, attempts: Vec<(String, Answer)>) -> Outcome {
    let total = attempts.len();
    let wrong: Vec<String> = attempts
        .iter()
        .filter(|(_, a)| a.code() != Some(expected))
        .map(|(what, a)| format!("{what} got {}", code_of(a)))
        .collect();
    let serves = app.still_serves();
    Outcome::check(
        wrong.is_empty() && serves,
        if wrong.is_empty() {
            format!("all {total} answered {}; the page's next call answered: {serves}", expected.as_str())
        } else {
            format!("{}; the page's next call answered: {serves}", wrong.join("; "))
        },
    )
}

/// The bridge cases, in order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "bridge/malformed-envelopes",
            Area::Bridge,
            "raw messages: empty, no header, wrong version, bad request id, bad channel name, missing payload, binary junk",
            "each is refused with its typed error (UNKNOWN_CHANNEL for the bad channel name, VALIDATION_ERROR for the rest; never a panic) and logged as a security event; the host keeps answering",
            |env| {
                with_app(env, "malformed", |app| {
                    let secret = app.main_secret.as_str();
                    use ErrorCode::{UnknownChannel, ValidationError};
                    let messages = [
                        ("empty", String::new(), ValidationError),
                        ("no header", "{}".to_owned(), ValidationError),
                        ("wrong version", format!("tg9\n{secret}\nid-1\napp:ping\n{{}}"), ValidationError),
                        ("bad request id", format!("tg1\n{secret}\nid 1\u{0}\napp:ping\n{{}}"), ValidationError),
                        ("bad channel name", format!("tg1\n{secret}\nid-2\n../app:ping\n{{}}"), UnknownChannel),
                        ("missing payload", format!("tg1\n{secret}\nid-3\napp:ping"), ValidationError),
                        ("junk", "\u{FFFD}\u{0}\u{1}tg1\n\n\n\n".repeat(50), ValidationError),
                    ];
                    let total = messages.len();
                    let logged_before = env.log().security_events_with("\"category\"");
                    let wrong: Vec<String> = messages
                        .into_iter()
                        .filter_map(|(what, message, expected)| {
                            let answer = app.raw(WindowLabel::Main, APP_PAGE, &message);
                            (answer.code() != Some(expected)).then(|| format!("{what} got {} instead of {}", code_of(&answer), expected.as_str()))
                        })
                        .collect();
                    let logged = env.log().security_events_with("\"category\"") - logged_before;
                    let serves = app.still_serves();
                    Outcome::check(
                        wrong.is_empty() && logged >= total && serves,
                        format!(
                            "{}; {logged} security events logged; the page's next call answered: {serves}",
                            if wrong.is_empty() { format!("all {total} refused with their codes (UNKNOWN_CHANNEL for the bad name, VALIDATION_ERROR for the rest)") } else { wrong.join("; ") }
                        ),
                    )
                })
            },
        ),
        Case::new(
            "bridge/oversized",
            Area::Bridge,
            "a message over the envelope cap; a payload over app:ping's cap",
            "PAYLOAD_TOO_LARGE before any parsing",
            |env| {
                with_app(env, "oversized", |app| {
                    let whole = "y".repeat(MAX_MESSAGE_BYTES + 1);
                    let payload = format!("{{\"pad\":\"{}\"}}", "x".repeat(256 * 1024));
                    expect_all(
                        app,
                        ErrorCode::PayloadTooLarge,
                        vec![
                            ("a message of MAX_MESSAGE_BYTES + 1".into(), app.raw(WindowLabel::Main, APP_PAGE, &whole)),
                            ("a 256 KiB payload".into(), app.call("app:ping", &payload)),
                        ],
                    )
                })
            },
        ),
        Case::new(
            "bridge/undeclared-channel",
            Area::Bridge,
            "calls to app:nothing, fs:read, ipc:invoke and a channel named like a declared one in other case",
            "UNKNOWN_CHANNEL and a security log event naming the channel",
            |env| {
                with_app(env, "unknown", |app| {
                    let before = env.log().security_events_with("fs:read");
                    let attempts = ["app:nothing", "fs:read", "ipc:invoke", "APP:PING"]
                        .into_iter()
                        .map(|c| (c.to_owned(), app.call(c, "{}")))
                        .collect::<Vec<_>>();
                    let outcome = expect_all(app, ErrorCode::UnknownChannel, attempts);
                    let logged = env.log().security_events_with("fs:read") > before;
                    Outcome::check(outcome.passed() && logged, format!("{}; security event logged: {logged}", outcome.happened))
                })
            },
        ),
        Case::new(
            "bridge/bad-payloads",
            Area::Bridge,
            "payloads: not JSON, an array, nesting 40 deep, 2^60, a lone surrogate, an unknown field, a wrong type",
            "VALIDATION_ERROR saying what was wrong, before the handler runs",
            |env| {
                with_app(env, "payloads", |app| {
                    let deep = format!("{{\"message\":{}1{}}}", "[".repeat(40), "]".repeat(40));
                    let payloads = [
                        ("not JSON", "{".to_owned()),
                        ("an array", "[]".to_owned()),
                        ("nesting 40 deep", deep),
                        ("2^60", r#"{"message":"a","n":1152921504606846976}"#.to_owned()),
                        ("a lone surrogate", r#"{"message":"\ud800"}"#.to_owned()),
                        ("an unknown field", r#"{"message":"a","admin":true}"#.to_owned()),
                        ("a wrong type", r#"{"message":42}"#.to_owned()),
                    ];
                    let attempts = payloads.into_iter().map(|(what, p)| (what.to_owned(), app.call("diag:emit", &p))).collect();
                    expect_all(app, ErrorCode::ValidationError, attempts)
                })
            },
        ),
        Case::new(
            "bridge/prototype-pollution",
            Area::Bridge,
            "payloads with __proto__, constructor and prototype keys, at the top and nested",
            "VALIDATION_ERROR: the keys are refused wherever they appear",
            |env| {
                with_app(env, "proto", |app| {
                    let payloads = [
                        r#"{"__proto__":{"admin":true}}"#,
                        r#"{"message":"a","constructor":{"prototype":{"admin":true}}}"#,
                        r#"{"message":"a","x":[{"prototype":1}]}"#,
                        r#"{"message":"a","x":{"\u005f_proto__":1}}"#,
                    ];
                    let attempts = payloads.iter().map(|p| ((*p).to_owned(), app.call("diag:emit", p))).collect();
                    expect_all(app, ErrorCode::ValidationError, attempts)
                })
            },
        ),
        Case::new(
            "bridge/foreign-origin",
            Area::Bridge,
            "the main window's secret from https://evil.example, localhost look-alikes, data:, blob:, about:blank",
            "IPC_FORBIDDEN for every address that is not exactly the app origin",
            |env| {
                with_app(env, "origin", |app| {
                    let attempts = FOREIGN_PAGES
                        .iter()
                        .map(|url| ((*url).to_owned(), app.call_as(WindowLabel::Main, url, &app.main_secret, &app.next_id(), "app:ping", "{}")))
                        .collect();
                    expect_all(app, ErrorCode::IpcForbidden, attempts)
                })
            },
        ),
        Case::new(
            "bridge/wrong-window",
            Area::Bridge,
            "the about window calling plugins:list and profiles:load (main-window channels)",
            "IPC_FORBIDDEN; the about window's own channel app:info still answers",
            |env| {
                with_app(env, "window", |app| {
                    let attempts = ["plugins:list", "profiles:load"]
                        .into_iter()
                        .map(|c| (c.to_owned(), app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), c, "{}")))
                        .collect();
                    let outcome = expect_all(app, ErrorCode::IpcForbidden, attempts);
                    let own = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "app:info", "{}");
                    Outcome::check(outcome.passed() && own.result.is_ok(), format!("{}; about's app:info: {}", outcome.happened, code_of(&own)))
                })
            },
        ),
        Case::new(
            "bridge/guessed-secret",
            Area::Bridge,
            "messages with no secret, 64 zeros, the real secret cut by one character, the other window's secret",
            "IPC_UNAUTHORIZED for each",
            |env| {
                with_app(env, "secret", |app| {
                    let short = &app.main_secret[..app.main_secret.len() - 1];
                    let zeros = "0".repeat(64);
                    let attempts = [("no secret", ""), ("zeros", zeros.as_str()), ("cut by one", short), ("the about window's", app.about_secret.as_str())]
                        .into_iter()
                        .map(|(what, s)| (what.to_owned(), app.call_as(WindowLabel::Main, APP_PAGE, s, &app.next_id(), "app:ping", "{}")))
                        .collect();
                    expect_all(app, ErrorCode::IpcUnauthorized, attempts)
                })
            },
        ),
        Case::new(
            "bridge/brute-forced-secret",
            Area::Bridge,
            "2000 random 256-bit guesses at the main window's secret",
            "all IPC_UNAUTHORIZED, at most 200 security log lines (the log is not flooded), the page's calls still answer",
            |env| {
                with_app(env, "brute", |app| {
                    let before = env.log().security_events_with("\"main\"");
                    let mut refused = 0;
                    for _ in 0..BRUTE_FORCE_GUESSES {
                        let mut guess = [0u8; 32];
                        if getrandom::fill(&mut guess).is_err() {
                            return Outcome::fail("no randomness for the guesses");
                        }
                        let answer = app.call_as(WindowLabel::Main, APP_PAGE, &hex::encode(guess), &app.next_id(), "app:ping", "{}");
                        if answer.code() == Some(ErrorCode::IpcUnauthorized) {
                            refused += 1;
                        }
                    }
                    let lines = env.log().security_events_with("\"main\"") - before;
                    let serves = app.still_serves();
                    Outcome::check(
                        refused == BRUTE_FORCE_GUESSES && lines <= MAX_SECURITY_LINES_FOR_BRUTE_FORCE && serves,
                        format!("{refused} of {BRUTE_FORCE_GUESSES} refused; {lines} security log lines; the page's next call answered: {serves}"),
                    )
                })
            },
        ),
        Case::new(
            "bridge/replayed-request",
            Area::Bridge,
            "the same request id sent twice to a state-changing channel (diag:emit), and to a read (app:ping)",
            "REPLAYED_REQUEST the second time on the state-changing channel; reads may repeat",
            |env| {
                with_app(env, "replay", |app| {
                    let secret = app.main_secret.as_str();
                    let first = app.call_as(WindowLabel::Main, APP_PAGE, secret, "replay-1", "diag:emit", r#"{"message":"a"}"#);
                    let again = app.call_as(WindowLabel::Main, APP_PAGE, secret, "replay-1", "diag:emit", r#"{"message":"a"}"#);
                    let read1 = app.call_as(WindowLabel::Main, APP_PAGE, secret, "replay-2", "app:ping", "{}");
                    let read2 = app.call_as(WindowLabel::Main, APP_PAGE, secret, "replay-2", "app:ping", "{}");
                    Outcome::check(
                        first.result.is_ok() && again.code() == Some(ErrorCode::ReplayedRequest) && read1.result.is_ok() && read2.result.is_ok(),
                        format!("first: {}, replay: {}, reads: {} and {}", code_of(&first), code_of(&again), code_of(&read1), code_of(&read2)),
                    )
                })
            },
        ),
        Case::new(
            "bridge/flood-while-another-window-is-measured",
            Area::Bridge,
            "300 app:info calls at once from the main window while the about window's app:info latency is measured",
            "the flood is refused with RATE_LIMITED at once; the about window's median latency stays within 4x its quiet median + 2 ms",
            |env| {
                with_app(env, "flood", |app| {
                    let about = |app: &AuditApp| {
                        let started = Instant::now();
                        let answer = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "app:info", "{}");
                        (started.elapsed(), answer.result.is_ok())
                    };
                    let quiet = median((0..9).map(|_| about(app).0).collect());
                    // The about window's quota allows a burst; spread its calls across the flood.
                    let mut loaded = Vec::new();
                    let mut about_ok = true;
                    let mut limited = 0;
                    for i in 0..FLOOD_CALLS {
                        if app.call("app:info", "{}").code() == Some(ErrorCode::RateLimited) {
                            limited += 1;
                        }
                        if i % 33 == 0 {
                            let (took, ok) = about(app);
                            loaded.push(took);
                            about_ok &= ok;
                        }
                    }
                    let loaded = median(loaded);
                    let bound = quiet * FLOOD_SLOWDOWN_FACTOR + FLOOD_SLACK;
                    Outcome::check(
                        limited >= FLOOD_CALLS / 2 && about_ok && loaded <= bound,
                        format!(
                            "{limited} of {FLOOD_CALLS} refused RATE_LIMITED; about's app:info median {:.3} ms quiet, {:.3} ms during the flood (bound {:.3} ms), all answered: {about_ok}",
                            ms(quiet),
                            ms(loaded),
                            ms(bound)
                        ),
                    )
                })
            },
        ),
        Case::new(
            "bridge/secrets-sent-in-a-payload",
            Area::Bridge,
            "a diag:emit message carrying a planted secret; crypto:encrypt with a planted HS256 key; crypto:encrypt with a broken RS256 PEM wrapped around a planted secret",
            "diag:emit and the HS256 seal answer (a sealed v1. key, not the key); the broken PEM is refused INVALID_INPUT; no answer, error message or log line carries a planted secret (every answer is searched by secrets/nothing-leaked)",
            |env| {
                with_app(env, "payload-secret", |app| {
                    let mut planted = Vec::new();
                    for what in ["a diag:emit message", "a crypto:encrypt HS256 key", "the body of a broken RS256 PEM"] {
                        let mut secret = [0u8; 24];
                        if getrandom::fill(&mut secret).is_err() {
                            return Outcome::fail("no randomness");
                        }
                        let secret = hex::encode(secret);
                        env.plant(format!("a secret inside {what}"), secret.as_str());
                        planted.push(secret);
                    }
                    let emitted = app.json("diag:emit", &serde_json::json!({ "message": planted[0] }));
                    let sealed = app.json("crypto:encrypt", &serde_json::json!({ "algorithm": "HS256", "key": planted[1] }));
                    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", planted[2]);
                    let broken = app.json("crypto:encrypt", &serde_json::json!({ "algorithm": "RS256", "key": pem }));
                    let sealed_ok = sealed.as_ref().is_ok_and(|v| v["encryptedKey"].as_str().is_some_and(|k| k.starts_with("v1.") && !k.contains(&planted[1])));
                    let broken_code = match &broken {
                        Ok(_) => "answered".to_owned(),
                        Err((code, message)) if message.contains(&planted[2]) => format!("{} quoting the key", code.as_str()),
                        Err((code, _)) => code.as_str().to_owned(),
                    };
                    let serves = app.still_serves();
                    let show = |r: &Result<serde_json::Value, (ErrorCode, String)>| match r {
                        Ok(_) => "answered".to_owned(),
                        Err((code, _)) => code.as_str().to_owned(),
                    };
                    Outcome::check(
                        emitted.is_ok() && sealed_ok && broken_code == ErrorCode::InvalidInput.as_str() && serves,
                        format!(
                            "diag:emit: {}; crypto:encrypt HS256: {} (a sealed v1. key without the key: {sealed_ok}); broken RS256 PEM: {broken_code}; the page's next call answered: {serves}",
                            show(&emitted),
                            show(&sealed)
                        ),
                    )
                })
            },
        ),
    ]
}

impl Drop for AuditApp {
    /// The master key this app's keychain entry came to hold (if any) is
    /// planted, in hex and base64, before the entry is deleted: whatever
    /// the case did, the secrets search looks for it.
    fn drop(&mut self) {
        self.record.plant_keychain_entry("an audit app's master key", &*self.keychain);
        let _ = self.keychain.delete();
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
