//! The Sigstore bundle (`sigstore_bundle.proto`), v0.1 to v0.3.

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;
use crate::encoding::{Bytes, Int64, is_zero};
use crate::{Error, Limits};

/// The four media types clients accept.
pub const MEDIA_TYPE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
pub const MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
pub const MEDIA_TYPE_V0_3_LEGACY: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
pub const MEDIA_TYPE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Bundle format version, from the media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BundleVersion {
    V0_1,
    V0_2,
    V0_3,
}

impl BundleVersion {
    pub fn from_media_type(media_type: &str) -> Result<Self, Error> {
        match media_type {
            MEDIA_TYPE_V0_1 => Ok(Self::V0_1),
            MEDIA_TYPE_V0_2 => Ok(Self::V0_2),
            MEDIA_TYPE_V0_3_LEGACY | MEDIA_TYPE_V0_3 => Ok(Self::V0_3),
            other => Err(Error::UnknownMediaType(other.chars().take(100).collect())),
        }
    }
}

/// A bundle: verification material plus exactly one signature form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
}

/// The `content` oneof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content<'a> {
    MessageSignature(&'a MessageSignature),
    Dsse(&'a Envelope),
}

/// The key/certificate oneof of the verification material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerMaterial<'a> {
    PublicKey(&'a PublicKeyIdentifier),
    /// Leaf first; v0.1 and v0.2.
    Chain(&'a [X509Certificate]),
    /// Leaf only; v0.3.
    Certificate(&'a X509Certificate),
}

impl Bundle {
    /// Parses and checks a bundle's JSON against `limits` (size, counts) and the structural rules
    /// every consumer relies on: a known media type, exactly one content and one signer material.
    pub fn from_json(json: &[u8], limits: &Limits) -> Result<Self, Error> {
        if json.len() > limits.max_bundle_bytes {
            return Err(Error::LimitExceeded("bundle size"));
        }
        let bundle: Bundle = serde_json::from_slice(json).map_err(|e| Error::Json(e.to_string()))?;
        bundle.check(limits)?;
        Ok(bundle)
    }

    /// Serializes to proto3 JSON.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::Json(e.to_string()))
    }

    pub fn version(&self) -> Result<BundleVersion, Error> {
        BundleVersion::from_media_type(&self.media_type)
    }

    /// Structural rules and limits (no cryptography).
    pub fn check(&self, limits: &Limits) -> Result<(), Error> {
        self.version()?;
        self.content()?;
        self.signer_material()?;
        let vm = &self.verification_material;
        if vm.tlog_entries.len() > limits.max_tlog_entries {
            return Err(Error::LimitExceeded("tlog entries"));
        }
        let ts = vm
            .timestamp_verification_data
            .as_ref()
            .map_or(0, |t| t.rfc3161_timestamps.len());
        if ts > limits.max_timestamps {
            return Err(Error::LimitExceeded("RFC 3161 timestamps"));
        }
        if let Some(chain) = &vm.x509_certificate_chain {
            if chain.certificates.len() > limits.max_certificates {
                return Err(Error::LimitExceeded("certificates"));
            }
        }
        for e in &vm.tlog_entries {
            if let Some(p) = &e.inclusion_proof {
                if p.hashes.len() > limits.max_proof_hashes {
                    return Err(Error::LimitExceeded("inclusion proof hashes"));
                }
            }
        }
        if let Some(env) = &self.dsse_envelope {
            if env.signatures.len() > limits.max_dsse_signatures {
                return Err(Error::LimitExceeded("DSSE signatures"));
            }
        }
        Ok(())
    }

    pub fn content(&self) -> Result<Content<'_>, Error> {
        match (&self.message_signature, &self.dsse_envelope) {
            (Some(m), None) => Ok(Content::MessageSignature(m)),
            (None, Some(d)) => Ok(Content::Dsse(d)),
            (None, None) => Err(Error::Structure("bundle has no messageSignature or dsseEnvelope")),
            (Some(_), Some(_)) => Err(Error::Structure("bundle has both messageSignature and dsseEnvelope")),
        }
    }

    pub fn signer_material(&self) -> Result<SignerMaterial<'_>, Error> {
        let vm = &self.verification_material;
        match (&vm.public_key, &vm.x509_certificate_chain, &vm.certificate) {
            (Some(k), None, None) => Ok(SignerMaterial::PublicKey(k)),
            (None, Some(c), None) => {
                if c.certificates.is_empty() {
                    return Err(Error::Structure("empty certificate chain"));
                }
                Ok(SignerMaterial::Chain(&c.certificates))
            }
            (None, None, Some(c)) => Ok(SignerMaterial::Certificate(c)),
            (None, None, None) => Err(Error::Structure("verification material has no key or certificate")),
            _ => Err(Error::Structure(
                "verification material has more than one key or certificate",
            )),
        }
    }

    /// The signature bytes: `messageSignature.signature` or the first DSSE signature. These are what
    /// RFC 3161 timestamps in the bundle cover.
    pub fn signature_bytes(&self) -> Result<&[u8], Error> {
        match self.content()? {
            Content::MessageSignature(m) => Ok(&m.signature),
            Content::Dsse(d) => d
                .signatures
                .first()
                .map(|s| &s.sig[..])
                .ok_or(Error::Structure("DSSE envelope has no signature")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<X509CertificateChain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<X509Certificate>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::null_as_default"
    )]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificate {
    pub raw_bytes: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CertificateChain {
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub certificates: Vec<X509Certificate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TimestampVerificationData {
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::null_as_default"
    )]
    pub rfc3161_timestamps: Vec<Rfc3161SignedTimestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rfc3161SignedTimestamp {
    /// DER `TimeStampResp`.
    pub signed_timestamp: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    pub signature: Bytes,
}

/// `HashOutput`: algorithm as the proto enum name (`SHA2_256`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashOutput {
    pub algorithm: String,
    pub digest: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    pub key_id: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindVersion {
    pub kind: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    pub signed_entry_timestamp: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub envelope: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Index of the entry inside the (shard's) tree. Proto3 JSON omits a zero, so absent means 0.
    #[serde(default)]
    pub log_index: Int64,
    pub root_hash: Bytes,
    pub tree_size: Int64,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub hashes: Vec<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogEntry {
    /// Global index (Rekor v1) or index in the shard (Rekor v2). Proto3 JSON omits a zero, so absent means 0
    /// (sigstore-js writes entry 0 of a log that way).
    #[serde(default)]
    pub log_index: Int64,
    pub log_id: LogId,
    pub kind_version: KindVersion,
    /// Unix seconds; 0 or absent for Rekor v2.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub integrated_time: Int64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonicalized_body: Option<Bytes>,
}
