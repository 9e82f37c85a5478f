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

/// The shortest form searched for: shorter runs would match by chance.
const MIN_FORM_CHARS: usize = 12;

/// The forms a leaked secret could take, as text and, when the secret is
/// hex (keys, tokens and page secrets are planted as hex), as the bytes it
/// stands for:
///
/// - the text as is, its hex, and its base64 and base64url at each of the
///   three alignments a copy inside a longer encoded blob can have (whole
///   groups only, so what follows the copy does not matter);
/// - a truncated copy: its first and its middle 16 characters;
/// - for a hex secret: upper-case hex, the bytes' base64 and base64url at
///   each alignment, and Rust's `Debug` of the bytes (`[12, 250, ...`),
///   the likeliest way a byte buffer reaches a log.
pub fn leak_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned(), hex::encode(secret)];
    forms.extend(base64_forms(secret.as_bytes()));
    if secret.len() > 24 {
        let middle = secret.len() / 2;
        forms.extend([secret.get(..16), secret.get(middle - 8..middle + 8)].into_iter().flatten().map(str::to_owned));
    }
    if secret.len().is_multiple_of(2)
        && let Ok(bytes) = hex::decode(secret)
    {
        forms.push(secret.to_ascii_uppercase());
        forms.extend(base64_forms(&bytes));
        let debug: Vec<String> = bytes.iter().take(8).map(u8::to_string).collect();
        if debug.len() == 8 {
            forms.push(format!("[{}", debug.join(", ")));
        }
    }
    forms.retain(|f| f.len() >= MIN_FORM_CHARS);
    forms.sort();
    forms.dedup();
    forms
}

/// `bytes` in base64 and base64url, from each of its first three bytes on
/// and cut to whole 3-byte groups: a copy of `bytes` starting at any
/// offset of a longer encoded text contains one of these.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut forms = Vec::new();
    for skip in 0..3 {
        let Some(rest) = bytes.get(skip..) else { break };
        let whole = &rest[..rest.len() / 3 * 3];
        forms.push(STANDARD_NO_PAD.encode(whole));
        forms.push(URL_SAFE_NO_PAD.encode(whole));
    }
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
        assert!(forms.contains(&"0123456789abcdef".to_owned()), "the first 16 characters");
        assert!(forms.contains(&"0123456789ABCDEF0123456789ABCDEF".to_owned()), "upper-case hex");
        assert!(forms.contains(&"[1, 35, 69, 103, 137, 171, 205, 239".to_owned()), "Debug of the bytes");
    }

    /// A secret copied into a longer text and then encoded is found
    /// whatever its offset: every form of the search is a plain substring.
    #[test]
    fn a_secret_inside_a_longer_encoded_text_is_found_at_any_offset() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let secret = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let bytes = hex::decode(secret).expect("hex");
        let forms = leak_forms(secret);
        let found = |text: &str| forms.iter().any(|f| text.contains(f.as_str()));
        for prefix in ["", "a", "ab", "abc"] {
            let text = format!("{prefix}{secret}, and more");
            assert!(found(&STANDARD.encode(&text)), "the text's base64 after {prefix:?}");
            assert!(found(&URL_SAFE_NO_PAD.encode(&text)), "the text's base64url after {prefix:?}");
            let mut blob = prefix.as_bytes().to_vec();
            blob.extend_from_slice(&bytes);
            blob.extend_from_slice(b" trailer");
            assert!(found(&STANDARD.encode(&blob)), "the bytes' base64 after {prefix:?}");
            assert!(found(&URL_SAFE_NO_PAD.encode(&blob)), "the bytes' base64url after {prefix:?}");
        }
        assert!(found(&format!("key: {bytes:?}")), "Debug of the bytes");
        assert!(!found("nothing like it here, 0123456789"), "no form matches unrelated text");
    }
}
