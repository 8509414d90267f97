//! Transparency-log math for sigil: everything a Sigstore client needs to check that an entry is in a log, and
//! everything a log needs to prove it, with no I/O and no clock.
//!
//! - [`hash_leaf`] / [`hash_children`]: RFC 6962 hashing with the `0x00`/`0x01` domain-separation prefixes.
//! - [`verify_inclusion`], [`verify_consistency`]: RFC 9162 proof verification. Proof lengths are checked
//!   *exactly* against the tree shape before any hashing (surplus or missing hashes are the classic forgeries),
//!   and all arithmetic is safe up to `u64::MAX`-sized trees.
//! - [`MerkleTree`], [`root_of`]: building roots and proofs for any prefix of an append-only list of leaves
//!   (for the log server, and as the reference the verifiers are tested against).
//! - [`Note`], [`NoteVerifier`], [`CosignatureVerifier`]: C2SP signed notes and witness cosignatures. Signature
//!   lines are matched by exact key name *and* key hint; unknown lines are ignored, as the spec requires.
//! - [`Checkpoint`], [`SignedCheckpoint`]: C2SP checkpoints (Rekor v1's `host - treeID` origin included).
//! - [`tile_path`], [`parse_tile_path`], [`tiles_for_size`]: c2sp.org/tlog-tiles resource names.
//!
//! Parsers are strict and bounded ([`MAX_NOTE_SIZE`], [`MAX_SIGNATURES`]) because their input comes from the
//! network or from bundles an attacker may have written; see `SECURITY.md` rows L-09 and L-10.
//! The code is written from RFC 6962, RFC 9162 and the C2SP specifications.

mod checkpoint;
mod cosignature;
mod error;
mod hash;
mod note;
mod proof;
mod tiles;
mod tree;

pub use checkpoint::{Checkpoint, SignedCheckpoint, split_rekor_v1_origin};
pub use cosignature::{CosignatureVerifier, cosignature_message};
pub use error::Error;
pub use hash::{EMPTY_ROOT, Hash, LEAF_PREFIX, NODE_PREFIX, hash_children, hash_leaf};
pub use note::{
    MAX_NOTE_SIZE, MAX_SIGNATURES, Note, NoteSignature, NoteVerifier, SIG_TYPE_COSIGNATURE_ED25519, SIG_TYPE_ECDSA,
    SIG_TYPE_ED25519, VerifierKey, check_key_name, ed25519_spki, key_id, parse_verifier_key,
};
pub use proof::{
    consistency_proof_len, inclusion_proof_len, root_from_inclusion_proof, verify_consistency, verify_inclusion,
};
pub use tiles::{
    MAX_TILE_LEVEL, TILE_WIDTH, TileId, TilePath, TilesForSize, entries_path, parse_tile_path, tile_path,
    tiles_for_size,
};
pub use tree::{MerkleTree, SubtreeHashes, consistency_proof_from, inclusion_proof_from, root_of, subtree_root};
