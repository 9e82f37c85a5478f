//! `JwtSigner`: the typed front of a signer plugin. Inputs are checked
//! here before the guest is called; outputs are checked here before they
//! are returned.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::guest_artifacts;
use crate::jwt::verify_output::{signing_input, split_token, verify_natively, verify_signer_output, MAX_TOKEN_BYTES};
use crate::jwt::{Algorithm, JwtError, SigningKey};
use crate::jwt::backend::{GuestError, SignerBackend, load_signer_backend};
use crate::runtime::bindings::JwtSigner as SignerWorld;
use crate::runtime::{Plugin, PluginEngine, PluginError, PluginSource, unix_seconds};

/// The most algorithms one `verify` call may allow.
const MAX_ALLOWED_ALGORITHMS: usize = 12;

/// What to sign.
#[derive(Debug)]
pub struct SignRequest<'a> {
    /// The key, already checked for its algorithm.
    pub key: &'a SigningKey,
    /// The claims: a JSON object.
    pub claims: Value,
    /// `kid` header field.
    pub kid: Option<String>,
    /// `typ` header field (`JWT` when absent).
    pub typ: Option<String>,
}

/// A token split for display. Nothing here is verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodedToken {
    /// Header JSON text.
    pub header: String,
    /// Payload JSON text.
    pub payload: String,
    /// Signature segment, base64url.
    pub signature: String,
}

/// A signer plugin behind the host's checks, wherever it runs.
pub struct JwtSigner {
    backend: Box<dyn SignerBackend>,
}

impl JwtSigner {
    /// Loads the first-party signer embedded in this binary.
    pub fn builtin(engine: &PluginEngine) -> Result<Self, PluginError> {
        let source = PluginSource {
            wasm: Cow::Borrowed(guest_artifacts::JWT_SIGNER_WASM),
            manifest: Cow::Borrowed(guest_artifacts::JWT_SIGNER_MANIFEST),
            what: "built-in jwt-signer".into(),
        };
        Ok(Self::from_plugin(engine.load(&source)?))
    }

    /// Loads a signer plugin built against any served version of the signer
    /// world (the manifest's `world` picks the bindings: the current
    /// `tollgate:jwt/jwt-signer@0.2.0`, or `@0.1.0`, the previous minor).
    /// With `verified`, the manifest must record the component's SHA-256.
    pub fn load(engine: &PluginEngine, source: &PluginSource<'_>, verified: bool) -> Result<Self, PluginError> {
        Ok(Self::from_backend(load_signer_backend(engine, source, verified)?))
    }

    /// Wraps an already loaded signer plugin, run in this process.
    pub fn from_plugin(plugin: Plugin<SignerWorld>) -> Self {
        Self::from_backend(Box::new(plugin))
    }

    /// Wraps any backend (e.g. a worker process, `crate::worker`).
    pub fn from_backend(backend: Box<dyn SignerBackend>) -> Self {
        Self { backend }
    }

    /// Signs through the guest, then verifies the token natively: header
    /// and claims byte-equal to what was asked, signature of the right
    /// length that verifies under the key. A token that fails is dropped
    /// and the call fails with `PLUGIN_OUTPUT_REJECTED`.
    pub fn sign(&self, request: SignRequest<'_>) -> Result<String, JwtError> {
        let alg = request.key.algorithm();
        let (message, claims_text) =
            signing_input(alg, request.kid.as_deref(), request.typ.as_deref(), request.claims)?;
        let result = self.backend.sign(alg, request.key.material(), request.kid.as_deref(), request.typ.as_deref(), &claims_text)?;
        let token = result.map_err(|e| guest_error(e, true))?;
        if let Err(reason) = verify_signer_output(&token, &message, request.key) {
            return Err(self.rejected("sign", reason));
        }
        Ok(token)
    }

    /// Splits a token for display through the guest, and checks the guest's
    /// answer against the host's own decoding.
    pub fn decode(&self, token: &str) -> Result<DecodedToken, JwtError> {
        check_token_size(token)?;
        let native = split_token(token);
        let result = self.backend.decode(token)?;
        match (result, native) {
            (Ok(guest), Ok(native)) => {
                if guest.header != native.header_json || guest.payload != native.payload_json || guest.signature != native.signature {
                    return Err(self.rejected("decode", "the parts differ from the token's own".into()));
                }
                Ok(DecodedToken { header: guest.header, payload: guest.payload, signature: guest.signature })
            }
            (Err(_), Err(native)) => Err(native),
            (Ok(_), Err(_)) => Err(self.rejected("decode", "the guest decoded a malformed token".into())),
            (Err(_), Ok(_)) => Err(self.rejected("decode", "the guest refused a well-formed token".into())),
        }
    }

    /// Verifies through the guest and natively; both must agree. Returns
    /// the claims.
    pub fn verify(&self, token: &str, key: &[u8], allowed: &[Algorithm], leeway: u32) -> Result<Value, JwtError> {
        if allowed.is_empty() || allowed.len() > MAX_ALLOWED_ALGORITHMS {
            return Err(JwtError::AlgorithmNotAllowed("(none allowed)".into()));
        }
        check_token_size(token)?;
        let now = unix_seconds(&*self.backend.clock());
        let native = verify_natively(token, key, allowed, leeway, now);
        let result = self.backend.verify(token, key, allowed, leeway)?;
        match (result, native) {
            (Ok(guest_claims), Ok(native_claims)) => {
                if guest_claims != native_claims {
                    return Err(self.rejected("verify", "the claims differ from the token's own".into()));
                }
                serde_json::from_str(&native_claims).map_err(|e| JwtError::MalformedToken(e.to_string()))
            }
            (Err(guest), Err(native)) => {
                let guest = guest_error(guest, true);
                if guest.code() != native.code() {
                    tracing::debug!(guest = guest.code(), host = native.code(), "signer and host disagree on why a token is invalid");
                }
                Err(native)
            }
            (Ok(_), Err(_)) => Err(self.rejected("verify", "the guest accepted a token the host refuses".into())),
            (Err(_), Ok(_)) => Err(self.rejected("verify", "the guest refused a token the host accepts".into())),
        }
    }

    fn rejected(&self, function: &str, reason: String) -> JwtError {
        tracing::warn!(
            target: "tollgate::security",
            plugin = %self.backend.plugin_name(),
            function,
            %reason,
            "signer output rejected"
        );
        JwtError::Plugin(PluginError::OutputRejected { function: function.to_owned(), reason })
    }
}

/// Refuses an oversized token before any guest sees it.
fn check_token_size(token: &str) -> Result<(), JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::MalformedToken(format!("the token is over {MAX_TOKEN_BYTES} bytes")));
    }
    Ok(())
}

/// Maps a guest's error onto the host's. For a call that carried a key,
/// the guest's text is dropped: a hostile signer could hide the key in it.
fn guest_error(e: GuestError, carried_secret: bool) -> JwtError {
    use GuestError as G;
    let text = |m: String| if carried_secret { "refused by the signer".to_owned() } else { m.chars().take(200).collect() };
    match e {
        G::InvalidKey(m) => JwtError::InvalidKey(text(m)),
        G::InvalidClaims(m) => JwtError::InvalidClaims(text(m)),
        G::InvalidHeader(m) => JwtError::InvalidHeader(text(m)),
        G::MalformedToken(m) => JwtError::MalformedToken(text(m)),
        G::AlgorithmNotAllowed(m) => JwtError::AlgorithmNotAllowed(text(m)),
        G::InvalidSignature => JwtError::InvalidSignature,
        G::Expired => JwtError::Expired,
        G::NotYetValid => JwtError::NotYetValid,
        G::MissingClaim(m) => JwtError::MissingClaim(text(m)),
        G::InvalidClaimType(m) => JwtError::InvalidClaimType(text(m)),
        G::SigningFailed(_) => JwtError::SigningFailed,
    }
}
