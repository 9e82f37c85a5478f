//! The host's handle on a worker process: start it with a fresh token,
//! send it guest calls, notice when it dies, restart it, and stop
//! restarting when it keeps dying (a circuit breaker).

use std::collections::VecDeque;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::jwt::{Algorithm, ExtraHeader};
use crate::jwt::backend::{GuestAnswer, RawDecoded, SignerBackend};
use crate::{HostClock, PluginError, SystemClock};
use crate::worker::frame::{MAX_FRAME_BYTES, read_frame, spin_until_readable, write_frame};
use crate::worker::protocol::{CallOutcome, Secret, SignerCall, WorkerRequest, WorkerResponse};
use crate::worker::server::{HandshakeConfig, HandshakeServer};
use crate::worker::serve::WorkerPlugin;
use crate::worker::token::{generate_handshake_token, inject_handshake_token};

/// How long a new worker has to start, load its plugin and authenticate.
/// A cold compile of the signer takes about 0.6 s here; the rest is slack.
pub const WORKER_START_TIMEOUT: Duration = Duration::from_secs(15);

/// How long one call may take end to end: the policy's longest guest
/// deadline (10 s) plus slack. A worker silent for longer is killed.
pub const WORKER_CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the host polls for a reply before sleeping on the socket.
/// Longer than a typical small call (~50 us), short enough to cost little
/// when a call is slow.
pub const REPLY_SPIN: Duration = Duration::from_micros(200);

/// The worker program's file name.
pub const WORKER_PROGRAM: &str = "tollgate-worker";

/// How often a starting worker is checked for having stopped.
const START_POLL: Duration = Duration::from_millis(20);

/// The longest stderr line of a worker kept for an error message.
const MAX_STDERR_LINE: usize = 1024;

/// The host's own reading of a plugin the worker will load: its SHA-256
/// (the quarantine's key and the worker's pin) and its manifest's deadline
/// (the answer schedule's overrun hold), and whether its world carries
/// custom header fields.
struct Identity {
    sha256: String,
    deadline_ms: u64,
    extra_header: bool,
}

fn identity(source: &crate::PluginSource<'_>) -> Result<Identity, PluginError> {
    let manifest = crate::Manifest::parse(&source.manifest, &crate::HostPolicy::default())?;
    Ok(Identity {
        sha256: crate::component_sha256(&source.wasm),
        deadline_ms: manifest.limits.deadline_ms,
        extra_header: crate::jwt::backend::world_takes_extra_header(&manifest.world),
    })
}

/// The level a line of a worker's stderr was written at, so the host logs
/// it at that level rather than all at one: the worker's log lines are
/// `<time> <LEVEL> <target>: …` (tracing's plain text format, no colour),
/// and its last words before it exits are `error: CODE: message`. Anything
/// else is a warning. A plugin's own output can't choose a level: the
/// worker logs it as a field of its own line, after the level, one line
/// per line.
fn stderr_level(line: &str) -> tracing::Level {
    if line.starts_with("error: ") {
        return tracing::Level::ERROR;
    }
    match line.split_whitespace().nth(1) {
        Some("ERROR") => tracing::Level::ERROR,
        Some("INFO") => tracing::Level::INFO,
        Some("DEBUG") => tracing::Level::DEBUG,
        Some("TRACE") => tracing::Level::TRACE,
        _ => tracing::Level::WARN,
    }
}

/// Passes a worker's stderr on to this process's log, line by line, and
/// keeps the last line (capped) for the error of a worker that stops.
fn forward_stderr(stderr: std::process::ChildStderr, last: Arc<Mutex<String>>) {
    use std::io::BufRead as _;
    let spawned = std::thread::Builder::new().name("tollgate-worker-stderr".into()).spawn(move || {
        for line in std::io::BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { return };
            let mut text = String::from_utf8_lossy(&line).into_owned();
            if text.len() > MAX_STDERR_LINE {
                let cut = (0..=MAX_STDERR_LINE).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                text.truncate(cut);
            }
            match stderr_level(&text) {
                tracing::Level::ERROR => tracing::error!(target: "tollgate::worker", line = %text, "worker stderr"),
                tracing::Level::WARN => tracing::warn!(target: "tollgate::worker", line = %text, "worker stderr"),
                tracing::Level::INFO => tracing::info!(target: "tollgate::worker", line = %text, "worker stderr"),
                tracing::Level::DEBUG => tracing::debug!(target: "tollgate::worker", line = %text, "worker stderr"),
                _ => tracing::trace!(target: "tollgate::worker", line = %text, "worker stderr"),
            }
            *last.lock().unwrap_or_else(|p| p.into_inner()) = text;
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the worker's stderr reader");
    }
}

/// Where the Debian package installs the worker, relative to the
/// directory of `tollgate` (`/usr/bin` -> `/usr/libexec/tollgate`): a
/// helper no user runs by hand stays off `PATH`.
pub const PACKAGED_WORKER_DIR: &str = "../libexec/tollgate";

/// The worker program: beside the running executable (cargo puts
/// `tollgate` and `tollgate-worker` in one directory), else where the
/// package installs it ([`PACKAGED_WORKER_DIR`]). When neither exists, the
/// first, so the error names a path.
pub fn default_worker_program() -> Result<PathBuf, PluginError> {
    let exe = std::env::current_exe().map_err(|e| PluginError::WorkerStart(format!("cannot find this program: {e}")))?;
    let dir = exe.parent().ok_or_else(|| PluginError::WorkerStart(format!("{} has no directory", exe.display())))?;
    let beside = dir.join(WORKER_PROGRAM);
    let packaged = dir.join(PACKAGED_WORKER_DIR).join(WORKER_PROGRAM);
    Ok(if !beside.is_file() && packaged.is_file() { packaged } else { beside })
}

/// How a worker is run.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The worker program (`tollgate-worker`, see [`default_worker_program`]).
    pub program: PathBuf,
    /// The plugin the worker loads.
    pub plugin: WorkerPlugin,
    /// The worker's compiled-code cache.
    pub cache_dir: Option<PathBuf>,
    /// Handshake timeout and caps.
    pub handshake: HandshakeConfig,
    /// Crashes within `breaker_window` that open the breaker.
    pub breaker_threshold: u32,
    /// The window crashes are counted in.
    pub breaker_window: Duration,
    /// How long the breaker stays open.
    pub breaker_cooldown: Duration,
}

impl WorkerOptions {
    /// Defaults for `program`: 3 crashes in 30 s open the breaker for 10 s.
    pub fn new(program: PathBuf) -> Self {
        Self {
            program,
            plugin: WorkerPlugin::default(),
            cache_dir: crate::EngineOptions::default_cache_dir(),
            handshake: HandshakeConfig::default(),
            breaker_threshold: 3,
            breaker_window: Duration::from_secs(30),
            breaker_cooldown: Duration::from_secs(10),
        }
    }
}

struct Live {
    child: Child,
    stream: UnixStream,
}

#[derive(Default)]
struct State {
    live: Option<Live>,
    next_id: u64,
    crashes: VecDeque<Instant>,
    open_until: Option<Instant>,
}

/// A signer whose guest runs in a worker process.
pub struct WorkerSigner {
    options: WorkerOptions,
    /// The private copy of a plugin given as bytes ([`WorkerSigner::from_source`]),
    /// removed with the signer.
    _private_copy: Option<tempfile::TempDir>,
    /// The last line the worker wrote to stderr (its `error: CODE: …` when
    /// it stops before its handshake).
    last_stderr: Arc<Mutex<String>>,
    server: HandshakeServer,
    state: Mutex<State>,
    pid: AtomicU32,
    clock: Arc<dyn HostClock>,
    /// The component's SHA-256, hashed here in the host from the same
    /// bytes the worker is told to load (the built-in signer, or the file).
    sha256: String,
    /// The deadline in its manifest.
    deadline: Duration,
    /// Whether its world carries custom header fields.
    extra_header: bool,
}

impl WorkerSigner {
    /// Binds the socket; the worker starts on the first call. A plugin
    /// named by path is read and hashed here, and the worker is told that
    /// hash: it refuses the file if it reads otherwise when it loads it.
    pub fn new(mut options: WorkerOptions) -> Result<Self, PluginError> {
        let identity = match &options.plugin.wasm {
            None => identity(&crate::jwt::JwtSigner::builtin_source())?,
            Some(path) => identity(&crate::PluginSource::from_files(path, options.plugin.manifest.as_deref())?)?,
        };
        if options.plugin.wasm.is_some() {
            options.plugin.sha256 = Some(identity.sha256.clone());
        }
        Self::bind(options, None, identity)
    }

    /// A worker for a plugin the host has already read and checked: its
    /// exact bytes are written to a private directory (mode 0700, removed
    /// with the signer) that the worker loads from, pinned to their hash.
    /// Nothing that changes the plugin's own folder afterwards reaches the
    /// worker, on its first start or any restart.
    pub fn from_source(mut options: WorkerOptions, source: &crate::PluginSource<'_>) -> Result<Self, PluginError> {
        let identity = identity(source)?;
        let dir = tempfile::Builder::new()
            .prefix("tollgate-worker-plugin-")
            .tempdir()
            .map_err(|e| PluginError::WorkerStart(format!("cannot make the plugin's private copy: {e}")))?;
        let wasm = dir.path().join("plugin.wasm");
        let manifest_path = dir.path().join("tollgate.toml");
        for (path, bytes) in [(&wasm, source.wasm.as_ref()), (&manifest_path, source.manifest.as_bytes())] {
            crate::write_new_private_file(path, bytes)
                .map_err(|e| PluginError::WorkerStart(format!("cannot write the plugin's private copy {}: {e}", path.display())))?;
        }
        options.plugin = WorkerPlugin { wasm: Some(wasm), manifest: Some(manifest_path), sha256: Some(identity.sha256.clone()) };
        Self::bind(options, Some(dir), identity)
    }

    fn bind(options: WorkerOptions, private_copy: Option<tempfile::TempDir>, identity: Identity) -> Result<Self, PluginError> {
        let server = HandshakeServer::bind(options.handshake)
            .map_err(|e| PluginError::WorkerStart(format!("cannot listen: {e}")))?;
        Ok(Self {
            options,
            _private_copy: private_copy,
            last_stderr: Arc::default(),
            server,
            state: Mutex::new(State::default()),
            pid: AtomicU32::new(0),
            clock: Arc::new(SystemClock),
            sha256: identity.sha256,
            deadline: Duration::from_millis(identity.deadline_ms),
            extra_header: identity.extra_header,
        })
    }

    /// The running worker's pid, if one runs.
    pub fn worker_pid(&self) -> Option<u32> {
        Some(self.pid.load(Ordering::SeqCst)).filter(|&p| p != 0)
    }

    /// The handshake server (its socket path and counters).
    pub fn server(&self) -> &HandshakeServer {
        &self.server
    }

    /// Starts a worker now instead of on the first call.
    pub fn start(&self) -> Result<(), PluginError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.ensure_live(&mut state).map(drop)
    }

    fn spawn(&self) -> Result<Live, PluginError> {
        let token = generate_handshake_token().map_err(|e| PluginError::WorkerStart(e.to_string()))?;
        let mut command = Command::new(&self.options.program);
        command.arg("--socket").arg(self.server.socket_path());
        if let Some(cache) = &self.options.cache_dir {
            command.arg("--cache-dir").arg(cache);
        } else {
            command.arg("--no-cache");
        }
        if let Some(wasm) = &self.options.plugin.wasm {
            command.arg("--plugin").arg(wasm);
        }
        if let Some(manifest) = &self.options.plugin.manifest {
            command.arg("--manifest").arg(manifest);
        }
        if let Some(sha256) = &self.options.plugin.sha256 {
            command.arg("--sha256").arg(sha256);
        }
        // Nothing of the host's environment reaches the worker but its log
        // filter and, in an instrumented test build, where coverage
        // profiles go (a path, else the worker writes one into its working
        // directory): no session tokens, no display, no keychain address.
        command.env_clear().stdin(Stdio::null()).stderr(Stdio::piped());
        for name in ["TOLLGATE_LOG", "LLVM_PROFILE_FILE"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        inject_handshake_token(&mut command, &token);
        self.server.expect(token);
        let mut child = command.spawn().map_err(|e| PluginError::WorkerStart(format!("cannot run {}: {e}", self.options.program.display())))?;
        // A restart's error must not quote the worker before it.
        self.last_stderr.lock().unwrap_or_else(|p| p.into_inner()).clear();
        if let Some(stderr) = child.stderr.take() {
            forward_stderr(stderr, Arc::clone(&self.last_stderr));
        }
        // Wait for the handshake, but not for a worker that has already
        // stopped (a plugin it refused, a missing library): its own error
        // line says why.
        let deadline = Instant::now() + WORKER_START_TIMEOUT;
        loop {
            if let Some(stream) = self.server.wait_authenticated(START_POLL) {
                self.pid.store(child.id(), Ordering::SeqCst);
                return Ok(Live { child, stream });
            }
            if let Ok(Some(status)) = child.try_wait() {
                // The forwarding thread may still be reading the last line.
                std::thread::sleep(START_POLL);
                let said = self.last_stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
                return Err(PluginError::WorkerStart(if said.is_empty() {
                    format!("the worker stopped before its handshake ({status})")
                } else {
                    format!("the worker stopped before its handshake ({status}): {said}")
                }));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let status = child.wait().ok();
                return Err(PluginError::WorkerStart(format!("the worker did not authenticate in time (exit: {status:?})")));
            }
        }
    }

    fn ensure_live<'a>(&self, state: &'a mut State) -> Result<&'a mut Live, PluginError> {
        let now = Instant::now();
        if let Some(until) = state.open_until {
            if now < until {
                return Err(PluginError::WorkerUnavailable {
                    crashes: state.crashes.len() as u32,
                    retry_after_ms: until.duration_since(now).as_millis() as u64,
                });
            }
            tracing::info!("worker circuit breaker closed after its cool-down");
            state.open_until = None;
            state.crashes.clear();
        }
        if state.live.is_none() {
            let started = Instant::now();
            match self.spawn() {
                Ok(live) => {
                    tracing::debug!(pid = live.child.id(), elapsed_ms = started.elapsed().as_millis() as u64, "worker started");
                    state.live = Some(live);
                }
                Err(e) => {
                    self.record_crash(state);
                    return Err(e);
                }
            }
        }
        state.live.as_mut().ok_or(PluginError::WorkerCrashed)
    }

    fn record_crash(&self, state: &mut State) {
        let now = Instant::now();
        state.crashes.push_back(now);
        while state.crashes.front().is_some_and(|t| now.duration_since(*t) > self.options.breaker_window) {
            state.crashes.pop_front();
        }
        if state.crashes.len() as u32 >= self.options.breaker_threshold {
            state.open_until = Some(now + self.options.breaker_cooldown);
            tracing::error!(crashes = state.crashes.len(), cooldown_ms = self.options.breaker_cooldown.as_millis() as u64,
                "plugin worker keeps crashing; circuit breaker open");
        }
    }

    fn call(&self, call: SignerCall) -> Result<CallOutcome, PluginError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.next_id += 1;
        let id = state.next_id;
        let live = self.ensure_live(&mut state)?;
        let body = zeroize::Zeroizing::new(
            serde_json::to_vec(&WorkerRequest { id, call }).map_err(|e| PluginError::Runtime(e.to_string()))?,
        );
        let exchanged = write_frame(&mut live.stream, &body)
            .map_err(|e| e.to_string())
            .map(|()| spin_until_readable(&live.stream, REPLY_SPIN))
            .and_then(|()| read_frame(&mut live.stream, MAX_FRAME_BYTES, Some(Instant::now() + WORKER_CALL_TIMEOUT)).map_err(|e| e.to_string()))
            .and_then(|frame| serde_json::from_slice::<WorkerResponse>(&frame).map_err(|e| e.to_string()))
            .and_then(|r| if r.id == id { Ok(r.outcome) } else { Err("response for another call".into()) });
        match exchanged {
            Ok(outcome) => Ok(outcome),
            Err(reason) => {
                if let Some(mut live) = state.live.take() {
                    let _ = live.child.kill();
                    let status = live.child.wait().ok();
                    tracing::warn!(reason, ?status, "plugin worker lost during a call");
                }
                self.pid.store(0, Ordering::SeqCst);
                self.record_crash(&mut state);
                Err(PluginError::WorkerCrashed)
            }
        }
    }

    fn text(&self, call: SignerCall) -> GuestAnswer<String> {
        match self.call(call)? {
            CallOutcome::Text { value } => Ok(Ok(value)),
            CallOutcome::Guest { error } => Ok(Err(error)),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(outcome: CallOutcome) -> PluginError {
    match outcome {
        CallOutcome::Runtime { code, message } => PluginError::InWorker { code: PluginError::known_code(&code), message },
        _ => PluginError::Runtime("the worker answered with the wrong kind of outcome".into()),
    }
}

impl Drop for WorkerSigner {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(mut live) = state.live.take() {
            let _ = live.stream.shutdown(std::net::Shutdown::Both);
            let _ = live.child.kill();
            let _ = live.child.wait();
        }
    }
}

impl SignerBackend for WorkerSigner {
    fn plugin_name(&self) -> &str {
        "jwt-signer (worker)"
    }

    fn plugin_sha256(&self) -> &str {
        &self.sha256
    }

    fn prepare(&self) -> Result<(), PluginError> {
        self.start()
    }

    fn worker_pid(&self) -> Option<u32> {
        WorkerSigner::worker_pid(self)
    }

    fn deadline(&self) -> Duration {
        self.deadline
    }

    fn clock(&self) -> Arc<dyn HostClock> {
        self.clock.clone()
    }

    fn takes_extra_header(&self) -> bool {
        self.extra_header
    }

    fn sign(&self, alg: Algorithm, key: &[u8], kid: Option<&str>, typ: Option<&str>, extra: &ExtraHeader, claims: &str) -> GuestAnswer<String> {
        self.text(SignerCall::Sign {
            alg: alg.name().to_owned(),
            key: Secret(STANDARD.encode(key)),
            kid: kid.map(str::to_owned),
            typ: typ.map(str::to_owned),
            extra: extra.clone(),
            claims: claims.to_owned(),
        })
    }

    fn decode(&self, token: &str) -> GuestAnswer<RawDecoded> {
        match self.call(SignerCall::Decode { token: token.to_owned() })? {
            CallOutcome::Decoded { parts } => Ok(Ok(parts)),
            CallOutcome::Guest { error } => Ok(Err(error)),
            other => Err(unexpected(other)),
        }
    }

    fn verify(&self, token: &str, key: &[u8], allowed: &[Algorithm], leeway: u32) -> GuestAnswer<String> {
        self.text(SignerCall::Verify {
            token: token.to_owned(),
            key: Secret(STANDARD.encode(key)),
            allowed: allowed.iter().map(|a| a.name().to_owned()).collect(),
            leeway,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::Level;

    use super::stderr_level;

    /// Lines written by the worker's own subscriber (tollgate-worker's
    /// main: tracing's fmt layer, no colour) are read back at the level
    /// they were written at, whatever a plugin's text inside them says.
    #[test]
    fn a_worker_line_is_logged_at_the_level_it_was_written_at() {
        let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Writer(Arc::clone(&writer)))
            .with_ansi(false)
            .with_max_level(Level::TRACE)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "tollgate::worker", "one");
            tracing::warn!(target: "tollgate::security", "two");
            tracing::info!(line = "  TRACE a plugin's own text", "three");
            tracing::debug!("four");
            tracing::trace!("five");
        });
        let text = String::from_utf8(buffer.lock().expect("buffer").clone()).expect("utf-8");
        let read: Vec<Level> = text.lines().map(stderr_level).collect();
        assert_eq!(read, [Level::ERROR, Level::WARN, Level::INFO, Level::DEBUG, Level::TRACE], "{text}");
        assert_eq!(stderr_level("error: PLUGIN_INTEGRITY_MISMATCH: the plugin file changed"), Level::ERROR);
        assert_eq!(stderr_level("something else entirely"), Level::WARN);
        assert_eq!(stderr_level(""), Level::WARN);
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
