//! Building RFC 6962 trees, roots and proofs (RFC 6962 §2.1, RFC 9162 §2.1).
//!
//! [`MerkleTree`] keeps, for every height `h`, the hashes of all *complete* perfect subtrees of `2^h` leaves
//! (level 0 holds the leaf hashes). Every subtree the RFC's recursive definitions need is either one of those or
//! splits, by the RFC's own rule ("k is the largest power of two smaller than n"), into a stored perfect subtree on
//! the left and a smaller remainder on the right, so any root or proof for any prefix size costs O(log² n) hashes
//! and no leaf is ever rehashed. Memory is about two hashes per leaf.

use crate::Error;
use crate::hash::{EMPTY_ROOT, Hash, hash_children};

/// Largest power of two strictly smaller than `n` (requires `n >= 2`).
fn split_point(n: u64) -> u64 {
    1u64 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// The Merkle tree hash (MTH, RFC 6962 §2.1) of a list of leaf hashes.
///
/// Runs in O(n) with O(log n) memory: it keeps the roots of the perfect subtrees seen so far (one per height, like
/// a binary counter) and folds them right to left at the end, which is exactly the RFC's left-heavy shape.
pub fn root_of(leaf_hashes: &[Hash]) -> Hash {
    // (height, hash) of complete perfect subtrees, heights strictly decreasing.
    let mut stack: Vec<(u32, Hash)> = Vec::with_capacity(64);
    for leaf in leaf_hashes {
        let mut node = (0u32, *leaf);
        while let Some(&(h, left)) = stack.last() {
            if h != node.0 {
                break;
            }
            stack.pop();
            node = (h + 1, hash_children(&left, &node.1));
        }
        stack.push(node);
    }
    let mut iter = stack.iter().rev();
    let Some(&(_, mut root)) = iter.next() else {
        return EMPTY_ROOT;
    };
    for (_, left) in iter {
        root = hash_children(left, &root);
    }
    root
}

/// An append-only, in-memory RFC 6962 Merkle tree over leaf hashes.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    /// `levels[h][i]` is the root of the perfect subtree over leaves `i·2^h .. (i+1)·2^h`.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree holding `leaf_hashes` in order.
    pub fn from_leaf_hashes(leaf_hashes: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::new();
        for leaf in leaf_hashes {
            tree.push(leaf);
        }
        tree
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// Appends a leaf hash (see [`crate::hash_leaf`]) and returns its index.
    pub fn push(&mut self, leaf_hash: Hash) -> u64 {
        let index = self.size();
        let mut node = leaf_hash;
        let mut height = 0usize;
        loop {
            if self.levels.len() <= height {
                self.levels.push(Vec::new());
            }
            let Some(level) = self.levels.get_mut(height) else {
                break;
            };
            level.push(node);
            // A new right child completes a subtree one level up.
            if level.len() % 2 != 0 {
                break;
            }
            let pair = level.len().checked_sub(2).and_then(|i| level.get(i..));
            match pair {
                Some([left, right]) => node = hash_children(left, right),
                _ => break,
            }
            height += 1;
        }
        index
    }

    /// The hash of leaf `index`.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        self.perfect_subtree(0, index)
    }

    /// The root of the perfect subtree of `2^height` leaves starting at leaf `index · 2^height`, if complete.
    ///
    /// At `height = 8·l` these are the hashes a level-`l` tile holds (c2sp.org/tlog-tiles).
    pub fn perfect_subtree(&self, height: u32, index: u64) -> Option<Hash> {
        let level = self.levels.get(usize::try_from(height).ok()?)?;
        level.get(usize::try_from(index).ok()?).copied()
    }

    /// The hashes of tile (`level`, `index`) with `width` entries (1..=256), as served at `tile/<L>/<N>[.p/<W>]`.
    pub fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<Hash>, Error> {
        let tile = crate::tiles::TileId::new(level, index, width)?;
        let height = u32::from(level) * 8;
        // Hashes `first .. first + width` of height `8·level`; the tree must hold all the leaves below them.
        let first = tile.index.checked_mul(u64::from(crate::tiles::TILE_WIDTH));
        let end = first.and_then(|f| f.checked_add(u64::from(width)));
        let leaves_needed = end.and_then(|e| e.checked_mul(1u64.checked_shl(height)?));
        let out_of_range = Error::TreeSizeOutOfRange {
            requested: leaves_needed.unwrap_or(u64::MAX),
            available: self.size(),
        };
        let (Some(first), Some(end)) = (first, end) else {
            return Err(out_of_range);
        };
        (first..end)
            .map(|n| self.perfect_subtree(height, n).ok_or_else(|| out_of_range.clone()))
            .collect()
    }

    /// The root hash of the tree's first `size` leaves (`size` may be any value up to [`Self::size`]).
    pub fn root(&self, size: u64) -> Result<Hash, Error> {
        subtree_root(self, 0, size)
    }

    /// The root hash of the whole tree.
    pub fn current_root(&self) -> Hash {
        subtree_root(self, 0, self.size()).unwrap_or(EMPTY_ROOT)
    }

    /// The inclusion proof (audit path, RFC 6962 §2.1.1) of leaf `index` in the tree's first `size` leaves,
    /// ordered from the leaf's sibling up to the root's child.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        inclusion_proof_from(self, index, size)
    }

    /// The consistency proof (RFC 6962 §2.1.2) between the tree's first `size1` and first `size2` leaves.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, Error> {
        consistency_proof_from(self, size1, size2)
    }
}

/// Where perfect-subtree hashes come from (a tree in memory, tiles on disk). Roots and proofs are
/// built from them by [`subtree_root`], [`inclusion_proof_from`] and [`consistency_proof_from`], so
/// every store shares one implementation of the RFC 6962 recursions.
pub trait SubtreeHashes {
    /// The store's error; range errors of the builders arrive as [`enum@Error`].
    type Error: From<Error>;

    /// Number of leaves in the store.
    fn tree_size(&self) -> u64;

    /// The root of the complete subtree of `2^height` leaves starting at leaf `index · 2^height`.
    fn perfect_subtree_hash(&self, height: u32, index: u64) -> Result<Hash, Self::Error>;
}

impl SubtreeHashes for MerkleTree {
    type Error = Error;

    fn tree_size(&self) -> u64 {
        self.size()
    }

    fn perfect_subtree_hash(&self, height: u32, index: u64) -> Result<Hash, Error> {
        self.perfect_subtree(height, index).ok_or(Error::TreeSizeOutOfRange {
            requested: index
                .saturating_add(1)
                .saturating_mul(1u64.checked_shl(height).unwrap_or(u64::MAX)),
            available: self.size(),
        })
    }
}

fn check_size<S: SubtreeHashes + ?Sized>(store: &S, size: u64) -> Result<(), Error> {
    if size > store.tree_size() {
        return Err(Error::TreeSizeOutOfRange {
            requested: size,
            available: store.tree_size(),
        });
    }
    Ok(())
}

/// MTH of leaves `start .. start + len`, where `start` is a multiple of the largest power of two ≤ `len`
/// (true for every range the RFC's recursions produce).
pub fn subtree_root<S: SubtreeHashes + ?Sized>(store: &S, start: u64, len: u64) -> Result<Hash, S::Error> {
    if len == 0 {
        return Ok(EMPTY_ROOT);
    }
    let out_of_range = || Error::TreeSizeOutOfRange {
        requested: start.saturating_add(len),
        available: store.tree_size(),
    };
    let mut end = start.checked_add(len).ok_or_else(out_of_range)?;
    if end > store.tree_size() {
        return Err(out_of_range().into());
    }
    // The binary decomposition of `len` gives the perfect subtrees, largest (leftmost) first; the MTH folds
    // them right to left. Walk from the smallest piece (lowest set bit) back to the start, no allocation.
    let mut rest = len;
    let mut root: Option<Hash> = None;
    while rest > 0 {
        let height = rest.trailing_zeros();
        let piece = 1u64 << height;
        end -= piece;
        if end % piece != 0 {
            return Err(out_of_range().into());
        }
        let hash = store.perfect_subtree_hash(height, end >> height)?;
        root = Some(match root {
            None => hash,
            Some(right) => hash_children(&hash, &right),
        });
        rest -= piece;
    }
    Ok(root.unwrap_or(EMPTY_ROOT))
}

/// The inclusion proof (audit path, RFC 6962 §2.1.1) of leaf `index` in the store's first `size` leaves.
pub fn inclusion_proof_from<S: SubtreeHashes + ?Sized>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    check_size(store, size)?;
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size }.into());
    }
    // PATH(m, D[start..start+n]): descend from the root, collecting the other side at each split.
    let mut path = Vec::with_capacity(64);
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            path.push(subtree_root(store, start + k, n - k)?);
            n = k;
        } else {
            path.push(subtree_root(store, start, k)?);
            start += k;
            m -= k;
            n -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof (RFC 6962 §2.1.2) between the store's first `size1` and first `size2` leaves.
pub fn consistency_proof_from<S: SubtreeHashes + ?Sized>(
    store: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, S::Error> {
    if size1 > size2 {
        return Err(Error::ConsistencySizes { size1, size2 }.into());
    }
    check_size(store, size2)?;
    if size1 == 0 || size1 == size2 {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start..start+n], b).
    let mut proof = Vec::with_capacity(64);
    let (mut start, mut n, mut m, mut whole_old_tree) = (0u64, size2, size1, true);
    while m != n {
        let k = split_point(n);
        if m <= k {
            proof.push(subtree_root(store, start + k, n - k)?);
            n = k;
        } else {
            proof.push(subtree_root(store, start, k)?);
            start += k;
            m -= k;
            n -= k;
            whole_old_tree = false;
        }
    }
    if !whole_old_tree {
        proof.push(subtree_root(store, start, m)?);
    }
    proof.reverse();
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash_leaf;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| hash_leaf(&i.to_be_bytes())).collect()
    }

    #[test]
    fn split_points() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn small_roots() {
        let l = leaves(3);
        assert_eq!(root_of(&[]), EMPTY_ROOT);
        assert_eq!(root_of(&l[..1]), l[0]);
        assert_eq!(root_of(&l[..2]), hash_children(&l[0], &l[1]));
        assert_eq!(root_of(&l), hash_children(&hash_children(&l[0], &l[1]), &l[2]));
        let t = MerkleTree::from_leaf_hashes(l.clone());
        assert_eq!(t.size(), 3);
        for s in 0..=3 {
            assert_eq!(t.root(s).unwrap(), root_of(&l[..s as usize]));
        }
        assert_eq!(t.current_root(), root_of(&l));
        assert!(t.root(4).is_err());
        assert!(t.inclusion_proof(3, 3).is_err());
        assert!(t.inclusion_proof(0, 4).is_err());
        assert!(t.consistency_proof(2, 1).is_err());
    }

    #[test]
    fn tiles_from_tree() {
        let l = leaves(300);
        let t = MerkleTree::from_leaf_hashes(l.clone());
        assert_eq!(t.tile(0, 0, 256).unwrap(), l[..256].to_vec());
        assert_eq!(t.tile(0, 1, 44).unwrap(), l[256..].to_vec());
        assert!(t.tile(0, 1, 45).is_err());
        assert_eq!(t.tile(1, 0, 1).unwrap(), vec![root_of(&l[..256])]);
        assert!(t.tile(1, 0, 2).is_err());
        assert!(t.tile(0, 0, 0).is_err());
    }

    #[test]
    fn every_tile_of_a_tree_can_be_served() {
        let size = 70_000u64;
        let t = MerkleTree::from_leaf_hashes(leaves(size));
        let tiles: Vec<_> = crate::tiles::tiles_for_size(size).collect();
        assert_eq!(tiles.len(), 277);
        for tile in &tiles {
            let hashes = t.tile(tile.level, tile.index, tile.width).unwrap();
            assert_eq!(hashes.len(), usize::from(tile.width));
            // One more hash than the tree holds at that level is refused.
            if !tile.is_full() {
                assert!(t.tile(tile.level, tile.index, tile.width + 1).is_err());
            }
        }
        // A level-1 hash is the MTH of the level-0 tile below it.
        let level0 = t.tile(0, 5, 256).unwrap();
        assert_eq!(t.tile(1, 0, 256).unwrap()[5], root_of(&level0));
    }
}
