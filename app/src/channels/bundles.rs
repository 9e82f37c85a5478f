//! `profiles:export-bundle` and `profiles:import-bundle`: profiles and
//! their keys moved to another machine in a file encrypted under a
//! passphrase (`crate::bundle`), written and read through the host's own
//! dialogs. A key is opened from the master key's seal only to go straight
//! into the passphrase's, and back; the page gives the passphrase and gets
//! names and counts, never a key or a path.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode};
use crate::bundle::{self, BundleError, BundleProfile, MAX_BUNDLE_BYTES};
use crate::channels::crypto::SecretText;
use crate::channels::{BASE, secrets_error, store_error};
use crate::file_dialogs::DialogKind;
use crate::jwt::SigningKey;
use crate::key_files::{read_capped, write_whole};
use crate::secrets::KeyBinding;
use crate::services::AppServices;
use crate::store::{ProfileDraft, ProfileId, timestamp};

/// The contract version that added bundles.
const SINCE: &str = "1.10";

/// `profiles:export-bundle` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportBundleRequest {
    /// The profiles to export; every profile when absent.
    #[serde(default)]
    #[ts(optional)]
    pub profile_ids: Option<Vec<ProfileId>>,
    /// What the bundle is encrypted under: 12 to 1024 characters.
    pub passphrase: SecretText,
}

/// `profiles:export-bundle` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportedBundle {
    /// Whether a file was written (false: the user cancelled).
    pub saved: bool,
    /// How many profiles it holds.
    pub profiles: u32,
}

/// `profiles:import-bundle` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ImportBundleRequest {
    /// The bundle's passphrase.
    pub passphrase: SecretText,
}

/// A profile a bundle added.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportedProfile {
    /// Its new id.
    pub id: ProfileId,
    /// Its name here (with " (imported)" when the name was taken).
    pub name: String,
}

/// A profile of a bundle that was not added.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SkippedProfile {
    /// Its name in the bundle.
    pub name: String,
    /// Why not, in a sentence.
    pub reason: String,
}

/// `profiles:import-bundle` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportedBundle {
    /// The profiles added, in the bundle's order.
    pub imported: Vec<ImportedProfile>,
    /// The ones that were not, and why.
    pub skipped: Vec<SkippedProfile>,
}

/// `profiles:export-bundle`.
pub struct ExportBundle;
impl Channel for ExportBundle {
    type Request = ExportBundleRequest;
    type Response = ExportedBundle;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "profiles:export-bundle",
        summary: "Writes the profiles (every one, or those named) with their keys to a file the user picks in the host's save dialog, encrypted under the passphrase (Argon2id, XChaCha20-Poly1305).",
        quota: Quota { per_second: 1, burst: 2 },
        state_changing: true,
        // The KDF takes 64 MiB and a fraction of a second; then a dialog.
        execution: Execution::Heavy,
        since: SINCE,
        ..BASE
    };
}

/// `profiles:import-bundle`.
pub struct ImportBundle;
impl Channel for ImportBundle {
    type Request = ImportBundleRequest;
    type Response = Option<ImportedBundle>;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "profiles:import-bundle",
        summary: "Reads a profile bundle the user picks in the host's file dialog, opens it with the passphrase, checks each key and adds its profiles under this machine's master key; null if cancelled.",
        quota: Quota { per_second: 1, burst: 2 },
        state_changing: true,
        execution: Execution::Heavy,
        since: SINCE,
        ..BASE
    };
}

/// Registers `profiles:export-bundle` and `profiles:import-bundle`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<ExportBundle, _>(move |ctx, req: ExportBundleRequest| {
        // The cheap checks first, said before the user picks a place; the
        // keys are opened and the KDF runs only after the user's click
        // opened the dialog and a place was picked, so page script alone
        // can't make the host run Argon2.
        let chosen = chosen_profiles(&s, req.profile_ids.as_deref())?;
        bundle::check_passphrase(req.passphrase.expose()).map_err(bundle_error)?;
        let Some(path) = s.file_dialogs().pick(ctx.window, DialogKind::SaveBundle)? else {
            return Ok(ExportedBundle { saved: false, profiles: 0 });
        };
        let (bytes, count) = seal_profiles(&s, &chosen, req.passphrase.expose())?;
        // Sealed, but the user's own: 0600, as the CLI writes it.
        write_whole(&path, &bytes, 0o600).map_err(|e| BridgeError::new(ErrorCode::SaveFailed, format!("the bundle could not be written there: {e}")))?;
        tracing::info!(profiles = count, "exported a profile bundle where the user chose");
        Ok(ExportedBundle { saved: true, profiles: count })
    })?;
    let s = Arc::clone(services);
    registry.register::<ImportBundle, _>(move |ctx, req: ImportBundleRequest| {
        let Some(path) = s.file_dialogs().pick(ctx.window, DialogKind::OpenBundle)? else {
            return Ok(None);
        };
        let bytes = read_capped(&path, MAX_BUNDLE_BYTES)?;
        import(&s, &bytes, req.passphrase.expose()).map(Some)
    })?;
    Ok(())
}

/// A bundle error as the page sees it: never with the passphrase.
pub fn bundle_error(e: BundleError) -> BridgeError {
    let code = match e {
        BundleError::WeakPassphrase => return BridgeError::validation(e.to_string()).with_details(serde_json::json!({ "field": "passphrase" })),
        BundleError::Malformed(_) => ErrorCode::InvalidInput,
        BundleError::WrongPassphrase => ErrorCode::DecryptionFailed,
        BundleError::Crypto(_) => ErrorCode::EncryptionFailed,
    };
    BridgeError::new(code, e.to_string())
}

/// The bundle of `ids` (every profile when `None`) under `passphrase`, and
/// how many profiles it holds (`profiles:export-bundle`,
/// `tollgate profiles export-bundle`).
pub fn export(s: &AppServices, ids: Option<&[ProfileId]>, passphrase: &str) -> Result<(Vec<u8>, u32), BridgeError> {
    let chosen = chosen_profiles(s, ids)?;
    seal_profiles(s, &chosen, passphrase)
}

/// The profiles `ids` names (every one when `None`); an unknown id is
/// `NOT_FOUND`, none at all `INVALID_INPUT`.
fn chosen_profiles(s: &AppServices, ids: Option<&[ProfileId]>) -> Result<Vec<crate::store::Profile>, BridgeError> {
    let all = s.profiles().list().map_err(store_error)?;
    let chosen: Vec<_> = match ids {
        None => all,
        Some(ids) => {
            let mut chosen = Vec::with_capacity(ids.len());
            for id in ids {
                chosen.push(all.iter().find(|p| p.id == *id).cloned().ok_or_else(|| store_error(crate::store::StoreError::NotFound(*id)))?);
            }
            chosen
        }
    };
    if chosen.is_empty() {
        return Err(BridgeError::new(ErrorCode::InvalidInput, "there are no profiles to export"));
    }
    Ok(chosen)
}

/// `chosen` with their keys, sealed under `passphrase`, and how many.
fn seal_profiles(s: &AppServices, chosen: &[crate::store::Profile], passphrase: &str) -> Result<(Vec<u8>, u32), BridgeError> {
    let mut profiles = Vec::with_capacity(chosen.len());
    for p in chosen {
        let key = s.secrets().open(&p.encrypted_key, KeyBinding::profile(p.algorithm, p.id)).map_err(secrets_error)?;
        profiles.push(
            BundleProfile::new(p.name.clone(), p.algorithm, &key, p.payload.clone(), p.expiration_preset, p.custom_expiration.map(timestamp::format))
                .with_header(p.kid.clone(), p.typ.clone(), p.header_fields.clone()),
        );
    }
    let count = u32::try_from(profiles.len()).unwrap_or(u32::MAX);
    Ok((bundle::seal(profiles, passphrase).map_err(bundle_error)?, count))
}

/// Adds the profiles of the bundle `bytes` (`profiles:import-bundle`,
/// `tollgate profiles import-bundle`). The whole bundle opens or nothing
/// is added; then each profile is added or skipped on its own.
pub fn import(s: &AppServices, bytes: &[u8], passphrase: &str) -> Result<ImportedBundle, BridgeError> {
    let profiles = bundle::open(bytes, passphrase).map_err(bundle_error)?;
    let mut imported = Vec::new();
    let mut skipped = Vec::new();
    for p in profiles {
        match import_one(s, &p) {
            Ok(added) => imported.push(added),
            Err(e) => skipped.push(SkippedProfile { name: p.name.clone(), reason: e.message }),
        }
    }
    tracing::info!(imported = imported.len(), skipped = skipped.len(), "imported a profile bundle");
    Ok(ImportedBundle { imported, skipped })
}

fn import_one(s: &AppServices, p: &BundleProfile) -> Result<ImportedProfile, BridgeError> {
    let key = p.key().map_err(bundle_error)?;
    SigningKey::new(p.algorithm, key.clone()).map_err(|e| BridgeError::new(ErrorCode::InvalidInput, e.to_string()))?;
    let custom_expiration = p.custom_expiration.as_deref().map(timestamp::parse).transpose().map_err(BridgeError::validation)?;
    let id = ProfileId::random().ok().ok_or_else(BridgeError::internal)?;
    let encrypted_key = s.secrets().seal(&key, KeyBinding::profile(p.algorithm, id)).map_err(secrets_error)?;
    let mut name = p.name.clone();
    for attempt in 0..5 {
        let draft = ProfileDraft {
            id,
            create: true,
            name: name.clone(),
            algorithm: p.algorithm,
            encrypted_key: encrypted_key.clone(),
            payload: p.payload.clone(),
            expiration_preset: p.expiration_preset,
            custom_expiration,
            kid: p.kid.clone(),
            typ: p.typ.clone(),
            header_fields: p.header_fields.clone(),
        };
        match s.profiles().save(draft, timestamp::now()) {
            Ok(saved) => return Ok(ImportedProfile { id: saved.id, name: saved.name }),
            Err(crate::store::StoreError::DuplicateName(_)) => {
                let base: String = p.name.chars().take(36).collect();
                name = if attempt == 0 { format!("{base} (imported)") } else { format!("{base} (imported {})", attempt + 1) };
            }
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(BridgeError::new(ErrorCode::DuplicateName, format!("\"{}\" and its imported names are taken", p.name)))
}
