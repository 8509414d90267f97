#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil sign IMAGE` and `sigil verify IMAGE` against a real registry (Debian's docker-registry 2.8) and
//! `sigil serve --dev`, with a key and keyless, in cosign's legacy layout (Rekor v1; then skopeo, i.e.
//! containers/image, reads it with its own `sigstoreSigned` policy) and in cosign 3's bundle-as-referrer layout
//! (the referrers tag schema, since distribution 2.8 has no referrers API). Refused: a tag without `--allow-tag`, another key, a
//! signature copied from another image's `.sig` tag (tag confusion), an altered signature annotation, a missing
//! log entry unless explicitly accepted. sigstore-python verifies the keyless bundles (signature and attestation)
//! for the image digest, and refuses them for another image or identity.

#[path = "../../sigil-oci/tests/common/mod.rs"]
mod registry;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use registry::{LOGIN, TestRegistry, client, push_image};
use sigil_oci::{Digest, Reference, Registry};
use support::{SIGIL, cmd, fails, ok, start_instance};

/// `skopeo copy` of `image` under a policy that requires a sigstore signature by `public_key`: whether it
/// succeeded, and what skopeo said.
fn skopeo_copy(w: &Path, registry_host: &str, image: &str, public_key: &Path) -> (bool, String) {
    let policy = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {"docker": {registry_host: [{
            "type": "sigstoreSigned",
            "keyPath": public_key,
            "signedIdentity": {"type": "matchRepository"},
        }]}},
    });
    std::fs::write(w.join("policy.json"), policy.to_string()).unwrap();
    let registries_d = w.join("registries.d");
    std::fs::create_dir_all(&registries_d).unwrap();
    std::fs::write(
        registries_d.join("local.yaml"),
        format!("docker:\n  {registry_host}:\n    use-sigstore-attachments: true\n"),
    )
    .unwrap();
    let out_dir = w.join("copied");
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = Command::new("skopeo")
        .arg("copy")
        .arg("--policy")
        .arg(w.join("policy.json"))
        .arg("--registries.d")
        .arg(&registries_d)
        .arg("--src-tls-verify=false")
        .arg(format!("docker://{image}"))
        .arg(format!("dir:{}", out_dir.display()))
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// One `sigil serve --dev` and one registry, in a temporary working directory.
struct Setup {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    trust_config: PathBuf,
    _instance: support::Server,
    registry: TestRegistry,
    reg: Registry,
    repo: Reference,
}

impl Setup {
    fn new(registry: TestRegistry, reg: Registry) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("instance");
        let instance = start_instance(&dir, &tmp.path().join("serve.stderr"));
        let repo = format!("{}/team/app", registry.host).parse().unwrap();
        Self {
            trust_config: dir.join("trust_config.json"),
            dir,
            tmp,
            _instance: instance,
            registry,
            reg,
            repo,
        }
    }

    /// Images A and B (layers `A`, `B`, tags `a`, `b`) with their digests and `repo@digest` names, and the key
    /// pair `release`.
    fn two_images_and_a_key(&self) -> [(sigil_oci::Digest, String); 2] {
        self.keygen("release");
        [(b"A", "a"), (b"B", "b")].map(|(layer, tag)| {
            let d = push_image(&self.reg, &self.repo, layer, tag);
            let name = format!("{}@{d}", self.repo.name());
            (d, name)
        })
    }

    /// `sigil generate-key-pair` → PREFIX.key (password `pw`) and PREFIX.pub in the working directory.
    fn keygen(&self, prefix: &str) {
        ok(
            "generate-key-pair",
            cmd(SIGIL)
                .args(["generate-key-pair", "--output-key-prefix", prefix])
                .env("COSIGN_PASSWORD", "pw")
                .current_dir(self.tmp.path()),
        );
    }

    /// `sigil sign` in the legacy layout (`--new-bundle-format=false`), key password `pw`.
    fn sign(&self, image: &str, key: &str, extra: &[&str]) -> Command {
        let mut c = self.sign_new(image, &["--key", key, "--new-bundle-format=false"]);
        c.args(extra);
        c
    }

    /// `sigil sign IMAGE` with only `extra` (the bundle layout unless it says otherwise).
    fn sign_new(&self, image: &str, extra: &[&str]) -> Command {
        let mut c = cmd(SIGIL);
        c.args(["sign", image])
            .arg("--trust-config")
            .arg(&self.trust_config)
            .args(extra)
            .env("COSIGN_PASSWORD", "pw")
            .env_remove("SIGIL_PASSWORD")
            .current_dir(self.tmp.path());
        c
    }

    /// `sigil verify IMAGE --key PUBLIC` against the instance's trusted root.
    fn verify(&self, image: &str, public: &str, extra: &[&str]) -> Command {
        let mut c = self.verify_with(image, &["--key", public]);
        c.args(extra);
        c
    }

    /// `sigil verify IMAGE` as `identity` from `issuer`.
    fn verify_identity(&self, image: &str, identity: &str, issuer: &str) -> Command {
        self.verify_with(
            image,
            &["--certificate-identity", identity, "--certificate-oidc-issuer", issuer],
        )
    }

    fn verify_with(&self, image: &str, args: &[&str]) -> Command {
        let mut c = cmd(SIGIL);
        c.args(["verify", image])
            .args(args)
            .arg("--trusted-root")
            .arg(self.dir.join("trusted_root.json"))
            .current_dir(self.tmp.path());
        c
    }

    /// sigstore-python 4 verifying `bundle` (JSON) offline against the instance, for the artifact digest
    /// `digest` (`sha256:<hex>`: the image's), as `identity` from `issuer`.
    fn python_verify(
        &self,
        bundle: &serde_json::Value,
        digest: &sigil_oci::Digest,
        identity: &str,
        issuer: &str,
    ) -> Command {
        let python =
            support::clients_required("sigstore-python verifies an image bundle", &[support::Need::Python]).python;
        let path = self.tmp.path().join(format!(
            "{}.sigstore.json",
            Digest::sha256_of(bundle.to_string().as_bytes()).hex()
        ));
        std::fs::write(&path, bundle.to_string()).unwrap();
        let mut c = cmd(&python);
        c.args(["-m", "sigstore", "--trust-config"])
            .arg(&self.trust_config)
            .args(["verify", "identity", "--offline", "--bundle"])
            .arg(&path)
            .args(["--cert-identity", identity, "--cert-oidc-issuer", issuer])
            .arg(digest.to_string())
            .current_dir(self.tmp.path());
        c
    }

    /// A development token for `email` and the issuer it names.
    fn token(&self, email: &str) -> (String, String) {
        let token = support::dev_token(&self.dir, email, None);
        let payload = token.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&sigil_bundle::encoding::decode_base64(payload).unwrap()).unwrap();
        let issuer = claims["iss"].as_str().unwrap().to_string();
        (token, issuer)
    }
}

#[test]
fn sign_and_verify_images_in_a_real_registry() {
    let s = Setup::new(TestRegistry::start(), client());
    let (w, registry, reg, repo) = (s.tmp.path(), &s.registry, &s.reg, s.repo.clone());
    let a = push_image(reg, &repo, b"image A layer", "a");
    let b = push_image(reg, &repo, b"image B layer", "b");
    let image_a = format!("{}@{a}", repo.name());
    let image_b = format!("{}@{b}", repo.name());
    s.keygen("release");
    s.keygen("other");

    // A tag is refused unless asked for; then the digest it points to is signed.
    let r = fails(
        "sign a tag",
        &mut s.sign(&format!("{}:a", repo.name()), "release.key", &[]),
    );
    assert!(r.stderr.contains("--allow-tag"), "{}", r.stderr);
    ok(
        "sign a tag with --allow-tag",
        &mut s.sign(&format!("{}:a", repo.name()), "release.key", &["--allow-tag"]),
    );
    let out = ok("verify A", &mut s.verify(&image_a, "release.pub", &[]));
    assert!(out.contains("1 of 1 signatures"), "{out}");
    assert!(out.contains("logged"), "{out}");
    // A second signer accumulates on the same tag; each key verifies its own.
    ok("sign A with the other key", &mut s.sign(&image_a, "other.key", &[]));
    let out = ok("verify A (release)", &mut s.verify(&image_a, "release.pub", &[]));
    assert!(out.contains("1 of 2 signatures"), "{out}");
    ok("verify A (other)", &mut s.verify(&image_a, "other.pub", &[]));

    // B is unsigned; then its .sig tag gets A's signatures copied onto it (tag confusion).
    let r = fails("verify unsigned B", &mut s.verify(&image_b, "release.pub", &[]));
    assert!(r.stderr.contains("no signatures"), "{}", r.stderr);
    let sig_a = reg
        .manifest(&repo.with_tag(&sigil_oci::legacy::signature_tag(&a)).unwrap())
        .unwrap()
        .unwrap();
    reg.put_manifest(
        &repo,
        Some(&sigil_oci::legacy::signature_tag(&b)),
        &sig_a.bytes,
        &sig_a.media_type,
    )
    .unwrap();
    let r = fails(
        "verify B with A's signatures",
        &mut s.verify(&image_b, "release.pub", &[]),
    );
    assert!(r.stderr.contains("another image"), "{}", r.stderr);

    // An altered signature annotation.
    let mut m: serde_json::Value = serde_json::from_slice(&sig_a.bytes).unwrap();
    for layer in m["layers"].as_array_mut().unwrap() {
        let s = layer["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap()
            .to_string();
        let mut raw = sigil_bundle::encoding::decode_base64(&s).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        layer["annotations"]["dev.cosignproject.cosign/signature"] = sigil_bundle::encoding::encode_base64(&raw).into();
    }
    let tampered_tag = sigil_oci::legacy::signature_tag(&a);
    reg.put_manifest(
        &repo,
        Some(&tampered_tag),
        &serde_json::to_vec(&m).unwrap(),
        &sig_a.media_type,
    )
    .unwrap();
    let r = fails("verify A after tampering", &mut s.verify(&image_a, "release.pub", &[]));
    assert!(r.stderr.contains("signature 1"), "{}", r.stderr);
    // Restored, it verifies again.
    reg.put_manifest(&repo, Some(&tampered_tag), &sig_a.bytes, &sig_a.media_type)
        .unwrap();
    ok("verify A restored", &mut s.verify(&image_a, "release.pub", &[]));

    // containers/image (skopeo) under a sigstoreSigned policy with the key. Debian's skopeo 1.9.3 is built with
    // sigstore verification disabled ("Debian-local change: sigstore disabled"), so it cannot accept any
    // sigstore signature. What it shows is that it reads sigil's layout: it finds both signatures attached to
    // A, one reason per signature, and none on an unsigned image.
    let public = w.join("release.pub");
    let (accepted, said) = skopeo_copy(w, &registry.host, &image_a, &public);
    assert!(
        !accepted,
        "Debian's skopeo accepted a sigstore signature: update this test ({said})"
    );
    assert!(said.contains("None of the signatures were accepted"), "{said}");
    assert_eq!(said.matches("sigstore disabled").count(), 2, "{said}");
    let d = push_image(reg, &repo, b"image D layer", "d");
    let (accepted, said) = skopeo_copy(w, &registry.host, &format!("{}@{d}", repo.name()), &public);
    assert!(!accepted);
    assert!(!said.contains("sigstore disabled"), "{said}");

    // Air-gapped signing: no log entry; verify needs to be told.
    let c = push_image(reg, &repo, b"image C layer", "c");
    let image_c = format!("{}@{c}", repo.name());
    ok(
        "sign C without the log",
        &mut s.sign(&image_c, "release.key", &["--tlog-upload=false"]),
    );
    fails("verify C", &mut s.verify(&image_c, "release.pub", &[]));
    let out = ok(
        "verify C --insecure-ignore-tlog",
        &mut s.verify(&image_c, "release.pub", &["--insecure-ignore-tlog"]),
    );
    assert!(out.contains("not logged"), "{out}");

    // Keyless: a certificate for the token's identity, attached with the signature.
    let (token, issuer) = s.token("alice@example.test");
    let image_d = format!("{}@{d}", repo.name());
    ok(
        "sign D keylessly",
        &mut s.sign_new(&image_d, &["--identity-token", &token, "--new-bundle-format=false"]),
    );
    let out = ok(
        "verify D keylessly",
        &mut s.verify_identity(&image_d, "alice@example.test", &issuer),
    );
    assert!(out.contains("signed by alice@example.test"), "{out}");
    let r = fails(
        "verify D as someone else",
        &mut s.verify_identity(&image_d, "mallory@example.test", &issuer),
    );
    assert!(r.stderr.contains("signature 1"), "{}", r.stderr);
    let sig_d = reg
        .manifest(&repo.with_tag(&sigil_oci::legacy::signature_tag(&d)).unwrap())
        .unwrap()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&sig_d.bytes).unwrap();
    let annotations = &m["layers"][0]["annotations"];
    assert!(
        annotations["dev.sigstore.cosign/certificate"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(annotations["dev.sigstore.cosign/bundle"].is_string());
}

/// a registry that answers with too many signatures, or with payloads or manifests too large, is read
/// only up to fixed bounds and refused; V-01/V-02 in the legacy shape: a valid log entry of the same signer for
/// another image, put in place of this signature's entry, is refused by the same check as for any bundle.
#[test]
fn hostile_attachments_are_bounded_and_swapped_log_entries_refused() {
    let s = Setup::new(TestRegistry::start(), client());
    let (reg, repo) = (&s.reg, s.repo.clone());
    let [(a, image_a), (b, image_b)] = s.two_images_and_a_key();
    ok("sign A", &mut s.sign(&image_a, "release.key", &[]));
    ok("sign B", &mut s.sign(&image_b, "release.key", &[]));
    let sig_tag = |d| sigil_oci::legacy::signature_tag(d);
    let manifest = |d| {
        let m = reg.manifest(&repo.with_tag(&sig_tag(d)).unwrap()).unwrap().unwrap();
        (
            serde_json::from_slice::<serde_json::Value>(&m.bytes).unwrap(),
            m.media_type,
        )
    };
    let put = |d, m: &serde_json::Value, media_type: &str| {
        reg.put_manifest(&repo, Some(&sig_tag(d)), &serde_json::to_vec(m).unwrap(), media_type)
            .unwrap();
    };
    let (ma, media_type) = manifest(&a);
    let (mb, _) = manifest(&b);

    // V-01: A's signature with B's (valid, same signer) log entry.
    let mut swapped = ma.clone();
    swapped["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"] =
        mb["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"].clone();
    put(&a, &swapped, &media_type);
    let r = fails(
        "verify A with B's log entry",
        &mut s.verify(&image_a, "release.pub", &[]),
    );
    assert!(r.stderr.contains("TLOG_BODY_MISMATCH"), "{}", r.stderr);
    put(&a, &ma, &media_type);
    ok("verify A restored", &mut s.verify(&image_a, "release.pub", &[]));

    // 101 signatures (the cap is 100) are refused before any is fetched.
    let mut many = ma.clone();
    let layer = ma["layers"][0].clone();
    many["layers"] = serde_json::Value::Array(vec![layer; 101]);
    put(&a, &many, &media_type);
    let r = fails(
        "verify A with 101 signatures",
        &mut s.verify(&image_a, "release.pub", &[]),
    );
    assert!(r.stderr.contains("more than the 100"), "{}", r.stderr);

    // a payload blob over the 64 KiB cap is not read past it.
    let big = vec![b' '; 1 << 20];
    let big_digest = reg.push_blob(&repo, &big).unwrap();
    let mut huge = ma.clone();
    huge["layers"][0]["digest"] = big_digest.to_string().into();
    huge["layers"][0]["size"] = big.len().into();
    put(&a, &huge, &media_type);
    let r = fails(
        "verify A with a 1 MiB payload",
        &mut s.verify(&image_a, "release.pub", &[]),
    );
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
}

/// A registry behind a login: `--registry-username/--registry-password`, or the Docker config's `auths`.
#[test]
fn signing_in_a_registry_with_a_login() {
    let registry = TestRegistry::start_with_login();
    let mut options = sigil_oci::RegistryOptions::default();
    options.credentials.insert(
        registry.host.clone(),
        sigil_oci::Credentials {
            username: LOGIN.0.into(),
            password: LOGIN.1.into(),
        },
    );
    let reg = sigil_oci::Registry::new(&sigil_client::HttpClient::new(Default::default()).unwrap(), options);
    let s = Setup::new(registry, reg);
    let (w, registry, reg, repo) = (s.tmp.path(), &s.registry, &s.reg, s.repo.clone());
    let image = format!("{}@{}", repo.name(), push_image(reg, &repo, b"private", "v1"));
    s.keygen("release");
    let docker_config = w.join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();

    // No login: the registry's refusal is named.
    let r = fails(
        "sign without a login",
        s.sign(&image, "release.key", &[]).env("DOCKER_CONFIG", &docker_config),
    );
    assert!(r.stderr.contains("authentication"), "{}", r.stderr);
    // The flags.
    ok(
        "sign with --registry-username/--registry-password",
        s.sign(
            &image,
            "release.key",
            &["--registry-username", LOGIN.0, "--registry-password", LOGIN.1],
        )
        .env("DOCKER_CONFIG", &docker_config),
    );
    // The Docker config, as `docker login` writes it.
    let auth = sigil_bundle::encoding::encode_base64(format!("{}:{}", LOGIN.0, LOGIN.1).as_bytes());
    std::fs::write(
        docker_config.join("config.json"),
        serde_json::json!({"auths": {registry.host.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let out = ok(
        "verify with the Docker config's login",
        s.verify(&image, "release.pub", &[])
            .env("DOCKER_CONFIG", &docker_config),
    );
    assert!(out.contains("1 of 1 signatures"), "{out}");

    // A credential helper named by the config (`credHelpers`), found on PATH, asked with the host on stdin.
    // The keychains real helpers use cannot exist here, so this one is a script that speaks the protocol.
    let bin = w.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-sigiltest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread host\necho \"$host\" >> {log}\nif [ \"$host\" = {host} ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}' \"$host\"\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n",
            log = w.join("helper.log").display(),
            host = registry.host,
            user = LOGIN.0,
            password = LOGIN.1,
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    std::fs::write(
        docker_config.join("config.json"),
        serde_json::json!({"credHelpers": {registry.host.clone(): "sigiltest"}}).to_string(),
    )
    .unwrap();
    let out = ok(
        "verify with the credential helper's login",
        s.verify(&image, "release.pub", &[])
            .env("DOCKER_CONFIG", &docker_config)
            .env("PATH", &path),
    );
    assert!(out.contains("1 of 1 signatures"), "{out}");
    assert_eq!(
        std::fs::read_to_string(w.join("helper.log")).unwrap().trim(),
        registry.host
    );
    // A helper that is not installed: named in the error.
    std::fs::write(
        docker_config.join("config.json"),
        serde_json::json!({"credsStore": "sigiltest", "credHelpers": {registry.host.clone(): "sigilnone"}}).to_string(),
    )
    .unwrap();
    let r = fails(
        "verify with a missing credential helper",
        s.verify(&image, "release.pub", &[])
            .env("DOCKER_CONFIG", &docker_config)
            .env("PATH", &path),
    );
    assert!(
        r.stderr.contains("docker-credential-sigilnone: cannot run it"),
        "{}",
        r.stderr
    );
}

/// cosign 3's layout: the bundle as an OCI 1.1 referrer, found through the referrers tag schema.
#[test]
fn sign_and_verify_in_the_bundle_layout() {
    let s = Setup::new(TestRegistry::start(), client());
    let (w, reg, repo) = (s.tmp.path(), &s.reg, s.repo.clone());
    let [(a, image_a), (b, image_b)] = s.two_images_and_a_key();
    let out = ok(
        "sign A (bundle layout, key)",
        &mut s.sign_new(&image_a, &["--key", "release.key", "--output", "json"]),
    );
    let signed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(signed["layout"], "referrer", "{signed}");
    assert_eq!(signed["image"], image_a.as_str());
    let out = ok("verify A", &mut s.verify(&image_a, "release.pub", &[]));
    assert!(
        out.contains("1 of 1 signatures") && out.contains("bundle sha256:"),
        "{out}"
    );
    let out = ok(
        "verify A, JSON",
        &mut s.verify(&image_a, "release.pub", &["--output", "json"]),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], 1, "{v}");
    assert_eq!(v["results"][0]["location"], signed["location"], "{v}");

    // What is in the registry: an index under the referrers tag, listing a manifest whose subject is A.
    let index = reg
        .manifest(&repo.with_tag(&sigil_oci::referrers::referrers_tag(&a)).unwrap())
        .unwrap()
        .expect("the referrers tag schema index");
    let index: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
    let entry = &index["manifests"][0];
    assert_eq!(entry["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert_eq!(
        entry["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    let referrer: sigil_oci::Digest = entry["digest"].as_str().unwrap().parse().unwrap();
    let m = reg.manifest(&repo.with_digest(referrer)).unwrap().unwrap();
    let m: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap();
    assert_eq!(m["subject"]["digest"], a.to_string());
    assert_eq!(m["config"]["mediaType"], "application/vnd.oci.empty.v1+json");

    // Keyless, and both layouts on one image.
    let (token, issuer) = s.token("alice@example.test");
    ok(
        "sign A keylessly (bundle layout)",
        &mut s.sign_new(&image_a, &["--identity-token", &token]),
    );
    ok("sign A (legacy layout)", &mut s.sign(&image_a, "release.key", &[]));
    let out = ok("verify A with the key", &mut s.verify(&image_a, "release.pub", &[]));
    assert!(out.contains("2 of 3 signatures"), "{out}");
    // `tree` lists what is attached, in both layouts, without verifying.
    let out = ok(
        "tree A",
        cmd(SIGIL).args(["tree", &image_a, "--output", "json"]).current_dir(w),
    );
    let t: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(t["legacySignatures"]["signatures"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(t["legacySignatures"]["signatures"][0]["signer"], "key");
    let bundles = t["bundles"].as_array().unwrap();
    assert_eq!(bundles.len(), 2, "{t}");
    assert!(
        bundles
            .iter()
            .all(|b| b["predicateType"] == "https://sigstore.dev/cosign/sign/v1")
    );
    let out = ok("tree A (text)", cmd(SIGIL).args(["tree", &image_a]).current_dir(w));
    assert!(out.contains("bundles attached as referrers: 2"), "{out}");
    // `download signature`: the legacy one with cosign's field names, then the two bundles.
    let out = ok(
        "download signature A",
        cmd(SIGIL).args(["download", "signature", &image_a]).current_dir(w),
    );
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    let payload = sigil_bundle::encoding::decode_base64(lines[0]["Payload"].as_str().unwrap()).unwrap();
    assert!(String::from_utf8(payload).unwrap().contains(&a.to_string()));
    assert!(lines[0]["Bundle"]["SignedEntryTimestamp"].is_string());
    assert!(
        lines[1..]
            .iter()
            .all(|b| b["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json")
    );
    let out = ok(
        "verify A as alice",
        &mut s.verify_identity(&image_a, "alice@example.test", &issuer),
    );
    assert!(out.contains("signed by alice@example.test"), "{out}");
    // An independent verifier: sigstore-python accepts the keyless bundle for A's digest, and only for A's.
    let keyless = lines[1..]
        .iter()
        .find(|b| b["verificationMaterial"]["certificate"].is_object())
        .expect("the keyless bundle");
    ok(
        "sigstore-python verifies A's keyless bundle",
        &mut s.python_verify(keyless, &a, "alice@example.test", &issuer),
    );
    fails(
        "sigstore-python: A's bundle for B",
        &mut s.python_verify(keyless, &b, "alice@example.test", &issuer),
    );
    fails(
        "sigstore-python: A's bundle as mallory",
        &mut s.python_verify(keyless, &a, "mallory@example.test", &issuer),
    );
    fails(
        "verify A as mallory",
        &mut s.verify_identity(&image_a, "mallory@example.test", &issuer),
    );

    // A's referrer listed for B (a signature of another image): its subject is A, so B has none.
    let index_tag = sigil_oci::referrers::referrers_tag(&b);
    let a_index = reg
        .manifest(&repo.with_tag(&sigil_oci::referrers::referrers_tag(&a)).unwrap())
        .unwrap()
        .unwrap();
    reg.put_manifest(&repo, Some(&index_tag), &a_index.bytes, &a_index.media_type)
        .unwrap();
    let r = fails(
        "verify B with A's referrers",
        &mut s.verify(&image_b, "release.pub", &[]),
    );
    assert!(r.stderr.contains(&format!("not {b}")), "{}", r.stderr);

    // The image manifest altered in the registry's storage (same length, still a manifest): refused when it is
    // read, before any signature is looked at.
    let path = s.registry.blob_path(a.hex());
    let original = std::fs::read_to_string(&path).unwrap();
    let config_digest = serde_json::from_str::<serde_json::Value>(&original).unwrap()["config"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = original.replacen(&config_digest[7..15], "00000000", 1);
    assert_ne!(changed, original);
    std::fs::write(&path, changed).unwrap();
    let r = fails(
        "verify A with its manifest altered",
        &mut s.verify(&image_a, "release.pub", &[]),
    );
    assert!(
        r.stderr.contains(&format!("resolving {image_a}")) && r.stderr.contains("digest mismatch"),
        "{}",
        r.stderr
    );
}

impl Setup {
    /// `sigil attest IMAGE` with an SLSA v1 predicate from `predicate.json`, plus `extra`.
    fn attest(&self, image: &str, extra: &[&str]) -> Command {
        let mut c = cmd(SIGIL);
        c.args([
            "attest",
            image,
            "--predicate",
            "predicate.json",
            "--type",
            "slsaprovenance1",
        ])
        .arg("--trust-config")
        .arg(&self.trust_config)
        .args(extra)
        .env("COSIGN_PASSWORD", "pw")
        .env_remove("SIGIL_PASSWORD")
        .current_dir(self.tmp.path());
        c
    }

    /// `sigil verify-attestation IMAGE --type slsaprovenance1` with `args`.
    fn verify_attestation(&self, image: &str, args: &[&str]) -> Command {
        let mut c = cmd(SIGIL);
        c.args(["verify-attestation", image, "--type", "slsaprovenance1"])
            .args(args)
            .arg("--trusted-root")
            .arg(self.dir.join("trusted_root.json"))
            .current_dir(self.tmp.path());
        c
    }
}

/// Attestations in both layouts: with a key in the legacy `.att` layout (Rekor v1) and keylessly as a bundle
/// referrer; `verify-attestation` by predicate type with a passing and a failing predicate policy; `download
/// attestation` and `tree`; an attestation copied onto another image's `.att` tag, an altered envelope and an
/// altered referrer bundle, each refused with the step named.
#[test]
fn attest_and_verify_attestations_in_both_layouts() {
    let s = Setup::new(TestRegistry::start(), client());
    let (w, reg, repo) = (s.tmp.path(), &s.reg, s.repo.clone());
    let [(a, image_a), (b, image_b)] = s.two_images_and_a_key();
    let predicate = serde_json::json!({
        "buildDefinition": {
            "buildType": "https://ci.example.test/build/v1",
            "externalParameters": {"repository": "https://git.example.test/team/app"},
        },
        "runDetails": {"builder": {"id": "https://ci.example.test/builder"}},
    });
    std::fs::write(w.join("predicate.json"), predicate.to_string()).unwrap();
    let pass = serde_json::json!({"rules": [
        {"path": "$.predicate.buildDefinition.buildType", "equals": "https://ci.example.test/build/v1"},
        {"path": "$.predicate.runDetails.builder.id", "matches": "https://ci\\.example\\.test/.*"},
        {"path": "$.subject[*].digest.sha256", "equals": a.hex()},
    ]});
    std::fs::write(w.join("pass.json"), pass.to_string()).unwrap();
    let fail = serde_json::json!({"rules": [
        {"path": "$.predicate.runDetails.builder.id", "equals": "https://ci.other.test/builder"},
    ]});
    std::fs::write(w.join("fail.json"), fail.to_string()).unwrap();

    // With a key, legacy layout; keylessly, bundle layout.
    ok(
        "attest A (key, legacy)",
        &mut s.attest(&image_a, &["--key", "release.key", "--new-bundle-format=false"]),
    );
    let (token, issuer) = s.token("alice@example.test");
    ok(
        "attest A (keyless, bundle)",
        &mut s.attest(&image_a, &["--identity-token", &token]),
    );
    let by_key = ["--key", "release.pub"];
    let as_alice = [
        "--certificate-identity",
        "alice@example.test",
        "--certificate-oidc-issuer",
        issuer.as_str(),
    ];
    let out = ok(
        "verify-attestation A with the key and a passing policy",
        &mut s.verify_attestation(&image_a, &[&by_key[..], &["--policy", "pass.json"]].concat()),
    );
    assert!(
        out.contains("1 of 2 attestations") && out.contains("passed the policy"),
        "{out}"
    );
    let out = ok(
        "verify-attestation A as alice, JSON",
        &mut s.verify_attestation(
            &image_a,
            &[&as_alice[..], &["--policy", "pass.json", "--output", "json"]].concat(),
        ),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], 1, "{v}");
    assert_eq!(v["attestations"][0]["statement"]["predicate"], predicate, "{v}");
    assert_eq!(
        v["attestations"][0]["statement"]["subject"][0]["digest"]["sha256"],
        a.hex()
    );
    // A failing policy fails the command and names the rule; so does another predicate type.
    for who in [&by_key[..], &as_alice[..]] {
        let r = fails(
            "verify-attestation A with a failing policy",
            &mut s.verify_attestation(&image_a, &[who, &["--policy", "fail.json"]].concat()),
        );
        assert!(
            r.stderr.contains("failed the policy") && r.stderr.contains("$.predicate.runDetails.builder.id"),
            "{}",
            r.stderr
        );
    }
    let mut c = cmd(SIGIL);
    c.args(["verify-attestation", &image_a, "--type", "cyclonedx"])
        .args(by_key)
        .arg("--trusted-root")
        .arg(s.dir.join("trusted_root.json"))
        .current_dir(w);
    let r = fails("verify-attestation A as CycloneDX", &mut c);
    assert!(
        r.stderr
            .contains("no verified attestation of type https://cyclonedx.org/bom"),
        "{}",
        r.stderr
    );
    // Signatures are not attestations, and attestations are not signatures.
    fails(
        "verify A (only attestations)",
        &mut s.verify(&image_a, "release.pub", &[]),
    );

    // What is attached, and downloading it: the legacy envelope, then the bundle.
    let out = ok(
        "download attestation A",
        cmd(SIGIL).args(["download", "attestation", &image_a]).current_dir(w),
    );
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["payloadType"], "application/vnd.in-toto+json");
    assert!(lines[1]["dsseEnvelope"].is_object(), "{}", lines[1]);
    let out = ok(
        "download signature A (attestations are not signatures)",
        cmd(SIGIL).args(["download", "signature", &image_a]).current_dir(w),
    );
    assert_eq!(out.trim(), "", "{out}");
    let out = ok(
        "sigstore-python verifies A's attestation bundle",
        &mut s.python_verify(&lines[1], &a, "alice@example.test", &issuer),
    );
    assert!(out.contains("https://slsa.dev/provenance/v1"), "{out}");
    let out = ok(
        "tree A",
        cmd(SIGIL).args(["tree", &image_a, "--output", "json"]).current_dir(w),
    );
    let t: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        t["legacyAttestations"]["attestations"][0]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(t["bundles"][0]["predicateType"], "https://slsa.dev/provenance/v1");

    // V-01 in the attestation shape: A's envelope with the (valid, same signer) log entry of B's attestation.
    let att_tag = |d| sigil_oci::legacy::attestation_tag(d);
    let att_a = reg.manifest(&repo.with_tag(&att_tag(&a)).unwrap()).unwrap().unwrap();
    ok(
        "attest B (key, legacy)",
        &mut s.attest(&image_b, &["--key", "release.key", "--new-bundle-format=false"]),
    );
    let att_b = reg.manifest(&repo.with_tag(&att_tag(&b)).unwrap()).unwrap().unwrap();
    let put_att_a = |m: &serde_json::Value| {
        reg.put_manifest(
            &repo,
            Some(&att_tag(&a)),
            &serde_json::to_vec(m).unwrap(),
            &att_a.media_type,
        )
        .unwrap();
    };
    let mut swapped: serde_json::Value = serde_json::from_slice(&att_a.bytes).unwrap();
    let b_layers: serde_json::Value = serde_json::from_slice(&att_b.bytes).unwrap();
    swapped["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"] =
        b_layers["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"].clone();
    put_att_a(&swapped);
    let r = fails(
        "verify-attestation A with B's log entry",
        &mut s.verify_attestation(&image_a, &by_key),
    );
    assert!(r.stderr.contains("TLOG_BODY_MISMATCH"), "{}", r.stderr);
    reg.put_manifest(&repo, Some(&att_tag(&a)), &att_a.bytes, &att_a.media_type)
        .unwrap();
    ok(
        "verify-attestation A restored",
        &mut s.verify_attestation(&image_a, &by_key),
    );

    // Tag confusion: A's `.att` manifest under B's tag. The statement's subject is A, so B has none.
    reg.put_manifest(&repo, Some(&att_tag(&b)), &att_a.bytes, &att_a.media_type)
        .unwrap();
    let r = fails(
        "verify-attestation B with A's attestation",
        &mut s.verify_attestation(&image_b, &by_key),
    );
    assert!(r.stderr.contains("ARTIFACT_DIGEST_MISMATCH"), "{}", r.stderr);

    // An altered envelope: the statement's predicate changed, the signature kept.
    let forge = |payload: &serde_json::Value| -> serde_json::Value {
        let statement = sigil_bundle::encoding::decode_base64(payload.as_str().unwrap()).unwrap();
        let forged = String::from_utf8(statement)
            .unwrap()
            .replace("https://ci.example.test/builder", "https://ci.other.test/builder");
        sigil_bundle::encoding::encode_base64(forged.as_bytes()).into()
    };
    let mut m: serde_json::Value = serde_json::from_slice(&att_a.bytes).unwrap();
    let layer: sigil_oci::Digest = m["layers"][0]["digest"].as_str().unwrap().parse().unwrap();
    let mut envelope: serde_json::Value = serde_json::from_slice(&reg.blob(&repo, &layer, 1 << 20).unwrap()).unwrap();
    envelope["payload"] = forge(&envelope["payload"]);
    let forged_blob = serde_json::to_vec(&envelope).unwrap();
    m["layers"][0]["digest"] = reg.push_blob(&repo, &forged_blob).unwrap().to_string().into();
    m["layers"][0]["size"] = forged_blob.len().into();
    put_att_a(&m);
    let r = fails(
        "verify-attestation A with an altered envelope",
        &mut s.verify_attestation(&image_a, &by_key),
    );
    assert!(
        r.stderr.contains("attestation 1") && r.stderr.contains("SIGNATURE_INVALID"),
        "{}",
        r.stderr
    );

    // An altered referrer: the bundle's statement changed, pushed as a new referrer in place of the real one.
    let index_ref = repo.with_tag(&sigil_oci::referrers::referrers_tag(&a)).unwrap();
    let index = reg.manifest(&index_ref).unwrap().unwrap();
    let mut index_json: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
    let referrer: sigil_oci::Digest = index_json["manifests"][0]["digest"].as_str().unwrap().parse().unwrap();
    let referrer_manifest = reg.manifest(&repo.with_digest(referrer)).unwrap().unwrap();
    let mut rm: serde_json::Value = serde_json::from_slice(&referrer_manifest.bytes).unwrap();
    let bundle_digest: sigil_oci::Digest = rm["layers"][0]["digest"].as_str().unwrap().parse().unwrap();
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&reg.blob(&repo, &bundle_digest, 1 << 20).unwrap()).unwrap();
    bundle["dsseEnvelope"]["payload"] = forge(&bundle["dsseEnvelope"]["payload"]);
    let forged_bundle = serde_json::to_vec(&bundle).unwrap();
    rm["layers"][0]["digest"] = reg.push_blob(&repo, &forged_bundle).unwrap().to_string().into();
    rm["layers"][0]["size"] = forged_bundle.len().into();
    let forged_manifest = serde_json::to_vec(&rm).unwrap();
    let forged_referrer = reg
        .put_manifest(&repo, None, &forged_manifest, &referrer_manifest.media_type)
        .unwrap();
    index_json["manifests"][0]["digest"] = forged_referrer.to_string().into();
    index_json["manifests"][0]["size"] = forged_manifest.len().into();
    reg.put_manifest(
        &repo,
        index_ref.tag(),
        &serde_json::to_vec(&index_json).unwrap(),
        &index.media_type,
    )
    .unwrap();
    let r = fails(
        "verify-attestation A with an altered referrer",
        &mut s.verify_attestation(&image_a, &as_alice),
    );
    assert!(
        r.stderr.contains(&format!("bundle {forged_referrer}")) && r.stderr.contains("SIGNATURE_INVALID"),
        "{}",
        r.stderr
    );
}
