//! The worker socket: the frame decoder (`worker::frame`), the host's
//! handshake check (`worker::server`), the worker's reading of the host's
//! reply (`worker::serve::send_handshake`) and the messages after it
//! (`worker::protocol`).
//!
//! Input: one mode byte, then the bytes a peer writes on the socket.
//! - mode 0: a client of the real `HandshakeServer` (the one in the app)
//!   sends them as its handshake; the server must answer with one
//!   well-formed reply frame, and `HANDSHAKE_OK` only to the armed token.
//! - mode 1: the host's end of a socket pair sends them as the reply to the
//!   worker's handshake; `send_handshake` must return a reply or a typed
//!   error.
//! - mode 2: a stream of frames read after authentication, each parsed as
//!   the worker's request and as the host's response.
//!
//! The peer's bytes are written and its side shut before reading, so every
//! read ends at the data (never at a timeout) and runs are deterministic.

#![no_main]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use tollgate::worker::frame::{FrameError, MAX_FRAME_BYTES, MAX_HANDSHAKE_FRAME_BYTES, read_frame, write_frame};
use tollgate::worker::protocol::{HandshakeReply, HandshakeRequest, WorkerRequest, WorkerResponse};
use tollgate::worker::{HandshakeConfig, HandshakeServer, HandshakeToken, send_handshake};

/// The token the server is armed with before every mode-0 input. Seeds
/// carry it, so the fuzzer starts from a handshake that succeeds.
const TOKEN_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// More than a socket pair's buffer takes without a reader.
const MAX_INPUT: usize = 64 * 1024;

/// A generous bound on one exchange: the peer's side is shut, so nothing
/// waits for data that never comes.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

fn server() -> &'static HandshakeServer {
    static SERVER: OnceLock<HandshakeServer> = OnceLock::new();
    SERVER.get_or_init(|| HandshakeServer::bind(HandshakeConfig::default()).expect("the handshake server binds"))
}

fn token() -> HandshakeToken {
    HandshakeToken::from_hex(TOKEN_HEX).expect("a valid token")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, peer)) = data.split_first() else { return };
    if peer.len() > MAX_INPUT {
        return;
    }
    match mode % 3 {
        0 => handshake_to_server(peer),
        1 => handshake_reply_to_worker(peer),
        _ => frames_after_authentication(peer),
    }
});

fn handshake_to_server(peer: &[u8]) {
    let server = server();
    server.expect(token());
    let mut stream = UnixStream::connect(server.socket_path()).expect("connects");
    // The server may close after reading a bad length prefix: a failed
    // write is part of the exchange, not of the harness.
    let _ = stream.write_all(peer);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let reply = read_frame(&mut stream, MAX_HANDSHAKE_FRAME_BYTES, Some(Instant::now() + EXCHANGE_TIMEOUT))
        .expect("the server answers every handshake with one frame");
    let reply: HandshakeReply = serde_json::from_slice(&reply).expect("the server's reply parses");
    if reply == HandshakeReply::HandshakeOk {
        assert!(presents_token(peer), "HANDSHAKE_OK without the armed token");
        // The server hands the authenticated stream on; closing the host's
        // end of it ends this connection.
        let authenticated = server.wait_authenticated(EXCHANGE_TIMEOUT).expect("the authenticated stream is handed over");
        drop(authenticated);
    }
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty(), "nothing follows the reply before authentication");
}

/// Whether `peer` starts with a well-formed handshake frame carrying the
/// armed token (the one form the server may accept).
fn presents_token(peer: &[u8]) -> bool {
    let Some((len, body)) = peer.split_first_chunk::<4>() else { return false };
    let len = u32::from_be_bytes(*len) as usize;
    let Some(body) = body.get(..len) else { return false };
    matches!(serde_json::from_slice::<HandshakeRequest>(body), Ok(HandshakeRequest::Handshake { token }) if token.0.eq_ignore_ascii_case(TOKEN_HEX))
}

fn handshake_reply_to_worker(peer: &[u8]) {
    let (mut worker, mut host) = UnixStream::pair().expect("socket pair");
    host.write_all(peer).expect("the pair buffers the input");
    host.shutdown(std::net::Shutdown::Write).expect("shut");
    match send_handshake(&mut worker, TOKEN_HEX, EXCHANGE_TIMEOUT) {
        Ok(reply) => {
            let _ = serde_json::to_vec(&reply).expect("a reply serializes");
        }
        Err(FrameError::Timeout) => panic!("the reply was all there; no timeout is due"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // The worker's handshake went out as one well-formed frame.
    let frame = read_frame(&mut host, MAX_HANDSHAKE_FRAME_BYTES, Some(Instant::now() + EXCHANGE_TIMEOUT)).expect("handshake frame");
    let sent: HandshakeRequest = serde_json::from_slice(&frame).expect("the handshake parses");
    let HandshakeRequest::Handshake { token } = sent;
    assert_eq!(token.0, TOKEN_HEX);
}

fn frames_after_authentication(peer: &[u8]) {
    let (mut reader, mut writer) = UnixStream::pair().expect("socket pair");
    writer.write_all(peer).expect("the pair buffers the input");
    writer.shutdown(std::net::Shutdown::Write).expect("shut");
    loop {
        match read_frame(&mut reader, MAX_FRAME_BYTES, Some(Instant::now() + EXCHANGE_TIMEOUT)) {
            Ok(frame) => {
                assert!(frame.len() <= MAX_FRAME_BYTES as usize);
                if let Ok(request) = serde_json::from_slice::<WorkerRequest>(&frame) {
                    let again = serde_json::to_vec(&request).expect("a request serializes");
                    let mut out = Vec::new();
                    write_frame(&mut out, &again).expect("a parsed request fits a frame");
                    let parsed: WorkerRequest = serde_json::from_slice(&again).expect("a request round-trips");
                    assert_eq!(
                        serde_json::to_value(&parsed).expect("a request serializes"),
                        serde_json::to_value(&request).expect("a request serializes"),
                        "a request means the same after a round trip"
                    );
                }
                if let Ok(response) = serde_json::from_slice::<WorkerResponse>(&frame) {
                    let again = serde_json::to_vec(&response).expect("a response serializes");
                    let parsed: WorkerResponse = serde_json::from_slice(&again).expect("a response round-trips");
                    assert_eq!(parsed.outcome, response.outcome);
                }
            }
            Err(FrameError::Closed) | Err(FrameError::TooLarge { .. }) => return,
            Err(e) => panic!("frames from a closed peer end in Closed or TooLarge, got {e}"),
        }
    }
}
