//! The app's services behind the bridge: the plugin runtime and the
//! signer built on it. Later: profiles, settings, secrets, auth.

use std::sync::Arc;

use crate::app::channels::{self, PluginImport, PluginSummary};
use crate::bridge::{Bridge, ChannelRegistry, EventHub};
use crate::guest_artifacts;
use crate::jwt::JwtSigner;
use crate::runtime::policy::{HostPolicy, WORLDS};
use crate::runtime::{Manifest, PluginEngine, PluginError};

/// What the app's handlers use.
pub struct AppServices {
    signer: JwtSigner,
    plugins: Vec<PluginSummary>,
}

impl AppServices {
    /// Loads the built-in plugins into `engine`.
    pub fn new(engine: &PluginEngine) -> Result<Self, PluginError> {
        let signer = JwtSigner::builtin(engine)?;
        let inspection = engine.inspect(guest_artifacts::JWT_SIGNER_WASM, "jwt-signer", &WORLDS[0])?;
        let manifest = Manifest::parse(guest_artifacts::JWT_SIGNER_MANIFEST, &HostPolicy::default())?;
        let plugins = vec![PluginSummary {
            name: manifest.name,
            version: manifest.version,
            world: manifest.world,
            source: "built-in".to_owned(),
            imports: inspection
                .imports
                .into_iter()
                .map(|i| PluginImport { name: i.name, decision: i.decision.to_owned(), detail: i.detail.to_owned() })
                .collect(),
        }];
        Ok(Self { signer, plugins })
    }

    /// The JWT signer.
    pub fn signer(&self) -> &JwtSigner {
        &self.signer
    }

    /// Installed plugins.
    pub fn plugins(&self) -> &[PluginSummary] {
        &self.plugins
    }
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
    channels::register(&mut registry, services)?;
    let mut events = EventHub::new();
    channels::declare_events(&mut events);
    Ok(Bridge::new(registry, Arc::new(events)))
}
