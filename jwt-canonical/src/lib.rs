//! The one signature Tollgate accepts for a JWT signing input.
//!
//! A signer guest is handed a key and a signing input. Every signature the
//! standards allow for that pair verifies, and most algorithms allow many:
//! an ECDSA or EdDSA signer chooses its nonce, a PSS signer its salt, and
//! ECDSA's `(r, s)` and `(r, n - s)` both verify. Each choice is a channel
//! through which a hostile signer can hand the key to whoever receives the
//! token. So the host does not ask "does it verify?" but "is it the one
//! signature this crate computes?", and this crate fixes one signature per
//! (algorithm, key, input):
//!
//! | family | the canonical signature |
//! |---|---|
//! | HS256/384/512 | HMAC (RFC 2104); deterministic by definition |
//! | RS256/384/512 | RSASSA-PKCS1-v1_5 (RFC 8017 8.2); deterministic by definition |
//! | PS256/384/512 | RSASSA-PSS, MGF1 with the same hash, salt as long as the hash, the salt derived from the key and the input (see [`pss_seed`]) |
//! | ES256/ES384 | ECDSA with the RFC 6979 nonce, `s` normalised to the lower half (`s <= n/2`) |
//! | EdDSA | Ed25519 (RFC 8032); deterministic by definition |
//!
//! Signing itself is jsonwebtoken's rust_crypto backend (and the `rsa`,
//! `p256` and `p384` crates under it); this crate adds only the two rules
//! the standards leave open: low-S, and the PSS salt. The host and the
//! first-party signer guest both sign with it; a third-party signer that
//! depends on it produces byte-identical tokens by construction.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::RsaPrivateKey;
use rsa::pss::BlindedSigningKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PrivateKeyParts;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

/// The domain separator of the PSS salt derivation: changing it (or any
/// part of [`pss_seed`]) changes every PS* token, so it carries a version.
pub const PSS_SALT_DOMAIN: &[u8] = b"tollgate:jwt-canonical pss-salt v1";

/// Why a canonical signature could not be computed. Messages never quote
/// key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonicalError {
    /// The key is not usable for the algorithm.
    InvalidKey(String),
    /// The algorithm is not one of the twelve JOSE signature algorithms
    /// this crate fixes a signature for.
    UnsupportedAlgorithm(String),
    /// The underlying signer failed.
    SigningFailed(String),
}

impl std::fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidKey(m) => write!(f, "invalid key: {m}"),
            Self::UnsupportedAlgorithm(m) => write!(f, "no canonical signature for {m}"),
            Self::SigningFailed(m) => write!(f, "signing failed: {m}"),
        }
    }
}

impl std::error::Error for CanonicalError {}

enum Prepared {
    /// HMAC, PKCS#1 v1.5 and Ed25519: jsonwebtoken's signature is already
    /// the only one.
    Deterministic(EncodingKey),
    /// ECDSA: jsonwebtoken's (RFC 6979) signature, then low-S.
    Ecdsa(EncodingKey),
    /// PSS: the key prepared once for its hash, signed with the derived salt.
    Pss256(Box<BlindedSigningKey<Sha256>>),
    /// PSS with SHA-384.
    Pss384(Box<BlindedSigningKey<Sha384>>),
    /// PSS with SHA-512.
    Pss512(Box<BlindedSigningKey<Sha512>>),
}

/// A key prepared once to compute canonical signatures for one algorithm.
pub struct CanonicalSigner {
    alg: Algorithm,
    prepared: Prepared,
}

impl std::fmt::Debug for CanonicalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanonicalSigner").field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl CanonicalSigner {
    /// Prepares `key` for `alg`: the raw secret for HS*, a PEM private key
    /// (PKCS#1 or PKCS#8 for RSA, PKCS#8 for EC and Ed25519) otherwise.
    pub fn new(alg: Algorithm, key: &[u8]) -> Result<Self, CanonicalError> {
        let bad = |what: &str| CanonicalError::InvalidKey(format!("not a {what} private key for {alg:?}"));
        let prepared = match alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Prepared::Deterministic(EncodingKey::from_secret(key)),
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
                Prepared::Deterministic(EncodingKey::from_rsa_pem(key).map_err(|_| bad("PEM RSA"))?)
            }
            Algorithm::EdDSA => Prepared::Deterministic(EncodingKey::from_ed_pem(key).map_err(|_| bad("PEM Ed25519"))?),
            Algorithm::ES256 | Algorithm::ES384 => Prepared::Ecdsa(EncodingKey::from_ec_pem(key).map_err(|_| bad("PEM EC"))?),
            Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => {
                let text = std::str::from_utf8(key).map_err(|_| bad("PEM RSA"))?;
                let parsed = RsaPrivateKey::from_pkcs1_pem(text)
                    .or_else(|_| RsaPrivateKey::from_pkcs8_pem(text))
                    .map_err(|_| bad("PEM RSA"))?;
                match alg {
                    Algorithm::PS256 => Prepared::Pss256(Box::new(BlindedSigningKey::new(parsed))),
                    Algorithm::PS384 => Prepared::Pss384(Box::new(BlindedSigningKey::new(parsed))),
                    _ => Prepared::Pss512(Box::new(BlindedSigningKey::new(parsed))),
                }
            }
            #[allow(unreachable_patterns, reason = "jsonwebtoken may add algorithms")]
            other => return Err(CanonicalError::UnsupportedAlgorithm(format!("{other:?}"))),
        };
        Ok(Self { alg, prepared })
    }

    /// The algorithm this key was prepared for.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The canonical signature of `message` (the JWS signing input), raw.
    pub fn signature(&self, message: &[u8]) -> Result<Vec<u8>, CanonicalError> {
        match &self.prepared {
            Prepared::Deterministic(key) => jsonwebtoken_signature(message, key, self.alg),
            Prepared::Ecdsa(key) => {
                let raw = jsonwebtoken_signature(message, key, self.alg)?;
                low_s(self.alg, &raw)
            }
            Prepared::Pss256(key) => pss_signature(key, message),
            Prepared::Pss384(key) => pss_signature(key, message),
            Prepared::Pss512(key) => pss_signature(key, message),
        }
    }

    /// The compact token: `message "." base64url(signature)`.
    pub fn token(&self, message: &str) -> Result<String, CanonicalError> {
        let signature = self.signature(message.as_bytes())?;
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

fn jsonwebtoken_signature(message: &[u8], key: &EncodingKey, alg: Algorithm) -> Result<Vec<u8>, CanonicalError> {
    let encoded = jsonwebtoken::crypto::sign(message, key, alg).map_err(|e| CanonicalError::SigningFailed(e.to_string()))?;
    URL_SAFE_NO_PAD.decode(encoded).map_err(|e| CanonicalError::SigningFailed(e.to_string()))
}

/// `(r, s)` with `s` replaced by `n - s` when `s > n/2`: of the two
/// signatures that verify, the one in the lower half.
pub fn low_s(alg: Algorithm, raw: &[u8]) -> Result<Vec<u8>, CanonicalError> {
    let malformed = |_| CanonicalError::SigningFailed("not an ECDSA signature of the curve's size".into());
    match alg {
        Algorithm::ES256 => {
            let sig = p256::ecdsa::Signature::from_slice(raw).map_err(malformed)?;
            Ok(sig.normalize_s().unwrap_or(sig).to_vec())
        }
        Algorithm::ES384 => {
            let sig = p384::ecdsa::Signature::from_slice(raw).map_err(malformed)?;
            Ok(sig.normalize_s().unwrap_or(sig).to_vec())
        }
        other => Err(CanonicalError::UnsupportedAlgorithm(format!("{other:?} has no low-S form"))),
    }
}

/// The 32-byte seed of a PSS signature's randomness: HMAC-SHA-256 keyed
/// with the private exponent `d` (big-endian, no leading zeros) over
/// [`PSS_SALT_DOMAIN`] then the signing input. Like RFC 6979's nonce it is
/// secret to anyone without the key (so the salt stays unpredictable, as
/// PSS's proof wants) and fixed for the pair (so the host can recompute
/// it). A ChaCha20 stream from this seed gives the salt first (`rsa`'s PSS
/// signer draws the salt before anything else), then the blinding factor,
/// which does not change the signature.
pub fn pss_seed(key: &RsaPrivateKey, message: &[u8]) -> [u8; 32] {
    let d = Zeroizing::new(key.d().to_bytes_be());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&d).expect("HMAC takes a key of any length");
    mac.update(PSS_SALT_DOMAIN);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn pss_signature<D>(key: &BlindedSigningKey<D>, message: &[u8]) -> Result<Vec<u8>, CanonicalError>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset,
{
    use rsa::signature::{RandomizedSigner, SignatureEncoding};
    let mut rng = ChaCha20Rng::from_seed(pss_seed(key.as_ref(), message));
    key.try_sign_with_rng(&mut rng, message)
        .map(|signature| signature.to_vec())
        .map_err(|e| CanonicalError::SigningFailed(e.to_string()))
}

#[cfg(test)]
mod tests;
