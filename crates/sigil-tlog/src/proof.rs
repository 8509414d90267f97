//! Verification of RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs.
//!
//! Both verifiers first compute the *exact* number of hashes the tree shape requires and reject any other length,
//! before hashing anything. That closes the classic forgeries where a proof with a surplus or missing hash still
//! reaches the root, or where a proof for a different index happens to have a usable shape.
//!
//! The walk itself uses the "decomposition" view of the RFC's loop: for a node at position `fn` in a tree whose
//! last node is at `sn`, the `inner` = `bitlen(fn ^ sn)` lowest levels are those where `fn` and `sn` still differ,
//! so the node always has a sibling there (left if the bit of `fn` is 1, right otherwise); above that, the node is
//! on the tree's right border and only has a (left) sibling where `fn` has a 1 bit. All shifts are bounded so that
//! `u64::MAX`-sized trees cannot overflow.

use crate::Error;
use crate::hash::{EMPTY_ROOT, Hash, hash_children};

/// Number of significant bits of `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// `(inner, border)` for a node at `index` in a tree whose last node is at `last`: the number of levels with a
/// sibling on either side, then the number of left siblings on the right border.
fn decompose(index: u64, last: u64) -> (usize, usize) {
    let inner = bit_len(index ^ last);
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner as usize, border as usize)
}

/// The exact number of hashes in an inclusion proof for leaf `index` of a tree of `size` leaves.
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size - 1);
    Ok(inner + border)
}

/// The exact number of hashes in a consistency proof from `size1` to `size2` leaves.
pub fn consistency_proof_len(size1: u64, size2: u64) -> Result<usize, Error> {
    if size1 > size2 {
        return Err(Error::ConsistencySizes { size1, size2 });
    }
    if size1 == 0 || size1 == size2 {
        return Ok(0);
    }
    let shift = size1.trailing_zeros();
    let (inner, border) = decompose((size1 - 1) >> shift, (size2 - 1) >> shift);
    let seed = usize::from(!size1.is_power_of_two());
    Ok(seed + inner + border)
}

/// Recomputes the root hash of a tree of `size` leaves from the hash of leaf `index` and its inclusion proof.
///
/// Fails if `index >= size` (so always for `size == 0`) or if the proof does not have exactly the number of hashes
/// the shape requires. The result is only meaningful once compared with a trusted root; see [`verify_inclusion`].
pub fn root_from_inclusion_proof(index: u64, size: u64, leaf_hash: &Hash, proof: &[Hash]) -> Result<Hash, Error> {
    let expected = inclusion_proof_len(index, size)?;
    if proof.len() != expected {
        return Err(Error::InclusionProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let (inner, _) = decompose(index, size - 1);
    let (inner_proof, border_proof) = proof.split_at_checked(inner).ok_or(Error::InclusionProofLength {
        expected,
        actual: proof.len(),
    })?;
    let mut node = *leaf_hash;
    for (level, sibling) in inner_proof.iter().enumerate() {
        node = if (index >> level) & 1 == 1 {
            hash_children(sibling, &node)
        } else {
            hash_children(&node, sibling)
        };
    }
    for sibling in border_proof {
        node = hash_children(sibling, &node);
    }
    Ok(node)
}

/// Verifies that the leaf with hash `leaf_hash` sits at `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf_hash: &Hash, proof: &[Hash], root: &Hash) -> Result<(), Error> {
    let computed = root_from_inclusion_proof(index, size, leaf_hash, proof)?;
    if &computed == root {
        Ok(())
    } else {
        Err(Error::RootMismatch)
    }
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves with root `root1`.
///
/// Edge cases (RFC 9162 §2.1.4):
/// - `size1 > size2` is an error;
/// - `size1 == size2`: the proof must be empty and the roots equal;
/// - `size1 == 0`: the proof must be empty, and `root1` must be the empty-tree hash (every tree extends the empty
///   tree, but a size-0 checkpoint claiming another root is itself bogus).
pub fn verify_consistency(size1: u64, size2: u64, proof: &[Hash], root1: &Hash, root2: &Hash) -> Result<(), Error> {
    let expected = consistency_proof_len(size1, size2)?;
    if proof.len() != expected {
        return Err(Error::ConsistencyProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if size1 == 0 {
        return if root1 == &EMPTY_ROOT {
            Ok(())
        } else {
            Err(Error::ConsistencyOldRootMismatch)
        };
    }
    if size1 == size2 {
        return if root1 == root2 {
            Ok(())
        } else {
            Err(Error::ConsistencyNewRootMismatch)
        };
    }
    // 0 < size1 < size2. The lowest `shift` levels of the old tree's last leaf are inside a perfect subtree shared
    // by both trees; the walk starts from that subtree's root. If size1 is a power of two, that subtree is the whole
    // old tree, whose root is not sent; otherwise it is the first proof hash.
    let shift = size1.trailing_zeros();
    let fn_ = (size1 - 1) >> shift;
    let sn = (size2 - 1) >> shift;
    let (seed, path) = if size1.is_power_of_two() {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(Error::ConsistencyProofLength { expected, actual: 0 });
            }
        }
    };
    let (inner, _) = decompose(fn_, sn);
    let (inner_path, border_path) = path.split_at_checked(inner).ok_or(Error::ConsistencyProofLength {
        expected,
        actual: proof.len(),
    })?;
    let (mut old, mut new) = (seed, seed);
    for (level, sibling) in inner_path.iter().enumerate() {
        if (fn_ >> level) & 1 == 1 {
            // A left sibling belongs to both trees.
            old = hash_children(sibling, &old);
            new = hash_children(sibling, &new);
        } else {
            // A right sibling exists only in the new tree.
            new = hash_children(&new, sibling);
        }
    }
    for sibling in border_path {
        old = hash_children(sibling, &old);
        new = hash_children(sibling, &new);
    }
    if &old != root1 {
        return Err(Error::ConsistencyOldRootMismatch);
    }
    if &new != root2 {
        return Err(Error::ConsistencyNewRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_leaf;

    #[test]
    fn lengths() {
        assert_eq!(inclusion_proof_len(0, 1), Ok(0));
        assert_eq!(inclusion_proof_len(0, 2), Ok(1));
        assert_eq!(inclusion_proof_len(4, 5), Ok(1));
        assert_eq!(inclusion_proof_len(5, 7), Ok(3));
        assert_eq!(inclusion_proof_len(6, 7), Ok(2));
        assert_eq!(
            inclusion_proof_len(0, 0),
            Err(Error::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), Ok(63));
        assert_eq!(inclusion_proof_len(0, u64::MAX), Ok(64));
        assert_eq!(consistency_proof_len(1, 1), Ok(0));
        assert_eq!(consistency_proof_len(0, 9), Ok(0));
        assert_eq!(consistency_proof_len(4, 8), Ok(1));
        assert_eq!(consistency_proof_len(3, 7), Ok(4));
        assert_eq!(
            consistency_proof_len(8, 7),
            Err(Error::ConsistencySizes { size1: 8, size2: 7 })
        );
        assert!(consistency_proof_len(u64::MAX - 1, u64::MAX).is_ok());
        assert!(consistency_proof_len(1, u64::MAX).is_ok());
    }

    #[test]
    fn single_leaf_tree() {
        let leaf = hash_leaf(b"x");
        assert_eq!(verify_inclusion(0, 1, &leaf, &[], &leaf), Ok(()));
        assert_eq!(
            verify_inclusion(0, 1, &leaf, &[leaf], &leaf),
            Err(Error::InclusionProofLength { expected: 0, actual: 1 })
        );
        assert_eq!(
            verify_inclusion(1, 1, &leaf, &[], &leaf),
            Err(Error::IndexOutOfRange { index: 1, size: 1 })
        );
    }

    #[test]
    fn huge_sizes_do_not_overflow() {
        let leaf = hash_leaf(b"x");
        let proof = vec![[7u8; 32]; 63];
        let root = root_from_inclusion_proof(u64::MAX - 1, u64::MAX, &leaf, &proof).unwrap();
        assert_eq!(verify_inclusion(u64::MAX - 1, u64::MAX, &leaf, &proof, &root), Ok(()));
        assert!(verify_inclusion(u64::MAX, u64::MAX, &leaf, &proof, &root).is_err());
        let proof64 = vec![[7u8; 32]; 64];
        assert!(verify_inclusion(0, u64::MAX, &leaf, &proof64, &root).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &proof, &root, &root).is_err());
    }

    #[test]
    fn consistency_edge_cases() {
        let a = hash_leaf(b"a");
        let b = hash_leaf(b"b");
        assert_eq!(verify_consistency(0, 5, &[], &EMPTY_ROOT, &a), Ok(()));
        assert_eq!(
            verify_consistency(0, 5, &[], &a, &a),
            Err(Error::ConsistencyOldRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 5, &[a], &EMPTY_ROOT, &a),
            Err(Error::ConsistencyProofLength { expected: 0, actual: 1 })
        );
        assert_eq!(verify_consistency(3, 3, &[], &a, &a), Ok(()));
        assert_eq!(
            verify_consistency(3, 3, &[], &a, &b),
            Err(Error::ConsistencyNewRootMismatch)
        );
        assert_eq!(
            verify_consistency(3, 3, &[a], &a, &a),
            Err(Error::ConsistencyProofLength { expected: 0, actual: 1 })
        );
        assert_eq!(
            verify_consistency(4, 3, &[], &a, &a),
            Err(Error::ConsistencySizes { size1: 4, size2: 3 })
        );
        assert_eq!(verify_consistency(0, 0, &[], &EMPTY_ROOT, &EMPTY_ROOT), Ok(()));
        // 1 -> 2: proof is the second leaf.
        let root2 = hash_children(&a, &b);
        assert_eq!(verify_consistency(1, 2, &[b], &a, &root2), Ok(()));
        assert_eq!(
            verify_consistency(1, 2, &[a], &a, &root2),
            Err(Error::ConsistencyNewRootMismatch)
        );
    }
}
