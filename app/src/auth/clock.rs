//! Time as the sign-in flow sees it. The device flow waits seconds to
//! minutes (poll intervals, retry back-off, a 15-minute code lifetime,
//! tokens that expire in an hour); behind this seam the tests run all of it
//! on a [`ManualClock`] without waiting.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

/// Now, and waiting.
pub trait Clock: Send + Sync {
    /// The current time, UTC.
    fn now(&self) -> OffsetDateTime;
    /// Waits `duration` (a manual clock moves itself forward instead).
    fn sleep(&self, duration: Duration);
}

/// The system clock: `now` is wall time, `sleep` blocks the thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        crate::store::timestamp::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that moves only when told to, or when someone sleeps on it
/// (the sleep returns at once and the clock jumps forward by its length).
/// Every sleep is recorded, so a test can check a schedule (poll intervals,
/// retry back-off) without spending it.
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<ManualState>,
}

#[derive(Debug)]
struct ManualState {
    now: OffsetDateTime,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self { state: Mutex::new(ManualState { now: start, sleeps: Vec::new() }) }
    }

    /// A clock showing the real time now.
    pub fn starting_now() -> Self {
        Self::new(crate::store::timestamp::now())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.now += by;
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).sleeps.clone()
    }

    /// Forgets the recorded sleeps.
    pub fn clear_sleeps(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).sleeps.clear();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).now
    }

    fn sleep(&self, duration: Duration) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.now += duration;
        state.sleeps.push(duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_sleeps_move_it_forward_and_are_recorded() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let clock = ManualClock::new(start);
        clock.sleep(Duration::from_secs(5));
        clock.advance(Duration::from_secs(1));
        clock.sleep(Duration::from_secs(2));
        assert_eq!(clock.now(), start + Duration::from_secs(8));
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(5), Duration::from_secs(2)]);
    }
}
