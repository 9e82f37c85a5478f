//! The channel registry: each channel declared once, in one place.
//!
//! A declaration is a type implementing [`Channel`]: its name, the windows
//! that may call it, its request and response types (serde, unknown fields
//! refused; `ts-rs` turns them into the page's TypeScript), its validator
//! and sanitizer, payload cap, rate quota, the contract version it appeared
//! in and its deprecation mark. A handler is registered against a
//! declaration and is reachable only through the registry's lookup.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use ts_rs::TS;

use crate::error::BridgeError;
use crate::events::EventHub;
use crate::json;
use crate::sender::WindowLabel;

/// Which way a channel carries requests. Host -> webview traffic is events
/// (see `events`), declared apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Page script calls the host and gets one answer.
    WebviewToHost,
}

/// Where a handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Execution {
    /// On the thread that received the message (the UI thread in the app):
    /// for handlers that finish in microseconds and never block.
    Inline,
    /// On a handler thread of the light lane; the answer is sent back when
    /// done. For work of a few milliseconds: the disk.
    Blocking,
    /// On a handler thread of the heavy lane, so it never delays a light
    /// call: a plugin call, key material, the network, a dialog the user
    /// answers.
    Heavy,
}

/// The handler threads a deferred call runs on (`crate::pool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// [`Execution::Blocking`] channels.
    Light,
    /// [`Execution::Heavy`] channels.
    Heavy,
}

/// How the payload crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Body {
    /// JSON request, JSON response, over postMessage.
    Json,
    /// Raw bytes up (the custom scheme's request body), JSON response.
    BinaryUpload,
    /// JSON request, raw bytes down (the custom scheme's response body).
    BinaryDownload,
}

/// A rate quota: sustained calls per second and burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    /// Sustained calls per second.
    pub per_second: u32,
    /// Calls allowed at once after a quiet period.
    pub burst: u32,
}

/// Everything declared about a channel besides its types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelSpec {
    /// `namespace:action`.
    pub name: &'static str,
    /// What it does, one line (docs and the generated TypeScript).
    pub summary: &'static str,
    /// Which way it goes.
    pub direction: Direction,
    /// The windows allowed to call it.
    pub windows: &'static [WindowLabel],
    /// Largest payload (JSON text, or bytes on the binary path).
    pub max_payload_bytes: usize,
    /// Per-(window, channel) quota.
    pub quota: Quota,
    /// The contract version it appeared in (`major.minor`).
    pub since: &'static str,
    /// Set when deprecated; each use logs a warning. A deprecated channel
    /// stays in the contract for at least [`DEPRECATION_MINOR_VERSIONS`]
    /// minor versions after `since` (`contract::check_versioning`).
    pub deprecated: Option<Deprecation>,
    /// Whether a call changes state: such calls refuse a replayed request id.
    pub state_changing: bool,
    /// Where the handler runs.
    pub execution: Execution,
    /// How the payload crosses.
    pub body: Body,
}

/// How many minor contract versions a deprecated channel must stay before
/// it may be removed.
pub const DEPRECATION_MINOR_VERSIONS: u32 = 2;

/// When a channel was deprecated and what replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deprecation {
    /// The contract version (`major.minor`) that deprecated it.
    pub since: &'static str,
    /// What to use instead (a channel name, or a sentence).
    pub use_instead: &'static str,
}

/// A channel declaration.
pub trait Channel: 'static {
    /// The request; `#[serde(deny_unknown_fields)]` on every struct.
    type Request: DeserializeOwned + TS + Send + 'static;
    /// The response.
    type Response: Serialize + TS + 'static;
    /// The declaration.
    const SPEC: ChannelSpec;

    /// Checks a decoded request beyond its types.
    fn validate(_request: &Self::Request) -> Result<(), BridgeError> {
        Ok(())
    }

    /// Normalizes a valid request before the handler sees it.
    fn sanitize(request: Self::Request) -> Self::Request {
        request
    }
}

/// What a handler learns about its call. All of it comes from the host.
#[derive(Clone)]
pub struct HandlerContext {
    /// The calling window.
    pub window: WindowLabel,
    /// The caller's request id.
    pub request_id: String,
    /// Events, for handlers that emit.
    pub events: Arc<EventHub>,
}

/// A payload as it crossed.
pub enum Payload<'a> {
    /// JSON text.
    Json(&'a str),
    /// Raw bytes (binary upload).
    Bytes(Vec<u8>),
}

/// A handler's answer as it will cross.
#[derive(Debug)]
pub enum Reply {
    /// JSON data for the response's `data`.
    Json(Value),
    /// Raw bytes (binary download).
    Bytes(Vec<u8>),
    /// Raw bytes made while they cross (a streamed binary download).
    Stream(ByteStream),
}

/// One piece of a streamed download, or why the stream stopped early.
pub type StreamChunk = Result<Vec<u8>, BridgeError>;

/// A download made while it is sent: chunks pulled one at a time by the
/// window adapter, on a thread of its own, as fast as WebKit takes them
/// (so the host never holds the whole answer), and the total length when
/// it is known. An `Err` chunk ends the stream as a failed transfer (the
/// page's download rejects); a stream that ends short of a declared length
/// fails the same way.
pub struct ByteStream {
    length: Option<u64>,
    chunks: Box<dyn Iterator<Item = StreamChunk> + Send>,
}

impl ByteStream {
    /// A stream of `chunks`, `length` bytes in all when known (`None`: the
    /// page learns the end when it comes).
    pub fn new(length: Option<u64>, chunks: impl Iterator<Item = StreamChunk> + Send + 'static) -> Self {
        Self { length, chunks: Box::new(chunks) }
    }

    /// The declared length, if any.
    pub fn length(&self) -> Option<u64> {
        self.length
    }
}

impl Iterator for ByteStream {
    type Item = StreamChunk;
    fn next(&mut self) -> Option<StreamChunk> {
        self.chunks.next()
    }
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStream").field("length", &self.length).finish_non_exhaustive()
    }
}

/// A decoded, validated request bound to its handler, ready to run.
pub type PreparedCall = Box<dyn FnOnce(&HandlerContext) -> Result<Reply, BridgeError> + Send>;

type Prepare = Box<dyn Fn(Payload<'_>) -> Result<PreparedCall, BridgeError> + Send + Sync>;
type TypeName = fn(&ts_rs::Config) -> String;
type TypeDecls = fn(&ts_rs::Config, &mut BTreeMap<String, String>);

/// A registered channel: its declaration and its handler, erased.
pub struct RegisteredChannel {
    /// The declaration.
    pub spec: ChannelSpec,
    /// Dense index (limiter tables).
    pub index: usize,
    prepare: Prepare,
    request_type: TypeName,
    response_type: TypeName,
    type_decls: TypeDecls,
}

impl RegisteredChannel {
    /// Decodes, validates and sanitizes a payload, and binds it to the
    /// handler. No handler code runs here.
    pub fn prepare(&self, payload: Payload<'_>) -> Result<PreparedCall, BridgeError> {
        (self.prepare)(payload)
    }

    /// The TypeScript name of the request type.
    pub fn request_type(&self, cfg: &ts_rs::Config) -> String {
        (self.request_type)(cfg)
    }

    /// The TypeScript name of the response type.
    pub fn response_type(&self, cfg: &ts_rs::Config) -> String {
        (self.response_type)(cfg)
    }

    /// Adds the TypeScript declarations this channel's types need.
    pub fn collect_type_decls(&self, cfg: &ts_rs::Config, into: &mut BTreeMap<String, String>) {
        (self.type_decls)(cfg, into)
    }
}

/// Why a registration was refused: a programming error, caught at start-up
/// by the registry's own checks and by the contract test.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two declarations share a name.
    #[error("channel {0} is declared twice")]
    Duplicate(&'static str),
    /// The name is not `namespace:action`.
    #[error("channel name {0:?} is not namespace:action in lowercase")]
    BadName(&'static str),
    /// A channel no window may call.
    #[error("channel {0} allows no window")]
    NoWindows(&'static str),
    /// A zero quota or cap.
    #[error("channel {0} has a zero quota or payload cap")]
    ZeroLimit(&'static str),
}

/// The one registry of channels.
#[derive(Default)]
pub struct ChannelRegistry {
    channels: Vec<RegisteredChannel>,
}

impl ChannelRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn check_spec(&self, spec: &ChannelSpec) -> Result<(), RegistryError> {
        if !crate::envelope::valid_channel_name(spec.name) {
            return Err(RegistryError::BadName(spec.name));
        }
        if self.channels.iter().any(|c| c.spec.name == spec.name) {
            return Err(RegistryError::Duplicate(spec.name));
        }
        if spec.windows.is_empty() {
            return Err(RegistryError::NoWindows(spec.name));
        }
        if spec.quota.per_second == 0 || spec.quota.burst == 0 || spec.max_payload_bytes == 0 {
            return Err(RegistryError::ZeroLimit(spec.name));
        }
        Ok(())
    }

    fn push<C: Channel>(&mut self, prepare: Prepare) -> Result<(), RegistryError> {
        self.check_spec(&C::SPEC)?;
        let index = self.channels.len();
        self.channels.push(RegisteredChannel {
            spec: C::SPEC,
            index,
            prepare,
            request_type: <C::Request as TS>::name,
            response_type: <C::Response as TS>::name,
            type_decls: |cfg, into| {
                collect_decls::<C::Request>(cfg, into);
                collect_decls::<C::Response>(cfg, into);
            },
        });
        Ok(())
    }

    /// Registers a JSON channel and its handler.
    pub fn register<C, H>(&mut self, handler: H) -> Result<(), RegistryError>
    where
        C: Channel,
        H: Fn(&HandlerContext, C::Request) -> Result<C::Response, BridgeError> + Send + Sync + 'static,
    {
        debug_assert_eq!(C::SPEC.body, Body::Json, "{} is not a JSON channel", C::SPEC.name);
        let handler = Arc::new(handler);
        self.push::<C>(Box::new(move |payload| {
            let Payload::Json(text) = payload else {
                return Err(BridgeError::validation(format!("{} takes a JSON request over postMessage", C::SPEC.name)));
            };
            let request = decode_request::<C>(text)?;
            let handler = Arc::clone(&handler);
            Ok(Box::new(move |ctx: &HandlerContext| {
                let response = handler(ctx, request)?;
                serde_json::to_value(response).map(Reply::Json).map_err(|_| BridgeError::internal())
            }))
        }))
    }

    /// Registers a binary upload channel: raw bytes in, JSON out.
    pub fn register_upload<C, H>(&mut self, handler: H) -> Result<(), RegistryError>
    where
        C: Channel<Request = UploadBody>,
        H: Fn(&HandlerContext, Vec<u8>) -> Result<C::Response, BridgeError> + Send + Sync + 'static,
    {
        debug_assert_eq!(C::SPEC.body, Body::BinaryUpload);
        let handler = Arc::new(handler);
        self.push::<C>(Box::new(move |payload| {
            let Payload::Bytes(bytes) = payload else {
                return Err(BridgeError::validation(format!("{} takes raw bytes on the binary path", C::SPEC.name)));
            };
            let handler = Arc::clone(&handler);
            Ok(Box::new(move |ctx: &HandlerContext| {
                let response = handler(ctx, bytes)?;
                serde_json::to_value(response).map(Reply::Json).map_err(|_| BridgeError::internal())
            }))
        }))
    }

    /// Registers a binary download channel: JSON in, raw bytes out.
    pub fn register_download<C, H>(&mut self, handler: H) -> Result<(), RegistryError>
    where
        C: Channel<Response = DownloadBody>,
        H: Fn(&HandlerContext, C::Request) -> Result<Vec<u8>, BridgeError> + Send + Sync + 'static,
    {
        debug_assert_eq!(C::SPEC.body, Body::BinaryDownload);
        let handler = Arc::new(handler);
        self.push::<C>(Box::new(move |payload| {
            let request = decode_download_request::<C>(payload)?;
            let handler = Arc::clone(&handler);
            Ok(Box::new(move |ctx: &HandlerContext| handler(ctx, request).map(Reply::Bytes)))
        }))
    }

    /// Registers a streamed binary download channel: JSON in, raw bytes
    /// out, made while they cross ([`ByteStream`]). The handler only sets
    /// the stream up; its chunks are pulled off the main thread.
    pub fn register_download_stream<C, H>(&mut self, handler: H) -> Result<(), RegistryError>
    where
        C: Channel<Response = DownloadBody>,
        H: Fn(&HandlerContext, C::Request) -> Result<ByteStream, BridgeError> + Send + Sync + 'static,
    {
        debug_assert_eq!(C::SPEC.body, Body::BinaryDownload);
        let handler = Arc::new(handler);
        self.push::<C>(Box::new(move |payload| {
            let request = decode_download_request::<C>(payload)?;
            let handler = Arc::clone(&handler);
            Ok(Box::new(move |ctx: &HandlerContext| handler(ctx, request).map(Reply::Stream)))
        }))
    }

    /// The channel of that name.
    pub fn get(&self, name: &str) -> Option<&RegisteredChannel> {
        self.channels.iter().find(|c| c.spec.name == name)
    }

    /// Every channel, in registration order.
    pub fn channels(&self) -> &[RegisteredChannel] {
        &self.channels
    }

    /// How many channels there are.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }
}

/// A download channel's request: JSON text that came as the binary path's
/// body.
fn decode_download_request<C: Channel>(payload: Payload<'_>) -> Result<C::Request, BridgeError> {
    let Payload::Bytes(bytes) = payload else {
        return Err(BridgeError::validation(format!("{} answers raw bytes on the binary path", C::SPEC.name)));
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| BridgeError::validation("request is not UTF-8 JSON"))?;
    decode_request::<C>(text)
}

fn decode_request<C: Channel>(text: &str) -> Result<C::Request, BridgeError> {
    let request: C::Request = json::decode(text)?;
    C::validate(&request)?;
    Ok(C::sanitize(request))
}

/// Collects the TypeScript declaration of `T` and of every type it uses.
pub fn collect_decls<T: TS + 'static + ?Sized>(cfg: &ts_rs::Config, into: &mut BTreeMap<String, String>) {
    struct Visit<'a>(&'a ts_rs::Config, &'a mut BTreeMap<String, String>);
    impl ts_rs::TypeVisitor for Visit<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            collect_decls::<U>(self.0, self.1);
        }
    }
    if T::output_path().is_none() {
        // A built-in wrapper (`Option<T>`, `Vec<T>`): declare what it wraps.
        T::visit_generics(&mut Visit(cfg, into));
        T::visit_dependencies(&mut Visit(cfg, into));
        return;
    }
    let name = T::ident(cfg);
    if into.contains_key(&name) {
        return;
    }
    into.insert(name, T::decl(cfg));
    T::visit_dependencies(&mut Visit(cfg, into));
}

/// The request of an upload channel: the raw body (`ArrayBuffer` in the
/// page).
#[derive(Debug, serde::Deserialize, TS)]
#[ts(type = "ArrayBuffer | Uint8Array")]
pub struct UploadBody;

/// The response of a download channel: raw bytes (`ArrayBuffer`).
#[derive(Debug, Serialize, TS)]
#[ts(type = "ArrayBuffer")]
pub struct DownloadBody;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_stream_yields_its_chunks_and_prints_only_its_length() {
        let stream = ByteStream::new(Some(3), vec![Ok(vec![1, 2]), Ok(vec![3])].into_iter());
        assert_eq!(stream.length(), Some(3));
        let printed = format!("{:?}", Reply::Stream(stream));
        assert!(printed.contains("length: Some(3)") && !printed.contains("[1, 2]"), "{printed}");
        let unknown = ByteStream::new(None, vec![Ok(vec![7]), Err(BridgeError::internal())].into_iter());
        assert_eq!(unknown.length(), None);
        let chunks: Vec<_> = unknown.collect();
        assert_eq!(chunks.len(), 2);
        assert!(matches!(&chunks[0], Ok(c) if c == &vec![7]));
        assert!(chunks[1].is_err());
    }
}
