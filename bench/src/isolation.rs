//! What running an installed signer in the worker costs `jwt:generate`
//! (issue 18): the token path of the channel (`tokens::generate`: open the
//! sealed key, sign through the signer, the host's output checks and answer
//! schedule) for the HS256 and RS256 bench profiles, first with the
//! built-in signer in this process, then with the same component installed
//! as a package, which the app runs in `tollgate-worker`. Same services,
//! same profiles, same run; medians of rounds, and their ratio.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use time::OffsetDateTime;
use tollgate::app::{AppServices, SignerIsolation};
use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::JwtSigner;
use tollgate::runtime::{EngineOptions, PluginEngine, PluginSource};
use tollgate::scaffold::record_hash;
use tollgate::store::ProfileId;

use crate::{percentile, round2};

/// Calls per series after the warm-up.
const CALLS: usize = 60;
/// Unmeasured calls before a series.
const WARMUP: usize = 5;
/// Series per signer, alternating.
const ROUNDS: usize = 5;

fn p50_ms(services: &AppServices, signer: &JwtSigner, id: ProfileId) -> f64 {
    let profile = services.profiles().get(id).expect("profile");
    let once = || {
        let started = Instant::now();
        tollgate::app::tokens::generate(signer, services.secrets(), &profile, None, OffsetDateTime::now_utc()).expect("token");
        started.elapsed().as_secs_f64() * 1e3
    };
    for _ in 0..WARMUP {
        once();
    }
    let mut ms: Vec<f64> = (0..CALLS).map(|_| once()).collect();
    ms.sort_by(f64::total_cmp);
    percentile(&ms, 0.5)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The figures, or why they are skipped.
pub fn signer_isolation() -> Value {
    let program = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release").join(tollgate::worker::WORKER_PROGRAM);
    if !program.exists() {
        return json!({"skipped": format!("{} not built (just bench builds it)", program.display())});
    }
    let cache = tempfile::tempdir().expect("cache");
    let engine = PluginEngine::new(EngineOptions { cache_dir: Some(cache.path().to_path_buf()), ..Default::default() }).expect("engine");
    let data = tempfile::tempdir().expect("data");
    let (services, fixture) = crate::jwt_app::services_with_profiles(&engine, data.path());
    let fixture = match fixture {
        Ok(f) => f,
        Err(why) => return json!({"skipped": why}),
    };
    let services = Arc::into_inner(services).expect("one owner").with_signer_isolation(SignerIsolation::Worker { program });
    let pkg = tempfile::tempdir().expect("package");
    let manifest = pkg.path().join("tollgate.toml");
    std::fs::copy(artifacts::JWT_SIGNER_MANIFEST_PATH, &manifest).expect("manifest");
    record_hash(artifacts::JWT_SIGNER_WASM, &manifest).expect("hash");
    std::fs::write(pkg.path().join("jwt-signer.wasm"), artifacts::JWT_SIGNER_WASM).expect("component");
    let source = PluginSource::from_files(&pkg.path().join("jwt-signer.wasm"), Some(&manifest)).expect("package");

    let builtin = services.signer();
    let (hs, rs) = fixture.signing_profiles();
    let (mut hs_in, mut hs_worker, mut rs_in, mut rs_worker) = (vec![], vec![], vec![], vec![]);
    let started = Instant::now();
    services.install_dev_plugin(&source, "bench").expect("install in the worker");
    let install_ms = started.elapsed().as_secs_f64() * 1e3;
    let worker = services.signer();
    assert!(!Arc::ptr_eq(&builtin, &worker), "the install replaced the signer");
    for _ in 0..ROUNDS {
        hs_in.push(p50_ms(&services, &builtin, hs));
        rs_in.push(p50_ms(&services, &builtin, rs));
        hs_worker.push(p50_ms(&services, &worker, hs));
        rs_worker.push(p50_ms(&services, &worker, rs));
    }
    let (hs_in, hs_worker, rs_in, rs_worker) = (median(hs_in), median(hs_worker), median(rs_in), median(rs_worker));
    json!({
        "what": "tokens::generate (jwt:generate's work without the bridge), p50 per series, median of rounds",
        "rounds": ROUNDS,
        "calls_per_series": CALLS,
        "hs256_in_process_ms": round2(hs_in),
        "hs256_worker_ms": round2(hs_worker),
        "hs256_worker_over_in_process": round2(hs_worker / hs_in),
        "rs256_in_process_ms": round2(rs_in),
        "rs256_worker_ms": round2(rs_worker),
        "rs256_worker_over_in_process": round2(rs_worker / rs_in),
        "install_with_worker_start_ms": round2(install_ms),
    })
}
