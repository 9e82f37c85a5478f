//! The window: tao + wry over the bridge. An adapter: it tells the bridge
//! which webview a message came from and what URL that webview's main frame
//! shows (asked of WebKit), delivers answers and events with
//! `evaluate_script`, serves the UI and the binary path through the app's
//! own scheme, refuses navigation off the app origin and new windows, and
//! reloads a page whose web process died.
//!
//! Two windows: the main one, whose closing ends the app, and the about
//! window, opened only by the host on `app:open-about`, on its own fixed
//! page, with its own secret and the few channels it may call.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tao::dpi::{PhysicalPosition, PhysicalSize};
use tao::event::{Event, StartCause, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy, EventLoopWindowTarget};
use tao::window::{WindowBuilder, WindowId};
use wry::http::{HeaderValue, Request, Response, StatusCode, header};
use wry::{NewWindowResponse, PageLoadEvent, WebContext, WebView, WebViewBuilder};

use crate::app::bench_probe::BenchProbe;
use crate::app::assets::{AssetSource, CONTENT_SECURITY_POLICY, SECURITY_HEADERS};
use crate::app::trust_prompt::TrustPrompt;
use crate::app::window_opener::WindowOpener;
use crate::jwt::quarantine::QuarantineEntry;
use crate::app::window_state::{self, DEFAULT_SIZE, MIN_SIZE, WindowBounds};
use crate::bridge::core::{Answer, DeferredCall, Dispatch, Sender};
use crate::bridge::registry::Reply;
use crate::bridge::{APP_ORIGIN, APP_SCHEME, Bridge, EventSink, WindowLabel};

/// The bridge client, with `__TOLLGATE_SECRET__` replaced per webview.
const CLIENT_JS: &str = include_str!("client.js");
/// Threads that run `Execution::Blocking` handlers. Two: the machine may
/// have two cores, and a slow plugin call must not hold the only one.
const HANDLER_THREADS: usize = 2;
/// Path prefix of the binary path on the app scheme.
const BINARY_PREFIX: &str = "/__bridge/";
/// The about window's page on the app's origin.
const ABOUT_PATH: &str = "/about.html";
/// The about window's size (fixed: it shows one short page).
const ABOUT_SIZE: (u32, u32) = (520, 600);

/// How to run the window.
#[derive(Debug, Clone)]
pub struct WindowOptions {
    /// Where window state (and WebKit's data) is kept.
    pub data_dir: PathBuf,
    /// UI files: embedded, or a directory (`--dev-assets`).
    pub assets: AssetSource,
    /// Save a PNG of the page once it is ready, then quit.
    pub screenshot: Option<PathBuf>,
    /// Let WebKitWebDriver drive the window (test builds only).
    pub allow_automation: bool,
    /// Benchmark instrumentation (only the bench sets it; see `bench_probe`).
    pub bench: Option<Arc<BenchProbe>>,
    /// Where `app:open-about` asks for the about window
    /// ([`AppServices::window_opener`](crate::app::AppServices::window_opener));
    /// without it the app has its main window only.
    pub opener: Option<Arc<WindowOpener>>,
    /// Where `plugins:trust` asks the user
    /// ([`AppServices::trust_prompt`](crate::app::AppServices::trust_prompt)).
    pub trust_prompt: Option<Arc<TrustPrompt>>,
    /// Sees each page secret as the host issues it, before it is injected
    /// and wiped. Only `tollgate audit` sets it: the secrets search must
    /// look for the real windows' secrets in everything the run produced.
    pub secret_witness: Option<SecretWitness>,
}

/// See [`WindowOptions::secret_witness`]: called with each window's label
/// and the page secret the host just issued it.
#[derive(Clone)]
pub struct SecretWitness(Arc<SeeSecret>);

/// What a [`SecretWitness`] calls: the window's label and its new secret.
type SeeSecret = dyn Fn(WindowLabel, &str) + Send + Sync;

impl SecretWitness {
    /// A witness calling `see` for each secret issued.
    pub fn new(see: impl Fn(WindowLabel, &str) + Send + Sync + 'static) -> Self {
        Self(Arc::new(see))
    }

    fn see(&self, window: WindowLabel, secret: &str) {
        (self.0)(window, secret);
    }
}

impl std::fmt::Debug for SecretWitness {
    /// Names the witness only: what it sees is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretWitness")
    }
}

/// Why the window could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// No display to open a window on.
    #[error("no display: set DISPLAY or WAYLAND_DISPLAY, or run under xvfb-run")]
    NoDisplay,
    /// tao could not make the window.
    #[error("could not create the window: {0}")]
    Window(String),
    /// wry could not make the webview.
    #[error("could not create the webview: {0}")]
    Webview(String),
    /// The OS random generator failed (the bridge secret).
    #[error("could not generate the bridge secret: {0}")]
    Random(String),
    /// The app behind the window (services, bridge, the audit's driver)
    /// could not start.
    #[error("could not start the app: {0}")]
    App(String),
}

pub(crate) enum UserEvent {
    /// A deferred call finished: deliver its answer.
    Answer(WindowLabel, Answer),
    /// An event for a window.
    Event(WindowLabel, &'static str, String),
    /// The page reported it is ready (for the screenshot).
    PageReady,
    /// The screenshot was written (or failed), or the benchmark finished: quit.
    Quit,
    /// A request of the audit's page driver (only in `tollgate audit`).
    Audit(crate::audit::window::DriverRequest),
    /// Open a window, or bring it to the front (`app:open-about`).
    Open(WindowLabel),
    /// Ask the user whether to trust a quarantined plugin again
    /// (`plugins:trust`), in a dialog the page can't script.
    ConfirmTrust(QuarantineEntry, std::sync::mpsc::Sender<bool>),
}

/// Events from the bridge go through the event loop to the webview.
struct ProxySink(Mutex<EventLoopProxy<UserEvent>>);

impl EventSink for ProxySink {
    fn deliver(&self, window: WindowLabel, event: &'static str, payload_json: &str) -> bool {
        self.0.lock().is_ok_and(|proxy| proxy.send_event(UserEvent::Event(window, event, payload_json.to_owned())).is_ok())
    }
}

/// The threads that run blocking handlers.
struct HandlerPool {
    jobs: mpsc::Sender<(WindowLabel, DeferredCall)>,
}

impl HandlerPool {
    fn start(proxy: EventLoopProxy<UserEvent>) -> Self {
        let (jobs, rx) = mpsc::channel::<(WindowLabel, DeferredCall)>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..HANDLER_THREADS {
            let rx = Arc::clone(&rx);
            let proxy = proxy.clone();
            let spawned = std::thread::Builder::new().name(format!("bridge-handler-{i}")).spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((window, call)) = job else { return };
                    let answer = call.run();
                    if proxy.send_event(UserEvent::Answer(window, answer)).is_err() {
                        return;
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a bridge handler thread");
            }
        }
        Self { jobs }
    }

    fn submit(&self, window: WindowLabel, call: DeferredCall) {
        if self.jobs.send((window, call)).is_err() {
            tracing::error!(window = window.as_str(), "bridge handler threads are gone; call dropped");
        }
    }
}

pub(crate) type Webviews = Rc<RefCell<HashMap<WindowLabel, WebView>>>;

fn deliver_answer(webviews: &Webviews, window: WindowLabel, answer: Answer) {
    // As a JSON string the client parses (see client.js `deliver`): never
    // as an object literal, where a `__proto__` key sets the prototype.
    let text = serde_json::to_string(&answer.into_response().to_json()).unwrap_or_default();
    if let Some(webview) = webviews.borrow().get(&window)
        && let Err(e) = webview.evaluate_script(&format!("window.__tollgate_deliver({text})"))
    {
        tracing::debug!(error = %e, window = window.as_str(), "answer not delivered");
    }
}

pub(crate) fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
}

/// Opens the main window and runs until it closes.
pub fn run(bridge: Arc<Bridge>, options: WindowOptions) -> Result<(), WindowError> {
    run_driven(bridge, options, None)
}

/// The page each window shows (and, for the about window, the only one it
/// may show).
fn page_of(label: WindowLabel) -> String {
    match label {
        WindowLabel::Main => format!("{APP_ORIGIN}/index.html"),
        WindowLabel::About => format!("{APP_ORIGIN}{ABOUT_PATH}"),
    }
}

/// A window's title (the audit finds a window by it).
pub(crate) fn title_of(label: WindowLabel) -> &'static str {
    match label {
        WindowLabel::Main => "Tollgate",
        WindowLabel::About => "About Tollgate",
    }
}

/// Whether `label`'s webview may go to `url`: the main window anywhere on
/// the app's origin, the about window only to its own page.
fn may_navigate(label: WindowLabel, url: &str) -> bool {
    match label {
        WindowLabel::Main => crate::bridge::sender::is_app_url(url),
        WindowLabel::About => url == page_of(WindowLabel::About),
    }
}

/// The open windows and what their webviews share: one WebKit context
/// (and with it the app scheme's handler, which tells webviews apart by
/// their id), the bridge, the handler threads.
struct Shell {
    bridge: Arc<Bridge>,
    webviews: Webviews,
    windows: HashMap<WindowLabel, tao::window::Window>,
    pool: Rc<HandlerPool>,
    proxy: EventLoopProxy<UserEvent>,
    page_urls: Arc<Mutex<HashMap<WindowLabel, String>>>,
    assets: AssetSource,
    bench: Option<Arc<BenchProbe>>,
    secret_witness: Option<SecretWitness>,
    web_context: WebContext,
    scheme_registered: bool,
}

impl Shell {
    /// Opens `label`'s window on its page, with a fresh secret of its own.
    fn open(
        &mut self,
        label: WindowLabel,
        target: &EventLoopWindowTarget<UserEvent>,
        saved: Option<WindowBounds>,
    ) -> Result<(), WindowError> {
        let mut builder = WindowBuilder::new();
        builder = match label {
            WindowLabel::Main => {
                let size = saved.map_or(DEFAULT_SIZE, |b| (b.width, b.height));
                let mut b = builder
                    .with_title(title_of(label))
                    .with_min_inner_size(PhysicalSize::new(MIN_SIZE.0, MIN_SIZE.1))
                    .with_inner_size(PhysicalSize::new(size.0, size.1));
                if let Some(b_) = saved {
                    b = b.with_position(PhysicalPosition::new(b_.x, b_.y));
                }
                b
            }
            WindowLabel::About => builder
                .with_title(title_of(label))
                .with_inner_size(PhysicalSize::new(ABOUT_SIZE.0, ABOUT_SIZE.1))
                .with_min_inner_size(PhysicalSize::new(ABOUT_SIZE.0, ABOUT_SIZE.1))
                .with_resizable(false),
        };
        let window = builder.build(target).map_err(|e| WindowError::Window(e.to_string()))?;

        let secret = self.bridge.issue_secret(label).map_err(|e| WindowError::Random(e.to_string()))?;
        if let Some(witness) = &self.secret_witness {
            witness.see(label, &secret);
        }
        let client = zeroize::Zeroizing::new(
            CLIENT_JS
                .replace("__TOLLGATE_MAX_MESSAGE_BYTES__", &crate::bridge::envelope::MAX_MESSAGE_BYTES.to_string())
                .replace("__TOLLGATE_SECRET__", &secret),
        );
        drop(secret);

        let ipc_bridge = Arc::clone(&self.bridge);
        let ipc_webviews = Rc::clone(&self.webviews);
        let ipc_pool = Rc::clone(&self.pool);
        let ipc_probe = if label == WindowLabel::Main { self.bench.clone() } else { None };
        let ipc_proxy = self.proxy.clone();
        let protocol_bridge = Arc::clone(&self.bridge);
        let protocol_urls = Arc::clone(&self.page_urls);
        let protocol_proxy = Mutex::new(self.proxy.clone());
        let assets = self.assets.clone();
        let load_bridge = Arc::clone(&self.bridge);
        let load_urls = Arc::clone(&self.page_urls);
        let register_scheme = !self.scheme_registered;

        let mut builder = WebViewBuilder::new_with_web_context(&mut self.web_context)
            .with_id(label.as_str())
            .with_devtools(cfg!(debug_assertions))
            .with_initialization_script_for_main_only(client.as_str(), true)
            .with_url(page_of(label))
            .with_ipc_handler(move |request: Request<String>| {
                // wry gives the main frame's URL (asked of WebKit), not the
                // sender frame's; the secret is what only the main frame holds.
                if let Some(probe) = &ipc_probe
                    && probe.intercept(request.body(), &ipc_webviews, label, &ipc_proxy)
                {
                    return;
                }
                let page_url = request.uri().to_string();
                let sender = Sender { window: label, page_url: &page_url };
                match ipc_bridge.handle_message(sender, request.body()) {
                    Dispatch::Ready(answer) => deliver_answer(&ipc_webviews, label, answer),
                    Dispatch::Deferred(call) => ipc_pool.submit(label, call),
                }
            })
            .with_navigation_handler(move |url| {
                let allowed = may_navigate(label, &url);
                if !allowed {
                    let reason = match label {
                        WindowLabel::Main => "navigation off the app origin",
                        WindowLabel::About => "the about window shows only its own page",
                    };
                    refused(label, "NAVIGATION_REFUSED", &url, reason);
                }
                allowed
            })
            .with_new_window_req_handler(move |url, _features| {
                refused(label, "NEW_WINDOW_REFUSED", &url, "pages may not open windows");
                NewWindowResponse::Deny
            })
            .with_on_page_load_handler(move |event, url| {
                if let Ok(mut urls) = load_urls.lock() {
                    urls.insert(label, url.clone());
                }
                if matches!(event, PageLoadEvent::Started) {
                    load_bridge.page_loaded(label);
                }
                let event = if matches!(event, PageLoadEvent::Started) { "started" } else { "finished" };
                tracing::debug!(window = label.as_str(), event, "page load");
            })
            .with_download_started_handler(move |url, _| {
                refused(label, "DOWNLOAD_REFUSED", &url, "the app does not download");
                false
            });
        // The scheme's handler belongs to the WebKit context all webviews
        // share (a second registration is an error): the first webview
        // registers it, and it tells webviews apart by their id.
        if register_scheme {
            builder = builder.with_asynchronous_custom_protocol(APP_SCHEME.to_owned(), move |webview_id, request, responder| {
                let path = request.uri().path().to_owned();
                if let Some(channel) = path.strip_prefix(BINARY_PREFIX) {
                    let Some(window) = WindowLabel::from_label(webview_id) else {
                        responder.respond(plain(StatusCode::FORBIDDEN, "unknown webview"));
                        return;
                    };
                    let page_url = protocol_urls.lock().ok().and_then(|u| u.get(&window).cloned()).unwrap_or_default();
                    respond_binary(&protocol_bridge, window, &page_url, channel, request, responder, &protocol_proxy);
                    return;
                }
                responder.respond(serve_asset(&assets, &request));
            });
        }

        let webview = build_webview(builder, &window)?;
        self.scheme_registered = true;
        drop(client);
        watch_web_process(&webview, label);
        self.webviews.borrow_mut().insert(label, webview);
        self.windows.insert(label, window);
        tracing::info!(window = label.as_str(), "window open");
        Ok(())
    }

    /// Brings `label`'s window to the front, opening it if it is not open.
    fn show(&mut self, label: WindowLabel, target: &EventLoopWindowTarget<UserEvent>) {
        if let Some(window) = self.windows.get(&label) {
            window.set_focus();
            return;
        }
        if let Err(e) = self.open(label, target, None) {
            tracing::warn!(window = label.as_str(), error = %e, "could not open a window");
        }
    }

    /// Closes `label`'s window: its webview goes, its secret stops working.
    fn close(&mut self, label: WindowLabel) {
        self.bridge.window_closed(label);
        self.webviews.borrow_mut().remove(&label);
        self.windows.remove(&label);
        if let Ok(mut urls) = self.page_urls.lock() {
            urls.remove(&label);
        }
        tracing::info!(window = label.as_str(), "window closed");
    }

    fn label_of(&self, id: WindowId) -> Option<WindowLabel> {
        self.windows.iter().find(|(_, w)| w.id() == id).map(|(label, _)| *label)
    }
}

/// [`run`], handing the event loop's proxy to `driver` once the webview
/// exists (the audit drives the page from another thread through it).
pub(crate) fn run_driven(
    bridge: Arc<Bridge>,
    options: WindowOptions,
    driver: Option<mpsc::Sender<EventLoopProxy<UserEvent>>>,
) -> Result<(), WindowError> {
    if !has_display() {
        return Err(WindowError::NoDisplay);
    }
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = event_loop.create_proxy();
    bridge.events().set_sink(Arc::new(ProxySink(Mutex::new(proxy.clone()))));

    let mut web_context = WebContext::new(Some(options.data_dir.join("webkit")));
    if options.allow_automation {
        web_context.set_allows_automation(true);
    }
    let mut shell = Shell {
        bridge: Arc::clone(&bridge),
        webviews: Rc::new(RefCell::new(HashMap::new())),
        windows: HashMap::new(),
        pool: Rc::new(HandlerPool::start(proxy.clone())),
        proxy: proxy.clone(),
        page_urls: Arc::new(Mutex::new(HashMap::new())),
        assets: options.assets.clone(),
        bench: options.bench.clone(),
        secret_witness: options.secret_witness.clone(),
        web_context,
        scheme_registered: false,
    };
    let label = WindowLabel::Main;
    shell.open(label, &event_loop, window_state::load(&options.data_dir))?;
    let webviews = Rc::clone(&shell.webviews);

    if let Some(opener) = &options.opener {
        let proxy = Mutex::new(proxy.clone());
        opener.connect(move |window| proxy.lock().is_ok_and(|p| p.send_event(UserEvent::Open(window)).is_ok()));
    }
    if let Some(prompt) = &options.trust_prompt {
        let proxy = Mutex::new(proxy.clone());
        prompt.connect(move |entry, answer| proxy.lock().is_ok_and(|p| p.send_event(UserEvent::ConfirmTrust(entry, answer)).is_ok()));
    }

    let mut screenshot = options.screenshot.clone();
    let screenshot_taken = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if screenshot.is_some() || options.bench.is_some() {
        poll_page_ready(&webviews, label, proxy.clone(), Arc::clone(&screenshot_taken));
    }

    if let Some(driver) = driver {
        let _ = driver.send(proxy.clone());
    }

    let data_dir = options.data_dir.clone();
    let mut bounds = shell.windows.get(&label).and_then(current_bounds);
    use tao::platform::run_return::EventLoopExtRunReturn;
    event_loop.run_return(|event, target, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::NewEvents(StartCause::Init) => tracing::info!("event loop running"),
            Event::UserEvent(UserEvent::Answer(window, answer)) => deliver_answer(&webviews, window, answer),
            Event::UserEvent(UserEvent::Event(window, name, payload)) => {
                if let Some(webview) = webviews.borrow().get(&window) {
                    let name_json = serde_json::to_string(name).unwrap_or_default();
                    let payload_text = serde_json::to_string(&payload).unwrap_or_default();
                    let _ = webview.evaluate_script(&format!("window.__tollgate_emit({name_json}, {payload_text})"));
                }
            }
            Event::UserEvent(UserEvent::Open(window)) => shell.show(window, target),
            Event::UserEvent(UserEvent::ConfirmTrust(entry, answer)) => {
                ask_to_trust(shell.windows.get(&WindowLabel::Main), &entry, answer);
            }
            Event::UserEvent(UserEvent::PageReady) => {
                screenshot_taken.store(true, std::sync::atomic::Ordering::Relaxed);
                if let (Some(path), Some(webview)) = (screenshot.take(), webviews.borrow().get(&label)) {
                    use wry::WebViewExtUnix;
                    take_snapshot(&webview.webview(), path, proxy.clone());
                }
                if let (Some(probe), Some(webview)) = (options.bench.as_ref(), webviews.borrow().get(&label)) {
                    probe.start(webview);
                }
            }
            Event::UserEvent(UserEvent::Quit) => *control_flow = ControlFlow::Exit,
            Event::UserEvent(UserEvent::Audit(request)) => crate::audit::window::serve(&webviews, request),
            Event::WindowEvent { window_id, event, .. } => match (shell.label_of(window_id), event) {
                (Some(WindowLabel::Main), WindowEvent::Resized(_) | WindowEvent::Moved(_)) => {
                    bounds = shell.windows.get(&label).and_then(current_bounds);
                }
                (Some(WindowLabel::Main), WindowEvent::CloseRequested) => {
                    if let Some(b) = bounds
                        && let Err(e) = window_state::save(&data_dir, &b)
                    {
                        tracing::warn!(error = %e, "could not save the window's bounds");
                    }
                    // The app ends with its main window: every window goes.
                    for window in WindowLabel::ALL {
                        shell.close(*window);
                    }
                    *control_flow = ControlFlow::Exit;
                }
                (Some(other), WindowEvent::CloseRequested) => shell.close(other),
                _ => {}
            },
            _ => {}
        }
    });
    if let Some(prompt) = &options.trust_prompt {
        prompt.disconnect();
    }
    if let Some(opener) = &options.opener {
        opener.disconnect();
    }
    webviews.borrow_mut().clear();
    shell.windows.clear();
    Ok(())
}

/// A security event for something the page tried and the window refused.
fn refused(window: WindowLabel, event: &'static str, url: &str, reason: &'static str) {
    tracing::warn!(
        target: "tollgate::security",
        category = "security",
        event,
        window = window.as_str(),
        origin = %crate::bridge::sender::origin_for_log(url),
        reason,
        "the window refused what the page asked"
    );
}

/// The host's own dialog over the main window: what the plugin did and
/// since when, and two buttons. Only a click here trusts it again; the
/// dialog is GTK's, outside the webview, so page script can't press it.
fn ask_to_trust(main: Option<&tao::window::Window>, entry: &QuarantineEntry, answer: std::sync::mpsc::Sender<bool>) {
    use gtk::prelude::*;
    use tao::platform::unix::WindowExtUnix;
    let parent = main.map(|w| w.gtk_window().clone());
    let since = time::OffsetDateTime::from_unix_timestamp(entry.since)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| entry.since.to_string());
    let dialog = gtk::MessageDialog::new(
        parent.as_ref(),
        gtk::DialogFlags::MODAL | gtk::DialogFlags::DESTROY_WITH_PARENT,
        gtk::MessageType::Warning,
        gtk::ButtonsType::None,
        &format!("Trust the plugin \u{201c}{}\u{201d} with keys again?", entry.plugin),
    );
    dialog.set_secondary_text(Some(&format!(
        "It was quarantined on {since} because {}.\n\nA signer that fails a call it had every reason to complete may be signalling your key, one bit per failure. Trust it again only if you know why it failed.\n\nsha256 {}",
        entry.reason, entry.sha256
    )));
    dialog.add_button("Keep quarantined", gtk::ResponseType::Cancel);
    dialog.add_button("Trust again", gtk::ResponseType::Accept);
    dialog.set_default_response(gtk::ResponseType::Cancel);
    dialog.connect_response(move |dialog, response| {
        let _ = answer.send(response == gtk::ResponseType::Accept);
        dialog.close();
    });
    dialog.show_all();
}

fn build_webview(builder: WebViewBuilder<'_>, window: &tao::window::Window) -> Result<WebView, WindowError> {
    use tao::platform::unix::WindowExtUnix;
    use wry::WebViewBuilderExtUnix;
    let vbox = window.default_vbox().ok_or_else(|| WindowError::Webview("the window has no GTK container".into()))?;
    builder.build_gtk(vbox).map_err(|e| WindowError::Webview(e.to_string()))
}

fn current_bounds(window: &tao::window::Window) -> Option<WindowBounds> {
    let size = window.inner_size();
    let pos = window.outer_position().ok()?;
    Some(WindowBounds { x: pos.x, y: pos.y, width: size.width, height: size.height })
}

/// A dead web process (crash, OOM kill) reloads the page; the host, its
/// data and the bridge are untouched.
fn watch_web_process(webview: &WebView, label: WindowLabel) {
    use webkit2gtk::WebViewExt;
    use wry::WebViewExtUnix;
    webview.webview().connect_web_process_terminated(move |view, reason| {
        tracing::warn!(window = label.as_str(), ?reason, "the page's web process died; reloading the page");
        view.reload();
    });
}

fn with_security_headers(mut response: Response<Cow<'static, [u8]>>) -> Response<Cow<'static, [u8]>> {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    for (name, value) in SECURITY_HEADERS {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Cow<'static, [u8]>> {
    let mut response = Response::new(Cow::Borrowed(text.as_bytes()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    with_security_headers(response)
}

fn serve_asset(assets: &AssetSource, request: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
    tracing::debug!(path = request.uri().path(), "asset");
    if request.method() != wry::http::Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    match assets.get(request.uri().path()) {
        Some(asset) => {
            let mut response = Response::new(asset.body);
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
            with_security_headers(response)
        }
        None => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

fn json_response(answer: Answer) -> Response<Cow<'static, [u8]>> {
    let response = answer.into_response();
    let status = if response.success { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let mut http = Response::new(Cow::Owned(response.to_json().into_bytes()));
    *http.status_mut() = status;
    http.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    with_security_headers(http)
}

fn binary_response(answer: Answer) -> Response<Cow<'static, [u8]>> {
    match answer.result {
        Ok(Reply::Bytes(bytes)) => {
            let mut http = Response::new(Cow::Owned(bytes));
            http.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            with_security_headers(http)
        }
        result => json_response(Answer { request_id: answer.request_id, result }),
    }
}

fn respond_binary(
    bridge: &Bridge,
    window: WindowLabel,
    page_url: &str,
    channel: &str,
    request: Request<Vec<u8>>,
    responder: wry::RequestAsyncResponder,
    _proxy: &Mutex<EventLoopProxy<UserEvent>>,
) {
    // The Origin header is set by WebKit, not by page script; it must be
    // the app's own, exactly, on top of the host's record of the page URL.
    let origin_ok = request.headers().get(header::ORIGIN).is_none_or(|o| o.as_bytes() == APP_ORIGIN.as_bytes());
    let page_url = if origin_ok { page_url } else { "" };
    let header_str = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let secret = zeroize::Zeroizing::new(header_str("x-tollgate-secret"));
    let request_id = header_str("x-tollgate-request-id");
    if request.method() != wry::http::Method::POST {
        responder.respond(plain(StatusCode::METHOD_NOT_ALLOWED, "the binary path takes POST"));
        return;
    }
    let sender = Sender { window, page_url };
    match bridge.handle_binary(sender, &secret, &request_id, channel, request.into_body()) {
        Dispatch::Ready(answer) => responder.respond(binary_response(answer)),
        Dispatch::Deferred(call) => {
            // Off the UI thread; the responder hands the answer back to GTK.
            let spawned = std::thread::Builder::new().name("bridge-binary".into()).spawn(move || {
                responder.respond(binary_response(call.run()));
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a thread for a binary call");
            }
        }
    }
}

/// Asks the page every 200 ms whether it is ready (`body[data-ready]`);
/// reports `PageReady` when it is, or after 20 s regardless.
fn poll_page_ready(webviews: &Webviews, label: WindowLabel, proxy: EventLoopProxy<UserEvent>, done: Arc<std::sync::atomic::AtomicBool>) {
    use gtk::glib;
    let webviews = Rc::clone(webviews);
    let started = std::time::Instant::now();
    glib::timeout_add_local(std::time::Duration::from_millis(200), move || {
        if done.load(std::sync::atomic::Ordering::Relaxed) {
            return glib::ControlFlow::Break;
        }
        let timed_out = started.elapsed() > std::time::Duration::from_secs(20);
        let views = webviews.borrow();
        let Some(webview) = views.get(&label) else {
            return glib::ControlFlow::Break;
        };
        let proxy = proxy.clone();
        let script = "document.body && document.body.dataset.ready === 'true'";
        let _ = webview.evaluate_script_with_callback(script, move |result| {
            if result.trim() == "true" || timed_out {
                let _ = proxy.send_event(UserEvent::PageReady);
            }
        });
        glib::ControlFlow::Continue
    });
}

fn take_snapshot(view: &webkit2gtk::WebView, path: PathBuf, proxy: EventLoopProxy<UserEvent>) {
    use webkit2gtk::{SnapshotOptions, SnapshotRegion, WebViewExt};
    view.snapshot(SnapshotRegion::Visible, SnapshotOptions::NONE, None::<&gtk::gio::Cancellable>, move |result| {
        let written = result
            .map_err(|e| e.to_string())
            .and_then(|surface| cairo::ImageSurface::try_from(surface).map_err(|_| "not an image surface".to_owned()))
            .and_then(|image| {
                let mut file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
                image.write_to_png(&mut file).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => eprintln!("screenshot saved to {}", path.display()),
            Err(e) => eprintln!("error: SCREENSHOT_FAILED: {e}"),
        }
        let _ = proxy.send_event(UserEvent::Quit);
    });
}
