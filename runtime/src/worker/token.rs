//! The handshake token: 256 bits from the OS CSPRNG, handed to the worker
//! in its environment and presented back as its first frame.
//!
//! The token is never formatted by `Debug` or `Display`, never logged, and
//! wiped when dropped. A consumer that only takes 128-bit tokens uses the
//! first 16 bytes ([`HandshakeToken::first_128_bits`]).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::process::Command;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The environment variable that carries the token to the worker.
pub const HANDSHAKE_TOKEN_ENV: &str = "TOLLGATE_IPC_HANDSHAKE_TOKEN";

/// Token length in bytes (256 bits).
pub const HANDSHAKE_TOKEN_BYTES: usize = 32;

/// A 256-bit handshake token.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HandshakeToken([u8; HANDSHAKE_TOKEN_BYTES]);

impl fmt::Debug for HandshakeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandshakeToken([redacted])")
    }
}

impl HandshakeToken {
    /// The 64 lowercase hex characters that travel in the environment and
    /// the handshake frame. Handle the result as a secret.
    pub fn to_hex(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(hex::encode(self.0))
    }

    /// The first 16 bytes, for a consumer that only takes 128-bit tokens.
    pub fn first_128_bits(&self) -> [u8; 16] {
        let mut out = [0; 16];
        out.copy_from_slice(&self.0[..16]);
        out
    }

    /// Compares `presented` (raw bytes, any length) with this token,
    /// through `subtle` for every length: a presented value of another
    /// length is a `subtle` mismatch too (the length is public), and equal
    /// lengths are compared in time independent of where they differ
    /// (`just bench` measures it: `handshake_compare_timing`).
    pub fn matches(&self, presented: &[u8]) -> bool {
        bool::from(self.0.as_slice().ct_eq(presented))
    }

    /// Decodes 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, HandshakeTokenError> {
        if text.len() != HANDSHAKE_TOKEN_BYTES * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HandshakeTokenError::Invalid);
        }
        let mut bytes = [0u8; HANDSHAKE_TOKEN_BYTES];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| HandshakeTokenError::Invalid)?;
        Ok(Self(bytes))
    }
}

/// Why no token could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeTokenError {
    /// The variable is not set.
    #[error("{HANDSHAKE_TOKEN_ENV} is not set")]
    Missing,
    /// The variable is not 64 hex characters. (Its value is never shown.)
    #[error("{HANDSHAKE_TOKEN_ENV} is not 64 hex characters")]
    Invalid,
    /// The OS random source failed.
    #[error("the OS random source failed")]
    RandomUnavailable,
}

impl HandshakeTokenError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "HANDSHAKE_TOKEN_MISSING",
            Self::Invalid => "HANDSHAKE_TOKEN_INVALID",
            Self::RandomUnavailable => "HANDSHAKE_TOKEN_RANDOM_UNAVAILABLE",
        }
    }
}

/// 32 fresh bytes from the OS CSPRNG.
pub fn generate_handshake_token() -> Result<HandshakeToken, HandshakeTokenError> {
    let mut bytes = [0u8; HANDSHAKE_TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| HandshakeTokenError::RandomUnavailable)?;
    Ok(HandshakeToken(bytes))
}

/// An environment a token can be put into: a worker's `Command`, or a map.
/// Never the host's own process environment.
pub trait TokenEnv {
    /// Sets one variable.
    fn set(&mut self, key: &str, value: &str);
}

impl TokenEnv for Command {
    fn set(&mut self, key: &str, value: &str) {
        self.env(key, value);
    }
}

impl TokenEnv for HashMap<String, String> {
    fn set(&mut self, key: &str, value: &str) {
        self.insert(key.to_owned(), value.to_owned());
    }
}

/// Puts `token`, as 64 lowercase hex characters, under
/// [`HANDSHAKE_TOKEN_ENV`] in `env`.
pub fn inject_handshake_token(env: &mut impl TokenEnv, token: &HandshakeToken) {
    env.set(HANDSHAKE_TOKEN_ENV, &token.to_hex());
}

/// Reads and decodes the token from an environment map.
pub fn parse_handshake_token(env: &HashMap<String, String>) -> Result<HandshakeToken, HandshakeTokenError> {
    let value = env.get(HANDSHAKE_TOKEN_ENV).ok_or(HandshakeTokenError::Missing)?;
    HandshakeToken::from_hex(value)
}

/// The worker's side: reads the token from this process's environment and
/// removes the variable, so nothing later in the worker (or a guest escape)
/// can read it back. Call it first, while the process has one thread.
pub fn take_handshake_token_from_process_env() -> Result<HandshakeToken, HandshakeTokenError> {
    let value: Option<OsString> = std::env::var_os(HANDSHAKE_TOKEN_ENV);
    // SAFETY: called at the top of `tollgate-worker`, before any thread is
    // spawned, so no other thread can be reading the environment.
    #[expect(unsafe_code, reason = "std::env::remove_var is unsafe in edition 2024; single-threaded here")]
    unsafe {
        std::env::remove_var(HANDSHAKE_TOKEN_ENV);
    }
    let value = value.ok_or(HandshakeTokenError::Missing)?;
    let mut text = value.into_string().map_err(|_| HandshakeTokenError::Invalid)?;
    let token = HandshakeToken::from_hex(&text);
    text.zeroize();
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length from empty to three tokens long, and a one-byte
    /// difference at every position of an otherwise equal value: only the
    /// token itself matches.
    #[test]
    fn only_the_token_itself_matches_whatever_the_length_or_where_it_differs() {
        let token = generate_handshake_token().expect("random");
        assert!(token.matches(&token.0));
        for len in 0..=3 * HANDSHAKE_TOKEN_BYTES {
            let presented: Vec<u8> = token.0.iter().copied().cycle().take(len).collect();
            assert_eq!(token.matches(&presented), len == HANDSHAKE_TOKEN_BYTES, "length {len}");
        }
        for at in 0..HANDSHAKE_TOKEN_BYTES {
            for bit in 0..8 {
                let mut presented = token.0;
                presented[at] ^= 1 << bit;
                assert!(!token.matches(&presented), "differs at byte {at}, bit {bit}");
            }
        }
    }

    #[test]
    fn two_tokens_differ_and_round_trip_through_an_env_map() {
        let a = generate_handshake_token().expect("random");
        let b = generate_handshake_token().expect("random");
        assert!(!a.matches(&b.0), "two tokens are equal");
        let mut env = HashMap::new();
        inject_handshake_token(&mut env, &a);
        let hex = &env[HANDSHAKE_TOKEN_ENV];
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)), "lowercase hex");
        assert!(parse_handshake_token(&env).expect("parses").matches(&a.0));
    }

    /// The way the host uses it: into a child's command, where the child
    /// (here `env`, with nothing else in its environment) sees exactly that
    /// token, and the host's own environment never holds it.
    #[test]
    fn a_token_injected_into_a_command_reaches_the_child_and_not_this_process() {
        let token = generate_handshake_token().expect("random");
        let mut command = Command::new("env");
        command.env_clear();
        inject_handshake_token(&mut command, &token);
        let out = command.output().expect("run env");
        let seen = String::from_utf8(out.stdout).expect("utf-8");
        assert_eq!(seen.trim_end(), format!("{HANDSHAKE_TOKEN_ENV}={}", &*token.to_hex()), "the child's whole environment");
        assert!(std::env::var_os(HANDSHAKE_TOKEN_ENV).is_none(), "never the host's own environment");
    }

    #[test]
    fn missing_and_invalid_tokens_have_their_codes() {
        let mut env = HashMap::new();
        assert_eq!(parse_handshake_token(&env).expect_err("missing").code(), "HANDSHAKE_TOKEN_MISSING");
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), &"a".repeat(65), &format!("{}é", "a".repeat(62))] {
            env.insert(HANDSHAKE_TOKEN_ENV.to_owned(), bad.to_owned());
            assert_eq!(parse_handshake_token(&env).expect_err(bad).code(), "HANDSHAKE_TOKEN_INVALID", "{bad}");
        }
        env.insert(HANDSHAKE_TOKEN_ENV.to_owned(), "AB".repeat(32));
        assert!(parse_handshake_token(&env).is_ok(), "upper-case hex decodes too");
    }

    #[test]
    fn matching_checks_length_then_bytes_and_debug_is_redacted() {
        let t = generate_handshake_token().expect("random");
        assert!(t.matches(&t.0));
        assert!(!t.matches(&t.0[..31]));
        assert!(!t.matches(&[0; 32]));
        assert!(!t.matches(&[t.0.as_slice(), &[0]].concat()));
        assert_eq!(t.first_128_bits(), t.0[..16]);
        assert!(!format!("{t:?}").contains(&t.to_hex()[..8]));
    }
}
