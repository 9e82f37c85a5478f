//! The desktop app: its services and channels (library code, tested
//! without a window) and the window itself (`window`, the tao + wry
//! adapter over the bridge).

pub mod assets;
pub mod bench_probe;
pub mod channels;
pub mod dev_plugins;
pub(crate) mod scheme;
pub mod services;
pub mod tokens;
pub mod trust_prompt;
pub mod window;
pub mod window_opener;
pub mod window_state;

pub use services::{AppError, AppServices, build_bridge};
