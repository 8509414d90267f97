//! The CLI's own behaviour: embedded staging root, extension flags, key-based verification, output
//! formats and exit statuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance/bundle-verify")
}

fn sigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil")).args(args).output().unwrap()
}

fn p(path: PathBuf) -> String {
    path.to_string_lossy().to_string()
}

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

#[test]
fn staging_root_is_embedded() {
    // A genuine staging bundle: refused by the default (production) root, accepted with --staging.
    let bundle = p(cases().join("bundle-from-wrong-instance_fail/bundle.sigstore.json"));
    let artifact = p(cases().join("a.txt"));
    let base = [
        "verify-blob",
        "--bundle",
        &bundle,
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    let prod = sigil(&[&base[..], &[artifact.as_str()]].concat());
    assert_eq!(prod.status.code(), Some(1));
    let staging = sigil(&[&base[..], &["--staging", artifact.as_str()]].concat());
    assert!(staging.status.success(), "{}", String::from_utf8_lossy(&staging.stderr));
    let out = String::from_utf8_lossy(&staging.stdout);
    assert!(
        out.starts_with("Verified OK: signed by https://github.com/sigstore-conformance/"),
        "{out}"
    );
    assert!(out.contains("https://rekor.sigstage.dev index"), "{out}");
}

#[test]
fn github_workflow_flags_constrain_the_certificate() {
    let bundle = p(cases().join("happy-path-v0.3/bundle.sigstore.json"));
    let artifact = p(cases().join("a.txt"));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "verify-blob",
            "--bundle",
            &bundle,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ];
        args.extend_from_slice(extra);
        args.push(&artifact);
        sigil(&args)
    };
    let repo = "sigstore-conformance/extremely-dangerous-public-oidc-beacon";
    assert!(
        run(&[
            "--certificate-github-workflow-repository",
            repo,
            "--certificate-github-workflow-ref",
            "refs/heads/main"
        ])
        .status
        .success()
    );
    assert!(
        run(&["--certificate-github-workflow-trigger", "workflow_dispatch"])
            .status
            .success()
    );
    let wrong = run(&["--certificate-github-workflow-repository", "sigstore-conformance/other"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("[IDENTITY_MISMATCH]"));
    let wrong_sha = run(&[
        "--certificate-github-workflow-sha",
        "0000000000000000000000000000000000000000",
    ]);
    assert_eq!(wrong_sha.status.code(), Some(1));
}

#[test]
fn key_based_verify_blob_and_json_failure_output() {
    let case = cases().join("managed-key-happy-path");
    let bundle = p(case.join("bundle.sigstore.json"));
    let key = p(case.join("key.pub"));
    let artifact = p(cases().join("a.txt"));
    let ok = sigil(&[
        "verify-blob",
        "--bundle",
        &bundle,
        "--key",
        &key,
        "--output",
        "json",
        &artifact,
    ]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert!(v["signer"]["publicKeySha256"].is_string());
    // The same bundle against an identity is refused, with a machine-readable reason.
    let bad = sigil(&[
        "verify-blob",
        "--bundle",
        &bundle,
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        "--output",
        "json",
        &artifact,
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["code"], "MATERIAL_MISMATCH");
    assert_eq!(v["step"], "signer material");
}

#[test]
fn usage_errors_and_missing_files_fail_cleanly() {
    // No identity and no key.
    let bundle = p(cases().join("happy-path-v0.3/bundle.sigstore.json"));
    let artifact = p(cases().join("a.txt"));
    let out = sigil(&["verify-blob", "--bundle", &bundle, &artifact]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Verification FAILED:"));
    // verify-bundle requires the issuer with the identity (argument error, exit 2).
    let out = sigil(&[
        "verify-bundle",
        "--bundle",
        &bundle,
        "--certificate-identity",
        IDENTITY,
        &artifact,
    ]);
    assert_eq!(out.status.code(), Some(2));
    // Missing bundle and missing artifact.
    let out = sigil(&[
        "verify-bundle",
        "--bundle",
        "/nonexistent.json",
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        &artifact,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = sigil(&[
        "verify-bundle",
        "--bundle",
        &bundle,
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        "/nonexistent",
    ]);
    assert_eq!(out.status.code(), Some(1));
    // A malformed digest.
    let out = sigil(&[
        "verify-bundle",
        "--bundle",
        &bundle,
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        "sha256:zz",
    ]);
    assert_eq!(out.status.code(), Some(1));
}
