//! The Fulcio identity of a certificate: SANs and the `1.3.6.1.4.1.57264.1.x` extensions.

use sigil_crypto::der::{self, tag};

use crate::Error;
use crate::cert::{Extension, oid};
use crate::derutil::utf8_string;

/// 1.3.6.1.4.1.57264.1.7 (Fulcio username OtherName), as OID contents.
const OTHERNAME_FULCIO: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x07];

/// One SubjectAlternativeName entry, typed so different kinds never compare equal (V-09).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubjectAltName {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// Fulcio's username OtherName (`1.3.6.1.4.1.57264.1.7`, a UTF8String such as `user!domain`).
    OtherName(String),
    /// dNSName.
    Dns(String),
    /// Any other kind (IP address, directory name, other OtherNames, …).
    Other,
}

impl SubjectAltName {
    /// The value as text, for the kinds that have one.
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::Email(s) | Self::Uri(s) | Self::OtherName(s) | Self::Dns(s) => Some(s),
            Self::Other => None,
        }
    }
}

/// Every Fulcio extension `1.3.6.1.4.1.57264.1.1 ..= .24` (except `.7`, which is a SAN type), decoded.
///
/// `.1`–`.6` are raw UTF-8 extension values; `.8`–`.24` are DER UTF8Strings (PROTOCOL.md §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct FulcioExtensions {
    /// `.1` Issuer (legacy, raw).
    pub issuer_v1: Option<String>,
    /// `.2` GitHub Workflow Trigger (raw).
    pub github_workflow_trigger: Option<String>,
    /// `.3` GitHub Workflow SHA (raw).
    pub github_workflow_sha: Option<String>,
    /// `.4` GitHub Workflow Name (raw).
    pub github_workflow_name: Option<String>,
    /// `.5` GitHub Workflow Repository (raw).
    pub github_workflow_repository: Option<String>,
    /// `.6` GitHub Workflow Ref (raw).
    pub github_workflow_ref: Option<String>,
    /// `.8` Issuer (V2).
    pub issuer_v2: Option<String>,
    /// `.9`
    pub build_signer_uri: Option<String>,
    /// `.10`
    pub build_signer_digest: Option<String>,
    /// `.11`
    pub runner_environment: Option<String>,
    /// `.12`
    pub source_repository_uri: Option<String>,
    /// `.13`
    pub source_repository_digest: Option<String>,
    /// `.14`
    pub source_repository_ref: Option<String>,
    /// `.15`
    pub source_repository_identifier: Option<String>,
    /// `.16`
    pub source_repository_owner_uri: Option<String>,
    /// `.17`
    pub source_repository_owner_identifier: Option<String>,
    /// `.18`
    pub build_config_uri: Option<String>,
    /// `.19`
    pub build_config_digest: Option<String>,
    /// `.20`
    pub build_trigger: Option<String>,
    /// `.21`
    pub run_invocation_uri: Option<String>,
    /// `.22`
    pub source_repository_visibility_at_signing: Option<String>,
    /// `.23`
    pub deployment_environment: Option<String>,
    /// `.24`
    pub token_subject: Option<String>,
}

impl FulcioExtensions {
    fn slot(&mut self, arc: u8) -> Option<&mut Option<String>> {
        Some(match arc {
            1 => &mut self.issuer_v1,
            2 => &mut self.github_workflow_trigger,
            3 => &mut self.github_workflow_sha,
            4 => &mut self.github_workflow_name,
            5 => &mut self.github_workflow_repository,
            6 => &mut self.github_workflow_ref,
            8 => &mut self.issuer_v2,
            9 => &mut self.build_signer_uri,
            10 => &mut self.build_signer_digest,
            11 => &mut self.runner_environment,
            12 => &mut self.source_repository_uri,
            13 => &mut self.source_repository_digest,
            14 => &mut self.source_repository_ref,
            15 => &mut self.source_repository_identifier,
            16 => &mut self.source_repository_owner_uri,
            17 => &mut self.source_repository_owner_identifier,
            18 => &mut self.build_config_uri,
            19 => &mut self.build_config_digest,
            20 => &mut self.build_trigger,
            21 => &mut self.run_invocation_uri,
            22 => &mut self.source_repository_visibility_at_signing,
            23 => &mut self.deployment_environment,
            24 => &mut self.token_subject,
            _ => return None,
        })
    }

    /// The value of `1.3.6.1.4.1.57264.1.<arc>`, for `arc` in `1..=24` (not 7).
    pub fn by_arc(&self, arc: u8) -> Option<&str> {
        let v = match arc {
            1 => &self.issuer_v1,
            2 => &self.github_workflow_trigger,
            3 => &self.github_workflow_sha,
            4 => &self.github_workflow_name,
            5 => &self.github_workflow_repository,
            6 => &self.github_workflow_ref,
            8 => &self.issuer_v2,
            9 => &self.build_signer_uri,
            10 => &self.build_signer_digest,
            11 => &self.runner_environment,
            12 => &self.source_repository_uri,
            13 => &self.source_repository_digest,
            14 => &self.source_repository_ref,
            15 => &self.source_repository_identifier,
            16 => &self.source_repository_owner_uri,
            17 => &self.source_repository_owner_identifier,
            18 => &self.build_config_uri,
            19 => &self.build_config_digest,
            20 => &self.build_trigger,
            21 => &self.run_invocation_uri,
            22 => &self.source_repository_visibility_at_signing,
            23 => &self.deployment_environment,
            24 => &self.token_subject,
            _ => return None,
        };
        v.as_deref()
    }

    /// The value of an extension by dotted OID (`"1.3.6.1.4.1.57264.1.12"`).
    pub fn by_oid(&self, dotted: &str) -> Option<&str> {
        let arc = dotted.strip_prefix("1.3.6.1.4.1.57264.1.")?.parse::<u8>().ok()?;
        self.by_arc(arc)
    }
}

/// What a Fulcio certificate says about who signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FulcioIdentity {
    /// Every SAN entry, in certificate order.
    pub sans: Vec<SubjectAltName>,
    /// The OIDC issuer: `.1.8`, falling back to `.1.1`. If both are present they are equal.
    pub issuer: Option<String>,
    /// All Fulcio extensions.
    pub extensions: FulcioExtensions,
}

pub(crate) fn extract(extensions: &[Extension]) -> Result<FulcioIdentity, Error> {
    let mut id = FulcioIdentity::default();
    for ext in extensions {
        if ext.oid == oid::SUBJECT_ALT_NAME {
            id.sans = parse_san(&ext.value).map_err(|reason| Error::BadExtension {
                oid: ext.oid_str.clone(),
                reason,
            })?;
            continue;
        }
        let Some(arc) = oid::fulcio_arc(&ext.oid) else {
            continue;
        };
        let decoded = if (1..=6).contains(&arc) {
            String::from_utf8(ext.value.clone()).ok()
        } else {
            utf8_string(&ext.value)
        };
        if let Some(slot) = id.extensions.slot(arc) {
            // Duplicates were rejected when the certificate was parsed, so each slot is set at most once.
            let value = decoded.ok_or_else(|| Error::BadExtension {
                oid: ext.oid_str.clone(),
                reason: if arc <= 6 {
                    "value is not UTF-8"
                } else {
                    "value is not a DER UTF8String"
                },
            })?;
            *slot = Some(value);
        }
    }
    id.issuer = match (&id.extensions.issuer_v1, &id.extensions.issuer_v2) {
        (Some(v1), Some(v2)) if v1 != v2 => {
            return Err(Error::IssuerConflict {
                v1: v1.clone(),
                v2: v2.clone(),
            });
        }
        (_, Some(v2)) => Some(v2.clone()),
        (Some(v1), None) => Some(v1.clone()),
        (None, None) => None,
    };
    Ok(id)
}

fn ia5(value: &[u8]) -> Result<String, &'static str> {
    if !value.is_ascii() {
        return Err("IA5String with non-ASCII bytes");
    }
    String::from_utf8(value.to_vec()).map_err(|_| "IA5String with non-ASCII bytes")
}

/// GeneralNames (RFC 5280 §4.2.1.6).
fn parse_san(value: &[u8]) -> Result<Vec<SubjectAltName>, &'static str> {
    let seq = der::parse_single(value).map_err(|_| "not DER")?;
    if seq.tag != tag::SEQUENCE {
        return Err("not a SEQUENCE");
    }
    let mut r = seq.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        let gn = r.read().map_err(|_| "malformed GeneralName")?;
        let name = match gn.tag {
            0xa0 => {
                let mut o = gn.reader();
                let type_id = o.expect(tag::OID).map_err(|_| "malformed OtherName")?;
                let v = o
                    .expect(tag::context_constructed(0))
                    .map_err(|_| "malformed OtherName")?;
                o.finish().map_err(|_| "malformed OtherName")?;
                if type_id.value == OTHERNAME_FULCIO {
                    SubjectAltName::OtherName(utf8_string(v.value).ok_or("Fulcio OtherName is not a UTF8String")?)
                } else {
                    SubjectAltName::Other
                }
            }
            0x81 => SubjectAltName::Email(ia5(gn.value)?),
            0x82 => SubjectAltName::Dns(ia5(gn.value)?),
            0x86 => SubjectAltName::Uri(ia5(gn.value)?),
            t if t & 0xc0 == 0x80 => SubjectAltName::Other,
            _ => return Err("GeneralName is not context-tagged"),
        };
        out.push(name);
    }
    if out.is_empty() {
        return Err("empty GeneralNames");
    }
    Ok(out)
}
