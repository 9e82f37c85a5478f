//! First paint, as the X server has it: the first moment a window's
//! pixels show anything but one colour. Read the same way for the app and
//! for the bare wry window, from outside both, so neither page has to
//! report it (a page can say when it asked for a frame, not when the frame
//! reached the screen).
//!
//! Before a web view's first frame, a window is one colour (GTK's
//! background, then the web view's); the first frame with text or borders
//! in it is not. Only a strip at the top left is read on each poll (the
//! app's header and the bare page's one line both paint there), so polling
//! every millisecond costs the measured start little.

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, ImageFormat, MapState, Window};
use x11rb::rust_connection::RustConnection;

/// The strip read on each poll, in pixels from the window's top left.
const STRIP: (u16, u16) = (480, 64);

/// Watches for the first paint of the top-level window with one title.
pub struct PaintWatch {
    conn: RustConnection,
    root: Window,
    title: &'static str,
    window: Option<Window>,
}

impl PaintWatch {
    /// Connects to the display in `DISPLAY`; `None` when there is none.
    pub fn connect(title: &'static str) -> Option<Self> {
        let (conn, screen) = x11rb::connect(None).ok()?;
        let root = conn.setup().roots.get(screen)?.root;
        Some(Self { conn, root, title, window: None })
    }

    /// Whether the window has painted: it exists, is viewable, and its
    /// top-left strip is not one colour. Any X error (the window not yet
    /// there, or gone) reads as "not yet".
    pub fn painted(&mut self) -> bool {
        let Some(window) = self.window.or_else(|| self.find()) else {
            return false;
        };
        self.window = Some(window);
        let viewable = self
            .conn
            .get_window_attributes(window)
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .is_some_and(|attributes| attributes.map_state == MapState::VIEWABLE);
        if !viewable {
            return false;
        }
        let Some(geometry) = self.conn.get_geometry(window).ok().and_then(|cookie| cookie.reply().ok()) else {
            return false;
        };
        let (width, height) = (geometry.width.min(STRIP.0), geometry.height.min(STRIP.1));
        let image = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, window, 0, 0, width, height, !0)
            .ok()
            .and_then(|cookie| cookie.reply().ok());
        image.is_some_and(|image| more_than_one_colour(&image.data, bytes_per_pixel(image.depth)))
    }

    /// The top-level window whose WM_NAME is the title (no window manager
    /// runs on the bench's Xvfb, so top-level windows are the root's
    /// children).
    fn find(&self) -> Option<Window> {
        let tree = self.conn.query_tree(self.root).ok()?.reply().ok()?;
        tree.children.into_iter().find(|&child| {
            self.conn
                .get_property(false, child, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 64)
                .ok()
                .and_then(|cookie| cookie.reply().ok())
                .is_some_and(|name| name.value == self.title.as_bytes())
        })
    }
}

/// Bytes per pixel of a Z-pixmap image of this depth (24 and 32 are
/// padded to 4).
fn bytes_per_pixel(depth: u8) -> usize {
    match depth {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    }
}

/// Whether the pixels are not all the same colour (the padding byte of a
/// 24-bit pixel is left out).
fn more_than_one_colour(data: &[u8], bytes_per_pixel: usize) -> bool {
    let colour = bytes_per_pixel.min(3);
    let mut pixels = data.chunks_exact(bytes_per_pixel).map(|pixel| &pixel[..colour]);
    let Some(first) = pixels.next() else {
        return false;
    };
    pixels.any(|pixel| pixel != first)
}

#[cfg(test)]
mod tests {
    use super::more_than_one_colour;

    #[test]
    fn one_colour_is_not_a_paint_and_one_other_pixel_is() {
        let blank = [0xf6, 0xf5, 0xf4, 0x00].repeat(100);
        assert!(!more_than_one_colour(&blank, 4));
        // The padding byte differs: still one colour.
        let mut padded = blank.clone();
        padded[43] = 0xff;
        assert!(!more_than_one_colour(&padded, 4));
        let mut painted = blank;
        painted[41] = 0x10;
        assert!(more_than_one_colour(&painted, 4));
        assert!(!more_than_one_colour(&[], 4));
    }
}
