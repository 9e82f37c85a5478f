//! Host-side bindings generated from `wit/`. One `bindgen!` per world the
//! host serves; the `tollgate:host` interfaces are implemented once in
//! `host_api.rs`.

// Generated code: its items are documented by the WIT they come from.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit/jwt@0.1",
    world: "tollgate:jwt/jwt-signer@0.1.0",
});

/// The claims linter's world, in a module of its own: each `bindgen!`
/// generates its own `exports` tree.
pub mod lint {
    wasmtime::component::bindgen!({
        path: "../wit/lint@0.1",
        world: "tollgate:lint/claims-linter@0.1.0",
    });
}
pub use lint::{ClaimsLinter, ClaimsLinterPre};
