//! `jwt:*`: decoding a token for display, and generating and verifying
//! tokens with a profile's key. All three run the jwt-signer guest; the
//! key never leaves the host (`tokens`).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::bridge::channels::Empty;
use crate::channels::{MAX_TOKEN_BYTES, READ, WRITE_QUOTA};
use crate::jwks_fetch;
use crate::channels::{BASE, store_error, token_error};
use crate::file_dialogs::DialogKind;
use crate::key_files::read_key_set_file;
use crate::services::AppServices;
use crate::tokens::{self, GeneratedToken, KeySetInvalidReason, KeySetVerification, Verification};
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Execution, Quota, RegistryError};
use crate::bridge::{BridgeError, ErrorCode};
use crate::jwt::{JwtError, MAX_KEY_SET_BYTES};
use crate::store::profiles::MAX_PAYLOAD_BYTES;
use crate::store::{ProfileId, timestamp};

/// `jwt:decode` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct JwtDecodeRequest {
    /// The token (compact JWS).
    pub token: String,
}

/// `jwt:decode` response. Nothing here is verified.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecodedJwt {
    /// The header, parsed.
    #[ts(type = "Record<string, unknown>")]
    pub header: Value,
    /// The claims, parsed.
    #[ts(type = "Record<string, unknown>")]
    pub payload: Value,
    /// The signature segment, base64url.
    pub signature: String,
    /// The header's `alg`, when it is a string.
    pub algorithm: Option<String>,
}

/// `jwt:decode`: splits a token through the jwt-signer guest.
pub struct DecodeJwt;
impl Channel for DecodeJwt {
    type Request = JwtDecodeRequest;
    type Response = DecodedJwt;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:decode",
        summary: "Decodes a token for display, inside the jwt-signer guest (nothing is verified).",
        max_payload_bytes: MAX_TOKEN_BYTES + 64,
        quota: Quota { per_second: 30, burst: 30 },
        execution: Execution::Heavy,
        ..READ
    };

    fn validate(request: &JwtDecodeRequest) -> Result<(), BridgeError> {
        check_token_field(&request.token)
    }

    fn sanitize(request: JwtDecodeRequest) -> JwtDecodeRequest {
        JwtDecodeRequest { token: request.token.trim().to_owned() }
    }
}

/// `jwt:generate` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    /// The profile to sign with.
    pub profile_id: ProfileId,
    /// One-off claims over the profile's payload (`iat` and `exp` are the
    /// host's regardless).
    #[serde(default)]
    #[ts(optional, type = "Record<string, unknown>")]
    pub overrides: Option<Map<String, Value>>,
}

/// `jwt:verify` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    /// The token (compact JWS).
    pub token: String,
    /// The profile whose key and algorithm it must verify under.
    pub profile_id: ProfileId,
}

/// `jwt:generate`.
pub struct GenerateToken;
impl Channel for GenerateToken {
    type Request = GenerateRequest;
    type Response = GeneratedToken;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:generate",
        summary: "Signs a token with a profile's key, inside the jwt-signer guest, verified by the host.",
        max_payload_bytes: MAX_PAYLOAD_BYTES + 1024,
        // Signing runs a guest (RSA: milliseconds); this bounds the CPU a
        // page can spend while leaving room for benchmarks.
        quota: Quota { per_second: 200, burst: 200 },
        state_changing: true,
        // A plugin call or key material: the heavy lane.
        execution: Execution::Heavy,
        ..BASE
    };
}

/// `jwt:verify`.
pub struct VerifyToken;
impl Channel for VerifyToken {
    type Request = VerifyRequest;
    type Response = Verification;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:verify",
        summary: "Verifies a token under a profile's key and algorithm: valid, or why not.",
        max_payload_bytes: MAX_TOKEN_BYTES + 128,
        quota: Quota { per_second: 30, burst: 30 },
        // A plugin call or key material: the heavy lane.
        execution: Execution::Heavy,
        ..BASE
    };

    fn validate(request: &VerifyRequest) -> Result<(), BridgeError> {
        check_token_field(&request.token)
    }

    fn sanitize(request: VerifyRequest) -> VerifyRequest {
        VerifyRequest { token: request.token.trim().to_owned(), ..request }
    }
}

/// `jwt:verify-key-set` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyKeySetRequest {
    /// The token (compact JWS).
    pub token: String,
    /// A JSON Web Key Set (`{"keys": [...]}`), as text: public keys only.
    pub key_set: String,
}

/// `jwt:verify-key-set`.
pub struct VerifyTokenWithKeySet;
impl Channel for VerifyTokenWithKeySet {
    type Request = VerifyKeySetRequest;
    type Response = KeySetVerification;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:verify-key-set",
        summary: "Verifies a token against a JSON Web Key Set: the token's kid picks the key, the key its algorithm; says which key matched.",
        since: "1.9",
        max_payload_bytes: MAX_TOKEN_BYTES + MAX_KEY_SET_BYTES + 128,
        quota: Quota { per_second: 30, burst: 30 },
        // A plugin call per key tried: the heavy lane.
        execution: Execution::Heavy,
        ..READ
    };

    fn validate(request: &VerifyKeySetRequest) -> Result<(), BridgeError> {
        check_token_field(&request.token)?;
        if request.key_set.trim().is_empty() {
            return Err(BridgeError::validation("keySet is empty"));
        }
        if request.key_set.len() > MAX_KEY_SET_BYTES {
            return Err(BridgeError::validation(format!("keySet is over {MAX_KEY_SET_BYTES} bytes")));
        }
        Ok(())
    }

    fn sanitize(request: VerifyKeySetRequest) -> VerifyKeySetRequest {
        VerifyKeySetRequest { token: request.token.trim().to_owned(), ..request }
    }
}

/// `jwt:verify-key-set-file` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct VerifyKeySetFileRequest {
    /// The token (compact JWS).
    pub token: String,
}

/// `jwt:verify-key-set-file`.
pub struct VerifyTokenWithKeySetFile;
impl Channel for VerifyTokenWithKeySetFile {
    type Request = VerifyKeySetFileRequest;
    type Response = Option<KeySetVerification>;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:verify-key-set-file",
        summary: "Opens the host's file dialog (only right after a click or key press in the window) for a JWKS file and verifies the token against it as jwt:verify-key-set does; null if cancelled. The page never learns the file's path.",
        since: "1.10",
        max_payload_bytes: MAX_TOKEN_BYTES + 64,
        quota: Quota { per_second: 1, burst: 2 },
        // A dialog the user answers, then plugin calls: the heavy lane.
        execution: Execution::Heavy,
        ..READ
    };

    fn validate(request: &VerifyKeySetFileRequest) -> Result<(), BridgeError> {
        check_token_field(&request.token)
    }

    fn sanitize(request: VerifyKeySetFileRequest) -> VerifyKeySetFileRequest {
        VerifyKeySetFileRequest { token: request.token.trim().to_owned() }
    }
}

/// `jwt:verify-key-set-url` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct VerifyKeySetUrlRequest {
    /// The token (compact JWS).
    pub token: String,
    /// Where the key set is: https (http only to this machine).
    pub url: String,
}

/// `jwt:key-set-hosts` / `jwt:forget-key-set-host` response.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KeySetHosts {
    /// The hosts key sets may be fetched from (`host` or `host:port`), in
    /// the order the user allowed them.
    pub hosts: Vec<String>,
}

/// `jwt:forget-key-set-host` request.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ForgetKeySetHost {
    /// A host of the list.
    pub host: String,
}

/// `jwt:verify-key-set-url`.
pub struct VerifyTokenWithKeySetUrl;
impl Channel for VerifyTokenWithKeySetUrl {
    type Request = VerifyKeySetUrlRequest;
    type Response = Option<KeySetVerification>;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:verify-key-set-url",
        summary: "Fetches the key set at an https URL (only from hosts the user allowed in the host's own dialog, asked on first use right after a click) and verifies the token against it as jwt:verify-key-set does; null if the user did not allow the host.",
        since: "1.10",
        max_payload_bytes: MAX_TOKEN_BYTES + 4096,
        quota: Quota { per_second: 1, burst: 3 },
        // A network call, then plugin calls.
        execution: Execution::Heavy,
        ..READ
    };

    fn validate(request: &VerifyKeySetUrlRequest) -> Result<(), BridgeError> {
        check_token_field(&request.token)
    }

    fn sanitize(request: VerifyKeySetUrlRequest) -> VerifyKeySetUrlRequest {
        VerifyKeySetUrlRequest { token: request.token.trim().to_owned(), url: request.url.trim().to_owned() }
    }
}

/// `jwt:key-set-hosts`.
pub struct ListKeySetHosts;
impl Channel for ListKeySetHosts {
    type Request = Empty;
    type Response = KeySetHosts;
    const SPEC: ChannelSpec = ChannelSpec { name: "jwt:key-set-hosts", summary: "The hosts key sets may be fetched from.", since: "1.10", ..READ };
}

/// `jwt:forget-key-set-host`.
pub struct ForgetKeySetHostChannel;
impl Channel for ForgetKeySetHostChannel {
    type Request = ForgetKeySetHost;
    type Response = KeySetHosts;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "jwt:forget-key-set-host",
        summary: "Takes a host off the list key sets may be fetched from (adding one takes the user's answer in the host's dialog).",
        since: "1.10",
        quota: WRITE_QUOTA,
        state_changing: true,
        ..BASE
    };
}

/// Registers `jwt:decode` (where the contract has always listed it: after
/// `plugins:*`).
pub fn register_decode(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<DecodeJwt, _>(move |_, req: JwtDecodeRequest| {
        if let Some(why) = jwe_explanation(&req.token) {
            return Err(invalid_token(&why));
        }
        let decoded = s.signer().decode(&req.token).map_err(decode_error)?;
        // The runtime admits only JSON-object parts (and checks the guest's
        // against its own); parsed again here for the page's view.
        let Ok(header) = serde_json::from_str::<Value>(&decoded.header) else {
            return Err(invalid_token("the header is not JSON"));
        };
        let Ok(payload) = serde_json::from_str::<Value>(&decoded.payload) else {
            return Err(invalid_token("the payload is not JSON"));
        };
        let algorithm = header.get("alg").and_then(Value::as_str).map(str::to_owned);
        Ok(DecodedJwt { header, payload, signature: decoded.signature, algorithm })
    })?;
    Ok(())
}

/// Registers `jwt:generate` and `jwt:verify` (after `crypto:encrypt`, as
/// the contract lists them).
pub fn register_tokens(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<GenerateToken, _>(move |_, req: GenerateRequest| {
        let profile = s.profiles().get(req.profile_id).map_err(store_error)?;
        tokens::generate(&s.signer(), s.secrets(), &profile, req.overrides, timestamp::now()).map_err(token_error)
    })?;

    let s = Arc::clone(services);
    registry.register::<VerifyToken, _>(move |_, req: VerifyRequest| {
        let profile = s.profiles().get(req.profile_id).map_err(store_error)?;
        if let Some(why) = jwe_explanation(&req.token) {
            return Ok(Verification { valid: false, reason: Some(tokens::InvalidReason::Malformed), message: Some(why) });
        }
        tokens::verify(&s.signer(), s.secrets(), &profile, &req.token).map_err(token_error)
    })?;

    let s = Arc::clone(services);
    registry.register::<VerifyTokenWithKeySet, _>(move |_, req: VerifyKeySetRequest| {
        verify_against_key_set(&s, &req.token, &req.key_set)
    })?;

    let s = Arc::clone(services);
    registry.register::<VerifyTokenWithKeySetFile, _>(move |ctx, req: VerifyKeySetFileRequest| {
        let Some(path) = s.file_dialogs().pick(ctx.window, DialogKind::OpenKeySet)? else {
            return Ok(None);
        };
        let key_set = read_key_set_file(&path)?;
        verify_against_key_set(&s, &req.token, &key_set).map(Some)
    })?;

    let s = Arc::clone(services);
    registry.register::<VerifyTokenWithKeySetUrl, _>(move |ctx, req: VerifyKeySetUrlRequest| {
        let target = jwks_fetch::check_url(&req.url).map_err(fetch_error)?;
        if !s.jwks_hosts().allows(&target.host).map_err(store_error)? {
            if !s.file_dialogs().confirm_host(ctx.window, &target.host)? {
                return Ok(None);
            }
            s.jwks_hosts().allow(&target.host).map_err(store_error)?;
            tracing::info!(host = %target.host, "the user allowed key sets from a host");
        }
        let key_set = jwks_fetch::fetch(&target.url, jwks_fetch::FETCH_TIMEOUT).map_err(fetch_error)?;
        verify_against_key_set(&s, &req.token, &key_set).map(Some)
    })?;
    let s = Arc::clone(services);
    registry.register::<ListKeySetHosts, _>(move |_, _: Empty| Ok(KeySetHosts { hosts: s.jwks_hosts().list().map_err(store_error)? }))?;
    let s = Arc::clone(services);
    registry.register::<ForgetKeySetHostChannel, _>(move |_, req: ForgetKeySetHost| {
        Ok(KeySetHosts { hosts: s.jwks_hosts().forget(&req.host).map_err(store_error)? })
    })?;
    Ok(())
}

fn fetch_error(e: jwks_fetch::FetchError) -> BridgeError {
    use jwks_fetch::FetchError;
    let code = match e {
        FetchError::Url(_) => ErrorCode::InvalidInput,
        FetchError::Network(_) => ErrorCode::NetworkError,
        FetchError::Timeout(_) => ErrorCode::Timeout,
        FetchError::Answer(_) => ErrorCode::BackendError,
    };
    BridgeError::new(code, e.to_string())
}

/// `token` against the JWKS `key_set` (`jwt:verify-key-set` and its file
/// form); a JWE is answered as malformed, not tried.
fn verify_against_key_set(s: &AppServices, token: &str, key_set: &str) -> Result<KeySetVerification, BridgeError> {
    if let Some(why) = jwe_explanation(token) {
        return Ok(KeySetVerification { valid: false, reason: Some(KeySetInvalidReason::Malformed), message: Some(why), key: None, keys_tried: 0 });
    }
    tokens::verify_with_key_set(&s.signer(), token, key_set, 0).map_err(token_error)
}

/// The `token` field of `jwt:decode` and `jwt:verify`: not blank, within
/// [`MAX_TOKEN_BYTES`].
fn check_token_field(token: &str) -> Result<(), BridgeError> {
    if token.trim().is_empty() {
        return Err(BridgeError::validation("token is empty"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(BridgeError::validation(format!("token is over {MAX_TOKEN_BYTES} bytes")));
    }
    Ok(())
}

/// A compact JWE (RFC 7516: five segments, a protected header that names
/// `enc`), explained in a sentence; `None` for anything else. Tollgate
/// signs, decodes and verifies signed tokens (JWS); it does not decrypt,
/// and says so instead of calling five segments malformed. The header's
/// values are untrusted: only their first 32 characters of
/// `[A-Za-z0-9+._-]` are shown.
fn jwe_explanation(token: &str) -> Option<String> {
    let segments: Vec<&str> = token.split('.').collect();
    let [header, ..] = segments.as_slice() else { return None };
    if segments.len() != 5 {
        return None;
    }
    let header: Map<String, Value> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let enc = header.get("enc")?.as_str()?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let shown = |v: &str| -> String { v.chars().filter(|c| c.is_ascii_alphanumeric() || "+._-".contains(*c)).take(32).collect() };
    Some(format!(
        "this is an encrypted token (JWE, RFC 7516; key management `{}`, content encryption `{}`): its claims are encrypted \
         for the recipient's key, so there is nothing to show or verify here. Tollgate decodes and verifies signed tokens \
         (JWS, three segments) and does not decrypt",
        shown(alg),
        shown(enc)
    ))
}

fn invalid_token(message: &str) -> BridgeError {
    BridgeError::new(ErrorCode::InvalidToken, message)
}

fn decode_error(e: JwtError) -> BridgeError {
    // Typed, not by code string: `TOKEN_TOO_LARGE` was matched here once,
    // and nothing produced it (an oversized token is MALFORMED_TOKEN).
    match e {
        JwtError::MalformedToken(_) | JwtError::InvalidHeader(_) | JwtError::InvalidClaims(_) => invalid_token(&e.to_string()),
        _ => {
            tracing::warn!(error = %e, "jwt:decode failed in the plugin");
            BridgeError::new(ErrorCode::PluginError, "the jwt-signer plugin could not decode the token")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_compact_jwe_is_recognised_and_explained() {
        let jwe = format!("{}.a2V5.aXY.Y2lwaGVy.dGFn", segment(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"k1"}"#));
        let why = jwe_explanation(&jwe).expect("a JWE");
        assert!(why.contains("JWE") && why.contains("`RSA-OAEP-256`") && why.contains("`A256GCM`"), "{why}");
        // Direct encryption leaves the key segment empty.
        let direct = format!("{}..aXY.Y2lwaGVy.dGFn", segment(r#"{"alg":"dir","enc":"A128CBC-HS256"}"#));
        assert!(jwe_explanation(&direct).expect("a JWE").contains("`dir`"));
    }

    #[test]
    fn anything_else_is_left_to_the_signer() {
        let header = segment(r#"{"alg":"HS256","enc":"A256GCM"}"#);
        assert_eq!(jwe_explanation(&format!("{header}.e30.c2ln")), None, "three segments are a JWS");
        assert_eq!(jwe_explanation(&format!("{}.a.b.c.d", segment(r#"{"alg":"HS256"}"#))), None, "no enc");
        assert_eq!(jwe_explanation("not base64!.a.b.c.d"), None);
        assert_eq!(jwe_explanation(&format!("{}.a.b.c.d", segment("[1]"))), None, "not an object");
        assert_eq!(jwe_explanation(&format!("{}.a.b.c.d", segment(r#"{"enc":7}"#))), None, "enc not a string");
    }

    #[test]
    fn the_headers_values_are_shown_only_as_safe_characters() {
        let hostile = format!("{}.a.b.c.d", segment(r#"{"alg":"<img src=x onerror=alert(1)>\u202e","enc":"A256GCM`; rm -rf /"}"#));
        let why = jwe_explanation(&hostile).expect("a JWE");
        assert!(why.contains("`imgsrcxonerroralert1`"), "{why}");
        assert!(why.contains("`A256GCMrm-rf`"), "{why}");
        assert!(!why.contains('<') && !why.contains('\u{202e}'), "{why}");
    }
}
