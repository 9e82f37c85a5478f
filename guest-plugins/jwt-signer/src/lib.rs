//! Tollgate's first-party JWT signer, built as a WebAssembly component for
//! the `tollgate:jwt/jwt-signer` world.
//!
//! It trusts nothing it is given and is trusted with nothing: the host
//! validates every input before the call and re-verifies every output after
//! it. The time comes from the host's `clock` import; this crate never reads
//! an ambient clock (the host does not link `wasi:clocks`).

// The generated bindings use `unsafe` for the canonical ABI; the code
// written here uses none.
mod bindings {
    #[cfg(not(any(feature = "host-api-v0-1", feature = "host-api-v0-2")))]
    wit_bindgen::generate!({
        path: "../../wit/jwt@0.3",
        world: "tollgate:jwt/jwt-signer@0.3.0",
        generate_all,
        pub_export_macro: true,
    });
    // scaffold: cut-start
    // The same signer against the previous minors (guest-plugins/jwt-signer-v0-2
    // and -v0-1 build this file with a feature on): proves the host still
    // serves them.
    #[cfg(feature = "host-api-v0-2")]
    wit_bindgen::generate!({
        path: "../../wit/jwt@0.2",
        world: "tollgate:jwt/jwt-signer@0.2.0",
        generate_all,
        pub_export_macro: true,
    });
    #[cfg(feature = "host-api-v0-1")]
    wit_bindgen::generate!({
        path: "../../wit/jwt@0.1",
        world: "tollgate:jwt/jwt-signer@0.1.0",
        generate_all,
        pub_export_macro: true,
    });
    // scaffold: cut-end
}

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bindings::exports::tollgate::jwt::signer::Guest;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header};
use bindings::tollgate::host::clock;
use bindings::tollgate::jwt::types::{Algorithm, DecodedToken, HeaderFields, JwtError};

/// The shortest HMAC secret accepted: as long as the SHA-256 output, as
/// RFC 7518 section 3.2 requires for HS256.
const MIN_HMAC_SECRET_BYTES: usize = 32;

struct Signer;

impl Guest for Signer {
    fn sign(
        alg: Algorithm,
        key: Vec<u8>,
        header: HeaderFields,
        claims_json: String,
    ) -> Result<String, JwtError> {
        let alg = jwt_algorithm(alg);
        // Validate without building a tree, and sign the text as given: the
        // host sends canonical JSON and expects exactly those bytes back.
        let claims: &serde_json::value::RawValue = serde_json::from_str(&claims_json)
            .map_err(|e| JwtError::InvalidClaims(format!("claims are not JSON: {e}")))?;
        if !claims.get().starts_with('{') {
            return Err(JwtError::InvalidClaims("claims must be a JSON object".into()));
        }
        // Refuses a key of the wrong kind with the contract's error.
        encoding_key(alg, &key)?;
        let mut jwt_header = Header::new(alg);
        jwt_header.kid = header.kid;
        if let Some(typ) = header.typ {
            jwt_header.typ = Some(typ);
        }
        // scaffold: cut-start
        #[cfg(not(any(feature = "host-api-v0-1", feature = "host-api-v0-2")))]
        // scaffold: cut-end
        for (name, value) in header.extra {
            // The host checked the names; the value is JSON text it wrote.
            let value: serde_json::Value = serde_json::from_str(&value)
                .map_err(|_| JwtError::InvalidHeader(format!("the value of `{name}` is not JSON")))?;
            jwt_header.extras.insert(name, value);
        }
        let header_json = serde_json::to_vec(&jwt_header)
            .map_err(|_| JwtError::InvalidHeader("the header does not serialize".into()))?;
        let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header_json), URL_SAFE_NO_PAD.encode(claims.get()));
        // The one signature the host accepts: RFC 6979 low-S ECDSA, PSS
        // with the derived salt, and the deterministic rest
        // (tollgate-jwt-canonical; docs/wit-contract.md).
        let signer = tollgate_jwt_canonical::CanonicalSigner::new(alg, &key)
            .map_err(|_| JwtError::InvalidKey("the key does not parse as a key for this algorithm".into()))?;
        signer.token(&message).map_err(|_| JwtError::SigningFailed("the signer could not complete the operation".into()))
    }

    fn decode(token: String) -> Result<DecodedToken, JwtError> {
        let (header, payload, signature) = split(&token)?;
        Ok(DecodedToken {
            header: json_segment("header", header)?,
            payload: json_segment("payload", payload)?,
            signature: signature.to_owned(),
        })
    }

    fn verify(
        token: String,
        key: Vec<u8>,
        allowed: Vec<Algorithm>,
        leeway_seconds: u32,
    ) -> Result<String, JwtError> {
        let (header_b64, payload_b64, signature) = split(&token)?;
        let header: Header = serde_json::from_str(&json_segment("header", header_b64)?)
            .map_err(|e| JwtError::MalformedToken(format!("header: {e}")))?;
        if !allowed.into_iter().map(jwt_algorithm).any(|a| a == header.alg) {
            return Err(JwtError::AlgorithmNotAllowed(format!("{:?}", header.alg)));
        }
        let key = decoding_key(header.alg, &key)?;
        let message = &token[..header_b64.len() + 1 + payload_b64.len()];
        let valid = jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, header.alg)
            .map_err(key_error)?;
        if !valid {
            return Err(JwtError::InvalidSignature);
        }
        let payload = json_segment("payload", payload_b64)?;
        let claims: serde_json::Value = serde_json::from_str(&payload)
            .map_err(|e| JwtError::MalformedToken(format!("payload: {e}")))?;
        check_times(&claims, clock::now().seconds, i64::from(leeway_seconds))?;
        Ok(payload)
    }
}

/// Checks `exp` (required), `nbf` and `iat` (optional) against the host's time.
fn check_times(claims: &serde_json::Value, now: i64, leeway: i64) -> Result<(), JwtError> {
    let Some(claims) = claims.as_object() else {
        return Err(JwtError::InvalidClaims("claims must be a JSON object".into()));
    };
    let exp = match claims.get("exp") {
        None => return Err(JwtError::MissingClaim("exp".into())),
        Some(v) => numeric_date("exp", v)?,
    };
    if exp.saturating_add(leeway) <= now {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = claims.get("nbf")
        && numeric_date("nbf", nbf)?.saturating_sub(leeway) > now
    {
        return Err(JwtError::NotYetValid);
    }
    // A token issued in the future (past the leeway) was made by a clock
    // that is wrong or a forger: not valid yet, like an `nbf` ahead.
    if let Some(iat) = claims.get("iat")
        && numeric_date("iat", iat)?.saturating_sub(leeway) > now
    {
        return Err(JwtError::NotYetValid);
    }
    Ok(())
}

/// A NumericDate (RFC 7519 section 2): a JSON number of seconds. A string
/// or any other type is refused, never coerced.
fn numeric_date(name: &str, value: &serde_json::Value) -> Result<i64, JwtError> {
    match value {
        serde_json::Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or_else(|| JwtError::InvalidClaimType(format!("{name} is out of range"))),
        _ => Err(JwtError::InvalidClaimType(format!("{name} must be a number"))),
    }
}

fn split(token: &str) -> Result<(&str, &str, &str), JwtError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(JwtError::MalformedToken("a token has three dot-separated segments".into())),
    }
}

fn json_segment(name: &str, segment: &str) -> Result<String, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|e| JwtError::MalformedToken(format!("{name} is not base64url: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| JwtError::MalformedToken(format!("{name} is not UTF-8")))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| JwtError::MalformedToken(format!("{name} is not JSON: {e}")))?;
    Ok(text)
}

fn jwt_algorithm(alg: Algorithm) -> JwtAlgorithm {
    match alg {
        Algorithm::Hs256 => JwtAlgorithm::HS256,
        Algorithm::Hs384 => JwtAlgorithm::HS384,
        Algorithm::Hs512 => JwtAlgorithm::HS512,
        Algorithm::Rs256 => JwtAlgorithm::RS256,
        Algorithm::Rs384 => JwtAlgorithm::RS384,
        Algorithm::Rs512 => JwtAlgorithm::RS512,
        Algorithm::Ps256 => JwtAlgorithm::PS256,
        Algorithm::Ps384 => JwtAlgorithm::PS384,
        Algorithm::Ps512 => JwtAlgorithm::PS512,
        Algorithm::Es256 => JwtAlgorithm::ES256,
        Algorithm::Es384 => JwtAlgorithm::ES384,
        Algorithm::Eddsa => JwtAlgorithm::EdDSA,
    }
}

fn is_hmac(alg: JwtAlgorithm) -> bool {
    matches!(alg, JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512)
}

fn hmac_secret(key: &[u8]) -> Result<&[u8], JwtError> {
    if key.starts_with(b"-----BEGIN") {
        return Err(JwtError::InvalidKey(
            "an HMAC algorithm takes a raw secret, not a PEM key".into(),
        ));
    }
    if key.len() < MIN_HMAC_SECRET_BYTES {
        return Err(JwtError::InvalidKey(format!(
            "an HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes, got {}",
            key.len()
        )));
    }
    Ok(key)
}

fn encoding_key(alg: JwtAlgorithm, key: &[u8]) -> Result<EncodingKey, JwtError> {
    if is_hmac(alg) {
        return Ok(EncodingKey::from_secret(hmac_secret(key)?));
    }
    match alg {
        JwtAlgorithm::ES256 | JwtAlgorithm::ES384 => EncodingKey::from_ec_pem(key),
        JwtAlgorithm::EdDSA => EncodingKey::from_ed_pem(key),
        _ => EncodingKey::from_rsa_pem(key),
    }
    .map_err(key_error)
}

fn decoding_key(alg: JwtAlgorithm, key: &[u8]) -> Result<DecodingKey, JwtError> {
    if is_hmac(alg) {
        return Ok(DecodingKey::from_secret(hmac_secret(key)?));
    }
    match alg {
        JwtAlgorithm::ES256 | JwtAlgorithm::ES384 => DecodingKey::from_ec_pem(key),
        JwtAlgorithm::EdDSA => DecodingKey::from_ed_pem(key),
        _ => DecodingKey::from_rsa_pem(key),
    }
    .map_err(key_error)
}

/// Maps a jsonwebtoken error onto the contract's variants. Messages name
/// what was wrong, never the key.
fn key_error(e: jsonwebtoken::errors::Error) -> JwtError {
    match e.kind() {
        ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidAlgorithm => {
            JwtError::InvalidKey("the key does not parse as a key for this algorithm".into())
        }
        ErrorKind::InvalidSignature => JwtError::InvalidSignature,
        ErrorKind::Base64(_) | ErrorKind::InvalidToken => {
            JwtError::MalformedToken("the signature is not base64url".into())
        }
        _ => JwtError::SigningFailed("the signer could not complete the operation".into()),
    }
}

bindings::export!(Signer with_types_in bindings);
