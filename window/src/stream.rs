//! A streamed download's body as WebKit reads it: a `GInputStream` the
//! host feeds from a [`ByteStream`], so a large answer is never held whole
//! (nor copied into one `GBytes`).
//!
//! A producer thread pulls the stream's chunks and hands them over a
//! channel of [`IN_FLIGHT`] chunks; WebKit's reads take them on GIO's
//! worker threads. When WebKit stops reading (the page aborted, the
//! webview went away) the stream is dropped, the channel closes and the
//! producer stops at its next chunk. A chunk that is an error, or an end
//! short of a declared length, makes the next read fail, and WebKit fails
//! the page's fetch: a stream cut short is never taken for a whole one.
//!
//! At most [`MAX_STREAMS`] streams run at once, all windows together
//! (each holds a thread); the next download is refused with
//! `RATE_LIMITED` until one ends.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use gtk::gio;
use gtk::glib;
use gtk::subclass::prelude::*;

use crate::bridge::registry::ByteStream;

/// Chunks on their way to WebKit per stream (with one being read and one
/// being made, what a stream holds at most).
pub(crate) const IN_FLIGHT: usize = 4;

/// Streams running at once, over all windows.
pub(crate) const MAX_STREAMS: usize = 8;

/// Streams running now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// What the producer sends: a chunk, or why the stream failed.
type Piece = Result<Vec<u8>, String>;

/// A place among the [`MAX_STREAMS`], given back when dropped.
pub(crate) struct Slot(());

impl Slot {
    /// A place, or `None` when [`MAX_STREAMS`] streams are running.
    pub(crate) fn take() -> Option<Self> {
        RUNNING
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_STREAMS).then_some(n + 1))
            .ok()
            .map(|_| Self(()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Streams running now (for tests).
#[cfg(test)]
pub(crate) fn running() -> usize {
    RUNNING.load(Ordering::Acquire)
}

mod imp {
    use super::*;

    /// What a read has to go on.
    #[derive(Default)]
    pub struct State {
        pub(super) receiver: Option<Receiver<Piece>>,
        /// The chunk being read and how far.
        pub(super) chunk: Vec<u8>,
        pub(super) offset: usize,
        /// Bytes handed to WebKit so far, and how many were declared.
        pub(super) sent: u64,
        pub(super) length: Option<u64>,
        /// Set once the stream failed: every later read fails too.
        pub(super) failed: Option<String>,
    }

    #[derive(Default)]
    pub struct ChunkStream {
        pub(super) state: Mutex<State>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ChunkStream {
        const NAME: &'static str = "TollgateChunkStream";
        type Type = super::ChunkStream;
        type ParentType = gio::InputStream;
    }

    impl ObjectImpl for ChunkStream {}

    impl InputStreamImpl for ChunkStream {
        fn read(&self, buffer: &mut [u8], _cancellable: Option<&gio::Cancellable>) -> Result<usize, glib::Error> {
            let failed = |why: &str| glib::Error::new(gio::IOErrorEnum::Failed, why);
            let mut state = self.state.lock().map_err(|_| failed("the stream's state was poisoned"))?;
            if let Some(why) = &state.failed {
                return Err(failed(why));
            }
            while state.offset >= state.chunk.len() {
                let next = state.receiver.as_ref().map(|r| r.recv());
                match next {
                    Some(Ok(Ok(chunk))) => {
                        state.chunk = chunk;
                        state.offset = 0;
                    }
                    Some(Ok(Err(why))) => {
                        state.failed = Some(why.clone());
                        return Err(failed(&why));
                    }
                    // The producer is done (its sender dropped), or was
                    // never there: the end, if it is where it was declared.
                    Some(Err(_)) | None => {
                        state.receiver = None;
                        if let Some(length) = state.length
                            && state.sent != length
                        {
                            let why = format!("the download ended after {} of its {length} bytes", state.sent);
                            state.failed = Some(why.clone());
                            return Err(failed(&why));
                        }
                        return Ok(0);
                    }
                }
            }
            let n = buffer.len().min(state.chunk.len() - state.offset);
            let start = state.offset;
            buffer[..n].copy_from_slice(&state.chunk[start..start + n]);
            state.offset += n;
            state.sent += n as u64;
            Ok(n)
        }

        fn close(&self, _cancellable: Option<&gio::Cancellable>) -> Result<(), glib::Error> {
            // Dropping the receiver stops the producer at its next chunk.
            if let Ok(mut state) = self.state.lock() {
                state.receiver = None;
                state.chunk = Vec::new();
            }
            Ok(())
        }
    }
}

glib::wrapper! {
    /// A `GInputStream` over a [`ByteStream`] (see the module's docs).
    pub struct ChunkStream(ObjectSubclass<imp::ChunkStream>) @extends gio::InputStream;
}

impl ChunkStream {
    /// The input stream for `stream`, and the thread that feeds it (which
    /// holds `slot` until the stream ends). Fails only when the thread
    /// can't be started.
    pub(crate) fn start(stream: ByteStream, slot: Slot) -> std::io::Result<Self> {
        let this: Self = glib::Object::new();
        let (sender, receiver) = sync_channel::<Piece>(IN_FLIGHT);
        if let Ok(mut state) = this.imp().state.lock() {
            state.receiver = Some(receiver);
            state.length = stream.length();
        }
        std::thread::Builder::new().name("bridge-stream".into()).spawn(move || produce(stream, &sender, slot))?;
        Ok(this)
    }
}

/// Pulls `stream`'s chunks into `sender` until the end, an error, or the
/// reader's going away.
fn produce(stream: ByteStream, sender: &SyncSender<Piece>, slot: Slot) {
    for chunk in stream {
        let piece = chunk.map_err(|e| format!("{}: {}", e.code.as_str(), e.message));
        let stop = piece.is_err();
        if sender.send(piece).is_err() || stop {
            break;
        }
    }
    drop(slot);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::BridgeError;
    use gio::prelude::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    fn chunks_of(data: Vec<u8>, size: usize) -> impl Iterator<Item = Result<Vec<u8>, BridgeError>> + Send {
        data.chunks(size).map(|c| Ok(c.to_vec())).collect::<Vec<_>>().into_iter()
    }

    fn read_all(stream: &ChunkStream) -> Result<Vec<u8>, glib::Error> {
        let mut out = Vec::new();
        let mut buffer = vec![0u8; 10_000];
        loop {
            let n = stream.read(&mut buffer[..], gio::Cancellable::NONE)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buffer[..n]);
        }
    }

    /// Waits (up to 5 s) for the producers of this test to end.
    fn wait_for(running: usize) {
        let started = std::time::Instant::now();
        while super::running() > running && started.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    // The tests share the count of running streams: one test at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn a_stream_reads_back_exactly_its_chunks_with_or_without_a_length() {
        let _serial = SERIAL.lock();
        for length in [Some(1_000_003), None] {
            let data = pattern(1_000_003);
            let stream = ByteStream::new(length, chunks_of(data.clone(), 65_536));
            let input = ChunkStream::start(stream, Slot::take().expect("a slot")).expect("started");
            assert_eq!(read_all(&input).expect("read"), data, "length {length:?}");
        }
        wait_for(0);
        assert_eq!(running(), 0, "every producer gave its slot back");
    }

    #[test]
    fn an_error_chunk_or_a_short_end_fails_the_read_and_keeps_failing() {
        let _serial = SERIAL.lock();
        let failing = vec![Ok(pattern(100)), Err(BridgeError::internal())].into_iter();
        let input = ChunkStream::start(ByteStream::new(None, failing), Slot::take().expect("a slot")).expect("started");
        let error = read_all(&input).expect_err("the error chunk fails the read");
        assert!(error.message().contains("INTERNAL_ERROR"), "{error}");
        assert!(read_all(&input).is_err(), "a failed stream stays failed");

        let short = ByteStream::new(Some(200), chunks_of(pattern(150), 64));
        let input = ChunkStream::start(short, Slot::take().expect("a slot")).expect("started");
        let error = read_all(&input).expect_err("an end short of the declared length fails");
        assert!(error.message().contains("150 of its 200 bytes"), "{error}");
    }

    #[test]
    fn a_reader_that_goes_away_stops_the_producer() {
        let _serial = SERIAL.lock();
        let made = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&made);
        // An endless stream: only the reader's going away ends it.
        let endless = std::iter::repeat_with(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(vec![0u8; 1024])
        });
        let input = ChunkStream::start(ByteStream::new(None, endless), Slot::take().expect("a slot")).expect("started");
        let mut buffer = [0u8; 1024];
        assert_eq!(input.read(&mut buffer[..], gio::Cancellable::NONE).expect("read"), 1024);
        input.close(gio::Cancellable::NONE).expect("closed");
        drop(input);
        wait_for(0);
        assert_eq!(running(), 0, "the producer stopped");
        // One read, the chunks in flight, and the one made as it noticed.
        assert!(made.load(Ordering::Relaxed) <= IN_FLIGHT + 3, "made {} chunks", made.load(Ordering::Relaxed));
    }

    #[test]
    fn no_more_than_max_streams_run_at_once() {
        let _serial = SERIAL.lock();
        let slots: Vec<Slot> = std::iter::from_fn(Slot::take).take(MAX_STREAMS + 1).collect();
        assert_eq!(slots.len(), MAX_STREAMS);
        assert!(Slot::take().is_none());
        drop(slots);
        assert!(Slot::take().is_some(), "slots are given back");
    }
}
