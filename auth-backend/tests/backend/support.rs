//! A fake GitHub and a backend configured against it, a small HTTP client,
//! and every test's tracing output captured in one buffer.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tollgate_auth_backend::Config;
use tollgate_auth_backend::fake_github::FakeGithub;
use tollgate_auth_backend::testing::{RunningBackend, spawn_backend_blocking};

/// A fake GitHub and a backend that talks to it.
pub struct Harness {
    pub github: FakeGithub,
    pub backend: RunningBackend,
}

impl Harness {
    /// Both, with the backend's default configuration.
    pub fn start() -> Self {
        Self::with_config(|_| {})
    }

    /// Both, with the backend's configuration adjusted by `adjust`.
    pub fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        capture_logs();
        let github = FakeGithub::start_blocking();
        let mut config = github.backend_config();
        adjust(&mut config);
        let backend = spawn_backend_blocking(config).expect("backend starts");
        Self { github, backend }
    }

    pub fn post(&self, path: &str, bearer: Option<&str>, body: &str) -> Reply {
        post(self.backend.url(), path, bearer, body)
    }

    /// Runs the device flow to completion (the fake's default script
    /// approves on the first poll) and answers the `complete` body.
    pub fn sign_in(&self) -> Value {
        let code = self.post("/v1/device/code", None, "{}");
        assert_eq!(code.status, 200, "{code:?}");
        let device_code = code.body["deviceCode"].as_str().expect("deviceCode").to_owned();
        let done = self.post("/v1/device/poll", None, &poll_body(&device_code));
        assert_eq!(done.status, 200, "{done:?}");
        done.body
    }

    /// Signs in and answers the session token.
    pub fn session(&self) -> String {
        self.sign_in()["session"]["token"].as_str().expect("session token").to_owned()
    }
}

pub fn poll_body(device_code: &str) -> String {
    serde_json::json!({ "deviceCode": device_code }).to_string()
}

/// An answer: status, parsed body (`Null` when empty or not JSON), raw body,
/// and the headers the tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub raw: String,
    pub retry_after: Option<String>,
    pub content_type: Option<String>,
}

impl Reply {
    /// Asserts the contract's error shape and answers the code.
    pub fn error_code(&self) -> &str {
        assert!(self.body["message"].is_string(), "no message: {self:?}");
        assert_eq!(self.content_type.as_deref(), Some("application/json"), "{self:?}");
        self.body["error"].as_str().unwrap_or_else(|| panic!("no error code: {self:?}"))
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).http_status_as_error(false).build().into()
}

pub fn post(base: &str, path: &str, bearer: Option<&str>, body: &str) -> Reply {
    let mut request = agent().post(format!("{base}{path}")).header("Content-Type", "application/json");
    if let Some(token) = bearer {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    reply(request.send(body))
}

pub fn post_raw(base: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let mut request = agent().post(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    reply(request.send(&body[..]))
}

pub fn get(base: &str, path: &str) -> Reply {
    reply(agent().get(format!("{base}{path}")).call())
}

fn reply(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = result.expect("the backend answers");
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let retry_after = header("retry-after");
    let content_type = header("content-type");
    let raw = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply { status, body, raw, retry_after, content_type }
}

/// A loopback address nobody listens on: bind an ephemeral port, then
/// close it.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}")
}

/// Seconds from now until an RFC 3339 timestamp.
pub fn secs_until(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().unwrap_or_else(|| panic!("not a timestamp: {rfc3339}"));
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).expect("RFC 3339");
    (at - time::OffsetDateTime::now_utc()).whole_seconds()
}

#[derive(Clone)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static LOGS: OnceLock<SharedBuffer> = OnceLock::new();

/// Installs (once per test binary) a global subscriber that records every
/// event at every level, from every test's threads, `log` records included.
fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = SharedBuffer(Arc::new(Mutex::new(Vec::new())));
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the test binary installs the only subscriber");
        buffer
    });
}

/// Everything logged so far, by all tests.
pub fn captured_logs() -> String {
    let buffer = LOGS.get().expect("a harness was started");
    String::from_utf8_lossy(&buffer.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
}
