//! In-process verification throughput on the real fixture bundles (one core).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // bench code

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sigil_policy::{Matcher, Policy};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, SignerCheck, Verifier, VerifierOptions};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance/bundle-verify")
}

fn bench(c: &mut Criterion) {
    let dir = cases();
    let artifact = std::fs::read(dir.join("a.txt")).unwrap();
    let policy = Policy::identity(Matcher::exact(IDENTITY), Matcher::exact(ISSUER));
    let now = 1_900_000_000;
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    for (name, case) in [
        ("v0.1 hashedrekord (Rekor v1)", "happy-path-v0.1"),
        ("v0.3 hashedrekord (Rekor v1)", "happy-path-v0.3"),
        ("v0.3 hashedrekord (Rekor v2 + TSA)", "rekor2-happy-path"),
        ("v0.3 DSSE (Rekor v1 dsse)", "happy-path-intoto-in-dsse-v3"),
        ("v0.3 DSSE (Rekor v2 + TSA)", "rekor2-dsse-happy-path"),
    ] {
        let case_dir = dir.join(case);
        let trust = if case_dir.join("trusted_root.json").exists() {
            TrustedMaterial::from_file(&case_dir.join("trusted_root.json")).unwrap()
        } else {
            TrustedMaterial::production().unwrap()
        };
        let verifier = Verifier::new(trust, VerifierOptions::default());
        let json = std::fs::read(case_dir.join("bundle.sigstore.json")).unwrap();
        // Sanity: the bench measures successful verifications only.
        let b = verifier.parse_bundle(&json).unwrap();
        verifier
            .verify(&b, &Artifact::Bytes(&artifact), SignerCheck::Identity(&policy), now)
            .unwrap();
        group.bench_function(format!("{name}: parse + verify"), |bench| {
            bench.iter(|| {
                let b = verifier.parse_bundle(&json).unwrap();
                verifier
                    .verify(&b, &Artifact::Bytes(&artifact), SignerCheck::Identity(&policy), now)
                    .unwrap()
            })
        });
        let mut batch = verifier.batch();
        group.bench_function(format!("{name}: parse + verify in a batch"), |bench| {
            bench.iter(|| {
                let b = verifier.parse_bundle(&json).unwrap();
                batch
                    .verify(&b, &Artifact::Bytes(&artifact), SignerCheck::Identity(&policy), now)
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
