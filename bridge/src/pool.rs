//! The threads that run deferred handlers, in two lanes, so a cheap
//! channel never waits behind an expensive one.
//!
//! [`Execution::Blocking`](crate::registry::Execution::Blocking) channels
//! (the disk: profiles, settings, the plugin list) run in the light lane,
//! [`Execution::Heavy`](crate::registry::Execution::Heavy) ones (a plugin
//! call, key material, the network, a user's answer to a dialog) in the
//! heavy lane. Each lane has its own threads and its own queue. How much
//! may wait in a queue is bounded before a call gets here, per (window,
//! channel), by [`crate::backlog`]; this module only keeps the lanes apart.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::core::{Answer, DeferredCall};
use crate::registry::Lane;
use crate::sender::WindowLabel;

/// Threads of the light lane: disk work of a few milliseconds.
pub const LIGHT_THREADS: usize = 1;

/// Threads of the heavy lane. Two: the machine may have two cores, and one
/// slow plugin call must not hold the only one.
pub const HEAVY_THREADS: usize = 2;

/// Where a finished call's answer goes (the window adapter: through the
/// event loop to the calling webview).
pub type Deliver = Arc<dyn Fn(WindowLabel, Answer) -> bool + Send + Sync>;

type Job = DeferredCall;

/// The two lanes' queues.
pub struct HandlerPool {
    light: mpsc::Sender<Job>,
    heavy: mpsc::Sender<Job>,
}

impl std::fmt::Debug for HandlerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerPool").finish_non_exhaustive()
    }
}

fn lane(name: &str, threads: usize, deliver: &Deliver) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..threads {
        let rx = Arc::clone(&rx);
        let deliver = Arc::clone(deliver);
        let spawned = std::thread::Builder::new().name(format!("bridge-{name}-{i}")).spawn(move || {
            loop {
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(call) = job else { return };
                let window = call.window();
                if !deliver(window, call.run()) {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, lane = name, "could not start a bridge handler thread");
        }
    }
    tx
}

impl HandlerPool {
    /// Starts both lanes; every answer goes to `deliver`. A lane's threads
    /// end when `deliver` returns false (the event loop is gone) or the
    /// pool is dropped.
    pub fn start(deliver: Deliver) -> Self {
        Self { light: lane("light", LIGHT_THREADS, &deliver), heavy: lane("heavy", HEAVY_THREADS, &deliver) }
    }

    /// Queues a deferred call in its lane.
    pub fn submit(&self, call: DeferredCall) {
        let window = call.window();
        let queue = match call.lane() {
            Lane::Light => &self.light,
            Lane::Heavy => &self.heavy,
        };
        if queue.send(call).is_err() {
            tracing::error!(window = window.as_str(), "bridge handler threads are gone; call dropped");
        }
    }
}
