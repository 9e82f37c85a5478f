//! `/v1/installations/{installationId}/token`: minting for the user's own
//! installations only, with an App JWT GitHub accepts.

use tollgate_auth_backend::fake_github::{FAKE_APP_ID, FakeGithub};
use tollgate_auth_backend::{AppPrivateKey, Config};

use crate::support::{Harness, post_raw, secs_until};

#[test]
fn a_token_for_the_users_own_installation_is_minted_with_a_valid_app_jwt() {
    let h = Harness::start();
    let session = h.session();
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let reply = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["installationId"], 11);
    assert_eq!(reply.body["accountLogin"], "octo-org");
    assert!(reply.body["token"].as_str().is_some_and(|t| t.starts_with("ghs_")), "{reply:?}");
    let ttl = secs_until(&reply.body["expiresAt"]);
    assert!((3570..=3600).contains(&ttl), "GitHub's expiry passes through: {ttl}");
    assert_eq!(h.github.installation_token_mints(), 1);

    // The fake verified the RS256 signature with the App's public key; these
    // are the claims it accepted.
    let claims = h.github.last_app_jwt_claims().expect("an App JWT was accepted");
    assert_eq!(claims.iss, FAKE_APP_ID);
    assert_eq!(claims.exp - claims.iat, 600, "backdated a minute, valid nine");
    assert!((before - 62..=before - 30).contains(&claims.iat), "iat = now - 60: {claims:?}");
}

#[test]
fn a_user_installation_of_type_user_is_minted_with_its_account() {
    let h = Harness::start();
    let session = h.session();
    let reply = h.post("/v1/installations/22/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.body["accountLogin"].as_str()), (200, Some("octocat")), "{reply:?}");
}

#[test]
fn a_foreign_installation_is_404_and_nothing_is_minted() {
    let h = Harness::start();
    let session = h.session();
    let reply = h.post("/v1/installations/33/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.error_code()), (404, "invalid_installation"), "{reply:?}");
    assert_eq!(h.github.installation_token_mints(), 0, "the fake would have minted: the backend checked first");
}

#[test]
fn the_installation_check_is_fresh_each_time() {
    let h = Harness::start();
    let session = h.session();
    assert_eq!(h.post("/v1/installations/11/token", Some(&session), "{}").status, 200);
    h.github.set_installations(vec![]);
    let reply = h.post("/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.error_code()), (404, "invalid_installation"), "{reply:?}");
}

#[test]
fn an_unknown_missing_or_malformed_session_is_401() {
    let h = Harness::start();
    let _real = h.session();
    let unknown = "A".repeat(43);
    let url = h.backend.url();
    let json = ("Content-Type", "application/json");
    let bearer_unknown = format!("Bearer {unknown}");
    let cases: [Vec<(&str, &str)>; 4] = [
        vec![json],
        vec![json, ("Authorization", &bearer_unknown)],
        vec![json, ("Authorization", "Bearer not-a-session")],
        vec![json, ("Authorization", "Basic b2N0b2NhdDpwYXNzd29yZA==")],
    ];
    for headers in cases {
        let reply = post_raw(url, "/v1/installations/11/token", &headers, b"{}".to_vec());
        assert_eq!((reply.status, reply.error_code()), (401, "unauthorized"), "{headers:?}: {reply:?}");
    }
    assert_eq!(h.github.installation_token_mints(), 0);
}

#[test]
fn a_non_numeric_installation_id_is_400() {
    let h = Harness::start();
    let session = h.session();
    let reply = h.post("/v1/installations/octo-org/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.error_code()), (400, "bad_request"), "{reply:?}");
}

#[test]
fn an_app_jwt_signed_with_another_key_is_refused_by_github_and_is_502() {
    let h = Harness::start();
    let other = FakeGithub::start_blocking();
    let wrong_key = AppPrivateKey::from_pem(other.app_private_key_pem().as_bytes()).expect("a valid key");
    drop(other);
    let mut config: Config = h.github.backend_config();
    config.app_key = wrong_key;
    let backend = tollgate_auth_backend::testing::spawn_backend_blocking(config).expect("backend starts");

    let code = crate::support::post(backend.url(), "/v1/device/code", None, "{}");
    let device_code = code.body["deviceCode"].as_str().expect("deviceCode").to_owned();
    let done = crate::support::post(backend.url(), "/v1/device/poll", None, &crate::support::poll_body(&device_code));
    let session = done.body["session"]["token"].as_str().expect("signed in").to_owned();
    let reply = crate::support::post(backend.url(), "/v1/installations/11/token", Some(&session), "{}");
    assert_eq!((reply.status, reply.error_code()), (502, "github_unavailable"), "{reply:?}");
    assert_eq!((h.github.installation_token_mints(), h.github.last_app_jwt_claims()), (0, None));
}
