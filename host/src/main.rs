//! `tollgate`: the command-line adapter over the host library. Errors go to
//! stderr as `error: CODE: message` with a non-zero exit status.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

mod cli;
mod doctor;

fn main() -> ExitCode {
    let matches = cli::Cli::command().long_version(cli::long_version()).get_matches();
    let args = match cli::Cli::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    if let Err(message) = init_logging(&args) {
        eprintln!("error: LOG_FILE: {message}");
        return ExitCode::from(2);
    }
    // Before anything starts a thread (these set environment variables),
    // and only where a window and its web process will run: the window,
    // and the audit's page cases, which must meet them as users get them.
    if (args.opens_window() || args.runs_audit())
        && let Err(why) = tollgate::app::platform::guard_against_a_hung_session_bus()
    {
        tracing::warn!(event = "session_bus_hung", reason = %why, "{why}");
    }
    if args.no_renderer_sandbox && args.opens_window() {
        tracing::warn!(event = "renderer_sandbox", enabled = false, reason = "--no-renderer-sandbox", "web processes run unsandboxed: --no-renderer-sandbox");
    } else if args.opens_window() || args.runs_audit() {
        match tollgate::app::platform::enable_renderer_sandbox() {
            Ok(()) => tracing::info!(event = "renderer_sandbox", enabled = true, "web processes run inside bubblewrap"),
            Err(why) => tracing::warn!(event = "renderer_sandbox", enabled = false, reason = %why, "web processes run unsandboxed: {why}"),
        }
    }
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {}", e.code, e.message);
            ExitCode::from(e.exit_status)
        }
    }
}

/// The log: `TOLLGATE_LOG` filters (default `warn`; `info` for the window).
/// The window logs JSON lines (security events are structured); commands
/// log text. `--log-file` adds a JSON copy in a file.
fn init_logging(args: &cli::Cli) -> Result<(), String> {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = if args.opens_window() { "info" } else { "warn" };
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    };
    let stderr = if args.opens_window() {
        tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_filter(filter()).boxed()
    } else {
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter()).boxed()
    };
    let file = match &args.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            Some(tracing_subscriber::fmt::layer().json().with_writer(std::sync::Mutex::new(file)).with_filter(filter()).boxed())
        }
        None => None,
    };
    // The audit keeps every line, at every level, in memory: its last case
    // searches them all for the secrets the corpus planted.
    let audit = args.runs_audit().then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(tollgate::audit::global_capture().clone())
            // Everything Tollgate logs, at every level; other crates (the
            // compiler is chatty at debug) from info.
            .with_filter(tracing_subscriber::EnvFilter::new("info,tollgate=trace"))
            .boxed()
    });
    tracing_subscriber::registry().with(stderr).with(file).with(audit).init();
    Ok(())
}
