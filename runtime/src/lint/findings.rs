//! What a linter may say: the closed set of finding codes, and the check
//! every guest answer passes before anyone sees it.
//!
//! Trusts: the claims the host itself sent. Does not trust: anything in
//! the guest's list. A finding is shown in the page under the claims the
//! user is typing, so the check bounds what a hostile linter can put there:
//! a bounded number of findings with known codes, short single-line text,
//! and paths that point at claims the user wrote.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};
use ts_rs::TS;

/// The most findings one answer may hold. The first-party linters stop at
/// this many; more is a guest flooding the page.
pub const MAX_FINDINGS: usize = 100;
/// The longest path, in bytes. The linters do not report on claims with
/// longer names; bounds what one finding puts in the page.
pub const MAX_PATH_BYTES: usize = 256;
/// The longest message, in bytes. Bounds what one finding puts in the page.
pub const MAX_MESSAGE_BYTES: usize = 512;

/// A finding's code. Closed: a linter answering any other is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingCode {
    /// `exp`, `nbf` or `iat` is present but not a JSON number.
    NotANumber,
    /// `iss`, `sub` or `jti` is not a string, or `aud` neither a string nor
    /// an array of strings.
    WrongType,
    /// `exp` is not after "now": the token is born expired.
    ExpInPast,
    /// `exp` minus `iat` (or minus now, without a numeric `iat`) is over
    /// the policy's maximum lifetime.
    ExpiryTooLong,
    /// `nbf` is not before `exp`: the token is never valid.
    NbfAfterExp,
    /// `iat` is more than a minute in the future.
    IatInFuture,
    /// No `iss` (or an empty one).
    MissingIss,
    /// No `aud` (or an empty string or list).
    MissingAud,
    /// A claim whose name suggests personal data, or whose value holds an
    /// email address (at any depth).
    PersonalData,
}

impl FindingCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [FindingCode] = &[
        Self::NotANumber,
        Self::WrongType,
        Self::ExpInPast,
        Self::ExpiryTooLong,
        Self::NbfAfterExp,
        Self::IatInFuture,
        Self::MissingIss,
        Self::MissingAud,
        Self::PersonalData,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotANumber => "NOT_A_NUMBER",
            Self::WrongType => "WRONG_TYPE",
            Self::ExpInPast => "EXP_IN_PAST",
            Self::ExpiryTooLong => "EXPIRY_TOO_LONG",
            Self::NbfAfterExp => "NBF_AFTER_EXP",
            Self::IatInFuture => "IAT_IN_FUTURE",
            Self::MissingIss => "MISSING_ISS",
            Self::MissingAud => "MISSING_AUD",
            Self::PersonalData => "PERSONAL_DATA",
        }
    }

    /// The code spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

/// How serious a finding is; findings are ordered by it, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "FindingSeverity")]
pub enum Severity {
    /// The token will not work as meant.
    Error,
    /// The token works but is risky.
    Warning,
    /// Worth knowing.
    Info,
}

/// One checked finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Finding {
    /// What was found.
    pub code: FindingCode,
    /// How serious it is.
    pub severity: Severity,
    /// The top-level claim it is about, or empty for a claim that is absent.
    pub path: String,
    /// One sentence for people (no control characters).
    pub message: String,
}

/// A finding as the guest gave it, before any check.
#[derive(Debug, Clone)]
pub struct UncheckedFinding {
    /// The code text.
    pub code: String,
    /// The severity (the type already confines it).
    pub severity: Severity,
    /// The path text.
    pub path: String,
    /// The message text.
    pub message: String,
}

/// Checks a linter's answer for `claims` (the object the host sent):
/// at most [`MAX_FINDINGS`]; every code known; every path empty or a claim
/// of `claims`, at most [`MAX_PATH_BYTES`]; every message non-empty, at
/// most [`MAX_MESSAGE_BYTES`]; no control characters; ordered by severity,
/// path and code; no (code, path) twice. The reason for a refusal never
/// quotes the guest's text.
pub fn verify_linter_output(claims: &Map<String, Value>, findings: Vec<UncheckedFinding>) -> Result<Vec<Finding>, String> {
    if findings.len() > MAX_FINDINGS {
        return Err(format!("{} findings, over the limit of {MAX_FINDINGS}", findings.len()));
    }
    let mut seen = HashSet::new();
    let mut checked: Vec<Finding> = Vec::with_capacity(findings.len());
    for (i, f) in findings.into_iter().enumerate() {
        let code = FindingCode::parse(&f.code).ok_or_else(|| format!("finding {i} has an unknown code"))?;
        if f.path.len() > MAX_PATH_BYTES || has_control(&f.path) {
            return Err(format!("finding {i} has a path over {MAX_PATH_BYTES} bytes or with control characters"));
        }
        if !f.path.is_empty() && !claims.contains_key(&f.path) {
            return Err(format!("finding {i} names a claim that is not in the input"));
        }
        if f.message.is_empty() || f.message.len() > MAX_MESSAGE_BYTES || has_control(&f.message) {
            return Err(format!("finding {i} has an empty message, one over {MAX_MESSAGE_BYTES} bytes, or control characters"));
        }
        if !seen.insert((code, f.path.clone())) {
            return Err(format!("finding {i} repeats a code for the same path"));
        }
        let finding = Finding { code, severity: f.severity, path: f.path, message: f.message };
        if checked.last().is_some_and(|prev| order_key(prev) >= order_key(&finding)) {
            return Err(format!("finding {i} is out of order (severity, then path, then code)"));
        }
        checked.push(finding);
    }
    Ok(checked)
}

/// The contract's order: severity, then path and code by code point
/// (`str`'s order is UTF-8 byte order, which is code-point order).
fn order_key(f: &Finding) -> (Severity, &str, &'static str) {
    (f.severity, f.path.as_str(), f.code.as_str())
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Map<String, Value> {
        match json!({ "exp": "soon", "email": "a@b.co", "sub": 1 }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn finding(code: &str, severity: Severity, path: &str) -> UncheckedFinding {
        UncheckedFinding { code: code.into(), severity, path: path.into(), message: "a message".into() }
    }

    fn good() -> Vec<UncheckedFinding> {
        vec![
            finding("NOT_A_NUMBER", Severity::Error, "exp"),
            finding("WRONG_TYPE", Severity::Error, "sub"),
            finding("MISSING_AUD", Severity::Warning, ""),
            finding("PERSONAL_DATA", Severity::Warning, "email"),
            finding("MISSING_ISS", Severity::Info, ""),
        ]
    }

    fn refused(findings: Vec<UncheckedFinding>) -> String {
        verify_linter_output(&claims(), findings).expect_err("refused")
    }

    #[test]
    fn a_well_formed_answer_passes_unchanged() {
        let checked = verify_linter_output(&claims(), good()).expect("passes");
        assert_eq!(checked.len(), 5);
        assert_eq!(checked[3].code, FindingCode::PersonalData);
        assert_eq!(checked[3].path, "email");
        assert!(verify_linter_output(&claims(), Vec::new()).expect("empty passes").is_empty());
    }

    #[test]
    fn every_code_round_trips_through_its_spelling() {
        for code in FindingCode::ALL {
            assert_eq!(FindingCode::parse(code.as_str()), Some(*code));
            assert_eq!(serde_json::to_value(code).expect("serializes"), json!(code.as_str()));
        }
        assert_eq!(FindingCode::parse("not_a_number"), None);
    }

    #[test]
    fn too_many_findings_are_refused() {
        let many = (0..=MAX_FINDINGS).map(|_| finding("MISSING_ISS", Severity::Info, "")).collect();
        assert!(refused(many).contains("over the limit"));
    }

    #[test]
    fn unknown_codes_are_refused_without_quoting_them() {
        let mut f = good();
        f[0].code = "<img src=x onerror=alert(1)>".into();
        let reason = refused(f);
        assert!(reason.contains("unknown code") && !reason.contains("img"), "{reason}");
    }

    #[test]
    fn paths_must_name_a_claim_of_the_input() {
        let mut f = good();
        f[3].path = "password".into();
        assert!(refused(f).contains("not in the input"));
        let mut f = good();
        f[3].path = "x".repeat(MAX_PATH_BYTES + 1);
        assert!(refused(f).contains("path over"));
        let mut f = good();
        f[3].path = "email\n".into();
        assert!(refused(f).contains("control characters"));
    }

    #[test]
    fn messages_must_be_short_single_line_text() {
        for bad in [String::new(), "m".repeat(MAX_MESSAGE_BYTES + 1), "line\nbreak".into(), "bell\u{7}".into(), "c1\u{85}".into()] {
            let mut f = good();
            f[1].message = bad.clone();
            assert!(refused(f).contains("message"), "{bad:?}");
        }
        let mut f = good();
        f[1].message = "é".repeat(MAX_MESSAGE_BYTES / 2);
        verify_linter_output(&claims(), f).expect("multi-byte text within the cap passes");
    }

    #[test]
    fn duplicates_and_disorder_are_refused() {
        let mut f = good();
        f.insert(1, finding("NOT_A_NUMBER", Severity::Error, "exp"));
        assert!(refused(f).contains("repeats"));
        let mut f = good();
        f.insert(4, finding("PERSONAL_DATA", Severity::Info, "email"));
        assert!(refused(f).contains("repeats"), "the same code and path under another severity");
        let mut f = good();
        f.swap(0, 1);
        assert!(refused(f).contains("out of order"));
        let mut f = good();
        f.swap(3, 4);
        assert!(refused(f).contains("out of order"), "info before warning");
    }
}
