//! The one response shape: `{ success, data, error, requestId }`.

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use crate::error::{BridgeError, ErrorCode};

/// The error half of a response.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(rename = "TollgateErrorBody")]
pub struct ErrorBody {
    /// A code from the closed set.
    pub code: ErrorCode,
    /// What was wrong, for people.
    pub message: String,
    /// Structured details, or `null`.
    #[ts(type = "unknown")]
    pub details: Option<Value>,
}

/// Every answer to the webview, success or not.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "TollgateResponse")]
pub struct BridgeResponse {
    /// `true` exactly when `error` is `null`.
    pub success: bool,
    /// The channel's response, or `null` on failure.
    #[ts(type = "unknown")]
    pub data: Option<Value>,
    /// The error, or `null` on success.
    pub error: Option<ErrorBody>,
    /// The caller's request id, or `null` when the envelope was too broken
    /// to carry one.
    pub request_id: Option<String>,
}

impl BridgeResponse {
    /// A success.
    pub fn ok(request_id: Option<String>, data: Value) -> Self {
        Self { success: true, data: Some(data), error: None, request_id }
    }

    /// A failure.
    pub fn err(request_id: Option<String>, error: BridgeError) -> Self {
        Self {
            success: false,
            data: None,
            error: Some(ErrorBody { code: error.code, message: error.message, details: error.details }),
            request_id,
        }
    }

    /// The JSON text sent to the page.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"success":false,"data":null,"error":{"code":"INTERNAL_ERROR","message":"response could not be encoded","details":null},"requestId":null}"#.to_owned()
        })
    }
}
