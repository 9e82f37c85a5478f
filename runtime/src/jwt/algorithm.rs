//! The signing algorithms: parsed once from user text, mapped onto the WIT
//! enum and jsonwebtoken's.

use std::fmt;
use std::str::FromStr;

use crate::jwt::JwtError;
use crate::bindings::since_v0_2::tollgate::jwt::types::Algorithm as WitAlgorithmV0_2;
use crate::bindings::since_v0_1::tollgate::jwt::types::Algorithm as WitAlgorithmV0_1;
use crate::bindings::tollgate::jwt::types::Algorithm as WitAlgorithm;

/// The algorithm as one version of the WIT contract spells it (the same
/// cases in every version).
macro_rules! wit_algorithm {
    ($name:ident, $wit:ty) => {
        pub(crate) fn $name(self) -> $wit {
            match self {
                Self::HS256 => <$wit>::Hs256,
                Self::HS384 => <$wit>::Hs384,
                Self::HS512 => <$wit>::Hs512,
                Self::RS256 => <$wit>::Rs256,
                Self::RS384 => <$wit>::Rs384,
                Self::RS512 => <$wit>::Rs512,
                Self::PS256 => <$wit>::Ps256,
                Self::PS384 => <$wit>::Ps384,
                Self::PS512 => <$wit>::Ps512,
                Self::ES256 => <$wit>::Es256,
                Self::ES384 => <$wit>::Es384,
                Self::EdDSA => <$wit>::Eddsa,
            }
        }
    };
}

/// Every algorithm jsonwebtoken supports with its rust_crypto backend.
/// `none` is not one of them and cannot be parsed.
// Its TypeScript form (`AlgorithmName`, the union of the JOSE names) is
// what the page may send; serde goes through `name`/`FromStr` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ts_rs::TS)]
#[ts(rename = "AlgorithmName")]
#[allow(missing_docs)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

impl Algorithm {
    /// All of them, in a stable order.
    pub const ALL: [Algorithm; 12] = [
        Self::HS256, Self::HS384, Self::HS512, Self::RS256, Self::RS384, Self::RS512,
        Self::PS256, Self::PS384, Self::PS512, Self::ES256, Self::ES384, Self::EdDSA,
    ];

    /// The JOSE name (`HS256`, ..., `EdDSA`).
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether this is an HMAC algorithm (its key is a shared secret).
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// Whether the same key and message always give the same signature.
    /// PSS salts are random; HMAC, PKCS#1 v1.5, RFC 6979 ECDSA (as
    /// jsonwebtoken's rust_crypto backend signs) and Ed25519 are not.
    pub fn is_deterministic(self) -> bool {
        !matches!(self, Self::PS256 | Self::PS384 | Self::PS512)
    }

    /// The jsonwebtoken algorithm.
    pub fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Self::HS256 => J::HS256,
            Self::HS384 => J::HS384,
            Self::HS512 => J::HS512,
            Self::RS256 => J::RS256,
            Self::RS384 => J::RS384,
            Self::RS512 => J::RS512,
            Self::PS256 => J::PS256,
            Self::PS384 => J::PS384,
            Self::PS512 => J::PS512,
            Self::ES256 => J::ES256,
            Self::ES384 => J::ES384,
            Self::EdDSA => J::EdDSA,
        }
    }

    /// From jsonwebtoken's algorithm; `None` for one added after this list.
    pub fn from_jsonwebtoken(alg: jsonwebtoken::Algorithm) -> Option<Self> {
        use jsonwebtoken::Algorithm as J;
        Some(match alg {
            J::HS256 => Self::HS256,
            J::HS384 => Self::HS384,
            J::HS512 => Self::HS512,
            J::RS256 => Self::RS256,
            J::RS384 => Self::RS384,
            J::RS512 => Self::RS512,
            J::PS256 => Self::PS256,
            J::PS384 => Self::PS384,
            J::PS512 => Self::PS512,
            J::ES256 => Self::ES256,
            J::ES384 => Self::ES384,
            J::EdDSA => Self::EdDSA,
            _ => return None,
        })
    }

    wit_algorithm!(to_wit, WitAlgorithm);
    wit_algorithm!(to_wit_v0_2, WitAlgorithmV0_2);
    wit_algorithm!(to_wit_v0_1, WitAlgorithmV0_1);
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = JwtError;

    /// Parses a JOSE name, ignoring ASCII case. `none` is refused by name.
    fn from_str(s: &str) -> Result<Self, JwtError> {
        if s.eq_ignore_ascii_case("none") {
            return Err(JwtError::AlgorithmNone);
        }
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| JwtError::UnknownAlgorithm(s.chars().take(32).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_its_name_and_jsonwebtoken() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>().expect("parses"), alg);
            assert_eq!(alg.name().to_lowercase().parse::<Algorithm>().expect("any case"), alg);
            assert_eq!(Algorithm::from_jsonwebtoken(alg.to_jsonwebtoken()), Some(alg));
        }
    }

    #[test]
    fn none_and_unknown_names_are_refused_with_their_own_codes() {
        assert_eq!("none".parse::<Algorithm>().expect_err("none").code(), "ALGORITHM_NONE");
        assert_eq!("NONE".parse::<Algorithm>().expect_err("none").code(), "ALGORITHM_NONE");
        let err = "HS257".parse::<Algorithm>().expect_err("unknown");
        assert_eq!(err.code(), "UNKNOWN_ALGORITHM");
        assert!(err.to_string().contains("HS257"));
    }
}
