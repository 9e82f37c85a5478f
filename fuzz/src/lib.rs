//! Helpers shared by the fuzz targets in `fuzz_targets/`: test doubles for
//! what a fuzz process can't have (an OS keychain, a browser), and the
//! small component `component_values` loads through the real runtime.
//!
//! Nothing here weakens a check of the host: the doubles stand where the
//! host takes a trait object anyway (`Keychain`, `BrowserOpener`), and the
//! component is loaded by the same `PluginEngine::load` as any plugin.

use std::sync::Mutex;

use tollgate::auth::BrowserOpener;
use tollgate::runtime::EngineOptions;
use tollgate::secrets::{Keychain, KeychainError};
use zeroize::Zeroizing;

pub mod guest;

/// A keychain entry in memory. The fuzz process has no Secret Service
/// (with none, the real keychain answers a typed `KEYCHAIN_UNAVAILABLE`,
/// which would stop every channel that seals a key at its first step).
#[derive(Default)]
pub struct MemoryKeychain {
    entry: Mutex<Option<Zeroizing<Vec<u8>>>>,
}

impl Keychain for MemoryKeychain {
    fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        Ok(self.entry.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn write(&self, secret: &[u8]) -> Result<(), KeychainError> {
        *self.entry.lock().unwrap_or_else(|p| p.into_inner()) = Some(Zeroizing::new(secret.to_vec()));
        Ok(())
    }

    fn delete(&self) -> Result<(), KeychainError> {
        *self.entry.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    fn describe(&self) -> String {
        "in-memory fuzz keychain".into()
    }
}

/// A browser that opens nothing: sign-in must never start a process from
/// a fuzz run.
pub struct NoBrowser;

impl BrowserOpener for NoBrowser {
    fn open(&self, _url: &url::Url) -> Result<(), String> {
        Err("no browser in a fuzz run".into())
    }
}

/// The engine options of the targets that load components: the host's
/// defaults, with compiled code cached under `fuzz/target/` so a run after
/// the first skips compiling the guests (seconds each when cargo fuzz has
/// instrumented cranelift too, `just fuzz`).
pub fn engine_options() -> EngineOptions {
    EngineOptions {
        cache_dir: Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("wasmtime-cache")),
        ..EngineOptions::default()
    }
}

/// Lowercase hex of `bytes`: how the targets hand raw fuzz bytes to a guest
/// through a string parameter (the guest decodes every hex digit it finds).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
