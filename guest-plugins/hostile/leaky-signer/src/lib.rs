//! A hostile `jwt-signer` whose tokens verify but carry the key, for the
//! test suite and `tollgate audit`.
//!
//! Verifying a signer's token proves it was signed with the key, not that
//! the signer kept the key to itself: wherever the algorithm leaves a
//! choice, the choice can encode the key for whoever receives the token.
//! The behaviour is chosen per call by the claim `"leak"` (a string);
//! without it the guest signs honestly, with `tollgate-jwt-canonical`, so
//! the host accepts it:
//!
//! | `leak` | algorithms | what the guest does |
//! |---|---|---|
//! | `chosen-nonce` | ES256, ES384 | ECDSA nonce = HMAC-SHA-256/384 over the signing input keyed with [`ATTACKER_SECRET`], mod `n`; `s` made low so it looks canonical. One token gives the receiver `d`. |
//! | `chosen-nonce` | EdDSA | Ed25519 with the nonce prefix (RFC 8032's second half of `SHA-512(seed)`) replaced by one derived from [`ATTACKER_SECRET`]. One token gives the receiver the signing scalar. |
//! | `high-s` | ES256, ES384 | the canonical signature with `s` replaced by `n - s`: verifies, but is not canonical. |
//! | `pss-salt` | PS256/384/512 | the salt is a chunk of the prime `p` (which chunk: chosen from the signing input), XOR a mask from [`ATTACKER_SECRET`]. A few tokens factor `n`. |
//! | `outcome-bit` | all | claim `"bit": n`: fails with `signing-failed("no")` if bit `n` of the key bytes is 1, else signs honestly. |
//! | `timing-bit` | all | claim `"bit": n`: busy-waits `spin_ms` (claim, default [`DEFAULT_SPIN_MS`]) if bit `n` is 1, then signs honestly. |
//!
//! Bit `n` of the key is `(key[n / 8] >> (7 - n % 8)) & 1`, over the key
//! bytes exactly as handed over (the raw secret, or the PEM text). A
//! `leak` that does not apply to the algorithm fails with
//! `signing-failed`. The receivers, and a native copy of every derivation
//! here, are in `host/src/audit/key_recovery.rs`; the two must agree byte
//! for byte (a test there checks the constants).
//!
//! `decode` and `verify` are honest (the first-party signer's).

wit_bindgen::generate!({
    path: "../../../wit/jwt@0.3",
    world: "tollgate:jwt/jwt-signer@0.3.0",
    generate_all,
});

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey as EdSigningKey;
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use exports::tollgate::jwt::signer::Guest;
use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, Header};
use p256::elliptic_curve::group::{Curve as _, Group as _};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::pkcs8::{AssociatedOid, DecodePrivateKey};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::scalar::IsHigh;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ModulusSize, ToEncodedPoint};
use p256::elliptic_curve::{AffinePoint, CurveArithmetic, Field, FieldBytes, FieldBytesSize, PrimeCurve, PrimeField, SecretKey};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use sha2::digest::Digest;
use sha2::{Sha256, Sha384, Sha512};
use tollgate::host::clock;
use tollgate::jwt::types::{Algorithm, DecodedToken, HeaderFields, JwtError};
use tollgate_jwt_canonical::CanonicalSigner;

/// The secret this signer shares with the receiver of its tokens: every
/// choice it makes is an HMAC keyed with it, so its tokens look random to
/// anyone else. Keep it byte-identical to `LEAKY_SIGNER_ATTACKER_SECRET` in
/// `host/src/audit/key_recovery.rs` (the receiver; a test there checks).
const ATTACKER_SECRET: &[u8] = b"tollgate leaky-signer attacker secret v1";

/// Domain of the Ed25519 nonce prefix. Same as `EDDSA_PREFIX_DOMAIN` in
/// the receiver.
const EDDSA_PREFIX_DOMAIN: &[u8] = b"leaky-signer ed25519 nonce prefix";

/// Domain of the PSS salt's mask. Same as `PSS_MASK_DOMAIN` in the receiver.
const PSS_MASK_DOMAIN: &[u8] = b"leaky-signer pss salt mask";

/// Domain of the choice of chunk of `p` a PSS token carries. Same as
/// `PSS_CHUNK_DOMAIN` in the receiver.
const PSS_CHUNK_DOMAIN: &[u8] = b"leaky-signer pss chunk index";

/// The busy-wait for a 1 bit when the claims name no `spin_ms`: well
/// above a call's jitter, well under the manifest's deadline. Same as
/// `DEFAULT_SPIN_MS` in the receiver.
const DEFAULT_SPIN_MS: u64 = 30;

/// The longest busy-wait a call may ask for: a cap on a claim, so a typo
/// cannot hold the instance until the deadline.
const MAX_SPIN_MS: u64 = 1_000;

/// Loop iterations between two reads of the host clock while spinning: a
/// few microseconds of work, far finer than the clock's millisecond.
const SPIN_CHUNK_ITERATIONS: u64 = 10_000;

/// Iterations taken for one millisecond while the host clock has not moved
/// (a host that fixes "now", as tests do): a rough figure for wasmtime on
/// a current CPU, only there so the spin still ends and still differs.
const FALLBACK_ITERATIONS_PER_MS: u64 = 500_000;

/// The shortest HMAC secret `verify` accepts (RFC 7518 section 3.2), as
/// in the first-party signer.
const MIN_HMAC_SECRET_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;
type HmacSha384 = Hmac<Sha384>;
type HmacSha512 = Hmac<Sha512>;

struct LeakySigner;

impl Guest for LeakySigner {
    fn sign(
        alg: Algorithm,
        key: Vec<u8>,
        header: HeaderFields,
        claims_json: String,
    ) -> Result<String, JwtError> {
        let alg = jwt_algorithm(alg);
        // Sign the claims text as given (the host compares bytes); read the
        // behaviour from a parsed copy.
        let raw: &serde_json::value::RawValue = serde_json::from_str(&claims_json)
            .map_err(|e| JwtError::InvalidClaims(format!("claims are not JSON: {e}")))?;
        if !raw.get().starts_with('{') {
            return Err(JwtError::InvalidClaims("claims must be a JSON object".into()));
        }
        let claims: serde_json::Value =
            serde_json::from_str(&claims_json).map_err(|e| JwtError::InvalidClaims(e.to_string()))?;
        let mut jwt_header = Header::new(alg);
        jwt_header.kid = header.kid;
        if let Some(typ) = header.typ {
            jwt_header.typ = Some(typ);
        }
        let header_json = serde_json::to_vec(&jwt_header).map_err(|e| JwtError::InvalidHeader(e.to_string()))?;
        let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header_json), URL_SAFE_NO_PAD.encode(&claims_json));

        let leak = claims.get("leak").and_then(serde_json::Value::as_str);
        let inapplicable = |leak: &str| JwtError::SigningFailed(format!("leak {leak} cannot sign {alg:?} with this key"));
        let signature = match leak {
            None => honest(alg, &key, &message)?,
            Some(leak @ "chosen-nonce") => {
                chosen_nonce_signature(alg, &key, message.as_bytes()).ok_or_else(|| inapplicable(leak))?
            }
            Some(leak @ "high-s") => high_s_signature(alg, &honest(alg, &key, &message)?).ok_or_else(|| inapplicable(leak))?,
            Some(leak @ "pss-salt") => pss_leaky_signature(alg, &key, message.as_bytes()).ok_or_else(|| inapplicable(leak))?,
            Some("outcome-bit") => {
                if requested_bit(&claims, &key)? {
                    return Err(JwtError::SigningFailed("no".into()));
                }
                honest(alg, &key, &message)?
            }
            Some("timing-bit") => {
                if requested_bit(&claims, &key)? {
                    let spin_ms = claims.get("spin_ms").and_then(serde_json::Value::as_u64).unwrap_or(DEFAULT_SPIN_MS);
                    spin(spin_ms.min(MAX_SPIN_MS));
                }
                honest(alg, &key, &message)?
            }
            Some(other) => return Err(JwtError::SigningFailed(format!("unknown leak {other}"))),
        };
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    fn decode(token: String) -> Result<DecodedToken, JwtError> {
        let (header, payload, signature) = split(&token)?;
        Ok(DecodedToken {
            header: json_segment("header", header)?,
            payload: json_segment("payload", payload)?,
            signature: signature.to_owned(),
        })
    }

    fn verify(
        token: String,
        key: Vec<u8>,
        allowed: Vec<Algorithm>,
        leeway_seconds: u32,
    ) -> Result<String, JwtError> {
        let (header_b64, payload_b64, signature) = split(&token)?;
        let header: Header = serde_json::from_str(&json_segment("header", header_b64)?)
            .map_err(|e| JwtError::MalformedToken(format!("header: {e}")))?;
        if !allowed.into_iter().map(jwt_algorithm).any(|a| a == header.alg) {
            return Err(JwtError::AlgorithmNotAllowed(format!("{:?}", header.alg)));
        }
        let key = decoding_key(header.alg, &key)?;
        let message = &token[..header_b64.len() + 1 + payload_b64.len()];
        let valid = jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, header.alg)
            .map_err(key_error)?;
        if !valid {
            return Err(JwtError::InvalidSignature);
        }
        let payload = json_segment("payload", payload_b64)?;
        let claims: serde_json::Value = serde_json::from_str(&payload)
            .map_err(|e| JwtError::MalformedToken(format!("payload: {e}")))?;
        check_times(&claims, clock::now().seconds, i64::from(leeway_seconds))?;
        Ok(payload)
    }
}

// ---------------------------------------------------------------------------
// The honest signature, and the two one-bit channels.

/// The canonical signature: what the first-party signer returns.
fn honest(alg: JwtAlgorithm, key: &[u8], message: &str) -> Result<Vec<u8>, JwtError> {
    let signer = CanonicalSigner::new(alg, key)
        .map_err(|_| JwtError::InvalidKey("the key does not parse as a key for this algorithm".into()))?;
    signer.signature(message.as_bytes()).map_err(|e| JwtError::SigningFailed(e.to_string()))
}

/// The key bit the claim `"bit"` names.
fn requested_bit(claims: &serde_json::Value, key: &[u8]) -> Result<bool, JwtError> {
    let n = claims
        .get("bit")
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| JwtError::InvalidClaims("this leak needs a numeric claim `bit`".into()))?;
    key_bit(key, n).ok_or_else(|| JwtError::InvalidClaims("`bit` is past the key's end".into()))
}

/// Bit `n` of `key`, most significant bit of each byte first.
fn key_bit(key: &[u8], n: usize) -> Option<bool> {
    key.get(n / 8).map(|byte| (byte >> (7 - n % 8)) & 1 == 1)
}

/// The host's clock in milliseconds: the only clock a guest has.
fn now_ms() -> i64 {
    let now = clock::now();
    // Wrapping, not saturating: built with wide arithmetic, the overflow
    // check of `saturating_mul` came out as i64::MAX on a second read of
    // a perfectly ordinary time under wasmtime 48 (seen here; not chased).
    now.seconds.wrapping_mul(1_000).wrapping_add(i64::from(now.nanoseconds / 1_000_000))
}

/// Busy-waits about `ms` milliseconds of the host's clock. While the clock
/// has not moved (a host that fixes "now"), counts iterations instead, so
/// the wait still ends and a 1 still takes longer than a 0.
fn spin(ms: u64) {
    let start = now_ms();
    let target_ms = i64::try_from(ms).unwrap_or(i64::MAX);
    let fallback_iterations = ms.saturating_mul(FALLBACK_ITERATIONS_PER_MS);
    let mut clock_moved = false;
    let mut iterations: u64 = 0;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    loop {
        for _ in 0..SPIN_CHUNK_ITERATIONS {
            state = std::hint::black_box(state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
        iterations = iterations.saturating_add(SPIN_CHUNK_ITERATIONS);
        let elapsed = now_ms().wrapping_sub(start);
        clock_moved |= elapsed != 0;
        let done = if clock_moved { elapsed >= target_ms } else { iterations >= fallback_iterations };
        if done {
            break;
        }
    }
}

// ---------------------------------------------------------------------------
// The derivations the receiver repeats (host/src/audit/key_recovery.rs).

/// HMAC keyed with the shared secret over `parts`.
fn attacker_mac<M: Mac + hmac::digest::KeyInit>(parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(ATTACKER_SECRET)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The ECDSA nonce `k` before reduction mod `n`, and the digest `z`.
fn ecdsa_nonce_and_digest(alg: JwtAlgorithm, message: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    match alg {
        JwtAlgorithm::ES256 => Some((attacker_mac::<HmacSha256>(&[message]), Sha256::digest(message).to_vec())),
        JwtAlgorithm::ES384 => Some((attacker_mac::<HmacSha384>(&[message]), Sha384::digest(message).to_vec())),
        _ => None,
    }
}

/// `prefix'`, the Ed25519 nonce prefix taken from the shared secret.
fn eddsa_attacker_prefix() -> [u8; 32] {
    let mut prefix = [0u8; 32];
    prefix.copy_from_slice(&attacker_mac::<HmacSha512>(&[EDDSA_PREFIX_DOMAIN])[..32]);
    prefix
}

/// The PSS digest length, which is also the salt length.
fn pss_hash_len(alg: JwtAlgorithm) -> Option<usize> {
    match alg {
        JwtAlgorithm::PS256 => Some(32),
        JwtAlgorithm::PS384 => Some(48),
        JwtAlgorithm::PS512 => Some(64),
        _ => None,
    }
}

/// Bytes of one prime of a key with a modulus of `modulus_bits`.
fn prime_len(modulus_bits: usize) -> usize {
    modulus_bits.div_ceil(2).div_ceil(8)
}

/// Which salt-sized chunk of `p` the token for `message` carries.
fn pss_chunk_index(alg: JwtAlgorithm, modulus_bits: usize, message: &[u8]) -> Option<usize> {
    let count = prime_len(modulus_bits).div_ceil(pss_hash_len(alg)?);
    let mac = attacker_mac::<HmacSha256>(&[PSS_CHUNK_DOMAIN, message]);
    let mut head = [0u8; 8];
    head.copy_from_slice(&mac[..8]);
    Some((u64::from_be_bytes(head) % count as u64) as usize)
}

/// The salt: chunk [`pss_chunk_index`] of the first prime (big-endian,
/// padded to half the modulus; the last chunk right-padded with zeros),
/// XOR an HMAC of the message under the shared secret.
fn pss_leaky_salt(alg: JwtAlgorithm, key: &RsaPrivateKey, message: &[u8]) -> Option<Vec<u8>> {
    let hash_len = pss_hash_len(alg)?;
    let bits = key.n().bits();
    let index = pss_chunk_index(alg, bits, message)?;
    let prime = padded_be(key.primes().first()?, prime_len(bits))?;
    let mut chunk: Vec<u8> = prime.iter().skip(index * hash_len).take(hash_len).copied().collect();
    chunk.resize(hash_len, 0);
    let mask = attacker_mac::<HmacSha512>(&[PSS_MASK_DOMAIN, message]);
    Some(chunk.iter().zip(mask).map(|(c, m)| c ^ m).collect())
}

fn padded_be(value: &BigUint, len: usize) -> Option<Vec<u8>> {
    let bytes = value.to_bytes_be();
    let mut out = vec![0u8; len.checked_sub(bytes.len())?];
    out.extend_from_slice(&bytes);
    Some(out)
}

// ---------------------------------------------------------------------------
// The attack signatures.

/// An EC private key from PEM: PKCS#8, or SEC1.
fn ec_secret<C>(pem: &[u8]) -> Option<SecretKey<C>>
where
    C: PrimeCurve + CurveArithmetic + AssociatedOid,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let text = std::str::from_utf8(pem).ok()?;
    SecretKey::<C>::from_pkcs8_pem(text).or_else(|_| SecretKey::<C>::from_sec1_pem(text)).ok()
}

fn field_bytes<C: CurveArithmetic>(bytes: &[u8]) -> Option<FieldBytes<C>> {
    let mut out = FieldBytes::<C>::default();
    if bytes.len() != out.len() {
        return None;
    }
    out.copy_from_slice(bytes);
    Some(out)
}

fn reduce<C: CurveArithmetic>(bytes: &[u8]) -> Option<C::Scalar> {
    Some(<C::Scalar as Reduce<C::Uint>>::reduce_bytes(&field_bytes::<C>(bytes)?))
}

/// `(r, s)` with the chosen nonce, `s` then made low (as the canonical
/// signature's is), so nothing but the nonce differs from an honest one.
fn ecdsa_sign_with_nonce<C: PrimeCurve + CurveArithmetic>(d: C::Scalar, k_bytes: &[u8], z_bytes: &[u8]) -> Option<Vec<u8>> {
    let k = reduce::<C>(k_bytes)?;
    let z = reduce::<C>(z_bytes)?;
    let k_inv: C::Scalar = Option::from(Field::invert(&k))?;
    let big_r = (C::ProjectivePoint::generator() * k).to_affine();
    let r = reduce::<C>(&big_r.x())?;
    let mut s = k_inv * (z + r * d);
    if bool::from(s.is_zero()) || bool::from(r.is_zero()) {
        return None;
    }
    if bool::from(s.is_high()) {
        s = -s;
    }
    Some([r.to_repr().to_vec(), s.to_repr().to_vec()].concat())
}

/// `chosen-nonce`: ECDSA with an HMAC nonce, or Ed25519 with a replaced
/// nonce prefix.
fn chosen_nonce_signature(alg: JwtAlgorithm, key: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    match alg {
        JwtAlgorithm::ES256 => {
            let (k, z) = ecdsa_nonce_and_digest(alg, message)?;
            ecdsa_sign_with_nonce::<p256::NistP256>(*ec_secret::<p256::NistP256>(key)?.to_nonzero_scalar(), &k, &z)
        }
        JwtAlgorithm::ES384 => {
            let (k, z) = ecdsa_nonce_and_digest(alg, message)?;
            ecdsa_sign_with_nonce::<p384::NistP384>(*ec_secret::<p384::NistP384>(key)?.to_nonzero_scalar(), &k, &z)
        }
        JwtAlgorithm::EdDSA => {
            let signing = EdSigningKey::from_pkcs8_pem(std::str::from_utf8(key).ok()?).ok()?;
            let mut expanded = ExpandedSecretKey::from(&signing.to_bytes());
            expanded.hash_prefix = eddsa_attacker_prefix();
            Some(raw_sign::<Sha512>(&expanded, message, &signing.verifying_key()).to_bytes().to_vec())
        }
        _ => None,
    }
}

/// `high-s`: the canonical `(r, s)` as `(r, n - s)`.
fn high_s_signature(alg: JwtAlgorithm, canonical_signature: &[u8]) -> Option<Vec<u8>> {
    fn flip<C: PrimeCurve + CurveArithmetic>(signature: &[u8]) -> Option<Vec<u8>> {
        let (r, s) = signature.split_at_checked(FieldBytes::<C>::default().len())?;
        let s: C::Scalar = Option::from(C::Scalar::from_repr(field_bytes::<C>(s)?))?;
        Some([r.to_vec(), (-s).to_repr().to_vec()].concat())
    }
    match alg {
        JwtAlgorithm::ES256 => flip::<p256::NistP256>(canonical_signature),
        JwtAlgorithm::ES384 => flip::<p384::NistP384>(canonical_signature),
        _ => None,
    }
}

/// A random-number source that hands out `prefix` first, then a SHA-512
/// counter stream: `rsa`'s PSS signer draws the salt in its first call
/// (see `tollgate_jwt_canonical::pss_seed`), so the salt is `prefix`; the
/// stream feeds the blinding, which does not change the signature.
struct PrefixedRng {
    prefix: Vec<u8>,
    seed: Vec<u8>,
    counter: u64,
    block: Vec<u8>,
}

impl RngCore for PrefixedRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let from_prefix = dest.len().min(self.prefix.len());
        let (head, tail) = dest.split_at_mut(from_prefix);
        head.copy_from_slice(&self.prefix[..from_prefix]);
        self.prefix.drain(..from_prefix);
        for byte in tail {
            if self.block.is_empty() {
                self.block = Sha512::new().chain_update(&self.seed).chain_update(self.counter.to_be_bytes()).finalize().to_vec();
                self.counter += 1;
            }
            *byte = self.block.pop().unwrap_or_default();
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// The salt is what the attack means to choose; the stream after it is
// SHA-512 of a secret seed, good enough for RSA blinding.
impl CryptoRng for PrefixedRng {}

/// `pss-salt`: RSASSA-PSS (MGF1 with the same hash, salt as long as the
/// hash) whose salt is [`pss_leaky_salt`].
fn pss_leaky_signature(alg: JwtAlgorithm, key: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(key).ok()?;
    let key = RsaPrivateKey::from_pkcs1_pem(text).or_else(|_| RsaPrivateKey::from_pkcs8_pem(text)).ok()?;
    let salt = pss_leaky_salt(alg, &key, message)?;
    let mut rng = PrefixedRng { prefix: salt, seed: attacker_mac::<HmacSha512>(&[message]), counter: 0, block: Vec::new() };
    let signature = match alg {
        JwtAlgorithm::PS256 => rsa::pss::BlindedSigningKey::<Sha256>::new(key).try_sign_with_rng(&mut rng, message).ok()?.to_vec(),
        JwtAlgorithm::PS384 => rsa::pss::BlindedSigningKey::<Sha384>::new(key).try_sign_with_rng(&mut rng, message).ok()?.to_vec(),
        JwtAlgorithm::PS512 => rsa::pss::BlindedSigningKey::<Sha512>::new(key).try_sign_with_rng(&mut rng, message).ok()?.to_vec(),
        _ => return None,
    };
    Some(signature)
}

// ---------------------------------------------------------------------------
// Honest decode and verify: the first-party signer's
// (guest-plugins/jwt-signer/src/lib.rs).

/// Checks `exp` (required), `nbf` and `iat` (optional) against the host's time.
fn check_times(claims: &serde_json::Value, now: i64, leeway: i64) -> Result<(), JwtError> {
    let Some(claims) = claims.as_object() else {
        return Err(JwtError::InvalidClaims("claims must be a JSON object".into()));
    };
    let exp = match claims.get("exp") {
        None => return Err(JwtError::MissingClaim("exp".into())),
        Some(v) => numeric_date("exp", v)?,
    };
    if exp.saturating_add(leeway) <= now {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        if numeric_date("nbf", nbf)?.saturating_sub(leeway) > now {
            return Err(JwtError::NotYetValid);
        }
    }
    if let Some(iat) = claims.get("iat") {
        if numeric_date("iat", iat)?.saturating_sub(leeway) > now {
            return Err(JwtError::NotYetValid);
        }
    }
    Ok(())
}

/// A NumericDate: a JSON number of seconds, never a string.
fn numeric_date(name: &str, value: &serde_json::Value) -> Result<i64, JwtError> {
    match value {
        serde_json::Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or_else(|| JwtError::InvalidClaimType(format!("{name} is out of range"))),
        _ => Err(JwtError::InvalidClaimType(format!("{name} must be a number"))),
    }
}

fn split(token: &str) -> Result<(&str, &str, &str), JwtError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(JwtError::MalformedToken("a token has three dot-separated segments".into())),
    }
}

fn json_segment(name: &str, segment: &str) -> Result<String, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|e| JwtError::MalformedToken(format!("{name} is not base64url: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| JwtError::MalformedToken(format!("{name} is not UTF-8")))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| JwtError::MalformedToken(format!("{name} is not JSON: {e}")))?;
    Ok(text)
}

fn jwt_algorithm(alg: Algorithm) -> JwtAlgorithm {
    match alg {
        Algorithm::Hs256 => JwtAlgorithm::HS256,
        Algorithm::Hs384 => JwtAlgorithm::HS384,
        Algorithm::Hs512 => JwtAlgorithm::HS512,
        Algorithm::Rs256 => JwtAlgorithm::RS256,
        Algorithm::Rs384 => JwtAlgorithm::RS384,
        Algorithm::Rs512 => JwtAlgorithm::RS512,
        Algorithm::Ps256 => JwtAlgorithm::PS256,
        Algorithm::Ps384 => JwtAlgorithm::PS384,
        Algorithm::Ps512 => JwtAlgorithm::PS512,
        Algorithm::Es256 => JwtAlgorithm::ES256,
        Algorithm::Es384 => JwtAlgorithm::ES384,
        Algorithm::Eddsa => JwtAlgorithm::EdDSA,
    }
}

fn decoding_key(alg: JwtAlgorithm, key: &[u8]) -> Result<DecodingKey, JwtError> {
    if matches!(alg, JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512) {
        if key.starts_with(b"-----BEGIN") {
            return Err(JwtError::InvalidKey("an HMAC algorithm takes a raw secret, not a PEM key".into()));
        }
        if key.len() < MIN_HMAC_SECRET_BYTES {
            return Err(JwtError::InvalidKey(format!(
                "an HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes, got {}",
                key.len()
            )));
        }
        return Ok(DecodingKey::from_secret(key));
    }
    match alg {
        JwtAlgorithm::ES256 | JwtAlgorithm::ES384 => DecodingKey::from_ec_pem(key),
        JwtAlgorithm::EdDSA => DecodingKey::from_ed_pem(key),
        _ => DecodingKey::from_rsa_pem(key),
    }
    .map_err(key_error)
}

/// Maps a jsonwebtoken error onto the contract's variants, never quoting
/// the key.
fn key_error(e: jsonwebtoken::errors::Error) -> JwtError {
    match e.kind() {
        ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidAlgorithm => {
            JwtError::InvalidKey("the key does not parse as a key for this algorithm".into())
        }
        ErrorKind::InvalidSignature => JwtError::InvalidSignature,
        ErrorKind::Base64(_) | ErrorKind::InvalidToken => {
            JwtError::MalformedToken("the signature is not base64url".into())
        }
        _ => JwtError::SigningFailed("the signer could not complete the operation".into()),
    }
}

export!(LeakySigner);
