//! GitHub sign-in: the host's auth service against a scripted fake
//! backend (failure cases: refused connections, timeouts, 403, 429,
//! refresh refusal, offline) and against the reference backend in front of
//! a fake GitHub (the device flow as it really runs), all over loopback
//! HTTP, with a manual clock so no test waits out an interval. The session
//! lives in the real Secret Service.

mod scripted;

use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;
use tollgate::auth::{
    AuthConfig, AuthError, AuthEvent, AuthEvents, AuthService, BrowserOpener, LoginErrorCode, ManualClock, SESSION_ACCOUNT,
};
use tollgate::secrets::{Keychain, OsKeychain};
use tollgate::store::timestamp;
use url::Url;

use crate::harness::{TEST_SERVICE, ensure_secret_service};
use scripted::{Call, Reply, Scripted};

/// Events as the service emitted them.
#[derive(Default)]
pub struct EventLog {
    events: Mutex<Vec<AuthEvent>>,
    arrived: Condvar,
}

impl AuthEvents for EventLog {
    fn emit(&self, event: AuthEvent) {
        self.events.lock().expect("events").push(event);
        self.arrived.notify_all();
    }
}

impl EventLog {
    pub fn names(&self) -> Vec<&'static str> {
        self.events.lock().expect("events").iter().map(AuthEvent::name).collect()
    }

    pub fn all(&self) -> Vec<AuthEvent> {
        self.events.lock().expect("events").clone()
    }

    /// The last event named `name`, waiting up to 10 s for it.
    pub fn wait_for(&self, name: &str) -> AuthEvent {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut events = self.events.lock().expect("events");
        loop {
            if let Some(e) = events.iter().rev().find(|e| e.name() == name) {
                return e.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {name} event; got {:?}", events.iter().map(AuthEvent::name).collect::<Vec<_>>());
            events = self.arrived.wait_timeout(events, left).expect("events").0;
        }
    }

    pub fn count(&self, name: &str) -> usize {
        self.names().iter().filter(|n| **n == name).count()
    }
}

/// A browser that records what it was asked to open.
#[derive(Default)]
pub struct RecordingBrowser {
    pub opened: Mutex<Vec<String>>,
}

impl BrowserOpener for RecordingBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        self.opened.lock().expect("opened").push(url.to_string());
        Ok(())
    }
}

/// The service under test and what it is wired to.
pub struct Rig {
    pub auth: AuthService,
    pub clock: Arc<ManualClock>,
    pub events: Arc<EventLog>,
    pub browser: Arc<RecordingBrowser>,
    pub keychain: Arc<OsKeychain>,
}

impl Rig {
    /// A service for the backend at `url`, with this test's own keychain entry.
    pub fn new(name: &str, url: &str, timeout: Duration) -> Self {
        ensure_secret_service();
        let mut config = AuthConfig::new(url).expect("backend url");
        config.request_timeout = timeout;
        let keychain = Arc::new(OsKeychain::with_entry(TEST_SERVICE, &format!("{SESSION_ACCOUNT}-{name}-{}", std::process::id())));
        keychain.delete().expect("fresh keychain entry");
        let clock = Arc::new(ManualClock::starting_now());
        let events = Arc::new(EventLog::default());
        let browser = Arc::new(RecordingBrowser::default());
        let auth = AuthService::with_parts(config, keychain.clone(), clock.clone(), browser.clone());
        auth.set_events(events.clone());
        Self { auth, clock, events, browser, keychain }
    }

    /// Runs one sign-in attempt to its end.
    pub fn login(&self) {
        let (_, handle) = self.auth.start_login().expect("attempt starts");
        handle.join().expect("login thread");
    }

    /// The keychain entry, parsed.
    pub fn stored(&self) -> Option<Value> {
        self.keychain.read().expect("keychain").map(|b| serde_json::from_slice(&b).expect("stored session is JSON"))
    }

    /// Every event, as the page would get it (JSON).
    /// Every event as the page receives it: name and JSON payload.
    pub fn events_json(&self) -> String {
        let events: Vec<Value> = self
            .events
            .all()
            .iter()
            .map(|e| json!({ "event": e.name(), "payload": e.payload_json().expect("an event serializes") }))
            .collect();
        serde_json::to_string(&events).expect("json")
    }
}

fn in_an_hour() -> String {
    timestamp::format(OffsetDateTime::now_utc() + Duration::from_secs(3600))
}

fn device_code() -> Value {
    json!({ "deviceCode": "dc-SECRET-device-code", "userCode": "WDJB-MJHT", "verificationUri": "https://github.com/login/device", "expiresIn": 900, "interval": 5 })
}

fn signed_in() -> Value {
    json!({
        "status": "complete",
        "session": { "token": "sess-SECRET-session-token", "expiresAt": timestamp::format(OffsetDateTime::now_utc() + Duration::from_secs(8 * 3600)) },
        "user": { "id": 1, "login": "octocat", "name": "The Octocat", "avatarUrl": null },
        "installations": [
            { "id": 11, "accountLogin": "octo-org", "accountType": "Organization" },
            { "id": 22, "accountLogin": "octocat", "accountType": "User" }
        ]
    })
}

fn installation_token(id: u64, token: &str) -> Value {
    json!({ "installationId": id, "accountLogin": if id == 11 { "octo-org" } else { "octocat" }, "token": token, "expiresAt": in_an_hour() })
}

/// A backend that signs in at once and mints tokens; refreshes answer
/// `refresh` (default: a fresh token after `refresh_delay`).
fn happy_backend(refresh_delay: Duration) -> Scripted {
    let minted = Arc::new(std::sync::atomic::AtomicU32::new(0));
    Scripted::start(move |call: &Call| match call.path.as_str() {
        "/v1/health" => Reply::json(200, json!({ "status": "ok" })),
        "/v1/device/code" => Reply::json(200, device_code()),
        "/v1/device/poll" => Reply::json(200, signed_in()),
        "/v1/installations/11/token" => Reply::json(200, installation_token(11, "ghs_SECRET_first")),
        "/v1/installations/22/token" => Reply::json(200, installation_token(22, "ghs_SECRET_second")),
        "/v1/session/refresh" => {
            let n = minted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let id = call.body["installationId"].as_u64().unwrap_or(0);
            Reply::json(
                200,
                json!({
                    "sessionExpiresAt": timestamp::format(OffsetDateTime::now_utc() + Duration::from_secs(9 * 3600)),
                    "installationToken": installation_token(id, &format!("ghs_SECRET_refreshed_{n}")),
                }),
            )
            .after(refresh_delay)
        }
        "/v1/session/logout" => Reply::json(200, json!({})),
        _ => Reply::error(404, "not_found"),
    })
}

fn signed_in_rig(name: &str, backend: &Scripted) -> Rig {
    let rig = Rig::new(name, &backend.url(), Duration::from_secs(5));
    rig.login();
    rig.events.wait_for("auth:login-success");
    rig.auth.select_installation(11).expect("select installation");
    rig
}

fn login_error(rig: &Rig) -> tollgate::auth::LoginError {
    match rig.events.wait_for("auth:login-error") {
        AuthEvent::LoginError(e) => e,
        other => panic!("{other:?}"),
    }
}

#[test]
fn unreachable_backend_is_retried_after_1_2_and_4_seconds_then_network_error() {
    let mut backend = happy_backend(Duration::ZERO);
    backend.stop();
    let rig = Rig::new("refused", &backend.url(), Duration::from_secs(5));
    rig.login();
    let e = login_error(&rig);
    assert_eq!(e.code, LoginErrorCode::NetworkError);
    assert!(e.retryable);
    assert_eq!(rig.clock.sleeps(), [1, 2, 4].map(Duration::from_secs).to_vec(), "the retry schedule");
    assert_eq!(rig.events.count("auth:offline-mode-enabled"), 1, "{:?}", rig.events.names());
    assert_eq!(rig.events.count("auth:user-code"), 0);
}

#[test]
fn a_backend_that_does_not_answer_in_time_is_a_timeout_without_retries() {
    let backend = Scripted::start(|_| Reply::json(200, device_code()).after(Duration::from_secs(3)));
    let rig = Rig::new("timeout", &backend.url(), Duration::from_millis(300));
    let started = Instant::now();
    rig.login();
    let e = login_error(&rig);
    assert_eq!(e.code, LoginErrorCode::Timeout, "{}", e.message);
    assert!(e.retryable);
    assert!(rig.clock.sleeps().is_empty(), "a timeout is not retried: {:?}", rig.clock.sleeps());
    assert!(started.elapsed() < Duration::from_secs(3), "gave up at the timeout, not at the answer");
    assert_eq!(backend.count("/v1/device/code"), 1);
}

#[test]
fn forbidden_is_access_denied_and_too_many_requests_is_rate_limit() {
    let backend = Scripted::start(|_| Reply::error(403, "forbidden"));
    let rig = Rig::new("forbidden", &backend.url(), Duration::from_secs(5));
    rig.login();
    let e = login_error(&rig);
    assert_eq!((e.code, e.retryable), (LoginErrorCode::AccessDenied, false), "{}", e.message);

    backend.set_script(|_| Reply { retry_after: Some(30), ..Reply::error(429, "rate_limited") });
    rig.clock.advance(Duration::from_secs(10));
    rig.login();
    let e = login_error(&rig);
    assert_eq!((e.code, e.retryable), (LoginErrorCode::RateLimit, true), "{}", e.message);
    assert!(rig.clock.sleeps().is_empty(), "neither is retried");
    assert_eq!(backend.count("/v1/device/code"), 2);
}

#[test]
fn a_second_attempt_within_ten_seconds_is_refused_at_once() {
    let backend = happy_backend(Duration::ZERO);
    let rig = Rig::new("cooldown", &backend.url(), Duration::from_secs(5));
    rig.login();
    rig.clock.advance(Duration::from_secs(4));
    match rig.auth.start_login() {
        Err(AuthError::LoginRateLimited { retry_after, .. }) => assert!(retry_after <= Duration::from_secs(10)),
        other => panic!("{:?}", other.map(|(s, _)| s)),
    }
    let e = login_error(&rig);
    assert_eq!(e.code, LoginErrorCode::RateLimit);
    assert_eq!(backend.count("/v1/device/code"), 1, "the refused attempt never reached the backend");
    rig.clock.advance(Duration::from_secs(10));
    rig.login();
    assert_eq!(backend.count("/v1/device/code"), 2);
}

#[test]
fn a_verification_address_off_the_allowlist_is_not_opened_or_shown() {
    let backend = Scripted::start(|call: &Call| match call.path.as_str() {
        "/v1/device/code" => {
            let mut code = device_code();
            code["verificationUri"] = json!("https://github.com.evil.example/login/device");
            Reply::json(200, code)
        }
        _ => Reply::json(200, signed_in()),
    });
    let rig = Rig::new("phish", &backend.url(), Duration::from_secs(5));
    rig.login();
    let e = login_error(&rig);
    assert_eq!(e.code, LoginErrorCode::Unknown);
    assert!(e.message.contains("allowlist"), "{}", e.message);
    assert!(rig.browser.opened.lock().expect("opened").is_empty());
    assert_eq!(rig.events.count("auth:user-code"), 0);
    assert_eq!(backend.count("/v1/device/poll"), 0);
}

#[test]
fn twenty_concurrent_callers_share_one_refresh() {
    let backend = happy_backend(Duration::from_millis(400));
    let rig = signed_in_rig("dedupe", &backend);
    let first = rig.auth.installation_token().expect("token");
    assert_eq!(first.token.expose(), "ghs_SECRET_first");
    // 56 minutes on: within 5 minutes of the hour's expiry.
    rig.clock.advance(Duration::from_secs(56 * 60));
    let barrier = Arc::new(Barrier::new(20));
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let auth = rig.auth.clone();
                s.spawn(move || {
                    barrier.wait();
                    auth.installation_token().expect("refreshed token").token.expose().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("caller")).collect()
    });
    assert_eq!(backend.count("/v1/session/refresh"), 1, "one backend call for twenty callers");
    assert!(tokens.iter().all(|t| t == "ghs_SECRET_refreshed_0"), "{tokens:?}");
    assert_eq!(rig.events.count("auth:token-refreshed"), 1);
    let AuthEvent::TokenRefreshed(e) = rig.events.wait_for("auth:token-refreshed") else { unreachable!() };
    assert!(e.deduplicated && e.callers > 1, "{e:?}");
    // The refreshed token is what the keychain holds now.
    let stored = rig.stored().expect("stored");
    assert_eq!(stored["tokens"][0]["token"], "ghs_SECRET_refreshed_0");
}

#[test]
fn a_refused_refresh_signs_the_user_out() {
    let backend = happy_backend(Duration::ZERO);
    let rig = signed_in_rig("refused-refresh", &backend);
    backend.set_script(|_| Reply::error(401, "unauthorized"));
    rig.clock.advance(Duration::from_secs(58 * 60));
    assert!(matches!(rig.auth.installation_token(), Err(AuthError::SessionExpired)));
    rig.events.wait_for("auth:session-expired");
    assert!(rig.auth.session().expect("session").is_none());
    assert!(rig.stored().is_none(), "the keychain entry is gone");
}

#[test]
fn background_check_refreshes_only_when_due() {
    let backend = happy_backend(Duration::ZERO);
    let rig = signed_in_rig("due", &backend);
    assert!(rig.auth.refresh_if_due().expect("check").is_none());
    rig.clock.advance(Duration::from_secs(50 * 60));
    assert!(rig.auth.refresh_if_due().expect("check").is_none(), "ten minutes left: not yet");
    rig.clock.advance(Duration::from_secs(6 * 60));
    let outcome = rig.auth.refresh_if_due().expect("check").expect("refreshed");
    assert!(!outcome.joined);
    assert_eq!(backend.count("/v1/session/refresh"), 1);
    let AuthEvent::TokenRefreshed(e) = rig.events.wait_for("auth:token-refreshed") else { unreachable!() };
    assert!(!e.deduplicated);
}

#[test]
fn logout_with_the_backend_down_still_signs_out() {
    let mut backend = happy_backend(Duration::ZERO);
    let rig = signed_in_rig("logout-down", &backend);
    assert!(rig.stored().is_some());
    backend.stop();
    let out = rig.auth.logout();
    assert!(out.was_signed_in && out.keychain_cleared, "{out:?}");
    rig.events.wait_for("auth:logout-success");
    assert!(rig.stored().is_none(), "session and cached tokens deleted");
    assert!(rig.auth.session().expect("session").is_none());
    assert!(matches!(rig.auth.installation_token(), Err(AuthError::NotSignedIn)));
}

#[test]
fn logout_does_not_wait_for_a_slow_backend() {
    let backend = happy_backend(Duration::ZERO);
    let rig = signed_in_rig("logout-slow", &backend);
    backend.set_script(|_| Reply::json(200, json!({})).after(Duration::from_secs(4)));
    let started = Instant::now();
    rig.auth.logout();
    assert!(started.elapsed() < Duration::from_secs(2), "logout waited {:?} for the backend", started.elapsed());
    rig.events.wait_for("auth:logout-success");
    // The backend is told, on the side, with the session's token.
    let deadline = Instant::now() + Duration::from_secs(5);
    while backend.count("/v1/session/logout") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let call = backend.calls().into_iter().find(|c| c.path == "/v1/session/logout").expect("backend told");
    assert_eq!((call.method.as_str(), call.bearer.as_deref()), ("POST", Some("sess-SECRET-session-token")));
}

#[test]
fn offline_keeps_the_cached_token_and_back_online_is_noticed() {
    let mut backend = happy_backend(Duration::ZERO);
    let rig = signed_in_rig("offline", &backend);
    let online = rig.auth.check_offline_status();
    assert!(!online.is_offline && online.last_successful_connection.is_some(), "{online:?}");

    backend.stop();
    let offline = rig.auth.check_offline_status();
    assert!(offline.is_offline, "{offline:?}");
    assert!(offline.reason.as_deref().is_some_and(|r| r.contains("could not be reached")), "{offline:?}");
    assert!(offline.cached_token_expires_at.is_some());
    let AuthEvent::OfflineModeEnabled(e) = rig.events.wait_for("auth:offline-mode-enabled") else { unreachable!() };
    assert_eq!(e.cached_token_expires_at, offline.cached_token_expires_at);
    // Offline, the session and its cached token still serve...
    assert!(rig.auth.session().expect("session").expect("signed in").offline);
    assert_eq!(rig.auth.installation_token().expect("cached token").token.expose(), "ghs_SECRET_first");
    // ...even when due for a refresh, while the token has not expired.
    rig.clock.advance(Duration::from_secs(57 * 60));
    assert_eq!(rig.auth.installation_token().expect("cached token").token.expose(), "ghs_SECRET_first");
    assert!(rig.auth.session().expect("session").is_some(), "an unreachable backend does not sign anyone out");
    assert_eq!(rig.events.count("auth:offline-mode-enabled"), 1, "one event per change");

    backend.restart();
    let back = rig.auth.check_offline_status();
    assert!(!back.is_offline, "{back:?}");
    rig.events.wait_for("auth:offline-mode-disabled");
    assert_eq!(rig.events.count("auth:offline-mode-disabled"), 1);
}

#[test]
fn a_session_past_its_end_is_gone() {
    let backend = happy_backend(Duration::ZERO);
    let rig = signed_in_rig("ended", &backend);
    rig.clock.advance(Duration::from_secs(8 * 3600 + 1));
    assert!(rig.auth.session().expect("session").is_none());
    rig.events.wait_for("auth:session-expired");
    assert!(rig.stored().is_none());
}

#[test]
fn installations_must_be_the_users_and_someone_must_be_signed_in() {
    let backend = happy_backend(Duration::ZERO);
    let rig = Rig::new("select", &backend.url(), Duration::from_secs(5));
    assert!(matches!(rig.auth.select_installation(11), Err(AuthError::NotSignedIn)));
    rig.login();
    rig.events.wait_for("auth:login-success");
    assert!(matches!(rig.auth.select_installation(99), Err(AuthError::InvalidInstallation(99))));
    assert_eq!(backend.count("/v1/installations/99/token"), 0, "refused before the backend");
    let picked = rig.auth.select_installation(22).expect("own installation");
    assert_eq!(picked.account_login, "octocat");
    let AuthEvent::InstallationTokenCached(e) = rig.events.wait_for("auth:installation-token-cached") else { unreachable!() };
    assert_eq!(e.installation_id, 22);
    let view = rig.auth.session().expect("session").expect("signed in");
    assert_eq!(view.current_installation.map(|i| i.id), Some(22));
    assert!(view.installation_token_expires_at.is_some());
}

#[test]
fn tokens_and_device_codes_stay_out_of_events_and_views() {
    let backend = happy_backend(Duration::ZERO);
    let rig = signed_in_rig("hygiene", &backend);
    rig.clock.advance(Duration::from_secs(56 * 60));
    rig.auth.installation_token().expect("refresh");
    let view = serde_json::to_string(&rig.auth.session().expect("session")).expect("json");
    let events = rig.events_json();
    assert!(events.contains("auth:user-code") && events.contains("auth:token-refreshed"), "the events were captured: {events}");
    for text in [&view, &events] {
        assert!(!text.contains("SECRET"), "a secret leaked: {text}");
    }
    // ...and they are in the keychain, where they belong.
    let stored = rig.stored().expect("stored").to_string();
    assert!(stored.contains("sess-SECRET-session-token") && stored.contains("ghs_SECRET_refreshed_0"));
}

/// The reference backend in front of a fake GitHub, both on loopback.
mod through_the_reference_backend {
    use super::*;
    use tollgate_auth_backend::fake_github::{FakeGithub, PollStep};
    use tollgate_auth_backend::testing::{RunningBackend, spawn_backend_blocking};

    struct Stack {
        github: FakeGithub,
        _backend: RunningBackend,
        rig: Rig,
    }

    fn stack(name: &str, script: Vec<PollStep>) -> Stack {
        let github = FakeGithub::start_blocking();
        github.set_verification_uri("https://github.com/login/device");
        github.set_interval(5);
        github.set_device_script(script);
        let backend = spawn_backend_blocking(github.backend_config()).expect("backend starts");
        let rig = Rig::new(name, backend.url(), Duration::from_secs(10));
        Stack { github, _backend: backend, rig }
    }

    #[test]
    fn happy_path_signs_in_picks_an_installation_and_uses_its_token() {
        let s = stack("stack-happy", vec![PollStep::Approve]);
        s.rig.login();
        let AuthEvent::UserCode(code) = s.rig.events.wait_for("auth:user-code") else { unreachable!() };
        assert_eq!(code.verification_uri, "https://github.com/login/device");
        assert!(code.browser_opened);
        assert_eq!(*s.rig.browser.opened.lock().expect("opened"), vec!["https://github.com/login/device".to_owned()]);
        let AuthEvent::LoginSuccess(done) = s.rig.events.wait_for("auth:login-success") else { unreachable!() };
        assert_eq!(done.user.login, "octocat");
        assert_eq!(done.installations.iter().map(|i| i.id).collect::<Vec<_>>(), vec![11, 22]);
        assert_eq!(s.rig.events.names(), vec!["auth:user-code", "auth:login-success"]);

        let picked = s.rig.auth.select_installation(11).expect("select");
        assert_eq!(picked.account_login, "octo-org");
        assert_eq!(s.github.installation_token_mints(), 1);
        let claims = s.github.last_app_jwt_claims().expect("the backend signed an App JWT");
        assert_eq!(claims.iss, s.github.app_id());
        let token = s.rig.auth.installation_token().expect("token");
        assert!(token.token.expose().starts_with("ghs_"));
        let view = s.rig.auth.session().expect("session").expect("signed in");
        assert_eq!(view.current_installation.as_ref().map(|i| i.account_login.as_str()), Some("octo-org"));
        assert!(!format!("{view:?}").contains(token.token.expose()));
    }

    #[test]
    fn authorization_pending_is_polled_at_the_interval_until_approved() {
        let s = stack("stack-pending", vec![PollStep::Pending, PollStep::Pending, PollStep::Pending, PollStep::Approve]);
        s.rig.login();
        s.rig.events.wait_for("auth:login-success");
        assert_eq!(s.github.polls(), 4);
        assert_eq!(s.rig.clock.sleeps(), vec![Duration::from_secs(5); 4]);
    }

    #[test]
    fn slow_down_makes_every_later_poll_slower() {
        let s = stack("stack-slow", vec![PollStep::SlowDown(Some(12)), PollStep::SlowDown(None), PollStep::Pending, PollStep::Approve]);
        s.rig.login();
        s.rig.events.wait_for("auth:login-success");
        // 5 s, then GitHub's 12, then at least 5 s more (17), and it stays.
        assert_eq!(s.rig.clock.sleeps(), [5, 12, 17, 17].map(Duration::from_secs).to_vec());
    }

    #[test]
    fn access_denied_ends_the_attempt() {
        let s = stack("stack-denied", vec![PollStep::Pending, PollStep::Deny]);
        s.rig.login();
        let e = login_error(&s.rig);
        assert_eq!((e.code, e.retryable), (LoginErrorCode::AccessDenied, false), "{}", e.message);
        assert_eq!(s.rig.events.count("auth:login-success"), 0);
        assert!(s.rig.stored().is_none());
    }

    #[test]
    fn a_code_nobody_approves_expires_after_its_lifetime() {
        let s = stack("stack-expired", vec![PollStep::Pending]);
        s.github.set_expires_in(30);
        s.rig.login();
        let AuthEvent::DeviceCodeExpired(e) = s.rig.events.wait_for("auth:device-code-expired") else { unreachable!() };
        let AuthEvent::UserCode(code) = s.rig.events.wait_for("auth:user-code") else { unreachable!() };
        assert_eq!(e.user_code, code.user_code);
        assert_eq!(s.rig.clock.sleeps().iter().sum::<Duration>(), Duration::from_secs(30), "{:?}", s.rig.clock.sleeps());
        assert_eq!(s.github.polls(), 5, "polls at 5, 10, ..., 25 s; at 30 s the code is over");

        // GitHub saying so ends it too.
        let s = stack("stack-expired-410", vec![PollStep::Expired]);
        s.rig.login();
        s.rig.events.wait_for("auth:device-code-expired");
        assert_eq!(s.rig.events.count("auth:login-error"), 0);
    }

    #[test]
    fn twenty_callers_due_for_a_refresh_mint_one_token() {
        let s = stack("stack-dedupe", vec![PollStep::Approve]);
        s.rig.login();
        s.rig.events.wait_for("auth:login-success");
        s.rig.auth.select_installation(22).expect("select");
        // The refreshed token must not be due itself: the fake GitHub dates
        // it from the real clock while this one moved 57 minutes on, so a
        // one-hour token would look 3 minutes from expiry and a caller
        // arriving after the one refresh finished would start another.
        s.github.set_token_ttl(2 * 3600);
        s.rig.clock.advance(Duration::from_secs(57 * 60));
        let barrier = Arc::new(Barrier::new(20));
        let tokens: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..20)
                .map(|_| {
                    let barrier = Arc::clone(&barrier);
                    let auth = s.rig.auth.clone();
                    scope.spawn(move || {
                        barrier.wait();
                        auth.installation_token().expect("token").token.expose().to_owned()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("caller")).collect()
        });
        assert_eq!(s.github.installation_token_mints(), 2, "one at selection, one refresh for twenty callers");
        assert!(tokens.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(s.rig.events.count("auth:token-refreshed"), 1);
    }

    #[test]
    fn logout_reaches_the_backend_which_revokes_the_tokens() {
        let s = stack("stack-logout", vec![PollStep::Approve]);
        s.rig.login();
        s.rig.events.wait_for("auth:login-success");
        s.rig.auth.select_installation(11).expect("select");
        assert!(s.rig.auth.logout().was_signed_in);
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.github.revocations() == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(s.github.revocations(), 1, "the installation token was revoked at GitHub");
        assert!(s.rig.stored().is_none());
    }
}


/// The page's side of the bridge in a test: every event delivered, as
/// (window, name, JSON payload).
#[derive(Default)]
struct RecordingSink(std::sync::Mutex<Vec<(tollgate::bridge::WindowLabel, &'static str, String)>>);

impl tollgate::bridge::events::EventSink for RecordingSink {
    fn deliver(&self, window: tollgate::bridge::WindowLabel, event: &'static str, payload_json: &str) -> bool {
        self.0.lock().expect("sink").push((window, event, payload_json.to_owned()));
        true
    }
}

impl RecordingSink {
    fn names(&self) -> Vec<&'static str> {
        self.0.lock().expect("sink").iter().map(|(_, n, _)| *n).collect()
    }

    fn wait_for(&self, name: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while !self.names().contains(&name) {
            assert!(std::time::Instant::now() < deadline, "no {name} reached the page: {:?}", self.names());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Every `auth:*` channel as the page calls it, through the bridge, against
/// the scripted backend: sign in, the session, choosing an installation,
/// the offline status, signing out; and the service's events reach the
/// subscribed page through the bridge's event hub, with no token in them.
#[test]
fn the_sign_in_channels_answer_through_the_bridge_and_their_events_reach_the_page() {
    let backend = happy_backend(Duration::ZERO);
    let rig = Rig::new("bridge", &backend.url(), Duration::from_secs(5));
    let app = crate::harness::AppHarness::with_auth(rig.auth);
    let sink = Arc::new(RecordingSink::default());
    app.bridge.events().set_sink(sink.clone());
    for event in ["auth:user-code", "auth:login-success", "auth:installation-token-cached", "auth:logout-success"] {
        app.bridge.events().subscribe(tollgate::bridge::WindowLabel::Main, event).expect("subscribe");
    }

    assert_eq!(app.ok("auth:get-session", json!({})), Value::Null, "signed out at first");
    let started = app.ok("auth:github-login", json!({}));
    assert!(started["attempt"].as_u64().is_some(), "{started}");
    sink.wait_for("auth:login-success");
    assert!(sink.names().contains(&"auth:user-code"), "{:?}", sink.names());

    let session = app.ok("auth:get-session", json!({}));
    assert_eq!(session["user"]["login"], "octocat", "{session}");
    let selected = app.ok("auth:select-installation", json!({ "installationId": 11 }));
    assert_eq!(selected["installationId"], 11, "{selected}");
    let refused = app.err("auth:select-installation", json!({ "installationId": 99 }));
    assert_ne!(refused.code, tollgate::bridge::ErrorCode::InternalError, "an installation the user lacks: {refused:?}");
    let status = app.ok("auth:check-offline-status", json!({}));
    assert_eq!(status["isOffline"], false, "{status}");
    let out = app.ok("auth:logout", json!({}));
    assert_eq!(out["success"], true, "{out}");
    sink.wait_for("auth:logout-success");
    assert_eq!(app.ok("auth:get-session", json!({})), Value::Null, "signed out again");

    let delivered = sink.0.lock().expect("sink").clone();
    for (window, name, payload) in &delivered {
        assert_eq!(*window, tollgate::bridge::WindowLabel::Main);
        assert!(!payload.contains("SECRET"), "{name} carries a token or code the page must not see: {payload}");
    }
}
