//! `plugins:*`: the installed plugins with the host's decision on each
//! import and their quarantine state, and the request to trust a
//! quarantined one again (which only the user, in the host's dialog, can
//! grant).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::channels::READ;
use crate::services::AppServices;
use crate::bridge::channels::Empty;
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode};
use crate::jwt::quarantine::QuarantineEntry;

/// One import of a plugin and the host's decision on it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginImport {
    /// The import's full name.
    pub name: String,
    /// `host-interface`, `capability-less` or `refused`.
    pub decision: String,
    /// What the guest gets.
    pub detail: String,
}

/// A plugin as `plugins:list` shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginSummary {
    /// Manifest name.
    pub name: String,
    /// Manifest version.
    pub version: String,
    /// World it implements.
    pub world: String,
    /// Where it came from (`built-in`).
    pub source: String,
    /// The component's SHA-256 (lowercase hex): what quarantine knows it by.
    pub sha256: String,
    /// Why the host refuses it keys, if it does (see `plugins:trust`).
    pub quarantine: Option<QuarantineEntry>,
    /// Where its guest code runs.
    pub isolation: PluginIsolation,
    /// Every import and the host's decision.
    pub imports: Vec<PluginImport>,
}

/// Where a plugin's guest code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum PluginIsolation {
    /// In the app's own process (the built-in plugins, compiled into the
    /// binary).
    InProcess,
    /// In a `tollgate-worker` process of its own, under a seccomp filter
    /// (an installed signer).
    Worker,
}

/// `plugins:list` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginList {
    /// Installed plugins.
    pub plugins: Vec<PluginSummary>,
}

/// `plugins:list`.
pub struct ListPlugins;
impl Channel for ListPlugins {
    type Request = Empty;
    type Response = PluginList;
    const SPEC: ChannelSpec =
        ChannelSpec { name: "plugins:list", summary: "Installed plugins and what each may import.", ..READ };
}

/// `plugins:trust` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PluginTrustRequest {
    /// The quarantined component's SHA-256, lowercase hex (from `plugins:list`).
    pub sha256: String,
}

/// `plugins:trust` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PluginTrustAnswer {
    /// Whether the user said yes in the host's dialog (and the entry is gone).
    pub trusted: bool,
    /// The plugins, as `plugins:list` shows them now.
    pub plugins: Vec<PluginSummary>,
}

/// `plugins:trust`: asks the user, in a native dialog the page can't
/// script, whether to trust a quarantined plugin again
/// (`app::trust_prompt`). The page only asks; a hostile page that calls
/// this gets a dialog in front of the user, not a cleared quarantine.
pub struct TrustPlugin;
impl Channel for TrustPlugin {
    type Request = PluginTrustRequest;
    type Response = PluginTrustAnswer;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "plugins:trust",
        summary: "Asks the user, in a host dialog, to trust a quarantined plugin again.",
        quota: Quota { per_second: 1, burst: 2 },
        since: "1.5",
        state_changing: true,
        execution: Execution::Heavy,
        ..READ
    };
}

/// Registers `plugins:list` and `plugins:trust`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<ListPlugins, _>(move |_, _: Empty| Ok(PluginList { plugins: s.plugins() }))?;

    let s = Arc::clone(services);
    registry.register::<TrustPlugin, _>(move |_, req: PluginTrustRequest| {
        let well_formed = req.sha256.len() == 64 && req.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(BridgeError::validation("sha256 must be 64 lowercase hex digits"));
        }
        let Some(entry) = s.quarantine().get(&req.sha256) else {
            return Err(BridgeError::new(ErrorCode::NotFound, "no quarantined plugin has this sha256"));
        };
        let trusted = s.trust_prompt().confirm(&entry);
        if trusted {
            s.quarantine().trust(&entry.sha256).map_err(|e| BridgeError::new(ErrorCode::SaveFailed, e.to_string()))?;
            tracing::warn!(target: "tollgate::security", plugin = %entry.plugin, sha256 = %entry.sha256, "the user trusted a quarantined plugin again");
        }
        Ok(PluginTrustAnswer { trusted, plugins: s.plugins() })
    })?;
    Ok(())
}
