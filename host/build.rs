//! Builds every guest in `guest-plugins/` for wasm32-wasip2 and hands their
//! paths to the crate (and through it to the tests), the way wasmtime's
//! test-programs artifacts do. Nothing built here is checked in.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// Guests to build: (cargo package, constant name, manifest directory).
const GUESTS: &[(&str, &str, &str)] = &[
    ("jwt-signer", "JWT_SIGNER", "jwt-signer"),
    ("misbehaving-signer", "MISBEHAVING_SIGNER", "hostile/misbehaving-signer"),
    ("filesystem-reader", "FILESYSTEM_READER", "hostile/filesystem-reader"),
    ("undeclared-import", "UNDECLARED_IMPORT", "hostile/undeclared-import"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir.parent().expect("host/ has a parent").to_path_buf();
    let guests = root.join("guest-plugins");
    let wit = root.join("wit");
    rerun_if_changed_under(&guests);
    rerun_if_changed_under(&wit);

    let target_dir = guests.join("target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&guests)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--locked"])
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _, _) in GUESTS {
        cmd.args(["-p", package]);
    }
    // The outer build's flags and target belong to the host, not the guests.
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS", "RUSTC_WORKSPACE_WRAPPER", "CARGO_PRIMARY_PACKAGE"] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("failed to run cargo for the guests");
    if !status.success() {
        panic!(
            "building the guest plugins failed (is the wasm32-wasip2 target installed? \
             `rustup target add wasm32-wasip2`; the set-up script does this)"
        );
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let mut consts = String::new();
    for (package, name, dir) in GUESTS {
        let wasm = target_dir
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", package.replace('-', "_")));
        let manifest = guests.join(dir).join("tollgate.toml");
        consts.push_str(&format!(
            "/// The `{package}` component, built from `guest-plugins/{dir}`.\n\
             pub const {name}_WASM_PATH: &str = {wasm:?};\n\
             /// The manifest of `{package}`.\n\
             pub const {name}_MANIFEST_PATH: &str = {manifest:?};\n",
            wasm = wasm.display().to_string(),
            manifest = manifest.display().to_string(),
        ));
        if *package == "jwt-signer" {
            fs::copy(&wasm, out_dir.join("jwt_signer.wasm")).expect("copy the signer");
        }
    }
    fs::write(out_dir.join("guest_artifacts.rs"), consts).expect("write guest_artifacts.rs");
}

fn rerun_if_changed_under(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            rerun_if_changed_under(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
