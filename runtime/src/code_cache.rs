//! The compiled-code cache: a component compiled once is stored as
//! wasmtime's serialized artifact and mapped back in on the next load.
//!
//! wasmtime's own cache compresses artifacts with zstd; decompressing the
//! signer's took most of a 12 ms warm load here. This cache stores them
//! uncompressed and maps them with `Component::deserialize_file`, which is
//! `unsafe` because wasmtime trusts the file to be its own output. That
//! trust is earned here: the directory is created 0700, files are written
//! by this process atomically (temp file + rename), named by the SHA-256
//! of the component and the engine's compatibility hash, and a file that
//! is not owned by this user or is writable by anyone else is never
//! loaded (it is recompiled and replaced). Anyone who can still write to
//! the directory can also edit the user's shell profile: this adds no new
//! trust boundary.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of compiled components.
#[derive(Debug)]
pub struct CodeCache {
    dir: PathBuf,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl CodeCache {
    /// Opens (creating, mode 0700) the cache directory.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        Ok(Self { dir: dir.to_path_buf(), hits: AtomicUsize::new(0), misses: AtomicUsize::new(0) })
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads hits and misses since the cache was opened.
    pub fn stats(&self) -> (usize, usize) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    fn path_for(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut compat = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut compat);
        let mut key = Sha256::new();
        key.update(bytes);
        key.update(compat.finish().to_le_bytes());
        self.dir.join(format!("{}.cwasm", hex::encode(key.finalize())))
    }

    /// The component for `bytes`: mapped from the cache when a trusted
    /// entry exists, otherwise compiled by `compile` and stored.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compile: impl FnOnce() -> wasmtime::Result<Component>,
    ) -> wasmtime::Result<Component> {
        let path = self.path_for(engine, bytes);
        if is_trusted(&path) {
            // SAFETY: the file is this user's own, not writable by others,
            // in a 0700 directory, written by `store` below from
            // `Component::serialize` of this engine's compilation, and named
            // by the hash of the component and the engine's settings.
            #[expect(unsafe_code, reason = "mapping our own compiled artifact; see the module docs")]
            let loaded = unsafe { Component::deserialize_file(engine, &path) };
            match loaded {
                Ok(component) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(component);
                }
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cached code is unusable; recompiling"),
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let component = compile()?;
        if let Err(e) = component.serialize().map_err(std::io::Error::other).and_then(|a| self.store(&path, &a)) {
            // The cache is an optimization: a read-only or full disk only
            // costs the next start a compile.
            tracing::warn!(path = %path.display(), error = %e, "cannot store compiled code");
        }
        Ok(component)
    }

    fn store(&self, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(0o600))?;
        tmp.write_all(artifact)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// A cache entry is loaded only if it is a regular file owned by this user
/// and writable by no one else.
fn is_trusted(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else { return false };
    meta.is_file() && meta.uid() == rustix::process::getuid().as_raw() && meta.mode() & 0o022 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(engine: &Engine) -> wasmtime::Result<Component> {
        Component::new(engine, "(component)")
    }

    #[test]
    fn a_second_load_hits_and_a_tampered_mode_is_not_trusted() {
        let dir = tempfile::tempdir().expect("dir");
        let engine = Engine::default();
        let cache = CodeCache::open(dir.path()).expect("open");
        let bytes = b"(component)";
        cache.load_or_compile(&engine, bytes, || component(&engine)).expect("compile");
        cache.load_or_compile(&engine, bytes, || component(&engine)).expect("cached");
        assert_eq!(cache.stats(), (1, 1));
        let mode = fs::metadata(dir.path()).expect("meta").mode() & 0o777;
        assert_eq!(mode, 0o700);

        let entry = cache.path_for(&engine, bytes);
        fs::set_permissions(&entry, fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(!is_trusted(&entry), "a world-writable entry must not be mapped");
        cache.load_or_compile(&engine, bytes, || component(&engine)).expect("recompiled");
        assert_eq!(cache.stats(), (1, 2));
        assert!(is_trusted(&entry), "the entry is replaced with a private one");
    }
}
