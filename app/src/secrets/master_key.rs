//! The per-install master key: 256 random bits in the keychain.

use std::fmt;

use zeroize::Zeroizing;

use crate::secrets::{Keychain, SecretsError};

/// The master key's size: 256 bits, XChaCha20-Poly1305's key.
pub const MASTER_KEY_BYTES: usize = 32;

/// The master key, in a buffer wiped on drop. `Debug` never shows it.
pub struct MasterKey(Zeroizing<[u8; MASTER_KEY_BYTES]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Reads the master key from `keychain`, creating and storing a new one
    /// if there is none. A keychain error is `KeychainUnavailable`: there is
    /// no fallback to any other storage.
    pub fn load_or_create(keychain: &dyn Keychain) -> Result<Self, SecretsError> {
        let unavailable = |e: crate::secrets::KeychainError| {
            tracing::warn!(keychain = %keychain.describe(), error = %e, "keychain unavailable");
            SecretsError::KeychainUnavailable(e.0)
        };
        // One creation at a time in this process: two services over the same
        // entry (two windows, parallel tests) must not each store a key of
        // their own between the other's read and write. (Across processes
        // the read-back below is what is left; see docs/security.md.)
        static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = CREATING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(stored) = keychain.read().map_err(unavailable)? {
            return Self::from_stored(&stored, keychain);
        }
        let mut fresh = Zeroizing::new([0u8; MASTER_KEY_BYTES]);
        getrandom::fill(fresh.as_mut_slice()).map_err(|_| SecretsError::EncryptionFailed("the system has no randomness"))?;
        keychain.write(fresh.as_slice()).map_err(unavailable)?;
        tracing::info!(keychain = %keychain.describe(), "created this install's master key");
        // Read back: if another instance stored one at the same moment, the
        // stored one is the one every instance uses.
        match keychain.read().map_err(unavailable)? {
            Some(stored) => Self::from_stored(&stored, keychain),
            None => Err(SecretsError::KeychainUnavailable("the keychain did not keep the master key".into())),
        }
    }

    fn from_stored(stored: &[u8], keychain: &dyn Keychain) -> Result<Self, SecretsError> {
        let bytes: [u8; MASTER_KEY_BYTES] = stored.try_into().map_err(|_| {
            SecretsError::KeychainUnavailable(format!(
                "{} does not hold a {MASTER_KEY_BYTES}-byte master key; it was left as it is",
                keychain.describe()
            ))
        })?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// A key from bytes (tests of the sealing format).
    pub fn from_bytes(bytes: [u8; MASTER_KEY_BYTES]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; MASTER_KEY_BYTES] {
        &self.0
    }
}
