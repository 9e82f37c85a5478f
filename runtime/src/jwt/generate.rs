//! Keys made by the host (issue 19): a private key is born here, sealed by
//! the app, and never passes through the page. The public half of any
//! asymmetric key is answered as a JWK (with its RFC 7638 thumbprint), as
//! SPKI PEM, and gathered into a JWKS.

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use rand_core::OsRng;
use serde::Serialize;
use zeroize::Zeroizing;

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
        if self.algorithm().is_hmac() {
            return Ok(None);
        }
        let bad = |what: &str| JwtError::InvalidKey(format!("could not derive the public key: {what}"));
        let encoding = match self.algorithm() {
            Algorithm::ES256 | Algorithm::ES384 => jsonwebtoken::EncodingKey::from_ec_pem(self.material()),
            Algorithm::EdDSA => jsonwebtoken::EncodingKey::from_ed_pem(self.material()),
            _ => jsonwebtoken::EncodingKey::from_rsa_pem(self.material()),
        }
        .map_err(|e| bad(&e.to_string()))?;
        let jwk = Jwk::from_encoding_key(&encoding, self.algorithm().to_jsonwebtoken()).map_err(|e| bad(&e.to_string()))?;
        let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| bad(&e.to_string()))?;
        let pem = spki_pem(&jwk.algorithm).map_err(|e| bad(&e))?;
        let mut value = serde_json::to_value(&jwk.algorithm).map_err(|e| bad(&e.to_string()))?;
        if let Some(fields) = value.as_object_mut() {
            fields.insert("alg".to_owned(), self.algorithm().to_string().into());
            fields.insert("use".to_owned(), "sig".into());
            fields.insert("kid".to_owned(), kid.unwrap_or(&thumbprint).into());
        }
        Ok(Some(PublicKey { jwk: value, pem, thumbprint }))
    }
}

/// SubjectPublicKeyInfo PEM from the JWK's public members.
fn spki_pem(params: &AlgorithmParameters) -> Result<String, String> {
    use p256::pkcs8::{EncodePublicKey as _, LineEnding};
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string());
    let pem = match params {
        AlgorithmParameters::RSA(rsa) => {
            let n = rsa::BigUint::from_bytes_be(&b64(&rsa.n)?);
            let e = rsa::BigUint::from_bytes_be(&b64(&rsa.e)?);
            rsa::RsaPublicKey::new(n, e).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let mut point = vec![4u8];
            point.extend(b64(&ec.x)?);
            point.extend(b64(&ec.y)?);
            match &ec.curve {
                EllipticCurve::P256 => p256::PublicKey::from_sec1_bytes(&point).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF),
                EllipticCurve::P384 => p384::PublicKey::from_sec1_bytes(&point).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF),
                other => return Err(format!("curve {other:?} is not one the host signs with")),
            }
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            let x: [u8; 32] = b64(&okp.x)?.try_into().map_err(|_| "an Ed25519 key is 32 bytes".to_owned())?;
            ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|e| e.to_string())?.to_public_key_pem(LineEnding::LF)
        }
        _ => return Err("not an asymmetric key".to_owned()),
    };
    pem.map_err(|e| e.to_string())
}

/// A JSON Web Key Set (RFC 7517 section 5) of `keys`.
pub fn jwks(keys: &[PublicKey]) -> serde_json::Value {
    serde_json::json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
}
