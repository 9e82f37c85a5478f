//! Dev reload (`tollgate --dev-plugin DIR`): the running app notices a
//! rebuilt plugin package in `DIR` (a component and its `tollgate.toml`,
//! as `tollgate plugin pack` / `just plugin` write them) and swaps it in
//! for the plugin of the same world, without a restart. A package that
//! fails to load (a build error, a hash that does not match, an import
//! the host refuses) leaves the old plugin serving, and says why: the
//! `plugins:reload-failed` event and `plugins:list`.
//!
//! Trust: a dev package is loaded exactly as an installed one would be,
//! through `load_verified` (the manifest must record the component's
//! SHA-256), with the same policy and limits. Calls in flight finish on
//! the plugin they started with; the next call gets the new one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use ts_rs::TS;

use crate::services::AppServices;
use crate::bridge::events::Event;
use crate::runtime::policy::HostPolicy;
use crate::runtime::{Manifest, PluginError, PluginSource, component_sha256};

/// How often the app looks at a dev package. A rebuilt plugin is in use
/// within this (plus its compile time).
pub const DEV_RELOAD_POLL: Duration = Duration::from_millis(300);

/// A dev package swapped in (`plugins:reloaded`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PluginReloaded {
    /// Manifest name.
    pub name: String,
    /// Its world.
    pub world: String,
    /// The component's SHA-256.
    pub sha256: String,
    /// Load time (compile, link, checks), in milliseconds.
    #[ts(type = "number")]
    pub took_ms: u64,
}

/// A dev package refused; the previous plugin keeps serving (`plugins:reload-failed`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PluginReloadFailed {
    /// The package directory.
    pub package: String,
    /// The refusal's stable code (`PLUGIN_INTEGRITY_MISMATCH`, `PLUGIN_IMPORT_REFUSED`, ...).
    pub code: String,
    /// What was wrong, and with what.
    pub message: String,
}

/// `plugins:reloaded`.
pub struct PluginReloadedEvent;
impl Event for PluginReloadedEvent {
    type Payload = PluginReloaded;
    const NAME: &'static str = "plugins:reloaded";
    const SUMMARY: &'static str = "A rebuilt dev plugin was swapped in (--dev-plugin).";
    const SINCE: &'static str = "1.3";
}

/// `plugins:reload-failed`.
pub struct PluginReloadFailedEvent;
impl Event for PluginReloadFailedEvent {
    type Payload = PluginReloadFailed;
    const NAME: &'static str = "plugins:reload-failed";
    const SUMMARY: &'static str = "A rebuilt dev plugin was refused; the previous one keeps serving.";
    const SINCE: &'static str = "1.3";
}

/// What one look at the package found.
#[derive(Debug)]
pub enum ReloadOutcome {
    /// Nothing new (or a write still settling).
    Unchanged,
    /// Swapped in.
    Reloaded(PluginReloaded),
    /// Refused; the old plugin serves.
    Failed(PluginReloadFailed),
}

/// Size and modification time of the package's files: what "rebuilt" means.
type Stamp = Vec<(u64, Option<SystemTime>)>;

/// One watched package directory.
#[derive(Debug)]
pub struct DevPackage {
    dir: PathBuf,
    /// The last stamp acted on.
    loaded: Option<Stamp>,
    /// A stamp seen once: acted on when the next look sees it unchanged
    /// (a copy in progress is not loaded half-written).
    settling: Option<Stamp>,
}

impl DevPackage {
    /// Watches `dir`.
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf(), loaded: None, settling: None }
    }

    /// The package directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn files(&self) -> Result<(PathBuf, PathBuf), PluginReloadFailed> {
        let manifest = self.dir.join("tollgate.toml");
        let text = std::fs::read_to_string(&manifest).map_err(|e| self.failure("IO_ERROR", format!("{}: {e}", manifest.display())))?;
        let parsed = Manifest::parse(&text, &HostPolicy::default()).map_err(|e| self.failure(e.code(), e.to_string()))?;
        Ok((self.dir.join(format!("{}.wasm", parsed.name)), manifest))
    }

    fn failure(&self, code: &str, message: String) -> PluginReloadFailed {
        PluginReloadFailed { package: self.dir.display().to_string(), code: code.to_owned(), message }
    }

    fn stamp(paths: &[&Path]) -> Stamp {
        paths
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| (m.len(), m.modified().ok())).unwrap_or((0, None)))
            .collect()
    }

    /// Looks once; loads and swaps in a package that changed and has
    /// settled.
    pub fn check(&mut self, services: &AppServices) -> ReloadOutcome {
        let (wasm, manifest) = match self.files() {
            Ok(files) => files,
            Err(failure) => return self.once(Self::stamp(&[&self.dir.join("tollgate.toml")]), ReloadOutcome::Failed(failure)),
        };
        let stamp = Self::stamp(&[&wasm, &manifest]);
        if self.loaded.as_ref() == Some(&stamp) {
            return ReloadOutcome::Unchanged;
        }
        if self.settling.as_ref() != Some(&stamp) {
            self.settling = Some(stamp);
            return ReloadOutcome::Unchanged;
        }
        let outcome = match self.load(services, &wasm, &manifest) {
            Ok(done) => ReloadOutcome::Reloaded(done),
            Err(e) => ReloadOutcome::Failed(self.failure(e.code(), e.to_string())),
        };
        self.once(stamp, outcome)
    }

    /// Records `stamp` as handled (a refused package is not retried until
    /// it changes again).
    fn once(&mut self, stamp: Stamp, outcome: ReloadOutcome) -> ReloadOutcome {
        if self.loaded.as_ref() == Some(&stamp) {
            return ReloadOutcome::Unchanged;
        }
        self.loaded = Some(stamp);
        self.settling = None;
        outcome
    }

    fn load(&self, services: &AppServices, wasm: &Path, manifest: &Path) -> Result<PluginReloaded, PluginError> {
        let started = Instant::now();
        let source = PluginSource::from_files(wasm, Some(manifest))?;
        let sha256 = component_sha256(&source.wasm);
        let summary = services.install_dev_plugin(&source, &format!("dev: {}", self.dir.display()))?;
        Ok(PluginReloaded {
            name: summary.name,
            world: summary.world,
            sha256,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}
