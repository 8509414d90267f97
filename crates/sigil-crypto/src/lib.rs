//! Keys, digests and signature verification for sigil.
//!
//! The algorithm names follow Sigstore's `PublicKeyDetails` registry. The backend is `aws-lc-rs`
//! (see `docs/dependencies.md` for why not `ring`): it verifies over whole messages and over
//! pre-computed digests (hashedrekord semantics, needed when a caller gives only `sha256:<hex>` of an
//! artifact or streams a large file). Algorithms the backend lacks (Ed25519ph, ML-DSA) yield
//! [`Error::UnsupportedAlgorithm`], never a panic.

pub mod der;
pub mod der_write;
mod digest;
mod key;
mod key_file;
mod pem;
mod signing;

pub use digest::{HashAlgorithm, Hasher, sha256};
pub use key::{KeyAlgorithm, PublicKeyDetails, SignatureScheme, VerifyingKey, spki_der_for};
pub use key_file::{
    ENCRYPTED_KEY_LABEL, LEGACY_ENCRYPTED_KEY_LABEL, MAX_KEY_FILE, decrypt_private_key, encrypt_private_key,
    is_encrypted_private_key,
};
pub use pem::{pem_blocks, pem_decode_one, pem_encode};
pub use signing::{Signer, SigningKey};

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Malformed DER.
    #[error("malformed DER: {0}")]
    Der(&'static str),
    /// Malformed PEM.
    #[error("malformed PEM: {0}")]
    Pem(&'static str),
    /// A key that cannot be parsed or is not acceptable.
    #[error("invalid public key: {0}")]
    InvalidKey(&'static str),
    /// An algorithm sigil recognises but cannot verify.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The key type does not match the requested scheme.
    #[error("key type does not match the signature scheme")]
    KeyMismatch,
    /// A malformed or unsupported encrypted key file.
    #[error("encrypted key file: {0}")]
    KeyFile(&'static str),
    /// An encrypted key file whose password is wrong (or whose ciphertext was changed).
    #[error("the password is wrong, or the key file was altered")]
    WrongPassword,
}
