//! The hosts the user allowed key sets to be fetched from
//! (`jwt:verify-key-set-url`), kept in `jwks-hosts.json` in the data
//! directory. Offline by default: the list starts empty, and a host joins
//! it only when the user says so in the host's own dialog; the page can
//! read the list and take hosts off it, never add one.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::store::atomic_file::AtomicFile;

/// The file's name in the data directory.
pub const JWKS_HOSTS_FILE: &str = "jwks-hosts.json";
const SCHEMA_VERSION: u32 = 1;
/// The most hosts kept.
pub const MAX_JWKS_HOSTS: usize = 32;
const MAX_FILE_BYTES: u64 = 64 * 1024;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostsFile {
    hosts: Vec<String>,
}

/// The allowed hosts (`host` or `host:port`, lowercase), on disk first.
#[derive(Debug)]
pub struct JwksHosts {
    file: AtomicFile,
    loaded: Mutex<Option<Vec<String>>>,
}

impl JwksHosts {
    /// The list in `data_dir` (read on first use).
    pub fn new(data_dir: &Path) -> Self {
        Self { file: AtomicFile::new(data_dir, JWKS_HOSTS_FILE), loaded: Mutex::new(None) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Vec<String>) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let mut guard = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            let read = self.file.load::<HostsFile>(MAX_FILE_BYTES, SCHEMA_VERSION)?.unwrap_or_default();
            *guard = Some(read.hosts.into_iter().take(MAX_JWKS_HOSTS).collect());
        }
        match guard.as_mut() {
            Some(hosts) => f(hosts),
            None => Err(StoreError::LoadFailed { file: JWKS_HOSTS_FILE, reason: "the list was not loaded".into() }),
        }
    }

    fn write(&self, hosts: &[String]) -> Result<(), StoreError> {
        self.file
            .save(SCHEMA_VERSION, &HostsFile { hosts: hosts.to_vec() })
            .map_err(|e| StoreError::SaveFailed { file: JWKS_HOSTS_FILE, reason: e.to_string() })
    }

    /// The allowed hosts, in the order they were allowed.
    pub fn list(&self) -> Result<Vec<String>, StoreError> {
        self.with(|hosts| Ok(hosts.clone()))
    }

    /// Whether `host` is allowed.
    pub fn allows(&self, host: &str) -> Result<bool, StoreError> {
        self.with(|hosts| Ok(hosts.iter().any(|h| h == host)))
    }

    /// Adds `host` (the user said yes in the host's dialog).
    pub fn allow(&self, host: &str) -> Result<(), StoreError> {
        self.with(|hosts| {
            if hosts.iter().any(|h| h == host) {
                return Ok(());
            }
            if hosts.len() >= MAX_JWKS_HOSTS {
                return Err(StoreError::invalid("host", format!("at most {MAX_JWKS_HOSTS} hosts are kept; forget one first")));
            }
            let mut next = hosts.clone();
            next.push(host.to_owned());
            self.write(&next)?;
            *hosts = next;
            Ok(())
        })
    }

    /// Takes `host` off the list; the list as it now is.
    pub fn forget(&self, host: &str) -> Result<Vec<String>, StoreError> {
        self.with(|hosts| {
            let next: Vec<String> = hosts.iter().filter(|h| *h != host).cloned().collect();
            if next.len() != hosts.len() {
                self.write(&next)?;
                *hosts = next;
            }
            Ok(hosts.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_kept_on_disk_once_each_and_can_be_forgotten() {
        let dir = tempfile::tempdir().expect("dir");
        let hosts = JwksHosts::new(dir.path());
        assert_eq!(hosts.list().expect("list"), Vec::<String>::new(), "offline by default");
        hosts.allow("login.example.com").expect("allow");
        hosts.allow("login.example.com").expect("again");
        hosts.allow("127.0.0.1:8443").expect("allow");
        let reread = JwksHosts::new(dir.path());
        assert_eq!(reread.list().expect("list"), ["login.example.com", "127.0.0.1:8443"]);
        assert!(reread.allows("127.0.0.1:8443").expect("allows"));
        assert!(!reread.allows("127.0.0.1").expect("allows"), "another port is another host");
        assert_eq!(reread.forget("login.example.com").expect("forget"), ["127.0.0.1:8443"]);
        assert_eq!(JwksHosts::new(dir.path()).list().expect("list"), ["127.0.0.1:8443"]);
        for i in 0..MAX_JWKS_HOSTS {
            let _ = reread.allow(&format!("h{i}.example"));
        }
        assert!(reread.allow("one-too-many.example").is_err());
    }
}
