//! The process's one wasmtime engine: configuration, the epoch ticker that
//! enforces deadlines, the pooling allocator and the compiled-code cache.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::code_cache::CodeCache;

use crate::{HostPolicy, PluginError};

/// How often the engine's epoch advances. A call's deadline is counted in
/// these ticks, so a guest overruns its deadline by at most one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Guest stack ceiling. Bounds how deep a recursing guest gets before it
/// traps with a stack overflow instead of exhausting the host thread.
pub const MAX_WASM_STACK_BYTES: usize = 512 * 1024;

/// Component instances alive at once across all plugins (pooling slots).
/// Bounds the virtual memory the pool reserves up front.
pub const MAX_LIVE_COMPONENT_INSTANCES: u32 = 64;

/// Core instances one component may create. A wasm32-wasip2 Rust guest
/// needs a handful (its module plus the canonical-ABI shims).
pub const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 16;

/// Linear memories one component may create.
pub const MAX_MEMORIES_PER_COMPONENT: u32 = 2;

/// Tables one component may create.
pub const MAX_TABLES_PER_COMPONENT: u32 = 8;

/// Elements one table may hold. Bounds what `table.grow` can claim.
pub const MAX_TABLE_ELEMENTS: usize = 20_000;

/// How the engine is set up.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Where compiled code is cached; `None` compiles every load.
    pub cache_dir: Option<PathBuf>,
    /// Ceilings on what manifests may ask for.
    pub policy: HostPolicy,
}

impl EngineOptions {
    /// The default cache directory: `$XDG_CACHE_HOME/tollgate/wasmtime`, or
    /// `~/.cache/tollgate/wasmtime`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("tollgate").join("wasmtime"))
    }
}

/// The process's plugin engine. Cheap to clone; clones share the engine.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    policy: Arc<HostPolicy>,
    cache: Option<Arc<CodeCache>>,
}

impl PluginEngine {
    /// Builds the engine and starts its epoch ticker.
    pub fn new(options: EngineOptions) -> Result<Self, PluginError> {
        let policy = options.policy;
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(MAX_LIVE_COMPONENT_INSTANCES)
            .total_core_instances(MAX_LIVE_COMPONENT_INSTANCES * MAX_CORE_INSTANCES_PER_COMPONENT)
            .total_memories(MAX_LIVE_COMPONENT_INSTANCES * MAX_MEMORIES_PER_COMPONENT)
            .total_tables(MAX_LIVE_COMPONENT_INSTANCES * MAX_TABLES_PER_COMPONENT)
            .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT)
            .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
            .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
            .table_elements(MAX_TABLE_ELEMENTS)
            .max_memory_size(usize::try_from(policy.max_memory_mib << 20).unwrap_or(usize::MAX));

        let mut config = Config::new();
        config
            .epoch_interruption(true)
            // 64x64->128 multiplies for guests' bignum arithmetic (RSA);
            // see guest-plugins/.cargo/config.toml.
            .wasm_wide_arithmetic(true)
            .max_wasm_stack(MAX_WASM_STACK_BYTES)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let cache = match &options.cache_dir {
            Some(dir) => Some(Arc::new(CodeCache::open(dir).map_err(|e| {
                PluginError::Runtime(format!("code cache at {}: {e}", dir.display()))
            })?)),
            None => None,
        };
        let engine = Engine::new(&config).map_err(|e| PluginError::Runtime(format!("engine: {e:#}")))?;
        spawn_epoch_ticker(&engine)
            .map_err(|e| PluginError::Runtime(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self { engine, policy: Arc::new(policy), cache })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The host policy manifests are checked against.
    pub fn policy(&self) -> &HostPolicy {
        &self.policy
    }

    /// The compiled-code cache's directory, if the engine has a cache (a
    /// worker started for this engine's app shares it).
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache.as_ref().map(|c| c.dir())
    }

    /// (hits, misses) of the compiled-code cache since start.
    pub fn cache_stats(&self) -> Option<(usize, usize)> {
        self.cache.as_ref().map(|c| c.stats())
    }

    /// Compiles (or loads from the cache) a component, refusing anything
    /// that is not a component first with an error that says what it is.
    pub fn compile(&self, bytes: &[u8], what: &str) -> Result<Component, PluginError> {
        match bytes {
            [0, b'a', b's', b'm', _, _, 0, 0, ..] => {
                return Err(PluginError::CoreModule { what: what.to_owned() });
            }
            [0, b'a', b's', b'm', _, _, 1, 0, ..] => {}
            _ => return Err(PluginError::NotWasm { what: what.to_owned() }),
        }
        let compile = || Component::new(&self.engine, bytes);
        let compiled = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, bytes, compile),
            None => compile(),
        };
        compiled.map_err(|e| PluginError::InvalidComponent {
            what: what.to_owned(),
            reason: format!("{e:#}"),
        })
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] for as long as the
/// engine lives; holds only a weak reference, so it stops with the engine.
/// Without it deadlines never fire, so failing to start it fails the engine.
fn spawn_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new().name("tollgate-epoch".into()).spawn(move || {
        loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        }
    })?;
    Ok(())
}
