//! RFC 6962 / RFC 9162 §2.1.1 Merkle tree hashing.
//!
//! Leaves and interior nodes are hashed with different one-byte prefixes (`0x00`, `0x01`), so an interior node
//! can never be passed off as a leaf whose data is the concatenation of two hashes (a second-preimage attack on
//! unprefixed Merkle trees).

use sigil_crypto::{HashAlgorithm, Hasher};

/// A SHA-256 Merkle tree hash.
pub type Hash = [u8; 32];

/// Domain-separation prefix of leaf hashes.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of interior-node hashes.
pub const NODE_PREFIX: u8 = 0x01;

/// The root hash of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41,
    0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// `SHA-256(0x00 ‖ data)`: the hash of a log entry.
pub fn hash_leaf(data: &[u8]) -> Hash {
    let mut h = Hasher::new(HashAlgorithm::Sha2_256);
    h.update(&[LEAF_PREFIX]);
    h.update(data);
    to_hash(&h.finish())
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn hash_children(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    for (dst, src) in buf.iter_mut().skip(1).zip(left.iter().chain(right.iter())) {
        *dst = *src;
    }
    sigil_crypto::sha256(&buf)
}

/// Copies a digest into a fixed-size hash without any panicking path.
fn to_hash(digest: &[u8]) -> Hash {
    let mut out = [0u8; 32];
    for (dst, src) in out.iter_mut().zip(digest) {
        *dst = *src;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, sigil_crypto::sha256(b""));
    }

    #[test]
    fn prefixes_are_applied() {
        assert_eq!(hash_leaf(b"abc"), sigil_crypto::sha256(b"\x00abc"));
        let (l, r) = ([1u8; 32], [2u8; 32]);
        let mut buf = vec![1u8];
        buf.extend_from_slice(&l);
        buf.extend_from_slice(&r);
        assert_eq!(hash_children(&l, &r), sigil_crypto::sha256(&buf));
        assert_ne!(hash_children(&l, &r), hash_children(&r, &l));
    }

    #[test]
    fn rfc6962_empty_leaf_vector() {
        // SHA-256 of the single byte 0x00 (the leaf hash of empty data).
        assert_eq!(
            hash_leaf(b""),
            [
                0x6e, 0x34, 0x0b, 0x9c, 0xff, 0xb3, 0x7a, 0x98, 0x9c, 0xa5, 0x44, 0xe6, 0xbb, 0x78, 0x0a, 0x2c, 0x78,
                0x90, 0x1d, 0x3f, 0xb3, 0x37, 0x38, 0x76, 0x85, 0x11, 0xa3, 0x06, 0x17, 0xaf, 0xa0, 0x1d
            ]
        );
    }
}
