//! Key material, checked for its algorithm before any guest sees it.
//!
//! The bytes live in zeroizing buffers; `Debug` never prints them. The
//! host derives the public half itself (for RSA, EC and Ed25519) so it can
//! verify what a signer returns without trusting the signer for anything.

use std::fmt;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{DecodingKey, EncodingKey};
use tollgate_jwt_canonical::CanonicalSigner;
use zeroize::Zeroizing;

use crate::jwt::{Algorithm, JwtError};

/// The shortest HMAC secret accepted: RFC 7518 section 3.2 asks for a key
/// at least as long as the hash output; 32 bytes is HS256's.
pub const MIN_HMAC_SECRET_BYTES: usize = 32;

/// The smallest RSA modulus accepted, as RFC 7518 section 3.3 requires.
pub const MIN_RSA_BITS: usize = 2048;

/// The largest key accepted (a 16384-bit RSA PEM is about 12 KiB).
pub const MAX_KEY_BYTES: usize = 64 * 1024;

/// A key checked for its algorithm, prepared for the host's own canonical
/// signing (the one signature a signer's token must carry).
pub struct SigningKey {
    alg: Algorithm,
    material: Zeroizing<Vec<u8>>,
    canonical: CanonicalSigner,
    signature_len: usize,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("alg", &self.alg).field("material", &"[redacted]").finish()
    }
}

const PEM_PREFIX: &[u8] = b"-----BEGIN";

impl SigningKey {
    /// Checks `material` for `alg`: an HMAC secret of at least 32 bytes
    /// that is not a PEM document; or a PEM private key of the algorithm's
    /// type (RSA of at least 2048 bits, P-256/P-384 for ES256/ES384,
    /// Ed25519 for EdDSA).
    pub fn new(alg: Algorithm, material: Zeroizing<Vec<u8>>) -> Result<Self, JwtError> {
        if material.len() > MAX_KEY_BYTES {
            return Err(JwtError::InvalidKey(format!("the key is over {MAX_KEY_BYTES} bytes")));
        }
        if alg.is_hmac() {
            check_hmac_secret(alg, &material)?;
            let canonical = canonical_signer(alg, &material)?;
            let signature_len = match alg {
                Algorithm::HS256 => 32,
                Algorithm::HS384 => 48,
                _ => 64,
            };
            return Ok(Self { alg, material, canonical, signature_len });
        }
        if !material.trim_ascii_start().starts_with(PEM_PREFIX) {
            return Err(JwtError::InvalidKey(format!("{alg} takes a PEM private key")));
        }
        let not_private = || JwtError::InvalidKey(format!("the PEM is not a private key for {alg}"));
        let encoding = encoding_key(alg, &material).map_err(|_| not_private())?;
        let jwk = Jwk::from_encoding_key(&encoding, alg.to_jsonwebtoken()).map_err(|_| not_private())?;
        let signature_len = match (&jwk.algorithm, alg) {
            (AlgorithmParameters::RSA(rsa), _) => {
                let n = base64_len(&rsa.n);
                if n * 8 < MIN_RSA_BITS {
                    return Err(JwtError::InvalidKey(format!(
                        "the RSA key is {} bits; at least {MIN_RSA_BITS} are required",
                        n * 8
                    )));
                }
                n
            }
            (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256) => 64,
            (AlgorithmParameters::EllipticCurve(_), Algorithm::ES384) => 96,
            (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA) => 64,
            _ => return Err(not_private()),
        };
        let canonical = canonical_signer(alg, &material)?;
        // Sign once natively: the cheapest proof that the key is usable for
        // this algorithm (e.g. a P-384 key for ES256 fails here).
        canonical.signature(b"probe").map_err(|_| not_private())?;
        Ok(Self { alg, material, canonical, signature_len })
    }

    /// The algorithm this key was checked for.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key bytes, for the one call that carries them.
    pub(crate) fn material(&self) -> &Vec<u8> {
        &self.material
    }

    /// The host's own signer for this key: the canonical signature a
    /// signer guest's token must carry, byte for byte.
    pub(crate) fn canonical(&self) -> &CanonicalSigner {
        &self.canonical
    }

    /// The exact length of a signature by this key.
    pub(crate) fn signature_len(&self) -> usize {
        self.signature_len
    }
}

/// The PEM private key `pem` parsed for `alg`'s key type (RSA for RS* and
/// PS*, EC for ES*, Ed25519 for EdDSA).
pub(crate) fn encoding_key(alg: Algorithm, pem: &[u8]) -> jsonwebtoken::errors::Result<EncodingKey> {
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => EncodingKey::from_rsa_pem(pem),
    }
}

fn canonical_signer(alg: Algorithm, material: &[u8]) -> Result<CanonicalSigner, JwtError> {
    CanonicalSigner::new(alg.to_jsonwebtoken(), material).map_err(|_| JwtError::InvalidKey(format!("the key cannot sign {alg}")))
}

fn check_hmac_secret(alg: Algorithm, secret: &[u8]) -> Result<(), JwtError> {
    if secret.trim_ascii_start().starts_with(PEM_PREFIX) {
        return Err(JwtError::InvalidKey(format!(
            "{alg} takes a raw shared secret, not a PEM key (using a public key as an HMAC secret is the algorithm-confusion attack)"
        )));
    }
    if secret.len() < MIN_HMAC_SECRET_BYTES {
        return Err(JwtError::InvalidKey(format!(
            "an HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes, this one is {}",
            secret.len()
        )));
    }
    Ok(())
}

/// The number of bytes a base64url (no padding) string decodes to.
fn base64_len(b64: &str) -> usize {
    b64.len() * 3 / 4
}

/// A key to verify tokens with: an HMAC secret, or a PEM public key. A
/// private key is refused: verifying never needs it, and a private key
/// handed to a verifier is a key in the wrong place.
pub(crate) fn verifying_key_for(alg: Algorithm, material: &[u8]) -> Result<DecodingKey, JwtError> {
    if material.len() > MAX_KEY_BYTES {
        return Err(JwtError::InvalidKey(format!("the key is over {MAX_KEY_BYTES} bytes")));
    }
    if alg.is_hmac() {
        check_hmac_secret(alg, material)?;
        return Ok(DecodingKey::from_secret(material));
    }
    if material.windows(PRIVATE_KEY_LABEL.len()).any(|w| w == PRIVATE_KEY_LABEL) {
        return Err(JwtError::InvalidKey(format!("{alg} verification takes the public key, not the private key")));
    }
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(material),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(material),
        _ => DecodingKey::from_rsa_pem(material),
    }
    .map_err(|_| JwtError::InvalidKey(format!("the PEM is not a public key for {alg}")))
}

const PRIVATE_KEY_LABEL: &[u8] = b"PRIVATE KEY-----";

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: Algorithm, bytes: &[u8]) -> Result<SigningKey, JwtError> {
        SigningKey::new(alg, Zeroizing::new(bytes.to_vec()))
    }

    #[test]
    fn short_hmac_secrets_are_refused_with_the_length() {
        let err = key(Algorithm::HS256, b"too short").expect_err("short");
        assert_eq!(err.code(), "INVALID_KEY");
        assert!(err.to_string().contains("32") && err.to_string().contains('9'), "{err}");
        assert!(key(Algorithm::HS512, &[7; 32]).is_ok());
    }

    #[test]
    fn a_pem_given_as_an_hmac_secret_is_refused() {
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", "A".repeat(64));
        let err = key(Algorithm::HS256, pem.as_bytes()).expect_err("pem");
        assert!(err.to_string().contains("algorithm-confusion"), "{err}");
    }

    #[test]
    fn garbage_pem_and_raw_bytes_are_refused_for_asymmetric_algorithms() {
        let garbage = b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n";
        for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
            assert_eq!(key(alg, garbage).expect_err("garbage").code(), "INVALID_KEY");
            assert_eq!(key(alg, &[1; 40]).expect_err("raw").code(), "INVALID_KEY");
        }
    }

    #[test]
    fn debug_never_prints_the_material() {
        let k = key(Algorithm::HS256, b"0123456789abcdef0123456789abcdef-secret").expect("ok");
        let shown = format!("{k:?}");
        assert!(!shown.contains("0123456789") && shown.contains("redacted"), "{shown}");
    }
}
