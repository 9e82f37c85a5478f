//! Every channel's request decoding, through the real pipeline: the app's
//! own bridge (`app::build_bridge`) over the app's services, with a
//! temporary data directory, an in-memory keychain (a fuzz process has no
//! Secret Service) and a sign-in backend on a closed loopback port.
//!
//! Input: a channel name and a newline (a name the registry does not
//! declare picks a declared channel by the sum of its bytes, so every input
//! reaches one), one flag byte (bit 0: the about window instead of main),
//! then the payload: JSON text for `tollgate.invoke` channels, the raw body
//! for the binary ones. The text `@profile` is replaced by the id of a
//! profile the target made at start-up and `@sealed` by an HS256 key
//! sealed by this install, so the fuzzer reaches `jwt:generate`,
//! `jwt:verify`, `profiles:save` and the rest past `NOT_FOUND` and the
//! sealed-key check.
//!
//! Each call goes through the bridge from the app page with the window's
//! secret and ends in one response of the documented shape, never
//! `INTERNAL_ERROR` (a panicking handler aborts the run: libFuzzer's panic
//! hook fires before the bridge's guard).

#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tollgate::{AppServices, build_bridge};
use tollgate::auth::{AuthConfig, AuthService, SystemClock};
use tollgate::bridge::core::{Answer, Sender};
use tollgate::bridge::envelope::build;
use tollgate::bridge::registry::{Body, Reply};
use tollgate::bridge::{ErrorCode, WindowLabel};
use tollgate::runtime::PluginEngine;
use tollgate_fuzz::{MemoryKeychain, NoBrowser};

const APP_PAGE: &str = "tollgate://localhost/index.html";
/// Replaced by the start-up profile's id.
const PROFILE_PLACEHOLDER: &str = "@profile";
/// Replaced by a key `crypto:encrypt` sealed at start-up.
const SEALED_KEY_PLACEHOLDER: &str = "@sealed";
/// Profiles kept across inputs before the target deletes the extra ones
/// (the store refuses more than 50, which would hide the save path).
const MAX_KEPT_PROFILES: usize = 20;
/// The HMAC secret of the start-up profile.
const BASE_KEY: &str = "fuzz-secret-fuzz-secret-fuzz-secret-0123";

struct App {
    services: Arc<AppServices>,
    profile: Mutex<String>,
    sealed_key: String,
    _data: tempfile::TempDir,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let data = tempfile::tempdir().expect("data dir");
        let engine = PluginEngine::new(tollgate_fuzz::engine_options()).expect("engine");
        let auth = AuthService::with_parts(
            // Nothing listens on the discard port: every backend call is
            // refused at once (NETWORK_ERROR), nothing leaves the machine.
            AuthConfig::new("http://127.0.0.1:9/").expect("a loopback backend"),
            Arc::new(MemoryKeychain::default()),
            Arc::new(SystemClock),
            Arc::new(NoBrowser),
        );
        let services = Arc::new(
            AppServices::with_keychain(&engine, data.path(), Arc::new(MemoryKeychain::default()))
                .expect("app services")
                .with_auth(auth),
        );
        let sealed_key = call(&services, "crypto:encrypt", json!({ "algorithm": "HS256", "key": BASE_KEY }))["encryptedKey"]
            .as_str()
            .expect("a sealed key")
            .to_owned();
        let profile = Mutex::new(create_profile(&services));
        App { services, profile, sealed_key, _data: data }
    })
}

/// A set-up call through the bridge, as the page makes it; it must succeed.
fn call(services: &Arc<AppServices>, channel: &str, payload: Value) -> Value {
    let bridge = build_bridge(services).expect("bridge");
    let secret = bridge.issue_secret(WindowLabel::Main).expect("secret");
    let message = build(&secret, "setup", channel, &payload.to_string());
    match bridge.handle_message(Sender { window: WindowLabel::Main, page_url: APP_PAGE }, &message).finish().result {
        Ok(Reply::Json(v)) => v,
        other => panic!("setting up: {channel} failed: {other:?}"),
    }
}

/// Makes an HS256 profile through the bridge and returns its id.
fn create_profile(services: &Arc<AppServices>) -> String {
    let sealed = call(services, "crypto:encrypt", json!({ "algorithm": "HS256", "key": BASE_KEY }));
    let name = format!("fuzz base {}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    let profile = call(
        services,
        "profiles:save",
        json!({ "name": name, "algorithm": "HS256", "encryptedKey": sealed["encryptedKey"],
                "payload": { "sub": "fuzz", "aud": "api" }, "expirationPreset": "1h" }),
    );
    profile["id"].as_str().expect("a saved profile has an id").to_owned()
}

/// Keeps the start-up profile and a bounded number of others across inputs.
fn restore_state(app: &App) {
    let profiles = app.services.profiles();
    let mut base = app.profile.lock().unwrap_or_else(|p| p.into_inner());
    let Ok(list) = profiles.list() else { return };
    if list.len() > MAX_KEPT_PROFILES {
        for p in &list {
            if p.id.to_string() != *base {
                let _ = profiles.delete(p.id);
            }
        }
    }
    if !list.iter().any(|p| p.id.to_string() == *base) {
        *base = create_profile(&app.services);
    }
}

fuzz_target!(
    // Set-up (compiling the app's guests, sealing a key, saving a profile:
    // seconds, more on a loaded machine) runs before libFuzzer times any
    // input, so `-timeout` bounds the inputs alone.
    init: {
        app();
    },
    |data: &[u8]| {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else { return };
    let (name, [flags, payload @ ..]) = (&data[..newline], &data[newline + 1..]) else { return };
    let app = app();
    // A fresh bridge per input: fresh quotas and replay memory, so no input
    // is refused for what earlier inputs spent.
    let bridge = build_bridge(&app.services).expect("bridge");
    let channels = bridge.registry().channels();
    let channel = match channels.iter().find(|c| c.spec.name.as_bytes() == name) {
        Some(channel) => channel,
        None => &channels[name.iter().map(|&b| usize::from(b)).sum::<usize>() % channels.len()],
    };
    let window = if flags & 1 == 0 { WindowLabel::Main } else { WindowLabel::About };
    let secret = bridge.issue_secret(window).expect("secret");
    let sender = Sender { window, page_url: APP_PAGE };
    let profile = app.profile.lock().unwrap_or_else(|p| p.into_inner()).clone();

    let answer = match channel.spec.body {
        Body::Json => {
            let Ok(text) = std::str::from_utf8(payload) else { return };
            let text = text.replace(PROFILE_PLACEHOLDER, &profile).replace(SEALED_KEY_PLACEHOLDER, &app.sealed_key);
            let message = build(&secret, "fuzz-1", channel.spec.name, &text);
            bridge.handle_message(sender, &message).finish()
        }
        Body::BinaryUpload | Body::BinaryDownload => {
            bridge.handle_binary(sender, &secret, "fuzz-1", channel.spec.name, payload.to_vec()).finish()
        }
    };
    check_answer(answer, window, channel.spec.windows, channel.spec.body);
    restore_state(app);
});

/// One answer of the documented shape, never an internal error; success
/// only in a window the channel allows.
fn check_answer(answer: Answer, window: WindowLabel, allowed: &[WindowLabel], body: Body) {
    if let Err(e) = &answer.result {
        assert_ne!(e.code, ErrorCode::InternalError, "an input made the host fail: {e:?}");
        return;
    }
    assert!(allowed.contains(&window), "a window the channel does not allow got an answer");
    if body == Body::BinaryDownload {
        assert!(matches!(answer.result, Ok(Reply::Bytes(_))));
        return;
    }
    let response = serde_json::to_value(answer.into_response()).expect("a response serializes");
    assert_eq!(response["success"], Value::Bool(true));
    assert_eq!(response["requestId"], "fuzz-1");
}
