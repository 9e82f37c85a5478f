//! App settings (`settings.json`): the last selected profile, the theme,
//! the window's bounds. Defaults when there is no file.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

use crate::store::StoreError;
use crate::store::atomic_file::AtomicFile;
use crate::store::profiles::ProfileId;

/// The file's name in the data directory.
pub const SETTINGS_FILE: &str = "settings.json";
/// The format version this build reads and writes (the page sees it as
/// `version`).
pub const SETTINGS_SCHEMA_VERSION: u32 = 1;
/// The largest `settings.json` read; the real one is a few hundred bytes.
pub const MAX_SETTINGS_FILE_BYTES: u64 = 64 * 1024;
/// The largest coordinate or size accepted for the window: anything beyond
/// is off any screen, and would make the window open somewhere unusable.
pub const MAX_WINDOW_EXTENT: f64 = 32_768.0;

/// The UI's colour theme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Light (the default).
    #[default]
    Light,
    /// Dark.
    Dark,
}

/// The window's position and size, as the page reports them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct WindowBounds {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl WindowBounds {
    /// Checks every number is finite and on some plausible screen.
    pub fn check(&self) -> Result<(), StoreError> {
        let coord = |v: f64| v.is_finite() && v.abs() <= MAX_WINDOW_EXTENT;
        let size = |v: f64| v.is_finite() && v > 0.0 && v <= MAX_WINDOW_EXTENT;
        if !(coord(self.x) && coord(self.y)) {
            return Err(StoreError::invalid("windowBounds", format!("x and y must be within ±{MAX_WINDOW_EXTENT}")));
        }
        if !(size(self.width) && size(self.height)) {
            return Err(StoreError::invalid("windowBounds", format!("width and height must be above 0 and at most {MAX_WINDOW_EXTENT}")));
        }
        Ok(())
    }
}

/// The settings as the page sees them.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The profile selected when the app was last used.
    pub last_selected_profile_id: Option<ProfileId>,
    /// The theme.
    pub theme: Theme,
    /// The window's last bounds.
    pub window_bounds: Option<WindowBounds>,
    /// The settings format version.
    pub version: u32,
}

impl Default for Settings {
    fn default() -> Self {
        SettingsFile::default().into_settings()
    }
}

/// `settings:save`: the fields to change; absent ones keep their value,
/// `null` clears a nullable one. `version`, if sent, must be the current
/// one (the page read these settings from this version).
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsUpdate {
    /// A profile id, or null to clear.
    #[serde(default, deserialize_with = "present")]
    #[ts(optional)]
    pub last_selected_profile_id: Option<Option<ProfileId>>,
    /// The theme.
    #[serde(default)]
    #[ts(optional)]
    pub theme: Option<Theme>,
    /// Bounds, or null to forget them.
    #[serde(default, deserialize_with = "present")]
    #[ts(optional)]
    pub window_bounds: Option<Option<WindowBounds>>,
    /// The settings format version the page read.
    #[serde(default)]
    #[ts(optional)]
    pub version: Option<u32>,
}

/// A field that is present (possibly null) becomes `Some(_)`; `default`
/// makes an absent one `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsFile {
    last_selected_profile_id: Option<ProfileId>,
    theme: Theme,
    window_bounds: Option<WindowBounds>,
}

impl SettingsFile {
    fn into_settings(self) -> Settings {
        Settings {
            last_selected_profile_id: self.last_selected_profile_id,
            theme: self.theme,
            window_bounds: self.window_bounds,
            version: SETTINGS_SCHEMA_VERSION,
        }
    }
}

/// The settings on disk, kept in memory once read.
#[derive(Debug)]
pub struct SettingsStore {
    file: AtomicFile,
    loaded: Mutex<Option<SettingsFile>>,
}

impl SettingsStore {
    /// The settings in `data_dir` (read on first use).
    pub fn new(data_dir: &Path) -> Self {
        Self { file: AtomicFile::new(data_dir, SETTINGS_FILE), loaded: Mutex::new(None) }
    }

    /// Where the file is.
    pub fn path(&self) -> std::path::PathBuf {
        self.file.path()
    }

    fn lock(&self) -> MutexGuard<'_, Option<SettingsFile>> {
        // Changed only after a successful write: consistent after a panic.
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_loaded<R>(&self, f: impl FnOnce(&mut SettingsFile) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let mut guard = self.lock();
        if guard.is_none() {
            let read = self.file.load::<SettingsFile>(MAX_SETTINGS_FILE_BYTES, SETTINGS_SCHEMA_VERSION)?;
            let read = read.unwrap_or_default();
            if let Some(bounds) = &read.window_bounds
                && let Err(e) = bounds.check()
            {
                return Err(self.file.quarantine(e.to_string()));
            }
            *guard = Some(read);
        }
        match guard.as_mut() {
            Some(settings) => f(settings),
            None => Err(StoreError::LoadFailed { file: SETTINGS_FILE, reason: "the settings were not loaded".into() }),
        }
    }

    /// The settings (defaults when there is no file).
    pub fn get(&self) -> Result<Settings, StoreError> {
        self.with_loaded(|s| Ok(s.clone().into_settings()))
    }

    /// Applies `update` and writes the file. Whether a selected profile
    /// exists is the caller's check.
    pub fn save(&self, update: SettingsUpdate) -> Result<Settings, StoreError> {
        if let Some(version) = update.version
            && version != SETTINGS_SCHEMA_VERSION
        {
            return Err(StoreError::invalid("version", format!("these settings are version {SETTINGS_SCHEMA_VERSION}, not {version}")));
        }
        if let Some(Some(bounds)) = &update.window_bounds {
            bounds.check()?;
        }
        self.with_loaded(|current| {
            let mut next = current.clone();
            if let Some(id) = update.last_selected_profile_id {
                next.last_selected_profile_id = id;
            }
            if let Some(theme) = update.theme {
                next.theme = theme;
            }
            if let Some(bounds) = update.window_bounds {
                next.window_bounds = bounds;
            }
            self.write(current, next)
        })
    }

    /// Clears `lastSelectedProfileId` if it is `id` (its profile was
    /// deleted). Returns whether it did.
    pub fn forget_profile(&self, id: ProfileId) -> Result<bool, StoreError> {
        self.with_loaded(|current| {
            if current.last_selected_profile_id != Some(id) {
                return Ok(false);
            }
            let next = SettingsFile { last_selected_profile_id: None, ..current.clone() };
            self.write(current, next).map(|_| true)
        })
    }

    fn write(&self, current: &mut SettingsFile, next: SettingsFile) -> Result<Settings, StoreError> {
        self.file
            .save(SETTINGS_SCHEMA_VERSION, &next)
            .map_err(|e| StoreError::SaveFailed { file: SETTINGS_FILE, reason: e.to_string() })?;
        *current = next;
        Ok(current.clone().into_settings())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file_and_partial_updates() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SettingsStore::new(dir.path());
        assert_eq!(store.get().expect("defaults"), Settings::default());
        assert!(!store.path().exists(), "reading defaults writes nothing");
        let update: SettingsUpdate = serde_json::from_str(r#"{"theme":"dark"}"#).expect("parses");
        let saved = store.save(update).expect("saved");
        assert_eq!(saved.theme, Theme::Dark);
        let bounds = r#"{"windowBounds":{"x":1,"y":2,"width":800,"height":600}}"#;
        store.save(serde_json::from_str(bounds).expect("parses")).expect("saved");
        let cleared = store.save(serde_json::from_str(r#"{"windowBounds":null}"#).expect("parses")).expect("saved");
        assert_eq!(cleared.window_bounds, None);
        assert_eq!(SettingsStore::new(dir.path()).get().expect("reads").theme, Theme::Dark);
        let huge = r#"{"windowBounds":{"x":1,"y":2,"width":1e9,"height":600}}"#;
        assert_eq!(store.save(serde_json::from_str(huge).expect("parses")).expect_err("huge").code(), "VALIDATION_ERROR");
        assert_eq!(store.save(serde_json::from_str(r#"{"version":2}"#).expect("parses")).expect_err("v").code(), "VALIDATION_ERROR");
    }
}
