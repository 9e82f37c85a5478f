//! Private keys as users keep them, read into the one form the app stores
//! (issue 19): a PKCS#8 PEM for an asymmetric key, the secret's bytes for
//! HMAC. Read here, by the host: a key file picked in the host's dialog or
//! named to the CLI never passes through the page.
//!
//! Accepted for the algorithm's key type: PEM (`PRIVATE KEY` PKCS#8,
//! `RSA PRIVATE KEY` PKCS#1, `EC PRIVATE KEY` SEC1), the same three as DER,
//! and a private JWK (RFC 7517/7518: `RSA` with its CRT members, `EC` with
//! `d`, `OKP` Ed25519 with `d`, `oct` with `k` for HMAC). A JWK whose
//! public members don't match its private ones is refused. Encrypted PEM
//! is refused with how to decrypt it. The result still goes through
//! [`SigningKey::new`](crate::jwt::SigningKey::new), which decides whether
//! it suits the algorithm.

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::jwt::{Algorithm, JwtError};

/// Reads `bytes` (a key file's content) as a private key for `alg`, into
/// the form the app stores.
pub fn private_key_from_file(alg: Algorithm, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    if let Some(json) = text.filter(|t| t.starts_with('{')) {
        return from_jwk(alg, json);
    }
    if alg.is_hmac() {
        // The secret's bytes, less one trailing newline (`echo secret >
        // file` gives the secret the user typed).
        let strip = if bytes.ends_with(b"\r\n") { 2 } else { usize::from(bytes.ends_with(b"\n")) };
        return Ok(Zeroizing::new(bytes[..bytes.len() - strip].to_vec()));
    }
    match text.filter(|t| t.starts_with("-----BEGIN")) {
        Some(pem) => from_pem(alg, pem),
        None => from_der(alg, bytes),
    }
}

fn invalid(message: impl Into<String>) -> JwtError {
    JwtError::InvalidKey(message.into())
}

#[derive(Clone, Copy)]
enum Family {
    Rsa,
    P256,
    P384,
    Ed25519,
}

fn family(alg: Algorithm) -> Family {
    match alg {
        Algorithm::ES256 => Family::P256,
        Algorithm::ES384 => Family::P384,
        Algorithm::EdDSA => Family::Ed25519,
        _ => Family::Rsa,
    }
}

fn key_type(alg: Algorithm) -> &'static str {
    match family(alg) {
        Family::Rsa => "an RSA",
        Family::P256 => "a P-256",
        Family::P384 => "a P-384",
        Family::Ed25519 => "an Ed25519",
    }
}

fn pkcs8_pem(doc: Result<Zeroizing<String>, p256::pkcs8::Error>) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    doc.map(|pem| Zeroizing::new(pem.as_bytes().to_vec())).map_err(|e| invalid(format!("could not re-encode the key: {e}")))
}

fn from_pem(alg: Algorithm, pem: &str) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    let label = pem.lines().next().unwrap_or_default().trim();
    let label = label.trim_start_matches("-----BEGIN ").trim_end_matches("-----");
    let der = match label {
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            let (_, der) = pem_rfc7468_decode(pem)?;
            der
        }
        "ENCRYPTED PRIVATE KEY" => {
            return Err(invalid("the key file is encrypted: decrypt it first (openssl pkcs8 -in FILE -out PLAIN.pem)"));
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => {
            return Err(invalid(format!("the key file holds a {}, not a private key", label.to_ascii_lowercase())));
        }
        other => return Err(invalid(format!("the key file's PEM is a \"{}\", not a private key", other.chars().take(40).collect::<String>()))),
    };
    from_der(alg, &der)
}

fn pem_rfc7468_decode(pem: &str) -> Result<(String, Zeroizing<Vec<u8>>), JwtError> {
    use p256::pkcs8::der::pem;
    let (label, der) = pem::decode_vec(pem.as_bytes()).map_err(|e| invalid(format!("the key file's PEM does not decode: {e}")))?;
    Ok((label.to_owned(), Zeroizing::new(der)))
}

/// PKCS#8, then the key type's own form (PKCS#1 for RSA, SEC1 for EC).
fn from_der(alg: Algorithm, der: &[u8]) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
    let wrong = || invalid(format!("the key file is not {} private key (PEM or DER: PKCS#8, PKCS#1 or SEC1; or a JWK)", key_type(alg)));
    match family(alg) {
        Family::Rsa => {
            use rsa::pkcs1::DecodeRsaPrivateKey as _;
            let key = rsa::RsaPrivateKey::from_pkcs8_der(der).or_else(|_| rsa::RsaPrivateKey::from_pkcs1_der(der)).map_err(|_| wrong())?;
            pkcs8_pem(key.to_pkcs8_pem(LineEnding::LF))
        }
        Family::P256 => {
            let key = p256::SecretKey::from_pkcs8_der(der).or_else(|_| p256::SecretKey::from_sec1_der(der)).map_err(|_| wrong())?;
            pkcs8_pem(key.to_pkcs8_pem(LineEnding::LF))
        }
        Family::P384 => {
            let key = p384::SecretKey::from_pkcs8_der(der).or_else(|_| p384::SecretKey::from_sec1_der(der)).map_err(|_| wrong())?;
            pkcs8_pem(key.to_pkcs8_pem(LineEnding::LF))
        }
        Family::Ed25519 => {
            let key = ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|_| wrong())?;
            ed25519_pem(&key)
        }
    }
}

/// PKCS#8 v1 (the private key alone), as `generate` writes it.
fn ed25519_pem(key: &ed25519_dalek::SigningKey) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
    let secret = Zeroizing::new(key.to_bytes());
    pkcs8_pem(ed25519_dalek::pkcs8::KeypairBytes { secret_key: *secret, public_key: None }.to_pkcs8_pem(LineEnding::LF))
}

/// A JWK's base64url member, decoded (at most 1 KiB of it).
fn member(jwk: &serde_json::Map<String, serde_json::Value>, name: &str) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    let text = jwk.get(name).and_then(serde_json::Value::as_str).ok_or_else(|| invalid(format!("the JWK has no \"{name}\"")))?;
    if text.len() > 1024 {
        return Err(invalid(format!("the JWK's \"{name}\" is too long")));
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map(Zeroizing::new)
        .map_err(|_| invalid(format!("the JWK's \"{name}\" is not base64url")))
}

fn from_jwk(alg: Algorithm, json: &str) -> Result<Zeroizing<Vec<u8>>, JwtError> {
    use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
    let value: Zeroizing<String> = Zeroizing::new(json.to_owned());
    let jwk: serde_json::Value = serde_json::from_str(&value).map_err(|e| invalid(format!("the key file is not a JWK: {e}")))?;
    let Some(jwk) = jwk.as_object() else {
        return Err(invalid("the key file is not a JWK: not a JSON object"));
    };
    if jwk.contains_key("keys") {
        return Err(invalid("the key file is a key set (JWKS): import one key"));
    }
    let kty = jwk.get("kty").and_then(serde_json::Value::as_str).unwrap_or_default();
    if let Some(jwk_alg) = jwk.get("alg").and_then(serde_json::Value::as_str)
        && jwk_alg != alg.to_string()
    {
        return Err(invalid(format!("the JWK is for {}, not {alg}", jwk_alg.chars().take(16).collect::<String>())));
    }
    let kty_wanted = match (alg.is_hmac(), family(alg)) {
        (true, _) => "oct",
        (false, Family::Rsa) => "RSA",
        (false, Family::P256 | Family::P384) => "EC",
        (false, Family::Ed25519) => "OKP",
    };
    if kty != kty_wanted {
        return Err(invalid(format!("the JWK's kty is \"{}\"; {alg} takes \"{kty_wanted}\"", kty.chars().take(16).collect::<String>())));
    }
    if alg.is_hmac() {
        return member(jwk, "k");
    }
    if !jwk.contains_key("d") {
        return Err(invalid("the JWK is a public key: import the private one (with \"d\")"));
    }
    let curve = jwk.get("crv").and_then(serde_json::Value::as_str).unwrap_or_default();
    let wrong_curve = |want: &str| invalid(format!("the JWK's crv is \"{}\"; {alg} takes \"{want}\"", curve.chars().take(16).collect::<String>()));
    let mismatch = || invalid("the JWK's public members do not match its private key");
    match family(alg) {
        Family::Rsa => {
            let int = |name: &str| member(jwk, name).map(|b| rsa::BigUint::from_bytes_be(&b));
            let key = rsa::RsaPrivateKey::from_components(int("n")?, int("e")?, int("d")?, vec![int("p")?, int("q")?])
                .map_err(|e| invalid(format!("the JWK is not a valid RSA key: {e}")))?;
            key.validate().map_err(|_| mismatch())?;
            pkcs8_pem(key.to_pkcs8_pem(LineEnding::LF))
        }
        Family::P256 | Family::P384 => {
            let (want, len) = if matches!(family(alg), Family::P256) { ("P-256", 32) } else { ("P-384", 48) };
            if curve != want {
                return Err(wrong_curve(want));
            }
            let d = member(jwk, "d")?;
            let (x, y) = (member(jwk, "x")?, member(jwk, "y")?);
            if d.len() != len || x.len() != len || y.len() != len {
                return Err(invalid(format!("a {want} JWK's d, x and y are {len} bytes each")));
            }
            let point = |public: Vec<u8>| public.get(1..).map(<[u8]>::to_vec).unwrap_or_default();
            if matches!(family(alg), Family::P256) {
                let key = p256::SecretKey::from_slice(&d).map_err(|_| invalid("the JWK's d is not a P-256 private key"))?;
                if point(p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key.public_key(), false).as_bytes().to_vec()) != [&x[..], &y[..]].concat() {
                    return Err(mismatch());
                }
                pkcs8_pem(key.to_pkcs8_pem(LineEnding::LF))
            } else {
                let key = p384::SecretKey::from_slice(&d).map_err(|_| invalid("the JWK's d is not a P-384 private key"))?;
                if point(p384::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key.public_key(), false).as_bytes().to_vec()) != [&x[..], &y[..]].concat() {
                    return Err(mismatch());
                }
                pkcs8_pem(key.to_pkcs8_pem(LineEnding::LF))
            }
        }
        Family::Ed25519 => {
            if curve != "Ed25519" {
                return Err(wrong_curve("Ed25519"));
            }
            let d = member(jwk, "d")?;
            let secret: Zeroizing<[u8; 32]> = Zeroizing::new(d.as_slice().try_into().map_err(|_| invalid("an Ed25519 JWK's d is 32 bytes"))?);
            let key = ed25519_dalek::SigningKey::from_bytes(&secret);
            if key.verifying_key().as_bytes()[..] != member(jwk, "x")?[..] {
                return Err(mismatch());
            }
            ed25519_pem(&key)
        }
    }
}

#[cfg(test)]
mod tests {
    use p256::pkcs8::LineEnding;

    use super::*;
    use crate::jwt::{SigningKey, generate, public_key};

    fn thumbprint(alg: Algorithm, pem: &[u8]) -> String {
        public_key(alg, pem, None).expect("public key").expect("asymmetric").thumbprint
    }

    /// A private JWK of `pem`'s key, written as a user's tool would.
    fn private_jwk(alg: Algorithm, pem: &str) -> serde_json::Value {
        use p256::pkcs8::DecodePrivateKey as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        match family(alg) {
            Family::Rsa => {
                use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
                let k = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("rsa");
                let p = &k.primes()[0];
                let q = &k.primes()[1];
                serde_json::json!({ "kty": "RSA", "alg": alg.to_string(), "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be()),
                    "d": b64(&k.d().to_bytes_be()), "p": b64(&p.to_bytes_be()), "q": b64(&q.to_bytes_be()) })
            }
            Family::P256 => {
                let k = p256::SecretKey::from_pkcs8_pem(pem).expect("p256");
                let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&k.public_key(), false);
                serde_json::json!({ "kty": "EC", "crv": "P-256", "d": b64(&k.to_bytes()), "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")) })
            }
            Family::P384 => {
                let k = p384::SecretKey::from_pkcs8_pem(pem).expect("p384");
                let point = p384::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&k.public_key(), false);
                serde_json::json!({ "kty": "EC", "crv": "P-384", "d": b64(&k.to_bytes()), "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")) })
            }
            Family::Ed25519 => {
                let k = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).expect("ed25519");
                serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "d": b64(&k.to_bytes()), "x": b64(k.verifying_key().as_bytes()) })
            }
        }
    }

    #[test]
    fn every_form_of_a_key_reads_as_the_same_key() {
        use p256::pkcs8::DecodePrivateKey as _;
        for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
            let pem = generate(alg, None).expect("generate");
            let pem_text = std::str::from_utf8(&pem).expect("utf-8");
            let want = thumbprint(alg, &pem);
            let der = p256::pkcs8::der::pem::decode_vec(&pem).expect("der").1;
            let mut forms: Vec<(&str, Vec<u8>)> = vec![
                ("PKCS#8 PEM", pem.to_vec()),
                ("PKCS#8 DER", der.clone()),
                ("JWK", private_jwk(alg, pem_text).to_string().into_bytes()),
            ];
            match family(alg) {
                Family::Rsa => {
                    use rsa::pkcs1::EncodeRsaPrivateKey as _;
                    let k = rsa::RsaPrivateKey::from_pkcs8_der(&der).expect("rsa");
                    forms.push(("PKCS#1 PEM", k.to_pkcs1_pem(LineEnding::LF).expect("pkcs1").as_bytes().to_vec()));
                    forms.push(("PKCS#1 DER", k.to_pkcs1_der().expect("pkcs1").as_bytes().to_vec()));
                }
                Family::P256 => {
                    let k = p256::SecretKey::from_pkcs8_der(&der).expect("p256");
                    forms.push(("SEC1 PEM", k.to_sec1_pem(LineEnding::LF).expect("sec1").as_bytes().to_vec()));
                    forms.push(("SEC1 DER", k.to_sec1_der().expect("sec1").to_vec()));
                }
                Family::P384 => {
                    let k = p384::SecretKey::from_pkcs8_der(&der).expect("p384");
                    forms.push(("SEC1 PEM", k.to_sec1_pem(LineEnding::LF).expect("sec1").as_bytes().to_vec()));
                }
                Family::Ed25519 => {}
            }
            for (form, bytes) in forms {
                let read = private_key_from_file(alg, &bytes).unwrap_or_else(|e| panic!("{alg} {form}: {e}"));
                SigningKey::new(alg, Zeroizing::new(read.to_vec())).unwrap_or_else(|e| panic!("{alg} {form} does not sign: {e}"));
                assert_eq!(thumbprint(alg, &read), want, "{alg} {form} read as another key");
            }
        }
    }

    #[test]
    fn hmac_secrets_come_as_bytes_or_as_an_oct_jwk() {
        let secret = b"a-secret-of-thirty-two-bytes-or-more!";
        assert_eq!(&private_key_from_file(Algorithm::HS256, &[&secret[..], b"\n"].concat()).expect("bytes")[..], secret);
        assert_eq!(&private_key_from_file(Algorithm::HS256, &[&secret[..], b"\r\n"].concat()).expect("bytes")[..], secret);
        let jwk = serde_json::json!({ "kty": "oct", "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret) });
        assert_eq!(&private_key_from_file(Algorithm::HS256, jwk.to_string().as_bytes()).expect("jwk")[..], secret);
    }

    #[test]
    fn the_wrong_key_or_form_is_refused_saying_what_was_wrong() {
        let ec = generate(Algorithm::ES256, None).expect("p256");
        let ec_text = std::str::from_utf8(&ec).expect("utf-8");
        let refused = |alg: Algorithm, bytes: &[u8]| private_key_from_file(alg, bytes).expect_err("refused").to_string();
        assert!(refused(Algorithm::RS256, &ec).contains("not an RSA private key"));
        assert!(refused(Algorithm::ES384, &ec).contains("not a P-384 private key"));
        assert!(refused(Algorithm::ES256, b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n").contains("encrypted"));
        let public = public_key(Algorithm::ES256, &ec, None).expect("pk").expect("asym");
        assert!(refused(Algorithm::ES256, public.pem.as_bytes()).contains("public key"));
        assert!(refused(Algorithm::ES256, public.jwk.to_string().as_bytes()).contains("public key"));
        assert!(refused(Algorithm::ES256, serde_json::json!({ "keys": [] }).to_string().as_bytes()).contains("key set"));
        assert!(refused(Algorithm::EdDSA, private_jwk(Algorithm::ES256, ec_text).to_string().as_bytes()).contains("kty"));
        // A JWK whose public half is someone else's.
        let other = generate(Algorithm::ES256, None).expect("p256");
        let mut forged = private_jwk(Algorithm::ES256, ec_text);
        forged["x"] = private_jwk(Algorithm::ES256, std::str::from_utf8(&other).expect("utf-8"))["x"].clone();
        assert!(refused(Algorithm::ES256, forged.to_string().as_bytes()).contains("do not match"));
        let mut wrong_alg = private_jwk(Algorithm::ES256, ec_text);
        wrong_alg["alg"] = "ES384".into();
        assert!(refused(Algorithm::ES256, wrong_alg.to_string().as_bytes()).contains("for ES384"));
        assert!(refused(Algorithm::ES256, b"\x30\x03\x02\x01\x00").contains("not a P-256 private key"));
        // The messages carry no key material.
        let d = private_jwk(Algorithm::ES256, ec_text)["d"].as_str().expect("d").to_owned();
        assert!(!refused(Algorithm::ES256, forged.to_string().as_bytes()).contains(&d));
    }
}
