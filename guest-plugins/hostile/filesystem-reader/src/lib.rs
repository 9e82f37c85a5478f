//! A signer that reads a file with `std::fs`, so its component imports
//! `wasi:filesystem`. The host must refuse it at load, naming that import.

wit_bindgen::generate!({
    path: "../../../wit/jwt@0.3",
    world: "tollgate:jwt/jwt-signer@0.3.0",
    generate_all,
});

use exports::tollgate::jwt::signer::Guest;
use tollgate::jwt::types::{Algorithm, DecodedToken, HeaderFields, JwtError};

struct FilesystemReader;

impl Guest for FilesystemReader {
    fn sign(_: Algorithm, _: Vec<u8>, _: HeaderFields, _: String) -> Result<String, JwtError> {
        std::fs::read_to_string("/etc/passwd").map_err(|e| JwtError::SigningFailed(e.to_string()))
    }

    fn decode(token: String) -> Result<DecodedToken, JwtError> {
        let keys = std::fs::read_to_string(token).map_err(|e| JwtError::SigningFailed(e.to_string()))?;
        Ok(DecodedToken { header: keys, payload: String::new(), signature: String::new() })
    }

    fn verify(_: String, _: Vec<u8>, _: Vec<Algorithm>, _: u32) -> Result<String, JwtError> {
        Err(JwtError::InvalidSignature)
    }
}

export!(FilesystemReader);
