//! Bounded work behind the quota: how many calls of one (window, channel)
//! may wait for a handler thread, and for how long in all.
//!
//! A quota counts calls, not work: `jwt:generate` on an RSA-4096 profile
//! takes ~38 ms, so 200 calls a second within quota is 7.6 s of work a
//! second for two threads, and the queue behind them grew without bound
//! (issue 17: a 12 s flood froze every blocking channel for 104 s). So a
//! call that would wait in a deferred lane is admitted only while its
//! (window, channel) has fewer than [`MAX_PENDING`] calls pending *and* the
//! work already pending, estimated from that channel's recent run times,
//! is under [`BACKLOG_BUDGET`]. Past either, the answer is `RATE_LIMITED`
//! at once with `details.retryAfterMs` (when the backlog will have
//! drained). That makes admission cost-aware: an HS256 generate (~1 ms)
//! may have [`MAX_PENDING`] calls waiting, an RSA-4096 one about six, and
//! the backlog a flood leaves behind drains within [`BACKLOG_BUDGET`] of
//! its end.
//!
//! State is keyed only on closed sets (the window enum, the registry's
//! channel index), like the limiters.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sender::WindowLabel;

/// Most calls of one (window, channel) pending at once (queued or running).
pub const MAX_PENDING: u32 = 8;

/// Most estimated work pending for one (window, channel): the time its
/// backlog takes to drain on one thread. One call is always admitted when
/// none is pending, however slow the channel has been.
pub const BACKLOG_BUDGET: Duration = Duration::from_millis(250);

/// Weight of the newest run time in a channel's running estimate.
const EWMA_WEIGHT: f64 = 0.25;

#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    pending: u32,
    /// Recent run time of one call, microseconds (0 until the first).
    estimate_us: f64,
}

/// The refusal: how many are pending, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlogged {
    /// Calls of this (window, channel) pending now.
    pub pending: u32,
    /// When the pending work should have drained, in milliseconds (at
    /// least 1).
    pub retry_after_ms: u64,
}

/// Pending work per (window, channel).
#[derive(Debug)]
pub struct Backlog {
    channels: usize,
    slots: Vec<Mutex<Slot>>,
}

impl Backlog {
    /// Empty backlogs for `channels` channels in every window.
    pub fn new(channels: usize) -> Self {
        Self { channels, slots: (0..WindowLabel::ALL.len() * channels).map(|_| Mutex::new(Slot::default())).collect() }
    }

    fn index(&self, window: WindowLabel, channel: usize) -> usize {
        window.index() * self.channels + channel
    }

    fn lock(&self, index: usize) -> Option<std::sync::MutexGuard<'_, Slot>> {
        // A panic while holding the lock leaves two numbers still whole.
        self.slots.get(index).map(|s| s.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Admits one more call of (window, channel), or says why not. The
    /// ticket returned must live until the call has run: dropping it ends
    /// the call's share of the backlog.
    pub fn admit(self: &Arc<Self>, window: WindowLabel, channel: usize) -> Result<Ticket, Backlogged> {
        let index = self.index(window, channel);
        let Some(mut s) = self.lock(index) else {
            return Err(Backlogged { pending: 0, retry_after_ms: 1 });
        };
        let pending_work_us = f64::from(s.pending) * s.estimate_us;
        let over_budget = s.pending > 0 && pending_work_us + s.estimate_us > BACKLOG_BUDGET.as_micros() as f64;
        if s.pending >= MAX_PENDING || over_budget {
            let retry_after_ms = (pending_work_us / 1000.0).ceil().max(1.0) as u64;
            return Err(Backlogged { pending: s.pending, retry_after_ms });
        }
        s.pending += 1;
        drop(s);
        Ok(Ticket { backlog: Arc::clone(self), index, ran: None })
    }

    /// Calls of (window, channel) pending now.
    pub fn pending(&self, window: WindowLabel, channel: usize) -> u32 {
        self.lock(self.index(window, channel)).map_or(0, |s| s.pending)
    }
}

/// One admitted call's place in its backlog.
#[derive(Debug)]
pub struct Ticket {
    backlog: Arc<Backlog>,
    index: usize,
    ran: Option<Duration>,
}

impl Ticket {
    /// Records how long the handler ran (it updates the channel's estimate
    /// when the ticket is dropped).
    pub fn ran_for(&mut self, elapsed: Duration) {
        self.ran = Some(elapsed);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(mut s) = self.backlog.lock(self.index) else { return };
        s.pending = s.pending.saturating_sub(1);
        if let Some(ran) = self.ran {
            let us = ran.as_secs_f64() * 1e6;
            s.estimate_us = if s.estimate_us == 0.0 { us } else { s.estimate_us + EWMA_WEIGHT * (us - s.estimate_us) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: WindowLabel = WindowLabel::Main;

    #[test]
    fn a_cheap_channel_may_have_max_pending_waiting_and_no_more() {
        let backlog = Arc::new(Backlog::new(2));
        let mut tickets = Vec::new();
        for _ in 0..MAX_PENDING {
            tickets.push(backlog.admit(W, 0).expect("admitted"));
        }
        let refused = backlog.admit(W, 0).expect_err("over the cap");
        assert_eq!(refused.pending, MAX_PENDING);
        assert!(backlog.admit(W, 1).is_ok(), "another channel has its own backlog");
        assert!(backlog.admit(WindowLabel::About, 0).is_ok(), "and another window");
        drop(tickets.pop());
        assert!(backlog.admit(W, 0).is_ok(), "a finished call frees its place");
    }

    #[test]
    fn an_expensive_channel_is_admitted_by_the_work_pending_not_the_count() {
        let backlog = Arc::new(Backlog::new(1));
        // Teach it that one call takes 40 ms.
        let mut t = backlog.admit(W, 0).expect("first");
        t.ran_for(Duration::from_millis(40));
        drop(t);
        let mut held = Vec::new();
        while let Ok(t) = backlog.admit(W, 0) {
            held.push(t);
        }
        // 250 ms of budget at 40 ms a call: six pending, the seventh refused.
        assert_eq!(held.len(), 6, "pending calls admitted");
        let refused = backlog.admit(W, 0).expect_err("over budget");
        assert_eq!(refused.retry_after_ms, 240, "six calls of 40 ms");
        drop(held);
        assert_eq!(backlog.pending(W, 0), 0, "every ticket gave its place back");
    }

    #[test]
    fn one_call_is_always_admitted_when_none_is_pending() {
        let backlog = Arc::new(Backlog::new(1));
        let mut t = backlog.admit(W, 0).expect("first");
        t.ran_for(Duration::from_secs(5));
        drop(t);
        let slow = backlog.admit(W, 0).expect("however slow the channel was");
        let refused = backlog.admit(W, 0).expect_err("but not two");
        assert_eq!(refused.retry_after_ms, 5000);
        drop(slow);
    }

    #[test]
    fn the_estimate_follows_the_channel_down_again() {
        let backlog = Arc::new(Backlog::new(1));
        for ms in [200, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] {
            let mut t = backlog.admit(W, 0).expect("admitted");
            t.ran_for(Duration::from_millis(ms));
        }
        let held: Vec<_> = (0..MAX_PENDING).map_while(|_| backlog.admit(W, 0).ok()).collect();
        assert_eq!(held.len(), MAX_PENDING as usize, "once fast again, the count cap is what binds");
    }
}
