//! Whether the secret comparisons leak where they differ through time: a
//! dudect-style test (Reparaz, Balasch, Verbauwhede, "Dude, is my code
//! constant time?", 2017) in the bench, not a timed test.
//!
//! Two classes of presented value, interleaved at random: one that differs
//! from the secret in its first byte, one that differs only in its last.
//! An early-exit comparison answers the first class sooner. Each sample
//! times a batch of calls; Welch's t compares the classes, on all samples
//! and on those under the pooled 50th and 90th percentiles (dudect's
//! cropping, which takes out preemption). |t| over 4.5 is a leak found.
//!
//! A control in the same run, a byte-by-byte comparison that returns at
//! the first difference, must show a leak; if it does not, the run could
//! not have found one and says so (`has_power`: false).

use std::hint::black_box;
use std::time::Instant;

use serde_json::{Value, json};
use tollgate::bridge::PageSecret;
use tollgate::worker::generate_handshake_token;

use crate::round2;

/// Samples per class.
const SAMPLES: usize = 20_000;
/// Calls per sample (one call is a few nanoseconds, under the clock's
/// resolution).
const BATCH: usize = 64;
/// dudect's threshold: above it, the classes' timings differ.
const T_THRESHOLD: f64 = 4.5;

/// A small xorshift generator: the class order only has to be
/// unpredictable to the code under test, not to an attacker.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let var = |xs: &[f64], m: f64| xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0);
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let (ma, mb) = (mean(a), mean(b));
    let denom = (var(a, ma) / a.len() as f64 + var(b, mb) / b.len() as f64).sqrt();
    if denom == 0.0 { 0.0 } else { (ma - mb) / denom }
}

/// Times `compare` on the two classes; the largest |t| over the crops.
fn max_abs_t(first_differs: &[u8], last_differs: &[u8], compare: &dyn Fn(&[u8]) -> bool) -> f64 {
    let mut seed = [0u8; 8];
    let _ = getrandom::fill(&mut seed);
    let mut rng = XorShift(u64::from_le_bytes(seed) | 1);
    let (mut early, mut late) = (Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES));
    while early.len() < SAMPLES || late.len() < SAMPLES {
        let pick_early = rng.next() & 1 == 0;
        let (input, out) = if pick_early { (first_differs, &mut early) } else { (last_differs, &mut late) };
        if out.len() >= SAMPLES {
            continue;
        }
        let started = Instant::now();
        for _ in 0..BATCH {
            black_box(compare(black_box(input)));
        }
        out.push(started.elapsed().as_nanos() as f64);
    }
    let mut pooled: Vec<f64> = early.iter().chain(&late).copied().collect();
    pooled.sort_by(f64::total_cmp);
    let mut worst = welch_t(&early, &late).abs();
    for pct in [0.5, 0.9] {
        let cut = pooled[((pooled.len() - 1) as f64 * pct) as usize];
        let crop = |xs: &[f64]| xs.iter().copied().filter(|x| *x <= cut).collect::<Vec<_>>();
        worst = worst.max(welch_t(&crop(&early), &crop(&late)).abs());
    }
    worst
}

/// Returns at the first differing byte (the control).
fn early_exit_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for i in 0..a.len() {
        if black_box(a[i]) != black_box(b[i]) {
            return false;
        }
    }
    true
}

fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x5a;
    out
}

/// The figures for `just bench`.
pub fn report() -> Value {
    let token = generate_handshake_token().expect("random");
    let token_bytes = hex::decode(token.to_hex().as_bytes()).expect("the token's own hex");
    let first = flipped(&token_bytes, 0);
    let last = flipped(&token_bytes, token_bytes.len() - 1);
    let handshake_t = max_abs_t(&first, &last, &|presented: &[u8]| token.matches(presented));

    let secret = PageSecret::generate().expect("random");
    let secret_hex = secret.to_hex();
    let hex_first = flip_hex(&secret_hex, 0);
    let hex_last = flip_hex(&secret_hex, secret_hex.len() - 1);
    let page_t = max_abs_t(hex_first.as_bytes(), hex_last.as_bytes(), &|presented: &[u8]| {
        std::str::from_utf8(presented).is_ok_and(|p| secret.matches(p))
    });

    let control_t = max_abs_t(&first, &last, &|presented: &[u8]| early_exit_eq(&token_bytes, presented));
    let has_power = control_t > T_THRESHOLD;
    json!({
        "method": "dudect-style Welch t, first-byte vs last-byte difference, 20000 samples of 64 calls per class, crops at p50/p90",
        "threshold_abs_t": T_THRESHOLD,
        "worker_handshake_token_abs_t": round2(handshake_t),
        "bridge_page_secret_abs_t": round2(page_t),
        "control_early_exit_abs_t": round2(control_t),
        "has_power": has_power,
        "no_leak_found": has_power && handshake_t <= T_THRESHOLD && page_t <= T_THRESHOLD,
    })
}

/// `hex` with the character at `at` changed to another of its own kind
/// (digit for digit, letter for letter). Hex decoding branches on the kind
/// of each character of the presented text, so a flip that turned a
/// letter into a digit would make the classes differ in what was sent,
/// not in where it differs from the secret.
fn flip_hex(hex: &str, at: usize) -> String {
    let other = |c: char| match c {
        '9' => '8',
        'f' => 'e',
        c => char::from(c as u8 + 1),
    };
    hex.char_indices().map(|(i, c)| if i == at { other(c) } else { c }).collect()
}
