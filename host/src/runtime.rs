//! The plugin runtime: one wasmtime engine per process, plugins loaded from
//! a component and its manifest, and calls made under a deadline, memory
//! and table limits and a rate quota.
//!
//! Trusts: the host's own policy and the manifest once checked against it.
//! Does not trust: the component's imports (each one is authorized by
//! `policy::authorize_imports`), anything a guest returns (validated by the
//! caller, e.g. `jwt::verify_output`), or anything a guest logs (capped,
//! and withheld while a call carries key material).

pub(crate) mod bindings;
mod code_cache;
mod engine;
mod error;
mod host_api;
mod inspect;
mod manifest;
mod plugin;
pub mod policy;
mod wasi_shim;

pub use engine::{EngineOptions, PluginEngine, EPOCH_TICK};
pub use error::PluginError;
pub use host_api::{FixedClock, HostClock, PluginState, SystemClock, unix_seconds};
pub use inspect::{ExportReport, ImportReport, Inspection};
pub use manifest::{Limits, Manifest, ManifestError, Quota};
pub use plugin::{InstanceReuse, Plugin, PluginSource, WorldBindings, component_sha256};
pub use policy::HostPolicy;

/// The generated world types callers name (e.g. `Plugin<JwtSignerWorld>`).
pub mod worlds {
    pub use super::bindings::JwtSigner as JwtSignerWorld;
    /// The signer world of the previous minor (`tollgate:jwt/jwt-signer@0.1.0`).
    pub use super::bindings::since_v0_1::JwtSigner as JwtSignerWorldV0_1;
    pub use super::bindings::ClaimsLinter as ClaimsLinterWorld;
}
