//! What this machine gives the window: the WebKitGTK release the process
//! loaded, and whether a display can be opened. `tollgate --version` and
//! `tollgate doctor` report them.

/// The oldest WebKitGTK release the window is built for (the `v2_40`
/// feature of the webkit2gtk crate: the inspector signals the DevTools gate
/// listens to, the script-message API the bridge reads).
pub const MIN_WEBKIT: (u32, u32) = (2, 40);

/// The WebKitGTK release loaded into this process (major, minor, micro):
/// the library's answer at run time, not the headers it was built against.
pub fn webkit_version() -> (u32, u32, u32) {
    #[expect(unsafe_code, reason = "webkit_get_*_version take no arguments and return constants of the loaded library; the webkit2gtk crate does not wrap them")]
    // SAFETY: the three functions read static data and have no preconditions.
    unsafe {
        (
            webkit2gtk_sys::webkit_get_major_version(),
            webkit2gtk_sys::webkit_get_minor_version(),
            webkit2gtk_sys::webkit_get_micro_version(),
        )
    }
}

/// Opens the display GTK would draw on, or says why it can't (no
/// `DISPLAY`/`WAYLAND_DISPLAY`, or the server refused). Initializes GTK in
/// this process: call it from the thread that would run the window.
pub fn open_display() -> Result<String, String> {
    let named = std::env::var("WAYLAND_DISPLAY")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| format!("Wayland {v}"))
        .or_else(|| std::env::var("DISPLAY").ok().filter(|v| !v.is_empty()).map(|v| format!("X11 {v}")));
    let Some(named) = named else {
        return Err("neither DISPLAY nor WAYLAND_DISPLAY is set".to_owned());
    };
    gtk::init().map_err(|e| format!("{named} could not be opened: {e}"))?;
    Ok(named)
}

/// The environment variable WebKitGTK (4.1 API) reads when it spawns a web
/// process: set, every web process of every context runs inside
/// bubblewrap. The host can't call `webkit_web_context_set_sandbox_enabled`
/// in time: wry makes the context privately and WebKit refuses the call
/// once a subprocess exists.
pub const SANDBOX_ENV: &str = "WEBKIT_FORCE_SANDBOX";

/// Whether WebKit's renderer sandbox can run here: `bwrap` and
/// `xdg-dbus-proxy` are installed and bubblewrap can make the namespaces it
/// needs (run once, `bwrap --unshare-all ... true`). The error says what is
/// missing; without them a forced sandbox would leave the window blank.
pub fn renderer_sandbox_available() -> Result<(), String> {
    sandbox_probe(["xdg-dbus-proxy", "xdg-dbus-proxy"], ["bwrap", "bubblewrap"])
}

/// [`renderer_sandbox_available`] with the two programs named (each with
/// its Debian package, for the message).
fn sandbox_probe([proxy_program, proxy_package]: [&str; 2], [bwrap_program, bwrap_package]: [&str; 2]) -> Result<(), String> {
    use std::process::{Command, Stdio};
    let start = |program: &str, package: &str, args: &[&str]| {
        Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().map_err(|e| {
            match e.kind() {
                std::io::ErrorKind::NotFound => format!("{program} is not installed (Debian package {package})"),
                _ => format!("{program} could not start: {e}"),
            }
        })
    };
    // Both at once: each is a process start of a few milliseconds, on the
    // window's start path.
    let proxy = start(proxy_program, proxy_package, &["--version"]);
    let bwrap = start(bwrap_program, bwrap_package, &["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", "--die-with-parent", "true"]);
    let finish = |child: Result<std::process::Child, String>, program: &str| {
        child?.wait_with_output().map_err(|e| format!("{program} could not run: {e}"))
    };
    let proxy = finish(proxy, proxy_program);
    let bwrap = finish(bwrap, bwrap_program);
    proxy?;
    let out = bwrap?;
    if out.status.success() {
        Ok(())
    } else {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(format!("bwrap can't make its namespaces here: {why}"))
    }
}

/// Turns WebKit's renderer sandbox on for every web process this process
/// starts, if it can run ([`renderer_sandbox_available`]); else says why.
/// Call first thing in `main`, before any thread exists: it sets an
/// environment variable.
pub fn enable_renderer_sandbox() -> Result<(), String> {
    renderer_sandbox_available()?;
    #[expect(unsafe_code, reason = "std::env::set_var is unsafe in edition 2024; called before any thread that reads the environment is spawned")]
    // SAFETY: no other thread that reads the environment exists yet (at
    // most the session bus probe, which does socket I/O only).
    unsafe {
        std::env::set_var(SANDBOX_ENV, "1");
    }
    Ok(())
}

/// How long start-up waits for the session bus to say anything before it
/// treats the bus as hung. A working dbus-daemon answers in well under a
/// millisecond.
pub const SESSION_BUS_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1000);

/// The bus address a run with a hung session bus uses instead: a path that
/// is not a socket, so every D-Bus client in the process fails at once
/// rather than waiting on the hung bus.
pub const NO_SESSION_BUS: &str = "unix:path=/dev/null";

/// What GTK 3 reads to leave its accessibility bridge (at-spi) off.
pub const NO_AT_BRIDGE_ENV: &str = "NO_AT_BRIDGE";

/// GTK registers the application on the session bus while the window
/// starts (`g_application_register`), and its accessibility bridge
/// (at-spi) registers too, both in blocking calls with no timeout: a bus
/// that accepts the connection and never answers (a hung dbus-daemon or
/// broker) would hold the window before its first frame, forever. Before
/// GTK starts, this sends the bus the first line of D-Bus authentication
/// and waits [`SESSION_BUS_PROBE_TIMEOUT`] for any answer. When none
/// comes, this run does without the session bus: its address becomes
/// [`NO_SESSION_BUS`] and the accessibility bridge is off. The window then
/// starts as it does on a machine with no bus (the keychain answers
/// `KEYCHAIN_UNAVAILABLE` instead of hanging; with that bus hung, nothing
/// could have reached it anyway), and the reason is returned for the log.
/// No bus, or one that refuses the connection, is left alone: clients
/// give up on those at once.
///
/// Call first thing in `main`: it may set an environment variable. The
/// probe's own thread is given the address and never reads the
/// environment.
pub fn guard_against_a_hung_session_bus() -> Result<(), String> {
    let Some(path) = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok().as_deref().and_then(unix_socket_of) else {
        return Ok(());
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let probe = std::thread::Builder::new().name("tollgate-bus-probe".into()).spawn(move || {
        let _ = tx.send(probe_bus(&path));
    });
    if probe.is_err() {
        return Ok(());
    }
    match rx.recv_timeout(SESSION_BUS_PROBE_TIMEOUT) {
        Ok(BusProbe::Answered | BusProbe::Unreachable) => Ok(()),
        Ok(BusProbe::Silent) | Err(_) => {
            #[expect(unsafe_code, reason = "std::env::set_var is unsafe in edition 2024; the one other thread never reads the environment")]
            // SAFETY: the only other thread is the probe, which was handed
            // the address and does socket I/O only.
            unsafe {
                std::env::set_var("DBUS_SESSION_BUS_ADDRESS", NO_SESSION_BUS);
                std::env::set_var(NO_AT_BRIDGE_ENV, "1");
            }
            Err(format!(
                "the session bus accepted a connection and did not answer within {} ms: this run does without it (no accessibility bridge, no keychain, no desktop portal), since GTK would wait on it forever",
                SESSION_BUS_PROBE_TIMEOUT.as_millis()
            ))
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum BusProbe {
    /// The bus said something.
    Answered,
    /// No bus there (nothing waits on it).
    Unreachable,
    /// Connected, then closed or silent.
    Silent,
}

/// Where a unix-socket bus address points: `unix:path=…` or
/// `unix:abstract=…` (the first of `;`-separated addresses), with D-Bus's
/// `%XX` escapes undone. Other transports are not probed.
fn unix_socket_of(address: &str) -> Option<BusSocket> {
    let first = address.split(';').next()?;
    let params = first.strip_prefix("unix:")?;
    for pair in params.split(',') {
        let (key, value) = pair.split_once('=')?;
        let value = unescape(value)?;
        match key {
            "path" => return Some(BusSocket::Path(value.into())),
            "abstract" => return Some(BusSocket::Abstract(value.into_bytes())),
            _ => {}
        }
    }
    None
}

fn unescape(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(Debug, PartialEq, Eq)]
enum BusSocket {
    Path(std::path::PathBuf),
    Abstract(Vec<u8>),
}

fn probe_bus(socket: &BusSocket) -> BusProbe {
    use std::io::{Read as _, Write as _};
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{SocketAddr, UnixStream};
    let stream = match socket {
        BusSocket::Path(path) => UnixStream::connect(path),
        BusSocket::Abstract(name) => SocketAddr::from_abstract_name(name).and_then(|addr| UnixStream::connect_addr(&addr)),
    };
    let Ok(mut stream) = stream else { return BusProbe::Unreachable };
    // The credentials byte, then an AUTH with no mechanism: a dbus-daemon
    // answers with the mechanisms it supports.
    if stream.write_all(b"\0AUTH\r\n").is_err() {
        return BusProbe::Silent;
    }
    let _ = stream.set_read_timeout(Some(SESSION_BUS_PROBE_TIMEOUT));
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(1) => BusProbe::Answered,
        _ => BusProbe::Silent,
    }
}

#[cfg(test)]
mod bus_tests {
    use super::*;

    #[test]
    fn bus_addresses_name_their_socket() {
        assert_eq!(unix_socket_of("unix:path=/run/user/1000/bus"), Some(BusSocket::Path("/run/user/1000/bus".into())));
        assert_eq!(unix_socket_of("unix:abstract=/tmp/dbus-AbC,guid=0123"), Some(BusSocket::Abstract(b"/tmp/dbus-AbC".to_vec())));
        assert_eq!(unix_socket_of("unix:guid=9,path=/tmp/a%20b;tcp:host=x"), Some(BusSocket::Path("/tmp/a b".into())));
        assert_eq!(unix_socket_of("tcp:host=localhost,port=1"), None);
        assert_eq!(unix_socket_of("unix:path=/tmp/%zz"), None);
        assert_eq!(unix_socket_of(""), None);
    }

    #[test]
    fn a_silent_listener_an_answering_one_and_none_are_told_apart() {
        let dir = tempfile::tempdir().expect("dir");
        let silent = dir.path().join("silent");
        let _held = std::os::unix::net::UnixListener::bind(&silent).expect("bind");
        assert_eq!(probe_bus(&BusSocket::Path(silent)), BusProbe::Silent);

        let answering = dir.path().join("answering");
        let listener = std::os::unix::net::UnixListener::bind(&answering).expect("bind");
        let server = std::thread::spawn(move || {
            use std::io::Write as _;
            let (mut conn, _) = listener.accept().expect("accept");
            conn.write_all(b"REJECTED EXTERNAL\r\n").expect("answer");
        });
        assert_eq!(probe_bus(&BusSocket::Path(answering)), BusProbe::Answered);
        server.join().expect("server");

        assert_eq!(probe_bus(&BusSocket::Path(dir.path().join("nothing"))), BusProbe::Unreachable);
    }
}

#[cfg(test)]
mod sandbox_probe_tests {
    use super::sandbox_probe;

    #[test]
    fn a_missing_program_or_a_failing_bwrap_says_what_to_install_or_why() {
        let missing = sandbox_probe(["tollgate-no-such-proxy", "xdg-dbus-proxy"], ["true", "bubblewrap"]);
        assert_eq!(missing, Err("tollgate-no-such-proxy is not installed (Debian package xdg-dbus-proxy)".to_owned()));
        let missing = sandbox_probe(["true", "xdg-dbus-proxy"], ["tollgate-no-such-bwrap", "bubblewrap"]);
        assert_eq!(missing, Err("tollgate-no-such-bwrap is not installed (Debian package bubblewrap)".to_owned()));
        // `false` takes bwrap's arguments and fails, as a bwrap that can't
        // make its namespaces does.
        let refused = sandbox_probe(["true", "xdg-dbus-proxy"], ["false", "bubblewrap"]);
        assert!(refused.as_ref().is_err_and(|why| why.starts_with("bwrap can't make its namespaces here")), "{refused:?}");
        assert_eq!(sandbox_probe(["true", "xdg-dbus-proxy"], ["true", "bubblewrap"]), Ok(()));
    }
}
