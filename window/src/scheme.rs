//! The app scheme (`tollgate://localhost/…`), served by the host itself on
//! WebKitGTK's `URISchemeRequest` instead of through wry.
//!
//! wry's handler (with its `linux-body` feature) read every request body
//! whole, 1 KiB at a time, on the GTK main thread, before the host saw the
//! method, the path, the secret or the size: a page POSTing 1.5 GiB to any
//! path froze both windows for 13.5 s and took the host to 4.9 GB, and the
//! asset path answered 405 only after reading it all (issue 17). Here:
//!
//! - an asset path is answered from its method and path alone; its body is
//!   never read, and anything but GET is refused (405) with a security
//!   event;
//! - the binary path (`/__bridge/<channel>`) is refused by method, then by
//!   the bridge's head check ([`Bridge::check_binary_head`]: request id,
//!   channel, origin, the window's secret, window, transport, and a
//!   declared `Content-Length` over the channel's cap) before a byte of the
//!   body is read;
//! - a body that may be read is read asynchronously, in
//!   [`BODY_CHUNK`]-byte reads on the main loop (which keeps running
//!   between them), and reading stops at the channel's cap + 1 byte;
//! - a response body is handed to WebKit without a copy (`glib::Bytes`
//!   over the answer's own buffer), and a streamed download
//!   ([`Reply::Stream`]) as a stream the host feeds from a thread of its
//!   own ([`crate::stream`]), with or without a length.
//!
//! Everything here runs on the GTK main thread; a deferred call runs on a
//! thread of its own and its answer comes back through the event loop
//! ([`SchemeAnswer`]), since WebKit's request object stays on this thread.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use gtk::gio;
use gtk::glib;
use webkit2gtk::{URISchemeRequest, URISchemeRequestExt, URISchemeResponse, URISchemeResponseExt};
use wry::http::Response;

use crate::bridge::core::{Answer, Dispatch, Sender};
use crate::bridge::registry::Reply;
use crate::bridge::{APP_ORIGIN, Bridge, BridgeError, ErrorCode, WindowLabel};
use crate::stream::{ChunkStream, MAX_STREAMS, Slot};

/// When a download refused for [`MAX_STREAMS`] may be tried again.
const STREAM_RETRY_AFTER_MS: u64 = 100;

/// Path prefix of the binary path on the app scheme.
pub(crate) const BINARY_PREFIX: &str = "/__bridge/";

/// Bytes asked of a request body per read.
pub(crate) const BODY_CHUNK: usize = 256 * 1024;

/// A deferred binary call's answer on its way back to the main thread.
pub(crate) type SchemeAnswer = (u64, Answer);

/// A response as the window adapter builds it.
pub(crate) type HttpResponse = Response<Cow<'static, [u8]>>;

/// What an answer becomes: the window adapter's HTTP response builders.
pub(crate) type ToResponse = fn(Answer) -> HttpResponse;

/// Answers an asset path.
pub(crate) type ServeAsset = Box<dyn Fn(&str) -> HttpResponse>;

/// The scheme's state, on the main thread.
pub(crate) struct Scheme {
    bridge: Arc<Bridge>,
    page_urls: Arc<Mutex<HashMap<WindowLabel, String>>>,
    /// Which webview is which window (WebKit's view, weakly).
    views: RefCell<Vec<(glib::WeakRef<webkit2gtk::WebView>, WindowLabel)>>,
    /// Requests whose deferred call runs on another thread.
    pending: RefCell<HashMap<u64, URISchemeRequest>>,
    next_id: Cell<u64>,
    /// Sends a deferred call's answer to the main thread.
    post: Arc<dyn Fn(SchemeAnswer) -> bool + Send + Sync>,
    /// Answers an asset path (method already checked).
    asset: ServeAsset,
    /// A refusal without a bridge answer (method, unknown webview).
    plain: fn(u16, &'static str) -> HttpResponse,
    /// A bridge answer on the binary path.
    answer: ToResponse,
}

/// One binary call between its head check and its dispatch.
struct BinaryCall {
    request: URISchemeRequest,
    window: WindowLabel,
    page_url: String,
    secret: zeroize::Zeroizing<String>,
    request_id: String,
    channel: String,
    cap: usize,
}

impl Scheme {
    pub(crate) fn new(
        bridge: Arc<Bridge>,
        page_urls: Arc<Mutex<HashMap<WindowLabel, String>>>,
        post: Arc<dyn Fn(SchemeAnswer) -> bool + Send + Sync>,
        asset: ServeAsset,
        plain: fn(u16, &'static str) -> HttpResponse,
        answer: ToResponse,
    ) -> Rc<Self> {
        Rc::new(Self {
            bridge,
            page_urls,
            views: RefCell::new(Vec::new()),
            pending: RefCell::new(HashMap::new()),
            next_id: Cell::new(0),
            post,
            asset,
            plain,
            answer,
        })
    }

    /// Registers the scheme on the WebKit context every webview shares
    /// (once; before the first page loads) as a secure scheme.
    pub(crate) fn register(self: &Rc<Self>, context: &webkit2gtk::WebContext, scheme: &str) -> Result<(), String> {
        use webkit2gtk::{SecurityManagerExt, WebContextExt};
        let manager = context.security_manager().ok_or("the web context has no security manager")?;
        manager.register_uri_scheme_as_secure(scheme);
        let this = Rc::clone(self);
        context.register_uri_scheme(scheme, move |request| this.handle(request));
        Ok(())
    }

    /// Tells the scheme which window a webview shows.
    pub(crate) fn add_view(&self, view: &webkit2gtk::WebView, window: WindowLabel) {
        use glib::object::ObjectExt;
        let mut views = self.views.borrow_mut();
        views.retain(|(v, _)| v.upgrade().is_some());
        views.push((view.downgrade(), window));
    }

    fn window_of(&self, request: &URISchemeRequest) -> Option<WindowLabel> {
        let view = request.web_view()?;
        self.views.borrow().iter().find(|(v, _)| v.upgrade().is_some_and(|v| v == view)).map(|(_, w)| *w)
    }

    fn page_url(&self, window: WindowLabel) -> String {
        self.page_urls.lock().ok().and_then(|u| u.get(&window).cloned()).unwrap_or_default()
    }

    fn handle(self: &Rc<Self>, request: &URISchemeRequest) {
        let path = request.path().map(|p| p.to_string()).unwrap_or_default();
        let method = request.http_method().map(|m| m.to_string()).unwrap_or_else(|| "GET".to_owned());
        let window = self.window_of(request);
        if let Some(channel) = path.strip_prefix(BINARY_PREFIX) {
            self.binary(request, window, &method, channel);
            return;
        }
        if method != "GET" {
            // Refused by its method; the body (if any) is never read.
            if let Some(window) = window {
                let page_url = self.page_url(window);
                self.bridge.refused_unread(
                    Sender { window, page_url: &page_url },
                    ErrorCode::ValidationError,
                    "a request other than GET to an asset path, refused unread",
                );
            }
            finish(request, (self.plain)(405, "method not allowed"));
            return;
        }
        finish(request, (self.asset)(&path));
    }

    fn binary(self: &Rc<Self>, request: &URISchemeRequest, window: Option<WindowLabel>, method: &str, channel: &str) {
        let Some(window) = window else {
            finish(request, (self.plain)(403, "unknown webview"));
            return;
        };
        let headers = request.http_headers();
        let header = |name: &str| headers.as_ref().and_then(|h| h.one(name)).map(|v| v.to_string()).unwrap_or_default();
        // The Origin header is set by WebKit, not by page script; it must be
        // the app's own, exactly, on top of the host's record of the page URL.
        let origin = header("origin");
        let page_url = if origin.is_empty() || origin == APP_ORIGIN { self.page_url(window) } else { String::new() };
        let sender = Sender { window, page_url: &page_url };
        if method != "POST" {
            self.bridge.refused_unread(sender, ErrorCode::ValidationError, "a request other than POST to the binary path, refused unread");
            finish(request, (self.plain)(405, "the binary path takes POST"));
            return;
        }
        let secret = zeroize::Zeroizing::new(header("x-tollgate-secret"));
        let request_id = header("x-tollgate-request-id");
        let declared = header("content-length").parse::<u64>().ok();
        match self.bridge.check_binary_head(sender, &secret, &request_id, channel, declared) {
            Err(answer) => self.respond(request, answer),
            Ok(cap) => {
                let call = BinaryCall {
                    request: request.clone(),
                    window,
                    page_url: page_url.clone(),
                    secret,
                    request_id,
                    channel: channel.to_owned(),
                    cap,
                };
                let capacity = declared.map_or(0, |d| d.min(cap as u64 + 1) as usize);
                match request.http_body() {
                    Some(stream) => read_body(Rc::clone(self), stream, Vec::with_capacity(capacity), call),
                    None => self.dispatch(call, Vec::new()),
                }
            }
        }
    }

    /// The body is in (or its cap was passed): the bridge's full check,
    /// then the answer now or from another thread.
    fn dispatch(&self, call: BinaryCall, body: Vec<u8>) {
        let sender = Sender { window: call.window, page_url: &call.page_url };
        match self.bridge.handle_binary(sender, &call.secret, &call.request_id, &call.channel, body) {
            Dispatch::Ready(answer) => self.respond(&call.request, answer),
            Dispatch::Deferred(deferred) => {
                let id = self.next_id.get();
                self.next_id.set(id.wrapping_add(1));
                self.pending.borrow_mut().insert(id, call.request);
                let post = Arc::clone(&self.post);
                // Bounded by the bridge's backlog for this (window, channel).
                let spawned = std::thread::Builder::new().name("bridge-binary".into()).spawn(move || {
                    post((id, deferred.run()));
                });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "could not start a thread for a binary call");
                    if let Some(request) = self.pending.borrow_mut().remove(&id) {
                        finish(&request, (self.plain)(500, "the host could not run the call"));
                    }
                }
            }
        }
    }

    /// A deferred call's answer, back on the main thread.
    pub(crate) fn answered(&self, (id, answer): SchemeAnswer) {
        if let Some(request) = self.pending.borrow_mut().remove(&id) {
            self.respond(&request, answer);
        }
    }

    /// Answers a binary call: bytes or an error through the window's
    /// response builders; a stream as a stream, when one of the
    /// [`MAX_STREAMS`] places is free.
    fn respond(&self, request: &URISchemeRequest, answer: Answer) {
        let Answer { request_id, result } = answer;
        let stream = match result {
            Ok(Reply::Stream(stream)) => stream,
            result => return finish(request, (self.answer)(Answer { request_id, result })),
        };
        let Some(slot) = Slot::take() else {
            let busy = BridgeError::new(ErrorCode::RateLimited, format!("{MAX_STREAMS} downloads are running; try again when one has ended"))
                .with_details(serde_json::json!({ "retryAfterMs": STREAM_RETRY_AFTER_MS }));
            return finish(request, (self.answer)(Answer { request_id, result: Err(busy) }));
        };
        // The headers a byte answer gets (type, security headers), over
        // the stream.
        let (parts, _) = (self.answer)(Answer { request_id, result: Ok(Reply::Bytes(Vec::new())) }).into_parts();
        let length = stream.length().and_then(|n| i64::try_from(n).ok()).unwrap_or(-1);
        match ChunkStream::start(stream, slot) {
            Ok(input) => finish_with(request, &parts, glib::object::Cast::upcast_ref(&input), length),
            Err(e) => {
                tracing::error!(error = %e, "could not start a thread for a streamed download");
                finish(request, (self.plain)(500, "the host could not run the call"));
            }
        }
    }
}

/// How much to ask of a body with `read` bytes in already: a chunk, but
/// never past one byte over the cap (and at least one byte, so the end of
/// the stream is seen).
fn next_read_len(read: usize, cap: usize) -> usize {
    BODY_CHUNK.min((cap + 1).saturating_sub(read)).max(1)
}

/// Reads the body in chunks, on the main loop, until its end or one byte
/// past the cap, then dispatches what was read.
fn read_body(scheme: Rc<Scheme>, stream: gio::InputStream, mut body: Vec<u8>, call: BinaryCall) {
    use gio::prelude::InputStreamExt;
    let want = next_read_len(body.len(), call.cap);
    let next = stream.clone();
    stream.read_bytes_async(want, glib::Priority::DEFAULT, gio::Cancellable::NONE, move |result| match result {
        Ok(bytes) if bytes.is_empty() => scheme.dispatch(call, body),
        Ok(bytes) => {
            body.extend_from_slice(&bytes);
            if body.len() > call.cap {
                // Over the cap: stop here. The bridge refuses it by its size.
                let _ = next.close(gio::Cancellable::NONE);
                scheme.dispatch(call, body);
            } else {
                read_body(scheme, next, body, call);
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, "a request body could not be read");
            finish(&call.request, (scheme.plain)(400, "the request body could not be read"));
        }
    });
}

/// Hands a response to WebKit: status, headers, and the body as
/// `glib::Bytes` over the response's own buffer (no copy).
fn finish(request: &URISchemeRequest, response: HttpResponse) {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Cow::Borrowed(b) => glib::Bytes::from_static(b),
        Cow::Owned(v) => glib::Bytes::from_owned(v),
    };
    let length = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let stream = gio::MemoryInputStream::from_bytes(&bytes);
    finish_with(request, &parts, glib::object::Cast::upcast_ref(&stream), length);
}

/// Hands WebKit a response with `parts`' status and headers over `stream`
/// (`length` bytes, or -1 when unknown).
fn finish_with(request: &URISchemeRequest, parts: &wry::http::response::Parts, stream: &gio::InputStream, length: i64) {
    let answer = URISchemeResponse::new(stream, length);
    answer.set_status(u32::from(parts.status.as_u16()), None);
    if let Some(content_type) = parts.headers.get(wry::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        answer.set_content_type(content_type);
    }
    let headers = soup::MessageHeaders::new(soup::MessageHeadersType::Response);
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value);
        }
    }
    answer.set_http_headers(headers);
    request.finish_with_response(&answer);
}
