//! `tollgate plugin inspect`: every import and export of a component, and
//! for each import what the host would do with it, decided by the same
//! function that decides at load.

use serde::Serialize;
use wasmtime::component::types::ComponentItem;

use crate::policy::{ImportDecision, WorldSpec, decide_import};
use crate::{PluginEngine, PluginError};

/// One import and the host's decision on it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The import's full name.
    pub name: String,
    /// Whether the host links it.
    pub linked: bool,
    /// `host-interface`, `capability-less` or `refused`.
    pub decision: &'static str,
    /// What the guest gets, or why it is refused.
    pub detail: &'static str,
}

/// One export: an interface and its functions, or a bare function.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The export's name.
    pub name: String,
    /// Functions inside an exported interface.
    pub functions: Vec<String>,
}

/// What a component imports and exports, judged against a world.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The world the imports were judged against.
    pub world: &'static str,
    /// Every import, in the component's order.
    pub imports: Vec<ImportReport>,
    /// Every export.
    pub exports: Vec<ExportReport>,
    /// Whether every import is linked (the component would load).
    pub loadable: bool,
}

impl PluginEngine {
    /// Inspects a component against `world`.
    pub fn inspect(&self, bytes: &[u8], what: &str, world: &'static WorldSpec) -> Result<Inspection, PluginError> {
        let component = self.compile(bytes, what)?;
        let ty = component.component_type();
        let imports: Vec<ImportReport> = ty
            .imports(self.engine())
            .map(|(name, _)| {
                let (decision, detail, linked) = match decide_import(world, name) {
                    ImportDecision::HostInterface => ("host-interface", "declared by the world", true),
                    ImportDecision::CapabilityLess(d) => ("capability-less", d, true),
                    ImportDecision::Refused(d) => ("refused", d, false),
                };
                ImportReport { name: name.to_owned(), linked, decision, detail }
            })
            .collect();
        let exports = ty
            .exports(self.engine())
            .map(|(name, item)| ExportReport {
                name: name.to_owned(),
                functions: match item.ty {
                    ComponentItem::ComponentInstance(inst) => {
                        inst.exports(self.engine()).map(|(f, _)| f.to_owned()).collect()
                    }
                    _ => Vec::new(),
                },
            })
            .collect();
        let loadable = imports.iter().all(|i| i.linked);
        Ok(Inspection { world: world.name, imports, exports, loadable })
    }
}
