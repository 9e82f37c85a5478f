//! `app:*`: what the page may ask about the app itself (its version, the
//! contract version), and the one way it gets a second window.

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use crate::channels::READ;
use crate::services::AppServices;
use crate::bridge::WindowLabel;
use crate::bridge::channels::{ALL_WINDOWS, CONTRACT_VERSION, Empty};
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Quota, RegistryError};

/// `app:info` response.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// The bridge contract version.
    pub contract_version: String,
    /// The calling window.
    pub window: String,
    /// Whether the web inspector is compiled in (debug builds only).
    pub devtools: bool,
}

/// `app:info`.
pub struct Info;
impl Channel for Info {
    type Request = Empty;
    type Response = AppInfo;
    const SPEC: ChannelSpec =
        ChannelSpec { name: "app:info", summary: "The app's version and contract version.", windows: ALL_WINDOWS, ..READ };
}

/// `app:open-about` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OpenedWindow {
    /// The window asked for.
    pub window: WindowLabel,
    /// Whether the window adapter took the request (false when the host
    /// runs without a window: tests, the CLI).
    pub requested: bool,
}

/// `app:open-about`: the one way a page gets a second window. The host
/// opens its own about page in it (or brings it to the front), with its own
/// secret and only the channels the about window may call.
pub struct OpenAbout;
impl Channel for OpenAbout {
    type Request = Empty;
    type Response = OpenedWindow;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "app:open-about",
        summary: "Opens the about window (or brings it to the front).",
        quota: Quota { per_second: 2, burst: 3 },
        since: "1.4",
        ..READ
    };
}

/// Registers `app:info` and `app:open-about`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    registry.register::<Info, _>(|ctx, _: Empty| {
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            contract_version: CONTRACT_VERSION.to_owned(),
            window: ctx.window.as_str().to_owned(),
            devtools: cfg!(debug_assertions),
        })
    })?;

    let s = Arc::clone(services);
    registry.register::<OpenAbout, _>(move |_, _: Empty| {
        Ok(OpenedWindow { window: WindowLabel::About, requested: s.window_opener().open(WindowLabel::About) })
    })?;
    Ok(())
}
