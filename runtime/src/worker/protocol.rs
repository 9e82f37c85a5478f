//! The messages on the worker socket, as JSON inside frames.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::jwt::backend::{GuestError, RawDecoded};

/// The worker's first and only frame before authentication.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum HandshakeRequest {
    /// `{ "type": "HANDSHAKE", "token": "<64 hex>" }`
    Handshake {
        /// The token, hex. Wiped on drop.
        token: Secret,
    },
}

/// The host's answer to a handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum HandshakeReply {
    /// The connection is authenticated.
    HandshakeOk,
    /// The connection is refused and will be closed.
    HandshakeFailed {
        /// Why.
        code: HandshakeFailure,
    },
}

/// Why a handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HandshakeFailure {
    /// The first frame was not a handshake with the expected token (wrong,
    /// malformed, oversized, or a token already used).
    InvalidToken,
    /// No complete handshake frame arrived in time.
    Timeout,
    /// The peer runs as another user.
    PeerRejected,
}

impl HandshakeFailure {
    /// The code as it appears on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidToken => "INVALID_TOKEN",
            Self::Timeout => "TIMEOUT",
            Self::PeerRejected => "PEER_REJECTED",
        }
    }
}

/// A string that is wiped when dropped and never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A guest call the host asks the worker to make.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "function", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SignerCall {
    /// `sign`. The key travels in this call only.
    Sign {
        /// JOSE algorithm name.
        alg: String,
        /// The key, base64.
        key: Secret,
        /// `kid`.
        kid: Option<String>,
        /// `typ`.
        typ: Option<String>,
        /// Custom header fields, checked again as they are read.
        #[serde(default)]
        extra: crate::jwt::ExtraHeader,
        /// The canonical claims text.
        claims: String,
    },
    /// `decode`.
    Decode {
        /// The token.
        token: String,
    },
    /// `verify`. The key travels in this call only.
    Verify {
        /// The token.
        token: String,
        /// The key, base64.
        key: Secret,
        /// Allowed algorithm names.
        allowed: Vec<String>,
        /// Leeway in seconds.
        leeway: u32,
    },
}

/// One request frame after authentication.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerRequest {
    /// Echoed in the response.
    pub id: u64,
    /// The call.
    pub call: SignerCall,
}

/// What came of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CallOutcome {
    /// A token (`sign`) or claims (`verify`).
    Text {
        /// The guest's answer, unchecked.
        value: String,
    },
    /// `decode`'s parts.
    Decoded {
        /// The guest's answer, unchecked.
        parts: RawDecoded,
    },
    /// The guest's own error.
    Guest {
        /// The error.
        error: GuestError,
    },
    /// The runtime in the worker failed (trap, deadline, quota, ...).
    Runtime {
        /// The runtime's code.
        code: String,
        /// Its message.
        message: String,
    },
}

/// One response frame.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerResponse {
    /// The request's id.
    pub id: u64,
    /// What came of it.
    pub outcome: CallOutcome,
}
