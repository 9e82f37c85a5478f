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
                assert_eq!((r.name.as_str(), r.world.as_str()), ("jwt-signer", "tollgate:jwt/jwt-signer@0.2.0"));
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
