//! A hostile `jwt-signer` for the test suite and `tollgate audit`.
//!
//! Its behaviour is chosen per call by the claim `"hostile"`; without it the
//! guest signs honestly, so a test can show that the same plugin answers the
//! call after a trap. `decode` floods the host's imports when the token is
//! `flood-log` or `flood-clock`. Every behaviour here is one the host must
//! contain.

wit_bindgen::generate!({
    path: "../../../wit/jwt@0.3",
    world: "tollgate:jwt/jwt-signer@0.3.0",
    generate_all,
});

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use exports::tollgate::jwt::signer::Guest;
use jsonwebtoken::{Algorithm as JwtAlgorithm, EncodingKey, Header};
use tollgate::host::logging::{self, Level};
use tollgate::jwt::types::{Algorithm, DecodedToken, HeaderFields, JwtError};

struct MisbehavingSigner;

impl Guest for MisbehavingSigner {
    fn sign(
        alg: Algorithm,
        key: Vec<u8>,
        header: HeaderFields,
        claims_json: String,
    ) -> Result<String, JwtError> {
        let mut claims: serde_json::Value =
            serde_json::from_str(&claims_json).map_err(|e| JwtError::InvalidClaims(e.to_string()))?;
        let behaviour = claims
            .as_object_mut()
            .and_then(|c| c.get("hostile").cloned())
            .and_then(|b| b.as_str().map(str::to_owned))
            .unwrap_or_default();
        let hex_key: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let mut jwt_header = Header::new(JwtAlgorithm::HS256);
        jwt_header.kid = header.kid;
        for (name, value) in header.extra {
            jwt_header.extras.insert(name, serde_json::from_str::<serde_json::Value>(&value).unwrap_or_default());
        }
        let mut sign_alg = alg;
        match behaviour.as_str() {
            "spin" => loop {
                std::hint::black_box(&key);
            },
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![0xA5; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            // Native wasm frames: overflows the engine's stack limit.
            "recurse" => return Ok(recurse(u64::MAX - u64::from(key[0])).to_string()),
            // Frames in linear memory: overflows Rust's shadow stack.
            "recurse-shadow" => return Ok(recurse_shadow(std::hint::black_box(1)).to_string()),
            "unreachable" => panic!("deliberate trap"),
            "huge-output" => return Ok("A".repeat(8 << 20)),
            "error-with-key" => return Err(JwtError::SigningFailed(hex_key)),
            "log-key" => logging::log(Level::Error, &format!("key={hex_key}"), &[]),
            "stdout-key" => println!("key={hex_key}"),
            "smuggle-claims" => {
                claims["leak"] = serde_json::Value::String(hex_key.clone());
            }
            "smuggle-header" => jwt_header.kid = Some(hex_key.clone()),
            // A custom header field of its own, beside the ones asked for.
            "smuggle-extra" => jwt_header.extras.insert("x-trace", hex_key.clone()),
            // The custom header fields asked for, left out.
            "drop-extra" => jwt_header.extras = Default::default(),
            "other-claims" => claims["sub"] = serde_json::Value::String("someone-else".into()),
            "other-alg" => sign_alg = Algorithm::Hs512,
            _ => {}
        }
        jwt_header.alg = jwt_algorithm(sign_alg);
        let token = jsonwebtoken::encode(&jwt_header, &claims, &EncodingKey::from_secret(&key))
            .map_err(|e| JwtError::SigningFailed(e.to_string()))?;
        Ok(match behaviour.as_str() {
            // Hide the key after the signature's bytes, re-encoded as one
            // canonical segment: only the signature's length gives it away.
            "smuggle-signature" => {
                let (message, signature) = token.rsplit_once('.').ok_or_else(|| JwtError::SigningFailed("no signature".into()))?;
                let mut raw = URL_SAFE_NO_PAD.decode(signature).map_err(|e| JwtError::SigningFailed(e.to_string()))?;
                raw.extend_from_slice(&key);
                format!("{message}.{}", URL_SAFE_NO_PAD.encode(raw))
            }
            // One key bit in how many padding characters follow (base64
            // padding is not part of base64url in a JWT).
            "smuggle-padding" => format!("{token}{}", if key.first().is_some_and(|b| b & 1 == 1) { "==" } else { "=" }),
            // Key bits in the bits the last base64url character carries
            // past the signature's last byte (HS256: 43 characters hold 258
            // bits for 256): a decoder that ignores them sees the honest
            // signature.
            "smuggle-trailing-bits" => {
                let bits = key.first().map_or(1, |b| (b & 0b11) | 1);
                let mut chars = token.into_bytes();
                let last = chars.last_mut().ok_or_else(|| JwtError::SigningFailed("empty token".into()))?;
                let index = BASE64URL.iter().position(|c| c == last).ok_or_else(|| JwtError::SigningFailed("not base64url".into()))?;
                *last = BASE64URL[index | usize::from(bits)];
                String::from_utf8(chars).map_err(|e| JwtError::SigningFailed(e.to_string()))?
            }
            // Whitespace inside the payload JSON changes nothing a naive parser sees.
            "smuggle-whitespace" => {
                let message = format!(
                    "{}.{}",
                    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&jwt_header).unwrap_or_default()),
                    URL_SAFE_NO_PAD.encode(format!(" {claims_json} "))
                );
                let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(&key), JwtAlgorithm::HS256)
                    .map_err(|e| JwtError::SigningFailed(e.to_string()))?;
                format!("{message}.{sig}")
            }
            _ => token,
        })
    }

    fn decode(token: String) -> Result<DecodedToken, JwtError> {
        // `decode` carries no key, so what it logs is not withheld: the
        // place to flood the host's imports from. Each answers as a guest
        // whose input was malformed (which the host also finds).
        match token.as_str() {
            "flood-log" => {
                for i in 0..FLOOD_CALLS {
                    logging::log(Level::Info, &format!("flood record {i}"), &[]);
                }
                return Err(JwtError::MalformedToken("flooded".into()));
            }
            "flood-clock" => {
                let mut last = 0;
                for _ in 0..FLOOD_CALLS * 10 {
                    last = std::hint::black_box(tollgate::host::clock::now()).seconds;
                }
                return Err(JwtError::MalformedToken(format!("read the clock up to {last}")));
            }
            _ => {}
        }
        // Lies about what the token holds.
        Ok(DecodedToken { header: "{}".into(), payload: token, signature: String::new() })
    }

    fn verify(_: String, _: Vec<u8>, _: Vec<Algorithm>, _: u32) -> Result<String, JwtError> {
        // Claims every token is valid.
        Ok(r#"{"admin":true}"#.into())
    }
}

/// The base64url alphabet, in value order.
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Host calls one flood makes (`flood-log`; ten times as many for
/// `flood-clock`): far over the host's 64-records-per-call log budget.
const FLOOD_CALLS: u32 = 5_000;

/// Recursion that LLVM cannot turn into a loop (the result is rotated,
/// not accumulated) and whose frames hold no memory: only the wasm stack.
#[inline(never)]
fn recurse(n: u64) -> u64 {
    if n == 0 { 0 } else { recurse(n - 1).rotate_left(1) ^ n }
}

#[expect(unconditional_recursion, reason = "the point: overflow the shadow stack")]
fn recurse_shadow(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse_shadow(frame[depth as usize % 64] + 1) + frame[0]
}

fn jwt_algorithm(alg: Algorithm) -> JwtAlgorithm {
    match alg {
        Algorithm::Hs384 => JwtAlgorithm::HS384,
        Algorithm::Hs512 => JwtAlgorithm::HS512,
        _ => JwtAlgorithm::HS256,
    }
}

export!(MisbehavingSigner);
