//! `tollgate-worker`: the process the host starts to run a signer guest out
//! of its own process (`tollgate_runtime::worker`, docs/security/ipc-security.md).
//!
//! It takes its handshake token from the environment before anything else
//! runs, sets no-new-privs, loads the plugin, connects back to the host's
//! socket, proves the token, installs its seccomp filter and serves calls
//! until the host hangs up. It is its own small binary so that nothing of
//! the window (GTK, WebKit, cairo), the keychain or the command line is
//! mapped into the process that holds a key during a call.
//!
//! Usage (the host's `WorkerSigner` runs it; people don't):
//! `tollgate-worker --socket PATH [--plugin WASM [--manifest TOML] [--sha256 HEX]] [--cache-dir DIR | --no-cache]`
//!
//! With `--sha256`, the plugin file must hash to it (the host's pin on
//! the bytes it checked); anything else is refused before it is compiled.
//!
//! Errors go to stderr as `error: CODE: message`: exit status 2 for a usage
//! error, 1 for anything else.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use tollgate_runtime::EngineOptions;
use tollgate_runtime::worker::{WorkerPlugin, run_worker};

/// What the command line asked for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    socket: Option<PathBuf>,
    plugin: Option<PathBuf>,
    manifest: Option<PathBuf>,
    sha256: Option<String>,
    cache_dir: Option<PathBuf>,
    no_cache: bool,
    version: bool,
}

/// `args` as `std::env::args_os` gives them: the program's name first.
fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_iter(args);
    let mut out = Args::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("socket") => out.socket = Some(parser.value()?.into()),
            Long("plugin") => out.plugin = Some(parser.value()?.into()),
            Long("manifest") => out.manifest = Some(parser.value()?.into()),
            Long("sha256") => out.sha256 = Some(parser.value()?.string()?),
            Long("cache-dir") => out.cache_dir = Some(parser.value()?.into()),
            Long("no-cache") => out.no_cache = true,
            Long("version") => out.version = true,
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(out)
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: USAGE: {message}");
    eprintln!(
        "usage: tollgate-worker --socket PATH [--plugin WASM [--manifest TOML] [--sha256 HEX]] [--cache-dir DIR | --no-cache]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // Text lines on stderr, filtered by TOLLGATE_LOG (the one variable the
    // host passes on); the host keeps the worker's stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // A pipe to the host, which reads each line's level word.
        .with_ansi(false)
        .with_env_filter(filter)
        .init();

    let args = match parse(std::env::args_os()) {
        Ok(args) => args,
        Err(e) => return usage(e),
    };
    if args.version {
        println!("tollgate-worker {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Some(socket) = args.socket else {
        return usage("--socket is required");
    };
    if args.manifest.is_some() && args.plugin.is_none() {
        return usage("--manifest needs --plugin");
    }
    if args.sha256.is_some() && args.plugin.is_none() {
        return usage("--sha256 needs --plugin");
    }
    if args.sha256.as_deref().is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))) {
        return usage("--sha256 takes 64 lowercase hex digits");
    }
    if args.no_cache && args.cache_dir.is_some() {
        return usage("--cache-dir and --no-cache exclude each other");
    }
    let cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.or_else(EngineOptions::default_cache_dir)
    };
    let plugin = WorkerPlugin {
        wasm: args.plugin,
        manifest: args.manifest,
        sha256: args.sha256,
    };
    match run_worker(&socket, &plugin, cache_dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {}", e.code(), e);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, lexopt::Error> {
        parse(std::iter::once("tollgate-worker").chain(list.iter().copied()).map(OsString::from))
    }

    #[test]
    fn the_hosts_flags_parse() {
        let parsed = args(&[
            "--socket",
            "/s",
            "--plugin",
            "/p.wasm",
            "--manifest",
            "/m.toml",
            "--sha256",
            "ab12",
            "--no-cache",
        ])
        .expect("parse");
        assert_eq!(
            parsed,
            Args {
                socket: Some("/s".into()),
                plugin: Some("/p.wasm".into()),
                manifest: Some("/m.toml".into()),
                sha256: Some("ab12".into()),
                no_cache: true,
                ..Args::default()
            }
        );
    }

    #[test]
    fn anything_else_is_refused() {
        assert!(
            args(&["worker", "--socket", "/s"]).is_err(),
            "a positional argument"
        );
        assert!(args(&["--socket"]).is_err(), "a flag without its value");
        assert!(args(&["--sockets", "/s"]).is_err(), "an unknown flag");
    }
}
