//! The bench's window probe: an observer on tollgate-window's driver seam
//! (`tollgate::app::driver`), so the window carries no bench code.
//!
//! WebKitGTK rounds `performance.now()` to 1 ms for pages that are not
//! cross-origin isolated, so round trips are timed on the host: for
//! sequential calls, the gap between consecutive arrivals is one full round
//! trip. The probe also answers a raw floor: a bare `postMessage` answered
//! at once by `evaluate_script`, with no checks, measured in the same run.
//! Marks (`bench:mark\n<label>`) stamp points in longer page flows (a call
//! through to its rendered answer) on the same host clock.
//! With no observer (the app) none of this runs.

use std::sync::Mutex;
use std::time::Instant;

use tollgate::app::driver::{Driver, Observer, PageHandle};

/// Which path an arrival took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Through the bridge (`tollgate.invoke`).
    Bridge,
    /// The raw floor.
    Raw,
    /// A page mark (`bench:mark\n<label>`): a timestamp, not a round trip.
    Mark,
}

/// What the bench gives the window and reads back.
#[derive(Debug)]
pub struct BenchProbe {
    /// Evaluated in the page once it is ready; must end by posting
    /// `bench:result\n<json>`.
    pub page_script: String,
    arrivals: Mutex<Vec<(Path, Instant)>>,
    marks: Mutex<Vec<(String, Instant)>>,
    result: Mutex<Option<String>>,
    driver: Mutex<Option<Driver>>,
}

impl BenchProbe {
    /// A probe that runs `page_script`.
    pub fn new(page_script: String) -> Self {
        Self { page_script, arrivals: Mutex::new(Vec::new()), marks: Mutex::new(Vec::new()), result: Mutex::new(None), driver: Mutex::new(None) }
    }

    fn record(&self, path: Path, at: Instant) {
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.push((path, at));
        }
    }

    /// Round trips in microseconds: gaps between consecutive arrivals on the
    /// same path (a gap spanning a switch of path is not one).
    pub fn round_trips_us(&self, path: Path) -> Vec<f64> {
        let Ok(arrivals) = self.arrivals.lock() else { return Vec::new() };
        arrivals
            .windows(2)
            .filter(|w| w[0].0 == path && w[1].0 == path)
            .map(|w| w[1].1.duration_since(w[0].1).as_secs_f64() * 1e6)
            .collect()
    }

    /// The window's driver, once the window has started.
    pub fn driver(&self) -> Option<tollgate::app::driver::Driver> {
        self.driver.lock().ok().and_then(|d| d.clone())
    }

    /// The page's marks, in arrival order: the label and when the host got it.
    /// Spans between marks are timed on the host clock, like round trips.
    pub fn marks(&self) -> Vec<(String, Instant)> {
        self.marks.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// What the page script posted at the end.
    pub fn result(&self) -> Option<String> {
        self.result.lock().ok().and_then(|r| r.clone())
    }
}

impl Observer for BenchProbe {
    fn started(&self, driver: Driver) {
        if let Ok(mut slot) = self.driver.lock() {
            *slot = Some(driver);
        }
    }

    /// Starts the page script.
    fn page_ready(&self, page: &PageHandle<'_>) {
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.clear();
        }
        if let Ok(mut marks) = self.marks.lock() {
            marks.clear();
        }
        page.evaluate(&self.page_script);
    }

    /// Handles the probe's own messages; records bridge arrivals. Returns
    /// `true` when the message was the probe's and is done with.
    fn message(&self, body: &str, page: &PageHandle<'_>) -> bool {
        let now = Instant::now();
        if body == "bench:raw" {
            self.record(Path::Raw, now);
            page.evaluate("window.__bench_raw_reply()");
            return true;
        }
        if let Some(label) = body.strip_prefix("bench:mark\n") {
            // Also an arrival, so a gap across a mark is never a round trip.
            self.record(Path::Mark, now);
            if let Ok(mut marks) = self.marks.lock() {
                marks.push((label.to_owned(), now));
            }
            return true;
        }
        if let Some(result) = body.strip_prefix("bench:result\n") {
            if let Ok(mut slot) = self.result.lock() {
                *slot = Some(result.to_owned());
            }
            if let Some(driver) = self.driver.lock().ok().and_then(|d| d.clone()) {
                driver.quit();
            }
            return true;
        }
        self.record(Path::Bridge, now);
        false
    }
}
