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
    use std::process::{Command, Stdio};
    let run = |program: &str, package: &str, args: &[&str]| {
        Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{program} is not installed (Debian package {package})"),
            _ => format!("{program} could not start: {e}"),
        })
    };
    run("xdg-dbus-proxy", "xdg-dbus-proxy", &["--version"])?;
    let out = run("bwrap", "bubblewrap", &["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", "--die-with-parent", "true"])?;
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
    #[expect(unsafe_code, reason = "std::env::set_var is unsafe in edition 2024; called before any thread is spawned")]
    // SAFETY: no other thread exists yet to read the environment.
    unsafe {
        std::env::set_var(SANDBOX_ENV, "1");
    }
    Ok(())
}
