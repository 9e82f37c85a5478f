//! `just bench`: Tollgate's benchmarks, printed as one JSON object.
//!
//! Everything is measured in one process and one run, so ratios compare
//! like with like on a noisy shared machine. Each figure is the median of
//! `ROUNDS` rounds; a ratio is the median of the per-round ratios.

mod bridge;
mod ct;
mod probe;
mod auth;
mod jwt_app;
mod reload;
mod isolation;
mod lint;
mod paint;

use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::{Algorithm, AnswerSchedule, JwtSigner, SignRequest, SigningKey};
use tollgate::runtime::worlds::JwtSignerWorld;
use tollgate::runtime::{EngineOptions, InstanceReuse, PluginEngine, PluginSource};
use zeroize::Zeroizing;

/// Rounds per measurement; the median is reported.
pub(crate) const ROUNDS: usize = 7;

/// A manifest with quotas at policy maximum, so the benchmark measures the
/// signer, not the rate limiter's refusals.
fn bench_manifest() -> String {
    let limits_end = artifacts::JWT_SIGNER_MANIFEST.find("[quotas.").expect("the signer manifest has quotas");
    let mut manifest = artifacts::JWT_SIGNER_MANIFEST[..limits_end].to_owned();
    for function in ["sign", "decode", "verify"] {
        manifest.push_str(&format!("[quotas.{function}]\nper-second = 1000000\nburst = 100000\n"));
    }
    manifest
}

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Mean time of one call over `iters` calls, in microseconds.
fn time_us(iters: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(iters)
}

fn key_file(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct SignBench {
    guest_us: f64,
    native_us: f64,
    ratio: f64,
}

fn bench_sign(signer: &JwtSigner, alg: Algorithm, material: &[u8], iters: u32) -> SignBench {
    let key = SigningKey::new(alg, Zeroizing::new(material.to_vec())).expect("bench key");
    let native_key = if alg.is_hmac() { EncodingKey::from_secret(material) } else { EncodingKey::from_rsa_pem(material).expect("rsa") };
    let claims = json!({"sub": "bench", "name": "Ada Lovelace", "iat": 1_700_000_000u64, "exp": 4_000_000_000u64, "roles": ["a", "b"]});
    let header = Header::new(alg.to_jsonwebtoken());
    // Warm both paths up (and check they agree) before timing.
    let guest = signer.sign(SignRequest { key: &key, claims: claims.clone(), kid: None, typ: None, extra: Default::default() }).expect("guest sign");
    let native = jsonwebtoken::encode(&header, &claims, &native_key).expect("native sign");
    assert_eq!(guest, native, "{alg}: guest and native tokens differ");
    let (mut guest_us, mut native_us, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let g = time_us(iters, || {
            signer.sign(SignRequest { key: &key, claims: claims.clone(), kid: None, typ: None, extra: Default::default() }).expect("guest sign");
        });
        let n = time_us(iters, || {
            jsonwebtoken::encode(&header, &claims.clone(), &native_key).expect("native sign");
        });
        guest_us.push(g);
        native_us.push(n);
        ratios.push(g / n);
    }
    SignBench { guest_us: median(guest_us), native_us: median(native_us), ratio: median(ratios) }
}

/// Per-call latencies of HS256 signing through `signer`, in microseconds.
fn latencies_us(signer: &JwtSigner, calls: usize) -> Vec<f64> {
    let key = SigningKey::new(Algorithm::HS256, Zeroizing::new(b"benchmark-hmac-secret-0123456789abcdef".to_vec())).expect("key");
    let claims = json!({"sub": "bench", "exp": 4_000_000_000u64});
    let mut out: Vec<f64> = (0..calls)
        .map(|_| {
            let started = Instant::now();
            signer.sign(SignRequest { key: &key, claims: claims.clone(), kid: None, typ: None, extra: Default::default() }).expect("sign");
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// Issue 15: the host accepts a signer's token only if it is byte-identical
/// to the canonical token it computes itself. That check replaced a native
/// verify with a native sign; here is what each costs per token, and what
/// the whole guest sign (fresh instance, unheld) costs with it.
fn byte_equality(signer: &JwtSigner) -> Value {
    let mut out = serde_json::Map::new();
    for (alg, material) in [
        (Algorithm::HS256, b"benchmark-hmac-secret-0123456789abcdef".to_vec()),
        (Algorithm::ES256, key_file("p256.pem")),
        (Algorithm::EdDSA, key_file("ed25519.pem")),
        (Algorithm::RS256, key_file("rsa2048.pem")),
    ] {
        let key = SigningKey::new(alg, Zeroizing::new(material.clone())).expect("bench key");
        let canonical = tollgate_jwt_canonical::CanonicalSigner::new(alg.to_jsonwebtoken(), &material).expect("canonical key");
        let claims = json!({"sub": "bench", "exp": 4_000_000_000u64});
        let token = signer.sign(SignRequest { key: &key, claims: claims.clone(), kid: None, typ: None, extra: Default::default() }).expect("guest sign");
        let (message, signature) = token.rsplit_once('.').expect("three segments");
        let public = match alg {
            Algorithm::HS256 => jsonwebtoken::DecodingKey::from_secret(&material),
            Algorithm::ES256 => jsonwebtoken::DecodingKey::from_ec_pem(&key_file("p256.pub.pem")).expect("public"),
            Algorithm::EdDSA => jsonwebtoken::DecodingKey::from_ed_pem(&key_file("ed25519.pub.pem")).expect("public"),
            _ => jsonwebtoken::DecodingKey::from_rsa_pem(&key_file("rsa2048.pub.pem")).expect("public"),
        };
        let iters = if alg == Algorithm::RS256 { 50 } else { 500 };
        let (mut sign_us, mut verify_us, mut guest_us) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            sign_us.push(time_us(iters, || drop(canonical.signature(message.as_bytes()).expect("sign"))));
            verify_us.push(time_us(iters, || {
                assert!(jsonwebtoken::crypto::verify(signature, message.as_bytes(), &public, alg.to_jsonwebtoken()).expect("verify"));
            }));
            guest_us.push(time_us(iters / 5, || {
                signer.sign(SignRequest { key: &key, claims: claims.clone(), kid: None, typ: None, extra: Default::default() }).expect("guest sign");
            }));
        }
        let (sign_us, verify_us, guest_us) = (median(sign_us), median(verify_us), median(guest_us));
        out.insert(alg.name().to_owned(), json!({
            "host_canonical_sign_us": round2(sign_us),
            "replaced_native_verify_us": round2(verify_us),
            "check_cost_ratio_sign_over_verify": round2(sign_us / verify_us),
            "guest_sign_with_byte_equality_us": round2(guest_us),
            "check_share_of_guest_sign": round2(sign_us / guest_us),
        }));
    }
    Value::Object(out)
}

/// Issue 15: what the answer schedule makes a key-carrying call cost as a
/// caller sees it: HS256 signs through the built-in signer with the
/// schedule on, against the same calls unheld.
fn answer_schedule(engine: &PluginEngine, source: &PluginSource<'_>) -> Value {
    let held = JwtSigner::from_plugin(engine.load::<JwtSignerWorld>(source).expect("load"));
    let unheld = JwtSigner::from_plugin(engine.load::<JwtSignerWorld>(source).expect("load")).with_schedule(AnswerSchedule::OFF);
    let held_us = latencies_us(&held, 21);
    let unheld_us = latencies_us(&unheld, 21);
    json!({
        "min_floor_ms": AnswerSchedule::DEFAULT.min_floor.as_millis() as u64,
        "native_factor": AnswerSchedule::DEFAULT.native_factor,
        "hs256_held_p50_us": round2(percentile(&held_us, 0.5)),
        "hs256_held_max_us": round2(percentile(&held_us, 1.0)),
        "hs256_unheld_p50_us": round2(percentile(&unheld_us, 0.5)),
    })
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Worker figures: added latency per call vs in-process, handshake time,
/// restart time after a crash.
fn bench_worker(in_process: &JwtSigner, cache_dir: &Path) -> Value {
    use tollgate::worker::{HandshakeConfig, HandshakeServer, WorkerOptions, WorkerSigner, generate_handshake_token, send_handshake};
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release").join(tollgate::worker::WORKER_PROGRAM);
    if !program.exists() {
        return json!({"skipped": format!("{} not built (just bench builds it)", program.display())});
    }
    let mut options = WorkerOptions::new(program);
    options.cache_dir = Some(cache_dir.to_path_buf());
    // Restarts are measured on purpose: keep the breaker out of the way.
    options.breaker_threshold = u32::MAX;
    // The built-in signer with the bench manifest's quotas, from files.
    let wasm = cache_dir.join("bench-signer.wasm");
    let manifest = cache_dir.join("bench-signer.toml");
    std::fs::write(&wasm, artifacts::JWT_SIGNER_WASM).expect("write wasm");
    std::fs::write(&manifest, bench_manifest()).expect("write manifest");
    options.plugin.wasm = Some(wasm);
    options.plugin.manifest = Some(manifest);
    let backend = std::sync::Arc::new(WorkerSigner::new(options).expect("worker"));
    let started = Instant::now();
    backend.start().expect("start");
    let first_start_ms = started.elapsed().as_secs_f64() * 1e3;
    let worker = JwtSigner::from_backend(Box::new(backend.clone())).with_schedule(AnswerSchedule::OFF);
    latencies_us(&worker, 200);
    latencies_us(in_process, 200);
    let (mut p50s, mut p99s, mut local50, mut local99, mut remote50, mut remote99) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let local = latencies_us(in_process, 1000);
        let remote = latencies_us(&worker, 1000);
        p50s.push(percentile(&remote, 0.5) - percentile(&local, 0.5));
        p99s.push(percentile(&remote, 0.99) - percentile(&local, 0.99));
        local50.push(percentile(&local, 0.5));
        local99.push(percentile(&local, 0.99));
        remote50.push(percentile(&remote, 0.5));
        remote99.push(percentile(&remote, 0.99));
    }
    let handshake_us = median(
        (0..50)
            .map(|_| {
                let server = HandshakeServer::bind(HandshakeConfig::default()).expect("bind");
                let token = generate_handshake_token().expect("token");
                let hex = token.to_hex();
                server.expect(token);
                let started = Instant::now();
                let mut stream = std::os::unix::net::UnixStream::connect(server.socket_path()).expect("connect");
                send_handshake(&mut stream, &hex, std::time::Duration::from_secs(5)).expect("handshake");
                started.elapsed().as_secs_f64() * 1e6
            })
            .collect(),
    );
    let restarts: Vec<f64> = (0..5)
        .map(|_| {
            let pid = backend.worker_pid().expect("running");
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            let started = Instant::now();
            let key = SigningKey::new(Algorithm::HS256, Zeroizing::new(b"benchmark-hmac-secret-0123456789abcdef".to_vec())).expect("key");
            let sign = || worker.sign(SignRequest { key: &key, claims: json!({"n": 1}), kid: None, typ: None, extra: Default::default() });
            let first = sign();
            assert!(first.is_err(), "the killed worker answered");
            sign().expect("the next call works");
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let added_p50 = median(p50s);
    let restart_ms = median(restarts);
    json!({
        "hs256_sign_p50_us": {"in_process": round2(median(local50)), "worker": round2(median(remote50))},
        "hs256_sign_p99_us": {"in_process": round2(median(local99)), "worker": round2(median(remote99))},
        "added_p50_us": round2(added_p50), "added_p99_us": round2(median(p99s)),
        "target_added_p50_us_max": 30.0, "meets_added_p50_target": added_p50 <= 30.0,
        "handshake_us": round2(handshake_us),
        "first_start_ms": round2(first_start_ms),
        "restart_to_next_success_ms": round2(restart_ms), "target_restart_ms_max": 50.0, "meets_restart_target": restart_ms <= 50.0,
    })
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn main() {
    let cache = tempfile::tempdir().expect("temp dir");
    let engine = PluginEngine::new(EngineOptions { cache_dir: Some(cache.path().to_path_buf()), ..Default::default() }).expect("engine");
    let source = PluginSource {
        wasm: Cow::Borrowed(artifacts::JWT_SIGNER_WASM),
        manifest: Cow::Owned(bench_manifest()),
        what: "jwt-signer (bench manifest)".into(),
    };

    // Cold load: compile and fill the cache.
    let started = Instant::now();
    let plugin = engine.load::<JwtSignerWorld>(&source).expect("cold load");
    let cold_load_ms = started.elapsed().as_secs_f64() * 1e3;

    // Warm load: from the compiled-code cache, as a second start would.
    let mut warm_loads = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        drop(engine.load::<JwtSignerWorld>(&source).expect("warm load"));
        warm_loads.push(started.elapsed().as_secs_f64() * 1e3);
    }

    let warm_load_ms = median(warm_loads);
    if std::env::var_os("TOLLGATE_BENCH_PROFILE").is_some_and(|v| v == "load") {
        let us = time_us(300, || drop(engine.load::<JwtSignerWorld>(&source).expect("warm load")));
        println!("{}", json!({"warm_load_us": us}));
        return;
    }

    // A fresh instance from InstancePre with the pooling allocator.
    let instantiate_us = median((0..ROUNDS).map(|_| time_us(200, || plugin.check_instantiation().expect("instantiate"))).collect());

    if std::env::var_os("TOLLGATE_BENCH_PROFILE").is_some_and(|v| v == "instantiate") {
        let us = time_us(200_000, || plugin.check_instantiation().expect("instantiate"));
        println!("{}", json!({"instantiate_us": us}));
        return;
    }
    // Unheld: these figures are the cost of signing; the answer schedule's
    // floor (issue 15) is reported on its own below.
    let warm = JwtSigner::from_plugin(plugin.with_reuse(InstanceReuse::Warm)).with_schedule(AnswerSchedule::OFF);
    let hs_secret = b"benchmark-hmac-secret-0123456789abcdef".to_vec();
    // `TOLLGATE_BENCH_PROFILE=1`: only HS256 through a warm instance, for a
    // few seconds, to profile (e.g. under `perf record`).
    if std::env::var_os("TOLLGATE_BENCH_PROFILE").is_some() {
        let r = bench_sign(&warm, Algorithm::HS256, &hs_secret, 100_000);
        println!("{}", json!({"hs256_guest_us": r.guest_us, "native_us": r.native_us}));
        return;
    }
    // `TOLLGATE_BENCH_ONLY=lint`: only the claims linter's figures.
    if std::env::var("TOLLGATE_BENCH_ONLY").as_deref() == Ok("lint") {
        println!("{}", serde_json::to_string_pretty(&json!({ "claims_linter": lint::claims_linter() })).expect("json"));
        return;
    }
    // `TOLLGATE_BENCH_ONLY=reload`: only dev reload's figure.
    if std::env::var("TOLLGATE_BENCH_ONLY").as_deref() == Ok("reload") {
        println!("{}", json!({ "dev_reload": reload::reload() }));
        return;
    }
    // `TOLLGATE_BENCH_ONLY=isolation`: only the worker's cost in jwt:generate.
    if std::env::var("TOLLGATE_BENCH_ONLY").as_deref() == Ok("isolation") {
        println!("{}", serde_json::to_string_pretty(&json!({ "signer_isolation": isolation::signer_isolation() })).expect("json"));
        return;
    }
    // `TOLLGATE_BENCH_ONLY=ct`: only the secret-compare timing figure.
    if std::env::var("TOLLGATE_BENCH_ONLY").as_deref() == Ok("ct") {
        println!("{}", serde_json::to_string_pretty(&json!({ "secret_compare_timing": ct::report() })).expect("json"));
        return;
    }
    // `TOLLGATE_BENCH_ONLY=cold`: only cold start (the release app and the
    // bare window, with and without the renderer sandbox).
    if std::env::var("TOLLGATE_BENCH_ONLY").as_deref() == Ok("cold") {
        println!("{}", serde_json::to_string_pretty(&json!({ "bridge_cold_start_to_first_answer": bridge::cold_start() })).expect("json"));
        return;
    }
    // `TOLLGATE_BENCH_ONLY=window`: only the figures from the real window
    // (round trips and transfers with their raw wry floors, the JWT app).
    if std::env::var("TOLLGATE_BENCH_ONLY").as_deref() == Ok("window") {
        let (bridge_in_window, jwt_app_in_window) = bridge::window(&engine);
        println!("{}", serde_json::to_string_pretty(&json!({ "bridge_in_window": bridge_in_window, "jwt_app_in_window": jwt_app_in_window })).expect("json"));
        return;
    }
    // `TOLLGATE_BENCH_ONLY=auth`: only the sign-in figures.
    if std::env::var("TOLLGATE_BENCH_ONLY").as_deref() == Ok("auth") {
        println!("{}", serde_json::to_string_pretty(&json!({ "auth_get_session_host_side": auth::get_session(&engine), "auth_sign_in": auth::sign_in_latencies() })).expect("json"));
        return;
    }
    let rsa = key_file("rsa2048.pem");
    let hs_warm = bench_sign(&warm, Algorithm::HS256, &hs_secret, 2000);
    let rs_warm = bench_sign(&warm, Algorithm::RS256, &rsa, 100);

    let fresh = JwtSigner::from_plugin(engine.load::<JwtSignerWorld>(&source).expect("load")).with_schedule(AnswerSchedule::OFF);
    let hs_fresh = bench_sign(&fresh, Algorithm::HS256, &hs_secret, 2000);
    let rs_fresh = bench_sign(&fresh, Algorithm::RS256, &rsa, 100);

    let byte_equality = byte_equality(&fresh);
    let schedule = answer_schedule(&engine, &source);
    let worker = bench_worker(&fresh, cache.path());
    let crossing = bridge::crossing();
    let cold_start = bridge::cold_start();
    let (bridge_in_window, jwt_app_in_window) = bridge::window(&engine);
    let auth_get_session = auth::get_session(&engine);
    let claims_linter = lint::claims_linter();
    let dev_reload = reload::reload();
    let signer_isolation = isolation::signer_isolation();

    let sign_json = |b: &SignBench, target: f64| {
        json!({
            "guest_us": round2(b.guest_us),
            "native_us": round2(b.native_us),
            "ratio": round2(b.ratio),
            "target_ratio_max": target,
            "meets_target": b.ratio <= target,
        })
    };
    let report: Value = json!({
        "rounds": ROUNDS,
        "statistic": "median of rounds",
        "hs256_sign_warm_instance": sign_json(&hs_warm, 3.0),
        "rs256_sign_warm_instance": sign_json(&rs_warm, 3.0),
        "hs256_sign_fresh_instance": sign_json(&hs_fresh, 3.0),
        "rs256_sign_fresh_instance": sign_json(&rs_fresh, 3.0),
        "fresh_instance_from_instance_pre_us": {
            "value": round2(instantiate_us), "target_max": 20.0, "meets_target": instantiate_us <= 20.0,
        },
        "plugin_load_from_cache_ms": {
            "value": round2(warm_load_ms), "target_max": 5.0, "meets_target": warm_load_ms <= 5.0,
        },
        "plugin_load_cold_ms": round2(cold_load_ms),
        "code_cache_hits_misses": engine.cache_stats(),
        "byte_equality_sign": byte_equality,
        "key_call_answer_schedule": schedule,
        "worker_process": worker,
        "bridge_crossing_host_side": crossing,
        "bridge_cold_start_to_first_answer": cold_start,
        "bridge_in_window": bridge_in_window,
        "jwt_app_in_window": jwt_app_in_window,
        "auth_get_session_host_side": auth_get_session,
        "auth_sign_in": auth::sign_in_latencies(),
        "claims_linter": claims_linter,
        "dev_reload": dev_reload,
        "signer_isolation": signer_isolation,
        "secret_compare_timing": ct::report(),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
