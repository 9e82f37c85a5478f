//! The last audit case: every secret the corpus planted, searched for in
//! every log line, error message and crash output the audit produced.

use crate::audit::{Area, Case, Outcome};

/// The search, as a case; run it after every other case.
pub fn scan_case() -> Case {
    Case::new(
        "secrets/nothing-leaked",
        Area::Secrets,
        "every log line, message and crash output of this run",
        "no planted secret (signing keys, handshake tokens, session tokens, page secrets) appears anywhere, in any encoding",
        |env| {
            let planted = env.planted();
            let log = env.log().text();
            let said = env.said().join("\n");
            let mut found = Vec::new();
            for (what, secret) in &planted {
                for form in super::secrets::leak_forms(secret) {
                    if log.contains(&form) {
                        found.push(format!("{what} in the log"));
                        break;
                    }
                    if said.contains(&form) {
                        found.push(format!("{what} in a message"));
                        break;
                    }
                }
            }
            if planted.is_empty() {
                return Outcome::fail("no secret was planted: the search would prove nothing");
            }
            let lines = log.lines().count();
            Outcome::check(
                found.is_empty(),
                if found.is_empty() {
                    format!("{} planted secrets searched for in {lines} log lines and {} messages: none found", planted.len(), env.said().len())
                } else {
                    format!("found: {}", found.join(", "))
                },
            )
        },
    )
}

/// The forms a leaked secret could take: as is, hex, base64 and base64url
/// (each of its text), and its longest run of 16 characters (a truncated copy).
pub fn leak_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let mut forms = vec![secret.to_owned(), hex::encode(secret), STANDARD.encode(secret), URL_SAFE_NO_PAD.encode(secret)];
    if secret.len() > 24 {
        let middle = secret.len() / 2;
        if let Some(piece) = secret.get(middle - 8..middle + 8) {
            forms.push(piece.to_owned());
        }
    }
    forms.retain(|f| f.len() >= 12);
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_forms_cover_encodings_and_a_truncated_copy() {
        let forms = leak_forms("0123456789abcdef0123456789abcdef");
        assert!(forms.contains(&"0123456789abcdef0123456789abcdef".to_owned()));
        assert!(forms.iter().any(|f| f.starts_with("3031")), "hex of the text");
        assert!(forms.contains(&"89abcdef01234567".to_owned()), "the middle 16 characters");
    }
}
