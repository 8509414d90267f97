#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use proptest::prelude::*;
use rs_merkle::algorithms::Sha256 as RsSha256;
use rs_merkle::{Hasher, MerkleProof, MerkleTree as RsTree};
use sigil_tlog::{Hash, MerkleTree, hash_leaf, verify_consistency, verify_inclusion};

/// rs_merkle (an independent implementation, its own SHA-256) with RFC 6962 interior nodes; its odd-node
/// promotion gives the RFC's left-heavy shape (see sigil-tlog's `rs_merkle_diff` tests).
#[derive(Clone)]
struct Rfc6962;

impl Hasher for Rfc6962 {
    type Hash = Hash;

    fn hash(data: &[u8]) -> Hash {
        RsSha256::hash(data)
    }

    fn concat_and_hash(left: &Hash, right: Option<&Hash>) -> Hash {
        match right {
            Some(right) => RsSha256::hash(&[&[1u8][..], left, right].concat()),
            None => *left,
        }
    }
}

/// rs_merkle's root of the first `n` leaves, and its check of an inclusion proof.
fn oracle_root(leaves: &[Hash], n: u64) -> Hash {
    RsTree::<Rfc6962>::from_leaves(&leaves[..n as usize]).root().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random append sequences: every inclusion and consistency proof the log serves verifies, and equals the
    /// reference tree's.
    #[test]
    fn served_proofs_verify(batches in proptest::collection::vec(1u64..300, 1..5), picks in proptest::collection::vec(any::<u64>(), 24)) {
        let tmp = tempfile::tempdir().unwrap();
        let log = open(tmp.path());
        let mut reference = MerkleTree::new();
        let mut sizes = vec![0u64];
        for (b, n) in batches.iter().enumerate() {
            let leaves = entries(reference.size(), *n, &format!("p{b}"));
            log.append_many(&leaves).unwrap();
            for l in &leaves {
                reference.push(hash_leaf(l));
            }
            sizes.push(reference.size());
            prop_assert_eq!(log.root(), reference.current_root());
        }
        let size = reference.size();
        let all: Vec<Hash> = (0..size).map(|i| log.leaf_hash(i).unwrap()).collect();
        for (i, h) in all.iter().enumerate() {
            prop_assert_eq!(*h, reference.leaf_hash(i as u64).unwrap());
        }
        for pick in picks.chunks(2) {
            let n = 1 + pick[0] % size;
            let i = pick[1] % n;
            let proof = log.inclusion_proof(i, n).unwrap();
            prop_assert_eq!(&proof, &reference.inclusion_proof(i, n).unwrap());
            verify_inclusion(i, n, &reference.leaf_hash(i).unwrap(), &proof, &reference.root(n).unwrap()).unwrap();
            // The oracle: rs_merkle accepts the same proof against its own root.
            let root = oracle_root(&all, n);
            prop_assert_eq!(root, log.root_at(n).unwrap());
            prop_assert!(MerkleProof::<Rfc6962>::new(proof).verify(root, &[i as usize], &[all[i as usize]], n as usize));
            let m = pick[1] % (n + 1);
            let proof = log.consistency_proof(m, n).unwrap();
            verify_consistency(m, n, &proof, &reference.root(m).unwrap(), &reference.root(n).unwrap()).unwrap();
            if m > 0 {
                // rs_merkle has no consistency proofs: it is the oracle for both roots the proof links.
                verify_consistency(m, n, &proof, &oracle_root(&all, m), &root).unwrap();
            }
        }
        for w in sizes.windows(2) {
            let proof = log.consistency_proof(w[0], w[1]).unwrap();
            verify_consistency(w[0], w[1], &proof, &reference.root(w[0]).unwrap(), &reference.root(w[1]).unwrap()).unwrap();
        }
    }
}
