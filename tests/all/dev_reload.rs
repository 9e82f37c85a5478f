//! Dev reload under a running app: a rebuilt package swaps in without a
//! restart while calls keep being answered; a package that fails to load
//! (a hash that does not match, a broken component, a refused import)
//! leaves the old plugin serving and says why.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::json;
use tollgate::app::dev_plugins::{DevPackage, ReloadOutcome};
use tollgate::guest_artifacts as artifacts;
use tollgate::scaffold::record_hash;

use crate::harness::{AppHarness, FailingKeychain};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWxvYWQifQ.c2ln";

/// Writes a package: `wasm` as `jwt-signer.wasm` and the signer's manifest
/// with `wasm`'s hash (or `hash_of`'s, to make a mismatch).
fn write_package(dir: &Path, wasm: &[u8], hash_of: Option<&[u8]>) {
    let manifest = dir.join("tollgate.toml");
    std::fs::copy(artifacts::JWT_SIGNER_MANIFEST_PATH, &manifest).expect("manifest");
    record_hash(hash_of.unwrap_or(wasm), &manifest).expect("hash");
    std::fs::write(dir.join("jwt-signer.wasm"), wasm).expect("component");
}

/// Looks until something other than `Unchanged` happens (a change is acted
/// on once it has been seen twice, so a half-written copy is never loaded).
fn settle(package: &mut DevPackage, app: &AppHarness) -> ReloadOutcome {
    for _ in 0..5 {
        match package.check(&app.services) {
            ReloadOutcome::Unchanged => continue,
            other => return other,
        }
    }
    ReloadOutcome::Unchanged
}

/// Stops the caller thread when dropped, also when an assertion fails (a
/// scoped thread that never stops would hang the test instead of failing it).
struct StopOnDrop<'a>(&'a AtomicBool);
impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn plugin_source(app: &AppHarness) -> String {
    let list = app.ok("plugins:list", json!({}));
    list["plugins"].as_array().expect("plugins").iter().find(|p| p["name"] == "jwt-signer").expect("the signer")["source"]
        .as_str()
        .expect("source")
        .to_owned()
}

#[test]
fn a_rebuilt_plugin_swaps_in_while_calls_go_on_and_a_bad_one_leaves_the_old_serving() {
    let data = tempfile::tempdir().expect("data");
    let app = AppHarness::at(data.path(), std::sync::Arc::new(FailingKeychain));
    let pkg = tempfile::tempdir().expect("package dir");
    let signer = std::fs::read(artifacts::JWT_SIGNER_WASM_PATH).expect("signer");
    let mut package = DevPackage::new(pkg.path());
    assert_eq!(plugin_source(&app), "built-in");

    // Calls keep coming from another thread the whole time.
    let stop = AtomicBool::new(false);
    let answered = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                app.ok("jwt:decode", json!({ "token": TOKEN }));
                answered.fetch_add(1, Ordering::Relaxed);
            }
        });
        let _stop = StopOnDrop(&stop);

        write_package(pkg.path(), &signer, None);
        match settle(&mut package, &app) {
            ReloadOutcome::Reloaded(r) => {
                assert_eq!((r.name.as_str(), r.world.as_str()), ("jwt-signer", "tollgate:jwt/jwt-signer@0.3.0"));
                assert_eq!(r.sha256, tollgate::runtime::component_sha256(&signer));
            }
            other => panic!("{other:?}"),
        }
        assert!(plugin_source(&app).starts_with("dev: "), "{}", plugin_source(&app));
        assert!(matches!(package.check(&app.services), ReloadOutcome::Unchanged), "an unchanged package is not reloaded");

        // A hash that does not match: refused, both hashes named.
        let mut other = signer.clone();
        other.extend_from_slice(b"\0");
        write_package(pkg.path(), &other, Some(&signer));
        match settle(&mut package, &app) {
            ReloadOutcome::Failed(f) => {
                assert_eq!(f.code, "PLUGIN_INTEGRITY_MISMATCH", "{}", f.message);
                assert!(f.message.contains(&tollgate::runtime::component_sha256(&other)), "{}", f.message);
            }
            other => panic!("{other:?}"),
        }

        // A broken component with a matching hash: refused at compile.
        write_package(pkg.path(), b"\0asm broken", None);
        assert!(matches!(settle(&mut package, &app), ReloadOutcome::Failed(f) if f.code.starts_with("PLUGIN_")));

        // A component importing what the host refuses: refused, named.
        let fs_reader = std::fs::read(artifacts::FILESYSTEM_READER_WASM_PATH).expect("filesystem reader");
        write_package(pkg.path(), &fs_reader, None);
        match settle(&mut package, &app) {
            ReloadOutcome::Failed(f) => assert!(f.code == "PLUGIN_IMPORT_REFUSED" && f.message.contains("wasi:filesystem"), "{f:?}"),
            other => panic!("{other:?}"),
        }

        // The dev plugin from before still serves.
        assert!(plugin_source(&app).starts_with("dev: "));
        app.ok("jwt:decode", json!({ "token": TOKEN }));

        // And a good rebuild is taken again.
        write_package(pkg.path(), &signer, None);
        assert!(matches!(settle(&mut package, &app), ReloadOutcome::Reloaded(_)));
    });
    assert!(answered.load(Ordering::Relaxed) > 0, "calls went on during the reloads");
}

/// The command line of `pid`, which must be a `tollgate-worker` child of
/// this process (other tests start workers too, so the installed signer
/// names its own).
fn worker_child(pid: u32) -> Vec<String> {
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    let stat = std::fs::read_to_string(proc_dir.join("stat")).expect("the worker is running");
    // `pid (comm) state ppid …`: comm may hold spaces, so split after ')'.
    let (head, rest) = stat.rsplit_once(')').expect("stat");
    assert!(head.ends_with("(tollgate-worker"), "pid {pid} is not a tollgate-worker: {stat}");
    assert_eq!(rest.split_whitespace().nth(1), Some(std::process::id().to_string().as_str()), "pid {pid} is not this process's child");
    let cmdline = std::fs::read(proc_dir.join("cmdline")).expect("cmdline");
    cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

fn arg_after<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// A signer installed from a package runs in a worker process of its own,
/// from a private copy of the bytes the host checked, pinned to their hash:
/// what happens to the package folder afterwards (a rebuild, a swap by
/// another program) never reaches it, on its first start or a restart.
#[test]
fn an_installed_signer_runs_in_a_worker_from_a_private_pinned_copy() {
    let app = AppHarness::new();
    let pkg = tempfile::tempdir().expect("package dir");
    write_package(pkg.path(), artifacts::JWT_SIGNER_WASM, None);
    let mut package = DevPackage::new(pkg.path());
    assert!(matches!(settle(&mut package, &app), ReloadOutcome::Reloaded(_)), "the package installs");

    let list = app.ok("plugins:list", json!({}));
    let signer = list["plugins"].as_array().expect("plugins").iter().find(|p| p["name"] == "jwt-signer").expect("the signer").clone();
    assert_eq!(signer["isolation"], "worker", "{signer}");
    let linter = list["plugins"].as_array().expect("plugins").iter().find(|p| p["name"] == "claims-linter").expect("the linter").clone();
    assert_eq!(linter["isolation"], "in-process", "the built-in linter: {linter}");

    let pid = app.services.signer().worker_pid().expect("the installed signer's worker is up");
    assert_ne!(pid, std::process::id());
    let args = worker_child(pid);
    let plugin = arg_after(&args, "--plugin").expect("the worker is told a plugin file");
    assert!(!plugin.starts_with(&*pkg.path().to_string_lossy()), "the worker loads the package folder's file: {plugin}");
    assert_eq!(std::fs::read(plugin).expect("the private copy"), artifacts::JWT_SIGNER_WASM, "the copy is the checked bytes");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(plugin).expect("copy").permissions()) & 0o777;
    assert_eq!(mode, 0o600, "the private copy's mode");
    assert_eq!(arg_after(&args, "--sha256"), Some(signer["sha256"].as_str().expect("sha256")), "the worker is pinned to the hash");

    let secret = "an-installed-signer-secret-0123456789";
    let encrypted_key = app.encrypt("HS256", secret);
    let profile = app.ok(
        "profiles:save",
        json!({"name": "worker", "algorithm": "HS256", "encryptedKey": encrypted_key, "payload": {"sub": "w"}, "expirationPreset": "1h"}),
    );
    let first = app.ok("jwt:generate", json!({"profileId": profile["id"]}));
    let verify = |raw: &serde_json::Value| {
        let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
        jsonwebtoken::decode::<serde_json::Value>(raw.as_str().expect("raw"), &key, &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256))
            .expect("the worker's token verifies");
    };
    verify(&first["raw"]);

    // Another component in the package folder, then a worker restart.
    std::fs::write(pkg.path().join("jwt-signer.wasm"), artifacts::MISBEHAVING_SIGNER_WASM).expect("swap");
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid as i32).expect("pid"), rustix::process::Signal::KILL).expect("kill");
    let mut answer = app.call("jwt:generate", &json!({"profileId": profile["id"]}));
    if answer.result.is_err() {
        // The call that met the dead worker fails; the next starts a new one.
        answer = app.call("jwt:generate", &json!({"profileId": profile["id"]}));
    }
    let second = match answer.result {
        Ok(tollgate::bridge::registry::Reply::Json(v)) => v,
        other => panic!("the restarted worker does not sign: {other:?}"),
    };
    verify(&second["raw"]);
    let restarted = app.services.signer().worker_pid().expect("a restarted worker is up");
    assert_ne!(restarted, pid, "the killed worker still answers");
    assert_eq!(arg_after(&worker_child(restarted), "--plugin"), Some(plugin), "the restart loads the same private copy");
}
