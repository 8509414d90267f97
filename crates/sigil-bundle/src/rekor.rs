//! Rekor entry bodies: the canonicalized leaf contents of the transparency log.
//!
//! v1 (`rekor` `pkg/types/*`): `hashedrekord` 0.0.1, `dsse` 0.0.1, `intoto` 0.0.2.
//! v2 (`rekor-tiles`): `hashedrekord` 0.0.2 and the deprecated `dsse` 0.0.2.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::encoding::Bytes;

/// A decoded entry body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RekorBody {
    HashedRekordV001(HashedRekordV001),
    DsseV001(DsseV001),
    IntotoV002(IntotoV002),
    HashedRekordV002(HashedRekordV002),
    DsseV002(DsseV002),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    api_version: String,
    kind: String,
    spec: serde_json::Value,
}

impl RekorBody {
    /// Decodes a body (the bytes of `canonicalizedBody`).
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        let env: Envelope = serde_json::from_slice(body).map_err(|e| Error::Json(e.to_string()))?;
        fn spec<T: for<'de> Deserialize<'de>>(v: serde_json::Value) -> Result<T, Error> {
            serde_json::from_value(v).map_err(|e| Error::Json(e.to_string()))
        }
        Ok(match (env.kind.as_str(), env.api_version.as_str()) {
            ("hashedrekord", "0.0.1") => Self::HashedRekordV001(spec(env.spec)?),
            ("dsse", "0.0.1") => Self::DsseV001(spec(env.spec)?),
            ("intoto", "0.0.2") => Self::IntotoV002(spec(env.spec)?),
            ("hashedrekord", "0.0.2") => {
                let s: HashedRekordV002Spec = spec(env.spec)?;
                Self::HashedRekordV002(s.hashed_rekord_v002)
            }
            ("dsse", "0.0.2") => {
                let s: DsseV002Spec = spec(env.spec)?;
                Self::DsseV002(s.dsse_v002)
            }
            (k, v) => return Err(Error::UnsupportedEntry(format!("{k}/{v}"))),
        })
    }

    /// `(kind, apiVersion)` of this body.
    pub fn kind_version(&self) -> (&'static str, &'static str) {
        match self {
            Self::HashedRekordV001(_) => ("hashedrekord", "0.0.1"),
            Self::DsseV001(_) => ("dsse", "0.0.1"),
            Self::IntotoV002(_) => ("intoto", "0.0.2"),
            Self::HashedRekordV002(_) => ("hashedrekord", "0.0.2"),
            Self::DsseV002(_) => ("dsse", "0.0.2"),
        }
    }
}

/// `{"algorithm":"sha256","value":"<hex>"}` (v1 style).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorHash {
    pub algorithm: String,
    pub value: String,
}

// ---- hashedrekord 0.0.1 ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedRekordV001 {
    pub data: HashedRekordData,
    pub signature: HashedRekordSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedRekordData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<RekorHash>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashedRekordSignature {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<RekorPublicKey>,
}

/// Base64 of a PEM certificate or PEM public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorPublicKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Bytes>,
}

// ---- dsse 0.0.1 ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseV001 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_hash: Option<RekorHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<RekorHash>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::null_as_default"
    )]
    pub signatures: Vec<DsseV001Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsseV001Signature {
    /// Base64 signature, as text.
    pub signature: String,
    /// Base64 of a PEM certificate or key.
    pub verifier: Bytes,
}

// ---- intoto 0.0.2 ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntotoV002 {
    pub content: IntotoV002Content,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoV002Content {
    pub envelope: IntotoV002Envelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<RekorHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<RekorHash>,
}

/// The envelope as intoto 0.0.2 stores it: payload and signatures base64-encoded twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoV002Envelope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Bytes>,
    pub payload_type: String,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub signatures: Vec<IntotoV002Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntotoV002Signature {
    /// Base64 of the base64 signature text.
    pub sig: Bytes,
    /// Base64 of a PEM certificate or key.
    pub public_key: Bytes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
}

// ---- v2 (rekor-tiles) ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordV002Spec {
    hashed_rekord_v002: HashedRekordV002,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseV002Spec {
    dsse_v002: DsseV002,
}

/// `HashOutput` with the proto enum algorithm name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Hash {
    pub algorithm: String,
    pub digest: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedRekordV002 {
    pub data: V2Hash,
    pub signature: V2Signature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Signature {
    pub content: Bytes,
    pub verifier: V2Verifier,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Verifier {
    pub key_details: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate: Option<crate::bundle::X509Certificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<V2PublicKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2PublicKey {
    pub raw_bytes: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseV002 {
    pub payload_hash: V2Hash,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub signatures: Vec<V2Signature>,
}

/// JCS of an entry of `kind` and `api_version` with `spec`: a Rekor leaf.
fn entry_body(api_version: &str, kind: &str, spec: impl Serialize) -> Result<Vec<u8>, Error> {
    let spec = serde_json::to_value(spec).map_err(|e| Error::Json(e.to_string()))?;
    let v = serde_json::json!({"apiVersion": api_version, "kind": kind, "spec": spec});
    Ok(crate::jcs::canonicalize(&v).into_bytes())
}

impl HashedRekordV001 {
    /// The canonical leaf bytes (JCS of the entry), as Rekor v1 canonicalizes `hashedrekord/0.0.1`.
    pub fn canonical_body(&self) -> Result<Vec<u8>, Error> {
        entry_body("0.0.1", "hashedrekord", self)
    }
}

impl DsseV002 {
    /// The canonical leaf bytes (JCS of the entry), as rekor-tiles wrote them for `dsse/0.0.2`.
    pub fn canonical_body(&self) -> Result<Vec<u8>, Error> {
        entry_body(
            "0.0.2",
            "dsse",
            DsseV002Spec {
                dsse_v002: self.clone(),
            },
        )
    }
}

impl HashedRekordV002 {
    /// The canonical leaf bytes (JCS of the entry), as rekor-tiles writes them.
    pub fn canonical_body(&self) -> Result<Vec<u8>, Error> {
        entry_body(
            "0.0.2",
            "hashedrekord",
            HashedRekordV002Spec {
                hashed_rekord_v002: self.clone(),
            },
        )
    }
}
