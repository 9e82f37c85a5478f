//! Where the master key lives: the [`Keychain`] seam, and [`OsKeychain`],
//! the OS keychain through the `keyring` crate (the Secret Service on
//! Linux). The seam exists so tests can inject a keychain that fails; the
//! app always uses the real one.

use zeroize::Zeroizing;

/// One keychain entry holding one secret (the master key; the sign-in
/// session).
pub trait Keychain: Send + Sync {
    /// The stored secret, or `None` when there is no entry yet.
    fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError>;
    /// Stores the secret (replacing any entry).
    fn write(&self, secret: &[u8]) -> Result<(), KeychainError>;
    /// Removes the entry; an absent entry is not an error.
    fn delete(&self) -> Result<(), KeychainError>;
    /// Which keychain and entry, for logs and messages (no secret).
    fn describe(&self) -> String;
}

/// The keychain could not be used: missing, locked, refused. The text is
/// the platform's description, never secret bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeychainError(pub String);

/// The OS keychain entry `service`/`account` (default `tollgate`/`master-key`).
#[derive(Debug, Clone)]
pub struct OsKeychain {
    service: String,
    account: String,
}

impl Default for OsKeychain {
    fn default() -> Self {
        Self::with_entry(Self::SERVICE, Self::ACCOUNT)
    }
}

impl OsKeychain {
    /// The service name of the app's entry.
    pub const SERVICE: &'static str = "tollgate";
    /// The account name of the app's entry.
    pub const ACCOUNT: &'static str = "master-key";

    /// Another entry (tests use one per simulated install).
    pub fn with_entry(service: &str, account: &str) -> Self {
        Self { service: service.to_owned(), account: account.to_owned() }
    }

    fn entry(&self) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, &self.account).map_err(describe)
    }
}

impl Keychain for OsKeychain {
    fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        match self.entry()?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(describe(e)),
        }
    }

    fn write(&self, secret: &[u8]) -> Result<(), KeychainError> {
        self.entry()?.set_secret(secret).map_err(describe)
    }

    fn delete(&self) -> Result<(), KeychainError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(describe(e)),
        }
    }

    fn describe(&self) -> String {
        format!("OS keychain entry {}/{}", self.service, self.account)
    }
}

/// The keyring error in words. Never the `Debug` form: `BadEncoding`
/// carries the stored bytes.
fn describe(e: keyring::Error) -> KeychainError {
    KeychainError(match e {
        keyring::Error::NoStorageAccess(inner) => format!("no access to the keychain: {inner}"),
        keyring::Error::PlatformFailure(inner) => format!("the keychain failed: {inner}"),
        keyring::Error::BadEncoding(_) => "the keychain entry has an unexpected encoding".to_owned(),
        keyring::Error::NoEntry => "the keychain has no such entry".to_owned(),
        keyring::Error::TooLong(name, limit) => format!("the keychain refused {name} (over {limit} characters)"),
        keyring::Error::Invalid(name, why) => format!("the keychain refused {name}: {why}"),
        keyring::Error::Ambiguous(items) => format!("the keychain holds {} matching entries", items.len()),
        _ => "the keychain failed".to_owned(),
    })
}

/// What the session's Secret Service offers the app, asked without reading
/// or writing any secret and without raising an unlock prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretServiceState {
    /// The default collection (where the app's entries go) is unlocked.
    Unlocked,
    /// The default collection is locked: the first keychain call would
    /// wait on an unlock prompt.
    Locked,
    /// A Secret Service answers but has no default collection; the first
    /// keychain call creates one (and may prompt for its password).
    NoDefaultCollection,
}

/// Asks the session bus's Secret Service (org.freedesktop.secrets) about
/// its default collection. An error says what is missing: no session bus,
/// no service on it, or a service that fails.
pub fn probe_secret_service() -> Result<SecretServiceState, KeychainError> {
    use dbus_secret_service::{EncryptionType, Error, SecretService};
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty()) {
        return Err(KeychainError("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".to_owned()));
    }
    let service = SecretService::connect(EncryptionType::Plain).map_err(|e| {
        KeychainError(match e {
            Error::Unavailable => "no Secret Service on the session bus".to_owned(),
            // Nothing owns org.freedesktop.secrets and nothing can be
            // activated for it: no Secret Service is installed.
            Error::Dbus(e) if e.name() == Some("org.freedesktop.DBus.Error.ServiceUnknown") => {
                "no Secret Service on the session bus (nothing provides org.freedesktop.secrets)".to_owned()
            }
            other => format!("the Secret Service did not answer: {other}"),
        })
    })?;
    match service.get_default_collection() {
        Ok(collection) => match collection.is_locked() {
            Ok(true) => Ok(SecretServiceState::Locked),
            Ok(false) => Ok(SecretServiceState::Unlocked),
            Err(e) => Err(KeychainError(format!("the Secret Service failed: {e}"))),
        },
        Err(Error::NoResult) => Ok(SecretServiceState::NoDefaultCollection),
        Err(e) => Err(KeychainError(format!("the Secret Service failed: {e}"))),
    }
}
