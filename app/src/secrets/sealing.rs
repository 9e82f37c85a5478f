//! Sealing a profile key under the master key: XChaCha20-Poly1305 with a
//! random 192-bit nonce (random nonces of that size never collide in
//! practice), the binding as associated data, in the text form
//! `v1.<base64url(nonce || ciphertext || tag)>`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::jwt::Algorithm;
use crate::secrets::{MasterKey, SecretsError};
use crate::store::ProfileId;

/// The prefix of the one sealed form this version writes.
pub const SEALED_PREFIX: &str = "v1.";
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
/// The longest sealed text opened: a 64 KiB key (the signer's cap) sealed
/// and encoded is under 88 KiB. Bounds the work a stored or sent value can
/// cause.
const MAX_SEALED_CHARS: usize = 96 * 1024;
/// Separates these associated data from any other use of the master key.
const AD_DOMAIN: &str = "tollgate/profile-key/v1";

/// What a sealed key is bound to. A key opens only for the binding it was
/// sealed for, so a key can't be moved to another profile or relabelled
/// with another algorithm by editing the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyBinding {
    /// The algorithm the key was checked for.
    pub algorithm: Algorithm,
    /// The profile it belongs to; `None` for a key just encrypted by
    /// `crypto:encrypt` and not yet saved with a profile.
    pub profile: Option<ProfileId>,
}

impl KeyBinding {
    /// A key not yet saved with a profile.
    pub fn unassigned(algorithm: Algorithm) -> Self {
        Self { algorithm, profile: None }
    }

    /// A key of profile `id`.
    pub fn profile(algorithm: Algorithm, id: ProfileId) -> Self {
        Self { algorithm, profile: Some(id) }
    }

    fn associated_data(self) -> String {
        let profile = self.profile.map_or_else(|| "unassigned".to_owned(), |id| id.to_string());
        format!("{AD_DOMAIN}\n{}\n{profile}", self.algorithm.name())
    }
}

fn cipher(master: &MasterKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&Key::from(*master.bytes()))
}

/// Seals `key` for `binding`.
pub(crate) fn seal(master: &MasterKey, key: &[u8], binding: KeyBinding) -> Result<String, SecretsError> {
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce).map_err(|_| SecretsError::EncryptionFailed("the system has no randomness"))?;
    let aad = binding.associated_data();
    let sealed = cipher(master)
        .encrypt(&XNonce::from(nonce), Payload { msg: key, aad: aad.as_bytes() })
        .map_err(|_| SecretsError::EncryptionFailed("the cipher refused the key"))?;
    let mut raw = Vec::with_capacity(NONCE_BYTES + sealed.len());
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&sealed);
    Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// Opens a sealed key for `binding`.
pub(crate) fn open(master: &MasterKey, sealed: &str, binding: KeyBinding) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    let Some(body) = sealed.strip_prefix(SEALED_PREFIX) else {
        return Err(SecretsError::Malformed("it does not start with v1."));
    };
    if body.len() > MAX_SEALED_CHARS {
        return Err(SecretsError::Malformed("it is too long"));
    }
    let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| SecretsError::Malformed("it is not base64url"))?;
    if raw.len() < NONCE_BYTES + TAG_BYTES {
        return Err(SecretsError::Malformed("it is too short"));
    }
    let (nonce, ciphertext) = raw.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SecretsError::Malformed("it is too short"))?;
    let aad = binding.associated_data();
    cipher(master)
        .decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() })
        .map(Zeroizing::new)
        .map_err(|_| SecretsError::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ProfileId {
        ProfileId::random().expect("rng")
    }

    #[test]
    fn a_sealed_key_opens_only_for_its_install_profile_and_algorithm() {
        let master = MasterKey::from_bytes([7; 32]);
        let (a, b) = (id(), id());
        let sealed = seal(&master, b"secret-key-bytes", KeyBinding::profile(Algorithm::HS256, a)).expect("sealed");
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(!sealed.contains("secret"));
        let opened = open(&master, &sealed, KeyBinding::profile(Algorithm::HS256, a)).expect("opens");
        assert_eq!(opened.as_slice(), b"secret-key-bytes");
        for (what, key, binding) in [
            ("another profile", &master, KeyBinding::profile(Algorithm::HS256, b)),
            ("another algorithm", &master, KeyBinding::profile(Algorithm::HS512, a)),
            ("unassigned", &master, KeyBinding::unassigned(Algorithm::HS256)),
        ] {
            assert_eq!(open(key, &sealed, binding).expect_err(what).code(), "DECRYPTION_FAILED", "{what}");
        }
        let other_install = MasterKey::from_bytes([8; 32]);
        assert!(matches!(open(&other_install, &sealed, KeyBinding::profile(Algorithm::HS256, a)), Err(SecretsError::DecryptionFailed)));
    }

    #[test]
    fn tampered_or_malformed_sealed_text_is_refused() {
        let master = MasterKey::from_bytes([7; 32]);
        let binding = KeyBinding::unassigned(Algorithm::HS256);
        let sealed = seal(&master, b"k", binding).expect("sealed");
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert!(matches!(open(&master, &flipped, binding), Err(SecretsError::DecryptionFailed)));
        for bad in ["", "v1.", "v2.AAAA", "v1.!!!!", "v1.AAAA", &format!("v1.{}", "A".repeat(MAX_SEALED_CHARS + 1))] {
            assert!(matches!(open(&master, bad, binding), Err(SecretsError::Malformed(_))), "{bad:.20}");
        }
    }

    #[test]
    fn two_seals_of_one_key_differ() {
        let master = MasterKey::from_bytes([7; 32]);
        let binding = KeyBinding::unassigned(Algorithm::HS256);
        assert_ne!(seal(&master, b"k", binding).expect("a"), seal(&master, b"k", binding).expect("b"));
    }
}
