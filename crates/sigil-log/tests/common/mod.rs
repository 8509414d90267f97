#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod http;

use std::path::Path;

use sigil_log::{Log, LogOptions};
use sigil_tlog::{Hash, hash_leaf, root_of};

pub const ORIGIN: &str = "log.example.test";

pub fn open(dir: &Path) -> Log {
    Log::open(dir, LogOptions::new(ORIGIN)).unwrap()
}

pub fn entries(from: u64, n: u64, tag: &str) -> Vec<Vec<u8>> {
    (from..from + n)
        .map(|i| format!("{tag}-entry-{i}").into_bytes())
        .collect()
}

/// Tile levels computed independently: `levels[l]` are all level-l hashes of the tree.
pub fn reference_levels(leaves: &[Vec<u8>]) -> Vec<Vec<Hash>> {
    let mut levels = vec![leaves.iter().map(|l| hash_leaf(l)).collect::<Vec<Hash>>()];
    loop {
        let below = levels.last().unwrap();
        let above: Vec<Hash> = below.chunks_exact(256).map(root_of).collect();
        if above.is_empty() {
            break;
        }
        levels.push(above);
    }
    levels
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
