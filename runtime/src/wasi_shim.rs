//! Capability-less WASI: the interfaces of `policy::WASI_TABLE` that are
//! linked, and nothing else. A guest gets empty environment and stdin, its
//! stdout and stderr go to the host's log line by line (or are withheld
//! while a call carries key material), and randomness comes from the host.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::{cli, random, sync::io};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::{WasiCtx, WasiView};

/// The longest line of guest output written to the log; the rest of the
/// line is cut. Bounds what a guest can put in one log record.
pub const MAX_GUEST_LINE_BYTES: usize = 1024;

/// Guest output kept while waiting for a newline; past it the buffer is
/// logged as one line. Bounds host memory a guest can hold in the sink.
const MAX_PENDING_OUTPUT_BYTES: usize = 4096;

/// Links the capability-less WASI interfaces into `linker`.
pub fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let l = linker;
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<T, IoTable>(l, |t| t.ctx().table)?;
    io::poll::add_to_linker::<T, IoTable>(l, |t| t.ctx().table)?;
    io::streams::add_to_linker::<T, IoTable>(l, |t| t.ctx().table)?;
    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    random::random::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    Ok(())
}

struct IoTable;

impl HasData for IoTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// A `WasiCtx` with nothing in it: no environment, arguments, directories
/// or sockets; stdout and stderr into `guard`'s sinks.
pub fn empty_ctx(plugin: &Arc<str>, guard: &Arc<CallGuard>) -> WasiCtx {
    let mut builder = WasiCtx::builder();
    builder
        .stdout(GuestOutput::new(plugin.clone(), "stdout", guard.clone()))
        .stderr(GuestOutput::new(plugin.clone(), "stderr", guard.clone()));
    builder.build()
}

/// State shared between a call and everything the guest can write through:
/// whether the call carries key material, and how much was withheld.
#[derive(Debug, Default)]
pub struct CallGuard {
    carries_secret: AtomicBool,
    withheld: AtomicU64,
}

impl CallGuard {
    /// Marks the start of a call; `carries_secret` withholds guest output.
    pub fn begin(&self, carries_secret: bool) {
        self.carries_secret.store(carries_secret, Ordering::SeqCst);
        self.withheld.store(0, Ordering::SeqCst);
    }

    /// Whether guest output must be withheld now.
    pub fn withholding(&self) -> bool {
        self.carries_secret.load(Ordering::SeqCst)
    }

    /// Counts one withheld record.
    pub fn count_withheld(&self) {
        self.withheld.fetch_add(1, Ordering::SeqCst);
    }

    /// Ends a call, returning how many records were withheld.
    pub fn end(&self) -> u64 {
        self.carries_secret.store(false, Ordering::SeqCst);
        self.withheld.swap(0, Ordering::SeqCst)
    }
}

/// A guest's stdout or stderr: complete lines go to `tracing`.
#[derive(Clone)]
struct GuestOutput {
    plugin: Arc<str>,
    stream: &'static str,
    guard: Arc<CallGuard>,
    pending: Arc<Mutex<Vec<u8>>>,
}

impl GuestOutput {
    fn new(plugin: Arc<str>, stream: &'static str, guard: Arc<CallGuard>) -> Self {
        Self { plugin, stream, guard, pending: Arc::default() }
    }

    fn accept(&self, bytes: &[u8]) {
        if self.guard.withholding() {
            self.guard.count_withheld();
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend_from_slice(bytes);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            self.emit(&line[..line.len() - 1]);
        }
        if pending.len() > MAX_PENDING_OUTPUT_BYTES {
            let line = std::mem::take(&mut *pending);
            self.emit(&line);
        }
    }

    fn emit(&self, line: &[u8]) {
        let cut = &line[..line.len().min(MAX_GUEST_LINE_BYTES)];
        let text = String::from_utf8_lossy(cut);
        tracing::info!(target: "tollgate::guest", plugin = %self.plugin, stream = self.stream, "{}", text.escape_debug());
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.accept(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(MAX_PENDING_OUTPUT_BYTES)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.accept(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
