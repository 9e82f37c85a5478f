//! Tollgate's host library: the plugin runtime, its policy, the JWT
//! service built on it, and the app's data (`store`) and keys (`secrets`).
//!
//! Only `app::window` touches a window; everything else, the bridge
//! included, is tested without one. The `tollgate` binary (`main.rs`) is a
//! thin command-line adapter over this library, and the integration tests in
//! `tests/` drive the same API.
//!
//! Trust: everything that comes out of a guest is untrusted until a
//! validator in this crate has checked it; see `runtime` and `jwt`.

#![deny(missing_docs)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod bridge;
pub mod guest_artifacts;
pub mod jwt;
pub mod lint;
pub mod runtime;
pub mod scaffold;
pub mod secrets;
pub mod store;
pub mod worker;
