#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Signing blobs with a key instead of an identity, against one `sigil serve --dev`: a key pair from
//! `sigil generate-key-pair`, and a key file made by cosign itself; Rekor v1 and v2; `--tlog-upload=false` for
//! air-gapped signing. Each bundle is verified with `verify-blob --key`, and the wrong key, a changed artifact
//! and a missing log entry are refused.

mod support;

use std::path::Path;
use std::process::Command;

use sigil_crypto::{Signer as _, pem_encode};
use support::{SIGIL, cmd, fails, ok, read_json, start_instance};

/// Made by `cosign generate-key-pair` with an empty password (the test vector sigstore-rs publishes as
/// `tests/data/keys/cosign_generated_encrypted_empty_private.key`).
const COSIGN_GENERATED_KEY: &str = include_str!("../../sigil-crypto/testdata/cosign-generated-empty-password.key");

fn sign(w: &Path, trust_config: &Path, key: &str, password: &str, bundle: &str, extra: &[&str]) -> Command {
    let mut c = cmd(SIGIL);
    c.args(["sign-blob", "a.txt", "--bundle", bundle, "--key", key])
        .arg("--trust-config")
        .arg(trust_config)
        .args(extra)
        .env("COSIGN_PASSWORD", password)
        .env_remove("SIGIL_PASSWORD")
        .current_dir(w);
    c
}

fn verify(w: &Path, dir: &Path, bundle: &str, public: &str, artifact: &str, extra: &[&str]) -> Command {
    let mut c = cmd(SIGIL);
    c.args(["verify-blob", "--bundle", bundle, "--key", public])
        .arg("--trusted-root")
        .arg(dir.join("trusted_root.json"))
        .args(extra)
        .arg(artifact)
        .current_dir(w);
    c
}

#[test]
fn sign_blob_with_a_key_then_verify_with_its_public_key() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let dir = w.join("instance");
    let _inst = start_instance(&dir, &w.join("serve.stderr"));
    let trust_config = dir.join("trust_config.json");
    std::fs::write(w.join("a.txt"), b"signed with a key\n").unwrap();
    std::fs::write(w.join("b.txt"), b"another artifact\n").unwrap();

    ok(
        "generate-key-pair",
        cmd(SIGIL)
            .args(["generate-key-pair", "--output-key-prefix", "release"])
            .env("COSIGN_PASSWORD", "s3cret")
            .current_dir(w),
    );
    ok(
        "generate-key-pair (another key)",
        cmd(SIGIL)
            .args(["generate-key-pair", "--output-key-prefix", "other"])
            .env("COSIGN_PASSWORD", "x")
            .current_dir(w),
    );

    for (v, name) in [("1", "v1.sigstore.json"), ("2", "v2.sigstore.json")] {
        ok(
            &format!("sign-blob --key (Rekor v{v})"),
            &mut sign(w, &trust_config, "release.key", "s3cret", name, &["--rekor-version", v]),
        );
        let b = read_json(&w.join(name));
        let vm = &b["verificationMaterial"];
        assert!(vm["publicKey"]["hint"].is_string(), "{vm}");
        assert!(vm.get("certificate").is_none(), "no certificate with a key: {vm}");
        let entry = &vm["tlogEntries"][0];
        assert_eq!(entry["kindVersion"]["kind"], "hashedrekord");
        let out = ok(
            &format!("verify-blob --key ({name})"),
            &mut verify(w, &dir, name, "release.pub", "a.txt", &[]),
        );
        assert!(out.contains("key"), "{out}");
        // The log entry names the key, not a certificate.
        let body = sigil_bundle::encoding::decode_base64(entry["canonicalizedBody"].as_str().unwrap()).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let pem = std::fs::read_to_string(w.join("release.pub")).unwrap();
        let logged = if v == "1" {
            body["spec"]["signature"]["publicKey"]["content"].clone()
        } else {
            body["spec"]["hashedRekordV002"]["signature"]["verifier"]["publicKey"]["rawBytes"].clone()
        };
        let expected = if v == "1" {
            sigil_bundle::encoding::encode_base64(pem.as_bytes())
        } else {
            let spki = sigil_crypto::VerifyingKey::from_pem(&pem).unwrap();
            sigil_bundle::encoding::encode_base64(spki.spki_der())
        };
        assert_eq!(logged.as_str(), Some(expected.as_str()), "{body}");
        let r = fails(
            "verify-blob with another key",
            &mut verify(w, &dir, name, "other.pub", "a.txt", &[]),
        );
        assert!(r.stderr.contains("FAILED"), "{}", r.stderr);
        fails(
            "verify-blob of another artifact",
            &mut verify(w, &dir, name, "release.pub", "b.txt", &[]),
        );
    }

    // The wrong password decrypts nothing and signs nothing.
    let r = fails(
        "sign-blob with the wrong password",
        &mut sign(w, &trust_config, "release.key", "wrong", "never.json", &[]),
    );
    assert!(r.stderr.contains("password"), "{}", r.stderr);
    assert!(!w.join("never.json").exists());

    // Air-gapped: no log entry, and the verifier must be told to accept that.
    ok(
        "sign-blob --tlog-upload=false",
        &mut sign(
            w,
            &trust_config,
            "release.key",
            "s3cret",
            "offline.json",
            &["--tlog-upload=false"],
        ),
    );
    let b = read_json(&w.join("offline.json"));
    assert!(b["verificationMaterial"].get("tlogEntries").is_none(), "{b}");
    fails(
        "verify-blob of a bundle without a log entry",
        &mut verify(w, &dir, "offline.json", "release.pub", "a.txt", &[]),
    );
    ok(
        "verify-blob --insecure-ignore-tlog",
        &mut verify(
            w,
            &dir,
            "offline.json",
            "release.pub",
            "a.txt",
            &["--insecure-ignore-tlog"],
        ),
    );
    fails(
        "verify-blob --insecure-ignore-tlog with another key",
        &mut verify(
            w,
            &dir,
            "offline.json",
            "other.pub",
            "a.txt",
            &["--insecure-ignore-tlog"],
        ),
    );

    // A key file cosign made signs too; its public half comes from the library.
    std::fs::write(w.join("cosign.key"), COSIGN_GENERATED_KEY).unwrap();
    let key = sigil_crypto::decrypt_private_key(COSIGN_GENERATED_KEY, b"").unwrap();
    std::fs::write(
        w.join("cosign.pub"),
        pem_encode("PUBLIC KEY", key.public_key().spki_der()),
    )
    .unwrap();
    ok(
        "sign-blob with cosign's key",
        &mut sign(w, &trust_config, "cosign.key", "", "cosign-key.json", &[]),
    );
    ok(
        "verify-blob with cosign's public key",
        &mut verify(w, &dir, "cosign-key.json", "cosign.pub", "a.txt", &[]),
    );
}
