//! The backend against the fake GitHub, both real HTTP servers on loopback,
//! driven through the REST contract (docs/auth-backend.openapi.yaml) by a
//! plain HTTP client. One test binary (see the crate's Cargo.toml); a module
//! per topic.

mod support;

mod device_flow;
mod github_failures;
mod installation_tokens;
mod logs;
mod sessions;
