//! Audit cases: guests. Every hostile component of `guest-plugins/hostile/`
//! (and the hostile claims linter), loaded from the bytes embedded in this
//! binary into the audit's engine, under the app's policy and limits, and
//! driven through the same fronts the app uses (`JwtSigner`,
//! `ClaimsLinter`), so what passes here is what the app does.
//!
//! Each per-call case ends with an honest call to the same plugin: the
//! host must keep serving after a guest misbehaves. Every key handed to a
//! hostile guest is fresh random bytes, planted ([`AuditEnv::plant`]) in
//! every form a guest might print it, so the audit's last case can search
//! everything the run produced for it.
//!
//! [`controls`] aims the same checks at honest inputs; every control must
//! fail, which shows a check can tell a contained guest from a guest that
//! did nothing.
//!
//! Trusts: the host's own library. Does not trust: any guest here.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::audit::{Area, AuditEnv, Case, Outcome};
use crate::guest_artifacts as artifacts;
use crate::jwt::{Algorithm, AnswerSchedule, JwtError, JwtSigner, SignRequest, SigningKey};
use crate::lint::{ClaimsLinter, DEFAULT_MAX_LIFETIME_SECONDS, LintError};
use crate::runtime::worlds::ClaimsLinterWorld;
use crate::runtime::{EPOCH_TICK, PluginError, PluginSource};

/// Bytes of every fresh key handed to a hostile signer: HS256's minimum,
/// so the key is valid and the guest really gets it.
const HOSTILE_KEY_BYTES: usize = 32;

/// The hostile guests' deadline, from their manifests
/// (`guest-plugins/hostile/*/tollgate.toml`).
const HOSTILE_DEADLINE: Duration = Duration::from_millis(250);

/// How late past its deadline a looping guest may be stopped. Measured on
/// this 2-core machine, with the guest corpus and its controls running side
/// by side: stopped at 270-283 ms of a 250 ms deadline. The epoch ticker,
/// the guest and the audit share the two cores with whatever else runs:
/// with other builds going, a spin timed on the plugin's first instance
/// was seen stopped at 610 ms (hence the honest call first). Half a second
/// still tells "the host stops it at its deadline" from "it is not
/// stopped" (a guest never interrupted runs until the audit is killed).
const DEADLINE_SLACK: Duration = Duration::from_millis(500);

/// The host's log budget per call (`runtime::host_api`), which a flood must
/// not pass.
const LOG_RECORDS_PER_CALL: usize = 64;

/// Log records the misbehaving signer's `flood-log` emits in one call
/// (its `FLOOD_CALLS`).
const FLOODED_LOG_RECORDS: usize = 5_000;

/// Signs measured for one median in the load case. With the pacing below
/// a run spans about 0.7 s, so the spinning guest runs into its 250 ms
/// deadline several times while the built-in signer is measured.
const LOAD_SAMPLES: usize = 61;

/// Pause between measured signs: the built-in signer's quota refills one
/// sign every 5 ms (200/s, burst 50); pacing slower than that keeps the
/// measurement off the rate limiter.
const LOAD_PACING: Duration = Duration::from_millis(10);

/// The load case's bound: a sign while a hostile guest spins on another
/// thread may take at most this many times the baseline median...
const LOAD_FACTOR: u32 = 4;

/// ...plus this much. On this 2-core machine the built-in signer's HS256
/// sign (a fresh instance each) measured a median of 0.42 ms alone and
/// 0.45 ms beside a spinning guest (test build): the spinner holds one
/// core, the ticker and the signer share the other. 4x + 10 ms leaves room for a busy CI runner while still failing
/// if a spinning guest stalls other plugins (a stall is a deadline, 250 ms).
const LOAD_ALLOWANCE: Duration = Duration::from_millis(10);

/// The claims every honest call signs or lints.
fn honest_claims() -> Value {
    json!({"sub": "tollgate-audit", "exp": 4_000_000_000u64})
}

/// A case body: `Err` is a set-up failure (the case could not run), which
/// fails the case.
type Body = Box<dyn FnOnce(&AuditEnv) -> Result<Outcome, String>>;

fn case(id: &'static str, artifact: &str, must: &'static str, body: Body) -> Case {
    Case::new(id, Area::Guest, artifact, must, move |env| match body(env) {
        Ok(outcome) => outcome,
        Err(setup) => Outcome::fail(format!("the case could not run: {setup}")),
    })
}

/// A fresh HS256 key for one hostile guest, planted in every form a guest
/// could print it (hex both cases, base64, base64url).
struct PlantedKey {
    key: SigningKey,
    forms: Vec<String>,
}

impl PlantedKey {
    fn new(env: &AuditEnv, what: &str) -> Result<Self, String> {
        let mut bytes = Zeroizing::new(vec![0u8; HOSTILE_KEY_BYTES]);
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a fresh key: {e}"))?;
        let forms = vec![
            hex::encode(&*bytes),
            hex::encode_upper(&*bytes),
            URL_SAFE_NO_PAD.encode(&*bytes),
            STANDARD.encode(&*bytes),
        ];
        for (form, secret) in ["hex", "HEX", "base64url", "base64"].iter().zip(&forms) {
            env.plant(format!("key handed to {what} ({form})"), secret.clone());
        }
        let key = SigningKey::new(Algorithm::HS256, bytes).map_err(|e| format!("the fresh key is refused: {e}"))?;
        Ok(Self { key, forms })
    }

    /// Whether `text` holds the key in any planted form, or a 16-character
    /// piece of its hex (a truncated copy).
    fn found_in(&self, text: &str) -> bool {
        self.forms.iter().any(|f| text.contains(f.as_str())) || self.forms[0].get(8..24).is_some_and(|p| text.contains(p))
    }

    fn sign(&self, signer: &JwtSigner, claims: Value) -> Result<String, JwtError> {
        signer.sign(SignRequest { key: &self.key, claims, kid: None, typ: None, extra: Default::default() })
    }
}

fn source(wasm: &'static [u8], manifest: &'static str, what: &str) -> PluginSource<'static> {
    PluginSource { wasm: Cow::Borrowed(wasm), manifest: Cow::Borrowed(manifest), what: what.to_owned() }
}

/// The misbehaving signer, its answers not held: these cases time how the
/// runtime stops a guest (deadlines, traps), which the answer schedule
/// would hide behind its hold. The schedule has cases of its own
/// (`guest/timing-*`).
fn misbehaving_signer(env: &AuditEnv) -> Result<JwtSigner, String> {
    let src = source(artifacts::MISBEHAVING_SIGNER_WASM, artifacts::MISBEHAVING_SIGNER_MANIFEST, "misbehaving-signer");
    JwtSigner::load(env.engine(), &src, false)
        .map(|s| s.with_schedule(AnswerSchedule::OFF))
        .map_err(|e| format!("misbehaving-signer does not load: {e}"))
}

fn linter(env: &AuditEnv, wasm: &'static [u8], manifest: &'static str, what: &str) -> Result<ClaimsLinter, String> {
    let plugin = env.engine().load::<ClaimsLinterWorld>(&source(wasm, manifest, what)).map_err(|e| format!("{what} does not load: {e}"))?;
    Ok(ClaimsLinter::from_plugin(plugin))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn lint(linter: &ClaimsLinter, claims: Value) -> Result<Vec<crate::lint::Finding>, LintError> {
    linter.lint(&object(claims), linter.policy(DEFAULT_MAX_LIFETIME_SECONDS))
}

/// The honest call after a hostile one. A hostile key-carrying call that
/// failed inside the guest quarantined the plugin, so the next sign must be
/// refused `PLUGIN_QUARANTINED` (before its key is sent); trusted again,
/// the same plugin must sign: the host kept serving.
fn next_sign(signer: &JwtSigner, key: &PlantedKey) -> Result<&'static str, String> {
    let trusted_again = |signer: &JwtSigner| {
        signer.quarantine().trust(signer.plugin_sha256()).map_err(|e| format!("the plugin could not be trusted again: {e}"))?;
        key.sign(signer, honest_claims())
            .map(|_| "the next honest sign was refused PLUGIN_QUARANTINED before its key was sent; trusted again, the next honest sign on the same plugin answered a token the host verified")
            .map_err(|e| format!("trusted again, the next honest sign on the same plugin failed: {}: {e}", e.code()))
    };
    match key.sign(signer, honest_claims()) {
        Ok(_) => Ok("the next honest sign on the same plugin answered a token the host verified"),
        Err(e) if e.code() == "PLUGIN_QUARANTINED" => trusted_again(signer),
        Err(e) => Err(format!("the next honest sign on the same plugin failed: {}: {e}", e.code())),
    }
}

/// The honest call after a hostile one: the same linter must answer.
fn next_lint(linter: &ClaimsLinter) -> Result<String, String> {
    lint(linter, honest_claims())
        .map(|f| format!("the next honest lint on the same plugin answered ({} findings, checked)", f.len()))
        .map_err(|e| format!("the next honest lint on the same plugin failed: {}: {e}", e.code()))
}

/// Judges a hostile call's error against the codes it must have, that the
/// key is nowhere in it, and then the honest call after it.
fn judge(result: Result<impl std::fmt::Debug, JwtError>, codes: &[&str], key: &PlantedKey, next: Result<&str, String>) -> Outcome {
    let (passed, said) = verdict(result, codes, key, next);
    Outcome::check(passed, said)
}

/// [`judge`]'s verdict and sentence, for cases that add checks of their own.
fn verdict(result: Result<impl std::fmt::Debug, JwtError>, codes: &[&str], key: &PlantedKey, next: Result<&str, String>) -> (bool, String) {
    let (passed, said) = match result {
        Err(e) if codes.contains(&e.code()) => {
            let text = format!("{e} {e:?}");
            if key.found_in(&text) {
                (false, format!("{}, but the error carries the key", e.code()))
            } else {
                (true, format!("{}: {e}", e.code()))
            }
        }
        Err(e) => (false, format!("{} instead of {}: {e}", e.code(), codes.join(" or "))),
        Ok(v) => (false, format!("accepted: {}", crate::audit::short_debug(&v))),
    };
    match next {
        Ok(next) => (passed, format!("{said}; {next}")),
        Err(next) => (false, format!("{said}; {next}")),
    }
}

/// What [`sign_as`] saw: the hostile sign's answer, the planted key, and
/// the honest sign's account.
type HostileSign = (Result<String, JwtError>, PlantedKey, Result<&'static str, String>);

/// One sign by the misbehaving signer told to act out `behaviour` (the
/// claim `hostile`) with a freshly planted key, then an honest sign on the
/// same plugin: what each answered, and the key to search answers for.
fn sign_as(env: &AuditEnv, behaviour: &str) -> Result<HostileSign, String> {
    let signer = misbehaving_signer(env)?;
    let key = PlantedKey::new(env, &format!("misbehaving-signer ({behaviour})"))?;
    let result = key.sign(&signer, json!({"sub": "tollgate-audit", "hostile": behaviour}));
    let next = next_sign(&signer, &key);
    Ok((result, key, next))
}

/// A misbehaving-signer behaviour (the claim `hostile`) that must end in
/// one of `codes`, followed by an honest sign.
fn signer_behaviour(id: &'static str, behaviour: &'static str, codes: &'static [&'static str], must: &'static str) -> Case {
    case(
        id,
        &format!("guest-plugins/hostile/misbehaving-signer (claim hostile={behaviour})"),
        must,
        Box::new(move |env| {
            let (result, key, next) = sign_as(env, behaviour)?;
            Ok(judge(result, codes, &key, next))
        }),
    )
}

/// A hostile linter answer (`mode`) that must end in `code`, followed by
/// an honest lint.
fn linter_answer(
    id: &'static str,
    artifact: &'static str,
    (wasm, manifest): (&'static [u8], &'static str),
    mode: &'static str,
    code: &'static str,
    must: &'static str,
) -> Case {
    case(
        id,
        &format!("{artifact} (claims {{\"mode\":\"{mode}\"}})"),
        must,
        Box::new(move |env| {
            let linter = linter(env, wasm, manifest, artifact)?;
            let said = match lint(&linter, json!({"mode": mode})) {
                Err(e) if e.code() == code => Ok(format!("{}: {e}", e.code())),
                Err(e) => Err(format!("{} instead of {code}: {e}", e.code())),
                Ok(findings) => Err(format!("accepted: {}", crate::audit::short_debug(&findings))),
            };
            Ok(match (said, next_lint(&linter)) {
                (Ok(said), Ok(next)) => Outcome::pass(format!("{said}; {next}")),
                (Ok(said) | Err(said), Ok(next) | Err(next)) => Outcome::fail(format!("{said}; {next}")),
            })
        }),
    )
}

/// A component that must be refused at load, its error naming every one
/// of `named`.
fn refused_at_load(
    id: &'static str,
    artifact: &'static str,
    (wasm, manifest): (&'static [u8], &'static str),
    named: &'static [&'static str],
    must: &'static str,
) -> Case {
    case(
        id,
        artifact,
        must,
        Box::new(move |env| {
            let src = source(wasm, manifest, artifact);
            // Load through the front of the world its manifest names.
            let result = if manifest.contains("tollgate:lint/") {
                env.engine().load::<ClaimsLinterWorld>(&src).map(drop)
            } else {
                JwtSigner::load(env.engine(), &src, false).map(drop)
            };
            Ok(match result {
                Err(e @ PluginError::ImportRefused { .. }) => {
                    let text = e.to_string();
                    let missing: Vec<&str> = named.iter().copied().filter(|n| !text.contains(n)).collect();
                    Outcome::check(
                        missing.is_empty(),
                        if missing.is_empty() {
                            format!("{}: {text}", e.code())
                        } else {
                            format!("{} without naming {}: {text}", e.code(), missing.join(", "))
                        },
                    )
                }
                Err(e) => Outcome::fail(format!("{} instead of PLUGIN_IMPORT_REFUSED: {e}", e.code())),
                Ok(()) => Outcome::fail("loaded".to_owned()),
            })
        }),
    )
}

/// Runs `f` with the log going, as JSON lines at every level, into the
/// audit's capture, and returns what it wrote there. The cases that count
/// records install this themselves, so what they count does not depend on
/// the level the audit's own log is filtered at.
fn with_captured_log<R>(env: &AuditEnv, f: impl FnOnce() -> R) -> (R, String) {
    let before = env.log().text().len();
    let result = tracing::subscriber::with_default(env.log().json_subscriber(), f);
    let text = env.log().text();
    let added = text.get(before..).unwrap_or_default().to_owned();
    (result, added)
}

/// Every case of this area, in order.
pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        infinite_loop("guest/infinite-loop", "spin"),
        signer_behaviour(
            "guest/deep-recursion-native-stack",
            "recurse",
            &["PLUGIN_STACK_OVERFLOW"],
            "PLUGIN_STACK_OVERFLOW at wasmtime's 512 KiB stack limit (the host thread survives); the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        signer_behaviour(
            "guest/deep-recursion-shadow-stack",
            "recurse-shadow",
            &["PLUGIN_TRAPPED"],
            "PLUGIN_TRAPPED (Rust's shadow stack in linear memory runs off the bottom: an out-of-bounds access, contained); the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        signer_behaviour(
            "guest/memory-grow",
            "grow",
            &["PLUGIN_MEMORY_LIMIT"],
            "PLUGIN_MEMORY_LIMIT when memory.grow passes the manifest's 16 MiB; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        linter_answer(
            "guest/table-grow",
            "guest-plugins/hostile/table-grower",
            (artifacts::TABLE_GROWER_WASM, artifacts::TABLE_GROWER_MANIFEST),
            "g",
            "PLUGIN_MEMORY_LIMIT",
            "PLUGIN_MEMORY_LIMIT when table.grow passes 20 000 elements; the next call on the same plugin answers",
        ),
        signer_behaviour(
            "guest/huge-return-value",
            "huge-output",
            &["PLUGIN_OUTPUT_REJECTED"],
            "an 8 MiB token is refused (PLUGIN_OUTPUT_REJECTED, over the 128 KiB token limit) and nobody sees it; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
    ];
    cases.extend(bad_return_cases());
    cases.extend(crate::audit::key_channels::cases());
    cases.extend([
        refused_at_load(
            "guest/import-filesystem",
            "guest-plugins/hostile/filesystem-reader",
            (artifacts::FILESYSTEM_READER_WASM, artifacts::FILESYSTEM_READER_MANIFEST),
            &["wasi:filesystem/types@", "wasi:filesystem/preopens@"],
            "refused at load (PLUGIN_IMPORT_REFUSED), naming wasi:filesystem/types and wasi:filesystem/preopens",
        ),
        refused_at_load(
            "guest/import-sockets",
            "guest-plugins/hostile/socket-opener",
            (artifacts::SOCKET_OPENER_WASM, artifacts::SOCKET_OPENER_MANIFEST),
            &["wasi:sockets/tcp@", "wasi:sockets/tcp-create-socket@"],
            "refused at load (PLUGIN_IMPORT_REFUSED), naming wasi:sockets/tcp and wasi:sockets/tcp-create-socket",
        ),
        refused_at_load(
            "guest/import-ambient-clock",
            "guest-plugins/hostile/clock-reader",
            (artifacts::CLOCK_READER_WASM, artifacts::CLOCK_READER_MANIFEST),
            &["wasi:clocks/wall-clock@", "wasi:clocks/monotonic-clock@"],
            "refused at load (PLUGIN_IMPORT_REFUSED), naming wasi:clocks/wall-clock and wasi:clocks/monotonic-clock",
        ),
        refused_at_load(
            "guest/import-undeclared-host-function",
            "guest-plugins/hostile/undeclared-import",
            (artifacts::UNDECLARED_IMPORT_WASM, artifacts::UNDECLARED_IMPORT_MANIFEST),
            &["tollgate:host/keychain@0.1.0"],
            "refused at load (PLUGIN_IMPORT_REFUSED), naming tollgate:host/keychain@0.1.0 (an interface no world declares)",
        ),
        environment_case(),
        log_flood_case(),
        clock_flood_case(),
        reentrant_realloc_case(),
        reentrant_post_return_case(),
    ]);
    cases.extend(smuggling_cases());
    cases.extend([
        signer_behaviour(
            "guest/error-carries-key",
            "error-with-key",
            &["SIGNING_FAILED"],
            "SIGNING_FAILED with the guest's message dropped (it held the key in hex); the key is in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        key_in_output_case("guest/log-line-carries-key", "log-key"),
        key_in_output_case("guest/stdout-carries-key", "stdout-key"),
        lying_decode_case(),
        lying_verify_case(),
    ]);
    cases.extend(hostile_linter_cases());
    cases.push(others_not_slowed_case());
    cases
}

/// The same checks aimed at honest inputs: every control must fail. They
/// show that each kind of check can fail, so a passing case is evidence.
pub fn controls() -> Vec<Case> {
    vec![
        // The deadline check, on a call that does not loop.
        infinite_loop("control/infinite-loop-without-a-loop", "none"),
        // The output check, on a token the signer made honestly.
        signer_behaviour(
            "control/smuggle-without-smuggling",
            "none",
            &["PLUGIN_OUTPUT_REJECTED"],
            "(control) an honest token is rejected: this must fail",
        ),
        // The bad-return check, on an honest answer.
        linter_answer(
            "control/bad-return-that-is-good",
            "guest-plugins/hostile/bad-returns",
            (artifacts::BAD_RETURNS_WASM, artifacts::BAD_RETURNS_MANIFEST),
            "ok",
            "PLUGIN_TRAPPED",
            "(control) an honest answer traps: this must fail",
        ),
        // The import check, on the first-party signer.
        refused_at_load(
            "control/import-refusal-of-the-built-in-signer",
            "built-in jwt-signer",
            (artifacts::JWT_SIGNER_WASM, artifacts::JWT_SIGNER_MANIFEST),
            &["wasi:"],
            "(control) the built-in signer is refused at load: this must fail",
        ),
        // The next-call check, on a plugin that keeps trapping: the hostile
        // linter's trap mode, then a lint that traps again.
        case(
            "control/next-call-after-a-trap-that-traps",
            "guest-plugins/claims-linter-hostile (claims {\"mode\":\"trap\"}) twice",
            "(control) a plugin that traps again is reported as serving: this must fail",
            Box::new(|env| {
                let linter = linter(env, artifacts::HOSTILE_LINTER_WASM, artifacts::HOSTILE_LINTER_MANIFEST, "claims-linter-hostile")?;
                let first = lint(&linter, json!({"mode": "trap"}));
                let second = lint(&linter, json!({"mode": "trap"}));
                Ok(Outcome::check(first.is_err() && second.is_ok(), format!("{:?} then {:?}", first.err().map(|e| e.code()), second.err().map(|e| e.code()))))
            }),
        ),
    ]
}

/// The misbehaving signer's `spin`: stopped at its deadline, not before,
/// not long after.
fn infinite_loop(id: &'static str, behaviour: &'static str) -> Case {
    case(
        id,
        &format!("guest-plugins/hostile/misbehaving-signer (claim hostile={behaviour})"),
        "PLUGIN_DEADLINE_EXCEEDED no sooner than the 250 ms deadline and within 250 ms + one 2 ms epoch tick + 500 ms of scheduling slack on a shared 2-core machine; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        Box::new(move |env| {
            let signer = misbehaving_signer(env)?;
            let key = PlantedKey::new(env, "misbehaving-signer (spin)")?;
            // An honest call first: the timed call then pays for no first-use
            // costs (code pages, pool slots), only for its loop.
            let warm = Instant::now();
            next_sign(&signer, &key)?;
            let warm = warm.elapsed();
            let started = Instant::now();
            let result = key.sign(&signer, json!({"sub": "tollgate-audit", "hostile": behaviour}));
            let took = started.elapsed();
            let in_time = took >= HOSTILE_DEADLINE && took < HOSTILE_DEADLINE + EPOCH_TICK + DEADLINE_SLACK;
            let (passed, said) = verdict(result, &["PLUGIN_DEADLINE_EXCEEDED"], &key, next_sign(&signer, &key));
            Ok(Outcome::check(
                passed && in_time,
                format!("stopped after {} ms (an honest sign just before took {} ms): {said}", took.as_millis(), warm.as_millis()),
            ))
        }),
    )
}

/// Hand-made canonical-ABI answers from `bad-returns.wat`.
fn bad_return_cases() -> Vec<Case> {
    let bad = (artifacts::BAD_RETURNS_WASM, artifacts::BAD_RETURNS_MANIFEST);
    let artifact = "guest-plugins/hostile/bad-returns";
    vec![
        linter_answer(
            "guest/return-invalid-utf8",
            artifact,
            bad,
            "u",
            "PLUGIN_TRAPPED",
            "a returned string that is not UTF-8 is refused while lifting (PLUGIN_TRAPPED); the next call on the same plugin answers",
        ),
        linter_answer(
            "guest/return-string-out-of-bounds",
            artifact,
            bad,
            "s",
            "PLUGIN_TRAPPED",
            "a returned string pointing past the end of memory is refused while lifting (PLUGIN_TRAPPED), nothing outside the guest is read; the next call answers",
        ),
        linter_answer(
            "guest/return-string-length-out-of-bounds",
            artifact,
            bad,
            "n",
            "PLUGIN_TRAPPED",
            "a returned string claiming 2 GiB is refused by the bounds check while lifting (PLUGIN_TRAPPED); the next call answers",
        ),
        linter_answer(
            "guest/return-list-out-of-bounds",
            artifact,
            bad,
            "l",
            "PLUGIN_TRAPPED",
            "a returned list running past the end of memory is refused while lifting (PLUGIN_TRAPPED); the next call answers",
        ),
        linter_answer(
            "guest/return-area-out-of-bounds",
            artifact,
            bad,
            "r",
            "PLUGIN_TRAPPED",
            "a return area past the end of memory is refused (PLUGIN_TRAPPED); the next call answers",
        ),
        linter_answer(
            "guest/return-area-misaligned",
            artifact,
            bad,
            "a",
            "PLUGIN_TRAPPED",
            "a misaligned return area is refused (PLUGIN_TRAPPED); the next call answers",
        ),
        linter_answer(
            "guest/return-bad-discriminant",
            artifact,
            bad,
            "d",
            "PLUGIN_TRAPPED",
            "a result that is neither ok nor err is refused while lifting (PLUGIN_TRAPPED); the next call answers",
        ),
        linter_answer(
            "guest/return-bad-enum",
            artifact,
            bad,
            "e",
            "PLUGIN_TRAPPED",
            "a severity outside the enum is refused while lifting (PLUGIN_TRAPPED); the next call answers",
        ),
    ]
}

/// `wasi:cli/environment` is linked, empty: the guest sees nothing of the
/// host process's environment or arguments.
fn environment_case() -> Case {
    case(
        "guest/import-environment",
        "guest-plugins/hostile/env-reader",
        "loads (wasi:cli/environment is linked capability-less) and the guest sees no variables and no arguments, while the host process has both",
        Box::new(|env| {
            let host_variables = std::env::vars_os().count();
            let host_arguments = std::env::args_os().count();
            if host_variables == 0 || host_arguments == 0 {
                return Err(format!("the host process has {host_variables} variables and {host_arguments} arguments: nothing to hide"));
            }
            let linter = linter(env, artifacts::ENV_READER_WASM, artifacts::ENV_READER_MANIFEST, "env-reader")?;
            let findings = lint(&linter, json!({"sub": "tollgate-audit"})).map_err(|e| format!("{}: {e}", e.code()))?;
            let seen = findings.first().map(|f| f.message.clone()).unwrap_or_default();
            Ok(Outcome::check(
                seen == "variables=0 arguments=0 first-variable=none",
                format!("the guest reported `{seen}`; the host process has {host_variables} variables and {host_arguments} arguments"),
            ))
        }),
    )
}

/// `logging.log` thousands of times in one call.
fn log_flood_case() -> Case {
    case(
        "guest/flood-logging",
        "guest-plugins/hostile/misbehaving-signer (decode of the token \"flood-log\": 5 000 logging.log calls)",
        "at most 64 of the 5 000 records reach the log, the rest are dropped and counted in one warning; the call still answers (MALFORMED_TOKEN, the host's own parse); the next call on the same plugin signs",
        Box::new(|env| {
            let signer = misbehaving_signer(env)?;
            let key = PlantedKey::new(env, "misbehaving-signer (flood)")?;
            let (result, log) = with_captured_log(env, || signer.decode("flood-log"));
            let records = log.lines().filter(|l| l.contains("flood record ")).count();
            let dropped = FLOODED_LOG_RECORDS - LOG_RECORDS_PER_CALL;
            let counted = log.lines().any(|l| l.contains("were dropped") && l.contains(&format!("\"dropped\":{dropped}")));
            let answered = matches!(&result, Err(e) if e.code() == "MALFORMED_TOKEN");
            let next = next_sign(&signer, &key);
            let said = format!(
                "{records} records reached the log, {} the {dropped} dropped; the call answered {}; {}",
                if counted { "one warning counted" } else { "no warning counted" },
                result.as_ref().map_or_else(|e| e.code().to_owned(), |_| "ok".to_owned()),
                next.as_ref().map_or_else(|e| e.clone(), |n| (*n).to_owned()),
            );
            Ok(Outcome::check(records == LOG_RECORDS_PER_CALL && counted && answered && next.is_ok(), said))
        }),
    )
}

/// `clock.now` thousands of times in one call.
fn clock_flood_case() -> Case {
    case(
        "guest/flood-clock",
        "guest-plugins/hostile/misbehaving-signer (decode of the token \"flood-clock\": 50 000 clock.now calls)",
        "the call ends within its 250 ms deadline (+ 500 ms of scheduling slack): MALFORMED_TOKEN (the host's own parse), or PLUGIN_DEADLINE_EXCEEDED on a machine too busy to make 50 000 calls in 250 ms; the next call on the same plugin signs",
        Box::new(|env| {
            let signer = misbehaving_signer(env)?;
            let key = PlantedKey::new(env, "misbehaving-signer (clock flood)")?;
            let started = Instant::now();
            let result = signer.decode("flood-clock");
            let took = started.elapsed();
            // Either way the flood is bounded and typed: the host's clock
            // answers every call, and the deadline stops the call if the
            // machine is too slow to finish them in time.
            let answered = matches!(&result, Err(e) if e.code() == "MALFORMED_TOKEN" || e.code() == "PLUGIN_DEADLINE_EXCEEDED");
            let next = next_sign(&signer, &key);
            let said = format!(
                "answered {} after {} ms; {}",
                result.as_ref().map_or_else(|e| format!("{}: {e}", e.code()), |_| "ok".to_owned()),
                took.as_millis(),
                next.as_ref().map_or_else(|e| e.clone(), |n| (*n).to_owned()),
            );
            Ok(Outcome::check(answered && took < HOSTILE_DEADLINE + DEADLINE_SLACK && next.is_ok(), said))
        }),
    )
}

fn reentrant_signer(env: &AuditEnv) -> Result<JwtSigner, String> {
    let src = source(artifacts::REENTRANT_SIGNER_WASM, artifacts::REENTRANT_SIGNER_MANIFEST, "reentrant-signer");
    JwtSigner::load(env.engine(), &src, false).map_err(|e| format!("reentrant-signer does not load: {e}"))
}

/// A token from the built-in signer, for the reentrant signer's honest
/// decode; `padding` bytes of claims make it long.
fn honest_token(env: &AuditEnv, padding: usize) -> Result<String, String> {
    let builtin = JwtSigner::builtin(env.engine()).map_err(|e| format!("the built-in signer does not load: {e}"))?;
    let key = PlantedKey::new(env, "built-in jwt-signer (token for decode)")?;
    key.sign(&builtin, json!({"sub": "tollgate-audit", "exp": 4_000_000_000u64, "pad": "p".repeat(padding)}))
        .map_err(|e| format!("the built-in signer did not sign: {e}"))
}

/// The honest call after a re-entry: the same plugin decodes a short token.
fn next_decode(signer: &JwtSigner, token: &str) -> Result<&'static str, String> {
    signer
        .decode(token)
        .map(|_| "the next honest decode on the same plugin answered the token's own parts")
        .map_err(|e| format!("the next honest decode on the same plugin failed: {}: {e}", e.code()))
}

fn reentrant_realloc_case() -> Case {
    case(
        "guest/reenter-host-from-realloc",
        "guest-plugins/hostile/reentrant-signer (cabi_realloc calls clock.now while the host lowers a 5 KiB token)",
        "wasmtime traps the re-entry (PLUGIN_TRAPPED, cannot leave the component instance); the next call on the same plugin decodes",
        Box::new(|env| {
            let signer = reentrant_signer(env)?;
            let key = PlantedKey::new(env, "reentrant-signer")?;
            let long = honest_token(env, 5 * 1024)?;
            let short = honest_token(env, 0)?;
            let result = signer.decode(&long);
            Ok(judge(result, &["PLUGIN_TRAPPED"], &key, next_decode(&signer, &short)))
        }),
    )
}

fn reentrant_post_return_case() -> Case {
    case(
        "guest/reenter-host-from-post-return",
        "guest-plugins/hostile/reentrant-signer (the post-return of sign calls logging.log)",
        "wasmtime traps the re-entry (PLUGIN_TRAPPED); nothing is logged; the next call on the same plugin decodes",
        Box::new(|env| {
            let signer = reentrant_signer(env)?;
            let key = PlantedKey::new(env, "reentrant-signer")?;
            let short = honest_token(env, 0)?;
            let (result, log) = with_captured_log(env, || key.sign(&signer, honest_claims()));
            let logged = log.contains("re-entered from post-return");
            let (passed, said) = verdict(result, &["PLUGIN_TRAPPED"], &key, next_decode(&signer, &short));
            Ok(Outcome::check(
                passed && !logged,
                format!("{said}{}", if logged { "; but the guest's record was logged" } else { "" }),
            ))
        }),
    )
}

/// A misbehaving-signer behaviour the host's output check must refuse
/// with `PLUGIN_OUTPUT_REJECTED` for `reason` (a part of the host's own
/// explanation), so the case shows which check caught it; then an honest
/// sign.
fn smuggling_behaviour(id: &'static str, behaviour: &'static str, reason: &'static str, must: &'static str) -> Case {
    case(
        id,
        &format!("guest-plugins/hostile/misbehaving-signer (claim hostile={behaviour})"),
        must,
        Box::new(move |env| {
            let (result, key, next) = sign_as(env, behaviour)?;
            let for_reason = result.as_ref().err().is_some_and(|e| e.to_string().contains(reason));
            let (passed, said) = verdict(result, &["PLUGIN_OUTPUT_REJECTED"], &key, next);
            Ok(Outcome::check(
                passed && for_reason,
                if for_reason { said } else { format!("{said}; but not because {reason}") },
            ))
        }),
    )
}

/// A signer that hides the key in the token, or answers for other claims
/// or another algorithm: the host's native re-verification refuses all.
fn smuggling_cases() -> Vec<Case> {
    const DIFFER: &str = "the header or claims differ";
    const NOT_CANONICAL: &str = "not canonical unpadded base64url";
    vec![
        smuggling_behaviour(
            "guest/smuggle-key-in-claims",
            "smuggle-claims",
            DIFFER,
            "PLUGIN_OUTPUT_REJECTED (the claims differ from those asked for), the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/smuggle-key-in-header",
            "smuggle-header",
            DIFFER,
            "PLUGIN_OUTPUT_REJECTED (the header differs from the one asked for), the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/smuggle-key-in-custom-header-field",
            "smuggle-extra",
            DIFFER,
            "PLUGIN_OUTPUT_REJECTED (a custom header field nobody asked for, `x-trace` holding the key: the header differs from the one asked for), the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/smuggle-key-in-signature-length",
            "smuggle-signature",
            "signatures by this key are 32 bytes",
            "PLUGIN_OUTPUT_REJECTED because the signature (canonical base64url, the key's bytes after the real signature) is not exactly HS256's 32 bytes; the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/smuggle-key-in-padding",
            "smuggle-padding",
            NOT_CANONICAL,
            "PLUGIN_OUTPUT_REJECTED because padding (one or two '=', a key bit) is not canonical base64url; the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/smuggle-key-in-trailing-bits",
            "smuggle-trailing-bits",
            NOT_CANONICAL,
            "PLUGIN_OUTPUT_REJECTED because the signature's last character carries non-zero bits past its last byte (key bits a lax decoder ignores): not canonical base64url; the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/smuggle-key-in-whitespace",
            "smuggle-whitespace",
            DIFFER,
            "PLUGIN_OUTPUT_REJECTED (the claims bytes differ from those asked for), the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/token-for-other-claims",
            "other-claims",
            DIFFER,
            "PLUGIN_OUTPUT_REJECTED (a validly signed token for other claims), the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
        smuggling_behaviour(
            "guest/token-for-other-algorithm",
            "other-alg",
            DIFFER,
            "PLUGIN_OUTPUT_REJECTED (an HS512 token when HS256 was asked for: the header differs), the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        ),
    ]
}

/// The guest writes the key to the log or stdout during `sign`: the call
/// carries key material, so its output is withheld (counted, not written).
fn key_in_output_case(id: &'static str, behaviour: &'static str) -> Case {
    case(
        id,
        &format!("guest-plugins/hostile/misbehaving-signer (claim hostile={behaviour})"),
        "the guest's line (the key in hex) is withheld: counted in a \"guest output withheld\" record and written nowhere; the token is still verified natively; the next call on the same plugin signs",
        Box::new(move |env| {
            let signer = misbehaving_signer(env)?;
            let key = PlantedKey::new(env, &format!("misbehaving-signer ({behaviour})"))?;
            let (result, log) = with_captured_log(env, || key.sign(&signer, json!({"sub": "tollgate-audit", "hostile": behaviour})));
            let leaked = key.found_in(&log);
            let withheld = log.lines().any(|l| l.contains("guest output withheld") && l.contains("\"withheld\":1"));
            let signed = result.is_ok();
            let next = next_sign(&signer, &key);
            let said = format!(
                "{}; {}; the call {}; {}",
                if withheld { "one record withheld and counted" } else { "no withheld record counted" },
                if leaked { "THE KEY IS IN THE LOG" } else { "the key is nowhere in the log" },
                match &result {
                    Ok(_) => "answered a verified token".to_owned(),
                    Err(e) => format!("failed: {}", e.code()),
                },
                next.as_ref().map_or_else(|e| e.clone(), |n| (*n).to_owned()),
            );
            Ok(Outcome::check(withheld && !leaked && signed && next.is_ok(), said))
        }),
    )
}

fn lying_decode_case() -> Case {
    case(
        "guest/lying-decode",
        "guest-plugins/hostile/misbehaving-signer (decode answers parts that are not the token's)",
        "PLUGIN_OUTPUT_REJECTED (the parts differ from the host's own split); the next call on the same plugin signs",
        Box::new(|env| {
            let signer = misbehaving_signer(env)?;
            let key = PlantedKey::new(env, "misbehaving-signer (decode)")?;
            let token = honest_token(env, 0)?;
            Ok(judge(signer.decode(&token), &["PLUGIN_OUTPUT_REJECTED"], &key, next_sign(&signer, &key)))
        }),
    )
}

fn lying_verify_case() -> Case {
    case(
        "guest/lying-verify",
        "guest-plugins/hostile/misbehaving-signer (verify calls every token valid, with claims of its own)",
        "PLUGIN_OUTPUT_REJECTED for a token under the wrong key (the host refuses what the guest accepts); the key in no error; the plugin is quarantined (the next sign is refused PLUGIN_QUARANTINED) and, trusted again, the next call on the same plugin signs",
        Box::new(|env| {
            let signer = misbehaving_signer(env)?;
            let key = PlantedKey::new(env, "misbehaving-signer (verify)")?;
            let token = honest_token(env, 0)?;
            let wrong = Zeroizing::new(key.forms[0].as_bytes().to_vec());
            let result = signer.verify(&token, &wrong, &[Algorithm::HS256], 0);
            Ok(judge(result, &["PLUGIN_OUTPUT_REJECTED"], &key, next_sign(&signer, &key)))
        }),
    )
}

/// The hostile claims linter's bad answers.
fn hostile_linter_cases() -> Vec<Case> {
    let hostile = (artifacts::HOSTILE_LINTER_WASM, artifacts::HOSTILE_LINTER_MANIFEST);
    let artifact = "guest-plugins/claims-linter-hostile";
    let rejected = |id, mode, must| linter_answer(id, artifact, hostile, mode, "PLUGIN_OUTPUT_REJECTED", must);
    vec![
        rejected(
            "guest/linter-unknown-code",
            "unknown-code",
            "PLUGIN_OUTPUT_REJECTED (a finding code outside the closed set, here markup); the next call on the same plugin answers",
        ),
        rejected(
            "guest/linter-phantom-path",
            "phantom-path",
            "PLUGIN_OUTPUT_REJECTED (a finding about a claim the input does not have); the next call on the same plugin answers",
        ),
        rejected(
            "guest/linter-control-characters",
            "control-message",
            "PLUGIN_OUTPUT_REJECTED (a message with a newline and a terminal escape); the next call on the same plugin answers",
        ),
        rejected(
            "guest/linter-long-message",
            "long-message",
            "PLUGIN_OUTPUT_REJECTED (a 10 000-byte message, over 512); the next call on the same plugin answers",
        ),
        rejected(
            "guest/linter-finding-flood",
            "flood",
            "PLUGIN_OUTPUT_REJECTED (101 findings, over 100); the next call on the same plugin answers",
        ),
        rejected(
            "guest/linter-disorder",
            "disorder",
            "PLUGIN_OUTPUT_REJECTED (findings out of the contract's order); the next call on the same plugin answers",
        ),
        rejected(
            "guest/linter-duplicate",
            "duplicate",
            "PLUGIN_OUTPUT_REJECTED (one code twice for one path); the next call on the same plugin answers",
        ),
        rejected(
            "guest/linter-refuses-checked-claims",
            "refuse",
            "PLUGIN_OUTPUT_REJECTED (the linter calls claims the host checked invalid); the next call on the same plugin answers",
        ),
        linter_answer(
            "guest/linter-trap",
            artifact,
            hostile,
            "trap",
            "PLUGIN_TRAPPED",
            "PLUGIN_TRAPPED (abort); the next call on the same plugin answers",
        ),
        linter_answer(
            "guest/linter-spin",
            artifact,
            hostile,
            "spin",
            "PLUGIN_DEADLINE_EXCEEDED",
            "PLUGIN_DEADLINE_EXCEEDED at its 200 ms deadline; the next call on the same plugin answers",
        ),
    ]
}

/// The median of `samples`.
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// [`LOAD_SAMPLES`] paced HS256 signs by `signer`, timed one by one.
fn sign_latencies(signer: &JwtSigner, key: &PlantedKey) -> Result<Vec<Duration>, String> {
    let mut samples = Vec::with_capacity(LOAD_SAMPLES);
    for _ in 0..LOAD_SAMPLES {
        std::thread::sleep(LOAD_PACING);
        let started = Instant::now();
        key.sign(signer, honest_claims()).map_err(|e| format!("the built-in signer failed: {}: {e}", e.code()))?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// A spinning guest must not slow other plugins beyond a stated bound.
fn others_not_slowed_case() -> Case {
    case(
        "guest/others-not-slowed",
        "built-in jwt-signer (HS256) while guest-plugins/hostile/misbehaving-signer spins on another thread",
        "the built-in signer's median HS256 sign while a hostile guest spins into deadline after deadline is at most 4x the baseline median measured just before, plus 10 ms (61 paced signs each); the spinning guest keeps hitting its deadline meanwhile",
        Box::new(|env| {
            // Unheld: this case measures how a spinning guest slows the
            // runtime, which the answer schedule's floor would cover up.
            let builtin = JwtSigner::builtin(env.engine())
                .map_err(|e| format!("the built-in signer does not load: {e}"))?
                .with_schedule(AnswerSchedule::OFF);
            let key = PlantedKey::new(env, "built-in jwt-signer (load case)")?;
            let spinner = misbehaving_signer(env)?;
            let spin_key = PlantedKey::new(env, "misbehaving-signer (spinning beside the built-in signer)")?;
            // Warm-up: the first signs pay for compilation caches and page faults.
            for _ in 0..3 {
                key.sign(&builtin, honest_claims()).map_err(|e| format!("the built-in signer failed: {e}"))?;
            }
            let baseline = median(sign_latencies(&builtin, &key)?);
            let stop = AtomicBool::new(false);
            let deadlines = AtomicU32::new(0);
            let loaded = std::thread::scope(|scope| {
                scope.spawn(|| {
                    while !stop.load(Ordering::SeqCst) {
                        let result = spin_key.sign(&spinner, json!({"sub": "tollgate-audit", "hostile": "spin"}));
                        if matches!(result, Err(e) if e.code() == "PLUGIN_DEADLINE_EXCEEDED") {
                            deadlines.fetch_add(1, Ordering::SeqCst);
                        }
                        // Each deadline quarantines it; trusted again, it
                        // spins again, so the load lasts the whole measurement.
                        let _ = spinner.quarantine().trust(spinner.plugin_sha256());
                    }
                });
                // Let the spinner get into its first loop.
                std::thread::sleep(Duration::from_millis(20));
                let loaded = sign_latencies(&builtin, &key);
                stop.store(true, Ordering::SeqCst);
                loaded
            })?;
            let under_load = median(loaded);
            let bound = baseline * LOAD_FACTOR + LOAD_ALLOWANCE;
            let deadlines = deadlines.load(Ordering::SeqCst);
            Ok(Outcome::check(
                under_load <= bound && deadlines >= 2,
                format!(
                    "baseline median {:.2} ms; median while the guest spun {:.2} ms (bound {:.2} ms); the spinning guest hit {deadlines} deadlines",
                    baseline.as_secs_f64() * 1e3,
                    under_load.as_secs_f64() * 1e3,
                    bound.as_secs_f64() * 1e3,
                ),
            ))
        }),
    )
}
