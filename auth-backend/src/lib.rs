//! Tollgate's reference sign-in backend for a GitHub App.
//!
//! The desktop app signs its user in with GitHub's device flow through this
//! backend and gets back an opaque backend session; with it, the app asks
//! for short-lived installation tokens of the App. The user's own GitHub
//! token, the App's private key and the App JWTs it signs stay here.
//!
//! The REST contract is `docs/auth-backend.openapi.yaml`; [`wire`] holds its
//! bodies. [`serve`] runs it on a listener, [`router`] gives the
//! `axum::Router` for embedding. The `tollgate-auth-backend` binary is a
//! thin command-line adapter over this library.
//!
//! Trust: every request is untrusted (see `api`); GitHub is trusted for what
//! it says but its answers are capped and parsed (see `github`). Sessions
//! live in memory only: this is a reference backend, one process.
//!
//! With the `fake-github` feature, [`fake_github`] is a controllable fake
//! GitHub server and [`testing`] runs the backend on a background thread,
//! for tests here and in the host.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod app_jwt;
pub mod config;
mod device_flow;
mod error;
mod github;
mod session;
pub mod wire;

#[cfg(feature = "fake-github")]
pub mod fake_github;
#[cfg(feature = "fake-github")]
pub mod testing;

use std::future::Future;

pub use api::{MAX_REQUEST_BODY_BYTES, SESSION_SWEEP_INTERVAL};
pub use app_jwt::{APP_JWT_BACKDATE, APP_JWT_LIFETIME};
pub use config::{AppPrivateKey, Config, ConfigError};
pub use error::ApiError;
pub use github::{GITHUB_TIMEOUT, USER_AGENT};
pub use session::{MAX_LIVE_TOKENS_PER_SESSION, MAX_SESSIONS};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listener failed.
    #[error("the listener failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The backend's `axum::Router` for `config` (validated first). Expired
/// sessions are dropped when presented; [`serve`] also sweeps them.
pub fn router(config: Config) -> Result<axum::Router, ConfigError> {
    api::build(config).map(|(router, _)| router)
}

/// Serves the backend on `listener` until the process ends.
pub async fn serve(config: Config, listener: tokio::net::TcpListener) -> Result<(), ServeError> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Serves the backend on `listener` until `shutdown` completes, then stops
/// accepting and lets requests in flight finish.
pub async fn serve_with_shutdown<F>(config: Config, listener: tokio::net::TcpListener, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (router, backend) = api::build(config)?;
    let sweeper = tokio::spawn(api::sweep_sessions(backend));
    tracing::info!(addr = %listener.local_addr()?, "tollgate-auth-backend listening");
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    served.map_err(ServeError::Io)
}
