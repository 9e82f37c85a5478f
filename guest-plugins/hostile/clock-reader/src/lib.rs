//! A claims linter that reads the ambient clocks (`SystemTime::now`,
//! `Instant::now`), so its component imports `wasi:clocks/wall-clock` and
//! `wasi:clocks/monotonic-clock`. The host must refuse it at load, naming
//! them: "now" is the host's to give (the linter gets it in its policy).

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit/lint@0.1",
        world: "tollgate:lint/claims-linter@0.1.0",
        generate_all,
        pub_export_macro: true,
    });
}

use bindings::exports::tollgate::lint::linter::{Finding, Guest, LintError, Policy, Severity};

struct ClockReader;

impl Guest for ClockReader {
    fn lint(_claims: String, _policy: Policy) -> Result<Vec<Finding>, LintError> {
        let started = std::time::Instant::now();
        let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let message = format!("wall={wall} elapsed-ns={}", started.elapsed().as_nanos());
        Ok(vec![Finding { code: "MISSING_ISS".into(), severity: Severity::Info, path: String::new(), message }])
    }
}

bindings::export!(ClockReader with_types_in bindings);
