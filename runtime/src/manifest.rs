//! The plugin manifest (`tollgate.toml` beside the `.wasm`): what a plugin
//! asks for, checked against what host policy allows before anything is
//! compiled.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::policy::{HostPolicy, WorldSpec};

/// The largest manifest read. A manifest is a few hundred bytes; this only
/// stops a hostile file from costing memory and parse time.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// A parsed, policy-checked manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// The plugin's name: lowercase letters, digits and `-`, 1-64 chars.
    pub name: String,
    /// The plugin's version (semver).
    pub version: String,
    /// The world the component implements, e.g. `tollgate:jwt/jwt-signer@0.1.0`.
    pub world: String,
    /// The component's SHA-256, 64 lowercase hex digits. When present the
    /// component must match it; plugins the app loads from disk must have
    /// one (`tollgate plugin hash --write` records it).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Resource limits of one call and one instance.
    pub limits: Limits,
    /// Per-function call quotas, keyed by export name.
    #[serde(default)]
    pub quotas: BTreeMap<String, Quota>,
}

/// Limits a plugin asks for; each is capped by [`HostPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Wall-clock budget of one call in milliseconds.
    pub deadline_ms: u64,
    /// Linear-memory ceiling of one instance in MiB.
    pub memory_mib: u64,
}

/// A call quota: `per-second` sustained rate with bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Quota {
    /// Calls per second, sustained.
    pub per_second: u32,
    /// Calls allowed at once before the rate applies.
    pub burst: u32,
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Larger than [`MAX_MANIFEST_BYTES`].
    #[error("manifest is {size} bytes, over the {MAX_MANIFEST_BYTES}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// Not valid TOML, a missing key, a wrong type, or an unknown key.
    #[error("manifest does not parse: {0}")]
    Parse(String),
    /// A field has a value outside its allowed form.
    #[error("manifest field `{field}` is invalid: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The manifest names a world this host does not serve.
    #[error("manifest names world `{0}`, which this host does not serve")]
    UnknownWorld(String),
    /// A quota names a function the world does not export.
    #[error("quota for `{0}`, which the world does not export")]
    UnknownFunction(String),
    /// A limit above host policy.
    #[error("manifest asks for {field} = {asked}, above the host's limit of {allowed}")]
    OverPolicy {
        /// The field.
        field: &'static str,
        /// What the manifest asked for.
        asked: u64,
        /// What policy allows.
        allowed: u64,
    },
}

impl ManifestError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OverPolicy { .. } => "MANIFEST_OVER_POLICY",
            Self::UnknownWorld(_) => "MANIFEST_UNKNOWN_WORLD",
            _ => "MANIFEST_INVALID",
        }
    }
}

impl Manifest {
    /// Parses `text` and checks it against `policy`. Unknown keys, limits
    /// above policy and quotas for functions the world does not export are
    /// all refused.
    pub fn parse(text: &str, policy: &HostPolicy) -> Result<Self, ManifestError> {
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge { size: text.len() });
        }
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| ManifestError::Parse(e.message().to_owned()))?;
        manifest.check(policy)?;
        Ok(manifest)
    }

    /// The world this manifest names, as the host serves it.
    pub fn world_spec(&self) -> Result<&'static WorldSpec, ManifestError> {
        WorldSpec::find(&self.world).ok_or_else(|| ManifestError::UnknownWorld(self.world.clone()))
    }

    fn check(&self, policy: &HostPolicy) -> Result<(), ManifestError> {
        let name_ok = (1..=64).contains(&self.name.len())
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !self.name.starts_with('-');
        if !name_ok {
            return Err(ManifestError::Invalid {
                field: "name",
                reason: "use 1-64 lowercase letters, digits and `-`".into(),
            });
        }
        let version_ok = self.version.len() <= 64
            && self.version.split('.').count() == 3
            && self.version.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !version_ok {
            return Err(ManifestError::Invalid {
                field: "version",
                reason: "use MAJOR.MINOR.PATCH".into(),
            });
        }
        if let Some(hash) = &self.sha256
            && !(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return Err(ManifestError::Invalid {
                field: "sha256",
                reason: "use the component's SHA-256 as 64 lowercase hex digits (`tollgate plugin hash`)".into(),
            });
        }
        let world = self.world_spec()?;
        let limits = [
            ("limits.deadline-ms", self.limits.deadline_ms, policy.max_deadline_ms),
            ("limits.memory-mib", self.limits.memory_mib, policy.max_memory_mib),
        ];
        for (field, asked, allowed) in limits {
            if asked > allowed {
                return Err(ManifestError::OverPolicy { field, asked, allowed });
            }
            if asked == 0 {
                return Err(ManifestError::Invalid { field, reason: "must be at least 1".into() });
            }
        }
        for (function, quota) in &self.quotas {
            if !world.exports.contains(&function.as_str()) {
                return Err(ManifestError::UnknownFunction(function.clone()));
            }
            let rates = [
                ("quotas.*.per-second", quota.per_second, policy.max_calls_per_second),
                ("quotas.*.burst", quota.burst, policy.max_burst),
            ];
            for (field, asked, allowed) in rates {
                if asked > allowed {
                    return Err(ManifestError::OverPolicy {
                        field,
                        asked: asked.into(),
                        allowed: allowed.into(),
                    });
                }
                if asked == 0 {
                    return Err(ManifestError::Invalid { field, reason: "must be at least 1".into() });
                }
            }
        }
        Ok(())
    }

    /// The quota for `function`: the manifest's, or the policy default.
    pub fn quota(&self, function: &str, policy: &HostPolicy) -> Quota {
        self.quotas.get(function).copied().unwrap_or(policy.default_quota)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "jwt-signer"
version = "0.1.0"
world = "tollgate:jwt/jwt-signer@0.1.0"
[limits]
deadline-ms = 1000
memory-mib = 32
[quotas.sign]
per-second = 10
burst = 5
"#;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, &HostPolicy::default())
    }

    #[test]
    fn a_good_manifest_parses() {
        let m = parse(GOOD).expect("parses");
        assert_eq!(m.limits.memory_mib, 32);
        assert_eq!(m.quota("sign", &HostPolicy::default()).burst, 5);
        assert_eq!(m.quota("decode", &HostPolicy::default()), HostPolicy::default().default_quota);
    }

    #[test]
    fn unknown_keys_are_refused_at_every_level() {
        for extra in ["\nallow-filesystem = true", "\n[limits]\nfuel = 1", "\n[extra]\nx = 1"] {
            let text = if extra.contains("[limits]") {
                GOOD.replace("memory-mib = 32", "memory-mib = 32\nfuel = 1")
            } else {
                format!("{extra}\n{GOOD}")
            };
            let err = parse(&text).expect_err(extra);
            assert!(matches!(err, ManifestError::Parse(ref m) if m.contains("unknown field")), "{err}");
        }
    }

    #[test]
    fn limits_over_policy_are_refused_with_both_numbers() {
        let err = parse(&GOOD.replace("memory-mib = 32", "memory-mib = 4096")).expect_err("over");
        assert_eq!(err.code(), "MANIFEST_OVER_POLICY");
        let msg = err.to_string();
        assert!(msg.contains("4096") && msg.contains("256"), "{msg}");
        let err = parse(&GOOD.replace("per-second = 10", "per-second = 999999999")).expect_err("over");
        assert!(matches!(err, ManifestError::OverPolicy { field: "quotas.*.per-second", .. }));
    }

    #[test]
    fn zero_limits_quotas_for_unknown_functions_and_unknown_worlds_are_refused() {
        let err = parse(&GOOD.replace("deadline-ms = 1000", "deadline-ms = 0")).expect_err("zero deadline");
        assert!(err.to_string().contains("deadline-ms"), "{err}");
        let err = parse(&GOOD.replace("[quotas.sign]", "[quotas.read-keychain]")).expect_err("fn");
        assert!(matches!(err, ManifestError::UnknownFunction(ref f) if f == "read-keychain"));
        let err = parse(&GOOD.replace("jwt-signer@0.1.0", "jwt-signer@9.0.0")).expect_err("world");
        assert_eq!(err.code(), "MANIFEST_UNKNOWN_WORLD");
    }

    #[test]
    fn bad_names_versions_and_oversized_files_are_refused() {
        let err = parse(&GOOD.replace("name = \"jwt-signer\"", "name = \"../etc\"")).expect_err("path name");
        assert!(err.to_string().contains("name"), "{err}");
        let err = parse(&GOOD.replace("version = \"0.1.0\"", "version = \"latest\"")).expect_err("not semver");
        assert!(err.to_string().contains("version"), "{err}");
        let huge = format!("{GOOD}\n#{}", "x".repeat(MAX_MANIFEST_BYTES));
        assert!(matches!(parse(&huge), Err(ManifestError::TooLarge { .. })));
    }
}
