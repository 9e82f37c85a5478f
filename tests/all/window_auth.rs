//! GitHub sign-in in the real window, end to end: the app (under
//! WebKitWebDriver, Xvfb, its own D-Bus session and gnome-keyring) talks to
//! the reference backend, which talks to a fake GitHub, both real HTTP
//! servers on loopback. A person clicks "Sign in with GitHub", reads the
//! code, GitHub approves, they pick an installation, the backend goes away
//! (offline banner), they sign out. Afterwards the log and the page are
//! searched for every token the keychain held.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tollgate::auth::SESSION_ACCOUNT;
use tollgate::secrets::{Keychain, OsKeychain};
use tollgate_auth_backend::fake_github::{FakeGithub, PollStep};
use tollgate_auth_backend::testing::spawn_backend_blocking;

use crate::harness::ensure_secret_service;
use crate::window::App;
use crate::window_profiles::{screenshot, wait_until};

/// The app's own session entry (the suite's Secret Service is private to its
/// D-Bus session, so this is never a real user's).
fn app_session_entry() -> OsKeychain {
    OsKeychain::with_entry(OsKeychain::SERVICE, SESSION_ACCOUNT)
}

/// Page script: whether `css` is rendered and visible.
fn displayed(css: &str) -> String {
    format!("const e = document.querySelector({css:?}); return !!e && !e.hidden && e.offsetParent !== null;")
}

#[test]
fn a_user_signs_in_with_github_picks_an_installation_goes_offline_and_signs_out() {
    ensure_secret_service();
    let entry = app_session_entry();
    entry.delete().expect("no session left from an earlier run");

    let github = FakeGithub::start_blocking();
    github.set_verification_uri("https://github.com/login/device");
    github.set_interval(1);
    github.set_device_script(vec![PollStep::Pending, PollStep::Approve]);
    let backend = spawn_backend_blocking(github.backend_config()).expect("backend starts");

    let app = App::launch_with(
        None,
        &["--auth-backend".to_owned(), backend.url().to_owned()],
        // The "browser" the host opens the verification page in: a no-op.
        &[("BROWSER".to_owned(), "true".to_owned())],
    );

    // Signed out: the button is there.
    wait_until(&app, "the sign-in button shows", &displayed("#auth-signin"));
    app.click("#auth-signin");

    // The code, large, with the address and a countdown.
    let code = app.wait_for_text("#auth-user-code");
    assert!(code.trim().len() >= 8 && code.contains('-'), "a user code like WDJB-MJHT: {code:?}");
    let uri = app.wait_for_text("#auth-verification-uri");
    assert_eq!(uri.trim(), "https://github.com/login/device");
    let countdown = app.wait_for_text("#auth-countdown");
    assert!(countdown.contains(':'), "mm:ss: {countdown:?}");
    screenshot(&app, "auth-code.png");

    // GitHub approves on the second poll (1 s apart); the page shows the user.
    wait_until(&app, "the signed-in user shows", "return (document.querySelector('#auth-user')?.innerText || '').includes('octocat');");
    assert!(github.polls() >= 2);

    // Two installations: the user picks octo-org.
    app.run(
        "const s = document.querySelector('#auth-installation'); s.value = '11'; s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
        &[],
    );
    wait_until(&app, "the token's expiry shows", "return (document.querySelector('#auth-token-expiry')?.innerText || '').trim().length > 0;");
    assert_eq!(github.installation_token_mints(), 1);
    let session = app.run("return await settle(tollgate.invoke('auth:get-session', {}));", &[]);
    assert_eq!(session["data"]["currentInstallation"]["accountLogin"], "octo-org", "{session}");
    screenshot(&app, "auth-signed-in.png");

    // What the keychain holds never reached the page or the log.
    let stored: Value = serde_json::from_slice(&entry.read().expect("keychain").expect("the session is in the keychain")).expect("json");
    let mut secrets = vec![stored["token"].as_str().expect("session token").to_owned()];
    secrets.extend(stored["tokens"].as_array().expect("tokens").iter().map(|t| t["token"].as_str().expect("token").to_owned()));
    assert_eq!(secrets.len(), 2);
    let page = app.run(
        "return document.documentElement.outerHTML + JSON.stringify(Object.entries(localStorage)) + JSON.stringify(Object.entries(sessionStorage));",
        &[],
    );
    let page = page.as_str().expect("page text");
    let log = app.log_text();
    for secret in &secrets {
        assert!(!page.contains(secret.as_str()), "a token reached the page");
        assert!(!log.contains(secret.as_str()), "a token reached the log");
    }
    assert!(log.contains("signed in"), "the log records the sign-in (without tokens)");

    // The backend goes away: the page learns it is offline, and when the
    // cached token expires.
    backend.stop().expect("backend stops");
    let status = app.run("return await settle(tollgate.invoke('auth:check-offline-status', {}));", &[]);
    assert_eq!(status["data"]["isOffline"], json!(true), "{status}");
    wait_until(&app, "the offline banner shows", &displayed("#auth-offline-banner"));
    screenshot(&app, "auth-offline.png");

    // Sign out works offline, and the keychain entry goes.
    app.click("#auth-signout");
    wait_until(&app, "the sign-in button is back", &displayed("#auth-signin"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while entry.read().expect("keychain").is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(entry.read().expect("keychain").is_none(), "the session left the keychain");
    let session = app.run("return await settle(tollgate.invoke('auth:get-session', {}));", &[]);
    assert_eq!(session["data"], Value::Null, "{session}");
}
