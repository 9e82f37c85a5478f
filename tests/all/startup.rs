//! Start-up does not wait on D-Bus (issue 17): with no session bus, with a
//! bus address that leads nowhere, and with a bus that accepts the
//! connection and then never answers (what a hung desktop portal or
//! broker looks like to a client), the window still opens and its page
//! gets its first answer. The keychain, the portal and the Secret Service
//! are reached only when a channel needs them, never on the start path.
//!
//! A start that blocked on the silent bus would wait for D-Bus's default
//! reply timeout (25 s); each start here must end well before that.

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longer than any start seen here (about 1 s warm, 5 s on a loaded
/// machine), shorter than the 25 s a blocking D-Bus call would wait.
const STALL: Duration = Duration::from_secs(20);

/// Starts the app for one screenshot (it quits once the page has answered
/// and the shot is written) with `configure`'s environment; the time to
/// that and its log, or why not.
fn start_for_a_screenshot(configure: impl FnOnce(&mut Command)) -> Result<(Duration, String), String> {
    let dir = tempfile::tempdir().expect("dir");
    let shot = dir.path().join("shot.png");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.arg("--data-dir").arg(dir.path().join("data")).arg("--screenshot").arg(&shot);
    cmd.env("XDG_CACHE_HOME", dir.path().join("cache")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    configure(&mut cmd);
    let started = Instant::now();
    let mut child = cmd.spawn().expect("start tollgate");
    // Read as it comes, so a full pipe never holds the app.
    let mut pipe = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        text
    });
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let took = started.elapsed();
            let stderr = reader.join().unwrap_or_default();
            if !status.success() {
                return Err(format!("exited {status}: {stderr}"));
            }
            let png = std::fs::read(&shot).map_err(|e| format!("no screenshot ({e}): {stderr}"))?;
            if !png.starts_with(b"\x89PNG") {
                return Err("the screenshot is not a PNG".into());
            }
            return Ok((took, stderr));
        }
        if started.elapsed() > STALL {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no first answer in {STALL:?}: start-up stalled"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn require_display() {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    assert!(set("DISPLAY") || set("WAYLAND_DISPLAY"), "no display: run the tests under scripts/with-display (just test does)");
}

#[test]
fn start_up_does_not_wait_on_a_missing_or_silent_session_bus() {
    require_display();
    let dir = tempfile::tempdir().expect("dir");
    // Accepts connections (the kernel queues them) and never reads or
    // answers: a client's D-Bus authentication waits on it forever.
    let silent = dir.path().join("silent-bus");
    let _listener = UnixListener::bind(&silent).expect("bind");
    let silent_address = format!("unix:path={}", silent.display());
    let nowhere = format!("unix:path={}", Path::new(dir.path()).join("no-bus-here").display());

    let cases: [(&str, Option<&str>); 3] = [("no session bus", None), ("an address with no bus", Some(&nowhere)), ("a bus that never answers", Some(&silent_address))];
    for (what, address) in cases {
        let (took, log) = start_for_a_screenshot(|cmd| {
            match address {
                Some(a) => cmd.env("DBUS_SESSION_BUS_ADDRESS", a),
                None => cmd.env_remove("DBUS_SESSION_BUS_ADDRESS"),
            };
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        eprintln!("{what}: first answer and screenshot in {took:?}");
        // Said once in the log when (and only when) the bus was hung.
        let said = log.matches("session_bus_hung").count();
        assert_eq!(said, usize::from(address == Some(silent_address.as_str())), "{what}: {said} session_bus_hung events:\n{log}");
    }
    // And the test run's own, working bus is left alone.
    let (took, log) = start_for_a_screenshot(|_| {}).expect("the test run's bus");
    eprintln!("the test run's bus: first answer and screenshot in {took:?}");
    assert!(!log.contains("session_bus_hung"), "a working bus was taken for a hung one:\n{log}");
}
