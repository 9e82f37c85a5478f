//! `tollgate audit`'s guest corpus (issue 7): every hostile guest case
//! passes against this build, the corpus covers every kind of hostile
//! guest the design names, nothing planted leaks, and the checks are not
//! vacuous (the same checks aimed at honest inputs fail).

use tollgate::audit::{AuditEnv, CaseResult, LogCapture, guests, run_cases, secrets};

/// Runs `cases` with the log going, as the audit's does, into the env's capture.
fn run(env: &AuditEnv, cases: Vec<tollgate::audit::Case>) -> Vec<CaseResult> {
    tracing::subscriber::with_default(env.log().json_subscriber(), || {
        run_cases(env, cases, &mut |r| eprintln!("{} {} ({} ms): {}", if r.passed { "pass" } else { "FAIL" }, r.id, r.millis, r.happened))
    })
}

/// The kinds of hostile guest the corpus must hold, by case id.
const REQUIRED: &[&str] = &[
    "guest/infinite-loop",
    "guest/deep-recursion-native-stack",
    "guest/deep-recursion-shadow-stack",
    "guest/memory-grow",
    "guest/table-grow",
    "guest/huge-return-value",
    "guest/return-invalid-utf8",
    "guest/return-string-out-of-bounds",
    "guest/return-list-out-of-bounds",
    "guest/import-filesystem",
    "guest/import-sockets",
    "guest/import-environment",
    "guest/import-ambient-clock",
    "guest/import-undeclared-host-function",
    "guest/flood-logging",
    "guest/flood-clock",
    "guest/reenter-host-from-realloc",
    "guest/reenter-host-from-post-return",
    "guest/smuggle-key-in-claims",
    "guest/smuggle-key-in-header",
    "guest/smuggle-key-in-custom-header-field",
    "guest/smuggle-key-in-padding",
    "guest/smuggle-key-in-signature-length",
    "guest/smuggle-key-in-trailing-bits",
    "guest/smuggle-key-in-whitespace",
    "guest/token-for-other-claims",
    "guest/token-for-other-algorithm",
    "guest/error-carries-key",
    "guest/log-line-carries-key",
    "guest/linter-unknown-code",
    "guest/linter-trap",
    "guest/linter-spin",
    "guest/others-not-slowed",
];

/// The error codes a text names (words in upper snake case).
fn codes(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|w| w.len() > 4 && w.contains('_') && !w.starts_with('_'))
        .collect()
}

#[test]
fn every_hostile_guest_case_passes_covers_every_kind_and_leaks_nothing() {
    let env = AuditEnv::new(LogCapture::default()).expect("the audit's environment");
    let mut results = run(&env, guests::cases());
    results.extend(run(&env, vec![secrets::scan_case()]));

    let failed: Vec<String> = results.iter().filter(|r| !r.passed).map(|r| format!("{}: must {}; happened: {}", r.id, r.must, r.happened)).collect();
    assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));

    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    let missing: Vec<&&str> = REQUIRED.iter().filter(|id| !ids.contains(id)).collect();
    assert!(missing.is_empty(), "the corpus lacks {missing:?}");
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "case ids repeat");

    for r in results.iter().filter(|r| r.id.starts_with("guest/")) {
        assert!(!r.must.is_empty() && !r.happened.is_empty(), "{}: an empty must or happened", r.id);
        // A pass names a code its rule names: it saw that error, not any
        // error. (One rule names two: guest/flood-clock's MALFORMED_TOKEN,
        // or the deadline's error on a machine too busy for the flood.)
        let named = codes(&r.must);
        if !named.is_empty() {
            assert!(named.iter().any(|code| r.happened.contains(code)), "{}: must names {named:?}, happened names none: {}", r.id, r.happened);
        }
        // Every per-call case says what the next call on the same plugin did.
        if r.must.contains("the next call") {
            assert!(r.happened.contains("the next honest"), "{}: no word of the next call: {}", r.id, r.happened);
            // A case that promises quarantine shows it, and one that does
            // not shows the plugin kept signing.
            let quarantined = r.happened.contains("refused PLUGIN_QUARANTINED");
            assert_eq!(r.must.contains("the plugin is quarantined"), quarantined, "{}: quarantine promised and seen differ: {}", r.id, r.happened);
        }
    }
    let load = results.iter().find(|r| r.id == "guest/others-not-slowed").expect("the load case");
    assert!(load.happened.contains("baseline median") && load.happened.contains("while the guest spun"), "{}", load.happened);
}

#[test]
fn the_guest_checks_fail_when_aimed_at_honest_inputs() {
    let env = AuditEnv::new(LogCapture::default()).expect("the audit's environment");
    let controls = guests::controls();
    assert!(controls.len() >= 4, "too few controls");
    for r in run(&env, controls) {
        assert!(!r.passed, "{} passed on honest input: {}", r.id, r.happened);
        assert!(!r.happened.starts_with("the case could not run"), "{} did not run: {}", r.id, r.happened);
    }
}
