//! Merkle proofs against a naive reference written straight from RFC 6962 §2.1 (SECURITY.md L-09).
//!
//! Exhaustive loops cover every index of every tree size up to 1024 and every consistency pair up to 256; proptest
//! covers random mutations, larger trees and hostile `u64` inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::sync::OnceLock;

use proptest::prelude::*;
use sigil_tlog::{
    EMPTY_ROOT, Error, Hash, MerkleTree, consistency_proof_len, hash_children, hash_leaf, inclusion_proof_len,
    root_from_inclusion_proof, root_of, verify_consistency, verify_inclusion,
};

// ---------------------------------------------------------------------------------------------------------------
// Reference implementation: the RFC's recursive definitions, unoptimised.

/// Largest power of two strictly less than n (n >= 2).
fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
fn ref_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => sigil_crypto::sha256(b""),
        1 => d[0],
        n => {
            let k = k_of(n);
            hash_children(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = ref_path(m, &d[..k]);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_path(m - k, &d[k..]);
        p.push(ref_mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
fn ref_proof(m: usize, d: &[Hash]) -> Vec<Hash> {
    fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![ref_mth(d)] };
        }
        let k = k_of(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(ref_mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(ref_mth(&d[..k]));
            p
        }
    }
    if m == 0 || m == d.len() {
        return vec![];
    }
    subproof(m, d, true)
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| hash_leaf(&i.to_le_bytes())).collect()
}

/// Reference roots for every prefix size 0..=n, computed naively.
fn ref_roots(d: &[Hash]) -> Vec<Hash> {
    (0..=d.len()).map(|s| ref_mth(&d[..s])).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Exhaustive tests.

const MAX_INCLUSION_SIZE: usize = 1024;
const MAX_CONSISTENCY_SIZE: usize = 256;

#[test]
fn roots_match_reference_for_every_prefix() {
    let d = leaves(MAX_INCLUSION_SIZE);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    for (size, want) in ref_roots(&d).iter().enumerate() {
        assert_eq!(tree.root(size as u64).unwrap(), *want, "size {size}");
        assert_eq!(root_of(&d[..size]), *want, "root_of size {size}");
    }
    assert_eq!(tree.root(0).unwrap(), EMPTY_ROOT);
}

/// Every index of every size in `sizes`: the tree's proof has the exact length and verifies against the
/// reference root.
fn check_all_inclusion_proofs(sizes: std::ops::RangeInclusive<usize>) {
    let d = leaves(*sizes.end());
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    let roots = ref_roots(&d);
    for size in sizes {
        let root = roots[size];
        for (index, leaf) in d[..size].iter().enumerate() {
            let proof = tree.inclusion_proof(index as u64, size as u64).unwrap();
            assert_eq!(proof.len(), inclusion_proof_len(index as u64, size as u64).unwrap());
            verify_inclusion(index as u64, size as u64, leaf, &proof, &root)
                .unwrap_or_else(|e| panic!("index {index} size {size}: {e}"));
        }
    }
}

// Split in two halves of equal work so the test harness runs them in parallel.
#[test]
fn every_inclusion_proof_verifies_sizes_1_to_724() {
    check_all_inclusion_proofs(1..=724);
}

#[test]
fn every_inclusion_proof_verifies_sizes_725_to_1024() {
    check_all_inclusion_proofs(725..=MAX_INCLUSION_SIZE);
}

#[test]
fn inclusion_proofs_equal_reference_paths() {
    let d = leaves(130);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    for size in 1..=d.len() {
        for index in 0..size {
            assert_eq!(
                tree.inclusion_proof(index as u64, size as u64).unwrap(),
                ref_path(index, &d[..size]),
                "index {index} size {size}"
            );
        }
    }
}

#[test]
fn every_consistency_proof_verifies_up_to_256() {
    let d = leaves(MAX_CONSISTENCY_SIZE);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    let roots = ref_roots(&d);
    for n in 1..=MAX_CONSISTENCY_SIZE {
        for m in 1..=n {
            let proof = tree.consistency_proof(m as u64, n as u64).unwrap();
            assert_eq!(
                proof.len(),
                consistency_proof_len(m as u64, n as u64).unwrap(),
                "{m} -> {n}"
            );
            verify_consistency(m as u64, n as u64, &proof, &roots[m], &roots[n])
                .unwrap_or_else(|e| panic!("{m} -> {n}: {e}"));
        }
        // From the empty tree.
        assert_eq!(tree.consistency_proof(0, n as u64).unwrap(), Vec::<Hash>::new());
        verify_consistency(0, n as u64, &[], &EMPTY_ROOT, &roots[n]).unwrap();
    }
}

#[test]
fn consistency_proofs_equal_reference() {
    let d = leaves(80);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    for n in 0..=d.len() {
        for m in 0..=n {
            assert_eq!(
                tree.consistency_proof(m as u64, n as u64).unwrap(),
                ref_proof(m, &d[..n]),
                "{m} -> {n}"
            );
        }
    }
}

#[test]
fn mutated_inclusion_proofs_are_rejected() {
    let d = leaves(100);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    let roots = ref_roots(&d);
    for size in 1..=d.len() {
        let (s, root) = (size as u64, roots[size]);
        for index in 0..size {
            let i = index as u64;
            let proof = tree.inclusion_proof(i, s).unwrap();
            // Any flipped byte in any proof hash.
            for j in 0..proof.len() {
                for byte in [0, 17, 31] {
                    let mut bad = proof.clone();
                    bad[j][byte] ^= 0x01;
                    assert_eq!(verify_inclusion(i, s, &d[index], &bad, &root), Err(Error::RootMismatch));
                }
            }
            // Extra trailing or leading hash, missing hash.
            let mut longer = proof.clone();
            longer.push(root);
            assert!(matches!(
                verify_inclusion(i, s, &d[index], &longer, &root),
                Err(Error::InclusionProofLength { .. })
            ));
            let mut longer = proof.clone();
            longer.insert(0, d[index]);
            assert!(matches!(
                verify_inclusion(i, s, &d[index], &longer, &root),
                Err(Error::InclusionProofLength { .. })
            ));
            if !proof.is_empty() {
                for drop in [0, proof.len() - 1] {
                    let mut shorter = proof.clone();
                    shorter.remove(drop);
                    assert!(matches!(
                        verify_inclusion(i, s, &d[index], &shorter, &root),
                        Err(Error::InclusionProofLength { .. })
                    ));
                }
            }
            // A proof presented for any other index of the same tree.
            for other in 0..size {
                if other != index {
                    assert!(verify_inclusion(other as u64, s, &d[index], &proof, &root).is_err());
                }
            }
            // Index >= size.
            assert_eq!(
                verify_inclusion(s, s, &d[index], &proof, &root),
                Err(Error::IndexOutOfRange { index: s, size: s })
            );
            assert!(verify_inclusion(i + s, s, &d[index], &proof, &root).is_err());
            // A stale proof against the next tree head. (The same proof with the same root but another size can
            // verify when both sizes give the leaf the same path shape; that is harmless because a checkpoint signs
            // size and root together, so only the signed pair is ever used.)
            if size < d.len() {
                assert!(verify_inclusion(i, s + 1, &d[index], &proof, &roots[size + 1]).is_err());
            }
            // Wrong leaf, wrong root.
            assert_eq!(
                verify_inclusion(i, s, &hash_leaf(b"other"), &proof, &root),
                Err(Error::RootMismatch)
            );
            if size > 1 {
                assert!(verify_inclusion(i, s, &d[index], &proof, &roots[size - 1]).is_err());
            }
            // The raw data (not its leaf hash) as the leaf.
            assert!(
                verify_inclusion(
                    i,
                    s,
                    &(index as u64).to_le_bytes().repeat(4).try_into().unwrap(),
                    &proof,
                    &root
                )
                .is_err()
            );
        }
    }
}

#[test]
fn size_zero_and_u64_max() {
    let leaf = hash_leaf(b"a");
    assert_eq!(
        verify_inclusion(0, 0, &leaf, &[], &EMPTY_ROOT),
        Err(Error::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        root_from_inclusion_proof(0, 0, &leaf, &[]),
        Err(Error::IndexOutOfRange { index: 0, size: 0 })
    );
    // The last leaf of a u64::MAX tree: 63 hashes, no overflow, and a 62- or 64-hash proof is rejected.
    let proof: Vec<Hash> = (0..63u8).map(|i| [i; 32]).collect();
    let root = root_from_inclusion_proof(u64::MAX - 1, u64::MAX, &leaf, &proof).unwrap();
    verify_inclusion(u64::MAX - 1, u64::MAX, &leaf, &proof, &root).unwrap();
    assert!(matches!(
        verify_inclusion(u64::MAX - 1, u64::MAX, &leaf, &proof[..62], &root),
        Err(Error::InclusionProofLength {
            expected: 63,
            actual: 62
        })
    ));
    let mut longer = proof.clone();
    longer.push([0; 32]);
    assert!(matches!(
        verify_inclusion(u64::MAX - 1, u64::MAX, &leaf, &longer, &root),
        Err(Error::InclusionProofLength {
            expected: 63,
            actual: 64
        })
    ));
    assert_eq!(
        verify_inclusion(u64::MAX, u64::MAX, &leaf, &proof, &root),
        Err(Error::IndexOutOfRange {
            index: u64::MAX,
            size: u64::MAX
        })
    );
    // Leaf 0 of a u64::MAX tree needs 64 hashes.
    let proof64: Vec<Hash> = (0..64u8).map(|i| [i; 32]).collect();
    let root0 = root_from_inclusion_proof(0, u64::MAX, &leaf, &proof64).unwrap();
    verify_inclusion(0, u64::MAX, &leaf, &proof64, &root0).unwrap();
    // Consistency at the top of the range.
    let n = consistency_proof_len(u64::MAX - 1, u64::MAX).unwrap();
    let cproof: Vec<Hash> = (0..n as u8).map(|i| [i; 32]).collect();
    assert!(verify_consistency(u64::MAX - 1, u64::MAX, &cproof, &root, &root).is_err());
    assert!(verify_consistency(1 << 63, u64::MAX, &cproof, &root, &root).is_err());
}

/// An interior node must never be accepted as a leaf of the signed tree (second-preimage attack).
#[test]
fn interior_node_as_leaf_is_rejected() {
    let d = leaves(64);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    for size in [8u64, 13, 64] {
        let root = tree.root(size).unwrap();
        for index in (0..size - 1).step_by(2) {
            let proof = tree.inclusion_proof(index, size).unwrap();
            let (l, r) = (d[index as usize], d[index as usize + 1]);
            let node = hash_children(&l, &r);
            let truncated = &proof[1..];
            // The node's hash with the truncated path, at the true size, for the child's or the parent's index.
            for claimed in [index, index / 2, index + 1] {
                assert!(verify_inclusion(claimed, size, &node, truncated, &root).is_err());
                assert!(verify_inclusion(claimed, size, &node, &proof, &root).is_err());
            }
            // The node's preimage as leaf data: leaf hashing adds 0x00, so the hash differs from the node's.
            let mut data = l.to_vec();
            data.extend_from_slice(&r);
            let as_leaf = hash_leaf(&data);
            assert_ne!(as_leaf, node);
            for claimed in [index, index / 2] {
                assert!(verify_inclusion(claimed, size, &as_leaf, truncated, &root).is_err());
            }
        }
    }
}

#[test]
fn mutated_consistency_proofs_are_rejected() {
    let d = leaves(64);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    let roots = ref_roots(&d);
    for n in 1..=d.len() {
        for m in 1..n {
            let (m64, n64) = (m as u64, n as u64);
            let proof = tree.consistency_proof(m64, n64).unwrap();
            for j in 0..proof.len() {
                let mut bad = proof.clone();
                bad[j][5] ^= 0x80;
                assert!(
                    verify_consistency(m64, n64, &bad, &roots[m], &roots[n]).is_err(),
                    "{m}->{n} flip {j}"
                );
            }
            let mut longer = proof.clone();
            longer.push(roots[n]);
            assert!(matches!(
                verify_consistency(m64, n64, &longer, &roots[m], &roots[n]),
                Err(Error::ConsistencyProofLength { .. })
            ));
            let mut shorter = proof.clone();
            shorter.pop();
            assert!(matches!(
                verify_consistency(m64, n64, &shorter, &roots[m], &roots[n]),
                Err(Error::ConsistencyProofLength { .. })
            ));
            // Wrong roots on either side.
            assert!(verify_consistency(m64, n64, &proof, &roots[m - 1], &roots[n]).is_err());
            assert!(verify_consistency(m64, n64, &proof, &roots[m], &roots[n - 1]).is_err());
            assert!(verify_consistency(m64, n64, &proof, &roots[n], &roots[m]).is_err());
            // Swapped sizes.
            assert_eq!(
                verify_consistency(n64, m64, &proof, &roots[n], &roots[m]),
                Err(Error::ConsistencySizes { size1: n64, size2: m64 })
            );
            // Same proof claimed for a different old size.
            for other in 1..n {
                if other != m && consistency_proof_len(other as u64, n64) == Ok(proof.len()) {
                    assert!(verify_consistency(other as u64, n64, &proof, &roots[m], &roots[n]).is_err());
                }
            }
        }
        // Equal sizes: empty proof and equal roots only.
        assert_eq!(
            verify_consistency(n as u64, n as u64, &[], &roots[n], &roots[n]),
            Ok(())
        );
        assert!(verify_consistency(n as u64, n as u64, &[roots[n]], &roots[n], &roots[n]).is_err());
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Property tests.

const BIG: usize = 140_000;

fn big_tree() -> &'static (Vec<Hash>, MerkleTree) {
    static TREE: OnceLock<(Vec<Hash>, MerkleTree)> = OnceLock::new();
    TREE.get_or_init(|| {
        let d = leaves(BIG);
        let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
        (d, tree)
    })
}

fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (1..=BIG as u64).prop_flat_map(|size| (Just(size), 0..size))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_inclusion_proofs_verify((size, index) in size_and_index()) {
        let (d, tree) = big_tree();
        let root = tree.root(size).unwrap();
        let proof = tree.inclusion_proof(index, size).unwrap();
        prop_assert_eq!(verify_inclusion(index, size, &d[index as usize], &proof, &root), Ok(()));
    }

    #[test]
    fn random_bit_flips_are_rejected((size, index) in size_and_index(), pick in any::<prop::sample::Index>(), byte in 0usize..32, bit in 0u8..8) {
        let (d, tree) = big_tree();
        let root = tree.root(size).unwrap();
        let mut proof = tree.inclusion_proof(index, size).unwrap();
        prop_assume!(!proof.is_empty());
        let j = pick.index(proof.len());
        proof[j][byte] ^= 1 << bit;
        prop_assert_eq!(verify_inclusion(index, size, &d[index as usize], &proof, &root), Err(Error::RootMismatch));
    }

    #[test]
    fn proofs_for_other_indexes_are_rejected((size, index) in size_and_index(), other in any::<u64>()) {
        let (d, tree) = big_tree();
        let other = other % size;
        prop_assume!(other != index);
        let root = tree.root(size).unwrap();
        let proof = tree.inclusion_proof(index, size).unwrap();
        prop_assert!(verify_inclusion(other, size, &d[index as usize], &proof, &root).is_err());
        prop_assert!(verify_inclusion(other, size, &d[other as usize], &proof, &root).is_err());
    }

    #[test]
    fn random_consistency_proofs_verify(n in 1..=BIG as u64, m_frac in 0.0f64..=1.0) {
        let (_, tree) = big_tree();
        let m = ((n as f64 * m_frac) as u64).clamp(1, n);
        let proof = tree.consistency_proof(m, n).unwrap();
        let (r1, r2) = (tree.root(m).unwrap(), tree.root(n).unwrap());
        prop_assert_eq!(verify_consistency(m, n, &proof, &r1, &r2), Ok(()));
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[proof.len() / 2][0] ^= 0xff;
            prop_assert!(verify_consistency(m, n, &bad, &r1, &r2).is_err());
        }
    }

    #[test]
    fn tree_roots_match_root_of(size in 0..=4096usize) {
        let (d, tree) = big_tree();
        prop_assert_eq!(tree.root(size as u64).unwrap(), root_of(&d[..size]));
    }

    /// Arbitrary u64 inputs never panic, and never verify against an unrelated root.
    #[test]
    fn hostile_inputs_do_not_panic(index in any::<u64>(), size in any::<u64>(), len in 0usize..70, seed in any::<u8>()) {
        let proof: Vec<Hash> = (0..len).map(|i| [seed.wrapping_add(i as u8); 32]).collect();
        let leaf = [seed; 32];
        let root = [seed ^ 0x55; 32];
        let r = verify_inclusion(index, size, &leaf, &proof, &root);
        prop_assert!(r.is_err());
        match inclusion_proof_len(index, size) {
            Ok(n) if n == len => prop_assert_eq!(r, Err(Error::RootMismatch)),
            Ok(_) => prop_assert!(matches!(r, Err(Error::InclusionProofLength { .. })), "length"),
            Err(_) => prop_assert!(matches!(r, Err(Error::IndexOutOfRange { .. })), "range"),
        }
        let (a, b) = (index.min(size), index.max(size));
        let _ = verify_consistency(a, b, &proof, &leaf, &root);
        let _ = verify_consistency(b, a, &proof, &leaf, &root);
    }
}
