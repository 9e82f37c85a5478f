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
use std::sync::{Arc, Mutex};

use tao::dpi::{PhysicalPosition, PhysicalSize};
use tao::event::{Event, StartCause, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy, EventLoopWindowTarget};
use tao::window::{WindowBuilder, WindowId};
use wry::http::{HeaderValue, Response, StatusCode, header};
use wry::{NewWindowResponse, PageLoadEvent, WebContext, WebView, WebViewBuilder};

use crate::driver::{self, Driver, DriverRequest, Observer, PageHandle};
use crate::scheme::{Scheme, SchemeAnswer};
use crate::assets::{AssetSource, CONTENT_SECURITY_POLICY, SECURITY_HEADERS};
use tollgate_app::file_dialogs::{DialogKind, FileDialogs, Picked};
use tollgate_app::trust_prompt::TrustPrompt;
use tollgate_app::window_opener::WindowOpener;
use tollgate_app::jwt::quarantine::QuarantineEntry;
use crate::window_state::{self, DEFAULT_SIZE, MIN_SIZE, WindowBounds};
use crate::bridge::core::{Answer, Dispatch, Sender};
use crate::bridge::pool::HandlerPool;
use crate::bridge::registry::Reply;
use crate::bridge::envelope::MAX_MESSAGE_BYTES;
use crate::bridge::{APP_ORIGIN, APP_SCHEME, Bridge, ErrorCode, EventSink, WindowLabel};

/// The bridge client, with `__TOLLGATE_SECRET__` replaced per webview.
const CLIENT_JS: &str = include_str!("client.js");
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
    /// Where `app:open-about` asks for the about window
    /// ([`AppServices::window_opener`](tollgate_app::AppServices::window_opener));
    /// without it the app has its main window only.
    pub opener: Option<Arc<WindowOpener>>,
    /// Where `plugins:trust` asks the user
    /// ([`AppServices::trust_prompt`](tollgate_app::AppServices::trust_prompt)).
    pub trust_prompt: Option<Arc<TrustPrompt>>,
    /// Where the key channels ask for a file
    /// ([`AppServices::file_dialogs`](tollgate_app::AppServices::file_dialogs)).
    pub file_dialogs: Option<Arc<FileDialogs>>,
    /// What the audit, the bench or a test watches through the driver seam
    /// ([`crate::driver`]); the app passes none.
    pub observer: Option<Arc<dyn Observer>>,
}

impl std::fmt::Debug for dyn Observer {
    /// Names the observer only: it may see page secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
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
    /// The data directory can't hold WebKit's data (`<data>/webkit`).
    #[error("the data directory {0}")]
    DataDir(String),
    /// The app behind the window (services, bridge, the audit's driver)
    /// could not start.
    #[error("could not start the app: {0}")]
    App(String),
}

pub(crate) enum UserEvent {
    /// A deferred call finished: deliver its answer.
    Answer(WindowLabel, Answer),
    /// A deferred call of the binary path finished: answer its request.
    SchemeAnswer(SchemeAnswer),
    /// An event for a window.
    Event(WindowLabel, &'static str, String),
    /// The page reported it is ready (for the screenshot).
    PageReady,
    /// The screenshot was written (or failed), or the benchmark finished: quit.
    Quit,
    /// A request of a [`Driver`] (only with an observer).
    Drive(DriverRequest),
    /// Open a window, or bring it to the front (`app:open-about`).
    Open(WindowLabel),
    /// Ask the user whether to trust a quarantined plugin again
    /// (`plugins:trust`), in a dialog the page can't script.
    ConfirmTrust(QuarantineEntry, std::sync::mpsc::Sender<bool>),
    /// Open a file dialog over a window, if it saw a real click or key
    /// press just before (`keys:import-file` and the like).
    PickFile(WindowLabel, DialogKind, std::sync::mpsc::Sender<Picked>),
    /// Ask whether key sets may be fetched from a host, under the same
    /// rule (`jwt:verify-key-set-url`).
    ConfirmHost(WindowLabel, String, std::sync::mpsc::Sender<Result<bool, tollgate_app::file_dialogs::DialogRefusal>>),
}

/// Events from the bridge go through the event loop to the webview.
struct ProxySink(Mutex<EventLoopProxy<UserEvent>>);

impl EventSink for ProxySink {
    fn deliver(&self, window: WindowLabel, event: &'static str, payload_json: &str) -> bool {
        self.0.lock().is_ok_and(|proxy| proxy.send_event(UserEvent::Event(window, event, payload_json.to_owned())).is_ok())
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

/// Whether there is a display to open a window on.
pub fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
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
    page_urls: Arc<Mutex<HashMap<WindowLabel, String>>>,
    observer: Option<Arc<dyn Observer>>,
    web_context: WebContext,
    /// The app scheme's handler (scheme.rs), registered on the WebKit
    /// context with the first webview.
    scheme: Rc<Scheme>,
    scheme_registered: bool,
    /// The file dialogs and the input that allows them (dialogs.rs).
    dialogs: crate::dialogs::Dialogs,
    /// Where a file dropped on the main window is held for the host.
    file_dialogs: Option<Arc<FileDialogs>>,
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
        tracing::debug!(event = "startup", phase = "window built", window = label.as_str(), "window built");

        let secret = self.bridge.issue_secret(label).map_err(|e| WindowError::Random(e.to_string()))?;
        if let Some(observer) = &self.observer {
            observer.secret_issued(label, &secret);
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
        let ipc_observer = if label == WindowLabel::Main { self.observer.clone() } else { None };
        let load_bridge = Arc::clone(&self.bridge);
        let load_urls = Arc::clone(&self.page_urls);

        let builder = WebViewBuilder::new_with_web_context(&mut self.web_context)
            .with_id(label.as_str())
            .with_devtools(cfg!(debug_assertions))
            .with_initialization_script_for_main_only(client.as_str(), true)
            // No URL yet: the page loads once the host's own message
            // handler is in place (attach_ipc, below).
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
            })
            .with_drag_drop_handler(crate::dialogs::drop_handler(label, self.file_dialogs.clone(), Arc::clone(self.bridge.events())));
        let webview = build_webview(builder, &window)?;
        {
            // The scheme's handler belongs to the WebKit context all
            // webviews share (a second registration is an error): it is
            // registered with the first webview, before any page loads,
            // and tells webviews apart by their WebKit view.
            use webkit2gtk::WebViewExt;
            use wry::WebViewExtUnix;
            let view = webview.webview();
            if !self.scheme_registered {
                let context = view.context().ok_or_else(|| WindowError::Webview("the webview has no WebKit context".into()))?;
                self.scheme.register(&context, APP_SCHEME).map_err(WindowError::Webview)?;
                self.scheme_registered = true;
            }
            self.scheme.add_view(&view, label);
            self.dialogs.watch(&view, label);
            watch_inspector(&view, label, Arc::clone(&self.bridge));
        }
        let refusal_bridge = Arc::clone(&self.bridge);
        attach_ipc(
            &webview,
            move |page_url, message| {
                // The main frame's URL (asked of WebKit), not the sender
                // frame's; the secret is what only the main frame holds.
                if let Some(observer) = &ipc_observer
                    && let Some(webview) = ipc_webviews.borrow().get(&label)
                    && observer.message(message, &PageHandle(webview))
                {
                    return;
                }
                let sender = Sender { window: label, page_url };
                match ipc_bridge.handle_message(sender, message) {
                    Dispatch::Ready(answer) => deliver_answer(&ipc_webviews, label, answer),
                    Dispatch::Deferred(call) => ipc_pool.submit(call),
                }
            },
            move |page_url, code, reason| refusal_bridge.refused_unread(Sender { window: label, page_url }, code, reason),
        )?;
        webview.load_url(&page_of(label)).map_err(|e| WindowError::Webview(e.to_string()))?;
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

    /// `label`'s GTK window, for a dialog to sit over; `None` when it is
    /// not open.
    fn gtk_window(&self, label: WindowLabel) -> Option<gtk::Window> {
        use gtk::prelude::Cast;
        use tao::platform::unix::WindowExtUnix;
        self.windows.get(&label).map(|w| w.gtk_window().clone().upcast())
    }

    fn label_of(&self, id: WindowId) -> Option<WindowLabel> {
        self.windows.iter().find(|(_, w)| w.id() == id).map(|(label, _)| *label)
    }
}

/// Opens the main window over `bridge` and runs until it closes (or an
/// observer's driver quits). Call on the main thread, once per process.
pub fn run(bridge: Arc<Bridge>, options: WindowOptions) -> Result<(), WindowError> {
    run_when_ready(move || Ok((bridge, options)))
}

/// [`run`], with the bridge and the options still being made (on another
/// thread, say): GTK starts first, then `ready` is called for them. The
/// app's start overlaps its plugin engine and services with GTK's own
/// start this way. An error from `ready` ends the run before any window
/// opens.
pub fn run_when_ready(ready: impl FnOnce() -> Result<(Arc<Bridge>, WindowOptions), WindowError>) -> Result<(), WindowError> {
    if !has_display() {
        return Err(WindowError::NoDisplay);
    }
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    tracing::debug!(event = "startup", phase = "gtk", "GTK started");
    let (bridge, options) = ready()?;
    let proxy = event_loop.create_proxy();
    bridge.events().set_sink(Arc::new(ProxySink(Mutex::new(proxy.clone()))));

    // WebKit's sandbox binds this folder into the web process and aborts
    // the whole process (a GLib ERROR, no code) when it can't be made.
    let web_data = options.data_dir.join("webkit");
    std::fs::create_dir_all(&web_data)
        .map_err(|e| WindowError::DataDir(format!("{} can't hold the window's data: {e}", options.data_dir.display())))?;
    let mut web_context = WebContext::new(Some(web_data));
    if options.allow_automation {
        web_context.set_allows_automation(true);
    }
    let page_urls = Arc::new(Mutex::new(HashMap::new()));
    let mut shell = Shell {
        bridge: Arc::clone(&bridge),
        webviews: Rc::new(RefCell::new(HashMap::new())),
        windows: HashMap::new(),
        pool: Rc::new({
            // The handler lanes answer through the event loop; the proxy
            // is Send but not Sync, so the lanes share it behind a lock.
            let proxy = Mutex::new(proxy.clone());
            HandlerPool::start(Arc::new(move |window, answer| {
                proxy.lock().is_ok_and(|proxy| proxy.send_event(UserEvent::Answer(window, answer)).is_ok())
            }))
        }),
        page_urls: Arc::clone(&page_urls),
        observer: options.observer.clone(),
        web_context,
        scheme: {
            let post_proxy = Mutex::new(proxy.clone());
            let assets = options.assets.clone();
            Scheme::new(
                Arc::clone(&bridge),
                Arc::clone(&page_urls),
                Arc::new(move |answer| post_proxy.lock().is_ok_and(|p| p.send_event(UserEvent::SchemeAnswer(answer)).is_ok())),
                Box::new(move |path| serve_asset(&assets, path)),
                plain_code,
                binary_response,
            )
        },
        scheme_registered: false,
        dialogs: crate::dialogs::Dialogs::default(),
        file_dialogs: options.file_dialogs.clone(),
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
    if let Some(dialogs) = &options.file_dialogs {
        let pick_proxy = Mutex::new(proxy.clone());
        dialogs.connect(move |window, kind, answer| pick_proxy.lock().is_ok_and(|p| p.send_event(UserEvent::PickFile(window, kind, answer)).is_ok()));
        let proxy = Mutex::new(proxy.clone());
        dialogs.connect_host_prompt(move |window, host, answer| proxy.lock().is_ok_and(|p| p.send_event(UserEvent::ConfirmHost(window, host, answer)).is_ok()));
    }

    let mut screenshot = options.screenshot.clone();
    let screenshot_taken = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if screenshot.is_some() || options.observer.is_some() {
        poll_page_ready(&webviews, label, proxy.clone(), Arc::clone(&screenshot_taken));
    }

    if let Some(observer) = &options.observer {
        observer.started(Driver::new(label, proxy.clone()));
    }

    let data_dir = options.data_dir.clone();
    let mut bounds = shell.windows.get(&label).and_then(current_bounds);
    use tao::platform::run_return::EventLoopExtRunReturn;
    event_loop.run_return(|event, target, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::NewEvents(StartCause::Init) => tracing::info!("event loop running"),
            Event::UserEvent(UserEvent::Answer(window, answer)) => deliver_answer(&webviews, window, answer),
            Event::UserEvent(UserEvent::SchemeAnswer(answer)) => shell.scheme.answered(answer),
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
            Event::UserEvent(UserEvent::PickFile(window, kind, answer)) => {
                shell.dialogs.pick(window, shell.gtk_window(window).as_ref(), kind, answer);
            }
            Event::UserEvent(UserEvent::ConfirmHost(window, host, answer)) => {
                shell.dialogs.confirm_host(window, shell.gtk_window(window).as_ref(), &host, answer);
            }
            Event::UserEvent(UserEvent::PageReady) => {
                screenshot_taken.store(true, std::sync::atomic::Ordering::Relaxed);
                if let (Some(path), Some(webview)) = (screenshot.take(), webviews.borrow().get(&label)) {
                    use wry::WebViewExtUnix;
                    take_snapshot(&webview.webview(), path, proxy.clone());
                }
                if let (Some(observer), Some(webview)) = (options.observer.as_ref(), webviews.borrow().get(&label)) {
                    observer.page_ready(&PageHandle(webview));
                }
            }
            Event::UserEvent(UserEvent::Quit) => *control_flow = ControlFlow::Exit,
            Event::UserEvent(UserEvent::Drive(request)) => driver::serve(&webviews, request),
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
    if let Some(dialogs) = &options.file_dialogs {
        dialogs.disconnect();
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

/// The host's own handler for what page script posts to
/// `window.webkit.messageHandlers.ipc`, in place of wry's: wry converts
/// whatever arrives to a Rust `String` before anyone has looked at it (a
/// 512 MiB post took the host to 2.3 GB before the bridge refused it). Here
/// a message that is not a string, or whose length read from JavaScriptCore
/// (UTF-16 units, each at least one byte of UTF-8, so no undercount) is
/// over the bridge's message cap, is refused with a security event before
/// a byte of it is converted. WebKit's own copy of what was posted (the
/// web process serialises it, this process deserialises it) happens before
/// any handler runs; that is the floor (docs/security.md).
fn attach_ipc(
    webview: &WebView,
    on_message: impl Fn(&str, &str) + 'static,
    on_refused: impl Fn(&str, ErrorCode, &str) + 'static,
) -> Result<(), WindowError> {
    use gtk::glib::object::ObjectExt;
    use javascriptcore::ValueExt;
    use webkit2gtk::{UserContentManagerExt, WebViewExt};
    use wry::WebViewExtUnix;
    let view = webview.webview();
    let manager = view.user_content_manager().ok_or_else(|| WindowError::Webview("the webview has no content manager".into()))?;
    // Weak: the manager belongs to the view; a strong reference here would
    // keep both alive for ever.
    let weak_view = view.downgrade();
    let length_of = StringLength::default();
    manager.connect_script_message_received(Some("ipc"), move |_, result| {
        let Some(value) = result.js_value() else { return };
        let page_url = weak_view.upgrade().and_then(|v| v.uri()).map(|u| u.to_string()).unwrap_or_default();
        if !value.is_string() {
            on_refused(&page_url, ErrorCode::ValidationError, "a message that is not a string");
            return;
        }
        match length_of.units(&value) {
            Some(units) if units <= MAX_MESSAGE_BYTES => {}
            Some(units) => {
                let reason = format!("a message of {units} UTF-16 units, over the {MAX_MESSAGE_BYTES}-byte cap, refused unread");
                on_refused(&page_url, ErrorCode::PayloadTooLarge, &reason);
                return;
            }
            None => {
                on_refused(&page_url, ErrorCode::ValidationError, "a message whose length could not be read");
                return;
            }
        }
        on_message(&page_url, value.to_str().as_str());
    });
    // Connected first, then registered, as WebKit's documentation asks.
    if !manager.register_script_message_handler("ipc") {
        return Err(WindowError::Webview("the ipc message handler could not be registered".into()));
    }
    Ok(())
}

/// Reads a JavaScript string's length without copying it: a one-line
/// function evaluated once per JavaScript context (`s.length` of a string
/// primitive is intrinsic; page script can't redefine it), called on the
/// value.
#[derive(Default)]
struct StringLength {
    cached: RefCell<Option<(javascriptcore::Context, javascriptcore::Value)>>,
}

impl StringLength {
    fn units(&self, value: &javascriptcore::Value) -> Option<usize> {
        use javascriptcore::{ContextExt, ValueExt};
        let context = value.context()?;
        let mut cached = self.cached.borrow_mut();
        let function = match &*cached {
            Some((c, f)) if *c == context => f.clone(),
            _ => {
                let f = context.evaluate("(s) => s.length")?;
                *cached = Some((context, f.clone()));
                f
            }
        };
        drop(cached);
        let length = function.function_callv(std::slice::from_ref(value))?;
        if !length.is_number() {
            return None;
        }
        let n = length.to_double();
        (n.is_finite() && n >= 0.0).then_some(n as usize)
    }
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

fn serve_asset(assets: &AssetSource, path: &str) -> Response<Cow<'static, [u8]>> {
    tracing::debug!(path, "asset");
    match assets.get(path) {
        Some(asset) => {
            let mut response = Response::new(asset.body);
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
            with_security_headers(response)
        }
        None => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

/// [`plain`] by status number (the scheme's refusals).
fn plain_code(status: u16, text: &'static str) -> Response<Cow<'static, [u8]>> {
    plain(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), text)
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


/// Tells the bridge when the web inspector opens on `label`'s webview
/// (docked, in a window of its own, or brought back to the front) and
/// when it closes: while it is open only the read-only channels answer
/// that window (`READ_ONLY_WHILE_INSPECTED`), since WebKit can't tell
/// console code from page code. The flag is set on the UI thread when the
/// inspector asks for its window, before its console has loaded.
fn watch_inspector(view: &webkit2gtk::WebView, label: WindowLabel, bridge: Arc<Bridge>) {
    use webkit2gtk::{WebInspectorExt, WebViewExt};
    let Some(inspector) = view.inspector() else {
        tracing::warn!(window = label.as_str(), "the webview has no inspector to watch");
        return;
    };
    // Each handler returns false: WebKit goes on to open, attach or raise it.
    let opens = |bridge: Arc<Bridge>| {
        move |_: &webkit2gtk::WebInspector| {
            bridge.set_inspected(label, true);
            false
        }
    };
    inspector.connect_open_window(opens(Arc::clone(&bridge)));
    inspector.connect_attach(opens(Arc::clone(&bridge)));
    inspector.connect_bring_to_front(opens(Arc::clone(&bridge)));
    inspector.connect_closed(move |_| bridge.set_inspected(label, false));
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
