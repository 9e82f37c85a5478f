//! The bridge's envelope parsing and validation (`bridge::envelope`,
//! `bridge::sender`, `bridge::json`) and the pipeline they open
//! (`Bridge::handle_message`, `Bridge::handle_binary`), over the bridge's
//! own channels.
//!
//! Input: one flag byte, then text. Flags: bit 0 the window (main or
//! about); bits 1-2 the page URL the window adapter reports (the app page,
//! the app origin, a foreign origin, or the text's first line); bit 3 the
//! binary path (the text's first three lines are the secret, request id and
//! channel headers, the rest the body). A secret field of exactly `S` is
//! replaced by the window's real secret, so the fuzzer reaches the checks
//! after the sender check; any other value is checked as sent.
//!
//! Every message must end in one response of the documented shape; one
//! that succeeds must have come from the app origin with the window's
//! secret.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tollgate::bridge::core::{Answer, Sender};
use tollgate::bridge::envelope::{self, MAX_CHANNEL_NAME_BYTES, MAX_REQUEST_ID_BYTES};
use tollgate::bridge::json::{self, FORBIDDEN_KEYS, MAX_DEPTH, MAX_SAFE_INTEGER};
use tollgate::bridge::sender::{self, APP_ORIGIN};
use tollgate::bridge::{Bridge, ChannelRegistry, ErrorCode, EventHub, WindowLabel};

/// The placeholder a fuzz input uses for the window's secret.
const SECRET_PLACEHOLDER: &str = "S";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let window = if flags & 1 == 0 { WindowLabel::Main } else { WindowLabel::About };
    let (page_url, message) = match (flags >> 1) & 3 {
        0 => ("tollgate://localhost/index.html", text),
        1 => (APP_ORIGIN, text),
        2 => ("https://evil.example/index.html", text),
        _ => text.split_once('\n').unwrap_or((text, "")),
    };
    check_url(page_url);

    let bridge = bridge();
    let secret = bridge.issue_secret(window).expect("the OS generator works");
    let sender = Sender { window, page_url };

    let (answer, secret_was_real) = if flags & 8 == 0 {
        let (message, real) = with_secret(message, &secret);
        check_envelope(&message);
        (bridge.handle_message(sender, &message).finish(), real)
    } else {
        let mut lines = message.splitn(4, '\n');
        let (presented, id, channel) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""), lines.next().unwrap_or(""));
        let body = lines.next().unwrap_or("").as_bytes().to_vec();
        let real = presented == SECRET_PLACEHOLDER;
        let presented = if real { secret.as_str() } else { presented };
        (bridge.handle_binary(sender, presented, id, channel, body).finish(), real)
    };
    check_answer(answer, sender, secret_was_real);
});

/// A fresh bridge over the bridge's own channels and the app's events:
/// fresh quotas and replay memory, so every input is judged on its content.
fn bridge() -> Bridge {
    let mut registry = ChannelRegistry::new();
    tollgate::bridge::channels::register(&mut registry).expect("the bridge's channels register");
    let mut events = EventHub::new();
    tollgate::channels::declare_events(&mut events);
    Bridge::new(registry, Arc::new(events))
}

/// Puts the window's secret in place of the placeholder in the secret line.
fn with_secret(message: &str, secret: &str) -> (String, bool) {
    let mut parts = message.splitn(3, '\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(magic), Some(SECRET_PLACEHOLDER), Some(rest)) => (format!("{magic}\n{secret}\n{rest}"), true),
        _ => (message.to_owned(), false),
    }
}

/// The envelope parser's promises, and the payload rules on what it
/// accepts.
fn check_envelope(message: &str) {
    match envelope::parse(message) {
        Ok(env) => {
            assert!(envelope::valid_request_id(env.request_id) && env.request_id.len() <= MAX_REQUEST_ID_BYTES);
            assert!(envelope::valid_channel_name(env.channel) && env.channel.len() <= MAX_CHANNEL_NAME_BYTES);
            assert_eq!(envelope::build(env.secret, env.request_id, env.channel, env.payload), message, "parsing loses nothing");
            if let Ok(value) = json::parse_checked(env.payload) {
                assert!(value.is_object());
                check_payload(&value, 1);
            }
        }
        Err(e) => {
            assert!(matches!(e.error.code, ErrorCode::PayloadTooLarge | ErrorCode::ValidationError | ErrorCode::UnknownChannel));
            if let Some(id) = &e.request_id {
                assert!(envelope::valid_request_id(id), "only a valid id is echoed");
            }
        }
    }
}

/// What `json::parse_checked` promises about a payload it accepts.
fn check_payload(value: &Value, depth: usize) {
    assert!(depth <= MAX_DEPTH, "nesting within the limit");
    match value {
        Value::Number(n) => {
            let f = n.as_f64().expect("a JSON number has an f64 value");
            assert!(f.is_finite() && f.abs() <= MAX_SAFE_INTEGER, "numbers within the safe range");
        }
        Value::Array(items) => items.iter().for_each(|v| check_payload(v, depth + 1)),
        Value::Object(map) => {
            for (key, v) in map {
                assert!(!FORBIDDEN_KEYS.contains(&key.as_str()), "no prototype keys");
                check_payload(v, depth + 1);
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// The sender check's origin rule, against the URL parser: what it takes
/// for the app's page is exactly the app origin to `url` too (no port, no
/// user info), and the origin it logs never carries a path, query or
/// fragment (which can carry tokens).
fn check_url(url: &str) {
    let app = sender::is_app_url(url);
    assert_eq!(app, sender::check_origin(url).is_ok());
    if app {
        let parsed = url::Url::parse(url).expect("an app URL parses");
        assert_eq!(
            (parsed.scheme(), parsed.host_str(), parsed.port(), parsed.username(), parsed.password()),
            ("tollgate", Some("localhost"), None, "", None),
            "an app URL is exactly the app origin to the URL parser"
        );
        assert_eq!(sender::origin_for_log(url), APP_ORIGIN, "an app URL has exactly the app origin");
    }
    let logged = sender::origin_for_log(url);
    let after_scheme = logged.split_once("://").map_or("", |(_, rest)| rest);
    assert!(!after_scheme.contains(['/', '?', '#']), "the logged origin {logged:?} carries more than scheme, host and port");
}

/// One answer of the documented shape; success only for the app's own page
/// presenting the window's secret.
fn check_answer(answer: Answer, sender: Sender<'_>, secret_was_real: bool) {
    let succeeded = answer.result.is_ok();
    if succeeded {
        assert!(sender::is_app_url(sender.page_url), "a call from another origin succeeded");
        assert!(secret_was_real, "a call without the window's secret succeeded");
    }
    let response = serde_json::to_value(answer.into_response()).expect("a response serializes");
    assert_eq!(response["success"], Value::Bool(succeeded));
    assert!(response.get("requestId").is_some() && response.get("data").is_some() && response.get("error").is_some());
    if let Some(code) = response["error"]["code"].as_str() {
        assert_ne!(code, ErrorCode::InternalError.as_str(), "no input is an internal error");
    }
}
