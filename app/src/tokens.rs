//! Tokens for a profile: generate (sign through the signer guest) and
//! verify, with the key opened in the host and wiped when done.
//!
//! The key leaves this module only into `JwtSigner`, which hands it to the
//! guest for the one call and checks what comes back; nothing returned
//! from here contains it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::jwt::{Algorithm, ExtraHeader, JwtError, JwtSigner, SignRequest, SigningKey};
use crate::runtime::PluginError;
use crate::secrets::{KeyBinding, Secrets, SecretsError};
use crate::store::{Profile, timestamp};

/// A token made by `jwt:generate`: the compact form and its parts.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedToken {
    /// The token.
    pub raw: String,
    /// Its header.
    #[ts(type = "Record<string, unknown>")]
    pub header: Value,
    /// Its claims (`iat` and `exp` set by the host).
    #[ts(type = "Record<string, unknown>")]
    pub payload: Value,
    /// The signature segment, base64url.
    pub signature: String,
    /// When it was made (ISO 8601, UTC).
    pub generated_at: String,
}

/// Why a token is not valid, in words a page can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum InvalidReason {
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// The signature does not verify under the profile's key.
    BadSignature,
    /// The token's `alg` is not the profile's algorithm (or is `none`).
    WrongAlgorithm,
    /// `exp` is missing, or a time claim is not a number.
    InvalidClaims,
    /// Not three base64url segments of JSON.
    Malformed,
}

/// `jwt:verify`'s answer.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Whether the token verifies under the profile's key and is in date.
    pub valid: bool,
    /// Why not, when not.
    pub reason: Option<InvalidReason>,
    /// The same in a sentence, when not.
    pub message: Option<String>,
}

/// Why a token could not be made or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The key could not be opened (keychain, another install, altered).
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The profile's custom expiration has passed.
    #[error("the profile's custom expiration has passed; edit the profile to choose a new one")]
    ExpirationPassed,
    /// The claims, with overrides, `iat` and `exp`, break the signer's rules.
    #[error("{0}")]
    InvalidClaims(String),
    /// The profile's header can't be signed: a rule refuses a field, or
    /// the signer's contract is older than `tollgate:jwt@0.3` and the
    /// profile has custom header fields.
    #[error("the profile's header can't be signed: {0}")]
    InvalidHeader(String),
    /// The stored key opens but does not suit the algorithm any more.
    #[error("the profile's key can't be used for {0}; enter the key again")]
    KeyUnusable(Algorithm),
    /// The signer failed, or its token was refused by the host.
    #[error("the token could not be signed: {0}")]
    Signing(String),
    /// The signer plugin failed while verifying.
    #[error("the jwt-signer plugin could not verify the token: {0}")]
    Plugin(String),
    /// The signer plugin is quarantined: it gets no key.
    #[error("{0}")]
    Quarantined(String),
    /// A key set could not be read (the reason says which key and why).
    #[error("{0}")]
    KeySet(String),
}

impl TokenError {
    /// The stable code (the bridge's code of the same name).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Secrets(e) => e.code(),
            Self::ExpirationPassed | Self::InvalidClaims(_) | Self::InvalidHeader(_) => "VALIDATION_ERROR",
            Self::KeyUnusable(_) | Self::Signing(_) => "SIGNING_FAILED",
            Self::Plugin(_) => "PLUGIN_ERROR",
            Self::Quarantined(_) => "PLUGIN_QUARANTINED",
            Self::KeySet(_) => "INVALID_INPUT",
        }
    }
}

/// Time claims a profile's payload (or a call's overrides) may give
/// relative to the moment of signing: the string `now`, or a sign, a whole
/// number and a unit, `s`, `m`, `h` or `d` (`"+15m"`, `"-30s"`, `"+1d"`).
/// They are resolved to NumericDates (seconds since the epoch) when the
/// token is made. `iat` and `exp` are not among them: the host sets both
/// (the time of signing, and the profile's expiration).
pub const RELATIVE_TIME_CLAIMS: &[&str] = &["nbf", "auth_time"];

/// The furthest a relative time may point, either way: ten years.
pub const MAX_RELATIVE_SECONDS: i64 = 10 * 365 * 86_400;

/// `now` or `+15m`-style text as seconds from the moment of signing;
/// `None` for anything else (or beyond [`MAX_RELATIVE_SECONDS`]).
pub fn relative_seconds(text: &str) -> Option<i64> {
    if text == "now" {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let unit = match rest.as_bytes().last()? {
        b's' => 1,
        b'm' => 60,
        b'h' => 3600,
        b'd' => 86_400,
        _ => return None,
    };
    let digits = &rest[..rest.len() - 1];
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = digits.parse::<i64>().ok()?.checked_mul(unit)?;
    (seconds <= MAX_RELATIVE_SECONDS).then_some(sign * seconds)
}

/// Replaces each relative time claim of `claims` by its NumericDate at
/// `iat`. A string that is not a relative time is refused, naming the
/// claim (the signer would refuse it anyway, less clearly).
fn resolve_relative_times(claims: &mut Map<String, Value>, iat: i64) -> Result<(), TokenError> {
    for name in RELATIVE_TIME_CLAIMS {
        let Some(Value::String(text)) = claims.get(*name) else { continue };
        let Some(offset) = relative_seconds(text) else {
            let shown: String = text.chars().take(32).collect();
            return Err(TokenError::InvalidClaims(format!(
                "`{name}` is \"{shown}\": a time claim is a number of seconds since the epoch, \"now\", or a time relative \
                 to signing such as \"+15m\" or \"-30s\" (units s, m, h, d; at most 10 years)"
            )));
        };
        claims.insert((*name).to_owned(), Value::from(iat.saturating_add(offset)));
    }
    Ok(())
}

/// `claims` as they would be signed at `iat`: each relative time claim
/// that is a valid relative time replaced by its NumericDate. A string that
/// is not one is left as it is (signing refuses it; a linter flags it as not
/// a number). What `lint:claims` checks, so its findings are about the
/// token the user will get, not about the relative notation.
pub fn claims_as_signed_at(claims: &Map<String, Value>, iat: i64) -> Map<String, Value> {
    let mut resolved = claims.clone();
    for name in RELATIVE_TIME_CLAIMS {
        if let Some(offset) = resolved.get(*name).and_then(Value::as_str).and_then(relative_seconds) {
            resolved.insert((*name).to_owned(), Value::from(iat.saturating_add(offset)));
        }
    }
    resolved
}

/// The profile's key, opened, as a checked signing key. Dropping it wipes
/// the bytes.
fn signing_key(secrets: &Secrets, profile: &Profile) -> Result<SigningKey, TokenError> {
    let material = secrets.open(&profile.encrypted_key, KeyBinding::profile(profile.algorithm, profile.id))?;
    SigningKey::new(profile.algorithm, material).map_err(|_| TokenError::KeyUnusable(profile.algorithm))
}

/// Signs a token for `profile`: its payload, then `overrides`, then `iat`
/// (now) and `exp` (now + the preset, or the custom expiration).
pub fn generate(
    signer: &JwtSigner,
    secrets: &Secrets,
    profile: &Profile,
    overrides: Option<Map<String, Value>>,
    now: OffsetDateTime,
) -> Result<GeneratedToken, TokenError> {
    let iat = timestamp::unix_seconds(now);
    let exp = match (profile.expiration_preset.seconds(), profile.custom_expiration) {
        (Some(lifetime), _) => iat.saturating_add(lifetime),
        (None, Some(at)) if at > now => timestamp::unix_seconds(at),
        (None, _) => return Err(TokenError::ExpirationPassed),
    };
    let mut claims = profile.payload.clone();
    claims.extend(overrides.unwrap_or_default());
    resolve_relative_times(&mut claims, iat)?;
    claims.insert("iat".into(), Value::from(iat));
    claims.insert("exp".into(), Value::from(exp));

    // Checked when saved; checked again before the key is opened, as a
    // stored file may be older.
    let extra = ExtraHeader::from_object(profile.header_fields.clone()).map_err(|e| TokenError::InvalidHeader(header_reason(e)))?;
    let key = signing_key(secrets, profile)?;
    // The profile's kid, else the key's RFC 7638 thumbprint: the kid its
    // JWK carries in keys:jwks either way, so a verifier picks the key by
    // it. An HMAC profile's tokens have a kid only when it sets one.
    let kid = match &profile.kid {
        Some(kid) => Some(kid.clone()),
        None => key.public_key(None).ok().flatten().map(|public| public.thumbprint),
    };
    let signed = signer.sign(SignRequest { key: &key, claims: Value::Object(claims), kid, typ: profile.typ.clone(), extra });
    // The key is wiped here, before anything else is done with the answer.
    drop(key);
    let raw = signed.map_err(|e| match e {
        JwtError::InvalidClaims(m) => TokenError::InvalidClaims(format!("the claims can't be signed: {m}")),
        e @ JwtError::InvalidHeader(_) => TokenError::InvalidHeader(header_reason(e)),
        JwtError::Plugin(q @ PluginError::Quarantined { .. }) => TokenError::Quarantined(q.to_string()),
        other => {
            tracing::warn!(code = other.code(), "jwt:generate: signing failed");
            TokenError::Signing(other.to_string())
        }
    })?;
    let mut parts = raw.splitn(3, '.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Signing("the token is not three segments".into()));
    };
    let header = json_segment(header)?;
    let payload = json_segment(payload)?;
    let signature = signature.to_owned();
    Ok(GeneratedToken { raw, header, payload, signature, generated_at: timestamp::format(now) })
}

/// The reason of an `InvalidHeader`, without its "invalid header:" prefix.
fn header_reason(e: JwtError) -> String {
    match e {
        JwtError::InvalidHeader(m) => m,
        other => other.to_string(),
    }
}

fn json_segment(segment: &str) -> Result<Value, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| TokenError::Signing("the signed token does not decode".into()))
}

/// Verifies `token` under `profile`'s key and algorithm, through the
/// signer guest and natively (both must agree; see `JwtSigner::verify`).
/// An invalid token is an answer (`valid: false` and why), not an error.
pub fn verify(signer: &JwtSigner, secrets: &Secrets, profile: &Profile, token: &str) -> Result<Verification, TokenError> {
    let alg = profile.algorithm;
    let material = secrets.open(&profile.encrypted_key, KeyBinding::profile(alg, profile.id))?;
    // Verifying needs only the public half, and the signer refuses a
    // private key for verification.
    let verifying = match crate::jwt::public_key(alg, &material, None) {
        Ok(None) => material,
        Ok(Some(public)) => Zeroizing::new(public.pem.into_bytes()),
        Err(_) => return Err(TokenError::KeyUnusable(alg)),
    };
    let error = match signer.verify(token, &verifying, &[alg], 0) {
        Ok(_) => return Ok(Verification { valid: true, reason: None, message: None }),
        Err(e) => e,
    };
    let Some(reason) = invalid_reason(&error) else {
        return Err(match error {
            JwtError::InvalidKey(_) => TokenError::KeyUnusable(alg),
            other => signer_failure(other, "jwt:verify"),
        });
    };
    let message = match reason {
        InvalidReason::WrongAlgorithm => format!("{error} (this profile signs with {alg})"),
        _ => error.to_string(),
    };
    Ok(Verification { valid: false, reason: Some(reason), message: Some(message) })
}

/// What a verification error says about the token, when it says
/// something about the token (not about the key, the plugin or the host):
/// the one reading `jwt:verify` and `jwt:verify-key-set` share.
fn invalid_reason(error: &JwtError) -> Option<InvalidReason> {
    match error {
        JwtError::Expired => Some(InvalidReason::Expired),
        JwtError::NotYetValid => Some(InvalidReason::NotYetValid),
        JwtError::InvalidSignature => Some(InvalidReason::BadSignature),
        JwtError::AlgorithmNotAllowed(_) | JwtError::AlgorithmNone | JwtError::UnknownAlgorithm(_) => Some(InvalidReason::WrongAlgorithm),
        JwtError::MissingClaim(_) | JwtError::InvalidClaimType(_) => Some(InvalidReason::InvalidClaims),
        JwtError::MalformedToken(_) | JwtError::InvalidHeader(_) | JwtError::InvalidClaims(_) => Some(InvalidReason::Malformed),
        _ => None,
    }
}

/// A verification error that is not about the token: the signer is
/// quarantined, or it failed (logged with `channel`).
fn signer_failure(error: JwtError, channel: &'static str) -> TokenError {
    match error {
        JwtError::Plugin(q @ PluginError::Quarantined { .. }) => TokenError::Quarantined(q.to_string()),
        other => {
            tracing::warn!(code = other.code(), "{channel}: the signer failed");
            TokenError::Plugin(other.to_string())
        }
    }
}

/// Why a token does not verify against a key set, in words a page can
/// branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum KeySetInvalidReason {
    /// No key of the set can have signed it: none has the token's `kid`,
    /// or (without a `kid`) none verifies the token's `alg`.
    NoMatchingKey,
    /// `exp` has passed (the signature verified).
    Expired,
    /// `nbf` or `iat` is in the future (the signature verified).
    NotYetValid,
    /// No key it could be verified with verifies the signature.
    BadSignature,
    /// The token's `alg` is not one its key verifies (or is `none`).
    WrongAlgorithm,
    /// `exp` is missing, or a time claim is not a number.
    InvalidClaims,
    /// Not three base64url segments of JSON, or an encrypted token.
    Malformed,
}

impl From<InvalidReason> for KeySetInvalidReason {
    fn from(reason: InvalidReason) -> Self {
        match reason {
            InvalidReason::Expired => Self::Expired,
            InvalidReason::NotYetValid => Self::NotYetValid,
            InvalidReason::BadSignature => Self::BadSignature,
            InvalidReason::WrongAlgorithm => Self::WrongAlgorithm,
            InvalidReason::InvalidClaims => Self::InvalidClaims,
            InvalidReason::Malformed => Self::Malformed,
        }
    }
}

/// The key of a set a token verified under.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MatchedKey {
    /// Its `kid`, when it has one.
    pub kid: Option<String>,
    /// Its RFC 7638 SHA-256 thumbprint, base64url.
    pub thumbprint: String,
    /// The algorithm it verified (the token's, allowed by the key).
    pub algorithm: String,
}

/// `jwt:verify-key-set`'s answer.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeySetVerification {
    /// Whether a key of the set verifies the signature and the token is
    /// in date.
    pub valid: bool,
    /// Why not, when not.
    pub reason: Option<KeySetInvalidReason>,
    /// The same in a sentence, when not.
    pub message: Option<String>,
    /// The key whose signature check passed (also when the token is out
    /// of date).
    pub key: Option<MatchedKey>,
    /// How many keys of the set were tried.
    pub keys_tried: u32,
}

/// The longest `kid` quoted back in a message.
const QUOTED_KID_CHARS: usize = 64;

/// Verifies `token` against the signature keys of a JSON Web Key Set
/// (`key_set_text`): the token's `kid` picks the key (without a `kid`,
/// every key that verifies the token's `alg` is tried); the algorithm is
/// the key's (its own `alg`, or one of its key type's), never the token's
/// header alone. Each try runs the signer guest and the host's own check,
/// as `jwt:verify` does, with `leeway` seconds of clock skew allowed for
/// the time claims (the channel allows none). A key set that can't be read is an error
/// (`JwtError::InvalidKey` with the reason); a token that does not verify
/// is an answer.
pub fn verify_with_key_set(signer: &JwtSigner, token: &str, key_set_text: &str, leeway: u32) -> Result<KeySetVerification, TokenError> {
    let keys = crate::jwt::key_set(key_set_text).map_err(|e| TokenError::KeySet(e.to_string()))?;
    let answer = |reason: KeySetInvalidReason, message: String, key: Option<MatchedKey>, tried: u32| KeySetVerification {
        valid: false,
        reason: Some(reason),
        message: Some(message),
        key,
        keys_tried: tried,
    };
    let header = match token_header(token) {
        Ok(header) => header,
        Err(why) => return Ok(answer(KeySetInvalidReason::Malformed, why, None, 0)),
    };
    let kid = header.get("kid").and_then(Value::as_str);
    let alg = header.get("alg").and_then(Value::as_str).and_then(|a| a.parse::<Algorithm>().ok());
    let candidates: Vec<_> = match kid {
        Some(kid) => keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).collect(),
        None => keys.iter().filter(|k| alg.is_some_and(|a| k.algorithms.contains(&a))).collect(),
    };
    if candidates.is_empty() {
        let message = match kid {
            Some(kid) => format!("no key in the set has kid \"{}\"", kid.chars().take(QUOTED_KID_CHARS).collect::<String>()),
            None => "the token has no kid, and no key in the set verifies its alg".to_owned(),
        };
        return Ok(answer(KeySetInvalidReason::NoMatchingKey, message, None, 0));
    }
    let mut tried = 0u32;
    let mut last = None;
    for key in candidates {
        tried += 1;
        let matched = || MatchedKey {
            kid: key.kid.clone(),
            thumbprint: key.thumbprint.clone(),
            algorithm: alg.map(|a| a.to_string()).unwrap_or_default(),
        };
        let error = match signer.verify(token, key.pem.as_bytes(), &key.algorithms, leeway) {
            Ok(_) => return Ok(KeySetVerification { valid: true, reason: None, message: None, key: Some(matched()), keys_tried: tried }),
            Err(e) => e,
        };
        let Some(reason) = invalid_reason(&error) else {
            return Err(signer_failure(error, "jwt:verify-key-set"));
        };
        match reason {
            // The signature verified: this is the key, and the answer.
            InvalidReason::Expired | InvalidReason::NotYetValid | InvalidReason::InvalidClaims => {
                return Ok(answer(reason.into(), error.to_string(), Some(matched()), tried));
            }
            InvalidReason::Malformed => return Ok(answer(reason.into(), error.to_string(), None, tried)),
            // Another key may verify it.
            InvalidReason::BadSignature | InvalidReason::WrongAlgorithm => {}
        }
        let reason = KeySetInvalidReason::from(reason);
        let message = match reason {
            KeySetInvalidReason::WrongAlgorithm => {
                let allowed: Vec<String> = key.algorithms.iter().map(ToString::to_string).collect();
                format!("{error} (the key verifies {})", allowed.join(", "))
            }
            _ => error.to_string(),
        };
        last = Some((reason, message));
    }
    let (reason, message) = last.unwrap_or((KeySetInvalidReason::BadSignature, "no key verified the signature".to_owned()));
    Ok(answer(reason, message, None, tried))
}

/// The token's protected header, parsed (`Err` says why it can't be).
fn token_header(token: &str) -> Result<Map<String, Value>, String> {
    let segment = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| "the header is not unpadded base64url".to_owned())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(header)) => Ok(header),
        _ => Err("the header is not a JSON object".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linter_sees_relative_times_as_they_will_be_signed() {
        let claims = serde_json::json!({ "nbf": "-30s", "auth_time": "now", "note": "+5m", "sub": "x" });
        let Value::Object(claims) = claims else { unreachable!("an object literal") };
        let seen = claims_as_signed_at(&claims, 1_000_000);
        assert_eq!(seen["nbf"], 999_970);
        assert_eq!(seen["auth_time"], 1_000_000);
        assert_eq!(seen["note"], "+5m", "only the time claims are resolved");
        let Value::Object(bad) = serde_json::json!({ "nbf": "+15x" }) else { unreachable!("an object literal") };
        assert_eq!(claims_as_signed_at(&bad, 1_000_000)["nbf"], "+15x", "left for the linter to flag");
    }

    #[test]
    fn relative_times_read_as_a_user_writes_them() {
        assert_eq!(relative_seconds("now"), Some(0));
        assert_eq!(relative_seconds("+15m"), Some(900));
        assert_eq!(relative_seconds("-30s"), Some(-30));
        assert_eq!(relative_seconds("+2h"), Some(7200));
        assert_eq!(relative_seconds("+1d"), Some(86_400));
        assert_eq!(relative_seconds("+3650d"), Some(MAX_RELATIVE_SECONDS));
        for refused in ["", "+", "+m", "15m", "+15", "+15w", "+1.5h", "+ 5m", "+-5m", "+3651d", "+999999999d", "NOW", "+１m"] {
            assert_eq!(relative_seconds(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn relative_claims_resolve_at_signing_and_other_text_is_refused_by_name() {
        let mut claims = Map::new();
        claims.insert("nbf".into(), Value::from("now"));
        claims.insert("auth_time".into(), Value::from("-5m"));
        claims.insert("note".into(), Value::from("+1h"));
        resolve_relative_times(&mut claims, 1_000_000).expect("resolves");
        assert_eq!(claims["nbf"], 1_000_000);
        assert_eq!(claims["auth_time"], 1_000_000 - 300);
        assert_eq!(claims["note"], "+1h", "only the time claims are read as times");

        let mut bad = Map::new();
        bad.insert("nbf".into(), Value::from("tomorrow"));
        let err = resolve_relative_times(&mut bad, 0).expect_err("refused");
        assert!(err.to_string().contains("`nbf` is \"tomorrow\""), "{err}");
        assert_eq!(err.code(), "VALIDATION_ERROR");
    }
}
