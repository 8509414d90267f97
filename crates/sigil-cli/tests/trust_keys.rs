#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SECURITY.md U-15 (gitsign GHSA-xvrc): the verifier's only key source is the trusted root. Bundles signed
//! against a running `sigil serve --dev` verify after the instance is stopped (nothing is fetched from the
//! services), and fail, naming the step, when the trusted root carries other keys for the same services, even
//! though the services themselves would still hand out their real keys.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use sigil_bundle::encoding::encode_base64;
use sigil_crypto::{KeyAlgorithm, Signer as _, SigningKey};
use support::{SIGIL, cmd, dev_token, fails, ok, read_json, start_instance, write_json};

const EMAIL: &str = "alice@example.test";

fn other_key() -> (String, String) {
    let k = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let spki = k.public_key().spki_der().to_vec();
    (encode_base64(&spki), encode_base64(&sigil_crypto::sha256(&spki)))
}

fn verify(w: &Path, bundle: &str, root: &Path, issuer: &str) -> std::process::Command {
    let mut c = cmd(SIGIL);
    c.args(["verify-bundle", "--bundle", bundle])
        .args(["--certificate-identity", EMAIL, "--certificate-oidc-issuer", issuer])
        .arg("--trusted-root")
        .arg(root)
        .arg("a.txt")
        .current_dir(w);
    c
}

#[test]
fn keys_come_only_from_the_trusted_root() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let dir = w.join("instance");
    let inst = start_instance(&dir, &w.join("serve.stderr"));
    let token = dev_token(&dir, EMAIL, None);
    std::fs::write(w.join("a.txt"), b"u-15\n").unwrap();
    for v in ["1", "2"] {
        ok(
            "sign-blob",
            cmd(SIGIL)
                .args(["sign-blob", "a.txt", "--bundle", &format!("v{v}.sigstore.json")])
                .args(["--identity-token", &token, "--rekor-version", v])
                .arg("--trust-config")
                .arg(dir.join("trust_config.json"))
                .current_dir(w),
        );
    }
    let issuer = format!("{}/oidc", inst.url());
    // Verification is offline: with the instance gone it still works.
    drop(inst);
    let root = read_json(&dir.join("trusted_root.json"));
    for v in ["1", "2"] {
        ok(
            "verify, instance stopped",
            &mut verify(
                w,
                &format!("v{v}.sigstore.json"),
                &dir.join("trusted_root.json"),
                &issuer,
            ),
        );
    }

    // The same services (same URLs), other keys: each must fail at its own step.
    let cases: Vec<(&str, Box<dyn Fn(&mut Value)>, &str, &str)> = vec![
        (
            "tlog keys",
            Box::new(|r: &mut Value| {
                for t in r["tlogs"].as_array_mut().unwrap() {
                    let (key, id) = other_key();
                    t["publicKey"]["rawBytes"] = json!(key);
                    t["logId"]["keyId"] = json!(id);
                }
            }),
            "1",
            "UNKNOWN_TLOG",
        ),
        (
            "tlog keys (v2: checkpoint only)",
            Box::new(|r: &mut Value| {
                for t in r["tlogs"].as_array_mut().unwrap() {
                    let (key, _) = other_key();
                    t["publicKey"]["rawBytes"] = json!(key);
                }
            }),
            "2",
            "CHECKPOINT_SIGNATURE_INVALID",
        ),
        (
            "CT log key",
            Box::new(|r: &mut Value| {
                let (key, id) = other_key();
                r["ctlogs"][0]["publicKey"]["rawBytes"] = json!(key);
                r["ctlogs"][0]["logId"]["keyId"] = json!(id);
            }),
            "1",
            "SCT_INVALID",
        ),
        (
            "TSA chain",
            Box::new(|r: &mut Value| {
                // The CA's chain in place of the TSA's: a real chain, not the TSA's.
                r["timestampAuthorities"][0]["certChain"] = r["certificateAuthorities"][0]["certChain"].clone();
            }),
            "2",
            "TIMESTAMP_INVALID",
        ),
    ];
    for (what, change, version, code) in cases {
        let mut r = root.clone();
        change(&mut r);
        let path = w.join("other-root.json");
        write_json(&path, &r);
        let out = fails(
            what,
            &mut verify(w, &format!("v{version}.sigstore.json"), &path, &issuer),
        );
        assert!(out.text().contains(code), "{what}: {}", out.text());
    }
}
