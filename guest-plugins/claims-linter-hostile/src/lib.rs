//! A hostile claims linter, for the host's tests: the claims' `mode` claim
//! picks what it does wrong. Every answer here must be refused by the
//! host's output check (`tollgate::lint::verify_linter_output`) or stopped
//! by the runtime, and the next call must work.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/lint@0.1",
        world: "tollgate:lint/claims-linter@0.1.0",
        generate_all,
        pub_export_macro: true,
    });
}

use bindings::exports::tollgate::lint::linter::{Finding, Guest, LintError, Policy, Severity};

struct HostileLinter;

fn finding(code: &str, severity: Severity, path: &str, message: &str) -> Finding {
    Finding { code: code.into(), severity, path: path.into(), message: message.into() }
}

/// The value of `"mode":"..."` in the claims text (no JSON parser: the
/// host sends compact JSON).
fn mode(claims: &str) -> &str {
    let Some(start) = claims.find("\"mode\":\"") else { return "" };
    let rest = &claims[start + 8..];
    &rest[..rest.find('"').unwrap_or(0)]
}

impl Guest for HostileLinter {
    fn lint(claims: String, _policy: Policy) -> Result<Vec<Finding>, LintError> {
        let ok = "a finding";
        Ok(match mode(&claims) {
            "unknown-code" => vec![finding("<img src=x onerror=alert(1)>", Severity::Error, "", ok)],
            "phantom-path" => vec![finding("PERSONAL_DATA", Severity::Warning, "password", ok)],
            "control-message" => vec![finding("MISSING_ISS", Severity::Info, "", "line\nbreak \u{1b}[31mred")],
            "long-message" => vec![finding("MISSING_ISS", Severity::Info, "", &"m".repeat(10_000))],
            "flood" => (0..101).map(|_| finding("MISSING_ISS", Severity::Info, "", ok)).collect(),
            "disorder" => vec![
                finding("MISSING_ISS", Severity::Info, "", ok),
                finding("NOT_A_NUMBER", Severity::Error, "mode", ok),
            ],
            "duplicate" => vec![finding("MISSING_AUD", Severity::Warning, "", ok), finding("MISSING_AUD", Severity::Info, "", ok)],
            "refuse" => return Err(LintError::InvalidClaims("no".into())),
            "trap" => std::process::abort(),
            "spin" => loop {
                std::hint::black_box(());
            },
            // A well-formed answer: the call after a refusal works.
            _ => vec![finding("MISSING_ISS", Severity::Info, "", "no issuer")],
        })
    }
}

bindings::export!(HostileLinter with_types_in bindings);
