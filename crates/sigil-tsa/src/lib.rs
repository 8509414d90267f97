//! RFC 3161 time-stamp responses for Sigstore: parsing, CMS SignedData verification, requests, and the issuing
//! side of a timestamp authority ([`TimestampIssuer`], [`parse_request`]).
//!
//! A Sigstore bundle stores each RFC 3161 timestamp as the full DER `TimeStampResp` (PROTOCOL.md §6). Its
//! message imprint is the hash of the bundle's *signature bytes* (`messageSignature.signature` or the first
//! DSSE signature), not of the artifact: a timestamp proves the signature existed at `genTime`.
//!
//! # What [`verify_timestamp`] checks, and why
//!
//! 1. **The signer is trusted, and only trusted material supplies keys** (T-03, gitsign fb02437). The
//!    SignerInfo's `sid` (issuer and serial number, or subject key identifier) must name the leaf (`chain[0]`) of
//!    a trusted-root timestamp authority; the certificates embedded in the response are parsed for diagnostics
//!    but never used to verify anything. No match is [`Error::UntrustedSigner`].
//! 2. **Per-authority validity windows** (T-04, TOB-SIGSTORE-11). The authority's trusted-root `validFor`
//!    (inclusive at both ends) must contain `genTime`; otherwise [`Error::OutsideAuthorityWindow`]. An authority
//!    with an empty chain never matches, whatever its window.
//! 3. **The CMS signature** (RFC 5652 §5.4). Signed attributes are required; their DER, re-tagged as a SET
//!    (`0x31`), must verify under the trusted leaf's key. `contentType` must be id-ct-TSTInfo and
//!    `messageDigest` must equal the hash of the encapsulated TSTInfo under the SignerInfo's digest algorithm.
//!    If an ESS `signingCertificateV2` attribute is present (RFC 5816), its first certificate hash must match
//!    the trusted leaf.
//! 4. **The chain at `genTime`**: the leaf has EKU timeStamping and the trusted chain is valid at `genTime`
//!    (`sigil_x509::verify_chain`; an expired TSA certificate fails even if the token is otherwise good).
//! 5. **The imprint** (T-05, conformance `rekor2-timestamp-payload-mismatch_fail`): `H(signed_bytes)` with the
//!    TSTInfo's hash algorithm must equal the imprint. The caller checks a request nonce with
//!    [`TstInfo::check_nonce`].
//!
//! `genTime` is read before the signature is checked only to pick the authority; it is returned only after
//! every check passed. Comparing it with the signing certificate's validity and with "now" is the caller's
//! job (this crate has no clock). Parsing is bounded: at most [`MAX_RESPONSE_LEN`] bytes, no trailing data,
//! one level of DER at a time (no recursion), at most [`MAX_EMBEDDED_CERTS`] embedded certificates.

mod issue;
mod parse;
mod request;
mod verify;

pub use issue::{
    Accuracy, MAX_NONCE_LEN, MAX_REQUEST_LEN, ParsedRequest, TimestampIssuer, hash_algorithm_from_name, parse_request,
};
pub use parse::{SignerId, SignerInfo, TimeStampResponse, TstInfo, parse_signer_info};
pub use request::TimeStampRequest;
pub use verify::{
    PreparedAuthorities, TimestampAuthority, VerifiedTimestamp, verify_timestamp, verify_timestamp_prepared,
};

/// Largest `TimeStampResp` accepted, in bytes.
pub const MAX_RESPONSE_LEN: usize = 64 * 1024;
/// Most certificates a response may embed.
pub const MAX_EMBEDDED_CERTS: usize = 16;

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The response is not a well-formed `TimeStampResp` / CMS `SignedData` / `TSTInfo`.
    #[error("malformed time-stamp response: {0}")]
    Malformed(String),
    /// The input is larger than [`MAX_RESPONSE_LEN`].
    #[error("time-stamp response is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// The TSA did not grant the request (PKIStatus other than granted or grantedWithMods).
    #[error("time-stamp request was not granted (status {status})")]
    NotGranted { status: u64 },
    /// A granted response without a time-stamp token.
    #[error("time-stamp response carries no token")]
    MissingToken,
    /// A hash or signature algorithm sigil does not support.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The message imprint is not the hash of the signed bytes.
    #[error("time-stamp imprint does not match the signature bytes")]
    ImprintMismatch,
    /// The TSTInfo nonce is not the request's nonce.
    #[error("time-stamp nonce does not match the request")]
    NonceMismatch,
    /// The signer is a trusted authority, but no such authority's validity window contains `genTime`.
    #[error("time-stamp genTime {gen_time} is outside the validity window of every matching trusted authority")]
    OutsideAuthorityWindow { gen_time: i64 },
    /// The SignerInfo does not identify the leaf of any trusted authority.
    #[error("time-stamp signer is not a trusted timestamp authority")]
    UntrustedSigner,
    /// The signed `contentType` attribute is not id-ct-TSTInfo.
    #[error("signed contentType is not id-ct-TSTInfo")]
    ContentTypeMismatch,
    /// The signed `messageDigest` attribute is not the hash of the TSTInfo.
    #[error("signed messageDigest does not match the TSTInfo")]
    MessageDigestMismatch,
    /// The ESS signing-certificate attribute names another certificate than the trusted leaf.
    #[error("signingCertificateV2 does not match the trusted signing certificate")]
    SigningCertificateMismatch,
    /// The CMS signature does not verify under the trusted leaf's key.
    #[error("CMS signature does not verify")]
    BadSignature,
    /// The trusted chain is not valid for timestamping at `genTime`.
    #[error("timestamp authority chain invalid at genTime: {0}")]
    ChainInvalid(sigil_x509::Error),
    /// Issuing: the request is larger than [`MAX_REQUEST_LEN`] (T-01).
    #[error("time-stamp request is {len} bytes, over the {max}-byte limit")]
    RequestTooLarge { len: usize, max: usize },
    /// Issuing: the request is not a well-formed DER `TimeStampReq`.
    #[error("malformed time-stamp request: {0}")]
    BadRequest(String),
    /// Issuing: the message imprint uses SHA-1 or MD5 (T-02).
    #[error("weak hash: {0}")]
    WeakHash(String),
    /// Issuing: the imprint length is not the size of its hash (T-02).
    #[error("inconsistent digest length: {got} bytes, the algorithm produces {expected}")]
    InconsistentDigestLength { expected: usize, got: usize },
    /// Issuing: the request asks for a policy this TSA does not issue under.
    #[error("unsupported policy {0}")]
    UnsupportedPolicy(String),
    /// Issuing: the request carries a critical extension.
    #[error("unsupported critical request extension {0}")]
    UnsupportedExtension(String),
    /// Issuing: the key or certificate chain cannot issue timestamps.
    #[error("unsuitable timestamp signer: {0}")]
    UnsuitableSigner(String),
    /// Issuing: the signer failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl From<sigil_crypto::Error> for Error {
    fn from(e: sigil_crypto::Error) -> Self {
        match e {
            sigil_crypto::Error::UnsupportedAlgorithm(m) => Error::UnsupportedAlgorithm(m),
            other => Error::Malformed(other.to_string()),
        }
    }
}

fn malformed(what: &str) -> Error {
    Error::Malformed(what.to_string())
}
