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
