//! The worker binary on its own: it refuses a command line the host would
//! never pass, and it refuses to run without the handshake token in its
//! environment (before it loads or connects to anything). The worker doing
//! real work behind a handshake is tested from the host's side
//! (tests/all/worker.rs), which also needs cargo to build this binary: an
//! integration test here is what makes `cargo test --workspace` build it.

use std::process::Command;

fn worker() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate-worker"));
    cmd.env_clear();
    cmd
}

#[test]
fn a_command_line_the_host_never_passes_is_a_usage_error() {
    for args in [
        &["worker", "--socket", "/nonexistent"][..],
        &[][..],
        &["--socket"][..],
        &["--manifest", "m.toml", "--socket", "/s"][..],
    ] {
        let out = worker().args(args).output().expect("run tollgate-worker");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: USAGE: "),
            "{args:?}: {out:?}"
        );
    }
}

#[test]
fn without_a_token_the_worker_stops_before_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("host.sock");
    // A listening socket it could connect to, were it to go that far.
    let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let out = worker()
        .arg("--no-cache")
        .arg("--socket")
        .arg(&socket)
        .output()
        .expect("run tollgate-worker");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .starts_with("error: HANDSHAKE_TOKEN_MISSING: TOLLGATE_IPC_HANDSHAKE_TOKEN is not set"),
        "says what is missing: {stderr}"
    );
    assert!(listener.accept().is_err(), "it never connected");
}
