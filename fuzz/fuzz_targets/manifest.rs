//! The plugin manifest parser (`tollgate.toml`, `runtime::Manifest`): any
//! text ends in a policy-checked manifest or a `ManifestError` with a
//! stable code, never a panic; an accepted manifest is within the policy
//! it was checked against.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::runtime::policy::WorldSpec;
use tollgate::runtime::{HostPolicy, Manifest, Quota};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let default = HostPolicy::default();
    // A policy tighter than every first-party manifest, so the over-policy
    // branches are reached from ordinary values too.
    let strict = HostPolicy {
        max_deadline_ms: 500,
        max_memory_mib: 8,
        max_calls_per_second: 10,
        max_burst: 5,
        default_quota: Quota { per_second: 1, burst: 1 },
    };
    for policy in [&default, &strict] {
        match Manifest::parse(text, policy) {
            Ok(manifest) => check_accepted(&manifest, policy),
            Err(e) => {
                assert!(matches!(e.code(), "MANIFEST_INVALID" | "MANIFEST_OVER_POLICY" | "MANIFEST_UNKNOWN_WORLD"));
                let _ = e.to_string();
            }
        }
    }
});

/// What `Manifest::parse` promises about a manifest it accepts.
fn check_accepted(manifest: &Manifest, policy: &HostPolicy) {
    assert!((1..=64).contains(&manifest.name.len()), "name length");
    let world: &WorldSpec = manifest.world_spec().expect("an accepted manifest names a served world");
    assert!((1..=policy.max_deadline_ms).contains(&manifest.limits.deadline_ms), "deadline within policy");
    assert!((1..=policy.max_memory_mib).contains(&manifest.limits.memory_mib), "memory within policy");
    for (function, quota) in &manifest.quotas {
        assert!(world.exports.contains(&function.as_str()), "quota for an export");
        assert!((1..=policy.max_calls_per_second).contains(&quota.per_second), "rate within policy");
        assert!((1..=policy.max_burst).contains(&quota.burst), "burst within policy");
    }
    for function in world.exports {
        let _ = manifest.quota(function, policy);
    }
    if let Some(hash) = &manifest.sha256 {
        assert_eq!(hash.len(), 64, "sha256 is 64 hex digits");
    }
}
