;; A claims linter in hand-written core WebAssembly whose answers break the
;; canonical ABI, which Rust's bindings never would: the host must refuse
;; each while lifting it (PLUGIN_TRAPPED), never read past the guest's
;; memory, and answer the next call. The mode is the tenth byte of the
;; claims, {"mode":"X"}:
;;   u  a finding whose message is not UTF-8
;;   s  a finding whose message points past the end of memory
;;   n  a finding whose message claims a length of 2 GiB
;;   l  a list of 1000 findings starting 28 bytes before the end of memory
;;   r  a return area past the end of memory
;;   a  a return area that is not aligned
;;   d  a result discriminant that is neither ok nor err
;;   e  a severity that is not one of the enum's cases
;; Anything else gets an honest, empty answer.
;;
;; guest-artifacts/build.rs turns this into a component of the world
;; tollgate:lint/claims-linter@0.1.0 (wat, then wit-component).
(module
  (memory (export "memory") 4)
  ;; The bump allocator's next free byte; below it: static text at 16 and
  ;; 32, the return area at 256 and one finding at 512.
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "MISSING_ISS")
  (data (i32.const 32) "\ff\fenot UTF-8")

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

  ;; One finding at 512 (code MISSING_ISS, no path): record layout
  ;; code @0, severity @8, path @12, message @20; 28 bytes.
  (func $finding (param $severity i32) (param $msg i32) (param $msg_len i32)
    (i32.store (i32.const 512) (i32.const 16))
    (i32.store (i32.const 516) (i32.const 11))
    (i32.store8 (i32.const 520) (local.get $severity))
    (i32.store (i32.const 524) (i32.const 0))
    (i32.store (i32.const 528) (i32.const 0))
    (i32.store (i32.const 532) (local.get $msg))
    (i32.store (i32.const 536) (local.get $msg_len)))

  ;; ok(list) in the return area at 256: discriminant @0, pointer @4, length @8.
  (func $ok_list (param $ptr i32) (param $len i32) (result i32)
    (i32.store8 (i32.const 256) (i32.const 0))
    (i32.store (i32.const 260) (local.get $ptr))
    (i32.store (i32.const 264) (local.get $len))
    (i32.const 256))

  ;; lint(claims: string, policy: policy) -> result<list<finding>, lint-error>
  (func (export "tollgate:lint/linter@0.1.0#lint") (param $claims i32) (param $len i32) (param $max i64) (param $now i64) (result i32)
    (local $mode i32)
    (if (i32.gt_u (local.get $len) (i32.const 9))
      (then (local.set $mode (i32.load8_u offset=9 (local.get $claims)))))
    ;; u: invalid UTF-8
    (if (i32.eq (local.get $mode) (i32.const 0x75))
      (then (call $finding (i32.const 2) (i32.const 32) (i32.const 12))
            (return (call $ok_list (i32.const 512) (i32.const 1)))))
    ;; s: a string past the end of memory
    (if (i32.eq (local.get $mode) (i32.const 0x73))
      (then (call $finding (i32.const 2) (i32.const 0xFFFFFF00) (i32.const 64))
            (return (call $ok_list (i32.const 512) (i32.const 1)))))
    ;; n: a string of 2 GiB
    (if (i32.eq (local.get $mode) (i32.const 0x6e))
      (then (call $finding (i32.const 2) (i32.const 16) (i32.const 0x7FFFFFFF))
            (return (call $ok_list (i32.const 512) (i32.const 1)))))
    ;; l: a list running past the end of memory
    (if (i32.eq (local.get $mode) (i32.const 0x6c))
      (then (return (call $ok_list (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 28)) (i32.const 1000)))))
    ;; r: the return area itself past the end of memory
    (if (i32.eq (local.get $mode) (i32.const 0x72))
      (then (return (i32.const 0x7FFFFFF0))))
    ;; a: a misaligned return area
    (if (i32.eq (local.get $mode) (i32.const 0x61))
      (then (drop (call $ok_list (i32.const 8) (i32.const 0)))
            (return (i32.const 258))))
    ;; d: a result that is neither ok (0) nor err (1)
    (if (i32.eq (local.get $mode) (i32.const 0x64))
      (then (drop (call $ok_list (i32.const 8) (i32.const 0)))
            (i32.store8 (i32.const 256) (i32.const 7))
            (return (i32.const 256))))
    ;; e: a severity past the enum's three cases
    (if (i32.eq (local.get $mode) (i32.const 0x65))
      (then (call $finding (i32.const 9) (i32.const 16) (i32.const 11))
            (return (call $ok_list (i32.const 512) (i32.const 1)))))
    (call $ok_list (i32.const 8) (i32.const 0)))
)
