//! What was signed, as the verifier receives it.

use sigil_crypto::{HashAlgorithm, Hasher};

use crate::error::{Code, VerificationError, fail};

/// The artifact: its bytes, or only its digest (`sha256:<hex>`, or streamed from a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact<'a> {
    Bytes(&'a [u8]),
    Digest { algorithm: HashAlgorithm, digest: Vec<u8> },
}

impl Artifact<'static> {
    /// Parses `sha256:<hex>` (also `sha384:`/`sha512:`).
    pub fn parse_digest(s: &str) -> Result<Self, VerificationError> {
        let Some((alg, hex_digest)) = s.split_once(':') else {
            return fail(Code::ArtifactDigestMismatch, "digest must look like sha256:<hex>");
        };
        let algorithm = HashAlgorithm::from_name(alg)
            .map_err(|e| VerificationError::new(Code::UnsupportedAlgorithm, e.to_string()))?;
        let digest = hex::decode(hex_digest)
            .map_err(|_| VerificationError::new(Code::ArtifactDigestMismatch, "digest is not hexadecimal"))?;
        if digest.len() != algorithm.output_len() {
            return fail(
                Code::ArtifactDigestMismatch,
                "digest length does not match its algorithm",
            );
        }
        Ok(Self::Digest { algorithm, digest })
    }

    /// Streams a reader (a file) through `algorithm`, holding only 64 KiB at a time.
    pub fn from_reader(algorithm: HashAlgorithm, reader: impl std::io::Read) -> std::io::Result<Self> {
        Ok(Self::Digest {
            algorithm,
            digest: Hasher::digest_reader(algorithm, reader)?,
        })
    }
}

impl Artifact<'_> {
    /// The artifact's digest under `algorithm`; a digest-only artifact must already use it.
    pub fn digest(&self, algorithm: HashAlgorithm) -> Result<Vec<u8>, VerificationError> {
        match self {
            Self::Bytes(b) => Ok(algorithm.digest(b)),
            Self::Digest { algorithm: a, digest } if *a == algorithm => Ok(digest.clone()),
            Self::Digest { algorithm: a, .. } => fail(
                Code::ArtifactDigestMismatch,
                format!(
                    "artifact given as {} digest, bundle uses {}",
                    a.short_name(),
                    algorithm.short_name()
                ),
            ),
        }
    }

    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bytes(b) => Some(b),
            Self::Digest { .. } => None,
        }
    }
}
