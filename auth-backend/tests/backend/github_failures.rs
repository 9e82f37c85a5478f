//! GitHub failing: unreachable or erroring is 502 `github_unavailable`, its
//! rate limits are 429 `rate_limited` with `Retry-After` passed on.

use tollgate_auth_backend::fake_github::{FAKE_RETRY_AFTER_SECS, PollStep};

use crate::support::{Harness, poll_body, refused_url};

#[test]
fn github_refusing_connections_is_502() {
    let h = Harness::with_config(|c| {
        c.github_url = refused_url();
        c.github_api_url = refused_url();
    });
    let reply = h.post("/v1/device/code", None, "{}");
    assert_eq!((reply.status, reply.error_code()), (502, "github_unavailable"), "{reply:?}");
    let poll = h.post("/v1/device/poll", None, &poll_body("abc"));
    assert_eq!((poll.status, poll.error_code()), (502, "github_unavailable"), "{poll:?}");
}

#[test]
fn github_stopping_mid_session_is_502() {
    let h = Harness::start();
    let session = h.session();
    let crate::support::Harness { github, backend } = h;
    github.shutdown();
    let reply = crate::support::post(backend.url(), "/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.error_code()), (502, "github_unavailable"), "{reply:?}");
}

#[test]
fn github_5xx_on_the_poll_or_the_mint_is_502() {
    let h = Harness::start();
    let session = h.session();
    h.github.set_device_script(vec![PollStep::HttpStatus(503)]);
    let code = h.post("/v1/device/code", None, "{}");
    let poll = h.post("/v1/device/poll", None, &poll_body(code.body["deviceCode"].as_str().expect("deviceCode")));
    assert_eq!((poll.status, poll.error_code()), (502, "github_unavailable"), "{poll:?}");
    h.github.set_fail_installation_tokens(Some(500));
    let mint = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((mint.status, mint.error_code()), (502, "github_unavailable"), "{mint:?}");
}

#[test]
fn github_429_is_429_with_its_retry_after() {
    let h = Harness::start();
    h.github.set_device_script(vec![PollStep::HttpStatus(429)]);
    let code = h.post("/v1/device/code", None, "{}");
    let reply = h.post("/v1/device/poll", None, &poll_body(code.body["deviceCode"].as_str().expect("deviceCode")));
    assert_eq!((reply.status, reply.error_code()), (429, "rate_limited"), "{reply:?}");
    assert_eq!(reply.retry_after, Some(FAKE_RETRY_AFTER_SECS.to_string()));
}

#[test]
fn github_403_rate_limit_on_the_mint_is_429_with_a_retry_after_from_the_reset() {
    let h = Harness::start();
    let session = h.session();
    h.github.set_fail_installation_tokens(Some(403));
    let reply = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.error_code()), (429, "rate_limited"), "{reply:?}");
    let wait: u64 = reply.retry_after.as_deref().and_then(|s| s.parse().ok()).expect("Retry-After in seconds");
    assert!((30..=61).contains(&wait), "derived from x-ratelimit-reset: {wait}");
}
