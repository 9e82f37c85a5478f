//! Backend sessions, in memory: what a completed sign-in leaves behind.
//!
//! A session token is 256 random bits (base64url) handed to the app once.
//! The store keys sessions by the token's SHA-256, so the token itself is
//! never kept and a lookup compares hashes, not the secret. Each session
//! holds the user's GitHub access token (which never leaves the backend)
//! and the installation tokens minted for it, so logout can revoke them.
//!
//! Trust: a presented token is untrusted input; it is only ever hashed.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::wire::User;

/// Bytes of randomness in a session token: 256 bits, beyond guessing.
pub const SESSION_TOKEN_BYTES: usize = 32;
/// The length of a session token as text (base64url, no padding).
pub const SESSION_TOKEN_CHARS: usize = 43;
/// The most sessions held at once. Each costs a completed GitHub sign-in,
/// but memory must still not grow without bound.
pub const MAX_SESSIONS: usize = 10_000;
/// The most unexpired installation tokens one session may hold. Installation
/// tokens live an hour; a client minting more than this per hour is looping,
/// and each one is a live credential to revoke at logout.
pub const MAX_LIVE_TOKENS_PER_SESSION: usize = 20;

/// A freshly issued session token: the only time the secret exists in the
/// backend. It goes into the response and is dropped (and wiped).
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// 256 fresh random bits, base64url.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = Zeroizing::new([0u8; SESSION_TOKEN_BYTES]);
        getrandom::fill(bytes.as_mut())?;
        Ok(Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))))
    }

    /// The token text, for the response.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key it is stored under.
    pub fn key(&self) -> SessionKey {
        SessionKey::of(&self.0)
    }
}

/// A session's key in the store: the SHA-256 of its token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    /// The key for a presented token.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Eight hex digits of the hash: enough to follow one session through
    /// the logs, nothing that helps recover the token.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

/// Whether `text` has the shape of a session token (so that anything else is
/// refused before it is even hashed).
pub fn looks_like_session_token(text: &str) -> bool {
    text.len() == SESSION_TOKEN_CHARS && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

struct Session {
    user_token: Zeroizing<String>,
    expires_at: OffsetDateTime,
    /// The latest the session may be extended to: sign-in plus the maximum
    /// lifetime, or the user token's own expiry if that comes first.
    hard_expiry: OffsetDateTime,
    minted: Vec<MintedRecord>,
}

struct MintedRecord {
    token: Zeroizing<String>,
    expires_at: OffsetDateTime,
}

/// Why a session could not be used to mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// No such session (never issued, expired or logged out).
    Unknown,
    /// It already holds [`MAX_LIVE_TOKENS_PER_SESSION`] live tokens.
    TooManyTokens,
}

/// The store is at [`MAX_SESSIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreFull;

/// All sessions.
pub struct SessionStore {
    sessions: Mutex<HashMap<SessionKey, Session>>,
    ttl: Duration,
    max_lifetime: Duration,
}

impl SessionStore {
    /// An empty store whose sessions last `ttl` (sliding) up to `max_lifetime`.
    pub fn new(ttl: Duration, max_lifetime: Duration) -> Self {
        Self { sessions: Mutex::new(HashMap::new()), ttl, max_lifetime }
    }

    /// Stores a session for `token`; answers when it expires.
    pub fn create(
        &self,
        token: &SessionToken,
        user: &User,
        user_token: Zeroizing<String>,
        user_token_expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, StoreFull> {
        let mut sessions = self.lock();
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, s| s.expires_at > now);
            if sessions.len() >= MAX_SESSIONS {
                return Err(StoreFull);
            }
        }
        let mut hard_expiry = now + self.max_lifetime;
        if let Some(user_token_expiry) = user_token_expires_at {
            hard_expiry = hard_expiry.min(user_token_expiry);
        }
        let expires_at = (now + self.ttl).min(hard_expiry);
        let key = token.key();
        sessions.insert(key, Session { user_token, expires_at, hard_expiry, minted: Vec::new() });
        tracing::info!(session = %key.fingerprint(), user = %user.login, user_id = user.id, %expires_at, "session created");
        Ok(expires_at)
    }

    /// The user's GitHub token for a live session that may mint another
    /// installation token. An expired session is dropped here.
    pub fn user_token_for_mint(&self, key: &SessionKey, now: OffsetDateTime) -> Result<Zeroizing<String>, SessionRefusal> {
        let mut sessions = self.lock();
        let Some(session) = sessions.get_mut(key) else {
            return Err(SessionRefusal::Unknown);
        };
        if session.expires_at <= now {
            sessions.remove(key);
            return Err(SessionRefusal::Unknown);
        }
        session.minted.retain(|m| m.expires_at > now);
        if session.minted.len() >= MAX_LIVE_TOKENS_PER_SESSION {
            return Err(SessionRefusal::TooManyTokens);
        }
        Ok(session.user_token.clone())
    }

    /// Remembers a token minted for the session, for revocation at logout.
    /// `false` when the session ended meanwhile (the caller revokes the
    /// token itself then).
    pub fn record_minted(&self, key: &SessionKey, token: Zeroizing<String>, expires_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        let mut sessions = self.lock();
        match sessions.get_mut(key) {
            Some(session) if session.expires_at > now => {
                session.minted.push(MintedRecord { token, expires_at });
                true
            }
            _ => false,
        }
    }

    /// Slides the session's expiry to `now + ttl`, capped at its hard
    /// expiry; answers the new expiry, or `None` for no live session.
    pub fn extend(&self, key: &SessionKey, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let mut sessions = self.lock();
        let session = sessions.get_mut(key).filter(|s| s.expires_at > now)?;
        session.expires_at = session.expires_at.max((now + self.ttl).min(session.hard_expiry));
        Some(session.expires_at)
    }

    /// Forgets the session; answers the installation tokens minted for it
    /// that have not expired, for revocation. `None` if there was none.
    pub fn remove(&self, key: &SessionKey, now: OffsetDateTime) -> Option<Vec<Zeroizing<String>>> {
        let session = self.lock().remove(key)?;
        Some(session.minted.into_iter().filter(|m| m.expires_at > now).map(|m| m.token).collect())
    }

    /// Drops expired sessions (and with them the user tokens they held).
    pub fn sweep(&self, now: OffsetDateTime) -> usize {
        let mut sessions = self.lock();
        let before = sessions.len();
        sessions.retain(|_, s| s.expires_at > now);
        before - sessions.len()
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<SessionKey, Session>> {
        // A panic while holding the lock leaves the map itself consistent
        // (every update is a single insert, remove or field write).
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn user() -> User {
        User { id: 1, login: "octocat".into(), name: None, avatar_url: None }
    }

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid timestamp")
    }

    #[test]
    fn tokens_are_256_bit_base64url_and_distinct() {
        let a = SessionToken::generate().expect("randomness");
        let b = SessionToken::generate().expect("randomness");
        assert!(looks_like_session_token(a.as_str()), "{}", a.as_str().len());
        assert_ne!(a.as_str(), b.as_str());
        assert!(!looks_like_session_token("short"));
        assert!(!looks_like_session_token(&"+".repeat(SESSION_TOKEN_CHARS)));
    }

    #[test]
    fn sessions_are_found_by_their_token_hash_and_expire() {
        let store = SessionStore::new(HOUR, 24 * HOUR);
        let token = SessionToken::generate().expect("randomness");
        let expires = store.create(&token, &user(), Zeroizing::new("ghu_x".into()), None, t0()).expect("room");
        assert_eq!(expires, t0() + HOUR);
        let key = SessionKey::of(token.as_str());
        assert_eq!(store.user_token_for_mint(&key, t0()).map(|t| t.to_string()), Ok("ghu_x".to_owned()));
        assert_eq!(store.user_token_for_mint(&SessionKey::of("other"), t0()).err(), Some(SessionRefusal::Unknown));
        assert_eq!(store.user_token_for_mint(&key, t0() + HOUR).err(), Some(SessionRefusal::Unknown));
        assert_eq!(store.len(), 0, "an expired session is dropped when it is presented");
    }

    #[test]
    fn extending_slides_but_never_past_the_max_lifetime_or_the_user_token() {
        let store = SessionStore::new(HOUR, 3 * HOUR);
        let token = SessionToken::generate().expect("randomness");
        store.create(&token, &user(), Zeroizing::new("u".into()), None, t0()).expect("room");
        let key = token.key();
        assert_eq!(store.extend(&key, t0() + HOUR / 2), Some(t0() + HOUR * 3 / 2));
        assert_eq!(store.extend(&key, t0() + HOUR * 5 / 4), Some(t0() + HOUR * 9 / 4));
        assert_eq!(store.extend(&key, t0() + 2 * HOUR), Some(t0() + 3 * HOUR));
        assert_eq!(store.extend(&key, t0() + HOUR * 5 / 2), Some(t0() + 3 * HOUR), "capped");
        assert_eq!(store.extend(&key, t0() + 3 * HOUR), None, "and then over");

        let short = SessionToken::generate().expect("randomness");
        let user_token_expiry = t0() + HOUR / 2;
        let expires = store.create(&short, &user(), Zeroizing::new("u".into()), Some(user_token_expiry), t0()).expect("room");
        assert_eq!(expires, user_token_expiry);
        assert_eq!(store.extend(&short.key(), t0() + HOUR / 4), Some(user_token_expiry));
    }

    #[test]
    fn removing_answers_the_live_minted_tokens_once() {
        let store = SessionStore::new(HOUR, 24 * HOUR);
        let token = SessionToken::generate().expect("randomness");
        store.create(&token, &user(), Zeroizing::new("u".into()), None, t0()).expect("room");
        let key = token.key();
        assert!(store.record_minted(&key, Zeroizing::new("ghs_live".into()), t0() + HOUR, t0()));
        assert!(store.record_minted(&key, Zeroizing::new("ghs_old".into()), t0() + Duration::from_secs(60), t0()));
        let revoke = store.remove(&key, t0() + Duration::from_secs(120)).expect("was there");
        assert_eq!(revoke.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["ghs_live"]);
        assert!(store.remove(&key, t0()).is_none());
        assert!(!store.record_minted(&key, Zeroizing::new("ghs_late".into()), t0() + HOUR, t0()));
    }

    #[test]
    fn a_session_holds_a_bounded_number_of_live_tokens() {
        let store = SessionStore::new(HOUR, 24 * HOUR);
        let token = SessionToken::generate().expect("randomness");
        store.create(&token, &user(), Zeroizing::new("u".into()), None, t0()).expect("room");
        let key = token.key();
        for i in 0..MAX_LIVE_TOKENS_PER_SESSION {
            assert!(store.user_token_for_mint(&key, t0()).is_ok());
            store.record_minted(&key, Zeroizing::new(format!("ghs_{i}")), t0() + HOUR, t0());
        }
        assert_eq!(store.user_token_for_mint(&key, t0()).err(), Some(SessionRefusal::TooManyTokens));
        // Once they have expired, there is room again.
        assert!(store.user_token_for_mint(&key, t0() + HOUR - Duration::from_secs(1)).is_err());
        let later = t0() + HOUR / 2;
        assert_eq!(store.extend(&key, later), Some(later + HOUR));
        assert!(store.user_token_for_mint(&key, t0() + HOUR).is_ok());
    }
}
