//! `JwtSigner`: the typed front of a signer plugin. Inputs are checked
//! here before the guest is called; outputs are checked here before they
//! are returned.
//!
//! A key-carrying call (`sign`, `verify`) hands the guest a key, so
//! everything the caller can observe about it is a possible channel for
//! that key, and each is closed here:
//!
//! - the token: it must be byte-identical to the host's own canonical
//!   token (`verify_output`), so the guest chooses no byte of it;
//! - the outcome: a call that fails inside the guest after every host
//!   check passed, or whose answer the host refuses, quarantines the
//!   plugin (`jwt::quarantine`): the next key-carrying call is
//!   refused before the key is sent;
//! - the time: the answer is held until a floor that hides the guest's
//!   own variation ([`AnswerSchedule`]); a guest that runs past it is held
//!   much longer, and quarantined after [`AnswerSchedule::max_overruns`].

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use tollgate_guest_artifacts as guest_artifacts;
use crate::jwt::verify_output::{check_signer_output, signing_input, split_token, verify_natively, MAX_TOKEN_BYTES};
use crate::jwt::quarantine::{PluginQuarantine, QuarantineEntry};
use crate::jwt::{Algorithm, ExtraHeader, JwtError, SigningKey};
use crate::jwt::backend::{GuestError, SignerBackend, load_signer_backend};
use crate::bindings::JwtSigner as SignerWorld;
use crate::{Plugin, PluginEngine, PluginError, PluginSource, unix_seconds};

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
    /// Custom header fields, after `kid` (since `tollgate:jwt@0.3`; a
    /// signer of an older minor is refused them with `INVALID_HEADER`).
    pub extra: ExtraHeader,
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

/// When the answer to a key-carrying call is released, so that its timing
/// says nothing the guest chose.
///
/// The answer (success or failure alike) is held until `started + floor`,
/// where `floor = max(min_floor, native_factor x t_native)` and
/// `t_native` is how long the host's own canonical signature (or native
/// verification) took in this very call: it grows with the key size and
/// with the machine's load, and depends on nothing the guest does. An
/// honest guest finishes well inside the floor, so every answer leaves at
/// the floor. A guest that runs past it is an *overrun*: its answer is
/// held until `started + max(overrun_hold, the plugin's deadline + 100 ms)`,
/// so an overrun is one observable
/// event, not a duration the guest can modulate, and after `max_overruns`
/// overruns the plugin is quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerSchedule {
    /// The shortest floor.
    pub min_floor: Duration,
    /// The floor as a multiple of the host's own native time.
    pub native_factor: u32,
    /// Where an overrun's answer is held to.
    pub overrun_hold: Duration,
    /// Overruns that quarantine the plugin.
    pub max_overruns: u32,
}

impl AnswerSchedule {
    /// The schedule every signer gets unless a measurement turns it off.
    /// Floors: 50 ms, or 16x the native time (RSA-4096: ~150 ms); an honest
    /// guest takes 2-5x native (docs/benchmarks.md), so a floor is missed
    /// only on a machine far busier than any test here made it. The hold
    /// is the default manifest deadline.
    pub const DEFAULT: Self = Self {
        min_floor: Duration::from_millis(50),
        native_factor: 16,
        overrun_hold: Duration::from_millis(2_000),
        max_overruns: 3,
    };

    /// No holding at all: answers leave when the guest is done. Only for
    /// measuring the channel the schedule closes (bench, audit).
    pub const OFF: Self = Self { min_floor: Duration::ZERO, native_factor: 0, overrun_hold: Duration::ZERO, max_overruns: u32::MAX };

    fn floor(&self, native: Duration) -> Duration {
        self.min_floor.max(native.saturating_mul(self.native_factor))
    }
}

impl Default for AnswerSchedule {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How far past a guest's deadline an overrun's answer is held: the epoch
/// ticker stops a guest a tick or two after its deadline.
const OVERRUN_DEADLINE_SLACK: Duration = Duration::from_millis(100);

/// A signer plugin behind the host's checks, wherever it runs.
pub struct JwtSigner {
    backend: Box<dyn SignerBackend>,
    quarantine: PluginQuarantine,
    schedule: AnswerSchedule,
    overruns: AtomicU32,
}

/// What the host saw go wrong in a key-carrying call, for the quarantine.
enum Unexplained {
    /// The runtime failure, returned as it is.
    Failure(PluginError),
    /// The guest's own error although the host's checks had passed.
    GuestRefused,
    /// The guest's answer, refused by the host.
    Rejected(String),
}

impl JwtSigner {
    /// Loads the first-party signer embedded in this binary.
    pub fn builtin(engine: &PluginEngine) -> Result<Self, PluginError> {
        Ok(Self::from_plugin(engine.load(&Self::builtin_source())?))
    }

    /// The first-party signer embedded in this binary, as a plugin source:
    /// what [`JwtSigner::builtin`] loads, and what the worker loads and its
    /// host identifies when no plugin file is named.
    pub fn builtin_source() -> PluginSource<'static> {
        PluginSource {
            wasm: Cow::Borrowed(guest_artifacts::JWT_SIGNER_WASM),
            manifest: Cow::Borrowed(guest_artifacts::JWT_SIGNER_MANIFEST),
            what: "built-in jwt-signer".into(),
        }
    }

    /// Loads a signer plugin built against any served version of the signer
    /// world (the manifest's `world` picks the bindings: the current
    /// `tollgate:jwt/jwt-signer@0.3.0`, or `@0.2.0` and `@0.1.0`, the
    /// previous minors).
    /// With `verified`, the manifest must record the component's SHA-256.
    pub fn load(engine: &PluginEngine, source: &PluginSource<'_>, verified: bool) -> Result<Self, PluginError> {
        Ok(Self::from_backend(load_signer_backend(engine, source, verified)?))
    }

    /// Wraps an already loaded signer plugin, run in this process.
    pub fn from_plugin(plugin: Plugin<SignerWorld>) -> Self {
        Self::from_backend(Box::new(plugin))
    }

    /// Wraps any backend (e.g. a worker process, `crate::worker`). Its
    /// quarantine list lives in this process only until
    /// [`Self::with_quarantine`] gives it the data directory's.
    pub fn from_backend(backend: Box<dyn SignerBackend>) -> Self {
        Self { backend, quarantine: PluginQuarantine::in_memory(), schedule: AnswerSchedule::DEFAULT, overruns: AtomicU32::new(0) }
    }

    /// Uses this quarantine list (the app's and the CLI's, in the data
    /// directory).
    pub fn with_quarantine(mut self, quarantine: PluginQuarantine) -> Self {
        self.quarantine = quarantine;
        self
    }

    /// Holds answers to key-carrying calls by this schedule.
    pub fn with_schedule(mut self, schedule: AnswerSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The plugin's name.
    pub fn plugin_name(&self) -> &str {
        self.backend.plugin_name()
    }

    /// The plugin component's SHA-256.
    pub fn plugin_sha256(&self) -> &str {
        self.backend.plugin_sha256()
    }

    /// The worker process the guest runs in, if it runs in one that is up.
    pub fn worker_pid(&self) -> Option<u32> {
        self.backend.worker_pid()
    }

    /// The quarantine list this signer consults.
    pub fn quarantine(&self) -> &PluginQuarantine {
        &self.quarantine
    }

    /// Signs through the guest and accepts its token only if it is
    /// byte-identical to the one the host computes itself. Every
    /// unexplained failure quarantines the plugin; the answer is held by
    /// the [`AnswerSchedule`].
    pub fn sign(&self, request: SignRequest<'_>) -> Result<String, JwtError> {
        let alg = request.key.algorithm();
        // The host's checks, all before the key goes anywhere: the key was
        // checked for its algorithm when `SigningKey` was made; the claims
        // and header fields here.
        let (message, claims_text) =
            signing_input(alg, request.kid.as_deref(), request.typ.as_deref(), &request.extra, request.claims)?;
        if !request.extra.is_empty() && !self.backend.takes_extra_header() {
            return Err(JwtError::InvalidHeader(format!(
                "the signer `{}` implements an older contract than tollgate:jwt@0.3 and cannot set custom header fields; \
                 remove them from the profile or use a signer built against 0.3",
                self.backend.plugin_name()
            )));
        }
        self.refuse_if_quarantined()?;
        self.backend.prepare()?;
        let started = Instant::now();
        let expected = request.key.canonical().token(&message).map_err(|_| JwtError::SigningFailed)?;
        let native = started.elapsed();
        let answer = self.backend.sign(alg, request.key.material(), request.kid.as_deref(), request.typ.as_deref(), &request.extra, &claims_text);
        let outcome = match answer {
            Err(e) if e.is_guest_failure() => Err(Unexplained::Failure(e)),
            Err(e) => Ok(Err(JwtError::Plugin(e))),
            Ok(Err(_)) => Err(Unexplained::GuestRefused),
            Ok(Ok(token)) => match check_signer_output(&token, &message, &expected, request.key) {
                Ok(()) => Ok(Ok(token)),
                Err(reason) => Err(Unexplained::Rejected(reason)),
            },
        };
        let result = self.settle("sign", outcome);
        self.hold("sign", started, native);
        result
    }

    /// Refuses a key-carrying call to a quarantined plugin, before the key
    /// is sent.
    fn refuse_if_quarantined(&self) -> Result<(), JwtError> {
        match self.quarantine.get(self.backend.plugin_sha256()) {
            None => Ok(()),
            Some(entry) => Err(JwtError::Plugin(PluginError::Quarantined {
                plugin: self.backend.plugin_name().to_owned(),
                sha256: entry.sha256,
                reason: entry.reason,
            })),
        }
    }

    /// Turns a key-carrying call's outcome into the answer, quarantining
    /// the plugin for anything unexplained. The first such call still
    /// answers with what happened (a trap, a refused token); the next is
    /// refused with `PLUGIN_QUARANTINED`.
    fn settle<T>(&self, function: &str, outcome: Result<Result<T, JwtError>, Unexplained>) -> Result<T, JwtError> {
        match outcome {
            Ok(answer) => answer,
            Err(Unexplained::Failure(e)) => {
                self.quarantine_plugin(function, format!("`{function}` failed inside the guest ({}) after the host's checks passed", e.code()));
                Err(JwtError::Plugin(e))
            }
            Err(Unexplained::GuestRefused) => {
                self.quarantine_plugin(function, format!("`{function}` returned an error for a key and input the host had checked"));
                Err(JwtError::SigningFailed)
            }
            Err(Unexplained::Rejected(reason)) => {
                let err = self.rejected(function, reason.clone());
                self.quarantine_plugin(function, format!("the host refused the answer to `{function}`: {reason}"));
                Err(err)
            }
        }
    }

    fn quarantine_plugin(&self, function: &str, reason: String) {
        let sha256 = self.backend.plugin_sha256().to_owned();
        tracing::warn!(
            target: "tollgate::security",
            plugin = %self.backend.plugin_name(),
            %sha256,
            function,
            %reason,
            "plugin quarantined: it gets no key until the user trusts it again"
        );
        let entry = QuarantineEntry {
            sha256,
            plugin: self.backend.plugin_name().to_owned(),
            function: function.to_owned(),
            reason,
            since: unix_seconds(&*self.backend.clock()),
        };
        if let Err(e) = self.quarantine.add(entry) {
            // It holds in memory for this process either way.
            tracing::error!(target: "tollgate::security", error = %e, "the quarantine could not be saved");
        }
    }

    /// Holds the answer by the schedule (see [`AnswerSchedule`]).
    fn hold(&self, function: &str, started: Instant, native: Duration) {
        if self.schedule == AnswerSchedule::OFF {
            return;
        }
        let floor = self.schedule.floor(native);
        let elapsed = started.elapsed();
        let until = if elapsed <= floor {
            floor
        } else {
            let overruns = self.overruns.fetch_add(1, Ordering::SeqCst).saturating_add(1);
            tracing::warn!(
                target: "tollgate::security",
                plugin = %self.backend.plugin_name(),
                function,
                elapsed_ms = elapsed.as_millis() as u64,
                floor_ms = floor.as_millis() as u64,
                overruns,
                "a key-carrying call ran past its answer floor; the answer is held"
            );
            if overruns >= self.schedule.max_overruns {
                self.quarantine_plugin(function, format!("{overruns} key-carrying calls ran past their answer floor"));
            }
            // Past the guest's own deadline too (plus the epoch ticker's
            // slack), so a plugin with a long deadline can't pick the time.
            self.schedule.overrun_hold.max(self.backend.deadline() + OVERRUN_DEADLINE_SLACK)
        };
        if let Some(rest) = until.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
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
    /// the claims. The call carries a key (an HMAC secret, for HS*), so it
    /// is held and quarantined like `sign`: a disagreement or a failure
    /// inside the guest is unexplained.
    pub fn verify(&self, token: &str, key: &[u8], allowed: &[Algorithm], leeway: u32) -> Result<Value, JwtError> {
        if allowed.is_empty() || allowed.len() > MAX_ALLOWED_ALGORITHMS {
            return Err(JwtError::AlgorithmNotAllowed("(none allowed)".into()));
        }
        check_token_size(token)?;
        self.refuse_if_quarantined()?;
        self.backend.prepare()?;
        let started = Instant::now();
        let now = unix_seconds(&*self.backend.clock());
        let native = verify_natively(token, key, allowed, leeway, now);
        let native_time = started.elapsed();
        let outcome = match (self.backend.verify(token, key, allowed, leeway), native) {
            (Err(e), _) if e.is_guest_failure() => Err(Unexplained::Failure(e)),
            (Err(e), _) => Ok(Err(JwtError::Plugin(e))),
            (Ok(Ok(guest_claims)), Ok(native_claims)) => {
                if guest_claims != native_claims {
                    Err(Unexplained::Rejected("the claims differ from the token's own".into()))
                } else {
                    Ok(serde_json::from_str(&native_claims).map_err(|e| JwtError::MalformedToken(e.to_string())))
                }
            }
            (Ok(Err(guest)), Err(native)) => {
                let guest = guest_error(guest, true);
                if guest.code() != native.code() {
                    tracing::debug!(guest = guest.code(), host = native.code(), "signer and host disagree on why a token is invalid");
                }
                Ok(Err(native))
            }
            (Ok(Ok(_)), Err(_)) => Err(Unexplained::Rejected("the guest accepted a token the host refuses".into())),
            (Ok(Err(_)), Ok(_)) => Err(Unexplained::Rejected("the guest refused a token the host accepts".into())),
        };
        let result = self.settle("verify", outcome);
        self.hold("verify", started, native_time);
        result
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
