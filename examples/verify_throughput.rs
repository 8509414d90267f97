//! In-process verification throughput on one core: parse + verify the same real bundle N times.
//!
//! `cargo run --release -p sigil-examples --example verify_throughput -- CASE_DIR [N] [--batch]`
//! where CASE_DIR is a conformance case folder (its `trusted_root.json` is used when present,
//! otherwise the embedded public-good root). Prints bundles per second. With `--batch`, one
//! `Verifier::batch()` verifies all N, reusing checked leaf certificates, SCTs and checkpoints.

use std::path::PathBuf;
use std::time::Instant;

use sigil_policy::{Matcher, Policy};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, SignerCheck, Verifier, VerifierOptions};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let case = PathBuf::from(args.next().ok_or("usage: verify_throughput CASE_DIR [N]")?);
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let batch_mode = args.next().as_deref() == Some("--batch");
    let trust = if case.join("trusted_root.json").exists() {
        TrustedMaterial::from_file(&case.join("trusted_root.json"))?
    } else {
        TrustedMaterial::production()?
    };
    let verifier = Verifier::new(trust, VerifierOptions::default());
    let json = std::fs::read(case.join("bundle.sigstore.json"))?;
    let artifact_path = if case.join("artifact").exists() {
        case.join("artifact")
    } else {
        case.join("../a.txt")
    };
    let artifact = std::fs::read(artifact_path)?;
    let policy = Policy::identity(Matcher::exact(IDENTITY), Matcher::exact(ISSUER));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let mut batch = verifier.batch();
    let mut one = || -> Result<(), Box<dyn std::error::Error>> {
        let b = verifier.parse_bundle(&json)?;
        let artifact = Artifact::Bytes(&artifact);
        if batch_mode {
            batch.verify(&b, &artifact, SignerCheck::Identity(&policy), now)?;
        } else {
            verifier.verify(&b, &artifact, SignerCheck::Identity(&policy), now)?;
        }
        Ok(())
    };
    one()?;
    let start = Instant::now();
    for _ in 0..n {
        one()?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.0} bundles/s ({n} verifications in {secs:.3} s, one core)",
        n as f64 / secs
    );
    Ok(())
}
