//! Strict JSON for payloads, on top of `serde_json`.
//!
//! serde_json already refuses invalid UTF-8, lone surrogate escapes and
//! trailing data. On top of it the bridge refuses what a JavaScript caller
//! could use to confuse the host or a later JavaScript reader: nesting past
//! [`MAX_DEPTH`], the keys `__proto__`, `constructor` and `prototype`
//! anywhere, numbers a JavaScript `number` can't hold exactly (|n| > 2^53 - 1),
//! and non-object top levels.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::BridgeError;

/// Deepest nesting a payload may have. Bounds recursion in every later
/// walk; no declared request type is more than a few levels deep.
pub const MAX_DEPTH: usize = 32;
/// Largest magnitude of a number (`Number.MAX_SAFE_INTEGER`): past it a
/// JavaScript caller and the host would disagree about the value.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
/// Keys refused anywhere: they pollute prototypes when a JavaScript reader
/// merges the object.
pub const FORBIDDEN_KEYS: &[&str] = &["__proto__", "constructor", "prototype"];

/// Parses, checks and decodes a payload into the channel's request type.
pub fn decode<T: DeserializeOwned>(payload: &str) -> Result<T, BridgeError> {
    let value = parse_checked(payload)?;
    serde_json::from_value(value).map_err(|e| BridgeError::validation(format!("payload does not match the channel's request type: {e}")))
}

/// Parses and checks a payload; the top level must be an object.
pub fn parse_checked(payload: &str) -> Result<Value, BridgeError> {
    let value: Value = serde_json::from_str(payload).map_err(|e| {
        let what = if e.is_eof() || e.is_syntax() { "payload is not valid JSON" } else { "payload could not be read" };
        BridgeError::validation(format!("{what}: {e}"))
    })?;
    if !value.is_object() {
        return Err(BridgeError::validation("payload must be a JSON object"));
    }
    check(&value, 1, &mut String::from("$"))?;
    Ok(value)
}

fn check(value: &Value, depth: usize, path: &mut String) -> Result<(), BridgeError> {
    if depth > MAX_DEPTH {
        return Err(BridgeError::validation(format!("payload nests deeper than {MAX_DEPTH} levels at {path}")));
    }
    match value {
        Value::Number(n) => {
            let safe = match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => i.unsigned_abs() <= MAX_SAFE_INTEGER as u64,
                (None, Some(u), _) => u <= MAX_SAFE_INTEGER as u64,
                (None, None, Some(f)) => f.is_finite() && f.abs() <= MAX_SAFE_INTEGER,
                _ => false,
            };
            if !safe {
                return Err(BridgeError::validation(format!("number at {path} is outside the safe integer range (±2^53-1)")));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check(item, depth + 1, path)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if FORBIDDEN_KEYS.contains(&key.as_str()) {
                    return Err(BridgeError::validation(format!("key {key:?} at {path} is not allowed")));
                }
                let len = path.len();
                path.push('.');
                path.push_str(&key.chars().take(64).collect::<String>());
                check(item, depth + 1, path)?;
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn refused(payload: &str) -> String {
        let err = parse_checked(payload).expect_err(payload);
        assert_eq!(err.code, ErrorCode::ValidationError);
        err.message
    }

    #[test]
    fn prototype_keys_are_refused_at_any_depth() {
        assert!(refused(r#"{"__proto__":{"admin":true}}"#).contains("__proto__"));
        assert!(refused(r#"{"a":[{"constructor":{"prototype":1}}]}"#).contains("$.a[0]"));
    }

    #[test]
    fn nesting_past_the_limit_is_refused() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(refused(&deep).contains("deeper"));
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(MAX_DEPTH - 2), "]".repeat(MAX_DEPTH - 2));
        parse_checked(&ok).expect("within the limit");
    }

    #[test]
    fn very_deep_nesting_does_not_overflow_the_stack() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        refused(&deep);
    }

    #[test]
    fn numbers_past_two_to_the_53_are_refused() {
        parse_checked(r#"{"n":9007199254740991}"#).expect("max safe");
        parse_checked(r#"{"n":-9007199254740991}"#).expect("min safe");
        refused(r#"{"n":9007199254740992}"#);
        refused(r#"{"n":-9007199254740993}"#);
        refused(r#"{"n":18446744073709551616}"#);
        refused(r#"{"n":1e300}"#);
    }

    #[test]
    fn lone_surrogates_and_bad_json_are_refused() {
        refused(r#"{"s":"\ud800"}"#);
        refused(r#"{"s":"\udc00x"}"#);
        refused(r#"{"a":1} trailing"#);
        refused(r#"[1,2]"#);
        refused("");
        parse_checked(r#"{"s":"\ud83d\ude00"}"#).expect("a valid pair");
    }
}
