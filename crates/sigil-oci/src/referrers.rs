//! cosign 3's layout: a Sigstore bundle stored as an OCI 1.1 *referrer* of the image it signs.
//!
//! The bundle is a blob (`application/vnd.dev.sigstore.bundle.v0.3+json`). A small manifest points at it:
//! its `artifactType` is the bundle media type, its config is the empty descriptor, its one layer is the
//! bundle, and its `subject` is the image. Annotations say what the bundle holds (`dev.sigstore.bundle.content`,
//! `dev.sigstore.bundle.predicateType`). Registries with the referrers API list it under
//! `/v2/<repo>/referrers/<digest>`. For those without the API (distribution 2.8 among them), the writer also
//! maintains the *referrers tag schema*: an image index under the tag `sha256-<hex>` that lists the referrers.
//!
//! Reading is bounded ([`MAX_REFERRERS`], [`MAX_BUNDLE_BYTES`], [`MAX_ATTESTATION_BUNDLE_BYTES`]). Each referrer manifest is fetched by digest
//! (checked) and must name this image as its subject. The bundle itself is verified by `sigil-verify`, by the
//! caller.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Digest, Error, Manifest, Reference, Registry};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The predicate type of the statement `cosign sign` (3.x) signs for an image.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
pub const PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// Most referrers read for one image.
pub const MAX_REFERRERS: usize = 100;
/// Largest signature bundle read (sigil-bundle's own limit is larger; an image signature is a few KiB).
pub const MAX_BUNDLE_BYTES: u64 = 1 << 20;
/// Largest attestation bundle read: its predicate may be an SBOM (the legacy layout's envelope limit).
pub const MAX_ATTESTATION_BUNDLE_BYTES: u64 = crate::legacy::MAX_ENVELOPE_BYTES;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_BLOB: &[u8] = b"{}";

/// An OCI descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(rename = "artifactType", default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct ReferrerManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Index {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: String,
    manifests: Vec<Descriptor>,
}

/// What the bundle holds, for the referrer's annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleContent<'a> {
    /// A DSSE envelope over an in-toto statement of this predicate type.
    Dsse {
        predicate_type: &'a str,
    },
    MessageSignature,
}

/// The tag of the referrers tag schema for `digest`: `sha256-<hex>`.
pub fn referrers_tag(digest: &Digest) -> String {
    digest.tag_prefix()
}

/// Attaches `bundle_json` to `image` (which must name a digest; `image_manifest` is what the registry serves
/// for it) as a referrer, and lists it in the referrers tag schema when the registry has no referrers API.
/// `created` is an RFC 3339 time. Returns the referrer manifest's digest.
pub fn attach_bundle(
    reg: &Registry,
    image: &Reference,
    image_manifest: &Manifest,
    bundle_json: &[u8],
    content: BundleContent<'_>,
    created: &str,
) -> Result<Digest, Error> {
    let digest = image
        .digest()
        .ok_or_else(|| Error::Reference(format!("{image} names no digest")))?;
    let config = reg.push_blob(image, EMPTY_BLOB)?;
    let bundle = reg.push_blob(image, bundle_json)?;
    let mut annotations = BTreeMap::new();
    annotations.insert(CREATED_ANNOTATION.to_string(), created.to_string());
    match content {
        BundleContent::Dsse { predicate_type } => {
            annotations.insert(CONTENT_ANNOTATION.to_string(), "dsse-envelope".to_string());
            annotations.insert(PREDICATE_TYPE_ANNOTATION.to_string(), predicate_type.to_string());
        }
        BundleContent::MessageSignature => {
            annotations.insert(CONTENT_ANNOTATION.to_string(), "message-signature".to_string());
        }
    }
    let manifest = ReferrerManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST.to_string(),
        artifact_type: Some(BUNDLE_MEDIA_TYPE.to_string()),
        config: Descriptor {
            media_type: EMPTY_MEDIA_TYPE.to_string(),
            digest: config.to_string(),
            size: EMPTY_BLOB.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
        },
        layers: vec![Descriptor {
            media_type: BUNDLE_MEDIA_TYPE.to_string(),
            digest: bundle.to_string(),
            size: bundle_json.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }],
        subject: Some(Descriptor {
            media_type: image_manifest.media_type.clone(),
            digest: digest.to_string(),
            size: image_manifest.bytes.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }),
        annotations: annotations.clone(),
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Signature(e.to_string()))?;
    let referrer = reg.put_manifest(image, None, &bytes, OCI_MANIFEST)?;
    register_referrer(
        reg,
        image,
        &Descriptor {
            media_type: OCI_MANIFEST.to_string(),
            digest: referrer.to_string(),
            size: bytes.len() as u64,
            artifact_type: Some(BUNDLE_MEDIA_TYPE.to_string()),
            annotations,
        },
    )?;
    Ok(referrer)
}

/// Makes `referrer`, a manifest already pushed to `image`'s repository with `image` (which must name a digest) as
/// its subject, discoverable as a referrer of `image`. A registry with the referrers API lists it by itself;
/// otherwise it is added to the referrers tag schema index (`sha256-<hex>`), merged with what that index lists
/// already: an entry for the same manifest digest is replaced, none is listed twice, and at most
/// [`MAX_REFERRERS`] are.
pub fn register_referrer(reg: &Registry, image: &Reference, referrer: &Descriptor) -> Result<(), Error> {
    let digest = image
        .digest()
        .ok_or_else(|| Error::Reference(format!("{image} names no digest")))?;
    if reg.referrers(image, digest)?.is_some() {
        return Ok(());
    }
    let tag = image.with_tag(&referrers_tag(digest))?;
    let existing = reg.manifest(&tag)?;
    let mut index = match &existing {
        Some(m) => serde_json::from_slice::<Index>(&m.bytes)
            .map_err(|e| Error::Signature(format!("the referrers index {tag} is malformed: {e}")))?,
        None => Index {
            schema_version: 2,
            media_type: OCI_INDEX.to_string(),
            manifests: Vec::new(),
        },
    };
    match index.manifests.iter_mut().find(|d| d.digest == referrer.digest) {
        Some(listed) if listed == referrer => return Ok(()),
        Some(listed) => *listed = referrer.clone(),
        None => {
            if index.manifests.len() >= MAX_REFERRERS {
                return Err(Error::TooLarge(format!(
                    "{image} already has {MAX_REFERRERS} referrers"
                )));
            }
            index.manifests.push(referrer.clone());
        }
    }
    let index_bytes = serde_json::to_vec(&index).map_err(|e| Error::Signature(e.to_string()))?;
    reg.put_manifest(&tag, tag.tag(), &index_bytes, OCI_INDEX)?;
    Ok(())
}

/// The descriptor that lists `manifest` as a referrer (in a referrers index): its media type, digest and size,
/// its `artifactType` (or, as the OCI spec says for manifests without one, its config's media type), and its
/// annotations. Also returns the digest of its subject. `None` if the manifest has no subject (it refers to
/// nothing).
pub fn referrer_descriptor(manifest: &Manifest) -> Result<Option<(Descriptor, Digest)>, Error> {
    #[derive(Deserialize)]
    struct Referring {
        #[serde(rename = "artifactType", default)]
        artifact_type: Option<String>,
        config: Option<Descriptor>,
        subject: Option<Descriptor>,
        #[serde(default)]
        annotations: BTreeMap<String, String>,
    }
    let m: Referring = serde_json::from_slice(&manifest.bytes)
        .map_err(|e| Error::Signature(format!("manifest {} is malformed: {e}", manifest.digest)))?;
    let Some(subject) = m.subject else {
        return Ok(None);
    };
    Ok(Some((
        Descriptor {
            media_type: manifest.media_type.clone(),
            digest: manifest.digest.to_string(),
            size: manifest.bytes.len() as u64,
            artifact_type: m.artifact_type.or(m.config.map(|c| c.media_type)),
            annotations: m.annotations,
        },
        subject.digest.parse()?,
    )))
}

/// The referrers of `image` (which must name a digest) whose artifact type is a Sigstore bundle: from the
/// referrers API, or else from the referrers tag schema. At most [`MAX_REFERRERS`] descriptors are accepted.
pub fn bundle_referrers(reg: &Registry, image: &Reference) -> Result<Vec<Descriptor>, Error> {
    Ok(referrers_of(reg, image)?
        .into_iter()
        .filter(|d| d.artifact_type.as_deref() == Some(BUNDLE_MEDIA_TYPE))
        .collect())
}

/// Every referrer of `image` (which must name a digest), of any artifact type: from the referrers API, or else
/// from the referrers tag schema. At most [`MAX_REFERRERS`] descriptors are accepted. The list is what the
/// registry (or whoever wrote the tag) says: each manifest's subject is for the caller to check.
pub fn referrers_of(reg: &Registry, image: &Reference) -> Result<Vec<Descriptor>, Error> {
    let digest = image
        .digest()
        .ok_or_else(|| Error::Reference(format!("{image} names no digest")))?;
    let index_bytes = match reg.referrers(image, digest)? {
        Some(b) => b,
        None => match reg.manifest(&image.with_tag(&referrers_tag(digest))?)? {
            Some(m) => m.bytes,
            None => return Ok(Vec::new()),
        },
    };
    let index: Index =
        serde_json::from_slice(&index_bytes).map_err(|e| Error::Signature(format!("the referrers index: {e}")))?;
    if index.manifests.len() > MAX_REFERRERS {
        return Err(Error::TooLarge(format!(
            "{} referrers of {image}, more than the {MAX_REFERRERS} read",
            index.manifests.len()
        )));
    }
    Ok(index.manifests)
}

/// The bundle a referrer holds: its manifest fetched by digest, which must have `image` as subject and one
/// bundle layer, then the bundle blob (at most `max` bytes, digest-checked).
pub fn fetch_bundle(reg: &Registry, image: &Reference, referrer: &Descriptor, max: u64) -> Result<Vec<u8>, Error> {
    let digest = image
        .digest()
        .ok_or_else(|| Error::Reference(format!("{image} names no digest")))?;
    let manifest_digest: Digest = referrer.digest.parse()?;
    let m = reg
        .manifest(&image.with_digest(manifest_digest.clone()))?
        .ok_or_else(|| Error::NotFound(format!("referrer {manifest_digest}")))?;
    let m: ReferrerManifest = serde_json::from_slice(&m.bytes)
        .map_err(|e| Error::Signature(format!("referrer {manifest_digest} is malformed: {e}")))?;
    let subject = m
        .subject
        .as_ref()
        .ok_or_else(|| Error::Signature(format!("referrer {manifest_digest} has no subject")))?;
    if subject.digest != digest.to_string() {
        return Err(Error::Signature(format!(
            "referrer {manifest_digest} is about {}, not {digest}",
            subject.digest
        )));
    }
    let [layer] = m.layers.as_slice() else {
        return Err(Error::Signature(format!(
            "referrer {manifest_digest} must have exactly one layer"
        )));
    };
    if layer.media_type != BUNDLE_MEDIA_TYPE {
        return Err(Error::Signature(format!(
            "referrer {manifest_digest}'s layer is {}, not a bundle",
            layer.media_type
        )));
    }
    reg.blob(image, &layer.digest.parse()?, max)
}
