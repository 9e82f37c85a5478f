//! The worker process and its handshake: a correct token is accepted,
//! everything else is refused and closed quickly; a crashed worker is
//! replaced; repeated crashes open a circuit breaker.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;
use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::{Algorithm, JwtSigner, SignRequest};
use tollgate::worker::frame::{MAX_HANDSHAKE_FRAME_BYTES, read_frame};
use tollgate::worker::protocol::{HandshakeFailure, HandshakeReply};
use tollgate::worker::{HandshakeConfig, HandshakeServer, WorkerOptions, WorkerPlugin, WorkerSigner, generate_handshake_token, send_handshake};

use crate::common::{LogCapture, TextLog, signing_key};

/// Every log record of the whole test process, from every thread.
fn global_log() -> &'static LogCapture {
    static LOG: OnceLock<LogCapture> = OnceLock::new();
    LOG.get_or_init(|| {
        let capture = LogCapture::default();
        let _ = tracing::subscriber::set_global_default(capture.subscriber());
        capture
    })
}

fn server(timeout_ms: u64) -> HandshakeServer {
    global_log();
    HandshakeServer::bind(HandshakeConfig { timeout: Duration::from_millis(timeout_ms), ..Default::default() }).expect("bind")
}

/// Sends `token_hex` and returns the reply and how long until the host closed.
fn attempt(server: &HandshakeServer, token_hex: &str) -> (HandshakeReply, Duration) {
    let mut stream = UnixStream::connect(server.socket_path()).expect("connect");
    let started = Instant::now();
    let reply = send_handshake(&mut stream, token_hex, Duration::from_secs(5)).expect("reply");
    (reply, closed_within(&mut stream, started))
}

fn closed_within(stream: &mut UnixStream, started: Instant) -> Duration {
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    started.elapsed()
}

const FAILED_INVALID: HandshakeReply = HandshakeReply::HandshakeFailed { code: HandshakeFailure::InvalidToken };

#[test]
fn the_right_token_is_accepted_once_and_every_wrong_one_is_closed_within_200_ms() {
    let server = server(2000);
    let token = generate_handshake_token().expect("token");
    let hex = token.to_hex().to_string();
    server.expect(token);
    let mut good = UnixStream::connect(server.socket_path()).expect("connect");
    assert_eq!(send_handshake(&mut good, &hex, Duration::from_secs(5)).expect("reply"), HandshakeReply::HandshakeOk);
    assert!(server.wait_authenticated(Duration::from_secs(5)).is_some(), "the authenticated stream is handed over");

    let other = generate_handshake_token().expect("token");
    let next = generate_handshake_token().expect("token");
    server.expect(next);
    let cases = [
        ("replayed", hex.clone()),
        ("wrong", other.to_hex().to_string()),
        ("zero-filled", "0".repeat(64)),
        ("short", hex[..62].to_owned()),
        ("long", format!("{hex}00")),
        ("non-hex", "z".repeat(64)),
        ("empty", String::new()),
    ];
    for (name, presented) in cases {
        let (reply, took) = attempt(&server, &presented);
        assert_eq!(reply, FAILED_INVALID, "{name}");
        assert!(took < Duration::from_millis(200), "{name}: closed after {took:?}");
    }
    assert!(server.failed_handshakes() >= 7);
    let log = global_log().text();
    assert!(log.contains("worker handshake failed"), "failures are logged");
    assert!(!log.contains(&hex) && !log.contains(&other.to_hex().to_string()), "a token reached the log");
}

#[test]
fn silence_dribbling_and_a_4_gib_frame_are_refused() {
    let server = server(300);
    server.expect(generate_handshake_token().expect("token"));

    let mut silent = UnixStream::connect(server.socket_path()).expect("connect");
    let started = Instant::now();
    let reply = read_frame(&mut silent, MAX_HANDSHAKE_FRAME_BYTES, Some(Instant::now() + Duration::from_secs(5))).expect("reply");
    let reply: HandshakeReply = serde_json::from_slice(&reply).expect("json");
    assert_eq!(reply, HandshakeReply::HandshakeFailed { code: HandshakeFailure::Timeout });
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    // A whole, well-formed frame, one byte every 50 ms: each gap is far
    // under the 300 ms deadline (a per-read timeout would never fire), the
    // frame takes 4.8 s in all. Only a deadline on the whole frame closes
    // the connection, about 300 ms in.
    let body = format!(r#"{{"type":"HANDSHAKE","token":"{}"}}"#, "a".repeat(64));
    let mut dribbler = UnixStream::connect(server.socket_path()).expect("connect");
    let started = Instant::now();
    dribbler.write_all(&(body.len() as u32).to_be_bytes()).expect("len");
    let mut refused_at = None;
    for byte in body.bytes() {
        std::thread::sleep(Duration::from_millis(50));
        if dribbler.write_all(&[byte]).is_err() {
            refused_at = Some(started.elapsed());
            break;
        }
    }
    let refused_at = refused_at.unwrap_or_else(|| panic!("the whole {}-byte frame was taken, dribbled over {:?}", body.len(), started.elapsed()));
    assert!(refused_at < Duration::from_millis(1500), "a dribbling client was held for {refused_at:?} (deadline 300 ms)");

    let mut huge = UnixStream::connect(server.socket_path()).expect("connect");
    let started = Instant::now();
    huge.write_all(&u32::MAX.to_be_bytes()).expect("len");
    let reply = read_frame(&mut huge, MAX_HANDSHAKE_FRAME_BYTES, Some(Instant::now() + Duration::from_secs(5))).expect("reply");
    assert_eq!(serde_json::from_slice::<HandshakeReply>(&reply).expect("json"), FAILED_INVALID);
    assert!(closed_within(&mut huge, started) < Duration::from_millis(200));
}

#[test]
fn two_hundred_unauthenticated_connections_are_capped_and_the_host_still_serves() {
    let server = server(500);
    let floods: Vec<UnixStream> = (0..200).filter_map(|_| UnixStream::connect(server.socket_path()).ok()).collect();
    std::thread::sleep(Duration::from_millis(100));
    assert!(server.shed_connections() > 0, "200 silent connections were all given a handshake thread");
    drop(floods);
    std::thread::sleep(Duration::from_millis(700));
    let token = generate_handshake_token().expect("token");
    let hex = token.to_hex().to_string();
    server.expect(token);
    let mut stream = UnixStream::connect(server.socket_path()).expect("connect");
    assert_eq!(send_handshake(&mut stream, &hex, Duration::from_secs(5)).expect("reply"), HandshakeReply::HandshakeOk);
}

fn worker_options(plugin: WorkerPlugin) -> WorkerOptions {
    let mut options = WorkerOptions::new(crate::common::worker_program());
    options.plugin = plugin;
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    options.cache_dir = Some(CACHE.get_or_init(|| tempfile::tempdir().expect("cache dir")).path().to_path_buf());
    options
}

fn misbehaving_plugin() -> WorkerPlugin {
    WorkerPlugin {
        wasm: Some(artifacts::MISBEHAVING_SIGNER_WASM_PATH.into()),
        manifest: Some(artifacts::MISBEHAVING_SIGNER_MANIFEST_PATH.into()),
        sha256: None,
    }
}

fn sign(signer: &JwtSigner, behaviour: &str) -> Result<String, tollgate::jwt::JwtError> {
    let key = signing_key(Algorithm::HS256);
    signer.sign(SignRequest { key: &key, claims: json!({"sub": "w", "hostile": behaviour}), kid: None, typ: None, extra: Default::default() })
}

#[test]
fn signing_through_the_worker_gives_the_in_process_token() {
    let signer = JwtSigner::from_backend(Box::new(WorkerSigner::new(worker_options(WorkerPlugin::default())).expect("worker")));
    let local = crate::common::signer();
    for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::EdDSA] {
        let key = signing_key(alg);
        let request = || SignRequest { key: &key, claims: json!({"sub": "w", "exp": 4_000_000_000u64}), kid: None, typ: None, extra: Default::default() };
        let remote = signer.sign(request()).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(remote, local.sign(request()).expect("local"), "{alg}");
        let claims = signer.verify(&remote, &crate::common::keys_for(alg).1, &[alg], 0).expect("verify in worker");
        assert_eq!(claims["sub"], "w");
    }
    assert_eq!(signer.decode("not.a.token").expect_err("malformed").code(), "MALFORMED_TOKEN");
}

#[test]
fn a_worker_killed_mid_call_fails_that_call_and_the_next_call_gets_a_new_worker() {
    let backend = Arc::new(WorkerSigner::new(worker_options(misbehaving_plugin())).expect("worker"));
    backend.start().expect("start");
    let first_pid = backend.worker_pid().expect("running");
    let killer = {
        let pid = first_pid;
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let pid = rustix::process::Pid::from_raw(pid as i32).expect("pid");
            rustix::process::kill_process(pid, rustix::process::Signal::KILL).expect("kill");
        })
    };
    let signer = JwtSigner::from_backend(Box::new(backend.clone()));
    let err = sign(&signer, "spin").expect_err("the worker died");
    killer.join().expect("killer");
    assert_eq!(err.code(), "WORKER_CRASHED", "{err}");
    let started = Instant::now();
    sign(&signer, "none").expect("the next call works");
    eprintln!("restart to the next successful call: {:?}", started.elapsed());
    assert_ne!(backend.worker_pid(), Some(first_pid), "a new worker runs");
}

#[test]
fn repeated_crashes_open_the_circuit_breaker_until_its_cool_down_ends() {
    let mut options = worker_options(misbehaving_plugin());
    options.breaker_threshold = 2;
    options.breaker_cooldown = Duration::from_millis(800);
    let backend = Arc::new(WorkerSigner::new(options).expect("worker"));
    let signer = JwtSigner::from_backend(Box::new(backend.clone()));
    for round in 0..2 {
        sign(&signer, "none").unwrap_or_else(|e| panic!("round {round}: {e}"));
        let pid = backend.worker_pid().expect("running");
        rustix::process::kill_process(rustix::process::Pid::from_raw(pid as i32).expect("pid"), rustix::process::Signal::KILL)
            .expect("kill");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(sign(&signer, "none").expect_err("dead").code(), "WORKER_CRASHED");
    }
    let err = sign(&signer, "none").expect_err("breaker open");
    assert_eq!(err.code(), "WORKER_UNAVAILABLE", "{err}");
    assert!(err.to_string().contains("retrying in"), "{err}");
    std::thread::sleep(Duration::from_millis(900));
    sign(&signer, "none").expect("the breaker closed after its cool-down");
}

#[test]
fn every_hostile_behaviour_is_contained_in_the_worker_too() {
    let backend = WorkerSigner::new(worker_options(misbehaving_plugin())).expect("worker");
    let signer = JwtSigner::from_backend(Box::new(backend));
    let cases = [
        ("spin", "PLUGIN_DEADLINE_EXCEEDED"),
        ("grow", "PLUGIN_MEMORY_LIMIT"),
        ("recurse", "PLUGIN_STACK_OVERFLOW"),
        ("recurse-shadow", "PLUGIN_TRAPPED"),
        ("unreachable", "PLUGIN_TRAPPED"),
        ("smuggle-claims", "PLUGIN_OUTPUT_REJECTED"),
        ("huge-output", "PLUGIN_OUTPUT_REJECTED"),
        ("log-key", ""),
        ("stdout-key", ""),
    ];
    for (behaviour, code) in cases {
        match sign(&signer, behaviour) {
            Ok(_) => assert_eq!(code, "", "{behaviour} succeeded"),
            Err(e) => assert_eq!(e.code(), code, "{behaviour}: {e}"),
        }
        if !code.is_empty() {
            eprintln!("{behaviour}: {code}, then quarantined");
            // Quarantined by the host in front of the worker, as in process.
            crate::common::assert_quarantined_then_trusted(&signer, || sign(&signer, "none"));
        }
        sign(&signer, "none").unwrap_or_else(|e| panic!("after {behaviour} the worker does not answer: {e}"));
    }
    let token = sign(&signer, "none").expect("sign");
    assert_eq!(signer.decode(&token).expect_err("lying decode").code(), "PLUGIN_OUTPUT_REJECTED");
}

#[test]
fn the_worker_runs_under_seccomp_with_no_new_privileges_and_is_reaped_with_its_handle() {
    let backend = WorkerSigner::new(worker_options(WorkerPlugin::default())).expect("worker");
    backend.start().expect("start");
    let pid = backend.worker_pid().expect("running");
    // The filter is installed after the handshake; give it a moment.
    std::thread::sleep(Duration::from_millis(100));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| status.lines().find(|l| l.starts_with(name)).map(|l| l[name.len()..].trim().to_owned());
    assert_eq!(field("Seccomp:").as_deref(), Some("2"), "no seccomp filter: {status}");
    assert_eq!(field("NoNewPrivs:").as_deref(), Some("1"));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    assert!(!stat.is_empty());
    drop(backend);
    std::thread::sleep(Duration::from_millis(100));
    let gone = std::fs::read_to_string(format!("/proc/{pid}/status")).map(|s| s.contains("State:\tZ")).unwrap_or(true);
    assert!(gone, "the worker outlived its handle");
}

#[test]
fn a_peer_running_as_another_user_is_rejected_even_with_the_right_token() {
    use std::os::unix::fs::PermissionsExt;
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!("skipped: arranging a peer with another uid needs root");
        return;
    }
    let server = server(2000);
    let token = generate_handshake_token().expect("token");
    let hex = token.to_hex().to_string();
    server.expect(token);
    // Open the private directory on purpose, so only the uid check stands.
    let dir = server.socket_path().parent().expect("dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    std::fs::set_permissions(server.socket_path(), std::fs::Permissions::from_mode(0o666)).expect("chmod socket");
    let client = r#"
import json, os, socket, struct, sys
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
body = json.dumps({"type": "HANDSHAKE", "token": sys.argv[2]}).encode()
try:
    s.sendall(struct.pack(">I", len(body)) + body)
except BrokenPipeError:
    pass  # the host refused the peer without reading; its reply is still queued
n = struct.unpack(">I", s.recv(4))[0]
print(s.recv(n).decode())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", client, server.socket_path().to_str().expect("utf8"), &hex])
        .output()
        .expect("python3");
    let reply: HandshakeReply = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    assert_eq!(reply, HandshakeReply::HandshakeFailed { code: HandshakeFailure::PeerRejected });
    // The token was not consumed by the rejected peer: the real worker still gets in.
    let mut stream = UnixStream::connect(server.socket_path()).expect("connect");
    assert_eq!(send_handshake(&mut stream, &hex, Duration::from_secs(5)).expect("reply"), HandshakeReply::HandshakeOk);
}

/// The host hashes a plugin file when it makes the worker's signer and
/// pins the worker to that hash: a file swapped before the worker loads it
/// is refused by the worker, which says so, and the start fails at once
/// with the worker's own error instead of waiting out the start timeout.
#[test]
fn a_plugin_file_swapped_after_the_host_hashed_it_is_refused_by_the_worker() {
    let dir = tempfile::tempdir().expect("dir");
    let wasm = dir.path().join("signer.wasm");
    let manifest = dir.path().join("signer.toml");
    std::fs::write(&wasm, artifacts::JWT_SIGNER_WASM).expect("wasm");
    std::fs::copy(artifacts::JWT_SIGNER_MANIFEST_PATH, &manifest).expect("manifest");
    let plugin = WorkerPlugin { wasm: Some(wasm.clone()), manifest: Some(manifest), sha256: None };
    let backend = WorkerSigner::new(worker_options(plugin)).expect("the host reads and hashes the plugin");
    std::fs::write(&wasm, artifacts::MISBEHAVING_SIGNER_WASM).expect("swap");
    let started = Instant::now();
    let err = backend.start().expect_err("the worker refuses the swapped file");
    let message = err.to_string();
    assert_eq!(err.code(), "WORKER_START_FAILED", "{message}");
    assert!(message.contains("PLUGIN_INTEGRITY_MISMATCH"), "the worker's own reason reaches the host: {message}");
    assert!(message.contains(&tollgate::runtime::component_sha256(artifacts::JWT_SIGNER_WASM)), "names the pinned hash: {message}");
    assert!(started.elapsed() < tollgate::worker::process::WORKER_START_TIMEOUT, "the start waited out its timeout: {:?}", started.elapsed());
}
