//! `tollgate doctor`, `tollgate --version` and the files the Debian package
//! generates from the CLI (`tollgate package-files`).
//!
//! The doctor runs against the real parts: the Xvfb display and the unlocked
//! gnome-keyring `scripts/with-display` gives the test run, and, for a
//! machine without a Secret Service, a real D-Bus session bus with no
//! service directories (nothing can be activated on it).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

fn tollgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The doctor's line for one check.
fn line_of<'a>(stdout: &'a str, check: &str) -> Vec<&'a str> {
    stdout.lines().filter(|l| l.split_whitespace().nth(1) == Some(check)).collect()
}

fn doctor(data_dir: &std::path::Path, configure: impl FnOnce(&mut Command)) -> Output {
    let mut cmd = tollgate();
    cmd.arg("--data-dir").arg(data_dir).arg("doctor");
    configure(&mut cmd);
    cmd.output().expect("run tollgate doctor")
}

#[test]
fn doctor_passes_where_the_test_run_has_everything() {
    let dir = tempfile::tempdir().expect("dir");
    let out = doctor(&dir.path().join("data"), |_| {});
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "doctor failed here:\n{stdout}{}", text(&out.stderr));
    for check in ["display", "webkitgtk", "renderer-sandbox", "secret-service", "worker-sandbox", "data-dir"] {
        let lines = line_of(&stdout, check);
        assert_eq!(lines.len(), 1, "{check}: {stdout}");
        assert!(lines[0].starts_with("ok "), "{check} is not ok: {}", lines[0]);
    }
    assert!(stdout.ends_with("all 6 checks passed\n"), "{stdout}");
    // It created the data directory to prove it writable, and left no probe file.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("data")).expect("data dir made").collect();
    assert!(left.is_empty(), "the probe left {left:?}");
}

/// A session bus of the test's own with no service directories: what a
/// desktop without any Secret Service installed offers.
struct BareBus {
    daemon: Child,
    address: String,
    _config: tempfile::TempDir,
}

impl BareBus {
    fn start() -> Self {
        let config = tempfile::tempdir().expect("dir");
        let file = config.path().join("bus.conf");
        std::fs::write(
            &file,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                config.path().display()
            ),
        )
        .expect("write bus config");
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", file.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start dbus-daemon (Debian package dbus)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().expect("piped")).read_line(&mut address).expect("read the bus address");
        Self { daemon, address: address.trim().to_owned(), _config: config }
    }
}

impl Drop for BareBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
fn doctor_on_a_machine_without_a_secret_service_says_so_in_one_line_with_the_fix() {
    let bus = BareBus::start();
    assert!(bus.address.starts_with("unix:"), "dbus-daemon gave no address: {:?}", bus.address);
    let dir = tempfile::tempdir().expect("dir");
    let out = doctor(dir.path(), |cmd| {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    });
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines = line_of(&stdout, "secret-service");
    assert_eq!(lines.len(), 1, "{stdout}");
    let line = lines[0];
    assert!(line.starts_with("MISSING "), "{line}");
    assert!(line.contains("no Secret Service on the session bus"), "{line}");
    assert!(line.contains("fix: `apt install gnome-keyring`"), "{line}");
    assert!(stdout.contains("1 of 6 checks found something missing"), "{stdout}");
    assert!(text(&out.stderr).contains("error: DOCTOR_FOUND_MISSING: "), "{}", text(&out.stderr));

    // With no session bus at all, the same check names that instead.
    let out = doctor(dir.path(), |cmd| {
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
    });
    let stdout = text(&out.stdout);
    let line = line_of(&stdout, "secret-service").concat();
    assert!(line.starts_with("MISSING ") && line.contains("no D-Bus session bus"), "{stdout}");
}

#[test]
fn doctor_names_a_missing_display_sandbox_and_data_dir_as_json_too() {
    let dir = tempfile::tempdir().expect("dir");
    // A path under a regular file can't be created, even by root.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").expect("write");
    // A PATH with neither bwrap nor xdg-dbus-proxy on it.
    let empty_path = dir.path().join("bin");
    std::fs::create_dir(&empty_path).expect("mkdir");
    let out = doctor(&blocker.join("data"), |cmd| {
        cmd.arg("--json").env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env("PATH", &empty_path);
    });
    assert_eq!(out.status.code(), Some(1));
    let checks: Value = serde_json::from_slice(&out.stdout).expect("doctor --json prints JSON");
    let by_name = |name: &str| checks.as_array().expect("a list").iter().find(|c| c["check"] == name).cloned().expect(name);
    let display = by_name("display");
    assert_eq!(display["status"], "missing");
    assert!(display["detail"].as_str().is_some_and(|d| d.contains("neither DISPLAY nor WAYLAND_DISPLAY")), "{display}");
    assert!(display["fix"].as_str().is_some_and(|f| f.contains("xvfb-run")), "{display}");
    let data = by_name("data-dir");
    assert_eq!(data["status"], "missing");
    assert!(data["fix"].as_str().is_some_and(|f| f.contains("--data-dir")), "{data}");
    // What needs neither still passes.
    assert_eq!(by_name("webkitgtk")["status"], "ok");
    assert_eq!(by_name("worker-sandbox")["status"], "ok");
    let sandbox = by_name("renderer-sandbox");
    assert_eq!(sandbox["status"], "missing");
    assert!(sandbox["detail"].as_str().is_some_and(|d| d.contains("is not installed")), "{sandbox}");
    assert!(sandbox["fix"].as_str().is_some_and(|f| f.contains("apt install bubblewrap xdg-dbus-proxy")), "{sandbox}");
    assert!(by_name("webkitgtk").get("fix").is_none());
}

#[test]
fn version_names_the_commit_wasmtime_webkitgtk_and_the_contract() {
    let out = tollgate().arg("--version").output().expect("run");
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("--version lacks {name}: {stdout}"))
            .to_owned()
    };
    assert_eq!(stdout.lines().next(), Some(format!("tollgate {}", env!("CARGO_PKG_VERSION")).as_str()));
    assert_eq!(field("ipc contract"), tollgate::bridge::channels::CONTRACT_VERSION);
    // The lock file's wasmtime, read here independently of the build script.
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).expect("Cargo.lock");
    let locked = lock.split("[[package]]").find(|p| p.contains("\nname = \"wasmtime\"\n")).expect("wasmtime locked");
    assert!(locked.contains(&format!("\nversion = \"{}\"\n", field("wasmtime"))), "wasmtime {} is not the locked one", field("wasmtime"));
    let webkit = field("webkitgtk");
    let parts: Vec<u32> = webkit.split('.').map(|p| p.parse().expect("a number")).collect();
    assert_eq!(parts.len(), 3, "{webkit}");
    assert!((parts[0], parts[1]) >= tollgate::app::platform::MIN_WEBKIT, "{webkit}");
    // The commit is git's when the tree is a git checkout (CI clones one).
    let head = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(env!("CARGO_MANIFEST_DIR")).output();
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        assert_eq!(field("commit"), text(&head.stdout).trim());
    }
    assert!(field("wit worlds").contains("tollgate:jwt/jwt-signer@0.3.0"), "{stdout}");
    // `-V` stays the short form.
    let short = tollgate().arg("-V").output().expect("run");
    assert_eq!(text(&short.stdout).trim(), format!("tollgate {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn package_files_are_man_pages_and_completions_of_the_real_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let out = tollgate().args(["package-files", "--out"]).arg(dir.path()).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let man = read("man/tollgate.1");
    assert!(man.starts_with(".ie") || man.contains(".TH tollgate"), "not a man page: {}", &man[..man.len().min(200)]);
    for command in ["doctor", "jwt", "plugin", "audit"] {
        assert!(man.contains(command), "tollgate.1 does not mention {command}");
    }
    assert!(read("man/tollgate-doctor.1").contains("Secret Service"));
    assert!(read("man/tollgate-jwt-sign.1").contains("key\\-file"), "tollgate-jwt-sign.1 lacks --key-file");
    // Hidden commands, and clap's `help` pages that would repeat the
    // others, stay out of what users are shown.
    assert!(!man.contains("package\\-files") && !man.contains("audit\\-save\\-loop"), "a hidden command is in tollgate.1");
    let pages: Vec<String> = std::fs::read_dir(dir.path().join("man")).expect("man dir").filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    assert!(pages.iter().all(|p| !p.contains("-help") && !p.contains("package-files") && !p.contains("audit-save-loop")), "{pages:?}");
    assert!(pages.contains(&"tollgate-plugin-inspect.1".to_owned()), "{pages:?}");
    assert!(read("completions/tollgate.bash").contains("doctor"));
    assert!(read("completions/_tollgate").contains("doctor"));
    assert!(read("completions/tollgate.fish").contains("doctor"));
}

#[test]
fn doctor_with_a_fresh_gnome_keyring_warns_that_the_first_use_creates_a_collection() {
    // A session bus of its own where D-Bus starts gnome-keyring on demand,
    // for a home that has never had a keyring: it answers, with no
    // default collection.
    // Services D-Bus starts print to the session's stdout: the doctor's
    // own answer goes to a file.
    let home = tempfile::tempdir().expect("home");
    let report = home.path().join("doctor.json");
    let out = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", r#"exec "$0" --data-dir "$DATA" doctor --json > "$REPORT""#])
        .arg(env!("CARGO_BIN_EXE_tollgate"))
        .env("DATA", home.path().join("data"))
        .env("REPORT", &report)
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("run dbus-run-session (Debian package dbus)");
    let written = std::fs::read(&report).unwrap_or_default();
    let checks: Value = serde_json::from_slice(&written).unwrap_or_else(|e| panic!("{e}: {}{}", text(&written), text(&out.stderr)));
    let check = checks.as_array().expect("a list").iter().find(|c| c["check"] == "secret-service").cloned().expect("secret-service");
    assert_eq!(check["status"], "warn", "{check}");
    assert!(check["detail"].as_str().is_some_and(|d| d.contains("no default collection")), "{check}");
}
