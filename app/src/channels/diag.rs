//! `diag:*`: diagnostics for the test suite, the audit and the bench: an
//! event round trip, and the binary upload and download paths.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::channels::{MAX_DIAG_BYTES, READ};
use crate::services::AppServices;
use crate::bridge::channels::Empty;
use crate::bridge::events::Event;
use crate::bridge::registry::{Body, Channel, ChannelRegistry, ChannelSpec, DownloadBody, Execution, Quota, RegistryError, UploadBody};
use crate::bridge::BridgeError;

/// `diag:emit` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct DiagEmitRequest {
    /// Text echoed back in a `diag:echo` event.
    pub message: String,
}

/// `diag:emit`: makes the host send a `diag:echo` event to subscribers. For
/// testing the event path end to end.
pub struct DiagEmit;
impl Channel for DiagEmit {
    type Request = DiagEmitRequest;
    type Response = Empty;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "diag:emit",
        summary: "Sends a diag:echo event to every subscribed window (diagnostics).",
        max_payload_bytes: 1024,
        state_changing: true,
        ..READ
    };
}

/// `diag:echo` payload.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DiagEcho {
    /// The text sent to `diag:emit`.
    pub message: String,
    /// How many echoes this run has sent.
    pub seq: u32,
}

/// `diag:echo`.
pub struct DiagEchoEvent;
impl Event for DiagEchoEvent {
    type Payload = DiagEcho;
    const NAME: &'static str = "diag:echo";
    const SUMMARY: &'static str = "Answer to diag:emit (diagnostics).";
    const SINCE: &'static str = "1.0";
}

/// `diag:upload` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UploadReceipt {
    /// Bytes received.
    pub bytes: u32,
    /// Their SHA-256, hex.
    pub sha256: String,
}

/// `diag:upload`: receives raw bytes (the binary path's check).
pub struct DiagUpload;
impl Channel for DiagUpload {
    type Request = UploadBody;
    type Response = UploadReceipt;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "diag:upload",
        summary: "Receives raw bytes and answers their size and SHA-256 (diagnostics, benchmarks).",
        max_payload_bytes: MAX_DIAG_BYTES,
        quota: Quota { per_second: 200, burst: 200 },
        body: Body::BinaryUpload,
        execution: Execution::Heavy,
        ..READ
    };
}

/// `diag:download` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct DownloadRequest {
    /// How many bytes to send.
    pub bytes: u32,
}

/// `diag:download`: sends raw bytes (a repeating pattern).
pub struct DiagDownload;
impl Channel for DiagDownload {
    type Request = DownloadRequest;
    type Response = DownloadBody;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "diag:download",
        summary: "Sends the number of bytes asked for (diagnostics, benchmarks).",
        max_payload_bytes: 256,
        quota: Quota { per_second: 200, burst: 200 },
        body: Body::BinaryDownload,
        ..READ
    };

    fn validate(request: &DownloadRequest) -> Result<(), BridgeError> {
        if request.bytes as usize > MAX_DIAG_BYTES {
            return Err(BridgeError::validation(format!("at most {MAX_DIAG_BYTES} bytes")));
        }
        Ok(())
    }
}

/// Registers `diag:emit`, `diag:upload` and `diag:download`.
pub fn register(registry: &mut ChannelRegistry, _services: &Arc<AppServices>) -> Result<(), RegistryError> {

    let seq = Arc::new(std::sync::atomic::AtomicU32::new(0));
    registry.register::<DiagEmit, _>(move |ctx, req: DiagEmitRequest| {
        let seq = seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        ctx.events.emit::<DiagEchoEvent>(&DiagEcho { message: req.message, seq });
        Ok(Empty {})
    })?;

    registry.register_upload::<DiagUpload, _>(|_, bytes| {
        Ok(UploadReceipt { bytes: u32::try_from(bytes.len()).unwrap_or(u32::MAX), sha256: hex::encode(Sha256::digest(&bytes)) })
    })?;
    // Whole, not streamed: at most 8 MiB, and WebKit takes a buffer it can
    // read without a thread (a stream costs one per 8 KiB read:
    // docs/benchmarks.md).
    registry.register_download::<DiagDownload, _>(|_, req: DownloadRequest| {
        Ok((0..req.bytes).map(|i| (i % 251) as u8).collect())
    })?;
    Ok(())
}
