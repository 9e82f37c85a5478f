;; A signer in hand-written core WebAssembly that re-enters the host from
;; the two places the canonical ABI forbids it (Rust's bindings own both,
;; so this is written by hand):
;;   - its allocator (`cabi_realloc`), which the host calls while lowering
;;     the arguments, calls tollgate:host/clock.now when it is asked for
;;     more than 4096 bytes (a big argument: a decode of a long token);
;;   - the post-return of `sign`, which the host calls after lifting the
;;     answer, calls tollgate:host/logging.log.
;; wasmtime must trap both; the host reports a typed error and the next
;; call works. `decode` of a short token is honest (it decodes the
;; base64url itself), so the audit can show the plugin still answers.
;; `sign` answers signing-failed; `verify` answers invalid-signature.
;;
;; guest-artifacts/build.rs turns this into a component of the world
;; tollgate:jwt/jwt-signer@0.2.0 (wat, then wit-component).
(module
  ;; log(level, message, fields)
  (import "tollgate:host/logging@0.2.0" "log" (func $log (param i32 i32 i32 i32 i32)))
  ;; now() -> instant, written to a return area
  (import "tollgate:host/clock@0.2.0" "now" (func $now (param i32)))

  (memory (export "memory") 4)
  ;; The bump allocator's next free byte; below it: the text at 32, the
  ;; clock's return area at 128 and the answer's at 256.
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 32) "re-entered from post-return")

  ;; The largest allocation made without re-entering the host.
  (global $quiet_limit i32 (i32.const 4096))

  (func $realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
    ;; The hostile part: call into the host while it is lowering arguments.
    (if (i32.gt_u (local.get $size) (global.get $quiet_limit))
      (then (call $now (i32.const 128))))
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
                    (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  ;; err(jwt-error case `case` with an empty message) in the return area:
  ;; result discriminant @0, jwt-error discriminant @4, string @8.
  (func $err (param $case i32) (result i32)
    (i32.store8 (i32.const 256) (i32.const 1))
    (i32.store8 (i32.const 260) (local.get $case))
    (i32.store (i32.const 264) (i32.const 0))
    (i32.store (i32.const 268) (i32.const 0))
    (i32.const 256))

  ;; sign(alg, key, header, claims-json) -> result<string, jwt-error>
  (func (export "tollgate:jwt/signer@0.2.0#sign")
        (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    ;; signing-failed
    (call $err (i32.const 10)))

  ;; The hostile part: call into the host after it lifted the answer.
  (func (export "cabi_post_tollgate:jwt/signer@0.2.0#sign") (param i32)
    (call $log (i32.const 2) (i32.const 32) (i32.const 27) (i32.const 0) (i32.const 0)))

  ;; verify(token, key, allowed, leeway) -> result<string, jwt-error>
  (func (export "tollgate:jwt/signer@0.2.0#verify")
        (param i32 i32 i32 i32 i32 i32 i32) (result i32)
    ;; invalid-signature
    (call $err (i32.const 5)))

  ;; The value of one base64url character, or -1.
  (func $b64 (param $c i32) (result i32)
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 0x41)) (i32.le_u (local.get $c) (i32.const 0x5a)))
      (then (return (i32.sub (local.get $c) (i32.const 0x41)))))
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 0x61)) (i32.le_u (local.get $c) (i32.const 0x7a)))
      (then (return (i32.sub (local.get $c) (i32.const 71)))))
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 0x30)) (i32.le_u (local.get $c) (i32.const 0x39)))
      (then (return (i32.add (local.get $c) (i32.const 4)))))
    (if (i32.eq (local.get $c) (i32.const 0x2d)) (then (return (i32.const 62))))
    (if (i32.eq (local.get $c) (i32.const 0x5f)) (then (return (i32.const 63))))
    (i32.const -1))

  ;; Decodes unpadded base64url at src[..len] into dst; returns the bytes
  ;; written, or -1 on a character outside the alphabet.
  (func $b64_decode (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (local $i i32) (local $acc i32) (local $bits i32) (local $out i32) (local $v i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $v (call $b64 (i32.load8_u (i32.add (local.get $src) (local.get $i)))))
        (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (i32.const -1))))
        (local.set $acc (i32.or (i32.shl (local.get $acc) (i32.const 6)) (local.get $v)))
        (local.set $bits (i32.add (local.get $bits) (i32.const 6)))
        (if (i32.ge_u (local.get $bits) (i32.const 8))
          (then
            (local.set $bits (i32.sub (local.get $bits) (i32.const 8)))
            (i32.store8 (i32.add (local.get $dst) (local.get $out)) (i32.shr_u (local.get $acc) (local.get $bits)))
            (local.set $out (i32.add (local.get $out) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $out))

  ;; decode(token) -> result<decoded-token, jwt-error>: honest.
  (func (export "tollgate:jwt/signer@0.2.0#decode") (param $tok i32) (param $len i32) (result i32)
    (local $i i32) (local $d1 i32) (local $d2 i32) (local $c i32)
    (local $h i32) (local $hl i32) (local $p i32) (local $pl i32)
    (local.set $d1 (i32.const -1))
    (local.set $d2 (i32.const -1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $tok) (local.get $i))) (i32.const 0x2e))
          (then
            (if (i32.eq (local.get $d1) (i32.const -1))
              (then (local.set $d1 (local.get $i)))
              (else
                ;; malformed-token: more than two dots
                (if (i32.ne (local.get $d2) (i32.const -1)) (then (return (call $err (i32.const 3)))))
                (local.set $d2 (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.eq (local.get $d2) (i32.const -1)) (then (return (call $err (i32.const 3)))))
    (local.set $h (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $d1)))
    (local.set $hl (call $b64_decode (local.get $tok) (local.get $d1) (local.get $h)))
    (local.set $c (i32.sub (i32.sub (local.get $d2) (local.get $d1)) (i32.const 1)))
    (local.set $p (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $c)))
    (local.set $pl (call $b64_decode (i32.add (i32.add (local.get $tok) (local.get $d1)) (i32.const 1)) (local.get $c) (local.get $p)))
    (if (i32.or (i32.lt_s (local.get $hl) (i32.const 0)) (i32.lt_s (local.get $pl) (i32.const 0)))
      (then (return (call $err (i32.const 3)))))
    ;; ok(decoded-token): header @4, payload @12, signature @20.
    (i32.store8 (i32.const 256) (i32.const 0))
    (i32.store (i32.const 260) (local.get $h))
    (i32.store (i32.const 264) (local.get $hl))
    (i32.store (i32.const 268) (local.get $p))
    (i32.store (i32.const 272) (local.get $pl))
    (i32.store (i32.const 276) (i32.add (i32.add (local.get $tok) (local.get $d2)) (i32.const 1)))
    (i32.store (i32.const 280) (i32.sub (i32.sub (local.get $len) (local.get $d2)) (i32.const 1)))
    (i32.const 256))
)
