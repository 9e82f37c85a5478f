//! Files the user picks in the host's own dialogs: a key file to import,
//! a key set to verify against, where to save the app's JWKS (issue 19).
//!
//! The page asks; the window adapter decides whether a dialog opens and
//! the user decides what it picks. The adapter opens one only if the
//! asking window saw a real click or key press (a GDK input event on its
//! webview, which page script can't synthesize) within
//! [`GESTURE_WINDOW`] of the request, and each such input opens at most
//! one dialog. One dialog is open at a time over all windows. The path the
//! user picks stays in the host: channels answer what they made of the
//! file, never where it was, and their errors don't name it.
//!
//! A key file dropped on the main window goes the same way: the adapter
//! keeps WebKit from handing it to the page, holds its path here for
//! [`DROP_VALID_FOR`], and announces `keys:file-dropped` (how many files,
//! nothing else); `keys:import-dropped` then reads it in the host, once.
//! The drop is the user's act, as a pick in a dialog is.
//!
//! With no window adapter (tests, the fuzzer, the CLI) every request is
//! refused as [`DialogRefusal::NoWindow`].

use std::path::PathBuf;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::bridge::{BridgeError, ErrorCode, WindowLabel};

/// How long after a click or key press the window it landed in may open a
/// dialog. Browsers give a user activation 5 s; the host's own crossing
/// takes milliseconds, so 2 s leaves room for a loaded machine.
pub const GESTURE_WINDOW: Duration = Duration::from_secs(2);

/// How long a request waits for the user to pick; a dialog left open
/// longer answers nothing and the request counts as cancelled (the handler
/// thread it holds is one of the heavy lane's few).
pub const USER_PICK_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a dropped file waits for `keys:import-dropped`.
pub const DROP_VALID_FOR: Duration = Duration::from_secs(60);

/// What a dialog is for: its title, its button, and which files it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKind {
    /// "Import key file": a private key (PEM, or a secret for HMAC).
    OpenKeyFile,
    /// "Choose a key set": a JWKS to verify a token against.
    OpenKeySet,
    /// "Save the key set": where the app's JWKS is written.
    SaveKeySet,
    /// "Import profiles": a profile bundle to read.
    OpenBundle,
    /// "Export profiles": where a profile bundle is written.
    SaveBundle,
}

impl DialogKind {
    /// The dialog's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::OpenKeyFile => "Import key file",
            Self::OpenKeySet => "Choose a key set (JWKS)",
            Self::SaveKeySet => "Save the key set (JWKS)",
            Self::OpenBundle => "Import profiles",
            Self::SaveBundle => "Export profiles",
        }
    }

    /// Whether the dialog picks a file to write (else one to read).
    pub fn saves(self) -> bool {
        matches!(self, Self::SaveKeySet | Self::SaveBundle)
    }
}

/// Why no dialog opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DialogRefusal {
    /// The window saw no click or key press of its own within
    /// [`GESTURE_WINDOW`] (or that input already opened a dialog).
    #[error("a file dialog opens only right after a click or key press in the window")]
    NoGesture,
    /// Another dialog is open.
    #[error("another file dialog is open")]
    Busy,
    /// No window adapter runs, or the window is gone.
    #[error("there is no window to open a file dialog over")]
    NoWindow,
}

impl From<DialogRefusal> for BridgeError {
    fn from(r: DialogRefusal) -> Self {
        let code = match r {
            DialogRefusal::NoGesture => ErrorCode::IpcForbidden,
            DialogRefusal::Busy => ErrorCode::RateLimited,
            // Not the host failing: there is nothing here to ask the user
            // in (the CLI, a test, the fuzzer), so the call can't be allowed.
            DialogRefusal::NoWindow => ErrorCode::IpcForbidden,
        };
        let e = BridgeError::new(code, r.to_string());
        if r == DialogRefusal::Busy { e.with_details(serde_json::json!({ "retryAfterMs": 1000 })) } else { e }
    }
}

/// The adapter's answer: the picked path, `None` when the user cancelled.
pub type Picked = Result<Option<PathBuf>, DialogRefusal>;

type Ask = Box<dyn Fn(WindowLabel, DialogKind, Sender<Picked>) -> bool + Send + Sync>;
type AskHost = Box<dyn Fn(WindowLabel, String, Sender<Result<bool, DialogRefusal>>) -> bool + Send + Sync>;

/// Where channels ask for a file dialog, and where a dropped file waits.
#[derive(Default)]
pub struct FileDialogs {
    ask: Mutex<Option<Ask>>,
    ask_host: Mutex<Option<AskHost>>,
    dropped: Mutex<Option<(WindowLabel, PathBuf, Instant)>>,
}

impl std::fmt::Debug for FileDialogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let connected = self.ask.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        f.debug_struct("FileDialogs").field("connected", &connected).finish()
    }
}

impl FileDialogs {
    /// The window adapter: `ask` opens `kind`'s dialog over the window (or
    /// refuses) and sends the outcome on the sender; it returns whether
    /// the request was delivered.
    pub fn connect(&self, ask: impl Fn(WindowLabel, DialogKind, Sender<Picked>) -> bool + Send + Sync + 'static) {
        *self.ask.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(ask));
    }

    /// The window adapter's other dialog: whether the user allows key
    /// sets to be fetched from a host (`jwt:verify-key-set-url`), under the
    /// same rule as the file dialogs (a real input just before, one dialog
    /// at a time).
    pub fn connect_host_prompt(&self, ask: impl Fn(WindowLabel, String, Sender<Result<bool, DialogRefusal>>) -> bool + Send + Sync + 'static) {
        *self.ask_host.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(ask));
    }

    /// The event loop ended: later requests are refused.
    pub fn disconnect(&self) {
        *self.ask.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.ask_host.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Whether the user allows key sets from `host`, asked in the host's
    /// own dialog over `window`; a closed dialog or no answer in
    /// [`USER_PICK_TIMEOUT`] is no.
    pub fn confirm_host(&self, window: WindowLabel, host: &str) -> Result<bool, DialogRefusal> {
        ask_adapter(&self.ask_host, |ask, tx| ask(window, host.to_owned(), tx), false)
    }

    /// The file the user picked in `kind`'s dialog over `window`; `None`
    /// when they cancelled, closed it, or took longer than
    /// [`USER_PICK_TIMEOUT`]. Blocks while the dialog is open.
    pub fn pick(&self, window: WindowLabel, kind: DialogKind) -> Picked {
        ask_adapter(&self.ask, |ask, tx| ask(window, kind, tx), None)
    }

    /// The window adapter: the user dropped one file on `window` (the last
    /// drop replaces an earlier one).
    pub fn dropped(&self, window: WindowLabel, path: PathBuf) {
        *self.dropped.lock().unwrap_or_else(PoisonError::into_inner) = Some((window, path, Instant::now()));
    }

    /// The file dropped on `window` within [`DROP_VALID_FOR`], taken: it
    /// is read at most once.
    pub fn take_dropped(&self, window: WindowLabel) -> Option<PathBuf> {
        let mut slot = self.dropped.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.take() {
            Some((w, path, at)) if w == window && at.elapsed() <= DROP_VALID_FOR => Some(path),
            Some(other) if other.0 != window => {
                *slot = Some(other);
                None
            }
            _ => None,
        }
    }
}

/// Hands a request to the adapter connected in `slot` and waits for its
/// answer: `NoWindow` when none is connected (or it did not take the
/// request), `otherwise` when the dialog went away unanswered or the user
/// took longer than [`USER_PICK_TIMEOUT`].
fn ask_adapter<A: ?Sized, T>(
    slot: &Mutex<Option<Box<A>>>,
    deliver: impl FnOnce(&A, Sender<Result<T, DialogRefusal>>) -> bool,
    otherwise: T,
) -> Result<T, DialogRefusal> {
    let (tx, rx) = channel();
    let delivered = slot.lock().unwrap_or_else(PoisonError::into_inner).as_deref().is_some_and(|ask| deliver(ask, tx));
    if !delivered {
        return Err(DialogRefusal::NoWindow);
    }
    rx.recv_timeout(USER_PICK_TIMEOUT).unwrap_or(Ok(otherwise))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_adapter_picks_and_its_refusals_reach_the_caller() {
        let dialogs = FileDialogs::default();
        assert_eq!(dialogs.pick(WindowLabel::Main, DialogKind::OpenKeyFile), Err(DialogRefusal::NoWindow));
        dialogs.connect(|_, kind, answer| answer.send(Ok(Some(PathBuf::from(kind.title())))).is_ok());
        assert_eq!(dialogs.pick(WindowLabel::Main, DialogKind::SaveKeySet), Ok(Some(PathBuf::from("Save the key set (JWKS)"))));
        dialogs.connect(|_, _, answer| answer.send(Err(DialogRefusal::NoGesture)).is_ok());
        assert_eq!(dialogs.pick(WindowLabel::Main, DialogKind::OpenKeyFile), Err(DialogRefusal::NoGesture));
        // A dialog that goes away without answering: cancelled.
        dialogs.connect(|_, _, answer| {
            drop(answer);
            true
        });
        assert_eq!(dialogs.pick(WindowLabel::Main, DialogKind::OpenKeySet), Ok(None));
        dialogs.disconnect();
        assert_eq!(dialogs.pick(WindowLabel::Main, DialogKind::OpenKeyFile), Err(DialogRefusal::NoWindow));
    }

    #[test]
    fn a_dropped_file_is_taken_once_by_its_own_window_while_fresh() {
        let dialogs = FileDialogs::default();
        assert_eq!(dialogs.take_dropped(WindowLabel::Main), None);
        dialogs.dropped(WindowLabel::Main, PathBuf::from("/k.pem"));
        assert_eq!(dialogs.take_dropped(WindowLabel::About), None, "another window's drop");
        assert_eq!(dialogs.take_dropped(WindowLabel::Main), Some(PathBuf::from("/k.pem")));
        assert_eq!(dialogs.take_dropped(WindowLabel::Main), None, "read once");
        let stale = Instant::now().checked_sub(DROP_VALID_FOR + Duration::from_secs(1)).expect("past");
        *dialogs.dropped.lock().unwrap_or_else(PoisonError::into_inner) = Some((WindowLabel::Main, PathBuf::from("/old.pem"), stale));
        assert_eq!(dialogs.take_dropped(WindowLabel::Main), None, "too old");
    }

    #[test]
    fn refusals_are_typed_errors_that_name_no_path() {
        let e = BridgeError::from(DialogRefusal::NoGesture);
        assert_eq!(e.code, ErrorCode::IpcForbidden);
        assert_eq!(BridgeError::from(DialogRefusal::NoWindow).code, ErrorCode::IpcForbidden, "no window is not the host failing");
        let e = BridgeError::from(DialogRefusal::Busy);
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.to_string().contains("another file dialog"), "{e}");
    }
}
