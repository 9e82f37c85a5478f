//! The worker's side: `tollgate-worker` connects back to the host, proves
//! itself with the token, then makes the guest calls it is sent. It holds
//! no keys between calls, no keychain session, no window.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::jwt::{Algorithm, JwtSigner};
use crate::jwt::backend::{GuestAnswer, SignerBackend, load_signer_backend};
use crate::{EngineOptions, PluginEngine, PluginError, PluginSource};
use crate::worker::frame::{FrameError, MAX_FRAME_BYTES, MAX_HANDSHAKE_FRAME_BYTES, read_frame, spin_until_readable, write_frame};
use crate::worker::protocol::{CallOutcome, HandshakeReply, HandshakeRequest, Secret, SignerCall, WorkerRequest, WorkerResponse};
use crate::worker::token::{HandshakeTokenError, take_handshake_token_from_process_env};

/// How long the worker waits for the host's answer to its handshake.
const HANDSHAKE_REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the worker polls for the next call before sleeping: calls in
/// a burst then skip a vCPU wake-up each.
const NEXT_CALL_SPIN: Duration = Duration::from_micros(100);

/// Why the worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// No usable token in the environment.
    #[error(transparent)]
    Token(#[from] HandshakeTokenError),
    /// The host refused the handshake or could not be reached.
    #[error("handshake with the host failed: {0}")]
    Handshake(String),
    /// The plugin could not be loaded.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

impl WorkerError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Token(e) => e.code(),
            Self::Handshake(_) => "WORKER_HANDSHAKE_FAILED",
            Self::Plugin(e) => e.code(),
            Self::Io(_) => "IO_ERROR",
        }
    }
}

/// What the worker runs.
#[derive(Debug, Clone, Default)]
pub struct WorkerPlugin {
    /// A signer component; the built-in one when `None`.
    pub wasm: Option<PathBuf>,
    /// Its manifest.
    pub manifest: Option<PathBuf>,
    /// The component's SHA-256 (lowercase hex) as the host hashed the
    /// bytes it checked: the worker refuses a file that reads otherwise
    /// (swapped between the host's check and the worker's load).
    pub sha256: Option<String>,
}

/// The component read is the one the host pinned, when it pinned one.
fn check_pin(source: &PluginSource<'_>, pin: Option<&str>) -> Result<(), PluginError> {
    let Some(expected) = pin else { return Ok(()) };
    let actual = crate::component_sha256(&source.wasm);
    if actual == expected {
        return Ok(());
    }
    Err(PluginError::PinMismatch { what: source.what.clone(), expected: expected.to_owned(), actual })
}

/// Sends a handshake with `token_hex` over `stream` and reads the reply.
pub fn send_handshake(stream: &mut UnixStream, token_hex: &str, timeout: Duration) -> Result<HandshakeReply, FrameError> {
    let request = HandshakeRequest::Handshake { token: Secret(token_hex.to_owned()) };
    let body = zeroize::Zeroizing::new(serde_json::to_vec(&request).map_err(|e| FrameError::Io(std::io::Error::other(e)))?);
    write_frame(stream, &body).map_err(FrameError::Io)?;
    let reply = read_frame(stream, MAX_HANDSHAKE_FRAME_BYTES, Some(Instant::now() + timeout))?;
    serde_json::from_slice(&reply).map_err(|e| FrameError::Io(std::io::Error::other(e)))
}

/// Locks the worker process down as far as Linux allows without
/// privileges: no new privileges (no set-uid escalation, a precondition of
/// seccomp), and death with the parent.
fn harden() {
    if let Err(e) = rustix::thread::set_no_new_privs(true) {
        tracing::warn!(error = %e, "cannot set no-new-privileges");
    }
    if let Err(e) = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL)) {
        tracing::warn!(error = %e, "cannot tie the worker's life to its parent");
    }
}

/// `tollgate-worker`: take the token, harden, load the plugin, connect,
/// authenticate, then serve calls until the host hangs up.
pub fn run_worker(socket: &Path, plugin: &WorkerPlugin, cache_dir: Option<PathBuf>) -> Result<(), WorkerError> {
    // First, while single-threaded: read and remove the token.
    let token = take_handshake_token_from_process_env()?;
    harden();
    let engine = PluginEngine::new(EngineOptions { cache_dir, ..Default::default() })?;
    // Either version of the signer world (the manifest picks it).
    let signer: Box<dyn SignerBackend> = match (&plugin.wasm, &plugin.manifest) {
        (Some(wasm), manifest) => {
            let source = PluginSource::from_files(wasm, manifest.as_deref())?;
            check_pin(&source, plugin.sha256.as_deref())?;
            load_signer_backend(&engine, &source, false)?
        }
        (None, _) => load_signer_backend(&engine, &JwtSigner::builtin_source(), false)?,
    };
    let mut stream = UnixStream::connect(socket)?;
    match send_handshake(&mut stream, &token.to_hex(), HANDSHAKE_REPLY_TIMEOUT) {
        Ok(HandshakeReply::HandshakeOk) => {}
        Ok(HandshakeReply::HandshakeFailed { code }) => return Err(WorkerError::Handshake(code.code().to_owned())),
        Err(e) => return Err(WorkerError::Handshake(e.to_string())),
    }
    drop(token);
    // Start, before the filter, what the runtime would otherwise start
    // lazily with calls the filter forbids (files in /proc and /sys).
    wasmtime_wasi::runtime::in_tokio(async {});
    let _ = std::thread::available_parallelism();
    if let Err(e) = crate::worker::seccomp::install() {
        tracing::warn!(error = %e, "worker runs without a seccomp filter");
    }
    loop {
        spin_until_readable(&stream, NEXT_CALL_SPIN);
        let frame = match read_frame(&mut stream, MAX_FRAME_BYTES, None) {
            Ok(frame) => frame,
            Err(FrameError::Closed) => return Ok(()),
            Err(e) => return Err(WorkerError::Io(std::io::Error::other(e.to_string()))),
        };
        let request: WorkerRequest = match serde_json::from_slice(&frame) {
            Ok(r) => r,
            Err(e) => return Err(WorkerError::Io(std::io::Error::other(format!("malformed request: {e}")))),
        };
        let outcome = execute(signer.as_ref(), request.call);
        let mut body = zeroize::Zeroizing::new(
            serde_json::to_vec(&WorkerResponse { id: request.id, outcome }).map_err(std::io::Error::other)?,
        );
        if body.len() > MAX_FRAME_BYTES as usize {
            // A guest's oversized answer must not take the worker down.
            let outcome = CallOutcome::Runtime {
                code: "PLUGIN_OUTPUT_REJECTED".into(),
                message: format!("the guest's answer is {} bytes, over the {MAX_FRAME_BYTES}-byte frame limit", body.len()),
            };
            body = zeroize::Zeroizing::new(
                serde_json::to_vec(&WorkerResponse { id: request.id, outcome }).map_err(std::io::Error::other)?,
            );
        }
        write_frame(&mut stream, &body)?;
    }
}

fn outcome<T>(answer: GuestAnswer<T>, wrap: impl FnOnce(T) -> CallOutcome) -> CallOutcome {
    match answer {
        Ok(Ok(value)) => wrap(value),
        Ok(Err(error)) => CallOutcome::Guest { error },
        Err(e) => CallOutcome::Runtime { code: e.code().to_owned(), message: e.to_string() },
    }
}

fn bad_request(message: &str) -> CallOutcome {
    CallOutcome::Runtime { code: "INVALID_REQUEST".into(), message: message.into() }
}

fn execute(signer: &dyn SignerBackend, call: SignerCall) -> CallOutcome {
    let text = |value| CallOutcome::Text { value };
    match call {
        SignerCall::Sign { alg, key, kid, typ, extra, claims } => {
            let (Ok(alg), Ok(key)) = (alg.parse::<Algorithm>(), STANDARD.decode(&key.0).map(zeroize::Zeroizing::new)) else {
                return bad_request("bad algorithm or key encoding");
            };
            outcome(signer.sign(alg, &key, kid.as_deref(), typ.as_deref(), &extra, &claims), text)
        }
        SignerCall::Decode { token } => outcome(SignerBackend::decode(signer, &token), |parts| CallOutcome::Decoded { parts }),
        SignerCall::Verify { token, key, allowed, leeway } => {
            let allowed: Result<Vec<Algorithm>, _> = allowed.iter().map(|a| a.parse()).collect();
            let (Ok(allowed), Ok(key)) = (allowed, STANDARD.decode(&key.0).map(zeroize::Zeroizing::new)) else {
                return bad_request("bad algorithm or key encoding");
            };
            outcome(SignerBackend::verify(signer, &token, &key, &allowed, leeway), text)
        }
    }
}
