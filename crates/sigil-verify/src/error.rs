//! The verifier's one error type: a stable code naming the failed step, plus a human detail.

/// Stable, machine-readable names of the checks. The string forms (`code().as_str()`) never change
/// meaning once released; new codes may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// The bundle is not valid JSON / proto3 JSON, or violates a structural rule of its version.
    BundleFormat,
    /// The bundle's media type names no known version.
    UnknownMediaType,
    /// A size or count bound was exceeded; nothing was verified.
    LimitExceeded,
    /// The trusted root could not be used.
    TrustedRootInvalid,
    /// The bundle's signer material does not fit the requested verification (key vs certificate).
    MaterialMismatch,
    /// The signing certificate or key could not be parsed.
    SignerInvalid,
    /// The bundle's certificate chain carries a root certificate.
    ChainContainsRoot,
    /// A DSSE envelope must carry exactly one signature.
    DsseSignatureCount,
    /// The DSSE payload is not an acceptable in-toto statement.
    DssePayloadInvalid,
    /// The artifact's digest differs from the one the bundle or statement names.
    ArtifactDigestMismatch,
    /// The signature over the artifact / DSSE PAE does not verify.
    SignatureInvalid,
    /// The bundle has no (or too few) transparency-log entries.
    TlogEntryMissing,
    /// Two entries name the same log and index.
    DuplicateTlogEntry,
    /// No trusted log has the entry's log ID.
    UnknownTlog,
    /// The entry's body is absent or undecodable.
    TlogBodyInvalid,
    /// The entry's body does not describe this bundle's signature, key and artifact.
    TlogBodyMismatch,
    /// The bundle version requires an inclusion promise (SET) that is missing.
    SetMissing,
    /// The signed entry timestamp does not verify.
    SetInvalid,
    /// The log key was not valid at the entry's time.
    TlogKeyNotValid,
    /// The bundle version or log requires an inclusion proof that is missing.
    InclusionProofMissing,
    /// The Merkle inclusion proof does not verify.
    InclusionProofInvalid,
    /// The inclusion proof has no checkpoint.
    CheckpointMissing,
    /// The checkpoint is malformed.
    CheckpointInvalid,
    /// No checkpoint signature from the log verifies.
    CheckpointSignatureInvalid,
    /// The checkpoint's origin is not the log's.
    CheckpointOriginMismatch,
    /// The checkpoint's tree size or root hash differ from the proof's.
    CheckpointRootMismatch,
    /// Fewer distinct logs verified than the threshold requires.
    TlogThreshold,
    /// The bundle has the same RFC 3161 timestamp twice.
    DuplicateTimestamp,
    /// An RFC 3161 timestamp does not verify.
    TimestampInvalid,
    /// A verified time lies in the future.
    TimeInFuture,
    /// Fewer verified times than the threshold requires.
    NoTrustedTime,
    /// The signing certificate is not valid at a verified time.
    CertificateNotValidAtTime,
    /// The certificate does not chain to a trusted CA at a verified time.
    CertificateChainInvalid,
    /// The certificate's embedded SCTs do not verify against trusted CT logs.
    SctInvalid,
    /// The certificate's identity does not satisfy the policy.
    IdentityMismatch,
    /// An algorithm sigil cannot verify.
    UnsupportedAlgorithm,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BundleFormat => "BUNDLE_FORMAT",
            Self::UnknownMediaType => "UNKNOWN_MEDIA_TYPE",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::TrustedRootInvalid => "TRUSTED_ROOT_INVALID",
            Self::MaterialMismatch => "MATERIAL_MISMATCH",
            Self::SignerInvalid => "SIGNER_INVALID",
            Self::ChainContainsRoot => "CHAIN_CONTAINS_ROOT",
            Self::DsseSignatureCount => "DSSE_SIGNATURE_COUNT",
            Self::DssePayloadInvalid => "DSSE_PAYLOAD_INVALID",
            Self::ArtifactDigestMismatch => "ARTIFACT_DIGEST_MISMATCH",
            Self::SignatureInvalid => "SIGNATURE_INVALID",
            Self::TlogEntryMissing => "TLOG_ENTRY_MISSING",
            Self::DuplicateTlogEntry => "DUPLICATE_TLOG_ENTRY",
            Self::UnknownTlog => "UNKNOWN_TLOG",
            Self::TlogBodyInvalid => "TLOG_BODY_INVALID",
            Self::TlogBodyMismatch => "TLOG_BODY_MISMATCH",
            Self::SetMissing => "SET_MISSING",
            Self::SetInvalid => "SET_INVALID",
            Self::TlogKeyNotValid => "TLOG_KEY_NOT_VALID",
            Self::InclusionProofMissing => "INCLUSION_PROOF_MISSING",
            Self::InclusionProofInvalid => "INCLUSION_PROOF_INVALID",
            Self::CheckpointMissing => "CHECKPOINT_MISSING",
            Self::CheckpointInvalid => "CHECKPOINT_INVALID",
            Self::CheckpointSignatureInvalid => "CHECKPOINT_SIGNATURE_INVALID",
            Self::CheckpointOriginMismatch => "CHECKPOINT_ORIGIN_MISMATCH",
            Self::CheckpointRootMismatch => "CHECKPOINT_ROOT_MISMATCH",
            Self::TlogThreshold => "TLOG_THRESHOLD",
            Self::DuplicateTimestamp => "DUPLICATE_TIMESTAMP",
            Self::TimestampInvalid => "TIMESTAMP_INVALID",
            Self::TimeInFuture => "TIME_IN_FUTURE",
            Self::NoTrustedTime => "NO_TRUSTED_TIME",
            Self::CertificateNotValidAtTime => "CERTIFICATE_NOT_VALID_AT_TIME",
            Self::CertificateChainInvalid => "CERTIFICATE_CHAIN_INVALID",
            Self::SctInvalid => "SCT_INVALID",
            Self::IdentityMismatch => "IDENTITY_MISMATCH",
            Self::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
        }
    }

    /// The verification step this check belongs to (see the crate docs for the order).
    pub fn step(self) -> &'static str {
        match self {
            Self::BundleFormat | Self::UnknownMediaType | Self::LimitExceeded | Self::ChainContainsRoot => {
                "bundle structure"
            }
            Self::TrustedRootInvalid => "trusted root",
            Self::MaterialMismatch | Self::SignerInvalid | Self::UnsupportedAlgorithm => "signer material",
            Self::DsseSignatureCount
            | Self::DssePayloadInvalid
            | Self::ArtifactDigestMismatch
            | Self::SignatureInvalid => "artifact signature",
            Self::TlogEntryMissing
            | Self::DuplicateTlogEntry
            | Self::UnknownTlog
            | Self::TlogBodyInvalid
            | Self::TlogBodyMismatch => "transparency log entry",
            Self::SetMissing | Self::SetInvalid | Self::TlogKeyNotValid => "signed entry timestamp",
            Self::InclusionProofMissing
            | Self::InclusionProofInvalid
            | Self::CheckpointMissing
            | Self::CheckpointInvalid
            | Self::CheckpointSignatureInvalid
            | Self::CheckpointOriginMismatch
            | Self::CheckpointRootMismatch
            | Self::TlogThreshold => "inclusion proof",
            Self::DuplicateTimestamp | Self::TimestampInvalid => "RFC 3161 timestamp",
            Self::TimeInFuture | Self::NoTrustedTime => "verified time",
            Self::CertificateNotValidAtTime | Self::CertificateChainInvalid | Self::SctInvalid => "certificate",
            Self::IdentityMismatch => "identity policy",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a bundle was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationError {
    code: Code,
    detail: String,
}

impl VerificationError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl std::fmt::Display for VerificationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed [{}]: {}", self.code.step(), self.code, self.detail)
    }
}

impl std::error::Error for VerificationError {}

pub(crate) fn fail<T>(code: Code, detail: impl Into<String>) -> Result<T, VerificationError> {
    Err(VerificationError::new(code, detail))
}

impl From<sigil_bundle::Error> for VerificationError {
    fn from(e: sigil_bundle::Error) -> Self {
        let code = match e {
            sigil_bundle::Error::LimitExceeded(_) => Code::LimitExceeded,
            sigil_bundle::Error::UnknownMediaType(_) => Code::UnknownMediaType,
            _ => Code::BundleFormat,
        };
        Self::new(code, e.to_string())
    }
}
