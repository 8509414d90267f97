//! Timestamp issuance: parse a DER request (SHA-256 imprint, nonce, certReq) and issue a token, P-256 signer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, Signer, SigningKey};
use sigil_tsa::{TimeStampRequest, TimestampIssuer};
use sigil_x509::{Issuer, Name, self_signed_root, tsa_leaf};

const NOW: i64 = 1_780_000_000;

fn bench(c: &mut Criterion) {
    let root_key: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let name = |cn: &str| Name {
        organization: "sigil".into(),
        common_name: cn.into(),
    };
    let root_der = self_signed_root(root_key.as_ref(), &name("root"), NOW - 86_400, NOW + 86_400 * 3650).unwrap();
    let root = Issuer::from_der(&root_der, root_key).unwrap();
    let tsa_key: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let leaf = tsa_leaf(
        &root,
        tsa_key.public_key(),
        &name("tsa"),
        NOW - 86_400,
        NOW + 86_400 * 365,
    )
    .unwrap();
    let tsa = TimestampIssuer::new(tsa_key, vec![leaf, root_der], "1.3.6.1.4.1.57264.2").unwrap();
    let req = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, b"signature bytes")
        .with_nonce(&0x1234_5678_9abc_def0u64.to_be_bytes())
        .to_der();
    let mut g = c.benchmark_group("tsa");
    g.throughput(Throughput::Elements(1));
    let mut serial = 0u64;
    g.bench_function("parse_and_issue_p256", |b| {
        b.iter(|| {
            serial += 1;
            let parsed = tsa.parse_request(black_box(&req)).unwrap();
            black_box(tsa.issue(&parsed, NOW, 123, &serial.to_be_bytes()).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
