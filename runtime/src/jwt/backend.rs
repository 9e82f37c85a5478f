//! Where a signer's guest code runs: in this process, or in a worker
//! process (`crate::worker`). `JwtSigner` checks inputs and outputs the same
//! way for both; a backend only carries the call and brings back the
//! guest's raw answer.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::jwt::{Algorithm, ExtraHeader};
use crate::bindings::JwtSigner as SignerWorld;
use crate::bindings::since_v0_2::JwtSigner as SignerWorldV0_2;
use crate::bindings::since_v0_2::tollgate::jwt::types as types_v0_2;
use crate::bindings::since_v0_1::JwtSigner as SignerWorldV0_1;
use crate::bindings::since_v0_1::tollgate::jwt::types as types_v0_1;
use crate::bindings::tollgate::jwt::types;
use crate::{HostClock, Manifest, Plugin, PluginEngine, PluginError, PluginSource, WorldBindings};

/// A guest's own error: the contract's variant, as data that can cross a
/// process boundary. The message is the guest's and is untrusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum GuestError {
    InvalidKey(String),
    InvalidClaims(String),
    InvalidHeader(String),
    MalformedToken(String),
    AlgorithmNotAllowed(String),
    InvalidSignature,
    Expired,
    NotYetValid,
    MissingClaim(String),
    InvalidClaimType(String),
    SigningFailed(String),
}

/// The contract's error of one WIT version, as a `GuestError`.
macro_rules! guest_error_from {
    ($types:ident) => {
        impl From<$types::JwtError> for GuestError {
            fn from(e: $types::JwtError) -> Self {
                use $types::JwtError as G;
                match e {
                    G::InvalidKey(m) => Self::InvalidKey(m),
                    G::InvalidClaims(m) => Self::InvalidClaims(m),
                    G::InvalidHeader(m) => Self::InvalidHeader(m),
                    G::MalformedToken(m) => Self::MalformedToken(m),
                    G::AlgorithmNotAllowed(m) => Self::AlgorithmNotAllowed(m),
                    G::InvalidSignature => Self::InvalidSignature,
                    G::Expired => Self::Expired,
                    G::NotYetValid => Self::NotYetValid,
                    G::MissingClaim(m) => Self::MissingClaim(m),
                    G::InvalidClaimType(m) => Self::InvalidClaimType(m),
                    G::SigningFailed(m) => Self::SigningFailed(m),
                }
            }
        }
    };
}
guest_error_from!(types);
guest_error_from!(types_v0_2);
guest_error_from!(types_v0_1);

/// The guest's decoded parts, raw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawDecoded {
    /// Header JSON text.
    pub header: String,
    /// Payload JSON text.
    pub payload: String,
    /// Signature segment.
    pub signature: String,
}

/// A guest call's outcome: the runtime failed (`Err`), or the guest
/// answered (`Ok`), with a value or its own error.
pub type GuestAnswer<T> = Result<Result<T, GuestError>, PluginError>;

/// Carries signer calls to a guest and brings back its raw answers.
pub trait SignerBackend: Send + Sync {
    /// The plugin's name, for logs.
    fn plugin_name(&self) -> &str;
    /// The component's SHA-256 (lowercase hex): the quarantine's key.
    fn plugin_sha256(&self) -> &str;
    /// The call deadline the guest runs under: an overrun's answer is held
    /// at least this long, so when it leaves says nothing the guest chose.
    /// Unknown: the policy's longest.
    fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_millis(crate::policy::HostPolicy::default().max_deadline_ms)
    }
    /// The process the guest runs in, when it runs in a worker that is up
    /// now; `None` in this process.
    fn worker_pid(&self) -> Option<u32> {
        None
    }
    /// Gets ready to take a call (a worker backend starts its process), so
    /// that start-up is not counted in a call's time.
    fn prepare(&self) -> Result<(), crate::PluginError> {
        Ok(())
    }
    /// The clock the host's own checks use.
    fn clock(&self) -> Arc<dyn HostClock>;
    /// Whether the guest's contract carries custom header fields
    /// (`tollgate:jwt@0.3` and later).
    fn takes_extra_header(&self) -> bool;
    /// `sign`; the call carries key material.
    fn sign(&self, alg: Algorithm, key: &[u8], kid: Option<&str>, typ: Option<&str>, extra: &ExtraHeader, claims: &str) -> GuestAnswer<String>;
    /// `decode`.
    fn decode(&self, token: &str) -> GuestAnswer<RawDecoded>;
    /// `verify`; the call carries key material.
    fn verify(&self, token: &str, key: &[u8], allowed: &[Algorithm], leeway: u32) -> GuestAnswer<String>;
}

impl<B: SignerBackend + ?Sized> SignerBackend for Arc<B> {
    fn plugin_name(&self) -> &str {
        (**self).plugin_name()
    }
    fn plugin_sha256(&self) -> &str {
        (**self).plugin_sha256()
    }
    fn prepare(&self) -> Result<(), crate::PluginError> {
        (**self).prepare()
    }
    fn worker_pid(&self) -> Option<u32> {
        (**self).worker_pid()
    }
    fn deadline(&self) -> std::time::Duration {
        (**self).deadline()
    }
    fn clock(&self) -> Arc<dyn HostClock> {
        (**self).clock()
    }
    fn takes_extra_header(&self) -> bool {
        (**self).takes_extra_header()
    }
    fn sign(&self, alg: Algorithm, key: &[u8], kid: Option<&str>, typ: Option<&str>, extra: &ExtraHeader, claims: &str) -> GuestAnswer<String> {
        (**self).sign(alg, key, kid, typ, extra, claims)
    }
    fn decode(&self, token: &str) -> GuestAnswer<RawDecoded> {
        (**self).decode(token)
    }
    fn verify(&self, token: &str, key: &[u8], allowed: &[Algorithm], leeway: u32) -> GuestAnswer<String> {
        (**self).verify(token, key, allowed, leeway)
    }
}

/// A signer guest of one WIT version, run in this process.
macro_rules! in_process_backend {
    ($world:ty, $types:ident, $to_wit:ident, $header:ident) => {
        impl SignerBackend for Plugin<$world> {
            fn plugin_name(&self) -> &str {
                &self.manifest().name
            }

            fn plugin_sha256(&self) -> &str {
                self.sha256()
            }

            fn deadline(&self) -> std::time::Duration {
                std::time::Duration::from_millis(self.manifest().limits.deadline_ms)
            }

            fn clock(&self) -> Arc<dyn HostClock> {
                Plugin::clock(self).clone()
            }

            fn takes_extra_header(&self) -> bool {
                world_takes_extra_header(<$world as crate::WorldBindings>::WORLD)
            }

            fn sign(&self, alg: Algorithm, key: &[u8], kid: Option<&str>, typ: Option<&str>, extra: &ExtraHeader, claims: &str) -> GuestAnswer<String> {
                let header = $header(kid.map(str::to_owned), typ.map(str::to_owned), extra)?;
                let key = zeroize::Zeroizing::new(key.to_vec());
                let answer = self.call("sign", true, |b, store| {
                    b.tollgate_jwt_signer().call_sign(store, alg.$to_wit(), &key, &header, claims)
                })?;
                Ok(answer.map_err(GuestError::from))
            }

            fn decode(&self, token: &str) -> GuestAnswer<RawDecoded> {
                let answer = self.call("decode", false, |b, store| b.tollgate_jwt_signer().call_decode(store, token))?;
                Ok(answer
                    .map(|d| RawDecoded { header: d.header, payload: d.payload, signature: d.signature })
                    .map_err(GuestError::from))
            }

            fn verify(&self, token: &str, key: &[u8], allowed: &[Algorithm], leeway: u32) -> GuestAnswer<String> {
                let key = zeroize::Zeroizing::new(key.to_vec());
                let allowed: Vec<_> = allowed.iter().map(|a| a.$to_wit()).collect();
                let answer = self.call("verify", true, |b, store| {
                    b.tollgate_jwt_signer().call_verify(store, token, &key, &allowed, leeway)
                })?;
                Ok(answer.map_err(GuestError::from))
            }
        }
    };
}
in_process_backend!(SignerWorld, types, to_wit, header_v0_3);
in_process_backend!(SignerWorldV0_2, types_v0_2, to_wit_v0_2, header_v0_2);
in_process_backend!(SignerWorldV0_1, types_v0_1, to_wit_v0_1, header_v0_1);

/// Whether a signer world's contract carries custom header fields: only
/// the current one, `tollgate:jwt@0.3`. The one place that says so, for
/// the in-process backends and the worker's.
pub(crate) fn world_takes_extra_header(world: &str) -> bool {
    world == SignerWorld::WORLD
}

/// Whether `world` is a signer world this host serves (any version).
pub fn is_signer_world(world: &str) -> bool {
    crate::policy::WorldSpec::find(world).is_some_and(|w| w.export_interface == "tollgate:jwt/signer")
}

fn header_v0_3(kid: Option<String>, typ: Option<String>, extra: &ExtraHeader) -> Result<types::HeaderFields, PluginError> {
    Ok(types::HeaderFields { kid, typ, extra: extra.to_wit() })
}

fn header_v0_2(kid: Option<String>, typ: Option<String>, extra: &ExtraHeader) -> Result<types_v0_2::HeaderFields, PluginError> {
    older_header(extra).map(|()| types_v0_2::HeaderFields { kid, typ })
}

fn header_v0_1(kid: Option<String>, typ: Option<String>, extra: &ExtraHeader) -> Result<types_v0_1::HeaderFields, PluginError> {
    older_header(extra).map(|()| types_v0_1::HeaderFields { kid, typ })
}

/// A contract before 0.3 has no place for custom header fields: a call
/// that has some fails here rather than sign without them. (`JwtSigner`
/// refuses them earlier with `INVALID_HEADER`; this is the backstop.)
fn older_header(extra: &ExtraHeader) -> Result<(), PluginError> {
    if extra.is_empty() {
        Ok(())
    } else {
        Err(PluginError::Runtime("this signer's contract is older than tollgate:jwt@0.3 and cannot carry custom header fields".into()))
    }
}

/// Loads a signer plugin built against any served version of the signer
/// world, in this process: the manifest's `world` picks the bindings (the
/// current `tollgate:jwt/jwt-signer@0.3.0`, or `@0.2.0` and `@0.1.0`, the
/// previous minors). With `verified`, the manifest must record the component's
/// SHA-256. The one place that maps a world version to its bindings.
pub fn load_signer_backend(engine: &PluginEngine, source: &PluginSource<'_>, verified: bool) -> Result<Box<dyn SignerBackend>, PluginError> {
    let manifest = Manifest::parse(&source.manifest, engine.policy())?;
    if manifest.world == SignerWorldV0_2::WORLD {
        let plugin: Plugin<SignerWorldV0_2> = if verified { engine.load_verified(source)? } else { engine.load(source)? };
        return Ok(Box::new(plugin));
    }
    if manifest.world == SignerWorldV0_1::WORLD {
        let plugin: Plugin<SignerWorldV0_1> = if verified { engine.load_verified(source)? } else { engine.load(source)? };
        return Ok(Box::new(plugin));
    }
    let plugin: Plugin<SignerWorld> = if verified { engine.load_verified(source)? } else { engine.load(source)? };
    Ok(Box::new(plugin))
}
