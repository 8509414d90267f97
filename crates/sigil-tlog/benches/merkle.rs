//! Benchmarks: proof verification at Rekor scale, proof building, and checkpoint-note verification with the real
//! Rekor v1 (ECDSA P-256) and Rekor v2 (Ed25519) checkpoints from the shared conformance fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // bench setup: a panic is a failed run

use std::hint::black_box;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use criterion::{Criterion, criterion_group, criterion_main};
use sigil_crypto::VerifyingKey;
use sigil_tlog::{
    Hash, MerkleTree, Note, NoteVerifier, hash_leaf, inclusion_proof_len, root_from_inclusion_proof,
    verify_consistency, verify_inclusion,
};

fn inclusion(c: &mut Criterion) {
    // A 25M-leaf tree (the order of Rekor v1's shards): 25 proof hashes.
    let (size, index) = (25_000_000u64, 12_345_678u64);
    let len = inclusion_proof_len(index, size).unwrap();
    let proof: Vec<Hash> = (0..len).map(|i| hash_leaf(&i.to_be_bytes())).collect();
    let leaf = hash_leaf(b"entry");
    let root = root_from_inclusion_proof(index, size, &leaf, &proof).unwrap();
    c.bench_function("verify_inclusion/25M", |b| {
        b.iter(|| verify_inclusion(black_box(index), black_box(size), &leaf, black_box(&proof), &root).unwrap())
    });
}

fn building(c: &mut Criterion) {
    let n = 100_000u64;
    let tree = MerkleTree::from_leaf_hashes((0..n).map(|i| hash_leaf(&i.to_be_bytes())));
    c.bench_function("inclusion_proof/100k", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i = (i + 7919) % n;
            tree.inclusion_proof(black_box(i), n).unwrap()
        })
    });
    c.bench_function("consistency_proof+verify/100k", |b| {
        let (m, r1, r2) = (61_234, tree.root(61_234).unwrap(), tree.root(n).unwrap());
        b.iter(|| {
            let p = tree.consistency_proof(black_box(m), n).unwrap();
            verify_consistency(m, n, &p, &r1, &r2).unwrap()
        })
    });
    c.bench_function("root/100k", |b| b.iter(|| tree.root(black_box(n - 1)).unwrap()));
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn checkpoint_of(case: &str) -> String {
    let bundle = json(&fixtures().join("bundle-verify").join(case).join("bundle.sigstore.json"));
    bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .to_string()
}

fn key_of(trusted_root: &Path, base_url: &str) -> VerifyingKey {
    let root = json(trusted_root);
    let tlog = root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["baseUrl"] == base_url)
        .unwrap();
    VerifyingKey::from_spki_der(&B64.decode(tlog["publicKey"]["rawBytes"].as_str().unwrap()).unwrap()).unwrap()
}

fn notes(c: &mut Criterion) {
    let ecdsa_text = checkpoint_of("happy-path-v0.3");
    let ecdsa = NoteVerifier::ecdsa(
        "rekor.sigstore.dev",
        key_of(
            &fixtures().join("production-trusted-root/trusted_root.json"),
            "https://rekor.sigstore.dev",
        ),
    )
    .unwrap();
    c.bench_function("note_parse_verify/ecdsa_p256", |b| {
        b.iter(|| {
            Note::parse(black_box(&ecdsa_text)).unwrap().verify(&ecdsa).unwrap();
        })
    });

    let ed_text = checkpoint_of("rekor2-checkpoint-cosigned");
    let ed = NoteVerifier::ed25519(
        "log2025-alpha1.rekor.sigstage.dev",
        key_of(
            &fixtures().join("bundle-verify/rekor2-checkpoint-cosigned/trusted_root.json"),
            "https://log2025-alpha1.rekor.sigstage.dev",
        ),
    )
    .unwrap();
    c.bench_function("note_parse_verify/ed25519_cosigned", |b| {
        b.iter(|| {
            Note::parse(black_box(&ed_text)).unwrap().verify(&ed).unwrap();
        })
    });
}

criterion_group!(benches, inclusion, building, notes);
criterion_main!(benches);
