//! The claims linter's figures (issue 8): one `lint` call through the
//! JavaScript linter (ComponentizeJS, ~12 MB) against the Rust one on the
//! same claims, each from a fresh instance (as the app calls it) and from a
//! warm one; the JavaScript component's fresh instance from `InstancePre`,
//! its cold compile, and its load from the compiled-code cache.

use std::borrow::Cow;
use std::time::Instant;

use serde_json::{Map, Value, json};
use tollgate::guest_artifacts as artifacts;
use tollgate::lint::{ClaimsLinter, LintPolicy};
use tollgate::runtime::worlds::ClaimsLinterWorld;
use tollgate::runtime::{EngineOptions, InstanceReuse, Plugin, PluginEngine, PluginSource};

use crate::{ROUNDS, median, round2};

/// Claims like a profile's: registered claims, a few custom ones, one
/// personal field, a nested object.
fn claims() -> Map<String, Value> {
    let claims = json!({
        "iss": "https://issuer.example",
        "aud": ["api", "web"],
        "sub": "user-42",
        "iat": 1_700_000_000u64,
        "exp": 1_700_086_400u64,
        "email": "ada@example.com",
        "roles": ["admin", "editor"],
        "tenant": { "id": "t-9", "region": "eu-west-1" },
        "scope": "read write",
    });
    match claims {
        Value::Object(m) => m,
        _ => unreachable!("an object literal"),
    }
}

const POLICY: LintPolicy = LintPolicy { max_lifetime_seconds: 3600, now_seconds: 1_700_000_000 };

/// A linter's manifest with its quota at policy maximum, so the benchmark
/// measures the linter, not the rate limiter's refusals.
fn bench_manifest(manifest: &str) -> String {
    let end = manifest.find("[quotas.").expect("the linter manifests have quotas");
    format!("{}[quotas.lint]\nper-second = 1000000\nburst = 100000\n", &manifest[..end])
}

fn source(wasm: Vec<u8>, manifest: &str, what: &str) -> PluginSource<'static> {
    PluginSource { wasm: Cow::Owned(wasm), manifest: Cow::Owned(bench_manifest(manifest)), what: what.into() }
}

fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}

/// Median over rounds of the mean time of one call, in microseconds;
/// `iters` calls per round.
fn per_call_us(iters: u32, mut f: impl FnMut()) -> f64 {
    median(
        (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..iters {
                    f();
                }
                started.elapsed().as_secs_f64() * 1e6 / f64::from(iters)
            })
            .collect(),
    )
}

fn lint_us(linter: &ClaimsLinter, iters: u32) -> f64 {
    let claims = claims();
    per_call_us(iters, || {
        let findings = linter.lint(&claims, POLICY).expect("lints");
        assert_eq!(findings.len(), 2, "the bench claims give two findings");
    })
}

/// Rust against JavaScript for one way of instantiating.
fn compare(rust: &ClaimsLinter, js: &ClaimsLinter) -> Value {
    let rust_us = lint_us(rust, 2000);
    let js_us = lint_us(js, 200);
    json!({ "rust_us": round2(rust_us), "js_us": round2(js_us), "js_over_rust": round2(js_us / rust_us) })
}

/// The claims linter's figures.
pub fn claims_linter() -> Value {
    let js_wasm = match std::fs::read(artifacts::CLAIMS_LINTER_JS_WASM_PATH) {
        Ok(bytes) => bytes,
        Err(e) => return json!({ "skipped": format!("{}: {e}", artifacts::CLAIMS_LINTER_JS_WASM_PATH) }),
    };
    let js_manifest = std::fs::read_to_string(artifacts::CLAIMS_LINTER_JS_MANIFEST_PATH).expect("js linter manifest");
    let js_source = source(js_wasm.clone(), &js_manifest, "claims-linter-js (bench manifest)");
    let rust_source =
        source(artifacts::CLAIMS_LINTER_WASM.to_vec(), artifacts::CLAIMS_LINTER_MANIFEST, "claims-linter (bench manifest)");

    // Cold compile: an engine without a cache compiles every load.
    let uncached = PluginEngine::new(EngineOptions::default()).expect("engine");
    let started = Instant::now();
    drop(uncached.compile(&js_wasm, "claims-linter-js").expect("compiles"));
    let js_cold_compile_ms = ms_since(started);
    let started = Instant::now();
    drop(uncached.compile(artifacts::CLAIMS_LINTER_WASM, "claims-linter").expect("compiles"));
    let rust_cold_compile_ms = ms_since(started);

    // With the compiled-code cache, as the app runs: the first load fills
    // it, a later one (the next start) maps the stored code.
    let cache = tempfile::tempdir().expect("temp dir");
    let engine = PluginEngine::new(EngineOptions { cache_dir: Some(cache.path().to_path_buf()), ..Default::default() })
        .expect("engine");
    let started = Instant::now();
    let js_plugin: Plugin<ClaimsLinterWorld> = engine.load(&js_source).expect("js linter loads");
    let js_first_load_ms = ms_since(started);
    let js_cached_load_ms = median(
        (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                drop(engine.load::<ClaimsLinterWorld>(&js_source).expect("loads from the cache"));
                ms_since(started)
            })
            .collect(),
    );
    let rust_plugin: Plugin<ClaimsLinterWorld> = engine.load(&rust_source).expect("rust linter loads");

    let js_instantiate_us = per_call_us(50, || js_plugin.check_instantiation().expect("instantiates"));
    let rust_instantiate_us = per_call_us(500, || rust_plugin.check_instantiation().expect("instantiates"));

    let fresh = compare(&ClaimsLinter::from_plugin(rust_plugin), &ClaimsLinter::from_plugin(js_plugin));
    let warm = compare(
        &ClaimsLinter::from_plugin(engine.load(&rust_source).expect("loads").with_reuse(InstanceReuse::Warm)),
        &ClaimsLinter::from_plugin(engine.load(&js_source).expect("loads").with_reuse(InstanceReuse::Warm)),
    );

    json!({
        "claims_bytes": serde_json::to_string(&claims()).map(|t| t.len()).unwrap_or_default(),
        "lint_fresh_instance": fresh,
        "lint_warm_instance": warm,
        "fresh_instance_from_instance_pre_us": {
            "js": round2(js_instantiate_us),
            "rust": round2(rust_instantiate_us),
        },
        "cold_compile_ms": { "js": round2(js_cold_compile_ms), "rust": round2(rust_cold_compile_ms) },
        "js_first_load_ms": round2(js_first_load_ms),
        "js_load_from_cache_ms": round2(js_cached_load_ms),
        "component_bytes": { "js": js_wasm.len(), "rust": artifacts::CLAIMS_LINTER_WASM.len() },
    })
}
