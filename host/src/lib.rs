//! The `tollgate` binary's library: the command line (`cli`), the plugin
//! scaffold (`scaffold`) and the hostile corpus (`audit`), over the crates
//! that are the boxes of docs/architecture.md, re-exported here so tests,
//! the bench and the audit name them by one path:
//!
//! - `bridge` (tollgate-bridge): envelope, sender check, registry, limits;
//! - `runtime`, `jwt`, `lint`, `worker` (tollgate-runtime): wasmtime and
//!   the guests' contracts, no window and no keychain;
//! - `store`, `secrets`, `auth` and `app::{services, channels, …}`
//!   (tollgate-app): the app without its window;
//! - `app::{window, driver, assets}` (tollgate-window): the tao + wry
//!   adapter and its one driver seam.
//!
//! The compiler keeps those boundaries (`scripts/check-crate-deps` bans the
//! window stack below tollgate-window), not this comment.
//!
//! Trust: everything that comes out of a guest is untrusted until a
//! validator in tollgate-runtime has checked it; everything from the page
//! until the bridge has.

#![deny(missing_docs)]

pub mod app;
pub mod audit;
pub use tollgate_app::{auth, secrets, store};
pub use tollgate_bridge as bridge;
pub use tollgate_guest_artifacts as guest_artifacts;
pub use tollgate_runtime::{jwt, lint, worker};
pub use tollgate_runtime as runtime;
pub mod scaffold;
