//! The host's end of the worker socket: a listener in a directory only the
//! user can enter, and a handshake on every connection before anything
//! else is read.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::worker::frame::{FrameError, MAX_HANDSHAKE_FRAME_BYTES, read_frame, write_frame};
use crate::worker::protocol::{HandshakeFailure, HandshakeReply, HandshakeRequest};
use crate::worker::token::HandshakeToken;

/// Default time a connection has to present its handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(2000);

/// The shortest handshake timeout a configuration may set: shorter would
/// fail honest workers on a loaded machine.
pub const MIN_HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(50);

/// Unauthenticated connections handled at once; more are closed on
/// arrival. Bounds the threads and memory a local flood can claim.
pub const MAX_PENDING_HANDSHAKES: usize = 64;

/// How the handshake server behaves.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeConfig {
    /// Time to present the handshake (raised to [`MIN_HANDSHAKE_TIMEOUT`]).
    pub timeout: Duration,
    /// Cap on unauthenticated connections.
    pub max_pending: usize,
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        Self { timeout: DEFAULT_HANDSHAKE_TIMEOUT, max_pending: MAX_PENDING_HANDSHAKES }
    }
}

struct Shared {
    path: PathBuf,
    timeout: Duration,
    max_pending: usize,
    expected: Mutex<Option<HandshakeToken>>,
    authenticated: Mutex<mpsc::Sender<UnixStream>>,
    pending: AtomicUsize,
    failed: AtomicU64,
    shed: AtomicU64,
    shutdown: AtomicBool,
}

/// A listening worker socket.
pub struct HandshakeServer {
    _dir: tempfile::TempDir,
    shared: Arc<Shared>,
    authenticated: Mutex<mpsc::Receiver<UnixStream>>,
}

impl HandshakeServer {
    /// Creates a private directory (0700) with the socket in it (0600) and
    /// starts accepting.
    pub fn bind(config: HandshakeConfig) -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("tollgate-ipc-").tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        let path = dir.path().join("worker.sock");
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            path,
            timeout: config.timeout.max(MIN_HANDSHAKE_TIMEOUT),
            max_pending: config.max_pending.max(1),
            expected: Mutex::new(None),
            authenticated: Mutex::new(tx),
            pending: AtomicUsize::new(0),
            failed: AtomicU64::new(0),
            shed: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
        });
        let accepting = shared.clone();
        std::thread::Builder::new()
            .name("tollgate-ipc-accept".into())
            .spawn(move || accept_loop(listener, accepting))?;
        Ok(Self { _dir: dir, shared, authenticated: Mutex::new(rx) })
    }

    /// The socket's path.
    pub fn socket_path(&self) -> &Path {
        &self.shared.path
    }

    /// Arms the server for one authentication with `token`, replacing any
    /// earlier token. A token authenticates one connection only.
    pub fn expect(&self, token: HandshakeToken) {
        *self.shared.expected.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
    }

    /// Waits for the connection that presents the armed token.
    pub fn wait_authenticated(&self, timeout: Duration) -> Option<UnixStream> {
        self.authenticated.lock().unwrap_or_else(|p| p.into_inner()).recv_timeout(timeout).ok()
    }

    /// Handshakes failed since the server started.
    pub fn failed_handshakes(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Connections closed on arrival because too many were unauthenticated.
    pub fn shed_connections(&self) -> u64 {
        self.shared.shed.load(Ordering::Relaxed)
    }
}

impl Drop for HandshakeServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.shared.path);
    }
}

fn accept_loop(listener: UnixListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        if shared.pending.fetch_add(1, Ordering::SeqCst) >= shared.max_pending {
            shared.pending.fetch_sub(1, Ordering::SeqCst);
            shared.shed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(target: "tollgate::security", socket = %shared.path.display(),
                "too many unauthenticated connections; closed one on arrival");
            continue;
        }
        let handling = shared.clone();
        let spawned = std::thread::Builder::new().name("tollgate-ipc-handshake".into()).spawn(move || {
            handshake(stream, &handling);
            handling.pending.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            shared.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn handshake(mut stream: UnixStream, shared: &Shared) {
    let peer = rustix::net::sockopt::socket_peercred(&stream).ok();
    let (pid, uid) = peer.map(|c| (c.pid.as_raw_nonzero().get(), c.uid.as_raw())).unwrap_or((0, u32::MAX));
    let verdict = if uid != rustix::process::getuid().as_raw() {
        Err(HandshakeFailure::PeerRejected)
    } else {
        check(&mut stream, shared)
    };
    match verdict {
        Ok(()) => {
            if write_reply(&mut stream, &HandshakeReply::HandshakeOk).is_ok() {
                let _ = stream.set_read_timeout(None);
                tracing::debug!(socket = %shared.path.display(), pid, "worker authenticated");
                let _ = shared.authenticated.lock().unwrap_or_else(|p| p.into_inner()).send(stream);
            }
        }
        Err(code) => {
            let failed = shared.failed.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(target: "tollgate::security", socket = %shared.path.display(), peer_pid = pid, peer_uid = uid,
                code = code.code(), failed_total = failed, "worker handshake failed");
            let _ = write_reply(&mut stream, &HandshakeReply::HandshakeFailed { code });
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Reads the one frame allowed before authentication and checks it.
fn check(stream: &mut UnixStream, shared: &Shared) -> Result<(), HandshakeFailure> {
    let deadline = Instant::now() + shared.timeout;
    let frame = match read_frame(stream, MAX_HANDSHAKE_FRAME_BYTES, Some(deadline)) {
        Ok(frame) => frame,
        Err(FrameError::Timeout) => return Err(HandshakeFailure::Timeout),
        Err(_) => return Err(HandshakeFailure::InvalidToken),
    };
    let HandshakeRequest::Handshake { token } =
        serde_json::from_slice(&frame).map_err(|_| HandshakeFailure::InvalidToken)?;
    let mut presented = zeroize::Zeroizing::new([0u8; 32]);
    // Length first (64 hex characters), then the bytes in constant time.
    if token.0.len() != 64 || hex::decode_to_slice(&token.0, &mut *presented).is_err() {
        return Err(HandshakeFailure::InvalidToken);
    }
    let mut expected = shared.expected.lock().unwrap_or_else(|p| p.into_inner());
    match expected.as_ref() {
        Some(t) if t.matches(&*presented) => {
            // Single use: a replayed token finds nothing to match.
            *expected = None;
            Ok(())
        }
        _ => Err(HandshakeFailure::InvalidToken),
    }
}

fn write_reply(stream: &mut UnixStream, reply: &HandshakeReply) -> io::Result<()> {
    let body = serde_json::to_vec(reply).map_err(io::Error::other)?;
    write_frame(stream, &body)
}
