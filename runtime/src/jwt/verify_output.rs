//! What the host computes itself, natively, to judge a signer's output:
//! the exact signing input it asked for, strict token splitting and
//! decoding, and signature and time checks with jsonwebtoken.
//!
//! A signer's token is accepted only if it is byte-identical to the token
//! the host computes itself for the same key and signing input, with
//! `tollgate_jwt_canonical` (RFC 6979 low-S ECDSA, RFC 8032 EdDSA, PKCS#1
//! v1.5, HMAC, and PSS with a salt derived from the key and the input).
//! "It verifies" is not enough: a signer chooses ECDSA and EdDSA nonces and
//! PSS salts, and `(r, n - s)` verifies as well as `(r, s)`; each choice
//! can carry the key out to whoever receives the token. Byte-equality
//! leaves the guest no byte to choose, for every algorithm, and the check
//! is this comparison, not a property of the signer (docs/security.md).
//!
//! Before the comparison, cheaper checks name the way a token differs
//! (header or claims, base64url form, length), for the security log.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, Header};
use subtle::ConstantTimeEq as _;
use serde_json::{Map, Value};

use crate::jwt::key::verifying_key_for;
use crate::jwt::{Algorithm, ExtraHeader, JwtError, SigningKey};

/// The largest token accepted in or out. Claims are capped at 64 KiB, which
/// base64url makes about 86 KiB; the rest is header and signature.
pub const MAX_TOKEN_BYTES: usize = 128 * 1024;

/// The largest claims object, serialized.
pub const MAX_CLAIMS_BYTES: usize = 64 * 1024;

/// The longest `kid`.
pub const MAX_KID_BYTES: usize = 256;

/// The longest `typ`.
pub const MAX_TYP_BYTES: usize = 64;

/// Whether this build's serde_json keeps object keys sorted (it does unless
/// some dependency turns on its `preserve_order` feature).
fn maps_are_sorted() -> bool {
    static SORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTED.get_or_init(|| {
        let probe: Value = serde_json::from_str(r#"{"b":0,"a":0}"#).unwrap_or(Value::Null);
        probe.as_object().and_then(|m| m.keys().next()).is_some_and(|k| k == "a")
    })
}

/// Every object with its keys in sorted order, so the encoding is the same
/// whether or not serde_json preserves insertion order.
pub(crate) fn canonical(value: Value) -> Value {
    if maps_are_sorted() {
        return value;
    }
    sort_keys(value)
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

fn check_header_field(name: &str, value: &str, max: usize) -> Result<(), JwtError> {
    if value.is_empty() || value.len() > max {
        return Err(JwtError::InvalidHeader(format!("{name} must be 1-{max} bytes")));
    }
    if value.chars().any(char::is_control) {
        return Err(JwtError::InvalidHeader(format!("{name} must not contain control characters")));
    }
    Ok(())
}

/// The signing input the host asks a signer for: `base64url(header) "."
/// base64url(claims)`, encoded exactly as jsonwebtoken encodes it; and the
/// canonical claims text sent to the guest.
pub(crate) fn signing_input(
    alg: Algorithm,
    kid: Option<&str>,
    typ: Option<&str>,
    extra: &ExtraHeader,
    claims: Value,
) -> Result<(String, String), JwtError> {
    if !claims.is_object() {
        return Err(JwtError::InvalidClaims("claims must be a JSON object".into()));
    }
    if let Some(kid) = kid {
        check_header_field("kid", kid, MAX_KID_BYTES)?;
    }
    if let Some(typ) = typ {
        check_header_field("typ", typ, MAX_TYP_BYTES)?;
    }
    let claims_text = serde_json::to_string(&canonical(claims))
        .map_err(|e| JwtError::InvalidClaims(format!("claims do not serialize: {e}")))?;
    if claims_text.len() > MAX_CLAIMS_BYTES {
        return Err(JwtError::InvalidClaims(format!(
            "claims are {} bytes serialized, over the {MAX_CLAIMS_BYTES}-byte limit",
            claims_text.len()
        )));
    }
    let mut header = Header::new(alg.to_jsonwebtoken());
    header.kid = kid.map(str::to_owned);
    if let Some(typ) = typ {
        header.typ = Some(typ.to_owned());
    }
    // Checked when `extra` was made: no name jsonwebtoken's `Header` has a
    // field for, so each lands once, after `kid`, in name order.
    for (name, value) in extra.fields() {
        header.extras.insert(name.clone(), canonical(value.clone()));
    }
    let header_json = serde_json::to_vec(&header).map_err(|e| JwtError::InvalidHeader(e.to_string()))?;
    let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header_json), URL_SAFE_NO_PAD.encode(&claims_text));
    Ok((message, claims_text))
}

/// The reason a token that differs only in its signature is refused.
pub const NOT_CANONICAL: &str = "the signature is not the one the host computes for this key and signing input";

/// Judges a signer's token against the signing input the host asked for:
/// computes the canonical token with `key` and requires byte-equality.
/// Returns why it was refused; the reason never quotes the token.
pub fn verify_signer_output(token: &str, expected_message: &str, key: &SigningKey) -> Result<(), String> {
    let expected = key
        .canonical()
        .token(expected_message)
        .map_err(|_| "the host could not compute the expected signature".to_owned())?;
    check_signer_output(token, expected_message, &expected, key)
}

/// [`verify_signer_output`] with the canonical token already computed.
pub(crate) fn check_signer_output(token: &str, expected_message: &str, expected_token: &str, key: &SigningKey) -> Result<(), String> {
    if token.len() > MAX_TOKEN_BYTES {
        // No guest-chosen number in any reason: the reason reaches the
        // caller, and a length the guest picks would be a channel.
        return Err(format!("the token is over the {MAX_TOKEN_BYTES}-byte limit"));
    }
    let Some(signature) = token.strip_prefix(expected_message).and_then(|rest| rest.strip_prefix('.')) else {
        return Err("the header or claims differ from the ones asked for".into());
    };
    let raw = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the signature is not canonical unpadded base64url".to_owned())?;
    if raw.len() != key.signature_len() {
        return Err(format!(
            "the signature is not {} bytes long; {} signatures by this key are {} bytes",
            key.signature_len(),
            key.algorithm(),
            key.signature_len()
        ));
    }
    // The decisive check. Constant time, although both sides are already
    // known to the guest: the comparison's timing is then no oracle for
    // how much of a forged signature matched.
    if token.len() == expected_token.len() && bool::from(token.as_bytes().ct_eq(expected_token.as_bytes())) {
        Ok(())
    } else {
        Err(NOT_CANONICAL.into())
    }
}

/// A compact token split into its three segments, each checked for form.
pub(crate) struct Segments<'a> {
    pub header: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
    pub header_json: String,
    pub payload_json: String,
}

impl<'a> Segments<'a> {
    /// The signed part: `header "." payload`.
    pub fn message(&self, token: &'a str) -> &'a str {
        &token[..self.header.len() + 1 + self.payload.len()]
    }
}

fn json_segment(name: &str, segment: &str) -> Result<String, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::MalformedToken(format!("the {name} is not unpadded base64url")))?;
    let text = String::from_utf8(bytes).map_err(|_| JwtError::MalformedToken(format!("the {name} is not UTF-8")))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(_)) => Ok(text),
        Ok(_) => Err(JwtError::MalformedToken(format!("the {name} is not a JSON object"))),
        Err(e) => Err(JwtError::MalformedToken(format!("the {name} is not JSON: {e}"))),
    }
}

/// Splits and decodes a token natively, refusing anything that is not
/// three base64url segments with JSON-object header and payload.
pub(crate) fn split_token(token: &str) -> Result<Segments<'_>, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::MalformedToken(format!("the token is over {MAX_TOKEN_BYTES} bytes")));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::MalformedToken("a compact token has exactly three dot-separated segments".into()));
    };
    Ok(Segments {
        header_json: json_segment("header", header)?,
        payload_json: json_segment("payload", payload)?,
        header,
        payload,
        signature,
    })
}

/// Verifies a token natively: its algorithm is allowed (never `none`), the
/// signature verifies, `exp` is present and in the future and `nbf` (if
/// any) in the past, each within `leeway` seconds of `now`, both as JSON
/// numbers. Returns the payload JSON text.
pub(crate) fn verify_natively(
    token: &str,
    key_material: &[u8],
    allowed: &[Algorithm],
    leeway: u32,
    now: i64,
) -> Result<String, JwtError> {
    let segments = split_token(token)?;
    let header_value: Value = serde_json::from_str(&segments.header_json)
        .map_err(|e| JwtError::MalformedToken(format!("header: {e}")))?;
    if header_value.get("alg").and_then(Value::as_str).is_some_and(|a| a.eq_ignore_ascii_case("none")) {
        return Err(JwtError::AlgorithmNone);
    }
    let header: Header = serde_json::from_value(header_value)
        .map_err(|e| JwtError::MalformedToken(format!("header: {e}")))?;
    let alg = Algorithm::from_jsonwebtoken(header.alg)
        .ok_or_else(|| JwtError::AlgorithmNotAllowed(format!("{:?}", header.alg)))?;
    if !allowed.contains(&alg) {
        return Err(JwtError::AlgorithmNotAllowed(alg.to_string()));
    }
    let key: DecodingKey = verifying_key_for(alg, key_material)?;
    let valid = jsonwebtoken::crypto::verify(segments.signature, segments.message(token).as_bytes(), &key, header.alg)
        .map_err(|_| JwtError::MalformedToken("the signature is not base64url".into()))?;
    if !valid {
        return Err(JwtError::InvalidSignature);
    }
    let claims: Value = serde_json::from_str(&segments.payload_json)
        .map_err(|e| JwtError::MalformedToken(format!("payload: {e}")))?;
    check_times(&claims, now, i64::from(leeway))?;
    Ok(segments.payload_json)
}

fn numeric_date(name: &str, value: &Value) -> Result<i64, JwtError> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or_else(|| JwtError::InvalidClaimType(format!("{name} is out of range"))),
        _ => Err(JwtError::InvalidClaimType(format!("{name} must be a number of seconds"))),
    }
}

fn check_times(claims: &Value, now: i64, leeway: i64) -> Result<(), JwtError> {
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
    // Issued in the future past the leeway: a wrong clock or a forger (the
    // signer guest checks the same).
    if let Some(iat) = claims.get("iat")
        && numeric_date("iat", iat)?.saturating_sub(leeway) > now
    {
        return Err(JwtError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_nested_keys() {
        let v = sort_keys(json!({"b": {"z": 1, "a": 2}, "a": [{"y": 1, "x": 2}]}));
        assert_eq!(serde_json::to_string(&v).expect("json"), r#"{"a":[{"x":2,"y":1}],"b":{"a":2,"z":1}}"#);
        let v = canonical(json!({"b": {"z": 1, "a": 2}, "a": [{"y": 1, "x": 2}]}));
        assert_eq!(serde_json::to_string(&v).expect("json"), r#"{"a":[{"x":2,"y":1}],"b":{"a":2,"z":1}}"#);
    }

    #[test]
    fn signing_input_refuses_non_objects_oversized_claims_and_bad_header_fields() {
        for claims in [json!([1]), json!("x"), json!(null), json!(3)] {
            assert_eq!(signing_input(Algorithm::HS256, None, None, &ExtraHeader::none(), claims).expect_err("not object").code(), "INVALID_CLAIMS");
        }
        let big = json!({"x": "a".repeat(MAX_CLAIMS_BYTES)});
        assert_eq!(signing_input(Algorithm::HS256, None, None, &ExtraHeader::none(), big).expect_err("big").code(), "INVALID_CLAIMS");
        let err = signing_input(Algorithm::HS256, Some("a\nb"), None, &ExtraHeader::none(), json!({})).expect_err("kid");
        assert_eq!(err.code(), "INVALID_HEADER");
    }

    #[test]
    fn custom_header_fields_follow_kid_in_name_order() {
        let extra = ExtraHeader::new(
            [("zone", json!("eu")), ("a", json!({"y": 1, "x": [true]}))].into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        )
        .expect("allowed");
        let (message, _) = signing_input(Algorithm::HS256, Some("k"), None, &extra, json!({})).expect("input");
        let header = URL_SAFE_NO_PAD.decode(message.split('.').next().expect("header")).expect("base64url");
        assert_eq!(
            String::from_utf8(header).expect("utf-8"),
            r#"{"typ":"JWT","alg":"HS256","kid":"k","a":{"x":[true],"y":1},"zone":"eu"}"#
        );
    }

    #[test]
    fn times_are_checked_with_leeway_and_type() {
        assert!(check_times(&json!({"exp": 100}), 99, 0).is_ok());
        assert_eq!(check_times(&json!({"exp": 100}), 100, 0).expect_err("edge").code(), "EXPIRED");
        assert!(check_times(&json!({"exp": 100}), 100, 1).is_ok());
        assert_eq!(check_times(&json!({"exp": "100"}), 0, 0).expect_err("str").code(), "INVALID_CLAIM_TYPE");
        assert_eq!(check_times(&json!({}), 0, 0).expect_err("missing").code(), "MISSING_CLAIM");
        assert_eq!(check_times(&json!({"exp": 100, "nbf": 50}), 40, 0).expect_err("nbf").code(), "NOT_YET_VALID");
        assert!(check_times(&json!({"exp": 100, "nbf": 50}), 40, 10).is_ok());
    }

    #[test]
    fn split_token_refuses_wrong_segment_counts_and_non_json() {
        for bad in ["a.b", "a.b.c.d", "", "!!.e30.x"] {
            assert_eq!(split_token(bad).err().map(|e| e.code()), Some("MALFORMED_TOKEN"), "{bad}");
        }
    }
}
