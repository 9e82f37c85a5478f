//! Key generation off the handler thread, with progress and cancel
//! (issue 19). An RSA-4096 key takes seconds (3 to 6 on the project's
//! machine): the handler waits for it in steps of [`PROGRESS_EVERY`],
//! announcing each step, and stops waiting as soon as the user cancels.
//! The generation itself can't be interrupted (the `rsa` crate has no
//! hook), so a cancelled one runs to its end on its own thread and its key
//! is wiped unused. One generation runs at a time per app, cancelled or
//! not, so a page that starts and cancels in a loop holds at most one core.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::jwt::{Algorithm, JwtError, generate};

/// How often a generation in progress is announced.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Why no key came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Another generation is running (or a cancelled one is finishing).
    #[error("a key is already being generated; try again when it is done")]
    Busy,
    /// The user cancelled it.
    #[error("the key generation was cancelled")]
    Cancelled,
    /// The generator refused (an RSA size not offered) or failed.
    #[error("{0}")]
    Failed(String),
}

/// The one generation of an app, and its cancel flag.
#[derive(Debug, Default)]
pub struct KeyJobs {
    running: Mutex<Option<Arc<AtomicBool>>>,
}

/// Frees the slot when the generator thread ends.
struct Slot(Arc<KeyJobs>);

impl Drop for Slot {
    fn drop(&mut self) {
        *self.0.running.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl KeyJobs {
    /// Generates a key for `alg`, calling `progress` with the time spent
    /// every [`PROGRESS_EVERY`] until it is done or cancelled.
    pub fn generate(self: &Arc<Self>, alg: Algorithm, rsa_bits: Option<usize>, progress: impl Fn(Duration)) -> Result<Zeroizing<Vec<u8>>, JobError> {
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            if running.is_some() {
                return Err(JobError::Busy);
            }
            *running = Some(Arc::clone(&cancel));
        }
        let slot = Slot(Arc::clone(self));
        let (tx, rx) = channel::<Result<Zeroizing<Vec<u8>>, JwtError>>();
        let spawned = std::thread::Builder::new().name("tollgate-keygen".into()).spawn(move || {
            let made = generate(alg, rsa_bits);
            // The slot frees before the answer goes, so the caller's next
            // generation never finds this one still in it.
            drop(slot);
            // A key nobody waits for any more is dropped here, wiped.
            let _ = tx.send(made);
        });
        if let Err(e) = spawned {
            return Err(JobError::Failed(format!("could not start the generator: {e}")));
        }
        let started = Instant::now();
        loop {
            match rx.recv_timeout(PROGRESS_EVERY) {
                // Cancelled while the last step ran: the key that came is
                // dropped (wiped), as the user asked.
                Ok(_) if cancel.load(Ordering::Relaxed) => return Err(JobError::Cancelled),
                Ok(made) => return made.map_err(|e| JobError::Failed(e.to_string())),
                Err(RecvTimeoutError::Timeout) if cancel.load(Ordering::Relaxed) => return Err(JobError::Cancelled),
                Err(RecvTimeoutError::Timeout) => progress(started.elapsed()),
                Err(RecvTimeoutError::Disconnected) => return Err(JobError::Failed("the generator stopped without a key".into())),
            }
        }
    }

    /// Cancels the generation in progress; whether there was one.
    pub fn cancel(&self) -> bool {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).as_ref().is_some_and(|flag| !flag.swap(true, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_generation_answers_at_once_and_holds_the_slot_until_it_ends() {
        let jobs = Arc::new(KeyJobs::default());
        assert!(!jobs.cancel(), "nothing to cancel");
        // An RSA-4096 key takes seconds, but a lucky prime search can end
        // before the cancel: then try again.
        for attempt in 1..=5 {
            let waiting = Arc::clone(&jobs);
            let steps = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let seen = Arc::clone(&steps);
            let started = Instant::now();
            let answer = std::thread::spawn(move || {
                waiting.generate(Algorithm::RS256, Some(4096), |_| {
                    seen.fetch_add(1, Ordering::Relaxed);
                })
            });
            while steps.load(Ordering::Relaxed) == 0 && !answer.is_finished() {
                assert!(started.elapsed() < Duration::from_secs(30), "no progress was announced");
                std::thread::sleep(Duration::from_millis(20));
            }
            let busy = jobs.generate(Algorithm::ES256, None, |_| {});
            if !jobs.cancel() {
                assert!(answer.join().expect("joined").is_ok(), "attempt {attempt}: the key came first");
                continue;
            }
            assert_eq!(busy, Err(JobError::Busy), "two at once");
            let cancelled_at = Instant::now();
            assert_eq!(answer.join().expect("joined"), Err(JobError::Cancelled));
            assert!(cancelled_at.elapsed() <= PROGRESS_EVERY + Duration::from_millis(300), "the answer waited for the key");
            // The slot frees once the cancelled generator is done; then a key comes.
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                match jobs.generate(Algorithm::ES256, None, |_| {}) {
                    Ok(key) => {
                        assert!(key.starts_with(b"-----BEGIN PRIVATE KEY-----"));
                        return;
                    }
                    Err(JobError::Busy) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                    Err(e) => panic!("{e}"),
                }
            }
        }
        panic!("five RSA-4096 keys came before the cancel");
    }
}
