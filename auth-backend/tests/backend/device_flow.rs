//! `/v1/health`, `/v1/device/code` and `/v1/device/poll`: the device flow
//! from the app's side, each of GitHub's answers mapped to the contract.

use tollgate_auth_backend::fake_github::{FakeInstallation, FakeUser, PollStep};

use crate::support::{Harness, get, poll_body, post_raw, secs_until};

#[test]
fn health_answers_ok() {
    let h = Harness::start();
    let reply = get(h.backend.url(), "/v1/health");
    assert_eq!((reply.status, reply.body.clone()), (200, serde_json::json!({ "status": "ok" })), "{reply:?}");
}

#[test]
fn pending_then_approved_opens_a_session_with_the_user_and_their_installations() {
    let h = Harness::start();
    h.github.set_device_script(vec![PollStep::Pending, PollStep::Approve]);
    h.github.set_interval(3);
    h.github.set_expires_in(600);
    h.github.set_verification_uri("https://github.com/login/device");

    let code = h.post("/v1/device/code", None, "{}");
    assert_eq!(code.status, 200, "{code:?}");
    assert_eq!(code.body["verificationUri"], "https://github.com/login/device");
    assert_eq!(code.body["expiresIn"], 600);
    assert_eq!(code.body["interval"], 3);
    assert!(code.body["userCode"].as_str().is_some_and(|c| c.len() == 9), "{code:?}");
    let device_code = code.body["deviceCode"].as_str().expect("deviceCode");

    let pending = h.post("/v1/device/poll", None, &poll_body(device_code));
    assert_eq!((pending.status, pending.body.clone()), (202, serde_json::json!({ "status": "pending", "interval": 3 })));

    let done = h.post("/v1/device/poll", None, &poll_body(device_code));
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["status"], "complete");
    assert_eq!(
        done.body["user"],
        serde_json::json!({ "id": 1, "login": "octocat", "name": "The Octocat", "avatarUrl": "https://avatars.githubusercontent.com/u/1?v=4" })
    );
    assert_eq!(
        done.body["installations"],
        serde_json::json!([
            { "id": 11, "accountLogin": "octo-org", "accountType": "Organization" },
            { "id": 22, "accountLogin": "octocat", "accountType": "User" },
        ])
    );
    let token = done.body["session"]["token"].as_str().expect("session token");
    assert_eq!(token.len(), 43, "256 bits in base64url");
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
    let ttl = secs_until(&done.body["session"]["expiresAt"]);
    assert!((8 * 3600 - 30..=8 * 3600).contains(&ttl), "session lives 8 h by default: {ttl}");
    assert!(!done.raw.contains(&h.github.last_user_token().expect("a user token was issued")), "the user token stays in the backend");
    assert_eq!((h.github.device_code_requests(), h.github.polls()), (1, 2));
}

#[test]
fn a_user_without_name_or_avatar_gets_nulls() {
    let h = Harness::start();
    h.github.set_user(FakeUser { id: 7, login: "ghost".into(), name: None, avatar_url: None });
    h.github.set_installations(vec![FakeInstallation::new(5, "ghost", "User")]);
    let done = h.sign_in();
    assert_eq!(done["user"], serde_json::json!({ "id": 7, "login": "ghost", "name": null, "avatarUrl": null }));
    assert_eq!(done["installations"], serde_json::json!([{ "id": 5, "accountLogin": "ghost", "accountType": "User" }]));
}

#[test]
fn slow_down_passes_githubs_new_interval_or_adds_five_seconds() {
    let h = Harness::start();
    h.github.set_interval(2);
    h.github.set_device_script(vec![PollStep::SlowDown(Some(17)), PollStep::SlowDown(None), PollStep::Pending]);
    let code = h.post("/v1/device/code", None, "{}");
    let device_code = code.body["deviceCode"].as_str().expect("deviceCode");
    let poll = || h.post("/v1/device/poll", None, &poll_body(device_code));

    let first = poll();
    assert_eq!((first.status, first.body.clone()), (202, serde_json::json!({ "status": "slow_down", "interval": 17 })));
    let second = poll();
    assert_eq!((second.status, second.body.clone()), (202, serde_json::json!({ "status": "slow_down", "interval": 22 })));
    let third = poll();
    assert_eq!(
        (third.status, third.body.clone()),
        (202, serde_json::json!({ "status": "pending", "interval": 22 })),
        "the slower interval sticks"
    );
}

#[test]
fn a_declined_sign_in_is_403_access_denied() {
    let h = Harness::start();
    h.github.set_device_script(vec![PollStep::Pending, PollStep::Deny]);
    let code = h.post("/v1/device/code", None, "{}");
    let device_code = code.body["deviceCode"].as_str().expect("deviceCode");
    assert_eq!(h.post("/v1/device/poll", None, &poll_body(device_code)).status, 202);
    let denied = h.post("/v1/device/poll", None, &poll_body(device_code));
    assert_eq!((denied.status, denied.error_code()), (403, "access_denied"), "{denied:?}");
}

#[test]
fn an_expired_device_code_is_410_expired_token() {
    let h = Harness::start();
    h.github.set_device_script(vec![PollStep::Expired]);
    let code = h.post("/v1/device/code", None, "{}");
    let expired = h.post("/v1/device/poll", None, &poll_body(code.body["deviceCode"].as_str().expect("deviceCode")));
    assert_eq!((expired.status, expired.error_code()), (410, "expired_token"), "{expired:?}");
}

#[test]
fn an_unknown_device_code_is_400_incorrect_device_code() {
    let h = Harness::start();
    let reply = h.post("/v1/device/poll", None, &poll_body("0123456789abcdef0123456789abcdef01234567"));
    assert_eq!((reply.status, reply.error_code()), (400, "incorrect_device_code"), "{reply:?}");
    assert!(!reply.raw.contains("0123456789abcdef"), "the code is not echoed: {}", reply.raw);
}

#[test]
fn malformed_bodies_are_400_bad_request_and_not_forwarded() {
    let h = Harness::start();
    let url = h.backend.url();
    // (path, sent as JSON?, body)
    let cases = [
        ("/v1/device/poll", true, "{"),
        ("/v1/device/poll", true, "{}"),
        ("/v1/device/poll", true, r#"{"deviceCode": 5}"#),
        ("/v1/device/poll", true, r#"{"deviceCode": "abc", "extra": true}"#),
        ("/v1/device/poll", true, r#"{"deviceCode": ""}"#),
        ("/v1/device/poll", true, r#"{"deviceCode": "has space"}"#),
        ("/v1/device/poll", false, r#"{"deviceCode": "abc"}"#),
        ("/v1/device/code", true, r#"{"clientId": "x"}"#),
        ("/v1/device/code", false, ""),
    ];
    for (path, as_json, body) in cases {
        let headers: &[(&str, &str)] = if as_json { &[("Content-Type", "application/json")] } else { &[] };
        let reply = post_raw(url, path, headers, body.as_bytes().to_vec());
        assert_eq!((reply.status, reply.error_code()), (400, "bad_request"), "{path} {body}: {reply:?}");
    }
    assert_eq!((h.github.device_code_requests(), h.github.polls()), (0, 0));
}

#[test]
fn an_oversized_body_is_refused_with_413() {
    let h = Harness::start();
    let code = "a".repeat(20 * 1024);
    let reply = post_raw(h.backend.url(), "/v1/device/poll", &[("Content-Type", "application/json")], poll_body(&code).into_bytes());
    assert_eq!((reply.status, reply.error_code()), (413, "payload_too_large"), "{reply:?}");
    assert_eq!(h.github.polls(), 0);
}

#[test]
fn device_codes_are_rate_limited_per_process() {
    let h = Harness::with_config(|c| c.device_codes_per_minute = std::num::NonZeroU32::new(2).expect("non-zero"));
    assert_eq!(h.post("/v1/device/code", None, "{}").status, 200);
    assert_eq!(h.post("/v1/device/code", None, "{}").status, 200);
    let limited = h.post("/v1/device/code", None, "{}");
    assert_eq!((limited.status, limited.error_code()), (429, "rate_limited"), "{limited:?}");
    let wait: u64 = limited.retry_after.as_deref().and_then(|s| s.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(h.github.device_code_requests(), 2, "the limited request never reached GitHub");
}

#[test]
fn unknown_routes_and_methods_answer_the_error_shape() {
    let h = Harness::start();
    let missing = get(h.backend.url(), "/v1/nothing");
    assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
    let wrong_method = get(h.backend.url(), "/v1/device/code");
    assert_eq!((wrong_method.status, wrong_method.error_code()), (405, "method_not_allowed"));
}
