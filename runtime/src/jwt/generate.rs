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

/// The largest key set [`key_set`] reads (a set of 32 RSA-4096 keys is
/// about 30 KiB).
pub const MAX_KEY_SET_BYTES: usize = 64 * 1024;

/// The most keys [`key_set`] takes from one set.
pub const MAX_KEY_SET_KEYS: usize = 32;

/// A key of a key set, ready to verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetKey {
    /// Its `kid`, when it has one.
    pub kid: Option<String>,
    /// Its RFC 7638 SHA-256 thumbprint, base64url.
    pub thumbprint: String,
    /// The algorithms it verifies: its own `alg` when it names one, else
    /// every algorithm of its key type and curve. Never one the token
    /// picks: a token's `alg` outside these is refused.
    pub algorithms: Vec<Algorithm>,
    /// The same key as SubjectPublicKeyInfo PEM, for the signer.
    pub pem: String,
}

/// The signature keys of a JSON Web Key Set (RFC 7517 section 5): each
/// public RSA, EC (P-256, P-384) or OKP (Ed25519) key whose `use` is not
/// `enc` and whose `key_ops`, if any, include `verify`. Refused as a whole,
/// with the reason: text over [`MAX_KEY_SET_BYTES`], not JSON, no `keys`
/// array, more than [`MAX_KEY_SET_KEYS`] keys, a symmetric (`oct`) key (a
/// key set is for public keys), a key with private members, a key whose
/// `alg` its key type can't have, and a key that does not parse.
pub fn key_set(text: &str) -> Result<Vec<KeySetKey>, JwtError> {
    let bad = |what: String| JwtError::InvalidKey(format!("the key set {what}"));
    if text.len() > MAX_KEY_SET_BYTES {
        return Err(bad(format!("is over {MAX_KEY_SET_BYTES} bytes")));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(format!("is not JSON: {e}")))?;
    let Some(keys) = value.get("keys").and_then(serde_json::Value::as_array) else {
        return Err(bad("has no \"keys\" array (a JWKS is {\"keys\": [...]})".into()));
    };
    if keys.len() > MAX_KEY_SET_KEYS {
        return Err(bad(format!("has {} keys; at most {MAX_KEY_SET_KEYS} are read", keys.len())));
    }
    let mut out = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let which = |what: &str| bad(format!("key {i}: {what}"));
        if key.get("d").is_some() || key.get("p").is_some() || key.get("k").is_some() {
            return Err(which("has private or symmetric key members; a key set holds public keys only"));
        }
        let jwk: Jwk = serde_json::from_value(key.clone()).map_err(|e| which(&format!("is not a JWK: {e}")))?;
        let for_signatures = key.get("use").and_then(serde_json::Value::as_str).is_none_or(|u| u == "sig")
            && key
                .get("key_ops")
                .and_then(serde_json::Value::as_array)
                .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
        if !for_signatures {
            continue;
        }
        let family: Vec<Algorithm> = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::ALL.into_iter().filter(|a| is_rsa(*a)).collect(),
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => vec![Algorithm::ES256],
                EllipticCurve::P384 => vec![Algorithm::ES384],
                ref other => return Err(which(&format!("curve {other:?} is not one Tollgate verifies"))),
            },
            AlgorithmParameters::OctetKeyPair(_) => vec![Algorithm::EdDSA],
            AlgorithmParameters::OctetKey(_) => return Err(which("is a symmetric (oct) key; a key set holds public keys only")),
            _ => return Err(which("is of a key type Tollgate does not verify")),
        };
        let algorithms = match key.get("alg").and_then(serde_json::Value::as_str) {
            None => family,
            Some(named) => {
                let alg: Algorithm = named.parse().map_err(|_| which("names an algorithm Tollgate does not verify"))?;
                if !family.contains(&alg) {
                    return Err(which(&format!("names {alg}, which its key type can't sign with")));
                }
                vec![alg]
            }
        };
        let pem = spki_pem(algorithms[0], &jwk.algorithm).map_err(|e| which(&format!("does not parse: {e}")))?;
        let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| which(&e.to_string()))?;
        let kid = jwk.common.key_id.clone();
        out.push(KeySetKey { kid, thumbprint, algorithms, pem });
    }
    Ok(out)
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

    fn fixture_public(alg: Algorithm, file: &str, kid: Option<&str>) -> PublicKey {
        let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys");
        let private = std::fs::read(keys.join(file)).expect("fixture");
        public_key(alg, &private, kid).expect("derives").expect("asymmetric")
    }

    #[test]
    fn a_key_set_reads_back_each_key_with_the_algorithms_its_type_allows() {
        let rsa = fixture_public(Algorithm::RS256, "rsa2048.pem", Some("rsa-1"));
        let p256 = fixture_public(Algorithm::ES256, "p256.pem", None);
        let ed = fixture_public(Algorithm::EdDSA, "ed25519.pem", None);
        let mut set = jwks(&[rsa.clone(), p256.clone(), ed.clone()]);
        // Without its alg, the RSA key verifies the whole RSA family.
        if let Some(first) = set["keys"][0].as_object_mut() {
            first.remove("alg");
        }
        // An encryption key is not for signatures: left out.
        let mut enc = p256.jwk.clone();
        enc["use"] = "enc".into();
        set["keys"].as_array_mut().expect("keys").push(enc);
        let keys = key_set(&set.to_string()).expect("reads");
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert_eq!(keys[0].kid.as_deref(), Some("rsa-1"));
        assert_eq!(keys[0].thumbprint, rsa.thumbprint);
        assert_eq!(keys[0].algorithms.len(), 6, "RS256..PS512");
        assert_eq!(keys[0].pem, rsa.pem);
        assert_eq!((keys[1].algorithms.clone(), keys[1].thumbprint.clone()), (vec![Algorithm::ES256], p256.thumbprint.clone()));
        assert_eq!(keys[1].kid.as_deref(), Some(p256.thumbprint.as_str()), "kid defaults to the thumbprint");
        assert_eq!(keys[2].algorithms, vec![Algorithm::EdDSA]);
    }

    #[test]
    fn a_key_set_is_refused_whole_with_the_reason() {
        let p256 = fixture_public(Algorithm::ES256, "p256.pem", None);
        let with = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut key = p256.jwk.clone();
            edit(&mut key);
            serde_json::json!({ "keys": [key] }).to_string()
        };
        let cases: Vec<(String, &str)> = vec![
            ("not json".into(), "is not JSON"),
            ("{\"kty\": \"EC\"}".into(), "no \"keys\" array"),
            (serde_json::json!({ "keys": vec![p256.jwk.clone(); MAX_KEY_SET_KEYS + 1] }).to_string(), "at most 32"),
            (with(&|k| k["d"] = "c2VjcmV0".into()), "private or symmetric"),
            (serde_json::json!({ "keys": [{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}] }).to_string(), "private or symmetric"),
            (with(&|k| k["alg"] = "RS256".into()), "names RS256, which its key type can't sign with"),
            (with(&|k| k["alg"] = "none".into()), "does not verify"),
            (with(&|k| k["x"] = "AAAA".into()), "does not parse"),
            (format!("{{\"keys\": [], \"pad\": \"{}\"}}", "a".repeat(MAX_KEY_SET_BYTES)), "is over"),
        ];
        for (text, expected) in cases {
            let error = key_set(&text).expect_err(expected).to_string();
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }
}
