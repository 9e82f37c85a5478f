//! A guest whose answers are the fuzzer's bytes, for `component_values`.
//!
//! Each export decodes the hex digits of one string argument into its
//! memory from address 0 and returns 0 as its return area. The fuzzer's
//! bytes are then the canonical-ABI answer itself: discriminants, string
//! and list pointers and lengths, enum values, the bytes they point at
//! (pointers into `0..len` land back in the fuzzer's bytes). So wasmtime's
//! lifting and the host's checks after it see every shape of answer a
//! hostile guest could give, valid or not.
//!
//! The component is built at start-up from the core module below and the
//! repository's own WIT (`wit/`), so its types are exactly the world's.

use tollgate::runtime::worlds::{ClaimsLinterWorld, JwtSignerWorld};
use tollgate::runtime::{PluginEngine, PluginError, PluginSource, WorldBindings};
use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::Resolve;

const HOST_WIT: &str = include_str!("../../wit/host@0.2/host.wit");
const JWT_WIT: &str = include_str!("../../wit/jwt@0.3/jwt.wit");
const LINT_WIT: &str = include_str!("../../wit/lint@0.1/lint.wit");

/// The part of the core module every world shares: memory, a bump
/// allocator above the first page (which holds the answer), and the hex
/// decoder.
const COMMON_WAT: &str = r#"
  (memory (export "memory") 4)
  (global $heap (mut i32) (i32.const 65536))

  ;; The canonical ABI's allocator: bump, never free (one instance per call).
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
    (local.set $ptr
      (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
               (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (local.get $have)) (i32.const 16)) (i32.const 1)))
              (i32.const -1))
          (then unreachable))))
    (if (local.get $old_size)
      (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old_size))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  ;; 0-9 a-f as a nibble, anything else -1.
  (func $nibble (param $c i32) (result i32)
    (if (result i32) (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
      (then (i32.sub (local.get $c) (i32.const 48)))
      (else
        (if (result i32) (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 6))
          (then (i32.sub (local.get $c) (i32.const 87)))
          (else (i32.const -1))))))

  ;; Decodes every pair of hex digits of the string at $ptr/$len into
  ;; memory from address 0 (other characters are skipped), at most one
  ;; page; returns 0, the address of the answer.
  (func $answer (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $out i32) (local $n i32) (local $hi i32)
    (local.set $hi (i32.const -1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (br_if $done (i32.ge_u (local.get $out) (i32.const 65536)))
        (local.set $n (call $nibble (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_s (local.get $n) (i32.const 0)))
        (if (i32.lt_s (local.get $hi) (i32.const 0))
          (then (local.set $hi (local.get $n)))
          (else
            (i32.store8 (local.get $out) (i32.or (i32.shl (local.get $hi) (i32.const 4)) (local.get $n)))
            (local.set $out (i32.add (local.get $out) (i32.const 1)))
            (local.set $hi (i32.const -1))))
        (br $next)))
    (i32.const 0))
"#;

/// The signer's exports (`tollgate:jwt/signer@0.3.0`): `sign` answers from
/// its claims text, `decode` and `verify` from the token.
const SIGNER_EXPORTS_WAT: &str = r#"
  (func (export "tollgate:jwt/signer@0.3.0#sign")
    (param $alg i32) (param $key i32) (param $key_len i32)
    (param $kid_some i32) (param $kid i32) (param $kid_len i32)
    (param $typ_some i32) (param $typ i32) (param $typ_len i32)
    (param $extra i32) (param $extra_len i32)
    (param $claims i32) (param $claims_len i32) (result i32)
    (call $answer (local.get $claims) (local.get $claims_len)))
  (func (export "tollgate:jwt/signer@0.3.0#decode") (param $token i32) (param $len i32) (result i32)
    (call $answer (local.get $token) (local.get $len)))
  (func (export "tollgate:jwt/signer@0.3.0#verify")
    (param $token i32) (param $len i32) (param $key i32) (param $key_len i32)
    (param $allowed i32) (param $allowed_len i32) (param $leeway i32) (result i32)
    (call $answer (local.get $token) (local.get $len)))
"#;

/// The linter's export (`tollgate:lint/linter@0.1.0`): answers from its
/// claims text.
const LINTER_EXPORTS_WAT: &str = r#"
  (func (export "tollgate:lint/linter@0.1.0#lint")
    (param $claims i32) (param $len i32) (param $max_lifetime i64) (param $now i64) (result i32)
    (call $answer (local.get $claims) (local.get $len)))
"#;

/// A world the echo guest can implement.
#[derive(Debug, Clone, Copy)]
pub enum EchoWorld {
    /// `tollgate:jwt/jwt-signer@0.3.0`.
    Signer,
    /// `tollgate:lint/claims-linter@0.1.0`.
    Linter,
}

/// Quotas far above any fuzzing rate: a refused call lifts nothing.
const UNLIMITED_QUOTA: &str = "per-second = 1000000\nburst = 100000\n";

impl EchoWorld {
    /// The component: the core module made a component against the world
    /// in `wit/`. Panics if the WIT or the module does not encode: that is
    /// a broken fuzz target, found at its first run.
    pub fn component(self) -> Vec<u8> {
        let mut resolve = Resolve::default();
        let (package, world, exports) = match self {
            Self::Signer => {
                resolve.push_str("host.wit", HOST_WIT).expect("wit/host@0.2 parses");
                (resolve.push_str("jwt.wit", JWT_WIT).expect("wit/jwt@0.3 parses"), "jwt-signer", SIGNER_EXPORTS_WAT)
            }
            Self::Linter => (resolve.push_str("lint.wit", LINT_WIT).expect("wit/lint@0.1 parses"), "claims-linter", LINTER_EXPORTS_WAT),
        };
        let world = resolve.select_world(&[package], Some(world)).expect("the world is in the package");
        let mut module = wat::parse_str(format!("(module {COMMON_WAT} {exports})")).expect("the echo module parses");
        embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).expect("metadata embeds");
        ComponentEncoder::default()
            .validate(true)
            .module(&module)
            .expect("the module suits the world")
            .encode()
            .expect("the component encodes")
    }

    /// Its manifest: the world's name and quotas no fuzzing rate reaches.
    pub fn manifest(self) -> String {
        let (world, functions): (&str, &[&str]) = match self {
            Self::Signer => (JwtSignerWorld::WORLD, &["sign", "decode", "verify"]),
            Self::Linter => (ClaimsLinterWorld::WORLD, &["lint"]),
        };
        let mut text = format!(
            "name = \"fuzz-echo\"\nversion = \"0.1.0\"\nworld = \"{world}\"\n\n[limits]\ndeadline-ms = 2000\nmemory-mib = 16\n"
        );
        for f in functions {
            text.push_str(&format!("\n[quotas.{f}]\n{UNLIMITED_QUOTA}"));
        }
        text
    }

    /// Loads the component through the real runtime.
    pub fn load<B: WorldBindings>(self, engine: &PluginEngine) -> Result<tollgate::runtime::Plugin<B>, PluginError> {
        engine.load::<B>(&PluginSource {
            wasm: self.component().into(),
            manifest: self.manifest().into(),
            what: format!("fuzz echo guest ({self:?})"),
        })
    }
}
