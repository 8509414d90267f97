//! The CA's errors and their HTTP answers (SECURITY.md's error contract).

use sigil_http::HttpError;

/// Why a request was not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Malformed input, bad proof of possession (400).
    #[error("{0}")]
    BadRequest(String),
    /// A key the CA does not certify (400).
    #[error("insecure public key: {0}")]
    InsecureKey(String),
    /// The identity token is not acceptable (401).
    #[error("invalid identity token: {0}")]
    Unauthenticated(String),
    /// The token is valid but the identity may not get a certificate (403).
    #[error("identity not allowed: {0}")]
    Forbidden(String),
    /// A dependency (CT log, signing key) failed: nothing was issued (503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Setting the authority up failed (key or certificate files).
    #[error("setup: {0}")]
    Setup(String),
}

impl From<Error> for HttpError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::BadRequest(_) | Error::InsecureKey(_) => HttpError::bad_request(message),
            Error::Unauthenticated(_) => HttpError::unauthorized(message),
            Error::Forbidden(_) => HttpError::new(axum::http::StatusCode::FORBIDDEN, message),
            Error::Unavailable(_) | Error::Setup(_) => HttpError::unavailable(message),
        }
    }
}
