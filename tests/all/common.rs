//! Shared set-up: one engine per test binary, the test keys, and loaders
//! for the guests built from `guest-plugins/`.

use std::path::Path;
use std::sync::OnceLock;

use tollgate::guest_artifacts as artifacts;
use tollgate::jwt::{Algorithm, JwtSigner, SigningKey};
use tollgate::runtime::worlds::JwtSignerWorld;
use tollgate::runtime::{EngineOptions, Plugin, PluginEngine, PluginError, PluginSource};
use zeroize::Zeroizing;

/// The process's engine, with a cache in a directory private to this run.
pub fn engine() -> &'static PluginEngine {
    static ENGINE: OnceLock<(PluginEngine, tempfile::TempDir)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let engine = PluginEngine::new(EngineOptions { cache_dir: Some(dir.path().to_path_buf()), ..Default::default() })
                .expect("engine");
            (engine, dir)
        })
        .0
}

/// The first-party signer, as the app loads it.
pub fn signer() -> JwtSigner {
    JwtSigner::builtin(engine()).expect("built-in signer loads")
}

/// A guest from the built artifacts, with its manifest.
pub fn load(wasm: &str, manifest: &str) -> Result<Plugin<JwtSignerWorld>, PluginError> {
    let source = PluginSource::from_files(Path::new(wasm), Some(Path::new(manifest)))?;
    engine().load(&source)
}

/// The hostile signer.
pub fn misbehaving() -> Plugin<JwtSignerWorld> {
    load(artifacts::MISBEHAVING_SIGNER_WASM_PATH, artifacts::MISBEHAVING_SIGNER_MANIFEST_PATH).expect("misbehaving signer loads")
}

/// After a key-carrying call failed inside the guest: the next one is
/// refused `PLUGIN_QUARANTINED` before the guest runs; trusted again (as
/// `tollgate plugin trust` does), the same plugin answers.
pub fn assert_quarantined_then_trusted<T: std::fmt::Debug>(signer: &JwtSigner, mut call: impl FnMut() -> Result<T, tollgate::jwt::JwtError>) {
    let refused = call().expect_err("a quarantined plugin is refused the key");
    assert_eq!(refused.code(), "PLUGIN_QUARANTINED", "{refused}");
    assert!(refused.to_string().contains("tollgate plugin trust"), "the error says how to clear it: {refused}");
    let cleared = signer.quarantine().trust(signer.plugin_sha256()).expect("trust");
    assert_eq!(cleared.len(), 1, "exactly this plugin was quarantined");
    call().unwrap_or_else(|e| panic!("trusted again, the plugin does not answer: {e}"));
}

/// A test key file's bytes.
pub fn key_bytes(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A 32-byte HMAC secret used across tests; distinctive so a leak is found.
pub const HMAC_SECRET: &[u8] = b"tollgate-test-hmac-secret-0123456789abcdef";

/// The signing key and its public counterpart for `alg`.
pub fn keys_for(alg: Algorithm) -> (Vec<u8>, Vec<u8>) {
    let (private, public) = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => return (HMAC_SECRET.to_vec(), HMAC_SECRET.to_vec()),
        Algorithm::ES256 => ("p256.pem", "p256.pub.pem"),
        Algorithm::ES384 => ("p384.pem", "p384.pub.pem"),
        Algorithm::EdDSA => ("ed25519.pem", "ed25519.pub.pem"),
        _ => ("rsa2048.pem", "rsa2048.pub.pem"),
    };
    (key_bytes(private), key_bytes(public))
}

/// jsonwebtoken's own key for verifying `alg` with the public half from
/// [`keys_for`]: the independent verifier.
pub fn native_decoding_key(alg: Algorithm, public: &[u8]) -> jsonwebtoken::DecodingKey {
    use jsonwebtoken::DecodingKey;
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => DecodingKey::from_secret(public),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(public).expect("ec pub"),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(public).expect("ed pub"),
        _ => DecodingKey::from_rsa_pem(public).expect("rsa pub"),
    }
}

/// A checked signing key for `alg`.
pub fn signing_key(alg: Algorithm) -> SigningKey {
    SigningKey::new(alg, Zeroizing::new(keys_for(alg).0)).expect("test key is valid")
}

/// The audit's in-memory log capture (JSON lines: `json_subscriber`).
pub use tollgate::audit::LogCapture;

/// Plain-text capture for tests that read the log as a person would.
pub trait TextLog {
    /// A subscriber writing plain text, at every level, into this capture.
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static;
}

impl TextLog for LogCapture {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(self.clone()).finish()
    }
}

/// The worker binary cargo built beside `tollgate` (the `tollgate-worker`
/// package's integration test makes `cargo test --workspace` build it).
pub fn worker_program() -> std::path::PathBuf {
    let tollgate = std::path::Path::new(env!("CARGO_BIN_EXE_tollgate"));
    let worker = tollgate.with_file_name(tollgate::worker::WORKER_PROGRAM);
    assert!(worker.exists(), "{} is not built: run the tests with `cargo test --workspace` (or build -p tollgate-worker first)", worker.display());
    worker
}
