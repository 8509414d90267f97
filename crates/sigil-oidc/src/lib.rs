//! OIDC ID-token validation and the claim → certificate-identity mapping of sigil's Fulcio-compatible CA.
//!
//! The core is sans-IO: no sockets, no clock (`now` is a parameter, unix seconds). The order of checks in
//! [`Validator::validate`]:
//! 1. size (≤ 16 KiB) and shape (three base64url parts) before any decoding (O-08);
//! 2. `alg` from an asymmetric allow-list; `none` and HMAC are rejected (O-01, O-02);
//! 3. `iss` looked up **exactly** in the configuration before any key lookup (O-05);
//! 4. the key only from that issuer's JWKS, by `kid` (O-12); an unknown `kid` is [`Error::UnknownKeyId`] (O-07);
//! 5. the signature (jsonwebtoken, aws-lc-rs backend), key type matching `alg`;
//! 6. `exp` required, `exp`/`nbf`/`iat` against `now` with a leeway (O-04); `aud` contains the client ID (O-03).
//!
//! [`cert_identity`] then maps the verified claims to a [`CertIdentity`] by issuer type (O-09, O-10, C-05).
//! [`dev::DevIssuer`] is a development-only issuer. The `http` feature adds discovery and JWKS fetching.

mod config;
pub mod dev;
mod error;
mod identity;
mod jwks;
mod template;
mod validate;

#[cfg(feature = "http")]
pub mod fetch;

pub use config::{
    CiProviderMetadata, DEFAULT_CLIENT_ID, GITHUB_WORKFLOW, GITLAB_PIPELINE, IssuerConfig, IssuerType, MAX_CONFIG_LEN,
    MAX_ISSUERS, MAX_TEMPLATE_LEN, OidcConfig, extension_arc,
};
pub use error::Error;
pub use identity::{
    ARC_TOKEN_SUBJECT, CertIdentity, MAX_IDENTITY_LEN, San, cert_identity, check_email, check_identity_value,
};
pub use jwks::{DEFAULT_REFRESH_INTERVAL_SECS, DEFAULT_TTL_SECS, IssuerKeys, JwksCache, MAX_JWKS_KEYS, MAX_JWKS_LEN};
pub use template::Template;
pub use validate::{DEFAULT_LEEWAY_SECS, MAX_CLAIM_LEN, MAX_TOKEN_LEN, Precheck, Validator, VerifiedToken};
