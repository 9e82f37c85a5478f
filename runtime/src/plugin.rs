//! A loaded plugin: its checked manifest, a pre-linked component, its rate
//! limiters, and the instance calls run in.

use std::borrow::Cow;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, Quota as GovernorQuota, RateLimiter};
use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::{Store, StoreLimitsBuilder, Trap};

use crate::bindings::{ClaimsLinter, ClaimsLinterPre, JwtSigner, JwtSignerPre, since_v0_1, since_v0_2};
use crate::engine::{
    MAX_CORE_INSTANCES_PER_COMPONENT, MAX_MEMORIES_PER_COMPONENT, MAX_TABLES_PER_COMPONENT, MAX_TABLE_ELEMENTS,
};
use crate::host_api::{HostClock, PluginState, SystemClock};
use crate::manifest::{MAX_MANIFEST_BYTES, Manifest};
use crate::policy::authorize_imports;
use crate::{EPOCH_TICK, PluginEngine, PluginError, wasi_shim};

/// The largest component file read. The signer is about 1 MiB; this stops
/// a hostile file from costing unbounded memory and compile time.
pub const MAX_COMPONENT_BYTES: usize = 32 * 1024 * 1024;

/// The typed bindings of one world, as `bindgen!` generates them.
pub trait WorldBindings: Sized + Send + 'static {
    /// The world's full name, as a manifest names it.
    const WORLD: &'static str;
    /// The pre-instantiated form.
    type Pre: Send + Sync + 'static;
    /// Links the `tollgate:host` interfaces this world imports.
    fn add_host_interfaces(linker: &mut Linker<PluginState>) -> wasmtime::Result<()>;
    /// Checks the component's exports against the world.
    fn pre(pre: InstancePre<PluginState>) -> wasmtime::Result<Self::Pre>;
    /// Instantiates into `store`.
    fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> wasmtime::Result<Self>;
}

impl WorldBindings for JwtSigner {
    const WORLD: &'static str = "tollgate:jwt/jwt-signer@0.3.0";
    type Pre = JwtSignerPre<PluginState>;

    fn add_host_interfaces(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        JwtSigner::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |s| s)
    }

    fn pre(pre: InstancePre<PluginState>) -> wasmtime::Result<Self::Pre> {
        JwtSignerPre::new(pre)
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> wasmtime::Result<Self> {
        pre.instantiate(store)
    }
}

/// The signer world of the previous minor (`tollgate:jwt@0.2`, host API
/// 0.2), served beside the current one.
impl WorldBindings for since_v0_2::JwtSigner {
    const WORLD: &'static str = "tollgate:jwt/jwt-signer@0.2.0";
    type Pre = since_v0_2::JwtSignerPre<PluginState>;

    fn add_host_interfaces(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        since_v0_2::JwtSigner::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |s| s)
    }

    fn pre(pre: InstancePre<PluginState>) -> wasmtime::Result<Self::Pre> {
        since_v0_2::JwtSignerPre::new(pre)
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> wasmtime::Result<Self> {
        pre.instantiate(store)
    }
}

/// The signer world of the minor before (`tollgate:jwt@0.1`, host API
/// 0.1), served beside the current one.
impl WorldBindings for since_v0_1::JwtSigner {
    const WORLD: &'static str = "tollgate:jwt/jwt-signer@0.1.0";
    type Pre = since_v0_1::JwtSignerPre<PluginState>;

    fn add_host_interfaces(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        since_v0_1::JwtSigner::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |s| s)
    }

    fn pre(pre: InstancePre<PluginState>) -> wasmtime::Result<Self::Pre> {
        since_v0_1::JwtSignerPre::new(pre)
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> wasmtime::Result<Self> {
        pre.instantiate(store)
    }
}

impl WorldBindings for ClaimsLinter {
    const WORLD: &'static str = "tollgate:lint/claims-linter@0.1.0";
    type Pre = ClaimsLinterPre<PluginState>;

    fn add_host_interfaces(_linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
        // The world imports no host interface.
        Ok(())
    }

    fn pre(pre: InstancePre<PluginState>) -> wasmtime::Result<Self::Pre> {
        ClaimsLinterPre::new(pre)
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<PluginState>) -> wasmtime::Result<Self> {
        pre.instantiate(store)
    }
}

/// Whether an instance outlives the call it served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceReuse {
    /// Every call gets a fresh instance from the pre-linked component; no
    /// state of one call can reach the next.
    FreshPerCall,
    /// An instance serves calls until one traps. Faster; a guest keeps its
    /// memory between calls.
    Warm,
}

/// Where a plugin comes from: the component bytes and its manifest text.
pub struct PluginSource<'a> {
    /// The component.
    pub wasm: Cow<'a, [u8]>,
    /// The manifest (`tollgate.toml`) text.
    pub manifest: Cow<'a, str>,
    /// What to call it in errors (a path, or "built-in jwt-signer").
    pub what: String,
}

impl PluginSource<'static> {
    /// Reads a component and its manifest. Without `manifest`, the manifest
    /// is `<stem>.toml` beside the component, or else `tollgate.toml` there.
    pub fn from_files(wasm: &Path, manifest: Option<&Path>) -> Result<Self, PluginError> {
        let bytes = read_capped(wasm, MAX_COMPONENT_BYTES)?;
        let manifest_path = match manifest {
            Some(p) => p.to_path_buf(),
            None => {
                let beside = wasm.with_extension("toml");
                if beside.exists() { beside } else { wasm.with_file_name("tollgate.toml") }
            }
        };
        let text = read_capped(&manifest_path, MAX_MANIFEST_BYTES)?;
        let text = String::from_utf8(text).map_err(|_| PluginError::Manifest(
            crate::ManifestError::Parse(format!("{} is not UTF-8", manifest_path.display())),
        ))?;
        Ok(Self { wasm: Cow::Owned(bytes), manifest: Cow::Owned(text), what: wasm.display().to_string() })
    }
}

fn read_capped(path: &Path, max: usize) -> Result<Vec<u8>, PluginError> {
    use std::io::Read;
    let io = |source| PluginError::Io { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() > max {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than the {max}-byte limit"),
        )));
    }
    Ok(bytes)
}

struct Instance<B> {
    store: Store<PluginState>,
    bindings: B,
}

/// A loaded plugin, ready to call.
pub struct Plugin<B: WorldBindings> {
    name: Arc<str>,
    sha256: Arc<str>,
    manifest: Manifest,
    engine: PluginEngine,
    pre: B::Pre,
    deadline_ticks: u64,
    limiters: Vec<(&'static str, DefaultDirectRateLimiter)>,
    warm: Mutex<Option<Instance<B>>>,
    reuse: InstanceReuse,
    clock: Arc<dyn HostClock>,
}

impl PluginEngine {
    /// Loads a plugin: checks the manifest against policy, compiles the
    /// component (or loads it from the cache), authorizes every import,
    /// links only what the world declares, and checks the exports.
    pub fn load<B: WorldBindings>(&self, source: &PluginSource<'_>) -> Result<Plugin<B>, PluginError> {
        self.load_checked(source, false)
    }

    /// Loads a plugin whose manifest must record the component's SHA-256
    /// (plugins the app loads from disk); see [`Self::load`].
    pub fn load_verified<B: WorldBindings>(&self, source: &PluginSource<'_>) -> Result<Plugin<B>, PluginError> {
        self.load_checked(source, true)
    }

    fn load_checked<B: WorldBindings>(&self, source: &PluginSource<'_>, require_hash: bool) -> Result<Plugin<B>, PluginError> {
        let manifest = Manifest::parse(&source.manifest, self.policy())?;
        check_integrity(&manifest, source, require_hash)?;
        if manifest.world != B::WORLD {
            return Err(PluginError::WorldMismatch {
                world: B::WORLD.to_owned(),
                reason: format!("the manifest names `{}`", manifest.world),
            });
        }
        let world = manifest.world_spec()?;
        let component = self.compile(&source.wasm, &source.what)?;
        let component_type = component.component_type();
        let imports: Vec<String> = component_type.imports(self.engine()).map(|(name, _)| name.to_owned()).collect();
        authorize_imports(world, imports.iter().map(String::as_str))?;

        let mut linker = Linker::<PluginState>::new(self.engine());
        B::add_host_interfaces(&mut linker).map_err(runtime_error)?;
        wasi_shim::add_to_linker(&mut linker).map_err(runtime_error)?;
        // Every import passed the policy; a failure here is a type mismatch
        // between what the guest expects and what the host provides.
        let pre = linker.instantiate_pre(&component).map_err(|e| PluginError::ImportRefused {
            import: imports.join(", "),
            reason: format!("the host cannot link it: {e:#}"),
            also: Vec::new(),
        })?;
        let pre = B::pre(pre).map_err(|e| PluginError::WorldMismatch {
            world: B::WORLD.to_owned(),
            reason: format!("{e:#}"),
        })?;

        let limiters = world
            .exports
            .iter()
            .map(|function| {
                let q = manifest.quota(function, self.policy());
                let per_second = NonZeroU32::new(q.per_second).unwrap_or(NonZeroU32::MIN);
                let burst = NonZeroU32::new(q.burst).unwrap_or(NonZeroU32::MIN);
                (*function, RateLimiter::direct(GovernorQuota::per_second(per_second).allow_burst(burst)))
            })
            .collect();
        let tick_ms = EPOCH_TICK.as_millis().max(1) as u64;
        Ok(Plugin {
            name: Arc::from(manifest.name.as_str()),
            sha256: Arc::from(component_sha256(&source.wasm)),
            deadline_ticks: manifest.limits.deadline_ms.div_ceil(tick_ms) + 1,
            manifest,
            engine: self.clone(),
            pre,
            limiters,
            warm: Mutex::new(None),
            reuse: InstanceReuse::FreshPerCall,
            clock: Arc::new(SystemClock),
        })
    }
}

/// The component's SHA-256, lowercase hex.
pub fn component_sha256(wasm: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(wasm))
}

/// The component against its manifest's `sha256`: a mismatch is refused
/// naming both hashes; a missing hash is refused when required.
fn check_integrity(manifest: &Manifest, source: &PluginSource<'_>, required: bool) -> Result<(), PluginError> {
    if manifest.sha256.is_none() && !required {
        return Ok(());
    }
    let actual = component_sha256(&source.wasm);
    match &manifest.sha256 {
        Some(expected) if *expected == actual => Ok(()),
        Some(expected) => Err(PluginError::IntegrityMismatch { what: source.what.clone(), expected: expected.clone(), actual }),
        None => Err(PluginError::IntegrityMissing { what: source.what.clone(), actual }),
    }
}

fn runtime_error(e: wasmtime::Error) -> PluginError {
    PluginError::Runtime(format!("{e:#}"))
}

impl<B: WorldBindings> Plugin<B> {
    /// The component's SHA-256, lowercase hex: what the quarantine list
    /// knows it by.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The plugin's checked manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The clock guests (and output validators) see.
    pub fn clock(&self) -> &Arc<dyn HostClock> {
        &self.clock
    }

    /// Replaces the clock guests see (tests pin time with [`crate::FixedClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn HostClock>) -> Self {
        self.clock = clock;
        self.discard_instance();
        self
    }

    /// Chooses whether instances outlive their call.
    pub fn with_reuse(mut self, reuse: InstanceReuse) -> Self {
        self.reuse = reuse;
        self.discard_instance();
        self
    }

    fn discard_instance(&self) {
        *self.warm.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Instantiates the plugin once in a fresh store and drops it: proves the
    /// component instantiates under its limits, and measures what a
    /// fresh-per-call instance costs.
    pub fn check_instantiation(&self) -> Result<(), PluginError> {
        self.instantiate().map(drop)
    }

    /// Makes a new instance in a new store, under the manifest's limits.
    fn instantiate(&self) -> Result<Instance<B>, PluginError> {
        let memory_bytes = usize::try_from(self.manifest.limits.memory_mib << 20).unwrap_or(usize::MAX);
        let limits = StoreLimitsBuilder::new()
            .memory_size(memory_bytes)
            .table_elements(MAX_TABLE_ELEMENTS)
            .instances(MAX_CORE_INSTANCES_PER_COMPONENT as usize)
            .memories(MAX_MEMORIES_PER_COMPONENT as usize)
            .tables(MAX_TABLES_PER_COMPONENT as usize)
            .trap_on_grow_failure(true)
            .build();
        let state = PluginState::new(self.name.clone(), limits, self.clock.clone());
        let mut store = Store::new(self.engine.engine(), state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(self.deadline_ticks);
        let bindings = B::instantiate(&self.pre, &mut store).map_err(|e| self.classify("instantiate", e, &store))?;
        Ok(Instance { store, bindings })
    }

    /// Calls `function` through `f` under the plugin's quota, deadline and
    /// limits. `carries_secret` withholds everything the guest writes to
    /// the log during the call (and, for a warm instance, ever after).
    /// A trap discards the instance, so the next call starts clean.
    pub fn call<R>(
        &self,
        function: &'static str,
        carries_secret: bool,
        f: impl FnOnce(&B, &mut Store<PluginState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let Some((_, limiter)) = self.limiters.iter().find(|(name, _)| *name == function) else {
            return Err(PluginError::Runtime(format!("`{function}` is not an export of {}", B::WORLD)));
        };
        if limiter.check().is_err() {
            return Err(PluginError::RateLimited { plugin: self.name.to_string(), function: function.to_owned() });
        }
        let mut slot = self.warm.lock().unwrap_or_else(|p| p.into_inner());
        let mut instance = match slot.take() {
            Some(instance) => instance,
            None => self.instantiate()?,
        };
        let state = instance.store.data_mut();
        state.guard.begin(carries_secret);
        state.log_records = 0;
        state.logs_dropped = 0;
        state.limits.memory_denied = false;
        state.limits.table_denied = false;
        instance.store.set_epoch_deadline(self.deadline_ticks);

        let started = std::time::Instant::now();
        let result = f(&instance.bindings, &mut instance.store);
        tracing::debug!(plugin = %self.name, function, elapsed_us = started.elapsed().as_micros() as u64,
            ok = result.is_ok(), "plugin call");

        let state = instance.store.data();
        let withheld = state.guard.end();
        if withheld > 0 {
            tracing::info!(target: "tollgate::guest", plugin = %self.name, function, withheld,
                "guest output withheld: the instance has handled key material");
        }
        if state.logs_dropped > 0 {
            tracing::warn!(target: "tollgate::guest", plugin = %self.name, function, dropped = state.logs_dropped,
                "guest log records over the per-call budget were dropped");
        }
        match result {
            Ok(r) => {
                if self.reuse == InstanceReuse::Warm {
                    *slot = Some(instance);
                }
                Ok(r)
            }
            Err(e) => {
                let err = self.classify(function, e, &instance.store);
                tracing::warn!(plugin = %self.name, function, code = err.code(), "plugin call failed; instance discarded");
                Err(err)
            }
        }
    }

    /// Turns a wasmtime error into what it was: deadline, memory, stack,
    /// exit or another trap.
    fn classify(&self, function: &str, e: wasmtime::Error, store: &Store<PluginState>) -> PluginError {
        let function = function.to_owned();
        if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return PluginError::GuestExited { function, status: exit.0 };
        }
        let limits = &store.data().limits;
        if limits.memory_denied || limits.table_denied {
            return PluginError::MemoryLimitExceeded { function, memory_mib: self.manifest.limits.memory_mib };
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => PluginError::DeadlineExceeded { function, deadline_ms: self.manifest.limits.deadline_ms },
            Some(Trap::StackOverflow) => PluginError::StackOverflow { function },
            Some(trap) => PluginError::Trapped { function, trap: trap.to_string() },
            // Not a trap: a host-side failure during the call (e.g. a
            // resource error). Report the chain; it holds no guest data.
            None => PluginError::Trapped { function, trap: format!("{e:#}") },
        }
    }
}
