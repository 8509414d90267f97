//! `sigil quickstart`: the README's first command works and reports what verification established.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");

#[test]
fn quickstart_signs_and_verifies_on_an_embedded_instance() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("release.tar");
    std::fs::write(&artifact, b"release contents").unwrap();
    let bundle = dir.path().join("release.sigstore.json");
    let out = Command::new(SIGIL)
        .args(["quickstart", "--email", "carol@example.test", "--bundle"])
        .arg(&bundle)
        .arg(&artifact)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "quickstart failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "Signed by:    carol@example.test (OIDC issuer http://127.0.0.1:",
        "(10 minutes), 1 embedded SCT verified",
        "inclusion proof verified",
        "RFC 3161 timestamp from http://127.0.0.1:",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    // The saved bundle names the signer and the temporary instance is gone.
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(json["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    let data_dir = stdout.split("data in ").nth(1).unwrap().split(')').next().unwrap();
    assert!(
        !std::path::Path::new(data_dir).exists(),
        "temporary instance {data_dir} left behind"
    );
}

#[test]
fn quickstart_fails_cleanly_on_a_missing_file() {
    let out = Command::new(SIGIL)
        .args(["quickstart", "/nonexistent/file"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file"));
}
