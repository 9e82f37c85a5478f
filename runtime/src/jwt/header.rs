//! Custom header fields: the fields a token's header carries beyond
//! `typ`, `alg` and `kid`, checked once here for every path that signs
//! (the page's profiles, the CLI, a bundle) and for every signer.
//!
//! A header field can change how a verifier reads the token: `crit` makes
//! it refuse fields it does not know, `b64: false` (RFC 7797) changes what
//! was signed, `jku`/`jwk`/`x5u`/`x5c` point a careless verifier at a key
//! of the token's choosing, `enc`/`zip` make it read as a JWE. So the
//! names of [`RESERVED_HEADER_NAMES`] (taken from the IANA "JSON Web
//! Signature and Encryption Header Parameters" registry) are refused, in
//! any letter case; numbers must be integers (see `check_value`); and the
//! rest are bounded in count and size.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jwt::JwtError;

/// The most custom header fields a token may carry.
pub const MAX_EXTRA_HEADER_FIELDS: usize = 16;

/// The longest custom header field name.
pub const MAX_EXTRA_HEADER_NAME_BYTES: usize = 64;

/// The most bytes all custom header fields take, as compact JSON
/// (`"name":value` pairs and the commas between them).
pub const MAX_EXTRA_HEADER_BYTES: usize = 2048;

/// Registered header parameters a custom field may not use (compared
/// without letter case): the ones the host sets itself (`alg`, `typ`,
/// `kid`); the JWS and JWE ones that change how a verifier processes the
/// token; the claims RFC 7519 section 5.3 lets a header repeat (`iss`,
/// `sub`, `aud`: some verifiers read them there); and OpenID Federation's
/// trust chains, which pick the keys a verifier trusts.
pub const RESERVED_HEADER_NAMES: &[&str] = &[
    "alg", "typ", "kid", "cty", "crit", "b64", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#s256", "enc", "zip", "epk", "apu",
    "apv", "iv", "tag", "p2s", "p2c", "ppt", "url", "nonce", "svt", "iss", "sub", "aud", "trust_chain", "peer_trust_chain",
];

/// Checked custom header fields, in name order (the order the header
/// carries them in). Empty: the header is `typ`, `alg`, `kid` only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, Value>", into = "BTreeMap<String, Value>")]
pub struct ExtraHeader(BTreeMap<String, Value>);

impl ExtraHeader {
    /// No custom fields.
    pub fn none() -> Self {
        Self::default()
    }

    /// Checks `fields` against every rule: at most
    /// [`MAX_EXTRA_HEADER_FIELDS`]; each name 1-64 bytes of printable
    /// ASCII and not in [`RESERVED_HEADER_NAMES`] (in any case); every
    /// number in the values an integer (see [`check_value`]); all of them
    /// within [`MAX_EXTRA_HEADER_BYTES`] as compact JSON.
    pub fn new(fields: BTreeMap<String, Value>) -> Result<Self, JwtError> {
        if fields.len() > MAX_EXTRA_HEADER_FIELDS {
            return Err(JwtError::InvalidHeader(format!(
                "{} custom header fields; at most {MAX_EXTRA_HEADER_FIELDS} are allowed",
                fields.len()
            )));
        }
        for (name, value) in &fields {
            check_name(name)?;
            check_value(name, value)?;
        }
        let header = Self(fields);
        let bytes = header.json_len();
        if bytes > MAX_EXTRA_HEADER_BYTES {
            return Err(JwtError::InvalidHeader(format!(
                "the custom header fields take {bytes} bytes as JSON; at most {MAX_EXTRA_HEADER_BYTES} are allowed"
            )));
        }
        Ok(header)
    }

    /// [`ExtraHeader::new`] from a JSON object.
    pub fn from_object(fields: Map<String, Value>) -> Result<Self, JwtError> {
        Self::new(fields.into_iter().collect())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields, in name order.
    pub fn fields(&self) -> &BTreeMap<String, Value> {
        &self.0
    }

    /// The fields as a JSON object.
    pub fn to_object(&self) -> Map<String, Value> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The contract's form: each name with its value as compact JSON, in
    /// name order.
    pub fn to_wit(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), compact(v))).collect()
    }

    /// The length of `"name":value,...` for all fields.
    fn json_len(&self) -> usize {
        let pairs: usize = self.0.iter().map(|(k, v)| compact(&Value::String(k.clone())).len() + 1 + compact(v).len()).sum();
        pairs + self.0.len().saturating_sub(1)
    }
}

impl TryFrom<BTreeMap<String, Value>> for ExtraHeader {
    type Error = JwtError;

    fn try_from(fields: BTreeMap<String, Value>) -> Result<Self, Self::Error> {
        Self::new(fields)
    }
}

impl From<ExtraHeader> for BTreeMap<String, Value> {
    fn from(header: ExtraHeader) -> Self {
        header.0
    }
}

fn compact(value: &Value) -> String {
    // Serializing a `Value` cannot fail: its keys are strings.
    serde_json::to_string(&crate::jwt::verify_output::canonical(value.clone())).unwrap_or_default()
}

/// Numbers must be integers. The signer re-reads each value's JSON text
/// and writes it again, and a fraction or an exponent does not survive
/// every parser's round trip byte for byte (serde_json without
/// `float_roundtrip` reads `1.0000000000000001e-307` as `1e-307`): the
/// header would differ from the host's, and an honest signer would be
/// quarantined. An integer prints the same from any parser.
fn check_value(name: &str, value: &Value) -> Result<(), JwtError> {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => Err(JwtError::InvalidHeader(format!(
            "the custom header field `{name}` holds a number that is not an integer; write it as a string"
        ))),
        Value::Array(items) => items.iter().try_for_each(|v| check_value(name, v)),
        Value::Object(map) => map.values().try_for_each(|v| check_value(name, v)),
        _ => Ok(()),
    }
}

fn check_name(name: &str) -> Result<(), JwtError> {
    if name.is_empty() || name.len() > MAX_EXTRA_HEADER_NAME_BYTES {
        return Err(JwtError::InvalidHeader(format!(
            "a custom header field name must be 1-{MAX_EXTRA_HEADER_NAME_BYTES} bytes"
        )));
    }
    if let Some(c) = name.chars().find(|c| !('!'..='~').contains(c)) {
        return Err(JwtError::InvalidHeader(format!(
            "a custom header field name may hold printable ASCII without spaces only, not U+{:04X}",
            u32::from(c)
        )));
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED_HEADER_NAMES.contains(&lower.as_str()) {
        let why = match lower.as_str() {
            "alg" | "typ" | "kid" => "the host sets it",
            "crit" | "b64" => "it changes what a verifier must understand or what was signed",
            "jku" | "jwk" | "x5u" | "x5c" | "x5t" | "x5t#s256" => "it points a verifier at a key of the token's choosing",
            _ => "it is a registered JOSE header parameter that changes how the token is processed",
        };
        return Err(JwtError::InvalidHeader(format!("the custom header field `{name}` is refused: {why}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> BTreeMap<String, Value> {
        value.as_object().expect("object").clone().into_iter().collect()
    }

    #[test]
    fn ordinary_fields_pass_and_keep_name_order() {
        let header = ExtraHeader::new(fields(json!({"zone": "eu", "ver": 2, "tags": ["a", "b"], "x-ctx": {"b": 1, "a": null}})))
            .expect("allowed");
        let names: Vec<_> = header.to_wit().into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["tags", "ver", "x-ctx", "zone"]);
        assert_eq!(header.to_wit()[2].1, r#"{"a":null,"b":1}"#);
    }

    #[test]
    fn registered_names_are_refused_in_any_case() {
        for name in ["alg", "ALG", "crit", "Crit", "b64", "jku", "jwk", "x5u", "x5c", "x5t#S256", "enc", "zip", "kid", "typ", "aud", "Iss", "trust_chain"] {
            let err = ExtraHeader::new(fields(json!({ name: true }))).expect_err(name);
            assert_eq!(err.code(), "INVALID_HEADER", "{name}");
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
    }

    #[test]
    fn names_are_printable_ascii_within_their_length() {
        for name in ["", "has space", "tab\t", "é", "a\u{202e}b", &"n".repeat(MAX_EXTRA_HEADER_NAME_BYTES + 1)] {
            assert!(ExtraHeader::new(fields(json!({ name: 1 }))).is_err(), "{name:?}");
        }
        assert!(ExtraHeader::new(fields(json!({ "n".repeat(MAX_EXTRA_HEADER_NAME_BYTES): 1 }))).is_ok());
    }

    #[test]
    fn count_and_size_are_capped_at_their_limits() {
        let many = |n: usize| (0..n).map(|i| (format!("f{i:02}"), json!(i))).collect::<BTreeMap<_, _>>();
        assert!(ExtraHeader::new(many(MAX_EXTRA_HEADER_FIELDS)).is_ok());
        assert!(ExtraHeader::new(many(MAX_EXTRA_HEADER_FIELDS + 1)).is_err());
        // `"v":"…"` is 6 bytes plus the string: exactly at the cap, then one over.
        let at_cap = "x".repeat(MAX_EXTRA_HEADER_BYTES - 6);
        assert!(ExtraHeader::new(fields(json!({ "v": at_cap }))).is_ok());
        let over = "x".repeat(MAX_EXTRA_HEADER_BYTES - 5);
        let err = ExtraHeader::new(fields(json!({ "v": over }))).expect_err("over");
        assert!(err.to_string().contains(&format!("{}", MAX_EXTRA_HEADER_BYTES + 1)), "{err}");
    }

    #[test]
    fn numbers_must_be_integers_at_any_depth() {
        for value in [json!(1.5), json!(1e-307), json!([1, 2.0]), json!({"a": {"b": -0.5}})] {
            let err = ExtraHeader::new(fields(json!({ "x": value }))).expect_err("not an integer");
            assert!(err.to_string().contains("not an integer"), "{err}");
        }
        assert!(ExtraHeader::new(fields(json!({ "x": [1, -2, u64::MAX, {"n": i64::MIN}] }))).is_ok());
    }

    #[test]
    fn deserializing_checks_the_same_rules() {
        assert!(serde_json::from_str::<ExtraHeader>(r#"{"crit":["exp"]}"#).is_err());
        let header: ExtraHeader = serde_json::from_str(r#"{"zone":"eu"}"#).expect("allowed");
        assert_eq!(serde_json::to_string(&header).expect("serializes"), r#"{"zone":"eu"}"#);
    }
}
