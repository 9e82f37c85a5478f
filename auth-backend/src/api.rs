//! The REST API (docs/auth-backend.openapi.yaml): routes, handlers, and the
//! limits at the edge.
//!
//! Trust: every request is untrusted. Bodies are capped at
//! [`MAX_REQUEST_BODY_BYTES`] and parsed strictly; the bearer session token
//! is checked for shape and then only hashed ([`crate::session`]); device
//! codes are checked for shape before they are forwarded. Every refusal is
//! an [`ApiError`]. Logs name routes, users, installations and session
//! fingerprints, never a token or a device code.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::{Config, ConfigError};
use crate::device_flow::{DeviceFlows, looks_like_device_code};
use crate::error::ApiError;
use crate::github::{GithubClient, GithubError, TokenPoll};
use crate::session::{SessionKey, SessionRefusal, SessionStore, SessionToken, looks_like_session_token};
use crate::wire::{
    DeviceCodeResponse, EmptyBody, Health, InstallationToken, PollComplete, PollRequest, PollStatus, PollWaiting, RefreshRequest,
    RefreshResponse, SessionGrant,
};

/// The largest request body read. Every request body of this API is a few
/// dozen bytes; the cap keeps a client from making the backend buffer more.
pub const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024;
/// How often expired sessions (and the user tokens they hold) are dropped
/// from memory when nobody presents them.
pub const SESSION_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// `Retry-After` for the backend's own capacity limits (sessions held,
/// tokens per session), which free up as things expire.
const CAPACITY_RETRY_AFTER_SECS: u64 = 60;

/// What every handler shares.
pub struct Backend {
    github: Arc<GithubClient>,
    sessions: SessionStore,
    flows: DeviceFlows,
    device_codes: DefaultDirectRateLimiter,
}

impl Backend {
    fn new(config: Config) -> Result<Self, ConfigError> {
        let config = config.validate()?;
        Ok(Self {
            github: Arc::new(GithubClient::new(&config)),
            sessions: SessionStore::new(config.session_ttl, config.session_max_lifetime),
            flows: DeviceFlows::default(),
            device_codes: RateLimiter::direct(Quota::per_minute(config.device_codes_per_minute)),
        })
    }
}

/// The router for `config`, and the state behind it.
pub fn build(config: Config) -> Result<(Router, Arc<Backend>), ConfigError> {
    let backend = Arc::new(Backend::new(config)?);
    let router = Router::new()
        .route("/v1/health", get(health))
        .route("/v1/device/code", post(device_code))
        .route("/v1/device/poll", post(poll))
        .route("/v1/installations/{installation_id}/token", post(installation_token))
        .route("/v1/session/refresh", post(refresh))
        .route("/v1/session/logout", post(logout))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
        .layer(axum::middleware::from_fn(log_and_harden))
        .with_state(Arc::clone(&backend));
    Ok((router, backend))
}

/// Drops expired sessions every [`SESSION_SWEEP_INTERVAL`], for as long as
/// the server runs.
pub async fn sweep_sessions(backend: Arc<Backend>) {
    let mut tick = tokio::time::interval(SESSION_SWEEP_INTERVAL);
    loop {
        tick.tick().await;
        let dropped = backend.sessions.sweep(now());
        if dropped > 0 {
            tracing::info!(dropped, held = backend.sessions.len(), "expired sessions dropped");
        }
    }
}

/// Logs each request by route (never by raw path or headers) and marks
/// every answer `no-store`: several carry credentials.
async fn log_and_harden(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    tracing::info!(%method, %route, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis(), "request");
    response
}

/// The current time, to the second (RFC 3339 timestamps without fractions).
fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok".to_owned() })
}

async fn device_code(
    State(backend): State<Arc<Backend>>,
    body: Result<Json<EmptyBody>, JsonRejection>,
) -> Result<Json<DeviceCodeResponse>, ApiError> {
    let Json(EmptyBody {}) = body.map_err(reject_body)?;
    if let Err(not_until) = backend.device_codes.check() {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        // Rounded up: a client that waits exactly this long gets through.
        let wait_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::RateLimited {
            reason: "too many sign-ins are being started; try again shortly",
            retry_after: Some(HeaderValue::from(wait_secs.max(1))),
        });
    }
    let grant = backend.github.device_code().await.map_err(github_failure("device code"))?;
    backend.flows.start(&grant.device_code, grant.interval, grant.expires_in, now());
    tracing::info!(expires_in = grant.expires_in, interval = grant.interval, "device code issued");
    Ok(Json(DeviceCodeResponse {
        device_code: grant.device_code,
        user_code: grant.user_code,
        verification_uri: grant.verification_uri,
        expires_in: grant.expires_in,
        interval: grant.interval,
    }))
}

async fn poll(State(backend): State<Arc<Backend>>, body: Result<Json<PollRequest>, JsonRejection>) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(reject_body)?;
    let code = Zeroizing::new(request.device_code);
    if !looks_like_device_code(&code) {
        return Err(ApiError::BadRequest("deviceCode is empty, too long or not printable ASCII"));
    }
    let waiting = |status, interval| (StatusCode::ACCEPTED, Json(PollWaiting { status, interval })).into_response();
    match backend.github.poll_token(code.clone()).await.map_err(github_failure("device flow poll"))? {
        TokenPoll::Pending => Ok(waiting(PollStatus::Pending, backend.flows.interval(&code))),
        TokenPoll::SlowDown(github_interval) => {
            let interval = backend.flows.slow_down(&code, github_interval);
            tracing::info!(interval, "device flow told to slow down");
            Ok(waiting(PollStatus::SlowDown, interval))
        }
        TokenPoll::Denied => {
            backend.flows.finish(&code);
            Err(ApiError::AccessDenied)
        }
        TokenPoll::Expired => {
            backend.flows.finish(&code);
            Err(ApiError::ExpiredToken)
        }
        TokenPoll::IncorrectDeviceCode => {
            backend.flows.finish(&code);
            Err(ApiError::IncorrectDeviceCode)
        }
        TokenPoll::Granted { access_token, expires_in } => {
            backend.flows.finish(&code);
            let complete = complete_sign_in(&backend, access_token, expires_in).await?;
            Ok((StatusCode::OK, Json(complete)).into_response())
        }
    }
}

/// The user approved: find out who they are and what they can reach, and
/// open a session that holds their GitHub token.
async fn complete_sign_in(backend: &Backend, user_token: Zeroizing<String>, expires_in: Option<u64>) -> Result<PollComplete, ApiError> {
    let user = backend.github.user(user_token.clone()).await.map_err(github_failure("user"))?;
    let installations = backend.github.user_installations(user_token.clone()).await.map_err(github_failure("user installations"))?;
    let now = now();
    let user_token_expires_at = expires_in.map(|secs| now + Duration::from_secs(secs));
    let token = SessionToken::generate().map_err(|e| {
        tracing::error!("no randomness for a session token: {e}");
        ApiError::Internal
    })?;
    let expires_at = backend.sessions.create(&token, &user, user_token, user_token_expires_at, now).map_err(|_| ApiError::RateLimited {
        reason: "the backend holds too many sessions",
        retry_after: Some(HeaderValue::from(CAPACITY_RETRY_AFTER_SECS)),
    })?;
    tracing::info!(user = %user.login, installations = installations.len(), "sign-in complete");
    Ok(PollComplete {
        status: PollStatus::Complete,
        session: SessionGrant { token: token.as_str().to_owned(), expires_at },
        user,
        installations,
    })
}

async fn installation_token(
    State(backend): State<Arc<Backend>>,
    headers: HeaderMap,
    path: Result<Path<u64>, PathRejection>,
    body: Result<Json<EmptyBody>, JsonRejection>,
) -> Result<Json<InstallationToken>, ApiError> {
    let session = bearer_session(&headers)?;
    let Path(installation_id) = path.map_err(|_| ApiError::BadRequest("installationId must be a positive integer"))?;
    let Json(EmptyBody {}) = body.map_err(reject_body)?;
    mint(&backend, &session, installation_id).await.map(Json)
}

async fn refresh(
    State(backend): State<Arc<Backend>>,
    headers: HeaderMap,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Json<RefreshResponse>, ApiError> {
    let session = bearer_session(&headers)?;
    let Json(request) = body.map_err(reject_body)?;
    let installation_token = mint(&backend, &session, request.installation_id).await?;
    let session_expires_at = backend.sessions.extend(&session, now()).ok_or(ApiError::Unauthorized)?;
    tracing::info!(session = %session.fingerprint(), %session_expires_at, "session refreshed");
    Ok(Json(RefreshResponse { session_expires_at, installation_token }))
}

async fn logout(State(backend): State<Arc<Backend>>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let session = bearer_session(&headers)?;
    if let Some(minted) = backend.sessions.remove(&session, now()) {
        tracing::info!(session = %session.fingerprint(), "logged out");
        revoke_all(&backend, minted).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Mints an installation token for the session's user, after checking with
/// GitHub (as the user, fresh each time) that the installation is theirs.
async fn mint(backend: &Backend, session: &SessionKey, installation_id: u64) -> Result<InstallationToken, ApiError> {
    let user_token = backend.sessions.user_token_for_mint(session, now()).map_err(|refusal| match refusal {
        SessionRefusal::Unknown => ApiError::Unauthorized,
        SessionRefusal::TooManyTokens => ApiError::RateLimited {
            reason: "this session holds too many live installation tokens",
            retry_after: Some(HeaderValue::from(CAPACITY_RETRY_AFTER_SECS)),
        },
    })?;
    let installations = match backend.github.user_installations(user_token).await {
        Err(GithubError::Unauthorized) => {
            // The user revoked the App, or their token expired: the session
            // has nothing left to stand on.
            end_session(backend, session, "GitHub no longer accepts the user's token").await;
            return Err(ApiError::Unauthorized);
        }
        other => other.map_err(github_failure("user installations"))?,
    };
    let Some(installation) = installations.into_iter().find(|i| i.id == installation_id) else {
        tracing::info!(session = %session.fingerprint(), installation_id, "installation is not the user's");
        return Err(ApiError::InvalidInstallation(installation_id));
    };
    let minted = match backend.github.create_installation_token(installation_id).await {
        Err(GithubError::NotFound) => return Err(ApiError::InvalidInstallation(installation_id)),
        Err(GithubError::Unauthorized) => {
            tracing::error!("GitHub refused the App JWT: check the app id and the private key");
            return Err(ApiError::GithubUnavailable("GitHub refused the App's credentials".to_owned()));
        }
        other => other.map_err(github_failure("installation token"))?,
    };
    if !backend.sessions.record_minted(session, minted.token.clone(), minted.expires_at, now()) {
        // Logged out while GitHub minted: the token must not outlive it.
        revoke_all(backend, vec![minted.token]).await;
        return Err(ApiError::Unauthorized);
    }
    tracing::info!(session = %session.fingerprint(), installation_id, expires_at = %minted.expires_at, "installation token minted");
    Ok(InstallationToken {
        installation_id,
        account_login: installation.account_login,
        token: minted.token.as_str().to_owned(),
        expires_at: minted.expires_at,
    })
}

async fn end_session(backend: &Backend, session: &SessionKey, why: &str) {
    if let Some(minted) = backend.sessions.remove(session, now()) {
        tracing::info!(session = %session.fingerprint(), "session ended: {why}");
        revoke_all(backend, minted).await;
    }
}

/// Revokes tokens at GitHub, all at once, and waits for the answers. Best
/// effort: a failure is logged (the token still expires within the hour).
async fn revoke_all(backend: &Backend, tokens: Vec<Zeroizing<String>>) {
    if tokens.is_empty() {
        return;
    }
    let calls: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let github = Arc::clone(&backend.github);
            tokio::spawn(async move { github.revoke_installation_token(token).await })
        })
        .collect();
    let (mut revoked, mut failed) = (0usize, 0usize);
    for call in calls {
        match call.await {
            Ok(Ok(())) => revoked += 1,
            Ok(Err(e)) => {
                failed += 1;
                tracing::warn!("could not revoke an installation token: {}", e.describe());
            }
            Err(_) => failed += 1,
        }
    }
    tracing::info!(revoked, failed, "installation tokens revoked");
}

/// The session named by `Authorization: Bearer <token>`. Anything that is not
/// a well-formed session token is refused before it is hashed.
fn bearer_session(headers: &HeaderMap) -> Result<SessionKey, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or(ApiError::Unauthorized)?;
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !looks_like_session_token(token) {
        return Err(ApiError::Unauthorized);
    }
    Ok(SessionKey::of(token))
}

/// A body the extractor refused, as the API's error. serde's own message is
/// not passed on: it can quote the body back.
fn reject_body(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest("expected a JSON body (Content-Type: application/json)"),
        JsonRejection::JsonSyntaxError(_) => ApiError::BadRequest("the body is not valid JSON"),
        JsonRejection::JsonDataError(_) => ApiError::BadRequest("the JSON does not have the fields and types this endpoint takes"),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest("the body could not be read"),
    }
}

/// Maps a GitHub failure that means nothing special at this call: rate
/// limits pass through as 429, everything else is a 502.
fn github_failure(call: &'static str) -> impl Fn(GithubError) -> ApiError {
    move |error| match error {
        GithubError::RateLimited { retry_after } => {
            tracing::warn!(call, "GitHub rate limit");
            ApiError::RateLimited { reason: "GitHub's rate limit", retry_after }
        }
        other => {
            let why = other.describe();
            tracing::warn!(call, "GitHub call failed: {why}");
            ApiError::GithubUnavailable(why)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static(authorization));
        h
    }

    #[test]
    fn only_a_well_formed_bearer_session_token_is_looked_up() {
        let token = "A".repeat(crate::session::SESSION_TOKEN_CHARS);
        let good = format!("Bearer {token}");
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&good).expect("ascii"));
        assert_eq!(bearer_session(&h).ok().map(|k| k.fingerprint()), Some(SessionKey::of(&token).fingerprint()));
        assert_eq!(bearer_session(&HeaderMap::new()).err(), Some(ApiError::Unauthorized));
        assert_eq!(bearer_session(&headers("Basic dXNlcjpwYXNz")).err(), Some(ApiError::Unauthorized));
        assert_eq!(bearer_session(&headers("Bearer short")).err(), Some(ApiError::Unauthorized));
        assert_eq!(bearer_session(&headers("Bearer")).err(), Some(ApiError::Unauthorized));
    }
}
