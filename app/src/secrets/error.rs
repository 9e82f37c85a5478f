//! The secrets service's boundary error. No variant carries key material.

/// Why sealing or opening a key failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// The keychain is missing, locked or refused; nothing was stored in
    /// its place.
    #[error("the system keychain is not available ({0}); unlock it or start a Secret Service, then try again")]
    KeychainUnavailable(String),
    /// The sealed key does not open under this install's master key for
    /// this profile.
    #[error("the key could not be decrypted: the profile was created by another user or on another machine, or its key was altered")]
    DecryptionFailed,
    /// Sealing failed (no randomness, or the cipher refused).
    #[error("the key could not be encrypted ({0})")]
    EncryptionFailed(&'static str),
    /// The sealed text is not one this version writes.
    #[error("the encrypted key is not in a form this version of Tollgate writes ({0})")]
    Malformed(&'static str),
}

impl SecretsError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::KeychainUnavailable(_) => "KEYCHAIN_UNAVAILABLE",
            Self::DecryptionFailed | Self::Malformed(_) => "DECRYPTION_FAILED",
            Self::EncryptionFailed(_) => "ENCRYPTION_FAILED",
        }
    }
}
