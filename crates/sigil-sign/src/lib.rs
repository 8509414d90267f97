//! Keyless Sigstore signing, sans-IO.
//!
//! The flow (DESIGN.md "Sign"): identity token → ephemeral P-256 key in memory → CA (token + proof of
//! possession) → certificate chain, **checked at sign time** against the trusted root (chain to a trusted CA,
//! one embedded SCT from a trusted CT log) → signature over the artifact digest or a DSSE envelope → RFC 3161
//! timestamps and the transparency-log entry (concurrently; both need only the signature) → bundle v0.3 →
//! **self-verification** with `sigil-verify` against the trusted root and the token's identity → key dropped.
//!
//! Nothing here opens a socket or reads the clock: the services are the [`CertificateAuthority`],
//! [`TransparencyLog`] and [`TimestampAuthority`] traits (`sigil-client` implements them over HTTP), and the
//! time is a caller-supplied function. Service selection from a signing config follows sigstore-python
//! ([`select::select_services`]); token handling (unverified claims, proof-of-possession subject, GitHub
//! Actions ambient credentials, the OAuth authorization-code + PKCE session) lives in [`token`] and [`oauth`].

pub mod flow;
pub mod oauth;
pub mod select;
pub mod token;

pub use flow::{CertifiedKey, SignWith, Signed, SignedBy, SigningContext};
pub use oauth::{OAuthEndpoints, OAuthSession};
pub use select::{RekorVersion, Services, select_services};
pub use token::{AmbientRequest, IdentityToken, github_actions_request};

use sigil_bundle::{Envelope, TransparencyLogEntry};
use sigil_tsa::TimeStampRequest;

/// A failure reported by a remote service: which one, where, the HTTP status if there was a response, and
/// the server's own message (bounded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// `fulcio`, `rekor`, `tsa`, `oidc`, `github-actions`.
    pub service: &'static str,
    pub url: String,
    pub status: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} at {}: HTTP {s}: {}", self.service, self.url, self.message),
            None => write!(f, "{} at {}: {}", self.service, self.url, self.message),
        }
    }
}

impl std::error::Error for ServiceError {}

/// Errors of this crate; each names the step that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("selecting services from the signing config: {0}")]
    Config(String),
    #[error("identity token: {0}")]
    Token(String),
    #[error("oauth login: {0}")]
    OAuth(String),
    #[error("generating the ephemeral key: {0}")]
    Key(String),
    #[error("getting the signing certificate: {0}")]
    CertificateRequest(ServiceError),
    #[error("checking the signing certificate: {0}")]
    Certificate(String),
    #[error("signing: {0}")]
    Signing(String),
    #[error("reading the artifact: {0}")]
    Artifact(String),
    #[error("getting a timestamp: {0}")]
    Timestamp(String),
    #[error("creating the log entry: {0}")]
    LogRequest(ServiceError),
    #[error("checking the log entry: {0}")]
    LogEntry(String),
    #[error("assembling the bundle: {0}")]
    Bundle(String),
    #[error("verifying the new bundle: {0}")]
    SelfVerify(String),
}

/// The Fulcio v2 `publicKeyRequest`: the raw token, the public key (PEM SPKI) and the proof of possession
/// (a signature over [`IdentityToken::challenge`]).
#[derive(Clone)]
pub struct CertificateRequest<'a> {
    pub identity_token: &'a str,
    pub public_key_pem: String,
    pub proof_of_possession: Vec<u8>,
}

impl std::fmt::Debug for CertificateRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateRequest")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

/// A certificate authority (Fulcio API v2).
pub trait CertificateAuthority: Sync {
    /// `POST {ca_url}/api/v2/signingCert`; returns the chain leaf first, DER. Only the embedded-SCT variant is
    /// acceptable.
    fn signing_certificate(&self, ca_url: &str, request: &CertificateRequest<'_>)
    -> Result<Vec<Vec<u8>>, ServiceError>;
}

/// Who the log entry says signed: the certificate of a keyless signature, or the public key of a key-based one.
#[derive(Debug, Clone, Copy)]
pub enum LogVerifier<'a> {
    /// The leaf certificate (DER).
    Certificate(&'a [u8]),
    /// The public key (SPKI DER) and its Sigstore algorithm.
    PublicKey {
        spki_der: &'a [u8],
        details: sigil_crypto::PublicKeyDetails,
    },
}

/// What to record in the transparency log.
#[derive(Debug, Clone, Copy)]
pub enum LogEntryRequest<'a> {
    /// A signature over the SHA-256 digest of an artifact (`hashedrekord`).
    HashedRekord {
        digest: &'a [u8; 32],
        signature: &'a [u8],
        verifier: LogVerifier<'a>,
    },
    /// A DSSE envelope with one signature (`dsse` 0.0.1 on Rekor v1; on Rekor v2 a `hashedrekord` 0.0.2 over
    /// the SHA-256 of the PAE, as sigstore-python does and as rekor-tiles requires).
    Dsse {
        envelope: &'a Envelope,
        verifier: LogVerifier<'a>,
    },
}

/// A transparency log (Rekor v1 or v2, chosen by `major_api_version`).
pub trait TransparencyLog: Sync {
    fn create_entry(
        &self,
        log_url: &str,
        major_api_version: u32,
        request: &LogEntryRequest<'_>,
    ) -> Result<TransparencyLogEntry, ServiceError>;
}

/// An RFC 3161 timestamp authority.
pub trait TimestampAuthority: Sync {
    /// `POST <tsa_url>` with the DER request; returns the DER `TimeStampResp`.
    fn timestamp(&self, tsa_url: &str, request: &TimeStampRequest) -> Result<Vec<u8>, ServiceError>;
}

/// Random bytes from the system generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| Error::Key("the system random generator failed".into()))?;
    Ok(out)
}

/// Unpadded URL-safe base64.
pub(crate) fn b64url(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}
