//! The app's data on disk: signing profiles (`profiles.json`) and settings
//! (`settings.json`) under the app's data directory.
//!
//! Every file carries a `schemaVersion` and is written atomically
//! (`atomic_file`): a crash, a kill or a full disk leaves the previous
//! version whole. A file that does not parse, or breaks a rule no file this
//! app wrote could break, is moved aside to `<name>.corrupt-<timestamp>`
//! (never overwritten, never deleted) and the caller learns where it went.
//! A file from a newer version of the app is left alone and not written
//! over.
//!
//! Trust: the files are the user's own, but anything could have edited
//! them; everything read is parsed strictly and checked with the same rules
//! as a save. Key material is stored only sealed (see `crate::secrets`).

pub mod atomic_file;
pub mod jwks_hosts;
pub mod plugin_quarantine;
mod error;
pub mod profiles;
pub mod settings;
pub mod timestamp;

pub use error::StoreError;
pub use profiles::{ExpirationPreset, Profile, ProfileDraft, ProfileId, ProfileStore};
pub use settings::{Settings, SettingsStore, SettingsUpdate, Theme, WindowBounds};
