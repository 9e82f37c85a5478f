//! The bridge's own channels: event subscription and a no-op ping. The
//! app's channels are declared in `tollgate::app::channels`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::BridgeError;
use crate::registry::{Body, Channel, ChannelRegistry, ChannelSpec, Direction, Execution, Quota, RegistryError};
use crate::sender::WindowLabel;

/// The version of the bridge contract (`major.minor`). A change that
/// removes or alters a channel, event or error code must raise the major;
/// an addition raises the minor. The contract test enforces it against the
/// checked-in snapshot.
pub const CONTRACT_VERSION: &str = "1.11";

/// Every window.
pub const ALL_WINDOWS: &[WindowLabel] = WindowLabel::ALL;
/// The main window only.
pub const MAIN_ONLY: &[WindowLabel] = &[WindowLabel::Main];

/// Payload cap for small control requests. Bounds parsing work on channels
/// whose requests are a few fields.
pub const SMALL_REQUEST_BYTES: usize = 4 * 1024;

/// An empty request or response (`{}`; unknown fields refused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `events:subscribe` / `events:unsubscribe` request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct EventSubscription {
    /// A declared event name.
    #[ts(type = "keyof TollgateEvents")]
    pub event: String,
}

/// `app:ping`: answers `{}`. The bridge's floor: the benchmarks measure a
/// crossing with it.
pub struct Ping;
impl Channel for Ping {
    type Request = Empty;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "app:ping",
        summary: "Answers {}; measures the bridge itself.",
        direction: Direction::WebviewToHost,
        windows: ALL_WINDOWS,
        max_payload_bytes: 64,
        quota: Quota { per_second: 20_000, burst: 2_000 },
        since: "1.0",
        deprecated: None,
        state_changing: false,
        execution: Execution::Inline,
        body: Body::Json,
    };
}

/// `events:subscribe`.
pub struct Subscribe;
impl Channel for Subscribe {
    type Request = EventSubscription;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "events:subscribe",
        summary: "Subscribes this window to a declared event.",
        direction: Direction::WebviewToHost,
        windows: ALL_WINDOWS,
        max_payload_bytes: 256,
        quota: Quota { per_second: 50, burst: 50 },
        since: "1.0",
        deprecated: None,
        state_changing: false,
        execution: Execution::Inline,
        body: Body::Json,
    };
}

/// `events:unsubscribe`.
pub struct Unsubscribe;
impl Channel for Unsubscribe {
    type Request = EventSubscription;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "events:unsubscribe",
        summary: "Ends this window's subscription to an event.",
        ..Subscribe::SPEC
    };
}

/// Registers the bridge's own channels.
pub fn register(registry: &mut ChannelRegistry) -> Result<(), RegistryError> {
    registry.register::<Ping, _>(|_, _: Empty| Ok(Empty {}))?;
    registry.register::<Subscribe, _>(|ctx, req: EventSubscription| {
        ctx.events.subscribe(ctx.window, &req.event)?;
        Ok::<_, BridgeError>(Empty {})
    })?;
    registry.register::<Unsubscribe, _>(|ctx, req: EventSubscription| {
        ctx.events.unsubscribe(ctx.window, &req.event)?;
        Ok::<_, BridgeError>(Empty {})
    })?;
    Ok(())
}
