//! The signed-in session and where it lives: one OS keychain entry
//! (`tollgate`/`github-session`) holding the backend session token, the
//! user, their installations and the cached installation tokens, as JSON.
//! Never a plain file, and never the webview: what the page sees is
//! [`SessionView`], which carries no token.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::secrets::{Keychain, KeychainError};
use crate::store::timestamp;

/// The keychain entry's account name (service `tollgate`).
pub const SESSION_ACCOUNT: &str = "github-session";
/// The stored form's version; a newer one is left alone, not overwritten.
const SESSION_SCHEMA: u32 = 1;

/// A bearer token or device code: wiped when dropped, never shown by
/// `Debug` or `Display`, serialized only into the keychain entry.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(Zeroizing<String>);

impl SecretToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Zeroizing::new(token.into()))
    }

    /// The token, for a header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken([redacted])")
    }
}

impl<'de> Deserialize<'de> for SecretToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

impl Serialize for SecretToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A GitHub user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GithubUser {
    /// GitHub's numeric id.
    #[ts(type = "number")]
    pub id: u64,
    /// The login (`octocat`).
    pub login: String,
    /// The display name, if set.
    #[serde(default)]
    pub name: Option<String>,
    /// The avatar's address (the page does not load it: its CSP allows
    /// only the app's own images).
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// An installation of the GitHub App the user can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    /// GitHub's installation id.
    #[ts(type = "number")]
    pub id: u64,
    /// The account it is installed on.
    pub account_login: String,
    /// `User` or `Organization`.
    pub account_type: String,
}

/// A cached installation token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedToken {
    /// Which installation.
    pub installation_id: u64,
    /// Its account.
    pub account_login: String,
    /// The token.
    pub token: SecretToken,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Everything the keychain entry holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSession {
    /// [`SESSION_SCHEMA`].
    pub schema_version: u32,
    /// The backend the session belongs to; a session from another backend
    /// (the app was pointed elsewhere) is not used.
    pub backend: String,
    /// The backend's bearer token.
    pub token: SecretToken,
    /// When the backend session ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who.
    pub user: GithubUser,
    /// What they can pick.
    pub installations: Vec<Installation>,
    /// The picked installation.
    pub current_installation: Option<u64>,
    /// Installation tokens fetched so far (one per installation).
    pub tokens: Vec<CachedToken>,
}

impl StoredSession {
    /// The picked installation's cached token.
    pub fn current_token(&self) -> Option<&CachedToken> {
        let id = self.current_installation?;
        self.tokens.iter().find(|t| t.installation_id == id)
    }

    /// Stores `token`, replacing the installation's previous one, and picks
    /// its installation.
    pub fn put_token(&mut self, token: CachedToken) {
        self.current_installation = Some(token.installation_id);
        self.tokens.retain(|t| t.installation_id != token.installation_id);
        self.tokens.push(token);
    }

    /// What the page may see.
    pub fn view(&self, offline: bool) -> SessionView {
        let current = self.current_installation.and_then(|id| self.installations.iter().find(|i| i.id == id)).cloned();
        SessionView {
            user: self.user.clone(),
            installations: self.installations.clone(),
            current_installation: current,
            installation_token_expires_at: self.current_token().map(|t| timestamp::format(t.expires_at)),
            session_expires_at: timestamp::format(self.expires_at),
            offline,
        }
    }
}

/// The session as the page sees it: no token.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// Who is signed in.
    pub user: GithubUser,
    /// The installations they can pick.
    pub installations: Vec<Installation>,
    /// The picked one.
    pub current_installation: Option<Installation>,
    /// When its cached token expires (ISO 8601), if one is cached.
    pub installation_token_expires_at: Option<String>,
    /// When the session ends (ISO 8601).
    pub session_expires_at: String,
    /// Whether the sign-in service is unreachable right now.
    pub offline: bool,
}

/// Why the session could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The keychain is missing or locked.
    #[error("the OS keychain is unavailable: {0}")]
    Keychain(#[from] KeychainError),
    /// The entry is there but is not a session this version can read.
    #[error("the stored sign-in session is unreadable ({0}); sign in again")]
    Unreadable(String),
}

/// The keychain entry.
pub struct SessionVault {
    keychain: Arc<dyn Keychain>,
}

impl SessionVault {
    /// The session in `keychain`.
    pub fn new(keychain: Arc<dyn Keychain>) -> Self {
        Self { keychain }
    }

    /// The stored session, if any. An entry this version cannot read is
    /// reported, not deleted: signing in again replaces it.
    pub fn load(&self) -> Result<Option<StoredSession>, VaultError> {
        let Some(bytes) = self.keychain.read()? else { return Ok(None) };
        let session: StoredSession =
            serde_json::from_slice(&bytes).map_err(|e| VaultError::Unreadable(format!("line {}, column {}", e.line(), e.column())))?;
        if session.schema_version != SESSION_SCHEMA {
            return Err(VaultError::Unreadable(format!("schema version {} (this app reads {SESSION_SCHEMA})", session.schema_version)));
        }
        Ok(Some(session))
    }

    /// Stores `session`, replacing the entry.
    pub fn save(&self, session: &StoredSession) -> Result<(), VaultError> {
        let mut session = session.clone();
        session.schema_version = SESSION_SCHEMA;
        let bytes = Zeroizing::new(serde_json::to_vec(&session).map_err(|e| VaultError::Unreadable(e.to_string()))?);
        self.keychain.write(&bytes)?;
        Ok(())
    }

    /// Deletes the entry (absent is fine).
    pub fn delete(&self) -> Result<(), VaultError> {
        self.keychain.delete()?;
        Ok(())
    }

    /// The schema version written.
    pub const fn schema_version() -> u32 {
        SESSION_SCHEMA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_show_in_debug() {
        let t = SecretToken::new("ghs_supersecret");
        assert!(!format!("{t:?}").contains("supersecret"));
        let cached = CachedToken {
            installation_id: 1,
            account_login: "octo".into(),
            token: t,
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(!format!("{cached:?}").contains("supersecret"));
    }
}
