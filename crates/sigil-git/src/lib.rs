//! Git commit signatures in gitsign's format (`gpg.format=x509`): a detached CMS `SignedData` (RFC 5652) whose
//! one SignerInfo signs SHA-256 of the commit through signed attributes, with the Sigstore material (RFC 3161
//! timestamps, the Rekor entry) carried as unsigned attributes ([`cms`]), and the protobuf encoding of the
//! Rekor `TransparencyLogEntry` that gitsign stores there ([`tle`]); and commit and tag objects split into the
//! bytes git signs and their signature ([`object`]).

pub mod cms;
pub mod object;
pub mod tle;

/// Errors of this crate. Each names the step that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The armored signature is larger than the limit.
    #[error("signature is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// The armor is not one `SIGNED MESSAGE` PEM block.
    #[error("signature armor: {problem}")]
    Armor { problem: String },
    /// Malformed DER at a named step of the CMS structure.
    #[error("malformed signature at {step}: {detail}")]
    Malformed { step: &'static str, detail: String },
    /// More elements of some kind than the parser accepts.
    #[error("too many {what}: more than {max}")]
    TooMany { what: &'static str, max: usize },
    /// The ContentInfo is not `id-signedData`.
    #[error("content type is {oid}, not signedData")]
    NotSignedData { oid: String },
    /// The encapsulated content type is not `id-data`, or the content is present (not detached).
    #[error("encapsulated content: {problem}")]
    NotDetached { problem: &'static str },
    /// Not exactly one SignerInfo.
    #[error("expected exactly one signerInfo, found {count}")]
    SignerInfoCount { count: usize },
    /// A digest algorithm other than SHA-256.
    #[error("unsupported digest algorithm {algorithm}")]
    UnsupportedDigest { algorithm: String },
    /// A signature algorithm other than ECDSA with SHA-256.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm { oid: String },
    /// A signed attribute is missing, repeated or has the wrong value.
    #[error("signed attribute {attribute}: {problem}")]
    SignedAttribute { attribute: &'static str, problem: String },
    /// The signed messageDigest is not SHA-256 of the payload git signed.
    #[error("messageDigest does not match sha-256 of the signed payload")]
    DigestMismatch,
    /// The signature includes no certificates.
    #[error("the signature includes no certificates")]
    NoCertificates,
    /// No included certificate is the one the SignerInfo names.
    #[error("no included certificate matches the signer identifier")]
    SignerNotFound,
    /// Two different included certificates match the signer identifier.
    #[error("{count} different included certificates match the signer identifier")]
    AmbiguousSigner { count: usize },
    /// A certificate that cannot be used.
    #[error("certificate: {detail}")]
    Certificate { detail: String },
    /// An unsigned attribute carrying Sigstore material is malformed.
    #[error("unsigned attribute {attribute}: {problem}")]
    UnsignedAttribute { attribute: &'static str, problem: String },
    /// Malformed protobuf `TransparencyLogEntry`.
    #[error("transparency log entry protobuf at byte {offset}: {problem}")]
    Protobuf { offset: usize, problem: &'static str },
    /// The bundle given to [`cms::assemble`] lacks something or is inconsistent.
    #[error("bundle: {problem}")]
    Bundle { problem: String },
    /// A commit or tag object that could be read two ways, or is not an object at all.
    #[error("malformed object: {0}")]
    Object(String),
    /// The commit or tag carries no signature.
    #[error("the object is not signed")]
    Unsigned,
}
