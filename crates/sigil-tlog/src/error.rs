//! The crate's single error type.

/// Everything that can fail in `sigil-tlog`.
///
/// Variants carry plain data (sizes, indexes, short static reasons) and never wrap another crate's error type,
/// so callers can match on them without depending on `sigil-crypto` internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- Merkle proofs -----
    /// A leaf index is not inside the tree (this includes every index of an empty tree).
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// An inclusion proof has more or fewer hashes than its index and tree size require.
    #[error("inclusion proof has {actual} hashes, but index and tree size require exactly {expected}")]
    InclusionProofLength { expected: usize, actual: usize },
    /// The root recomputed from an inclusion proof differs from the expected root.
    #[error("inclusion proof does not lead to the expected root hash")]
    RootMismatch,
    /// A consistency proof was requested from a larger tree to a smaller one.
    #[error("consistency proof from size {size1} to the smaller size {size2}")]
    ConsistencySizes { size1: u64, size2: u64 },
    /// A consistency proof has more or fewer hashes than the two sizes require.
    #[error("consistency proof has {actual} hashes, but the tree sizes require exactly {expected}")]
    ConsistencyProofLength { expected: usize, actual: usize },
    /// The old root recomputed from a consistency proof differs from the expected old root.
    #[error("consistency proof does not lead to the old root hash")]
    ConsistencyOldRootMismatch,
    /// The new root recomputed from a consistency proof differs from the expected new root.
    #[error("consistency proof does not lead to the new root hash")]
    ConsistencyNewRootMismatch,
    /// A tree was asked about a size larger than the number of leaves it holds.
    #[error("tree size {requested} exceeds the {available} leaves held")]
    TreeSizeOutOfRange { requested: u64, available: u64 },

    // ----- Signed notes -----
    /// The note is larger than [`crate::MAX_NOTE_SIZE`].
    #[error("note is larger than {max} bytes")]
    NoteTooLarge { max: usize },
    /// The note bytes are not UTF-8.
    #[error("note is not valid UTF-8")]
    NoteNotUtf8,
    /// The note contains an ASCII control character other than newline.
    #[error("note contains a control character (byte {byte:#04x})")]
    NoteControlCharacter { byte: u8 },
    /// The note does not contain exactly one blank line separating text and signatures.
    #[error("note must contain exactly one blank line between text and signatures, found {found}")]
    NoteSeparator { found: usize },
    /// The note text does not end in a newline.
    #[error("note text does not end in a newline")]
    NoteBodyNotTerminated,
    /// The note text (before the blank line) is empty.
    #[error("note text is empty")]
    NoteEmptyBody,
    /// The note has no signature lines.
    #[error("note has no signature lines")]
    NoteNoSignatures,
    /// A signature line is malformed.
    #[error("malformed note signature line {line}: {reason}")]
    MalformedSignatureLine { line: usize, reason: &'static str },
    /// The note has more signature lines than [`crate::MAX_SIGNATURES`].
    #[error("note has more than {max} signature lines")]
    TooManySignatures { max: usize },
    /// A key name is empty or contains a space or a plus sign.
    #[error("invalid key name: {0}")]
    InvalidKeyName(&'static str),
    /// No signature line carries the verifier's key name and key hint.
    #[error("no signature line matches the key name and key hint")]
    NoMatchingSignature,
    /// Signature lines matched the verifier's name and hint, but none verified.
    #[error("note signature does not verify")]
    SignatureInvalid,
    /// A key cannot be used for note signatures (wrong type, malformed, or unsupported).
    #[error("unusable note key: {0}")]
    InvalidKey(String),
    /// A verifier-key string (`name+hex+base64`) is malformed.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// A cosignature's bytes do not have the `timestamp ‖ signature` layout.
    #[error("malformed cosignature: {0}")]
    MalformedCosignature(&'static str),

    // ----- Checkpoints -----
    /// The checkpoint text does not follow c2sp.org/tlog-checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// The checkpoint's origin is not the one expected for this log.
    #[error("checkpoint origin {actual:?} does not match the expected origin {expected:?}")]
    OriginMismatch { expected: String, actual: String },

    // ----- Tiles -----
    /// A tile coordinate is out of range (level above 63, width 0 or above 256).
    #[error("invalid tile coordinate: {0}")]
    InvalidTile(&'static str),
    /// A tile path is not in canonical c2sp.org/tlog-tiles form.
    #[error("malformed tile path: {0}")]
    MalformedTilePath(&'static str),
}

impl Error {
    /// Maps a `sigil-crypto` key error to a self-contained variant.
    pub(crate) fn key(e: &sigil_crypto::Error) -> Self {
        Self::InvalidKey(e.to_string())
    }
}
