//! The JWT service's boundary error.

use crate::PluginError;

/// Why a JWT operation failed. Each variant has a stable code
/// ([`JwtError::code`]); no message carries key material.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The algorithm name is not one the signer supports.
    #[error("unknown algorithm `{0}`; use one of HS256/384/512, RS256/384/512, PS256/384/512, ES256/384, EdDSA")]
    UnknownAlgorithm(String),
    /// `alg: none` was asked for or found in a token.
    #[error("the `none` algorithm (an unsigned token) is never accepted")]
    AlgorithmNone,
    /// The key does not suit the algorithm.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The claims are not a JSON object, or too large.
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    /// A header field is malformed.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// The token is not three base64url segments of JSON.
    #[error("malformed token: {0}")]
    MalformedToken(String),
    /// The token's algorithm is not among those allowed.
    #[error("the token's algorithm {0} is not among those allowed")]
    AlgorithmNotAllowed(String),
    /// The signature does not verify.
    #[error("the signature does not verify under the key")]
    InvalidSignature,
    /// `exp` is in the past.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet (nbf is in the future)")]
    NotYetValid,
    /// A claim the check needs is absent.
    #[error("the token has no `{0}` claim")]
    MissingClaim(String),
    /// A registered time claim has the wrong type.
    #[error("invalid claim type: {0}")]
    InvalidClaimType(String),
    /// The signer failed for a reason it may not tell (its message is
    /// dropped: a call that carried a key returns no guest-chosen text).
    #[error("the signer could not sign")]
    SigningFailed,
    /// The plugin runtime failed: trap, deadline, quota, refused output.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

impl JwtError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownAlgorithm(_) => "UNKNOWN_ALGORITHM",
            Self::AlgorithmNone => "ALGORITHM_NONE",
            Self::InvalidKey(_) => "INVALID_KEY",
            Self::InvalidClaims(_) => "INVALID_CLAIMS",
            Self::InvalidHeader(_) => "INVALID_HEADER",
            Self::MalformedToken(_) => "MALFORMED_TOKEN",
            Self::AlgorithmNotAllowed(_) => "ALGORITHM_NOT_ALLOWED",
            Self::InvalidSignature => "INVALID_SIGNATURE",
            Self::Expired => "EXPIRED",
            Self::NotYetValid => "NOT_YET_VALID",
            Self::MissingClaim(_) => "MISSING_CLAIM",
            Self::InvalidClaimType(_) => "INVALID_CLAIM_TYPE",
            Self::SigningFailed => "SIGNING_FAILED",
            Self::Plugin(e) => e.code(),
        }
    }
}
