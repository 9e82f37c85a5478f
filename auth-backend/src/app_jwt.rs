//! The GitHub App's own credential: a short-lived RS256 JWT, signed by this
//! backend with the App's private key, which GitHub takes on
//! `/app/installations/{id}/access_tokens`.
//!
//! GitHub refuses App JWTs that live longer than ten minutes or whose `iat`
//! is in its future; the backdating and lifetime below keep both true with
//! a minute of clock skew either way.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::AppPrivateKey;

/// How far `iat` is set in the past: GitHub's clock may be behind ours.
pub const APP_JWT_BACKDATE: Duration = Duration::from_secs(60);
/// How long an App JWT is valid from now. With the backdate, `exp - iat`
/// is exactly GitHub's ten-minute maximum.
pub const APP_JWT_LIFETIME: Duration = Duration::from_secs(9 * 60);

#[derive(Serialize)]
struct AppClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
}

/// Signs an App JWT for `app_id`, valid from `now - 60 s` to `now + 9 min`.
pub fn sign(app_id: &str, key: &AppPrivateKey, now: OffsetDateTime) -> Result<Zeroizing<String>, jsonwebtoken::errors::Error> {
    let now = now.unix_timestamp();
    let claims = AppClaims { iss: app_id, iat: now - secs(APP_JWT_BACKDATE), exp: now + secs(APP_JWT_LIFETIME) };
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, key.encoding_key()).map(Zeroizing::new)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
