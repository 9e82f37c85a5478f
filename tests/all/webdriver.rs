//! A small blocking W3C WebDriver client for the window tests.
//!
//! It starts `WebKitWebDriver` (Debian's webkit2gtk-driver) on a free
//! loopback port, opens one session whose browser is the app binary, and
//! offers the few commands the tests use. Everything the driver answers
//! comes from another process: it is checked and turned into a
//! [`WebDriverError`], never unwrapped. Dropping a [`Session`] ends the
//! session, kills the driver and whatever app it started.

use std::fs::File;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The driver binary, from Debian's webkit2gtk-driver.
pub const DRIVER_BINARY: &str = "/usr/bin/WebKitWebDriver";
/// How long the driver may take to answer `/status` after it starts.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(10);
/// Ceiling on one HTTP exchange with the driver. Above the script timeout
/// the tests set, so a slow script fails as a script timeout, not here.
const HTTP_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest driver answer read (a screenshot is the biggest: a few MiB of
/// base64 at most for the test window).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;
/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Why a WebDriver command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebDriverError {
    /// The driver binary could not be started.
    #[error("could not start {DRIVER_BINARY}: {0} (install the webkit2gtk-driver package)")]
    Spawn(std::io::Error),
    /// The driver did not answer `/status` in time.
    #[error("WebKitWebDriver did not become ready within {0:?}")]
    NotReady(Duration),
    /// The HTTP exchange failed.
    #[error("HTTP exchange with WebKitWebDriver failed on {command}: {source}")]
    Http {
        /// The command, as `METHOD path`.
        command: String,
        /// What went wrong.
        source: ureq::Error,
    },
    /// The driver answered with a W3C error.
    #[error("{command} failed: {error}: {message}")]
    Command {
        /// The command, as `METHOD path`.
        command: String,
        /// The W3C error code (`no such element`, `script timeout`, ...).
        error: String,
        /// The driver's message.
        message: String,
    },
    /// The driver answered something that is not a W3C answer.
    #[error("unexpected answer to {command}: {detail}")]
    Malformed {
        /// The command, as `METHOD path`.
        command: String,
        /// What was wrong with it.
        detail: String,
    },
    /// A local file could not be written.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// What to start: the app binary and its arguments.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The browser binary (the app).
    pub binary: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment for the driver, inherited by the app it starts.
    pub env: Vec<(String, String)>,
    /// Where the driver's (and so the app's) stdout and stderr go.
    pub driver_log: PathBuf,
}

/// An element reference, as the driver named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(String);

/// A running driver with one open session.
pub struct Session {
    driver: Child,
    agent: ureq::Agent,
    /// `http://127.0.0.1:<port>/session/<id>`.
    base: String,
    deleted: bool,
}

impl Session {
    /// Starts the driver and opens a session on the app.
    pub fn start(options: &SessionOptions) -> Result<Self, WebDriverError> {
        let port = free_port().map_err(WebDriverError::Spawn)?;
        let log = File::create(&options.driver_log)
            .map_err(|source| WebDriverError::Io { path: options.driver_log.clone(), source })?;
        let log_err = log.try_clone().map_err(|source| WebDriverError::Io { path: options.driver_log.clone(), source })?;
        let driver = Command::new(DRIVER_BINARY)
            .arg(format!("--port={port}"))
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(WebDriverError::Spawn)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(HTTP_TIMEOUT))
            .build()
            .into();
        let root = format!("http://127.0.0.1:{port}");
        // From here on the driver is killed on every early return.
        let mut session = Self { driver, agent, base: root.clone(), deleted: true };
        session.wait_for_driver(&root)?;

        let capabilities = json!({
            "capabilities": { "alwaysMatch": { "webkitgtk:browserOptions": {
                "binary": options.binary.to_string_lossy(),
                "args": options.args,
            } } }
        });
        let answer = session.request("POST", &format!("{root}/session"), Some(&capabilities))?;
        let id = answer
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("POST /session", "no sessionId"))?
            .to_owned();
        session.base = format!("{root}/session/{id}");
        session.deleted = false;
        Ok(session)
    }

    fn wait_for_driver(&mut self, root: &str) -> Result<(), WebDriverError> {
        let started = Instant::now();
        loop {
            if let Ok(status) = self.request("GET", &format!("{root}/status"), None)
                && status.get("ready").and_then(Value::as_bool) == Some(true)
            {
                return Ok(());
            }
            if let Ok(Some(exit)) = self.driver.try_wait() {
                return Err(WebDriverError::Spawn(std::io::Error::other(format!("the driver exited: {exit}"))));
            }
            if started.elapsed() > DRIVER_START_TIMEOUT {
                return Err(WebDriverError::NotReady(DRIVER_START_TIMEOUT));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The driver's process id (the app is its child).
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    /// Sets the timeout of asynchronous scripts.
    pub fn set_script_timeout(&self, timeout: Duration) -> Result<(), WebDriverError> {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.command("POST", "/timeouts", Some(&json!({ "script": ms }))).map(drop)
    }

    /// Runs `script` as a function body with `args`; its return value.
    pub fn execute(&self, script: &str, args: &[Value]) -> Result<Value, WebDriverError> {
        self.command("POST", "/execute/sync", Some(&json!({ "script": script, "args": args })))
    }

    /// Runs `script` as a function body with `args` and a last argument,
    /// the callback whose argument is the result.
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Result<Value, WebDriverError> {
        self.command("POST", "/execute/async", Some(&json!({ "script": script, "args": args })))
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, css: &str) -> Result<Element, WebDriverError> {
        let answer = self.command("POST", "/element", Some(&json!({ "using": "css selector", "value": css })))?;
        answer
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| malformed("POST /element", "no element reference"))
    }

    /// Clicks an element (a real, trusted click).
    pub fn click(&self, element: &Element) -> Result<(), WebDriverError> {
        self.command("POST", &format!("/element/{}/click", element.0), Some(&json!({}))).map(drop)
    }

    /// Types `text` into an element.
    pub fn send_keys(&self, element: &Element, text: &str) -> Result<(), WebDriverError> {
        self.command("POST", &format!("/element/{}/value", element.0), Some(&json!({ "text": text }))).map(drop)
    }

    /// An element's rendered text.
    pub fn text(&self, element: &Element) -> Result<String, WebDriverError> {
        let answer = self.command("GET", &format!("/element/{}/text", element.0), None)?;
        answer.as_str().map(str::to_owned).ok_or_else(|| malformed("GET /element/text", "not a string"))
    }

    /// Whether an element is displayed.
    pub fn is_displayed(&self, element: &Element) -> Result<bool, WebDriverError> {
        let answer = self.command("GET", &format!("/element/{}/displayed", element.0), None)?;
        answer.as_bool().ok_or_else(|| malformed("GET /element/displayed", "not a boolean"))
    }

    /// The top-level browsing context's URL.
    pub fn url(&self) -> Result<String, WebDriverError> {
        let answer = self.command("GET", "/url", None)?;
        answer.as_str().map(str::to_owned).ok_or_else(|| malformed("GET /url", "not a string"))
    }

    /// Every window handle.
    pub fn window_handles(&self) -> Result<Vec<String>, WebDriverError> {
        let answer = self.command("GET", "/window/handles", None)?;
        let handles = answer.as_array().ok_or_else(|| malformed("GET /window/handles", "not an array"))?;
        handles
            .iter()
            .map(|h| h.as_str().map(str::to_owned).ok_or_else(|| malformed("GET /window/handles", "a handle is not a string")))
            .collect()
    }

    /// Saves a PNG of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<(), WebDriverError> {
        let answer = self.command("GET", "/screenshot", None)?;
        let encoded = answer.as_str().ok_or_else(|| malformed("GET /screenshot", "not a string"))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| malformed("GET /screenshot", &format!("not base64: {e}")))?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(malformed("GET /screenshot", "not a PNG"));
        }
        std::fs::write(path, png).map_err(|source| WebDriverError::Io { path: path.to_path_buf(), source })
    }

    /// Ends the session (the driver closes the app).
    pub fn delete(&mut self) -> Result<(), WebDriverError> {
        if self.deleted {
            return Ok(());
        }
        self.deleted = true;
        self.command("DELETE", "", None).map(drop)
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, WebDriverError> {
        self.request(method, &format!("{}{path}", self.base), body)
    }

    /// One exchange: the answer's `value`, or the W3C error it carries.
    fn request(&self, method: &str, url: &str, body: Option<&Value>) -> Result<Value, WebDriverError> {
        let command = format!("{method} {}", url.split_once("/session/").map_or(url, |(_, rest)| rest));
        let http = |source| WebDriverError::Http { command: command.clone(), source };
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(url).call(),
            ("DELETE", _) => self.agent.delete(url).call(),
            (_, Some(body)) => self.agent.post(url).send_json(body),
            (_, None) => self.agent.post(url).send_empty(),
        }
        .map_err(http)?;
        let text = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string().map_err(http)?;
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| malformed(&command, &format!("not JSON ({e}): {}", text.chars().take(200).collect::<String>())))?;
        let value = answer.get("value").cloned().ok_or_else(|| malformed(&command, "no value"))?;
        if response.status().is_success() {
            return Ok(value);
        }
        let field = |name: &str| value.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
        Err(WebDriverError::Command { command, error: field("error"), message: field("message") })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let apps = children_of(self.driver.id());
        if let Err(e) = self.delete() {
            eprintln!("webdriver: could not end the session: {e}");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // The driver closes the app on DELETE; an app left behind (a failed
        // delete, a hung window) is killed here so no test leaks a process.
        for pid in apps {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

fn malformed(command: &str, detail: &str) -> WebDriverError {
    WebDriverError::Malformed { command: command.to_owned(), detail: detail.to_owned() }
}

/// A port nobody listens on now (the OS picks it; the driver binds it next).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A process as `/proc/<pid>/stat` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its id.
    pub pid: u32,
    /// Its parent's id.
    pub parent: u32,
    /// Its command name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
}

/// Every process readable in `/proc` now.
pub fn processes() -> Vec<ProcessInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()))
        .filter_map(process_info)
        .collect()
}

/// One process's id, parent and name, if it still exists.
pub fn process_info(pid: u32) -> Option<ProcessInfo> {
    let mut stat = String::new();
    File::open(format!("/proc/{pid}/stat")).ok()?.read_to_string(&mut stat).ok()?;
    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses,
    // so it ends at the last `)`.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let parent = rest.next()?.parse().ok()?;
    Some(ProcessInfo { pid, parent, comm })
}

/// The ids of `parent`'s direct children.
pub fn children_of(parent: u32) -> Vec<u32> {
    processes().into_iter().filter(|p| p.parent == parent).map(|p| p.pid).collect()
}
