//! The raw wry transfer floor: a tao + wry window whose page moves 1 MiB
//! up and down wry's own custom protocol (`floor://`), as a plain wry app
//! would, with nothing of Tollgate in the way: no secret, no checks, no
//! caps. wry reads an upload whole (its `linux-body` feature) before the
//! handler sees it, and copies a download into WebKit's memory stream.
//!
//! Its handlers do the same work as the bridge's diagnostics channels, so
//! the comparison is of the transports: an upload is answered with its
//! size and SHA-256 (`diag:upload`), a download is the same 1 MiB pattern,
//! made per request (`diag:download`).
//!
//! The page times its transfers the way the bench's bridge page does (one
//! of each to warm up, then `TRANSFERS` of each, page-timed) and posts one
//! JSON line, which this prints on stdout before it exits:
//! `{"upload_ms_per_mib": …, "download_ms_per_mib": …}` or `{"error": …}`.

use std::borrow::Cow;
use std::process::ExitCode;

use tao::dpi::PhysicalSize;
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::platform::unix::WindowExtUnix;
use tao::window::WindowBuilder;
use wry::http::{Response, header};
use wry::{WebViewBuilder, WebViewBuilderExtUnix};

/// The app window's default size (`window_state::DEFAULT_SIZE` in the
/// main workspace), so both pages run in the same window.
const SIZE: (u32, u32) = (1100, 760);
/// Bytes per transfer.
const MIB: usize = 1 << 20;

const PAGE: &str = r#"<!doctype html><html><head><meta charset="utf-8"><title>wry floor</title></head><body><p>wry floor</p>
<script>
(async () => {
  const post = (m) => window.ipc.postMessage(m);
  const TRANSFERS = 20;
  try {
    const mib = 1 << 20;
    const up = new Uint8Array(mib);
    for (let i = 0; i < mib; i++) up[i] = i & 255;
    const upload = async () => {
      const r = await fetch("floor://localhost/upload", { method: "POST", body: up });
      const n = Number((await r.text()).split(" ")[0]);
      if (n !== mib) throw new Error("upload answered " + n + " bytes");
    };
    const download = async () => {
      const b = await (await fetch("floor://localhost/download", { cache: "no-store" })).arrayBuffer();
      if (b.byteLength !== mib) throw new Error("download gave " + b.byteLength + " bytes");
    };
    await upload();
    let t0 = performance.now();
    for (let i = 0; i < TRANSFERS; i++) await upload();
    const upMs = (performance.now() - t0) / TRANSFERS;
    await download();
    t0 = performance.now();
    for (let i = 0; i < TRANSFERS; i++) await download();
    const downMs = (performance.now() - t0) / TRANSFERS;
    post(JSON.stringify({ upload_ms_per_mib: upMs, download_ms_per_mib: downMs }));
  } catch (e) {
    post(JSON.stringify({ error: String((e && e.message) || e) }));
  }
})();
</script></body></html>"#;

fn main() -> ExitCode {
    let event_loop = EventLoopBuilder::<()>::with_user_event().build();
    let window = match WindowBuilder::new()
        .with_title("wry floor")
        .with_inner_size(PhysicalSize::new(SIZE.0, SIZE.1))
        .build(&event_loop)
    {
        Ok(window) => window,
        Err(e) => {
            eprintln!("error: no window: {e}");
            return ExitCode::from(1);
        }
    };
    let Some(vbox) = window.default_vbox() else {
        eprintln!("error: the window has no GTK container");
        return ExitCode::from(1);
    };
    let built = WebViewBuilder::new()
        .with_custom_protocol("floor".into(), move |_id, request| {
            let (content_type, body): (&str, Cow<'static, [u8]>) = match request.uri().path() {
                "/upload" => {
                    use sha2::Digest as _;
                    let digest = sha2::Sha256::digest(request.body());
                    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                    ("text/plain", Cow::Owned(format!("{} {hex}", request.body().len()).into_bytes()))
                }
                "/download" => ("application/octet-stream", Cow::Owned((0..MIB).map(|i| (i % 251) as u8).collect())),
                _ => ("text/html", Cow::Borrowed(PAGE.as_bytes())),
            };
            Response::builder()
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
                .unwrap_or_else(|_| Response::new(Cow::Borrowed(&[][..])))
        })
        .with_url("floor://localhost/index.html")
        .with_ipc_handler(|request| {
            println!("{}", request.body());
            std::process::exit(0);
        })
        .build_gtk(vbox);
    let _webview = match built {
        Ok(webview) => webview,
        Err(e) => {
            eprintln!("error: no webview: {e}");
            return ExitCode::from(1);
        }
    };
    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        if let Event::LoopDestroyed = event {
            let _ = &window;
        }
    })
}
