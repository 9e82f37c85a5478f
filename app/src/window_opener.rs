//! Windows the page may ask the host to open: a slot the window adapter
//! fills while the event loop runs, so a channel handler (which runs
//! without a window, in tests, the fuzzer and the CLI) can ask for one.
//!
//! Only the host decides what opens: the request names a closed
//! [`WindowLabel`], the adapter builds the window, its page (its own,
//! fixed URL) and its secret. Page script can't open windows any other way
//! (`window.open` and new-window requests are refused).

use std::sync::{Mutex, PoisonError};

use crate::bridge::WindowLabel;

type Open = Box<dyn Fn(WindowLabel) -> bool + Send + Sync>;

/// Where `app:open-about` sends its request.
#[derive(Default)]
pub struct WindowOpener {
    open: Mutex<Option<Open>>,
}

impl std::fmt::Debug for WindowOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowOpener").field("connected", &self.is_connected()).finish()
    }
}

impl WindowOpener {
    /// The window adapter: `open` asks its event loop for a window and
    /// says whether the request was delivered.
    pub fn connect(&self, open: impl Fn(WindowLabel) -> bool + Send + Sync + 'static) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(open));
    }

    /// The event loop ended: later requests open nothing.
    pub fn disconnect(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Whether a window adapter is listening.
    pub fn is_connected(&self) -> bool {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Asks for `window` (opened, or brought to the front if it is open);
    /// false when no window adapter runs.
    pub fn open(&self, window: WindowLabel) -> bool {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).as_ref().is_some_and(|open| open(window))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn requests_reach_the_adapter_only_while_it_is_connected() {
        let opener = WindowOpener::default();
        assert!(!opener.open(WindowLabel::About), "nothing listens yet");
        let asked = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&asked);
        opener.connect(move |window| {
            assert_eq!(window, WindowLabel::About);
            seen.fetch_add(1, Ordering::Relaxed);
            true
        });
        assert!(opener.open(WindowLabel::About));
        opener.disconnect();
        assert!(!opener.open(WindowLabel::About));
        assert_eq!(asked.load(Ordering::Relaxed), 1);
    }
}
