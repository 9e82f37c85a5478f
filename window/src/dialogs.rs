//! The host's file dialogs (`tollgate_app::file_dialogs`), and the user
//! input that allows one to open.
//!
//! A dialog opens only if the window that asks saw a real click or key
//! press within [`GESTURE_WINDOW`]: a GDK event on its webview widget.
//! Page script can make DOM events (`element.click()`, `dispatchEvent`),
//! but those stay inside the web process and never reach GTK, so a hostile
//! page can't open a dialog on its own, let alone one after another. Each
//! input opens at most one dialog; one dialog is open at a time. The
//! dialog is GTK's, outside the webview: page script can't see or press
//! it, and the path the user picks goes to the channel's handler only.
//!
//! Files dropped on a window never reach its page: the drop handler takes
//! every file drop from WebKit (which would otherwise hand the page the
//! files' bytes through the DOM's `drop` event). On the main window one
//! dropped file is held for `keys:import-dropped` and announced as
//! `keys:file-dropped` (a count, no name); anything else is dropped.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::Sender;
use std::time::Instant;

use std::sync::Arc;

use tollgate_app::channels::keys::{KeyFileDropped, KeyFileDroppedEvent};
use tollgate_app::file_dialogs::{DialogKind, DialogRefusal, FileDialogs, GESTURE_WINDOW, Picked};
use wry::DragDropEvent;

use crate::bridge::WindowLabel;
use crate::bridge::events::EventHub;

/// The webview's drop handler for `label`: every file drop is kept from
/// WebKit (`true`); on the main window a drop of one file is held in
/// `dialogs` and announced to the page.
pub(crate) fn drop_handler(label: WindowLabel, dialogs: Option<Arc<FileDialogs>>, events: Arc<EventHub>) -> impl Fn(DragDropEvent) -> bool + 'static {
    move |event| {
        let DragDropEvent::Drop { paths, .. } = event else {
            return false;
        };
        let files = u32::try_from(paths.len()).unwrap_or(u32::MAX);
        tracing::info!(window = label.as_str(), files, "files dropped on the window: kept from the page");
        if label != WindowLabel::Main {
            return true;
        }
        let Some(dialogs) = &dialogs else { return true };
        if let [path] = paths.as_slice() {
            dialogs.dropped(label, path.clone());
        }
        events.emit::<KeyFileDroppedEvent>(&KeyFileDropped { files });
        true
    }
}

/// The last real input each window's webview saw, and whether a dialog is
/// open. Lives on the event loop's thread.
#[derive(Default, Clone)]
pub(crate) struct Dialogs {
    last_input: Rc<RefCell<HashMap<WindowLabel, Instant>>>,
    open: Rc<Cell<bool>>,
}

impl Dialogs {
    /// Notes each button or key press GTK delivers to `view`; the event
    /// goes on to WebKit as before.
    pub(crate) fn watch(&self, view: &webkit2gtk::WebView, label: WindowLabel) {
        use gtk::prelude::WidgetExt;
        let seen = Rc::clone(&self.last_input);
        view.connect_button_press_event(move |_, _| {
            seen.borrow_mut().insert(label, Instant::now());
            gtk::glib::Propagation::Proceed
        });
        let seen = Rc::clone(&self.last_input);
        view.connect_key_press_event(move |_, _| {
            seen.borrow_mut().insert(label, Instant::now());
            gtk::glib::Propagation::Proceed
        });
    }

    /// Takes `label`'s last input if it is recent enough to open a dialog.
    fn take_gesture(&self, label: WindowLabel) -> bool {
        self.last_input.borrow_mut().remove(&label).is_some_and(|at| at.elapsed() <= GESTURE_WINDOW)
    }

    /// Why no dialog may open for `label` now (and the input it used up
    /// if one may), logged as a security event when the page asked
    /// without the user.
    fn refusal(&self, label: WindowLabel, parent: Option<&gtk::Window>, what: &str) -> Option<DialogRefusal> {
        let refusal = if self.open.get() {
            Some(DialogRefusal::Busy)
        } else if parent.is_none() {
            Some(DialogRefusal::NoWindow)
        } else if !self.take_gesture(label) {
            Some(DialogRefusal::NoGesture)
        } else {
            None
        };
        if refusal == Some(DialogRefusal::NoGesture) {
            tracing::warn!(
                target: "tollgate::security",
                category = "security",
                event = "DIALOG_REFUSED",
                window = label.as_str(),
                dialog = what,
                reason = "no click or key press in the window just before",
                "the window refused to open a dialog the page asked for"
            );
        }
        refusal
    }

    /// Asks whether key sets may be fetched from `host`, in a dialog over
    /// `parent`, or refuses; the answer goes to `answer`.
    pub(crate) fn confirm_host(&self, label: WindowLabel, parent: Option<&gtk::Window>, host: &str, answer: Sender<Result<bool, DialogRefusal>>) {
        use gtk::prelude::*;
        if let Some(refusal) = self.refusal(label, parent, "Allow key sets from a host") {
            let _ = answer.send(Err(refusal));
            return;
        }
        self.open.set(true);
        let open = Rc::clone(&self.open);
        let dialog = gtk::MessageDialog::new(
            parent,
            gtk::DialogFlags::MODAL | gtk::DialogFlags::DESTROY_WITH_PARENT,
            gtk::MessageType::Question,
            gtk::ButtonsType::None,
            &format!("Fetch key sets from {host}?"),
        );
        dialog.set_title("Allow key sets from a host");
        dialog.set_secondary_text(Some(
            "Tollgate will ask this host for JSON Web Key Sets when you verify tokens against a URL on it, now and later, until you forget the host. Nothing else is sent to it but the request for the URL you gave.",
        ));
        dialog.add_button("_Don't allow", gtk::ResponseType::Cancel);
        dialog.add_button("_Allow", gtk::ResponseType::Accept);
        dialog.set_default_response(gtk::ResponseType::Cancel);
        dialog.connect_response(move |dialog, response| {
            open.set(false);
            let _ = answer.send(Ok(response == gtk::ResponseType::Accept));
            dialog.close();
        });
        dialog.show_all();
    }

    /// Opens `kind`'s dialog over `parent` for `label`, or refuses; the
    /// outcome goes to `answer` (when the user closes the dialog, for one
    /// that opened).
    pub(crate) fn pick(&self, label: WindowLabel, parent: Option<&gtk::Window>, kind: DialogKind, answer: Sender<Picked>) {
        if let Some(refusal) = self.refusal(label, parent, kind.title()) {
            let _ = answer.send(Err(refusal));
            return;
        }
        self.open.set(true);
        let open = Rc::clone(&self.open);
        show(parent, kind, move |picked| {
            open.set(false);
            let _ = answer.send(Ok(picked));
        });
    }
}

/// GTK's own file chooser, modal over `parent`, local files only.
fn show(parent: Option<&gtk::Window>, kind: DialogKind, done: impl Fn(Option<PathBuf>) + 'static) {
    use gtk::prelude::*;
    let (action, accept) = if kind.saves() { (gtk::FileChooserAction::Save, "_Save") } else { (gtk::FileChooserAction::Open, "_Open") };
    let dialog = gtk::FileChooserDialog::with_buttons(
        Some(kind.title()),
        parent,
        action,
        &[("_Cancel", gtk::ResponseType::Cancel), (accept, gtk::ResponseType::Accept)],
    );
    dialog.set_modal(true);
    dialog.set_destroy_with_parent(true);
    dialog.set_local_only(true);
    dialog.set_default_response(gtk::ResponseType::Accept);
    let filter = gtk::FileFilter::new();
    match kind {
        DialogKind::OpenKeyFile => {
            filter.set_name(Some("Key files (PEM, DER, JWK)"));
            for pattern in ["*.pem", "*.key", "*.der", "*.jwk", "*.json", "*.txt"] {
                filter.add_pattern(pattern);
            }
        }
        DialogKind::OpenKeySet | DialogKind::SaveKeySet => {
            filter.set_name(Some("Key sets (JSON)"));
            filter.add_pattern("*.json");
            filter.add_pattern("*.jwks");
        }
        DialogKind::OpenBundle | DialogKind::SaveBundle => {
            filter.set_name(Some("Tollgate profile bundles"));
            filter.add_pattern("*.tollgate-profiles");
        }
    }
    if kind.saves() {
        dialog.set_do_overwrite_confirmation(true);
        dialog.set_current_name(if kind == DialogKind::SaveBundle { "profiles.tollgate-profiles" } else { "jwks.json" });
    } else {
        dialog.add_filter(filter);
        let all = gtk::FileFilter::new();
        all.set_name(Some("All files"));
        all.add_pattern("*");
        dialog.add_filter(all);
    }
    dialog.connect_response(move |dialog, response| {
        let picked = (response == gtk::ResponseType::Accept).then(|| dialog.filename()).flatten();
        tracing::info!(dialog = kind.title(), picked = picked.is_some(), "file dialog closed");
        done(picked);
        dialog.close();
    });
    dialog.show_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_opens_one_dialog_and_only_while_it_is_fresh() {
        let dialogs = Dialogs::default();
        assert!(!dialogs.take_gesture(WindowLabel::Main), "no input yet");
        dialogs.last_input.borrow_mut().insert(WindowLabel::Main, Instant::now());
        assert!(!dialogs.take_gesture(WindowLabel::About), "the input was in another window");
        assert!(dialogs.take_gesture(WindowLabel::Main));
        assert!(!dialogs.take_gesture(WindowLabel::Main), "one input, one dialog");
        let stale = Instant::now().checked_sub(GESTURE_WINDOW + std::time::Duration::from_millis(100)).expect("an instant in the past");
        dialogs.last_input.borrow_mut().insert(WindowLabel::Main, stale);
        assert!(!dialogs.take_gesture(WindowLabel::Main), "an input too long ago");
    }
}
