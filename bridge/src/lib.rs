//! The bridge: the one way the webview reaches the host.
//!
//! Every message from page script crosses here, in this order, before any
//! work is done for it:
//!
//! 1. the whole message's size is capped ([`envelope::MAX_MESSAGE_BYTES`]);
//! 2. the envelope (secret, request id, channel) is parsed strictly;
//! 3. the sender is checked from the host's own state ([`sender`]): the
//!    webview's label, the exact app origin of its page, and the
//!    per-webview secret, compared in constant time;
//! 4. the channel is looked up in the one [`registry::ChannelRegistry`]
//!    and the window must be allowed to call it;
//! 5. the (window, channel) quota and the global ceiling ([`limits`]); a
//!    call that would wait for a handler thread also needs a place in its
//!    (window, channel) backlog ([`backlog`]), and runs in its lane
//!    ([`pool`]) so cheap channels never wait behind expensive ones;
//! 6. the channel's own payload cap, strict JSON rules ([`json`]), typed
//!    decoding with unknown fields refused, the channel's validator;
//! 7. a replayed request id on a state-changing channel is refused;
//! 8. the sanitizer, then the handler, behind a panic guard.
//!
//! Every answer has one shape ([`response::BridgeResponse`]) and a code from
//! a closed set ([`error::ErrorCode`]). The bridge trusts nothing in the
//! message; it trusts the window adapter to tell it truthfully which webview
//! a message came from and what URL that webview's main frame shows.
//!
//! Nothing here touches wry or tao, nor wasmtime: this is its own crate
//! (`tollgate-bridge`), whose manifest names neither, so the compiler keeps
//! it headless. The window (`tollgate::app`) is an adapter, and the tests
//! drive this core with a test sender.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod backlog;
pub mod channels;
pub mod contract;
pub mod core;
pub mod envelope;
pub mod error;
pub mod events;
pub mod json;
pub mod limits;
pub mod pool;
pub mod registry;
pub mod response;
pub mod sender;

pub use self::core::{Bridge, Dispatch, READ_ONLY_WHILE_INSPECTED, Transport};
pub use error::{BridgeError, ErrorCode};
pub use events::{EventHub, EventSink};
pub use registry::{Channel, ChannelRegistry, ChannelSpec, Deprecation, Direction, Execution, HandlerContext, Lane};
pub use response::BridgeResponse;
pub use sender::{APP_ORIGIN, APP_SCHEME, PageSecret, WindowLabel};
