//! No credential reaches the logs: a whole flow (sign-in, mint, refresh,
//! logout) at TRACE level, then the captured output is searched for every
//! secret that flow handled.

use tollgate_auth_backend::fake_github::PollStep;

use crate::support::{Harness, captured_logs, poll_body};

#[test]
fn a_whole_flow_logs_no_token_or_device_code() {
    let h = Harness::start();
    h.github.set_device_script(vec![PollStep::Pending, PollStep::SlowDown(None), PollStep::Approve]);
    let code = h.post("/v1/device/code", None, "{}");
    let device_code = code.body["deviceCode"].as_str().expect("deviceCode").to_owned();
    let done = loop {
        let reply = h.post("/v1/device/poll", None, &poll_body(&device_code));
        if reply.status != 202 {
            break reply;
        }
    };
    assert_eq!(done.status, 200, "{done:?}");
    let session = done.body["session"]["token"].as_str().expect("session").to_owned();
    let minted = h.post("/v1/installations/11/token", Some(&session), "{}");
    let refreshed = h.post("/v1/session/refresh", Some(&session), r#"{"installationId": 22}"#);
    assert_eq!(h.post("/v1/session/logout", Some(&session), "{}").status, 204);

    let secrets = [
        ("device code", device_code),
        ("session token", session),
        ("user token", h.github.last_user_token().expect("issued")),
        ("installation token", minted.body["token"].as_str().expect("minted").to_owned()),
        ("refreshed token", refreshed.body["installationToken"]["token"].as_str().expect("minted").to_owned()),
    ];
    let logs = captured_logs();
    for marker in ["session created", "installation token minted", "session refreshed", "logged out", "installation tokens revoked"] {
        assert!(logs.contains(marker), "the flow was logged ({marker:?} missing)");
    }
    for (what, secret) in secrets {
        assert!(!logs.contains(&secret), "the {what} is in the logs");
    }
}
