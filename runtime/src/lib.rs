//! Tollgate's plugin runtime: one wasmtime engine per process, plugins
//! loaded from a component and its manifest, and calls made under a
//! deadline, memory and table limits and a rate quota; and the services
//! built on it that hold no window and no keychain: the JWT service over a
//! signer guest (`jwt`), the claims linter (`lint`), and the worker process
//! that runs a signer out of the host's process (`worker`).
//!
//! This crate is the box "plugin runtime" of docs/architecture.md. It must
//! not depend on tao, wry, GTK, WebKit, cairo or the keychain:
//! `scripts/check-crate-deps` fails `just test` if one comes back, and the
//! worker binary (`tollgate-worker`) links only this.
//!
//! Trusts: the host's own policy and the manifest once checked against it.
//! Does not trust: the component's imports (each one is authorized by
//! `policy::authorize_imports`), anything a guest returns (validated by the
//! caller, e.g. `jwt::verify_output`), or anything a guest logs (capped,
//! and withheld while a call carries key material).

#![deny(missing_docs)]

pub(crate) mod bindings;
mod code_cache;
mod engine;
mod error;
mod host_api;
mod inspect;
pub mod jwt;
pub mod lint;
mod manifest;
mod plugin;
pub mod policy;
mod wasi_shim;
pub mod worker;

pub use engine::{EngineOptions, PluginEngine, EPOCH_TICK};
pub use error::PluginError;
pub use host_api::{FixedClock, HostClock, PluginState, SystemClock, unix_seconds};
pub use inspect::{ExportReport, ImportReport, Inspection};
pub use manifest::{Limits, Manifest, ManifestError, Quota};
pub use plugin::{InstanceReuse, Plugin, PluginSource, WorldBindings, component_sha256};
pub use policy::HostPolicy;

/// Writes `bytes` to a new file at `path` that only its owner can read
/// (mode 0600; refused if the path exists), flushed to disk: a key the
/// CLI generates, the private copy of a plugin a worker loads.
pub fn write_new_private_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The generated world types callers name (e.g. `Plugin<JwtSignerWorld>`).
pub mod worlds {
    pub use super::bindings::JwtSigner as JwtSignerWorld;
    /// The signer world of the previous minor (`tollgate:jwt/jwt-signer@0.2.0`).
    pub use super::bindings::since_v0_2::JwtSigner as JwtSignerWorldV0_2;
    /// The signer world of the minor before (`tollgate:jwt/jwt-signer@0.1.0`).
    pub use super::bindings::since_v0_1::JwtSigner as JwtSignerWorldV0_1;
    pub use super::bindings::ClaimsLinter as ClaimsLinterWorld;
}
