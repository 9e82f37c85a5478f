//! The wire envelope of a page -> host message, parsed strictly.
//!
//! ```text
//! tg1\n<secret: 64 hex>\n<request id>\n<channel>\n<payload JSON>
//! ```
//!
//! The secret travels outside the JSON on purpose: the page's client builds
//! this string by concatenation, so no page-modifiable hook (`toJSON`,
//! `JSON.stringify`, prototype setters) ever sees the secret.

use crate::error::{BridgeError, ErrorCode};

/// Largest whole message on the JSON path. Bounds what one postMessage can
/// make the host buffer and scan; bigger data takes the binary path.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024 + 512;
/// Longest request id. Ids are echoed back and kept for replay checks, so
/// their size bounds that memory.
pub const MAX_REQUEST_ID_BYTES: usize = 64;
/// Longest channel name.
pub const MAX_CHANNEL_NAME_BYTES: usize = 64;
/// Length of the per-webview secret in hex.
pub const SECRET_HEX_LEN: usize = 64;

const MAGIC: &str = "tg1";

/// A parsed envelope. Borrowed from the message; nothing is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The secret as sent (checked later, in constant time).
    pub secret: &'a str,
    /// The caller's request id.
    pub request_id: &'a str,
    /// The channel name, syntactically valid (not necessarily declared).
    pub channel: &'a str,
    /// The payload text, not yet parsed.
    pub payload: &'a str,
}

/// Why an envelope was refused, with the request id when one was readable.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeError {
    /// The request id, if the envelope got that far.
    pub request_id: Option<String>,
    /// The refusal.
    pub error: BridgeError,
}

/// Parses a message. The size cap is checked first, before any scanning.
pub fn parse(message: &str) -> Result<Envelope<'_>, EnvelopeError> {
    let fail = |request_id: Option<&str>, error: BridgeError| EnvelopeError { request_id: request_id.map(str::to_owned), error };
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(fail(
            request_id_of_oversized(message),
            BridgeError::new(
                ErrorCode::PayloadTooLarge,
                format!("message is {} bytes; the limit is {MAX_MESSAGE_BYTES} (use the binary path for large data)", message.len()),
            ),
        ));
    }
    let mut parts = message.splitn(5, '\n');
    let (Some(magic), Some(secret), Some(request_id), Some(channel), Some(payload)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(fail(None, BridgeError::validation("malformed envelope: expected five newline-separated parts")));
    };
    if magic != MAGIC {
        return Err(fail(None, BridgeError::validation("malformed envelope: unknown envelope version")));
    }
    if !valid_request_id(request_id) {
        return Err(fail(
            None,
            BridgeError::validation(format!(
                "malformed envelope: the request id must be 1-{MAX_REQUEST_ID_BYTES} characters of A-Z a-z 0-9 - _"
            )),
        ));
    }
    if !valid_channel_name(channel) {
        return Err(fail(
            Some(request_id),
            BridgeError::new(ErrorCode::UnknownChannel, "malformed channel name: expected namespace:action in lowercase"),
        ));
    }
    Ok(Envelope { secret, request_id, channel, payload })
}

/// The request id of a message too big to parse, read from its first few
/// hundred bytes only, so the caller's promise can still be settled.
fn request_id_of_oversized(message: &str) -> Option<&str> {
    // Past the first three newlines nothing is read.
    let head = &message[..message.floor_char_boundary(MAGIC.len() + SECRET_HEX_LEN + MAX_REQUEST_ID_BYTES + 3)];
    let mut parts = head.splitn(4, '\n');
    let (Some(MAGIC), Some(_), Some(id), Some(_)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    valid_request_id(id).then_some(id)
}

/// `1..=64` characters of `[A-Za-z0-9_-]`.
pub fn valid_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_BYTES && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `namespace:action`, each part `[a-z][a-z0-9-]*`, at most 64 bytes.
pub fn valid_channel_name(name: &str) -> bool {
    fn part(p: &str) -> bool {
        let mut bytes = p.bytes();
        matches!(bytes.next(), Some(b'a'..=b'z')) && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
    name.len() <= MAX_CHANNEL_NAME_BYTES && name.split_once(':').is_some_and(|(ns, action)| part(ns) && part(action))
}

/// Builds a message the way the page's client does (tests and benches).
pub fn build(secret: &str, request_id: &str, channel: &str, payload: &str) -> String {
    format!("{MAGIC}\n{secret}\n{request_id}\n{channel}\n{payload}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_envelope_parses_without_copying() {
        let msg = build(&"a".repeat(64), "r-1", "jwt:decode", "{\"token\":\"x\\ny\"}");
        let env = parse(&msg).expect("parses");
        assert_eq!(env.channel, "jwt:decode");
        assert_eq!(env.request_id, "r-1");
        assert_eq!(env.payload, "{\"token\":\"x\\ny\"}");
    }

    #[test]
    fn payload_may_contain_newlines() {
        let msg = build("s", "r", "a:b", "{\n\"k\": 1\n}");
        assert_eq!(parse(&msg).expect("parses").payload, "{\n\"k\": 1\n}");
    }

    #[test]
    fn oversized_message_is_refused_before_parsing() {
        let msg = "x".repeat(MAX_MESSAGE_BYTES + 1);
        let err = parse(&msg).expect_err("too big");
        assert_eq!(err.error.code, ErrorCode::PayloadTooLarge);
        assert_eq!(err.request_id, None);
        let msg = build(&"a".repeat(64), "big-1", "jwt:decode", &"y".repeat(MAX_MESSAGE_BYTES));
        let err = parse(&msg).expect_err("too big");
        assert_eq!(err.request_id.as_deref(), Some("big-1"), "the id is recovered so the caller's promise settles");
    }

    #[test]
    fn malformed_envelopes_say_what_is_wrong() {
        for (msg, code) in [
            ("", ErrorCode::ValidationError),
            ("tg2\ns\nr\na:b\n{}", ErrorCode::ValidationError),
            ("tg1\ns\n\na:b\n{}", ErrorCode::ValidationError),
            ("tg1\ns\nr id\na:b\n{}", ErrorCode::ValidationError),
            ("tg1\ns\nr\nAB:c\n{}", ErrorCode::UnknownChannel),
            ("tg1\ns\nr\nnocolon\n{}", ErrorCode::UnknownChannel),
            ("tg1\ns\nr\n:x\n{}", ErrorCode::UnknownChannel),
            ("tg1\ns\nr\na:b", ErrorCode::ValidationError),
        ] {
            assert_eq!(parse(msg).expect_err(msg).error.code, code, "{msg:?}");
        }
    }

    #[test]
    fn request_ids_are_bounded() {
        assert!(valid_request_id(&"a".repeat(64)));
        assert!(!valid_request_id(&"a".repeat(65)));
        assert!(!valid_request_id("é"));
    }
}
