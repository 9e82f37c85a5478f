//! Rate limits: one `governor` limiter per (window, channel), plus a global
//! ceiling. Keyed only on closed sets (the window enum and the registry's
//! dense channel index), so no caller-chosen string ever creates limiter
//! state.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::{DefaultDirectRateLimiter, Quota as GovernorQuota, RateLimiter};

use crate::registry::{ChannelRegistry, Quota};
use crate::sender::WindowLabel;

/// Ceiling on all crossings from all windows together. Bounds the host
/// work page script can cause however it spreads calls over channels; set
/// well above what the UI and the benchmarks use.
pub const GLOBAL_QUOTA: Quota = Quota { per_second: 50_000, burst: 5_000 };

/// Ceiling on security log lines per window. A page hammering the bridge
/// with refused calls is counted in full but can't flood the log.
pub const SECURITY_LOG_QUOTA: Quota = Quota { per_second: 50, burst: 100 };

/// Which limit refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// The (window, channel) quota.
    Channel,
    /// The global ceiling.
    Global,
}

/// All limiter state.
pub struct Limits {
    channels: usize,
    per_channel: Vec<DefaultDirectRateLimiter>,
    refused: Vec<AtomicU64>,
    global: DefaultDirectRateLimiter,
    global_refused: AtomicU64,
    security_log: Vec<DefaultDirectRateLimiter>,
}

fn limiter(q: Quota) -> DefaultDirectRateLimiter {
    let per_second = NonZeroU32::new(q.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(q.burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(GovernorQuota::per_second(per_second).allow_burst(burst))
}

impl Limits {
    /// Limiters for every (window, channel) of a registry, under a global
    /// ceiling (the app uses [`GLOBAL_QUOTA`]).
    pub fn new(registry: &ChannelRegistry, global: Quota) -> Self {
        let channels = registry.len();
        let mut per_channel = Vec::with_capacity(WindowLabel::ALL.len() * channels);
        for _ in WindowLabel::ALL {
            for channel in registry.channels() {
                per_channel.push(limiter(channel.spec.quota));
            }
        }
        Self {
            channels,
            refused: (0..per_channel.len()).map(|_| AtomicU64::new(0)).collect(),
            per_channel,
            global: limiter(global),
            global_refused: AtomicU64::new(0),
            security_log: WindowLabel::ALL.iter().map(|_| limiter(SECURITY_LOG_QUOTA)).collect(),
        }
    }

    fn slot(&self, window: WindowLabel, channel: usize) -> usize {
        window.index() * self.channels + channel
    }

    /// Takes one call from the (window, channel) quota, then from the
    /// global ceiling. A call refused by its own quota does not spend the
    /// global one, so one flooded channel can't starve the others.
    pub fn check(&self, window: WindowLabel, channel: usize) -> Result<(), Limited> {
        let slot = self.slot(window, channel);
        let Some(limiter) = self.per_channel.get(slot) else {
            return Err(Limited::Channel);
        };
        if limiter.check().is_err() {
            if let Some(count) = self.refused.get(slot) {
                count.fetch_add(1, Ordering::Relaxed);
            }
            return Err(Limited::Channel);
        }
        if self.global.check().is_err() {
            self.global_refused.fetch_add(1, Ordering::Relaxed);
            return Err(Limited::Global);
        }
        Ok(())
    }

    /// Calls refused on (window, channel) so far.
    pub fn refused(&self, window: WindowLabel, channel: usize) -> u64 {
        self.refused.get(self.slot(window, channel)).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Calls refused by the global ceiling so far.
    pub fn global_refused(&self) -> u64 {
        self.global_refused.load(Ordering::Relaxed)
    }

    /// Whether a security event from `window` may be logged now.
    pub fn may_log_security_event(&self, window: WindowLabel) -> bool {
        self.security_log.get(window.index()).is_some_and(|l| l.check().is_ok())
    }
}
