//! A fake GitHub for tests: a real HTTP server on `127.0.0.1:<ephemeral>`
//! with the endpoints the backend calls, scripted and inspected from Rust.
//!
//! It serves both GitHub origins from one base URL: the OAuth device flow
//! (`/login/device/code`, `/login/oauth/access_token`) and the REST API
//! (`/user`, `/user/installations`, `/app/installations/{id}/access_tokens`,
//! `DELETE /installation/token`). It answers as GitHub does where it
//! matters to a client: the device flow's errors come as HTTP 200 with an
//! `error` field, rate limits carry GitHub's headers, bearer tokens it did not
//! issue get 401 "Bad credentials", and App JWTs are verified (RS256 against
//! the key pair it generated at start, `iss` = [`FAKE_APP_ID`],
//! `exp - iat` at most ten minutes).
//!
//! The server runs on its own thread with its own tokio runtime, so it
//! serves synchronous (`std::thread`) tests and async ones alike; dropping
//! the [`FakeGithub`] stops it and closes its port.
//!
//! Not for production: it exists for tests and `--fake-github`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::config::{AppPrivateKey, Config};

/// The App id the fake expects as the App JWT's `iss`.
pub const FAKE_APP_ID: &str = "424242";
/// The client id the fake expects on the device flow.
pub const FAKE_CLIENT_ID: &str = "Iv23.fake-client-id";
/// The `Retry-After` the fake sends with a scripted 429.
pub const FAKE_RETRY_AFTER_SECS: u64 = 60;
/// Seconds GitHub's expiring user access tokens live (the fake's
/// `expires_in` on approval).
pub const FAKE_USER_TOKEN_TTL_SECS: u64 = 8 * 3600;
/// The App key's size, as GitHub generates them.
const APP_KEY_BITS: usize = 2048;
/// GitHub refuses App JWTs whose lifetime (`exp - iat`) exceeds ten minutes.
const MAX_APP_JWT_LIFETIME_SECS: i64 = 600;
/// Clock skew the fake tolerates on `iat` and `exp`.
const CLOCK_SKEW_SECS: i64 = 60;
const DEVICE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What one poll of `/login/oauth/access_token` answers. Each poll of a
/// device code consumes the next step; the last step repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollStep {
    /// `{"error": "authorization_pending"}`.
    Pending,
    /// `{"error": "slow_down", "interval": n}`, or without `interval`.
    SlowDown(Option<u64>),
    /// The user approved: an access token (`ghu_...`, `expires_in`
    /// [`FAKE_USER_TOKEN_TTL_SECS`]) for the configured user.
    Approve,
    /// `{"error": "access_denied"}`.
    Deny,
    /// `{"error": "expired_token"}`.
    Expired,
    /// That HTTP status with a GitHub-style `{"message"}` body. 429 carries
    /// `Retry-After: 60`; 403 carries `x-ratelimit-remaining: 0` and
    /// `x-ratelimit-reset` a minute ahead (GitHub's rate-limit shapes).
    HttpStatus(u16),
}

/// The signed-in user as `GET /user` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    /// Numeric id.
    pub id: u64,
    /// Login.
    pub login: String,
    /// Display name (`null` when `None`).
    pub name: Option<String>,
    /// Avatar URL (`null` when `None`).
    pub avatar_url: Option<String>,
}

impl Default for FakeUser {
    /// octocat, id 1, "The Octocat", with an avatar.
    fn default() -> Self {
        Self {
            id: 1,
            login: "octocat".to_owned(),
            name: Some("The Octocat".to_owned()),
            avatar_url: Some("https://avatars.githubusercontent.com/u/1?v=4".to_owned()),
        }
    }
}

/// An installation of the App the user can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeInstallation {
    /// Installation id.
    pub id: u64,
    /// The account's login.
    pub account_login: String,
    /// `Organization` or `User`.
    pub account_type: String,
}

impl FakeInstallation {
    /// An installation on `account_login` (of `account_type`).
    pub fn new(id: u64, account_login: impl Into<String>, account_type: impl Into<String>) -> Self {
        Self { id, account_login: account_login.into(), account_type: account_type.into() }
    }

    /// The defaults: 11 on `octo-org` (Organization), 22 on `octocat` (User).
    pub fn defaults() -> Vec<Self> {
        vec![Self::new(11, "octo-org", "Organization"), Self::new(22, "octocat", "User")]
    }
}

/// The claims of an App JWT the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppJwtClaims {
    /// Issuer: the App id.
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

struct FakeState {
    script: Vec<PollStep>,
    /// Issued device codes and how many polls each has had since the script
    /// was last set.
    device_codes: HashMap<String, usize>,
    verification_uri: String,
    interval: u64,
    expires_in: u64,
    user: FakeUser,
    installations: Vec<FakeInstallation>,
    token_ttl: u64,
    fail_installation_tokens: Option<u16>,
    user_tokens: HashSet<String>,
    last_user_token: Option<String>,
    /// Live installation tokens and their installation.
    installation_tokens: HashMap<String, u64>,
    device_code_requests: u64,
    polls: u64,
    mints: u64,
    revocations: u64,
    last_app_jwt: Option<AppJwtClaims>,
}

impl Default for FakeState {
    fn default() -> Self {
        Self {
            script: vec![PollStep::Approve],
            device_codes: HashMap::new(),
            verification_uri: "https://github.com/login/device".to_owned(),
            interval: 5,
            expires_in: 900,
            user: FakeUser::default(),
            installations: FakeInstallation::defaults(),
            token_ttl: 3600,
            fail_installation_tokens: None,
            user_tokens: HashSet::new(),
            last_user_token: None,
            installation_tokens: HashMap::new(),
            device_code_requests: 0,
            polls: 0,
            mints: 0,
            revocations: 0,
            last_app_jwt: None,
        }
    }
}

struct Shared {
    state: Mutex<FakeState>,
    jwt_key: DecodingKey,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake GitHub. Dropping it stops the server.
pub struct FakeGithub {
    url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    app_key_pem: Zeroizing<String>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeGithub {
    /// Starts a fake GitHub (from async code; the key generation and the
    /// server run off the caller's runtime).
    ///
    /// # Panics
    ///
    /// As [`FakeGithub::start_blocking`].
    pub async fn start() -> FakeGithub {
        match tokio::task::spawn_blocking(Self::start_blocking).await {
            Ok(fake) => fake,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("fake GitHub: start was cancelled: {e}"),
        }
    }

    /// Starts a fake GitHub on its own thread: generates the App's 2048-bit
    /// RSA key pair, binds `127.0.0.1:0` and serves until dropped.
    ///
    /// # Panics
    ///
    /// If the key cannot be generated, loopback cannot be bound or the
    /// thread cannot start: a test fixture has nothing better to do.
    pub fn start_blocking() -> FakeGithub {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, APP_KEY_BITS).expect("fake GitHub: generate the App key");
        let app_key_pem = key.to_pkcs1_pem(LineEnding::LF).expect("fake GitHub: encode the App key");
        let public = key.to_public_key();
        let jwt_key = DecodingKey::from_rsa_raw_components(&public.n().to_bytes_be(), &public.e().to_bytes_be());
        let shared = Arc::new(Shared { state: Mutex::new(FakeState::default()), jwt_key });

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("fake GitHub: bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("fake GitHub: non-blocking listener");
        let addr = listener.local_addr().expect("fake GitHub: local address");
        let (shutdown, stop) = oneshot::channel::<()>();
        let app = routes(Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("fake-github".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("fake GitHub: tokio runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("fake GitHub: tokio listener");
                    let served = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop.await;
                        })
                        .await;
                    if let Err(e) = served {
                        tracing::error!("fake GitHub stopped: {e}");
                    }
                });
            })
            .expect("fake GitHub: spawn its thread");
        tracing::info!(%addr, "fake GitHub listening");
        FakeGithub {
            url: format!("http://{addr}"),
            addr,
            shared,
            app_key_pem: Zeroizing::new(app_key_pem.to_string()),
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The base URL (`http://127.0.0.1:<port>`, no trailing slash) of both
    /// the OAuth endpoints and the API.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The App's private key (PKCS#1 PEM, as GitHub hands it out).
    pub fn app_private_key_pem(&self) -> &str {
        &self.app_key_pem
    }

    /// The App id it expects ([`FAKE_APP_ID`]).
    pub fn app_id(&self) -> &str {
        FAKE_APP_ID
    }

    /// The client id it expects ([`FAKE_CLIENT_ID`]).
    pub fn client_id(&self) -> &str {
        FAKE_CLIENT_ID
    }

    /// A backend configuration pointing at this fake, with its client id,
    /// App id and key, and the default lifetimes and limits.
    ///
    /// # Panics
    ///
    /// Never in practice: the key was generated by this fake.
    pub fn backend_config(&self) -> Config {
        let key = AppPrivateKey::from_pem(self.app_key_pem.as_bytes()).expect("fake GitHub: its own key is a valid App key");
        let mut config = Config::new(FAKE_CLIENT_ID, FAKE_APP_ID, key);
        config.github_url = self.url.clone();
        config.github_api_url = self.url.clone();
        config
    }

    /// What polls answer from now on, for every device code (each code's
    /// poll count restarts). The last step repeats; an empty script answers
    /// `authorization_pending` forever. Default: `[Approve]`.
    pub fn set_device_script(&self, steps: Vec<PollStep>) {
        let mut state = self.shared.lock();
        state.script = steps;
        state.device_codes.values_mut().for_each(|polls| *polls = 0);
    }

    /// The `verification_uri` of new device codes.
    pub fn set_verification_uri(&self, uri: impl Into<String>) {
        self.shared.lock().verification_uri = uri.into();
    }

    /// The `interval` (seconds) of new device codes. Default 5.
    pub fn set_interval(&self, secs: u64) {
        self.shared.lock().interval = secs;
    }

    /// The `expires_in` (seconds) of new device codes. Default 900.
    pub fn set_expires_in(&self, secs: u64) {
        self.shared.lock().expires_in = secs;
    }

    /// The user `GET /user` answers. Default [`FakeUser::default`].
    pub fn set_user(&self, user: FakeUser) {
        self.shared.lock().user = user;
    }

    /// The installations `GET /user/installations` answers. Default
    /// [`FakeInstallation::defaults`]. Minting works for any installation
    /// id (the App is installed more widely than this user can see), so a
    /// backend that forgets to check mints for foreign ones.
    pub fn set_installations(&self, installations: Vec<FakeInstallation>) {
        self.shared.lock().installations = installations;
    }

    /// Lifetime (seconds) of minted installation tokens. Default 3600.
    pub fn set_token_ttl(&self, secs: u64) {
        self.shared.lock().token_ttl = secs;
    }

    /// Makes `POST /app/installations/{id}/access_tokens` answer this status
    /// (shaped as in [`PollStep::HttpStatus`]) instead of minting; `None`
    /// mints again.
    pub fn set_fail_installation_tokens(&self, status: Option<u16>) {
        self.shared.lock().fail_installation_tokens = status;
    }

    /// Revokes every user access token issued so far, as a user revoking the
    /// App's authorization does: `/user` and `/user/installations` answer 401.
    pub fn revoke_user_tokens(&self) {
        self.shared.lock().user_tokens.clear();
    }

    /// `POST /login/device/code` requests so far.
    pub fn device_code_requests(&self) -> u64 {
        self.shared.lock().device_code_requests
    }

    /// `POST /login/oauth/access_token` requests so far.
    pub fn polls(&self) -> u64 {
        self.shared.lock().polls
    }

    /// Installation tokens minted so far.
    pub fn installation_token_mints(&self) -> u64 {
        self.shared.lock().mints
    }

    /// Successful `DELETE /installation/token` requests so far.
    pub fn revocations(&self) -> u64 {
        self.shared.lock().revocations
    }

    /// Installation tokens minted and not revoked.
    pub fn live_installation_tokens(&self) -> usize {
        self.shared.lock().installation_tokens.len()
    }

    /// The claims of the last App JWT the fake accepted.
    pub fn last_app_jwt_claims(&self) -> Option<AppJwtClaims> {
        self.shared.lock().last_app_jwt.clone()
    }

    /// The last user access token issued (to check it never reaches a client).
    pub fn last_user_token(&self) -> Option<String> {
        self.shared.lock().last_user_token.clone()
    }

    /// Stops the server and waits until its port is closed.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for FakeGithub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGithub").field("url", &self.url).finish_non_exhaustive()
    }
}

fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/login/device/code", post(device_code))
        .route("/login/oauth/access_token", post(access_token))
        .route("/user", get(user))
        .route("/user/installations", get(user_installations))
        .route("/app/installations/{id}/access_tokens", post(mint))
        .route("/installation/token", delete(revoke))
        .layer(axum::middleware::from_fn(require_user_agent))
        .with_state(shared)
}

/// GitHub refuses requests without a User-Agent.
async fn require_user_agent(request: Request, next: axum::middleware::Next) -> Response {
    if request.headers().get(header::USER_AGENT).is_none_or(|ua| ua.is_empty()) {
        return github_message(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        );
    }
    next.run(request).await
}

/// The OAuth endpoints' parameters, as a form or as JSON (GitHub takes both).
struct OauthParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for OauthParams {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            let Json(map) = Json::<HashMap<String, Value>>::from_request(request, state).await.map_err(IntoResponse::into_response)?;
            let strings = map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    _ => None,
                })
                .collect();
            Ok(Self(strings))
        } else {
            let Form(map) = Form::<HashMap<String, String>>::from_request(request, state).await.map_err(IntoResponse::into_response)?;
            Ok(Self(map))
        }
    }
}

impl OauthParams {
    fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

/// An OAuth answer: JSON when asked for, else form-encoded (GitHub's default).
fn oauth_answer(headers: &HeaderMap, status: StatusCode, fields: Value) -> Response {
    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return (status, Json(fields)).into_response();
    }
    let encoded = fields
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    format!("{k}={}", form_escape(&text))
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")], encoded).into_response()
}

fn form_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn oauth_error(headers: &HeaderMap, error: &str, description: &str) -> Response {
    oauth_answer(
        headers,
        StatusCode::OK,
        json!({ "error": error, "error_description": description, "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow" }),
    )
}

async fn device_code(State(shared): State<Arc<Shared>>, headers: HeaderMap, params: OauthParams) -> Response {
    let mut state = shared.lock();
    state.device_code_requests += 1;
    if params.get("client_id") != FAKE_CLIENT_ID {
        return oauth_answer(&headers, StatusCode::UNAUTHORIZED, json!({ "error": "incorrect_client_credentials" }));
    }
    let device_code = random_hex(20);
    let user_code = {
        let raw = random_hex(4).to_ascii_uppercase();
        format!("{}-{}", &raw[..4], &raw[4..])
    };
    state.device_codes.insert(device_code.clone(), 0);
    let answer = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": state.verification_uri,
        "expires_in": state.expires_in,
        "interval": state.interval,
    });
    oauth_answer(&headers, StatusCode::OK, answer)
}

async fn access_token(State(shared): State<Arc<Shared>>, headers: HeaderMap, params: OauthParams) -> Response {
    let mut state = shared.lock();
    state.polls += 1;
    if params.get("client_id") != FAKE_CLIENT_ID {
        return oauth_error(&headers, "incorrect_client_credentials", "The client_id is not valid.");
    }
    if params.get("grant_type") != DEVICE_GRANT_TYPE {
        return oauth_error(&headers, "unsupported_grant_type", "The grant type is not supported.");
    }
    let code = params.get("device_code");
    let Some(polls) = state.device_codes.get_mut(code) else {
        return oauth_error(&headers, "incorrect_device_code", "The device_code provided is not valid.");
    };
    let index = *polls;
    *polls += 1;
    let step = match state.script.len() {
        0 => PollStep::Pending,
        len => state.script[index.min(len - 1)].clone(),
    };
    match step {
        PollStep::Pending => oauth_error(&headers, "authorization_pending", "The authorization request is still pending."),
        PollStep::SlowDown(interval) => {
            let mut answer =
                json!({ "error": "slow_down", "error_description": "Too many requests have been made in the same timeframe." });
            if let (Some(interval), Some(map)) = (interval, answer.as_object_mut()) {
                map.insert("interval".to_owned(), json!(interval));
            }
            oauth_answer(&headers, StatusCode::OK, answer)
        }
        PollStep::Deny => oauth_error(&headers, "access_denied", "The authorization request was denied."),
        PollStep::Expired => oauth_error(&headers, "expired_token", "The device_code has expired."),
        PollStep::HttpStatus(status) => failure(status),
        PollStep::Approve => {
            let token = format!("ghu_{}", random_hex(18));
            state.user_tokens.insert(token.clone());
            state.last_user_token = Some(token.clone());
            let answer = json!({
                "access_token": token,
                "token_type": "bearer",
                "scope": "",
                "expires_in": FAKE_USER_TOKEN_TTL_SECS,
                "refresh_token": format!("ghr_{}", random_hex(36)),
                "refresh_token_expires_in": 15_811_200,
            });
            oauth_answer(&headers, StatusCode::OK, answer)
        }
    }
}

/// Whether the request carries a user access token the fake issued (and
/// nobody revoked).
fn has_user_token(state: &FakeState, headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|token| state.user_tokens.contains(token))
}

async fn user(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let state = shared.lock();
    if !has_user_token(&state, &headers) {
        return bad_credentials();
    }
    let u = &state.user;
    Json(json!({
        "login": u.login,
        "id": u.id,
        "node_id": format!("U_{}", u.id),
        "avatar_url": u.avatar_url,
        "type": "User",
        "site_admin": false,
        "name": u.name,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct PageQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

async fn user_installations(State(shared): State<Arc<Shared>>, headers: HeaderMap, Query(query): Query<PageQuery>) -> Response {
    let state = shared.lock();
    if !has_user_token(&state, &headers) {
        return bad_credentials();
    }
    let per_page = query.per_page.unwrap_or(30).clamp(1, 100);
    let page = query.page.unwrap_or(1).max(1);
    let installations: Vec<Value> = state
        .installations
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|i| {
            json!({
                "id": i.id,
                "account": { "login": i.account_login, "id": i.id * 1000, "type": i.account_type },
                "app_id": FAKE_APP_ID.parse::<u64>().unwrap_or_default(),
                "target_type": i.account_type,
                "repository_selection": "all",
                "permissions": { "contents": "read", "metadata": "read" },
            })
        })
        .collect();
    Json(json!({ "total_count": state.installations.len(), "installations": installations })).into_response()
}

async fn mint(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let claims = match verify_app_jwt(&shared.jwt_key, &headers) {
        Ok(claims) => claims,
        Err(why) => return github_message(StatusCode::UNAUTHORIZED, why),
    };
    let mut state = shared.lock();
    state.last_app_jwt = Some(claims);
    if let Some(status) = state.fail_installation_tokens {
        return failure(status);
    }
    if id == 0 {
        return github_message(StatusCode::NOT_FOUND, "Not Found");
    }
    let token = format!("ghs_{}", random_hex(18));
    let expires_at = OffsetDateTime::now_utc() + std::time::Duration::from_secs(state.token_ttl);
    let expires_at = expires_at.replace_nanosecond(0).unwrap_or(expires_at).format(&Rfc3339).unwrap_or_default();
    state.installation_tokens.insert(token.clone(), id);
    state.mints += 1;
    (
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "expires_at": expires_at,
            "permissions": { "contents": "read", "metadata": "read" },
            "repository_selection": "all",
        })),
    )
        .into_response()
}

async fn revoke(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let mut state = shared.lock();
    let Some(token) = bearer(&headers) else {
        return bad_credentials();
    };
    if state.installation_tokens.remove(token).is_none() {
        return bad_credentials();
    }
    state.revocations += 1;
    StatusCode::NO_CONTENT.into_response()
}

/// Checks an App JWT as GitHub does: RS256 by the App's key, `iss` the App
/// id, not expired, `iat` not in the future, and at most ten minutes long.
fn verify_app_jwt(key: &DecodingKey, headers: &HeaderMap) -> Result<AppJwtClaims, &'static str> {
    let jwt = bearer(headers).ok_or("A JSON web token could not be decoded")?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[FAKE_APP_ID]);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    validation.leeway = u64::try_from(CLOCK_SKEW_SECS).unwrap_or_default();
    let claims = jsonwebtoken::decode::<AppJwtClaims>(jwt, key, &validation).map_err(|_| "A JSON web token could not be decoded")?.claims;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if claims.iat > now + CLOCK_SKEW_SECS {
        return Err("'Issued at' claim ('iat') must be an Integer representing a time in the past.");
    }
    if claims.exp - claims.iat > MAX_APP_JWT_LIFETIME_SECS {
        return Err("'Expiration time' claim ('exp') is too far in the future.");
    }
    Ok(claims)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")).then_some(token.trim())
}

fn bad_credentials() -> Response {
    github_message(StatusCode::UNAUTHORIZED, "Bad credentials")
}

fn github_message(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "message": message, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string() })),
    )
        .into_response()
}

/// A scripted failure, shaped as GitHub's (see [`PollStep::HttpStatus`]).
fn failure(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        StatusCode::TOO_MANY_REQUESTS => {
            let mut response = github_message(status, "You have exceeded a secondary rate limit.");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(FAKE_RETRY_AFTER_SECS));
            response
        }
        StatusCode::FORBIDDEN => {
            let mut response = github_message(status, "API rate limit exceeded.");
            let reset = OffsetDateTime::now_utc().unix_timestamp() + 60;
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(5000));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
            headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
            response
        }
        _ => github_message(status, status.canonical_reason().unwrap_or("Error")),
    }
}

/// `bytes` random bytes as hex (token bodies; unguessable is not the point,
/// distinct is).
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("fake GitHub: randomness");
    hex::encode(buf)
}
