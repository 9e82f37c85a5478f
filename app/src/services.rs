//! The app's services behind the bridge: the plugin runtime and the
//! signer and claims linter built on it, the profiles and settings on disk,
//! and the secrets service over the OS keychain, and GitHub sign-in (`auth`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use crate::channels::{self, PluginImport, PluginIsolation, PluginSummary};
use crate::channels::auth::{self as auth_channels, HubAuthEvents};
use crate::file_dialogs::FileDialogs;
use crate::trust_prompt::TrustPrompt;
use crate::window_opener::WindowOpener;
use crate::auth::{AuthConfig, AuthService};
use crate::bridge::{Bridge, ChannelRegistry, EventHub};
use crate::guest_artifacts;
use crate::jwt::JwtSigner;
use crate::lint::ClaimsLinter;
use crate::runtime::policy::HostPolicy;
use crate::runtime::worlds::ClaimsLinterWorld;
use crate::runtime::{Manifest, PluginEngine, PluginError, PluginSource, WorldBindings};
use crate::runtime::worker::{WorkerOptions, WorkerSigner, default_worker_program};
use crate::secrets::{Keychain, OsKeychain, Secrets};
use crate::jwt::quarantine::PluginQuarantine;
use crate::store::plugin_quarantine;
use crate::store::{ProfileStore, SettingsStore};

/// Where a signer plugin installed from outside the binary (a dev
/// package, `--dev-plugin`) runs. The built-in signer, compiled into the
/// binary, always runs in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerIsolation {
    /// In a `tollgate-worker` process of its own (the default): no
    /// keychain, no window, no network, a seccomp filter; it holds a key
    /// only during a call. The worker loads a private copy of the bytes
    /// the host checked, pinned to their hash.
    Worker {
        /// The worker program.
        program: PathBuf,
    },
    /// In this process, like the built-in signer (benches compare the two).
    InProcess,
}

impl SignerIsolation {
    /// A worker, with the program found beside this executable or where
    /// the package installs it (`runtime::worker::default_worker_program`).
    pub fn default_worker() -> Self {
        // Only a failing `current_exe` leaves no path; the install then
        // fails naming the program it could not run.
        Self::Worker { program: default_worker_program().unwrap_or_else(|_| PathBuf::from(crate::runtime::worker::WORKER_PROGRAM)) }
    }
}

/// What the app's handlers use.
pub struct AppServices {
    engine: PluginEngine,
    // Swappable (dev reload): a call takes the current plugin and finishes
    // on it; the next call gets whatever is installed then.
    signer: RwLock<Arc<JwtSigner>>,
    linter: RwLock<Arc<ClaimsLinter>>,
    plugins: RwLock<Vec<PluginSummary>>,
    profiles: ProfileStore,
    settings: SettingsStore,
    secrets: Secrets,
    auth: AuthService,
    windows: Arc<WindowOpener>,
    quarantine: PluginQuarantine,
    trust_prompt: Arc<TrustPrompt>,
    file_dialogs: Arc<FileDialogs>,
    key_jobs: Arc<crate::key_jobs::KeyJobs>,
    jwks_hosts: crate::store::jwks_hosts::JwksHosts,
    signer_isolation: SignerIsolation,
}

impl AppServices {
    /// Loads the built-in plugins into `engine`; profiles and settings live
    /// in `data_dir`, the master key in the OS keychain. Of the disk only
    /// the plugin quarantine list is read now (every signer call consults
    /// it); nothing else, nor the keychain, is touched until a channel
    /// needs it.
    pub fn new(engine: &PluginEngine, data_dir: &Path) -> Result<Self, PluginError> {
        Self::with_keychain(engine, data_dir, Arc::new(OsKeychain::default()))
    }

    /// The same over another keychain (tests inject a failing one).
    pub fn with_keychain(engine: &PluginEngine, data_dir: &Path, keychain: Arc<dyn Keychain>) -> Result<Self, PluginError> {
        let quarantine = plugin_quarantine::open(data_dir);
        let signer = JwtSigner::builtin(engine)?.with_quarantine(quarantine.clone());
        let linter = ClaimsLinter::builtin(engine)?;
        let plugins = vec![
            builtin_summary(engine, guest_artifacts::JWT_SIGNER_WASM, guest_artifacts::JWT_SIGNER_MANIFEST)?,
            builtin_summary(engine, guest_artifacts::CLAIMS_LINTER_WASM, guest_artifacts::CLAIMS_LINTER_MANIFEST)?,
        ];
        Ok(Self {
            engine: engine.clone(),
            signer: RwLock::new(Arc::new(signer)),
            linter: RwLock::new(Arc::new(linter)),
            plugins: RwLock::new(plugins),
            profiles: ProfileStore::new(data_dir),
            settings: SettingsStore::new(data_dir),
            secrets: Secrets::new(keychain),
            auth: AuthService::new(AuthConfig::default()),
            windows: Arc::default(),
            quarantine,
            trust_prompt: Arc::default(),
            file_dialogs: Arc::default(),
            key_jobs: Arc::default(),
            jwks_hosts: crate::store::jwks_hosts::JwksHosts::new(data_dir),
            signer_isolation: SignerIsolation::default_worker(),
        })
    }

    /// Where installed signer plugins run (default: a worker process).
    pub fn with_signer_isolation(mut self, isolation: SignerIsolation) -> Self {
        self.signer_isolation = isolation;
        self
    }

    /// The same with another sign-in service (the app's configured
    /// backend; tests' clocks, browsers and keychain entries).
    pub fn with_auth(mut self, auth: AuthService) -> Self {
        self.auth = auth;
        self
    }

    /// Where `app:open-about` asks for a window (the window adapter
    /// connects it while the event loop runs).
    pub fn window_opener(&self) -> &Arc<WindowOpener> {
        &self.windows
    }

    /// Plugins refused keys after an unexplained failure (shared with the
    /// CLI through the data directory).
    pub fn quarantine(&self) -> &PluginQuarantine {
        &self.quarantine
    }

    /// Where `plugins:trust` asks the user (the window adapter connects a
    /// native dialog while the event loop runs).
    pub fn trust_prompt(&self) -> &Arc<TrustPrompt> {
        &self.trust_prompt
    }

    /// Where `keys:import-file`, `keys:save-jwks` and
    /// `jwt:verify-key-set-file` ask for a file (the window adapter
    /// connects its native dialogs while the event loop runs).
    pub fn file_dialogs(&self) -> &Arc<FileDialogs> {
        &self.file_dialogs
    }

    /// The key generation in progress (`keys:generate`,
    /// `keys:cancel-generate`).
    pub fn key_jobs(&self) -> &Arc<crate::key_jobs::KeyJobs> {
        &self.key_jobs
    }

    /// The hosts the user allowed key sets to be fetched from.
    pub fn jwks_hosts(&self) -> &crate::store::jwks_hosts::JwksHosts {
        &self.jwks_hosts
    }

    /// GitHub sign-in.
    pub fn auth(&self) -> &AuthService {
        &self.auth
    }

    /// The JWT signer installed now.
    pub fn signer(&self) -> Arc<JwtSigner> {
        Arc::clone(&self.signer.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The claims linter installed now.
    pub fn linter(&self) -> Arc<ClaimsLinter> {
        Arc::clone(&self.linter.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Installed plugins, each with its quarantine entry if it has one.
    pub fn plugins(&self) -> Vec<PluginSummary> {
        let mut plugins = self.plugins.read().unwrap_or_else(PoisonError::into_inner).clone();
        for plugin in &mut plugins {
            plugin.quarantine = self.quarantine.get(&plugin.sha256);
        }
        plugins
    }

    /// Loads a plugin package from disk (its manifest must record the
    /// component's SHA-256) and installs it in place of the plugin of its
    /// world. On any error nothing changes: the installed plugin keeps
    /// serving. `source_label` is what `plugins:list` shows as its source.
    pub fn install_dev_plugin(&self, source: &PluginSource<'_>, source_label: &str) -> Result<PluginSummary, PluginError> {
        let manifest = Manifest::parse(&source.manifest, self.engine.policy())?;
        // Load first: the hash is checked before anything is compiled, and
        // nothing is swapped until the new plugin has passed every check.
        enum Loaded {
            Signer(JwtSigner),
            Linter(Box<ClaimsLinter>),
        }
        let loaded = if crate::jwt::backend::is_signer_world(&manifest.world) {
            // Every check (hash, world, imports, limits) runs here, in the
            // host, with its typed error; the worker then runs the same
            // bytes (the compiled code comes from the shared cache).
            let checked = JwtSigner::load(&self.engine, source, true)?;
            let signer = match &self.signer_isolation {
                SignerIsolation::InProcess => checked,
                SignerIsolation::Worker { program } => {
                    drop(checked);
                    let mut options = WorkerOptions::new(program.clone());
                    options.cache_dir = self.engine.cache_dir().map(Path::to_path_buf);
                    let worker = WorkerSigner::from_source(options, source)?;
                    // Started now, so a worker that can't run fails the
                    // install (the installed signer keeps serving), not the
                    // first token.
                    worker.start()?;
                    JwtSigner::from_backend(Box::new(worker))
                }
            };
            Loaded::Signer(signer.with_quarantine(self.quarantine.clone()))
        } else if manifest.world == ClaimsLinterWorld::WORLD {
            Loaded::Linter(Box::new(ClaimsLinter::from_plugin(self.engine.load_verified::<ClaimsLinterWorld>(source)?)))
        } else {
            return Err(PluginError::WorldMismatch {
                world: manifest.world,
                reason: "the app has no plugin of this world to replace".to_owned(),
            });
        };
        let mut summary = builtin_summary(&self.engine, &source.wasm, &source.manifest)?;
        summary.source = source_label.to_owned();
        if matches!(loaded, Loaded::Signer(_)) && matches!(self.signer_isolation, SignerIsolation::Worker { .. }) {
            summary.isolation = PluginIsolation::Worker;
        }
        match loaded {
            Loaded::Signer(signer) => *self.signer.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(signer),
            Loaded::Linter(linter) => *self.linter.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(*linter),
        }
        let mut plugins = self.plugins.write().unwrap_or_else(PoisonError::into_inner);
        match plugins.iter_mut().find(|p| p.world == summary.world) {
            Some(slot) => *slot = summary.clone(),
            None => plugins.push(summary.clone()),
        }
        tracing::info!(plugin = %summary.name, world = %summary.world, source = %summary.source, "dev plugin installed");
        Ok(summary)
    }

    /// The signing profiles.
    pub fn profiles(&self) -> &ProfileStore {
        &self.profiles
    }

    /// The settings.
    pub fn settings(&self) -> &SettingsStore {
        &self.settings
    }

    /// Key sealing under the master key.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }
}

/// A built-in plugin as `plugins:list` shows it: its manifest and the
/// host's decision on each of its imports.
fn builtin_summary(engine: &PluginEngine, wasm: &[u8], manifest: &str) -> Result<PluginSummary, PluginError> {
    let manifest = Manifest::parse(manifest, &HostPolicy::default())?;
    let world = manifest.world_spec()?;
    let inspection = engine.inspect(wasm, &manifest.name, world)?;
    Ok(PluginSummary {
        name: manifest.name,
        version: manifest.version,
        world: manifest.world,
        source: "built-in".to_owned(),
        sha256: crate::runtime::component_sha256(wasm),
        quarantine: None,
        isolation: PluginIsolation::InProcess,
        imports: inspection
            .imports
            .into_iter()
            .map(|i| PluginImport { name: i.name, decision: i.decision.to_owned(), detail: i.detail.to_owned() })
            .collect(),
    })
}

/// Why the bridge could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// A plugin failed to load.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// A built-in manifest is wrong.
    #[error(transparent)]
    Manifest(#[from] crate::runtime::ManifestError),
    /// A channel declaration is wrong (a programming error).
    #[error("channel registry: {0}")]
    Registry(#[from] crate::bridge::registry::RegistryError),
}

/// The app's bridge: the bridge's own channels plus the app's, over `services`.
pub fn build_bridge(services: &Arc<AppServices>) -> Result<Bridge, AppError> {
    let mut registry = ChannelRegistry::new();
    crate::bridge::channels::register(&mut registry)?;
    channels::register_all(&mut registry, services)?;
    let mut events = EventHub::new();
    channels::declare_events(&mut events);
    auth_channels::declare_events(&mut events);
    let events = Arc::new(events);
    services.auth().set_events(Arc::new(HubAuthEvents(Arc::clone(&events))));
    Ok(Bridge::new(registry, events))
}
