//! Streamed downloads through the real window and WebKit: a page fetches
//! test channels whose streams end whole (with and without a declared
//! length), fail part way, or end short of their declared length. WebKit
//! must hand the page the whole stream, and a stream cut short must reach
//! the page as a failed download (`INTERNAL_ERROR`), never as a shorter
//! buffer. Needs a display (CI runs the tests under Xvfb).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tollgate_bridge::channels::{ALL_WINDOWS, Empty};
use tollgate_bridge::registry::{Body, ByteStream, Channel, ChannelSpec, Direction, DownloadBody, Execution, Quota};
use tollgate_bridge::{Bridge, BridgeError, ChannelRegistry, EventHub};
use tollgate_window::assets::AssetSource;
use tollgate_window::{Driver, Observer, PageHandle, WindowOptions};

/// Bytes each stream makes, in pieces of [`PIECE`].
const TOTAL: usize = 3 * 1024 * 1024 + 17;
const PIECE: usize = 64 * 1024;

fn pattern(range: std::ops::Range<usize>) -> Vec<u8> {
    range.map(|i| (i % 251) as u8).collect()
}

/// The stream's pieces; with `fail_at`, an error instead of the piece
/// that starts there.
fn pieces(fail_at: Option<usize>, total: usize) -> impl Iterator<Item = Result<Vec<u8>, BridgeError>> + Send {
    (0..total).step_by(PIECE).map(move |start| {
        if fail_at.is_some_and(|at| start >= at) {
            return Err(BridgeError::internal());
        }
        Ok(pattern(start..(start + PIECE).min(total)))
    })
}

macro_rules! stream_channel {
    ($ty:ident, $name:literal) => {
        struct $ty;
        impl Channel for $ty {
            type Request = Empty;
            type Response = DownloadBody;
            const SPEC: ChannelSpec = ChannelSpec {
                name: $name,
                summary: "A streamed download (test).",
                direction: Direction::WebviewToHost,
                windows: ALL_WINDOWS,
                max_payload_bytes: 64,
                quota: Quota { per_second: 100, burst: 100 },
                since: "1.0",
                deprecated: None,
                state_changing: false,
                execution: Execution::Inline,
                body: Body::BinaryDownload,
            };
        }
    };
}
stream_channel!(Whole, "test:whole");
stream_channel!(Unknown, "test:unknown-length");
stream_channel!(Fails, "test:fails");
stream_channel!(Short, "test:short");

fn bridge() -> Bridge {
    let mut registry = ChannelRegistry::new();
    registry.register_download_stream::<Whole, _>(|_, _| Ok(ByteStream::new(Some(TOTAL as u64), pieces(None, TOTAL)))).expect("declared");
    registry.register_download_stream::<Unknown, _>(|_, _| Ok(ByteStream::new(None, pieces(None, TOTAL)))).expect("declared");
    registry.register_download_stream::<Fails, _>(|_, _| Ok(ByteStream::new(None, pieces(Some(TOTAL / 2), TOTAL)))).expect("declared");
    // Declares one byte more than it makes.
    registry.register_download_stream::<Short, _>(|_, _| Ok(ByteStream::new(Some(TOTAL as u64 + 1), pieces(None, TOTAL)))).expect("declared");
    Bridge::with_global_quota(registry, Arc::new(EventHub::new()), Quota { per_second: 1000, burst: 1000 })
}

const PAGE_SCRIPT: &str = r#"(async () => {
  const post = (m) => window.webkit.messageHandlers.ipc.postMessage(m);
  const out = {};
  for (const channel of ["test:whole", "test:unknown-length", "test:fails", "test:short"]) {
    try {
      const bytes = new Uint8Array(await tollgate.download(channel, {}));
      let firstMismatch = -1;
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== i % 251) { firstMismatch = i; break; }
      out[channel] = { ok: true, length: bytes.length, firstMismatch };
    } catch (e) {
      out[channel] = { ok: false, code: e && e.code, message: String(e && e.message) };
    }
  }
  // The host still answers afterwards.
  try { out.after = { ok: true, length: (await tollgate.download("test:whole", {})).byteLength }; }
  catch (e) { out.after = { ok: false, code: e && e.code }; }
  post("test:result\n" + JSON.stringify(out));
})();"#;

#[derive(Default)]
struct Probe {
    driver: Mutex<Option<Driver>>,
    result: Mutex<Option<String>>,
}

impl Observer for Probe {
    fn started(&self, driver: Driver) {
        if let Ok(mut slot) = self.driver.lock() {
            *slot = Some(driver);
        }
    }

    fn page_ready(&self, page: &PageHandle<'_>) {
        page.evaluate(PAGE_SCRIPT);
    }

    fn message(&self, body: &str, _page: &PageHandle<'_>) -> bool {
        let Some(result) = body.strip_prefix("test:result\n") else { return false };
        if let Ok(mut slot) = self.result.lock() {
            *slot = Some(result.to_owned());
        }
        if let Some(driver) = self.driver.lock().ok().and_then(|d| d.clone()) {
            driver.quit();
        }
        true
    }
}

fn main() {
    let assets = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        assets.path().join("index.html"),
        "<!doctype html><html><head><meta charset=utf-8><title>stream</title></head><body data-ready=\"true\"></body></html>",
    )
    .expect("page");
    let data = tempfile::tempdir().expect("temp dir");
    let probe = Arc::new(Probe::default());
    let options = WindowOptions {
        data_dir: data.path().to_path_buf(),
        assets: AssetSource::Directory(assets.path().to_path_buf()),
        screenshot: None,
        allow_automation: false,
        opener: None,
        trust_prompt: None,
        file_dialogs: None,
        observer: Some(Arc::clone(&probe) as Arc<dyn Observer>),
    };
    tollgate_window::run(Arc::new(bridge()), options).expect("the window ran");
    let text = probe.result.lock().ok().and_then(|r| r.clone()).expect("the page reported");
    let r: Value = serde_json::from_str(&text).expect("json");
    for channel in ["test:whole", "test:unknown-length"] {
        assert_eq!(r[channel], json!({"ok": true, "length": TOTAL, "firstMismatch": -1}), "{channel}: {r}");
    }
    for channel in ["test:fails", "test:short"] {
        assert_eq!(r[channel]["ok"], false, "{channel} must fail, not arrive short: {r}");
        assert_eq!(r[channel]["code"], "INTERNAL_ERROR", "{channel}: {r}");
    }
    assert_eq!(r["after"], json!({"ok": true, "length": TOTAL}), "{r}");
    println!("streamed downloads: whole, unknown length, failing and short streams as expected");
}
