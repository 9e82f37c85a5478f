//! Tollgate's host library: the plugin runtime, its policy, the JWT
//! service built on it, and the app's data (`store`) and keys (`secrets`).
//!
//! Only `app::window` touches a window; everything else is tested without
//! one. The bridge is its own crate (`tollgate-bridge`, re-exported here as
//! `bridge`), so that the compiler, not this comment, keeps it free of the
//! window stack and the plugin runtime. The `tollgate` binary (`main.rs`) is a
//! thin command-line adapter over this library, and the integration tests in
//! `tests/` drive the same API.
//!
//! Trust: everything that comes out of a guest is untrusted until a
//! validator in this crate has checked it; see `runtime` and `jwt`.

#![deny(missing_docs)]

pub mod app;
pub mod audit;
pub mod auth;
pub use tollgate_bridge as bridge;
pub use tollgate_guest_artifacts as guest_artifacts;
pub use tollgate_runtime::{jwt, lint, worker};
pub use tollgate_runtime as runtime;
pub mod scaffold;
pub mod secrets;
pub mod store;
