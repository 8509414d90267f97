//! X.509 for Sigstore: Fulcio certificates, their identity, chain validation and embedded SCTs.
//!
//! # What this crate checks, and why
//!
//! **Parsing** ([`Certificate::from_der`]). A certificate is at most 64 KiB, strict DER (definite, minimal
//! lengths; no trailing bytes; nesting at most [`MAX_DER_DEPTH`] levels, walked without recursion), version 3,
//! with the outer `signatureAlgorithm` equal to the TBS `signature` field (RFC 5280 §4.1.1.2). Two parsers read
//! every certificate: `x509-parser` (validity, names, overall structure) and sigil's own bounded DER reader
//! (extensions, SAN, Fulcio OIDs, SCT list, the TBS bytes for signature and SCT checks); they must agree. A
//! certificate with the same extension twice is rejected outright (RFC 5280 §4.2, SECURITY.md V-08): sigil never
//! lets "the last one win". The public key must be one `sigil-crypto` can parse.
//!
//! **Identity** ([`Certificate::identity`]). The SANs (email, URI, the Fulcio username `OtherName`
//! `1.3.6.1.4.1.57264.1.7`, DNS) are kept with their type, so a username that looks like an email never matches an
//! email policy (V-09). Every Fulcio extension `1.3.6.1.4.1.57264.1.1 ..= .24` is decoded with its own encoding
//! (`.1`–`.6` raw UTF-8, `.8`–`.24` DER UTF8String; PROTOCOL.md §3). The issuer is `.8`, falling back to `.1`;
//! if both are present and differ the identity is an error ([`Error::IssuerConflict`], V-08).
//!
//! **Chains** ([`verify_chain`]). Only the chain given is used: it must come from the trusted root (the CA's
//! `certChain`, issuing CA first, anchor last). Intermediates shipped inside a bundle are never trusted (V-20):
//! the caller drops them and passes trusted-root material only. There is no path building, so no candidate
//! explosion; at most [`MAX_CHAIN_LEN`] certificates. Every certificate, the anchor included, must be
//! valid at the verification time (GHSA-wfqv / V-16: an expired intermediate fails even if the leaf is valid).
//! The leaf must not be a CA, must have KeyUsage `digitalSignature` and the required EKU; every CA must have
//! BasicConstraints `cA=true`, KeyUsage `keyCertSign`, a respected `pathLenConstraint`, and, if it restricts EKUs,
//! allow the required one. Unknown critical extensions are rejected anywhere in the path (RFC 5280 §4.2), which
//! also rejects a CT precertificate (critical poison extension) presented as a leaf. Signatures are checked
//! link by link after all the cheaper checks; the anchor's own signature is not checked (it is trusted by
//! configuration).
//!
//! **SCTs** ([`verify_embedded_scts`]). Precertificate SCTs (RFC 6962 §3.2) are verified against the trusted
//! root's CT logs over the TBS rebuilt without the SCT extension; an SCT from a known log with a bad signature
//! is an error, SCTs from unknown logs or outside their log's validity window are not counted, and SCTs are
//! counted once per log (GHSA-9vcr / V-19).
//!
//! **Issuing** ([`self_signed_root`], [`intermediate`], [`build_precertificate`] / [`finish_certificate`],
//! [`tsa_leaf`]). Hand-written DER signed through `sigil_crypto::Signer`: the Fulcio leaf profile Python's
//! `cryptography` accepts (INTEROP.md §0.4), the precertificate TBS without poison byte-identical to the final TBS
//! without SCT list, nothing taken from a CSR (C-04), no certificate outliving its issuer (C-08).
//!
//! Everything here is synchronous and takes time as a parameter (unix seconds); there is no clock.

mod cert;
mod chain;
mod derutil;
mod identity;
mod issue;
mod sct;

pub use cert::Certificate;
pub use chain::{ExtendedKeyUsage, TrustedChain, check_end_entity, verify_chain};
pub use identity::{FulcioExtensions, FulcioIdentity, SubjectAltName};
pub use issue::{
    Issuer, LeafRequest, LeafSan, Name, Precertificate, build_precertificate, finish_certificate, intermediate,
    random_serial, self_signed_root, tsa_leaf,
};
pub use sct::{
    CtLog, SignedSct, VerifiedSct, encode_sct_list, precert_merkle_leaf, precert_signed_data, sign_precert_sct,
    sign_precert_sct_in_memory, tbs_without_extensions, tbs_without_poison, tbs_without_sct, tls_signature_algorithm,
    verify_embedded_scts,
};

/// Largest certificate accepted, in bytes.
pub const MAX_CERT_LEN: usize = 64 * 1024;
/// Most certificates [`verify_chain`] accepts in the trusted chain (the leaf not counted).
pub const MAX_CHAIN_LEN: usize = 10;
/// Deepest DER nesting accepted inside a certificate.
pub const MAX_DER_DEPTH: usize = 16;
/// Most extensions one certificate may carry.
pub const MAX_EXTENSIONS: usize = 64;
/// Most SCTs examined in one certificate.
pub const MAX_SCTS: usize = 32;

/// Errors of this crate. `depth` is a position in the path: 0 is the leaf, 1 the issuing CA, and so on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The certificate is not well-formed DER or not a well-formed X.509 certificate.
    #[error("malformed certificate: {0}")]
    Parse(String),
    /// The input is larger than [`MAX_CERT_LEN`].
    #[error("certificate is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// Only X.509 v3 certificates are accepted.
    #[error("only X.509 v3 certificates are accepted")]
    UnsupportedVersion,
    /// The same extension appears twice (RFC 5280 §4.2).
    #[error("duplicate extension {0}")]
    DuplicateExtension(String),
    /// An extension sigil reads is malformed.
    #[error("malformed extension {oid}: {reason}")]
    BadExtension { oid: String, reason: &'static str },
    /// The legacy (`.1.1`) and current (`.1.8`) Fulcio issuer extensions disagree.
    #[error("issuer extensions disagree: 1.3.6.1.4.1.57264.1.1 is {v1:?}, 1.3.6.1.4.1.57264.1.8 is {v2:?}")]
    IssuerConflict { v1: String, v2: String },
    /// A signature or key algorithm sigil cannot verify.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The certificate's public key cannot be used.
    #[error("invalid public key: {0}")]
    InvalidKey(String),
    /// No trusted chain was given.
    #[error("the trusted chain is empty")]
    EmptyChain,
    /// The trusted chain is longer than [`MAX_CHAIN_LEN`].
    #[error("the trusted chain has {len} certificates, over the limit of {max}")]
    ChainTooLong { len: usize, max: usize },
    /// The issuer name of the certificate at `depth` is not the subject of the next one.
    #[error("certificate at depth {depth} was not issued by the next certificate in the chain (names differ)")]
    ChainBroken { depth: usize },
    /// The signature on the certificate at `depth` does not verify under the next certificate's key.
    #[error("signature on the certificate at depth {depth} does not verify")]
    BadSignature { depth: usize },
    /// The certificate at `depth` expired before `at`.
    #[error("certificate at depth {depth} expired at {not_after}, before {at}")]
    Expired { depth: usize, not_after: i64, at: i64 },
    /// The certificate at `depth` is not yet valid at `at`.
    #[error("certificate at depth {depth} is not valid before {not_before}, after {at}")]
    NotYetValid { depth: usize, not_before: i64, at: i64 },
    /// The leaf is a CA certificate.
    #[error("the leaf certificate is a CA")]
    LeafIsCa,
    /// A certificate used as an issuer is not a CA.
    #[error("certificate at depth {depth} is not a CA")]
    NotCa { depth: usize },
    /// A required KeyUsage bit is missing.
    #[error("certificate at depth {depth} lacks key usage {usage}")]
    MissingKeyUsage { depth: usize, usage: &'static str },
    /// The required extended key usage is missing (or not allowed by a CA).
    #[error("certificate at depth {depth} does not allow extended key usage {required}")]
    MissingEku { depth: usize, required: ExtendedKeyUsage },
    /// A CA's `pathLenConstraint` is exceeded.
    #[error("certificate at depth {depth} allows {path_len} intermediates below it, the chain has more")]
    PathLenExceeded { depth: usize, path_len: u64 },
    /// A critical extension sigil does not process.
    #[error("certificate at depth {depth} has unknown critical extension {oid}")]
    UnknownCriticalExtension { depth: usize, oid: String },
    /// The leaf carries no embedded SCT list.
    #[error("the certificate has no embedded SCTs")]
    MissingSct,
    /// The SCT list is malformed.
    #[error("malformed SCT list: {0}")]
    MalformedSct(&'static str),
    /// An SCT from a trusted CT log does not verify.
    #[error("SCT from CT log {} does not verify", hex_id(.log_id))]
    SctInvalid { log_id: [u8; 32] },
    /// No SCT verified against a trusted CT log valid at the SCT's time.
    #[error("no SCT verified against a trusted CT log")]
    NoValidSct,
    /// Issuing: the signer's public key is not the issuer certificate's key.
    #[error("issuer signer key does not match the issuer certificate")]
    IssuerKeyMismatch,
    /// Issuing: the certificate cannot issue certificates.
    #[error("unsuitable issuer: {0}")]
    UnsuitableIssuer(&'static str),
    /// Issuing (C-08): the requested validity is not inside the issuer's own validity.
    #[error(
        "requested validity {not_before}..{not_after} is outside the issuer's validity {issuer_not_before}..{issuer_not_after}"
    )]
    ValidityBeyondIssuer {
        not_before: i64,
        not_after: i64,
        issuer_not_before: i64,
        issuer_not_after: i64,
    },
    /// Issuing: `not_before` is after `not_after`.
    #[error("invalid validity: not_before {not_before} is after not_after {not_after}")]
    InvalidValidity { not_before: i64, not_after: i64 },
    /// Issuing: a name, SAN, extension or serial that cannot be issued.
    #[error("invalid certificate request: {0}")]
    InvalidRequest(String),
    /// Issuing: the signer failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

fn hex_id(id: &[u8; 32]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl From<sigil_crypto::Error> for Error {
    fn from(e: sigil_crypto::Error) -> Self {
        match e {
            sigil_crypto::Error::Der(m) => Error::Parse(m.to_string()),
            sigil_crypto::Error::Pem(m) => Error::Parse(format!("PEM: {m}")),
            sigil_crypto::Error::InvalidKey(m) => Error::InvalidKey(m.to_string()),
            sigil_crypto::Error::UnsupportedAlgorithm(m) => Error::UnsupportedAlgorithm(m),
            other => Error::Parse(other.to_string()),
        }
    }
}
