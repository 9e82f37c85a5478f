//! Device flows in progress: the poll interval each one is at.
//!
//! GitHub states the interval when it issues a device code and again on
//! `slow_down` (or not: then RFC 8628 says add five seconds). GitHub's
//! `authorization_pending` carries none, yet every 202 of `/v1/device/poll`
//! states one, so the backend remembers it per code, keyed by the code's
//! SHA-256 (the code itself is a credential and is not kept). A code the
//! backend never issued (or forgot) gets the RFC's default.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The interval when nothing better is known (RFC 8628 section 3.2).
pub const DEFAULT_POLL_INTERVAL: u64 = 5;
/// What `slow_down` adds when GitHub names no new interval (RFC 8628 3.5).
pub const SLOW_DOWN_STEP: u64 = 5;
/// The most flows remembered. Creation is rate-limited already; this bounds
/// memory if codes are fetched and never polled to the end.
pub const MAX_TRACKED_FLOWS: usize = 10_000;
/// The longest device code passed on to GitHub (GitHub's are 40 hex
/// digits): a longer one is not a device code, and is not forwarded.
pub const MAX_DEVICE_CODE_LEN: usize = 256;

/// Whether `code` is plausibly a device code: short, printable ASCII.
pub fn looks_like_device_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= MAX_DEVICE_CODE_LEN && code.bytes().all(|b| b.is_ascii_graphic())
}

struct Flow {
    interval: u64,
    expires_at: OffsetDateTime,
}

/// The flows in progress.
#[derive(Default)]
pub struct DeviceFlows {
    flows: Mutex<HashMap<[u8; 32], Flow>>,
}

impl DeviceFlows {
    /// Remembers a newly issued code. When the table is full of live flows
    /// the code is not remembered: its polls fall back to the default.
    pub fn start(&self, code: &str, interval: u64, expires_in: u64, now: OffsetDateTime) {
        let mut flows = self.lock();
        if flows.len() >= MAX_TRACKED_FLOWS {
            flows.retain(|_, f| f.expires_at > now);
            if flows.len() >= MAX_TRACKED_FLOWS {
                return;
            }
        }
        let expires_at = now + Duration::from_secs(expires_in);
        flows.insert(key(code), Flow { interval, expires_at });
    }

    /// The interval for `code`.
    pub fn interval(&self, code: &str) -> u64 {
        self.lock().get(&key(code)).map_or(DEFAULT_POLL_INTERVAL, |f| f.interval)
    }

    /// Records a `slow_down`: GitHub's interval, or the old one plus
    /// [`SLOW_DOWN_STEP`]. Answers the new interval.
    pub fn slow_down(&self, code: &str, github_interval: Option<u64>) -> u64 {
        let mut flows = self.lock();
        let old = flows.get(&key(code)).map_or(DEFAULT_POLL_INTERVAL, |f| f.interval);
        let new = github_interval.unwrap_or(old.saturating_add(SLOW_DOWN_STEP));
        if let Some(flow) = flows.get_mut(&key(code)) {
            flow.interval = new;
        }
        new
    }

    /// Forgets a flow that ended (approved, denied, expired, unknown).
    pub fn finish(&self, code: &str) {
        self.lock().remove(&key(code));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Flow>> {
        self.flows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key(code: &str) -> [u8; 32] {
    Sha256::digest(code.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_down_takes_githubs_interval_or_adds_five() {
        let flows = DeviceFlows::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        flows.start("abc", 1, 900, now);
        assert_eq!(flows.interval("abc"), 1);
        assert_eq!(flows.slow_down("abc", None), 6);
        assert_eq!(flows.slow_down("abc", Some(20)), 20);
        assert_eq!(flows.interval("abc"), 20);
        flows.finish("abc");
        assert_eq!(flows.interval("abc"), DEFAULT_POLL_INTERVAL);
        assert_eq!(flows.slow_down("never-issued", None), DEFAULT_POLL_INTERVAL + SLOW_DOWN_STEP);
    }

    #[test]
    fn device_codes_are_short_printable_ascii() {
        assert!(looks_like_device_code("3584d83530557fdd1f46af8289938c8ef79f9dc5"));
        assert!(!looks_like_device_code(""));
        assert!(!looks_like_device_code("has space"));
        assert!(!looks_like_device_code(&"a".repeat(MAX_DEVICE_CODE_LEN + 1)));
    }
}
