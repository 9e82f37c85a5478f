//! The errors a client of the REST API sees: each one an HTTP status and a
//! JSON body `{"error": "<snake_code>", "message": "<human text>"}`.
//!
//! The code is the contract (docs/auth-backend.openapi.yaml); the message is
//! for people. No message carries a token, a device code or anything else
//! the client sent: they are built from fixed text and numbers only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::wire::ErrorBody;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400 `bad_request`: the body or a path parameter is not what the
    /// endpoint takes.
    #[error("{0}")]
    BadRequest(&'static str),
    /// 413 `payload_too_large`: the body is over [`crate::MAX_REQUEST_BODY_BYTES`].
    #[error("the request body is over {} bytes", crate::MAX_REQUEST_BODY_BYTES)]
    PayloadTooLarge,
    /// 401 `unauthorized`: no bearer session token, or one the backend does
    /// not know (never issued, expired, logged out, or its GitHub user token
    /// stopped working).
    #[error("no valid session: sign in again")]
    Unauthorized,
    /// 404 `invalid_installation`: the installation is not one the signed-in
    /// user can reach (or the App is no longer installed there).
    #[error("installation {0} is not one of this user's installations")]
    InvalidInstallation(u64),
    /// 403 `access_denied`: the user declined the sign-in at GitHub.
    #[error("the sign-in was declined at GitHub")]
    AccessDenied,
    /// 410 `expired_token`: the device code expired before the user approved it.
    #[error("the device code expired: start the sign-in again")]
    ExpiredToken,
    /// 400 `incorrect_device_code`: GitHub does not know the device code.
    #[error("the device code is not valid")]
    IncorrectDeviceCode,
    /// 502 `github_unavailable`: GitHub could not be reached, failed, or
    /// answered something unexpected.
    #[error("GitHub is unavailable: {0}")]
    GithubUnavailable(String),
    /// 429 `rate_limited`: GitHub's rate limit, or one of the backend's own.
    #[error("rate limited: {reason}")]
    RateLimited {
        /// What was limited.
        reason: &'static str,
        /// `Retry-After` to send (seconds, or as GitHub sent it).
        retry_after: Option<HeaderValue>,
    },
    /// 404 `not_found`: no such endpoint.
    #[error("no such endpoint")]
    NotFound,
    /// 405 `method_not_allowed`: the endpoint exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 500 `internal`: the backend itself failed (e.g. no randomness).
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// The `error` code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Unauthorized => "unauthorized",
            Self::InvalidInstallation(_) => "invalid_installation",
            Self::AccessDenied => "access_denied",
            Self::ExpiredToken => "expired_token",
            Self::IncorrectDeviceCode => "incorrect_device_code",
            Self::GithubUnavailable(_) => "github_unavailable",
            Self::RateLimited { .. } => "rate_limited",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::IncorrectDeviceCode => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::InvalidInstallation(_) | Self::NotFound => StatusCode::NOT_FOUND,
            Self::AccessDenied => StatusCode::FORBIDDEN,
            Self::ExpiredToken => StatusCode::GONE,
            Self::GithubUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), code = self.code(), "{self}");
        } else {
            tracing::debug!(status = status.as_u16(), code = self.code(), "{self}");
        }
        let body = ErrorBody { error: self.code().to_owned(), message: self.to_string() };
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::RateLimited { retry_after: Some(value), .. } = self {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_snake_case_code_and_a_4xx_or_5xx_status() {
        let all = [
            ApiError::BadRequest("x"),
            ApiError::PayloadTooLarge,
            ApiError::Unauthorized,
            ApiError::InvalidInstallation(1),
            ApiError::AccessDenied,
            ApiError::ExpiredToken,
            ApiError::IncorrectDeviceCode,
            ApiError::GithubUnavailable("x".into()),
            ApiError::RateLimited { reason: "x", retry_after: None },
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::Internal,
        ];
        for e in all {
            assert!(e.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", e.code());
            assert!(e.status().is_client_error() || e.status().is_server_error());
        }
    }
}
