//! GitHub App sign-in, driven by the host: the device flow, the user's
//! installations, installation tokens and their refresh, offline mode.
//!
//! The host talks to Tollgate's sign-in backend (`backend`, REST contract
//! in `docs/auth-backend.openapi.yaml`), which holds the GitHub App's
//! private key and the user's GitHub token; the host holds only the
//! backend's session token and the installation tokens, in the OS keychain
//! (`session`). The page starts a sign-in and reads [`SessionView`]s; it
//! learns progress from events (`events`), and never sees a token, a device
//! code or a backend credential.
//!
//! Trust: the backend's answers are size-capped and parsed into bounded
//! types; the verification address it sends is opened only if it is https
//! on an allowlisted host (`browser`). Time comes through [`Clock`], so
//! every wait (poll intervals, back-off, expiry) is testable without
//! waiting.

mod backend;
mod browser;
mod clock;
mod events;
mod session;

pub use backend::{BackendClient, BackendError, MAX_INSTALLATIONS, MAX_RESPONSE_BYTES, PollOutcome};
pub use browser::{BrowserOpener, SystemBrowser, check_verification_uri};
pub use clock::{Clock, ManualClock, SystemClock};
pub use events::{
    AuthEvent, AuthEvents, DeviceCodeExpired, InstallationTokenCached, LoginError, LoginErrorCode, LoginSuccess,
    LogoutSuccess, OfflineModeDisabled, OfflineModeEnabled, OfflineReason, SessionExpired, TokenRefreshed, UserCode,
};
pub use session::{
    CachedToken, GithubUser, Installation, SESSION_ACCOUNT, SecretToken, SessionVault, SessionView, StoredSession, VaultError,
};

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;
use url::Url;

use crate::secrets::{Keychain, OsKeychain};
use crate::store::timestamp;

/// The backend the app uses when none is configured: the reference
/// backend's default address, on this machine.
pub const DEFAULT_BACKEND_URL: &str = "http://127.0.0.1:8787/";
/// Where verification pages may be opened from, by default.
pub const DEFAULT_VERIFICATION_HOSTS: &[&str] = &["github.com"];
/// One sign-in attempt per this long: each attempt asks GitHub for a device
/// code, and a page (or a stuck button) must not spend the app's quota.
pub const LOGIN_COOLDOWN: Duration = Duration::from_secs(10);
/// An installation token is refreshed when it has less than this left, so
/// no call starts with a token that expires under it.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// A device code's lifetime when the backend does not say (GitHub's).
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The longest a device code is polled for, whatever the backend says: a
/// broken backend must not keep the app polling forever.
pub const MAX_CODE_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The poll interval when the backend does not say (GitHub's).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// The poll interval's bounds: no faster than this whatever the backend
/// says (it would be a flood), no slower than the maximum (the user waits).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// See [`MIN_POLL_INTERVAL`].
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(120);
/// How much `slow_down` adds when the backend gives no new interval (RFC 8628).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The waits before each retry of a call that got no answer.
pub const NETWORK_RETRY_DELAYS: [Duration; 3] = [Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)];
/// Each backend request's time limit.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the app checks whether the installation token needs a refresh
/// and whether an unreachable backend is back.
pub const REFRESH_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// How sign-in is set up.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The backend's base URL.
    pub backend_url: Url,
    /// Each request's time limit.
    pub request_timeout: Duration,
    /// Hosts a verification page may be opened from.
    pub verification_hosts: Vec<String>,
}

/// The backend address is not one the app will send a session token to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sign-in backend {url:?}: {reason}")]
pub struct AuthConfigError {
    /// What was given.
    pub url: String,
    /// Why it is refused.
    pub reason: String,
}

impl AuthConfig {
    /// The backend at `backend_url`: https, or http to this machine only
    /// (a session token never crosses a network in the clear).
    pub fn new(backend_url: &str) -> Result<Self, AuthConfigError> {
        let refuse = |reason: &str| AuthConfigError { url: backend_url.to_owned(), reason: reason.to_owned() };
        let mut url = Url::parse(backend_url).map_err(|e| refuse(&format!("not an absolute URL ({e})")))?;
        let loopback = crate::http::is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err(refuse("http is allowed only to this machine (127.0.0.1, ::1, localhost); use https")),
            other => return Err(refuse(&format!("scheme {other:?}; use https"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("credentials in the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(refuse("a query or fragment"));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Self {
            backend_url: url,
            request_timeout: REQUEST_TIMEOUT,
            verification_hosts: DEFAULT_VERIFICATION_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        })
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            backend_url: Url::parse(DEFAULT_BACKEND_URL).unwrap_or_else(|_| unreachable!("a valid constant")),
            request_timeout: REQUEST_TIMEOUT,
            verification_hosts: DEFAULT_VERIFICATION_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        }
    }
}

/// Why a sign-in operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No one is signed in.
    #[error("not signed in")]
    NotSignedIn,
    /// The backend no longer accepts the session; the user was signed out.
    #[error("the session has expired; sign in again")]
    SessionExpired,
    /// The installation is not one of the user's.
    #[error("installation {0} is not one of the signed-in user's installations")]
    InvalidInstallation(u64),
    /// No installation is picked yet.
    #[error("no installation is selected")]
    NoInstallation,
    /// A sign-in attempt started less than [`LOGIN_COOLDOWN`] ago.
    #[error("one sign-in attempt per {cooldown} s; try again in {} s", retry_after.as_secs().max(1))]
    LoginRateLimited {
        /// How long until the next attempt is allowed.
        retry_after: Duration,
        /// The cooldown, in seconds.
        cooldown: u64,
    },
    /// The backend failed or could not be reached.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The keychain entry could not be used.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// `auth:github-login`'s answer: the attempt started; its progress comes
/// as events.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoginStarted {
    /// This attempt's number (a newer attempt supersedes older ones).
    #[ts(type = "number")]
    pub attempt: u64,
}

/// `auth:select-installation`'s answer.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InstallationSelected {
    /// Which installation.
    #[ts(type = "number")]
    pub installation_id: u64,
    /// Its account.
    pub account_login: String,
    /// When its token expires (ISO 8601).
    pub expires_at: String,
}

/// `auth:logout`'s answer.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    /// Always true: signing out can't fail (the session is forgotten even
    /// when the keychain refuses; `keychainCleared` says whether it did).
    pub success: bool,
    /// Whether a session existed.
    pub was_signed_in: bool,
    /// Whether the keychain entry is gone (false: the keychain refused; the
    /// app forgot the session anyway and says so in the log).
    pub keychain_cleared: bool,
}

/// `auth:check-offline-status`'s answer.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfflineStatus {
    /// Whether the sign-in service is unreachable.
    pub is_offline: bool,
    /// Why, when it is, in a sentence (the same text as `message`).
    pub reason: Option<String>,
    /// Why, when it is, as a code.
    pub reason_code: Option<OfflineReason>,
    /// Why, when it is, in a sentence.
    pub message: Option<String>,
    /// Until when the cached installation token works (ISO 8601), if any.
    pub cached_token_expires_at: Option<String>,
    /// The last time the service answered (ISO 8601), if it has since start.
    pub last_successful_connection: Option<String>,
}

/// A refresh's result, for host-side callers.
#[derive(Debug, Clone)]
pub struct RefreshOutcome {
    /// The token now cached.
    pub token: CachedToken,
    /// Whether this caller shared another caller's refresh.
    pub joined: bool,
}

/// The sign-in service.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
}

struct Inner {
    config: AuthConfig,
    client: BackendClient,
    clock: Arc<dyn Clock>,
    vault: SessionVault,
    browser: Arc<dyn BrowserOpener>,
    events: RwLock<Option<Arc<dyn AuthEvents>>>,
    session: Mutex<SessionSlot>,
    login: Mutex<LoginState>,
    flight: Mutex<Option<Arc<Flight>>>,
    link: Mutex<Link>,
}

#[expect(clippy::large_enum_variant, reason = "one slot per service, held in place behind a mutex")]
enum SessionSlot {
    NotLoaded,
    Loaded(Option<StoredSession>),
}

#[derive(Default)]
struct LoginState {
    last_attempt: Option<OffsetDateTime>,
    generation: u64,
}

#[derive(Default, Clone)]
struct Link {
    offline: bool,
    reason: Option<String>,
    reason_code: Option<OfflineReason>,
    last_success: Option<OffsetDateTime>,
}

/// One refresh in progress; later callers wait on it instead of calling
/// the backend again.
struct Flight {
    result: Mutex<Option<Result<CachedToken, AuthError>>>,
    done: Condvar,
    callers: AtomicU32,
}

impl AuthService {
    /// The service with the app's parts: the session in the OS keychain
    /// (`tollgate`/`github-session`), the system clock and browser.
    pub fn new(config: AuthConfig) -> Self {
        Self::with_parts(
            config,
            Arc::new(OsKeychain::with_entry(OsKeychain::SERVICE, SESSION_ACCOUNT)),
            Arc::new(SystemClock),
            Arc::new(SystemBrowser),
        )
    }

    /// The service over given parts (tests use a manual clock, a recording
    /// browser and their own keychain entry).
    pub fn with_parts(config: AuthConfig, keychain: Arc<dyn Keychain>, clock: Arc<dyn Clock>, browser: Arc<dyn BrowserOpener>) -> Self {
        let client = BackendClient::new(config.backend_url.clone(), config.request_timeout);
        Self {
            inner: Arc::new(Inner {
                config,
                client,
                clock,
                vault: SessionVault::new(keychain),
                browser,
                events: RwLock::new(None),
                session: Mutex::new(SessionSlot::NotLoaded),
                login: Mutex::new(LoginState::default()),
                flight: Mutex::new(None),
                link: Mutex::new(Link::default()),
            }),
        }
    }

    /// Where events go from now on.
    pub fn set_events(&self, events: Arc<dyn AuthEvents>) {
        *self.inner.events.write().unwrap_or_else(PoisonError::into_inner) = Some(events);
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// Starts a sign-in attempt on its own thread and returns at once;
    /// progress and the outcome come as events. At most one attempt per
    /// [`LOGIN_COOLDOWN`]: a second one within it gets
    /// [`AuthError::LoginRateLimited`] (and an `auth:login-error` event
    /// with `RATE_LIMIT`). A new attempt supersedes a running one.
    pub fn start_login(&self) -> Result<(LoginStarted, JoinHandle<()>), AuthError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let generation = {
            let mut login = inner.login.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(last) = login.last_attempt {
                let since = now - last;
                if since < LOGIN_COOLDOWN && since >= time::Duration::ZERO {
                    let retry_after = LOGIN_COOLDOWN - Duration::try_from(since).unwrap_or_default();
                    let error = AuthError::LoginRateLimited { retry_after, cooldown: LOGIN_COOLDOWN.as_secs() };
                    drop(login);
                    inner.emit(AuthEvent::LoginError(LoginError {
                        code: LoginErrorCode::RateLimit,
                        message: error.to_string(),
                        retryable: true,
                    }));
                    return Err(error);
                }
            }
            login.last_attempt = Some(now);
            login.generation += 1;
            login.generation
        };
        let worker = Arc::clone(inner);
        let handle = std::thread::Builder::new()
            .name("tollgate-auth-login".to_owned())
            .spawn(move || worker.run_login(generation))
            .map_err(|e| AuthError::Backend(BackendError::Protocol(format!("could not start the sign-in thread: {e}"))))?;
        Ok((LoginStarted { attempt: generation }, handle))
    }

    /// The signed-in session as the page may see it, or `None` when no one
    /// is signed in or the session has ended.
    pub fn session(&self) -> Result<Option<SessionView>, AuthError> {
        let offline = self.inner.link().offline;
        Ok(self.inner.load_session()?.map(|s| s.view(offline)))
    }

    /// Picks one of the user's installations and fetches its token.
    pub fn select_installation(&self, installation_id: u64) -> Result<InstallationSelected, AuthError> {
        self.inner.select_installation(installation_id)
    }

    /// The picked installation's token, refreshed first when it is within
    /// [`REFRESH_MARGIN`] of expiry (concurrent callers share one refresh).
    /// Offline, a cached token that has not expired is still answered.
    pub fn installation_token(&self) -> Result<CachedToken, AuthError> {
        let inner = &self.inner;
        let session = inner.load_session()?.ok_or(AuthError::NotSignedIn)?;
        let current = session.current_token().cloned().ok_or(AuthError::NoInstallation)?;
        if !inner.due(&current) {
            return Ok(current);
        }
        match inner.refresh() {
            Ok(outcome) => Ok(outcome.token),
            Err(AuthError::Backend(e)) if e.is_unreachable() && current.expires_at > inner.clock.now() => Ok(current),
            Err(e) => Err(e),
        }
    }

    /// Refreshes the picked installation's token if it is due; probes the
    /// backend when offline. What the app's background check runs.
    pub fn refresh_if_due(&self) -> Result<Option<RefreshOutcome>, AuthError> {
        let inner = &self.inner;
        if inner.link().offline {
            let probe = inner.client.health();
            inner.observe(&probe);
        }
        let Some(session) = inner.load_session()? else { return Ok(None) };
        let Some(current) = session.current_token() else { return Ok(None) };
        if !inner.due(current) {
            return Ok(None);
        }
        inner.refresh().map(Some)
    }

    /// Signs out: cancels a running attempt, deletes the session and every
    /// cached token from the keychain, tells the backend on another thread
    /// (not waiting for it), and always emits `auth:logout-success`.
    pub fn logout(&self) -> LoggedOut {
        self.inner.logout()
    }

    /// Probes the backend and reports whether it is reachable.
    pub fn check_offline_status(&self) -> OfflineStatus {
        let inner = &self.inner;
        let probe = inner.client.health();
        inner.observe(&probe);
        let link = inner.link();
        let cached = inner.cached_token_expiry();
        OfflineStatus {
            is_offline: link.offline,
            message: link.reason.clone(),
            reason: link.reason,
            reason_code: link.reason_code,
            cached_token_expires_at: cached,
            last_successful_connection: link.last_success.map(timestamp::format),
        }
    }

    /// Runs [`Self::refresh_if_due`] every `every` on a thread until the
    /// service is dropped.
    pub fn start_refresh_checks(&self, every: Duration) -> std::io::Result<JoinHandle<()>> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let clock = Arc::clone(&self.inner.clock);
        std::thread::Builder::new().name("tollgate-auth-refresh".to_owned()).spawn(move || {
            loop {
                clock.sleep(every);
                let Some(inner) = weak.upgrade() else { return };
                if let Err(e) = (AuthService { inner }).refresh_if_due() {
                    tracing::info!(error = %e, "background token refresh did not succeed");
                }
            }
        })
    }
}

impl Inner {
    fn emit(&self, event: AuthEvent) {
        tracing::debug!(event = event.name(), "auth event");
        let sink = self.events.read().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(sink) = sink {
            sink.emit(event);
        }
    }

    fn link(&self) -> Link {
        self.link.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn is_current(&self, generation: u64) -> bool {
        self.login.lock().unwrap_or_else(PoisonError::into_inner).generation == generation
    }

    fn due(&self, token: &CachedToken) -> bool {
        token.expires_at - self.clock.now() <= REFRESH_MARGIN
    }

    /// Notes whether the backend answered: no answer -> offline; any
    /// answer (even an error status) -> online. Events on each change.
    fn observe<T>(&self, result: &Result<T, BackendError>) {
        let now = self.clock.now();
        let event = {
            let mut link = self.link.lock().unwrap_or_else(PoisonError::into_inner);
            match result {
                Err(e) if e.is_unreachable() => {
                    let was = link.offline;
                    let (code, reason) = (OfflineReason::of(e), e.to_string());
                    link.offline = true;
                    link.reason = Some(reason.clone());
                    link.reason_code = Some(code);
                    (!was).then_some(Err((code, reason)))
                }
                _ => {
                    let was = link.offline;
                    link.offline = false;
                    link.reason = None;
                    link.reason_code = None;
                    link.last_success = Some(now);
                    was.then_some(Ok(now))
                }
            }
        };
        match event {
            Some(Err((reason_code, reason))) => {
                tracing::warn!(reason = %reason, "the sign-in service is unreachable: offline mode");
                let cached = self.cached_token_expiry();
                self.emit(AuthEvent::OfflineModeEnabled(OfflineModeEnabled {
                    message: reason.clone(),
                    reason,
                    reason_code,
                    cached_token_expires_at: cached,
                }));
            }
            Some(Ok(at)) => {
                tracing::info!("the sign-in service answers again");
                self.emit(AuthEvent::OfflineModeDisabled(OfflineModeDisabled {
                    last_successful_connection: timestamp::format(at),
                }));
            }
            None => {}
        }
    }

    /// A backend call, retried after [`NETWORK_RETRY_DELAYS`] while it gets
    /// no answer (refused, reset); a timeout or any answer is final.
    fn call_with_retries<T>(&self, op: impl Fn(&BackendClient) -> Result<T, BackendError>) -> Result<T, BackendError> {
        for delay in NETWORK_RETRY_DELAYS {
            match op(&self.client) {
                Err(BackendError::Network(why)) => {
                    tracing::info!(reason = %why, retry_in_ms = delay.as_millis() as u64, "sign-in service unreachable; retrying");
                    self.observe::<()>(&Err(BackendError::Network(why)));
                    self.clock.sleep(delay);
                }
                other => {
                    self.observe(&other);
                    return other;
                }
            }
        }
        let last = op(&self.client);
        self.observe(&last);
        last
    }

    /// When the cached installation token expires (ISO 8601), from memory.
    fn cached_token_expiry(&self) -> Option<String> {
        self.cached_session().and_then(|s| s.current_token().map(|t| timestamp::format(t.expires_at)))
    }

    /// The session in memory (without touching the keychain).
    fn cached_session(&self) -> Option<StoredSession> {
        match &*self.session.lock().unwrap_or_else(PoisonError::into_inner) {
            SessionSlot::Loaded(s) => s.clone(),
            SessionSlot::NotLoaded => None,
        }
    }

    /// The session: from memory, else from the keychain once. One from
    /// another backend is ignored; one that has ended is deleted.
    fn load_session(&self) -> Result<Option<StoredSession>, AuthError> {
        let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        if let SessionSlot::NotLoaded = &*slot {
            let loaded = match self.vault.load() {
                Ok(s) => s,
                Err(VaultError::Unreadable(why)) => {
                    tracing::warn!(reason = %why, "the stored sign-in session is unreadable; it is ignored until the next sign-in replaces it");
                    None
                }
                Err(e) => return Err(e.into()),
            };
            let loaded = loaded.filter(|s| {
                let same = s.backend == self.config.backend_url.as_str();
                if !same {
                    tracing::info!("the stored session belongs to another sign-in service; ignored");
                }
                same
            });
            *slot = SessionSlot::Loaded(loaded);
        }
        let SessionSlot::Loaded(current) = &mut *slot else { return Ok(None) };
        if current.as_ref().is_some_and(|s| s.expires_at <= self.clock.now()) {
            *current = None;
            drop(slot);
            if let Err(e) = self.vault.delete() {
                tracing::warn!(error = %e, "could not delete the ended session from the keychain");
            }
            self.emit(AuthEvent::SessionExpired(SessionExpired { reason: "the session reached its end; sign in again".to_owned() }));
            return Ok(None);
        }
        Ok(current.clone())
    }

    /// Applies `change` to the session with `token` (if it is still the
    /// current one), stores it, then keeps it in memory.
    fn update_session(&self, token: &SecretToken, change: impl FnOnce(&mut StoredSession)) -> Result<StoredSession, AuthError> {
        let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let SessionSlot::Loaded(Some(current)) = &*slot else { return Err(AuthError::NotSignedIn) };
        if &current.token != token {
            // Signed out (or in again) while the call ran.
            return Err(AuthError::NotSignedIn);
        }
        let mut next = current.clone();
        change(&mut next);
        self.vault.save(&next)?;
        *slot = SessionSlot::Loaded(Some(next.clone()));
        Ok(next)
    }

    /// Forgets the session because the backend refused it.
    fn expire_session(&self, reason: &str) {
        {
            let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            *slot = SessionSlot::Loaded(None);
        }
        if let Err(e) = self.vault.delete() {
            tracing::warn!(error = %e, "could not delete the refused session from the keychain");
        }
        tracing::info!(reason, "signed out: the session could not be renewed");
        self.emit(AuthEvent::SessionExpired(SessionExpired { reason: reason.to_owned() }));
    }

    fn run_login(&self, generation: u64) {
        let device = match self.call_with_retries(BackendClient::device_code) {
            Ok(d) => d,
            Err(e) => return self.login_failed(generation, &e),
        };
        if !self.is_current(generation) {
            return;
        }
        let url = match check_verification_uri(&device.verification_uri, &self.config.verification_hosts) {
            Ok(url) => url,
            Err(why) => {
                tracing::warn!(target: "tollgate::security", category = "auth", event = "verification-uri-refused",
                    reason = %why, "the sign-in service sent a verification address the app does not open");
                return self.emit(AuthEvent::LoginError(LoginError {
                    code: LoginErrorCode::Unknown,
                    message: format!("the sign-in service sent a verification address the app does not open: {why}"),
                    retryable: false,
                }));
            }
        };
        let browser_opened = match self.browser.open(&url) {
            Ok(()) => true,
            Err(why) => {
                tracing::info!(reason = %why, "could not open the system browser; the page shows the address");
                false
            }
        };
        let lifetime = match device.expires_in {
            0 => DEFAULT_CODE_LIFETIME,
            s => Duration::from_secs(s).min(MAX_CODE_LIFETIME),
        };
        let deadline = self.clock.now() + lifetime;
        self.emit(AuthEvent::UserCode(UserCode {
            user_code: device.user_code.clone(),
            verification_uri: url.to_string(),
            expires_in: lifetime.as_secs(),
            expires_at: timestamp::format(deadline),
            browser_opened,
        }));
        let mut interval = clamp_interval(device.interval, DEFAULT_POLL_INTERVAL);
        loop {
            let left = deadline - self.clock.now();
            let left = Duration::try_from(left).unwrap_or_default();
            self.clock.sleep(interval.min(left));
            if !self.is_current(generation) {
                return;
            }
            if self.clock.now() >= deadline {
                return self.code_expired(generation, &device.user_code);
            }
            match self.call_with_retries(|c| c.poll(&device.device_code)) {
                Ok(PollOutcome::Pending { interval: asked }) => {
                    if let Some(asked) = asked {
                        interval = clamp_interval(asked, interval);
                    }
                }
                Ok(PollOutcome::SlowDown { interval: asked }) => {
                    // RFC 8628: at least 5 s slower from now on, or what
                    // the backend asks if that is slower still.
                    let slower = (interval + SLOW_DOWN_STEP).as_secs();
                    interval = clamp_interval(asked.unwrap_or(0).max(slower), interval);
                    tracing::info!(interval_s = interval.as_secs(), "the sign-in service asked to poll slower");
                }
                Ok(PollOutcome::Complete(done)) => return self.finish_login(generation, *done),
                Err(e) if e.status().is_some_and(|(s, c)| s == 410 || c == "expired_token") => {
                    return self.code_expired(generation, &device.user_code);
                }
                Err(e) => return self.login_failed(generation, &e),
            }
        }
    }

    fn code_expired(&self, generation: u64, user_code: &str) {
        if self.is_current(generation) {
            self.emit(AuthEvent::DeviceCodeExpired(DeviceCodeExpired {
                user_code: user_code.to_owned(),
                message: "the sign-in code expired before it was approved; start the sign-in again for a new code".to_owned(),
                can_retry: true,
            }));
        }
    }

    fn login_failed(&self, generation: u64, e: &BackendError) {
        if !self.is_current(generation) {
            return;
        }
        let (code, retryable) = match e {
            BackendError::Network(_) => (LoginErrorCode::NetworkError, true),
            BackendError::Timeout(_) => (LoginErrorCode::Timeout, true),
            BackendError::Status { status: 403, .. } => (LoginErrorCode::AccessDenied, false),
            BackendError::Status { code, .. } if code == "access_denied" => (LoginErrorCode::AccessDenied, false),
            BackendError::Status { status: 429, .. } => (LoginErrorCode::RateLimit, true),
            _ => (LoginErrorCode::Unknown, false),
        };
        tracing::info!(code = ?code, error = %e, "sign-in attempt failed");
        self.emit(AuthEvent::LoginError(LoginError { code, message: e.to_string(), retryable }));
    }

    fn finish_login(&self, generation: u64, done: backend::SignedIn) {
        let mut installations = done.installations;
        installations.truncate(MAX_INSTALLATIONS);
        let session = StoredSession {
            schema_version: SessionVault::schema_version(),
            backend: self.config.backend_url.to_string(),
            token: done.session.token,
            expires_at: done.session.expires_at,
            user: done.user,
            installations,
            current_installation: None,
            tokens: Vec::new(),
        };
        // Under the login lock: a logout that starts now waits, and one
        // that ran before has moved the generation on.
        let login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        if login.generation != generation {
            return;
        }
        if let Err(e) = self.vault.save(&session) {
            drop(login);
            tracing::warn!(error = %e, "signed in, but the session could not be stored");
            return self.emit(AuthEvent::LoginError(LoginError {
                code: LoginErrorCode::Unknown,
                message: format!("signed in, but the session could not be kept: {e}"),
                retryable: true,
            }));
        }
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = SessionSlot::Loaded(Some(session.clone()));
        drop(login);
        tracing::info!(user = %session.user.login, installations = session.installations.len(), "signed in");
        self.emit(AuthEvent::LoginSuccess(LoginSuccess { user: session.user, installations: session.installations }));
    }

    fn select_installation(&self, installation_id: u64) -> Result<InstallationSelected, AuthError> {
        let session = self.load_session()?.ok_or(AuthError::NotSignedIn)?;
        if !session.installations.iter().any(|i| i.id == installation_id) {
            return Err(AuthError::InvalidInstallation(installation_id));
        }
        let result = self.client.installation_token(&session.token, installation_id);
        self.observe(&result);
        let minted = match result {
            Ok(t) => t,
            Err(e) => return Err(self.backend_refusal(e, installation_id)),
        };
        let cached = CachedToken {
            installation_id,
            account_login: minted.account_login,
            token: minted.token,
            expires_at: minted.expires_at,
        };
        self.update_session(&session.token, |s| s.put_token(cached.clone()))?;
        let selected = InstallationSelected {
            installation_id,
            account_login: cached.account_login.clone(),
            expires_at: timestamp::format(cached.expires_at),
        };
        self.emit(AuthEvent::InstallationTokenCached(InstallationTokenCached {
            installation_id,
            account_login: selected.account_login.clone(),
            expires_at: selected.expires_at.clone(),
        }));
        Ok(selected)
    }

    /// What a backend error means for the session: a refused session
    /// signs the user out; an installation the backend does not grant is
    /// `InvalidInstallation`; anything else is passed on.
    fn backend_refusal(&self, e: BackendError, installation_id: u64) -> AuthError {
        match e.status() {
            Some((401, _)) => {
                self.expire_session("the sign-in service no longer accepts this session");
                AuthError::SessionExpired
            }
            Some((404, _)) | Some((_, "invalid_installation")) => AuthError::InvalidInstallation(installation_id),
            _ => AuthError::Backend(e),
        }
    }

    fn refresh(&self) -> Result<RefreshOutcome, AuthError> {
        let (flight, leader) = {
            let mut slot = self.flight.lock().unwrap_or_else(PoisonError::into_inner);
            match slot.as_ref() {
                Some(f) => {
                    f.callers.fetch_add(1, Ordering::SeqCst);
                    (Arc::clone(f), false)
                }
                None => {
                    // Someone may have refreshed between our check and now.
                    if let Some(fresh) = self.cached_session().and_then(|s| s.current_token().cloned())
                        && !self.due(&fresh)
                    {
                        return Ok(RefreshOutcome { token: fresh, joined: true });
                    }
                    let f = Arc::new(Flight { result: Mutex::new(None), done: Condvar::new(), callers: AtomicU32::new(1) });
                    *slot = Some(Arc::clone(&f));
                    (f, true)
                }
            }
        };
        if !leader {
            let mut result = flight.result.lock().unwrap_or_else(PoisonError::into_inner);
            while result.is_none() {
                result = flight.done.wait(result).unwrap_or_else(PoisonError::into_inner);
            }
            return match result.clone() {
                Some(r) => r.map(|token| RefreshOutcome { token, joined: true }),
                None => Err(AuthError::NotSignedIn),
            };
        }
        let result = self.refresh_now();
        let callers = {
            let mut slot = self.flight.lock().unwrap_or_else(PoisonError::into_inner);
            *flight.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result.clone());
            flight.done.notify_all();
            *slot = None;
            flight.callers.load(Ordering::SeqCst)
        };
        if let Ok(token) = &result {
            tracing::info!(installation_id = token.installation_id, callers, "installation token refreshed");
            self.emit(AuthEvent::TokenRefreshed(TokenRefreshed {
                installation_id: token.installation_id,
                expires_at: timestamp::format(token.expires_at),
                deduplicated: callers > 1,
                callers,
            }));
        }
        result.map(|token| RefreshOutcome { token, joined: false })
    }

    fn refresh_now(&self) -> Result<CachedToken, AuthError> {
        let session = self.load_session()?.ok_or(AuthError::NotSignedIn)?;
        let id = session.current_installation.ok_or(AuthError::NoInstallation)?;
        let result = self.client.refresh(&session.token, id);
        self.observe(&result);
        let refreshed = match result {
            Ok(r) => r,
            Err(e) if e.is_unreachable() => return Err(AuthError::Backend(e)),
            Err(e) => {
                // Refused (the session, or the installation, is no longer
                // granted): sign out. A busy or failing backend (429, 5xx)
                // keeps the session; the cached token serves until it ends.
                return Err(match e.status() {
                    Some((status, _)) if (400..500).contains(&status) && status != 429 => {
                        self.expire_session(&format!("the token could not be refreshed: {e}"));
                        AuthError::SessionExpired
                    }
                    _ => AuthError::Backend(e),
                });
            }
        };
        let minted = refreshed.installation_token;
        let cached = CachedToken {
            installation_id: id,
            account_login: minted.account_login,
            token: minted.token,
            expires_at: minted.expires_at,
        };
        let expires_at = refreshed.session_expires_at;
        self.update_session(&session.token, |s| {
            s.expires_at = expires_at;
            s.put_token(cached.clone());
        })?;
        Ok(cached)
    }

    fn logout(&self) -> LoggedOut {
        let mut login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        login.generation += 1;
        let previous = {
            let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            match std::mem::replace(&mut *slot, SessionSlot::Loaded(None)) {
                SessionSlot::Loaded(s) => s,
                SessionSlot::NotLoaded => self.vault.load().ok().flatten(),
            }
        };
        let keychain_cleared = match self.vault.delete() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "signed out, but the keychain entry could not be deleted");
                false
            }
        };
        drop(login);
        let was_signed_in = previous.is_some();
        if let Some(session) = previous {
            let client = self.client.clone();
            let spawned = std::thread::Builder::new().name("tollgate-auth-logout".to_owned()).spawn(move || {
                match client.logout(&session.token) {
                    Ok(()) => tracing::info!("the sign-in service ended the session"),
                    Err(e) => tracing::info!(error = %e, "could not tell the sign-in service about the sign-out"),
                }
            });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start the sign-out notice");
            }
        }
        tracing::info!(was_signed_in, "signed out");
        self.emit(AuthEvent::LogoutSuccess(LogoutSuccess { was_signed_in }));
        LoggedOut { success: true, was_signed_in, keychain_cleared }
    }
}

fn clamp_interval(seconds: u64, fallback: Duration) -> Duration {
    if seconds == 0 {
        return fallback.clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL);
    }
    Duration::from_secs(seconds).clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_url_must_be_https_or_loopback_http() {
        assert!(AuthConfig::new("https://auth.example.com").is_ok());
        assert!(AuthConfig::new("http://127.0.0.1:8787").is_ok());
        assert!(AuthConfig::new("http://[::1]:8787/").is_ok());
        assert!(AuthConfig::new("http://localhost:1/").is_ok());
        for bad in ["http://auth.example.com", "ftp://x", "https://u:p@auth.example.com", "https://a.example/?q=1", "nope"] {
            assert!(AuthConfig::new(bad).is_err(), "{bad}");
        }
        assert_eq!(AuthConfig::new("https://a.example/base").map(|c| c.backend_url.to_string()).ok(), Some("https://a.example/base/".into()));
    }

    #[test]
    fn poll_interval_is_bounded() {
        assert_eq!(clamp_interval(0, DEFAULT_POLL_INTERVAL), DEFAULT_POLL_INTERVAL);
        assert_eq!(clamp_interval(10_000, DEFAULT_POLL_INTERVAL), MAX_POLL_INTERVAL);
        assert_eq!(clamp_interval(1, DEFAULT_POLL_INTERVAL), MIN_POLL_INTERVAL);
    }
}
