//! The JWT service: signing, decoding and verifying through a signer
//! plugin, with every input checked before the call and every output
//! re-verified natively before anyone sees it.

mod algorithm;
pub mod backend;
pub mod generate;
mod error;
pub mod header;
mod import;
mod key;
pub mod quarantine;
mod signer;
mod verify_output;

pub use algorithm::Algorithm;
pub use error::JwtError;
pub use header::ExtraHeader;
pub use generate::{KeySetKey, MAX_KEY_SET_BYTES, PublicKey, generate, jwks, key_set, public_key};
pub use import::private_key_from_file;
pub use key::SigningKey;
pub use signer::{AnswerSchedule, DecodedToken, JwtSigner, SignRequest};
pub use verify_output::{MAX_KID_BYTES, MAX_TYP_BYTES, NOT_CANONICAL, verify_signer_output};
