//! Builds every guest in `guest-plugins/` for wasm32-wasip2 and hands their
//! paths to the crate (and through it to the tests), the way wasmtime's
//! test-programs artifacts do. Nothing built here is checked in.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// Guests to build: (cargo package, constant name, manifest directory).
const GUESTS: &[(&str, &str, &str)] = &[
    ("jwt-signer", "JWT_SIGNER", "jwt-signer"),
    ("jwt-signer-v0-2", "JWT_SIGNER_V0_2", "jwt-signer-v0-2"),
    ("jwt-signer-v0-1", "JWT_SIGNER_V0_1", "jwt-signer-v0-1"),
    ("claims-linter", "CLAIMS_LINTER", "claims-linter"),
    ("claims-linter-hostile", "HOSTILE_LINTER", "claims-linter-hostile"),
    ("misbehaving-signer", "MISBEHAVING_SIGNER", "hostile/misbehaving-signer"),
    ("leaky-signer", "LEAKY_SIGNER", "hostile/leaky-signer"),
    ("filesystem-reader", "FILESYSTEM_READER", "hostile/filesystem-reader"),
    ("undeclared-import", "UNDECLARED_IMPORT", "hostile/undeclared-import"),
    ("socket-opener", "SOCKET_OPENER", "hostile/socket-opener"),
    ("env-reader", "ENV_READER", "hostile/env-reader"),
    ("clock-reader", "CLOCK_READER", "hostile/clock-reader"),
];

/// Guests also embedded in the binary (`<NAME>_WASM`, `<NAME>_MANIFEST`):
/// the hostile corpus `tollgate audit` runs wherever the binary is copied.
/// (The first-party signer and linter are embedded by guest_artifacts.rs.)
const EMBEDDED: &[&str] = &[
    "claims-linter-hostile",
    "misbehaving-signer",
    "leaky-signer",
    "filesystem-reader",
    "undeclared-import",
    "socket-opener",
    "env-reader",
    "clock-reader",
];

/// Hostile guests written as core WebAssembly text, for what Rust cannot
/// express (`table.grow`, hand-made canonical-ABI answers, an allocator
/// that calls the host): (directory under `guest-plugins/`, `.wat` file,
/// constant name, WIT directory under `wit/`, world). Each is made a
/// component here (the world's metadata embedded, then wit-component's
/// encoder) and embedded in the binary like [`EMBEDDED`].
const WAT_GUESTS: &[(&str, &str, &str, &str, &str)] = &[
    ("hostile/table-grower", "table-grower.wat", "TABLE_GROWER", "lint@0.1", "claims-linter"),
    ("hostile/bad-returns", "bad-returns.wat", "BAD_RETURNS", "lint@0.1", "claims-linter"),
    ("hostile/reentrant-signer", "reentrant-signer.wat", "REENTRANT_SIGNER", "jwt@0.2", "jwt-signer"),
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
        if *package == "claims-linter" {
            fs::copy(&wasm, out_dir.join("claims_linter.wasm")).expect("copy the claims linter");
        }
        if EMBEDDED.contains(package) {
            let embedded = out_dir.join(format!("{}.wasm", package.replace('-', "_")));
            fs::copy(&wasm, &embedded).unwrap_or_else(|e| panic!("copy {package}: {e}"));
            consts.push_str(&embedded_consts(package, name, &embedded, &manifest));
        }
    }
    for (dir, wat, name, wit_dir, world) in WAT_GUESTS {
        let wasm = out_dir.join(wat.replace(".wat", ".wasm").replace('-', "_"));
        let component = wat_component(&guests.join(dir).join(wat), &wit.join(wit_dir), world);
        fs::write(&wasm, component).unwrap_or_else(|e| panic!("write {}: {e}", wasm.display()));
        let manifest = guests.join(dir).join("tollgate.toml");
        consts.push_str(&format!(
            "/// The `{dir}` component, made from `guest-plugins/{dir}/{wat}` by the build script.\n\
             pub const {name}_WASM_PATH: &str = {wasm:?};\n\
             /// The manifest of `{dir}`.\n\
             pub const {name}_MANIFEST_PATH: &str = {manifest:?};\n",
            wasm = wasm.display().to_string(),
            manifest = manifest.display().to_string(),
        ));
        consts.push_str(&embedded_consts(dir, name, &wasm, &manifest));
    }
    for (dir, name) in JS_GUESTS {
        let wasm = build_js_guest(&guests, dir);
        let manifest = guests.join(dir).join("tollgate.toml");
        consts.push_str(&format!(
            "/// The `{dir}` component, built from `guest-plugins/{dir}` by ComponentizeJS.\n\
             pub const {name}_WASM_PATH: &str = {wasm:?};\n\
             /// The manifest of `{dir}`.\n\
             pub const {name}_MANIFEST_PATH: &str = {manifest:?};\n",
            wasm = wasm.display().to_string(),
            manifest = manifest.display().to_string(),
        ));
    }
    fs::write(out_dir.join("guest_artifacts.rs"), consts).expect("write guest_artifacts.rs");
}

/// The constants that embed one guest and its manifest in the binary.
fn embedded_consts(what: &str, name: &str, wasm: &Path, manifest: &Path) -> String {
    format!(
        "/// The `{what}` component, embedded in the binary (for `tollgate audit`).\n\
         pub const {name}_WASM: &[u8] = include_bytes!({wasm:?});\n\
         /// The manifest of `{what}`, embedded in the binary.\n\
         pub const {name}_MANIFEST: &str = include_str!({manifest:?});\n",
        wasm = wasm.display().to_string(),
        manifest = manifest.display().to_string(),
    )
}

/// Makes a component of `world` (in the WIT package at `wit_dir`) from the
/// core module in the text file `wat`: the world's type information is
/// embedded as a custom section, then wit-component wraps the module and
/// validates the result.
fn wat_component(wat: &Path, wit_dir: &Path, world: &str) -> Vec<u8> {
    let mut module = wat::parse_file(wat).unwrap_or_else(|e| panic!("{}: {e}", wat.display()));
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_path(wit_dir).unwrap_or_else(|e| panic!("{}: {e:#}", wit_dir.display()));
    let world = resolve.select_world(&[package], Some(world)).unwrap_or_else(|e| panic!("world {world}: {e:#}"));
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)
        .unwrap_or_else(|e| panic!("{}: {e:#}", wat.display()));
    wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .unwrap_or_else(|e| panic!("{} does not make a component: {e:#}", wat.display()))
}

/// JavaScript guests, built with ComponentizeJS by each directory's
/// `build.mjs`: (directory under `guest-plugins/`, constant name).
const JS_GUESTS: &[(&str, &str)] = &[("claims-linter-js", "CLAIMS_LINTER_JS")];

/// Builds one JavaScript guest into `guest-plugins/target/<dir>/` and
/// returns the component's path. Offline: the engine and tools come from
/// the directory's `node_modules`, which `./bootstrap` installs with
/// `npm install`. `build.mjs` skips the build when its inputs are unchanged.
fn build_js_guest(guests: &Path, dir: &str) -> PathBuf {
    let src = guests.join(dir);
    if !src.join("node_modules").is_dir() {
        panic!(
            "the JavaScript guest in {} has no node_modules: run ./bootstrap, or `npm install` in that directory \
             (it installs ComponentizeJS; the build itself is offline)",
            src.display()
        );
    }
    let out = guests.join("target").join(dir).join(format!("{}.wasm", dir.replace('-', "_")));
    fs::create_dir_all(out.parent().expect("has a parent")).expect("create the JavaScript guests' output directory");
    let status = Command::new("node")
        .current_dir(&src)
        .arg("build.mjs")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run `node` to build {dir} ({e}); ./bootstrap installs Node.js"));
    if !status.success() {
        panic!("building the JavaScript guest {dir} failed (if node_modules is stale: ./bootstrap, or `npm install` in {})", src.display());
    }
    out
}

fn rerun_if_changed_under(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        // Build outputs and installed npm packages are not sources.
        if path.file_name().is_some_and(|n| n == "target" || n == "node_modules") {
            continue;
        }
        if path.is_dir() {
            rerun_if_changed_under(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
