//! Trusted root (`sigstore_trustroot.proto`), signing config v0.2 and client trust config.

use serde::{Deserialize, Serialize};

use crate::bundle::{LogId, X509Certificate};
use crate::encoding::{Bytes, Timestamp};
use crate::{Error, Limits};

/// The media type real clients accept (protobuf-specs' v0.2 spelling would break them).
pub const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// Also accepted when reading.
pub const TRUSTED_ROOT_MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.trustedroot.v0.2+json";
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// `TimeRange`: closed interval, `end` optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TimeRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogInstance {
    #[serde(default)]
    pub base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_algorithm: Option<String>,
    pub public_key: PublicKey,
    pub log_id: LogId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_key_id: Option<LogId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DistinguishedName {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organization: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub common_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CertChain {
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub certificates: Vec<X509Certificate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<DistinguishedName>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    #[serde(default)]
    pub cert_chain: CertChain,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    pub media_type: String,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub tlogs: Vec<TransparencyLogInstance>,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub certificate_authorities: Vec<CertificateAuthority>,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub ctlogs: Vec<TransparencyLogInstance>,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl TrustedRoot {
    pub fn from_json(json: &[u8], limits: &Limits) -> Result<Self, Error> {
        if json.len() > limits.max_trusted_root_bytes {
            return Err(Error::LimitExceeded("trusted root size"));
        }
        let root: TrustedRoot = serde_json::from_slice(json).map_err(|e| Error::Json(e.to_string()))?;
        if root.media_type != TRUSTED_ROOT_MEDIA_TYPE && root.media_type != TRUSTED_ROOT_MEDIA_TYPE_V0_2 {
            return Err(Error::UnknownMediaType(root.media_type.chars().take(100).collect()));
        }
        let n = root.tlogs.len()
            + root.ctlogs.len()
            + root.certificate_authorities.len()
            + root.timestamp_authorities.len();
        if n > limits.max_trust_instances {
            return Err(Error::LimitExceeded("trusted root instances"));
        }
        Ok(root)
    }

    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Json(e.to_string()))
    }
}

/// One service endpoint in a signing config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub url: String,
    #[serde(default)]
    pub major_api_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfiguration {
    pub selector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfig {
    pub media_type: String,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub ca_urls: Vec<Service>,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub oidc_urls: Vec<Service>,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub rekor_tlog_urls: Vec<Service>,
    #[serde(default, deserialize_with = "crate::null_as_default")]
    pub tsa_urls: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
}

impl SigningConfig {
    pub fn from_json(json: &[u8], limits: &Limits) -> Result<Self, Error> {
        if json.len() > limits.max_trusted_root_bytes {
            return Err(Error::LimitExceeded("signing config size"));
        }
        let c: SigningConfig = serde_json::from_slice(json).map_err(|e| Error::Json(e.to_string()))?;
        if c.media_type != SIGNING_CONFIG_MEDIA_TYPE {
            return Err(Error::UnknownMediaType(c.media_type.chars().take(100).collect()));
        }
        Ok(c)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientTrustConfig {
    pub media_type: String,
    pub trusted_root: TrustedRoot,
    pub signing_config: SigningConfig,
}

impl ClientTrustConfig {
    pub fn from_json(json: &[u8], limits: &Limits) -> Result<Self, Error> {
        if json.len() > limits.max_trusted_root_bytes {
            return Err(Error::LimitExceeded("client trust config size"));
        }
        let c: ClientTrustConfig = serde_json::from_slice(json).map_err(|e| Error::Json(e.to_string()))?;
        if c.media_type != CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            return Err(Error::UnknownMediaType(c.media_type.chars().take(100).collect()));
        }
        Ok(c)
    }
}
