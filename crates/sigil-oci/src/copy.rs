//! Copying an image to another repository (of the same registry or another one) with everything attached to it,
//! as `cosign copy` does.
//!
//! What is copied:
//! - the image: its manifest and, for an index, every child manifest (nested indexes up to
//!   [`MAX_INDEX_DEPTH`]), with each manifest's config and layer blobs. Manifests are pushed byte for byte, so
//!   every digest is the same at the destination.
//! - cosign's legacy attachments: the manifests tagged `sha256-<hex>.sig`, `.att` and `.sbom` in the source
//!   repository, for the image and for each child of an index, to the same tags.
//! - OCI 1.1 referrers (cosign 3's bundles, and any other artifact that names the image or a child as its
//!   subject), found through the referrers API or the referrers tag schema, and registered at the destination
//!   with [`referrers::register_referrer`] (the referrers tag schema index is merged, on registries without the
//!   API).
//!
//! Order, so that a failure leaves no half-copied image under a tag: every blob first, then the manifests by
//! digest (children before the index that lists them), then the tags, the image's own tag last (its signatures
//! are there when it appears). Before anything is written, the destination is checked for attachment tags that
//! hold something else: refused unless [`Overwrite::Replace`].
//!
//! Blobs are never held in memory: one the destination has is skipped; on the same registry a cross-repository
//! mount is tried; otherwise the blob is downloaded and uploaded in one stream, checked against its digest and
//! size while it passes ([`crate::BlobStream`]). A blob that does not match fails the copy with
//! [`Error::DigestMismatch`] before the upload completes. Work that the source drives is bounded:
//! [`MAX_INDEX_CHILDREN`], [`MAX_LAYERS`], [`referrers::MAX_REFERRERS`] per image, [`MAX_MANIFESTS`] and
//! [`MAX_HELD_MANIFEST_BYTES`] per copy.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use serde::Deserialize;

use crate::legacy;
use crate::referrers::{self, Descriptor};
use crate::{Access, BlobStream, Digest, Error, Manifest, Mount, Reference, Registry};

/// Most child manifests read from one index.
pub const MAX_INDEX_CHILDREN: usize = 1000;
/// Most layers read from one image manifest.
pub const MAX_LAYERS: usize = 1000;
/// Deepest nesting of indexes (an index of indexes of manifests is depth 2).
pub const MAX_INDEX_DEPTH: usize = 3;
/// Most manifests copied at once (image, children, attachments).
pub const MAX_MANIFESTS: usize = 10_000;
/// Most manifest bytes held while a copy is planned (manifests are small; blobs are streamed, not held).
pub const MAX_HELD_MANIFEST_BYTES: usize = 64 << 20;

/// Where a copy reports the progress of blob transfers. Implementations decide what to show (the CLI draws a
/// bar for large blobs on a terminal); every method has a no-op default.
pub trait Progress {
    /// A blob transfer of `total` bytes starts; `what` names it.
    fn start(&self, what: &str, total: u64) {
        let _ = (what, total);
    }
    /// `bytes` more bytes went through.
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
    /// The transfer that started last ended (done or failed).
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The image and everything attached to it.
    #[default]
    ImageAndAttachments,
    /// Only what is attached (signatures, attestations, SBOMs, referrers): the image is already there.
    AttachmentsOnly,
}

/// What to do when the destination has a different manifest under one of the attachment tags
/// (`sha256-<hex>.sig`, `.att`, `.sbom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Copy nothing and fail with [`Error::Conflict`] naming the tag.
    #[default]
    Refuse,
    /// Replace it (the signatures that were there are no longer attached).
    Replace,
}

/// How to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopyOptions {
    pub scope: Scope,
    pub overwrite: Overwrite,
}

/// What a manifest is, in a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The image SRC names.
    Image,
    /// A manifest an index lists (a platform's image, say).
    Child,
    /// cosign's legacy signatures (`.sig`).
    Signatures,
    /// cosign's legacy attestations (`.att`).
    Attestations,
    /// cosign's legacy SBOM (`.sbom`).
    Sbom,
    /// An OCI 1.1 referrer (a cosign 3 bundle, or another artifact about the image).
    Referrer,
}

impl Role {
    fn of_suffix(suffix: &str) -> Self {
        match suffix {
            "sig" => Self::Signatures,
            "att" => Self::Attestations,
            _ => Self::Sbom,
        }
    }

    /// A stable lowercase name (`image`, `child`, `signatures`, `attestations`, `sbom`, `referrer`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Child => "child",
            Self::Signatures => "signatures",
            Self::Attestations => "attestations",
            Self::Sbom => "sbom",
            Self::Referrer => "referrer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Image => "image",
            Self::Child => "child manifest",
            Self::Signatures => "signatures",
            Self::Attestations => "attestations",
            Self::Sbom => "SBOM",
            Self::Referrer => "referrer",
        })
    }
}

/// What happened to a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestOutcome {
    /// Pushed (and tagged, if it has a tag).
    Copied,
    /// The destination had the manifest; only its tag was set.
    Tagged,
    /// The destination had it already, under its tag if it has one.
    Present,
}

/// What happened to a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    /// Downloaded from the source and uploaded to the destination.
    Uploaded,
    /// Mounted from the source repository (same registry): no bytes moved.
    Mounted,
    /// The destination had it already.
    Present,
    /// A non-distributable ("foreign") layer: registries do not hold it, so it is not copied.
    NotDistributable,
}

/// A manifest of the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedManifest {
    pub role: Role,
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    /// The tag it is under at the destination.
    pub tag: Option<String>,
    /// For attachments: the digest of the image (or child) they are attached to.
    pub subject: Option<Digest>,
    /// What the destination's tag pointed to before, when it was replaced.
    pub replaced: Option<Digest>,
    pub outcome: ManifestOutcome,
}

/// A blob of the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedBlob {
    pub digest: Digest,
    pub size: u64,
    pub outcome: BlobOutcome,
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The source image, by digest.
    pub source: Reference,
    /// The destination image, by digest.
    pub destination: Reference,
    /// The image's tag at the destination (none when pushed by digest only, or with [`Scope::AttachmentsOnly`]).
    pub tag: Option<String>,
    /// Manifests in the order they were pushed.
    pub manifests: Vec<CopiedManifest>,
    pub blobs: Vec<CopiedBlob>,
    /// Referrers the source lists that were not copied, and why (a subject that is not this image).
    pub ignored: Vec<String>,
}

impl CopyReport {
    /// How many blobs ended `outcome`.
    pub fn blob_count(&self, outcome: BlobOutcome) -> usize {
        self.blobs.iter().filter(|b| b.outcome == outcome).count()
    }

    /// Bytes downloaded and uploaded.
    pub fn bytes_uploaded(&self) -> u64 {
        self.blobs
            .iter()
            .filter(|b| b.outcome == BlobOutcome::Uploaded)
            .map(|b| b.size)
            .sum()
    }
}

/// A descriptor as far as copying needs it.
#[derive(Deserialize)]
struct Content {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
}

impl Content {
    fn digest(&self, of: &Digest) -> Result<Digest, Error> {
        self.digest
            .parse()
            .map_err(|_| Error::Manifest(format!("{of} lists {:.80?}, not a digest", self.digest)))
    }

    fn is_distributable(&self) -> bool {
        !(self.media_type.contains("nondistributable") || self.media_type.contains("foreign"))
    }
}

/// A manifest or an index, as far as copying needs it.
#[derive(Deserialize)]
struct Parsed {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    config: Option<Content>,
    #[serde(default)]
    layers: Vec<Content>,
    manifests: Option<Vec<Content>>,
}

struct PlannedManifest {
    manifest: Manifest,
    role: Role,
    subject: Option<Digest>,
}

struct PlannedBlob {
    digest: Digest,
    size: u64,
    distributable: bool,
}

struct PlannedTag {
    tag: String,
    digest: Digest,
    /// What the destination has under the tag now.
    current: Option<Digest>,
}

/// Everything a copy will write, gathered (and checked against the destination) before anything is.
#[derive(Default)]
struct Plan {
    blobs: Vec<PlannedBlob>,
    blob_set: HashSet<Digest>,
    /// Children before parents.
    manifests: Vec<PlannedManifest>,
    manifest_set: HashSet<Digest>,
    held_bytes: usize,
    /// The image and, for an index, every manifest under it: what attachments are looked for.
    tree: Vec<Digest>,
    /// Attachment tags, then the image's tag last.
    tags: Vec<PlannedTag>,
    /// Referrers to register at the destination: (subject, descriptor).
    referrers: Vec<(Digest, Descriptor)>,
    ignored: Vec<String>,
}

impl Plan {
    fn has_manifest(&self, d: &Digest) -> bool {
        self.manifest_set.contains(d)
    }

    fn add_blob(&mut self, c: &Content, of: &Digest) -> Result<(), Error> {
        let digest = c.digest(of)?;
        if self.blob_set.insert(digest.clone()) {
            self.blobs.push(PlannedBlob {
                digest,
                size: c.size,
                distributable: c.is_distributable(),
            });
        }
        Ok(())
    }

    fn add_manifest(&mut self, manifest: Manifest, role: Role, subject: Option<Digest>) -> Result<(), Error> {
        if self.manifest_set.contains(&manifest.digest) {
            return Ok(());
        }
        if self.manifests.len() >= MAX_MANIFESTS {
            return Err(Error::TooLarge(format!("more than {MAX_MANIFESTS} manifests to copy")));
        }
        self.held_bytes = self.held_bytes.saturating_add(manifest.bytes.len());
        if self.held_bytes > MAX_HELD_MANIFEST_BYTES {
            return Err(Error::TooLarge(format!(
                "more than {} MiB of manifests to copy",
                MAX_HELD_MANIFEST_BYTES >> 20
            )));
        }
        self.manifest_set.insert(manifest.digest.clone());
        self.manifests.push(PlannedManifest {
            manifest,
            role,
            subject,
        });
        Ok(())
    }
}

/// The bytes of `m` as a manifest or index: its blobs and (for an index) its children, added to `plan` children
/// first, then `m` itself.
fn walk(
    reg: &Registry,
    src: &Reference,
    m: Manifest,
    role: Role,
    subject: Option<&Digest>,
    depth: usize,
    plan: &mut Plan,
) -> Result<(), Error> {
    let digest = m.digest.clone();
    let parsed: Parsed =
        serde_json::from_slice(&m.bytes).map_err(|e| Error::Manifest(format!("{} of {}: {e}", digest, src.name())))?;
    if parsed.schema_version != 2 {
        return Err(Error::Manifest(format!(
            "{digest} of {} is schema version {}: only version 2 (OCI and Docker v2) is copied",
            src.name(),
            parsed.schema_version
        )));
    }
    let mut m = m;
    if m.media_type.is_empty() {
        m.media_type = parsed
            .media_type
            .clone()
            .ok_or_else(|| Error::Manifest(format!("{digest} of {} has no media type", src.name())))?;
    }
    let child_role = if role == Role::Image { Role::Child } else { role };
    if let Some(children) = &parsed.manifests {
        if depth >= MAX_INDEX_DEPTH {
            return Err(Error::TooLarge(format!(
                "index {digest} of {} is nested deeper than {MAX_INDEX_DEPTH}",
                src.name()
            )));
        }
        if children.len() > MAX_INDEX_CHILDREN {
            return Err(Error::TooLarge(format!(
                "index {digest} of {} lists {} manifests, more than the {MAX_INDEX_CHILDREN} copied",
                src.name(),
                children.len()
            )));
        }
        for c in children {
            let child = c.digest(&digest)?;
            if plan.has_manifest(&child) {
                continue;
            }
            let fetched = reg
                .manifest(&src.with_digest(child.clone()))?
                .ok_or_else(|| Error::NotFound(format!("{}@{child}, listed by index {digest}", src.name())))?;
            if fetched.bytes.len() as u64 != c.size {
                return Err(Error::DigestMismatch(format!(
                    "{}@{child} is {} bytes, index {digest} says {}",
                    src.name(),
                    fetched.bytes.len(),
                    c.size
                )));
            }
            if matches!(role, Role::Image | Role::Child) {
                plan.tree.push(child.clone());
            }
            walk(reg, src, fetched, child_role, subject, depth + 1, plan)?;
        }
    } else {
        if parsed.layers.len() > MAX_LAYERS {
            return Err(Error::TooLarge(format!(
                "manifest {digest} of {} has {} layers, more than the {MAX_LAYERS} copied",
                src.name(),
                parsed.layers.len()
            )));
        }
        for c in parsed.config.iter().chain(parsed.layers.iter()) {
            plan.add_blob(c, &digest)?;
        }
    }
    plan.add_manifest(m, role, subject.cloned())
}

/// What the destination has under `tag`, and whether that blocks writing `digest` there.
fn check_tag(
    reg: &Registry,
    dst: &Reference,
    tag: &str,
    digest: &Digest,
    overwrite: Overwrite,
) -> Result<Option<Digest>, Error> {
    let current = reg.manifest(&dst.with_tag(tag)?)?.map(|m| m.digest);
    match &current {
        Some(c) if c != digest && overwrite == Overwrite::Refuse => Err(Error::Conflict(format!(
            "{}:{tag} already holds {c}, not the {digest} being copied",
            dst.name()
        ))),
        _ => Ok(current),
    }
}

/// The attachments of `subject` (a digest of the image tree) in both layouts, added to `plan`.
fn plan_attachments(
    reg: &Registry,
    src: &Reference,
    dst: &Reference,
    subject: &Digest,
    options: &CopyOptions,
    plan: &mut Plan,
) -> Result<(), Error> {
    for suffix in legacy::ATTACHMENT_SUFFIXES {
        let tag = legacy::attachment_tag(subject, suffix);
        let Some(m) = reg.manifest(&src.with_tag(&tag)?)? else {
            continue;
        };
        let current = check_tag(reg, dst, &tag, &m.digest, options.overwrite)?;
        let digest = m.digest.clone();
        walk(reg, src, m, Role::of_suffix(suffix), Some(subject), 0, plan)?;
        plan.tags.push(PlannedTag { tag, digest, current });
    }
    let at = src.with_digest(subject.clone());
    for listed in referrers::referrers_of(reg, &at)? {
        let Ok(d) = listed.digest.parse::<Digest>() else {
            plan.ignored
                .push(format!("referrer {:.80?} of {subject}: not a digest", listed.digest));
            continue;
        };
        if plan.has_manifest(&d) {
            continue;
        }
        let m = reg
            .manifest(&src.with_digest(d.clone()))?
            .ok_or_else(|| Error::NotFound(format!("{}@{d}, listed as a referrer of {subject}", src.name())))?;
        match referrers::referrer_descriptor(&m)? {
            Some((descriptor, about)) if &about == subject => {
                walk(reg, src, m, Role::Referrer, Some(subject), 0, plan)?;
                plan.referrers.push((subject.clone(), descriptor));
            }
            Some((_, about)) => plan
                .ignored
                .push(format!("referrer {d} is listed for {subject} but is about {about}")),
            None => plan
                .ignored
                .push(format!("referrer {d} is listed for {subject} but has no subject")),
        }
    }
    Ok(())
}

/// Counts the bytes that pass, for a [`Progress`].
struct Counting<'a> {
    inner: &'a mut BlobStream,
    progress: &'a dyn Progress,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// One blob from `src`'s repository to `dst`'s: skipped if there, mounted on the same registry if the registry
/// will, else streamed through (checked as it passes).
pub fn copy_blob(
    reg: &Registry,
    src: &Reference,
    dst: &Reference,
    digest: &Digest,
    size: u64,
    progress: &dyn Progress,
) -> Result<BlobOutcome, Error> {
    if reg.has_blob(dst, digest, Access::Push)? {
        return Ok(BlobOutcome::Present);
    }
    let session = if src.registry() == dst.registry() {
        match reg.mount_blob(dst, digest, src)? {
            Mount::Mounted => return Ok(BlobOutcome::Mounted),
            Mount::Upload(session) => session,
        }
    } else {
        reg.start_upload(dst)?
    };
    let mut stream = reg.blob_stream(src, digest, size)?;
    progress.start(&format!("blob {digest}"), size);
    let uploaded = reg.upload_stream(
        dst,
        session,
        digest,
        size,
        &mut Counting {
            inner: &mut stream,
            progress,
        },
    );
    progress.finish();
    // The blob's own failure (wrong content) explains a failed upload better than the connection's.
    if let Some(e) = stream.failure() {
        return Err(e);
    }
    uploaded?;
    if !stream.is_verified() {
        return Err(Error::DigestMismatch(format!(
            "blob {digest} from {}: the upload ended before the blob was read whole",
            src.name()
        )));
    }
    Ok(BlobOutcome::Uploaded)
}

/// Points `t.tag` at the destination to its planned manifest (unless it does already), noting it in the report.
fn set_tag(
    reg: &Registry,
    dst: &Reference,
    t: &PlannedTag,
    plan: &Plan,
    report: &mut [CopiedManifest],
) -> Result<(), Error> {
    let p = plan
        .manifests
        .iter()
        .find(|p| p.manifest.digest == t.digest)
        .ok_or_else(|| Error::Manifest(format!("{} is not among the manifests copied", t.digest)))?;
    let moved = t.current.as_ref() != Some(&t.digest);
    if moved {
        let at = dst.with_tag(&t.tag)?;
        reg.put_manifest(&at, Some(&t.tag), &p.manifest.bytes, &p.manifest.media_type)?;
    }
    if let Some(entry) = report.iter_mut().find(|m| m.digest == t.digest) {
        entry.tag = Some(t.tag.clone());
        if moved {
            entry.replaced = t.current.clone();
            if entry.outcome == ManifestOutcome::Present {
                entry.outcome = ManifestOutcome::Tagged;
            }
        }
    }
    Ok(())
}

/// Copies the image `src` (by tag or digest) and what is attached to it to `dst`, another repository on the
/// same or another registry; see the module documentation for what, in which order, and the bounds.
///
/// The image's tag at the destination is `dst`'s tag; if `dst` names neither tag nor digest, `src`'s tag
/// (`latest` if `src` names neither); if `dst` names only a digest, none. A digest in `dst` must be the image's.
/// An image tag at the destination is moved like any push moves it; attachment tags are subject to
/// [`CopyOptions::overwrite`].
pub fn copy(
    reg: &Registry,
    src: &Reference,
    dst: &Reference,
    options: &CopyOptions,
    progress: &dyn Progress,
) -> Result<CopyReport, Error> {
    let top = reg
        .manifest(src)?
        .ok_or_else(|| Error::NotFound(format!("{src}: no such image")))?;
    let digest = top.digest.clone();
    if let Some(want) = dst.digest() {
        if want != &digest {
            return Err(Error::Reference(format!(
                "the destination names {want}, but {src} is {digest}"
            )));
        }
    }
    let src_at = src.with_digest(digest.clone());
    let dst_at = dst.with_digest(digest.clone());
    let image_tag = match (options.scope, dst.tag(), dst.digest()) {
        (Scope::AttachmentsOnly, _, _) => None,
        (_, Some(t), _) => Some(t.to_string()),
        (_, None, Some(_)) => None,
        (_, None, None) => match (src.tag(), src.digest()) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        },
    };

    // Plan: read everything from the source, check the destination's tags; write nothing yet.
    let mut image = Plan::default();
    image.tree.push(digest.clone());
    walk(reg, &src_at, top, Role::Image, None, 0, &mut image)?;
    let mut plan = match options.scope {
        Scope::ImageAndAttachments => image,
        Scope::AttachmentsOnly => Plan {
            tree: image.tree,
            ..Plan::default()
        },
    };
    for subject in plan.tree.clone() {
        plan_attachments(reg, &src_at, &dst_at, &subject, options, &mut plan)?;
    }
    let image_tag_plan = match &image_tag {
        Some(tag) => Some(PlannedTag {
            tag: tag.clone(),
            digest: digest.clone(),
            current: reg.manifest(&dst.with_tag(tag)?)?.map(|m| m.digest),
        }),
        None => None,
    };

    // Blobs.
    let mut blobs = Vec::new();
    for b in &plan.blobs {
        let outcome = if b.distributable {
            copy_blob(reg, &src_at, &dst_at, &b.digest, b.size, progress)?
        } else {
            BlobOutcome::NotDistributable
        };
        blobs.push(CopiedBlob {
            digest: b.digest.clone(),
            size: b.size,
            outcome,
        });
    }

    // Manifests by digest, children first.
    let mut manifests = Vec::new();
    for p in &plan.manifests {
        let m = &p.manifest;
        let at = dst.with_digest(m.digest.clone());
        let outcome = if reg.has_manifest(&at)? {
            ManifestOutcome::Present
        } else {
            let pushed = reg.put_manifest(&at, None, &m.bytes, &m.media_type)?;
            if pushed != m.digest {
                return Err(Error::DigestMismatch(format!(
                    "manifest {} was pushed to {} as {pushed}",
                    m.digest,
                    dst.name()
                )));
            }
            ManifestOutcome::Copied
        };
        manifests.push(CopiedManifest {
            role: p.role,
            digest: m.digest.clone(),
            media_type: m.media_type.clone(),
            size: m.bytes.len() as u64,
            tag: None,
            subject: p.subject.clone(),
            replaced: None,
            outcome,
        });
    }

    // Tags: attachments, referrers, then the image's own.
    for t in &plan.tags {
        set_tag(reg, dst, t, &plan, &mut manifests)?;
    }
    for (subject, descriptor) in &plan.referrers {
        referrers::register_referrer(reg, &dst.with_digest(subject.clone()), descriptor)?;
    }
    if let Some(t) = &image_tag_plan {
        set_tag(reg, dst, t, &plan, &mut manifests)?;
    }

    Ok(CopyReport {
        source: src_at,
        destination: dst_at,
        tag: image_tag,
        manifests,
        blobs,
        ignored: plan.ignored,
    })
}
