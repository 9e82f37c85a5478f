//! Events, host -> webview. Each is declared (name, payload type, contract
//! version); a webview subscribes to declared names only, through the
//! `events:subscribe` channel, and gets only what it subscribed to. An
//! event for a window that has closed is dropped without error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use ts_rs::TS;

use crate::error::{BridgeError, ErrorCode};
use crate::registry::collect_decls;
use crate::sender::WindowLabel;

/// An event declaration.
pub trait Event: 'static {
    /// The payload.
    type Payload: Serialize + TS + 'static;
    /// `namespace:name`.
    const NAME: &'static str;
    /// What it announces, one line.
    const SUMMARY: &'static str;
    /// The contract version it appeared in.
    const SINCE: &'static str;
    /// The windows that may subscribe to it: the main window unless the
    /// declaration says otherwise (an event can carry what a window was
    /// not given, such as who is signed in).
    const WINDOWS: &'static [WindowLabel] = &[WindowLabel::Main];
}

/// Where events go: the window adapter (or a test).
pub trait EventSink: Send + Sync {
    /// Delivers `payload_json` for `event` to `window`'s page. Returns
    /// `false` when the window is gone (the event is dropped).
    fn deliver(&self, window: WindowLabel, event: &'static str, payload_json: &str) -> bool;
}

/// A declared event, erased.
pub struct DeclaredEvent {
    /// The name.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Contract version.
    pub since: &'static str,
    /// Windows that may subscribe.
    pub windows: &'static [WindowLabel],
    payload_type: fn(&ts_rs::Config) -> String,
    type_decls: fn(&ts_rs::Config, &mut BTreeMap<String, String>),
}

impl DeclaredEvent {
    /// The payload's TypeScript name.
    pub fn payload_type(&self, cfg: &ts_rs::Config) -> String {
        (self.payload_type)(cfg)
    }

    /// Adds the payload's TypeScript declarations.
    pub fn collect_type_decls(&self, cfg: &ts_rs::Config, into: &mut BTreeMap<String, String>) {
        (self.type_decls)(cfg, into)
    }
}

/// Declarations, subscriptions and the sink.
#[derive(Default)]
pub struct EventHub {
    declared: Vec<DeclaredEvent>,
    subscriptions: Mutex<Vec<(WindowLabel, &'static str)>>,
    sink: RwLock<Option<Arc<dyn EventSink>>>,
}

impl EventHub {
    /// An empty hub.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares an event.
    pub fn declare<E: Event>(&mut self) {
        if self.declared.iter().any(|d| d.name == E::NAME) {
            return;
        }
        self.declared.push(DeclaredEvent {
            name: E::NAME,
            summary: E::SUMMARY,
            since: E::SINCE,
            windows: E::WINDOWS,
            payload_type: <E::Payload as TS>::name,
            type_decls: collect_decls::<E::Payload>,
        });
    }

    /// Every declared event.
    pub fn declared(&self) -> &[DeclaredEvent] {
        &self.declared
    }

    /// Sets where events go.
    pub fn set_sink(&self, sink: Arc<dyn EventSink>) {
        if let Ok(mut slot) = self.sink.write() {
            *slot = Some(sink);
        }
    }

    fn lookup(&self, name: &str) -> Result<&DeclaredEvent, BridgeError> {
        self.declared.iter().find(|d| d.name == name).ok_or_else(|| {
            BridgeError::new(ErrorCode::NotFound, "no event of that name is declared")
                .with_details(serde_json::json!({ "declared": self.declared.iter().map(|d| d.name).collect::<Vec<_>>() }))
        })
    }

    /// Subscribes `window` to a declared event it may receive. Idempotent.
    pub fn subscribe(&self, window: WindowLabel, name: &str) -> Result<(), BridgeError> {
        let declared = self.lookup(name)?;
        if !declared.windows.contains(&window) {
            return Err(BridgeError::new(ErrorCode::IpcForbidden, "this window may not subscribe to that event"));
        }
        let name = declared.name;
        let mut subs = self.subscriptions.lock().map_err(|_| BridgeError::internal())?;
        if !subs.contains(&(window, name)) {
            subs.push((window, name));
        }
        Ok(())
    }

    /// Unsubscribes `window`. Idempotent.
    pub fn unsubscribe(&self, window: WindowLabel, name: &str) -> Result<(), BridgeError> {
        let name = self.lookup(name)?.name;
        let mut subs = self.subscriptions.lock().map_err(|_| BridgeError::internal())?;
        subs.retain(|s| *s != (window, name));
        Ok(())
    }

    /// Whether `window` is subscribed to `name`.
    pub fn is_subscribed(&self, window: WindowLabel, name: &str) -> bool {
        self.subscriptions.lock().is_ok_and(|subs| subs.iter().any(|(w, n)| *w == window && *n == name))
    }

    /// Forgets a closed (or reloaded) window's subscriptions.
    pub fn window_closed(&self, window: WindowLabel) {
        if let Ok(mut subs) = self.subscriptions.lock() {
            subs.retain(|(w, _)| *w != window);
        }
    }

    /// Sends an event to every subscribed window; returns how many got it.
    pub fn emit<E: Event>(&self, payload: &E::Payload) -> usize {
        let Ok(json) = serde_json::to_string(payload) else {
            tracing::error!(event = E::NAME, "event payload could not be encoded");
            return 0;
        };
        let windows: Vec<WindowLabel> = match self.subscriptions.lock() {
            Ok(subs) => subs.iter().filter(|(_, n)| *n == E::NAME).map(|(w, _)| *w).collect(),
            Err(_) => return 0,
        };
        let sink = match self.sink.read() {
            Ok(sink) => sink.clone(),
            Err(_) => None,
        };
        let Some(sink) = sink else { return 0 };
        let mut delivered = 0;
        for window in windows {
            if sink.deliver(window, E::NAME, &json) {
                delivered += 1;
            } else {
                tracing::debug!(event = E::NAME, window = window.as_str(), "event dropped: window is gone");
                self.window_closed(window);
            }
        }
        delivered
    }
}
