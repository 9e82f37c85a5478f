//! Bridge figures: the host-side cost of one crossing (no webview), round
//! trips from page script against the raw wry floor in the same run, 1 MiB
//! up and down the binary path, and cold start to the first answered
//! request. The window figures need a display (`just bench` provides Xvfb).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tollgate::app::assets::AssetSource;
use crate::probe::{BenchProbe, Path as ProbePath};
use tollgate::app::build_bridge;
use tollgate::app::window::WindowOptions;
use tollgate::bridge::channels::{ALL_WINDOWS, Empty};
use tollgate::bridge::core::Sender;
use tollgate::bridge::envelope::build;
use tollgate::bridge::registry::{Body, Channel, ChannelSpec, Direction, Execution, Quota};
use tollgate::bridge::{Bridge, ChannelRegistry, EventHub, WindowLabel};
use tollgate::runtime::PluginEngine;

use crate::jwt_app::{self, Fixture};
use crate::{ROUNDS, median, percentile, round2};

/// A no-op channel with a quota the bench can't reach.
struct Noop;
impl Channel for Noop {
    type Request = Empty;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "bench:noop",
        summary: "Does nothing.",
        direction: Direction::WebviewToHost,
        windows: ALL_WINDOWS,
        max_payload_bytes: 64,
        quota: Quota { per_second: u32::MAX, burst: u32::MAX },
        since: "1.0",
        deprecated: None,
        state_changing: false,
        execution: Execution::Inline,
        body: Body::Json,
    };
}

fn stats(mut xs: Vec<f64>) -> Value {
    if xs.is_empty() {
        return json!(null);
    }
    xs.sort_by(f64::total_cmp);
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    json!({
        "n": xs.len(),
        "mean_us": round2(mean),
        "p50_us": round2(percentile(&xs, 0.5)),
        "p95_us": round2(percentile(&xs, 0.95)),
        "p99_us": round2(percentile(&xs, 0.99)),
    })
}

/// Sender check, envelope and payload parsing, validation, rate limit and
/// dispatch to a no-op handler, timed call by call.
pub fn crossing() -> Value {
    let mut registry = ChannelRegistry::new();
    registry.register::<Noop, _>(|_, _: Empty| Ok(Empty {})).expect("declared");
    let bridge = Bridge::with_global_quota(registry, Arc::new(EventHub::new()), Quota { per_second: u32::MAX, burst: u32::MAX });
    let secret = bridge.issue_secret(WindowLabel::Main).expect("secret").to_string();
    let sender = Sender { window: WindowLabel::Main, page_url: "tollgate://localhost/index.html" };
    let messages: Vec<String> = (0..20_000).map(|i| build(&secret, &format!("b-{i}"), "bench:noop", "{}")).collect();
    let mut p50s = Vec::new();
    let mut p99s = Vec::new();
    for _ in 0..ROUNDS {
        let mut samples = Vec::with_capacity(messages.len());
        for message in &messages {
            let started = Instant::now();
            let answer = bridge.handle_message(sender, message).finish();
            samples.push(started.elapsed().as_secs_f64() * 1e6);
            assert!(answer.result.is_ok(), "the no-op call failed: {:?}", answer.result);
        }
        samples.sort_by(f64::total_cmp);
        p50s.push(percentile(&samples, 0.5));
        p99s.push(percentile(&samples, 0.99));
    }
    let p50 = median(p50s);
    json!({
        "p50_us": round2(p50),
        "p99_us": round2(median(p99s)),
        "target_p50_max_us": 2.0,
        "meets_target": p50 <= 2.0,
    })
}

fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// Calls per round trip series in the page.
const PAGE_CALLS: usize = 1000;
/// 1 MiB transfers per direction.
const TRANSFERS: usize = 20;
/// The hostile body the page sends (issue 17's finding: 1.5 GiB).
const HOSTILE_MIB: usize = 1536;

/// The page script: round trips, transfers, then the JWT app's calls when
/// there are profiles to call with (`jwt_app::page_script`).
fn page_script(jwt: Option<&Fixture>) -> String {
    let jwt_app = jwt.map_or_else(|| "    const jwt = {};".to_owned(), jwt_app::page_script);
    format!(
        r#"(async () => {{
  const post = (m) => window.webkit.messageHandlers.ipc.postMessage(m);
  try {{
    for (let r = 0; r < {ROUNDS}; r++) {{
      for (let i = 0; i < {PAGE_CALLS}; i++) await tollgate.invoke("app:ping", {{}});
      for (let i = 0; i < {PAGE_CALLS}; i++) await new Promise((resolve) => {{ window.__bench_raw_reply = resolve; post("bench:raw"); }});
    }}
    const mib = 1 << 20;
    const up = new Uint8Array(mib);
    for (let i = 0; i < mib; i++) up[i] = i & 255;
    await tollgate.upload("diag:upload", up);
    let t0 = performance.now();
    for (let i = 0; i < {TRANSFERS}; i++) {{
      const r = await tollgate.upload("diag:upload", up);
      if (r.bytes !== mib) throw new Error("upload answered " + r.bytes + " bytes");
    }}
    const upMs = (performance.now() - t0) / {TRANSFERS};
    await tollgate.download("diag:download", {{ bytes: mib }});
    t0 = performance.now();
    for (let i = 0; i < {TRANSFERS}; i++) {{
      const b = await tollgate.download("diag:download", {{ bytes: mib }});
      if (b.byteLength !== mib) throw new Error("download gave " + b.byteLength + " bytes");
    }}
    const downMs = (performance.now() - t0) / {TRANSFERS};
{jwt_app}
    // A hostile body (issue 17): {HOSTILE_MIB} MiB POSTed with no secret,
    // to an asset path and then to the binary path, while app:ping is timed.
    const huge = new Uint8Array({HOSTILE_MIB} * mib);
    post("bench:mark\nhostile-start");
    const statusOf = (p) => p.then((r) => r.status, (e) => "error: " + e);
    let sending = true;
    const hostile = (async () => {{
      const asset = await statusOf(fetch("tollgate://localhost/index.html", {{ method: "POST", body: huge }}));
      const noSecret = await statusOf(fetch("tollgate://localhost/__bridge/diag:upload", {{ method: "POST", body: huge, headers: {{ "x-tollgate-request-id": "bench-hostile-1" }} }}));
      sending = false;
      return {{ asset, noSecret }};
    }})();
    const pings = [];
    while (sending) {{
      const t = performance.now();
      await tollgate.invoke("app:ping", {{}});
      pings.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }}
    const hostileStatus = await hostile;
    post("bench:mark\nhostile-end");
    post("bench:result\n" + JSON.stringify({{ upload_ms_per_mib: upMs, download_ms_per_mib: downMs, jwt_error: jwt.error ?? null, jwt_frame_timeouts: jwt.frameTimeouts ?? 0, hostile_pings_ms: pings, hostile_status: hostileStatus }}));
  }} catch (e) {{
    post("bench:result\n" + JSON.stringify({{ error: String((e && (e.message || e.code)) || e) }}));
  }}
}})();"#
    )
}

/// Round trips and transfers in the real window, and the JWT app's figures
/// (`jwt_app`) from the same page. Runs the window in this process (it
/// returns when the page script is done).
pub fn window(engine: &PluginEngine) -> (Value, Value) {
    if !has_display() {
        let skipped = json!({"skipped": "no display (just bench runs under Xvfb)"});
        return (skipped.clone(), skipped);
    }
    let data = tempfile::tempdir().expect("temp dir");
    let (services, fixture) = jwt_app::services_with_profiles(engine, data.path());
    let bridge = Arc::new(build_bridge(&services).expect("bridge"));
    let probe = Arc::new(BenchProbe::new(page_script(fixture.as_ref().ok())));
    let options = WindowOptions {
        data_dir: data.path().to_path_buf(),
        assets: AssetSource::Embedded,
        screenshot: None,
        allow_automation: false,
        opener: None,
        trust_prompt: None,
        file_dialogs: None,
        observer: Some(Arc::clone(&probe) as Arc<dyn tollgate::app::driver::Observer>),
    };
    let sampler = HostSampler::start(Arc::clone(&probe));
    let ran = tollgate::app::window::run(bridge, options);
    let (rss_samples, lags) = sampler.stop();
    if let Err(e) = ran {
        let error = json!({"error": e.to_string()});
        return (error.clone(), error);
    }
    let result: Value = probe.result().and_then(|r| serde_json::from_str(&r).ok()).unwrap_or(Value::Null);
    if result.get("error").is_some() || result.is_null() {
        let error = json!({"error": result});
        return (error.clone(), error);
    }
    let jwt = match &fixture {
        Ok(_) => jwt_app::figures(&probe.marks(), result["jwt_error"].as_str(), result["jwt_frame_timeouts"].as_u64().unwrap_or(0)),
        Err(why) => json!({"skipped": format!("no profiles: {why}")}),
    };
    let bridge_rt = probe.round_trips_us(ProbePath::Bridge);
    let raw_rt = probe.round_trips_us(ProbePath::Raw);
    // Per round: the p50 ratio of the bridge to the raw floor.
    let per_round = |xs: &[f64]| -> Vec<f64> {
        xs.chunks(PAGE_CALLS - 1)
            .map(|c| {
                let mut c = c.to_vec();
                c.sort_by(f64::total_cmp);
                percentile(&c, 0.5)
            })
            .collect()
    };
    let ratios: Vec<f64> = per_round(&bridge_rt).iter().zip(per_round(&raw_rt)).map(|(b, r)| b / r).collect();
    let ratio = median(ratios);
    let mut sorted = bridge_rt.clone();
    sorted.sort_by(f64::total_cmp);
    let p99 = if sorted.is_empty() { f64::NAN } else { percentile(&sorted, 0.99) };
    let mib_per_s = |ms: Option<f64>| ms.map(|ms| round2(1000.0 / ms));
    let up = mib_per_s(result["upload_ms_per_mib"].as_f64());
    let down = mib_per_s(result["download_ms_per_mib"].as_f64());
    let floor = wry_transfer_floor();
    let floor_up = mib_per_s(floor["upload_ms_per_mib"].as_f64());
    let floor_down = mib_per_s(floor["download_ms_per_mib"].as_f64());
    let ratio_of = |bridge: Option<f64>, floor: Option<f64>| bridge.zip(floor).map(|(b, f)| round2(b / f));
    let (up_ratio, down_ratio) = (ratio_of(up, floor_up), ratio_of(down, floor_down));
    let hostile = hostile_body_figures(&probe.marks(), &rss_samples, &lags, &result);
    let bridge_figures = json!({
        "round_trip_bridge": stats(bridge_rt),
        "round_trip_raw_wry_floor": stats(raw_rt),
        "p50_ratio_bridge_to_floor": round2(ratio),
        "target_p50_ratio_max": 1.25,
        "meets_p50_target": ratio <= 1.25,
        "target_p99_max_us": 400.0,
        "meets_p99_target": p99 <= 400.0,
        "upload_1mib_mib_per_s": up,
        "upload_target_min": 500.0,
        "meets_upload_target": up.is_some_and(|v| v >= 500.0),
        "download_1mib_mib_per_s": down,
        "download_target_min": 300.0,
        "meets_download_target": down.is_some_and(|v| v >= 300.0),
        "raw_wry_transfer_floor": floor,
        "upload_1mib_raw_wry_mib_per_s": floor_up,
        "download_1mib_raw_wry_mib_per_s": floor_down,
        "upload_ratio_bridge_to_raw_wry": up_ratio,
        "download_ratio_bridge_to_raw_wry": down_ratio,
        "target_transfer_ratio_min": 2.0,
        "meets_upload_ratio_target": up_ratio.is_some_and(|r| r >= 2.0),
        "meets_download_ratio_target": down_ratio.is_some_and(|r| r >= 2.0),
        "hostile_body": hostile,
        "timing": "round trips are gaps between consecutive arrivals at the host; transfers are page-timed over 20 MiB",
    });
    (bridge_figures, jwt)
}

/// This process's resident memory (VmRSS) in KiB: the bench runs the
/// window in its own process, so this is the host's UI process.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples this process's RSS every 2 ms on a thread of its own while the
/// window runs, and, on another, how long a no-op round trip through the
/// host's main loop takes (the driver's window count: WebKit's web process
/// is not involved), every 10 ms: a stall of the host, as opposed to one of
/// the page's own thread.
struct HostSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    rss: std::thread::JoinHandle<Vec<(Instant, u64)>>,
    lag: std::thread::JoinHandle<Vec<(Instant, f64)>>,
}

/// A sample of the host's main loop: when the round trip started, and its
/// milliseconds.
type LagSample = (Instant, f64);

impl HostSampler {
    fn start(probe: Arc<BenchProbe>) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let rss = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !flag.load(Relaxed) {
                if let Some(kib) = resident_kib() {
                    samples.push((Instant::now(), kib));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            samples
        });
        let flag = Arc::clone(&stop);
        let lag = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !flag.load(Relaxed) {
                if let Some(driver) = probe.driver() {
                    let started = Instant::now();
                    if driver.windows(Duration::from_secs(60)).is_ok() {
                        samples.push((started, started.elapsed().as_secs_f64() * 1e3));
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            samples
        });
        Self { stop, rss, lag }
    }

    fn stop(self) -> (Vec<(Instant, u64)>, Vec<LagSample>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (self.rss.join().unwrap_or_default(), self.lag.join().unwrap_or_default())
    }
}

/// The hostile body's figures: the host's RSS just before the page sent
/// it (idle) and its peak until the page had both answers, and `app:ping`
/// from the same page meanwhile.
fn hostile_body_figures(marks: &[(String, Instant)], rss: &[(Instant, u64)], lags: &[LagSample], result: &Value) -> Value {
    let at = |label: &str| marks.iter().find(|(l, _)| l == label).map(|(_, t)| *t);
    let (Some(start), Some(end)) = (at("hostile-start"), at("hostile-end")) else {
        return json!({"error": "the page did not mark the hostile body's start and end"});
    };
    let mib = |kib: u64| round2(kib as f64 / 1024.0);
    let Some(idle) = rss.iter().rev().find(|(t, _)| *t <= start).map(|(_, k)| *k) else {
        return json!({"error": "no RSS sample before the hostile body"});
    };
    let peak = rss.iter().filter(|(t, _)| *t >= start && *t <= end).map(|(_, k)| *k).max().unwrap_or(idle);
    let pings: Vec<f64> = result["hostile_pings_ms"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    let pings = distribution_ms(pings);
    let over = mib(peak.saturating_sub(idle));
    let mut main_loop = distribution_ms(lags.iter().filter(|(t, _)| *t >= start && *t <= end).map(|(_, ms)| *ms).collect());
    main_loop["what"] = json!("a no-op round trip through the host's main loop every 10 ms (no web process involved)");
    json!({
        "body_mib": HOSTILE_MIB,
        "statuses": result["hostile_status"],
        "seconds_to_both_answers": round2(end.duration_since(start).as_secs_f64()),
        "host_rss_idle_mib": mib(idle),
        "host_rss_peak_mib": mib(peak),
        "host_rss_over_idle_mib": over,
        "target_over_idle_max_mib": 64.0,
        "meets_rss_target": over <= 64.0,
        "meets_ping_target": pings["p99_ms"].as_f64().is_some_and(|p99| p99 < 50.0),
        "app_ping_meanwhile": pings,
        "host_main_loop_meanwhile": main_loop,
        "target_ping_p99_max_ms": 50.0,
    })
}

/// Millisecond samples as `{n, p50_ms, p99_ms, max_ms, over_50_ms}` (the
/// quantiles `null` when there are none).
fn distribution_ms(mut xs: Vec<f64>) -> Value {
    xs.sort_by(f64::total_cmp);
    let quantile = |q: f64| if xs.is_empty() { Value::Null } else { json!(round2(percentile(&xs, q))) };
    json!({
        "n": xs.len(),
        "p50_ms": quantile(0.5),
        "p99_ms": quantile(0.99),
        "max_ms": xs.last().map(|m| round2(*m)),
        "over_50_ms": xs.iter().filter(|ms| **ms > 50.0).map(|ms| round2(*ms)).collect::<Vec<_>>(),
    })
}

/// Runs of the raw wry transfer floor per bench run.
const FLOOR_RUNS: usize = 3;

/// The raw wry transfer floor (bench/wry-floor, its own workspace so that
/// wry's `linux-body` feature stays out of the app): 1 MiB up and down
/// wry's own custom protocol, page-timed like the bridge's transfers; the
/// median of [`FLOOR_RUNS`] starts, each direction.
fn wry_transfer_floor() -> Value {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wry-floor/release/tollgate-wry-floor");
    if !program.exists() {
        return json!({"skipped": format!("{} not built (just bench builds it)", program.display())});
    }
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..FLOOR_RUNS {
        let out = match std::process::Command::new(&program).stderr(std::process::Stdio::null()).output() {
            Ok(out) => out,
            Err(e) => return json!({"error": format!("could not start the floor: {e}")}),
        };
        let line: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        match (line["upload_ms_per_mib"].as_f64(), line["download_ms_per_mib"].as_f64()) {
            (Some(u), Some(d)) => {
                up.push(u);
                down.push(d);
            }
            _ => return json!({"error": format!("the floor answered {}", String::from_utf8_lossy(&out.stdout).trim())}),
        }
    }
    json!({
        "runs": FLOOR_RUNS,
        "upload_ms_per_mib": round2(median(up)),
        "download_ms_per_mib": round2(median(down)),
    })
}

/// Process start to the first answered request and to the first paint,
/// with a warm plugin cache: the release binary, spawned, until its log
/// shows the first crossing and its window's pixels show the page
/// (src/paint.rs); with WebKit's renderer sandbox on (as users run it)
/// and, alternating, off (`--no-renderer-sandbox`), and the bare wry
/// window (the floor) started in the same rounds, so each difference is
/// measured in one run under the same load.
pub fn cold_start() -> Value {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/tollgate");
    let bare_program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/bare-window");
    for needed in [&program, &bare_program] {
        if !needed.exists() {
            return json!({"skipped": format!("{} not built (just bench builds it)", needed.display())});
        }
    }
    if !has_display() {
        return json!({"skipped": "no display"});
    }
    let cache = tempfile::tempdir().expect("temp dir");
    let (mut sandboxed, mut unsandboxed, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    // The first round fills the plugin cache (and WebKit's first-run
    // caches); the next ones are measured. The three kinds of start take
    // turns, in an order that rotates each round, with a pause after each
    // start for the last one's processes to finish exiting: so all three
    // see the same machine and none always follows the same one.
    let settle = || std::thread::sleep(Duration::from_millis(700));
    for run in 0..7 {
        for turn in 0..3 {
            let (runs, start) = match (run + turn) % 3 {
                0 => (&mut sandboxed, start_app(&program, cache.path(), None)),
                1 => (&mut unsandboxed, start_app(&program, cache.path(), Some("--no-renderer-sandbox"))),
                _ => (&mut bare, start_bare_window(&bare_program)),
            };
            let Some(start) = start else {
                return json!({"error": format!("a start never answered or never painted (turn {})", (run + turn) % 3)});
            };
            if run > 0 {
                runs.push(start);
            }
            settle();
        }
    }
    let answers = |starts: &[Start]| starts.iter().map(|s| s.answer_ms).collect::<Vec<_>>();
    let paints = |starts: &[Start]| starts.iter().map(|s| s.paint_ms).collect::<Vec<_>>();
    let rounded = |xs: &[f64]| xs.iter().map(|r| round2(*r)).collect::<Vec<_>>();
    let ms = median(answers(&sandboxed));
    let unsandboxed_ms = median(answers(&unsandboxed));
    let bare_ms = median(answers(&bare));
    let paint_ms = median(paints(&sandboxed));
    let bare_paint_ms = median(paints(&bare));
    json!({
        "median_ms": round2(ms),
        "runs_ms": rounded(&answers(&sandboxed)),
        "target_max_ms": 300.0,
        "meets_target": ms <= 300.0,
        "without_renderer_sandbox_median_ms": round2(unsandboxed_ms),
        "without_renderer_sandbox_runs_ms": rounded(&answers(&unsandboxed)),
        "renderer_sandbox_cost_ms": round2(ms - unsandboxed_ms),
        "bare_wry_window": {"median_ms": round2(bare_ms), "runs_ms": rounded(&answers(&bare))},
        "over_bare_window_ms": round2(ms - bare_ms),
        "over_bare_target_max_ms": 60.0,
        "meets_over_bare_target": ms - bare_ms <= 60.0,
        "first_paint": {
            "median_ms": round2(paint_ms),
            "runs_ms": rounded(&paints(&sandboxed)),
            "without_renderer_sandbox_median_ms": round2(median(paints(&unsandboxed))),
            "bare_wry_window": {"median_ms": round2(bare_paint_ms), "runs_ms": rounded(&paints(&bare))},
            "over_bare_window_ms": round2(paint_ms - bare_paint_ms),
            "over_bare_target_max_ms": 100.0,
            "meets_over_bare_target": paint_ms - bare_paint_ms <= 100.0,
        },
    })
}

/// What one start measured, in milliseconds from the spawn.
struct Start {
    /// The first answered request (the app) or the page's first message
    /// (the bare window).
    answer_ms: f64,
    /// The window's first paint (src/paint.rs).
    paint_ms: f64,
}

/// How long one start may take before it counts as never answering.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Polls until both `answered` and the window titled `title` has painted,
/// each noted the first time it holds; `None` after [`START_TIMEOUT`].
fn watch_start(started: Instant, title: &'static str, mut answered: impl FnMut() -> bool) -> Option<Start> {
    let mut watch = crate::paint::PaintWatch::connect(title)?;
    let (mut answer_ms, mut paint_ms) = (None, None);
    let since = || started.elapsed().as_secs_f64() * 1e3;
    while started.elapsed() < START_TIMEOUT {
        if answer_ms.is_none() && answered() {
            answer_ms = Some(since());
        }
        if paint_ms.is_none() && watch.painted() {
            paint_ms = Some(since());
        }
        if let (Some(answer_ms), Some(paint_ms)) = (answer_ms, paint_ms) {
            return Some(Start { answer_ms, paint_ms });
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    None
}

/// One start of the app: until its log's first bridge crossing (the
/// page's first call answered) and its window's first paint.
fn start_app(program: &Path, cache: &Path, extra: Option<&str>) -> Option<Start> {
    let data = tempfile::tempdir().expect("temp dir");
    let log = data.path().join("log.jsonl");
    let started = Instant::now();
    let mut child = std::process::Command::new(program)
        .arg("--data-dir")
        .arg(data.path())
        .arg("--cache-dir")
        .arg(cache)
        .arg("--log-file")
        .arg(&log)
        .args(extra)
        .env("TOLLGATE_LOG", "tollgate_bridge=debug,warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the app");
    let start = watch_start(started, "Tollgate", || std::fs::read_to_string(&log).is_ok_and(|t| t.contains("\"crossing\"")));
    let _ = child.kill();
    let _ = child.wait();
    start
}

/// One start of the floor, the bare wry window (src/bin/bare-window.rs):
/// until it reports its page's first message (its stdout line) and its
/// window's first paint.
fn start_bare_window(program: &Path) -> Option<Start> {
    use std::io::BufRead as _;
    let started = Instant::now();
    let mut child = std::process::Command::new(program)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    let (said, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let first = std::io::BufReader::new(stdout).lines().map_while(Result::ok).any(|line| line.contains("first-message"));
        if first {
            let _ = said.send(());
        }
    });
    let start = watch_start(started, "bare window", || heard.try_recv().is_ok());
    let _ = child.kill();
    let _ = child.wait();
    start
}
