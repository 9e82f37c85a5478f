//! `tollgate doctor`: whether this machine has what the app needs, one line
//! per check, and for each missing piece what to install or do: a display,
//! WebKitGTK, the renderer sandbox, a Secret Service, the worker's seccomp
//! sandbox, a writable data directory.
//!
//! It reads no secret and writes none: the Secret Service is asked whether
//! its default collection is unlocked, and the data directory gets one
//! empty probe file, removed at once.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tollgate::app::platform;
use tollgate::secrets::{SecretServiceState, probe_secret_service};
use tollgate::worker::seccomp;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Present and usable.
    Ok,
    /// Usable, with a caveat the detail says.
    Warn,
    /// Missing or unusable: the fix says what to do.
    Missing,
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The check's name (`display`, `webkitgtk`, `renderer-sandbox`, `secret-service`, `worker-sandbox`, `data-dir`).
    pub check: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do, for anything not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(check: &'static str, detail: impl Into<String>) -> Self {
        Self { check, status: Status::Ok, detail: detail.into(), fix: None }
    }

    fn not_ok(check: &'static str, status: Status, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { check, status, detail: detail.into(), fix: Some(fix.into()) }
    }
}

/// Runs every check. `data_dir` is the directory the app would use.
pub fn run_checks(data_dir: Option<&Path>, worker_program: Option<PathBuf>) -> Vec<Check> {
    vec![display(), webkit(), renderer_sandbox(), secret_service(), worker_sandbox(worker_program), data_dir_check(data_dir)]
}

fn display() -> Check {
    match platform::open_display() {
        Ok(which) => Check::ok("display", which),
        Err(why) => Check::not_ok(
            "display",
            Status::Missing,
            why,
            "run tollgate from a desktop session; on a machine without one, `apt install xvfb` and run `xvfb-run -a tollgate` (the command-line commands need no display)",
        ),
    }
}

fn webkit() -> Check {
    let (major, minor, micro) = platform::webkit_version();
    let (min_major, min_minor) = platform::MIN_WEBKIT;
    let found = format!("WebKitGTK {major}.{minor}.{micro} (webkit2gtk-4.1)");
    if (major, minor) >= (min_major, min_minor) {
        Check::ok("webkitgtk", found)
    } else {
        Check::not_ok(
            "webkitgtk",
            Status::Missing,
            format!("{found} is older than {min_major}.{min_minor}"),
            format!("upgrade WebKitGTK to {min_major}.{min_minor} or newer: `apt install libwebkit2gtk-4.1-0` from your release's security updates"),
        )
    }
}

fn renderer_sandbox() -> Check {
    match platform::renderer_sandbox_available() {
        Ok(()) => Check::ok("renderer-sandbox", "bubblewrap and xdg-dbus-proxy run: web processes are sandboxed"),
        Err(why) => Check::not_ok(
            "renderer-sandbox",
            Status::Missing,
            format!("{why}; the window would run its web processes unsandboxed"),
            "`apt install bubblewrap xdg-dbus-proxy`; inside a container, allow unprivileged user namespaces",
        ),
    }
}

const KEYRING_FIX: &str = "`apt install gnome-keyring` (or run another Secret Service, e.g. KeePassXC with Secret Service integration) and start tollgate from a desktop session, which has a D-Bus session bus";

fn secret_service() -> Check {
    match probe_secret_service() {
        Ok(SecretServiceState::Unlocked) => Check::ok("secret-service", "reachable; the default collection is unlocked"),
        Ok(SecretServiceState::Locked) => Check::not_ok(
            "secret-service",
            Status::Warn,
            "reachable, but the default collection is locked: the app's first keychain use will ask to unlock it",
            "unlock the login keyring (log in to the desktop with your password, or open \"Passwords and Keys\" and unlock it)",
        ),
        Ok(SecretServiceState::NoDefaultCollection) => Check::not_ok(
            "secret-service",
            Status::Warn,
            "reachable, but it has no default collection: the app's first keychain use creates one and may ask for its password",
            "create a default keyring in \"Passwords and Keys\" (seahorse), or let the app's first use create it",
        ),
        Err(e) => Check::not_ok("secret-service", Status::Missing, e.to_string(), KEYRING_FIX),
    }
}

fn worker_sandbox(worker_program: Option<PathBuf>) -> Check {
    if let Err(why) = seccomp::available() {
        return Check::not_ok(
            "worker-sandbox",
            Status::Missing,
            why,
            "run a Linux kernel built with CONFIG_SECCOMP_FILTER (every Debian kernel is); inside a container, allow seccomp",
        );
    }
    match worker_program {
        Some(program) if program.is_file() => Check::ok("worker-sandbox", format!("seccomp filters available; worker {}", program.display())),
        Some(program) => Check::not_ok(
            "worker-sandbox",
            Status::Missing,
            format!("seccomp filters available, but the worker program {} is missing", program.display()),
            "reinstall the tollgate package (`apt install --reinstall tollgate`); from source, `cargo build -p tollgate-worker`",
        ),
        None => Check::not_ok(
            "worker-sandbox",
            Status::Missing,
            "seccomp filters available, but this program's own path is unknown, so the worker can't be found",
            "run tollgate by its installed path (/usr/bin/tollgate)",
        ),
    }
}

fn data_dir_check(data_dir: Option<&Path>) -> Check {
    let Some(dir) = data_dir else {
        return Check::not_ok(
            "data-dir",
            Status::Missing,
            "no data directory: neither XDG_DATA_HOME nor HOME is set",
            "set HOME (or XDG_DATA_HOME), or pass --data-dir DIR",
        );
    };
    match probe_writable(dir) {
        Ok(()) => Check::ok("data-dir", format!("{} is writable", dir.display())),
        Err(e) => Check::not_ok(
            "data-dir",
            Status::Missing,
            format!("{} is not writable: {e}", dir.display()),
            format!("make {} (or its parent) writable by you, or pass --data-dir DIR", dir.display()),
        ),
    }
}

/// Creates the directory if needed and one empty file in it, then removes
/// the file (tempfile deletes it on drop).
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    tempfile::Builder::new().prefix(".doctor-").tempfile_in(dir).map(drop)
}

/// The report as text: one line per check, then a verdict line.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let status = match c.status {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Missing => "MISSING",
        };
        out.push_str(&format!("{status:<8} {:<17} {}", c.check, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!(" -> fix: {fix}"));
        }
        out.push('\n');
    }
    let missing = checks.iter().filter(|c| c.status == Status::Missing).count();
    let warned = checks.iter().filter(|c| c.status == Status::Warn).count();
    out.push_str(&match (missing, warned) {
        (0, 0) => format!("all {} checks passed\n", checks.len()),
        (0, w) => format!("usable; {w} of {} checks warn\n", checks.len()),
        (m, _) => format!("{m} of {} checks found something missing\n", checks.len()),
    });
    out
}
