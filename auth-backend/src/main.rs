//! `tollgate-auth-backend`: the command-line adapter over the library.
//! Reads flags (or `TOLLGATE_AUTH_*` environment variables), loads the App
//! key, binds the listener and serves until Ctrl-C or SIGTERM.
//!
//! `--fake-github` (built with the `fake-github` feature) runs against a fake
//! GitHub on loopback instead, which approves every sign-in after two polls.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tollgate_auth_backend::config::{
    DEFAULT_DEVICE_CODES_PER_MINUTE, DEFAULT_GITHUB_API_URL, DEFAULT_GITHUB_URL, DEFAULT_LISTEN, DEFAULT_SESSION_MAX_LIFETIME,
    DEFAULT_SESSION_TTL,
};
use tollgate_auth_backend::{AppPrivateKey, Config};
use tracing_subscriber::EnvFilter;
use zeroize::Zeroizing;

/// The largest private key file read: a 4096-bit RSA key in PEM is ~3.3 KiB.
const MAX_PRIVATE_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Tollgate's reference sign-in backend for a GitHub App (device flow,
/// backend sessions, installation tokens).
#[derive(Debug, Parser)]
#[command(name = "tollgate-auth-backend", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "TOLLGATE_AUTH_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// GitHub's web origin (OAuth device-flow endpoints).
    #[arg(long, env = "TOLLGATE_AUTH_GITHUB_URL", default_value = DEFAULT_GITHUB_URL)]
    github_url: String,
    /// GitHub's REST API.
    #[arg(long, env = "TOLLGATE_AUTH_GITHUB_API_URL", default_value = DEFAULT_GITHUB_API_URL)]
    github_api_url: String,
    /// The GitHub App's client id.
    #[arg(long, env = "TOLLGATE_AUTH_CLIENT_ID", required_unless_present = "fake_github")]
    client_id: Option<String>,
    /// The GitHub App's id (the App JWT's issuer).
    #[arg(long, env = "TOLLGATE_AUTH_APP_ID", required_unless_present = "fake_github")]
    app_id: Option<String>,
    /// The GitHub App's private key (PEM, as downloaded from GitHub).
    #[arg(long, env = "TOLLGATE_AUTH_PRIVATE_KEY_FILE", required_unless_present = "fake_github")]
    private_key_file: Option<PathBuf>,
    /// Session lifetime after sign-in or refresh, in seconds.
    #[arg(long, env = "TOLLGATE_AUTH_SESSION_TTL_SECS", default_value_t = DEFAULT_SESSION_TTL.as_secs())]
    session_ttl_secs: u64,
    /// The most refreshes can extend a session to, in seconds from sign-in.
    #[arg(long, env = "TOLLGATE_AUTH_SESSION_MAX_LIFETIME_SECS", default_value_t = DEFAULT_SESSION_MAX_LIFETIME.as_secs())]
    session_max_lifetime_secs: u64,
    /// Device codes the whole process may request per minute.
    #[arg(long, env = "TOLLGATE_AUTH_DEVICE_CODES_PER_MINUTE", default_value_t = DEFAULT_DEVICE_CODES_PER_MINUTE)]
    device_codes_per_minute: NonZeroU32,
    /// Try-out mode: run against a fake GitHub on loopback that approves
    /// every sign-in after two polls (needs the `fake-github` feature; the
    /// GitHub, client, app and key flags are ignored).
    #[arg(long)]
    fake_github: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("failed to start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let (config, _fake) = if args.fake_github { fake_config().await? } else { (real_config(&args)?, None) };
    let config = Config {
        session_ttl: Duration::from_secs(args.session_ttl_secs),
        session_max_lifetime: Duration::from_secs(args.session_max_lifetime_secs),
        device_codes_per_minute: args.device_codes_per_minute,
        ..config
    };
    // Refuse a bad configuration before announcing an address.
    let config = config.validate()?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("failed to listen on {}", args.listen))?;
    let addr = listener.local_addr().context("failed to read the listening address")?;
    println!("tollgate-auth-backend listening on http://{addr}");
    tollgate_auth_backend::serve_with_shutdown(config, listener, shutdown_signal()).await?;
    Ok(())
}

fn real_config(args: &Args) -> anyhow::Result<Config> {
    // clap requires all three unless --fake-github.
    let (Some(client_id), Some(app_id), Some(key_file)) = (&args.client_id, &args.app_id, &args.private_key_file) else {
        anyhow::bail!("--client-id, --app-id and --private-key-file are required");
    };
    let size = std::fs::metadata(key_file).with_context(|| format!("failed to read the private key file {}", key_file.display()))?.len();
    if size > MAX_PRIVATE_KEY_FILE_BYTES {
        anyhow::bail!("the private key file {} is over {MAX_PRIVATE_KEY_FILE_BYTES} bytes: not a PEM key", key_file.display());
    }
    let pem =
        Zeroizing::new(std::fs::read(key_file).with_context(|| format!("failed to read the private key file {}", key_file.display()))?);
    let key = AppPrivateKey::from_pem(&pem).with_context(|| format!("failed to load {}", key_file.display()))?;
    let mut config = Config::new(client_id.clone(), app_id.clone(), key);
    config.github_url = args.github_url.clone();
    config.github_api_url = args.github_api_url.clone();
    Ok(config)
}

#[cfg(feature = "fake-github")]
type FakeGuard = Option<tollgate_auth_backend::fake_github::FakeGithub>;
#[cfg(not(feature = "fake-github"))]
type FakeGuard = Option<std::convert::Infallible>;

#[cfg(feature = "fake-github")]
async fn fake_config() -> anyhow::Result<(Config, FakeGuard)> {
    use tollgate_auth_backend::fake_github::{FakeGithub, PollStep};
    let fake = FakeGithub::start().await;
    fake.set_device_script(vec![PollStep::Pending, PollStep::Pending, PollStep::Approve]);
    fake.set_interval(1);
    println!("fake GitHub on {} (approves every sign-in on the third poll)", fake.url());
    Ok((fake.backend_config(), Some(fake)))
}

#[cfg(not(feature = "fake-github"))]
async fn fake_config() -> anyhow::Result<(Config, FakeGuard)> {
    anyhow::bail!(
        "--fake-github needs the `fake-github` feature: cargo run -p tollgate-auth-backend --features fake-github -- --fake-github"
    )
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot wait for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot wait for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
