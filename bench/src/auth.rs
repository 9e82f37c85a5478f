//! GitHub sign-in's figure (issue 6): `auth:get-session` through the
//! bridge, host side, target p95 under 10 ms. The session is a real one in
//! a bench entry of the throwaway Secret Service (as a sign-in leaves it),
//! so the first call pays the keychain read over D-Bus and the rest are
//! answered from memory. The backend is never called by this channel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tollgate::app::{AppServices, build_bridge};
use tollgate::auth::{
    AuthConfig, AuthService, BrowserOpener, CachedToken, GithubUser, Installation, SecretToken, SessionVault, StoredSession,
    SystemClock,
};
use tollgate::bridge::core::Sender;
use tollgate::bridge::envelope::build;
use tollgate::bridge::{ErrorCode, WindowLabel};
use tollgate::runtime::PluginEngine;
use tollgate::secrets::{Keychain, OsKeychain};
use tollgate::store::timestamp;

use crate::{percentile, round2};

/// Measured calls (the channel's quota is 50/s, so they are paced).
const CALLS: usize = 200;
/// Pause between calls: under the channel's 50/s quota.
const PACE: Duration = Duration::from_millis(21);
/// Issue 6's target.
const TARGET_P95_MS: f64 = 10.0;

struct NoBrowser;
impl BrowserOpener for NoBrowser {
    fn open(&self, _: &url::Url) -> Result<(), String> {
        Err("the bench opens no browser".into())
    }
}

/// `auth:get-session` figures, or why they were skipped.
pub fn get_session(engine: &PluginEngine) -> Value {
    if let Err(why) = crate::jwt_app::secret_service() {
        return json!({ "skipped": why });
    }
    let keychain: Arc<dyn Keychain> = Arc::new(OsKeychain::with_entry("tollgate-bench", "github-session"));
    let config = AuthConfig::default();
    let now = timestamp::now();
    let session = StoredSession {
        schema_version: SessionVault::schema_version(),
        backend: config.backend_url.to_string(),
        token: SecretToken::new("bench-session-token"),
        expires_at: now + Duration::from_secs(8 * 3600),
        user: GithubUser { id: 1, login: "octocat".into(), name: Some("The Octocat".into()), avatar_url: None },
        installations: (0..20)
            .map(|i| Installation { id: i, account_login: format!("org-{i}"), account_type: "Organization".into() })
            .collect(),
        current_installation: Some(3),
        tokens: vec![CachedToken {
            installation_id: 3,
            account_login: "org-3".into(),
            token: SecretToken::new("ghs_bench"),
            expires_at: now + Duration::from_secs(3600),
        }],
    };
    if let Err(e) = SessionVault::new(Arc::clone(&keychain)).save(&session) {
        return json!({ "skipped": format!("keychain: {e}") });
    }
    let data = tempfile::tempdir().expect("data dir");
    let auth = AuthService::with_parts(config, keychain, Arc::new(SystemClock), Arc::new(NoBrowser));
    let services = Arc::new(AppServices::new(engine, data.path()).expect("services").with_auth(auth));
    let bridge = build_bridge(&services).expect("bridge");
    let secret = bridge.issue_secret(WindowLabel::Main).expect("secret");
    let sender = Sender { window: WindowLabel::Main, page_url: "tollgate://localhost/index.html" };
    let call = |i: usize| -> f64 {
        let message = build(&secret, &format!("s-{i}"), "auth:get-session", "{}");
        let started = Instant::now();
        let answer = bridge.handle_message(sender, &message).finish();
        let ms = started.elapsed().as_secs_f64() * 1e3;
        assert!(answer.code().is_none() || answer.code() == Some(ErrorCode::RateLimited), "auth:get-session failed: {:?}", answer.code());
        ms
    };
    let first_ms = call(0);
    let mut times: Vec<f64> = (1..=CALLS)
        .map(|i| {
            std::thread::sleep(PACE);
            call(i)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let p95 = percentile(&times, 0.95);
    json!({
        "first_call_ms_keychain_read": round2(first_ms),
        "p50_ms": round2(percentile(&times, 0.5)),
        "p95_ms": round2(p95),
        "p99_ms": round2(percentile(&times, 0.99)),
        "calls": CALLS,
        "target_p95_max_ms": TARGET_P95_MS,
        "meets_target": p95 <= TARGET_P95_MS,
    })
}

/// Sign-ins measured by [`sign_in_latencies`] (each its own service and
/// keychain entry: a service allows one attempt per 10 s).
const SIGN_INS: usize = 20;
/// Refreshes per signed-in service.
const REFRESHES: usize = 3;

/// Records when each sign-in event arrives.
#[derive(Default)]
struct Arrivals(std::sync::Mutex<Vec<(&'static str, Instant)>>);

impl tollgate::auth::AuthEvents for Arrivals {
    fn emit(&self, event: tollgate::auth::AuthEvent) {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((event.name(), Instant::now()));
        }
    }
}

impl Arrivals {
    fn wait_for(&self, name: &str, timeout: Duration) -> Option<Instant> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(at) = self.0.lock().ok().and_then(|seen| seen.iter().find(|(n, _)| *n == name).map(|(_, at)| *at)) {
                return Some(at);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }
}

/// GitHub sign-in's latencies against the reference backend in front of
/// the fake GitHub, both on loopback, with the real Secret Service: start
/// to the user code, picking an installation (a token minted through the
/// backend), refreshing it, signing out. p95 of each against the contract's
/// targets (3 s, 500 ms, 500 ms, 100 ms).
pub fn sign_in_latencies() -> Value {
    use tollgate_auth_backend::fake_github::FakeGithub;
    use tollgate_auth_backend::testing::spawn_backend_blocking;
    if let Err(why) = crate::jwt_app::secret_service() {
        return json!({ "skipped": why });
    }
    let github = FakeGithub::start_blocking();
    // The fastest poll the client allows, so sign-ins finish in a second.
    github.set_interval(1);
    let mut backend_config = github.backend_config();
    backend_config.device_codes_per_minute = std::num::NonZeroU32::new(600).expect("non-zero");
    let backend = match spawn_backend_blocking(backend_config) {
        Ok(backend) => backend,
        Err(e) => return json!({ "error": format!("the reference backend did not start: {e}") }),
    };
    let mut to_code = Vec::new();
    let mut services = Vec::new();
    for i in 0..SIGN_INS {
        let keychain: Arc<dyn Keychain> = Arc::new(OsKeychain::with_entry("tollgate-bench", &format!("sign-in-{i}")));
        let _ = keychain.delete();
        let config = AuthConfig::new(backend.url()).expect("backend url");
        let auth = AuthService::with_parts(config, keychain, Arc::new(SystemClock), Arc::new(NoBrowser));
        let arrivals = Arc::new(Arrivals::default());
        auth.set_events(arrivals.clone());
        let started = Instant::now();
        let Ok((_, handle)) = auth.start_login() else { return json!({ "error": "a sign-in did not start" }) };
        let Some(code_at) = arrivals.wait_for("auth:user-code", Duration::from_secs(10)) else {
            return json!({ "error": "no user code within 10 s" });
        };
        to_code.push(code_at.duration_since(started).as_secs_f64() * 1e3);
        services.push((auth, arrivals, handle));
    }
    let mut signed_in = Vec::new();
    for (auth, arrivals, handle) in services {
        let _ = handle.join();
        if arrivals.wait_for("auth:login-success", Duration::from_secs(1)).is_none() {
            return json!({ "error": "a sign-in did not succeed" });
        }
        signed_in.push(auth);
    }
    // Tokens that live a minute are always inside the refresh margin
    // (5 minutes), so each refresh below mints one.
    github.set_token_ttl(60);
    let time_ms = |f: &mut dyn FnMut() -> bool| -> Option<f64> {
        let started = Instant::now();
        f().then(|| started.elapsed().as_secs_f64() * 1e3)
    };
    let (mut select, mut refresh, mut logout) = (Vec::new(), Vec::new(), Vec::new());
    for auth in &signed_in {
        let Some(ms) = time_ms(&mut || auth.select_installation(11).is_ok()) else { return json!({ "error": "select-installation failed" }) };
        select.push(ms);
        for _ in 0..REFRESHES {
            let Some(ms) = time_ms(&mut || matches!(auth.refresh_if_due(), Ok(Some(_)))) else { return json!({ "error": "a refresh did not refresh" }) };
            refresh.push(ms);
        }
    }
    for auth in &signed_in {
        let started = Instant::now();
        auth.logout();
        logout.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let figure = |mut xs: Vec<f64>, target_ms: f64| {
        xs.sort_by(f64::total_cmp);
        let p95 = percentile(&xs, 0.95);
        json!({ "p50_ms": round2(percentile(&xs, 0.5)), "p95_ms": round2(p95), "samples": xs.len(), "target_p95_max_ms": target_ms, "meets_target": p95 <= target_ms })
    };
    json!({
        "backend": "the reference backend in front of the fake GitHub, on loopback; real Secret Service",
        "login_to_user_code": figure(to_code, 3000.0),
        "select_installation": figure(select, 500.0),
        "refresh": figure(refresh, 500.0),
        "logout": figure(logout, 100.0),
    })
}
