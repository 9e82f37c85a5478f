;; A claims linter in hand-written core WebAssembly (Rust cannot emit
;; `table.grow`). With the claims {"mode":"g"} it grows its table in a loop
;; until the host refuses; the host's limit (20 000 elements a table) must
;; stop it with PLUGIN_MEMORY_LIMIT. Any other claims get an honest, empty
;; answer, so the audit can show the same plugin answers the next call.
;;
;; guest-artifacts/build.rs turns this into a component of the world
;; tollgate:lint/claims-linter@0.1.0 (wat, then wit-component).
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  ;; The bump allocator's next free byte; everything below is static data
  ;; and the return area.
  (global $heap (mut i32) (i32.const 1024))

  ;; The canonical ABI's allocator: a bump allocator that grows memory.
  (func $realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
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

  ;; lint(claims: string, policy: policy) -> result<list<finding>, lint-error>
  (func (export "tollgate:lint/linter@0.1.0#lint") (param $claims i32) (param $len i32) (param $max i64) (param $now i64) (result i32)
    ;; The mode is the tenth byte of the claims: {"mode":"g"}.
    (if (i32.and (i32.gt_u (local.get $len) (i32.const 9))
                 (i32.eq (i32.load8_u offset=9 (local.get $claims)) (i32.const 0x67)))
      (then
        ;; Claim a thousand slots at a time until a grow fails; a failed
        ;; grow that did not trap is still a refusal: stop there.
        (loop $grow
          (br_if $grow (i32.ne (table.grow $t (ref.null func) (i32.const 1000)) (i32.const -1))))
        unreachable))
    ;; ok(empty list): discriminant 0, list pointer 8 (aligned), length 0.
    (i32.store8 (i32.const 256) (i32.const 0))
    (i32.store (i32.const 260) (i32.const 8))
    (i32.store (i32.const 264) (i32.const 0))
    (i32.const 256))
)
