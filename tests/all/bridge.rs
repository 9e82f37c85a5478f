//! The bridge core without a window: every check of the pipeline, with a
//! test sender standing in for the window adapter. The same `Bridge` the
//! app builds (its real channels, the real jwt-signer guest), plus a few
//! test-only channels in a registry of their own for behaviour the app's
//! channels can't show (a panicking handler, a deprecated channel).

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tollgate::app::{AppServices, build_bridge};
use tollgate::bridge::channels::{Empty, MAIN_ONLY};
use tollgate::bridge::contract::{Contract, check_versioning};
use tollgate::bridge::core::{Answer, Sender};
use tollgate::bridge::envelope::{MAX_MESSAGE_BYTES, build};
use tollgate::bridge::events::EventSink;
use tollgate::bridge::registry::{Body, Channel, ChannelSpec, Direction, Execution, Quota, Reply};
use tollgate::bridge::{Bridge, ChannelRegistry, ErrorCode, EventHub, READ_ONLY_WHILE_INSPECTED, WindowLabel};

use crate::common::{LogCapture, engine};

const APP_PAGE: &str = "tollgate://localhost/index.html";

/// A bridge as the app builds it, with the main and about windows open.
struct TestApp {
    bridge: Bridge,
    main_secret: String,
    about_secret: String,
    seq: std::sync::atomic::AtomicU64,
    _data_dir: Option<tempfile::TempDir>,
}

impl TestApp {
    fn new() -> Self {
        let data_dir = tempfile::tempdir().expect("data dir");
        let services = Arc::new(AppServices::new(engine(), data_dir.path()).expect("app services"));
        let bridge = build_bridge(&services).expect("bridge builds");
        Self { _data_dir: Some(data_dir), ..Self::over(bridge) }
    }

    fn over(bridge: Bridge) -> Self {
        let main_secret = bridge.issue_secret(WindowLabel::Main).expect("secret").to_string();
        let about_secret = bridge.issue_secret(WindowLabel::About).expect("secret").to_string();
        Self { bridge, main_secret, about_secret, seq: Default::default(), _data_dir: None }
    }

    fn next_id(&self) -> String {
        format!("t-{}", self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// A call from the main window's app page.
    fn call(&self, channel: &str, payload: &str) -> Answer {
        self.call_as(WindowLabel::Main, APP_PAGE, &self.main_secret.clone(), &self.next_id(), channel, payload)
    }

    fn call_as(&self, window: WindowLabel, url: &str, secret: &str, id: &str, channel: &str, payload: &str) -> Answer {
        let message = build(secret, id, channel, payload);
        self.bridge.handle_message(Sender { window, page_url: url }, &message).finish()
    }

    fn ok(&self, channel: &str, payload: &str) -> Value {
        match self.call(channel, payload).result {
            Ok(Reply::Json(v)) => v,
            other => panic!("{channel} {payload}: {other:?}"),
        }
    }
}

fn code(answer: &Answer) -> ErrorCode {
    answer.code().unwrap_or_else(|| panic!("expected an error, got {:?}", answer.result))
}

fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(TestApp::new)
}

/// Runs `f` with every log record captured as JSON lines (this thread).
fn logged(f: impl FnOnce()) -> String {
    let capture = LogCapture::default();
    tracing::subscriber::with_default(capture.json_subscriber(), f);
    capture.text()
}

fn security_events(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["category"] == "security")
        .collect()
}

#[test]
fn every_answer_has_the_one_shape() {
    let app = app();
    let ok = app.call("app:info", "{}").into_response();
    let v: Value = serde_json::from_str(&ok.to_json()).expect("json");
    assert_eq!(v["success"], true);
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["data"]["contractVersion"], tollgate::bridge::channels::CONTRACT_VERSION);
    assert!(v["requestId"].as_str().is_some_and(|id| id.starts_with("t-")));

    let err = app.call("app:nothing", "{}").into_response();
    let v: Value = serde_json::from_str(&err.to_json()).expect("json");
    assert_eq!(v["success"], false);
    assert_eq!(v["data"], Value::Null);
    assert_eq!(v["error"]["code"], "UNKNOWN_CHANNEL");
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(v["error"].as_object().is_some_and(|e| e.contains_key("details")));
}

#[test]
fn unknown_channel_is_refused_and_logged_as_a_security_event() {
    let app = app();
    let mut answer = None;
    let log = logged(|| answer = Some(app.call("admin:shell", "{}")));
    assert_eq!(code(&answer.expect("answered")), ErrorCode::UnknownChannel);
    let events = security_events(&log);
    let event = events.first().expect("one security event");
    assert_eq!(event["level"], "WARN");
    assert_eq!(event["fields"]["event"], "UNKNOWN_CHANNEL");
    assert_eq!(event["fields"]["channel"], "admin:shell");
    assert_eq!(event["fields"]["window"], "main");
    assert_eq!(event["fields"]["origin"], "tollgate://localhost");
    assert!(event["timestamp"].is_string());
    assert!(event["fields"]["reason"].is_string());
}

#[test]
fn bad_payloads_get_validation_errors_that_say_what_was_wrong() {
    let app = app();
    let deep = format!("{{\"token\":{}1{}}}", "[".repeat(40), "]".repeat(40));
    for (payload, says) in [
        (r#"{"token": 42}"#, "request type"),
        (r#"{"token": "a.b.c", "admin": true}"#, "unknown field"),
        (r#"{}"#, "missing field"),
        (r#"{"token": "a.b.c", "__proto__": {"admin": true}}"#, "__proto__"),
        (r#"{"token": "a.b.c", "x": {"constructor": {"prototype": {}}}}"#, "constructor"),
        (deep.as_str(), "deeper"),
        (r#"{"token": "\ud800"}"#, "not valid JSON"),
        (r#"{"token": "\udc00 and more"}"#, "surrogate"),
        (r#"{"token": "a.b.c", "n": 9007199254740993}"#, "safe integer"),
        (r#"["token"]"#, "object"),
        ("{\"token\": ", "not valid JSON"),
        (r#"{"token": "   "}"#, "empty"),
    ] {
        let answer = app.call("jwt:decode", payload);
        let Err(error) = &answer.result else { panic!("{payload} was accepted") };
        assert_eq!(error.code, ErrorCode::ValidationError, "{payload}");
        assert!(error.message.contains(says), "{payload}: {:?} does not say {says:?}", error.message);
    }
}

#[test]
fn sign_in_requests_refuse_unknown_fields_wrong_types_and_out_of_range_ids() {
    // A bridge of its own: these channels' quotas are small (2/s), and a
    // refused request spends them like any other.
    let app = TestApp::new();
    let call = |channel: &str, payload: &str| loop {
        let answer = app.call(channel, payload);
        if answer.code() != Some(ErrorCode::RateLimited) {
            return answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    // Each refused before any handler runs: no sign-in starts, no
    // installation is looked up.
    let cases: &[(&str, &str, &str)] = &[
        ("auth:github-login", r#"{"scope": "admin"}"#, "unknown field"),
        ("auth:github-login", r#"[]"#, "object"),
        ("auth:github-login", r#""go""#, "object"),
        ("auth:logout", r#"{"everywhere": true}"#, "unknown field"),
        ("auth:get-session", r#"{"token": "x"}"#, "unknown field"),
        ("auth:check-offline-status", r#"{"force": 1}"#, "unknown field"),
        ("auth:select-installation", r#"{}"#, "missing field `installationId`"),
        ("auth:select-installation", r#"{"installationId": "1"}"#, "request type"),
        ("auth:select-installation", r#"{"installationId": null}"#, "request type"),
        ("auth:select-installation", r#"{"installationId": -1}"#, "request type"),
        ("auth:select-installation", r#"{"installationId": 1.5}"#, "request type"),
        ("auth:select-installation", r#"{"installationId": 9007199254740993}"#, "safe integer"),
        ("auth:select-installation", r#"{"installationId": 1, "account": "x"}"#, "unknown field"),
        ("auth:select-installation", r#"{"installation_id": 1}"#, "unknown field"),
        ("auth:select-installation", r#"{"installationId": 1, "__proto__": {}}"#, "__proto__"),
    ];
    for (channel, payload, says) in cases {
        let answer = call(channel, payload);
        let Err(error) = &answer.result else { panic!("{channel} {payload} was accepted") };
        assert_eq!(error.code, ErrorCode::ValidationError, "{channel} {payload}: {}", error.message);
        assert!(error.message.contains(says), "{channel} {payload}: {:?} does not say {says:?}", error.message);
    }
    // The well-formed request reaches the handler: no one is signed in.
    let answer = call("auth:select-installation", r#"{"installationId": 1}"#);
    assert_eq!(code(&answer), ErrorCode::Unauthorized);
}

#[test]
fn payload_over_the_channel_cap_is_refused_before_parsing() {
    let app = app();
    // Not even JSON: the cap is checked before the payload is parsed.
    let big = "x".repeat(70 * 1024);
    let answer = app.call("jwt:decode", &big);
    let Err(error) = &answer.result else { panic!("accepted") };
    assert_eq!(error.code, ErrorCode::PayloadTooLarge);
    assert_eq!(error.details.as_ref().and_then(|d| d["size"].as_u64()), Some(70 * 1024));
    let too_big = "y".repeat(MAX_MESSAGE_BYTES + 1);
    let answer = app.bridge.handle_message(Sender { window: WindowLabel::Main, page_url: APP_PAGE }, &too_big).finish();
    assert_eq!(code(&answer), ErrorCode::PayloadTooLarge);
    assert!(answer.request_id.is_none());
}

#[test]
fn missing_wrong_or_foreign_secrets_are_unauthorized() {
    let app = app();
    let wrong = "0".repeat(64);
    let cases = [
        ("", "empty"),
        (wrong.as_str(), "zeros"),
        (&app.main_secret[..63], "short"),
        (app.about_secret.as_str(), "another window's"),
    ];
    for (secret, what) in cases {
        let answer = app.call_as(WindowLabel::Main, APP_PAGE, secret, &app.next_id(), "app:ping", "{}");
        assert_eq!(code(&answer), ErrorCode::IpcUnauthorized, "{what} secret");
    }
}

#[test]
fn brute_forcing_the_secret_fails_and_the_log_is_not_flooded() {
    let bridge = TestApp::new();
    let mut refused = 0;
    let log = logged(|| {
        for i in 0..2_000u32 {
            let guess = format!("{:064x}", u128::from(i) * 7919);
            let answer = bridge.call_as(WindowLabel::Main, APP_PAGE, &guess, &bridge.next_id(), "app:ping", "{}");
            if answer.code() == Some(ErrorCode::IpcUnauthorized) {
                refused += 1;
            }
        }
    });
    assert_eq!(refused, 2_000);
    let lines = security_events(&log).len();
    assert!((1..=200).contains(&lines), "{lines} security log lines for 2000 attempts");
    assert!(bridge.ok("app:ping", "{}").is_object(), "the page still works");
}

#[test]
fn calls_from_any_other_origin_are_forbidden() {
    let app = app();
    for url in tollgate::audit::bridge::FOREIGN_PAGES {
        let answer = app.call_as(WindowLabel::Main, url, &app.main_secret, &app.next_id(), "app:ping", "{}");
        assert_eq!(code(&answer), ErrorCode::IpcForbidden, "{url}");
    }
}

#[test]
fn a_window_calls_only_the_channels_declared_for_it() {
    let app = app();
    let answer = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "plugins:list", "{}");
    assert_eq!(code(&answer), ErrorCode::IpcForbidden);
    let answer = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "app:info", "{}");
    let Ok(Reply::Json(info)) = answer.result else { panic!("about may call app:info") };
    assert_eq!(info["window"], "about");
}

#[test]
fn while_the_web_inspector_is_open_only_the_read_only_channels_answer_that_window() {
    // A bridge of its own: the inspector flag is per bridge and window.
    let app = TestApp::new();
    for name in READ_ONLY_WHILE_INSPECTED {
        let channel = app.bridge.registry().get(name).unwrap_or_else(|| panic!("{name} is not a declared channel"));
        assert!(!channel.spec.state_changing, "{name} changes state, so it may not answer a console");
    }
    assert!(app.call("diag:emit", r#"{"message":"before"}"#).result.is_ok(), "no inspector: state-changing calls answer");

    let opened = logged(|| app.bridge.set_inspected(WindowLabel::Main, true));
    assert!(opened.contains("WEB_INSPECTOR_OPEN"), "{opened}");
    let mut refused = Vec::new();
    let log = logged(|| {
        // Every channel the main window may call, from the registry, so a
        // new channel is covered without editing this test.
        for channel in app.bridge.registry().channels().iter().filter(|c| c.spec.windows.contains(&WindowLabel::Main)) {
            let name = channel.spec.name;
            let answer = app.call(name, "{}");
            if READ_ONLY_WHILE_INSPECTED.contains(&name) {
                assert_ne!(answer.code(), Some(ErrorCode::IpcForbidden), "{name} is read-only and must still answer");
            } else {
                assert_eq!(code(&answer), ErrorCode::IpcForbidden, "{name} answered a console");
                let message = answer.result.as_ref().err().map(|e| e.message.clone()).unwrap_or_default();
                assert!(message.contains("web inspector"), "{name}: {message}");
                refused.push(name);
            }
        }
    });
    assert!(refused.len() >= 10, "only {refused:?} were refused");
    let events = security_events(&log);
    for name in &refused {
        assert!(
            events.iter().any(|e| e["fields"]["event"] == "IPC_FORBIDDEN" && e["fields"]["channel"] == *name),
            "no IPC_FORBIDDEN security event for {name}"
        );
    }
    // Another window with no inspector is not affected.
    let about = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "app:info", "{}");
    assert!(about.result.is_ok(), "{:?}", about.result);

    let closed = logged(|| app.bridge.set_inspected(WindowLabel::Main, false));
    assert!(closed.contains("WEB_INSPECTOR_CLOSED"), "{closed}");
    assert!(app.call("diag:emit", r#"{"message":"after"}"#).result.is_ok(), "the inspector closed: calls answer again");
}

#[test]
fn a_replayed_request_id_is_refused_on_state_changing_channels_only() {
    let app = app();
    let secret = app.main_secret.clone();
    let first = app.call_as(WindowLabel::Main, APP_PAGE, &secret, "replay-1", "diag:emit", r#"{"message":"a"}"#);
    assert!(first.result.is_ok(), "{:?}", first.result);
    let again = app.call_as(WindowLabel::Main, APP_PAGE, &secret, "replay-1", "diag:emit", r#"{"message":"a"}"#);
    assert_eq!(code(&again), ErrorCode::ReplayedRequest);
    for _ in 0..2 {
        let read = app.call_as(WindowLabel::Main, APP_PAGE, &secret, "replay-2", "app:ping", "{}");
        assert!(read.result.is_ok(), "reads may repeat an id");
    }
}

#[test]
fn a_flood_is_limited_at_once_and_counted_without_slowing_other_channels_or_windows() {
    let app = TestApp::new();
    let info = app.bridge.registry().get("app:info").expect("declared").index;
    let mut limited = 0;
    let started = std::time::Instant::now();
    for _ in 0..200 {
        if app.call("app:info", "{}").code() == Some(ErrorCode::RateLimited) {
            limited += 1;
        }
    }
    let flood_time = started.elapsed();
    assert!(limited >= 150, "only {limited} of 200 limited");
    assert_eq!(app.bridge.limits().refused(WindowLabel::Main, info), limited);
    // Refusals are immediate: no sleeping or queueing in the limiter.
    assert!(flood_time < std::time::Duration::from_secs(2), "{flood_time:?}");
    // Other channels and the other window are untouched.
    assert!(app.ok("app:ping", "{}").is_object());
    let about = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "app:info", "{}");
    assert!(about.result.is_ok(), "the about window has its own quota");
    assert_eq!(app.bridge.limits().refused(WindowLabel::About, info), 0);
}

#[test]
fn jwt_decode_goes_through_the_guest() {
    let app = app();
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = format!("{}.{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), b64(r#"{"sub":"ada","n":1}"#), b64("sig"));
    let decoded = app.ok("jwt:decode", &json!({ "token": format!("  {token}\n") }).to_string());
    assert_eq!(decoded["payload"]["sub"], "ada");
    assert_eq!(decoded["algorithm"], "HS256");
    assert_eq!(decoded["signature"], b64("sig"));
    let answer = app.call("jwt:decode", r#"{"token":"not-a-token"}"#);
    assert_eq!(code(&answer), ErrorCode::InvalidToken);
    // An encrypted token (JWE) is named as one, not called malformed.
    let jwe = format!("{}.a2V5.aXY.Y2lwaGVy.dGFn", b64(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#));
    let answer = app.call("jwt:decode", &json!({ "token": jwe }).to_string());
    assert_eq!(code(&answer), ErrorCode::InvalidToken);
    let message = answer.result.expect_err("a JWE is not decoded").message;
    assert!(message.contains("encrypted token (JWE") && message.contains("`A256GCM`"), "{message}");
}

#[test]
fn plugins_list_shows_the_signer_and_its_imports() {
    let list = app().ok("plugins:list", "{}");
    let signer = &list["plugins"][0];
    assert_eq!(signer["name"], "jwt-signer");
    let imports = signer["imports"].as_array().expect("imports");
    assert!(imports.iter().any(|i| i["name"].as_str().is_some_and(|n| n.starts_with("tollgate:host/clock"))));
    assert!(imports.iter().all(|i| i["decision"] != "refused"));
}

/// Collects delivered events; a window listed in `closed` is gone.
#[derive(Default)]
struct RecordingSink {
    got: Mutex<Vec<(WindowLabel, String, String)>>,
    closed: Mutex<Vec<WindowLabel>>,
}

impl EventSink for RecordingSink {
    fn deliver(&self, window: WindowLabel, event: &'static str, payload_json: &str) -> bool {
        if self.closed.lock().expect("lock").contains(&window) {
            return false;
        }
        self.got.lock().expect("lock").push((window, event.to_owned(), payload_json.to_owned()));
        true
    }
}

#[test]
fn events_go_to_subscribed_windows_only_and_unsubscribe_works() {
    let app = TestApp::new();
    let sink = Arc::new(RecordingSink::default());
    app.bridge.events().set_sink(sink.clone());
    let undeclared = app.call("events:subscribe", r#"{"event":"admin:secrets"}"#);
    assert_eq!(code(&undeclared), ErrorCode::NotFound);

    app.ok("events:subscribe", r#"{"event":"diag:echo"}"#);
    app.ok("diag:emit", r#"{"message":"hello"}"#);
    {
        let got = sink.got.lock().expect("lock");
        assert_eq!(got.len(), 1, "only main subscribed");
        assert_eq!(got[0].0, WindowLabel::Main);
        assert_eq!(got[0].1, "diag:echo");
        let payload: Value = serde_json::from_str(&got[0].2).expect("json");
        assert_eq!(payload["message"], "hello");
    }
    app.ok("events:unsubscribe", r#"{"event":"diag:echo"}"#);
    app.ok("diag:emit", r#"{"message":"again"}"#);
    assert_eq!(sink.got.lock().expect("lock").len(), 1, "no event after unsubscribe");

    // A closed window: the event is dropped without error, and forgotten.
    app.ok("events:subscribe", r#"{"event":"diag:echo"}"#);
    sink.closed.lock().expect("lock").push(WindowLabel::Main);
    app.ok("diag:emit", r#"{"message":"to a closed window"}"#);
    assert!(!app.bridge.events().is_subscribed(WindowLabel::Main, "diag:echo"));
}

#[test]
fn the_about_window_may_subscribe_to_no_event_of_the_main_window() {
    let app = TestApp::new();
    let sink = Arc::new(RecordingSink::default());
    app.bridge.events().set_sink(sink.clone());
    let declared: Vec<&str> = app.bridge.events().declared().iter().map(|e| e.name).collect();
    assert!(declared.contains(&"auth:login-success") && declared.contains(&"diag:echo"), "{declared:?}");
    for event in &declared {
        let payload = format!(r#"{{"event":"{event}"}}"#);
        let answer = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "events:subscribe", &payload);
        assert_eq!(code(&answer), ErrorCode::IpcForbidden, "{event}");
        assert!(!app.bridge.events().is_subscribed(WindowLabel::About, event));
    }
    // The main window still may, and gets what the about window does not.
    app.ok("events:subscribe", r#"{"event":"diag:echo"}"#);
    app.ok("diag:emit", r#"{"message":"main only"}"#);
    let got = sink.got.lock().expect("lock");
    assert_eq!(got.iter().map(|(w, _, _)| *w).collect::<Vec<_>>(), vec![WindowLabel::Main]);
}

#[test]
fn app_open_about_asks_the_window_adapter_and_only_from_the_main_window() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let services = Arc::new(AppServices::new(engine(), data_dir.path()).expect("app services"));
    let app = TestApp::over(build_bridge(&services).expect("bridge builds"));
    // No window adapter (no event loop): answered, nothing requested.
    assert_eq!(app.ok("app:open-about", "{}"), serde_json::json!({ "window": "about", "requested": false }));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    services.window_opener().connect(move |window| {
        seen.lock().expect("lock").push(window);
        true
    });
    assert_eq!(app.ok("app:open-about", "{}")["requested"], true);
    assert_eq!(*asked.lock().expect("lock"), vec![WindowLabel::About]);
    // The about window can't open windows, nor can a wrong payload.
    let from_about = app.call_as(WindowLabel::About, APP_PAGE, &app.about_secret, &app.next_id(), "app:open-about", "{}");
    assert_eq!(code(&from_about), ErrorCode::IpcForbidden);
    assert_eq!(code(&app.call("app:open-about", r#"{"window":"main"}"#)), ErrorCode::ValidationError);
    // Its quota: burst 3 (two spent above).
    let answers: Vec<Answer> = (0..3).map(|_| app.call("app:open-about", "{}")).collect();
    assert!(answers.iter().any(|a| a.code() == Some(ErrorCode::RateLimited)), "{answers:?}");
    assert_eq!(asked.lock().expect("lock").len(), 1 + answers.iter().filter(|a| a.result.is_ok()).count());
}

#[test]
fn a_closed_window_secret_stops_working() {
    let app = TestApp::new();
    assert!(app.ok("app:ping", "{}").is_object());
    app.bridge.window_closed(WindowLabel::Main);
    assert_eq!(code(&app.call("app:ping", "{}")), ErrorCode::IpcUnauthorized);
}

#[test]
fn megabytes_cross_the_binary_path_as_raw_bytes() {
    let app = app();
    let sender = Sender { window: WindowLabel::Main, page_url: APP_PAGE };
    let body: Vec<u8> = (0..(1u32 << 20)).map(|i| (i * 31 % 256) as u8).collect();
    let digest = hex::encode(Sha256::digest(&body));
    let answer = app.bridge.handle_binary(sender, &app.main_secret, &app.next_id(), "diag:upload", body).finish();
    let Ok(Reply::Json(receipt)) = answer.result else { panic!("{:?}", answer.result) };
    assert_eq!(receipt["bytes"], 1 << 20);
    assert_eq!(receipt["sha256"], digest);

    let request = br#"{"bytes":1048576}"#.to_vec();
    let answer = app.bridge.handle_binary(sender, &app.main_secret, &app.next_id(), "diag:download", request).finish();
    let Ok(Reply::Bytes(bytes)) = answer.result else { panic!("{:?}", answer.result) };
    assert_eq!(bytes.len(), 1 << 20);
    assert!(bytes.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));

    // Each path only for its channels; the binary path checks the secret too.
    assert_eq!(code(&app.call("diag:download", r#"{"bytes":1}"#)), ErrorCode::ValidationError);
    let wrong = app.bridge.handle_binary(sender, &"0".repeat(64), &app.next_id(), "diag:upload", vec![1]).finish();
    assert_eq!(code(&wrong), ErrorCode::IpcUnauthorized);
    let json_on_binary = app.bridge.handle_binary(sender, &app.main_secret, &app.next_id(), "app:ping", b"{}".to_vec()).finish();
    assert_eq!(code(&json_on_binary), ErrorCode::ValidationError);
    let over = app.bridge.handle_binary(sender, &app.main_secret, &app.next_id(), "diag:upload", vec![0; 9 << 20]).finish();
    assert_eq!(code(&over), ErrorCode::PayloadTooLarge);
}

// Test-only channels, in a registry of their own.

struct Panics;
impl Channel for Panics {
    type Request = Empty;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "test:panic",
        summary: "Panics.",
        direction: Direction::WebviewToHost,
        windows: MAIN_ONLY,
        max_payload_bytes: 64,
        quota: Quota { per_second: 100, burst: 100 },
        since: "1.0",
        deprecated: None,
        state_changing: false,
        execution: Execution::Inline,
        body: Body::Json,
    };
}

struct Old;
impl Channel for Old {
    type Request = Empty;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec { name: "test:old", deprecated: Some(tollgate::bridge::Deprecation { since: "1.0", use_instead: "test:new" }), ..Panics::SPEC };
}

fn test_bridge() -> TestApp {
    let mut registry = ChannelRegistry::new();
    registry.register::<Panics, _>(|_, _: Empty| -> Result<Empty, _> { panic!("handler bug") }).expect("declared");
    registry.register::<Old, _>(|_, _: Empty| Ok(Empty {})).expect("declared");
    TestApp::over(Bridge::new(registry, Arc::new(EventHub::new())))
}

#[test]
fn a_handler_panic_becomes_internal_error_and_the_bridge_keeps_serving() {
    let app = test_bridge();
    let answer = app.call("test:panic", "{}");
    let Err(error) = &answer.result else { panic!("a panic answered ok") };
    assert_eq!(error.code, ErrorCode::InternalError);
    assert!(!error.message.contains("handler bug"), "panic text stays out of the answer");
    assert!(app.ok("test:old", "{}").is_object(), "still serving");
}

#[test]
fn a_deprecated_channel_logs_a_warning_on_each_use() {
    let app = test_bridge();
    let log = logged(|| {
        app.ok("test:old", "{}");
        app.ok("test:old", "{}");
    });
    let warnings = log.lines().filter(|l| l.contains("deprecated channel called") && l.contains("test:new")).count();
    assert_eq!(warnings, 2, "{log}");
}

#[test]
fn a_channel_declared_twice_or_badly_is_refused_at_registration() {
    use tollgate::bridge::registry::RegistryError;
    macro_rules! bad_channel {
        ($ty:ident, $spec:expr) => {
            struct $ty;
            impl Channel for $ty {
                type Request = Empty;
                type Response = Empty;
                const SPEC: ChannelSpec = $spec;
            }
        };
    }
    bad_channel!(BadName, ChannelSpec { name: "Test:Upper", ..Panics::SPEC });
    bad_channel!(NoNamespace, ChannelSpec { name: "nocolon", ..Panics::SPEC });
    bad_channel!(NoWindows, ChannelSpec { name: "test:no-windows", windows: &[], ..Panics::SPEC });
    bad_channel!(ZeroRate, ChannelSpec { name: "test:zero-rate", quota: Quota { per_second: 0, burst: 5 }, ..Panics::SPEC });
    bad_channel!(ZeroBurst, ChannelSpec { name: "test:zero-burst", quota: Quota { per_second: 5, burst: 0 }, ..Panics::SPEC });
    bad_channel!(ZeroCap, ChannelSpec { name: "test:zero-cap", max_payload_bytes: 0, ..Panics::SPEC });
    fn ok(_: &tollgate::bridge::HandlerContext, _: Empty) -> Result<Empty, tollgate::bridge::BridgeError> {
        Ok(Empty {})
    }
    let mut registry = ChannelRegistry::new();
    registry.register::<Old, _>(ok).expect("first");
    assert_eq!(registry.register::<Old, _>(ok), Err(RegistryError::Duplicate("test:old")));
    assert_eq!(registry.register::<BadName, _>(ok), Err(RegistryError::BadName("Test:Upper")));
    assert_eq!(registry.register::<NoNamespace, _>(ok), Err(RegistryError::BadName("nocolon")));
    assert_eq!(registry.register::<NoWindows, _>(ok), Err(RegistryError::NoWindows("test:no-windows")));
    assert_eq!(registry.register::<ZeroRate, _>(ok), Err(RegistryError::ZeroLimit("test:zero-rate")));
    assert_eq!(registry.register::<ZeroBurst, _>(ok), Err(RegistryError::ZeroLimit("test:zero-burst")));
    assert_eq!(registry.register::<ZeroCap, _>(ok), Err(RegistryError::ZeroLimit("test:zero-cap")));
    assert_eq!(registry.len(), 1, "nothing refused was registered");
}

#[test]
fn every_crossing_is_logged_at_debug_with_its_outcome() {
    let app = app();
    let log = logged(|| {
        app.ok("app:ping", "{}");
    });
    let line = log.lines().find(|l| l.contains("\"crossing\"")).expect("a crossing line");
    let v: Value = serde_json::from_str(line).expect("json");
    assert_eq!(v["level"], "DEBUG");
    assert_eq!(v["fields"]["channel"], "app:ping");
    assert_eq!(v["fields"]["window"], "main");
    assert_eq!(v["fields"]["outcome"], "ok");
    assert!(v["fields"]["request_id"].is_string());
    assert!(v["fields"]["duration_us"].is_u64());
}

#[test]
fn secrets_sent_through_a_channel_never_reach_the_log() {
    let app = TestApp::new();
    let marker = "hunter2-MARKER-do-not-log";
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = format!("{}.{}.{}", b64(r#"{"alg":"HS256"}"#), b64(&format!(r#"{{"password":"{marker}"}}"#)), b64("s"));
    let log = logged(|| {
        app.ok("jwt:decode", &json!({ "token": token }).to_string());
        let _ = app.call("jwt:decode", &json!({ "token": format!("{marker}.x") }).to_string());
        let _ = app.call("jwt:decode", &json!({ "token": 1, "note": marker }).to_string());
        let _ = app.call_as(WindowLabel::Main, APP_PAGE, marker, &app.next_id(), "app:ping", "{}");
        app.ok("diag:emit", &json!({ "message": marker }).to_string());
        let _ = app.call(&format!("x:{}", marker.to_lowercase()), "{}");
    });
    assert!(log.contains("crossing"), "the log was captured");
    assert!(!log.contains(marker), "marker leaked:\n{log}");
    assert!(!log.contains(&app.main_secret), "the bridge secret leaked");
    assert!(!log.contains(&token[token.len() - 10..]), "a token leaked");
}

#[test]
fn the_generated_typescript_and_the_contract_snapshot_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let contract = Contract::of(&app().bridge);
    let on_disk = std::fs::read_to_string(root.join("webview-assets/bridge.d.ts")).expect("bridge.d.ts");
    assert!(on_disk == contract.to_typescript(), "webview-assets/bridge.d.ts is stale: run `just contract`");
    let snapshot: Contract =
        serde_json::from_str(&std::fs::read_to_string(root.join("contract/bridge.json")).expect("snapshot")).expect("snapshot parses");
    if let Err(why) = check_versioning(&snapshot, &contract) {
        panic!("contract/bridge.json: {why}");
    }
    assert!(snapshot == contract, "contract/bridge.json is stale: run `just contract`");
}

#[test]
fn every_error_code_and_channel_is_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/ipc-contract.md")).expect("docs/ipc-contract.md");
    let contract = Contract::of(&app().bridge);
    for code in &contract.error_codes {
        assert!(doc.contains(&format!("`{code}`")), "docs/ipc-contract.md does not document {code}");
    }
    for channel in &contract.channels {
        assert!(doc.contains(&format!("`{}`", channel.name)), "docs/ipc-contract.md does not document {}", channel.name);
    }
    for event in &contract.events {
        assert!(doc.contains(&format!("`{}`", event.name)), "docs/ipc-contract.md does not document {}", event.name);
    }
    if let Err(why) = tollgate::bridge::contract::deprecations_marked_in_docs(&contract, &doc) {
        panic!("{why}");
    }
}
