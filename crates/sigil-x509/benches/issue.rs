//! Issuing a Fulcio leaf: precertificate + final certificate for a P-256 key, under a P-256 and a P-384 issuer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use sigil_crypto::{KeyAlgorithm, Signer, SigningKey};
use sigil_x509::{
    Issuer, LeafRequest, LeafSan, Name, build_precertificate, finish_certificate, random_serial, self_signed_root,
};

const NOW: i64 = 1_780_000_000;

fn issuer(alg: KeyAlgorithm) -> Issuer {
    let key: Arc<dyn Signer> = Arc::new(SigningKey::generate(alg).unwrap());
    let name = Name {
        organization: "sigil".into(),
        common_name: "bench root".into(),
    };
    let der = self_signed_root(key.as_ref(), &name, NOW - 86_400, NOW + 86_400 * 365).unwrap();
    Issuer::from_der(&der, key).unwrap()
}

fn bench(c: &mut Criterion) {
    let leaf_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut extensions = BTreeMap::new();
    extensions.insert(
        9,
        "https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1".to_string(),
    );
    extensions.insert(24, "repo:o/r:ref:refs/tags/v1".to_string());
    let req = LeafRequest {
        public_key: leaf_key.public_key().clone(),
        san: LeafSan::Email("someone@example.com".into()),
        oidc_issuer: "https://accounts.example.com".into(),
        extensions,
        not_before: NOW,
        not_after: NOW + 600,
    };
    // A one-SCT list of plausible size, wrapped in its OCTET STRING.
    let mut sct = vec![0x04, 0x7a, 0x00, 0x78, 0x00, 0x76];
    sct.resize(0x7a + 2, 0x11);
    for (label, alg) in [("p256", KeyAlgorithm::EcdsaP256), ("p384", KeyAlgorithm::EcdsaP384)] {
        let iss = issuer(alg);
        c.bench_function(&format!("fulcio_leaf_precert_and_final/{label}_issuer"), |b| {
            b.iter(|| {
                let serial = random_serial().unwrap();
                let pre = build_precertificate(&iss, &req, &serial).unwrap();
                let fin = finish_certificate(&iss, &req, &serial, &sct).unwrap();
                black_box((pre, fin))
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
