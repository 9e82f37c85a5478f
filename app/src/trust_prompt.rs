//! Asking the user, not the page, whether to trust a quarantined plugin
//! again.
//!
//! `plugins:trust` comes from page script, and the threat model includes
//! an XSS in the app's own page: if the page could clear a quarantine, a
//! hostile page and a hostile signer together would reopen the outcome
//! channel (one bit per call) by trusting the plugin after each failure.
//! So the channel only asks; the window adapter shows a native dialog the
//! page can't script, and only the user's answer there clears the entry.
//! With no window adapter (tests, the CLI), every request is declined.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::jwt::quarantine::QuarantineEntry;

/// How long a request waits for the user's answer before it counts as
/// declined: the handler thread it holds is one of the bridge's few.
pub const USER_ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

type Ask = Box<dyn Fn(QuarantineEntry, Sender<bool>) -> bool + Send + Sync>;

/// Where `plugins:trust` asks for the user's decision.
#[derive(Default)]
pub struct TrustPrompt {
    ask: Mutex<Option<Ask>>,
}

impl std::fmt::Debug for TrustPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let connected = self.ask.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        f.debug_struct("TrustPrompt").field("connected", &connected).finish()
    }
}

impl TrustPrompt {
    /// The window adapter: `ask` shows the user the entry and sends their
    /// answer on the sender; it returns whether the question was delivered.
    pub fn connect(&self, ask: impl Fn(QuarantineEntry, Sender<bool>) -> bool + Send + Sync + 'static) {
        *self.ask.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(ask));
    }

    /// The event loop ended: later requests are declined.
    pub fn disconnect(&self) {
        *self.ask.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Whether the user said to trust the plugin of `entry` again. Blocks
    /// for up to [`USER_ANSWER_TIMEOUT`]; no adapter, no delivery, a
    /// closed dialog or no answer in time all mean no.
    pub fn confirm(&self, entry: &QuarantineEntry) -> bool {
        let (tx, rx) = channel();
        let delivered = self.ask.lock().unwrap_or_else(PoisonError::into_inner).as_ref().is_some_and(|ask| ask(entry.clone(), tx));
        delivered && rx.recv_timeout(USER_ANSWER_TIMEOUT).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> QuarantineEntry {
        QuarantineEntry { sha256: "ab".into(), plugin: "p".into(), function: "sign".into(), reason: "r".into(), since: 0 }
    }

    #[test]
    fn only_an_answer_from_the_adapter_says_yes() {
        let prompt = TrustPrompt::default();
        assert!(!prompt.confirm(&entry()), "no adapter: declined");
        prompt.connect(|_, answer| answer.send(true).is_ok());
        assert!(prompt.confirm(&entry()));
        prompt.connect(|_, answer| answer.send(false).is_ok());
        assert!(!prompt.confirm(&entry()));
        // A dialog that goes away without answering.
        prompt.connect(|_, answer| {
            drop(answer);
            true
        });
        assert!(!prompt.confirm(&entry()));
        prompt.disconnect();
        assert!(!prompt.confirm(&entry()));
    }
}
