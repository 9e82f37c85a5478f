//! The profiles screen in the real window, driven as a person would:
//! create HS256 and RS256 profiles, generate tokens, copy one and paste it,
//! check every token natively with `jsonwebtoken`, edit, delete (confirmed
//! on the page), search, move through the list with the keyboard, switch
//! the theme, restart the app on the same data directory and find it all as
//! left. Runs like the other window tests (a display, a D-Bus session, the
//! `automation` feature), with gnome-keyring started in the test's session
//! for the master key. Screenshots of the main states go to `target/`, and
//! to `docs/screenshots/` with `TOLLGATE_UPDATE_SCREENSHOT=1`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::harness::ensure_secret_service;
use crate::window::App;

/// How long a page state (a saved profile, a token, a verdict) may take to show.
const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// WebDriver key codes (the WebDriver spec's table).
const KEY_CONTROL: &str = "\u{E009}";
const KEY_RELEASE_ALL: &str = "\u{E000}";
const KEY_ENTER: &str = "\u{E007}";
const KEY_ESCAPE: &str = "\u{E00C}";
const KEY_ARROW_UP: &str = "\u{E013}";
const KEY_ARROW_DOWN: &str = "\u{E015}";

/// An HMAC secret as a user types it (at least 32 bytes, as HS256 needs).
const HS256_SECRET: &str = "an-hmac-secret-of-well-over-32-bytes-for-e2e";

/// Waits until `check` (page script returning a boolean) holds.
pub(crate) fn wait_until(app: &App, what: &str, check: &str) {
    let started = Instant::now();
    let mut last = Value::Null;
    while started.elapsed() < UI_TIMEOUT {
        match app.session.execute(check, &[]) {
            Ok(Value::Bool(true)) => return,
            Ok(other) => last = other,
            Err(e) => last = json!(e.to_string()),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not happen within {UI_TIMEOUT:?} (last answer: {last})\n{}", app.diagnosis());
}

/// Clicks "New profile" and waits for the blank editor.
pub(crate) fn start_new_profile(app: &App) {
    app.click("#profile-new");
    wait_until(app, "a blank editor", "return document.querySelector('#editor-title').textContent === 'New profile';");
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Saves a screenshot as `target/<name>`, and as `docs/screenshots/<name>`
/// when `TOLLGATE_UPDATE_SCREENSHOT=1`.
pub(crate) fn screenshot(app: &App, name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target").join(name);
    app.session.screenshot(&path).unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    if std::env::var("TOLLGATE_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("create docs/screenshots");
        std::fs::copy(&path, docs.join(name)).unwrap_or_else(|e| panic!("copy {name} to docs/screenshots: {e}"));
    }
    path
}

/// The person at the keyboard and mouse.
struct User<'a> {
    app: &'a App,
}

impl User<'_> {
    fn click(&self, css: &str) {
        self.app.click(css);
    }

    fn type_into(&self, css: &str, text: &str) {
        self.app.session.send_keys(&self.app.find(css), text).unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Empties a field as select-all + delete would (one `input` event).
    fn clear(&self, css: &str) {
        self.app.run(
            "const e = document.querySelector(args[0]); e.value = ''; e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
            &[json!(css)],
        );
    }

    /// Pastes `text` into a field: a PEM is pasted, not typed key by key.
    fn paste(&self, css: &str, text: &str) {
        self.app.run(
            "const e = document.querySelector(args[0]); e.focus(); e.value = args[1]; e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
            &[json!(css), json!(text)],
        );
    }

    /// Picks an option of a `<select>` (WebKitWebDriver cannot open the
    /// native popup; this is what choosing from it does).
    fn choose(&self, css: &str, value: &str) {
        let chosen = self.app.run(
            "const e = document.querySelector(args[0]); e.value = args[1]; e.dispatchEvent(new Event('change', { bubbles: true })); return e.value;",
            &[json!(css), json!(value)],
        );
        assert_eq!(chosen, json!(value), "{css} offers {value}");
    }

    fn value(&self, css: &str) -> Value {
        self.app.run("return document.querySelector(args[0]).value;", &[json!(css)])
    }

    fn hidden(&self, css: &str) -> Value {
        self.app.run("return document.querySelector(args[0]).hidden;", &[json!(css)])
    }

    /// The editor's title: the open profile's name, or "New profile".
    fn editing(&self) -> Value {
        self.app.run("return document.querySelector('#editor-title').textContent;", &[])
    }

    fn is_shown(&self, css: &str) -> bool {
        self.app.session.is_displayed(&self.app.find(css)).unwrap_or_else(|e| panic!("displayed {css}: {e}"))
    }

    fn listed(&self) -> Vec<String> {
        let names =
            self.app.run("return Array.from(document.querySelectorAll('#profile-list .profile-item-name'), (e) => e.textContent);", &[]);
        serde_json::from_value(names).expect("a list of names")
    }

    /// The list button of the profile named `name`.
    fn list_button(&self, name: &str) -> String {
        let id = self.app.run(
            "const b = Array.from(document.querySelectorAll('#profile-list .profile-item-button')).find((b) => b.querySelector('.profile-item-name').textContent === args[0]); return b ? b.dataset.profileId : null;",
            &[json!(name)],
        );
        let id = id.as_str().unwrap_or_else(|| panic!("{name} is not listed: {:?}", self.listed()));
        format!("#profile-list button[data-profile-id='{id}']")
    }

    fn open(&self, name: &str) {
        self.click(&self.list_button(name));
        self.wait_editing(name);
    }

    fn wait_editing(&self, name: &str) {
        wait_until(
            self.app,
            &format!("{name} in the editor"),
            &format!("return document.querySelector('#editor-title').textContent === {};", json!(name)),
        );
    }

    /// Fills in a new profile and creates it; waits until it is listed and in the editor.
    fn create_profile(&self, name: &str, algorithm: &str, key: &str, claims: &str) {
        start_new_profile(self.app);
        self.type_into("#profile-name", name);
        self.choose("#profile-algorithm", algorithm);
        if key.contains('\n') {
            self.paste("#profile-key", key);
        } else {
            self.type_into("#profile-key", key);
        }
        self.type_into("#profile-claims", claims);
        self.click("#profile-save");
        self.wait_editing(name);
        assert!(self.listed().iter().any(|n| n == name), "{name} is listed: {:?}", self.listed());
        assert!(!self.is_shown("#profile-error"), "no save error: {}", self.app.text("#profile-error"));
        assert!(self.app.text("#key-stored").contains("sealed by the OS keychain"), "the key is write-only once saved");
    }

    /// Clicks Generate and waits for a token other than `previous`.
    fn generate(&self, previous: Option<&str>) -> String {
        wait_until(self.app, "Generate enabled", "return !document.querySelector('#generate-button').disabled;");
        self.click("#generate-button");
        let started = Instant::now();
        loop {
            let token = self.app.run("return document.querySelector('#generated-token').textContent;", &[]);
            let token = token.as_str().unwrap_or_default();
            if !token.is_empty() && Some(token) != previous && !self.is_shown("#generate-error") {
                assert!(self.is_shown("#generated-token"), "the token is on screen");
                return token.to_owned();
            }
            assert!(!self.is_shown("#generate-error"), "generating failed: {}", self.app.text("#generate-error"));
            assert!(started.elapsed() < UI_TIMEOUT, "no new token within {UI_TIMEOUT:?}\n{}", self.app.diagnosis());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn shown_json(&self, css: &str) -> Value {
        serde_json::from_str(&self.app.text(css)).unwrap_or_else(|e| panic!("{css} shows JSON: {e}"))
    }

    /// Page script's view of a bridge call (settings, after the UI saved them).
    fn settings(&self) -> Value {
        self.app.run("return await tollgate.invoke('settings:get', {});", &[])
    }

    fn theme(&self) -> Value {
        self.app.run("return document.documentElement.dataset.theme ?? null;", &[])
    }
}

/// Checks a token's signature and claims with `jsonwebtoken`, outside the app.
fn verify_natively(token: &str, algorithm: Algorithm, key: &DecodingKey, audience: &str) -> Value {
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "aud"]);
    let data = jsonwebtoken::decode::<Value>(token, key, &validation)
        .unwrap_or_else(|e| panic!("{algorithm:?} token verifies natively: {e}\n{token}"));
    assert_eq!(data.header.alg, algorithm);
    let claims = data.claims;
    let (iat, exp) = (claims["iat"].as_i64().expect("iat"), claims["exp"].as_i64().expect("exp"));
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs()).expect("fits");
    assert!((iat - now).abs() < 120, "iat is now: {iat} vs {now}");
    assert_eq!(exp - iat, 3600, "exp is iat + the profile's preset (1 hour)");
    claims
}

#[test]
fn a_user_creates_a_profile_generates_and_verifies_a_token_and_finds_it_after_reload() {
    ensure_secret_service();
    let app = App::launch();
    let click = |css: &str| app.click(css);
    let type_into = |css: &str, text: &str| app.session.send_keys(&app.find(css), text).unwrap_or_else(|e| panic!("type into {css}: {e}"));

    click("#profile-new");
    type_into("#profile-name", "Staging API");
    assert_eq!(app.run("return document.querySelector('#profile-algorithm').value;", &[]), json!("HS256"), "HS256 is the default");
    type_into("#profile-key", "an-hmac-secret-of-well-over-32-bytes-for-e2e");
    type_into("#profile-claims", r#"{"sub": "e2e-user", "aud": "tollgate-e2e"}"#);
    click("#profile-save");

    wait_until(
        &app,
        "the saved profile listed",
        "return Array.from(document.querySelectorAll('#profile-list .profile-item-name')).some((e) => e.textContent === 'Staging API');",
    );
    let profile_error = app.run("return document.querySelector('#profile-error').hidden;", &[]);
    assert_eq!(profile_error, json!(true), "no save error: {}", app.text("#profile-error"));
    assert!(app.text("#key-stored").contains("sealed by the OS keychain"), "the key is write-only once saved");

    wait_until(&app, "Generate enabled", "return !document.querySelector('#generate-button').disabled;");
    click("#generate-button");
    let token = app.wait_for_text("#generated-token");
    assert_eq!(token.split('.').count(), 3, "a compact JWS: {token}");
    let payload: Value = serde_json::from_str(&app.text("#generated-payload")).expect("the payload pane shows JSON");
    assert_eq!(payload["sub"], "e2e-user");
    assert_eq!(payload["aud"], "tollgate-e2e");
    assert!(payload["exp"].is_number() && payload["iat"].is_number(), "the host set iat and exp: {payload}");
    let header: Value = serde_json::from_str(&app.text("#generated-header")).expect("the header pane shows JSON");
    assert_eq!(header["alg"], "HS256");

    click("#verify-button");
    app.wait_for_text("#verify-result");
    // WebKitWebDriver's element text skips the verdict chip (an inline-flex
    // box with overflow hidden), though it is drawn: read innerText.
    let verdict = app.run("return document.querySelector('#verify-result').innerText;", &[]);
    let verdict = verdict.as_str().unwrap_or_default();
    assert!(verdict.starts_with("Valid"), "the token verifies: {verdict}");
    assert_eq!(app.run("return document.querySelector('#verify-result').dataset.tone;", &[]), json!("ok"));

    let screenshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/profiles-e2e.png");
    app.session.screenshot(&screenshot).expect("save a screenshot");

    // A reload starts the page over: the profile is listed again, and
    // selected, because the settings remember it.
    app.run("window.__beforeReload = true; setTimeout(() => location.reload(), 50); return true;", &[]);
    wait_until(
        &app,
        "the reloaded page ready",
        "return !window.__beforeReload && !!document.body && document.body.dataset.ready === 'true';",
    );
    let listed = app.run("return Array.from(document.querySelectorAll('#profile-list .profile-item-name'), (e) => e.textContent);", &[]);
    assert_eq!(listed, json!(["Staging API"]), "the profile survives a reload");
    assert_eq!(
        app.run("return document.querySelector('#profile-name').value;", &[]),
        json!("Staging API"),
        "the remembered profile is selected"
    );
}

#[test]
fn a_user_keeps_hs256_and_rs256_profiles_and_finds_everything_as_left_after_a_restart() {
    ensure_secret_service();
    let data = tempfile::tempdir().expect("a data dir that outlives the first run");
    let data_dir = data.path().join("data");
    let public = DecodingKey::from_rsa_pem(fixture("rsa2048.pub.pem").as_bytes()).expect("the public key fixture parses");
    {
        let app = App::launch_with_data_dir(&data_dir);
        let user = User { app: &app };

        // An HS256 profile: generate, copy, paste, verify natively.
        user.create_profile("Staging API", "HS256", HS256_SECRET, r#"{"sub": "e2e-user", "aud": "tollgate-e2e"}"#);
        screenshot(&app, "profiles-editor.png");
        let hs_token = user.generate(None);
        let claims = verify_natively(&hs_token, Algorithm::HS256, &DecodingKey::from_secret(HS256_SECRET.as_bytes()), "tollgate-e2e");
        assert_eq!(claims["sub"], "e2e-user");
        assert_eq!(user.shown_json("#generated-header")["alg"], "HS256");
        assert_eq!(user.shown_json("#generated-payload")["sub"], "e2e-user");

        // The editor's header fields made it taller: bring the token into view.
        app.run("document.querySelector('#generate-button').scrollIntoView({ block: 'start', behavior: 'instant' }); await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));", &[]);
        screenshot(&app, "profiles-token.png");
        user.click("#copy-token");
        wait_until(&app, "the copy button's answer", "return !!document.querySelector('#copy-token').dataset.state;");
        let copy_state = app.run("return document.querySelector('#copy-token').dataset.state;", &[]);
        assert_eq!(copy_state, json!("done"), "the Copy button says Copied (navigator.clipboard.writeText resolved)");
        // What a person does next: paste it somewhere (here the decoder
        // field) with Ctrl+V, which reads the system clipboard.
        user.clear("#token-input");
        user.type_into("#token-input", &format!("{KEY_CONTROL}v{KEY_RELEASE_ALL}"));
        assert_eq!(user.value("#token-input"), json!(hs_token), "Ctrl+V pastes the copied token from the clipboard");

        // An RS256 profile from the PEM fixture: its token checks against the public key.
        user.create_profile("Partner SSO", "RS256", &fixture("rsa2048.pem"), r#"{"sub": "partner", "aud": "partner-api"}"#);
        let rs_token = user.generate(None);
        let claims = verify_natively(&rs_token, Algorithm::RS256, &public, "partner-api");
        assert_eq!(claims["sub"], "partner");
        assert_eq!(user.shown_json("#generated-header")["alg"], "RS256");

        // A duplicate name (case aside) is refused beside the name field.
        user.click("#profile-new");
        user.type_into("#profile-name", "staging api");
        user.type_into("#profile-key", HS256_SECRET);
        user.click("#profile-save");
        let name_error = app.wait_for_text("#profile-name-error");
        assert!(name_error.contains("already has this name"), "{name_error}");
        assert_eq!(user.listed(), ["Staging API", "Partner SSO"], "nothing was saved");
        screenshot(&app, "profiles-error.png");

        // Leaving the unsaved form asks on the page (no window.confirm).
        user.click(&user.list_button("Staging API"));
        wait_until(&app, "the discard prompt", "return !document.querySelector('#discard-prompt').hidden;");
        assert!(app.text("#discard-prompt-text").contains("Discard the unsaved changes"));
        user.click("#discard-confirm");
        user.wait_editing("Staging API");

        // Edit: rename and change the claims; the list, the editor and the next token show it.
        user.clear("#profile-name");
        user.type_into("#profile-name", "Staging API v2");
        user.clear("#profile-claims");
        user.type_into("#profile-claims", r#"{"sub": "e2e-user-2", "aud": "tollgate-e2e", "role": "admin"}"#);
        // WebKitWebDriver calls chips (inline-flex, overflow hidden) not displayed though they are drawn: read `hidden`.
        assert_eq!(user.hidden("#profile-dirty"), json!(false), "the editor says there are unsaved changes");
        user.click("#profile-save");
        user.wait_editing("Staging API v2");
        assert_eq!(user.listed(), ["Staging API v2", "Partner SSO"]);
        assert_eq!(user.hidden("#profile-dirty"), json!(true), "saved");
        let edited_token = user.generate(Some(&hs_token));
        let claims = verify_natively(&edited_token, Algorithm::HS256, &DecodingKey::from_secret(HS256_SECRET.as_bytes()), "tollgate-e2e");
        assert_eq!((claims["sub"].clone(), claims["role"].clone()), (json!("e2e-user-2"), json!("admin")));

        // Delete a third profile, confirming on the page.
        user.create_profile("Scratch", "HS512", &format!("{HS256_SECRET}-and-some-more-for-hs512-use"), r#"{"aud": "scratch"}"#);
        user.click("#profile-delete");
        assert_eq!(app.text("#profile-delete"), "Delete “Scratch”", "Delete asks to be clicked again");
        assert!(user.is_shown("#profile-delete-cancel"));
        assert_eq!(user.listed(), ["Staging API v2", "Partner SSO", "Scratch"], "nothing deleted yet");
        user.click("#profile-delete");
        wait_until(
            &app,
            "Scratch gone",
            "return !Array.from(document.querySelectorAll('#profile-list .profile-item-name')).some((e) => e.textContent === 'Scratch');",
        );
        assert_eq!(user.listed(), ["Staging API v2", "Partner SSO"]);

        // Search by name and by algorithm, and a search that finds nothing.
        user.type_into("#profile-search", "rs256");
        assert_eq!(user.listed(), ["Partner SSO"], "search matches the algorithm");
        user.clear("#profile-search");
        user.type_into("#profile-search", "STAGING");
        assert_eq!(user.listed(), ["Staging API v2"], "search matches the name, case aside");
        user.clear("#profile-search");
        user.type_into("#profile-search", "no such profile");
        assert!(user.listed().is_empty());
        assert!(user.is_shown("#profile-search-empty"));
        assert!(app.text("#profile-search-empty").contains("no such profile"), "{}", app.text("#profile-search-empty"));
        user.type_into("#profile-search", KEY_ESCAPE);
        assert_eq!(user.value("#profile-search"), json!(""), "Escape clears the search");
        assert_eq!(user.listed(), ["Staging API v2", "Partner SSO"]);
        assert!(!user.is_shown("#profile-search-empty"));

        // Leave Partner SSO selected and the dark theme on.
        user.open("Partner SSO");
        for _ in 0..3 {
            if user.theme() == json!("dark") {
                break;
            }
            user.click("#theme-toggle");
        }
        assert_eq!(user.theme(), json!("dark"));
        let partner_id = user.list_button("Partner SSO");
        let started = Instant::now();
        loop {
            let settings = user.settings();
            let remembered = settings["lastSelectedProfileId"].as_str().map(|id| format!("#profile-list button[data-profile-id='{id}']"));
            if settings["theme"] == "dark" && remembered.as_deref() == Some(partner_id.as_str()) {
                break;
            }
            assert!(started.elapsed() < UI_TIMEOUT, "the settings were not saved: {settings}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // The first app is gone (its window closed with the block): a restart
    // on the same data directory.
    let app = App::launch_with_data_dir(&data_dir);
    let user = User { app: &app };
    assert_eq!(user.listed(), ["Staging API v2", "Partner SSO"], "the profiles survive a restart");
    user.wait_editing("Partner SSO");
    assert_eq!(
        app.run("return document.querySelector('#profile-list [aria-current=\"true\"] .profile-item-name').textContent;", &[]),
        json!("Partner SSO")
    );
    assert_eq!(user.value("#profile-algorithm"), json!("RS256"));
    assert_eq!(user.theme(), json!("dark"), "the theme survives a restart");
    // The sealed key still signs after the restart.
    let rs_token = user.generate(None);
    verify_natively(&rs_token, Algorithm::RS256, &public, "partner-api");
    user.open("Staging API v2");
    let claims: Value =
        serde_json::from_str(user.value("#profile-claims").as_str().unwrap_or_default()).expect("the claims field holds JSON");
    assert_eq!(claims, json!({"sub": "e2e-user-2", "aud": "tollgate-e2e", "role": "admin"}), "the edited claims survive");
}

#[test]
fn the_profile_list_works_from_the_keyboard_and_unsaved_changes_are_confirmed_on_the_page() {
    ensure_secret_service();
    let app = App::launch();
    let user = User { app: &app };
    user.create_profile("Alpha", "HS256", HS256_SECRET, r#"{"aud": "alpha"}"#);
    user.create_profile("Beta", "HS384", &format!("{HS256_SECRET}-longer-for-hs384"), r#"{"aud": "beta"}"#);
    user.create_profile("Gamma", "HS256", HS256_SECRET, r#"{"aud": "gamma"}"#);

    // The list has a name and says how to move through it.
    assert_eq!(app.run("return document.querySelector('#profile-list').getAttribute('aria-label');", &[]), json!("Profiles"));
    assert_eq!(app.run("return document.querySelector('label[for=\"profile-search\"]').textContent;", &[]), json!("Search profiles"));
    assert_eq!(
        app.run("return document.querySelectorAll('#profile-list button[tabindex=\"0\"]').length;", &[]),
        json!(1),
        "the list is one tab stop"
    );

    // Down from the search box reaches the list; Down, Down, Up, Enter opens Beta.
    user.type_into("#profile-search", KEY_ARROW_DOWN);
    let focused = || {
        app.run(
            "const e = document.activeElement; return e && e.dataset.profileId ? e.querySelector('.profile-item-name').textContent : null;",
            &[],
        )
    };
    assert_eq!(focused(), json!("Alpha"));
    user.type_into("#profile-list button:focus", KEY_ARROW_DOWN);
    user.type_into("#profile-list button:focus", KEY_ARROW_DOWN);
    assert_eq!(focused(), json!("Gamma"));
    user.type_into("#profile-list button:focus", KEY_ARROW_UP);
    assert_eq!(focused(), json!("Beta"));
    assert_eq!(user.editing(), "Gamma", "moving does not open");
    user.type_into("#profile-list button:focus", KEY_ENTER);
    user.wait_editing("Beta");
    assert_eq!(focused(), json!("Beta"), "focus stays on the opened profile");

    // Unsaved changes: switching asks on the page; Keep editing keeps them.
    user.clear("#profile-claims");
    user.type_into("#profile-claims", r#"{"aud": "beta", "draft": true}"#);
    assert_eq!(user.hidden("#profile-dirty"), json!(false));
    user.click(&user.list_button("Alpha"));
    wait_until(&app, "the discard prompt", "return !document.querySelector('#discard-prompt').hidden;");
    assert!(app.text("#discard-prompt-text").contains("“Beta”"), "{}", app.text("#discard-prompt-text"));
    user.click("#discard-cancel");
    assert!(!user.is_shown("#discard-prompt"));
    assert_eq!(user.editing(), "Beta");
    assert!(user.value("#profile-claims").as_str().unwrap_or_default().contains("draft"), "the draft is kept");

    user.click(&user.list_button("Alpha"));
    wait_until(&app, "the discard prompt again", "return !document.querySelector('#discard-prompt').hidden;");
    user.click("#discard-confirm");
    user.wait_editing("Alpha");
    user.open("Beta");
    assert!(!user.value("#profile-claims").as_str().unwrap_or_default().contains("draft"), "the draft was discarded");
}

#[test]
fn a_user_generates_a_key_in_the_host_and_the_page_only_ever_holds_its_public_half() {
    ensure_secret_service();
    let app = App::launch();
    let user = User { app: &app };
    start_new_profile(&app);
    user.type_into("#profile-name", "Host-made ES256");
    user.choose("#profile-algorithm", "ES256");
    user.click("#key-make");
    wait_until(&app, "the generated key's note", "return !document.querySelector('#key-made').hidden && document.querySelector('#key-public-pem').textContent.length > 0;");
    let pem = app.text("#key-public-pem");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "the public key is shown: {pem}");
    assert!(app.text("#key-made-text").contains("Thumbprint (kid):"), "{}", app.text("#key-made-text"));
    assert_eq!(app.run("return document.querySelector('#profile-key').disabled;", &[]), json!(true), "nothing to type");
    screenshot(&app, "profiles-key-generated.png");
    // Nothing the page holds is a private key: not the DOM, not a field.
    let page = app.run("return document.documentElement.outerHTML + document.querySelector('#profile-key').value;", &[]);
    assert!(!page.as_str().unwrap_or_default().contains("PRIVATE KEY"), "a private key reached the page");
    user.type_into("#profile-claims", r#"{"sub": "host-made", "aud": "tollgate-e2e"}"#);
    user.click("#profile-save");
    user.wait_editing("Host-made ES256");
    assert!(app.text("#key-stored").contains("sealed by the OS keychain"), "saved with the sealed key");
    let token = user.generate(None);
    let key = DecodingKey::from_ec_pem(pem.as_bytes()).expect("the shown PEM parses");
    let claims = verify_natively(&token, Algorithm::ES256, &key, "tollgate-e2e");
    assert_eq!(claims["sub"], "host-made");
    // The saved profile shows the same public key, asked of the host.
    wait_until(&app, "the stored profile's public key", "return !document.querySelector('#stored-public').hidden;");
    assert_eq!(app.text("#stored-public-pem").trim(), pem.trim());
    // The JWKS to hand to the verifying service: copied, then pasted (the
    // decoder's field is where a person can paste here), it holds the key
    // under its thumbprint, and that key verifies the token.
    user.click("#jwks-copy");
    wait_until(&app, "the JWKS copied", "return document.querySelector('#jwks-copy').textContent === 'Copied 1 key';");
    user.clear("#token-input");
    user.type_into("#token-input", &format!("{KEY_CONTROL}v{KEY_RELEASE_ALL}"));
    let pasted = user.value("#token-input");
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(pasted.as_str().unwrap_or_default()).expect("the clipboard holds a JWKS");
    let kid = app.text("#stored-public-kid");
    let jwk = jwks.find(kid.trim()).expect("the profile's key under its kid");
    verify_natively(&token, Algorithm::ES256, &DecodingKey::from_jwk(jwk).expect("a key from the JWK"), "tollgate-e2e");
    user.clear("#token-input");
    // Switching the algorithm drops the generated key: it was made for ES256.
    start_new_profile(&app);
    user.choose("#profile-algorithm", "RS256");
    user.click("#key-make");
    wait_until(&app, "an RSA key made", "return document.querySelector('#key-public-pem').textContent.length > 0;");
    user.choose("#profile-algorithm", "ES256");
    assert_eq!(user.hidden("#key-made"), json!(true), "an RS256 key is not offered for ES256");
    assert_eq!(app.run("return document.querySelector('#profile-key').disabled;", &[]), json!(false));
}

/// Issue 19: relative times in the claims are shown resolved before the
/// user generates, a value the host would refuse is marked as such, and
/// the token carries the times the preview showed (to the seconds that
/// pass between looking and pressing Generate).
#[test]
fn relative_times_in_the_claims_are_shown_resolved_before_generating() {
    ensure_secret_service();
    let app = App::launch();
    let user = User { app: &app };
    start_new_profile(&app);
    user.type_into("#profile-name", "Relative times");
    user.type_into("#profile-key", HS256_SECRET);
    user.type_into("#profile-claims", r#"{"sub": "later", "aud": "tollgate-e2e", "nbf": "+15x", "auth_time": "now", "note": "+5m"}"#);
    let rows = || {
        app.run(
            "return Array.from(document.querySelectorAll('#profile-claims-times li'), (li) => ({ claim: li.dataset.claim, state: li.dataset.state, seconds: li.dataset.seconds ?? null, text: li.textContent }));",
            &[],
        )
    };
    // Only the claims the host resolves: `note` is a string like any other.
    let shown = rows();
    let shown = shown.as_array().expect("a list");
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!((&shown[0]["claim"], &shown[0]["state"]), (&json!("nbf"), &json!("refused")), "{shown:?}");
    assert!(shown[0]["text"].as_str().unwrap_or_default().contains("not a time Tollgate can resolve"), "{shown:?}");
    assert_eq!((&shown[1]["claim"], &shown[1]["state"]), (&json!("auth_time"), &json!("resolved")), "{shown:?}");
    assert!(user.is_shown("#profile-claims-times"));

    user.clear("#profile-claims");
    user.type_into("#profile-claims", r#"{"sub": "later", "aud": "tollgate-e2e", "nbf": "-30s", "auth_time": "now"}"#);
    let shown = rows();
    let resolved = |claim: &str| -> i64 {
        let row = shown.as_array().and_then(|rows| rows.iter().find(|r| r["claim"] == claim)).unwrap_or_else(|| panic!("{claim} shown: {shown}"));
        assert_eq!(row["state"], "resolved", "{row}");
        row["seconds"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{claim} resolved to a time: {row}"))
    };
    let (nbf, auth_time) = (resolved("nbf"), resolved("auth_time"));
    assert_eq!(auth_time - nbf, 30, "nbf is 30 s before now");
    let text = shown.to_string();
    assert!(text.contains(" UTC") && text.contains("local") && text.contains("if generated now"), "{text}");
    // The claims checks see what will be signed: a valid relative time is
    // not "not a number" to them.
    wait_until(
        &app,
        "the claims checked",
        "return !document.querySelector('#profile-lint-box').hasAttribute('aria-busy') && document.querySelectorAll('#profile-lint li[data-code]').length > 0;",
    );
    let findings = app.run(
        "return Array.from(document.querySelectorAll('#profile-lint li[data-code]'), (li) => [li.dataset.code, li.querySelector('.lint-path')?.textContent ?? '']);",
        &[],
    );
    let about_times = findings.as_array().into_iter().flatten().filter(|f| f[1] == "nbf" || f[1] == "auth_time").count();
    assert_eq!(about_times, 0, "findings about the relative times: {findings}");
    // Scrolled to the preview, and painted (two frames) before the picture.
    app.run(
        "document.querySelector('#profile-claims-times').scrollIntoView({ block: 'center', behavior: 'instant' }); await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))); await new Promise((r) => setTimeout(r, 300)); return true;",
        &[],
    );
    screenshot(&app, "relative-times.png");

    user.click("#profile-save");
    user.wait_editing("Relative times");
    let token = user.generate(None);
    let claims = verify_natively(&token, Algorithm::HS256, &DecodingKey::from_secret(HS256_SECRET.as_bytes()), "tollgate-e2e");
    let signed = |claim: &str| claims[claim].as_i64().unwrap_or_else(|| panic!("{claim} signed as a NumericDate: {claims}"));
    assert_eq!(signed("auth_time"), signed("iat"), "now is the signing time");
    assert_eq!(signed("iat") - signed("nbf"), 30);
    assert!((0..=60).contains(&(signed("auth_time") - auth_time)), "the preview showed {auth_time}, the token says {}", signed("auth_time"));
}

// ---------------------------------------------------------------------------
// The host's file dialogs (issue 19), driven as a person would: the click
// that opens one is a real pointer click on the X display (xdotool, XTEST),
// and the dialog is found there and answered with the keyboard, as a user
// types a path into GTK's chooser.

/// How long a dialog may take to appear.
const DIALOG_TIMEOUT: Duration = Duration::from_secs(15);

fn xdotool(args: &[&str]) -> std::process::Output {
    std::process::Command::new("xdotool").args(args).output().unwrap_or_else(|e| panic!("xdotool {args:?}: {e} (./bootstrap installs xdotool)"))
}

/// The X window ids of toplevels titled exactly `title`.
fn x_windows_titled(title: &str) -> Vec<String> {
    let out = xdotool(&["search", "--onlyvisible", "--name", &format!("^{}$", regex_escape(title))]);
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

fn regex_escape(text: &str) -> String {
    text.chars().flat_map(|c| if "()[]{}.*+?^$|\\".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}

/// The RFC 7638 thumbprint of tests/fixtures/keys/p256.pem: what the
/// host must show for that key, whichever way it was read.
fn p256_fixture_thumbprint() -> String {
    tollgate::jwt::public_key(tollgate::jwt::Algorithm::ES256, fixture("p256.pem").as_bytes(), None)
        .expect("the fixture's public key")
        .expect("asymmetric")
        .thumbprint
}

/// Waits for a window titled `title` on the X display and gives it the
/// keyboard focus; its id.
fn focus_x_window(app: &App, title: &str) -> String {
    let started = Instant::now();
    let window = loop {
        if let Some(w) = x_windows_titled(title).pop() {
            break w;
        }
        assert!(started.elapsed() < DIALOG_TIMEOUT, "no window titled {title:?} within {DIALOG_TIMEOUT:?}\n{}", app.diagnosis());
        std::thread::sleep(Duration::from_millis(100));
    };
    // GTK takes a moment to map its widgets and take the focus.
    std::thread::sleep(Duration::from_millis(500));
    assert!(xdotool(&["windowfocus", "--sync", &window]).status.success(), "focus {title:?}");
    window
}

/// Waits for the host's dialog titled `title`, types `path` into its
/// location field and presses Enter.
fn pick_in_dialog(app: &App, title: &str, path: &Path, saves: bool) {
    focus_x_window(app, title);
    // Open: Ctrl+L shows the location field. Save: the name field has the
    // focus, with its name selected; a full path there picks the folder too.
    let keys: &[&str] = if saves { &["ctrl+a"] } else { &["ctrl+l"] };
    assert!(xdotool(&[&["key", "--clearmodifiers"][..], keys].concat()).status.success());
    std::thread::sleep(Duration::from_millis(200));
    let text = path.to_str().expect("a UTF-8 path");
    assert!(xdotool(&["type", "--delay", "20", text]).status.success(), "type the path");
    std::thread::sleep(Duration::from_millis(200));
    assert!(xdotool(&["key", "Return"]).status.success());
    let started = Instant::now();
    while !x_windows_titled(title).is_empty() {
        assert!(started.elapsed() < DIALOG_TIMEOUT, "the dialog {title:?} stayed open after Enter\n{}", app.diagnosis());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Clicks `css` as a person does: the pointer moved over it on the X
/// display and its button pressed (XTEST), so GTK delivers the click to the
/// webview widget. WebDriver's own clicks go to the page without passing
/// GTK, and the host does not count them as a user's input.
fn click_as_a_person(app: &App, css: &str) {
    let at = app.run(
        "const e = document.querySelector(args[0]); e.scrollIntoView({ block: 'center', behavior: 'instant' }); await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))); const r = e.getBoundingClientRect(); return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];",
        &[json!(css)],
    );
    let (x, y) = (at[0].as_i64().expect("x"), at[1].as_i64().expect("y"));
    let main = main_x_window().unwrap_or_else(|| panic!("the main window on the X display\n{}", app.diagnosis()));
    let out = xdotool(&["mousemove", "--sync", "--window", &main, &x.to_string(), &y.to_string(), "click", "1"]);
    assert!(out.status.success(), "xdotool click: {}", String::from_utf8_lossy(&out.stderr));
}

/// No dialog titled `title` shows for a while.
fn assert_no_dialog(title: &str, what: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        assert!(x_windows_titled(title).is_empty(), "{what}: a dialog titled {title:?} opened");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_user_imports_a_key_file_saves_the_jwks_and_verifies_against_it_through_the_hosts_dialogs() {
    ensure_secret_service();
    let files = tempfile::tempdir().expect("a folder for the user's files");
    let key_path = files.path().join("signing-key.pem");
    std::fs::write(&key_path, fixture("p256.pem")).expect("write the key file");
    let jwks_path = files.path().join("verifier-jwks.json");
    let want_thumbprint = p256_fixture_thumbprint();

    let app = App::launch();
    let user = User { app: &app };

    // A hostile page, before any input: no dialog, a typed refusal, and a
    // synthetic click (page script's own) does not count as the user's.
    let refusal = app.invoke("keys:import-file", json!({ "algorithm": "ES256" })).expect_err("no input, no dialog");
    assert_no_dialog("Import key file", "page script's call");
    assert_eq!(refusal.code, "IPC_FORBIDDEN", "{}", refusal.message);
    assert!(refusal.message.contains("click or key press"), "{}", refusal.message);
    start_new_profile(&app);
    user.choose("#profile-algorithm", "ES256");
    // WebDriver's clicks above reach the page, not GTK; the host saw no
    // input. Page script's own click is not one either.
    app.run("document.querySelector('#key-import').click();", &[]);
    assert_no_dialog("Import key file", "a click made by page script");
    wait_until(&app, "the refusal shown", "return !document.querySelector('#profile-error').hidden || !document.querySelector('#profile-key-error').hidden;");

    // The user's click: the host's dialog; the path typed there; the key
    // read, checked and sealed by the host.
    click_as_a_person(&app, "#key-import");
    pick_in_dialog(&app, "Import key file", &key_path, false);
    wait_until(&app, "the imported key's note", "return !document.querySelector('#key-made').hidden && document.querySelector('#key-public-pem').textContent.length > 0;");
    let note = app.text("#key-made-text");
    assert!(note.contains("read from a file by Tollgate") && note.contains(&want_thumbprint), "{note}");
    screenshot(&app, "profiles-key-imported.png");
    let page = app.run("return document.documentElement.outerHTML + document.querySelector('#profile-key').value;", &[]);
    let page = page.as_str().unwrap_or_default();
    assert!(!page.contains("PRIVATE KEY"), "the private key reached the page");
    assert!(!page.contains(&*files.path().to_string_lossy()), "the page learned where the file is");
    user.type_into("#profile-name", "Imported ES256");
    user.type_into("#profile-claims", r#"{"sub": "imported", "aud": "tollgate-e2e"}"#);
    user.click("#profile-save");
    user.wait_editing("Imported ES256");
    let token = user.generate(None);
    let pem = fixture("p256.pub.pem");
    let claims = verify_natively(&token, Algorithm::ES256, &DecodingKey::from_ec_pem(pem.as_bytes()).expect("the fixture's PEM"), "tollgate-e2e");
    assert_eq!(claims["sub"], "imported");

    // "Save JWKS…": the host's save dialog; the file holds the key under
    // its thumbprint, and that key verifies the token natively.
    click_as_a_person(&app, "#jwks-save");
    pick_in_dialog(&app, "Save the key set (JWKS)", &jwks_path, true);
    wait_until(&app, "the JWKS saved", "return document.querySelector('#jwks-save').textContent === 'Saved 1 key';");
    let saved: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&std::fs::read(&jwks_path).expect("the JWKS file")).expect("a JWKS");
    let jwk = saved.find(&want_thumbprint).expect("the key under its thumbprint");
    verify_natively(&token, Algorithm::ES256, &DecodingKey::from_jwk(jwk).expect("a key from the JWK"), "tollgate-e2e");
    assert!(!String::from_utf8_lossy(&std::fs::read(&jwks_path).expect("read")).contains("\"d\""), "no private member in the JWKS");

    // The decoder: the token against the saved key set file, picked in the
    // host's dialog.
    user.click("#decode-generated");
    wait_until(&app, "the token decoded", "return document.querySelector('#decoded-payload').textContent.length > 0;");
    user.click("#keyset > summary");
    click_as_a_person(&app, "#keyset-file");
    pick_in_dialog(&app, "Choose a key set (JWKS)", &jwks_path, false);
    wait_until(&app, "the verdict", "const r = document.querySelector('#keyset-result'); return !r.hidden && r.textContent !== 'Verifying…';");
    let verdict = app.run("return [document.querySelector('#keyset-result').textContent, document.querySelector('#keyset-detail').textContent];", &[]);
    assert_eq!(verdict[0], "Verified", "{verdict}");
    assert!(verdict[1].as_str().unwrap_or_default().contains(&want_thumbprint), "{verdict}");
    screenshot(&app, "key-set-file.png");
}

/// The app's main window on the X display: the largest window titled
/// "Tollgate". Not the last one xdotool lists: another window can carry
/// the same title (a 445×45 one was seen, a popup made for the window; not
/// identified), and a click aimed through it lands elsewhere in the page.
fn main_x_window() -> Option<String> {
    x_windows_titled("Tollgate").into_iter().max_by_key(|w| {
        let (_, _, width, height) = x_geometry(w);
        width * height
    })
}

/// The window's position and size on the X display, as xdotool says.
fn x_geometry(window: &str) -> (i64, i64, i64, i64) {
    let out = xdotool(&["getwindowgeometry", "--shell", window]);
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |key: &str| -> i64 {
        text.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("{key} in {text}"))
    };
    (get("X"), get("Y"), get("WIDTH"), get("HEIGHT"))
}

#[test]
fn a_key_file_dropped_on_the_window_goes_to_the_host_and_never_to_the_page() {
    ensure_secret_service();
    let files = tempfile::tempdir().expect("a folder for the user's files");
    let key_path = files.path().join("dropped-key.pem");
    std::fs::write(&key_path, fixture("p256.pem")).expect("write the key file");
    let want_thumbprint = p256_fixture_thumbprint();
    let app = App::launch();
    let user = User { app: &app };
    start_new_profile(&app);
    user.choose("#profile-algorithm", "ES256");
    // A hostile page does what a page must to be given a dropped file:
    // accept the drag, and read the files of the drop.
    app.run(
        "window.__drops = []; for (const type of ['dragenter', 'dragover']) document.addEventListener(type, (e) => e.preventDefault(), true); document.addEventListener('drop', async (e) => { e.preventDefault(); const f = e.dataTransfer && e.dataTransfer.files; window.__drops.push({ files: f ? f.length : 0, text: f && f.length ? await f[0].text() : '' }); }, true);",
        &[],
    );

    // A file manager's drag, by the pointer, onto the window.
    let main = main_x_window().expect("the main window");
    let (mx, my, mw, mh) = x_geometry(&main);
    let mut source = std::process::Command::new("/usr/bin/python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/drag-source.py"))
        .args([key_path.to_str().expect("utf-8"), "1110", "10"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the drag source (python3-gi)");
    let source_window = focus_x_window(&app, "Tollgate drag source");
    let (sx, sy, sw, sh) = x_geometry(&source_window);
    let (from_x, from_y) = (sx + sw / 2, sy + sh / 2);
    let (to_x, to_y) = (mx + mw / 2, my + mh / 2);
    let step = |x: i64, y: i64| assert!(xdotool(&["mousemove", "--sync", &x.to_string(), &y.to_string()]).status.success());
    step(from_x, from_y);
    assert!(xdotool(&["mousedown", "1"]).status.success());
    for i in 1..=20 {
        step(from_x + (to_x - from_x) * i / 20, from_y + (to_y - from_y) * i / 20);
        std::thread::sleep(Duration::from_millis(40));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(xdotool(&["mouseup", "1"]).status.success());

    wait_until(&app, "the dropped key read by the host", "return !document.querySelector('#key-made').hidden && document.querySelector('#key-public-pem').textContent.length > 0;");
    let note = app.text("#key-made-text");
    assert!(note.contains("read from a file by Tollgate") && note.contains(&want_thumbprint), "{note}");
    let drops = app.run("return window.__drops;", &[]);
    assert_eq!(drops, json!([]), "the page was handed the dropped file");
    let page = app.run("return document.documentElement.outerHTML;", &[]);
    assert!(!page.as_str().unwrap_or_default().contains("PRIVATE KEY"), "the private key reached the page");
    // A second import finds nothing: the drop is read once.
    let again = app.invoke("keys:import-dropped", json!({ "algorithm": "ES256" })).expect("answered");
    assert_eq!(again, Value::Null);
    let _ = source.kill();
    let _ = source.wait();
}

#[test]
fn a_user_moves_profiles_in_a_passphrase_bundle_through_the_hosts_dialogs() {
    ensure_secret_service();
    let files = tempfile::tempdir().expect("a folder for the user's files");
    let bundle = files.path().join("moving.tollgate-profiles");
    let app = App::launch();
    let user = User { app: &app };
    start_new_profile(&app);
    user.type_into("#profile-name", "Moving");
    user.type_into("#profile-key", HS256_SECRET);
    user.type_into("#profile-claims", r#"{"sub": "moving", "aud": "tollgate-e2e"}"#);
    user.click("#profile-save");
    user.wait_editing("Moving");

    user.click("#bundle-export-open");
    user.type_into("#bundle-passphrase", "a passphrase of some length");
    user.type_into("#bundle-confirm", "a passphrase of some length");
    click_as_a_person(&app, "#bundle-go");
    pick_in_dialog(&app, "Export profiles", &bundle, true);
    wait_until(&app, "the bundle saved", "return document.querySelector('#bundle-status').textContent === 'Saved 1 profile.';");
    let text = std::fs::read_to_string(&bundle).expect("the bundle file");
    assert!(!text.contains(HS256_SECRET) && !text.contains("Moving"), "the bundle holds plaintext");

    user.click("#bundle-import-open");
    user.type_into("#bundle-passphrase", "a passphrase of some length");
    click_as_a_person(&app, "#bundle-go");
    pick_in_dialog(&app, "Import profiles", &bundle, false);
    wait_until(&app, "the bundle imported", "return document.querySelector('#bundle-status').textContent.startsWith('Added');");
    assert_eq!(app.text("#bundle-status"), "Added Moving (imported).");
    screenshot(&app, "profiles-bundle.png");
    wait_until(&app, "the copy listed", "return Array.from(document.querySelectorAll('#profile-list li')).some((li) => li.textContent.includes('Moving (imported)'));");
    let page = app.run("return document.documentElement.outerHTML;", &[]);
    let page = page.as_str().unwrap_or_default();
    assert!(!page.contains(HS256_SECRET) && !page.contains(&*files.path().to_string_lossy()), "the page saw the key or the path");
}

#[test]
fn a_user_sets_the_tokens_kid_typ_and_custom_header_fields_in_the_editor() {
    ensure_secret_service();
    let app = App::launch();
    let user = User { app: &app };
    start_new_profile(&app);
    user.type_into("#profile-name", "Named kid");
    user.type_into("#profile-key", HS256_SECRET);
    user.type_into("#profile-claims", r#"{"sub": "kid", "aud": "tollgate-e2e"}"#);
    user.type_into("#profile-kid", "shared-2026");
    user.type_into("#profile-typ", "at+jwt");
    user.type_into("#profile-header-fields", r#"{"x-tenant": "eu-1", "ver": 2}"#);
    user.click("#profile-save");
    user.wait_editing("Named kid");
    let token = user.generate(None);
    let header = jsonwebtoken::decode_header(&token).expect("a header");
    assert_eq!((header.kid.as_deref(), header.typ.as_deref()), (Some("shared-2026"), Some("at+jwt")));
    assert_eq!(header.extras.get::<String>("x-tenant").expect("x-tenant"), Some("eu-1".to_owned()));
    assert_eq!(header.extras.get::<u32>("ver").expect("ver"), Some(2));
    // A field that would change how a verifier reads the token is refused,
    // next to the field, and the saved fields stay.
    user.clear("#profile-header-fields");
    user.type_into("#profile-header-fields", r#"{"crit": ["exp"]}"#);
    user.click("#profile-save");
    wait_until(&app, "crit refused", "return !document.querySelector('#profile-header-error').hidden;");
    assert!(app.text("#profile-header-error").contains("`crit` is refused"), "{}", app.text("#profile-header-error"));
    user.clear("#profile-header-fields");
    // A kid a verifier would misread is refused, next to the field.
    user.clear("#profile-kid");
    user.type_into("#profile-kid", "bad\u{e9}kid");
    user.click("#profile-save");
    wait_until(&app, "the kid refused", "return !document.querySelector('#profile-header-error').hidden;");
    assert!(app.text("#profile-header-error").contains("printable ASCII"), "{}", app.text("#profile-header-error"));
    // Emptied: back to the default (an HMAC profile's tokens then have no kid).
    user.clear("#profile-kid");
    user.clear("#profile-typ");
    user.click("#profile-save");
    wait_until(&app, "saved without a kid", "return document.querySelector('#profile-header-error').hidden && document.querySelector('#profile-dirty').hidden;");
    let token = user.generate(Some(&token));
    let header = jsonwebtoken::decode_header(&token).expect("a header");
    assert_eq!((header.kid, header.typ.as_deref()), (None, Some("JWT")));
    assert!(header.extras.inner().is_empty(), "{:?}", header.extras);
}

#[test]
fn an_rsa_4096_generation_shows_its_progress_and_can_be_cancelled() {
    ensure_secret_service();
    let app = App::launch();
    let user = User { app: &app };
    start_new_profile(&app);
    user.choose("#profile-algorithm", "RS256");
    assert!(user.is_shown("#key-rsa-bits"), "the RSA size is offered");
    user.choose("#key-rsa-bits", "4096");
    // A 4096-bit key takes 3 to 6 s here, but a lucky prime search can end
    // before the click lands: then try again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        user.click("#key-make");
        // The host announces it every 500 ms while it runs.
        wait_until(
            &app,
            "the generation's seconds or its key",
            "return /Generating a RS\\d+ key… \\d+ s/.test(document.querySelector('#key-make-progress').textContent) || !document.querySelector('#key-made').hidden;",
        );
        if attempts == 1 {
            app.run("document.querySelector('#key-make-progress').scrollIntoView({ block: 'center', behavior: 'instant' }); await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));", &[]);
            screenshot(&app, "profiles-key-generating.png");
        }
        let clicked = app.run("const b = document.querySelector('#key-make-cancel'); if (b.hidden) return false; b.click(); return true;", &[]);
        if clicked == json!(true) {
            break;
        }
        assert!(attempts < 5, "five RSA-4096 keys came before Cancel could be pressed");
        wait_until(&app, "the generation over", "return document.querySelector('#key-make-cancel').hidden;");
        // Another RSA algorithm, so the key that came is not offered for it.
        user.choose("#profile-algorithm", if attempts % 2 == 1 { "RS384" } else { "RS256" });
    }
    wait_until(&app, "the cancelled generation", "return document.querySelector('#key-make-progress').textContent === 'Cancelled: no key was made.';");
    assert_eq!(user.hidden("#key-made"), json!(true), "no key was offered");
    assert_eq!(user.hidden("#key-make-cancel"), json!(true));
    assert_eq!(app.run("return document.querySelector('#key-make').disabled;", &[]), json!(false), "Generate works again");
    user.choose("#profile-algorithm", "ES256");
    assert!(!user.is_shown("#key-rsa-bits"), "no RSA size for ES256");
}

#[test]
fn a_user_allows_a_host_in_the_hosts_own_question_and_verifies_against_its_key_set() {
    ensure_secret_service();
    let token = crate::keys::fixture_token(Some("fixture-rsa"));
    let (base, hits) = crate::keys::key_set_server(json!({ "keys": [crate::keys::fixture_public("fixture-rsa").jwk] }).to_string());
    let app = App::launch();
    let user = User { app: &app };
    app.session.send_keys(&app.find("#token-input"), &token).expect("type the token");
    user.click("#decode-button");
    wait_until(&app, "the token decoded", "return document.querySelector('#decoded-payload').textContent.length > 0;");
    user.click("#keyset > summary");
    user.type_into("#keyset-url", &format!("{base}/jwks"));
    // Page script alone: refused, nothing fetched.
    app.run("document.querySelector('#keyset-url-verify').click();", &[]);
    wait_until(&app, "the refusal", "const r = document.querySelector('#keyset-result'); return !r.hidden && r.textContent !== 'Verifying…';");
    assert_no_dialog("Allow key sets from a host", "page script's click");
    assert_eq!(hits.load(std::sync::atomic::Ordering::Relaxed), 0);
    // The user's click: the host asks; Alt+A is its Allow button.
    click_as_a_person(&app, "#keyset-url-verify");
    focus_x_window(&app, "Allow key sets from a host");
    assert!(xdotool(&["key", "--clearmodifiers", "alt+a"]).status.success());
    wait_until(&app, "the verdict", "const r = document.querySelector('#keyset-result'); return !r.hidden && r.textContent === 'Verified';");
    let host = base.trim_start_matches("http://");
    wait_until(&app, "the allowed host listed", &format!("return document.querySelector('#keyset-hosts').textContent.includes('{host}');"));
    assert_eq!(hits.load(std::sync::atomic::Ordering::Relaxed), 1);
    // Forget: back to offline.
    user.click("#keyset-hosts button");
    wait_until(&app, "the host forgotten", "return !document.querySelector('#keyset-hosts button');");
}
