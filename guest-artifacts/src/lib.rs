//! Paths of the guest components built from `guest-plugins/` by this
//! crate's build script, and the manifest beside each.
//!
//! The first-party signer is also embedded in the binary
//! ([`JWT_SIGNER_WASM`]), so `tollgate` works wherever it is copied. The
//! hostile guests are the corpus that the integration tests and
//! `tollgate audit` (`crate::audit::guests`) run against the host; they are
//! embedded too (`<NAME>_WASM`, `<NAME>_MANIFEST`), so the audit runs from
//! the release binary anywhere. The ones written as WebAssembly text
//! (`guest-plugins/hostile/*/*.wat`) are made components by the build
//! script; their `_WASM_PATH` is in the build's output directory.

include!(concat!(env!("OUT_DIR"), "/guest_artifacts.rs"));

/// The first-party signer component, embedded at build time.
pub const JWT_SIGNER_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jwt_signer.wasm"));

/// The first-party signer's manifest, embedded at build time.
pub const JWT_SIGNER_MANIFEST: &str = include_str!("../../guest-plugins/jwt-signer/tollgate.toml");

/// The first-party claims linter component, embedded at build time.
pub const CLAIMS_LINTER_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/claims_linter.wasm"));

/// The first-party claims linter's manifest, embedded at build time.
pub const CLAIMS_LINTER_MANIFEST: &str = include_str!("../../guest-plugins/claims-linter/tollgate.toml");
