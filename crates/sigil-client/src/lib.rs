//! HTTP clients for the Sigstore services a signer talks to: Fulcio (`POST /api/v2/signingCert`), Rekor v1
//! (`POST /api/v1/log/entries`) and v2 (`POST /api/v2/log/entries`), RFC 3161 TSAs, and the identity-token
//! sources (GitHub Actions ambient credentials, the interactive OAuth login with a loopback redirect).
//!
//! [`HttpClient`] implements `sigil-sign`'s service traits. Its defaults are the safe ones:
//! - responses are read up to [`ClientOptions::max_response_bytes`] (1 MiB), never more;
//! - every call has a global timeout (30 s; Rekor v2 answers only after its next checkpoint);
//! - redirects are never followed, so a bearer token never leaves the host it was meant for (SECURITY.md O-06);
//! - `http://` and `https://` both work (private instances on loopback use plain HTTP); TLS is rustls with the
//!   aws-lc-rs provider and Mozilla's roots (webpki-roots), or the roots the caller supplies;
//! - one connection pool per client, so a signing run reuses connections to a host.
//!
//! Errors carry the service, the URL, the HTTP status and the server's own message.

mod http;
pub mod oauth;
mod services;
mod tuf;

pub use http::{ClientOptions, HttpClient};
pub use oauth::{discover, interactive_login, receive_callback};
pub use services::{fulcio_chain_from_response, rekor_v1_entry_from_response};

use sigil_sign::ServiceError;

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status.
    #[error("{service} at {url}: HTTP {status}: {message}")]
    Status {
        service: &'static str,
        url: String,
        status: u16,
        message: String,
    },
    /// No usable answer: connection, TLS, timeout, size limit.
    #[error("{service} at {url}: {reason}")]
    Transport {
        service: &'static str,
        url: String,
        reason: String,
    },
    /// A 2xx answer that is not what the protocol says.
    #[error("{service} at {url}: invalid response: {reason}")]
    Response {
        service: &'static str,
        url: String,
        reason: String,
    },
    /// The client could not be set up (TLS configuration, roots).
    #[error("setting up the HTTP client: {0}")]
    Setup(String),
    /// The interactive login failed.
    #[error("oauth login: {0}")]
    OAuth(String),
}

impl From<Error> for ServiceError {
    fn from(e: Error) -> Self {
        match e {
            Error::Status {
                service,
                url,
                status,
                message,
            } => ServiceError {
                service,
                url,
                status: Some(status),
                message,
            },
            Error::Transport { service, url, reason } => ServiceError {
                service,
                url,
                status: None,
                message: reason,
            },
            Error::Response { service, url, reason } => ServiceError {
                service,
                url,
                status: None,
                message: format!("invalid response: {reason}"),
            },
            other => ServiceError {
                service: "client",
                url: String::new(),
                status: None,
                message: other.to_string(),
            },
        }
    }
}
