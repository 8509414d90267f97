//! Issuing one certificate: authenticate the token, check the proof of possession and the key, build the
//! precertificate, log it to CT, and return the final certificate with exactly one embedded SCT.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sigil_oidc::{CertIdentity, San};
use sigil_x509::SignedSct;
use sigil_x509::{Issuer, LeafRequest, LeafSan, build_precertificate, finish_certificate, random_serial};

use crate::Error;
use crate::request::SigningCertRequest;

/// A boxed future, for the object-safe service traits below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Turns an identity token into the identity to certify (OIDC validation).
pub trait Authenticator: Send + Sync + Debug {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<CertIdentity, Error>>;
}

/// A CT log's `add-pre-chain`: returns the SCT only once the precertificate is durably logged.
pub trait PrecertLog: Send + Sync + Debug {
    /// `chain` is the precertificate followed by its issuer chain up to the root, all DER.
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> BoxFuture<'_, Result<SignedSct, String>>;
}

/// Leaf certificates live this long (Fulcio's ten minutes).
pub const LEAF_VALIDITY_SECS: i64 = 600;

/// The certificate authority: an issuing key and certificate, its chain, and the services it relies on.
#[derive(Debug)]
pub struct CertificateAuthority {
    issuer: Issuer,
    /// The issuing certificate followed by its parents up to the root (DER).
    chain: Vec<Vec<u8>>,
    authenticator: Arc<dyn Authenticator>,
    ct: Arc<dyn PrecertLog>,
}

/// An issued certificate (DER); its issuers are [`CertificateAuthority::chain`].
#[derive(Debug, Clone)]
pub struct Issued {
    pub certificate: Vec<u8>,
}

impl CertificateAuthority {
    /// `chain` starts with the issuing certificate (the one `issuer` holds) and ends with the root.
    pub fn new(
        issuer: Issuer,
        chain: Vec<Vec<u8>>,
        authenticator: Arc<dyn Authenticator>,
        ct: Arc<dyn PrecertLog>,
    ) -> Result<Self, Error> {
        if chain.first().map(Vec::as_slice) != Some(issuer.certificate().der()) {
            return Err(Error::Setup("the chain must start with the issuing certificate".into()));
        }
        Ok(Self {
            issuer,
            chain,
            authenticator,
            ct,
        })
    }

    /// The same CA with another issuing certificate and chain (an intermediate rotation): the same
    /// authenticator and CT log.
    pub fn with_issuer(&self, issuer: Issuer, chain: Vec<Vec<u8>>) -> Result<Self, Error> {
        Self::new(issuer, chain, Arc::clone(&self.authenticator), Arc::clone(&self.ct))
    }

    /// The issuing certificate followed by its parents (DER).
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// Serves one `signingCert` request at time `now` (Unix seconds).
    pub async fn issue(&self, request: SigningCertRequest, now: i64) -> Result<Issued, Error> {
        let identity = self.authenticator.authenticate(&request.token).await?;
        let key = request.proof.verify(&identity.challenge)?;
        let leaf = LeafRequest {
            public_key: key,
            san: match identity.san {
                San::Email(e) => LeafSan::Email(e),
                San::Uri(u) => LeafSan::Uri(u),
                San::OtherName(o) => LeafSan::OtherName(o),
                other => return Err(Error::Forbidden(format!("unsupported SAN kind for {}", other.value()))),
            },
            oidc_issuer: identity.issuer,
            extensions: identity.extensions,
            not_before: now,
            not_after: now + LEAF_VALIDITY_SECS,
        };
        let serial = random_serial().map_err(|e| Error::Unavailable(format!("serial number: {e}")))?;
        // C-08 (leaf inside the issuer's validity) is enforced by the builder.
        let precert = build_precertificate(&self.issuer, &leaf, &serial)
            .map_err(|e| Error::Unavailable(format!("building the precertificate: {e}")))?;
        let mut ct_chain = Vec::with_capacity(self.chain.len() + 1);
        ct_chain.push(precert.der);
        ct_chain.extend(self.chain.iter().cloned());
        // C-06: no SCT, no certificate.
        let sct = self
            .ct
            .add_pre_chain(ct_chain)
            .await
            .map_err(|e| Error::Unavailable(format!("CT log: {e}")))?;
        let sct_list = sigil_x509::encode_sct_list(std::slice::from_ref(&sct))
            .map_err(|e| Error::Unavailable(format!("encoding the SCT: {e}")))?;
        let cert = finish_certificate(&self.issuer, &leaf, &serial, &sct_list)
            .map_err(|e| Error::Unavailable(format!("building the certificate: {e}")))?;
        Ok(Issued { certificate: cert })
    }
}
