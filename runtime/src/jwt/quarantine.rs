//! Plugins the host stopped trusting with keys, by the SHA-256 of their
//! component. The list lives here, beside the signer that consults it; where
//! it is saved is the app's business (`store::plugin_quarantine` keeps it in
//! `plugin-quarantine.json` in the data directory, through [`QuarantineStore`]).
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
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// The most entries kept. Each one needs a distinct component that failed
/// a key-carrying call; past this many the oldest is dropped (and logged),
/// so the saved list stays bounded whatever happens.
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

/// The list could not be saved. The change holds in memory all the same.
#[derive(Debug, thiserror::Error)]
#[error("the plugin quarantine list could not be saved: {0}")]
pub struct QuarantineSaveError(pub String);

impl QuarantineSaveError {
    /// The error code, the same as any other failed save of the app's data.
    pub fn code(&self) -> &'static str {
        "SAVE_FAILED"
    }
}

/// Where a quarantine list is saved after every change.
pub trait QuarantineStore: std::fmt::Debug + Send + Sync {
    /// Saves the whole list (any order).
    fn save(&self, entries: &[QuarantineEntry]) -> Result<(), QuarantineSaveError>;
}

/// The quarantine list: in memory, and saved through a [`QuarantineStore`]
/// when it has one. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct PluginQuarantine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Option<Box<dyn QuarantineStore>>,
    entries: Mutex<BTreeMap<String, QuarantineEntry>>,
}

impl PluginQuarantine {
    /// A list kept only in this process (tests, tools with no data
    /// directory). Quarantine still applies for the process's lifetime.
    pub fn in_memory() -> Self {
        Self::with_store(Vec::new(), None)
    }

    /// A list that starts with `entries` (what `store` loaded) and saves
    /// every change through `store`, if there is one.
    pub fn with_store(
        entries: Vec<QuarantineEntry>,
        store: Option<Box<dyn QuarantineStore>>,
    ) -> Self {
        let entries = entries.into_iter().map(|e| (e.sha256.clone(), e)).collect();
        Self {
            inner: Arc::new(Inner {
                store,
                entries: Mutex::new(entries),
            }),
        }
    }

    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, QuarantineEntry>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.inner
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    pub fn add(&self, entry: QuarantineEntry) -> Result<(), QuarantineSaveError> {
        let snapshot = {
            let mut entries = self.entries();
            if entries.contains_key(&entry.sha256) {
                return Ok(());
            }
            entries.insert(entry.sha256.clone(), entry);
            while entries.len() > MAX_QUARANTINE_ENTRIES {
                let oldest = entries
                    .values()
                    .min_by_key(|e| e.since)
                    .map(|e| e.sha256.clone());
                let Some(oldest) = oldest else { break };
                tracing::warn!(target: "tollgate::security", sha256 = %oldest, "quarantine list full; the oldest entry was dropped");
                entries.remove(&oldest);
            }
            entries.values().cloned().collect::<Vec<_>>()
        };
        self.save(snapshot)
    }

    /// Clears every entry whose hash is `sha256_or_name` or whose plugin
    /// name is it, saves the list, and returns what was cleared. When the
    /// list can't be saved nothing is cleared: a trust the next start would
    /// forget (the file still quarantines the plugin) must not take effect
    /// now either, and the caller is told it failed.
    pub fn trust(&self, sha256_or_name: &str) -> Result<Vec<QuarantineEntry>, QuarantineSaveError> {
        let mut entries = self.entries();
        let keys: Vec<String> = entries
            .values()
            .filter(|e| e.sha256 == sha256_or_name || e.plugin == sha256_or_name)
            .map(|e| e.sha256.clone())
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let remaining = entries.values().filter(|e| !keys.contains(&e.sha256)).cloned().collect();
        // Saved under the lock, so a concurrent `add` can't be overwritten
        // by this older snapshot.
        self.save(remaining)?;
        Ok(keys.iter().filter_map(|k| entries.remove(k)).collect())
    }

    fn save(&self, entries: Vec<QuarantineEntry>) -> Result<(), QuarantineSaveError> {
        match &self.inner.store {
            Some(store) => store.save(&entries),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: &str, name: &str, since: i64) -> QuarantineEntry {
        QuarantineEntry {
            sha256: sha.into(),
            plugin: name.into(),
            function: "sign".into(),
            reason: "r".into(),
            since,
        }
    }

    /// Records what was saved, and can be told to fail.
    #[derive(Debug, Default)]
    struct Recorder {
        saved: Arc<Mutex<Vec<Vec<String>>>>,
        fail: bool,
    }

    impl QuarantineStore for Recorder {
        fn save(&self, entries: &[QuarantineEntry]) -> Result<(), QuarantineSaveError> {
            if self.fail {
                return Err(QuarantineSaveError("disk full".into()));
            }
            let mut shas: Vec<String> = entries.iter().map(|e| e.sha256.clone()).collect();
            shas.sort();
            self.saved.lock().expect("lock").push(shas);
            Ok(())
        }
    }

    #[test]
    fn trust_clears_by_hash_or_name_and_every_change_is_saved() {
        let saved = Arc::new(Mutex::new(Vec::new()));
        let q = PluginQuarantine::with_store(
            vec![entry("aa", "one", 1)],
            Some(Box::new(Recorder {
                saved: saved.clone(),
                fail: false,
            })),
        );
        q.add(entry("bb", "two", 2)).expect("save");
        q.add(entry("aa", "one", 9)).expect("again");
        assert_eq!(
            q.list()
                .iter()
                .map(|e| e.sha256.as_str())
                .collect::<Vec<_>>(),
            ["aa", "bb"]
        );
        assert_eq!(
            q.get("aa").map(|e| e.since),
            Some(1),
            "the first reason stays"
        );
        assert_eq!(q.trust("two").expect("trust").len(), 1);
        assert!(q.trust("nobody").expect("nothing to clear").is_empty());
        assert_eq!(q.trust("aa").expect("trust").len(), 1);
        assert!(q.list().is_empty());
        let saved = saved.lock().expect("lock").clone();
        assert_eq!(
            saved,
            vec![
                vec!["aa".to_string(), "bb".to_string()],
                vec!["aa".to_string()],
                vec![]
            ],
            "one save per change, none for a no-op"
        );
    }

    #[test]
    fn a_failed_save_is_returned_but_the_entry_holds() {
        let q = PluginQuarantine::with_store(
            Vec::new(),
            Some(Box::new(Recorder {
                fail: true,
                ..Recorder::default()
            })),
        );
        assert!(q.add(entry("aa", "one", 1)).is_err());
        assert!(q.get("aa").is_some(), "quarantined in memory all the same");
    }

    #[test]
    fn a_trust_that_could_not_be_saved_clears_nothing() {
        let q = PluginQuarantine::with_store(
            vec![entry("aa", "one", 1)],
            Some(Box::new(Recorder {
                fail: true,
                ..Recorder::default()
            })),
        );
        let e = q.trust("aa").expect_err("the save failed");
        assert!(e.0.contains("disk full"), "{e:?}");
        assert!(q.get("aa").is_some(), "still quarantined: the file still says so");
        assert!(q.trust("nobody").expect("nothing to clear, nothing to save").is_empty());
    }

    #[test]
    fn the_list_stays_bounded() {
        let q = PluginQuarantine::in_memory();
        for i in 0..(MAX_QUARANTINE_ENTRIES + 3) {
            q.add(entry(&format!("{i:04}"), "p", i as i64))
                .expect("in memory");
        }
        assert_eq!(q.list().len(), MAX_QUARANTINE_ENTRIES);
        assert!(q.get("0000").is_none(), "the oldest went first");
    }
}
