//! Pins the canonical signatures to published vectors, and shows each rule
//! the standards leave open is applied (low-S, the derived PSS salt).

use super::*;
use p256::pkcs8::EncodePrivateKey as _;

/// RFC 6979 A.2.5: the P-256 key.
const RFC6979_P256_X: &str = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
/// RFC 6979 A.2.5, SHA-256, message "sample": r and s.
const RFC6979_P256_SAMPLE_R: &str = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716";
const RFC6979_P256_SAMPLE_S: &str = "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

fn p256_pem() -> String {
    let bytes = hex::decode(RFC6979_P256_X).expect("hex");
    let secret = p256::SecretKey::from_slice(&bytes).expect("scalar");
    secret.to_pkcs8_pem(Default::default()).expect("pem").to_string()
}

#[test]
fn es256_is_rfc6979_with_s_in_the_lower_half() {
    let signer = CanonicalSigner::new(Algorithm::ES256, p256_pem().as_bytes()).expect("key");
    let sig = signer.signature(b"sample").expect("signs");
    assert_eq!(hex::encode_upper(&sig[..32]), RFC6979_P256_SAMPLE_R, "r is RFC 6979's");
    // The RFC's s is in the upper half; the canonical one is n - s.
    let rfc = p256::ecdsa::Signature::from_scalars(
        <[u8; 32]>::try_from(hex::decode(RFC6979_P256_SAMPLE_R).expect("hex")).expect("32"),
        <[u8; 32]>::try_from(hex::decode(RFC6979_P256_SAMPLE_S).expect("hex")).expect("32"),
    )
    .expect("signature");
    let normalized = rfc.normalize_s().expect("the RFC's s is high");
    assert_eq!(sig, normalized.to_vec());
    assert_ne!(sig, rfc.to_vec());
}

#[test]
fn every_ecdsa_signature_is_low_s_and_stable() {
    let signer = CanonicalSigner::new(Algorithm::ES256, p256_pem().as_bytes()).expect("key");
    for i in 0..64 {
        let message = format!("message {i}");
        let sig = signer.signature(message.as_bytes()).expect("signs");
        let parsed = p256::ecdsa::Signature::from_slice(&sig).expect("parses");
        assert!(parsed.normalize_s().is_none(), "s is already low for {message}");
        assert_eq!(sig, signer.signature(message.as_bytes()).expect("again"), "deterministic");
    }
}

/// RFC 8032 7.1, test 1: the empty message.
#[test]
fn eddsa_is_rfc8032() {
    let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").expect("hex");
    let mut der = hex::decode("302e020100300506032b657004220420").expect("hex");
    der.extend_from_slice(&seed);
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", base64::engine::general_purpose::STANDARD.encode(der));
    let signer = CanonicalSigner::new(Algorithm::EdDSA, pem.as_bytes()).expect("key");
    assert_eq!(
        hex::encode(signer.signature(b"").expect("signs")),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
}

#[test]
fn hmac_is_rfc4231_case_2() {
    // RFC 4231 test case 2 (key "Jefe"; jsonwebtoken takes any length).
    let signer = CanonicalSigner::new(Algorithm::HS256, b"Jefe").expect("key");
    assert_eq!(
        hex::encode(signer.signature(b"what do ya want for nothing?").expect("signs")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

fn rsa_key() -> RsaPrivateKey {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let key = RsaPrivateKey::new(&mut rng, 2048).expect("keygen");
    let _ = key.to_pkcs1_pem(Default::default()).expect("pem");
    key
}

#[test]
fn pss_is_deterministic_verifies_and_its_salt_depends_on_key_and_input() {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::signature::Verifier as _;
    let key = rsa_key();
    let pem = key.to_pkcs1_pem(Default::default()).expect("pem");
    let signer = CanonicalSigner::new(Algorithm::PS256, pem.as_bytes()).expect("key");
    let a = signer.signature(b"input a").expect("signs");
    assert_eq!(a, signer.signature(b"input a").expect("again"), "the same pair gives the same signature");
    assert_ne!(pss_seed(&key, b"input a"), pss_seed(&key, b"input b"));
    let verifier = rsa::pss::VerifyingKey::<Sha256>::new(key.to_public_key());
    let sig = rsa::pss::Signature::try_from(a.as_slice()).expect("signature");
    verifier.verify(b"input a", &sig).expect("a standard PSS verifier accepts it");
    // Another key's seed differs for the same input.
    let other = RsaPrivateKey::new(&mut ChaCha20Rng::from_seed([8; 32]), 2048).expect("keygen");
    assert_ne!(pss_seed(&key, b"input a"), pss_seed(&other, b"input a"));
}

#[test]
fn keys_of_the_wrong_kind_are_refused_without_quoting_them() {
    let err = CanonicalSigner::new(Algorithm::ES256, b"-----BEGIN PRIVATE KEY-----\nsecretstuff\n-----END PRIVATE KEY-----").expect_err("bad");
    assert!(matches!(err, CanonicalError::InvalidKey(_)));
    assert!(!err.to_string().contains("secretstuff"));
    assert!(CanonicalSigner::new(Algorithm::PS256, p256_pem().as_bytes()).is_err());
}
