//! The cold-start floor `just bench` compares the app with: a bare tao +
//! wry window on WebKitGTK, in the same process model (one UI process, one
//! web process), whose page posts one message as soon as its script runs.
//! Prints `first-message` on stdout when the host receives it, and runs
//! until it is killed (the bench also waits for its first paint).
//! Nothing of Tollgate runs here: no plugin engine, no bridge, no sandbox,
//! no custom scheme. The window has the app window's default size, so the
//! two first frames paint the same area.

use std::process::ExitCode;

use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::platform::unix::WindowExtUnix;
use tao::dpi::PhysicalSize;
use tao::window::WindowBuilder;
use tollgate::app::window_state::DEFAULT_SIZE;
use wry::{WebViewBuilder, WebViewBuilderExtUnix};

const PAGE: &str = "<!doctype html><html><head><meta charset=utf-8><title>bare</title></head>\
<body><p>bare</p><script>window.ipc.postMessage('ready')</script></body></html>";

fn main() -> ExitCode {
    let event_loop = EventLoopBuilder::<()>::with_user_event().build();
    let window = match WindowBuilder::new()
        .with_title("bare window")
        .with_inner_size(PhysicalSize::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1))
        .build(&event_loop) {
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
        .with_html(PAGE)
        .with_ipc_handler(|_| {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "first-message");
            let _ = out.flush();
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
