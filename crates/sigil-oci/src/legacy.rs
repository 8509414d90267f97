//! cosign's legacy signature layout, which cosign ≤ 2 writes and cosign 3 keeps behind
//! `--new-bundle-format=false`, and which containers/image (`skopeo`, `podman`) reads as "sigstore attachments".
//!
//! The signatures of image `sha256:<hex>` live in the manifest tagged `sha256-<hex>.sig` of the same
//! repository, one layer per signature. A layer's blob is the simple-signing payload (what was signed: the image
//! digest and the repository it was signed for), and its annotations carry the signature and, when it was
//! logged, the certificate, chain and Rekor v1 entry with its signed entry timestamp.
//!
//! Reading is bounded: at most [`MAX_ATTACHMENTS`] layers and [`MAX_PAYLOAD_BYTES`] per payload (R-05). A
//! signature is usable only through [`LegacySignature::to_bundle`], which turns it into a Sigstore bundle for
//! `sigil-verify`: there is no second verification path for images.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sigil_bundle::bundle::{
    HashOutput, InclusionPromise, KindVersion, LogId, MEDIA_TYPE_V0_1, MessageSignature, PublicKeyIdentifier,
    VerificationMaterial, X509Certificate, X509CertificateChain,
};
use sigil_bundle::dsse::Envelope;
use sigil_bundle::encoding::Int64;
use sigil_bundle::{Bundle, Bytes, TransparencyLogEntry};

use crate::{Digest, Error, Reference, Registry};

pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The layer media type of an attestation: its blob is the DSSE envelope JSON.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The annotation naming an attestation layer's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// Largest attestation envelope read (an SBOM predicate can be large).
pub const MAX_ENVELOPE_BYTES: u64 = 16 << 20;
/// The `type` of a simple-signing payload for an image signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";
/// Most signatures (or attestations) read from one `.sig` (`.att`) manifest.
pub const MAX_ATTACHMENTS: usize = 100;
/// Largest simple-signing payload read.
pub const MAX_PAYLOAD_BYTES: u64 = 64 << 10;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MAX_ANNOTATION_BYTES: usize = 64 << 10;

/// The suffixes of cosign's legacy attachment tags: signatures, attestations, SBOMs.
pub const ATTACHMENT_SUFFIXES: [&str; 3] = ["sig", "att", "sbom"];

/// The tag holding the legacy attachments of `digest` with `suffix` (`sha256-<hex>.<suffix>`).
pub fn attachment_tag(digest: &Digest, suffix: &str) -> String {
    format!("{}.{suffix}", digest.tag_prefix())
}

/// The tag holding the legacy signatures of `digest`.
pub fn signature_tag(digest: &Digest) -> String {
    attachment_tag(digest, SIGNATURES.suffix)
}

/// The tag holding the legacy attestations of `digest`.
pub fn attestation_tag(digest: &Digest) -> String {
    attachment_tag(digest, ATTESTATIONS.suffix)
}

/// What a simple-signing payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    /// The repository the signer named (`registry/repository`).
    pub docker_reference: String,
    /// The image manifest the signature is for.
    pub manifest_digest: Digest,
}

/// The payload cosign signs for `image` (a repository) at `digest`: compact JSON with cosign's key order.
pub fn simple_signing_payload(image: &Reference, digest: &Digest) -> Vec<u8> {
    let v = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": image.name()},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": SIGNATURE_TYPE,
        },
        "optional": null,
    });
    v.to_string().into_bytes()
}

/// Parses a simple-signing payload (bounded), requiring cosign's signature type.
pub fn parse_payload(bytes: &[u8]) -> Result<SimpleSigning, Error> {
    let bad = |why: &str| Error::Signature(format!("simple-signing payload: {why}"));
    if bytes.len() as u64 > MAX_PAYLOAD_BYTES {
        return Err(bad("too large"));
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| bad("not JSON"))?;
    let critical = v.get("critical").ok_or_else(|| bad("no `critical` section"))?;
    if critical.get("type").and_then(|t| t.as_str()) != Some(SIGNATURE_TYPE) {
        return Err(bad("its type is not a cosign container image signature"));
    }
    let digest = critical
        .get("image")
        .and_then(|i| i.get("docker-manifest-digest"))
        .and_then(|d| d.as_str())
        .ok_or_else(|| bad("no image digest"))?
        .parse()?;
    let reference = critical
        .get("identity")
        .and_then(|i| i.get("docker-reference"))
        .and_then(|d| d.as_str())
        .ok_or_else(|| bad("no docker-reference"))?;
    Ok(SimpleSigning {
        docker_reference: reference.to_string(),
        manifest_digest: digest,
    })
}

/// The Rekor v1 entry cosign stores in [`BUNDLE_ANNOTATION`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorAnnotation {
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    pub payload: RekorPayload,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorPayload {
    /// base64 of the canonicalized entry body.
    pub body: String,
    #[serde(rename = "integratedTime")]
    pub integrated_time: u64,
    #[serde(rename = "logIndex")]
    pub log_index: u64,
    /// hex log ID.
    #[serde(rename = "logID")]
    pub log_id: String,
}

impl RekorAnnotation {
    /// From a bundle's Rekor v1 entry (one with a signed entry timestamp).
    pub fn from_entry(e: &TransparencyLogEntry) -> Result<Self, Error> {
        let set = e
            .inclusion_promise
            .as_ref()
            .ok_or_else(|| Error::Signature("the log entry has no signed entry timestamp (Rekor v1 needed)".into()))?;
        let body = e
            .canonicalized_body
            .as_ref()
            .ok_or_else(|| Error::Signature("the log entry has no body".into()))?;
        Ok(Self {
            signed_entry_timestamp: B64.encode(&set.signed_entry_timestamp.0),
            payload: RekorPayload {
                body: B64.encode(&body.0),
                integrated_time: e.integrated_time.0,
                log_index: e.log_index.0,
                log_id: hex::encode(&e.log_id.key_id.0),
            },
        })
    }

    fn to_entry(&self) -> Result<TransparencyLogEntry, Error> {
        let bad = |why: &str| Error::Signature(format!("{BUNDLE_ANNOTATION}: {why}"));
        let body = B64.decode(&self.payload.body).map_err(|_| bad("body is not base64"))?;
        let set = B64
            .decode(&self.signed_entry_timestamp)
            .map_err(|_| bad("SignedEntryTimestamp is not base64"))?;
        let log_id = hex::decode(&self.payload.log_id).map_err(|_| bad("logID is not hex"))?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|_| bad("body is not JSON"))?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let (kind, version) = field("kind")
            .zip(field("apiVersion"))
            .ok_or_else(|| bad("body has no kind and apiVersion"))?;
        Ok(TransparencyLogEntry {
            log_index: Int64(self.payload.log_index),
            log_id: LogId { key_id: Bytes(log_id) },
            kind_version: KindVersion { kind, version },
            integrated_time: Int64(self.payload.integrated_time),
            inclusion_promise: Some(InclusionPromise {
                signed_entry_timestamp: Bytes(set),
            }),
            inclusion_proof: None,
            canonicalized_body: Some(Bytes(body)),
        })
    }
}

/// The certificate, chain and log entry of a legacy attachment (its layer annotations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyMaterial {
    /// Keyless: the leaf certificate and the rest of the chain, PEM.
    pub certificate_pem: Option<String>,
    pub chain_pem: Option<String>,
    /// The log entry, if the signature was logged.
    pub rekor: Option<RekorAnnotation>,
}

impl LegacyMaterial {
    /// From a bundle made by the signing flow (a Rekor v1 entry, if any, must carry its signed entry timestamp).
    pub fn from_bundle(bundle: &Bundle) -> Result<Self, Error> {
        let m = &bundle.verification_material;
        let rekor = m.tlog_entries.first().map(RekorAnnotation::from_entry).transpose()?;
        let certificate_pem = m
            .certificate
            .as_ref()
            .map(|c| sigil_crypto::pem_encode("CERTIFICATE", &c.raw_bytes.0));
        Ok(Self {
            certificate_pem,
            chain_pem: None,
            rekor,
        })
    }

    fn read(annotations: &BTreeMap<String, String>) -> Result<Self, Error> {
        let rekor = annotations
            .get(BUNDLE_ANNOTATION)
            .map(|j| serde_json::from_str::<RekorAnnotation>(j))
            .transpose()
            .map_err(|e| Error::Signature(format!("{BUNDLE_ANNOTATION}: {e}")))?;
        Ok(Self {
            certificate_pem: annotations.get(CERTIFICATE_ANNOTATION).cloned(),
            chain_pem: annotations.get(CHAIN_ANNOTATION).cloned(),
            rekor,
        })
    }

    fn write(&self, a: &mut BTreeMap<String, String>) -> Result<(), Error> {
        if let Some(c) = &self.certificate_pem {
            a.insert(CERTIFICATE_ANNOTATION.to_string(), c.clone());
        }
        if let Some(c) = &self.chain_pem {
            a.insert(CHAIN_ANNOTATION.to_string(), c.clone());
        }
        if let Some(r) = &self.rekor {
            let json = serde_json::to_string(r).map_err(|e| Error::Signature(e.to_string()))?;
            a.insert(BUNDLE_ANNOTATION.to_string(), json);
        }
        Ok(())
    }

    /// A v0.1 bundle of this material with its content: a message signature or a DSSE envelope.
    fn bundle(
        &self,
        message_signature: Option<MessageSignature>,
        dsse_envelope: Option<Envelope>,
    ) -> Result<Bundle, Error> {
        Ok(Bundle {
            media_type: MEDIA_TYPE_V0_1.to_string(),
            verification_material: self.verification_material()?,
            message_signature,
            dsse_envelope,
        })
    }

    /// The verification material of a v0.1 bundle: the key hint or the certificate chain, and the Rekor v1
    /// entry with its promise (no inclusion proof).
    fn verification_material(&self) -> Result<VerificationMaterial, Error> {
        let pem_ders = |pem: &str| -> Result<Vec<Vec<u8>>, Error> {
            Ok(sigil_crypto::pem_blocks(pem)
                .map_err(|e| Error::Signature(format!("certificate annotation: {e}")))?
                .into_iter()
                .filter(|(label, _)| label == "CERTIFICATE")
                .map(|(_, der)| der)
                .collect())
        };
        let (public_key, chain) = match &self.certificate_pem {
            None => (Some(PublicKeyIdentifier { hint: None }), None),
            Some(leaf) => {
                let mut certs = pem_ders(leaf)?;
                if certs.len() != 1 {
                    return Err(Error::Signature(format!(
                        "{CERTIFICATE_ANNOTATION} must hold exactly one certificate"
                    )));
                }
                if let Some(chain) = &self.chain_pem {
                    certs.extend(pem_ders(chain)?);
                }
                let certificates = certs
                    .into_iter()
                    .map(|der| X509Certificate { raw_bytes: Bytes(der) })
                    .collect();
                (None, Some(X509CertificateChain { certificates }))
            }
        };
        let entries = match &self.rekor {
            Some(r) => vec![r.to_entry()?],
            None => Vec::new(),
        };
        Ok(VerificationMaterial {
            public_key,
            x509_certificate_chain: chain,
            certificate: None,
            tlog_entries: entries,
            timestamp_verification_data: None,
        })
    }
}

/// One signature of the legacy layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacySignature {
    /// The simple-signing payload, as signed.
    pub payload: Vec<u8>,
    /// The raw signature (decoded from base64).
    pub signature: Vec<u8>,
    pub material: LegacyMaterial,
}

impl LegacySignature {
    fn annotations(&self) -> Result<BTreeMap<String, String>, Error> {
        let mut a = BTreeMap::new();
        a.insert(SIGNATURE_ANNOTATION.to_string(), B64.encode(&self.signature));
        self.material.write(&mut a)?;
        Ok(a)
    }

    /// The signature as a Sigstore bundle (v0.1: a Rekor v1 entry with its promise, no inclusion proof), for
    /// `sigil-verify` with the payload as the artifact.
    pub fn to_bundle(&self) -> Result<Bundle, Error> {
        self.material.bundle(
            Some(MessageSignature {
                message_digest: Some(HashOutput {
                    algorithm: "SHA2_256".into(),
                    digest: Bytes(sigil_crypto::sha256(&self.payload).to_vec()),
                }),
                signature: Bytes(self.signature.clone()),
            }),
            None,
        )
    }
}

/// One attestation of the legacy layout: a DSSE envelope over an in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyAttestation {
    /// The envelope, as its layer holds it.
    pub envelope: Envelope,
    /// The `predicateType` annotation (unauthenticated: the signed statement is what counts).
    pub predicate_type: Option<String>,
    pub material: LegacyMaterial,
}

impl LegacyAttestation {
    fn annotations(&self) -> Result<BTreeMap<String, String>, Error> {
        let mut a = BTreeMap::new();
        // cosign writes an empty signature annotation on attestation layers: the signature is in the envelope.
        a.insert(SIGNATURE_ANNOTATION.to_string(), String::new());
        if let Some(t) = &self.predicate_type {
            a.insert(PREDICATE_TYPE_ANNOTATION.to_string(), t.clone());
        }
        self.material.write(&mut a)?;
        Ok(a)
    }

    /// The attestation as a Sigstore bundle (v0.1) for `sigil-verify` with the image digest as the artifact.
    pub fn to_bundle(&self) -> Result<Bundle, Error> {
        self.material.bundle(None, Some(self.envelope.clone()))
    }
}

#[derive(Serialize, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct ImageManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: String,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// A layer's annotations.
type Annotations = BTreeMap<String, String>;

/// The `.sig` or `.att` tag of an image, and what its layers hold.
#[derive(Clone, Copy)]
struct TagKind {
    suffix: &'static str,
    media_type: &'static str,
    what: &'static str,
    max_blob: u64,
}

const SIGNATURES: TagKind = TagKind {
    suffix: "sig",
    media_type: SIMPLE_SIGNING_MEDIA_TYPE,
    what: "signature",
    max_blob: MAX_PAYLOAD_BYTES,
};
const ATTESTATIONS: TagKind = TagKind {
    suffix: "att",
    media_type: DSSE_MEDIA_TYPE,
    what: "attestation",
    max_blob: MAX_ENVELOPE_BYTES,
};

impl TagKind {
    fn tag_of(self, image: &Reference) -> Result<Reference, Error> {
        let digest = image
            .digest()
            .ok_or_else(|| Error::Reference(format!("{image} names no digest")))?;
        image.with_tag(&attachment_tag(digest, self.suffix))
    }

    /// The layers of this kind under the tag of `image`, each blob with its annotations; none without the tag.
    /// Bounded by [`MAX_ATTACHMENTS`] layers and `max_blob` bytes per blob; blobs are digest-checked.
    fn read(self, reg: &Registry, image: &Reference) -> Result<Vec<(Vec<u8>, Annotations)>, Error> {
        let Some(manifest) = reg.manifest(&self.tag_of(image)?)? else {
            return Ok(Vec::new());
        };
        let m: ImageManifest = serde_json::from_slice(&manifest.bytes)
            .map_err(|e| Error::Signature(format!("the {} manifest is malformed: {e}", self.what)))?;
        if m.layers.len() > MAX_ATTACHMENTS {
            return Err(Error::TooLarge(format!(
                "{} {}s attached to {image}, more than the {MAX_ATTACHMENTS} read",
                m.layers.len(),
                self.what
            )));
        }
        let mut out = Vec::new();
        for layer in m.layers.into_iter().filter(|l| l.media_type == self.media_type) {
            if layer.annotations.values().map(String::len).sum::<usize>() > MAX_ANNOTATION_BYTES {
                return Err(Error::TooLarge(format!("the annotations of layer {}", layer.digest)));
            }
            let layer_digest: Digest = layer.digest.parse()?;
            let blob = reg.blob(image, &layer_digest, self.max_blob)?;
            out.push((blob, layer.annotations));
        }
        Ok(out)
    }

    /// Appends a layer (`blob` with `annotations`) to the manifest under the tag of `image`, keeping the layers
    /// already there (an identical layer is not added twice). Returns the new manifest's digest.
    fn append(
        self,
        reg: &Registry,
        image: &Reference,
        blob: &[u8],
        annotations: BTreeMap<String, String>,
    ) -> Result<Digest, Error> {
        let tag_ref = self.tag_of(image)?;
        let mut layers = match reg.manifest(&tag_ref)? {
            Some(m) => {
                serde_json::from_slice::<ImageManifest>(&m.bytes)
                    .map_err(|e| Error::Signature(format!("the existing {} manifest is malformed: {e}", self.what)))?
                    .layers
            }
            None => Vec::new(),
        };
        let blob_digest = reg.push_blob(image, blob)?;
        let new = Descriptor {
            media_type: self.media_type.to_string(),
            digest: blob_digest.to_string(),
            size: blob.len() as u64,
            annotations,
        };
        if !layers
            .iter()
            .any(|l| l.digest == new.digest && l.annotations == new.annotations)
        {
            if layers.len() >= MAX_ATTACHMENTS {
                return Err(Error::TooLarge(format!(
                    "{image} already has {MAX_ATTACHMENTS} {}s attached",
                    self.what
                )));
            }
            layers.push(new);
        }
        // An image config listing the layers, as cosign writes it.
        let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "",
            "config": {},
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .map_err(|e| Error::Signature(e.to_string()))?;
        let config_digest = reg.push_blob(image, &config)?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: OCI_MANIFEST.to_string(),
            config: Descriptor {
                media_type: OCI_CONFIG.to_string(),
                digest: config_digest.to_string(),
                size: config.len() as u64,
                annotations: BTreeMap::new(),
            },
            layers,
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Signature(e.to_string()))?;
        reg.put_manifest(&tag_ref, tag_ref.tag(), &bytes, OCI_MANIFEST)
    }
}

/// The signatures attached to `image` (which must name a digest) in the legacy layout, at most
/// [`MAX_ATTACHMENTS`]; none if there is no `.sig` tag. Layers that are not simple-signing payloads are skipped;
/// each payload is checked against its layer digest. Nothing here says whether a signature is valid.
pub fn signatures(reg: &Registry, image: &Reference) -> Result<Vec<LegacySignature>, Error> {
    SIGNATURES
        .read(reg, image)?
        .into_iter()
        .map(|(payload, annotations)| {
            let signature = annotations
                .get(SIGNATURE_ANNOTATION)
                .and_then(|s| B64.decode(s).ok())
                .ok_or_else(|| {
                    Error::Signature(format!(
                        "the layer of payload {} has no base64 {SIGNATURE_ANNOTATION}",
                        Digest::sha256_of(&payload)
                    ))
                })?;
            Ok(LegacySignature {
                payload,
                signature,
                material: LegacyMaterial::read(&annotations)?,
            })
        })
        .collect()
}

/// Adds `sig` to the signatures of `image` (which must name a digest): its payload as a blob, then the `.sig`
/// manifest with the new layer appended to those already there (an identical signature is not added twice).
/// Returns the new `.sig` manifest's digest.
pub fn attach(reg: &Registry, image: &Reference, sig: &LegacySignature) -> Result<Digest, Error> {
    SIGNATURES.append(reg, image, &sig.payload, sig.annotations()?)
}

/// The attestations attached to `image` (which must name a digest) under its `.att` tag, at most
/// [`MAX_ATTACHMENTS`], each envelope at most [`MAX_ENVELOPE_BYTES`]. Nothing here says whether one is valid.
pub fn attestations(reg: &Registry, image: &Reference) -> Result<Vec<LegacyAttestation>, Error> {
    ATTESTATIONS
        .read(reg, image)?
        .into_iter()
        .map(|(blob, annotations)| {
            let envelope: Envelope = serde_json::from_slice(&blob).map_err(|e| {
                Error::Signature(format!(
                    "attestation layer {} is not a DSSE envelope: {e}",
                    Digest::sha256_of(&blob)
                ))
            })?;
            Ok(LegacyAttestation {
                envelope,
                predicate_type: annotations.get(PREDICATE_TYPE_ANNOTATION).cloned(),
                material: LegacyMaterial::read(&annotations)?,
            })
        })
        .collect()
}

/// Adds `att` to the attestations of `image` (which must name a digest) under its `.att` tag, like [`attach`].
pub fn attach_attestation(reg: &Registry, image: &Reference, att: &LegacyAttestation) -> Result<Digest, Error> {
    let blob = serde_json::to_vec(&att.envelope).map_err(|e| Error::Signature(e.to_string()))?;
    ATTESTATIONS.append(reg, image, &blob, att.annotations()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip_and_refusals() {
        let image: Reference = "ghcr.io/org/app:1.0".parse().unwrap();
        let digest = Digest::sha256_of(b"manifest");
        let p = simple_signing_payload(&image, &digest);
        assert_eq!(
            String::from_utf8(p.clone()).unwrap(),
            format!(
                "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"ghcr.io/org/app\"}},\"image\":{{\"docker-manifest-digest\":\"{digest}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
            )
        );
        let parsed = parse_payload(&p).unwrap();
        assert_eq!(parsed.manifest_digest, digest);
        assert_eq!(parsed.docker_reference, "ghcr.io/org/app");
        for bad in [
            &b"not json"[..],
            br#"{"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":"sha256:00"}}}"#,
            br#"{"critical":{"type":"cosign container image signature","identity":{"docker-reference":"x"}}}"#,
            br#"{"critical":{"type":"cosign container image signature","identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"md5:00"}}}"#,
        ] {
            assert!(parse_payload(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse_payload(&vec![b' '; MAX_PAYLOAD_BYTES as usize + 1]).is_err());
        assert_eq!(signature_tag(&digest), format!("sha256-{}.sig", digest.hex()));
    }
}
