//! The sigstore-conformance offline verify cases, run through `sigil verify-bundle` exactly as the
//! suite calls clients: every case twice, with the artifact path and with `sha256:<hex>` of it.
//!
//! The cases are read from `../shared/fixtures/conformance/bundle-verify/` (beside the checkout;
//! never copied into the project). A `_fail` case must be rejected *for its stated reason*: the
//! test checks the error code the CLI reports, so a crash or a parse error on a case meant to test
//! a proof is a failure. Any change of verdict or code fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The error code each `_fail` case must be rejected with (the check its README describes).
const EXPECTED_FAILURES: &[(&str, &str)] = &[
    ("bundle-empty-certificate-chain_fail", "BUNDLE_FORMAT"),
    ("bundle-from-wrong-instance_fail", "UNKNOWN_TLOG"),
    ("bundle-invalid-base64-signature_fail", "BUNDLE_FORMAT"),
    ("bundle-malformed-json_fail", "BUNDLE_FORMAT"),
    ("bundle-negative-log-index_fail", "BUNDLE_FORMAT"),
    ("bundle-unknown-version_fail", "UNKNOWN_MEDIA_TYPE"),
    ("bundle-with-root-cert_fail", "CHAIN_CONTAINS_ROOT"),
    ("checkpoint-bad-keyhint_fail", "CHECKPOINT_SIGNATURE_INVALID"),
    ("checkpoint-wrong-roothash_fail", "CHECKPOINT_ROOT_MISMATCH"),
    ("dsse-invalid-sig_fail", "SIGNATURE_INVALID"),
    ("dsse-mismatch-envelope_fail", "TLOG_BODY_MISMATCH"),
    ("dsse-mismatch-sig_fail", "TLOG_BODY_MISMATCH"),
    ("inclusion-proof-corrupted-hash_fail", "INCLUSION_PROOF_INVALID"),
    ("incorrect-public-key_fail", "TLOG_BODY_MISMATCH"),
    ("integrated-time-in-future_fail", "CERTIFICATE_NOT_VALID_AT_TIME"),
    ("intoto-expired-certificate_fail", "CERTIFICATE_NOT_VALID_AT_TIME"),
    ("intoto-log-entry-mismatch_fail", "TLOG_BODY_MISMATCH"),
    ("intoto-missing-inclusion-proof_fail", "INCLUSION_PROOF_MISSING"),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "CERTIFICATE_NOT_VALID_AT_TIME",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "CERTIFICATE_NOT_VALID_AT_TIME",
    ),
    ("invalid-checkpoint-signature_fail", "CHECKPOINT_SIGNATURE_INVALID"),
    ("invalid-ct-key_fail", "SCT_INVALID"),
    ("invalid-inclusion-proof_fail", "INCLUSION_PROOF_INVALID"),
    ("managed-key-no-key_fail", "MATERIAL_MISMATCH"),
    ("managed-key-wrong-key_fail", "SIGNER_INVALID"),
    ("message-digest-mismatch_fail", "ARTIFACT_DIGEST_MISMATCH"),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        "CHECKPOINT_SIGNATURE_INVALID",
    ),
    ("rekor2-checkpoint-missing-origin_fail", "CHECKPOINT_INVALID"),
    ("rekor2-checkpoint-missing-root-hash_fail", "CHECKPOINT_INVALID"),
    ("rekor2-checkpoint-missing-size_fail", "CHECKPOINT_INVALID"),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        "CHECKPOINT_SIGNATURE_INVALID",
    ),
    ("rekor2-dsse-invalid-sig_fail", "SIGNATURE_INVALID"),
    ("rekor2-dsse-mismatch-envelope_fail", "TLOG_BODY_MISMATCH"),
    ("rekor2-dsse-mismatch-sig_fail", "TLOG_BODY_MISMATCH"),
    ("rekor2-no-inclusion-proof_fail", "INCLUSION_PROOF_MISSING"),
    ("rekor2-no-timestamp_fail", "NO_TRUSTED_TIME"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "TIMESTAMP_INVALID",
    ),
    ("rekor2-timestamp-outside-tsa-cert-validity_fail", "TIMESTAMP_INVALID"),
    ("rekor2-timestamp-payload-mismatch_fail", "TIMESTAMP_INVALID"),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "TIMESTAMP_INVALID",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "TIMESTAMP_INVALID",
    ),
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        "CERTIFICATE_NOT_VALID_AT_TIME",
    ),
    ("set-invalid-signature_fail", "SET_INVALID"),
    ("signature-mismatch_fail", "SIGNATURE_INVALID"),
    ("trust-root-tlog-missing-validity-start_fail", "TRUSTED_ROOT_INVALID"),
    ("wrong-hashedrekord-artifact_fail", "TLOG_BODY_MISMATCH"),
    ("wrong-hashedrekord-cert-and-sig_fail", "TLOG_BODY_MISMATCH"),
    ("wrong-hashedrekord-entry_fail", "TLOG_BODY_MISMATCH"),
    ("wrong-material_fail", "ARTIFACT_DIGEST_MISMATCH"),
];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance/bundle-verify")
}

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok().map(|s| s.trim().to_string())
}

fn sha256_hex(path: &Path) -> String {
    let data = std::fs::read(path).unwrap();
    sigil_crypto::sha256(&data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs one case with the given artifact argument; returns `Ok(())` or `Err(code)`.
fn run_case(dir: &Path, artifact_arg: &str) -> Result<(), String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigil"));
    cmd.arg("verify-bundle")
        .arg("--bundle")
        .arg(dir.join("bundle.sigstore.json"));
    if dir.join("trusted_root.json").exists() {
        cmd.arg("--trusted-root").arg(dir.join("trusted_root.json"));
    }
    if dir.join("key.pub").exists() {
        cmd.arg("--key").arg(dir.join("key.pub"));
    } else {
        let identity = read_trimmed(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.to_string());
        let issuer = read_trimmed(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.to_string());
        cmd.arg("--certificate-identity")
            .arg(identity)
            .arg("--certificate-oidc-issuer")
            .arg(issuer);
    }
    cmd.arg(artifact_arg);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some(), "{}: killed by a signal", dir.display());
    assert!(!stderr.contains("panicked"), "{}: panicked: {stderr}", dir.display());
    if out.status.success() {
        return Ok(());
    }
    let code = stderr
        .split('[')
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap_or("NO_CODE")
        .to_string();
    Err(format!("{code}\t{}", stderr.trim()))
}

#[test]
fn sigstore_conformance_70_cases_140_runs_from_shared_fixtures() {
    let dir = cases_dir();
    println!("reading conformance cases from {}", dir.display());
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "expected the 70 conformance cases");

    let mut problems = Vec::new();
    let (mut runs, mut passed) = (0, 0);
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let artifact = if case.join("artifact").exists() {
            case.join("artifact")
        } else {
            dir.join("a.txt")
        };
        let digest = format!("sha256:{}", sha256_hex(&artifact));
        for arg in [artifact.to_string_lossy().to_string(), digest] {
            runs += 1;
            let res = run_case(case, &arg);
            let ok = if name.ends_with("_fail") {
                let want = EXPECTED_FAILURES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| *c)
                    .unwrap_or("<none listed>");
                match &res {
                    Err(got) if got.split('\t').next() == Some(want) => true,
                    Err(got) => {
                        problems.push(format!("{name} [{arg}]: rejected with {got}, expected {want}"));
                        false
                    }
                    Ok(()) => {
                        problems.push(format!("{name} [{arg}]: ACCEPTED, must be rejected with {want}"));
                        false
                    }
                }
            } else {
                match &res {
                    Ok(()) => true,
                    Err(got) => {
                        problems.push(format!("{name} [{arg}]: rejected ({got}), must verify"));
                        false
                    }
                }
            };
            if ok {
                passed += 1;
            }
        }
    }
    println!("conformance: {passed} of {runs} runs gave the expected verdict and code");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(runs, 140);
}
