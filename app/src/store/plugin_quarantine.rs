//! The plugin quarantine list (`jwt::quarantine`) kept in
//! `plugin-quarantine.json` in the data directory, so the app, the CLI and
//! every later run see the same list.
//!
//! Nothing here is secret: names, hashes, reasons and times.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::jwt::quarantine::{
    PluginQuarantine, QuarantineEntry, QuarantineSaveError, QuarantineStore,
};
use crate::store::StoreError;
use crate::store::atomic_file::AtomicFile;

/// The file's name in the data directory.
pub const QUARANTINE_FILE: &str = "plugin-quarantine.json";

/// Its schema version.
const QUARANTINE_SCHEMA_VERSION: u32 = 1;

/// The largest quarantine file read: a few hundred bytes an entry; a file
/// this size is not one the host wrote.
const MAX_QUARANTINE_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QuarantineFile {
    entries: Vec<QuarantineEntry>,
}

/// Saves the list to the data directory's file.
#[derive(Debug)]
struct FileStore(AtomicFile);

impl QuarantineStore for FileStore {
    fn save(&self, entries: &[QuarantineEntry]) -> Result<(), QuarantineSaveError> {
        self.0
            .save(
                QUARANTINE_SCHEMA_VERSION,
                &QuarantineFile {
                    entries: entries.to_vec(),
                },
            )
            .map_err(|e| QuarantineSaveError(format!("{QUARANTINE_FILE}: {e}")))
    }
}

/// The list in `data_dir`. A corrupt file is moved aside (never deleted)
/// and the list starts empty; one this build can't read for another reason
/// (a newer version's, an I/O error) is left exactly as it is and this
/// process keeps its list in memory only. Either is logged as a security
/// event, since earlier quarantines are not seen.
pub fn open(data_dir: &Path) -> PluginQuarantine {
    let file = AtomicFile::new(data_dir, QUARANTINE_FILE);
    match file.load::<QuarantineFile>(MAX_QUARANTINE_FILE_BYTES, QUARANTINE_SCHEMA_VERSION) {
        Ok(loaded) => PluginQuarantine::with_store(
            loaded.unwrap_or_default().entries,
            Some(Box::new(FileStore(file))),
        ),
        Err(e @ StoreError::Corrupt { .. }) => {
            tracing::warn!(target: "tollgate::security", error = %e, "the plugin quarantine list was unreadable; earlier quarantines are forgotten");
            PluginQuarantine::with_store(Vec::new(), Some(Box::new(FileStore(file))))
        }
        Err(e) => {
            tracing::warn!(target: "tollgate::security", error = %e, "the plugin quarantine list can't be read; it is left alone and this run keeps quarantines in memory only");
            PluginQuarantine::in_memory()
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

    #[test]
    fn entries_survive_a_reopen_and_trust_clears_by_hash_or_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = open(dir.path());
        q.add(entry("aa", "one", 1)).expect("save");
        q.add(entry("bb", "two", 2)).expect("save");
        q.add(entry("aa", "one", 9)).expect("again");
        let reopened = open(dir.path());
        assert_eq!(
            reopened
                .list()
                .iter()
                .map(|e| e.sha256.as_str())
                .collect::<Vec<_>>(),
            ["aa", "bb"]
        );
        assert_eq!(
            reopened.get("aa").map(|e| e.since),
            Some(1),
            "the first reason stays"
        );
        assert_eq!(reopened.trust("two").expect("trust").len(), 1);
        assert_eq!(reopened.trust("aa").expect("trust").len(), 1);
        assert!(open(dir.path()).list().is_empty());
    }

    #[test]
    fn a_newer_versions_file_is_never_written_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let newer = br#"{"schemaVersion": 99, "entries": [], "future": true}"#;
        std::fs::write(dir.path().join(QUARANTINE_FILE), newer).expect("write");
        let q = open(dir.path());
        q.add(entry("aa", "one", 1)).expect("held in memory");
        assert!(q.get("aa").is_some());
        assert_eq!(
            std::fs::read(dir.path().join(QUARANTINE_FILE)).expect("read"),
            newer,
            "left exactly as it was"
        );
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_not_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(QUARANTINE_FILE), b"{not json").expect("write");
        let q = open(dir.path());
        assert!(q.list().is_empty());
        let kept = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("plugin-quarantine.json.corrupt-")
            });
        assert!(kept, "the unreadable file is kept aside");
    }
}
