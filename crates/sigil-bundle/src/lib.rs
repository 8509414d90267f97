//! Sigstore's wire formats as serde types, with exact proto3-JSON behaviour.
//!
//! - `bytes` fields are base64 (standard or URL-safe accepted, standard padded emitted);
//! - `int64` fields are emitted as strings and accepted as strings or numbers; negative values,
//!   exponents and fractions are rejected because no Sigstore index, size or time can be one;
//! - unknown fields are ignored; keys are lowerCamelCase (snake_case spellings are not accepted,
//!   so a bundle written with them fails on its missing required fields);
//! - defaults are omitted on output; parse → serialize → parse is the identity on these types.
//!
//! Every `from_json` entry point takes [`Limits`] so that no input can make a consumer allocate or
//! loop without bound (SECURITY.md V-18, L-03): the byte size is checked before parsing, serde_json
//! keeps its nesting limit of 128, and counts are checked before any cryptography runs.

pub mod bundle;
pub mod dsse;
pub mod encoding;
pub mod intoto;
pub mod jcs;
pub mod rekor;
pub mod trust;

pub use bundle::{Bundle, BundleVersion, Content, SignerMaterial, TransparencyLogEntry};
pub use dsse::{Envelope, pae};
pub use encoding::{Bytes, Int64, Timestamp};
pub use intoto::Statement;
pub use rekor::RekorBody;
pub use trust::{ClientTrustConfig, SigningConfig, TrustedRoot};

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("unknown media type {0:?}")]
    UnknownMediaType(String),
    #[error("invalid structure: {0}")]
    Structure(&'static str),
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    #[error("unsupported log entry type {0}")]
    UnsupportedEntry(String),
}

/// Bounds on untrusted input. The defaults are far above anything real clients produce and far
/// below what would hurt a verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_bundle_bytes: usize,
    pub max_trusted_root_bytes: usize,
    pub max_trust_instances: usize,
    pub max_tlog_entries: usize,
    pub max_timestamps: usize,
    pub max_certificates: usize,
    pub max_proof_hashes: usize,
    pub max_dsse_signatures: usize,
    pub max_subjects: usize,
    pub max_digests_per_subject: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // DSSE payloads (SBOMs, provenance) can be large; 32 MiB is well past real ones.
            max_bundle_bytes: 32 << 20,
            max_trusted_root_bytes: 4 << 20,
            max_trust_instances: 256,
            // sigstore-python caps timestamps at 32; the same bound fits tlog entries.
            max_tlog_entries: 32,
            max_timestamps: 32,
            max_certificates: 10,
            // A tree of 2^64 leaves needs at most 64 hashes.
            max_proof_hashes: 64,
            max_dsse_signatures: 16,
            max_subjects: 1024,
            max_digests_per_subject: 32,
        }
    }
}

/// Treats an explicit JSON `null` like an absent field (protobuf gateways emit nulls).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize as _;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
