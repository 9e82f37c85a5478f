//! `crypto:encrypt`: a key the page holds for a moment (typed or pasted)
//! is sealed under the master key at once, and only the sealed form goes
//! back to the page.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::channels::{BASE, MAX_ENCRYPT_REQUEST_BYTES, WRITE_QUOTA, secrets_error};
use crate::services::AppServices;
use crate::bridge::{BridgeError, ErrorCode};
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Execution, RegistryError};
use crate::jwt::{Algorithm, SigningKey};
use crate::secrets::KeyBinding;
use crate::store::profiles::algorithm_name;

/// A secret sent by the page: wiped when dropped, never shown by `Debug`.
#[derive(Clone, TS)]
#[ts(type = "string")]
pub struct SecretText(Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self(Zeroizing::new(s)))
    }
}

impl SecretText {
    /// The text (for the host's own use: it is never logged or sent back).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

/// How `crypto:encrypt`'s key is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum KeyEncoding {
    /// The key's own text: a PEM, or an HMAC secret as typed (UTF-8).
    #[default]
    Text,
    /// Base64 (standard or URL-safe, padded or not) of the raw bytes: for
    /// HMAC secrets that are not text.
    Base64,
}

/// `crypto:encrypt` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EncryptKeyRequest {
    /// The algorithm the key is for (it is checked for it).
    #[ts(as = "Algorithm")]
    #[serde(with = "algorithm_name")]
    pub algorithm: Algorithm,
    /// The key: a PEM private key (RSA, EC, Ed25519) or an HMAC secret.
    pub key: SecretText,
    /// How `key` is written (`text` when absent).
    #[serde(default)]
    #[ts(optional)]
    pub encoding: Option<KeyEncoding>,
}

/// `crypto:encrypt` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedKey {
    /// The sealed key, for `profiles:save`.
    pub encrypted_key: String,
}

/// `crypto:encrypt`.
pub struct EncryptKey;
impl Channel for EncryptKey {
    type Request = EncryptKeyRequest;
    type Response = EncryptedKey;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "crypto:encrypt",
        summary: "Checks a key for its algorithm and seals it under this install's master key.",
        max_payload_bytes: MAX_ENCRYPT_REQUEST_BYTES,
        // Each call may reach the keychain and parse an RSA key.
        quota: WRITE_QUOTA,
        state_changing: true,
        // A plugin call or key material: the heavy lane.
        execution: Execution::Heavy,
        ..BASE
    };
}

/// Registers `crypto:encrypt`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<EncryptKey, _>(move |_, req: EncryptKeyRequest| encrypt_key(&s, req))?;
    Ok(())
}

fn encrypt_key(s: &AppServices, req: EncryptKeyRequest) -> Result<EncryptedKey, BridgeError> {
    let bytes = match req.encoding.unwrap_or_default() {
        KeyEncoding::Text => Zeroizing::new(req.key.0.as_bytes().to_vec()),
        KeyEncoding::Base64 => decode_base64(req.key.0.trim())
            .ok_or_else(|| BridgeError::new(ErrorCode::InvalidInput, "the key is not base64"))?,
    };
    let alg = req.algorithm;
    // The key is checked for its algorithm before it is sealed: an RSA key
    // must parse (2048 bits or more), an HMAC secret be 32 bytes or more.
    // (The checked copy is wiped as soon as the check is done.)
    SigningKey::new(alg, Zeroizing::new(bytes.to_vec())).map_err(|e| BridgeError::new(ErrorCode::InvalidInput, e.to_string()))?;
    let encrypted_key = s.secrets().seal(&bytes, KeyBinding::unassigned(alg)).map_err(secrets_error)?;
    Ok(EncryptedKey { encrypted_key })
}

fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request is `Debug` (the bridge's error paths and a developer's
    /// `dbg!` may print it); the key in it must never be.
    #[test]
    fn a_key_in_a_request_never_prints() {
        let secret = "s3cr3t-hmac-key-that-must-not-print-0123456789";
        let body = format!(r#"{{"algorithm":"HS256","key":"{secret}","encoding":"text"}}"#);
        let req: EncryptKeyRequest = serde_json::from_str(&body).expect("a valid request");
        let printed = format!("{req:?} {req:#?} {:?}", req.key);
        assert!(!printed.contains(secret), "{printed}");
        assert!(!printed.contains("s3cr3t"), "no part of it either: {printed}");
        assert!(printed.contains("SecretText([redacted])"), "{printed}");
    }
}
