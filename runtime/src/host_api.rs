//! What a guest's store holds, and the `tollgate:host` interfaces the host
//! implements for it: logging into `tracing` and the host's clock.
//!
//! Everything a guest passes in here is untrusted: sizes are capped and
//! records over the per-call budget are dropped and counted.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::tollgate::host::{clock, logging};
use crate::bindings::tollgate::jwt::types;
use crate::wasi_shim::CallGuard;

/// Longest log message kept; the rest is cut.
pub const MAX_LOG_MESSAGE_BYTES: usize = 2048;
/// Most fields kept per log record.
pub const MAX_LOG_FIELDS: usize = 16;
/// Longest field key or value kept.
pub const MAX_LOG_FIELD_BYTES: usize = 256;
/// Log records a guest may emit in one call; the rest are dropped and
/// counted. Stops a guest from flooding the host log through the import.
pub const MAX_LOG_RECORDS_PER_CALL: u32 = 64;

/// The host's notion of "now", given to guests through `tollgate:host/clock`
/// and used by the host's own checks. Tests substitute a fixed clock.
pub trait HostClock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl HostClock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that always says the same time.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl HostClock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Seconds since the Unix epoch by `clock` (negative before 1970).
pub fn unix_seconds(clock: &dyn HostClock) -> i64 {
    match clock.now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Limits of one store, recording which limit stopped a guest so a trap can
/// be reported as what it was.
pub struct GuestLimits {
    inner: StoreLimits,
    /// A memory grow was refused during the current call.
    pub memory_denied: bool,
    /// A table grow was refused during the current call.
    pub table_denied: bool,
}

impl GuestLimits {
    /// Wraps wasmtime's limits.
    pub fn new(inner: StoreLimits) -> Self {
        Self { inner, memory_denied: false, table_denied: false }
    }
}

impl ResourceLimiter for GuestLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let r = self.inner.memory_growing(current, desired, maximum);
        if !matches!(r, Ok(true)) {
            self.memory_denied = true;
        }
        r
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let r = self.inner.table_growing(current, desired, maximum);
        if !matches!(r, Ok(true)) {
            self.table_denied = true;
        }
        r
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// The data of one guest's store.
pub struct PluginState {
    /// The plugin's name, attributed to every record it logs.
    pub plugin: Arc<str>,
    /// Resource limits of the store.
    pub limits: GuestLimits,
    /// Shared with the stdio sinks: withholding and counters of this call.
    pub guard: Arc<CallGuard>,
    /// The clock behind `tollgate:host/clock`.
    pub clock: Arc<dyn HostClock>,
    /// Log records emitted in the current call.
    pub log_records: u32,
    /// Log records dropped in the current call (over budget).
    pub logs_dropped: u32,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl PluginState {
    /// A fresh state for one store.
    pub fn new(plugin: Arc<str>, limits: StoreLimits, clock: Arc<dyn HostClock>) -> Self {
        let guard = Arc::new(CallGuard::default());
        let wasi = crate::wasi_shim::empty_ctx(&plugin, &guard);
        Self {
            plugin,
            limits: GuestLimits::new(limits),
            guard,
            clock,
            log_records: 0,
            logs_dropped: 0,
            wasi,
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

fn truncated(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl logging::Host for PluginState {
    fn log(&mut self, level: logging::Level, message: String, fields: Vec<logging::Field>) {
        if self.guard.withholding() {
            self.guard.count_withheld();
            return;
        }
        if self.log_records >= MAX_LOG_RECORDS_PER_CALL {
            self.logs_dropped = self.logs_dropped.saturating_add(1);
            return;
        }
        self.log_records += 1;
        let message = truncated(&message, MAX_LOG_MESSAGE_BYTES).escape_debug().to_string();
        let fields: Vec<String> = fields
            .iter()
            .take(MAX_LOG_FIELDS)
            .map(|f| {
                format!(
                    "{}={}",
                    truncated(&f.key, MAX_LOG_FIELD_BYTES).escape_debug(),
                    truncated(&f.value, MAX_LOG_FIELD_BYTES).escape_debug()
                )
            })
            .collect();
        let fields = fields.join(" ");
        let plugin = &*self.plugin;
        match level {
            logging::Level::Trace => tracing::trace!(target: "tollgate::guest", plugin, fields, "{message}"),
            logging::Level::Debug => tracing::debug!(target: "tollgate::guest", plugin, fields, "{message}"),
            logging::Level::Info => tracing::info!(target: "tollgate::guest", plugin, fields, "{message}"),
            logging::Level::Warn => tracing::warn!(target: "tollgate::guest", plugin, fields, "{message}"),
            logging::Level::Error => tracing::error!(target: "tollgate::guest", plugin, fields, "{message}"),
        }
    }

    fn enabled(&mut self, level: logging::Level) -> bool {
        log_enabled(self, level)
    }
}

/// The shared JWT types have no functions; nothing to implement.
impl types::Host for PluginState {}
/// The same for `tollgate:jwt@0.2`, whose host interfaces are the top
/// level's own (`bindings::since_v0_2` reuses them).
impl crate::bindings::since_v0_2::tollgate::jwt::types::Host for PluginState {}

/// `logging.enabled` (since 0.2): whether `log` at `level` would write a
/// record now (not withheld, under the call's quota, passing the filter).
fn log_enabled(state: &PluginState, level: logging::Level) -> bool {
    if state.guard.withholding() || state.log_records >= MAX_LOG_RECORDS_PER_CALL {
        return false;
    }
    match level {
        logging::Level::Trace => tracing::enabled!(target: "tollgate::guest", tracing::Level::TRACE),
        logging::Level::Debug => tracing::enabled!(target: "tollgate::guest", tracing::Level::DEBUG),
        logging::Level::Info => tracing::enabled!(target: "tollgate::guest", tracing::Level::INFO),
        logging::Level::Warn => tracing::enabled!(target: "tollgate::guest", tracing::Level::WARN),
        logging::Level::Error => tracing::enabled!(target: "tollgate::guest", tracing::Level::ERROR),
    }
}

/// The previous host API, `tollgate:host@0.1`: the same functions, served
/// by converting to the current implementation (one implementation, two
/// versions; nothing here decides anything).
mod since_v0_1 {
    use super::{PluginState, clock, logging};
    use crate::bindings::since_v0_1::tollgate::host::{clock as clock_v0_1, logging as logging_v0_1};
    use crate::bindings::since_v0_1::tollgate::jwt::types as types_v0_1;

    impl logging_v0_1::Host for PluginState {
        fn log(&mut self, level: logging_v0_1::Level, message: String, fields: Vec<logging_v0_1::Field>) {
            use logging_v0_1::Level as Old;
            let level = match level {
                Old::Trace => logging::Level::Trace,
                Old::Debug => logging::Level::Debug,
                Old::Info => logging::Level::Info,
                Old::Warn => logging::Level::Warn,
                Old::Error => logging::Level::Error,
            };
            let fields = fields.into_iter().map(|f| logging::Field { key: f.key, value: f.value }).collect();
            logging::Host::log(self, level, message, fields);
        }
    }

    impl types_v0_1::Host for PluginState {}

    impl clock_v0_1::Host for PluginState {
        fn now(&mut self) -> clock_v0_1::Instant {
            let now = clock::Host::now(self);
            clock_v0_1::Instant { seconds: now.seconds, nanoseconds: now.nanoseconds }
        }
    }
}

/// The resolution of the time a guest reads: one millisecond. A guest needs
/// seconds (JWT times); a finer clock is what a cache-timing side channel
/// (Spectre-class) needs to measure, and the host's is the only clock a
/// guest has (`wasi:clocks` is not linked).
pub const CLOCK_RESOLUTION_NANOS: u32 = 1_000_000;

impl clock::Host for PluginState {
    fn now(&mut self) -> clock::Instant {
        let now = self.clock.now();
        let (seconds, nanoseconds) = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos() / CLOCK_RESOLUTION_NANOS * CLOCK_RESOLUTION_NANOS),
            Err(_) => (unix_seconds(&*self.clock), 0),
        };
        clock::Instant { seconds, nanoseconds }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_char_boundaries() {
        assert_eq!(truncated("héllo", 2), "h");
        assert_eq!(truncated("abc", 10), "abc");
    }

    #[test]
    fn a_guest_reads_time_to_the_millisecond_only() {
        let at = UNIX_EPOCH + std::time::Duration::new(1_900_000_000, 123_456_789);
        let mut state = PluginState::new("clock-test".into(), StoreLimits::default(), Arc::new(FixedClock(at)));
        let now = clock::Host::now(&mut state);
        assert_eq!((now.seconds, now.nanoseconds), (1_900_000_000, 123_000_000));
    }

    #[test]
    fn unix_seconds_handles_times_before_the_epoch() {
        let before = FixedClock(UNIX_EPOCH - std::time::Duration::from_secs(5));
        assert_eq!(unix_seconds(&before), -5);
    }
}
