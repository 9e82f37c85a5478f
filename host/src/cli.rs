//! Command-line parsing and dispatch. Every command goes through the same
//! library path the app uses: the engine, the policy, the signer's checks.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use tollgate::app::assets::AssetSource;
use tollgate::app::window::{WindowError, WindowOptions};
use tollgate::app::{AppServices, build_bridge};
use tollgate::auth::{AuthConfig, AuthService};
use tollgate::lint::ClaimsLinter;
use tollgate::runtime::WorldBindings;
use tollgate::runtime::worlds::ClaimsLinterWorld;
use tollgate::scaffold;
use tollgate::jwt::quarantine::PluginQuarantine;
use tollgate::store::plugin_quarantine;
use tollgate::bridge::contract::Contract;
use tollgate::jwt::{Algorithm, ExtraHeader, JwtError, JwtSigner, SignRequest, SigningKey};
use tollgate::runtime::policy::{WORLDS, WorldSpec};
use tollgate::runtime::{EngineOptions, PluginEngine, PluginError, PluginSource};
use tollgate::worker::{WorkerOptions, WorkerSigner, default_worker_program};
use zeroize::Zeroizing;

/// Tollgate: a desktop host whose plugins can reach only what their WIT
/// world declares.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about)]
pub struct Cli {
    /// Compiled-code cache directory (default: $XDG_CACHE_HOME/tollgate/wasmtime).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every plugin afresh; use no cache.
    #[arg(long, global = true)]
    no_cache: bool,
    /// Run the signer guest in a separate worker process.
    #[arg(long, global = true)]
    worker: bool,
    /// The app's data directory (default: $XDG_DATA_HOME/tollgate).
    #[arg(long, global = true, value_name = "DIR", env = "TOLLGATE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Serve the UI from this directory instead of the embedded copy (development).
    #[arg(long, value_name = "DIR")]
    dev_assets: Option<PathBuf>,
    /// Watch a plugin package directory (as `tollgate plugin pack` or `just
    /// plugin` writes it) and swap a rebuilt plugin in without a restart
    /// (development). Repeatable.
    #[arg(long, value_name = "DIR")]
    dev_plugin: Vec<PathBuf>,
    /// The GitHub sign-in backend: https, or http to this machine only.
    #[arg(long, value_name = "URL", env = "TOLLGATE_AUTH_BACKEND", default_value = tollgate::auth::DEFAULT_BACKEND_URL)]
    auth_backend: String,
    /// Run the window's web processes without WebKit's bubblewrap sandbox
    /// (measuring its cost, debugging a machine where it fails); logged as
    /// a warning. Without it the sandbox is on wherever it can run.
    #[arg(long)]
    pub no_renderer_sandbox: bool,
    /// Save a PNG of the window once the page is ready, then quit.
    #[arg(long, value_name = "PATH")]
    screenshot: Option<PathBuf>,
    /// Also write the log, as JSON lines, to this file.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Let WebKitWebDriver drive the window. Exists only in builds with the
    /// `automation` feature (the test suite's), never in a release.
    #[cfg(feature = "automation")]
    #[arg(long, hide = true)]
    automation: bool,
    /// With no command, the app window opens.
    #[command(subcommand)]
    command: Option<Command>,
}

impl Cli {
    /// Whether this run opens the window (the JSON log format is used then).
    pub fn opens_window(&self) -> bool {
        self.command.is_none()
    }

    /// Whether this run is `tollgate audit` (its log is captured for the secrets search).
    pub fn runs_audit(&self) -> bool {
        matches!(self.command, Some(Command::Audit { plugins: false, .. }))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Sign and decode JSON Web Tokens through the signer plugin.
    #[command(subcommand)]
    Jwt(JwtCommand),
    /// Make keys, and export the public keys of the app's signing profiles.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Move signing profiles, keys included, to another machine in a file
    /// encrypted under a passphrase.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Run the hostile corpus against this build, in the real runtime, and
    /// print what must happen and what happened for every case. Exits 1 if
    /// any case failed.
    Audit {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Instead: print, for every installed plugin, each import it asks
        /// for and whether the host grants it, and for every window the
        /// channels it may call.
        #[arg(long)]
        plugins: bool,
        /// With --plugins: also judge this plugin: a package directory (as
        /// `tollgate plugin pack` writes it) or a component with its
        /// manifest beside it. Repeatable.
        #[arg(long, value_name = "PATH", requires = "plugins")]
        plugin: Vec<PathBuf>,
        /// Run only these areas (guest, bridge, page, socket, jwt, storage); the secrets search always runs.
        #[arg(long, value_name = "AREA")]
        area: Vec<String>,
        /// Also exit 1 if any case was skipped (it needs root or a display
        /// this machine did not give it): every case must have run.
        #[arg(long, conflicts_with = "plugins")]
        strict: bool,
    },
    /// Internal: a process the audit kills mid-save (see `tollgate audit`).
    #[command(hide = true)]
    AuditSaveLoop {
        /// The data directory it saves into.
        dir: PathBuf,
    },
    /// Check what the app needs on this machine (display, WebKitGTK, the
    /// renderer sandbox, a Secret Service, the worker's sandbox, a writable
    /// data directory); one line per check with the fix for anything
    /// missing. Exits 1 if anything is missing.
    Doctor {
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Internal: write the man pages and shell completions generated from
    /// this command line into a directory (`just package`).
    #[command(hide = true)]
    PackageFiles {
        /// The directory (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check the worker handshake end to end: a correct client is accepted,
    /// a zero-token client is closed within 200 ms. Exits 0 only if both hold.
    IpcCheck,
    /// Regenerate (or check) the bridge contract snapshot and the page's
    /// TypeScript declarations from the Rust channel declarations.
    #[command(hide = true)]
    Contract {
        /// Write the files instead of checking them.
        #[arg(long)]
        write: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// List every import and export, and whether the host links each import.
    Inspect {
        /// The component (.wasm).
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Judge the imports against this world (default: the signer's).
        #[arg(long)]
        world: Option<String>,
    },
    /// Scaffold a guest crate for a world (default: the signer's) under
    /// `--dir` (default `guest-plugins`); it builds and passes its test as is.
    New {
        /// The plugin's name (lowercase letters, digits, `-`).
        name: String,
        /// The world to implement.
        #[arg(long, default_value = "tollgate:jwt/jwt-signer@0.3.0")]
        world: String,
        /// Where to put the crate.
        #[arg(long, default_value = "guest-plugins")]
        dir: PathBuf,
    },
    /// Print a component's SHA-256 as a manifest line; `--write` records it
    /// in the manifest.
    Hash {
        /// The component (.wasm).
        file: PathBuf,
        /// The manifest to record it in.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Write it into `--manifest`.
        #[arg(long, requires = "manifest")]
        write: bool,
    },
    /// Make a loadable package: the component and its manifest with the
    /// component's SHA-256, in `--out`.
    Pack {
        /// The plugin's crate (holds tollgate.toml).
        crate_dir: PathBuf,
        /// The built component.
        #[arg(long)]
        wasm: PathBuf,
        /// The package directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a plugin's `calls.json` through the real runtime; a table on
    /// stdout, non-zero exit on any failure.
    Test {
        /// The plugin's crate (holds tollgate.toml and calls.json).
        crate_dir: PathBuf,
        /// The component (e.g. from `plugin pack`; its manifest must record
        /// its SHA-256).
        #[arg(long)]
        wasm: PathBuf,
    },
    /// Clear a quarantined plugin (one that failed a key-carrying call
    /// without an explanation, see docs/security.md), by name, SHA-256 or
    /// the path of its component; `--list` shows every quarantined plugin
    /// and why.
    Trust {
        /// The plugin's name, its component's SHA-256, or a path to the .wasm.
        #[arg(required_unless_present = "list")]
        plugin: Option<String>,
        /// List the quarantined plugins instead (JSON).
        #[arg(long)]
        list: bool,
    },
    /// Make one guest call through the real runtime path; JSON on stdout.
    Call {
        /// `jwt-signer` for the built-in signer, or a path to a .wasm whose
        /// manifest is beside it.
        plugin: String,
        /// The export: sign, decode or verify.
        function: String,
        /// The arguments as a JSON object (see docs/plugin-guide.md).
        #[arg(long)]
        args: String,
        /// The manifest, if not beside the component.
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate a private key for an algorithm into a new file (mode
    /// 0600): an HMAC secret's raw bytes, or a PKCS#8 PEM (RSA, P-256,
    /// P-384, Ed25519). Prints the public key's JWK for asymmetric keys.
    Generate {
        /// HS256/384/512, RS256/384/512, PS256/384/512, ES256/384 or EdDSA.
        #[arg(long)]
        alg: String,
        /// RS*/PS* only: 2048 (default), 3072 or 4096.
        #[arg(long)]
        rsa_bits: Option<usize>,
        /// The file to create; refused if it exists.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a private key file into the app's signing profiles: a new
    /// profile (--name) or in place of an existing profile's key
    /// (--profile). A PEM private key (PKCS#8, or PKCS#1 for RSA) for RSA,
    /// EC and Ed25519, the raw secret for HMAC; checked for the algorithm,
    /// then sealed under the master key in the OS keychain. The file is
    /// only read.
    Import {
        /// The key file.
        #[arg(long)]
        file: PathBuf,
        /// The algorithm the key is for.
        #[arg(long)]
        alg: String,
        /// Create a profile of this name (claims empty, tokens expire after an hour).
        #[arg(long, required_unless_present = "profile", conflicts_with = "profile")]
        name: Option<String>,
        /// Replace the key (and algorithm) of this profile, by name or id.
        #[arg(long)]
        profile: Option<String>,
    },
    /// Print the public keys of the app's signing profiles (from
    /// --data-dir, opened with the OS keychain): a JWKS of every profile
    /// with an asymmetric key, or one profile's key as a JWK or PEM.
    Export {
        /// The JWKS of every asymmetric profile (the default).
        #[arg(long, conflicts_with = "profile")]
        jwks: bool,
        /// One profile, by name or id.
        #[arg(long)]
        profile: Option<String>,
        /// With --profile: the SubjectPublicKeyInfo PEM instead of the JWK.
        #[arg(long, requires = "profile")]
        pem: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProfilesCommand {
    /// Write profiles with their keys to a bundle encrypted under a
    /// passphrase (Argon2id, then XChaCha20-Poly1305); the keys are opened
    /// with this machine's keychain and never written unencrypted.
    Export {
        /// The bundle to create; refused if it exists.
        #[arg(long)]
        out: PathBuf,
        /// A profile to export, by name or id (repeatable); every profile
        /// when absent.
        #[arg(long)]
        profile: Vec<String>,
        /// A file whose first line is the passphrase (12 characters or
        /// more); `-` reads it from standard input.
        #[arg(long)]
        passphrase_file: PathBuf,
    },
    /// Add the profiles of a bundle, each key checked and sealed under this
    /// machine's master key; a name already taken gets " (imported)".
    Import {
        /// The bundle.
        #[arg(long)]
        file: PathBuf,
        /// A file whose first line is the passphrase; `-` reads it from
        /// standard input.
        #[arg(long)]
        passphrase_file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum JwtCommand {
    /// Sign claims with a key from a file.
    Sign {
        /// HS256/384/512, RS256/384/512, PS256/384/512, ES256/384 or EdDSA.
        #[arg(long)]
        alg: String,
        /// HMAC: the raw secret (one trailing newline is dropped). Others: a PEM private key.
        #[arg(long)]
        key_file: PathBuf,
        /// The claims, a JSON object.
        #[arg(long)]
        claims: String,
        /// `kid` header field.
        #[arg(long)]
        kid: Option<String>,
        /// `typ` header field (default JWT).
        #[arg(long)]
        typ: Option<String>,
        /// Custom header fields, a JSON object (after `kid`, in name order;
        /// at most 16 and 2 KiB, no registered JOSE name such as `crit`).
        #[arg(long)]
        header_fields: Option<String>,
    },
    /// Split a token into header, payload and signature (no verification).
    Decode {
        /// The compact token.
        token: String,
    },
    /// Verify a token's signature and times; prints its claims, or, with
    /// --jwks, the verdict and the key that matched.
    Verify {
        /// The compact token.
        token: String,
        /// HMAC: the raw secret. Others: a PEM public (or private) key.
        #[arg(long, required_unless_present = "jwks", conflicts_with = "jwks")]
        key_file: Option<PathBuf>,
        /// Allowed algorithms (repeat or comma-separate).
        #[arg(long, value_delimiter = ',', required_unless_present = "jwks", conflicts_with = "jwks")]
        alg: Vec<String>,
        /// A JSON Web Key Set file instead: the token's kid picks the key,
        /// and the key (not the token) its algorithm.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// Seconds of clock skew tolerated for exp and nbf.
        #[arg(long, default_value_t = 0)]
        leeway: u32,
    },
}

/// What `tollgate --version` prints after the name: the version, then the
/// commit it was built from, the wasmtime it runs guests with, the
/// WebKitGTK loaded into this process, the IPC contract the page speaks and
/// the WIT worlds plugins may implement.
pub fn long_version() -> String {
    let (major, minor, micro) = tollgate::app::platform::webkit_version();
    let worlds: Vec<&str> = WORLDS.iter().map(|w| w.name).collect();
    format!(
        "{}\ncommit:       {}\nwasmtime:     {}\nwebkitgtk:    {major}.{minor}.{micro}\nipc contract: {}\nwit worlds:   {}",
        env!("CARGO_PKG_VERSION"),
        env!("TOLLGATE_GIT_COMMIT"),
        env!("TOLLGATE_WASMTIME_VERSION"),
        tollgate::bridge::channels::CONTRACT_VERSION,
        worlds.join(", "),
    )
}

/// A failed command: the code and message printed, and the exit status.
pub struct CliError {
    pub code: &'static str,
    pub message: String,
    pub exit_status: u8,
}

impl From<JwtError> for CliError {
    fn from(e: JwtError) -> Self {
        Self { code: e.code(), message: e.to_string(), exit_status: 1 }
    }
}

impl From<PluginError> for CliError {
    fn from(e: PluginError) -> Self {
        Self { code: e.code(), message: e.to_string(), exit_status: 1 }
    }
}

impl From<tollgate::store::StoreError> for CliError {
    fn from(e: tollgate::store::StoreError) -> Self {
        Self { code: e.code(), message: e.to_string(), exit_status: 1 }
    }
}

impl From<tollgate::secrets::SecretsError> for CliError {
    fn from(e: tollgate::secrets::SecretsError) -> Self {
        Self { code: e.code(), message: e.to_string(), exit_status: 1 }
    }
}

fn usage(code: &'static str, message: impl Into<String>) -> CliError {
    CliError { code, message: message.into(), exit_status: 2 }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    // These two need no engine: doctor reports on the machine even where
    // an engine could not start.
    match &cli.command {
        Some(Command::Doctor { json }) => return doctor(cli.data_dir, *json),
        Some(Command::PackageFiles { out }) => return package_files(out),
        _ => {}
    }
    let cache_dir = if cli.no_cache { None } else { cli.cache_dir.clone().or_else(EngineOptions::default_cache_dir) };
    let engine = PluginEngine::new(EngineOptions { cache_dir: cache_dir.clone(), ..EngineOptions::default() })?;
    tracing::debug!(event = "startup", phase = "plugin engine", "plugin engine started");
    // The same quarantine list as the app's: a plugin that failed a
    // key-carrying call in the window is refused keys here too.
    let quarantine = match default_data_dir(cli.data_dir.clone()) {
        Some(dir) => plugin_quarantine::open(&dir),
        None => PluginQuarantine::in_memory(),
    };
    let builtin = |engine: &PluginEngine| -> Result<JwtSigner, CliError> {
        if !cli.worker {
            return Ok(JwtSigner::builtin(engine)?.with_quarantine(quarantine.clone()));
        }
        let mut options = WorkerOptions::new(default_worker_program()?);
        options.cache_dir = cache_dir.clone();
        Ok(JwtSigner::from_backend(Box::new(WorkerSigner::new(options)?)).with_quarantine(quarantine.clone()))
    };
    let allow_automation = automation_allowed(&cli);
    let Some(command) = cli.command else {
        let auth = AuthConfig::new(&cli.auth_backend).map_err(|e| usage("INVALID_AUTH_BACKEND", e.to_string()))?;
        let dev = DevOptions { assets: cli.dev_assets, plugins: cli.dev_plugin };
        return open_window(&engine, cli.data_dir, dev, cli.screenshot, allow_automation, auth);
    };
    match command {
        Command::Contract { write } => contract(&engine, write),
        // Answered above, before the engine starts.
        Command::Doctor { json } => doctor(cli.data_dir, json),
        Command::PackageFiles { out } => package_files(&out),
        Command::Plugin(PluginCommand::Inspect { file, json, world }) => inspect(&engine, &file, json, world.as_deref()),
        Command::Plugin(PluginCommand::New { name, world, dir }) => plugin_new(&name, &world, &dir),
        Command::Plugin(PluginCommand::Hash { file, manifest, write }) => plugin_hash(&file, manifest.as_deref(), write),
        Command::Plugin(PluginCommand::Pack { crate_dir, wasm, out }) => {
            let packed = scaffold::pack(&crate_dir, &wasm, &out).map_err(scaffold_error)?;
            println!("{}", packed.display());
            Ok(())
        }
        Command::Plugin(PluginCommand::Test { crate_dir, wasm }) => plugin_test(&engine, &crate_dir, &wasm),
        Command::Plugin(PluginCommand::Trust { plugin, list }) => plugin_trust(&quarantine, plugin.as_deref(), list),
        Command::Plugin(PluginCommand::Call { plugin, function, args, manifest }) => {
            let plugin = load_callable(&engine, &plugin, manifest.as_deref(), &quarantine)?;
            let args: Value = serde_json::from_str(&args).map_err(|e| usage("INVALID_ARGS", format!("--args is not JSON: {e}")))?;
            let out = plugin.call(&function, &args)?;
            println!("{out}");
            Ok(())
        }
        Command::Jwt(JwtCommand::Sign { alg, key_file, claims, kid, typ, header_fields }) => {
            let alg: Algorithm = alg.parse()?;
            let material = read_key_file(&key_file, alg)?;
            let key = SigningKey::new(alg, material)?;
            let claims = parse_claims(&claims)?;
            let extra = match header_fields {
                None => ExtraHeader::none(),
                Some(text) => extra_header(serde_json::from_str(&text).map_err(|e| JwtError::InvalidHeader(format!("--header-fields is not JSON: {e}")))?)?,
            };
            let signer = builtin(&engine)?;
            println!("{}", signer.sign(SignRequest { key: &key, claims, kid, typ, extra })?);
            Ok(())
        }
        Command::Jwt(JwtCommand::Decode { token }) => {
            let signer = builtin(&engine)?;
            let decoded = signer.decode(token.trim())?;
            println!("{}", serde_json::to_string_pretty(&decoded_json(&decoded)).unwrap_or_default());
            Ok(())
        }
        Command::Audit { json, plugins, plugin, area, strict } => {
            if plugins {
                audit_plugins(&engine, &plugin, json)
            } else {
                audit(json, &area, strict)
            }
        }
        Command::AuditSaveLoop { dir } => {
            tollgate::audit::storage::save_loop(&dir);
            Ok(())
        }
        Command::IpcCheck => ipc_check(),
        Command::Keys(KeysCommand::Generate { alg, rsa_bits, out }) => keys_generate(&alg, rsa_bits, &out),
        Command::Keys(KeysCommand::Import { file, alg, name, profile }) => {
            let data_dir = default_data_dir(cli.data_dir).ok_or_else(|| usage("NO_DATA_DIR", "no data directory: set HOME or pass --data-dir"))?;
            keys_import(&engine, &data_dir, &file, &alg, name, profile.as_deref())
        }
        Command::Profiles(command) => {
            let data_dir = default_data_dir(cli.data_dir).ok_or_else(|| usage("NO_DATA_DIR", "no data directory: set HOME or pass --data-dir"))?;
            profiles_bundle(&engine, &data_dir, command)
        }
        Command::Keys(KeysCommand::Export { jwks: _, profile, pem }) => {
            let data_dir = default_data_dir(cli.data_dir).ok_or_else(|| usage("NO_DATA_DIR", "no data directory: set HOME or pass --data-dir"))?;
            keys_export(&engine, &data_dir, profile.as_deref(), pem)
        }
        Command::Jwt(JwtCommand::Verify { token, jwks: Some(jwks), leeway, .. }) => {
            let text = read_key_set_file(&jwks)?;
            let signer = builtin(&engine)?;
            let verdict = tollgate::app::tokens::verify_with_key_set(&signer, token.trim(), &text, leeway).map_err(|e| CliError {
                code: e.code(),
                message: e.to_string(),
                exit_status: 1,
            })?;
            println!("{}", serde_json::to_string_pretty(&verdict).unwrap_or_default());
            if verdict.valid {
                Ok(())
            } else {
                Err(CliError { code: "INVALID_TOKEN", message: verdict.message.unwrap_or_default(), exit_status: 1 })
            }
        }
        Command::Jwt(JwtCommand::Verify { token, key_file, alg, leeway, .. }) => {
            let key_file = key_file.ok_or_else(|| usage("INVALID_ARGS", "give --key-file and --alg, or --jwks"))?;
            let allowed = alg.iter().map(|a| a.parse()).collect::<Result<Vec<Algorithm>, _>>()?;
            let first = allowed.first().copied().ok_or_else(|| usage("INVALID_ARGS", "give at least one --alg"))?;
            let key = read_verifying_key_file(&key_file, first)?;
            let signer = builtin(&engine)?;
            let claims = signer.verify(token.trim(), &key, &allowed, leeway)?;
            println!("{}", serde_json::to_string_pretty(&claims).unwrap_or_default());
            Ok(())
        }
    }
}

#[cfg(feature = "automation")]
fn automation_allowed(cli: &Cli) -> bool {
    cli.automation
}

#[cfg(not(feature = "automation"))]
fn automation_allowed(_: &Cli) -> bool {
    false
}

type AppParts = (std::sync::Arc<tollgate::bridge::Bridge>, std::sync::Arc<AppServices>);

fn app_bridge(engine: &PluginEngine, data_dir: &Path, auth: AuthService) -> Result<AppParts, CliError> {
    let services = std::sync::Arc::new(AppServices::new(engine, data_dir)?.with_auth(auth));
    let bridge = build_bridge(&services).map_err(|e| CliError { code: "APP_START_FAILED", message: e.to_string(), exit_status: 1 })?;
    Ok((std::sync::Arc::new(bridge), services))
}

/// Development options of the window.
struct DevOptions {
    assets: Option<PathBuf>,
    plugins: Vec<PathBuf>,
}

/// Watches each dev plugin package on its own thread for as long as the
/// app runs; swaps and refusals go to the page as events and to the log.
fn watch_dev_plugins(dirs: &[PathBuf], services: &std::sync::Arc<AppServices>, bridge: &std::sync::Arc<tollgate::bridge::Bridge>) {
    use tollgate::app::dev_plugins::{DEV_RELOAD_POLL, DevPackage, PluginReloadFailedEvent, PluginReloadedEvent, ReloadOutcome};
    for dir in dirs {
        let mut package = DevPackage::new(dir);
        let (services, events) = (std::sync::Arc::clone(services), std::sync::Arc::clone(bridge.events()));
        let spawned = std::thread::Builder::new().name("tollgate-dev-plugin".to_owned()).spawn(move || {
            loop {
                match package.check(&services) {
                    ReloadOutcome::Unchanged => {}
                    ReloadOutcome::Reloaded(done) => {
                        tracing::info!(plugin = %done.name, took_ms = done.took_ms, sha256 = %done.sha256, "dev plugin reloaded");
                        events.emit::<PluginReloadedEvent>(&done);
                    }
                    ReloadOutcome::Failed(failed) => {
                        tracing::warn!(package = %failed.package, code = %failed.code, message = %failed.message,
                            "dev plugin refused; the previous one keeps serving");
                        events.emit::<PluginReloadFailedEvent>(&failed);
                    }
                }
                std::thread::sleep(DEV_RELOAD_POLL);
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, dir = %dir.display(), "could not watch the dev plugin");
        }
    }
}

fn doctor(data_dir: Option<PathBuf>, json: bool) -> Result<(), CliError> {
    let data_dir = default_data_dir(data_dir);
    let checks = crate::doctor::run_checks(data_dir.as_deref(), default_worker_program().ok());
    if json {
        let text = serde_json::to_string_pretty(&checks).map_err(|e| usage("INTERNAL", e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", crate::doctor::render(&checks));
    }
    if checks.iter().any(|c| c.status == crate::doctor::Status::Missing) {
        return Err(CliError { code: "DOCTOR_FOUND_MISSING", message: "something the app needs is missing (see above)".to_owned(), exit_status: 1 });
    }
    Ok(())
}

fn keys_generate(alg: &str, rsa_bits: Option<usize>, out: &Path) -> Result<(), CliError> {
    let alg: Algorithm = alg.parse()?;
    let material = tollgate::jwt::generate(alg, rsa_bits)?;
    let key = SigningKey::new(alg, Zeroizing::new(material.to_vec()))?;
    let public = key.public_key(None)?;
    let io = |e: std::io::Error| CliError { code: "IO_ERROR", message: format!("cannot write {}: {e}", out.display()), exit_status: 1 };
    tollgate::runtime::write_new_private_file(out, &material).map_err(io)?;
    if let Some(public) = public {
        println!("{}", serde_json::to_string_pretty(&public.jwk).unwrap_or_default());
    }
    Ok(())
}

fn keys_import(engine: &PluginEngine, data_dir: &Path, file: &Path, alg: &str, name: Option<String>, profile: Option<&str>) -> Result<(), CliError> {
    use tollgate::secrets::KeyBinding;
    use tollgate::store::{ExpirationPreset, ProfileDraft, ProfileId, timestamp};
    let alg: Algorithm = alg.parse()?;
    let material = read_key_file(file, alg)?;
    let key = SigningKey::new(alg, Zeroizing::new(material.to_vec()))?;
    let services = AppServices::new(engine, data_dir)?;
    let draft = match profile {
        Some(wanted) => {
            let existing = find_profile(&services, wanted)?;
            let encrypted_key = services.secrets().seal(&material, KeyBinding::profile(alg, existing.id))?;
            ProfileDraft {
                id: existing.id,
                create: false,
                name: existing.name,
                algorithm: alg,
                encrypted_key,
                payload: existing.payload,
                expiration_preset: existing.expiration_preset,
                custom_expiration: existing.custom_expiration,
                kid: existing.kid,
                typ: existing.typ,
                header_fields: existing.header_fields,
            }
        }
        None => {
            let id = ProfileId::random().map_err(|e| CliError { code: "INTERNAL", message: e.to_string(), exit_status: 1 })?;
            let encrypted_key = services.secrets().seal(&material, KeyBinding::profile(alg, id))?;
            ProfileDraft {
                id,
                create: true,
                name: name.unwrap_or_default(),
                algorithm: alg,
                encrypted_key,
                payload: serde_json::Map::new(),
                expiration_preset: ExpirationPreset::OneHour,
                custom_expiration: None,
                kid: None,
                typ: None,
                header_fields: serde_json::Map::new(),
            }
        }
    };
    let saved = services.profiles().save(draft, timestamp::now())?;
    let public = key.public_key(None)?;
    let report = json!({ "id": saved.id, "name": saved.name, "algorithm": alg.to_string(), "publicKey": public.map(|p| p.jwk) });
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    Ok(())
}

/// A profile by its exact name or id.
fn profiles_bundle(engine: &PluginEngine, data_dir: &Path, command: ProfilesCommand) -> Result<(), CliError> {
    use tollgate::app::channels::bundles;
    let bridge_error = |e: tollgate::bridge::BridgeError| CliError { code: e.code.as_str(), message: e.message, exit_status: 1 };
    let services = AppServices::new(engine, data_dir)?;
    match command {
        ProfilesCommand::Export { out, profile, passphrase_file } => {
            let passphrase = read_passphrase(&passphrase_file)?;
            let ids = if profile.is_empty() {
                None
            } else {
                Some(profile.iter().map(|p| find_profile(&services, p).map(|p| p.id)).collect::<Result<Vec<_>, _>>()?)
            };
            let (bytes, count) = bundles::export(&services, ids.as_deref(), &passphrase).map_err(bridge_error)?;
            let io = |e: std::io::Error| CliError { code: "IO_ERROR", message: format!("cannot write {}: {e}", out.display()), exit_status: 1 };
            tollgate::runtime::write_new_private_file(&out, &bytes).map_err(io)?;
            println!("{}", json!({ "profiles": count, "out": out.display().to_string() }));
            Ok(())
        }
        ProfilesCommand::Import { file, passphrase_file } => {
            let passphrase = read_passphrase(&passphrase_file)?;
            let bytes = tollgate::app::key_files::read_capped(&file, tollgate::app::bundle::MAX_BUNDLE_BYTES).map_err(|e| file_error(&file, "bundle", e))?;
            let report = bundles::import(&services, &bytes, &passphrase).map_err(bridge_error)?;
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            if report.imported.is_empty() && !report.skipped.is_empty() {
                return Err(CliError { code: "NOTHING_IMPORTED", message: "no profile of the bundle was added (see skipped)".into(), exit_status: 1 });
            }
            Ok(())
        }
    }
}

/// The first line of `path` (`-`: standard input), in a wiped buffer.
fn read_passphrase(path: &Path) -> Result<Zeroizing<String>, CliError> {
    use std::io::Read as _;
    let io = |e: std::io::Error| CliError { code: "IO_ERROR", message: format!("cannot read the passphrase from {}: {e}", path.display()), exit_status: 1 };
    let mut text = Zeroizing::new(String::new());
    if path == Path::new("-") {
        std::io::stdin().take(4096).read_to_string(&mut text).map_err(io)?;
    } else {
        let bytes = tollgate::app::key_files::read_capped(path, 4096).map_err(|e| file_error(path, "passphrase file", e))?;
        text.push_str(std::str::from_utf8(&bytes).map_err(|_| usage("INVALID_ARGS", "the passphrase file is not UTF-8"))?);
    }
    let line = text.lines().next().unwrap_or_default();
    Ok(Zeroizing::new(line.to_owned()))
}

fn find_profile(services: &AppServices, wanted: &str) -> Result<tollgate::store::Profile, CliError> {
    services
        .profiles()
        .list()?
        .into_iter()
        .find(|p| p.id.to_string() == wanted || p.name == wanted)
        .ok_or_else(|| CliError { code: "NOT_FOUND", message: format!("no profile is named or has the id {wanted:?}"), exit_status: 1 })
}

fn keys_export(engine: &PluginEngine, data_dir: &Path, profile: Option<&str>, pem: bool) -> Result<(), CliError> {
    use tollgate::app::channels::keys;
    let services = AppServices::new(engine, data_dir)?;
    let bridge_error = |e: tollgate::bridge::BridgeError| CliError { code: e.code.as_str(), message: e.message, exit_status: 1 };
    let Some(wanted) = profile else {
        let set = keys::key_set(&services).map_err(bridge_error)?;
        println!("{}", serde_json::to_string_pretty(&json!({ "keys": set.keys })).unwrap_or_default());
        return Ok(());
    };
    let found = find_profile(&services, wanted)?;
    let public = keys::public_key_of(&services, &found)
        .map_err(bridge_error)?
        .ok_or_else(|| CliError { code: "INVALID_INPUT", message: format!("{} is an HMAC profile: its secret has no public half", found.name), exit_status: 1 })?;
    if pem {
        print!("{}", public.pem);
    } else {
        println!("{}", serde_json::to_string_pretty(&public.jwk).unwrap_or_default());
    }
    Ok(())
}

/// The man pages (one per command, `tollgate.1`, `tollgate-jwt.1`, ...) and
/// the bash, zsh and fish completions, from the same clap definition the
/// binary parses with.
fn package_files(out: &Path) -> Result<(), CliError> {
    use clap::CommandFactory as _;
    let io = |what: &str, e: std::io::Error| CliError { code: "IO_ERROR", message: format!("cannot write {what} into {}: {e}", out.display()), exit_status: 1 };
    let man = out.join("man");
    let completions = out.join("completions");
    std::fs::create_dir_all(&man).map_err(|e| io("man pages", e))?;
    std::fs::create_dir_all(&completions).map_err(|e| io("completions", e))?;
    let mut command = Cli::command();
    command.build();
    write_man_pages(&command, &man).map_err(|e| io("man pages", e))?;
    for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
        clap_complete::generate_to(shell, &mut command, "tollgate", &completions).map_err(|e| io("completions", e))?;
    }
    println!("{}", out.display());
    Ok(())
}

/// One man page for `command` (named `tollgate`, `tollgate-jwt`,
/// `tollgate-jwt-sign`, ...) and each of its subcommands, leaving out hidden
/// ones and clap's `help`, whose pages would only repeat the others.
fn write_man_pages(command: &clap::Command, dir: &Path) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    std::fs::write(dir.join(format!("{}.1", command.get_name())), page)?;
    for sub in command.get_subcommands().filter(|c| !c.is_hide_set() && c.get_name() != "help") {
        let named = sub.clone().name(format!("{}-{}", command.get_name(), sub.get_name()));
        write_man_pages(&named, dir)?;
    }
    Ok(())
}

/// `--data-dir`, or `$XDG_DATA_HOME/tollgate`.
fn default_data_dir(data_dir: Option<PathBuf>) -> Option<PathBuf> {
    data_dir.or_else(|| dirs::data_dir().map(|d| d.join("tollgate")))
}

fn open_window(
    engine: &PluginEngine,
    data_dir: Option<PathBuf>,
    dev: DevOptions,
    screenshot: Option<PathBuf>,
    allow_automation: bool,
    auth: AuthConfig,
) -> Result<(), CliError> {
    let data_dir = default_data_dir(data_dir).ok_or_else(|| {
        usage("NO_DATA_DIR", "no data directory: set XDG_DATA_HOME or HOME, or pass --data-dir")
    })?;
    let auth = AuthService::new(auth);
    // The services and the bridge (the built-in plugins loaded, the stores
    // opened: ~10 ms) are made on a thread while GTK starts on this one;
    // the window waits for them only once GTK is up.
    let parts = {
        let (engine, data_dir, auth) = (engine.clone(), data_dir.clone(), auth.clone());
        std::thread::Builder::new()
            .name("tollgate-start".to_owned())
            .spawn(move || app_bridge(&engine, &data_dir, auth))
            .map_err(|e| CliError { code: "APP_START_FAILED", message: format!("could not start a thread: {e}"), exit_status: 1 })?
    };
    // A failure making them keeps its own code (a plugin's, a store's).
    let mut failed = None;
    let ran = tollgate::app::window::run_when_ready(|| {
        let built = parts.join().unwrap_or_else(|_| {
            Err(CliError { code: "APP_START_FAILED", message: "the start-up thread panicked".to_owned(), exit_status: 1 })
        });
        let (bridge, services) = built.map_err(|e| {
            let message = e.message.clone();
            failed = Some(e);
            WindowError::App(message)
        })?;
        tracing::debug!(event = "startup", phase = "bridge built", "bridge built");
        watch_dev_plugins(&dev.plugins, &services, &bridge);
        // Keeps the installation token fresh and notices when an unreachable
        // sign-in service is back, while the window is open.
        if let Err(e) = auth.start_refresh_checks(tollgate::auth::REFRESH_CHECK_INTERVAL) {
            tracing::warn!(error = %e, "could not start the background token refresh");
        }
        let options = WindowOptions {
            data_dir,
            assets: dev.assets.map_or(AssetSource::Embedded, AssetSource::Directory),
            screenshot,
            allow_automation,
            opener: Some(std::sync::Arc::clone(services.window_opener())),
            trust_prompt: Some(std::sync::Arc::clone(services.trust_prompt())),
            file_dialogs: Some(std::sync::Arc::clone(services.file_dialogs())),
            observer: None,
        };
        Ok((bridge, options))
    });
    if let Some(e) = failed {
        return Err(e);
    }
    ran.map_err(|e| {
        let code = match e {
            WindowError::NoDisplay => "NO_DISPLAY",
            WindowError::DataDir(_) => "DATA_DIR_UNUSABLE",
            _ => "WINDOW_FAILED",
        };
        CliError { code, message: e.to_string(), exit_status: 1 }
    })
}

/// Where the contract's generated files live, from the workspace root.
const CONTRACT_SNAPSHOT: &str = "contract/bridge.json";
const CONTRACT_TYPESCRIPT: &str = "webview-assets/bridge.d.ts";

fn contract(engine: &PluginEngine, write: bool) -> Result<(), CliError> {
    // No channel runs here, so the data directory is never touched.
    let unused_data_dir = std::env::temp_dir().join("tollgate-contract");
    let (bridge, _) = app_bridge(engine, &unused_data_dir, AuthService::new(AuthConfig::default()))?;
    let contract = Contract::of(&bridge);
    let io = |path: &str, e: std::io::Error| CliError { code: "IO_ERROR", message: format!("{path}: {e}"), exit_status: 1 };
    let files = [(CONTRACT_SNAPSHOT, contract.to_snapshot()), (CONTRACT_TYPESCRIPT, contract.to_typescript())];
    if write {
        for (path, text) in &files {
            if let Some(parent) = Path::new(path).parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(path, e))?;
            }
            std::fs::write(path, text).map_err(|e| io(path, e))?;
            eprintln!("wrote {path}");
        }
        return Ok(());
    }
    for (path, text) in &files {
        let on_disk = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        if &on_disk != text {
            return Err(CliError { code: "CONTRACT_STALE", message: format!("{path} is stale: run `just contract`"), exit_status: 1 });
        }
    }
    Ok(())
}

fn decoded_json(d: &tollgate::jwt::DecodedToken) -> Value {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.to_owned()));
    json!({ "header": parse(&d.header), "payload": parse(&d.payload), "signature": d.signature })
}

/// Custom header fields from a JSON value, which must be an object.
fn extra_header(fields: Value) -> Result<ExtraHeader, CliError> {
    match fields {
        Value::Object(fields) => Ok(ExtraHeader::from_object(fields)?),
        _ => Err(JwtError::InvalidHeader("custom header fields must be a JSON object".into()).into()),
    }
}

fn parse_claims(text: &str) -> Result<Value, CliError> {
    let claims: Value = serde_json::from_str(text).map_err(|e| CliError::from(JwtError::InvalidClaims(format!("not JSON: {e}"))))?;
    if !claims.is_object() {
        return Err(JwtError::InvalidClaims("claims must be a JSON object".into()).into());
    }
    Ok(claims)
}

/// A private key file for `alg` in any form the app reads (PEM, DER or
/// JWK; for HMAC the secret's bytes less one trailing newline).
fn read_key_file(path: &Path, alg: Algorithm) -> Result<Zeroizing<Vec<u8>>, CliError> {
    tollgate::app::key_files::read_key_file(path, alg).map_err(|e| file_error(path, "key file", e))
}

/// The key `jwt verify` checks with: a public key file as it is, or an
/// HMAC secret as [`read_key_file`] reads it.
fn read_verifying_key_file(path: &Path, alg: Algorithm) -> Result<Zeroizing<Vec<u8>>, CliError> {
    if alg.is_hmac() {
        return read_key_file(path, alg);
    }
    tollgate::app::key_files::read_capped(path, tollgate::app::key_files::MAX_KEY_FILE_BYTES).map_err(|e| file_error(path, "key file", e))
}

/// A JSON Web Key Set file's text, read up to the key set's cap.
fn read_key_set_file(path: &Path) -> Result<String, CliError> {
    tollgate::app::key_files::read_key_set_file(path).map_err(|e| file_error(path, "key set", e))
}

fn file_error(path: &Path, what: &str, e: tollgate::app::key_files::ReadError) -> CliError {
    use tollgate::app::key_files::ReadError;
    let code = match e {
        ReadError::Key(k) => return k.into(),
        ReadError::Io(_) => "IO_ERROR",
        _ if what == "key file" => "INVALID_KEY",
        _ => "INVALID_INPUT",
    };
    CliError { code, message: format!("cannot read {what} {}: {e}", path.display()), exit_status: 1 }
}

fn scaffold_error(e: scaffold::ScaffoldError) -> CliError {
    let code = match e {
        scaffold::ScaffoldError::BadName(_) | scaffold::ScaffoldError::UnknownWorld { .. } => "INVALID_ARGS",
        scaffold::ScaffoldError::Exists(_) => "ALREADY_EXISTS",
        scaffold::ScaffoldError::Manifest(_) => "MANIFEST_INVALID",
        _ => "IO_ERROR",
    };
    CliError { code, message: e.to_string(), exit_status: 1 }
}

fn plugin_new(name: &str, world: &str, dir: &Path) -> Result<(), CliError> {
    let made = scaffold::scaffold(name, world, dir).map_err(scaffold_error)?;
    println!("created {}", made.dir.display());
    if made.workspace_member {
        println!("added to the workspace in {}; build, pack and test it with:\n  just plugin {name}", dir.display());
    } else {
        println!(
            "build it (from its directory, where .cargo/config.toml sets the target flags):\n  cd {} && cargo build --release --target wasm32-wasip2\n\
             then pack and test it:\n  tollgate plugin pack {0} --wasm {0}/target/{1} --out {0}/package\n  tollgate plugin test {0} --wasm {0}/package/{name}.wasm",
            made.dir.display(),
            made.artifact,
        );
    }
    Ok(())
}

fn plugin_hash(file: &Path, manifest: Option<&Path>, write: bool) -> Result<(), CliError> {
    let bytes = std::fs::read(file).map_err(|e| PluginError::Io { path: file.display().to_string(), source: e })?;
    match (manifest, write) {
        (Some(manifest), true) => {
            let hash = scaffold::record_hash(&bytes, manifest).map_err(scaffold_error)?;
            println!("recorded sha256 = \"{hash}\" in {}", manifest.display());
        }
        _ => println!("sha256 = \"{}\"", tollgate::runtime::component_sha256(&bytes)),
    }
    Ok(())
}

fn plugin_test(engine: &PluginEngine, crate_dir: &Path, wasm: &Path) -> Result<(), CliError> {
    let calls = scaffold::read_calls(crate_dir).map_err(scaffold_error)?;
    let manifest = wasm.with_file_name("tollgate.toml");
    let source = PluginSource::from_files(wasm, Some(&manifest))?;
    // An author's test run: failures show in the table, and quarantine
    // lasts this run only.
    let plugin = Callable::load(engine, &source, true, &PluginQuarantine::in_memory())?;
    let mut failed = 0;
    println!("{:<4} {:<10} {:<6} detail", "#", "function", "result");
    for (i, c) in calls.iter().enumerate() {
        let outcome = plugin.call(&c.function, &c.args).map_err(|e| e.code.to_owned());
        let verdict = scaffold::judge(&c.expect, &outcome);
        let (mark, detail) = match &verdict {
            Ok(()) => ("pass", format!("expected {}", c.expect)),
            Err(why) => ("FAIL", why.clone()),
        };
        failed += usize::from(verdict.is_err());
        println!("{:<4} {:<10} {:<6} {detail}", i + 1, c.function, mark);
    }
    if failed > 0 {
        return Err(CliError { code: "PLUGIN_TEST_FAILED", message: format!("{failed} of {} calls failed", calls.len()), exit_status: 1 });
    }
    println!("{} calls passed through the runtime ({})", calls.len(), source.what);
    Ok(())
}

/// A plugin the CLI can call: a signer (either served version of its
/// world) or a claims linter; the manifest's world says which.
enum Callable {
    Signer(JwtSigner),
    Linter(Box<ClaimsLinter>),
}

impl Callable {
    fn load(engine: &PluginEngine, source: &PluginSource<'_>, verified: bool, quarantine: &PluginQuarantine) -> Result<Self, CliError> {
        let manifest = tollgate::runtime::Manifest::parse(&source.manifest, engine.policy()).map_err(PluginError::from)?;
        if manifest.world == ClaimsLinterWorld::WORLD {
            let plugin = if verified { engine.load_verified(source)? } else { engine.load(source)? };
            return Ok(Self::Linter(Box::new(ClaimsLinter::from_plugin(plugin))));
        }
        Ok(Self::Signer(JwtSigner::load(engine, source, verified)?.with_quarantine(quarantine.clone())))
    }

    fn call(&self, function: &str, args: &Value) -> Result<Value, CliError> {
        match self {
            Self::Signer(signer) => call(signer, function, args),
            Self::Linter(linter) => lint_call(linter, function, args),
        }
    }
}

/// `jwt-signer` and `claims-linter` are the built-in plugins; anything else
/// is a path to a component.
fn load_callable(engine: &PluginEngine, plugin: &str, manifest: Option<&Path>, quarantine: &PluginQuarantine) -> Result<Callable, CliError> {
    match (plugin, manifest) {
        ("jwt-signer", None) => Ok(Callable::Signer(JwtSigner::builtin(engine)?.with_quarantine(quarantine.clone()))),
        ("claims-linter", None) => Ok(Callable::Linter(Box::new(ClaimsLinter::builtin(engine)?))),
        _ => Callable::load(engine, &PluginSource::from_files(Path::new(plugin), manifest)?, false, quarantine),
    }
}

/// `plugin trust`: clears a quarantined plugin by name, hash or the path
/// of its component, saying what was cleared; or lists them all.
fn plugin_trust(quarantine: &PluginQuarantine, plugin: Option<&str>, list: bool) -> Result<(), CliError> {
    if list {
        println!("{}", serde_json::to_string_pretty(&quarantine.list()).unwrap_or_default());
        return Ok(());
    }
    let Some(plugin) = plugin else {
        return Err(usage("INVALID_ARGS", "name a plugin (name, sha256 or .wasm path), or pass --list"));
    };
    let path = Path::new(plugin);
    let key = if path.is_file() {
        let bytes = std::fs::read(path).map_err(|source| PluginError::Io { path: path.display().to_string(), source })?;
        tollgate::runtime::component_sha256(&bytes)
    } else {
        plugin.to_owned()
    };
    let cleared = quarantine.trust(&key).map_err(|e| CliError { code: e.code(), message: e.to_string(), exit_status: 1 })?;
    if cleared.is_empty() {
        return Err(CliError { code: "NOT_QUARANTINED", message: format!("no quarantined plugin is named or hashed `{plugin}`"), exit_status: 1 });
    }
    for entry in cleared {
        eprintln!("trusted again: {} (sha256 {}), quarantined since {} because {}", entry.plugin, entry.sha256, entry.since, entry.reason);
    }
    Ok(())
}

/// A linter call: `lint` with `{claims, maxLifetimeSeconds?}`.
fn lint_call(linter: &ClaimsLinter, function: &str, args: &Value) -> Result<Value, CliError> {
    if function != "lint" {
        return Err(usage("UNKNOWN_FUNCTION", format!("`{function}` is not an export of the linter world (lint)")));
    }
    let claims = args.get("claims").and_then(Value::as_object).ok_or_else(|| usage("INVALID_ARGS", "`claims` (a JSON object) is required"))?;
    let max = args.get("maxLifetimeSeconds").and_then(Value::as_u64).unwrap_or(tollgate::lint::DEFAULT_MAX_LIFETIME_SECONDS);
    let findings = linter
        .lint(claims, linter.policy(max))
        .map_err(|e| CliError { code: e.code(), message: e.to_string(), exit_status: 1 })?;
    Ok(json!({ "findings": findings }))
}

fn inspect(engine: &PluginEngine, file: &Path, as_json: bool, world: Option<&str>) -> Result<(), CliError> {
    let world: &'static WorldSpec = match world {
        Some(name) => WorldSpec::find(name).ok_or_else(|| {
            let served: Vec<&str> = WORLDS.iter().map(|w| w.name).collect();
            usage("UNKNOWN_WORLD", format!("this host serves {}", served.join(", ")))
        })?,
        None => &WORLDS[0],
    };
    let bytes = std::fs::read(file).map_err(|e| PluginError::Io { path: file.display().to_string(), source: e })?;
    let report = engine.inspect(&bytes, &file.display().to_string(), world)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        return Ok(());
    }
    println!("{}\n  judged against world {}\n", file.display(), report.world);
    println!("imports:");
    for i in &report.imports {
        let mark = if i.linked { "linked " } else { "REFUSED" };
        println!("  {mark} {:<40} {}: {}", i.name, i.decision, i.detail);
    }
    println!("\nexports:");
    for e in &report.exports {
        if e.functions.is_empty() {
            println!("  {}", e.name);
        } else {
            println!("  {}: {}", e.name, e.functions.join(", "));
        }
    }
    println!("\n{}", if report.loadable { "loadable: every import is linked" } else { "NOT loadable: refused imports above" });
    Ok(())
}

fn audit_plugins(engine: &PluginEngine, extra: &[PathBuf], as_json: bool) -> Result<(), CliError> {
    let scratch = tempfile::tempdir().map_err(|e| CliError { code: "AUDIT_FAILED", message: e.to_string(), exit_status: 1 })?;
    let report = tollgate::audit::plugins::grants(engine, scratch.path(), extra)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{}", report.text());
    }
    Ok(())
}

fn audit(as_json: bool, areas: &[String], strict: bool) -> Result<(), CliError> {
    use tollgate::audit::{self, Area, AuditEnv, Report};
    const AREAS: &[(&str, Area)] =
        &[("guest", Area::Guest), ("bridge", Area::Bridge), ("page", Area::Page), ("socket", Area::Socket), ("jwt", Area::Jwt), ("storage", Area::Storage)];
    let mut wanted = Vec::new();
    for name in areas {
        let area = AREAS.iter().find(|(n, _)| n == name).map(|(_, a)| *a).ok_or_else(|| {
            usage("INVALID_ARGS", format!("unknown area {name:?}: one of {}", AREAS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")))
        })?;
        wanted.push(area);
    }
    let runs = |area: Area| wanted.is_empty() || wanted.contains(&area);
    audit::watch_panics();
    let env = AuditEnv::new(audit::global_capture().clone())?;
    let mut progress = |r: &audit::CaseResult| {
        // Progress goes to stderr so the table or JSON on stdout stays clean.
        eprintln!("{:<5} {:<52} {} ms", format!("{:?}", r.verdict).to_lowercase(), r.id, r.millis);
    };
    let cases = audit::headless_cases().into_iter().filter(|c| runs(c.area)).collect();
    let mut results = audit::run_cases(&env, cases, &mut progress);
    if runs(Area::Page) {
        results.extend(audit_page_cases(&env, &mut progress));
    }
    results.extend(audit::run_cases(&env, audit::closing_cases(), &mut progress));
    let report = Report::new(results);
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        let width = terminal_width();
        print!("{}", report.table(width));
    }
    if !report.all_passed() {
        Err(CliError { code: "AUDIT_FAILED", message: format!("{} of {} cases failed", report.failed, report.cases.len()), exit_status: 1 })
    } else if strict && report.skipped > 0 {
        Err(CliError {
            code: "AUDIT_INCOMPLETE",
            message: format!("{} of {} cases were skipped (--strict: every case must run here)", report.skipped, report.cases.len()),
            exit_status: 1,
        })
    } else {
        Ok(())
    }
}

/// The page cases run in the real window; without a display (or when the
/// window can't open) they are one skipped or failed case that says why.
fn audit_page_cases(
    env: &tollgate::audit::AuditEnv,
    progress: &mut (dyn FnMut(&tollgate::audit::CaseResult) + Send),
) -> Vec<tollgate::audit::CaseResult> {
    use tollgate::audit::{Area, CaseResult, Verdict};
    let data_dir = env.scratch().join("page-window");
    match tollgate::audit::window::run_page_cases(env, &data_dir, progress) {
        Ok(results) => results,
        Err(e) => {
            let no_display = matches!(e, WindowError::NoDisplay);
            let result = CaseResult {
                id: "page/*".into(),
                area: Area::Page,
                artifact: "host/src/audit/pages/".into(),
                must: "hostile page scripts in the real window get what each case says".into(),
                happened: format!("not run: {e}"),
                verdict: if no_display { Verdict::Skip } else { Verdict::Fail },
                passed: false,
                millis: 0,
            };
            progress(&result);
            vec![result]
        }
    }
}

/// The terminal's width from `COLUMNS`, else 160 (the table wraps cells to fit).
fn terminal_width() -> u16 {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w >= 60).unwrap_or(160)
}

/// Reads a key argument: `key` (UTF-8 text, e.g. a PEM or secret) or
/// `keyBase64`.
fn key_arg(args: &Value) -> Result<Zeroizing<Vec<u8>>, CliError> {
    match (args.get("key").and_then(Value::as_str), args.get("keyBase64").and_then(Value::as_str)) {
        (Some(text), None) => Ok(Zeroizing::new(text.as_bytes().to_vec())),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(Zeroizing::new)
            .map_err(|_| JwtError::InvalidKey("keyBase64 is not base64".into()).into()),
        _ => Err(usage("INVALID_ARGS", "give exactly one of `key` or `keyBase64`")),
    }
}

fn str_arg<'a>(args: &'a Value, name: &str) -> Result<&'a str, CliError> {
    args.get(name).and_then(Value::as_str).ok_or_else(|| usage("INVALID_ARGS", format!("`{name}` (a string) is required")))
}

fn call(signer: &JwtSigner, function: &str, args: &Value) -> Result<Value, CliError> {
    if !args.is_object() {
        return Err(usage("INVALID_ARGS", "--args must be a JSON object"));
    }
    match function {
        "sign" => {
            let alg: Algorithm = str_arg(args, "alg")?.parse()?;
            let key = SigningKey::new(alg, key_arg(args)?)?;
            let claims = args.get("claims").cloned().ok_or_else(|| usage("INVALID_ARGS", "`claims` is required"))?;
            let header = args.get("header");
            let field = |name| header.and_then(|h| h.get(name)).and_then(Value::as_str).map(str::to_owned);
            let extra = match header.and_then(|h| h.get("fields")) {
                None => ExtraHeader::none(),
                Some(fields) => extra_header(fields.clone())?,
            };
            let token = signer.sign(SignRequest { key: &key, claims, kid: field("kid"), typ: field("typ"), extra })?;
            Ok(json!({ "token": token }))
        }
        "decode" => Ok(decoded_json(&signer.decode(str_arg(args, "token")?)?)),
        "verify" => {
            let allowed = match args.get("allowed").and_then(Value::as_array) {
                Some(list) => list
                    .iter()
                    .map(|a| a.as_str().unwrap_or_default().parse())
                    .collect::<Result<Vec<Algorithm>, _>>()?,
                None => return Err(usage("INVALID_ARGS", "`allowed` (a list of algorithm names) is required")),
            };
            let leeway = args.get("leeway").and_then(Value::as_u64).unwrap_or(0);
            let leeway = u32::try_from(leeway).map_err(|_| usage("INVALID_ARGS", "`leeway` is too large"))?;
            let claims = signer.verify(str_arg(args, "token")?, &key_arg(args)?, &allowed, leeway)?;
            Ok(json!({ "claims": claims }))
        }
        other => Err(usage("UNKNOWN_FUNCTION", format!("`{other}` is not an export of the signer world (sign, decode, verify)"))),
    }
}

/// The deadline a refused client must be closed within.
const IPC_CHECK_CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_millis(200);

fn ipc_check() -> Result<(), CliError> {
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};
    use tollgate::worker::protocol::HandshakeReply;
    use tollgate::worker::{HandshakeConfig, HandshakeServer, generate_handshake_token, send_handshake};

    let fail = |message: String| CliError { code: "IPC_CHECK_FAILED", message, exit_status: 1 };
    let server = HandshakeServer::bind(HandshakeConfig::default()).map_err(|e| fail(format!("bind: {e}")))?;
    let token = generate_handshake_token().map_err(|e| fail(e.to_string()))?;
    let hex = token.to_hex();
    server.expect(token);

    let mut good = UnixStream::connect(server.socket_path()).map_err(|e| fail(format!("connect: {e}")))?;
    let started = Instant::now();
    let reply = send_handshake(&mut good, &hex, Duration::from_secs(5)).map_err(|e| fail(format!("correct client: {e}")))?;
    if reply != HandshakeReply::HandshakeOk {
        return Err(fail(format!("correct client got {reply:?}")));
    }
    println!("ok: correct token -> HANDSHAKE_OK in {:?}", started.elapsed());

    let mut zero = UnixStream::connect(server.socket_path()).map_err(|e| fail(format!("connect: {e}")))?;
    let started = Instant::now();
    let reply = send_handshake(&mut zero, &"0".repeat(64), Duration::from_secs(5)).map_err(|e| fail(format!("zero client: {e}")))?;
    let _ = zero.set_read_timeout(Some(Duration::from_secs(2)));
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut zero, &mut rest);
    let closed_after = started.elapsed();
    if !matches!(reply, HandshakeReply::HandshakeFailed { .. }) || closed_after > IPC_CHECK_CLOSE_WITHIN {
        return Err(fail(format!("zero-token client got {reply:?}, closed after {closed_after:?}")));
    }
    println!("ok: zero token -> {reply:?}, closed after {closed_after:?}");
    Ok(())
}
