//! `keys:*`: keys made by the host and public keys out (issue 19). A key
//! generated here is sealed under the master key at once: the page gets
//! the sealed form (for `profiles:save`, as from `crypto:encrypt`), the
//! public half and its thumbprint, never the private key.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::bridge::channels::Empty;
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode};
use crate::channels::profiles::ProfileRef;
use crate::channels::{BASE, secrets_error, store_error};
use crate::jwt::{Algorithm, JwtError, PublicKey, SigningKey, generate};
use crate::secrets::KeyBinding;
use crate::services::AppServices;
use crate::store::profiles::algorithm_name;
use crate::store::Profile;

/// The contract version that added `keys:*`.
const SINCE: &str = "1.7";

/// `keys:generate` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateKeyRequest {
    /// The algorithm the key is for: an HMAC secret as long as its hash,
    /// an RSA key for the RS and PS algorithms, P-256 for ES256, P-384 for ES384, Ed25519
    /// for EdDSA.
    #[ts(as = "Algorithm")]
    #[serde(with = "algorithm_name")]
    pub algorithm: Algorithm,
    /// The RS and PS algorithms only: 2048 (when absent), 3072 or 4096.
    #[serde(default)]
    #[ts(optional)]
    pub rsa_bits: Option<u16>,
}

/// The public half of a key, as a verifier needs it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyInfo {
    /// The JWK: `kty` and its members, `alg`, `use: "sig"`, `kid` (the
    /// thumbprint).
    #[ts(type = "Record<string, string>")]
    pub jwk: Value,
    /// SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    pub pem: String,
    /// RFC 7638 SHA-256 thumbprint of the JWK, base64url.
    pub thumbprint: String,
}

impl From<PublicKey> for PublicKeyInfo {
    fn from(k: PublicKey) -> Self {
        Self { jwk: k.jwk, pem: k.pem, thumbprint: k.thumbprint }
    }
}

/// `keys:generate` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedKey {
    /// The new key, sealed: for `profiles:save`'s `encryptedKey`.
    pub encrypted_key: String,
    /// Its public half; `null` for an HMAC secret, which has none.
    pub public_key: Option<PublicKeyInfo>,
}

/// `keys:public` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePublicKey {
    /// The profile.
    pub id: crate::store::ProfileId,
    /// Its key's public half.
    pub public_key: PublicKeyInfo,
}

/// `keys:jwks` response: a JSON Web Key Set (RFC 7517 section 5) of every
/// profile with an asymmetric key.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KeySet {
    /// One JWK per asymmetric profile, in profile order.
    #[ts(type = "Array<Record<string, string>>")]
    pub keys: Vec<Value>,
}

/// `keys:generate`.
pub struct GenerateKey;
impl Channel for GenerateKey {
    type Request = GenerateKeyRequest;
    type Response = GeneratedKey;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "keys:generate",
        summary: "Generates a key for an algorithm in the host and seals it; answers the sealed key and the public half.",
        // An RSA-4096 key takes seconds: a few per second at most.
        quota: Quota { per_second: 1, burst: 3 },
        // It may create the master key in the keychain.
        state_changing: true,
        execution: Execution::Heavy,
        since: SINCE,
        ..BASE
    };
}

/// `keys:public`.
pub struct ProfilePublic;
impl Channel for ProfilePublic {
    type Request = ProfileRef;
    type Response = ProfilePublicKey;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "keys:public",
        summary: "A profile's public key (JWK, PEM, thumbprint); refused for HMAC profiles.",
        quota: Quota { per_second: 10, burst: 20 },
        execution: Execution::Heavy,
        since: SINCE,
        ..BASE
    };
}

/// `keys:jwks`.
pub struct Jwks;
impl Channel for Jwks {
    type Request = Empty;
    type Response = KeySet;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "keys:jwks",
        summary: "A JWKS of every profile with an asymmetric key.",
        quota: Quota { per_second: 2, burst: 5 },
        execution: Execution::Heavy,
        since: SINCE,
        ..BASE
    };
}

/// Registers `keys:*` against `services`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<GenerateKey, _>(move |_, req: GenerateKeyRequest| generate_key(&s, req))?;
    let s = Arc::clone(services);
    registry.register::<ProfilePublic, _>(move |_, req: ProfileRef| {
        let profile = s.profiles().get(req.id).map_err(store_error)?;
        match public_key_of(&s, &profile)? {
            Some(k) => Ok(ProfilePublicKey { id: req.id, public_key: k.into() }),
            None => Err(BridgeError::new(ErrorCode::InvalidInput, format!("{} is an HMAC profile: its secret has no public half", profile.name))
                .with_details(serde_json::json!({ "field": "id" }))),
        }
    })?;
    let s = Arc::clone(services);
    registry.register::<Jwks, _>(move |_, _: Empty| key_set(&s))?;
    Ok(())
}

/// The JWKS of every profile with an asymmetric key, in profile order
/// (`keys:jwks`, `tollgate keys export --jwks`).
pub fn key_set(s: &AppServices) -> Result<KeySet, BridgeError> {
    let mut keys = Vec::new();
    for profile in s.profiles().list().map_err(store_error)? {
        if let Some(k) = public_key_of(s, &profile)? {
            keys.push(k.jwk);
        }
    }
    Ok(KeySet { keys })
}

fn key_error(e: JwtError) -> BridgeError {
    BridgeError::new(ErrorCode::InvalidInput, e.to_string())
}

fn generate_key(s: &AppServices, req: GenerateKeyRequest) -> Result<GeneratedKey, BridgeError> {
    let alg = req.algorithm;
    let material = generate(alg, req.rsa_bits.map(usize::from)).map_err(key_error)?;
    // The new key goes through the same check as a typed one.
    let key = SigningKey::new(alg, Zeroizing::new(material.to_vec())).map_err(key_error)?;
    let public_key = key.public_key(None).map_err(key_error)?.map(PublicKeyInfo::from);
    let encrypted_key = s.secrets().seal(&material, KeyBinding::unassigned(alg)).map_err(secrets_error)?;
    Ok(GeneratedKey { encrypted_key, public_key })
}

/// The profile's public key (its thumbprint as `kid`), or `None` for HMAC;
/// opens the sealed key (needs the keychain) only for asymmetric profiles.
pub fn public_key_of(s: &AppServices, profile: &Profile) -> Result<Option<PublicKey>, BridgeError> {
    if profile.algorithm.is_hmac() {
        return Ok(None);
    }
    let material = s.secrets().open(&profile.encrypted_key, KeyBinding::profile(profile.algorithm, profile.id)).map_err(secrets_error)?;
    let key = SigningKey::new(profile.algorithm, material).map_err(key_error)?;
    key.public_key(None).map_err(key_error)
}
