//! The bridge's pipeline: one function per transport, both ending in the
//! same checks and the same answer shape. See the module docs of `bridge`
//! for the order of the checks.

use std::collections::{HashSet, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::envelope::{self, Envelope};
use crate::error::{BridgeError, ErrorCode};
use crate::events::EventHub;
use crate::backlog::{Backlog, Ticket};
use crate::limits::{GLOBAL_QUOTA, Limited, Limits};
use crate::registry::{
    Body, ChannelRegistry, Execution, HandlerContext, Lane, Payload, PreparedCall, Quota, RegisteredChannel, Reply,
};
use crate::response::BridgeResponse;
use crate::sender::{self, PageSecret, WindowLabel};

/// Request ids remembered per window for replay checks. Bounds the memory a
/// page can make the host keep; older ids fall out first.
pub const REPLAY_MEMORY: usize = 4096;

/// How a message arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `postMessage` (JSON).
    PostMessage,
    /// The custom scheme's binary path (`POST tollgate://localhost/__bridge/<channel>`).
    Binary,
}

/// Who sent a message, as the window adapter observed it.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    /// The webview the message came from.
    pub window: WindowLabel,
    /// The URL its main frame shows, asked of the webview.
    pub page_url: &'a str,
}

/// A finished call: the request id (when readable) and the result.
#[derive(Debug)]
pub struct Answer {
    /// The caller's request id.
    pub request_id: Option<String>,
    /// Data or error.
    pub result: Result<Reply, BridgeError>,
}

impl Answer {
    /// The JSON response. A byte reply here is a programming error and
    /// becomes `INTERNAL_ERROR`.
    pub fn into_response(self) -> BridgeResponse {
        match self.result {
            Ok(Reply::Json(data)) => BridgeResponse::ok(self.request_id, data),
            Ok(Reply::Bytes(_) | Reply::Stream(_)) => BridgeResponse::err(self.request_id, BridgeError::internal()),
            Err(e) => BridgeResponse::err(self.request_id, e),
        }
    }

    /// The error code, if it failed.
    pub fn code(&self) -> Option<ErrorCode> {
        self.result.as_ref().err().map(|e| e.code)
    }
}

/// The result of receiving a message: answered already, or a call to run
/// off the receiving thread.
pub enum Dispatch {
    /// Answered (refused, or an inline handler ran).
    Ready(Answer),
    /// A checked call for a worker thread; `run` it there.
    Deferred(DeferredCall),
}

impl Dispatch {
    /// Runs a deferred call here; for tests and non-UI callers.
    pub fn finish(self) -> Answer {
        match self {
            Self::Ready(answer) => answer,
            Self::Deferred(call) => call.run(),
        }
    }
}

/// A call that passed every check and waits for its handler.
pub struct DeferredCall {
    call: PreparedCall,
    ctx: HandlerContext,
    channel: &'static str,
    started: Instant,
    lane: Lane,
    /// This call's place in its (window, channel) backlog, given back when
    /// the call has run (or is dropped unrun).
    ticket: Ticket,
}

impl DeferredCall {
    /// Runs the handler behind the panic guard.
    pub fn run(mut self) -> Answer {
        let ran = Instant::now();
        let result = run_guarded(self.call, &self.ctx, self.channel);
        self.ticket.ran_for(ran.elapsed());
        finish_log(self.channel, self.ctx.window, &self.ctx.request_id, self.started, &result);
        Answer { request_id: Some(self.ctx.request_id), result }
    }

    /// The calling window.
    pub fn window(&self) -> WindowLabel {
        self.ctx.window
    }

    /// The lane it runs in.
    pub fn lane(&self) -> Lane {
        self.lane
    }
}

struct ReplayGuard {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl ReplayGuard {
    fn new() -> Self {
        Self { seen: HashSet::new(), order: VecDeque::new() }
    }

    /// Records `id`; `false` if it was seen before.
    fn first_use(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() >= REPLAY_MEMORY
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

/// The bridge: registry, limits, per-webview secrets, replay memory, events.
pub struct Bridge {
    registry: ChannelRegistry,
    limits: Limits,
    backlog: Arc<Backlog>,
    secrets: RwLock<Vec<Option<PageSecret>>>,
    replay: Vec<Mutex<ReplayGuard>>,
    /// Per window: whether the web inspector is open on it (the window
    /// adapter reports WebKit's inspector signals).
    inspected: Vec<AtomicBool>,
    events: Arc<EventHub>,
}

/// The channels that still answer a window while the web inspector is
/// open on it. WebKit can't tell console code from page code, so while a
/// console is there every other channel answers `IPC_FORBIDDEN`: nothing
/// typed into it can sign, seal a key, save, delete, sign in or out, trust
/// a plugin or move bytes. These read and change nothing secret: a
/// liveness check, the app's version, decoding a token the page already
/// holds, and the lists the page shows. (A test checks each is declared
/// and not state-changing.)
pub const READ_ONLY_WHILE_INSPECTED: &[&str] =
    &["app:ping", "app:info", "jwt:decode", "plugins:list", "profiles:load", "settings:get", "auth:get-session"];

impl Bridge {
    /// A bridge over a registry and declared events, under the app's
    /// global ceiling.
    pub fn new(registry: ChannelRegistry, events: Arc<EventHub>) -> Self {
        Self::with_global_quota(registry, events, GLOBAL_QUOTA)
    }

    /// The same with another global ceiling (benchmarks of the pipeline
    /// itself, which must not measure refusals).
    pub fn with_global_quota(registry: ChannelRegistry, events: Arc<EventHub>, global: Quota) -> Self {
        Self {
            limits: Limits::new(&registry, global),
            backlog: Arc::new(Backlog::new(registry.len())),
            registry,
            secrets: RwLock::new(WindowLabel::ALL.iter().map(|_| None).collect()),
            replay: WindowLabel::ALL.iter().map(|_| Mutex::new(ReplayGuard::new())).collect(),
            inspected: WindowLabel::ALL.iter().map(|_| AtomicBool::new(false)).collect(),
            events,
        }
    }

    /// The registry.
    pub fn registry(&self) -> &ChannelRegistry {
        &self.registry
    }

    /// The limits (counters for tests and diagnostics).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The event hub.
    pub fn events(&self) -> &Arc<EventHub> {
        &self.events
    }

    /// Issues a fresh secret for `window`'s webview (at creation) and
    /// returns its hex form for the injected client. Any earlier secret of
    /// that window stops working.
    pub fn issue_secret(&self, window: WindowLabel) -> Result<zeroize::Zeroizing<String>, getrandom::Error> {
        let secret = PageSecret::generate()?;
        let hex = secret.to_hex();
        if let Ok(mut secrets) = self.secrets.write()
            && let Some(slot) = secrets.get_mut(window.index())
        {
            *slot = Some(secret);
        }
        Ok(hex)
    }

    /// Forgets a closed window: its secret stops working, its event
    /// subscriptions end.
    pub fn window_closed(&self, window: WindowLabel) {
        if let Ok(mut secrets) = self.secrets.write()
            && let Some(slot) = secrets.get_mut(window.index())
        {
            *slot = None;
        }
        if let Some(flag) = self.inspected.get(window.index()) {
            flag.store(false, Ordering::SeqCst);
        }
        self.events.window_closed(window);
    }

    /// The web inspector opened on `window` (or closed): while it is open,
    /// only [`READ_ONLY_WHILE_INSPECTED`] answers that window. The change
    /// is logged as a security event.
    pub fn set_inspected(&self, window: WindowLabel, open: bool) {
        let Some(flag) = self.inspected.get(window.index()) else { return };
        if flag.swap(open, Ordering::SeqCst) != open {
            if open {
                tracing::warn!(
                    target: "tollgate::security",
                    category = "security",
                    event = "WEB_INSPECTOR_OPEN",
                    window = window.as_str(),
                    "the web inspector opened; until it closes only read-only channels answer this window"
                );
            } else {
                tracing::info!(target: "tollgate::security", category = "security", event = "WEB_INSPECTOR_CLOSED", window = window.as_str(), "the web inspector closed");
            }
        }
    }

    /// Whether the web inspector is open on `window`.
    pub fn inspected(&self, window: WindowLabel) -> bool {
        self.inspected.get(window.index()).is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// A page (re)loaded: its subscriptions belonged to the old document.
    pub fn page_loaded(&self, window: WindowLabel) {
        self.events.window_closed(window);
    }

    /// Receives a postMessage.
    pub fn handle_message(&self, sender: Sender<'_>, message: &str) -> Dispatch {
        let started = Instant::now();
        let envelope = match envelope::parse(message) {
            Ok(env) => env,
            Err(e) => {
                self.security_event(sender, None, e.error.code, &e.error.message);
                // The refusal goes to the caller's request id only when the
                // message proves it comes from the page's own client (the
                // origin and the secret check out): otherwise a forger
                // could settle the page's pending call with it.
                let claimed_secret = message.split('\n').nth(1).unwrap_or_default();
                let request_id = e.request_id.filter(|_| self.authenticated(sender, claimed_secret));
                return Dispatch::Ready(Answer { request_id, result: Err(e.error) });
            }
        };
        self.dispatch(sender, envelope, Transport::PostMessage, Payload::Json(envelope.payload), started)
    }

    /// Receives a call on the binary path. `secret` and `request_id` come
    /// from request headers; `channel` from the path.
    pub fn handle_binary(
        &self,
        sender: Sender<'_>,
        secret: &str,
        request_id: &str,
        channel: &str,
        body: Vec<u8>,
    ) -> Dispatch {
        let started = Instant::now();
        let envelope = match self.binary_envelope(sender, secret, request_id, channel) {
            Ok(envelope) => envelope,
            Err(refusal) => return Dispatch::Ready(refusal),
        };
        let size = body.len();
        self.dispatch_sized(sender, envelope, Transport::Binary, Payload::Bytes(body), size, started)
    }

    fn dispatch(
        &self,
        sender: Sender<'_>,
        envelope: Envelope<'_>,
        transport: Transport,
        payload: Payload<'_>,
        started: Instant,
    ) -> Dispatch {
        let size = envelope.payload.len();
        self.dispatch_sized(sender, envelope, transport, payload, size, started)
    }

    fn dispatch_sized(
        &self,
        sender: Sender<'_>,
        envelope: Envelope<'_>,
        transport: Transport,
        payload: Payload<'_>,
        payload_size: usize,
        started: Instant,
    ) -> Dispatch {
        let request_id = envelope.request_id;
        let refuse = |channel: Option<&str>, error: BridgeError| {
            self.security_event(sender, channel, error.code, &error.message);
            Dispatch::Ready(Answer { request_id: Some(request_id.to_owned()), result: Err(error) })
        };
        let channel = match self.check_head(sender, &envelope, transport) {
            Ok(channel) => channel,
            Err(refusal) => return Dispatch::Ready(refusal),
        };
        let spec = &channel.spec;

        if let Err(which) = self.limits.check(sender.window, channel.index) {
            let message = match which {
                Limited::Channel => format!(
                    "too many calls to {} from this window (quota {}/s, burst {})",
                    spec.name, spec.quota.per_second, spec.quota.burst
                ),
                Limited::Global => "too many calls to the host from all windows".to_owned(),
            };
            return refuse(Some(spec.name), BridgeError::new(ErrorCode::RateLimited, message));
        }

        // A call that would wait for a handler thread takes a place in its
        // (window, channel) backlog first, or is refused now (backlog.rs).
        let ticket = match spec.execution {
            Execution::Inline => None,
            Execution::Blocking | Execution::Heavy => match self.backlog.admit(sender.window, channel.index) {
                Ok(ticket) => Some(ticket),
                Err(b) => {
                    return refuse(
                        Some(spec.name),
                        BridgeError::new(
                            ErrorCode::RateLimited,
                            format!("{} calls to {} from this window are already waiting; try again in {} ms", b.pending, spec.name, b.retry_after_ms),
                        )
                        .with_details(serde_json::json!({ "retryAfterMs": b.retry_after_ms, "pending": b.pending })),
                    );
                }
            },
        };

        if payload_size > spec.max_payload_bytes {
            return refuse(
                Some(spec.name),
                BridgeError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("payload is {payload_size} bytes; {} accepts at most {}", spec.name, spec.max_payload_bytes),
                )
                .with_details(serde_json::json!({ "limit": spec.max_payload_bytes, "size": payload_size })),
            );
        }

        let call = match channel.prepare(payload) {
            Ok(call) => call,
            Err(e) => {
                tracing::debug!(channel = spec.name, window = sender.window.as_str(), request_id, code = %e.code, "request refused");
                return Dispatch::Ready(Answer { request_id: Some(request_id.to_owned()), result: Err(e) });
            }
        };

        if spec.state_changing && !self.first_use(sender.window, request_id) {
            return refuse(
                Some(spec.name),
                BridgeError::new(ErrorCode::ReplayedRequest, format!("request id already used on a state-changing channel ({})", spec.name)),
            );
        }

        if let Some(deprecation) = spec.deprecated {
            tracing::warn!(
                channel = spec.name,
                window = sender.window.as_str(),
                instead = deprecation.use_instead,
                since = deprecation.since,
                "deprecated channel called"
            );
        }

        let ctx = HandlerContext { window: sender.window, request_id: request_id.to_owned(), events: Arc::clone(&self.events) };
        let lane = match spec.execution {
            Execution::Inline => None,
            Execution::Blocking => Some(Lane::Light),
            Execution::Heavy => Some(Lane::Heavy),
        };
        match (lane, ticket) {
            (Some(lane), Some(ticket)) => Dispatch::Deferred(DeferredCall { call, ctx, channel: spec.name, started, lane, ticket }),
            _ => {
                let result = run_guarded(call, &ctx, spec.name);
                finish_log(spec.name, ctx.window, request_id, started, &result);
                Dispatch::Ready(Answer { request_id: Some(ctx.request_id), result })
            }
        }
    }

    /// A message the window adapter refused before reading it (not a
    /// string, or over [`envelope::MAX_MESSAGE_BYTES`] by its length alone):
    /// counted in the sender's security log quota and logged like any other
    /// refusal. There is no answer: nothing of the message was read, not
    /// even a request id.
    pub fn refused_unread(&self, sender: Sender<'_>, code: ErrorCode, reason: &str) {
        self.security_event(sender, None, code, reason);
    }

    /// Calls of `channel` from `window` admitted and not yet finished
    /// (queued or running); `None` for an undeclared channel.
    pub fn pending(&self, window: WindowLabel, channel: &str) -> Option<u32> {
        self.registry.get(channel).map(|c| self.backlog.pending(window, c.index))
    }

    /// The checks that need nothing but the head of a call (who sends it,
    /// with which secret, to which channel, by which path) and change no
    /// state: the sender's origin and secret, the channel, its windows and
    /// its transport. A refusal is logged and answered here.
    fn check_head(&self, sender: Sender<'_>, envelope: &Envelope<'_>, transport: Transport) -> Result<&RegisteredChannel, Answer> {
        let request_id = envelope.request_id;
        let refuse = |channel: Option<&str>, error: BridgeError| {
            self.security_event(sender, channel, error.code, &error.message);
            Answer { request_id: Some(request_id.to_owned()), result: Err(error) }
        };
        // Refused before the sender is known: answered without the claimed
        // request id, so a forged message can't settle (fail) a call the
        // page's own client has pending under that id.
        let refuse_unauthenticated = |channel: Option<&str>, error: BridgeError| {
            self.security_event(sender, channel, error.code, &error.message);
            Answer { request_id: None, result: Err(error) }
        };

        // The sender, from host state: origin of the main frame, then the
        // secret only that main frame holds.
        if let Err(e) = sender::check_origin(sender.page_url) {
            return Err(refuse_unauthenticated(Some(envelope.channel), e));
        }
        if !self.secret_matches(sender.window, envelope.secret) {
            return Err(refuse_unauthenticated(
                Some(envelope.channel),
                BridgeError::new(ErrorCode::IpcUnauthorized, "the request did not carry this window's bridge secret"),
            ));
        }

        let Some(channel) = self.registry.get(envelope.channel) else {
            return Err(refuse(
                Some(envelope.channel),
                BridgeError::new(ErrorCode::UnknownChannel, "no channel of that name is declared"),
            ));
        };
        let spec = &channel.spec;
        if !spec.windows.contains(&sender.window) {
            return Err(refuse(
                Some(spec.name),
                BridgeError::new(ErrorCode::IpcForbidden, format!("the {} window may not call {}", sender.window.as_str(), spec.name)),
            ));
        }
        if self.inspected(sender.window) && !READ_ONLY_WHILE_INSPECTED.contains(&spec.name) {
            return Err(refuse(
                Some(spec.name),
                BridgeError::new(
                    ErrorCode::IpcForbidden,
                    format!(
                        "the web inspector is open on the {} window: {} does not answer until it closes (console code can't be told from page code)",
                        sender.window.as_str(),
                        spec.name
                    ),
                ),
            ));
        }
        let binary = spec.body != Body::Json;
        if binary != (transport == Transport::Binary) {
            return Err(refuse(
                Some(spec.name),
                BridgeError::validation(if binary {
                    format!("{} takes the binary path (tollgate.upload/download)", spec.name)
                } else {
                    format!("{} takes a JSON request (tollgate.invoke)", spec.name)
                }),
            ));
        }

        Ok(channel)
    }

    /// The binary path's envelope from its headers and path: the request
    /// id and the channel name must be well formed (each refusal logged).
    fn binary_envelope<'a>(&self, sender: Sender<'_>, secret: &'a str, request_id: &'a str, channel: &'a str) -> Result<Envelope<'a>, Answer> {
        if !envelope::valid_request_id(request_id) {
            let error = BridgeError::validation("missing or malformed request id header");
            self.security_event(sender, None, error.code, &error.message);
            return Err(Answer { request_id: None, result: Err(error) });
        }
        if !envelope::valid_channel_name(channel) {
            let error = BridgeError::new(ErrorCode::UnknownChannel, "malformed channel name");
            self.security_event(sender, None, error.code, &error.message);
            return Err(Answer { request_id: Some(request_id.to_owned()), result: Err(error) });
        }
        Ok(Envelope { secret, request_id, channel, payload: "" })
    }

    /// The binary path's check before its body is read: everything
    /// [`Self::handle_binary`] checks that does not need the body (request
    /// id, channel name, sender, secret, channel, window, transport), and
    /// a declared `Content-Length` over the channel's cap. Returns the cap:
    /// the window adapter reads at most one byte more than it, then calls
    /// [`Self::handle_binary`], which checks it all again with the body and
    /// spends the quota. Spends nothing itself.
    pub fn check_binary_head(
        &self,
        sender: Sender<'_>,
        secret: &str,
        request_id: &str,
        channel: &str,
        declared_len: Option<u64>,
    ) -> Result<usize, Answer> {
        let envelope = self.binary_envelope(sender, secret, request_id, channel)?;
        let channel = self.check_head(sender, &envelope, Transport::Binary)?;
        let cap = channel.spec.max_payload_bytes;
        if let Some(declared) = declared_len
            && declared > cap as u64
        {
            let error = BridgeError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body is declared {declared} bytes; {} accepts at most {cap}", channel.spec.name),
            )
            .with_details(serde_json::json!({ "limit": cap, "size": declared }));
            self.security_event(sender, Some(channel.spec.name), error.code, &error.message);
            return Err(Answer { request_id: Some(request_id.to_owned()), result: Err(error) });
        }
        Ok(cap)
    }

    /// Whether a message from `sender` carrying `secret` comes from the
    /// page's own client: the app origin and this window's secret.
    fn authenticated(&self, sender: Sender<'_>, secret: &str) -> bool {
        sender::check_origin(sender.page_url).is_ok() && self.secret_matches(sender.window, secret)
    }

    fn secret_matches(&self, window: WindowLabel, presented: &str) -> bool {
        self.secrets
            .read()
            .ok()
            .and_then(|secrets| secrets.get(window.index()).and_then(|s| s.as_ref().map(|s| s.matches(presented))))
            .unwrap_or(false)
    }

    fn first_use(&self, window: WindowLabel, request_id: &str) -> bool {
        self.replay.get(window.index()).and_then(|g| g.lock().ok()).is_some_and(|mut g| g.first_use(request_id))
    }

    fn security_event(&self, sender: Sender<'_>, channel: Option<&str>, code: ErrorCode, reason: &str) {
        if !code.is_security_event() && code != ErrorCode::ValidationError {
            return;
        }
        if !self.limits.may_log_security_event(sender.window) {
            return;
        }
        // The channel name is caller-chosen: log it only when syntactically
        // valid (bounded, no control characters), else a placeholder.
        let channel = channel.filter(|c| envelope::valid_channel_name(c)).unwrap_or("<malformed>");
        tracing::warn!(
            target: "tollgate::security",
            category = "security",
            event = code.as_str(),
            channel,
            window = sender.window.as_str(),
            origin = %sender::origin_for_log(sender.page_url),
            reason,
            "bridge refused a call"
        );
    }
}

fn run_guarded(call: PreparedCall, ctx: &HandlerContext, channel: &'static str) -> Result<Reply, BridgeError> {
    match catch_unwind(AssertUnwindSafe(|| call(ctx))) {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(channel, window = ctx.window.as_str(), request_id = %ctx.request_id, "handler panicked; answered INTERNAL_ERROR");
            Err(BridgeError::internal())
        }
    }
}

fn finish_log(channel: &'static str, window: WindowLabel, request_id: &str, started: Instant, result: &Result<Reply, BridgeError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => e.code.as_str(),
    };
    tracing::debug!(
        channel,
        window = window.as_str(),
        request_id,
        duration_us = started.elapsed().as_micros() as u64,
        outcome,
        "crossing"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_guard_forgets_oldest_first() {
        let mut guard = ReplayGuard::new();
        assert!(guard.first_use("a"));
        assert!(!guard.first_use("a"));
        for i in 0..REPLAY_MEMORY {
            assert!(guard.first_use(&format!("x{i}")));
        }
        assert!(guard.first_use("a"), "a fell out of memory");
        assert_eq!(guard.order.len(), REPLAY_MEMORY);
    }

}
