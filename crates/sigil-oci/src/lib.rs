//! Container images in OCI registries for sigil: image references and digests, a distribution client, and
//! cosign's ways of storing signatures next to an image ([`legacy`]: the `sha256-<hex>.sig` tag layout;
//! [`referrers`]: cosign 3's bundles as OCI 1.1 referrers), and [`copy`]ing an image with all of that to another
//! repository or registry.

pub mod copy;
pub mod credential_helper;
pub mod legacy;
mod reference;
pub mod referrers;
mod registry;

pub use reference::{DOCKER_HUB, Digest, MAX_REFERENCE_LEN, Reference};
pub use registry::{
    Access, BlobStream, Credentials, MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, Manifest, Mount, Registry,
    RegistryOptions, UploadSession, docker_config_credentials, docker_config_helper,
};

/// Errors of this crate; each names what failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("image reference: {0}")]
    Reference(String),
    #[error("registry connection: {0}")]
    Transport(String),
    #[error("registry authentication: {0}")]
    Auth(String),
    #[error("{url}: HTTP {status}: {message}")]
    Status { url: String, status: u16, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("digest mismatch: {0}")]
    DigestMismatch(String),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("manifest: {0}")]
    Manifest(String),
    /// The destination already has something else where a copy would write.
    #[error("conflict: {0}")]
    Conflict(String),
}
