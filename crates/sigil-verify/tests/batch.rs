//! Batch mode reuses checked material but never changes a verdict: every conformance case gives
//! the same result (and error code) through one shared batch as through a fresh verification,
//! whatever order the cases come in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};

use sigil_policy::{Matcher, Policy};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, SignerCheck, Verifier, VerifierOptions};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const NOW: i64 = 1_900_000_000;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance/bundle-verify");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// Verifies one case with the production root (cases with their own root are skipped here: a
/// batch belongs to one verifier); `batch` shares state across calls when given.
fn run(verifier: &Verifier, batch: Option<&mut sigil_verify::Batch<'_>>, case: &Path) -> Option<Result<(), String>> {
    if case.join("trusted_root.json").exists() || case.join("key.pub").exists() {
        return None;
    }
    let json = std::fs::read(case.join("bundle.sigstore.json")).unwrap();
    let bundle = match verifier.parse_bundle(&json) {
        Ok(b) => b,
        Err(e) => return Some(Err(e.code().to_string())),
    };
    let artifact_path = if case.join("artifact").exists() {
        case.join("artifact")
    } else {
        case.join("../a.txt")
    };
    let artifact = std::fs::read(artifact_path).unwrap();
    let identity = std::fs::read_to_string(case.join("identity"))
        .map(|s| s.trim().to_string())
        .unwrap_or(IDENTITY.into());
    let issuer = std::fs::read_to_string(case.join("issuer"))
        .map(|s| s.trim().to_string())
        .unwrap_or(ISSUER.into());
    let policy = Policy::identity(Matcher::exact(identity), Matcher::exact(issuer));
    let signer = SignerCheck::Identity(&policy);
    let res = match batch {
        Some(b) => b.verify(&bundle, &Artifact::Bytes(&artifact), signer, NOW),
        None => verifier.verify(&bundle, &Artifact::Bytes(&artifact), signer, NOW),
    };
    Some(res.map(|_| ()).map_err(|e| e.code().to_string()))
}

#[test]
fn batch_verdicts_equal_single_verdicts() {
    let verifier = Verifier::new(TrustedMaterial::production().unwrap(), VerifierOptions::default());
    let cases = cases();
    let single: Vec<_> = cases.iter().map(|c| run(&verifier, None, c)).collect();
    let accepted = single.iter().filter(|r| matches!(r, Some(Ok(())))).count();
    assert!(
        accepted >= 5,
        "expected the production happy paths to verify, got {accepted}"
    );
    // Forward, backward, and each case three times in a row, through one batch each.
    for order in [
        (0..cases.len()).collect::<Vec<_>>(),
        (0..cases.len()).rev().collect(),
        (0..cases.len()).flat_map(|i| [i, i, i]).collect(),
    ] {
        let mut batch = verifier.batch();
        for i in order {
            assert_eq!(
                run(&verifier, Some(&mut batch), &cases[i]),
                single[i],
                "{}",
                cases[i].display()
            );
        }
    }
}
