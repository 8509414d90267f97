//! The certificate authority (Fulcio API v2) and the RFC 3161 timestamp authority as HTTP services.
//!
//! [`CertificateAuthority`] issues short-lived code-signing certificates to OIDC identities: it validates the token
//! (through an [`Authenticator`], normally `sigil-oidc`), checks the proof of possession and the key
//! ([`request`]), builds a precertificate, logs it to a CT log (through a [`PrecertLog`]) and returns the final
//! certificate with exactly one embedded SCT. Keys sign through `sigil_crypto::Signer`, so an HSM or KMS can
//! stand in for the in-memory keys. [`fulcio_api`] and [`timestamp_api`] are the axum routers.

pub mod authority;
pub mod dev_issuer_api;
mod error;
pub mod fulcio_api;
pub mod material;
pub mod oidc_auth;
pub mod request;
pub mod timestamp_api;

pub use authority::{Authenticator, BoxFuture, CertificateAuthority, Issued, PrecertLog};
pub use error::Error;
