//! The claims linter: a signing profile's claims in, findings out, through
//! a linter plugin (world `tollgate:lint/claims-linter`, which imports
//! nothing). The first-party linter is written twice, in Rust
//! (`guest-plugins/claims-linter`, embedded here) and in JavaScript
//! (`guest-plugins/claims-linter-js`); both apply the same rules.
//!
//! Trusts: the host's own claims and policy. Does not trust: the guest.
//! Its input is capped before the call; its answer is checked by
//! [`verify_linter_output`] before anyone sees it, and a guest that
//! refuses claims the host has checked is treated as a wrong answer.

mod findings;

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};

use tollgate_guest_artifacts as guest_artifacts;
use crate::bindings::ClaimsLinter as LinterWorld;
use crate::bindings::lint::exports::tollgate::lint::linter::{Policy, Severity as GuestSeverity};
use crate::{HostClock, Plugin, PluginEngine, PluginError, PluginSource, unix_seconds};

pub use findings::{
    Finding, FindingCode, MAX_FINDINGS, MAX_MESSAGE_BYTES, MAX_PATH_BYTES, Severity, UncheckedFinding, verify_linter_output,
};

/// The largest claims object linted, serialized. The same cap as a
/// profile's payload; bounds what a page can make the guest parse.
pub const MAX_CLAIMS_BYTES: usize = 64 * 1024;

/// The maximum lifetime when the caller names none: one day, the longest
/// of the editor's presets short of a week.
pub const DEFAULT_MAX_LIFETIME_SECONDS: u64 = 24 * 60 * 60;

/// What the linter enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LintPolicy {
    /// The longest a token may live (`exp` minus `iat`, or minus now).
    pub max_lifetime_seconds: u64,
    /// "Now", seconds since the Unix epoch; the guest has no clock.
    pub now_seconds: i64,
}

/// Why claims could not be linted. Each variant has a stable code
/// ([`LintError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// The claims are over [`MAX_CLAIMS_BYTES`] serialized.
    #[error("the claims are {size} bytes serialized, over the {MAX_CLAIMS_BYTES}-byte limit")]
    ClaimsTooLarge {
        /// Their size.
        size: usize,
    },
    /// The plugin failed: trap, deadline, quota, or a refused answer.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

impl LintError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ClaimsTooLarge { .. } => "CLAIMS_TOO_LARGE",
            Self::Plugin(e) => e.code(),
        }
    }
}

/// A linter plugin behind the host's checks.
pub struct ClaimsLinter {
    plugin: Plugin<LinterWorld>,
}

impl ClaimsLinter {
    /// Loads the first-party (Rust) linter embedded in this binary.
    pub fn builtin(engine: &PluginEngine) -> Result<Self, PluginError> {
        let source = PluginSource {
            wasm: Cow::Borrowed(guest_artifacts::CLAIMS_LINTER_WASM),
            manifest: Cow::Borrowed(guest_artifacts::CLAIMS_LINTER_MANIFEST),
            what: "built-in claims-linter".into(),
        };
        Ok(Self::from_plugin(engine.load(&source)?))
    }

    /// Wraps an already loaded linter plugin (e.g. the JavaScript one).
    pub fn from_plugin(plugin: Plugin<LinterWorld>) -> Self {
        Self { plugin }
    }

    /// The plugin behind it (its manifest, clock, instantiation).
    pub fn plugin(&self) -> &Plugin<LinterWorld> {
        &self.plugin
    }

    /// The clock "now" is read from (the plugin's; tests pin it).
    pub fn clock(&self) -> &Arc<dyn HostClock> {
        self.plugin.clock()
    }

    /// A policy with `max_lifetime_seconds` at this linter's "now".
    pub fn policy(&self, max_lifetime_seconds: u64) -> LintPolicy {
        LintPolicy { max_lifetime_seconds, now_seconds: unix_seconds(&**self.clock()) }
    }

    /// Lints `claims` through the guest and checks the answer. An answer
    /// that fails the check is dropped and the call fails with
    /// `PLUGIN_OUTPUT_REJECTED`.
    pub fn lint(&self, claims: &Map<String, Value>, policy: LintPolicy) -> Result<Vec<Finding>, LintError> {
        let text = serde_json::to_string(claims).map_err(|e| PluginError::Runtime(format!("claims: {e}")))?;
        if text.len() > MAX_CLAIMS_BYTES {
            return Err(LintError::ClaimsTooLarge { size: text.len() });
        }
        let guest_policy =
            Policy { max_lifetime_seconds: policy.max_lifetime_seconds, now_seconds: policy.now_seconds };
        let answer = self
            .plugin
            .call("lint", false, |linter, store| linter.tollgate_lint_linter().call_lint(store, &text, guest_policy))?;
        let raw = match answer {
            Ok(raw) => raw,
            // The host sent a JSON object under the cap: refusing it is a
            // wrong answer, not the caller's error.
            Err(_) => return Err(self.rejected("the linter refused claims the host checked".into())),
        };
        let raw = raw
            .into_iter()
            .map(|f| UncheckedFinding {
                code: f.code,
                severity: match f.severity {
                    GuestSeverity::Error => Severity::Error,
                    GuestSeverity::Warning => Severity::Warning,
                    GuestSeverity::Info => Severity::Info,
                },
                path: f.path,
                message: f.message,
            })
            .collect();
        verify_linter_output(claims, raw).map_err(|reason| self.rejected(reason))
    }

    fn rejected(&self, reason: String) -> LintError {
        tracing::warn!(
            target: "tollgate::security",
            plugin = %self.plugin.manifest().name,
            function = "lint",
            %reason,
            "linter output rejected"
        );
        LintError::Plugin(PluginError::OutputRejected { function: "lint".to_owned(), reason })
    }
}
