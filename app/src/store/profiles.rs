//! Signing profiles (`profiles.json`): the type, its rules, and the store
//! that keeps the list on disk.
//!
//! The rules are checked on every save and on every load (a file someone
//! edited into breaking them is moved aside like one that does not parse).
//! The store never sees a key in the clear: `encryptedKey` is the sealed
//! form `crate::secrets` makes, and whether it opens is checked by the
//! caller before [`ProfileStore::save`].

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use ts_rs::TS;
use unicode_normalization::UnicodeNormalization;
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::{GeneralSecurityProfile, skeleton};
use uuid::Uuid;

use crate::jwt::{Algorithm, ExtraHeader, JwtError};
use crate::store::atomic_file::AtomicFile;
use crate::store::{StoreError, timestamp};

/// The file's name in the data directory.
pub const PROFILES_FILE: &str = "profiles.json";
/// The format version this build writes. Version 2 added each profile's
/// optional `kid` and `typ`; version 1 files read as they are (and are
/// written back as version 2 on the next save). A version 1 build leaves a
/// version 2 file alone ("written by a newer version"). Version 3 added
/// `headerFields` (custom header fields); version 1 and 2 files read with
/// none.
pub const PROFILES_SCHEMA_VERSION: u32 = 3;
/// The oldest format version this build reads.
pub const PROFILES_OLDEST_SCHEMA_VERSION: u32 = 1;
/// The longest `kid` and `typ` a profile may set: the signer's limits.
pub use crate::jwt::{MAX_KID_BYTES, MAX_TYP_BYTES};
/// The most profiles kept. Bounds the file, the list the page renders and
/// what a hostile page can make the host write.
pub const MAX_PROFILES: usize = 50;
/// The longest name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 50;
/// A payload must serialize to fewer bytes than this: it becomes the
/// token's claims, which the signer caps at 64 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// The longest sealed key: a 64 KiB key (the signer's cap), sealed and in
/// base64, with room to spare. Bounds what a page can make the host store.
pub const MAX_ENCRYPTED_KEY_BYTES: usize = 96 * 1024;
/// The largest `profiles.json` read: 50 profiles at their largest, about
/// 8 MiB. A larger file was not written by this app.
pub const MAX_PROFILES_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// A profile's id: a UUID, chosen by the host when the profile is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(type = "string")]
pub struct ProfileId(pub Uuid);

impl ProfileId {
    /// A fresh random (version 4) id.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(uuid::Builder::from_random_bytes(bytes).into_uuid()))
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// How long a generated token lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum ExpirationPreset {
    /// One hour.
    #[serde(rename = "1h")]
    OneHour,
    /// One day.
    #[serde(rename = "1d")]
    OneDay,
    /// One week.
    #[serde(rename = "1w")]
    OneWeek,
    /// Until the profile's `customExpiration`.
    #[serde(rename = "custom")]
    Custom,
}

impl ExpirationPreset {
    /// The lifetime in seconds, for the fixed presets.
    pub fn seconds(self) -> Option<i64> {
        match self {
            Self::OneHour => Some(3_600),
            Self::OneDay => Some(86_400),
            Self::OneWeek => Some(604_800),
            Self::Custom => None,
        }
    }
}

/// serde for an algorithm as its JOSE name (`none` and unknown names are
/// refused by `Algorithm::from_str`).
pub mod algorithm_name {
    use super::*;

    /// Writes the name.
    pub fn serialize<S: Serializer>(alg: &Algorithm, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(alg.name())
    }

    /// Reads a name the signer supports.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Algorithm, D::Error> {
        let name = String::deserialize(d)?;
        name.parse::<Algorithm>().map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

/// A signing profile as stored and as the page sees it. `encryptedKey` is
/// sealed: only this install's master key opens it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// Chosen by the host at creation.
    pub id: ProfileId,
    /// 1-50 characters, trimmed, unique without case.
    pub name: String,
    /// One the signer supports.
    #[ts(as = "Algorithm")]
    #[serde(with = "algorithm_name")]
    pub algorithm: Algorithm,
    /// The key, sealed (`crypto:encrypt`).
    pub encrypted_key: String,
    /// The claims every token of this profile starts from.
    #[ts(type = "Record<string, unknown>")]
    pub payload: Map<String, Value>,
    /// How long its tokens live.
    pub expiration_preset: ExpirationPreset,
    /// When its tokens expire, for the `custom` preset (else null).
    #[serde(with = "timestamp::rfc3339_option")]
    #[ts(type = "string | null")]
    pub custom_expiration: Option<OffsetDateTime>,
    /// The `kid` its tokens carry; null: the key's RFC 7638 thumbprint for
    /// an RSA, EC or Ed25519 key, none for HMAC. Also the kid of its JWK.
    #[serde(default)]
    pub kid: Option<String>,
    /// The `typ` its tokens carry; null: `JWT`.
    #[serde(default)]
    pub typ: Option<String>,
    /// Since schema 3: custom header fields its tokens carry after `kid`,
    /// in name order (the rules of `jwt::ExtraHeader`: at most 16, no
    /// registered JOSE name, 2 KiB in all).
    #[serde(default)]
    #[ts(type = "Record<string, unknown>")]
    pub header_fields: Map<String, Value>,
    /// When it was created (ISO 8601, UTC).
    #[serde(with = "timestamp::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    /// When it was last saved (ISO 8601, UTC).
    #[serde(with = "timestamp::rfc3339")]
    #[ts(type = "string")]
    pub updated_at: OffsetDateTime,
}

/// What a save asks for, before the rules. `id` is decided by the caller:
/// a fresh one for a new profile (`create`), the existing one otherwise.
#[derive(Debug, Clone)]
pub struct ProfileDraft {
    /// The profile's id.
    pub id: ProfileId,
    /// Whether this creates the profile (else it must exist).
    pub create: bool,
    /// The name as typed (trimmed here).
    pub name: String,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The sealed key, already bound to `id` and `algorithm`.
    pub encrypted_key: String,
    /// The claims.
    pub payload: Map<String, Value>,
    /// The expiration preset.
    pub expiration_preset: ExpirationPreset,
    /// Required for `custom`, ignored otherwise.
    pub custom_expiration: Option<OffsetDateTime>,
    /// The tokens' `kid`, or `None` for the default.
    pub kid: Option<String>,
    /// The tokens' `typ`, or `None` for `JWT`.
    pub typ: Option<String>,
    /// The tokens' custom header fields.
    pub header_fields: Map<String, Value>,
}

/// Checks a `kid` or `typ` header value: not empty, within `max` bytes,
/// printable ASCII (a verifier compares it byte for byte; no control or
/// invisible characters that would read like another value).
pub fn check_header_value(field: &'static str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::invalid(field, format!("{field} is empty (leave it out for the default)")));
    }
    if value.len() > max {
        return Err(StoreError::invalid(field, format!("{field} is over {max} bytes")));
    }
    if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(StoreError::invalid(field, format!("{field} may hold printable ASCII only, not U+{:04X}", u32::from(c))));
    }
    Ok(())
}

fn check_header(kid: Option<&str>, typ: Option<&str>, fields: &Map<String, Value>) -> Result<(), StoreError> {
    if let Some(kid) = kid {
        check_header_value("kid", kid, MAX_KID_BYTES)?;
    }
    if let Some(typ) = typ {
        check_header_value("typ", typ, MAX_TYP_BYTES)?;
    }
    check_header_fields(fields)
}

/// Checks custom header fields by the signer's own rules
/// (`jwt::ExtraHeader`), so a profile saves only fields that can be signed.
pub fn check_header_fields(fields: &Map<String, Value>) -> Result<(), StoreError> {
    match ExtraHeader::from_object(fields.clone()) {
        Ok(_) => Ok(()),
        Err(JwtError::InvalidHeader(reason)) => Err(StoreError::invalid("headerFields", reason)),
        Err(other) => Err(StoreError::invalid("headerFields", other.to_string())),
    }
}

/// Checks a name and returns it trimmed and in NFC. Refuses control
/// characters and every default-ignorable code point (Unicode TR39's
/// identifier type `Default_Ignorable`: zero-width and format characters,
/// bidi controls such as U+202E, the soft hyphen) and noncharacters: each
/// would let two names that read the same be different strings.
pub fn check_name(name: &str) -> Result<String, StoreError> {
    let trimmed: String = name.trim().nfc().collect();
    let chars = trimmed.chars().count();
    if chars == 0 {
        return Err(StoreError::invalid("name", "the name is empty"));
    }
    if chars > MAX_NAME_CHARS {
        return Err(StoreError::invalid("name", format!("the name is {chars} characters; at most {MAX_NAME_CHARS} are allowed")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(StoreError::invalid("name", "the name must not contain control characters (line breaks, tabs)"));
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| matches!(c.identifier_type(), Some(IdentifierType::Default_Ignorable | IdentifierType::Not_Character)))
    {
        return Err(StoreError::invalid(
            "name",
            format!("the name must not contain invisible or text-direction characters (it has U+{:04X})", u32::from(c)),
        ));
    }
    Ok(trimmed)
}

/// What two names are compared by for uniqueness: lowercased, then the
/// Unicode TR39 confusable skeleton (Cyrillic "о" and Latin "o" are one
/// letter), lowercased again. Two profiles may not share one.
pub fn name_key(name: &str) -> String {
    skeleton(&name.to_lowercase()).flat_map(char::to_lowercase).collect()
}

/// Checks a payload: a JSON object (the type says so) under 64 KiB
/// serialized.
pub fn check_payload(payload: &Map<String, Value>) -> Result<(), StoreError> {
    let size = serde_json::to_vec(payload).map(|v| v.len()).unwrap_or(usize::MAX);
    if size >= MAX_PAYLOAD_BYTES {
        return Err(StoreError::invalid(
            "payload",
            format!("the payload is {size} bytes serialized; it must be under {MAX_PAYLOAD_BYTES}"),
        ));
    }
    Ok(())
}

/// Checks a sealed key's shape (whether it opens is the caller's check).
pub fn check_encrypted_key(sealed: &str) -> Result<(), StoreError> {
    if sealed.trim().is_empty() {
        return Err(StoreError::invalid("encryptedKey", "the key is missing: encrypt one with crypto:encrypt"));
    }
    if sealed.len() > MAX_ENCRYPTED_KEY_BYTES {
        return Err(StoreError::invalid("encryptedKey", format!("the encrypted key is over {MAX_ENCRYPTED_KEY_BYTES} bytes")));
    }
    Ok(())
}

/// Checks the expiration: `custom` needs a `customExpiration` after `now`;
/// the fixed presets carry none (a stale one is dropped).
pub fn check_expiration(
    preset: ExpirationPreset,
    custom: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, StoreError> {
    match (preset, custom) {
        (ExpirationPreset::Custom, None) => {
            Err(StoreError::invalid("customExpiration", "a custom expiration needs a date and time"))
        }
        (ExpirationPreset::Custom, Some(at)) if at <= now => {
            Err(StoreError::invalid("customExpiration", "the custom expiration must be in the future"))
        }
        (ExpirationPreset::Custom, Some(at)) => Ok(Some(at)),
        (_, _) => Ok(None),
    }
}

/// The rules a stored list must keep (all but the time-dependent one).
fn check_stored(profiles: &[Profile]) -> Result<(), String> {
    if profiles.len() > MAX_PROFILES {
        return Err(format!("it holds {} profiles; at most {MAX_PROFILES} are kept", profiles.len()));
    }
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for (i, p) in profiles.iter().enumerate() {
        let at = |what: String| format!("profile {}: {what}", i + 1);
        if !ids.insert(p.id) {
            return Err(at("its id appears twice".into()));
        }
        match check_name(&p.name) {
            Ok(name) if name == p.name => {}
            Ok(_) => return Err(at("the name has surrounding spaces or is not in Unicode NFC".into())),
            Err(e) => return Err(at(e.to_string())),
        }
        if !names.insert(name_key(&p.name)) {
            return Err(at("its name appears twice, or looks the same as another's".into()));
        }
        check_encrypted_key(&p.encrypted_key).map_err(|e| at(e.to_string()))?;
        check_payload(&p.payload).map_err(|e| at(e.to_string()))?;
        check_header(p.kid.as_deref(), p.typ.as_deref(), &p.header_fields).map_err(|e| at(e.to_string()))?;
        if (p.expiration_preset == ExpirationPreset::Custom) != p.custom_expiration.is_some() {
            return Err(at("customExpiration must be set for the custom preset and only then".into()));
        }
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesFile {
    profiles: Vec<Profile>,
}

/// The profiles on disk, with the list kept in memory once read. Every
/// change is written to disk before the memory copy changes, so a failed
/// write changes nothing.
#[derive(Debug)]
pub struct ProfileStore {
    file: AtomicFile,
    loaded: Mutex<Option<Vec<Profile>>>,
}

impl ProfileStore {
    /// The profiles in `data_dir` (read on first use).
    pub fn new(data_dir: &Path) -> Self {
        Self { file: AtomicFile::new(data_dir, PROFILES_FILE), loaded: Mutex::new(None) }
    }

    /// Where the file is.
    pub fn path(&self) -> std::path::PathBuf {
        self.file.path()
    }

    fn lock(&self) -> MutexGuard<'_, Option<Vec<Profile>>> {
        // The memory copy changes only after a successful write, so it is
        // consistent even if a holder panicked.
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> Result<Vec<Profile>, StoreError> {
        let Some(file) = self.file.load_since::<ProfilesFile>(MAX_PROFILES_FILE_BYTES, PROFILES_OLDEST_SCHEMA_VERSION, PROFILES_SCHEMA_VERSION)? else {
            return Ok(Vec::new());
        };
        if let Err(reason) = check_stored(&file.profiles) {
            return Err(self.file.quarantine(reason));
        }
        Ok(file.profiles)
    }

    /// Runs `f` over the loaded list (reading it first if needed).
    fn with_loaded<R>(&self, f: impl FnOnce(&mut Vec<Profile>) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let mut guard = self.lock();
        if guard.is_none() {
            *guard = Some(self.read()?);
        }
        match guard.as_mut() {
            Some(profiles) => f(profiles),
            None => Err(StoreError::LoadFailed { file: PROFILES_FILE, reason: "the list was not loaded".into() }),
        }
    }

    /// Every profile, in creation order.
    pub fn list(&self) -> Result<Vec<Profile>, StoreError> {
        self.with_loaded(|profiles| Ok(profiles.clone()))
    }

    /// One profile.
    pub fn get(&self, id: ProfileId) -> Result<Profile, StoreError> {
        self.with_loaded(|profiles| profiles.iter().find(|p| p.id == id).cloned().ok_or(StoreError::NotFound(id)))
    }

    /// Creates or updates a profile after checking every rule, and writes
    /// the file. `now` stamps `updatedAt` (and `createdAt` on creation).
    pub fn save(&self, draft: ProfileDraft, now: OffsetDateTime) -> Result<Profile, StoreError> {
        let name = check_name(&draft.name)?;
        check_encrypted_key(&draft.encrypted_key)?;
        check_payload(&draft.payload)?;
        check_header(draft.kid.as_deref(), draft.typ.as_deref(), &draft.header_fields)?;
        let custom_expiration = check_expiration(draft.expiration_preset, draft.custom_expiration, now)?;
        self.with_loaded(|profiles| {
            let existing = profiles.iter().position(|p| p.id == draft.id);
            let created_at = match (draft.create, existing) {
                (true, Some(_)) => return Err(StoreError::invalid("id", "a profile with this id already exists")),
                (true, None) if profiles.len() >= MAX_PROFILES => return Err(StoreError::LimitReached(MAX_PROFILES)),
                (true, None) => now,
                (false, None) => return Err(StoreError::NotFound(draft.id)),
                (false, Some(i)) => profiles[i].created_at,
            };
            let key = name_key(&name);
            if profiles.iter().any(|p| p.id != draft.id && name_key(&p.name) == key) {
                return Err(StoreError::DuplicateName(name));
            }
            let profile = Profile {
                id: draft.id,
                name,
                algorithm: draft.algorithm,
                encrypted_key: draft.encrypted_key,
                payload: draft.payload,
                expiration_preset: draft.expiration_preset,
                custom_expiration,
                kid: draft.kid,
                typ: draft.typ,
                header_fields: draft.header_fields,
                created_at,
                updated_at: now,
            };
            let mut next = profiles.clone();
            match existing {
                Some(i) => next[i] = profile.clone(),
                None => next.push(profile.clone()),
            }
            self.write(&next).map_err(|e| StoreError::SaveFailed { file: PROFILES_FILE, reason: e.to_string() })?;
            *profiles = next;
            Ok(profile)
        })
    }

    /// Deletes a profile and writes the file.
    pub fn delete(&self, id: ProfileId) -> Result<(), StoreError> {
        self.with_loaded(|profiles| {
            let Some(i) = profiles.iter().position(|p| p.id == id) else {
                return Err(StoreError::NotFound(id));
            };
            let mut next = profiles.clone();
            next.remove(i);
            self.write(&next).map_err(|e| StoreError::DeleteFailed { file: PROFILES_FILE, reason: e.to_string() })?;
            *profiles = next;
            Ok(())
        })
    }

    /// Whether a profile exists (false when the list can't be read).
    pub fn contains(&self, id: ProfileId) -> bool {
        self.get(id).is_ok()
    }

    fn write(&self, profiles: &[Profile]) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Out<'a> {
            profiles: &'a [Profile],
        }
        self.file.save(PROFILES_SCHEMA_VERSION, &Out { profiles })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str) -> ProfileDraft {
        ProfileDraft {
            id: ProfileId::random().expect("rng"),
            create: true,
            name: name.into(),
            algorithm: Algorithm::HS256,
            encrypted_key: "v1.sealed".into(),
            payload: Map::new(),
            expiration_preset: ExpirationPreset::OneHour,
            custom_expiration: None,
            kid: None,
            typ: None,
            header_fields: Map::new(),
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_unique_without_case() {
        let dir = tempfile::tempdir().expect("dir");
        let store = ProfileStore::new(dir.path());
        let now = timestamp::now();
        let saved = store.save(draft("  Staging  "), now).expect("saved");
        assert_eq!(saved.name, "Staging");
        assert_eq!(store.save(draft("STAGING"), now).expect_err("dup").code(), "DUPLICATE_NAME");
        assert_eq!(store.save(draft("   "), now).expect_err("empty").code(), "VALIDATION_ERROR");
        assert!(store.save(draft(&"é".repeat(50)), now).is_ok(), "50 characters, 100 bytes");
        assert_eq!(store.save(draft(&"é".repeat(51)), now).expect_err("51").code(), "VALIDATION_ERROR");
        assert_eq!(store.save(draft("a\nb"), now).expect_err("control").code(), "VALIDATION_ERROR");
        // Renaming a profile to its own name in another case is allowed.
        let mut same = draft("staging");
        same.id = saved.id;
        same.create = false;
        assert_eq!(store.save(same, now).expect("rename").created_at, saved.created_at);
        // A fresh store reads what was written.
        assert_eq!(ProfileStore::new(dir.path()).list().expect("list").len(), 2);
    }

    #[test]
    fn names_that_read_the_same_are_one_name() {
        let dir = tempfile::tempdir().expect("dir");
        let store = ProfileStore::new(dir.path());
        let now = timestamp::now();
        store.save(draft("Production"), now).expect("saved");
        // Invisible and text-direction characters are refused outright.
        for (what, name) in [
            ("zero-width space", "Production\u{200B}"),
            ("right-to-left override", "\u{202E}noitcudorP"),
            ("soft hyphen", "Produc\u{00AD}tion"),
            ("zero-width joiner", "Pro\u{200D}duction"),
            ("byte-order mark", "\u{FEFF}Production"),
        ] {
            let err = store.save(draft(name), now).expect_err(what);
            assert_eq!(err.code(), "VALIDATION_ERROR", "{what}: {err}");
            assert!(err.to_string().contains("invisible or text-direction"), "{what}: {err}");
        }
        // Lookalike letters are the same name.
        for (what, name) in [("Cyrillic o", "Pr\u{043E}duction"), ("Greek omicron", "Pr\u{03BF}duction"), ("fullwidth P", "\u{FF30}roduction")] {
            assert_eq!(store.save(draft(name), now).expect_err(what).code(), "DUPLICATE_NAME", "{what}");
        }
        // Decomposed and composed forms are one name, kept composed.
        let composed = store.save(draft("Caf\u{00E9}"), now).expect("saved");
        assert_eq!(composed.name, "Caf\u{00E9}");
        assert_eq!(store.save(draft("Cafe\u{0301}"), now).expect_err("NFD").code(), "DUPLICATE_NAME");
        assert_eq!(check_name("Cafe\u{0301}").expect("valid"), "Caf\u{00E9}", "stored in NFC");
        // A different name is still a different name.
        store.save(draft("Producti0n-2"), now).expect("a different name");
        // An edited file planting a lookalike is refused on load (and kept aside).
        let path = dir.path().join(PROFILES_FILE);
        let text = std::fs::read_to_string(&path).expect("file");
        std::fs::write(&path, text.replacen("\"name\": \"Production\"", "\"name\": \"Pr\u{043E}duction\"", 1).replacen("\"name\": \"Caf\u{00E9}\"", "\"name\": \"Production\"", 1)).expect("edit");
        let err = ProfileStore::new(dir.path()).list().expect_err("two lookalike names loaded");
        assert!(err.to_string().contains("looks the same as another"), "{err}");
    }

    #[test]
    fn the_typescript_algorithm_names_are_exactly_the_signers() {
        let decl = <Algorithm as TS>::decl(&ts_rs::Config::new());
        for alg in Algorithm::ALL {
            assert!(decl.contains(&format!("\"{}\"", alg.name())), "{alg} missing from {decl}");
        }
        assert_eq!(decl.matches('"').count(), Algorithm::ALL.len() * 2, "{decl}");
    }

    #[test]
    fn a_file_breaking_the_rules_is_moved_aside() {
        let dir = tempfile::tempdir().expect("dir");
        let store = ProfileStore::new(dir.path());
        let now = timestamp::now();
        store.save(draft("a"), now).expect("a");
        let text = std::fs::read_to_string(store.path()).expect("read");
        let twice = text.replace("\"name\": \"a\"", "\"name\": \"A \"");
        std::fs::write(store.path(), twice).expect("write");
        let err = ProfileStore::new(dir.path()).list().expect_err("moved aside");
        assert_eq!(err.code(), "PARSE_ERROR");
    }
}
