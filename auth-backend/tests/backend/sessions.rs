//! `/v1/session/refresh` and `/v1/session/logout`: sliding expiry with a
//! cap, revocation of what a session minted, and sessions that end.

use std::time::Duration;

use tollgate_auth_backend::MAX_LIVE_TOKENS_PER_SESSION;

use crate::support::{Harness, post_raw, secs_until};

#[test]
fn refresh_mints_a_new_token_and_slides_the_session() {
    let h = Harness::with_config(|c| c.session_ttl = Duration::from_secs(600));
    let signed_in = h.sign_in();
    let session = signed_in["session"]["token"].as_str().expect("token").to_owned();
    let first_expiry = signed_in["session"]["expiresAt"].as_str().expect("expiresAt").to_owned();
    let first = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!(first.status, 200, "{first:?}");

    // Timestamps are whole seconds: let one pass so the slide shows.
    std::thread::sleep(Duration::from_millis(1100));
    let refreshed = h.post("/v1/session/refresh", Some(&session), r#"{"installationId": 11}"#);
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let token = &refreshed.body["installationToken"];
    assert_eq!((token["installationId"].as_u64(), token["accountLogin"].as_str()), (Some(11), Some("octo-org")));
    assert_ne!(token["token"], first.body["token"], "a fresh token");
    let new_expiry = refreshed.body["sessionExpiresAt"].as_str().expect("sessionExpiresAt");
    assert!(new_expiry > first_expiry.as_str(), "{new_expiry} after {first_expiry}");
    assert!((570..=600).contains(&secs_until(&refreshed.body["sessionExpiresAt"])));
    assert_eq!(h.github.installation_token_mints(), 2);
}

#[test]
fn refresh_never_extends_past_the_max_lifetime() {
    let h = Harness::with_config(|c| {
        c.session_ttl = Duration::from_secs(600);
        c.session_max_lifetime = Duration::from_secs(600);
    });
    let signed_in = h.sign_in();
    let session = signed_in["session"]["token"].as_str().expect("token");
    std::thread::sleep(Duration::from_millis(1100));
    let refreshed = h.post("/v1/session/refresh", Some(session), r#"{"installationId": 22}"#);
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    assert_eq!(refreshed.body["sessionExpiresAt"], signed_in["session"]["expiresAt"]);
}

#[test]
fn refresh_for_a_foreign_installation_is_404_and_for_no_session_401() {
    let h = Harness::start();
    let session = h.session();
    let foreign = h.post("/v1/session/refresh", Some(&session), r#"{"installationId": 33}"#);
    assert_eq!((foreign.status, foreign.error_code()), (404, "invalid_installation"));
    let nobody = h.post("/v1/session/refresh", Some(&"B".repeat(43)), r#"{"installationId": 11}"#);
    assert_eq!((nobody.status, nobody.error_code()), (401, "unauthorized"));
    let malformed = h.post("/v1/session/refresh", Some(&session), r#"{"installationId": "11"}"#);
    assert_eq!((malformed.status, malformed.error_code()), (400, "bad_request"));
    assert_eq!(h.github.installation_token_mints(), 0);
}

#[test]
fn logout_revokes_every_minted_token_and_forgets_the_session() {
    let h = Harness::start();
    let session = h.session();
    for id in [11, 22] {
        assert_eq!(h.post(&format!("/v1/installations/{id}/token"), Some(&session), "{}").status, 200);
    }
    assert_eq!(h.post("/v1/session/refresh", Some(&session), r#"{"installationId": 11}"#).status, 200);
    assert_eq!(h.github.live_installation_tokens(), 3);

    let out = h.post("/v1/session/logout", Some(&session), "{}");
    assert_eq!((out.status, out.raw.as_str()), (204, ""), "{out:?}");
    assert_eq!(h.github.revocations(), 3, "revoked before the 204");
    assert_eq!(h.github.live_installation_tokens(), 0);

    let after = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((after.status, after.error_code()), (401, "unauthorized"));
    let again = h.post("/v1/session/logout", Some(&session), "{}");
    assert_eq!(again.status, 204, "logout is idempotent");
    assert_eq!(h.github.revocations(), 3);
}

#[test]
fn logout_without_a_body_or_a_session_is_still_204_and_without_a_token_401() {
    let h = Harness::start();
    let nobody = post_raw(h.backend.url(), "/v1/session/logout", &[("Authorization", &format!("Bearer {}", "C".repeat(43)))], Vec::new());
    assert_eq!(nobody.status, 204, "{nobody:?}");
    let no_header = post_raw(h.backend.url(), "/v1/session/logout", &[], Vec::new());
    assert_eq!((no_header.status, no_header.error_code()), (401, "unauthorized"));
}

#[test]
fn a_user_who_revoked_the_app_loses_the_session() {
    let h = Harness::start();
    let session = h.session();
    assert_eq!(h.post("/v1/installations/11/token", Some(&session), "{}").status, 200);
    h.github.revoke_user_tokens();
    let refused = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((refused.status, refused.error_code()), (401, "unauthorized"), "{refused:?}");
    assert_eq!(h.github.revocations(), 1, "what the session minted is revoked with it");
    let refresh = h.post("/v1/session/refresh", Some(&session), r#"{"installationId": 11}"#);
    assert_eq!(refresh.status, 401, "the session is gone: {refresh:?}");
}

#[test]
fn a_session_holds_a_bounded_number_of_live_tokens() {
    let h = Harness::start();
    let session = h.session();
    for _ in 0..MAX_LIVE_TOKENS_PER_SESSION {
        assert_eq!(h.post("/v1/installations/11/token", Some(&session), "{}").status, 200);
    }
    let limited = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((limited.status, limited.error_code()), (429, "rate_limited"), "{limited:?}");
    assert!(limited.retry_after.is_some());
    assert_eq!(h.github.installation_token_mints(), u64::try_from(MAX_LIVE_TOKENS_PER_SESSION).expect("small"));
}

#[test]
fn an_expired_session_is_401() {
    let h = Harness::with_config(|c| {
        c.session_ttl = Duration::from_secs(1);
        c.session_max_lifetime = Duration::from_secs(1);
    });
    let session = h.session();
    std::thread::sleep(Duration::from_millis(2100));
    let reply = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.error_code()), (401, "unauthorized"), "{reply:?}");
}
