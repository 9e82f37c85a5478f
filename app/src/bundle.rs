//! Profile bundles: profiles and their keys, moved to another machine
//! (issue 19). A bundle is a JSON file whose profiles (names, algorithms,
//! claims, expiry and keys) are encrypted under a passphrase: Argon2id
//! (RFC 9106; 64 MiB, 3 passes, one lane, a random 16-byte salt) derives a
//! 256-bit key, and XChaCha20-Poly1305 seals the profiles with a random
//! 192-bit nonce. Everything outside the ciphertext (format, version, KDF
//! parameters, cipher, nonce) is the associated data, so a changed
//! parameter fails like a wrong passphrase.
//!
//! A key leaves the master key's seal only here, inside the host, straight
//! into the passphrase's seal (and back on import, where it is checked for
//! its algorithm and sealed for the new profile before anything is saved).
//! The plaintext lives in wiped buffers. A bundle read from disk is held to
//! [`MAX_BUNDLE_BYTES`], and its KDF parameters to bounds that keep a
//! crafted file from asking for gigabytes or hours before the passphrase
//! is even checked.

use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::jwt::Algorithm;
use crate::store::ExpirationPreset;
use crate::store::profiles::algorithm_name;

/// What the file says it is.
pub const FORMAT: &str = "tollgate-profile-bundle";
/// The one version this build writes and reads.
pub const VERSION: u32 = 1;
/// The largest bundle read: 50 profiles of 64 KiB claims and a 64 KiB key,
/// base64-encoded, fit.
pub const MAX_BUNDLE_BYTES: usize = 12 * 1024 * 1024;
/// The shortest passphrase a bundle is sealed under, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// The longest passphrase taken, in bytes.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;

/// Argon2id's memory in KiB, passes and lanes for the bundles this build
/// writes.
const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;
const PARALLELISM: u32 = 1;
/// What a bundle may ask of the KDF when read.
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MIN_MEMORY_KIB: u32 = 19 * 1024;
const MAX_ITERATIONS: u32 = 10;
const MAX_PARALLELISM: u32 = 4;
const SALT_BYTES: usize = 16;
const NONCE_BYTES: usize = 24;
const CIPHER: &str = "xchacha20poly1305";

/// Why a bundle could not be made or opened. None of these carries key
/// material or the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The passphrase is too short or too long.
    #[error("the passphrase must be {MIN_PASSPHRASE_CHARS} to {MAX_PASSPHRASE_BYTES} characters long")]
    WeakPassphrase,
    /// Not a bundle, or one this build can't read.
    #[error("this is not a Tollgate profile bundle: {0}")]
    Malformed(String),
    /// The passphrase is wrong, or the bundle was changed.
    #[error("the passphrase is wrong, or the bundle was changed after it was written")]
    WrongPassphrase,
    /// The OS gave no randomness, or the KDF failed.
    #[error("the bundle could not be sealed: {0}")]
    Crypto(String),
}

/// One profile in a bundle.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleProfile {
    /// Its name.
    pub name: String,
    /// Its algorithm.
    #[serde(with = "algorithm_name")]
    pub algorithm: Algorithm,
    /// Its key (the secret's bytes, or a PKCS#8 PEM), base64url.
    #[serde(with = "wiped_string")]
    key: Zeroizing<String>,
    /// Its claims.
    pub payload: Map<String, Value>,
    /// Its expiry preset.
    pub expiration_preset: ExpirationPreset,
    /// Its custom expiry (RFC 3339), for the custom preset.
    pub custom_expiration: Option<String>,
    /// Its tokens' `kid`, when it sets one.
    #[serde(default)]
    pub kid: Option<String>,
    /// Its tokens' `typ`, when it sets one.
    #[serde(default)]
    pub typ: Option<String>,
    /// Its tokens' custom header fields (left out when none, so a bundle
    /// without any still opens in a version before them).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub header_fields: Map<String, Value>,
}

impl std::fmt::Debug for BundleProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleProfile").field("name", &self.name).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl BundleProfile {
    /// A profile with its opened key.
    pub fn new(
        name: String,
        algorithm: Algorithm,
        key: &[u8],
        payload: Map<String, Value>,
        expiration_preset: ExpirationPreset,
        custom_expiration: Option<String>,
    ) -> Self {
        Self { name, algorithm, key: Zeroizing::new(URL_SAFE_NO_PAD.encode(key)), payload, expiration_preset, custom_expiration, kid: None, typ: None, header_fields: Map::new() }
    }

    /// The same with the profile's `kid`, `typ` and custom header fields.
    pub fn with_header(self, kid: Option<String>, typ: Option<String>, header_fields: Map<String, Value>) -> Self {
        Self { kid, typ, header_fields, ..self }
    }

    /// The key's bytes.
    pub fn key(&self) -> Result<Zeroizing<Vec<u8>>, BundleError> {
        URL_SAFE_NO_PAD.decode(self.key.as_bytes()).map(Zeroizing::new).map_err(|_| BundleError::Malformed(format!("the key of \"{}\" is not base64url", self.name)))
    }
}

/// A string field read into, and written from, a wiped buffer.
mod wiped_string {
    use serde::{Deserialize as _, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(value: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
        String::deserialize(d).map(Zeroizing::new)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contents {
    profiles: Vec<BundleProfile>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Kdf {
    algorithm: String,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

/// Everything but the ciphertext: the associated data, in this order.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    kdf: Kdf,
    cipher: String,
    nonce: String,
}

/// The file: the header's fields, then the ciphertext.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    version: u32,
    kdf: Kdf,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

impl File {
    fn header(&self) -> Header {
        Header { format: self.format.clone(), version: self.version, kdf: self.kdf.clone(), cipher: self.cipher.clone(), nonce: self.nonce.clone() }
    }
}

fn random<const N: usize>() -> Result<[u8; N], BundleError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| BundleError::Crypto("the system has no randomness".into()))?;
    Ok(bytes)
}

/// Whether `passphrase` is one a bundle may be sealed under.
pub fn check_passphrase(passphrase: &str) -> Result<(), BundleError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS || passphrase.len() > MAX_PASSPHRASE_BYTES {
        return Err(BundleError::WeakPassphrase);
    }
    Ok(())
}

fn derive(passphrase: &str, kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>, BundleError> {
    let salt = URL_SAFE_NO_PAD.decode(&kdf.salt).map_err(|_| BundleError::Malformed("the salt is not base64url".into()))?;
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32)).map_err(|e| BundleError::Malformed(format!("the KDF parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Argon2Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
        .map_err(|e| BundleError::Crypto(e.to_string()))?;
    Ok(key)
}

fn associated_data(header: &Header) -> Result<Vec<u8>, BundleError> {
    serde_json::to_vec(header).map_err(|e| BundleError::Crypto(e.to_string()))
}

/// Seals `profiles` under `passphrase` into a bundle file's bytes.
pub fn seal(profiles: Vec<BundleProfile>, passphrase: &str) -> Result<Vec<u8>, BundleError> {
    check_passphrase(passphrase)?;
    let nonce = random::<NONCE_BYTES>()?;
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        kdf: Kdf {
            algorithm: "argon2id".into(),
            version: 0x13,
            memory_kib: MEMORY_KIB,
            iterations: ITERATIONS,
            parallelism: PARALLELISM,
            salt: URL_SAFE_NO_PAD.encode(random::<SALT_BYTES>()?),
        },
        cipher: CIPHER.into(),
        nonce: URL_SAFE_NO_PAD.encode(nonce),
    };
    let key = derive(passphrase, &header.kdf)?;
    let plaintext = Zeroizing::new(serde_json::to_vec(&Contents { profiles }).map_err(|e| BundleError::Crypto(e.to_string()))?);
    let aad = associated_data(&header)?;
    let ciphertext = XChaCha20Poly1305::new(&Key::from(*key))
        .encrypt(&XNonce::from(nonce), Payload { msg: &plaintext, aad: &aad })
        .map_err(|_| BundleError::Crypto("the cipher refused the profiles".into()))?;
    let Header { format, version, kdf, cipher, nonce: nonce_text } = header;
    let file = File { format, version, kdf, cipher, nonce: nonce_text, ciphertext: URL_SAFE_NO_PAD.encode(ciphertext) };
    let mut out = serde_json::to_vec_pretty(&file).map_err(|e| BundleError::Crypto(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// Opens a bundle file's bytes with `passphrase`.
pub fn open(bytes: &[u8], passphrase: &str) -> Result<Vec<BundleProfile>, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::Malformed(format!("it is over {MAX_BUNDLE_BYTES} bytes")));
    }
    if passphrase.is_empty() || passphrase.len() > MAX_PASSPHRASE_BYTES {
        return Err(BundleError::WrongPassphrase);
    }
    let file: File = serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
    let header = file.header();
    if header.format != FORMAT {
        return Err(BundleError::Malformed(format!("its format is \"{}\"", header.format.chars().take(40).collect::<String>())));
    }
    if header.version != VERSION {
        return Err(BundleError::Malformed(format!("it is version {}; this build reads version {VERSION}", header.version)));
    }
    let kdf = &header.kdf;
    if kdf.algorithm != "argon2id" || kdf.version != 0x13 || header.cipher != CIPHER {
        return Err(BundleError::Malformed("it uses a KDF or cipher this build does not".into()));
    }
    if !(MIN_MEMORY_KIB..=MAX_MEMORY_KIB).contains(&kdf.memory_kib) || !(1..=MAX_ITERATIONS).contains(&kdf.iterations) || !(1..=MAX_PARALLELISM).contains(&kdf.parallelism) {
        return Err(BundleError::Malformed(format!(
            "its KDF asks for {} KiB, {} passes, {} lanes (at most {MAX_MEMORY_KIB} KiB, {MAX_ITERATIONS}, {MAX_PARALLELISM})",
            kdf.memory_kib, kdf.iterations, kdf.parallelism
        )));
    }
    let nonce: [u8; NONCE_BYTES] =
        URL_SAFE_NO_PAD.decode(&header.nonce).ok().and_then(|n| n.try_into().ok()).ok_or_else(|| BundleError::Malformed("the nonce is not 24 bytes of base64url".into()))?;
    let ciphertext = URL_SAFE_NO_PAD.decode(&file.ciphertext).map_err(|_| BundleError::Malformed("the ciphertext is not base64url".into()))?;
    let key = derive(passphrase, kdf)?;
    let aad = associated_data(&header)?;
    let plaintext = Zeroizing::new(
        XChaCha20Poly1305::new(&Key::from(*key)).decrypt(&XNonce::from(nonce), Payload { msg: &ciphertext, aad: &aad }).map_err(|_| BundleError::WrongPassphrase)?,
    );
    let contents: Contents = serde_json::from_slice(&plaintext).map_err(|e| BundleError::Malformed(format!("its profiles do not read: {e}")))?;
    Ok(contents.profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSPHRASE: &str = "correct horse battery staple";
    const SECRET: &[u8] = b"an-hmac-secret-of-32-bytes-or-more!!";

    fn profile() -> BundleProfile {
        let mut payload = Map::new();
        payload.insert("sub".into(), "moved".into());
        BundleProfile::new("Moved".into(), Algorithm::HS256, SECRET, payload, ExpirationPreset::OneHour, None)
    }

    #[test]
    fn a_bundle_opens_with_its_passphrase_and_holds_no_plaintext() {
        let bytes = seal(vec![profile()], PASSPHRASE).expect("sealed");
        let text = String::from_utf8(bytes.clone()).expect("text");
        for plain in ["Moved", "moved", "HS256", &URL_SAFE_NO_PAD.encode(SECRET), std::str::from_utf8(SECRET).expect("utf-8"), PASSPHRASE] {
            assert!(!text.contains(plain), "{plain:?} is readable in the bundle");
        }
        let opened = open(&bytes, PASSPHRASE).expect("opened");
        assert_eq!(opened.len(), 1);
        assert_eq!((opened[0].name.as_str(), opened[0].algorithm), ("Moved", Algorithm::HS256));
        assert_eq!(&opened[0].key().expect("key")[..], SECRET);
        assert_eq!(opened[0].payload["sub"], "moved");
        // Two bundles of the same profiles differ (salt, nonce).
        assert_ne!(bytes, seal(vec![profile()], PASSPHRASE).expect("sealed"));
    }

    #[test]
    fn a_wrong_passphrase_or_a_changed_byte_or_parameter_opens_nothing() {
        let bytes = seal(vec![profile()], PASSPHRASE).expect("sealed");
        assert_eq!(open(&bytes, "correct horse battery stapler").expect_err("wrong"), BundleError::WrongPassphrase);
        let mut file: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        // A parameter changed within its bounds: another key (and other
        // associated data).
        let mut changed = file.clone();
        changed["kdf"]["iterations"] = 2.into();
        assert_eq!(open(changed.to_string().as_bytes(), PASSPHRASE).expect_err("changed"), BundleError::WrongPassphrase);
        // A flipped ciphertext character.
        let ciphertext = file["ciphertext"].as_str().expect("ciphertext").to_owned();
        let flipped: String = ciphertext.chars().enumerate().map(|(i, c)| if i == 10 { if c == 'A' { 'B' } else { 'A' } } else { c }).collect();
        file["ciphertext"] = flipped.into();
        assert_eq!(open(file.to_string().as_bytes(), PASSPHRASE).expect_err("flipped"), BundleError::WrongPassphrase);
    }

    #[test]
    fn a_crafted_bundle_is_refused_before_the_kdf_runs() {
        let bytes = seal(vec![profile()], PASSPHRASE).expect("sealed");
        let file: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        for (field, value, says) in [
            ("memoryKib", 4 * 1024 * 1024, "KiB"),
            ("iterations", 1000, "passes"),
            ("parallelism", 64, "lanes"),
            ("memoryKib", 8, "KiB"),
        ] {
            let mut crafted = file.clone();
            crafted["kdf"][field] = value.into();
            let started = std::time::Instant::now();
            let e = open(crafted.to_string().as_bytes(), PASSPHRASE).expect_err("refused");
            assert!(matches!(&e, BundleError::Malformed(m) if m.contains(says)), "{field}: {e}");
            assert!(started.elapsed() < std::time::Duration::from_millis(200), "the KDF ran for {field}");
        }
        let mut other = file.clone();
        other["format"] = "something-else".into();
        assert!(matches!(open(other.to_string().as_bytes(), PASSPHRASE), Err(BundleError::Malformed(_))));
        let mut newer = file;
        newer["version"] = 2.into();
        assert!(matches!(open(newer.to_string().as_bytes(), PASSPHRASE), Err(BundleError::Malformed(m)) if m.contains("version 2")));
        assert!(matches!(open(b"not json", PASSPHRASE), Err(BundleError::Malformed(_))));
        assert!(matches!(open(&vec![b' '; MAX_BUNDLE_BYTES + 1], PASSPHRASE), Err(BundleError::Malformed(_))));
    }

    #[test]
    fn short_passphrases_seal_nothing() {
        assert_eq!(seal(vec![profile()], "short").expect_err("short"), BundleError::WeakPassphrase);
        assert_eq!(seal(vec![profile()], &"x".repeat(MAX_PASSPHRASE_BYTES + 1)).expect_err("long"), BundleError::WeakPassphrase);
        assert!(!format!("{:?}", profile()).contains("an-hmac"), "Debug shows the key");
    }
}
