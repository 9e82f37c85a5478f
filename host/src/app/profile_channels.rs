//! The token generator's channels: profiles, settings, key encryption,
//! token generation and verification. One declaration each, handlers
//! beside them, over `AppServices`.
//!
//! No channel returns a key in the clear: `crypto:encrypt` answers the
//! sealed form, and `jwt:generate`/`jwt:verify` open the key in the host
//! and answer only tokens and verdicts.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::app::channels::MAX_TOKEN_BYTES;
use crate::app::services::AppServices;
use crate::app::tokens::{self, GeneratedToken, TokenError, Verification};
use crate::bridge::channels::{Empty, MAIN_ONLY, SMALL_REQUEST_BYTES};
use crate::bridge::registry::{Body, Channel, ChannelRegistry, ChannelSpec, Direction, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode};
use crate::jwt::{Algorithm, SigningKey};
use crate::secrets::{KeyBinding, SecretsError};
use crate::store::profiles::{MAX_ENCRYPTED_KEY_BYTES, MAX_PAYLOAD_BYTES, algorithm_name, check_encrypted_key};
use crate::store::{ExpirationPreset, Profile, ProfileDraft, ProfileId, Settings, SettingsUpdate, StoreError, timestamp};

/// The contract version these channels appeared in.
const SINCE: &str = "1.1";

/// The largest key `crypto:encrypt` takes, as sent: a 64 KiB key (the
/// signer's cap) in base64, plus the request's other fields.
pub const MAX_ENCRYPT_REQUEST_BYTES: usize = 90 * 1024;
/// The largest `profiles:save` request: the payload and the sealed key at
/// their caps, plus the other fields. Bounds parsing before the rules run.
pub const MAX_SAVE_REQUEST_BYTES: usize = MAX_PAYLOAD_BYTES + MAX_ENCRYPTED_KEY_BYTES + 4 * 1024;

const BASE: ChannelSpec = ChannelSpec {
    name: "",
    summary: "",
    direction: Direction::WebviewToHost,
    windows: MAIN_ONLY,
    max_payload_bytes: SMALL_REQUEST_BYTES,
    quota: Quota { per_second: 50, burst: 50 },
    since: SINCE,
    deprecated: None,
    state_changing: false,
    // Every one of these touches the disk, the keychain or a plugin.
    execution: Execution::Blocking,
    body: Body::Json,
};

/// Disk writes a page can cause: each save rewrites the whole file (up to
/// a few MiB), so a hostile page is held to a few per second.
const WRITE_QUOTA: Quota = Quota { per_second: 5, burst: 10 };

/// A secret sent by the page: wiped when dropped, never shown by `Debug`.
#[derive(Clone, TS)]
#[ts(type = "string")]
pub struct SecretText(Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self(Zeroizing::new(s)))
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

/// `profiles:load` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ProfileList {
    /// Every profile, in creation order.
    pub profiles: Vec<Profile>,
}

/// `profiles:get` / `profiles:delete` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ProfileRef {
    /// The profile's id.
    pub id: ProfileId,
}

/// `profiles:delete` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDeleted {
    /// The deleted profile's id.
    pub id: ProfileId,
    /// Whether `settings.lastSelectedProfileId` pointed at it and was cleared.
    pub last_selected_cleared: bool,
}

/// `profiles:save` request: creates a profile when `id` is absent, else
/// updates that one. `createdAt`/`updatedAt` are the host's.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileInput {
    /// The profile to update; absent to create one.
    #[serde(default)]
    #[ts(optional)]
    pub id: Option<ProfileId>,
    /// 1-50 characters after trimming, unique without case.
    pub name: String,
    /// One the signer supports.
    #[ts(as = "Algorithm")]
    #[serde(with = "algorithm_name")]
    pub algorithm: Algorithm,
    /// From `crypto:encrypt` (for this algorithm), or the profile's own.
    pub encrypted_key: String,
    /// The claims: a JSON object under 64 KiB serialized.
    #[ts(type = "Record<string, unknown>")]
    pub payload: Map<String, Value>,
    /// `1h`, `1d`, `1w` or `custom`.
    pub expiration_preset: ExpirationPreset,
    /// ISO 8601 with a time zone, in the future; required for `custom`.
    #[serde(default, with = "timestamp::rfc3339_option")]
    #[ts(optional, type = "string | null")]
    pub custom_expiration: Option<OffsetDateTime>,
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

/// `jwt:generate` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    /// The profile to sign with.
    pub profile_id: ProfileId,
    /// One-off claims over the profile's payload (`iat` and `exp` are the
    /// host's regardless).
    #[serde(default)]
    #[ts(optional, type = "Record<string, unknown>")]
    pub overrides: Option<Map<String, Value>>,
}

/// `jwt:verify` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    /// The token (compact JWS).
    pub token: String,
    /// The profile whose key and algorithm it must verify under.
    pub profile_id: ProfileId,
}

/// `profiles:load`.
pub struct LoadProfiles;
impl Channel for LoadProfiles {
    type Request = Empty;
    type Response = ProfileList;
    const SPEC: ChannelSpec = ChannelSpec { name: "profiles:load", summary: "Every signing profile (keys sealed).", ..BASE };
}

/// `profiles:get`.
pub struct GetProfile;
impl Channel for GetProfile {
    type Request = ProfileRef;
    type Response = Profile;
    const SPEC: ChannelSpec = ChannelSpec { name: "profiles:get", summary: "One signing profile (key sealed).", ..BASE };
}

/// `profiles:save`.
pub struct SaveProfile;
impl Channel for SaveProfile {
    type Request = ProfileInput;
    type Response = Profile;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "profiles:save",
        summary: "Creates (no id) or updates a signing profile; answers it as stored.",
        max_payload_bytes: MAX_SAVE_REQUEST_BYTES,
        quota: WRITE_QUOTA,
        state_changing: true,
        ..BASE
    };
}

/// `profiles:delete`.
pub struct DeleteProfile;
impl Channel for DeleteProfile {
    type Request = ProfileRef;
    type Response = ProfileDeleted;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "profiles:delete",
        summary: "Deletes a signing profile (and forgets it as the last selected one).",
        quota: WRITE_QUOTA,
        state_changing: true,
        ..BASE
    };
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
        ..BASE
    };
}

/// `jwt:generate`.
pub struct GenerateToken;
impl Channel for GenerateToken {
    type Request = GenerateRequest;
    type Response = GeneratedToken;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:generate",
        summary: "Signs a token with a profile's key, inside the jwt-signer guest, verified by the host.",
        max_payload_bytes: MAX_PAYLOAD_BYTES + 1024,
        // Signing runs a guest (RSA: milliseconds); this bounds the CPU a
        // page can spend while leaving room for benchmarks.
        quota: Quota { per_second: 200, burst: 200 },
        state_changing: true,
        ..BASE
    };
}

/// `jwt:verify`.
pub struct VerifyToken;
impl Channel for VerifyToken {
    type Request = VerifyRequest;
    type Response = Verification;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:verify",
        summary: "Verifies a token under a profile's key and algorithm: valid, or why not.",
        max_payload_bytes: MAX_TOKEN_BYTES + 128,
        quota: Quota { per_second: 30, burst: 30 },
        ..BASE
    };

    fn validate(request: &VerifyRequest) -> Result<(), BridgeError> {
        if request.token.trim().is_empty() {
            return Err(BridgeError::validation("token is empty"));
        }
        if request.token.len() > MAX_TOKEN_BYTES {
            return Err(BridgeError::validation(format!("token is over {MAX_TOKEN_BYTES} bytes")));
        }
        Ok(())
    }

    fn sanitize(request: VerifyRequest) -> VerifyRequest {
        VerifyRequest { token: request.token.trim().to_owned(), ..request }
    }
}

/// `settings:get`.
pub struct GetSettings;
impl Channel for GetSettings {
    type Request = Empty;
    type Response = Settings;
    const SPEC: ChannelSpec =
        ChannelSpec { name: "settings:get", summary: "The app's settings (defaults when none are saved).", ..BASE };
}

/// `settings:save`.
pub struct SaveSettings;
impl Channel for SaveSettings {
    type Request = SettingsUpdate;
    type Response = Settings;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "settings:save",
        summary: "Changes the settings sent (absent fields keep their value); answers them all.",
        quota: Quota { per_second: 10, burst: 20 },
        state_changing: true,
        ..BASE
    };
}

/// Registers the token generator's channels against `services`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<LoadProfiles, _>(move |_, _: Empty| {
        Ok(ProfileList { profiles: s.profiles().list().map_err(store_error)? })
    })?;

    let s = Arc::clone(services);
    registry.register::<GetProfile, _>(move |_, req: ProfileRef| s.profiles().get(req.id).map_err(store_error))?;

    let s = Arc::clone(services);
    registry.register::<SaveProfile, _>(move |_, input: ProfileInput| save_profile(&s, input))?;

    let s = Arc::clone(services);
    registry.register::<DeleteProfile, _>(move |_, req: ProfileRef| {
        s.profiles().delete(req.id).map_err(store_error)?;
        // The profile is gone either way; a failure to clear the setting is
        // logged, and `settings:get` never answers an id that is gone.
        let last_selected_cleared = s.settings().forget_profile(req.id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not clear the deleted profile from the settings");
            false
        });
        Ok(ProfileDeleted { id: req.id, last_selected_cleared })
    })?;

    let s = Arc::clone(services);
    registry.register::<EncryptKey, _>(move |_, req: EncryptKeyRequest| encrypt_key(&s, req))?;

    let s = Arc::clone(services);
    registry.register::<GenerateToken, _>(move |_, req: GenerateRequest| {
        let profile = s.profiles().get(req.profile_id).map_err(store_error)?;
        tokens::generate(&s.signer(), s.secrets(), &profile, req.overrides, timestamp::now()).map_err(token_error)
    })?;

    let s = Arc::clone(services);
    registry.register::<VerifyToken, _>(move |_, req: VerifyRequest| {
        let profile = s.profiles().get(req.profile_id).map_err(store_error)?;
        tokens::verify(&s.signer(), s.secrets(), &profile, &req.token).map_err(token_error)
    })?;

    let s = Arc::clone(services);
    registry.register::<GetSettings, _>(move |_, _: Empty| {
        let mut settings = s.settings().get().map_err(store_error)?;
        // Never point the page at a profile that is gone (a delete whose
        // settings write failed, or an edited file).
        if let Some(id) = settings.last_selected_profile_id
            && !s.profiles().contains(id)
        {
            settings.last_selected_profile_id = None;
        }
        Ok(settings)
    })?;

    let s = Arc::clone(services);
    registry.register::<SaveSettings, _>(move |_, update: SettingsUpdate| {
        if let Some(Some(id)) = update.last_selected_profile_id {
            s.profiles().get(id).map_err(store_error)?;
        }
        s.settings().save(update).map_err(store_error)
    })?;
    Ok(())
}

fn save_profile(s: &AppServices, input: ProfileInput) -> Result<Profile, BridgeError> {
    let create = input.id.is_none();
    let id = match input.id {
        Some(id) => id,
        None => ProfileId::random().map_err(|_| BridgeError::internal())?,
    };
    let existing = if create { None } else { Some(s.profiles().get(id).map_err(store_error)?) };
    check_encrypted_key(&input.encrypted_key).map_err(store_error)?;
    let encrypted_key = bind_key(s, existing.as_ref(), id, input.algorithm, &input.encrypted_key)?;
    let draft = ProfileDraft {
        id,
        create,
        name: input.name,
        algorithm: input.algorithm,
        encrypted_key,
        payload: input.payload,
        expiration_preset: input.expiration_preset,
        custom_expiration: input.custom_expiration,
    };
    s.profiles().save(draft, timestamp::now()).map_err(store_error)
}

/// The sealed key to store for profile `id` with `alg`: the stored one when
/// unchanged; a key fresh from `crypto:encrypt` (for `alg`) bound to the
/// profile; the stored key rebound when only the algorithm changed and the
/// key suits the new one. Anything that does not open under this install's
/// master key is refused: only keys this install produced are kept.
fn bind_key(s: &AppServices, existing: Option<&Profile>, id: ProfileId, alg: Algorithm, sealed: &str) -> Result<String, BridgeError> {
    let secrets = s.secrets();
    let bound = KeyBinding::profile(alg, id);
    if let Some(p) = existing
        && p.encrypted_key == sealed
    {
        if p.algorithm == alg {
            // Unchanged: no keychain needed (the app works with it locked).
            return Ok(sealed.to_owned());
        }
        let key = secrets.open(sealed, KeyBinding::profile(p.algorithm, id)).map_err(secrets_error)?;
        if let Err(e) = SigningKey::new(alg, Zeroizing::new(key.to_vec())) {
            return Err(invalid(
                "encryptedKey",
                format!("the profile's key does not suit {alg} ({e}); enter a key for {alg}"),
            ));
        }
        return secrets.seal(&key, bound).map_err(secrets_error);
    }
    match secrets.open(sealed, KeyBinding::unassigned(alg)) {
        Ok(key) => return secrets.seal(&key, bound).map_err(secrets_error),
        Err(e @ SecretsError::KeychainUnavailable(_)) => return Err(secrets_error(e)),
        Err(_) => {}
    }
    match secrets.open(sealed, bound) {
        Ok(_) => Ok(sealed.to_owned()),
        Err(e @ SecretsError::KeychainUnavailable(_)) => Err(secrets_error(e)),
        Err(_) => Err(invalid(
            "encryptedKey",
            format!("the encrypted key was not produced by this install for {alg}; encrypt the key again with crypto:encrypt"),
        )),
    }
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

fn invalid(field: &str, message: String) -> BridgeError {
    BridgeError::validation(message).with_details(json!({ "field": field }))
}

/// A store error as the page sees it: the code, the message (file names,
/// fields, never key material), and details to act on.
fn store_error(e: StoreError) -> BridgeError {
    let code = match &e {
        StoreError::LoadFailed { .. } => ErrorCode::LoadFailed,
        StoreError::Corrupt { .. } => ErrorCode::ParseError,
        StoreError::SaveFailed { .. } => ErrorCode::SaveFailed,
        StoreError::DeleteFailed { .. } => ErrorCode::DeleteFailed,
        StoreError::Invalid { .. } => ErrorCode::ValidationError,
        StoreError::DuplicateName(_) => ErrorCode::DuplicateName,
        StoreError::LimitReached(_) => ErrorCode::ProfileLimitReached,
        StoreError::NotFound(_) => ErrorCode::NotFound,
    };
    if matches!(code, ErrorCode::LoadFailed | ErrorCode::SaveFailed | ErrorCode::DeleteFailed) {
        tracing::warn!(code = code.as_str(), error = %e, "store operation failed");
    }
    let details = match &e {
        StoreError::Corrupt { file, moved_to, .. } => Some(json!({ "file": file, "movedTo": moved_to.display().to_string() })),
        StoreError::Invalid { field, .. } => Some(json!({ "field": field })),
        StoreError::LimitReached(limit) => Some(json!({ "limit": limit })),
        _ => None,
    };
    let error = BridgeError::new(code, e.to_string());
    match details {
        Some(d) => error.with_details(d),
        None => error,
    }
}

fn secrets_error(e: SecretsError) -> BridgeError {
    let code = match &e {
        SecretsError::KeychainUnavailable(_) => ErrorCode::KeychainUnavailable,
        SecretsError::DecryptionFailed | SecretsError::Malformed(_) => ErrorCode::DecryptionFailed,
        SecretsError::EncryptionFailed(_) => ErrorCode::EncryptionFailed,
    };
    BridgeError::new(code, e.to_string())
}

fn token_error(e: TokenError) -> BridgeError {
    match e {
        TokenError::Secrets(e) => secrets_error(e),
        TokenError::ExpirationPassed | TokenError::InvalidClaims(_) => BridgeError::validation(e.to_string()),
        TokenError::KeyUnusable(_) | TokenError::Signing(_) => BridgeError::new(ErrorCode::SigningFailed, e.to_string()),
        TokenError::Plugin(_) => BridgeError::new(ErrorCode::PluginError, e.to_string()),
        TokenError::Quarantined(_) => BridgeError::new(ErrorCode::PluginQuarantined, e.to_string()),
    }
}
