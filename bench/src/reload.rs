//! Dev reload's figure (issue 8): how long the app takes to swap in a
//! rebuilt plugin package, from the package on disk to the new plugin
//! serving (`AppServices::install_dev_plugin`: read, hash check, compile or
//! code-cache load, link, checks, swap). The poll interval (300 ms) comes
//! on top. A new component is compiled once; an unchanged rebuild (the same
//! bytes) comes from the compiled-code cache.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tollgate::app::AppServices;
use tollgate::guest_artifacts as artifacts;
use tollgate::runtime::{EngineOptions, PluginEngine, PluginSource};
use tollgate::scaffold::record_hash;

use crate::round2;

/// Reloads of an unchanged component measured.
const CACHED_ROUNDS: usize = 7;

fn package(dir: &std::path::Path, wasm: &str) -> PluginSource<'static> {
    let manifest = dir.join("tollgate.toml");
    std::fs::copy(artifacts::JWT_SIGNER_MANIFEST_PATH, &manifest).expect("manifest");
    let bytes = std::fs::read(wasm).expect("component");
    record_hash(&bytes, &manifest).expect("hash");
    std::fs::write(dir.join("jwt-signer.wasm"), &bytes).expect("component");
    PluginSource::from_files(&dir.join("jwt-signer.wasm"), Some(&manifest)).expect("package")
}

/// Reload figures.
pub fn reload() -> Value {
    let cache = tempfile::tempdir().expect("cache");
    let engine = PluginEngine::new(EngineOptions { cache_dir: Some(cache.path().to_path_buf()), ..Default::default() }).expect("engine");
    let data = tempfile::tempdir().expect("data");
    let services = Arc::new(AppServices::new(&engine, data.path()).expect("services"));
    let pkg = tempfile::tempdir().expect("package");
    // A component the engine has not seen: compiled.
    let source = package(pkg.path(), artifacts::MISBEHAVING_SIGNER_WASM_PATH);
    let started = Instant::now();
    services.install_dev_plugin(&source, "bench").expect("install");
    let new_ms = started.elapsed().as_secs_f64() * 1e3;
    // The same bytes again (a rebuild that changed nothing): cache hits.
    let mut cached: Vec<f64> = (0..CACHED_ROUNDS)
        .map(|_| {
            let started = Instant::now();
            services.install_dev_plugin(&source, "bench").expect("install");
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    cached.sort_by(f64::total_cmp);
    json!({
        "new_component_ms": round2(new_ms),
        "unchanged_component_ms_median": round2(cached[cached.len() / 2]),
        "poll_interval_ms": tollgate::app::dev_plugins::DEV_RELOAD_POLL.as_millis() as u64,
    })
}
