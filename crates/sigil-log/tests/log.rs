#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::*;
use sigil_log::{AppendOutcome, Error, Log};
use sigil_tlog::{
    EMPTY_ROOT, SignedCheckpoint, TILE_WIDTH, hash_leaf, root_of, tiles_for_size, verify_consistency, verify_inclusion,
};

/// Every tile and entry bundle of the current tree, on disk and through the API, equals the independent
/// computation.
fn check_tiles(log: &Log, dir: &std::path::Path, leaves: &[Vec<u8>]) {
    let size = leaves.len() as u64;
    assert_eq!(log.size(), size);
    let levels = reference_levels(leaves);
    assert_eq!(log.root(), root_of(&levels[0]));
    for tile in tiles_for_size(size) {
        let first = tile.index as usize * 256;
        let expect: Vec<u8> = levels[tile.level as usize][first..first + tile.width as usize]
            .iter()
            .flatten()
            .copied()
            .collect();
        let on_disk = std::fs::read(dir.join(tile.path())).unwrap_or_else(|e| panic!("{}: {e}", tile.path()));
        assert_eq!(on_disk, expect, "{}", tile.path());
        assert_eq!(
            log.tile(tile.level, tile.index, tile.width).unwrap(),
            expect,
            "{}",
            tile.path()
        );
        if tile.level == 0 {
            let mut bundle = Vec::new();
            for e in &leaves[first..first + tile.width as usize] {
                bundle.extend_from_slice(&(e.len() as u16).to_be_bytes());
                bundle.extend_from_slice(e);
            }
            assert_eq!(
                std::fs::read(dir.join(tile.entries_path())).unwrap(),
                bundle,
                "{}",
                tile.entries_path()
            );
            assert_eq!(log.entry_bundle(tile.index, tile.width).unwrap(), bundle);
        }
    }
    // Nothing past the tree is served.
    let n0 = size / 256;
    let w0 = (size % 256) as u16;
    assert!(log.tile(0, n0 + 1, 1).is_err());
    if w0 < TILE_WIDTH - 1 {
        assert!(log.tile(0, n0, w0 + 1).is_err());
    }
    let cp = SignedCheckpoint::open(&log.checkpoint(), &log.note_verifier().unwrap(), ORIGIN).unwrap();
    assert_eq!(cp.checkpoint.size, size);
    assert_eq!(cp.checkpoint.root_hash, log.root());
    assert_eq!(
        std::fs::read_to_string(dir.join("checkpoint")).unwrap(),
        *log.checkpoint()
    );
}

#[test]
fn tiles_are_c2sp_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let mut leaves = Vec::new();
    check_tiles(&log, &dir, &leaves);
    assert_eq!(log.root(), EMPTY_ROOT);
    for target in [1u64, 255, 256, 257, 65_539] {
        let more = entries(leaves.len() as u64, target - leaves.len() as u64, "t");
        let out = log.append_many(&more).unwrap();
        for (k, o) in out.iter().enumerate() {
            assert!(matches!(o, AppendOutcome::New(_)));
            assert_eq!(o.index(), (leaves.len() + k) as u64);
        }
        leaves.extend(more);
        check_tiles(&log, &dir, &leaves);
    }
    for i in [0u64, 255, 256, 65_535, 65_538] {
        assert_eq!(log.entry(i).unwrap(), leaves[i as usize]);
        assert_eq!(log.leaf_hash(i).unwrap(), hash_leaf(&leaves[i as usize]));
    }
    assert!(log.entry(65_539).is_err());
    // Superseded partial tiles are gone; partial widths of old checkpoints are served from the full tile.
    assert!(!dir.join("tile/0/000.p").exists());
    assert_eq!(
        log.tile(0, 0, 1).unwrap(),
        leaves[..1].iter().flat_map(|l| hash_leaf(l)).collect::<Vec<u8>>()
    );
    drop(log);
    // Restart: everything is preserved.
    let log = open(&dir);
    check_tiles(&log, &dir, &leaves);
    assert_eq!(log.find(&hash_leaf(&leaves[70])).unwrap(), Some(70));
}

#[test]
fn restart_after_clean_close_preserves_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let first = entries(0, 300, "r");
    log.append_many(&first).unwrap();
    let cp = log.checkpoint();
    let key = log.checkpoint_key().unwrap();
    let v1 = log.v1_log_id().unwrap();
    log.close();
    assert!(matches!(log.append(b"late"), Err(Error::Closed)));
    drop(log);
    let log = open(&dir);
    assert_eq!(log.checkpoint(), cp);
    assert_eq!(log.checkpoint_key().unwrap(), key);
    assert_eq!(log.v1_log_id().unwrap(), v1);
    assert_eq!(log.entry(299).unwrap(), first[299]);
    // Duplicates survive the restart.
    let dup = log.append(&first[17]).unwrap();
    assert_eq!(dup, AppendOutcome::Duplicate(dup.appended().clone()));
    assert_eq!(dup.index(), 17);
    assert_eq!(log.size(), 300);
    let new = log.append(b"after restart").unwrap();
    assert_eq!(new.index(), 300);
    let a = new.appended();
    verify_inclusion(
        300,
        a.tree_size,
        &a.leaf_hash,
        &log.inclusion_proof(300, 301).unwrap(),
        &a.root_hash,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for f in std::fs::read_dir(dir.join("keys")).unwrap() {
            let mode = f.unwrap().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

#[test]
fn duplicates_return_the_original_index() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(open(tmp.path()));
    let a = log.append(b"one").unwrap();
    assert!(!a.is_duplicate());
    let b = log.append(b"one").unwrap();
    assert!(b.is_duplicate());
    assert_eq!(b.index(), a.index());
    assert_eq!(log.size(), 1);
    // 100 concurrent submissions of the same entry: one index, tree grows by one.
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || log.append(b"same").unwrap())
        })
        .collect();
    let outs: Vec<AppendOutcome> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outs.iter().filter(|o| !o.is_duplicate()).count(), 1);
    assert!(outs.iter().all(|o| o.index() == 1));
    assert_eq!(log.size(), 2);
    // Within one batch, too.
    let outs = log
        .append_many(&[b"x".to_vec(), b"x".to_vec(), b"one".to_vec()])
        .unwrap();
    assert_eq!(outs.iter().map(AppendOutcome::index).collect::<Vec<_>>(), vec![2, 2, 0]);
    assert_eq!(
        outs.iter().map(AppendOutcome::is_duplicate).collect::<Vec<_>>(),
        vec![false, true, true]
    );
    assert!(matches!(log.append(b""), Err(Error::EntrySize { len: 0 })));
    assert!(matches!(log.append(&vec![0; 65_536]), Err(Error::EntrySize { .. })));
    assert!(log.append(&vec![1; 65_535]).is_ok());
}

/// `threads` threads append `per_thread` new entries each; every acknowledged checkpoint must already prove its
/// entry. Returns (index, entry) pairs sorted by index.
fn append_concurrently(log: &Arc<Log>, threads: usize, per_thread: usize) -> Vec<(u64, Vec<u8>)> {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = Arc::clone(log);
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|i| {
                        let data = format!("thread {t} entry {i}").into_bytes();
                        let out = log.append(&data).unwrap();
                        assert!(!out.is_duplicate());
                        let a = out.appended();
                        let proof = log.inclusion_proof(a.index, a.tree_size).unwrap();
                        verify_inclusion(a.index, a.tree_size, &a.leaf_hash, &proof, &a.root_hash).unwrap();
                        (a.index, data)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<(u64, Vec<u8>)> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort();
    all
}

#[test]
fn concurrent_appends_from_64_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(open(tmp.path()));
    let all = append_concurrently(&log, 64, 8);
    assert_eq!(
        all.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..512).collect::<Vec<_>>()
    );
    let size = log.size();
    let root = log.root();
    assert_eq!(size, 512);
    for (i, data) in &all {
        assert_eq!(&log.entry(*i).unwrap(), data);
        verify_inclusion(
            *i,
            size,
            &hash_leaf(data),
            &log.inclusion_proof(*i, size).unwrap(),
            &root,
        )
        .unwrap();
    }
    let leaves: Vec<Vec<u8>> = all.into_iter().map(|(_, d)| d).collect();
    assert_eq!(root, root_of(&leaves.iter().map(|l| hash_leaf(l)).collect::<Vec<_>>()));
}

/// The CT log's options: batches may linger for concurrent entries, and no integration times are recorded.
/// Everything else (durability, tiles, proofs, de-duplication, recovery) is unchanged.
#[test]
fn lingering_batches_without_integration_times() {
    let tmp = tempfile::tempdir().unwrap();
    let options = || {
        sigil_log::LogOptions::new(ORIGIN)
            .with_batch_linger(sigil_log::MAX_BATCH_LINGER, 16)
            .with_record_times(false)
    };
    let too_long = sigil_log::LogOptions::new(ORIGIN).with_batch_linger(sigil_log::MAX_BATCH_LINGER * 2, 16);
    assert!(matches!(Log::open(tmp.path(), too_long), Err(Error::InvalidRequest(_))));
    let log = Arc::new(Log::open(tmp.path(), options()).unwrap());
    let first = log.append(b"alone").unwrap();
    assert_eq!(first.index(), 0);
    let all = append_concurrently(&log, 32, 4);
    assert_eq!(
        all.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (1..129).collect::<Vec<_>>()
    );
    let leaves: Vec<Vec<u8>> = std::iter::once(b"alone".to_vec())
        .chain(all.into_iter().map(|(_, d)| d))
        .collect();
    check_tiles(&log, tmp.path(), &leaves);
    assert!(matches!(log.integrated_time(0), Err(Error::InvalidRequest(_))));
    let dup = log.append(b"alone").unwrap();
    assert!(dup.is_duplicate());
    assert_eq!((dup.index(), dup.appended().integrated_time), (0, 0));
    assert!(!tmp.path().join("integrated-times").exists());
    drop(log);

    let log = Log::open(tmp.path(), options()).unwrap();
    check_tiles(&log, tmp.path(), &leaves);
    assert_eq!(log.append(b"after restart").unwrap().index(), 129);
}

#[test]
fn checkpoints_and_v1_signatures_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let log = open(tmp.path());
    log.append(b"entry").unwrap();
    let text = log.checkpoint();
    assert!(text.starts_with(&format!("{ORIGIN}\n1\n")));
    let verifier = log.note_verifier().unwrap();
    SignedCheckpoint::open(&text, &verifier, ORIGIN).unwrap();
    assert_eq!(verifier.key_hint(), log.checkpoint_key_id()[..4]);
    let v1 = log.v1_checkpoint("log.example.test", 42, &log.head(), Some(7)).unwrap();
    let v1_verifier = sigil_tlog::NoteVerifier::ecdsa("log.example.test", log.v1_key().unwrap()).unwrap();
    let parsed = SignedCheckpoint::open(&v1, &v1_verifier, "log.example.test - 42").unwrap();
    assert_eq!(parsed.checkpoint.extensions, vec!["Timestamp: 7".to_string()]);
    assert_eq!(parsed.checkpoint.root_hash, log.root());
    let set = log.sign_set(b"entry", 1_700_000_000, 0).unwrap();
    let msg = format!(
        "{{\"body\":\"ZW50cnk=\",\"integratedTime\":1700000000,\"logID\":\"{}\",\"logIndex\":0}}",
        hex_lower(&log.v1_log_id().unwrap())
    );
    log.v1_key()
        .unwrap()
        .verify(sigil_crypto::SignatureScheme::EcdsaSha256, msg.as_bytes(), &set)
        .unwrap();
    assert!(
        log.v1_key()
            .unwrap()
            .verify(sigil_crypto::SignatureScheme::EcdsaSha256, b"other", &set)
            .is_err()
    );
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn consistency_proofs_across_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let log = open(tmp.path());
    let mut roots = vec![EMPTY_ROOT];
    for chunk in [1u64, 3, 250, 2, 300, 1] {
        let from = roots.len() as u64 - 1;
        log.append_many(&entries(from, chunk, "c")).unwrap();
        for _ in 0..chunk {
            roots.push([0; 32]);
        }
        *roots.last_mut().unwrap() = log.root();
    }
    let size = log.size();
    for m in 0..=size {
        let rm = log.root_at(m).unwrap();
        for n in [m, m + 1, size / 2, size] {
            if n < m || n > size {
                continue;
            }
            let rn = log.root_at(n).unwrap();
            verify_consistency(m, n, &log.consistency_proof(m, n).unwrap(), &rm, &rn).unwrap();
        }
    }
    assert!(log.consistency_proof(5, 4).is_err());
    assert!(log.consistency_proof(1, size + 1).is_err());
    assert!(log.inclusion_proof(size, size).is_err());
}

#[test]
fn a_data_directory_is_opened_by_one_log_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let log = open(tmp.path());
    let err = Log::open(tmp.path(), sigil_log::LogOptions::new(ORIGIN)).unwrap_err();
    assert!(matches!(err, Error::Locked(_)), "{err}");
    drop(log);
    open(tmp.path());
}

/// L-11 (split view): a log that shows client A (n, r1) and client B (n, r2) under the same key cannot give A a
/// consistency proof from (n, r1) to B's later tree. Holding on to (n, r1) is what detects it.
#[test]
fn l11_a_split_view_fails_the_consistency_check() {
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    drop(open(&a_dir));
    copy_dir(&a_dir.join("keys"), &b_dir.join("keys"));
    let (a, b) = (open(&a_dir), open(&b_dir));
    assert_eq!(a.checkpoint_key_id(), b.checkpoint_key_id(), "same signing key");
    a.append_many(&entries(0, 10, "view-a")).unwrap();
    b.append_many(&entries(0, 10, "view-b")).unwrap();
    let verifier = a.note_verifier().unwrap();
    let cp_a = SignedCheckpoint::open(&a.checkpoint(), &verifier, ORIGIN)
        .unwrap()
        .checkpoint;
    let cp_b = SignedCheckpoint::open(&b.checkpoint(), &verifier, ORIGIN)
        .unwrap()
        .checkpoint;
    assert_eq!(cp_a.size, cp_b.size);
    assert_ne!(cp_a.root_hash, cp_b.root_hash, "both validly signed, different trees");
    b.append_many(&entries(10, 7, "view-b")).unwrap();
    let proof = b.consistency_proof(10, 17).unwrap();
    assert!(sigil_tlog::verify_consistency(10, 17, &proof, &cp_a.root_hash, &b.root()).is_err());
    sigil_tlog::verify_consistency(10, 17, &proof, &cp_b.root_hash, &b.root()).unwrap();
}
