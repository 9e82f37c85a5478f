//! The one seam between the window and whatever is not the app: the
//! audit's page driver and the bench's probe. (The window tests drive the
//! real window from outside, through WebKitWebDriver.)
//!
//! - An [`Observer`] (in [`WindowOptions::observer`](crate::WindowOptions::observer))
//!   is told what only the adapter knows: each page secret as it is issued,
//!   that the main page said it is ready, and (before the bridge sees it)
//!   each message the main page posts, which it may claim.
//! - A [`Driver`], handed to the observer once the event loop runs, asks
//!   the loop from any thread: evaluate a script, read a page's URL, count
//!   the windows shown, close a window as its close button does, quit.
//!
//! The app passes no observer; then none of this runs, and the adapter's
//! own paths have no test or bench code in them.
//!
//! Trust: nothing here is reachable from the page. An observer is code the
//! machine's user chose to run (`tollgate audit`, `just bench`).

use std::sync::mpsc;
use std::time::Duration;

use tao::event_loop::EventLoopProxy;
use wry::WebView;

use crate::bridge::WindowLabel;
use crate::window::{UserEvent, Webviews, title_of};

/// What the window tells an observer. Every method has an empty default.
/// Calls come on the event loop's thread: keep them short.
pub trait Observer: Send + Sync {
    /// The event loop runs and the main window is open: `driver` reaches
    /// it from any thread from now until the loop ends.
    fn started(&self, _driver: Driver) {}

    /// The host issued `window` a page secret (before it is injected and
    /// the host's copy is wiped).
    fn secret_issued(&self, _window: WindowLabel, _secret: &str) {}

    /// The main page reported it is ready (`body[data-ready]`), or 20 s
    /// went by first.
    fn page_ready(&self, _page: &PageHandle<'_>) {}

    /// A message the main page posted, before the bridge sees it; `true`
    /// claims it (the bridge then never does).
    fn message(&self, _body: &str, _page: &PageHandle<'_>) -> bool {
        false
    }
}

/// The main page, for the length of one observer call.
pub struct PageHandle<'a>(pub(crate) &'a WebView);

impl PageHandle<'_> {
    /// Evaluates `script` in the main frame without waiting for it.
    pub fn evaluate(&self, script: &str) {
        if let Err(e) = self.0.evaluate_script(script) {
            tracing::debug!(error = %e, "an observer's script was not evaluated");
        }
    }
}

/// A request from a [`Driver`], served on the event loop's thread.
pub(crate) struct DriverRequest(WindowLabel, Ask);

enum Ask {
    Eval { script: String, reply: mpsc::Sender<Result<String, String>> },
    Url { reply: mpsc::Sender<String> },
    Windows { reply: mpsc::Sender<usize> },
    Close { reply: mpsc::Sender<bool> },
    Inspector { open: bool, reply: mpsc::Sender<bool> },
}

/// Reaches one window's page through the event loop, from any thread.
#[derive(Clone)]
pub struct Driver {
    window: WindowLabel,
    proxy: EventLoopProxy<UserEvent>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("window", &self.window).finish_non_exhaustive()
    }
}

impl Driver {
    pub(crate) fn new(window: WindowLabel, proxy: EventLoopProxy<UserEvent>) -> Self {
        Self { window, proxy }
    }

    /// The same driver aimed at another window (which may not be open yet:
    /// its URL reads empty until it is).
    pub fn in_window(&self, window: WindowLabel) -> Self {
        Self { window, proxy: self.proxy.clone() }
    }

    /// The window this driver is aimed at.
    pub fn window(&self) -> WindowLabel {
        self.window
    }

    fn ask<T>(&self, make: impl FnOnce(mpsc::Sender<T>) -> Ask, timeout: Duration) -> Result<T, String> {
        let (reply, answer) = mpsc::channel();
        self.proxy
            .send_event(UserEvent::Drive(DriverRequest(self.window, make(reply))))
            .map_err(|_| "the window has closed".to_owned())?;
        answer.recv_timeout(timeout).map_err(|_| format!("the window did not answer within {timeout:?}"))
    }

    /// Evaluates `script` in the main frame; its value as WebKit serializes
    /// it (JSON text), or why there is none.
    pub fn eval(&self, script: &str, timeout: Duration) -> Result<String, String> {
        self.ask(|reply| Ask::Eval { script: script.to_owned(), reply }, timeout)?
    }

    /// The URL the main frame shows, as WebKit reports it (empty when the
    /// window is not open).
    pub fn url(&self, timeout: Duration) -> Result<String, String> {
        self.ask(|reply| Ask::Url { reply }, timeout)
    }

    /// How many toplevel windows the process shows.
    pub fn windows(&self, timeout: Duration) -> Result<usize, String> {
        self.ask(|reply| Ask::Windows { reply }, timeout)
    }

    /// Closes the window as its close button does (GTK's delete event, so
    /// the app sees what a user's click makes); whether it was shown.
    pub fn close_window(&self, timeout: Duration) -> Result<bool, String> {
        self.ask(|reply| Ask::Close { reply }, timeout)
    }

    /// Opens the web inspector on the window as a developer would (or
    /// closes it). Opening turns WebKit's developer extras on first, since
    /// release builds never do. Answers whether developer extras were on
    /// before this call (the app's own setting).
    pub fn inspector(&self, open: bool, timeout: Duration) -> Result<bool, String> {
        self.ask(|reply| Ask::Inspector { open, reply }, timeout)
    }

    /// Ends the event loop (and with it [`run`](crate::run)).
    pub fn quit(&self) {
        let _ = self.proxy.send_event(UserEvent::Quit);
    }
}

/// Answers a driver request on the event loop's thread.
pub(crate) fn serve(webviews: &Webviews, request: DriverRequest) {
    use gtk::prelude::{Cast, GtkWindowExt, WidgetExt};
    let views = webviews.borrow();
    let webview = views.get(&request.0);
    match request.1 {
        Ask::Eval { script, reply } => {
            let Some(webview) = webview else {
                let _ = reply.send(Err("the webview is gone".into()));
                return;
            };
            let answer = reply.clone();
            if let Err(e) = webview.evaluate_script_with_callback(&script, move |value| {
                let _ = answer.send(Ok(value));
            }) {
                let _ = reply.send(Err(e.to_string()));
            }
        }
        Ask::Url { reply } => {
            let _ = reply.send(webview.and_then(|w| w.url().ok()).unwrap_or_default());
        }
        Ask::Windows { reply } => {
            let shown = gtk::Window::list_toplevels()
                .into_iter()
                .filter_map(|w| w.downcast::<gtk::Window>().ok())
                .filter(|w| w.is_visible() && w.window_type() == gtk::WindowType::Toplevel)
                .count();
            let _ = reply.send(shown);
        }
        Ask::Inspector { open, reply } => {
            use webkit2gtk::{SettingsExt, WebInspectorExt, WebViewExt};
            use wry::WebViewExtUnix;
            let Some(webview) = webview else {
                let _ = reply.send(false);
                return;
            };
            let view = webview.webview();
            let settings = WebViewExt::settings(&view);
            let was_on = settings.as_ref().is_some_and(SettingsExt::enables_developer_extras);
            if let Some(inspector) = view.inspector() {
                if open {
                    if let Some(settings) = &settings {
                        settings.set_enable_developer_extras(true);
                    }
                    inspector.show();
                } else {
                    inspector.close();
                }
            }
            let _ = reply.send(was_on);
        }
        Ask::Close { reply } => {
            let title = title_of(request.0);
            let window = gtk::Window::list_toplevels()
                .into_iter()
                .filter_map(|w| w.downcast::<gtk::Window>().ok())
                .find(|w| w.is_visible() && w.title().is_some_and(|t| t == title));
            if let Some(window) = &window {
                window.close();
            }
            let _ = reply.send(window.is_some());
        }
    }
}
