//! Plugins in a separate worker process. If a guest ever escaped wasmtime,
//! it would land in a process that holds no keys between calls, no
//! keychain session, no window, and an empty environment.
//!
//! The host listens on a Unix socket in a private directory; it starts
//! `tollgate-worker` (its own binary) with a fresh 256-bit token in the worker's environment;
//! the worker's first frame must present that token within the handshake
//! timeout. Then the host sends guest calls and checks every answer exactly
//! as it does in-process (`jwt::JwtSigner`). See docs/security/ipc-security.md.

pub mod frame;
pub mod process;
pub mod protocol;
pub mod seccomp;
pub mod serve;
pub mod server;
pub mod token;

pub use process::{WORKER_PROGRAM, WorkerOptions, WorkerSigner, default_worker_program};
pub use serve::{WorkerError, WorkerPlugin, run_worker, send_handshake};
pub use server::{HandshakeConfig, HandshakeServer};
pub use token::{
    HANDSHAKE_TOKEN_ENV, HandshakeToken, HandshakeTokenError, generate_handshake_token, inject_handshake_token,
    parse_handshake_token,
};
