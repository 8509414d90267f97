//! The crate's one error type.

/// Every way validating a token, loading a configuration, mapping an identity or fetching keys can fail.
///
/// Messages are lowercase and name the failed check. Values taken from a token are never echoed into a message
/// (C-05: they could carry control characters or bidi overrides into logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The issuer configuration is invalid.
    #[error("invalid issuer configuration: {0}")]
    Config(String),
    /// The token is longer than [`crate::MAX_TOKEN_LEN`] (O-08).
    #[error("token too large: {len} bytes (limit {max})")]
    TokenTooLarge { len: usize, max: usize },
    /// The token is not three base64url parts, or a part does not decode to a JSON object.
    #[error("malformed token: {0}")]
    MalformedToken(&'static str),
    /// A claim value is larger than the per-claim limit, or there are too many claims (O-08).
    #[error("claim too large or too many claims: {0}")]
    ClaimTooLarge(&'static str),
    /// The header's `alg` is not one of the allowed asymmetric algorithms (O-01, O-02).
    #[error("token algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// The `iss` claim names no configured issuer (exact match only, O-05). Nothing may be fetched for it.
    #[error("unknown issuer")]
    UnknownIssuer,
    /// No JWKS is cached for the issuer yet: fetch it, then retry.
    #[error("no keys cached for the issuer")]
    NoKeys,
    /// The `kid` is not in the issuer's JWKS (O-07). The caller may refresh once (rate-limited) and retry.
    #[error("unknown key id")]
    UnknownKeyId,
    /// The key's type or curve does not match the token's `alg`, or the key is not for signatures.
    #[error("key type does not match the token algorithm")]
    KeyMismatch,
    /// The signature does not verify.
    #[error("token signature does not verify")]
    BadSignature,
    /// `aud` does not contain the issuer's client ID, is empty, or is not a string or array of strings (O-03).
    #[error("invalid audience")]
    InvalidAudience,
    /// `exp` is in the past (O-04).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (O-04).
    #[error("token not yet valid (nbf)")]
    NotYetValid,
    /// `iat` is in the future (O-04).
    #[error("token issued in the future (iat)")]
    IssuedInFuture,
    /// A required claim is missing.
    #[error("missing claim: {0}")]
    MissingClaim(String),
    /// A claim has the wrong type or an invalid value.
    #[error("invalid claim: {0}")]
    InvalidClaim(String),
    /// An email issuer's token does not carry `email_verified: true` (O-09).
    #[error("email not verified")]
    EmailNotVerified,
    /// An identity value is not acceptable in a certificate (C-05, email syntax, subject domain, …).
    #[error("invalid identity: {0}")]
    InvalidIdentity(&'static str),
    /// A claim template failed to render (missing claim without default, non-scalar claim).
    #[error("claim template failed: {0}")]
    Template(String),
    /// A JWKS document is malformed, too large or holds no usable key.
    #[error("invalid JWKS: {0}")]
    Jwks(&'static str),
    /// Signing a development token failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// An HTTP redirect was returned; redirects are never followed (O-06).
    #[error("redirect refused")]
    RedirectRefused,
    /// A response body exceeded the limit.
    #[error("response body too large (limit {max} bytes)")]
    BodyTooLarge { max: usize },
    /// A request took longer than the timeout.
    #[error("request timed out")]
    Timeout,
    /// The discovery document's `issuer` is not exactly the token's `iss`.
    #[error("discovery issuer mismatch")]
    IssuerMismatch,
    /// `jwks_uri` is on a host the issuer configuration does not allow (O-06).
    #[error("jwks_uri host not allowed")]
    JwksHostNotAllowed,
    /// A URL is not `https://` (or `http://` to a loopback address), or is otherwise unusable.
    #[error("url not allowed: {0}")]
    UrlNotAllowed(&'static str),
    /// Another transport failure (connection, TLS, status code).
    #[error("fetch failed: {0}")]
    Fetch(String),
}
