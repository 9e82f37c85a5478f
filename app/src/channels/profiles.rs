//! `profiles:*`: the signing profiles (keys always sealed). A key comes
//! in sealed by `crypto:encrypt` and is bound to its profile here.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::channels::{BASE, MAX_SAVE_REQUEST_BYTES, WRITE_QUOTA, invalid, secrets_error, store_error};
use crate::services::AppServices;
use crate::bridge::channels::Empty;
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, RegistryError};
use crate::bridge::BridgeError;
use crate::jwt::{Algorithm, SigningKey};
use crate::secrets::{KeyBinding, SecretsError};
use crate::store::profiles::{algorithm_name, check_encrypted_key};
use crate::store::{ExpirationPreset, Profile, ProfileDraft, ProfileId, timestamp};

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
    /// The same id, under the name the JWT generator contract gives it.
    pub deleted_id: ProfileId,
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
    /// Since 1.10: the tokens' `kid` (printable ASCII, at most 256 bytes);
    /// `null` for the default (the key's thumbprint; none for HMAC);
    /// absent keeps what the profile has.
    #[serde(default, deserialize_with = "present")]
    #[ts(optional, type = "string | null")]
    pub kid: Option<Option<String>>,
    /// Since 1.10: the tokens' `typ` (printable ASCII, at most 64 bytes);
    /// `null` for `JWT`; absent keeps what the profile has.
    #[serde(default, deserialize_with = "present")]
    #[ts(optional, type = "string | null")]
    pub typ: Option<Option<String>>,
    /// Since 1.11: the tokens' custom header fields (a JSON object, at
    /// most 16 fields and 2 KiB; no registered JOSE name such as `alg`,
    /// `crit`, `b64`, `jku`, `x5c`); `{}` for none; absent keeps what the
    /// profile has.
    #[serde(default)]
    #[ts(optional, type = "Record<string, unknown>")]
    pub header_fields: Option<Map<String, Value>>,
}

/// A field that was sent, as `Some` of its value (`null` too), so absent
/// and `null` differ.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
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

/// Registers `profiles:*` against `services`.
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
        Ok(ProfileDeleted { id: req.id, deleted_id: req.id, last_selected_cleared })
    })?;


    Ok(())
}

fn save_profile(s: &AppServices, input: ProfileInput) -> Result<Profile, BridgeError> {
    let create = input.id.is_none();
    let id = match input.id {
        Some(id) => id,
        // The OS's random source failing is not the page's doing.
        None => match ProfileId::random() {
            Ok(id) => id,
            Err(_) => return Err(BridgeError::internal()),
        },
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
        kid: input.kid.unwrap_or_else(|| existing.as_ref().and_then(|p| p.kid.clone())),
        typ: input.typ.unwrap_or_else(|| existing.as_ref().and_then(|p| p.typ.clone())),
        header_fields: input.header_fields.unwrap_or_else(|| existing.as_ref().map(|p| p.header_fields.clone()).unwrap_or_default()),
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
