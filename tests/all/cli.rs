//! The `tollgate` binary: results on stdout, errors on stderr as
//! `error: CODE: message` with a non-zero exit.

use std::process::{Command, Output};

use serde_json::Value;
use tollgate::guest_artifacts as artifacts;

fn tollgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["--no-cache"])
        .args(args)
        .output()
        .expect("run tollgate")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn jwt_sign_then_decode_round_trips() {
    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("secret");
    std::fs::write(&key, "a-secret-for-the-cli-test-of-32-bytes-or-more\n").expect("write");
    let key = key.to_str().expect("utf8");
    let out = tollgate(&["jwt", "sign", "--alg", "HS384", "--key-file", key, "--claims", r#"{"sub":"cli"}"#, "--kid", "k9", "--header-fields", r#"{"x-env":"ci"}"#]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).expect("utf8");
    let out = tollgate(&["jwt", "decode", token.trim()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let decoded: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(decoded["header"]["alg"], "HS384");
    assert_eq!(decoded["header"]["kid"], "k9");
    assert_eq!(decoded["header"]["x-env"], "ci");
    assert_eq!(decoded["payload"]["sub"], "cli");
    // A registered name is refused with its code, and nothing is printed.
    let out = tollgate(&["jwt", "sign", "--alg", "HS384", "--key-file", key, "--claims", "{}", "--header-fields", r#"{"jku":"https://x.example"}"#]);
    assert!(!out.status.success() && out.stdout.is_empty(), "{}", stderr(&out));
    assert!(stderr(&out).contains("error: INVALID_HEADER: ") && stderr(&out).contains("`jku`"), "{}", stderr(&out));
}

#[test]
fn errors_go_to_stderr_with_their_code_and_a_failing_status() {
    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("short");
    std::fs::write(&key, "short").expect("write");
    let key = key.to_str().expect("utf8");
    let cases: [(&[&str], &str); 4] = [
        (&["jwt", "sign", "--alg", "none", "--key-file", key, "--claims", "{}"], "ALGORITHM_NONE"),
        (&["jwt", "sign", "--alg", "HS256", "--key-file", key, "--claims", "{}"], "INVALID_KEY"),
        (&["jwt", "sign", "--alg", "XS1", "--key-file", key, "--claims", "{}"], "UNKNOWN_ALGORITHM"),
        (&["jwt", "decode", "not-a-token"], "MALFORMED_TOKEN"),
    ];
    for (args, code) in cases {
        let out = tollgate(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(stderr(&out).contains(&format!("error: {code}: ")), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn the_window_refuses_a_data_directory_it_cannot_use_before_webkit_aborts() {
    // A path under a file: no folder can be made there. WebKit's sandbox
    // used to abort the whole process on it (a GLib ERROR, no code).
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let data_dir = file.join("data");
    let out = tollgate(&["--data-dir", data_dir.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("error: DATA_DIR_UNUSABLE: the data directory"), "{}", stderr(&out));
}

#[test]
fn plugin_inspect_names_every_refused_import() {
    let out = tollgate(&["plugin", "inspect", "--json", artifacts::FILESYSTEM_READER_WASM_PATH]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["loadable"], false);
    let imports = report["imports"].as_array().expect("imports");
    let refused: Vec<&str> = imports.iter().filter(|i| i["linked"] == false).filter_map(|i| i["name"].as_str()).collect();
    assert!(refused.iter().any(|n| n.starts_with("wasi:filesystem/preopens@")), "{refused:?}");
    assert!(imports.iter().any(|i| i["linked"] == true && i["decision"] == "capability-less"));

    let out = tollgate(&["plugin", "inspect", "--json", artifacts::JWT_SIGNER_WASM_PATH]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["loadable"], true, "{report}");

    let out = tollgate(&["plugin", "inspect", artifacts::JWT_SIGNER_MANIFEST_PATH]);
    assert!(stderr(&out).contains("error: PLUGIN_NOT_WASM: "), "{}", stderr(&out));
}

#[test]
fn plugin_call_runs_one_guest_call_and_prints_json() {
    let args = r#"{"alg":"HS256","key":"0123456789abcdef0123456789abcdef","claims":{"sub":"c"},"header":{"kid":"x"}}"#;
    let out = tollgate(&["plugin", "call", "jwt-signer", "sign", "--args", args]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    let token = result["token"].as_str().expect("token");
    assert_eq!(token.split('.').count(), 3);

    let out = tollgate(&["plugin", "call", "jwt-signer", "steal", "--args", "{}"]);
    assert!(stderr(&out).contains("error: UNKNOWN_FUNCTION: "), "{}", stderr(&out));
}
