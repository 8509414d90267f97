#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil_oci::copy` against real registries (Debian's docker-registry 2.8): an image with an 8 MiB layer and an
//! index of two images, to another repository of the same registry (cross-repository mounts) and to a second
//! registry (streamed through, checked as it passes); what the destination already has is skipped; a source
//! blob altered in the registry's storage is refused and leaves no tag; attachments in both layouts follow the
//! image, a different signature tag at the destination is refused unless replaced.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;

use common::{TestRegistry, client, push_image};
use sigil_oci::copy::{self, BlobOutcome, CopyOptions, ManifestOutcome, Overwrite, Progress, Role, Scope};
use sigil_oci::legacy::{self, LegacySignature};
use sigil_oci::referrers;
use sigil_oci::{Digest, Error, Reference, Registry};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Deterministic incompressible bytes (xorshift64*).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Pushes an image with a config and `layers`, under `tag`; returns its manifest digest and bytes.
fn push_layers(reg: &Registry, r: &Reference, layers: &[&[u8]], tag: Option<&str>) -> (Digest, Vec<u8>) {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"n":{}}}"#,
        layers.len()
    );
    let c = reg.push_blob(r, config.as_bytes()).unwrap();
    let descriptors: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let d = reg.push_blob(r, l).unwrap();
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d.to_string(), "size": l.len()})
        })
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c.to_string(), "size": config.len()},
        "layers": descriptors,
    }))
    .unwrap();
    let d = reg.put_manifest(r, tag, &manifest, OCI_MANIFEST).unwrap();
    (d, manifest)
}

/// Pushes an index of two small images under `tag`; returns the index digest and the children's.
fn push_index(reg: &Registry, r: &Reference, tag: &str) -> (Digest, Vec<Digest>) {
    let mut children = Vec::new();
    let mut descriptors = Vec::new();
    for (arch, layer) in [("amd64", &b"amd64 layer"[..]), ("arm64", &b"arm64 layer"[..])] {
        let (d, bytes) = push_layers(reg, r, &[layer], None);
        descriptors.push(serde_json::json!({
            "mediaType": OCI_MANIFEST, "digest": d.to_string(), "size": bytes.len(),
            "platform": {"architecture": arch, "os": "linux"},
        }));
        children.push(d);
    }
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors,
    }))
    .unwrap();
    (reg.put_manifest(r, Some(tag), &index, OCI_INDEX).unwrap(), children)
}

/// The blobs a manifest lists (config first).
fn blobs_of(reg: &Registry, r: &Reference) -> Vec<(Digest, u64)> {
    let m = reg.manifest(r).unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap();
    std::iter::once(&v["config"])
        .chain(v["layers"].as_array().unwrap())
        .map(|d| {
            (
                d["digest"].as_str().unwrap().parse().unwrap(),
                d["size"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Records what a copy reports: (what, total, sum of advances) per transfer.
#[derive(Default)]
struct Recorder {
    transfers: RefCell<Vec<(String, u64, u64)>>,
    open: RefCell<bool>,
}

impl Progress for Recorder {
    fn start(&self, what: &str, total: u64) {
        assert!(!*self.open.borrow(), "start before the last transfer finished");
        *self.open.borrow_mut() = true;
        self.transfers.borrow_mut().push((what.to_string(), total, 0));
    }
    fn advance(&self, bytes: u64) {
        assert!(*self.open.borrow(), "advance outside a transfer");
        self.transfers.borrow_mut().last_mut().unwrap().2 += bytes;
    }
    fn finish(&self) {
        *self.open.borrow_mut() = false;
    }
}

fn at(r: &Reference, d: &Digest) -> Reference {
    r.with_digest(d.clone())
}

#[test]
fn images_and_indexes_within_a_registry_and_to_another() {
    let a = TestRegistry::start();
    let b = TestRegistry::start();
    let reg = client();
    let src: Reference = format!("{}/team/app:v1", a.host).parse().unwrap();
    let big = noise(8 << 20, 7);
    let (image, _) = push_layers(&reg, &src, &[b"small layer", &big, b"another layer"], Some("v1"));
    let blobs = blobs_of(&reg, &at(&src, &image));
    assert_eq!(blobs.len(), 4);
    let total: u64 = blobs.iter().map(|b| b.1).sum();

    // Same registry, another repository, no tag given: the source's tag is reused; every blob is mounted.
    let same: Reference = format!("{}/mirror/app", a.host).parse().unwrap();
    let progress = Recorder::default();
    let report = copy::copy(&reg, &src, &same, &CopyOptions::default(), &progress).unwrap();
    assert_eq!(report.destination, at(&same, &image));
    assert_eq!(report.tag.as_deref(), Some("v1"));
    assert_eq!(report.blob_count(BlobOutcome::Mounted), 4, "{report:?}");
    assert_eq!(report.bytes_uploaded(), 0);
    assert!(progress.transfers.borrow().is_empty(), "a mount moves no bytes");
    assert_eq!(reg.resolve(&same.with_tag("v1").unwrap()).unwrap(), image);
    for (d, size) in &blobs {
        let want = reg.blob(&src, d, *size).unwrap();
        assert_eq!(reg.blob(&same, d, *size).unwrap(), want, "blob {d}");
    }

    // Another registry, with a new tag: streamed through; progress adds up to each blob's size.
    let other: Reference = format!("{}/elsewhere/app:copied", b.host).parse().unwrap();
    let progress = Recorder::default();
    let report = copy::copy(&reg, &src, &other, &CopyOptions::default(), &progress).unwrap();
    assert_eq!(report.tag.as_deref(), Some("copied"));
    assert_eq!(report.blob_count(BlobOutcome::Uploaded), 4, "{report:?}");
    assert_eq!(report.bytes_uploaded(), total);
    let transfers = progress.transfers.borrow().clone();
    assert_eq!(transfers.len(), 4);
    for (what, size, advanced) in &transfers {
        assert_eq!(size, advanced, "{what}");
    }
    assert!(
        transfers
            .iter()
            .any(|(what, size, _)| *size == big.len() as u64 && what.contains(&Digest::sha256_of(&big).to_string()))
    );
    assert_eq!(reg.resolve(&other).unwrap(), image);
    assert_eq!(reg.blob(&other, &Digest::sha256_of(&big), 9 << 20).unwrap(), big);
    let m = reg.manifest(&at(&other, &image)).unwrap().unwrap();
    assert_eq!(m.bytes, reg.manifest(&at(&src, &image)).unwrap().unwrap().bytes);
    assert_eq!(m.media_type, OCI_MANIFEST);
    assert_eq!(report.manifests.len(), 1);
    assert_eq!(report.manifests[0].outcome, ManifestOutcome::Copied);

    // Again: nothing moves.
    let progress = Recorder::default();
    let again = copy::copy(&reg, &src, &other, &CopyOptions::default(), &progress).unwrap();
    assert_eq!(again.blob_count(BlobOutcome::Present), 4, "{again:?}");
    assert_eq!(again.bytes_uploaded(), 0);
    assert!(progress.transfers.borrow().is_empty());
    assert_eq!(again.manifests[0].outcome, ManifestOutcome::Present);
    // By digest to a new tag: only the tag is written.
    let retag: Reference = format!("{}/elsewhere/app:second", b.host).parse().unwrap();
    let tagged = copy::copy(
        &reg,
        &at(&src, &image),
        &retag,
        &CopyOptions::default(),
        &copy::NoProgress,
    )
    .unwrap();
    assert_eq!(tagged.manifests[0].outcome, ManifestOutcome::Tagged);
    assert_eq!(reg.resolve(&retag).unwrap(), image);
    // By digest without a tag anywhere: pushed by digest only.
    let untagged: Reference = format!("{}/bydigest/app", b.host).parse().unwrap();
    let r = copy::copy(
        &reg,
        &at(&src, &image),
        &untagged,
        &CopyOptions::default(),
        &copy::NoProgress,
    )
    .unwrap();
    assert_eq!(r.tag, None);
    assert!(reg.has_manifest(&at(&untagged, &image)).unwrap());
    assert!(reg.manifest(&untagged.with_tag("latest").unwrap()).unwrap().is_none());
    // A destination digest that is not the image's.
    let wrong = at(&untagged, &Digest::sha256_of(b"another image"));
    assert!(matches!(
        copy::copy(&reg, &src, &wrong, &CopyOptions::default(), &copy::NoProgress),
        Err(Error::Reference(_))
    ));

    // An index of two images: children before the index, digests kept, to both destinations.
    let (index, children) = push_index(&reg, &src, "multi");
    for dst in [
        format!("{}/mirror/app:multi", a.host),
        format!("{}/elsewhere/app:multi", b.host),
    ] {
        let dst: Reference = dst.parse().unwrap();
        let report = copy::copy(
            &reg,
            &src.with_tag("multi").unwrap(),
            &dst,
            &CopyOptions::default(),
            &copy::NoProgress,
        )
        .unwrap();
        let roles: Vec<(Role, Digest)> = report.manifests.iter().map(|m| (m.role, m.digest.clone())).collect();
        assert_eq!(
            roles,
            vec![
                (Role::Child, children[0].clone()),
                (Role::Child, children[1].clone()),
                (Role::Image, index.clone())
            ]
        );
        assert_eq!(reg.resolve(&dst).unwrap(), index);
        let m = reg.manifest(&at(&dst, &index)).unwrap().unwrap();
        assert_eq!(m.media_type, OCI_INDEX);
        for c in &children {
            assert!(reg.has_manifest(&at(&dst, c)).unwrap(), "child {c} at {dst}");
            for (d, size) in blobs_of(&reg, &at(&src, c)) {
                assert_eq!(reg.blob(&dst, &d, size).unwrap(), reg.blob(&src, &d, size).unwrap());
            }
        }
    }
}

#[test]
fn a_tampered_source_blob_is_refused_and_leaves_no_tag() {
    let a = TestRegistry::start();
    let b = TestRegistry::start();
    let reg = client();
    let src: Reference = format!("{}/team/app:v1", a.host).parse().unwrap();
    let layer = noise(3 << 20, 11);
    let (image, _) = push_layers(&reg, &src, &[b"first", &layer], Some("v1"));
    let layer_digest = Digest::sha256_of(&layer);

    // Same length, other bytes: the registry serves them as they are.
    let mut tampered = layer.clone();
    tampered[1 << 20] ^= 0xff;
    std::fs::write(a.blob_path(layer_digest.hex()), &tampered).unwrap();
    let dst: Reference = format!("{}/elsewhere/app:v1", b.host).parse().unwrap();
    let progress = Recorder::default();
    let err = copy::copy(&reg, &src, &dst, &CopyOptions::default(), &progress).unwrap_err();
    assert!(
        matches!(&err, Error::DigestMismatch(m) if m.contains(&layer_digest.to_string())),
        "{err}"
    );
    // The last chunk is withheld: the upload never completes, and no manifest or tag was written.
    let advanced: u64 = progress.transfers.borrow().iter().map(|t| t.2).sum();
    assert!(advanced < 5 + layer.len() as u64, "{advanced}");
    assert!(!reg.has_blob(&dst, &layer_digest, sigil_oci::Access::Pull).unwrap());
    assert!(reg.manifest(&dst).unwrap().is_none(), "no tag at the destination");
    assert!(!reg.has_manifest(&at(&dst, &image)).unwrap());

    // Longer than its descriptor says.
    let mut longer = layer.clone();
    longer.extend_from_slice(b"more");
    std::fs::write(a.blob_path(layer_digest.hex()), &longer).unwrap();
    let err = copy::copy(&reg, &src, &dst, &CopyOptions::default(), &copy::NoProgress).unwrap_err();
    assert!(
        matches!(&err, Error::TooLarge(m) | Error::DigestMismatch(m) if m.contains(&layer_digest.to_string())),
        "{err}"
    );
    assert!(reg.manifest(&dst).unwrap().is_none());
    // Shorter.
    std::fs::write(a.blob_path(layer_digest.hex()), &layer[..layer.len() - 1]).unwrap();
    let err = copy::copy(&reg, &src, &dst, &CopyOptions::default(), &copy::NoProgress).unwrap_err();
    assert!(matches!(&err, Error::DigestMismatch(_)), "{err}");
    assert!(reg.manifest(&dst).unwrap().is_none());

    // Restored, it copies.
    std::fs::write(a.blob_path(layer_digest.hex()), &layer).unwrap();
    copy::copy(&reg, &src, &dst, &CopyOptions::default(), &copy::NoProgress).unwrap();
    assert_eq!(reg.resolve(&dst).unwrap(), image);
}

/// A legacy signature that is only shaped like one (the copy does not verify; the CLI test signs for real).
fn fake_signature(image: &Reference, digest: &Digest, n: u8) -> LegacySignature {
    LegacySignature {
        payload: legacy::simple_signing_payload(image, digest),
        signature: vec![n; 64],
        material: legacy::LegacyMaterial::default(),
    }
}

fn attach_bundle(reg: &Registry, image: &Reference, json: &[u8]) -> Digest {
    let m = reg.manifest(image).unwrap().unwrap();
    referrers::attach_bundle(
        reg,
        image,
        &m,
        json,
        referrers::BundleContent::MessageSignature,
        "2025-01-01T00:00:00Z",
    )
    .unwrap()
}

#[test]
fn attachments_in_both_layouts_follow_the_image() {
    let a = TestRegistry::start();
    let b = TestRegistry::start();
    let reg = client();
    let src: Reference = format!("{}/team/app:v1", a.host).parse().unwrap();
    let image = push_image(&reg, &src, b"signed layer", "v1");
    let src_at = at(&src, &image);
    legacy::attach(&reg, &src_at, &fake_signature(&src_at, &image, 1)).unwrap();
    let referrer = attach_bundle(&reg, &src_at, br#"{"bundle":1}"#);
    let sig_tag = legacy::signature_tag(&image);
    let sig = reg.manifest(&src.with_tag(&sig_tag).unwrap()).unwrap().unwrap();

    // The destination already lists another referrer of the image: merged, not replaced.
    let dst: Reference = format!("{}/elsewhere/app:v1", b.host).parse().unwrap();
    let dst_at = at(&dst, &image);
    push_image(&reg, &dst, b"signed layer", "v1");
    let theirs = attach_bundle(&reg, &dst_at, br#"{"bundle":"theirs"}"#);

    let report = copy::copy(&reg, &src, &dst, &CopyOptions::default(), &copy::NoProgress).unwrap();
    let sig_entry = report.manifests.iter().find(|m| m.role == Role::Signatures).unwrap();
    assert_eq!(sig_entry.tag.as_deref(), Some(sig_tag.as_str()));
    assert_eq!(sig_entry.subject.as_ref(), Some(&image));
    assert_eq!(
        reg.resolve(&dst.with_tag(&sig_tag).unwrap()).unwrap(),
        sig.digest,
        "the .sig manifest, byte for byte"
    );
    assert_eq!(legacy::signatures(&reg, &dst_at).unwrap().len(), 1);
    let listed: Vec<String> = referrers::bundle_referrers(&reg, &dst_at)
        .unwrap()
        .into_iter()
        .map(|d| d.digest)
        .collect();
    assert_eq!(listed, vec![theirs.to_string(), referrer.to_string()]);
    let found = referrers::bundle_referrers(&reg, &dst_at).unwrap();
    assert_eq!(
        referrers::fetch_bundle(&reg, &dst_at, &found[1], referrers::MAX_BUNDLE_BYTES).unwrap(),
        br#"{"bundle":1}"#
    );
    assert_eq!(
        found[1]
            .annotations
            .get(referrers::CONTENT_ANNOTATION)
            .map(String::as_str),
        Some("message-signature")
    );
    // Copied again: nothing listed twice.
    copy::copy(&reg, &src, &dst, &CopyOptions::default(), &copy::NoProgress).unwrap();
    assert_eq!(referrers::bundle_referrers(&reg, &dst_at).unwrap().len(), 2);

    // Only the attachments, to a repository without the image.
    let sigs_only: Reference = format!("{}/signatures/app", b.host).parse().unwrap();
    let options = CopyOptions {
        scope: Scope::AttachmentsOnly,
        ..CopyOptions::default()
    };
    let report = copy::copy(&reg, &src, &sigs_only, &options, &copy::NoProgress).unwrap();
    assert_eq!(report.tag, None);
    assert!(report.manifests.iter().all(|m| m.role != Role::Image));
    assert!(!reg.has_manifest(&at(&sigs_only, &image)).unwrap());
    assert!(reg.manifest(&sigs_only.with_tag("v1").unwrap()).unwrap().is_none());
    assert_eq!(reg.resolve(&sigs_only.with_tag(&sig_tag).unwrap()).unwrap(), sig.digest);
    assert_eq!(
        referrers::bundle_referrers(&reg, &at(&sigs_only, &image))
            .unwrap()
            .len(),
        1
    );

    // A different signature manifest under the tag at the destination: refused, and nothing written.
    let third: Reference = format!("{}/third/app", b.host).parse().unwrap();
    let third_at = at(&third, &image);
    push_image(&reg, &third, b"signed layer", "old");
    legacy::attach(&reg, &third_at, &fake_signature(&third_at, &image, 2)).unwrap();
    let theirs_sig = reg.resolve(&third.with_tag(&sig_tag).unwrap()).unwrap();
    assert_ne!(theirs_sig, sig.digest);
    let err = copy::copy(&reg, &src, &third, &CopyOptions::default(), &copy::NoProgress).unwrap_err();
    assert!(matches!(&err, Error::Conflict(m) if m.contains(&sig_tag)), "{err}");
    assert!(reg.manifest(&third.with_tag("v1").unwrap()).unwrap().is_none());
    assert!(referrers::bundle_referrers(&reg, &third_at).unwrap().is_empty());
    assert_eq!(reg.resolve(&third.with_tag(&sig_tag).unwrap()).unwrap(), theirs_sig);
    // Replaced when asked.
    let options = CopyOptions {
        overwrite: Overwrite::Replace,
        ..CopyOptions::default()
    };
    let report = copy::copy(&reg, &src, &third, &options, &copy::NoProgress).unwrap();
    let sig_entry = report.manifests.iter().find(|m| m.role == Role::Signatures).unwrap();
    assert_eq!(sig_entry.replaced.as_ref(), Some(&theirs_sig));
    assert_eq!(reg.resolve(&third.with_tag(&sig_tag).unwrap()).unwrap(), sig.digest);
    assert_eq!(reg.resolve(&third.with_tag("v1").unwrap()).unwrap(), image);

    // A referrer listed for the image whose subject is another image is not copied.
    let other = push_image(&reg, &src, b"other layer", "other");
    let other_referrer = attach_bundle(&reg, &at(&src, &other), br#"{"bundle":"other"}"#);
    let mut index: serde_json::Value = serde_json::from_slice(
        &reg.manifest(&src.with_tag(&referrers::referrers_tag(&image)).unwrap())
            .unwrap()
            .unwrap()
            .bytes,
    )
    .unwrap();
    let entry = serde_json::json!({
        "mediaType": OCI_MANIFEST, "digest": other_referrer.to_string(),
        "size": reg.manifest(&at(&src, &other_referrer)).unwrap().unwrap().bytes.len(),
        "artifactType": referrers::BUNDLE_MEDIA_TYPE, "annotations": BTreeMap::<String, String>::new(),
    });
    index["manifests"].as_array_mut().unwrap().push(entry);
    reg.put_manifest(
        &src,
        Some(&referrers::referrers_tag(&image)),
        &serde_json::to_vec(&index).unwrap(),
        OCI_INDEX,
    )
    .unwrap();
    let fourth: Reference = format!("{}/fourth/app", b.host).parse().unwrap();
    let report = copy::copy(&reg, &src, &fourth, &CopyOptions::default(), &copy::NoProgress).unwrap();
    assert_eq!(report.ignored.len(), 1, "{:?}", report.ignored);
    assert!(report.ignored[0].contains(&other.to_string()));
    let listed = referrers::bundle_referrers(&reg, &at(&fourth, &image)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].digest, referrer.to_string());
}

/// Registries behind logins (per host, one client): the streamed upload cannot be repeated after a 401, so it
/// carries the login the upload session was started with.
#[test]
fn between_registries_with_logins() {
    let a = TestRegistry::start_with_login();
    let b = TestRegistry::start_with_login();
    let mut options = sigil_oci::RegistryOptions::default();
    for host in [&a.host, &b.host] {
        options.credentials.insert(
            host.clone(),
            sigil_oci::Credentials {
                username: common::LOGIN.0.into(),
                password: common::LOGIN.1.into(),
            },
        );
    }
    let reg = Registry::new(
        &sigil_client::HttpClient::new(sigil_client::ClientOptions::default()).unwrap(),
        options,
    );
    let src: Reference = format!("{}/team/app:v1", a.host).parse().unwrap();
    let layer = noise(2 << 20, 3);
    let (image, _) = push_layers(&reg, &src, &[&layer], Some("v1"));
    for dst in [format!("{}/mirror/app", a.host), format!("{}/team/app", b.host)] {
        let dst: Reference = dst.parse().unwrap();
        let report = copy::copy(&reg, &src, &dst, &CopyOptions::default(), &copy::NoProgress).unwrap();
        assert_eq!(reg.resolve(&dst.with_tag("v1").unwrap()).unwrap(), image);
        assert_eq!(report.blob_count(BlobOutcome::Present), 0, "{report:?}");
        assert_eq!(reg.blob(&dst, &Digest::sha256_of(&layer), 2 << 20).unwrap(), layer);
    }
}
