//! Plugins the host stopped trusting with keys, by the SHA-256 of their
//! component, kept in `plugin-quarantine.json` in the data directory.
//!
//! A key-carrying call that fails inside the guest after every host check
//! passed has no innocent explanation (the key was valid, the claims well
//! formed and within caps), and whether a call fails is itself a channel:
//! a signer that fails when bit n of the key is 1 hands out one bit per
//! call. So the first such failure puts the plugin here and every later
//! key-carrying call to it is refused before the key is sent, until the
//! user clears it (`tollgate plugin trust`, or the plugins card). That
//! leaves the outcome channel one event per install, not one per call.
//!
//! Nothing here is secret: names, hashes, reasons and times. Entries are
//! keyed by the component's hash, not its name, so a rebuilt plugin is a
//! new plugin and a renamed one is not.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::store::atomic_file::AtomicFile;

/// The file's name in the data directory.
pub const QUARANTINE_FILE: &str = "plugin-quarantine.json";

/// Its schema version.
const QUARANTINE_SCHEMA_VERSION: u32 = 1;

/// The largest quarantine file read: a few hundred bytes an entry; a file
/// this size is not one the host wrote.
const MAX_QUARANTINE_FILE_BYTES: u64 = 1024 * 1024;

/// The most entries kept. Each one needs a distinct component that failed
/// a key-carrying call; past this many the oldest is dropped (and logged),
/// so the file stays bounded whatever happens.
pub const MAX_QUARANTINE_ENTRIES: usize = 1024;

/// One quarantined plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuarantineEntry {
    /// The component's SHA-256, lowercase hex.
    pub sha256: String,
    /// The plugin's name from its manifest.
    pub plugin: String,
    /// The export whose call failed (`sign`, `verify`).
    pub function: String,
    /// What the host saw, in the host's words (never the guest's).
    pub reason: String,
    /// When, in seconds since the Unix epoch.
    #[ts(type = "number")]
    pub since: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QuarantineFile {
    entries: Vec<QuarantineEntry>,
}

/// The quarantine list: in memory, and in the data directory when opened
/// from one. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct PluginQuarantine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    file: Option<AtomicFile>,
    entries: Mutex<BTreeMap<String, QuarantineEntry>>,
}

impl PluginQuarantine {
    /// A list kept only in this process (tests, tools with no data
    /// directory). Quarantine still applies for the process's lifetime.
    pub fn in_memory() -> Self {
        Self { inner: Arc::new(Inner { file: None, entries: Mutex::new(BTreeMap::new()) }) }
    }

    /// The list in `data_dir`. A corrupt file is moved aside (never
    /// deleted) and the list starts empty; one this build can't read for
    /// another reason (a newer version's, an I/O error) is left exactly as
    /// it is and this process keeps its list in memory only. Either is
    /// logged as a security event, since earlier quarantines are not seen.
    pub fn open(data_dir: &Path) -> Self {
        let file = AtomicFile::new(data_dir, QUARANTINE_FILE);
        let (entries, file) = match file.load::<QuarantineFile>(MAX_QUARANTINE_FILE_BYTES, QUARANTINE_SCHEMA_VERSION) {
            Ok(loaded) => (loaded.unwrap_or_default().entries, Some(file)),
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::warn!(target: "tollgate::security", error = %e, "the plugin quarantine list was unreadable; earlier quarantines are forgotten");
                (Vec::new(), Some(file))
            }
            Err(e) => {
                tracing::warn!(target: "tollgate::security", error = %e, "the plugin quarantine list can't be read; it is left alone and this run keeps quarantines in memory only");
                (Vec::new(), None)
            }
        };
        let entries = entries.into_iter().map(|e| (e.sha256.clone(), e)).collect();
        Self { inner: Arc::new(Inner { file, entries: Mutex::new(entries) }) }
    }

    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, QuarantineEntry>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.inner.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The entry for this component, if it is quarantined.
    pub fn get(&self, sha256: &str) -> Option<QuarantineEntry> {
        self.entries().get(sha256).cloned()
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> Vec<QuarantineEntry> {
        let mut all: Vec<_> = self.entries().values().cloned().collect();
        all.sort_by_key(|e| e.since);
        all
    }

    /// Quarantines a component (an existing entry keeps its first reason)
    /// and saves the list. A failed save is returned, but the entry holds
    /// in memory either way.
    pub fn add(&self, entry: QuarantineEntry) -> Result<(), StoreError> {
        let snapshot = {
            let mut entries = self.entries();
            if entries.contains_key(&entry.sha256) {
                return Ok(());
            }
            entries.insert(entry.sha256.clone(), entry);
            while entries.len() > MAX_QUARANTINE_ENTRIES {
                let oldest = entries.values().min_by_key(|e| e.since).map(|e| e.sha256.clone());
                let Some(oldest) = oldest else { break };
                tracing::warn!(target: "tollgate::security", sha256 = %oldest, "quarantine list full; the oldest entry was dropped");
                entries.remove(&oldest);
            }
            entries.values().cloned().collect::<Vec<_>>()
        };
        self.save(snapshot)
    }

    /// Clears every entry whose hash is `sha256_or_name` or whose plugin
    /// name is it; returns what was cleared.
    pub fn trust(&self, sha256_or_name: &str) -> Result<Vec<QuarantineEntry>, StoreError> {
        let (cleared, snapshot) = {
            let mut entries = self.entries();
            let keys: Vec<String> = entries
                .values()
                .filter(|e| e.sha256 == sha256_or_name || e.plugin == sha256_or_name)
                .map(|e| e.sha256.clone())
                .collect();
            let cleared: Vec<_> = keys.iter().filter_map(|k| entries.remove(k)).collect();
            (cleared, entries.values().cloned().collect::<Vec<_>>())
        };
        if !cleared.is_empty() {
            self.save(snapshot)?;
        }
        Ok(cleared)
    }

    fn save(&self, entries: Vec<QuarantineEntry>) -> Result<(), StoreError> {
        let Some(file) = &self.inner.file else { return Ok(()) };
        file.save(QUARANTINE_SCHEMA_VERSION, &QuarantineFile { entries })
            .map_err(|e| StoreError::SaveFailed { file: QUARANTINE_FILE, reason: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: &str, name: &str, since: i64) -> QuarantineEntry {
        QuarantineEntry { sha256: sha.into(), plugin: name.into(), function: "sign".into(), reason: "r".into(), since }
    }

    #[test]
    fn entries_survive_a_reopen_and_trust_clears_by_hash_or_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = PluginQuarantine::open(dir.path());
        q.add(entry("aa", "one", 1)).expect("save");
        q.add(entry("bb", "two", 2)).expect("save");
        q.add(entry("aa", "one", 9)).expect("again");
        let reopened = PluginQuarantine::open(dir.path());
        assert_eq!(reopened.list().iter().map(|e| e.sha256.as_str()).collect::<Vec<_>>(), ["aa", "bb"]);
        assert_eq!(reopened.get("aa").map(|e| e.since), Some(1), "the first reason stays");
        assert_eq!(reopened.trust("two").expect("trust").len(), 1);
        assert_eq!(reopened.trust("aa").expect("trust").len(), 1);
        assert!(PluginQuarantine::open(dir.path()).list().is_empty());
    }

    #[test]
    fn a_newer_versions_file_is_never_written_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let newer = br#"{"schemaVersion": 99, "entries": [], "future": true}"#;
        std::fs::write(dir.path().join(QUARANTINE_FILE), newer).expect("write");
        let q = PluginQuarantine::open(dir.path());
        q.add(entry("aa", "one", 1)).expect("held in memory");
        assert!(q.get("aa").is_some());
        assert_eq!(std::fs::read(dir.path().join(QUARANTINE_FILE)).expect("read"), newer, "left exactly as it was");
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_not_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(QUARANTINE_FILE), b"{not json").expect("write");
        let q = PluginQuarantine::open(dir.path());
        assert!(q.list().is_empty());
        let kept = std::fs::read_dir(dir.path()).expect("dir").filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("plugin-quarantine.json.corrupt-"));
        assert!(kept, "the unreadable file is kept aside");
    }
}
