//! The backend on a background thread, for synchronous tests (the host's
//! are plain `std::thread` code): [`spawn_backend_blocking`] binds
//! `127.0.0.1:0`, serves on its own tokio runtime, and stops when the
//! [`RunningBackend`] is dropped.
//!
//! ```no_run
//! use tollgate_auth_backend::fake_github::FakeGithub;
//! use tollgate_auth_backend::testing::spawn_backend_blocking;
//!
//! let github = FakeGithub::start_blocking();
//! let backend = spawn_backend_blocking(github.backend_config()).expect("backend starts");
//! println!("backend at {}", backend.url());
//! ```

use std::net::SocketAddr;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::{Config, ServeError};

/// A backend serving on loopback. Dropping it stops the server and waits
/// until its port is closed.
pub struct RunningBackend {
    url: String,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), ServeError>>>,
}

impl RunningBackend {
    /// The base URL, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server; answers how it ended.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ServeError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }
}

impl Drop for RunningBackend {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Already unwinding: stop, but do not panic again.
            if let Some(shutdown) = self.shutdown.take() {
                let _ = shutdown.send(());
            }
            return;
        }
        if let Err(e) = self.stop_and_join() {
            tracing::error!("test backend stopped with an error: {e}");
        }
    }
}

impl std::fmt::Debug for RunningBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBackend").field("url", &self.url).finish_non_exhaustive()
    }
}

/// Starts the backend for `config` on `127.0.0.1:0` on a thread of its own.
/// The configuration is checked before this returns; the port is bound, so
/// requests can be sent at once.
pub fn spawn_backend_blocking(config: Config) -> Result<RunningBackend, ServeError> {
    let config = config.validate()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (shutdown, stop) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new().name("auth-backend".to_owned()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            crate::serve_with_shutdown(config, listener, async {
                let _ = stop.await;
            })
            .await
        })
    })?;
    Ok(RunningBackend { url: format!("http://{addr}"), addr, shutdown: Some(shutdown), thread: Some(thread) })
}
