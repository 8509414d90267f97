//! The crate's single error type.

use std::fmt;
use std::path::PathBuf;

/// Everything that can fail in `sigil-log`.
///
/// Variants carry plain data; foreign errors (I/O, redb, aws-lc-rs) are reduced to a kind and a message so callers
/// can match without depending on those crates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed.
    Io {
        /// What was being done.
        op: &'static str,
        path: PathBuf,
        kind: std::io::ErrorKind,
        message: String,
    },
    /// The de-duplication index failed.
    Index(String),
    /// Key generation, loading or signing failed.
    Key(String),
    /// The key history file (`keys/history.json`) is malformed or inconsistent.
    KeyHistory { path: PathBuf, reason: String },
    /// Transparency-log math or note formatting failed (a bug or corrupt state).
    Tlog(sigil_tlog::Error),
    /// The durable state on disk is not self-consistent (a tile is missing, has the wrong length, or the tree it
    /// gives does not match the committed checkpoint).
    Corrupt(String),
    /// The durable tree is smaller than the persisted high-water mark: an older copy of the data directory was
    /// restored. The signer refuses to sign a tree smaller than one it signed before.
    BehindHighWaterMark { durable_size: u64, signed_size: u64 },
    /// The durable tree does not contain the tree the signer signed before (a different root at that size).
    InconsistentWithHighWaterMark { size: u64 },
    /// The data directory holds a log but the high-water mark file is missing.
    MissingHighWaterMark(PathBuf),
    /// An entry longer than a tile entry bundle can hold (65,535 bytes) or empty.
    EntrySize { len: usize },
    /// An index, tile or size outside the current tree.
    OutOfRange {
        what: &'static str,
        requested: u64,
        size: u64,
    },
    /// A request that can never succeed (e.g. a consistency proof from a larger to a smaller tree).
    InvalidRequest(&'static str),
    /// An earlier durable write failed; the log accepts no more appends until it is reopened (which recovers).
    Poisoned,
    /// The log was closed.
    Closed,
    /// Another process (or another open `Log`) holds the data directory.
    Locked(PathBuf),
    /// An append was not integrated within the caller's time limit (it may still be, later).
    Timeout,
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, e: &std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    pub(crate) fn index(e: impl fmt::Display) -> Self {
        Self::Index(e.to_string())
    }
}

impl From<sigil_tlog::Error> for Error {
    fn from(e: sigil_tlog::Error) -> Self {
        Self::Tlog(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { op, path, message, .. } => write!(f, "cannot {op} {}: {message}", path.display()),
            Self::Index(m) => write!(f, "de-duplication index: {m}"),
            Self::Key(m) => write!(f, "log key: {m}"),
            Self::KeyHistory { path, reason } => write!(f, "key history {}: {reason}", path.display()),
            Self::Tlog(e) => write!(f, "log state: {e}"),
            Self::Corrupt(m) => write!(f, "durable log state is corrupt: {m}"),
            Self::BehindHighWaterMark {
                durable_size,
                signed_size,
            } => write!(
                f,
                "refusing to open: the durable tree has {durable_size} entries but a checkpoint of size \
                 {signed_size} was signed before (was an older backup restored?)"
            ),
            Self::InconsistentWithHighWaterMark { size } => write!(
                f,
                "refusing to open: the durable tree is inconsistent with the checkpoint of size {size} signed before"
            ),
            Self::MissingHighWaterMark(p) => write!(
                f,
                "refusing to open: the log has entries but its high-water mark {} is missing",
                p.display()
            ),
            Self::EntrySize { len } => write!(f, "entry of {len} bytes: entries must be 1 to 65535 bytes"),
            Self::OutOfRange { what, requested, size } => {
                write!(f, "{what} {requested} is out of range for a tree of size {size}")
            }
            Self::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Self::Poisoned => write!(f, "an earlier durable write failed; reopen the log to recover"),
            Self::Closed => write!(f, "the log is closed"),
            Self::Timeout => write!(f, "the entry was not integrated in time"),
            Self::Locked(dir) => write!(
                f,
                "{} is in use by another process (one log process per data directory)",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for Error {}
