//! Keys made by the host (issue 19): a private key is born here, sealed by
//! the app, and never passes through the page. The public half of any
//! asymmetric key is answered as a JWK (with its RFC 7638 thumbprint), as
//! SPKI PEM, and gathered into a JWKS.

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use rand_core::OsRng;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::jwt::key::encoding_key;
use crate::jwt::{Algorithm, JwtError, SigningKey};

/// RSA modulus sizes the host generates.
pub const RSA_BITS: [usize; 3] = [2048, 3072, 4096];

/// What to generate for `alg`: the RSA size for RS*/PS* (default 2048);
/// the rest follow from the algorithm (an HMAC secret as long as the
/// hash, P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA).
pub fn generate(alg: Algorithm, rsa_bits: Option<usize>) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
    if rsa_bits.is_some() && !is_rsa(alg) {
        return Err(JwtError::InvalidKey(format!("{alg} keys have no RSA size")));
    }
    let pem = |doc: Result<Zeroizing<String>, p256::pkcs8::Error>| {
        doc.map(|pem| Zeroizing::new(pem.as_bytes().to_vec())).map_err(|e| JwtError::InvalidKey(format!("could not encode the new key: {e}")))
    };
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let len = match alg {
                Algorithm::HS256 => 32,
                Algorithm::HS384 => 48,
                _ => 64,
            };
            let mut secret = Zeroizing::new(vec![0u8; len]);
            getrandom::fill(&mut secret).map_err(|e| JwtError::InvalidKey(format!("no randomness for the new key: {e}")))?;
            Ok(secret)
        }
        Algorithm::ES256 => pem(p256::SecretKey::random(&mut OsRng).to_pkcs8_pem(LineEnding::LF)),
        Algorithm::ES384 => pem(p384::SecretKey::random(&mut OsRng).to_pkcs8_pem(LineEnding::LF)),
        // PKCS#8 v1 (the private key alone): the form jsonwebtoken and
        // OpenSSL read; ed25519-dalek's own encoding adds the public key (v2).
        Algorithm::EdDSA => {
            let secret = Zeroizing::new(ed25519_dalek::SigningKey::generate(&mut OsRng).to_bytes());
            pem(ed25519_dalek::pkcs8::KeypairBytes { secret_key: *secret, public_key: None }.to_pkcs8_pem(LineEnding::LF))
        }
        _ => {
            let bits = rsa_bits.unwrap_or(RSA_BITS[0]);
            if !RSA_BITS.contains(&bits) {
                return Err(JwtError::InvalidKey(format!("RSA keys are generated at 2048, 3072 or 4096 bits, not {bits}")));
            }
            let key = rsa::RsaPrivateKey::new(&mut OsRng, bits).map_err(|e| JwtError::InvalidKey(format!("could not generate the RSA key: {e}")))?;
            pem(key.to_pkcs8_pem(LineEnding::LF))
        }
    }
}

fn is_rsa(alg: Algorithm) -> bool {
    !alg.is_hmac() && !matches!(alg, Algorithm::ES256 | Algorithm::ES384 | Algorithm::EdDSA)
}

/// The public half of an asymmetric key, as a verifier needs it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicKey {
    /// The JWK (RFC 7517): `kty` and its members, `alg`, `use: "sig"`,
    /// and `kid` (the thumbprint unless a kid was given).
    pub jwk: serde_json::Value,
    /// The same key as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    pub pem: String,
    /// The JWK's RFC 7638 SHA-256 thumbprint, base64url.
    pub thumbprint: String,
}

impl SigningKey {
    /// The public half: `None` for an HMAC secret, which has none (and is
    /// never exported). `kid` names it in the JWK; the thumbprint if `None`.
    pub fn public_key(&self, kid: Option<&str>) -> Result<Option<PublicKey>, JwtError> {
        public_key(self.algorithm(), self.material(), kid)
    }
}

/// The public half of `private_pem`, a PEM private key for `alg`, derived
/// by the host (verifying needs only it, and the signer refuses a private
/// key for verification); `None` for an HMAC algorithm. Parsed by
/// jsonwebtoken (as `SigningKey` does), encoded by the RustCrypto crates.
/// A key whose type or curve does not match `alg` is an error.
pub fn public_key(alg: Algorithm, private_pem: &[u8], kid: Option<&str>) -> Result<Option<PublicKey>, JwtError> {
    if alg.is_hmac() {
        return Ok(None);
    }
    let bad = |what: &str| JwtError::InvalidKey(format!("could not derive the public key: {what}"));
    let encoding = encoding_key(alg, private_pem).map_err(|e| bad(&e.to_string()))?;
    let jwk = Jwk::from_encoding_key(&encoding, alg.to_jsonwebtoken()).map_err(|e| bad(&e.to_string()))?;
    let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| bad(&e.to_string()))?;
    let pem = spki_pem(alg, &jwk.algorithm).map_err(|e| bad(&e))?;
    let mut value = serde_json::to_value(&jwk.algorithm).map_err(|e| bad(&e.to_string()))?;
    if let Some(fields) = value.as_object_mut() {
        fields.insert("alg".to_owned(), alg.to_string().into());
        fields.insert("use".to_owned(), "sig".into());
        fields.insert("kid".to_owned(), kid.unwrap_or(&thumbprint).into());
    }
    Ok(Some(PublicKey { jwk: value, pem, thumbprint }))
}

/// SubjectPublicKeyInfo PEM from the JWK's public members, which must be
/// of `alg`'s key type and curve.
fn spki_pem(alg: Algorithm, params: &AlgorithmParameters) -> Result<String, String> {
    use p256::pkcs8::{EncodePublicKey as _, LineEnding};
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string());
    let pem = match params {
        AlgorithmParameters::RSA(rsa) if is_rsa(alg) => {
            let n = rsa::BigUint::from_bytes_be(&b64(&rsa.n)?);
            let e = rsa::BigUint::from_bytes_be(&b64(&rsa.e)?);
            rsa::RsaPublicKey::new(n, e).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let mut point = vec![4u8];
            point.extend(b64(&ec.x)?);
            point.extend(b64(&ec.y)?);
            match (&ec.curve, alg) {
                (EllipticCurve::P256, Algorithm::ES256) => p256::PublicKey::from_sec1_bytes(&point).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF),
                (EllipticCurve::P384, Algorithm::ES384) => p384::PublicKey::from_sec1_bytes(&point).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF),
                (other, _) => return Err(format!("curve {other:?} is not the one {alg} signs with")),
            }
        }
        AlgorithmParameters::OctetKeyPair(okp) if alg == Algorithm::EdDSA => {
            let x: [u8; 32] = b64(&okp.x)?.try_into().map_err(|_| "an Ed25519 key is 32 bytes".to_owned())?;
            ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF)
        }
        _ => return Err(format!("not a key of {alg}'s type")),
    };
    pem.map_err(|e| e.to_string())
}

/// A JSON Web Key Set (RFC 7517 section 5) of `keys`.
pub fn jwks(keys: &[PublicKey]) -> serde_json::Value {
    serde_json::json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_pem_of_each_private_key_verifies_its_signatures() {
        let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys");
        for (alg, file) in [
            (Algorithm::RS256, "rsa2048.pem"),
            (Algorithm::ES256, "p256.pem"),
            (Algorithm::ES384, "p384.pem"),
            (Algorithm::EdDSA, "ed25519.pem"),
        ] {
            let private = std::fs::read(keys.join(file)).expect("fixture");
            let text = public_key(alg, &private, None).expect("derives").expect("asymmetric").pem;
            assert!(text.starts_with("-----BEGIN PUBLIC KEY-----"), "{alg}");
            let encoding = encoding_key(alg, &private).expect("encoding key");
            let signature = jsonwebtoken::crypto::sign(b"message", &encoding, alg.to_jsonwebtoken()).expect("signs");
            let decoding = match alg {
                Algorithm::ES256 | Algorithm::ES384 => jsonwebtoken::DecodingKey::from_ec_pem(text.as_bytes()),
                Algorithm::EdDSA => jsonwebtoken::DecodingKey::from_ed_pem(text.as_bytes()),
                _ => jsonwebtoken::DecodingKey::from_rsa_pem(text.as_bytes()),
            }
            .expect("decoding key");
            assert!(jsonwebtoken::crypto::verify(&signature, b"message", &decoding, alg.to_jsonwebtoken()).expect("verifies"), "{alg}");
        }
    }
}
