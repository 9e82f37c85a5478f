//! The docs tell the truth about the code they describe.

use tollgate::runtime::policy::{ImportDecision, WASI_TABLE};

fn doc(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn docs_list_every_wasi_decision() {
    let page = doc("wasi-policy.md");
    let rows: Vec<&str> = page.lines().filter(|l| l.starts_with("| `wasi:")).collect();
    assert_eq!(rows.len(), WASI_TABLE.len(), "docs/wasi-policy.md has {} rows, the code {}", rows.len(), WASI_TABLE.len());
    for (interface, decision) in WASI_TABLE {
        let (word, detail) = match decision {
            ImportDecision::CapabilityLess(d) => ("linked", *d),
            ImportDecision::Refused(d) => ("refused", *d),
            ImportDecision::HostInterface => unreachable!("WASI is never a host interface"),
        };
        let expected = format!("| `{interface}` | {word} | {detail} |");
        assert!(rows.contains(&expected.as_str()), "docs/wasi-policy.md lacks the row:\n{expected}");
    }
}
