#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use proptest::prelude::*;
use sigil_tlog::{MerkleTree, hash_leaf, verify_consistency, verify_inclusion};

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
        for pick in picks.chunks(2) {
            let n = 1 + pick[0] % size;
            let i = pick[1] % n;
            let proof = log.inclusion_proof(i, n).unwrap();
            prop_assert_eq!(&proof, &reference.inclusion_proof(i, n).unwrap());
            verify_inclusion(i, n, &reference.leaf_hash(i).unwrap(), &proof, &reference.root(n).unwrap()).unwrap();
            let m = pick[1] % (n + 1);
            let proof = log.consistency_proof(m, n).unwrap();
            verify_consistency(m, n, &proof, &reference.root(m).unwrap(), &reference.root(n).unwrap()).unwrap();
        }
        for w in sizes.windows(2) {
            let proof = log.consistency_proof(w[0], w[1]).unwrap();
            verify_consistency(w[0], w[1], &proof, &reference.root(w[0]).unwrap(), &reference.root(w[1]).unwrap()).unwrap();
        }
    }
}
