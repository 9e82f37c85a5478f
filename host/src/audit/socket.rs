//! Audit cases: clients of the worker socket, against the real handshake
//! server (`worker::HandshakeServer`) on a real Unix socket: wrong, replayed
//! and malformed tokens, silence, dribbling, a 4 GiB length prefix, a
//! connection flood, and a peer running as another user.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::audit::{Area, AuditEnv, Case, Outcome};
use crate::worker::frame::{MAX_HANDSHAKE_FRAME_BYTES, read_frame};
use crate::worker::protocol::{HandshakeFailure, HandshakeReply};
use crate::worker::token::{HANDSHAKE_TOKEN_ENV, HandshakeToken, generate_handshake_token};
use crate::worker::{HandshakeConfig, HandshakeServer, send_handshake};

/// A refused client must be closed within this (the worker issue's bound).
const CLOSE_BOUND: Duration = Duration::from_millis(200);

/// The handshake timeout the silence case runs with.
const SHORT_HANDSHAKE: Duration = Duration::from_millis(300);

/// Connections opened at once by the flood case (over the pending cap of 64).
const FLOOD_CONNECTIONS: usize = 200;

fn server(env: &AuditEnv, timeout: Duration) -> Result<HandshakeServer, String> {
    let _ = env;
    HandshakeServer::bind(HandshakeConfig { timeout, ..Default::default() }).map_err(|e| format!("cannot bind the worker socket: {e}"))
}

fn fresh_token(env: &AuditEnv) -> Result<(HandshakeToken, String), String> {
    let token = generate_handshake_token().map_err(|e| e.to_string())?;
    let hex = token.to_hex().to_string();
    env.plant("a worker handshake token", hex.as_str());
    Ok((token, hex))
}

/// Sends `token_hex`; the reply and how long until the host closed.
fn attempt(server: &HandshakeServer, token_hex: &str) -> Result<(HandshakeReply, Duration), String> {
    let mut stream = UnixStream::connect(server.socket_path()).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let reply = send_handshake(&mut stream, token_hex, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    Ok((reply, closed_within(&mut stream, started)))
}

fn closed_within(stream: &mut UnixStream, started: Instant) -> Duration {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    started.elapsed()
}

fn reply_code(reply: &HandshakeReply) -> &'static str {
    match reply {
        HandshakeReply::HandshakeOk => "HANDSHAKE_OK",
        HandshakeReply::HandshakeFailed { code } => code.code(),
    }
}

fn bad_tokens(env: &AuditEnv) -> Outcome {
    let run = || -> Result<Outcome, String> {
        let server = server(env, Duration::from_secs(2))?;
        let (token, hex) = fresh_token(env)?;
        server.expect(token);
        let mut good = UnixStream::connect(server.socket_path()).map_err(|e| e.to_string())?;
        let first = send_handshake(&mut good, &hex, Duration::from_secs(5)).map_err(|e| e.to_string())?;
        let handed_over = server.wait_authenticated(Duration::from_secs(5)).is_some();
        // Single use: the spent token, presented again before the host arms
        // another, must find nothing to match (not merely a different token).
        let (replay, replay_took) = attempt(&server, &hex)?;
        let (other, other_hex) = fresh_token(env)?;
        drop(other);
        let (next, _) = fresh_token(env)?;
        server.expect(next);
        let tries = [
            ("replayed while another token is armed", hex.clone()),
            ("another token", other_hex),
            ("zero-filled", "0".repeat(64)),
            ("short", hex[..62].to_owned()),
            ("long", format!("{hex}00")),
            ("non-hex", "z".repeat(64)),
            ("empty", String::new()),
        ];
        let mut wrong = Vec::new();
        if replay != (HandshakeReply::HandshakeFailed { code: HandshakeFailure::InvalidToken }) || replay_took >= CLOSE_BOUND {
            wrong.push(format!("replayed once spent: {} after {replay_took:?}", reply_code(&replay)));
        }
        let mut slowest = replay_took;
        for (name, presented) in &tries {
            let (reply, took) = attempt(&server, presented)?;
            slowest = slowest.max(took);
            if reply != (HandshakeReply::HandshakeFailed { code: HandshakeFailure::InvalidToken }) || took >= CLOSE_BOUND {
                wrong.push(format!("{name}: {} after {took:?}", reply_code(&reply)));
            }
        }
        let logged = env.log().security_events_with("worker handshake failed") > tries.len();
        Ok(Outcome::check(
            first == HandshakeReply::HandshakeOk && handed_over && wrong.is_empty() && logged,
            format!(
                "the right token: {} (handed over: {handed_over}); {} wrong ones (the spent token replayed first): {}; slowest close {:.1} ms; failures logged: {logged}",
                reply_code(&first),
                tries.len() + 1,
                if wrong.is_empty() { "all INVALID_TOKEN".to_owned() } else { wrong.join(", ") },
                slowest.as_secs_f64() * 1000.0
            ),
        ))
    };
    run().unwrap_or_else(Outcome::fail)
}

/// How far past the handshake deadline a refusal may arrive on a loaded
/// 2-core machine. Well under the dribbler's whole frame, so a server that
/// restarted its clock on every byte (a slowloris's hope) fails the case.
const DEADLINE_SLACK: Duration = Duration::from_millis(1_000);

/// The dribbler's pause between bytes.
const DRIBBLE_GAP: Duration = Duration::from_millis(50);

/// The frame the dribbler announces: sent whole, it would take
/// `DRIBBLE_GAP * DRIBBLE_FRAME_BYTES` (4 s), over the deadline plus slack.
const DRIBBLE_FRAME_BYTES: u32 = 80;

/// A client that announces a frame and sends it one byte at a time, every
/// byte in time for a per-read timeout; the host's deadline is for the
/// whole frame. Returns the host's reply and when it came.
fn dribble(server: &HandshakeServer) -> Result<(HandshakeReply, Duration), String> {
    let mut reader = UnixStream::connect(server.socket_path()).map_err(|e| e.to_string())?;
    let mut writer = reader.try_clone().map_err(|e| e.to_string())?;
    let started = Instant::now();
    writer.write_all(&DRIBBLE_FRAME_BYTES.to_be_bytes()).map_err(|e| e.to_string())?;
    let body = format!("{{\"type\":\"HANDSHAKE\",\"token\":\"{}\"}}", "0".repeat(64));
    let dribbling = std::thread::spawn(move || {
        for byte in body.bytes().chain(std::iter::repeat(b' ')).take(DRIBBLE_FRAME_BYTES as usize) {
            std::thread::sleep(DRIBBLE_GAP);
            if writer.write_all(&[byte]).is_err() {
                break;
            }
        }
    });
    let reply = read_frame(&mut reader, MAX_HANDSHAKE_FRAME_BYTES, Some(started + Duration::from_secs(10))).map_err(|e| e.to_string());
    let took = started.elapsed();
    let _ = reader.shutdown(std::net::Shutdown::Both);
    let _ = dribbling.join();
    let reply: HandshakeReply = serde_json::from_slice(&reply?).map_err(|e| e.to_string())?;
    Ok((reply, took))
}

fn silence_dribble_huge(env: &AuditEnv) -> Outcome {
    let run = || -> Result<Outcome, String> {
        let server = server(env, SHORT_HANDSHAKE)?;
        let (token, _) = fresh_token(env)?;
        server.expect(token);

        let mut silent = UnixStream::connect(server.socket_path()).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let reply = read_frame(&mut silent, MAX_HANDSHAKE_FRAME_BYTES, Some(Instant::now() + Duration::from_secs(5))).map_err(|e| e.to_string())?;
        let silent_reply: HandshakeReply = serde_json::from_slice(&reply).map_err(|e| e.to_string())?;
        let silent_took = started.elapsed();

        let (dribble_reply, dribble_took) = dribble(&server)?;

        let mut huge = UnixStream::connect(server.socket_path()).map_err(|e| e.to_string())?;
        let started = Instant::now();
        huge.write_all(&u32::MAX.to_be_bytes()).map_err(|e| e.to_string())?;
        let reply = read_frame(&mut huge, MAX_HANDSHAKE_FRAME_BYTES, Some(Instant::now() + Duration::from_secs(5))).map_err(|e| e.to_string())?;
        let huge_reply: HandshakeReply = serde_json::from_slice(&reply).map_err(|e| e.to_string())?;
        let huge_took = closed_within(&mut huge, started);
        Ok(Outcome::check(
            silent_reply == (HandshakeReply::HandshakeFailed { code: HandshakeFailure::Timeout })
                && silent_took < SHORT_HANDSHAKE + DEADLINE_SLACK
                && dribble_reply == (HandshakeReply::HandshakeFailed { code: HandshakeFailure::Timeout })
                && dribble_took < SHORT_HANDSHAKE + DEADLINE_SLACK
                && huge_reply == (HandshakeReply::HandshakeFailed { code: HandshakeFailure::InvalidToken })
                && huge_took < CLOSE_BOUND,
            format!(
                "silent: {} after {:.0} ms; dribbling a byte every {} ms (a whole frame would take {:.1} s): {} after {:.0} ms; 4 GiB length prefix: {} after {:.1} ms",
                reply_code(&silent_reply),
                silent_took.as_secs_f64() * 1000.0,
                DRIBBLE_GAP.as_millis(),
                (DRIBBLE_GAP * DRIBBLE_FRAME_BYTES).as_secs_f64(),
                reply_code(&dribble_reply),
                dribble_took.as_secs_f64() * 1000.0,
                reply_code(&huge_reply),
                huge_took.as_secs_f64() * 1000.0
            ),
        ))
    };
    run().unwrap_or_else(Outcome::fail)
}

fn connection_flood(env: &AuditEnv) -> Outcome {
    let run = || -> Result<Outcome, String> {
        let server = server(env, Duration::from_millis(500))?;
        let floods: Vec<UnixStream> = (0..FLOOD_CONNECTIONS).filter_map(|_| UnixStream::connect(server.socket_path()).ok()).collect();
        std::thread::sleep(Duration::from_millis(100));
        let shed = server.shed_connections();
        drop(floods);
        std::thread::sleep(Duration::from_millis(700));
        let (token, hex) = fresh_token(env)?;
        server.expect(token);
        let mut stream = UnixStream::connect(server.socket_path()).map_err(|e| e.to_string())?;
        let reply = send_handshake(&mut stream, &hex, Duration::from_secs(5)).map_err(|e| e.to_string())?;
        Ok(Outcome::check(
            shed > 0 && reply == HandshakeReply::HandshakeOk,
            format!("{FLOOD_CONNECTIONS} silent connections: {shed} closed on arrival (cap 64 pending); the real worker then: {}", reply_code(&reply)),
        ))
    };
    run().unwrap_or_else(Outcome::fail)
}

fn other_user(env: &AuditEnv) -> Outcome {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !rustix::process::geteuid().is_root() {
        return Outcome::skip("needs root to start a client as another user (run the audit as root, as CI does)");
    }
    let run = || -> Result<Outcome, String> {
        let server = server(env, Duration::from_secs(2))?;
        let (token, hex) = fresh_token(env)?;
        server.expect(token);
        // Open the private directory on purpose, so only the uid check stands.
        let dir = server.socket_path().parent().ok_or("the socket has no directory")?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
        std::fs::set_permissions(server.socket_path(), std::fs::Permissions::from_mode(0o666)).map_err(|e| e.to_string())?;
        let exe = crate::worker::default_worker_program().map_err(|e| e.to_string())?;
        // The real worker program, with the right token, as `nobody`.
        let out = std::process::Command::new(&exe)
            .arg("--no-cache")
            .arg("--socket")
            .arg(server.socket_path())
            .env(HANDSHAKE_TOKEN_ENV, &hex)
            .env("TOLLGATE_LOG", "off")
            .env("HOME", "/nonexistent")
            .uid(65534)
            .gid(65534)
            .current_dir("/")
            .output()
            .map_err(|e| format!("cannot start the worker as nobody: {e}"))?;
        env.heard(String::from_utf8_lossy(&out.stderr).into_owned());
        let rejected = env.log().security_events_with("PEER_REJECTED") > 0;
        let mut stream = UnixStream::connect(server.socket_path()).map_err(|e| e.to_string())?;
        let reply = send_handshake(&mut stream, &hex, Duration::from_secs(5)).map_err(|e| e.to_string())?;
        if !rejected && !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("ermission denied") {
            return Ok(Outcome::skip(format!("`nobody` may not run {}: {}", exe.display(), String::from_utf8_lossy(&out.stderr).trim())));
        }
        Ok(Outcome::check(
            rejected && !out.status.success() && reply == HandshakeReply::HandshakeOk,
            format!(
                "the worker as uid 65534 with the right token: PEER_REJECTED logged: {rejected}, it exited with {}; the token still admits the real worker: {}",
                out.status,
                reply_code(&reply)
            ),
        ))
    };
    run().unwrap_or_else(Outcome::fail)
}

/// The socket cases, in order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "socket/wrong-replayed-or-malformed-token",
            Area::Socket,
            "clients presenting the spent token (before and after another is armed), another, zero-filled, short, long, non-hex and empty token",
            "the right token admitted once and never again; every other INVALID_TOKEN and closed within 200 ms; each failure logged without the token",
            bad_tokens,
        ),
        Case::new(
            "socket/silence-dribbling-huge-frame",
            Area::Socket,
            "a client that says nothing, one that sends an 80-byte frame a byte every 50 ms, one that announces a 4 GiB frame",
            "TIMEOUT at the handshake deadline (300 ms here, within 1 s of slack) for the silent client and for the dribbler (the deadline is for the whole frame, not each read); the 4 GiB frame refused before any allocation, within 200 ms",
            silence_dribble_huge,
        ),
        Case::new(
            "socket/connection-flood",
            Area::Socket,
            "200 silent connections at once",
            "connections over 64 pending are closed on arrival; the real worker is admitted afterwards",
            connection_flood,
        ),
        Case::new(
            "socket/peer-of-another-user",
            Area::Socket,
            "`tollgate-worker` run as uid 65534 with the right token, the socket opened to everyone",
            "PEER_REJECTED (SO_PEERCRED uid check) before the token is read; the token still admits the real worker",
            other_user,
        ),
    ]
}
