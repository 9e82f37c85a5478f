//! Tollgate's app without its window: what a profile is and where it is
//! kept (`store`), the keys sealed by the OS keychain (`secrets`), GitHub
//! sign-in (`auth`), the services that tie them to the plugin runtime
//! (`services`, `tokens`, `dev_plugins`), and the bridge's channels, one
//! file per namespace under `channels/` with one `register_all`.
//!
//! Nothing here links the window stack (tao, wry, GTK, WebKit, cairo):
//! `scripts/check-crate-deps` fails if one comes back. The window
//! (`tollgate-window`) sits on top of this crate and reaches the user
//! through three small queues it connects ([`window_opener`],
//! [`trust_prompt`], [`file_dialogs`]); everything here is tested without a display.
//!
//! Trust: every value a channel takes comes from the page and is checked
//! by the bridge's registry, then by the handler; keys never leave
//! `secrets` except sealed.

#![deny(missing_docs)]

pub mod auth;
pub mod bundle;
pub mod channels;
pub mod dev_plugins;
pub mod file_dialogs;
pub mod http;
pub mod jwks_fetch;
pub mod key_files;
pub mod key_jobs;
pub mod secrets;
pub mod services;
pub mod store;
pub mod tokens;
pub mod trust_prompt;
pub mod window_opener;

pub use services::{AppError, AppServices, SignerIsolation, build_bridge};
pub use tollgate_bridge as bridge;
pub use tollgate_guest_artifacts as guest_artifacts;
pub use tollgate_runtime as runtime;
pub use tollgate_runtime::{jwt, lint, worker};
