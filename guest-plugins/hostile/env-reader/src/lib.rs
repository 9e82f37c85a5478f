//! A claims linter that looks for secrets in its environment: it reads
//! every environment variable and argument it can see and reports how many
//! there were (and the first variable's name) in its one finding. The host
//! links `wasi:cli/environment` empty, so it must report none, whatever
//! the host process itself has.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit/lint@0.1",
        world: "tollgate:lint/claims-linter@0.1.0",
        generate_all,
        pub_export_macro: true,
    });
}

use bindings::exports::tollgate::lint::linter::{Finding, Guest, LintError, Policy, Severity};

struct EnvReader;

impl Guest for EnvReader {
    fn lint(_claims: String, _policy: Policy) -> Result<Vec<Finding>, LintError> {
        let variables: Vec<(String, String)> = std::env::vars().collect();
        let arguments: Vec<String> = std::env::args().collect();
        let first = variables.first().map(|(name, _)| name.as_str()).unwrap_or("none");
        // A finding the host's check lets through (a known code about an
        // absent claim, one short line): the audit reads what was seen here.
        let message = format!("variables={} arguments={} first-variable={first}", variables.len(), arguments.len());
        Ok(vec![Finding { code: "MISSING_ISS".into(), severity: Severity::Info, path: String::new(), message }])
    }
}

bindings::export!(EnvReader with_types_in bindings);
