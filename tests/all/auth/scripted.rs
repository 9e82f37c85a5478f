//! A fake sign-in backend for the failure cases: a real HTTP server on
//! loopback whose every answer is scripted by the test (status, body,
//! delay), which records every call, and which can be stopped (connection
//! refused) and started again on the same port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub delay: Duration,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self { status, body, delay: Duration::ZERO, retry_after: None }
    }

    pub fn error(status: u16, code: &str) -> Self {
        Self::json(status, serde_json::json!({ "error": code, "message": format!("scripted {code}") }))
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A call the fake received.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub bearer: Option<String>,
    pub body: Value,
}

type Script = dyn Fn(&Call) -> Reply + Send + Sync;

struct Shared {
    script: Mutex<Arc<Script>>,
    calls: Mutex<Vec<Call>>,
}

/// The fake backend.
pub struct Scripted {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    running: Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Scripted {
    /// Starts on an ephemeral port, answering with `script`.
    pub fn start(script: impl Fn(&Call) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Arc::new(Shared { script: Mutex::new(Arc::new(script)), calls: Mutex::new(Vec::new()) });
        let mut fake = Self { addr: SocketAddr::from(([127, 0, 0, 1], 0)), shared, running: None };
        fake.serve();
        fake
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Replaces the script.
    pub fn set_script(&self, script: impl Fn(&Call) -> Reply + Send + Sync + 'static) {
        *self.shared.script.lock().expect("script") = Arc::new(script);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().expect("calls").clone()
    }

    /// Calls to `path`.
    pub fn count(&self, path: &str) -> usize {
        self.calls().iter().filter(|c| c.path == path).count()
    }

    /// Stops listening: connections are refused until [`Self::restart`].
    pub fn stop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            let _ = stop.send(());
            thread.join().expect("fake backend thread");
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.serve();
    }

    fn serve(&mut self) {
        let std_listener = std::net::TcpListener::bind(self.addr).expect("bind the fake backend");
        std_listener.set_nonblocking(true).expect("nonblocking");
        self.addr = std_listener.local_addr().expect("addr");
        let shared = Arc::clone(&self.shared);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                let app = axum::Router::new().fallback(answer).with_state(shared);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        self.running = Some((stop_tx, thread));
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn answer(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let call = Call {
        method: method.to_string(),
        path: uri.path().to_owned(),
        bearer,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    shared.calls.lock().expect("calls").push(call.clone());
    let script = Arc::clone(&shared.script.lock().expect("script"));
    let reply = script(&call);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).expect("status");
    let mut response = (status, axum::Json(reply.body)).into_response();
    if let Some(s) = reply.retry_after {
        response.headers_mut().insert("retry-after", s.to_string().parse().expect("header"));
    }
    response
}
