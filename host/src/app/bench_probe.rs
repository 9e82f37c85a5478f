//! Benchmark instrumentation for the window, set only by `tollgate-bench`.
//!
//! WebKitGTK rounds `performance.now()` to 1 ms for pages that are not
//! cross-origin isolated, so round trips are timed on the host: for
//! sequential calls, the gap between consecutive arrivals is one full round
//! trip. The probe also answers a raw floor: a bare `postMessage` answered
//! at once by `evaluate_script`, with no checks, measured in the same run.
//! Marks (`bench:mark\n<label>`) stamp points in longer page flows (a call
//! through to its rendered answer) on the same host clock.
//! With no probe (the app, the tests) none of this exists.

use std::sync::Mutex;
use std::time::Instant;

use tao::event_loop::EventLoopProxy;
use wry::WebView;

use crate::app::window::{UserEvent, Webviews};
use crate::bridge::WindowLabel;

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
    started: Mutex<Option<Instant>>,
}

impl BenchProbe {
    /// A probe that runs `page_script`.
    pub fn new(page_script: String) -> Self {
        Self { page_script, arrivals: Mutex::new(Vec::new()), marks: Mutex::new(Vec::new()), result: Mutex::new(None), started: Mutex::new(None) }
    }

    /// Handles the probe's own messages; records bridge arrivals. Returns
    /// `true` when the message was the probe's and is done with.
    pub(crate) fn intercept(
        &self,
        body: &str,
        webviews: &Webviews,
        label: WindowLabel,
        proxy: &EventLoopProxy<UserEvent>,
    ) -> bool {
        let now = Instant::now();
        if body == "bench:raw" {
            self.record(Path::Raw, now);
            if let Some(webview) = webviews.borrow().get(&label) {
                let _ = webview.evaluate_script("window.__bench_raw_reply()");
            }
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
            let _ = proxy.send_event(UserEvent::Quit);
            return true;
        }
        self.record(Path::Bridge, now);
        false
    }

    fn record(&self, path: Path, at: Instant) {
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.push((path, at));
        }
    }

    /// Starts the page script (the page is ready).
    pub(crate) fn start(&self, webview: &WebView) {
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.clear();
        }
        if let Ok(mut marks) = self.marks.lock() {
            marks.clear();
        }
        if let Ok(mut started) = self.started.lock() {
            *started = Some(Instant::now());
        }
        let _ = webview.evaluate_script(&self.page_script);
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
