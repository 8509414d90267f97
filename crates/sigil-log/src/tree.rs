//! The Merkle tree as C2SP tiles: the in-memory right edge, roots, and proofs computed from tiles.
//!
//! Only the right edge (the partial tile of each level, at most 255 hashes per level) is kept in memory. Every
//! other hash a proof needs lies in a full tile on disk: a perfect subtree of height `8·l + r` (r < 8) is the root
//! of `2^r` consecutive level-`l` hashes, which are always inside a single tile.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use sigil_tlog::{
    EMPTY_ROOT, Hash, SubtreeHashes, TILE_WIDTH, consistency_proof_from, hash_children, inclusion_proof_from, root_of,
    subtree_root,
};

use crate::{Error, fsio};

const WIDTH: u64 = TILE_WIDTH as u64;

/// The partial tiles of a tree of `size` leaves: `levels[l]` holds `(size >> 8l) % 256` hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Edge {
    pub(crate) size: u64,
    pub(crate) levels: Vec<Vec<Hash>>,
}

/// A tile that became full while pushing.
#[derive(Debug)]
pub(crate) struct FullTile {
    pub(crate) level: u8,
    pub(crate) index: u64,
    pub(crate) hashes: Vec<Hash>,
}

/// Number of level-`level` hashes in a tree of `size` leaves.
pub(crate) fn hashes_at(size: u64, level: u8) -> u64 {
    size.checked_shr(8 * u32::from(level)).unwrap_or(0)
}

impl Edge {
    /// Appends one leaf hash, reporting every tile it completes.
    pub(crate) fn push(&mut self, leaf: Hash, full: &mut Vec<FullTile>) {
        self.size += 1;
        let mut carry = leaf;
        let mut level: u8 = 0;
        loop {
            let idx = usize::from(level);
            if self.levels.len() <= idx {
                self.levels.resize_with(idx + 1, Vec::new);
            }
            let Some(tile) = self.levels.get_mut(idx) else { return };
            tile.push(carry);
            if tile.len() < usize::from(TILE_WIDTH) {
                return;
            }
            let hashes = std::mem::take(tile);
            carry = root_of(&hashes);
            full.push(FullTile {
                level,
                index: (hashes_at(self.size, level) - 1) / WIDTH,
                hashes,
            });
            level += 1;
        }
    }

    /// The partial tile at `level` (empty if none).
    pub(crate) fn partial(&self, level: u8) -> &[Hash] {
        self.levels.get(usize::from(level)).map_or(&[], Vec::as_slice)
    }

    /// The RFC 6962 root of the whole tree, from the right edge alone.
    pub(crate) fn root(&self) -> Hash {
        let mut pieces: Vec<Hash> = Vec::new();
        for tile in self.levels.iter().rev() {
            let mut offset = 0usize;
            for bit in (0..8).rev() {
                let span = 1usize << bit;
                if tile.len() & span != 0 {
                    if let Some(slice) = tile.get(offset..offset + span) {
                        pieces.push(root_of(slice));
                    }
                    offset += span;
                }
            }
        }
        let mut iter = pieces.iter().rev();
        let Some(mut root) = iter.next().copied() else {
            return EMPTY_ROOT;
        };
        for left in iter {
            root = hash_children(left, &root);
        }
        root
    }
}

/// Tile bytes: the concatenated hashes.
pub(crate) fn tile_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.iter().copied()).collect()
}

/// Splits tile bytes into hashes; `None` unless the length is a multiple of 32.
pub(crate) fn parse_tile(bytes: &[u8]) -> Option<Vec<Hash>> {
    if bytes.len() % 32 != 0 {
        return None;
    }
    bytes.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).ok()).collect()
}

/// An entry bundle: each entry prefixed with its big-endian uint16 length.
pub(crate) fn bundle_bytes(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for e in entries {
        let len = u16::try_from(e.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// The entries of a bundle as slices of it (no copies); `None` if it is truncated.
pub(crate) fn bundle_slices(mut bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, rest) = rest.split_at_checked(len)?;
        out.push(entry);
        bytes = rest;
    }
    Some(out)
}

/// The first `n` entries of a bundle (or journal) and the length of their encoding; `None` if it holds fewer.
/// Whatever follows them (entries of a later width, a torn record) is ignored.
pub(crate) fn bundle_prefix(mut bytes: &[u8], n: usize) -> Option<(Vec<&[u8]>, usize)> {
    let total = bytes.len();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (len, rest) = bytes.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, rest) = rest.split_at_checked(len)?;
        out.push(entry);
        bytes = rest;
    }
    Some((out, total - bytes.len()))
}

/// Reads hashes of a tree (of `edge.size` leaves) from full tiles under `root` plus the in-memory edge.
#[derive(Debug)]
pub(crate) struct TileTree<'a> {
    pub(crate) root: &'a Path,
    pub(crate) edge: &'a Edge,
    pub(crate) cache: &'a TileCache,
}

/// Every node inside a full tile: `nodes[r]` holds its `256 >> r` subtree roots of height `r` (r = 0..=8), so a
/// proof step that falls in this tile is a lookup instead of up to 255 hashes.
#[derive(Debug)]
pub(crate) struct TileNodes {
    nodes: Vec<Vec<Hash>>,
}

impl TileNodes {
    fn build(hashes: Vec<Hash>) -> Self {
        let mut nodes = vec![hashes];
        while let Some(below) = nodes.last().filter(|l| l.len() > 1) {
            let above = below.chunks_exact(2).map(|p| match p {
                [l, r] => hash_children(l, r),
                _ => EMPTY_ROOT, // unreachable: chunks_exact(2)
            });
            let above: Vec<Hash> = above.collect();
            nodes.push(above);
        }
        Self { nodes }
    }

    fn level0(&self) -> &[Hash] {
        self.nodes.first().map_or(&[], Vec::as_slice)
    }
}

/// Full tiles never change, so the ones proofs touch are kept, expanded, in memory: at most [`CACHE_TILES`]
/// (16 KiB each, 16 MiB in all; an arbitrary entry is evicted when full), so memory stays flat.
#[derive(Debug, Default)]
pub(crate) struct TileCache {
    map: Mutex<HashMap<(u8, u64), Arc<TileNodes>>>,
}

const CACHE_TILES: usize = 1024;

impl TileCache {
    fn get(&self, root: &Path, level: u8, index: u64) -> Result<Arc<TileNodes>, Error> {
        if let Some(t) = self.map.lock().ok().and_then(|m| m.get(&(level, index)).cloned()) {
            return Ok(t);
        }
        let nodes = Arc::new(TileNodes::build(read_full_tile(root, level, index)?));
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= CACHE_TILES {
                if let Some(k) = map.keys().next().copied() {
                    map.remove(&k);
                }
            }
            map.insert((level, index), Arc::clone(&nodes));
        }
        Ok(nodes)
    }
}

/// Reads a full hash tile from disk.
pub(crate) fn read_full_tile(root: &Path, level: u8, index: u64) -> Result<Vec<Hash>, Error> {
    let rel = sigil_tlog::tile_path(level, index, TILE_WIDTH)?;
    let path = root.join(&rel);
    let bytes = fsio::read_optional(&path)?.ok_or_else(|| Error::Corrupt(format!("tile {rel} is missing")))?;
    parse_tile(&bytes)
        .filter(|h| h.len() == usize::from(TILE_WIDTH))
        .ok_or_else(|| Error::Corrupt(format!("tile {rel} has {} bytes, not 8192", bytes.len())))
}

impl TileTree<'_> {
    fn size(&self) -> u64 {
        self.edge.size
    }

    /// `count` consecutive level-`level` hashes starting at `first`, all inside one tile.
    fn hashes(&self, level: u8, first: u64, count: u64) -> Result<Vec<Hash>, Error> {
        let n = hashes_at(self.size(), level);
        let tile = first / WIDTH;
        let off = usize::try_from(first % WIDTH).map_err(|_| Error::InvalidRequest("offset"))?;
        let count = usize::try_from(count).map_err(|_| Error::InvalidRequest("count"))?;
        let missing = || Error::OutOfRange {
            what: "subtree",
            requested: first.saturating_add(count as u64),
            size: n,
        };
        if tile < n / WIDTH {
            let nodes = self.cache.get(self.root, level, tile)?;
            nodes
                .level0()
                .get(off..off + count)
                .map(<[Hash]>::to_vec)
                .ok_or_else(missing)
        } else if tile == n / WIDTH {
            self.edge
                .partial(level)
                .get(off..off + count)
                .map(<[Hash]>::to_vec)
                .ok_or_else(missing)
        } else {
            Err(missing())
        }
    }

    /// The root of the perfect subtree of height `height` that is the `index`-th at that height.
    pub(crate) fn perfect(&self, height: u32, index: u64) -> Result<Hash, Error> {
        let level = u8::try_from(height / 8).map_err(|_| Error::InvalidRequest("height"))?;
        let r = height % 8;
        let first = index.checked_shl(r).ok_or(Error::InvalidRequest("index"))?;
        let tile = first / WIDTH;
        if tile < hashes_at(self.size(), level) / WIDTH {
            let nodes = self.cache.get(self.root, level, tile)?;
            let at = usize::try_from((first % WIDTH) >> r).map_err(|_| Error::InvalidRequest("index"))?;
            return nodes
                .nodes
                .get(r as usize)
                .and_then(|l| l.get(at))
                .copied()
                .ok_or(Error::InvalidRequest("index"));
        }
        Ok(root_of(&self.hashes(level, first, 1u64 << r)?))
    }

    /// MTH of leaves `start .. start + len` (`start` a multiple of the largest power of two ≤ `len`).
    pub(crate) fn subtree(&self, start: u64, len: u64) -> Result<Hash, Error> {
        let end = start.checked_add(len).ok_or(Error::InvalidRequest("range overflows"))?;
        if end > self.size() {
            return Err(Error::OutOfRange {
                what: "tree size",
                requested: end,
                size: self.size(),
            });
        }
        subtree_root(self, start, len)
    }

    /// RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub(crate) fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        if size > self.size() {
            return Err(Error::OutOfRange {
                what: "tree size",
                requested: size,
                size: self.size(),
            });
        }
        if index >= size {
            return Err(Error::OutOfRange {
                what: "leaf index",
                requested: index,
                size,
            });
        }
        inclusion_proof_from(self, index, size)
    }

    /// RFC 9162 §2.1.4.1 consistency proof from size `m` to size `n` (empty if `m == 0` or `m == n`).
    pub(crate) fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<Hash>, Error> {
        if m > n {
            return Err(Error::InvalidRequest("first size is larger than second size"));
        }
        if n > self.size() {
            return Err(Error::OutOfRange {
                what: "tree size",
                requested: n,
                size: self.size(),
            });
        }
        consistency_proof_from(self, m, n)
    }
}

/// Proofs and roots come from sigil-tlog's RFC 6962 builders, fed from tiles and the right edge.
impl SubtreeHashes for TileTree<'_> {
    type Error = Error;

    fn tree_size(&self) -> u64 {
        self.size()
    }

    fn perfect_subtree_hash(&self, height: u32, index: u64) -> Result<Hash, Error> {
        self.perfect(height, index)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use sigil_tlog::hash_leaf;

    #[test]
    fn edge_root_matches_reference() {
        let mut edge = Edge::default();
        let mut leaves = Vec::new();
        let mut full = Vec::new();
        for i in 0u32..70_000 {
            let h = hash_leaf(&i.to_be_bytes());
            leaves.push(h);
            edge.push(h, &mut full);
            if i < 600 || i % 4099 == 0 || i == 65_535 || i == 65_536 {
                assert_eq!(edge.root(), root_of(&leaves), "size {}", i + 1);
            }
        }
        assert_eq!(edge.root(), root_of(&leaves));
        assert_eq!(full.len(), 273 + 1);
        assert_eq!(edge.partial(0).len(), 70_000 % 256);
    }

    #[test]
    fn bundle_roundtrip() {
        let entries = vec![b"a".to_vec(), vec![7u8; 300], vec![1]];
        let b = bundle_bytes(&entries);
        assert_eq!(&b[..3], &[0, 1, b'a']);
        assert_eq!(bundle_slices(&b).unwrap(), entries);
        assert!(bundle_slices(&b[..b.len() - 1]).is_none());
        assert!(bundle_slices(&[]).unwrap().is_empty());
        assert_eq!(
            bundle_prefix(&b, 1).unwrap(),
            (vec![&entries[0][..]], 2 + entries[0].len())
        );
        assert_eq!(bundle_prefix(&b[..b.len() - 1], 1).unwrap().0, vec![&entries[0][..]]);
        assert!(bundle_prefix(&b[..b.len() - 1], entries.len()).is_none());
    }
}
