//! Cost of the primitives one bundle verification needs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // bench code

use criterion::{Criterion, criterion_group, criterion_main};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, SignatureScheme, VerifyingKey, spki_der_for};

fn bench(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let msg = vec![7u8; 1500];
    for (name, signing, alg, scheme) in [
        (
            "P-256",
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            KeyAlgorithm::EcdsaP256,
            SignatureScheme::EcdsaSha256,
        ),
        (
            "P-384",
            &ECDSA_P384_SHA384_ASN1_SIGNING,
            KeyAlgorithm::EcdsaP384,
            SignatureScheme::EcdsaSha384,
        ),
    ] {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
        let sig = kp.sign(&rng, &msg).unwrap();
        let vk = VerifyingKey::from_spki_der(&spki_der_for(alg, kp.public_key().as_ref())).unwrap();
        let hash = scheme.hash().unwrap();
        let digest = hash.digest(&msg);
        c.bench_function(&format!("ECDSA {name} verify (1500-byte message)"), |b| {
            b.iter(|| vk.verify(scheme, &msg, sig.as_ref()).unwrap())
        });
        c.bench_function(&format!("ECDSA {name} verify (pre-hashed)"), |b| {
            b.iter(|| vk.verify_prehashed(hash, &digest, sig.as_ref()).unwrap())
        });
    }
    c.bench_function("SHA-256 of 1 MiB", |b| {
        let data = vec![1u8; 1 << 20];
        b.iter(|| HashAlgorithm::Sha2_256.digest(&data))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
