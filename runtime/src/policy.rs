//! Host policy: the ceilings a manifest may ask for, the worlds the host
//! serves, and the one deny-by-default function that decides, import by
//! import, what a component may link against.
//!
//! The WASI table here is the source of `docs/wasi-policy.md`; a test keeps
//! the two in step.

use crate::manifest::Quota;
use crate::PluginError;

/// Ceilings on what any manifest may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPolicy {
    /// Longest deadline of one call. Bounds how long a hostile guest can hold
    /// a worker thread before epoch interruption stops it.
    pub max_deadline_ms: u64,
    /// Largest linear memory of one instance. Bounds the host memory a guest
    /// can claim; the pooling allocator reserves slots of this size.
    pub max_memory_mib: u64,
    /// Highest sustained call rate of one function.
    pub max_calls_per_second: u32,
    /// Largest burst of one function.
    pub max_burst: u32,
    /// Quota of a function the manifest gives none.
    pub default_quota: Quota,
}

impl Default for HostPolicy {
    fn default() -> Self {
        Self {
            max_deadline_ms: 10_000,
            max_memory_mib: 256,
            max_calls_per_second: 1_000_000,
            max_burst: 100_000,
            default_quota: Quota { per_second: 100, burst: 20 },
        }
    }
}

/// A world the host serves: the host interfaces it may import and the
/// functions it exports.
#[derive(Debug, PartialEq, Eq)]
pub struct WorldSpec {
    /// Full name with version, as a manifest gives it.
    pub name: &'static str,
    /// `tollgate:*` interfaces the world imports, with their versions: the
    /// host interfaces it may call and the type-only interfaces its
    /// exports use.
    pub host_imports: &'static [&'static str],
    /// The exported interface, without version.
    pub export_interface: &'static str,
    /// Its functions, the keys of manifest quotas.
    pub exports: &'static [&'static str],
}

/// Every world this host serves.
pub const WORLDS: &[WorldSpec] = &[
    // The current signer world (the default of `plugin inspect`).
    WorldSpec {
        name: "tollgate:jwt/jwt-signer@0.3.0",
        host_imports: &["tollgate:host/logging@0.2.0", "tollgate:host/clock@0.2.0", "tollgate:jwt/types@0.3.0"],
        export_interface: "tollgate:jwt/signer",
        exports: &["sign", "decode", "verify"],
    },
    // The previous minors, served beside it: guests built against them load
    // (without custom header fields, which 0.3 added).
    WorldSpec {
        name: "tollgate:jwt/jwt-signer@0.2.0",
        host_imports: &["tollgate:host/logging@0.2.0", "tollgate:host/clock@0.2.0", "tollgate:jwt/types@0.2.0"],
        export_interface: "tollgate:jwt/signer",
        exports: &["sign", "decode", "verify"],
    },
    WorldSpec {
        name: "tollgate:jwt/jwt-signer@0.1.0",
        host_imports: &["tollgate:host/logging@0.1.0", "tollgate:host/clock@0.1.0", "tollgate:jwt/types@0.1.0"],
        export_interface: "tollgate:jwt/signer",
        exports: &["sign", "decode", "verify"],
    },
    // Imports nothing: "now" arrives as an argument.
    WorldSpec {
        name: "tollgate:lint/claims-linter@0.1.0",
        host_imports: &[],
        export_interface: "tollgate:lint/linter",
        exports: &["lint"],
    },
];

impl WorldSpec {
    /// Looks a world up by its full name.
    pub fn find(name: &str) -> Option<&'static WorldSpec> {
        WORLDS.iter().find(|w| w.name == name)
    }
}

/// What the host does with one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportDecision {
    /// A `tollgate:host` interface the plugin's world declares.
    HostInterface,
    /// A WASI interface linked in a capability-less form; the text says
    /// what the guest gets.
    CapabilityLess(&'static str),
    /// Not linked: loading fails naming the import; the text says why.
    Refused(&'static str),
}

/// The WASI table: per interface (without version), what the host links.
/// Anything not listed is refused.
pub const WASI_TABLE: &[(&str, ImportDecision)] = {
    use ImportDecision::{CapabilityLess as Link, Refused as Refuse};
    &[
        ("wasi:cli/environment", Link("empty: no variables, no arguments, no working directory")),
        ("wasi:cli/exit", Link("ends the call with PLUGIN_EXITED; the instance is discarded")),
        ("wasi:cli/stdin", Link("empty: reads end-of-stream at once")),
        ("wasi:cli/stdout", Link("lines go to the host log (capped), withheld during calls that carry key material")),
        ("wasi:cli/stderr", Link("lines go to the host log (capped), withheld during calls that carry key material")),
        ("wasi:cli/terminal-input", Link("no terminal")),
        ("wasi:cli/terminal-output", Link("no terminal")),
        ("wasi:cli/terminal-stdin", Link("no terminal: get-terminal-stdin returns none")),
        ("wasi:cli/terminal-stdout", Link("no terminal: get-terminal-stdout returns none")),
        ("wasi:cli/terminal-stderr", Link("no terminal: get-terminal-stderr returns none")),
        ("wasi:io/error", Link("errors of the stdio streams above")),
        ("wasi:io/poll", Link("polls the stdio streams above; nothing else can be polled")),
        ("wasi:io/streams", Link("the stdio streams above; no file or socket stream can be opened")),
        ("wasi:random/random", Link("the host's CSPRNG (RSA blinding, PSS salts)")),
        ("wasi:random/insecure", Link("a host-seeded PRNG")),
        ("wasi:random/insecure-seed", Link("a per-instance seed")),
        ("wasi:clocks/wall-clock", Refuse("no ambient clock: import tollgate:host/clock, whose time the host controls")),
        ("wasi:clocks/monotonic-clock", Refuse("no ambient clock: import tollgate:host/clock, whose time the host controls")),
        ("wasi:filesystem/types", Refuse("no filesystem: plugins get no files or directories")),
        ("wasi:filesystem/preopens", Refuse("no filesystem: plugins get no files or directories")),
        ("wasi:sockets/network", Refuse("no network: plugins cannot open sockets")),
        ("wasi:sockets/instance-network", Refuse("no network: plugins cannot open sockets")),
        ("wasi:sockets/tcp", Refuse("no network: plugins cannot open sockets")),
        ("wasi:sockets/tcp-create-socket", Refuse("no network: plugins cannot open sockets")),
        ("wasi:sockets/udp", Refuse("no network: plugins cannot open sockets")),
        ("wasi:sockets/udp-create-socket", Refuse("no network: plugins cannot open sockets")),
        ("wasi:sockets/ip-name-lookup", Refuse("no network: plugins cannot resolve names")),
        ("wasi:http/types", Refuse("no network: plugins cannot make HTTP requests")),
        ("wasi:http/outgoing-handler", Refuse("no network: plugins cannot make HTTP requests")),
    ]
};

/// The major.minor of WASI 0.2 that wasmtime-wasi links; a guest built
/// against any 0.2.x resolves to it by semver.
const WASI_VERSION_PREFIX: &str = "0.2.";

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `Some("1.2.3")`).
pub fn split_versioned(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

/// Decides one import of a component that implements `world`. Deny by
/// default: only the world's declared host interfaces (at the host's
/// version) and the WASI interfaces the table links pass.
pub fn decide_import(world: &WorldSpec, import: &str) -> ImportDecision {
    let (base, version) = split_versioned(import);
    if base.starts_with("tollgate:") {
        if world.host_imports.contains(&import) {
            return ImportDecision::HostInterface;
        }
        if world.host_imports.iter().any(|declared| split_versioned(declared).0 == base) {
            return ImportDecision::Refused("a version of this interface the host does not serve");
        }
        return ImportDecision::Refused("not declared by the plugin's world; the host links no such interface");
    }
    if let Some((_, decision)) = WASI_TABLE.iter().find(|(name, _)| *name == base) {
        if matches!(decision, ImportDecision::CapabilityLess(_))
            && !version.is_some_and(|v| v.starts_with(WASI_VERSION_PREFIX))
        {
            return ImportDecision::Refused("only WASI 0.2.x is linked");
        }
        return *decision;
    }
    ImportDecision::Refused("not declared by the plugin's world and not a WASI interface the host links")
}

/// Checks every import of a component before it is instantiated. Any
/// refused import fails the load; the error names the first and lists the
/// rest.
pub fn authorize_imports<'a>(
    world: &WorldSpec,
    imports: impl IntoIterator<Item = &'a str>,
) -> Result<(), PluginError> {
    let mut refused = imports
        .into_iter()
        .filter_map(|import| match decide_import(world, import) {
            ImportDecision::Refused(reason) => Some((import, reason)),
            _ => None,
        });
    let Some((import, reason)) = refused.next() else { return Ok(()) };
    Err(PluginError::ImportRefused {
        import: import.to_owned(),
        reason: reason.to_owned(),
        also: refused.map(|(i, _)| i.to_owned()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> &'static WorldSpec {
        WorldSpec::find("tollgate:jwt/jwt-signer@0.1.0").expect("served")
    }

    #[test]
    fn declared_host_interfaces_pass_at_the_served_version_only() {
        assert_eq!(decide_import(signer(), "tollgate:host/clock@0.1.0"), ImportDecision::HostInterface);
        assert!(matches!(decide_import(signer(), "tollgate:host/clock@0.2.0"), ImportDecision::Refused(_)));
        assert!(matches!(decide_import(signer(), "tollgate:host/keychain@0.1.0"), ImportDecision::Refused(_)));
    }

    #[test]
    fn wasi_capabilities_are_refused_and_capability_less_interfaces_linked() {
        for refused in ["wasi:filesystem/types@0.2.6", "wasi:sockets/tcp@0.2.0", "wasi:clocks/wall-clock@0.2.3", "wasi:http/types@0.2.0"] {
            assert!(matches!(decide_import(signer(), refused), ImportDecision::Refused(_)), "{refused}");
        }
        for linked in ["wasi:random/random@0.2.4", "wasi:cli/stdout@0.2.0", "wasi:io/streams@0.2.6"] {
            assert!(matches!(decide_import(signer(), linked), ImportDecision::CapabilityLess(_)), "{linked}");
        }
        assert!(matches!(decide_import(signer(), "wasi:random/random@0.3.0"), ImportDecision::Refused(_)));
        assert!(matches!(decide_import(signer(), "steal-everything"), ImportDecision::Refused(_)));
    }

    #[test]
    fn authorize_imports_names_every_refused_import() {
        let err = authorize_imports(signer(), ["wasi:io/streams@0.2.6", "wasi:filesystem/preopens@0.2.6"])
            .expect_err("refused");
        assert!(matches!(err, PluginError::ImportRefused { ref import, .. } if import == "wasi:filesystem/preopens@0.2.6"));
        assert!(err.to_string().contains("wasi:filesystem/preopens@0.2.6"));
        let err = authorize_imports(signer(), ["wasi:sockets/tcp@0.2.6", "wasi:io/streams@0.2.6", "wasi:filesystem/types@0.2.6"])
            .expect_err("refused");
        assert!(err.to_string().contains("also refused: wasi:filesystem/types@0.2.6"), "{err}");
    }
}
