//! Host-side bindings generated from `wit/`. One `bindgen!` per world the
//! host serves; the `tollgate:host` interfaces are implemented once in
//! `host_api.rs` (the previous minor by converting to the current one).
//!
//! Versions, the way Zed keeps `since_vX_Y` modules: the top level is the
//! current API (`tollgate:jwt@0.3` over `tollgate:host@0.2`); `since_v0_2`
//! and `since_v0_1` are the previous minors, frozen, served beside it so
//! guests built against them still load. A manifest's `world` picks the
//! version.

// Generated code: its items are documented by the WIT they come from.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit/jwt@0.3",
    world: "tollgate:jwt/jwt-signer@0.3.0",
});

/// The previous minor: `tollgate:jwt@0.2` over the same `tollgate:host@0.2`
/// (whose traits it shares with the top level, so they are implemented
/// once). Frozen.
pub mod since_v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/jwt@0.2",
        world: "tollgate:jwt/jwt-signer@0.2.0",
        with: {
            "tollgate:host/logging@0.2.0": crate::bindings::tollgate::host::logging,
            "tollgate:host/clock@0.2.0": crate::bindings::tollgate::host::clock,
        },
    });
}

/// The minor before: `tollgate:jwt@0.1` over `tollgate:host@0.1`. Frozen.
pub mod since_v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/jwt@0.1",
        world: "tollgate:jwt/jwt-signer@0.1.0",
    });
}

/// The claims linter's world, in a module of its own: each `bindgen!`
/// generates its own `exports` tree.
pub mod lint {
    wasmtime::component::bindgen!({
        path: "../wit/lint@0.1",
        world: "tollgate:lint/claims-linter@0.1.0",
    });
}
pub use lint::{ClaimsLinter, ClaimsLinterPre};
