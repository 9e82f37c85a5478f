//! Tollgate's first-party claims linter, built as a WebAssembly component
//! for the `tollgate:lint/claims-linter` world.
//!
//! It applies exactly the rules of the JavaScript linter
//! (`guest-plugins/claims-linter-js/src/linter.js`), with the same messages
//! in the same order: the host's tests run one table through both and
//! compare. It trusts nothing it is given and is trusted with nothing: the
//! host caps the input before the call and checks every finding after it.
//! The world imports nothing; "now" comes in the policy.

// The generated bindings use `unsafe` for the canonical ABI; the code
// written here uses none.
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/lint@0.1",
        world: "tollgate:lint/claims-linter@0.1.0",
        generate_all,
        pub_export_macro: true,
    });
}

use bindings::exports::tollgate::lint::linter::{Finding, Guest, LintError, Policy, Severity};
use serde_json::{Map, Value};

/// A token issued this far in the future is still accepted as clock skew.
const ALLOWED_CLOCK_SKEW_SECONDS: f64 = 60.0;
/// The most findings one call returns (the host refuses more).
const MAX_FINDINGS: usize = 100;
/// Claims with longer names are not reported on (the host refuses longer paths).
const MAX_REPORTED_NAME_BYTES: usize = 256;
/// The registered time claims, in the order they are checked.
const TIME_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];
/// Registered claims that must be strings when present.
const STRING_CLAIMS: [&str; 3] = ["iss", "sub", "jti"];
/// Claim names that suggest personal data, normalized (see `normalize_name`).
const PERSONAL_NAMES: &[&str] = &[
    "email", "emailaddress", "mail",
    "phone", "phonenumber", "mobile", "tel", "telephone",
    "ssn", "socialsecuritynumber", "passport", "passportnumber",
    "address", "streetaddress", "postalcode", "zip", "zipcode",
    "birthdate", "dateofbirth", "dob", "birthday",
    "name", "fullname", "firstname", "lastname", "middlename", "givenname", "familyname", "surname",
    "ip", "ipaddress",
    "creditcard", "cardnumber", "iban",
];
const READABLE: &str = "anyone holding the token can read it";

struct ClaimsLinter;

impl Guest for ClaimsLinter {
    fn lint(claims: String, policy: Policy) -> Result<Vec<Finding>, LintError> {
        let claims: Value = serde_json::from_str(&claims)
            .map_err(|_| LintError::InvalidClaims("the claims are not valid JSON".into()))?;
        let Value::Object(claims) = claims else {
            return Err(LintError::InvalidClaims("the claims are not a JSON object".into()));
        };
        Ok(lint(&claims, &policy))
    }
}

fn lint(claims: &Map<String, Value>, policy: &Policy) -> Vec<Finding> {
    // Both linters compare in f64, as JavaScript does.
    let now = policy.now_seconds as f64;
    let max_lifetime = policy.max_lifetime_seconds as f64;
    let mut findings = Vec::new();
    let mut add = |code: &str, severity: Severity, path: &str, message: String| {
        findings.push(Finding { code: code.to_owned(), severity, path: path.to_owned(), message });
    };

    let mut times = [None; 3];
    for (slot, key) in times.iter_mut().zip(TIME_CLAIMS) {
        match claims.get(key) {
            None => {}
            Some(Value::Number(n)) => *slot = n.as_f64(),
            Some(_) => add("NOT_A_NUMBER", Severity::Error, key, format!("`{key}` must be a number of seconds since the Unix epoch")),
        }
    }
    let [exp, nbf, iat] = times;
    for key in STRING_CLAIMS {
        if claims.get(key).is_some_and(|v| !v.is_string()) {
            add("WRONG_TYPE", Severity::Error, key, format!("`{key}` must be a string"));
        }
    }
    let aud = claims.get("aud");
    let aud_ok = match aud {
        None | Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    if !aud_ok {
        add("WRONG_TYPE", Severity::Error, "aud", "`aud` must be a string or an array of strings".into());
    }

    if let Some(exp) = exp {
        if exp <= now {
            add("EXP_IN_PAST", Severity::Error, "exp", "`exp` is not in the future: the token is already expired".into());
        }
        let start = iat.unwrap_or(now);
        if exp - start > max_lifetime {
            add(
                "EXPIRY_TOO_LONG",
                Severity::Warning,
                "exp",
                format!("the token lives longer than the policy allows (at most {} seconds)", policy.max_lifetime_seconds),
            );
        }
        if nbf.is_some_and(|nbf| nbf >= exp) {
            add("NBF_AFTER_EXP", Severity::Error, "nbf", "`nbf` is not before `exp`: the token is never valid".into());
        }
    }
    if iat.is_some_and(|iat| iat > now + ALLOWED_CLOCK_SKEW_SECONDS) {
        add("IAT_IN_FUTURE", Severity::Warning, "iat", "`iat` is in the future".into());
    }

    match claims.get("iss") {
        None => add("MISSING_ISS", Severity::Info, "", missing_iss()),
        Some(Value::String(s)) if s.is_empty() => add("MISSING_ISS", Severity::Info, "iss", missing_iss()),
        Some(_) => {}
    }
    let no_audience = match aud {
        None => Some(""),
        Some(Value::String(s)) if s.is_empty() => Some("aud"),
        Some(Value::Array(items)) if items.is_empty() => Some("aud"),
        Some(_) => None,
    };
    if let Some(path) = no_audience {
        add(
            "MISSING_AUD",
            Severity::Warning,
            path,
            "no audience: add an `aud` claim so that only the service it is meant for accepts the token".into(),
        );
    }

    for (key, value) in claims {
        if !is_reportable(key) {
            continue;
        }
        let why = if is_personal_name(key) {
            "the name suggests personal data"
        } else if value.as_str().is_some_and(looks_like_email) {
            "the value looks like an email address"
        } else if holds_personal_data(value) {
            "it holds personal data (a personal field or an email address)"
        } else {
            continue;
        };
        add("PERSONAL_DATA", Severity::Warning, key, format!("{why}; {READABLE}"));
    }

    // `str`'s order is UTF-8 byte order, which is code-point order.
    findings.sort_by(|a, b| {
        rank(a.severity).cmp(&rank(b.severity)).then_with(|| a.path.cmp(&b.path)).then_with(|| a.code.cmp(&b.code))
    });
    findings.truncate(MAX_FINDINGS);
    findings
}

fn missing_iss() -> String {
    "no issuer: add an `iss` claim naming who issues the token".into()
}

fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

/// ASCII-lowercased, without `_`, `-`, `.` and spaces.
fn normalize_name(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ')).map(|c| c.to_ascii_lowercase()).collect()
}

fn is_personal_name(name: &str) -> bool {
    PERSONAL_NAMES.contains(&normalize_name(name).as_str())
}

/// A name the host accepts as a path: non-empty, short, no control characters.
fn is_reportable(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_REPORTED_NAME_BYTES && !name.chars().any(char::is_control)
}

/// local@domain.tld in ASCII: the shape of an email address
/// (`^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`).
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let local_ok = !local.is_empty() && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b));
    let mut labels = domain.split('.');
    let first_ok = labels.next().is_some_and(is_domain_label);
    let mut rest = 0;
    let rest_ok = labels.all(|label| {
        rest += 1;
        is_domain_label(label)
    });
    local_ok && first_ok && rest_ok && rest > 0
}

fn is_domain_label(label: &str) -> bool {
    !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether a value holds an email address or a personal field at any depth.
fn holds_personal_data(value: &Value) -> bool {
    match value {
        Value::String(s) => looks_like_email(s),
        Value::Array(items) => items.iter().any(holds_personal_data),
        Value::Object(map) => map.iter().any(|(k, v)| is_personal_name(k) || holds_personal_data(v)),
        _ => false,
    }
}

bindings::export!(ClaimsLinter with_types_in bindings);
