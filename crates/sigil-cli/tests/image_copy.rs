#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil copy SRC DST` between two real registries (Debian's docker-registry 2.8): an image signed with a key
//! in both of cosign's layouts (air-gapped: no Sigstore service is contacted), copied to another registry, verifies
//! there by digest and by tag, with its attestation; `--sig-only` copies the signatures without the image; a different `.sig` manifest
//! at the destination is refused without `--force` (nothing written) and replaced with it.

#[path = "../../sigil-oci/tests/common/mod.rs"]
mod registry;
mod support;

use std::path::Path;
use std::process::Command;

use registry::{TestRegistry, client, push_image};
use sigil_oci::{Digest, Reference};
use support::{SIGIL, cmd, fails, ok};

/// `sigil ARGS` in `w`, with no Docker config logins and the key password `pw`.
fn sigil(w: &Path, args: &[&str]) -> Command {
    let mut c = cmd(SIGIL);
    c.args(args)
        .env("DOCKER_CONFIG", w.join("docker"))
        .env("COSIGN_PASSWORD", "pw")
        .env_remove("SIGIL_PASSWORD")
        .current_dir(w);
    c
}

/// Signs `image` with `key` without the transparency log: the legacy layout, or cosign 3's bundle layout.
fn sign(w: &Path, image: &str, key: &str, legacy: bool) {
    let layout = if legacy {
        "--new-bundle-format=false"
    } else {
        "--new-bundle-format=true"
    };
    ok(
        &format!("sign {image} ({layout})"),
        &mut sigil(w, &["sign", image, "--key", key, "--tlog-upload=false", layout]),
    );
}

fn verify(w: &Path, image: &str, public: &str) -> Command {
    sigil(w, &["verify", image, "--key", public, "--insecure-ignore-tlog"])
}

#[test]
fn copy_signed_images_between_registries() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let a = TestRegistry::start();
    let b = TestRegistry::start();
    let reg = client();
    let src: Reference = format!("{}/team/app", a.host).parse().unwrap();
    let digest = push_image(&reg, &src, b"a layer to sign", "v1");
    let src_at = format!("{}@{digest}", src.name());
    for prefix in ["release", "other"] {
        ok(
            "generate-key-pair",
            &mut sigil(w, &["generate-key-pair", "--output-key-prefix", prefix]),
        );
    }
    sign(w, &src_at, "release.key", true);
    sign(w, &src_at, "release.key", false);
    let out = ok("verify at the source", &mut verify(w, &src_at, "release.pub"));
    assert!(out.contains("2 of 2 signatures"), "{out}");
    // An attestation in the legacy `.att` layout travels too.
    std::fs::write(
        w.join("predicate.json"),
        r#"{"builder":{"id":"https://ci.example.test"}}"#,
    )
    .unwrap();
    ok(
        "attest",
        &mut sigil(
            w,
            &[
                "attest",
                &src_at,
                "--predicate",
                "predicate.json",
                "--type",
                "slsaprovenance1",
                "--key",
                "release.key",
                "--tlog-upload=false",
                "--new-bundle-format=false",
            ],
        ),
    );

    // To another registry, the source's tag reused.
    let dst = format!("{}/mirror/app", b.host);
    let dst_at = format!("{dst}@{digest}");
    let r = support::run(&mut sigil(w, &["copy", &format!("{}:v1", src.name()), &dst]));
    assert!(r.status.success(), "{}", r.show("copy"));
    assert!(
        !r.stderr.contains('\r'),
        "no progress bar without a terminal: {}",
        r.stderr
    );
    assert!(
        r.stdout.contains(&format!("Copied {src_at} to {dst}:v1@{digest}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("signatures sha256:"), "{}", r.stdout);
    assert!(r.stdout.contains("referrer sha256:"), "{}", r.stdout);
    // Both signatures verify at the destination, by digest and by tag.
    let out = ok("verify the copy", &mut verify(w, &dst_at, "release.pub"));
    assert!(out.contains("2 of 2 signatures"), "{out}");
    assert!(
        out.contains("bundle sha256:") && out.contains("signature 1: verified"),
        "{out}"
    );
    ok(
        "verify the copy's tag",
        &mut verify(w, &format!("{dst}:v1"), "release.pub"),
    );
    fails("verify the copy with another key", &mut verify(w, &dst_at, "other.pub"));
    let out = ok(
        "verify-attestation of the copy",
        &mut sigil(
            w,
            &[
                "verify-attestation",
                &dst_at,
                "--type",
                "slsaprovenance1",
                "--key",
                "release.pub",
                "--insecure-ignore-tlog",
            ],
        ),
    );
    assert!(out.contains("1 of 1 attestations"), "{out}");

    // Again, as JSON: everything is there already.
    let out = ok(
        "copy again",
        &mut sigil(w, &["copy", &src_at, &format!("{dst}:v1"), "--output", "json"]),
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["destination"], dst_at);
    assert_eq!(report["tag"], "v1");
    assert_eq!(report["blobs"]["uploaded"], 0, "{report}");
    assert_eq!(report["blobs"]["bytesUploaded"], 0);
    assert!(report["blobs"]["present"].as_u64().unwrap() >= 4, "{report}");
    let manifests = report["manifests"].as_array().unwrap();
    let roles: Vec<&str> = manifests.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["image", "signatures", "attestations", "referrer"], "{report}");
    assert!(manifests.iter().all(|m| m["result"] == "present"), "{report}");
    assert_eq!(
        manifests[1]["tag"],
        sigil_oci::legacy::signature_tag(&digest),
        "{report}"
    );

    // --sig-only: the signatures, not the image.
    let sigs = format!("{}/signatures/app", b.host);
    let out = ok(
        "copy --sig-only",
        &mut sigil(w, &["copy", "--sig-only", &src_at, &sigs, "--output", "json"]),
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        report["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["role"] != "image"),
        "{report}"
    );
    let sigs_ref: Reference = sigs.parse().unwrap();
    assert!(!reg.has_manifest(&sigs_ref.with_digest(digest.clone())).unwrap());
    let out = ok(
        "verify the copied signatures",
        &mut verify(w, &format!("{sigs}@{digest}"), "release.pub"),
    );
    assert!(out.contains("2 of 2 signatures"), "{out}");

    // The source gets a second legacy signature; the destination's .sig tag now differs: refused, then forced.
    sign(w, &src_at, "other.key", true);
    let sig_tag = sigil_oci::legacy::signature_tag(&digest);
    let dst_ref: Reference = dst.parse().unwrap();
    let before = reg.resolve(&dst_ref.with_tag(&sig_tag).unwrap()).unwrap();
    let r = fails("copy over a different .sig", &mut sigil(w, &["copy", &src_at, &dst]));
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(
        r.stderr.contains(&sig_tag) && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(reg.resolve(&dst_ref.with_tag(&sig_tag).unwrap()).unwrap(), before);
    fails(
        "verify with the other key before --force",
        &mut verify(w, &dst_at, "other.pub"),
    );
    let out = ok("copy --force", &mut sigil(w, &["copy", "--force", &src_at, &dst]));
    assert!(out.contains(&format!("(was {before})")), "{out}");
    let after: Digest = reg.resolve(&dst_ref.with_tag(&sig_tag).unwrap()).unwrap();
    assert_ne!(after, before);
    ok("verify with the other key", &mut verify(w, &dst_at, "other.pub"));
    let out = ok("verify with the release key", &mut verify(w, &dst_at, "release.pub"));
    assert!(out.contains("2 of 3 signatures"), "{out}");

    // Refusals: a destination digest that is not the image's; an image that is not there.
    let r = fails(
        "copy to another digest",
        &mut sigil(w, &["copy", &src_at, &format!("{dst}@{}", Digest::sha256_of(b"x"))]),
    );
    assert!(
        r.stderr.contains("error: ") && r.stderr.contains("names sha256:"),
        "{}",
        r.stderr
    );
    let r = fails(
        "copy a missing image",
        &mut sigil(w, &["copy", &format!("{}:nope", src.name()), &dst]),
    );
    assert!(r.stderr.contains("no such image"), "{}", r.stderr);
}

/// A destination behind a login: `--dst-registry-username/--dst-registry-password` (the `--registry-*` flags are
/// the source's login).
#[test]
fn copy_to_a_registry_with_a_login() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let a = TestRegistry::start();
    let b = TestRegistry::start_with_login();
    let reg = client();
    let src: Reference = format!("{}/team/app", a.host).parse().unwrap();
    let digest = push_image(&reg, &src, b"a private copy", "v1");
    let src_at = format!("{}@{digest}", src.name());
    let dst = format!("{}/private/app:v1", b.host);
    let (user, password) = registry::LOGIN;
    let r = fails("copy without a login", &mut sigil(w, &["copy", &src_at, &dst]));
    assert!(r.stderr.contains("authentication"), "{}", r.stderr);
    let r = fails(
        "copy with the login given for the source",
        &mut sigil(
            w,
            &[
                "copy",
                &src_at,
                &dst,
                "--registry-username",
                user,
                "--registry-password",
                password,
            ],
        ),
    );
    assert!(r.stderr.contains("authentication"), "{}", r.stderr);
    ok(
        "copy with the destination's login",
        &mut sigil(
            w,
            &[
                "copy",
                &src_at,
                &dst,
                "--dst-registry-username",
                user,
                "--dst-registry-password",
                password,
            ],
        ),
    );
    let mut options = sigil_oci::RegistryOptions::default();
    options.credentials.insert(
        b.host.clone(),
        sigil_oci::Credentials {
            username: user.into(),
            password: password.into(),
        },
    );
    let private = sigil_oci::Registry::new(&sigil_client::HttpClient::new(Default::default()).unwrap(), options);
    assert_eq!(private.resolve(&dst.parse().unwrap()).unwrap(), digest);
}
