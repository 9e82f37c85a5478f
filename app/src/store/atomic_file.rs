//! One JSON file with a schema version, written atomically and read
//! strictly.
//!
//! A write goes to a temporary file in the same directory, which is
//! written, fsynced, renamed over the old file, and then the directory is
//! fsynced: at every instant the name points at the whole old file or the
//! whole new one, and a failure (a full disk, a kill) leaves the old one.
//!
//! A read that finds something it can't use moves the file aside to
//! `<name>.corrupt-<timestamp>` with a rename that refuses to replace an
//! existing name, so no earlier copy is ever overwritten and nothing is
//! deleted. A file with a newer `schemaVersion` than this build reads is
//! left in place: it is not corrupt, just not ours to rewrite.

use std::fs::{self, DirBuilder, File};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::store::StoreError;
use crate::store::timestamp;

/// The field every file carries its format version in.
pub const SCHEMA_VERSION_FIELD: &str = "schemaVersion";

/// How many `.corrupt-<timestamp>-<n>` names are tried before giving up
/// (two corruptions within the same millisecond is already unusual).
const MAX_QUARANTINE_NAMES: u32 = 100;

/// Temporary files older than this, left by a process killed mid-write,
/// are removed when the file is next read. Younger ones may belong to a
/// write in progress in another instance of the app.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// A JSON file `name` in `dir`.
#[derive(Debug, Clone)]
pub struct AtomicFile {
    dir: PathBuf,
    name: &'static str,
}

#[derive(Serialize)]
struct Versioned<'a, T: Serialize> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

impl AtomicFile {
    /// The file `name` in `dir` (nothing is touched yet).
    pub fn new(dir: &Path, name: &'static str) -> Self {
        Self { dir: dir.to_path_buf(), name }
    }

    /// The file's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(self.name)
    }

    /// Reads the file: `None` when there is none. At most `max_bytes` are
    /// read (a larger file is refused as corrupt: no file this app writes
    /// is that large). The top level must be an object with
    /// `schemaVersion` equal to `version`; the rest is decoded as `T`
    /// (which should refuse unknown fields). A file that fails any of that
    /// is moved aside (see [`AtomicFile::quarantine`]).
    pub fn load<T: DeserializeOwned>(&self, max_bytes: u64, version: u32) -> Result<Option<T>, StoreError> {
        self.load_since(max_bytes, version, version)
    }

    /// [`load`](Self::load), also reading the older schema versions from
    /// `oldest` on, which `T` must decode as they are (a newer version only
    /// added optional fields).
    pub fn load_since<T: DeserializeOwned>(&self, max_bytes: u64, oldest: u32, version: u32) -> Result<Option<T>, StoreError> {
        self.remove_stale_temps();
        let path = self.path();
        let load_failed = |e: io::Error| StoreError::LoadFailed { file: self.name, reason: e.to_string() };
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(load_failed(e)),
        };
        if !file.metadata().map_err(load_failed)?.is_file() {
            return Err(StoreError::LoadFailed { file: self.name, reason: "it is not a regular file; it was left as it is".into() });
        }
        let mut bytes = Vec::new();
        file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(load_failed)?;
        if bytes.len() as u64 > max_bytes {
            return Err(self.quarantine(format!("it is over {max_bytes} bytes")));
        }
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            // Position only: serde's text may quote the file's contents.
            Err(e) => return Err(self.quarantine(format!("not valid JSON at line {} column {}", e.line(), e.column()))),
        };
        let Value::Object(mut map) = value else {
            return Err(self.quarantine("the top level is not a JSON object".into()));
        };
        match map.remove(SCHEMA_VERSION_FIELD).as_ref().and_then(Value::as_u64) {
            None => return Err(self.quarantine(format!("it has no numeric {SCHEMA_VERSION_FIELD}"))),
            Some(v) if v > u64::from(version) => {
                return Err(StoreError::LoadFailed {
                    file: self.name,
                    reason: format!(
                        "it was written by a newer version of Tollgate ({SCHEMA_VERSION_FIELD} {v}; this version reads {version}); it was left as it is"
                    ),
                });
            }
            Some(v) if v < u64::from(oldest) => {
                return Err(self.quarantine(format!("{SCHEMA_VERSION_FIELD} {v} is not one this version reads")));
            }
            Some(_) => {}
        }
        serde_json::from_value(Value::Object(map))
            .map(Some)
            .map_err(|e| self.quarantine(format!("it does not match schema version {version}: {}", schema_error(&e))))
    }

    /// Moves the file aside to `<name>.corrupt-<timestamp>` (a new name,
    /// never an existing one) and returns the `Corrupt` error naming where
    /// it went. If it can't be moved, it stays and the error says so.
    pub fn quarantine(&self, reason: String) -> StoreError {
        let from = self.path();
        let stamp = timestamp::file_stamp(timestamp::now());
        for n in 0..MAX_QUARANTINE_NAMES {
            let to = self.dir.join(if n == 0 {
                format!("{}.corrupt-{stamp}", self.name)
            } else {
                format!("{}.corrupt-{stamp}-{n}", self.name)
            });
            match rename_no_replace(&from, &to) {
                Ok(()) => {
                    sync_dir(&self.dir);
                    // The reason is not logged: it may describe the user's data.
                    tracing::warn!(file = self.name, moved_to = %to.display(), "unreadable file moved aside");
                    return StoreError::Corrupt { file: self.name, moved_to: to, reason };
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return StoreError::LoadFailed {
                        file: self.name,
                        reason: format!("it is unreadable ({reason}) and could not be moved aside ({e}); it was left as it is"),
                    };
                }
            }
        }
        StoreError::LoadFailed { file: self.name, reason: format!("it is unreadable ({reason}) and no free name was found to move it aside to") }
    }

    /// Writes `body` with `schemaVersion: version` atomically. The
    /// directory is created (0700) if missing. On error the previous file
    /// is untouched and the temporary file removed.
    pub fn save<T: Serialize>(&self, version: u32, body: &T) -> io::Result<()> {
        let mut text = serde_json::to_vec_pretty(&Versioned { schema_version: version, body }).map_err(io::Error::other)?;
        text.push(b'\n');
        DirBuilder::new().recursive(true).mode(0o700).create(&self.dir)?;
        let mut tmp = tempfile::Builder::new().prefix(&self.temp_prefix()).suffix(".tmp").tempfile_in(&self.dir)?;
        tmp.write_all(&text)?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.path()).map_err(|e| e.error)?;
        // The rename is done; the new file is in place. A failed directory
        // fsync only weakens durability across a power cut, so it is logged,
        // not reported as a failed save (the old file is already gone).
        sync_dir(&self.dir);
        Ok(())
    }

    fn temp_prefix(&self) -> String {
        format!(".{}.", self.name)
    }

    fn remove_stale_temps(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        let prefix = self.temp_prefix();
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !(name.starts_with(&prefix) && name.ends_with(".tmp")) {
                continue;
            }
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age > STALE_TEMP_AGE);
            if old {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// serde's message for a typed decode, cut short: it names the field and
/// the expected type, and may quote a bit of the value.
fn schema_error(e: &serde_json::Error) -> String {
    const MAX_CHARS: usize = 200;
    e.to_string().chars().take(MAX_CHARS).collect()
}

/// `rename(from, to)` that fails with `AlreadyExists` instead of replacing
/// `to`. Falls back to link + unlink where the file system has no
/// `RENAME_NOREPLACE`.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            fs::hard_link(from, to)?;
            fs::remove_file(from)
        }
        Err(e) => Err(e.into()),
    }
}

fn sync_dir(dir: &Path) {
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not fsync the data directory");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        n: u32,
    }

    #[test]
    fn saves_and_loads_with_the_schema_version_first() {
        let dir = tempfile::tempdir().expect("dir");
        let file = AtomicFile::new(dir.path(), "x.json");
        assert_eq!(file.load::<Body>(1024, 1).expect("none"), None);
        file.save(1, &Body { n: 7 }).expect("saved");
        let text = fs::read_to_string(file.path()).expect("read");
        assert!(text.trim_start().starts_with("{\n  \"schemaVersion\": 1,"), "{text}");
        assert_eq!(file.load::<Body>(1024, 1).expect("loads"), Some(Body { n: 7 }));
        let names: Vec<_> = fs::read_dir(dir.path()).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    }

    #[test]
    fn unreadable_files_are_moved_aside_under_new_names_and_newer_ones_left_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let file = AtomicFile::new(dir.path(), "x.json");
        let mut moved = Vec::new();
        for bad in ["{not json", "[1]", r#"{"n": 1}"#, r#"{"schemaVersion": 0, "n": 1}"#, r#"{"schemaVersion": 1, "n": "x"}"#] {
            fs::write(file.path(), bad).expect("write");
            match file.load::<Body>(1024, 1) {
                Err(StoreError::Corrupt { moved_to, .. }) => {
                    assert_eq!(fs::read_to_string(&moved_to).expect("kept"), bad);
                    assert!(!moved.contains(&moved_to), "a copy was overwritten");
                    moved.push(moved_to);
                }
                other => panic!("{bad}: {other:?}"),
            }
            assert!(!file.path().exists());
        }
        fs::write(file.path(), "x".repeat(2000)).expect("write");
        assert!(matches!(file.load::<Body>(1024, 1), Err(StoreError::Corrupt { .. })));

        fs::write(file.path(), r#"{"schemaVersion": 2, "n": 1, "later": true}"#).expect("write");
        let err = file.load::<Body>(1024, 1).expect_err("newer");
        assert_eq!(err.code(), "LOAD_FAILED");
        assert!(err.to_string().contains("newer version"), "{err}");
        assert!(file.path().exists(), "a newer file stays where it is");
    }

    #[test]
    fn rename_no_replace_never_replaces() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "a").expect("a");
        fs::write(&b, "b").expect("b");
        assert_eq!(rename_no_replace(&a, &b).expect_err("exists").kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&b).expect("b"), "b");
    }
}
