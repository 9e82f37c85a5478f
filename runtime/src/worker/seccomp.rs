//! The worker's seccomp filter: once the worker has loaded its plugin and
//! authenticated, only the system calls that serving guest calls needs are
//! allowed; any other kills the process (the host then reports
//! `WORKER_CRASHED`). Notably absent: `open`/`openat`, `connect`,
//! `socket`, `execve`, `ptrace`, `kill` of other processes.
//!
//! The list was measured with `strace -f` on the worker running the signer
//! and every hostile behaviour of the test corpus (docs/security/ipc-security.md).

use std::collections::BTreeMap;

use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, SeccompRule, TargetArch};

/// System calls the worker may make after authentication, and why.
#[cfg(target_arch = "x86_64")]
pub const ALLOWED_SYSCALLS: &[(i64, &str)] = &[
    (libc::SYS_read, "frames from the host"),
    (libc::SYS_recvfrom, "frames from the host; polling for the next call"),
    (libc::SYS_write, "frames to the host; log lines to stderr"),
    (libc::SYS_sendto, "frames to the host"),
    (libc::SYS_setsockopt, "per-frame read deadlines (SO_RCVTIMEO)"),
    (libc::SYS_close, "closing descriptors the runtime opened"),
    (libc::SYS_fcntl, "descriptor flags"),
    (libc::SYS_mmap, "instance memory, code, thread stacks"),
    (libc::SYS_munmap, "releasing memory"),
    (libc::SYS_mremap, "growing allocations"),
    (libc::SYS_mprotect, "guest memory growth, guard pages"),
    (libc::SYS_madvise, "resetting pooled instance memory"),
    (libc::SYS_brk, "the allocator"),
    (libc::SYS_memfd_create, "copy-on-write memory images of instances"),
    (libc::SYS_futex, "locks and condition variables"),
    (libc::SYS_sched_yield, "spin loops"),
    (libc::SYS_clock_nanosleep, "the epoch ticker"),
    (libc::SYS_nanosleep, "the epoch ticker"),
    (libc::SYS_clock_gettime, "time (when the vDSO falls back)"),
    (libc::SYS_getrandom, "wasi:random for guests"),
    (libc::SYS_sigaltstack, "trap handling on the guest's stack overflow"),
    (libc::SYS_rt_sigreturn, "returning from the trap handler"),
    (libc::SYS_rt_sigprocmask, "signal masks around traps and threads"),
    (libc::SYS_epoll_wait, "wasmtime-wasi's internal runtime"),
    (libc::SYS_epoll_pwait, "wasmtime-wasi's internal runtime"),
    (libc::SYS_epoll_ctl, "wasmtime-wasi's internal runtime"),
    (libc::SYS_clone3, "runtime worker threads"),
    (libc::SYS_clone, "runtime worker threads"),
    (libc::SYS_set_robust_list, "new threads"),
    (libc::SYS_rseq, "new threads"),
    (libc::SYS_gettid, "thread ids"),
    (libc::SYS_sched_getaffinity, "thread pools sizing themselves"),
    (libc::SYS_prctl, "naming new threads"),
    (libc::SYS_exit, "thread exit"),
    (libc::SYS_exit_group, "process exit"),
];

/// Installs the filter on every thread of the process.
#[cfg(target_arch = "x86_64")]
pub fn install() -> Result<(), String> {
    let rules: BTreeMap<i64, Vec<SeccompRule>> = ALLOWED_SYSCALLS.iter().map(|(nr, _)| (*nr, Vec::new())).collect();
    let filter = SeccompFilter::new(rules, SeccompAction::KillProcess, SeccompAction::Allow, TargetArch::x86_64)
        .map_err(|e| e.to_string())?;
    let program: BpfProgram = filter.try_into().map_err(|e: seccompiler::BackendError| e.to_string())?;
    seccompiler::apply_filter_all_threads(&program).map_err(|e| e.to_string())
}

/// No filter is defined for this architecture yet.
#[cfg(not(target_arch = "x86_64"))]
pub fn install() -> Result<(), String> {
    Err("no seccomp filter is defined for this architecture".into())
}

/// Whether this kernel can enforce the filter: seccomp filters with the
/// kill-process action (`/proc/sys/kernel/seccomp/actions_avail`). Reports
/// what is missing; installs nothing.
pub fn available() -> Result<(), String> {
    const ACTIONS: &str = "/proc/sys/kernel/seccomp/actions_avail";
    let actions = std::fs::read_to_string(ACTIONS)
        .map_err(|e| format!("this kernel reports no seccomp filter support ({ACTIONS}: {e})"))?;
    if actions.split_whitespace().any(|a| a == "kill_process") {
        Ok(())
    } else {
        Err(format!("this kernel's seccomp lacks the kill_process action (it offers: {})", actions.trim()))
    }
}
