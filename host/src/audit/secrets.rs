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
            if planted.is_empty() {
                return Outcome::fail("no secret was planted: the search would prove nothing");
            }
            let log = env.log().text();
            let said = env.said().join("\n");
            // One pass over everything for every form of every secret.
            let mut owner = Vec::new();
            let mut patterns = Vec::new();
            for (i, (_, secret)) in planted.iter().enumerate() {
                for form in leak_forms(secret) {
                    owner.push(i);
                    patterns.push(form);
                }
            }
            let matcher = match aho_corasick::AhoCorasick::new(&patterns) {
                Ok(m) => m,
                Err(e) => return Outcome::fail(format!("the search could not be built: {e}")),
            };
            let mut found = std::collections::BTreeSet::new();
            for (text, place) in [(&log, "the log"), (&said, "a message")] {
                for hit in matcher.find_overlapping_iter(text.as_str()) {
                    found.insert(format!("{} in {place}", planted[owner[hit.pattern().as_usize()]].0));
                }
            }
            let lines = log.lines().count();
            Outcome::check(
                found.is_empty(),
                if found.is_empty() {
                    format!("{} planted secrets ({} forms) searched for in {lines} log lines and {} messages: none found", planted.len(), patterns.len(), env.said().len())
                } else {
                    format!("found: {}", found.into_iter().collect::<Vec<_>>().join(", "))
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
