//! The claims linter: one table of claims and the findings they must give,
//! run through both first-party linters (Rust and JavaScript) in the real
//! runtime, which must answer identically; a hostile linter whose every
//! wrong answer the host refuses; and `lint:claims` through the bridge.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value, json};
use tollgate::bridge::ErrorCode;
use tollgate::bridge::core::{Answer, Sender};
use tollgate::bridge::envelope::build;
use tollgate::bridge::WindowLabel;
use tollgate::guest_artifacts as artifacts;
use tollgate::lint::{ClaimsLinter, Finding, LintPolicy, MAX_CLAIMS_BYTES, MAX_FINDINGS};
use tollgate::runtime::worlds::ClaimsLinterWorld;
use tollgate::runtime::policy::{ImportDecision, decide_import};
use tollgate::runtime::{Plugin, PluginEngine, PluginSource};

use crate::common::engine;
use crate::harness::{AppHarness, FailingKeychain};

/// "Now" for every row: 2023-11-14T22:13:20Z.
const NOW: i64 = 1_700_000_000;
/// The policy's maximum lifetime for every row: one hour.
const MAX_LIFETIME: u64 = 3600;

fn policy() -> LintPolicy {
    LintPolicy { max_lifetime_seconds: MAX_LIFETIME, now_seconds: NOW }
}

fn load_linter(engine: &PluginEngine, wasm: &str, manifest: &str) -> Plugin<ClaimsLinterWorld> {
    let source = PluginSource::from_files(Path::new(wasm), Some(Path::new(manifest))).expect("linter files read");
    engine.load(&source).unwrap_or_else(|e| panic!("{wasm} loads: {e}"))
}

/// The Rust linter, as the app embeds it.
fn rust_linter() -> &'static ClaimsLinter {
    static LINTER: OnceLock<ClaimsLinter> = OnceLock::new();
    LINTER.get_or_init(|| ClaimsLinter::builtin(engine()).expect("built-in linter loads"))
}

/// The JavaScript linter, from its build output and manifest.
fn js_linter() -> &'static ClaimsLinter {
    static LINTER: OnceLock<ClaimsLinter> = OnceLock::new();
    LINTER.get_or_init(|| {
        ClaimsLinter::from_plugin(load_linter(engine(), artifacts::CLAIMS_LINTER_JS_WASM_PATH, artifacts::CLAIMS_LINTER_JS_MANIFEST_PATH))
    })
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A table row: what it shows, the claims, and the findings as
/// (code, severity, path), in the contract's order.
type Row = (&'static str, Value, Vec<(&'static str, &'static str, String)>);

fn f(code: &'static str, severity: &'static str, path: &str) -> (&'static str, &'static str, String) {
    (code, severity, path.to_owned())
}

/// Every rule, its edges, the order and the cap.
fn table() -> Vec<Row> {
    let good = |extra: Value| {
        let mut claims = object(json!({ "iss": "https://issuer.example", "aud": "api" }));
        claims.extend(object(extra));
        Value::Object(claims)
    };
    let many: Map<String, Value> = (0..150).map(|i| (format!("k{i:03}"), json!(format!("user{i}@example.com")))).collect();
    let mut truncated = vec![];
    for i in 0..MAX_FINDINGS {
        truncated.push(("PERSONAL_DATA", "warning", format!("k{i:03}")));
    }
    vec![
        ("clean claims", good(json!({ "sub": "user-42", "iat": NOW, "exp": NOW + 600, "jti": "a1" })), vec![]),
        ("a lifetime of exactly the maximum", good(json!({ "iat": NOW, "exp": NOW + 3600 })), vec![]),
        ("exp too far after iat", good(json!({ "iat": NOW, "exp": NOW + 7200 })), vec![f("EXPIRY_TOO_LONG", "warning", "exp")]),
        ("exp too far after now, without iat", good(json!({ "exp": NOW + 86_400 })), vec![f("EXPIRY_TOO_LONG", "warning", "exp")]),
        (
            "a non-numeric iat: the lifetime runs from now",
            good(json!({ "iat": "now", "exp": NOW + 7200 })),
            vec![f("NOT_A_NUMBER", "error", "iat"), f("EXPIRY_TOO_LONG", "warning", "exp")],
        ),
        ("no audience", json!({ "iss": "me" }), vec![f("MISSING_AUD", "warning", "")]),
        ("no issuer", json!({ "aud": ["api", "web"] }), vec![f("MISSING_ISS", "info", "")]),
        ("empty claims", json!({}), vec![f("MISSING_AUD", "warning", ""), f("MISSING_ISS", "info", "")]),
        (
            "an empty audience list and issuer",
            json!({ "aud": [], "iss": "" }),
            vec![f("MISSING_AUD", "warning", "aud"), f("MISSING_ISS", "info", "iss")],
        ),
        (
            "personal data by name",
            good(json!({ "email": "x", "first_name": "Ada", "Phone-Number": 1, "ssn": "1", "address": { "city": "X" }, "role": "admin" })),
            vec![
                f("PERSONAL_DATA", "warning", "Phone-Number"),
                f("PERSONAL_DATA", "warning", "address"),
                f("PERSONAL_DATA", "warning", "email"),
                f("PERSONAL_DATA", "warning", "first_name"),
                f("PERSONAL_DATA", "warning", "ssn"),
            ],
        ),
        (
            "personal data by value, at any depth",
            good(json!({
                "contact": "ada@example.com",
                "sub": "ada@example.org",
                "meta": { "owner": { "given_name": "Ada" } },
                "tags": ["x", ["bob@mail.example.net"]],
                "note": "not an email @ all",
                "handle": "@ada",
                "host": "example.com",
            })),
            vec![
                f("PERSONAL_DATA", "warning", "contact"),
                f("PERSONAL_DATA", "warning", "meta"),
                f("PERSONAL_DATA", "warning", "sub"),
                f("PERSONAL_DATA", "warning", "tags"),
            ],
        ),
        ("nbf after exp", good(json!({ "iat": NOW, "nbf": NOW + 600, "exp": NOW + 300 })), vec![f("NBF_AFTER_EXP", "error", "nbf")]),
        ("nbf equal to exp: never valid", good(json!({ "nbf": NOW + 300, "exp": NOW + 300 })), vec![f("NBF_AFTER_EXP", "error", "nbf")]),
        ("exp in the past", good(json!({ "iat": NOW - 7200, "exp": NOW - 3600 })), vec![f("EXP_IN_PAST", "error", "exp")]),
        ("exp exactly now", good(json!({ "exp": NOW })), vec![f("EXP_IN_PAST", "error", "exp")]),
        (
            "time claims that are not numbers",
            good(json!({ "exp": "1700003600", "nbf": null, "iat": true })),
            vec![f("NOT_A_NUMBER", "error", "exp"), f("NOT_A_NUMBER", "error", "iat"), f("NOT_A_NUMBER", "error", "nbf")],
        ),
        (
            "registered claims of the wrong type",
            json!({ "iss": 42, "aud": ["a", 1], "sub": { "id": 1 }, "jti": [] }),
            vec![f("WRONG_TYPE", "error", "aud"), f("WRONG_TYPE", "error", "iss"), f("WRONG_TYPE", "error", "jti"), f("WRONG_TYPE", "error", "sub")],
        ),
        ("iat within a minute's skew", good(json!({ "iat": NOW + 30, "exp": NOW + 600 })), vec![]),
        ("iat in the future", good(json!({ "iat": NOW + 3600, "exp": NOW + 4000 })), vec![f("IAT_IN_FUTURE", "warning", "iat")]),
        ("fractional times", good(json!({ "iat": NOW as f64 + 0.5, "exp": NOW as f64 + 3600.75 })), vec![f("EXPIRY_TOO_LONG", "warning", "exp")]),
        (
            "every severity, ordered",
            json!({ "exp": NOW - 10, "iat": "yesterday", "email": "a@b.co" }),
            vec![
                f("EXP_IN_PAST", "error", "exp"),
                f("NOT_A_NUMBER", "error", "iat"),
                f("MISSING_AUD", "warning", ""),
                f("PERSONAL_DATA", "warning", "email"),
                f("MISSING_ISS", "info", ""),
            ],
        ),
        (
            "paths ordered by code point, not UTF-16 unit",
            good(json!({ "\u{1F600}": "b@c.de", "\u{FF21}": "c@d.ef", "\u{e9}mail": "a@b.co", "Zed": "z@z.io" })),
            vec![
                f("PERSONAL_DATA", "warning", "Zed"),
                f("PERSONAL_DATA", "warning", "\u{e9}mail"),
                f("PERSONAL_DATA", "warning", "\u{FF21}"),
                f("PERSONAL_DATA", "warning", "\u{1F600}"),
            ],
        ),
        (
            "names the host would refuse as paths are not reported",
            good(json!({ format!("{}email", "x".repeat(300)): "a@b.co", "e\u{7}mail": "ada@example.com", "": "c@d.ef" })),
            vec![],
        ),
        ("at most 100 findings, the first in order", good(Value::Object(many)), truncated),
    ]
}

fn shape(findings: &[Finding]) -> Vec<(String, String, String)> {
    findings
        .iter()
        .map(|f| {
            let v = serde_json::to_value(f).expect("serializes");
            (v["code"].as_str().unwrap_or_default().to_owned(), v["severity"].as_str().unwrap_or_default().to_owned(), f.path.clone())
        })
        .collect()
}

#[test]
fn rust_and_javascript_linters_give_the_table_s_findings_identically() {
    let rows = table();
    assert!(rows.len() >= 12);
    for (what, claims, expected) in rows {
        let claims = object(claims);
        let rust = rust_linter().lint(&claims, policy()).unwrap_or_else(|e| panic!("{what}: rust linter: {e}"));
        let js = js_linter().lint(&claims, policy()).unwrap_or_else(|e| panic!("{what}: js linter: {e}"));
        let expected: Vec<_> = expected.into_iter().map(|(c, s, p)| (c.to_owned(), s.to_owned(), p)).collect();
        assert_eq!(shape(&rust), expected, "{what}: the Rust linter");
        assert_eq!(rust, js, "{what}: the JavaScript linter differs (messages included)");
    }
}

#[test]
fn every_finding_code_is_produced_by_some_row() {
    let produced: std::collections::BTreeSet<&str> =
        table().iter().flat_map(|(_, _, findings)| findings.iter().map(|(code, _, _)| *code)).collect();
    for code in tollgate::lint::FindingCode::ALL {
        assert!(produced.contains(code.as_str()), "no row covers {}", code.as_str());
    }
}

#[test]
fn the_javascript_linter_imports_nothing_and_loads_under_the_same_limits() {
    let bytes = std::fs::read(artifacts::CLAIMS_LINTER_JS_WASM_PATH).expect("built");
    let world = tollgate::runtime::policy::WorldSpec::find("tollgate:lint/claims-linter@0.1.0").expect("served");
    let inspection = engine().inspect(&bytes, "claims-linter-js", world).expect("inspects");
    assert!(inspection.imports.is_empty(), "{:?}", inspection.imports);
    // The world grants no host interface: not even the signer's clock.
    for import in ["tollgate:host/clock@0.1.0", "tollgate:host/logging@0.1.0"] {
        assert!(matches!(decide_import(world, import), ImportDecision::Refused(_)), "{import}");
    }
    let js = js_linter().plugin().manifest();
    let rust = rust_linter().plugin().manifest();
    assert_eq!((js.limits, js.quota("lint", engine().policy())), (rust.limits, rust.quota("lint", engine().policy())));
}

#[test]
fn claims_just_under_the_cap_lint_the_same_in_both_within_their_limits() {
    let mut claims = Map::new();
    let mut i = 0;
    while serde_json::to_string(&claims).map_or(0, |t| t.len()) < MAX_CLAIMS_BYTES - 64 {
        claims.insert(format!("k{i:05}"), json!([{ "contact": format!("u{i}@example.com") }]));
        i += 1;
    }
    let rust = rust_linter().lint(&claims, policy()).expect("the Rust linter copes");
    let js = js_linter().lint(&claims, policy()).expect("the JavaScript linter copes");
    assert_eq!(rust.len(), MAX_FINDINGS);
    assert_eq!(rust, js);
}

#[test]
fn oversized_claims_are_refused_before_the_guest() {
    let big = object(json!({ "blob": "x".repeat(MAX_CLAIMS_BYTES) }));
    for linter in [rust_linter(), js_linter()] {
        let err = linter.lint(&big, policy()).expect_err("too large");
        assert_eq!(err.code(), "CLAIMS_TOO_LARGE");
    }
}

/// The hostile linter, loaded fresh (its quota is its own).
fn hostile() -> ClaimsLinter {
    ClaimsLinter::from_plugin(load_linter(engine(), artifacts::HOSTILE_LINTER_WASM_PATH, artifacts::HOSTILE_LINTER_MANIFEST_PATH))
}

#[test]
fn a_hostile_linter_s_wrong_answers_are_refused_and_the_next_call_works() {
    let linter = hostile();
    let cases = [
        ("unknown-code", "PLUGIN_OUTPUT_REJECTED"),
        ("phantom-path", "PLUGIN_OUTPUT_REJECTED"),
        ("control-message", "PLUGIN_OUTPUT_REJECTED"),
        ("long-message", "PLUGIN_OUTPUT_REJECTED"),
        ("flood", "PLUGIN_OUTPUT_REJECTED"),
        ("disorder", "PLUGIN_OUTPUT_REJECTED"),
        ("duplicate", "PLUGIN_OUTPUT_REJECTED"),
        ("refuse", "PLUGIN_OUTPUT_REJECTED"),
        ("trap", "PLUGIN_TRAPPED"),
        ("spin", "PLUGIN_DEADLINE_EXCEEDED"),
    ];
    for (mode, code) in cases {
        let err = linter.lint(&object(json!({ "mode": mode })), policy()).expect_err(mode);
        assert_eq!(err.code(), code, "{mode}: {err}");
        let text = err.to_string();
        assert!(!text.contains("<img") && !text.contains('\u{1b}'), "{mode}: the guest's text is never quoted: {text}");
        let next = linter.lint(&object(json!({ "mode": "fine" })), policy()).expect("the next call works");
        assert_eq!(next.len(), 1, "{mode}");
    }
}

/// The app without a window (lint:claims needs no keychain), and its data
/// directory, which must outlive it.
fn app() -> (AppHarness, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("data dir");
    (AppHarness::at(dir.path(), Arc::new(FailingKeychain)), dir)
}

#[test]
fn lint_claims_answers_the_findings_through_the_bridge() {
    let (app, _dir) = app();
    let clean = app.ok("lint:claims", json!({ "claims": { "iss": "me", "aud": "api", "sub": "u1" } }));
    assert_eq!(clean, json!({ "findings": [] }));

    let data = app.ok("lint:claims", json!({ "claims": { "email": "ada@example.com", "exp": "soon" }, "maxLifetimeSeconds": 60 }));
    let findings = data["findings"].as_array().expect("findings");
    let codes: Vec<&str> = findings.iter().map(|f| f["code"].as_str().unwrap_or_default()).collect();
    assert_eq!(codes, ["NOT_A_NUMBER", "MISSING_AUD", "PERSONAL_DATA", "MISSING_ISS"]);
    assert_eq!(findings[0], json!({
        "code": "NOT_A_NUMBER",
        "severity": "error",
        "path": "exp",
        "message": "`exp` must be a number of seconds since the Unix epoch",
    }));

    // The host's clock is "now": a lifetime over the asked maximum is found.
    let now = tollgate::runtime::unix_seconds(&tollgate::runtime::SystemClock);
    let data = app.ok("lint:claims", json!({ "claims": { "iss": "me", "aud": "a", "exp": now + 600 }, "maxLifetimeSeconds": 60 }));
    assert_eq!(data["findings"][0]["code"], "EXPIRY_TOO_LONG");
    let data = app.ok("lint:claims", json!({ "claims": { "iss": "me", "aud": "a", "exp": now + 600 } }));
    assert_eq!(data["findings"], json!([]), "the default maximum is a day");
}

#[test]
fn lint_claims_refuses_oversized_claims_and_bad_requests() {
    let (app, _dir) = app();
    // Over the channel's cap: refused before parsing.
    let huge = json!({ "claims": { "blob": "x".repeat(80 * 1024) } });
    assert_eq!(app.err("lint:claims", huge).code, ErrorCode::PayloadTooLarge);
    // Under the channel's cap, over the linter's: refused before the guest.
    let big = json!({ "claims": { "blob": "x".repeat(MAX_CLAIMS_BYTES) } });
    let err = app.err("lint:claims", big);
    assert_eq!(err.code, ErrorCode::PayloadTooLarge);
    assert_eq!(err.details.as_ref().and_then(|d| d.get("field")), Some(&json!("claims")));

    for bad in [
        json!({ "claims": [] }),
        json!({ "claims": {}, "extra": 1 }),
        json!({ "claims": {}, "maxLifetimeSeconds": 0 }),
        json!({ "claims": {}, "maxLifetimeSeconds": -5 }),
        json!({ "claims": { "__proto__": { "polluted": true } } }),
    ] {
        assert_eq!(app.err("lint:claims", bad.clone()).code, ErrorCode::ValidationError, "{bad}");
    }
}

#[test]
fn lint_claims_is_rate_limited_and_listed_among_the_plugins() {
    let (app, _dir) = app();
    let plugins = app.ok("plugins:list", json!({}));
    let linter = plugins["plugins"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "claims-linter"))
        .unwrap_or_else(|| panic!("listed: {plugins}"));
    assert_eq!(linter["world"], "tollgate:lint/claims-linter@0.1.0");

    // A fresh secret for direct calls: the harness's own call waits a
    // refusal out, and this test wants to see it.
    let secret = app.bridge.issue_secret(WindowLabel::Main).expect("secret").to_string();
    let call = |i: usize| -> Answer {
        let message = build(&secret, &format!("rl-{i}"), "lint:claims", r#"{"claims":{"iss":"me","aud":"a"}}"#);
        app.bridge.handle_message(Sender { window: WindowLabel::Main, page_url: "tollgate://localhost/index.html" }, &message).finish()
    };
    let answers: Vec<Answer> = (0..40).map(call).collect();
    let limited = answers.iter().filter(|a| a.code() == Some(ErrorCode::RateLimited)).count();
    let ok = answers.iter().filter(|a| a.result.is_ok()).count();
    assert!(limited >= 10, "only {limited} of 40 limited");
    assert_eq!(ok + limited, 40, "nothing else");
}

/// The codes of the findings the editor shows, in order.
fn shown_codes(app: &crate::window::App) -> Value {
    app.run("return Array.from(document.querySelectorAll('#profile-lint li[data-code]'), (li) => li.dataset.code);", &[])
}

#[test]
fn the_profiles_editor_shows_findings_under_the_claims_as_the_user_types() {
    use crate::window_profiles::{screenshot, start_new_profile, wait_until};
    crate::harness::ensure_secret_service();
    let app = crate::window::App::launch();
    start_new_profile(&app);
    assert_eq!(app.run("return document.querySelector('#profile-lint-box').hidden;", &[]), json!(true), "nothing typed, nothing shown");

    let claims = app.find("#profile-claims");
    app.session.send_keys(&claims, r#"{"sub": "ada@example.com", "exp": "tomorrow"}"#).expect("type the claims");
    wait_until(&app, "findings under the claims", "return document.querySelectorAll('#profile-lint li[data-code]').length === 4;");
    assert_eq!(shown_codes(&app), json!(["NOT_A_NUMBER", "MISSING_AUD", "PERSONAL_DATA", "MISSING_ISS"]));
    let first = app.run(
        "const li = document.querySelector('#profile-lint li[data-code]'); \
         return [li.dataset.severity, li.querySelector('.chip').dataset.tone, li.querySelector('.lint-path').textContent];",
        &[],
    );
    assert_eq!(first, json!(["error", "danger", "exp"]));
    app.run(
        "document.querySelector('#profile-lint-box').scrollIntoView({ block: 'center', behavior: 'instant' }); \
         await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))); return window.scrollY;",
        &[],
    );
    screenshot(&app, "profiles-claims-findings.png");

    // Invalid JSON: the JSON error speaks, the findings go.
    app.session.send_keys(&claims, ",").expect("type a stray comma");
    wait_until(&app, "findings hidden for invalid JSON", "return document.querySelector('#profile-lint-box').hidden;");

    // Clean claims: the empty state.
    app.run(
        "const e = document.querySelector('#profile-claims'); e.value = args[0]; e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
        &[json!(r#"{"iss": "https://issuer.example", "aud": "api", "sub": "user-42"}"#)],
    );
    wait_until(
        &app,
        "the empty state",
        "const box = document.querySelector('#profile-lint-box'); \
         return !box.hidden && document.querySelector('#profile-lint-status').textContent === 'No findings';",
    );
    assert_eq!(shown_codes(&app), json!([]));
    // A finding advises; it never blocks the save button.
    assert_eq!(app.run("return document.querySelector('#profile-save').disabled;", &[]), json!(false));
}
