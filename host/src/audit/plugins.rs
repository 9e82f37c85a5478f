//! `tollgate audit --plugins`: for every installed plugin, each import it
//! asks for and whether the host grants it; for every window, the channels
//! it may call. Read from the same places the app decides from: the
//! component's own import list judged by the policy (`PluginEngine::inspect`)
//! and the bridge's channel registry as the app builds it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::app::{AppServices, build_bridge};
use crate::bridge::WindowLabel;
use crate::guest_artifacts::{CLAIMS_LINTER_MANIFEST, CLAIMS_LINTER_WASM, JWT_SIGNER_MANIFEST, JWT_SIGNER_WASM};
use crate::runtime::ImportReport;
use crate::runtime::{Manifest, PluginEngine, PluginError, PluginSource};

/// One plugin's grants.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginGrants {
    /// The manifest's name.
    pub name: String,
    /// `built-in`, or the component's path.
    pub source: String,
    /// The world it is judged against (its manifest's).
    pub world: String,
    /// Every import it asks for, with the host's decision.
    pub imports: Vec<ImportReport>,
    /// Whether every import is granted (it would load).
    pub loadable: bool,
}

/// One channel a window may call.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelGrant {
    /// `namespace:action`.
    pub name: &'static str,
    /// Largest payload.
    pub max_payload_bytes: usize,
    /// Sustained calls per second.
    pub per_second: u32,
    /// Burst.
    pub burst: u32,
    /// Whether a replayed request id is refused.
    pub state_changing: bool,
}

/// One window's grants.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowGrants {
    /// The window's label.
    pub window: &'static str,
    /// The channels it may call, in registry order.
    pub channels: Vec<ChannelGrant>,
}

/// The whole `--plugins` report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantsReport {
    /// Every plugin: the built-in ones, then those given on the command line.
    pub plugins: Vec<PluginGrants>,
    /// Every window.
    pub windows: Vec<WindowGrants>,
}

/// The grants of the built-in plugins and of each plugin in `extra`: a
/// package directory (as `tollgate plugin pack` writes it: one `.wasm` and
/// its `tollgate.toml`), or a component file whose manifest is found the
/// way the app finds it (`<stem>.toml` beside it, else `tollgate.toml`).
pub fn grants(engine: &PluginEngine, scratch: &Path, extra: &[PathBuf]) -> Result<GrantsReport, PluginError> {
    let mut plugins = vec![
        plugin_grants(engine, JWT_SIGNER_WASM, JWT_SIGNER_MANIFEST, "built-in")?,
        plugin_grants(engine, CLAIMS_LINTER_WASM, CLAIMS_LINTER_MANIFEST, "built-in")?,
    ];
    for path in extra {
        let wasm = if path.is_dir() { package_component(path)? } else { path.clone() };
        let source = PluginSource::from_files(&wasm, None)?;
        plugins.push(plugin_grants(engine, &source.wasm, &source.manifest, &wasm.display().to_string())?);
    }
    let services = Arc::new(AppServices::with_keychain(engine, scratch, crate::audit::audit_keychain("master-key"))?);
    let bridge = build_bridge(&services).map_err(|e| PluginError::Runtime(e.to_string()))?;
    let windows = WindowLabel::ALL
        .iter()
        .map(|&window| WindowGrants {
            window: window.as_str(),
            channels: bridge
                .registry()
                .channels()
                .iter()
                .filter(|c| c.spec.windows.contains(&window))
                .map(|c| ChannelGrant {
                    name: c.spec.name,
                    max_payload_bytes: c.spec.max_payload_bytes,
                    per_second: c.spec.quota.per_second,
                    burst: c.spec.quota.burst,
                    state_changing: c.spec.state_changing,
                })
                .collect(),
        })
        .collect();
    Ok(GrantsReport { plugins, windows })
}

/// The one component in a package directory.
fn package_component(dir: &Path) -> Result<PathBuf, PluginError> {
    let io = |e: std::io::Error| PluginError::Io { path: dir.display().to_string(), source: e };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            found.push(path);
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(PluginError::Io {
            path: dir.display().to_string(),
            source: std::io::Error::other(format!("a plugin package holds exactly one .wasm; found {}", found.len())),
        }),
    }
}

fn plugin_grants(engine: &PluginEngine, wasm: &[u8], manifest: &str, source: &str) -> Result<PluginGrants, PluginError> {
    let manifest = Manifest::parse(manifest, engine.policy())?;
    let world = manifest.world_spec()?;
    let inspection = engine.inspect(wasm, source, world)?;
    Ok(PluginGrants {
        name: manifest.name.clone(),
        source: source.to_owned(),
        world: world.name.to_owned(),
        imports: inspection.imports,
        loadable: inspection.loadable,
    })
}

impl GrantsReport {
    /// The report as text for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.plugins {
            let _ = writeln!(out, "plugin {} ({}), world {}", p.name, p.source, p.world);
            for i in &p.imports {
                let mark = if i.linked { "granted" } else { "REFUSED" };
                let _ = writeln!(out, "  {mark} {:<44} {}: {}", i.name, i.decision, i.detail);
            }
            if p.imports.is_empty() {
                let _ = writeln!(out, "  (imports nothing)");
            }
            let _ = writeln!(out, "  {}\n", if p.loadable { "loads: every import is granted" } else { "does NOT load: refused imports above" });
        }
        for w in &self.windows {
            let _ = writeln!(out, "window {}: {} channels", w.window, w.channels.len());
            for c in &w.channels {
                let _ = writeln!(
                    out,
                    "  {:<28} {:>7} B max, {:>4}/s burst {:<4}{}",
                    c.name,
                    c.max_payload_bytes,
                    c.per_second,
                    c.burst,
                    if c.state_changing { " state-changing" } else { "" }
                );
            }
            let _ = writeln!(out);
        }
        out
    }
}
