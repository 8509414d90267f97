//! A TUF client (specification 1.x) that fetches Sigstore's trust roots safely.
//!
//! sigil has its own small client rather than tough; `docs/tuf.md` says why. Layout:
//! - [`canonical`]: the canonical JSON TUF signs;
//! - [`metadata`]: typed, strictly parsed metadata and the distinct-key threshold check;
//! - [`trusted`]: the trusted set and the only ways it may change (sans-IO, time is a parameter);
//! - [`names`]: target and role names that cannot escape the cache;
//! - [`client`]: the [`Updater`]: cache directory, root rotation, refresh, delegation search, targets, over a
//!   [`Fetch`] the caller provides (HTTP lives in `sigil-client`);
//! - [`repo`]: the repository side: builds and signs metadata (sans-IO); [`repo_dir`] keeps a repository and
//!   its encrypted keys in a directory (`sigil tuf`, `sigil serve`);
//! - [`sigstore`]: the Sigstore targets (`trusted_root.json`, `signing_config.v0.2.json`) and a [`crate::TrustSource`].

pub mod canonical;
pub mod client;
pub mod metadata;
pub mod names;
pub mod repo;
pub mod repo_dir;
pub mod sigstore;
pub mod trusted;

pub use client::{Mode, RepositoryConfig, TufLimits, Updater};

/// Whether metadata expiry is enforced. The offline mode is its own, explicit choice: a refresh that meets
/// expired metadata fails, it never falls back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryPolicy {
    Enforce,
    /// Offline use of cached metadata whose freshness cannot be checked: expiry is reported, not enforced.
    IgnoreOffline,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// 404 (or 403): the file does not exist; ends the root rotation search.
    #[error("not found")]
    NotFound,
    /// The body went past the byte limit (the signed length, or the default cap for metadata).
    #[error("longer than {0} bytes")]
    TooLarge(u64),
    /// Anything else: connection, TLS, timeout, another HTTP status.
    #[error("{0}")]
    Transport(String),
}

/// Fetches a URL, reading at most `max_len` bytes: a longer body is [`FetchError::TooLarge`], however the
/// server streams it (SECURITY.md U-10).
pub trait Fetch {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError>;
}

/// Errors of the TUF client; each names the role or file and the check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TufError {
    #[error("{role} metadata is malformed: {reason}")]
    Malformed { role: String, reason: String },
    #[error("{role} metadata: {valid} valid signature(s) from distinct keys, {threshold} required")]
    Threshold { role: String, valid: usize, threshold: u32 },
    #[error(
        "root metadata: version {got} offered after trusted version {trusted}; root versions must follow one by one"
    )]
    RootVersion { trusted: u64, got: u64 },
    #[error("{role} metadata: version {got} is older than the trusted version {trusted} (rollback)")]
    Rollback { role: String, trusted: u64, got: u64 },
    #[error("{role} metadata: version {got}, but version {expected} was named for it")]
    VersionMismatch { role: String, expected: u64, got: u64 },
    #[error("{role} metadata expired at {expires} (a freeze attack, or an unmaintained repository)")]
    Expired { role: String, expires: String },
    #[error("{file}: {got} bytes, but the signed length is {expected}")]
    Length { file: String, expected: u64, got: u64 },
    #[error("{file}: the {algorithm} hash differs from the signed one")]
    Hash { file: String, algorithm: String },
    #[error("snapshot metadata: the trusted snapshot lists {role}; the new one {change}")]
    DelegationDropped { role: String, change: String },
    #[error("{what} name {name:?} refused: {reason}")]
    UnsafeName {
        what: &'static str,
        name: String,
        reason: String,
    },
    #[error("target {name:?} is not in the repository")]
    TargetNotFound { name: String },
    #[error("fetching {url}: {error}")]
    Fetch { url: String, error: FetchError },
    #[error("offline: {0}")]
    Offline(String),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    /// A caller used the trusted set out of the order the specification fixes.
    #[error("TUF update out of order: {0}")]
    Order(&'static str),
}
