//! The desktop app, as the `tollgate` binary puts it together: the
//! services and channels of `tollgate-app` (tested without a window) and
//! the window of `tollgate-window` (the tao + wry adapter over the
//! bridge). Re-exported here so that one path names each part.

pub use tollgate_app::{AppError, AppServices, SignerIsolation, build_bridge};
pub use tollgate_app::{bundle, channels, dev_plugins, file_dialogs, key_files, services, tokens, trust_prompt, window_opener};
pub use tollgate_window::{assets, driver, platform, window, window_state};
