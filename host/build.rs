//! Build facts `tollgate --version` prints: the git commit the binary was
//! built from and the wasmtime version the lock file pins.
//!
//! The commit comes from `TOLLGATE_GIT_COMMIT` when set (a build from a
//! source tarball has no `.git`), else from `git rev-parse`; "unknown" when
//! neither answers. Nothing here fails the build.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    println!("cargo:rerun-if-env-changed=TOLLGATE_GIT_COMMIT");
    for watched in [".git/HEAD", ".git/refs/heads", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let commit = std::env::var("TOLLGATE_GIT_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| git_commit(&root));
    println!("cargo:rustc-env=TOLLGATE_GIT_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    let wasmtime = locked_version(&root.join("Cargo.lock"), "wasmtime");
    println!("cargo:rustc-env=TOLLGATE_WASMTIME_VERSION={}", wasmtime.as_deref().unwrap_or("unknown"));
}

fn git_commit(root: &Path) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(root).args(["rev-parse", "--short=12", "HEAD"]).output().ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// The version of `package` in the lock file (the first entry of that name
/// from crates.io).
fn locked_version(lock: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    let lock: toml::Table = text.parse().ok()?;
    lock.get("package")?.as_array()?.iter().find_map(|p| {
        let p = p.as_table()?;
        (p.get("name")?.as_str()? == package).then(|| p.get("version")?.as_str().map(str::to_owned))?
    })
}
