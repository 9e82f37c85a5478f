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
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Execution, HandlerContext, Quota, RegistryError};
use crate::key_jobs::JobError;
use crate::bridge::{BridgeError, ErrorCode};
use crate::channels::profiles::ProfileRef;
use crate::channels::{BASE, secrets_error, store_error};
use crate::jwt::{Algorithm, JwtError, PublicKey, SigningKey};
use crate::file_dialogs::DialogKind;
use crate::key_files::{read_key_file, write_whole};
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
        summary: "Generates a key for an algorithm in the host and seals it; answers the sealed key and the public half. Announces keys:generate-progress while it runs; keys:cancel-generate stops it.",
        // An RSA-4096 key takes seconds: a few per second at most.
        quota: Quota { per_second: 1, burst: 3 },
        // It may create the master key in the keychain.
        state_changing: true,
        execution: Execution::Heavy,
        since: SINCE,
        ..BASE
    };
}

/// `keys:generate-progress` payload.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyGenerateProgress {
    /// The algorithm the key is for.
    pub algorithm: String,
    /// How long it has taken so far, in milliseconds.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

/// `keys:generate-progress`: a key generation is still running.
pub struct KeyGenerateProgressEvent;
impl crate::bridge::events::Event for KeyGenerateProgressEvent {
    type Payload = KeyGenerateProgress;
    const NAME: &'static str = "keys:generate-progress";
    const SUMMARY: &'static str = "A keys:generate still running (an RSA key takes seconds), every 500 ms.";
    const SINCE: &'static str = DIALOGS_SINCE;
}

/// `keys:cancel-generate` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CancelledGeneration {
    /// Whether a generation was running (it answers `CANCELLED`).
    pub cancelled: bool,
}

/// `keys:cancel-generate`.
pub struct CancelGenerate;
impl Channel for CancelGenerate {
    type Request = Empty;
    type Response = CancelledGeneration;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "keys:cancel-generate",
        summary: "Cancels the keys:generate in progress: it answers CANCELLED at once; the key being made is discarded.",
        quota: Quota { per_second: 5, burst: 5 },
        execution: Execution::Inline,
        since: DIALOGS_SINCE,
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

/// The contract version that added the host's file dialogs.
const DIALOGS_SINCE: &str = "1.10";

/// `keys:import-file` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportKeyFileRequest {
    /// The algorithm the key is for; the file must hold a key of its type.
    #[ts(as = "Algorithm")]
    #[serde(with = "algorithm_name")]
    pub algorithm: Algorithm,
}

/// `keys:save-jwks` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SavedKeySet {
    /// Whether a file was written (false: the user cancelled).
    pub saved: bool,
    /// How many keys the set holds.
    pub keys: u32,
}

/// `keys:file-dropped` payload.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KeyFileDropped {
    /// How many files were dropped; only a drop of one is kept for
    /// `keys:import-dropped`.
    pub files: u32,
}

/// `keys:file-dropped`: the user dropped files on the main window. The
/// host kept them from the page; the payload says how many, never which.
pub struct KeyFileDroppedEvent;
impl crate::bridge::events::Event for KeyFileDroppedEvent {
    type Payload = KeyFileDropped;
    const NAME: &'static str = "keys:file-dropped";
    const SUMMARY: &'static str = "The user dropped files on the window; the host holds one for keys:import-dropped (the page never gets the file).";
    const SINCE: &'static str = DIALOGS_SINCE;
}

/// `keys:import-dropped`.
pub struct ImportDroppedKey;
impl Channel for ImportDroppedKey {
    type Request = ImportKeyFileRequest;
    type Response = Option<GeneratedKey>;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "keys:import-dropped",
        summary: "Reads the key file the user dropped on the window (at most 60 s ago, once), checks it for the algorithm and seals it, as keys:import-file does; null when there is none.",
        quota: Quota { per_second: 1, burst: 2 },
        state_changing: true,
        execution: Execution::Heavy,
        since: DIALOGS_SINCE,
        ..BASE
    };
}

/// `keys:import-file`.
pub struct ImportKeyFile;
impl Channel for ImportKeyFile {
    type Request = ImportKeyFileRequest;
    type Response = Option<GeneratedKey>;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "keys:import-file",
        summary: "Opens the host's file dialog (only right after a click or key press in the window); reads the key file the user picks (PEM, DER or JWK), checks it for the algorithm and seals it. Answers the sealed key and the public half, or null if cancelled; never the file's path or bytes.",
        quota: Quota { per_second: 1, burst: 2 },
        // It may create the master key in the keychain.
        state_changing: true,
        // It holds a thread while the user picks.
        execution: Execution::Heavy,
        since: DIALOGS_SINCE,
        ..BASE
    };
}

/// `keys:save-jwks`.
pub struct SaveJwks;
impl Channel for SaveJwks {
    type Request = Empty;
    type Response = SavedKeySet;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "keys:save-jwks",
        summary: "Opens the host's save dialog (only right after a click or key press in the window) and writes the JWKS of every asymmetric profile where the user says; the page never learns where.",
        quota: Quota { per_second: 1, burst: 2 },
        state_changing: true,
        execution: Execution::Heavy,
        since: DIALOGS_SINCE,
        ..BASE
    };
}

/// Registers `keys:*` against `services`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<GenerateKey, _>(move |ctx, req: GenerateKeyRequest| generate_key(&s, ctx, req))?;
    let s = Arc::clone(services);
    registry.register::<CancelGenerate, _>(move |_, _: Empty| Ok(CancelledGeneration { cancelled: s.key_jobs().cancel() }))?;
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
    let s = Arc::clone(services);
    registry.register::<ImportKeyFile, _>(move |ctx, req: ImportKeyFileRequest| {
        let picked = s.file_dialogs().pick(ctx.window, DialogKind::OpenKeyFile)?;
        picked.map(|path| import_key_file(&s, &path, req.algorithm)).transpose()
    })?;
    let s = Arc::clone(services);
    registry.register::<ImportDroppedKey, _>(move |ctx, req: ImportKeyFileRequest| {
        let dropped = s.file_dialogs().take_dropped(ctx.window);
        dropped.map(|path| import_key_file(&s, &path, req.algorithm)).transpose()
    })?;
    let s = Arc::clone(services);
    registry.register::<SaveJwks, _>(move |ctx, _: Empty| {
        // The set first: a keychain error is better said before the user
        // picks a place than after.
        let set = key_set(&s)?;
        let Some(path) = s.file_dialogs().pick(ctx.window, DialogKind::SaveKeySet)? else {
            return Ok(SavedKeySet { saved: false, keys: 0 });
        };
        let mut text = serde_json::to_vec_pretty(&set).ok().ok_or_else(BridgeError::internal)?;
        text.push(b'\n');
        // Public keys: readable by all.
        write_whole(&path, &text, 0o644).map_err(|e| BridgeError::new(ErrorCode::SaveFailed, format!("the key set could not be written there: {e}")))?;
        tracing::info!(keys = set.keys.len(), "saved the key set where the user chose");
        Ok(SavedKeySet { saved: true, keys: u32::try_from(set.keys.len()).unwrap_or(u32::MAX) })
    })?;
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

fn generate_key(s: &AppServices, ctx: &HandlerContext, req: GenerateKeyRequest) -> Result<GeneratedKey, BridgeError> {
    let bits = req.rsa_bits.map(usize::from);
    let material = s
        .key_jobs()
        .generate(req.algorithm, bits, |elapsed| {
            let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
            ctx.events.emit::<KeyGenerateProgressEvent>(&KeyGenerateProgress { algorithm: req.algorithm.to_string(), elapsed_ms });
        })
        .map_err(|e| match e {
            JobError::Busy => BridgeError::new(ErrorCode::RateLimited, e.to_string()).with_details(serde_json::json!({ "retryAfterMs": 1000 })),
            JobError::Cancelled => BridgeError::new(ErrorCode::Cancelled, e.to_string()),
            JobError::Failed(m) => BridgeError::new(ErrorCode::InvalidInput, m),
        })?;
    seal_new_key(s, req.algorithm, &material)
}

/// The key in the file at `path` (picked or dropped by the user), read by
/// the host, checked and sealed.
fn import_key_file(s: &AppServices, path: &std::path::Path, alg: Algorithm) -> Result<GeneratedKey, BridgeError> {
    let material = read_key_file(path, alg)?;
    seal_new_key(s, alg, &material)
}

/// A key made or read by the host, checked like a typed one and sealed
/// for a profile not yet saved.
fn seal_new_key(s: &AppServices, alg: Algorithm, material: &[u8]) -> Result<GeneratedKey, BridgeError> {
    let key = SigningKey::new(alg, Zeroizing::new(material.to_vec())).map_err(key_error)?;
    let public_key = key.public_key(None).map_err(key_error)?.map(PublicKeyInfo::from);
    let encrypted_key = s.secrets().seal(material, KeyBinding::unassigned(alg)).map_err(secrets_error)?;
    Ok(GeneratedKey { encrypted_key, public_key })
}

/// The profile's public key (its `kid` the profile's, else the
/// thumbprint), or `None` for HMAC;
/// opens the sealed key (needs the keychain) only for asymmetric profiles.
pub fn public_key_of(s: &AppServices, profile: &Profile) -> Result<Option<PublicKey>, BridgeError> {
    if profile.algorithm.is_hmac() {
        return Ok(None);
    }
    let material = s.secrets().open(&profile.encrypted_key, KeyBinding::profile(profile.algorithm, profile.id)).map_err(secrets_error)?;
    let key = SigningKey::new(profile.algorithm, material).map_err(key_error)?;
    key.public_key(profile.kid.as_deref()).map_err(key_error)
}
