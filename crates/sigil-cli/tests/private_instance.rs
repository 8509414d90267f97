//! The 14 bundles real sigstore-python and sigstore-js clients produced against a private instance
//! (`../shared/fixtures/private-instance/`) verify through `sigil verify-blob`, and are rejected under a
//! wrong identity, a wrong issuer, an unanchored-regex trick or the wrong trusted root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/private-instance")
}

fn identity() -> (String, String) {
    let text = std::fs::read_to_string(dir().join("identity.txt")).unwrap();
    let mut lines = text.lines();
    (
        lines.next().unwrap().trim().to_string(),
        lines.next().unwrap().trim().to_string(),
    )
}

fn bundles() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".sigstore.json"))
        .collect();
    v.sort();
    v
}

/// Runs `sigil verify-blob`; returns Ok(stdout) or Err(code).
fn verify(bundle: &Path, args: &[&str], artifact: &str) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .arg("verify-blob")
        .arg("--bundle")
        .arg(bundle)
        .args(args)
        .arg(artifact)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    } else {
        Err(stderr
            .split('[')
            .nth(1)
            .and_then(|s| s.split(']').next())
            .unwrap_or(&stderr)
            .to_string())
    }
}

#[test]
fn real_client_bundles_verify() {
    let (san, issuer) = identity();
    let trust = dir().join("trust_config.json");
    let artifact = dir().join("artifact.txt");
    let bundles = bundles();
    assert_eq!(bundles.len(), 14);
    for b in &bundles {
        let out = verify(
            b,
            &[
                "--trusted-root",
                trust.to_str().unwrap(),
                "--certificate-identity",
                &san,
                "--certificate-oidc-issuer",
                &issuer,
            ],
            artifact.to_str().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{} rejected: {e}", b.display()));
        assert!(out.starts_with("Verified OK: signed by alice@example.test"), "{out}");
        // The digest form verifies too.
        let digest = format!(
            "sha256:{}",
            hex::encode(sigil_crypto::sha256(&std::fs::read(&artifact).unwrap()))
        );
        verify(
            b,
            &[
                "--trusted-root",
                trust.to_str().unwrap(),
                "--certificate-identity",
                &san,
                "--certificate-oidc-issuer",
                &issuer,
            ],
            &digest,
        )
        .unwrap_or_else(|e| panic!("{} rejected with a digest: {e}", b.display()));
    }
}

#[test]
fn json_output_carries_the_verified_facts() {
    let (san, issuer) = identity();
    let trust = dir().join("trust_config.json");
    let b = dir().join("py-v2.sigstore.json");
    let out = verify(
        &b,
        &[
            "--trusted-root",
            trust.to_str().unwrap(),
            "--certificate-identity",
            &san,
            "--certificate-oidc-issuer",
            &issuer,
            "--output",
            "json",
        ],
        dir().join("artifact.txt").to_str().unwrap(),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["signer"]["identity"], san.as_str());
    assert_eq!(v["signer"]["issuer"], issuer.as_str());
    assert!(v["times"].as_array().unwrap().iter().any(|t| t["source"] == "rfc3161"));
    assert_eq!(v["tlogEntries"][0]["kind"], "hashedrekord/0.0.2");
}

#[test]
fn wrong_identity_issuer_regex_or_root_is_rejected() {
    let (san, issuer) = identity();
    let trust = dir().join("trust_config.json");
    let trust = trust.to_str().unwrap();
    let artifact = dir().join("artifact.txt");
    let artifact = artifact.to_str().unwrap();
    // (flags after the trusted root, expected outcome)
    let cases: Vec<(Vec<&str>, Result<(), &str>)> = vec![
        (
            vec![
                "--certificate-identity",
                "bob@example.test",
                "--certificate-oidc-issuer",
                &issuer,
            ],
            Err("IDENTITY_MISMATCH"),
        ),
        (
            vec![
                "--certificate-identity",
                &san,
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
            ],
            Err("IDENTITY_MISMATCH"),
        ),
        // Anchoring defeats suffix tricks; a bare dot between name characters is refused outright.
        (
            vec![
                "--certificate-identity-regexp",
                r"example\.test",
                "--certificate-oidc-issuer",
                &issuer,
            ],
            Err("IDENTITY_MISMATCH"),
        ),
        (
            vec![
                "--certificate-identity-regexp",
                "alice@example.test",
                "--certificate-oidc-issuer",
                &issuer,
            ],
            Err("IDENTITY_MISMATCH"),
        ),
        (
            vec![
                "--certificate-identity-regexp",
                r"alice@example\.test",
                "--certificate-oidc-issuer-regexp",
                r"http://127\.0\.0\.1:\d+",
            ],
            Ok(()),
        ),
    ];
    for b in bundles() {
        for (flags, want) in &cases {
            let mut args = vec!["--trusted-root", trust];
            args.extend(flags.iter().copied());
            let got = verify(&b, &args, artifact).map(|_| ());
            assert_eq!(got, want.map_err(str::to_string), "{} {flags:?}", b.display());
        }
        // The embedded public-good root does not trust the private instance.
        let wrong_root = verify(
            &b,
            &["--certificate-identity", &san, "--certificate-oidc-issuer", &issuer],
            artifact,
        );
        assert_eq!(wrong_root, Err("UNKNOWN_TLOG".into()), "{}", b.display());
    }
}
