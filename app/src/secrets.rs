//! Signing keys at rest: sealed with an AEAD under a per-install master key
//! that lives in the OS keychain.
//!
//! - `keychain`: the [`Keychain`] seam and the real one ([`OsKeychain`],
//!   the Secret Service through the `keyring` crate). A keychain that is
//!   missing or locked is an error, never a reason to store anything in
//!   the clear.
//! - `master_key`: the 256-bit master key, created in the keychain on first
//!   use, held in memory in a zeroizing buffer once read.
//! - `sealing`: XChaCha20-Poly1305 under the master key, bound to the
//!   profile (its id and algorithm are the associated data), in a
//!   versioned text form `v1.<base64url(nonce || ciphertext)>`.
//!
//! Trust: the keychain and this process. Sealed keys come from files
//! anyone may have edited and from the page; they are opened only by the
//! AEAD, whose failure is an answer (`DECRYPTION_FAILED`), not a panic.
//! Nothing here logs or formats key bytes; every `Debug` is redacted.

mod error;
mod keychain;
mod master_key;
mod sealing;

pub use error::SecretsError;
pub use keychain::{Keychain, KeychainError, OsKeychain, SecretServiceState, probe_secret_service};
pub use master_key::{MASTER_KEY_BYTES, MasterKey};
pub use sealing::{KeyBinding, SEALED_PREFIX};

use std::sync::{Arc, Mutex, PoisonError};

use zeroize::Zeroizing;

/// The sealing service: the keychain, and the master key once read.
pub struct Secrets {
    keychain: Arc<dyn Keychain>,
    master: Mutex<Option<Arc<MasterKey>>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").field("keychain", &self.keychain.describe()).field("master", &"[redacted]").finish()
    }
}

impl Secrets {
    /// Sealing under the master key in `keychain`. Nothing is read until
    /// the first seal or open, so the app starts with the keychain locked.
    pub fn new(keychain: Arc<dyn Keychain>) -> Self {
        Self { keychain, master: Mutex::new(None) }
    }

    /// The master key: from memory, else from the keychain, else a new one
    /// stored in the keychain.
    pub fn master_key(&self) -> Result<Arc<MasterKey>, SecretsError> {
        let mut cached = self.master.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cached.as_ref() {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(MasterKey::load_or_create(self.keychain.as_ref())?);
        *cached = Some(Arc::clone(&key));
        Ok(key)
    }

    /// Seals `key` for `binding`.
    pub fn seal(&self, key: &[u8], binding: KeyBinding) -> Result<String, SecretsError> {
        let master = self.master_key()?;
        sealing::seal(&master, key, binding)
    }

    /// Opens a sealed key for `binding`. Fails with `DecryptionFailed` if
    /// it was sealed by another install, for another binding, or altered.
    pub fn open(&self, sealed: &str, binding: KeyBinding) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        let master = self.master_key()?;
        sealing::open(&master, sealed, binding)
    }
}
