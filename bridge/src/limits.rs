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

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> ChannelRegistry {
        let mut registry = ChannelRegistry::new();
        crate::channels::register(&mut registry).expect("the bridge's own channels");
        registry
    }

    #[test]
    fn the_global_ceiling_refuses_once_spent_and_counts_it_apart() {
        let registry = registry();
        assert!(registry.len() >= 2, "two channels to spread calls over");
        let limits = Limits::new(&registry, Quota { per_second: 1, burst: 3 });
        assert_eq!(limits.check(WindowLabel::Main, 0), Ok(()));
        assert_eq!(limits.check(WindowLabel::Main, 1), Ok(()));
        assert_eq!(limits.check(WindowLabel::About, 0), Ok(()));
        assert_eq!(limits.check(WindowLabel::Main, 1), Err(Limited::Global), "three calls spent the ceiling, whatever their channel or window");
        assert_eq!(limits.global_refused(), 1);
        assert_eq!(limits.refused(WindowLabel::Main, 1), 0, "a refusal by the ceiling is not the channel's");
    }

    #[test]
    fn a_channel_over_its_own_quota_does_not_spend_the_ceiling() {
        let registry = registry();
        let (flooded, quota) =
            registry.channels().iter().enumerate().map(|(i, c)| (i, c.spec.quota)).min_by_key(|(_, q)| q.per_second).expect("a channel");
        let other = usize::from(flooded == 0);
        // As many calls as the ceiling holds, all on one channel: its own
        // quota refuses most of them, and those must leave the ceiling
        // alone, so another channel still gets through after.
        let calls = quota.burst * 4 + 100;
        let limits = Limits::new(&registry, Quota { per_second: 1, burst: calls });
        let refused = (0..calls).filter(|_| limits.check(WindowLabel::Main, flooded) == Err(Limited::Channel)).count() as u64;
        assert!(refused > 0, "the channel's own quota refused nothing");
        assert_eq!(limits.refused(WindowLabel::Main, flooded), refused);
        assert_eq!(limits.global_refused(), 0);
        assert_eq!(limits.check(WindowLabel::Main, other), Ok(()), "the refused calls spent the ceiling");
    }

    #[test]
    fn an_index_outside_the_registry_is_refused_not_wrapped() {
        let registry = registry();
        let limits = Limits::new(&registry, GLOBAL_QUOTA);
        let beyond = registry.len() * WindowLabel::ALL.len() + 7;
        assert_eq!(limits.check(WindowLabel::Main, beyond), Err(Limited::Channel));
        assert_eq!(limits.refused(WindowLabel::Main, beyond), 0);
    }
}
