//! Tollgate's window: the tao + wry adapter over the bridge (`window`), the
//! app's own scheme (`scheme`: the UI's files and the binary path), the
//! page's assets and headers (`assets`), the main window's saved bounds
//! (`window_state`), the host's file dialogs and the user input that
//! allows them (`dialogs`), what the machine gives the window (`platform`: the
//! WebKitGTK release, the display, the renderer sandbox), and the one seam through which anything that is not
//! the app sees the window (`driver`).
//!
//! The seam replaces hooks inside the adapter: the audit and the bench
//! hand the window an [`Observer`] and get a [`Driver`] back;
//! the app itself passes none, and then nothing of it runs.
//!
//! Trust: the page is hostile. The adapter tells the bridge which webview
//! a message came from and what its main frame shows (asked of WebKit,
//! never of the page); everything the page sends goes through the bridge.

#![deny(missing_docs)]

pub mod assets;
mod dialogs;
pub mod driver;
pub mod platform;
mod scheme;
mod stream;
pub mod window;
pub mod window_state;

pub use driver::{Driver, Observer, PageHandle};
pub use window::{WindowError, WindowOptions, has_display, run};

use tollgate_bridge as bridge;
