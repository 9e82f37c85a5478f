//! The claims linter's channel: the profiles editor sends the claims the
//! user is typing and shows the findings under them. One declaration, its
//! handler beside it, over `AppServices::linter`.
//!
//! The claims are the page's own text; the findings come from a guest and
//! are checked by `crate::lint` before they are answered.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use ts_rs::TS;

use crate::services::AppServices;
use crate::store::timestamp;
use crate::tokens;
use crate::bridge::channels::MAIN_ONLY;
use crate::bridge::registry::{Body, Channel, ChannelRegistry, ChannelSpec, Direction, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode};
use crate::lint::{DEFAULT_MAX_LIFETIME_SECONDS, Finding, LintError, MAX_CLAIMS_BYTES};
use crate::runtime::PluginError;

/// The contract version this channel appeared in.
const SINCE: &str = "1.3";

/// The largest `lint:claims` request: the claims at their cap plus room for
/// the request's own fields and the page's spacing. Bounds parsing before
/// the linter's own size check.
pub const MAX_LINT_REQUEST_BYTES: usize = MAX_CLAIMS_BYTES + 6 * 1024;

/// The longest lifetime a caller may ask the linter to allow: 100 years.
/// Keeps the policy a number both linters compare exactly.
pub const MAX_POLICY_LIFETIME_SECONDS: u64 = 100 * 366 * 24 * 60 * 60;

/// `lint:claims` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LintClaimsRequest {
    /// The claims as the editor has them: a JSON object.
    #[ts(type = "Record<string, unknown>")]
    pub claims: Map<String, Value>,
    /// The longest a token may live, in seconds (1 day when absent).
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub max_lifetime_seconds: Option<u64>,
}

/// `lint:claims` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LintReport {
    /// What the linter found, most serious first (empty when nothing).
    pub findings: Vec<Finding>,
}

/// `lint:claims`.
pub struct LintClaims;
impl Channel for LintClaims {
    type Request = LintClaimsRequest;
    type Response = LintReport;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "lint:claims",
        summary: "Lints a profile's claims inside the claims-linter guest: lifetime, audience, issuer, personal data.",
        direction: Direction::WebviewToHost,
        windows: MAIN_ONLY,
        max_payload_bytes: MAX_LINT_REQUEST_BYTES,
        // The editor calls it as the user types, debounced (~300 ms): a few
        // per second at most; a page can't make the guest run more.
        quota: Quota { per_second: 20, burst: 20 },
        since: SINCE,
        deprecated: None,
        state_changing: false,
        // Runs a guest.
        execution: Execution::Heavy,
        body: Body::Json,
    };

    fn validate(request: &LintClaimsRequest) -> Result<(), BridgeError> {
        if let Some(max) = request.max_lifetime_seconds
            && !(1..=MAX_POLICY_LIFETIME_SECONDS).contains(&max)
        {
            return Err(BridgeError::validation(format!(
                "maxLifetimeSeconds must be between 1 and {MAX_POLICY_LIFETIME_SECONDS}"
            ))
            .with_details(json!({ "field": "maxLifetimeSeconds" })));
        }
        Ok(())
    }
}

/// Registers `lint:claims` against `services`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<LintClaims, _>(move |_, req: LintClaimsRequest| {
        let linter = s.linter();
        let policy = linter.policy(req.max_lifetime_seconds.unwrap_or(DEFAULT_MAX_LIFETIME_SECONDS));
        // The claims as they would be signed now: `"nbf": "-30s"` is
        // checked as the NumericDate it becomes, not flagged as text.
        let claims = tokens::claims_as_signed_at(&req.claims, timestamp::unix_seconds(timestamp::now()));
        let findings = linter.lint(&claims, policy).map_err(lint_error)?;
        Ok(LintReport { findings })
    })?;
    Ok(())
}

fn lint_error(e: LintError) -> BridgeError {
    match e {
        LintError::ClaimsTooLarge { size } => BridgeError::new(ErrorCode::PayloadTooLarge, e.to_string())
            .with_details(json!({ "field": "claims", "size": size, "limit": MAX_CLAIMS_BYTES })),
        LintError::Plugin(PluginError::RateLimited { .. }) => {
            BridgeError::new(ErrorCode::RateLimited, "the claims linter is over its rate quota")
        }
        LintError::Plugin(e) => {
            tracing::warn!(code = e.code(), error = %e, "lint:claims failed in the plugin");
            BridgeError::new(ErrorCode::PluginError, "the claims-linter plugin could not lint the claims")
                .with_details(json!({ "pluginCode": e.code() }))
        }
    }
}
