//! The plugin runtime's boundary error: what went wrong loading or calling a
//! plugin, with a stable code per variant.

/// Why a plugin could not be loaded or a call into it failed.
///
/// Each variant has a stable code ([`PluginError::code`]) that the CLI
/// prints and that later crosses the bridge; messages name what was wrong
/// and never carry key material or guest-chosen text that could.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file does not start with the WebAssembly magic number.
    #[error("{what} is not a WebAssembly binary")]
    NotWasm {
        /// What was read (a path or a description).
        what: String,
    },
    /// A core module was given where a component is required.
    #[error("{what} is a core WebAssembly module, not a component (build for wasm32-wasip2, or wrap it with `wasm-tools component new`)")]
    CoreModule {
        /// What was read.
        what: String,
    },
    /// The component failed to validate or compile.
    #[error("{what} is not a valid component: {reason}")]
    InvalidComponent {
        /// What was read.
        what: String,
        /// The validator's message.
        reason: String,
    },
    /// The component imports something the host does not grant it.
    #[error("import `{import}` is refused: {reason}{}", also_list(also))]
    ImportRefused {
        /// The first refused import's full name, e.g. `wasi:filesystem/types@0.2.6`.
        import: String,
        /// Why the host refuses it.
        reason: String,
        /// Every other refused import, so one load names them all.
        also: Vec<String>,
    },
    /// The component does not export what its world requires.
    #[error("the component does not implement world `{world}`: {reason}")]
    WorldMismatch {
        /// The world the manifest names.
        world: String,
        /// What is missing or mistyped.
        reason: String,
    },
    /// The component is not the one its manifest records.
    #[error("{what} does not match its manifest: the manifest records sha256 {expected}, the component is sha256 {actual}")]
    IntegrityMismatch {
        /// What was read.
        what: String,
        /// The manifest's `sha256`.
        expected: String,
        /// The component's.
        actual: String,
    },
    /// A worker read a plugin file other than the one its host checked and
    /// pinned (the file changed in between).
    #[error("{what} is not the component the host checked: the host pinned sha256 {expected}, the file is sha256 {actual}")]
    PinMismatch {
        /// What was read.
        what: String,
        /// The host's pin.
        expected: String,
        /// The file's.
        actual: String,
    },
    /// A plugin loaded from disk by the app has no `sha256` in its manifest.
    #[error("{what} has no sha256 in its manifest; record it with `tollgate plugin hash --write` (the component is sha256 {actual})")]
    IntegrityMissing {
        /// What was read.
        what: String,
        /// The component's.
        actual: String,
    },
    /// The manifest is malformed or asks for more than policy allows.
    #[error(transparent)]
    Manifest(#[from] crate::ManifestError),
    /// The call ran past its deadline and was interrupted.
    #[error("`{function}` ran past its deadline of {deadline_ms} ms and was stopped")]
    DeadlineExceeded {
        /// The export called.
        function: String,
        /// The deadline from the manifest.
        deadline_ms: u64,
    },
    /// The guest tried to grow memory or a table beyond its limit.
    #[error("`{function}` exceeded its memory limit of {memory_mib} MiB")]
    MemoryLimitExceeded {
        /// The export called.
        function: String,
        /// The limit from the manifest.
        memory_mib: u64,
    },
    /// The guest overflowed its stack.
    #[error("`{function}` overflowed the guest stack")]
    StackOverflow {
        /// The export called.
        function: String,
    },
    /// The guest trapped for another reason (unreachable, out-of-bounds, ...).
    #[error("`{function}` trapped: {trap}")]
    Trapped {
        /// The export called.
        function: String,
        /// wasmtime's trap description.
        trap: String,
    },
    /// The guest called `wasi:cli/exit`.
    #[error("`{function}` exited the guest (status {status})")]
    GuestExited {
        /// The export called.
        function: String,
        /// The exit status the guest gave.
        status: i32,
    },
    /// The per-function quota of the manifest is exhausted.
    #[error("`{function}` of plugin `{plugin}` is over its rate quota")]
    RateLimited {
        /// The plugin.
        plugin: String,
        /// The export called.
        function: String,
    },
    /// The guest returned something its validator refused. The output is
    /// dropped; nobody sees it.
    #[error("the output of `{function}` was refused: {reason}")]
    OutputRejected {
        /// The export called.
        function: String,
        /// What the validator found (never the output itself).
        reason: String,
    },
    /// Reading a plugin or manifest file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The worker process died during the call (or between calls). The next
    /// call starts a new worker.
    #[error("the plugin worker process crashed; the call was lost")]
    WorkerCrashed,
    /// Workers crashed repeatedly; none is started until the cool-down ends.
    #[error("the plugin worker crashed {crashes} times in a row; retrying in {retry_after_ms} ms")]
    WorkerUnavailable {
        /// Crashes that opened the breaker.
        crashes: u32,
        /// When a new worker will be tried.
        retry_after_ms: u64,
    },
    /// A worker could not be started or did not authenticate in time.
    #[error("cannot start the plugin worker: {0}")]
    WorkerStart(String),
    /// The runtime inside the worker failed; the worker's code and message.
    #[error("{message}")]
    InWorker {
        /// The worker's code, if it is one of ours; else `INTERNAL_ERROR`.
        code: &'static str,
        /// The worker's message.
        message: String,
    },
    /// The runtime itself failed (engine set-up, instantiation resources).
    #[error("plugin runtime failure: {0}")]
    Runtime(String),
    /// The plugin failed a key-carrying call without an explanation the
    /// host accepts, and is refused keys until the user trusts it again
    /// (`tollgate plugin trust`, or the plugins card).
    #[error("plugin `{plugin}` (sha256 {sha256}) is quarantined: {reason}; it gets no key until you trust it again (`tollgate plugin trust {plugin}`, or Trust on the plugins card)")]
    Quarantined {
        /// The plugin's name.
        plugin: String,
        /// Its component's SHA-256.
        sha256: String,
        /// What the host saw, in the host's words.
        reason: String,
    },
}

impl PluginError {
    /// The stable code of this error, as the CLI prints it and the bridge
    /// will send it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotWasm { .. } => "PLUGIN_NOT_WASM",
            Self::CoreModule { .. } => "PLUGIN_NOT_A_COMPONENT",
            Self::InvalidComponent { .. } => "PLUGIN_INVALID",
            Self::ImportRefused { .. } => "PLUGIN_IMPORT_REFUSED",
            Self::WorldMismatch { .. } => "PLUGIN_WORLD_MISMATCH",
            Self::Manifest(e) => e.code(),
            Self::IntegrityMismatch { .. } | Self::PinMismatch { .. } => "PLUGIN_INTEGRITY_MISMATCH",
            Self::IntegrityMissing { .. } => "PLUGIN_INTEGRITY_MISSING",
            Self::DeadlineExceeded { .. } => "PLUGIN_DEADLINE_EXCEEDED",
            Self::MemoryLimitExceeded { .. } => "PLUGIN_MEMORY_LIMIT",
            Self::StackOverflow { .. } => "PLUGIN_STACK_OVERFLOW",
            Self::Trapped { .. } => "PLUGIN_TRAPPED",
            Self::GuestExited { .. } => "PLUGIN_EXITED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::OutputRejected { .. } => "PLUGIN_OUTPUT_REJECTED",
            Self::Io { .. } => "IO_ERROR",
            Self::WorkerCrashed => "WORKER_CRASHED",
            Self::WorkerUnavailable { .. } => "WORKER_UNAVAILABLE",
            Self::WorkerStart(_) => "WORKER_START_FAILED",
            Self::InWorker { code, .. } => code,
            Self::Runtime(_) => "INTERNAL_ERROR",
            Self::Quarantined { .. } => "PLUGIN_QUARANTINED",
        }
    }

    /// Whether the guest itself failed the call: it trapped, ran out of
    /// time, memory or stack, exited, or answered
    /// something the host refused. Not: the host's own refusals before the
    /// call (quota, quarantine), I/O, or a worker that could not start or
    /// died (a guest can't kill its worker short of a wasmtime bug; outside
    /// kills are common, and a worker that is gone got no key).
    /// For a key-carrying call whose inputs the host had checked, such a
    /// failure has no innocent explanation (see `jwt::quarantine`).
    pub fn is_guest_failure(&self) -> bool {
        match self {
            Self::DeadlineExceeded { .. }
            | Self::MemoryLimitExceeded { .. }
            | Self::StackOverflow { .. }
            | Self::Trapped { .. }
            | Self::GuestExited { .. }
            | Self::OutputRejected { .. } => true,
            Self::InWorker { code, .. } => matches!(
                *code,
                "PLUGIN_DEADLINE_EXCEEDED"
                    | "PLUGIN_MEMORY_LIMIT"
                    | "PLUGIN_STACK_OVERFLOW"
                    | "PLUGIN_TRAPPED"
                    | "PLUGIN_EXITED"
                    | "PLUGIN_OUTPUT_REJECTED"
            ),
            _ => false,
        }
    }

    /// A code received from a worker, as one of ours (unknown ones become
    /// `INTERNAL_ERROR`: a worker cannot invent codes).
    pub fn known_code(code: &str) -> &'static str {
        const KNOWN: &[&str] = &[
            "PLUGIN_NOT_WASM", "PLUGIN_NOT_A_COMPONENT", "PLUGIN_INVALID", "PLUGIN_IMPORT_REFUSED",
            "PLUGIN_WORLD_MISMATCH", "MANIFEST_INVALID", "MANIFEST_OVER_POLICY", "MANIFEST_UNKNOWN_WORLD",
            "PLUGIN_DEADLINE_EXCEEDED", "PLUGIN_MEMORY_LIMIT", "PLUGIN_STACK_OVERFLOW", "PLUGIN_TRAPPED",
            "PLUGIN_EXITED", "RATE_LIMITED", "PLUGIN_OUTPUT_REJECTED", "IO_ERROR", "PLUGIN_INTEGRITY_MISMATCH",
            "PLUGIN_INTEGRITY_MISSING", "PLUGIN_QUARANTINED",
        ];
        KNOWN.iter().find(|k| **k == code).copied().unwrap_or("INTERNAL_ERROR")
    }
}

fn also_list(also: &[String]) -> String {
    if also.is_empty() { String::new() } else { format!(" (also refused: {})", also.join(", ")) }
}
