//! The main window's size and position, remembered between runs in
//! `window-state.json` under the app's data directory. A missing or
//! unreadable file means defaults; values off any plausible screen are
//! ignored rather than trusted.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The default inner size.
pub const DEFAULT_SIZE: (u32, u32) = (1100, 760);
/// Smallest size the layout works at.
pub const MIN_SIZE: (u32, u32) = (800, 600);
/// Largest plausible coordinate or size: anything beyond is a corrupt file.
const MAX_EXTENT: i64 = 32_768;

/// Saved bounds, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowBounds {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Inner width.
    pub width: u32,
    /// Inner height.
    pub height: u32,
}

impl WindowBounds {
    fn plausible(&self) -> bool {
        let coord = |v: i32| (-MAX_EXTENT..=MAX_EXTENT).contains(&i64::from(v));
        coord(self.x)
            && coord(self.y)
            && (MIN_SIZE.0..=MAX_EXTENT as u32).contains(&self.width)
            && (MIN_SIZE.1..=MAX_EXTENT as u32).contains(&self.height)
    }
}

/// Where the state lives.
pub fn state_path(data_dir: &Path) -> PathBuf {
    data_dir.join("window-state.json")
}

/// The saved bounds, if there are plausible ones.
pub fn load(data_dir: &Path) -> Option<WindowBounds> {
    let text = std::fs::read_to_string(state_path(data_dir)).ok()?;
    match serde_json::from_str::<WindowBounds>(&text) {
        Ok(bounds) if bounds.plausible() => Some(bounds),
        Ok(_) => {
            tracing::warn!("saved window bounds are off any plausible screen; using defaults");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "saved window bounds are unreadable; using defaults");
            None
        }
    }
}

/// Saves bounds atomically (temp file, fsync, rename).
pub fn save(data_dir: &Path, bounds: &WindowBounds) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(data_dir)?;
    tmp.write_all(serde_json::to_string_pretty(bounds).map_err(std::io::Error::other)?.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(state_path(data_dir)).map_err(|e| e.error)?;
    if let Ok(dir) = std::fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_round_trip_and_implausible_ones_are_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(load(dir.path()), None);
        let bounds = WindowBounds { x: 10, y: 20, width: 1000, height: 700 };
        save(dir.path(), &bounds).expect("saved");
        assert_eq!(load(dir.path()), Some(bounds));
        save(dir.path(), &WindowBounds { x: 0, y: 0, width: 10, height: 10 }).expect("saved");
        assert_eq!(load(dir.path()), None);
        std::fs::write(state_path(dir.path()), "{not json").expect("write");
        assert_eq!(load(dir.path()), None);
    }
}
