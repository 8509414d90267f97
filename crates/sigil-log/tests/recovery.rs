#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::fs;

use common::*;
use sigil_log::{Error, Log, LogOptions};
use sigil_tlog::{hash_leaf, root_of, verify_consistency, verify_inclusion};

fn check_all(log: &Log, leaves: &[Vec<u8>]) {
    let size = log.size();
    assert_eq!(size, leaves.len() as u64);
    let hashes: Vec<_> = leaves.iter().map(|l| hash_leaf(l)).collect();
    assert_eq!(log.root(), root_of(&hashes));
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(&log.entry(i as u64).unwrap(), leaf);
        let proof = log.inclusion_proof(i as u64, size).unwrap();
        verify_inclusion(i as u64, size, &hashes[i], &proof, &log.root()).unwrap();
    }
}

#[test]
fn recovers_from_a_crashed_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let leaves = entries(0, 300, "a");
    log.append_many(&leaves).unwrap();
    let acked_cp = log.checkpoint();
    drop(log);
    // What a batch killed before its checkpoint leaves behind: temp files, half-written and whole tiles past the
    // committed size (300 = one full level-0 tile + 44).
    fs::write(dir.join("tmp/999.7.tmp"), b"half").unwrap();
    fs::create_dir_all(dir.join("tile/0/001.p")).unwrap();
    fs::write(dir.join("tile/0/001.p/60"), vec![0xAA; 60 * 32 - 5]).unwrap();
    fs::write(dir.join("tile/0/001"), vec![0xBB; 8192]).unwrap();
    fs::create_dir_all(dir.join("tile/0/002.p")).unwrap();
    fs::write(dir.join("tile/0/002.p/3"), vec![0xCC; 96]).unwrap();
    fs::create_dir_all(dir.join("tile/entries/001.p")).unwrap();
    fs::write(dir.join("tile/entries/001.p/60"), b"\x00\x05ab").unwrap();
    fs::create_dir_all(dir.join("tile/1/000.p")).unwrap();
    fs::write(dir.join("tile/1/000.p/2"), vec![0xDD; 64]).unwrap();

    let log = open(&dir);
    assert_eq!(log.checkpoint(), acked_cp);
    check_all(&log, &leaves);
    assert!(!dir.join("tile/0/001.p/60").exists());
    assert!(!dir.join("tile/0/001").exists());
    assert!(!dir.join("tile/0/002.p/3").exists());
    assert!(!dir.join("tile/entries/001.p/60").exists());
    assert!(!dir.join("tile/1/000.p/2").exists());
    assert!(dir.join("tile/0/001.p/44").exists());
    assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
    // Appending continues from the durable state and the new checkpoint is consistent with the old one.
    let more = entries(300, 300, "b");
    log.append_many(&more).unwrap();
    let all: Vec<Vec<u8>> = leaves.iter().chain(&more).cloned().collect();
    check_all(&log, &all);
    let old_root = root_of(&leaves.iter().map(|l| hash_leaf(l)).collect::<Vec<_>>());
    verify_consistency(
        300,
        600,
        &log.consistency_proof(300, 600).unwrap(),
        &old_root,
        &log.root(),
    )
    .unwrap();
    assert_eq!(fs::read(dir.join("tile/0/001")).unwrap().len(), 8192);
}

#[test]
fn adopts_a_signed_batch_whose_checkpoint_write_was_lost() {
    // Crash after the high-water mark was persisted but before `checkpoint` was replaced.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let leaves = entries(0, 10, "a");
    log.append_many(&leaves[..5]).unwrap();
    let slots = dir.join("checkpoint.slots");
    let old_cp = fs::read(&slots).unwrap();
    log.append_many(&leaves[5..]).unwrap();
    drop(log);
    assert_ne!(fs::read(&slots).unwrap(), old_cp);
    fs::write(&slots, old_cp).unwrap();
    fs::remove_file(dir.join("checkpoint")).unwrap();
    let log = open(&dir);
    check_all(&log, &leaves);
}

/// An entry bundle's encoding of `leaves` (what a journal holds).
fn bundle(leaves: &[Vec<u8>]) -> Vec<u8> {
    leaves
        .iter()
        .flat_map(|l| (l.len() as u16).to_be_bytes().into_iter().chain(l.iter().copied()))
        .collect()
}

#[test]
fn refuses_a_corrupt_or_short_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let leaves = entries(0, 20, "a");
    log.append_many(&leaves).unwrap();
    drop(log);
    let journal = dir.join("journal/0");
    let good = fs::read(&journal).unwrap();
    assert_eq!(good, bundle(&leaves));
    let refused = |what: &str| match Log::open(&dir, LogOptions::new(ORIGIN)) {
        Err(Error::Corrupt(_)) => {}
        other => panic!("{what}: {other:?}"),
    };
    let mut flipped = good.clone();
    flipped[100] ^= 1;
    fs::write(&journal, &flipped).unwrap();
    refused("an entry changed");
    fs::write(&journal, &good[..good.len() - 1]).unwrap();
    refused("the last committed entry cut short");
    fs::remove_file(&journal).unwrap();
    fs::remove_file(dir.join("tile/entries/000.p/20")).unwrap();
    refused("the journal gone");
    // Nothing above was "repaired" away: with the journal back, the log opens whole.
    fs::write(&journal, &good).unwrap();
    check_all(&open(&dir), &leaves);
}

#[test]
fn a_journal_is_cut_to_the_committed_entries_at_open() {
    // A batch killed after its journal write but before its checkpoint: an unacknowledged entry and a torn one.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let leaves = entries(0, 20, "a");
    log.append_many(&leaves).unwrap();
    let acked_cp = log.checkpoint();
    drop(log);
    let journal = dir.join("journal/0");
    let mut bytes = fs::read(&journal).unwrap();
    bytes.extend_from_slice(&bundle(&[b"never acknowledged".to_vec()]));
    bytes.extend_from_slice(b"\x00\x30torn");
    fs::write(&journal, &bytes).unwrap();
    // And journals of other bundles: one a filled bundle left behind, one from a batch that was never committed.
    fs::write(dir.join("journal/7"), bundle(&entries(0, 3, "x"))).unwrap();

    let log = open(&dir);
    assert_eq!(log.checkpoint(), acked_cp);
    check_all(&log, &leaves);
    assert_eq!(fs::read(&journal).unwrap(), bundle(&leaves));
    assert!(!dir.join("journal/7").exists());
    let more = entries(20, 5, "b");
    log.append_many(&more).unwrap();
    let all: Vec<Vec<u8>> = leaves.iter().chain(&more).cloned().collect();
    check_all(&log, &all);
    assert_eq!(fs::read(&journal).unwrap(), bundle(&all));
    drop(log);
    check_all(&open(&dir), &all);
}

#[test]
fn a_filled_bundle_moves_from_the_journal_to_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let leaves = entries(0, 600, "a");
    log.append_many(&leaves[..250]).unwrap();
    assert!(dir.join("journal/0").exists());
    // One batch fills bundle 0, fills bundle 1 and starts bundle 2.
    log.append_many(&leaves[250..]).unwrap();
    assert!(!dir.join("journal/0").exists());
    assert!(!dir.join("journal/1").exists());
    assert_eq!(fs::read(dir.join("journal/2")).unwrap(), bundle(&leaves[512..]));
    assert_eq!(
        fs::read(dir.join("tile/entries/001")).unwrap(),
        bundle(&leaves[256..512])
    );
    check_all(&log, &leaves);
    assert_eq!(log.entry_bundle(2, 88).unwrap(), bundle(&leaves[512..]));
    assert_eq!(log.entry_bundle(2, 10).unwrap(), bundle(&leaves[512..522]));
    assert_eq!(log.entry_bundle(1, 10).unwrap(), bundle(&leaves[256..266]));
    drop(log);
    check_all(&open(&dir), &leaves);
}

#[test]
fn opens_a_log_written_before_journals() {
    // The old layout made the partial entry bundle durable as `tile/entries/<N>.p/<W>`: it is adopted.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let leaves = entries(0, 300, "a");
    log.append_many(&leaves).unwrap();
    drop(log);
    fs::remove_file(dir.join("journal/1")).unwrap();
    assert!(dir.join("tile/entries/001.p/44").exists());
    let log = open(&dir);
    check_all(&log, &leaves);
    assert_eq!(fs::read(dir.join("journal/1")).unwrap(), bundle(&leaves[256..]));
}

#[test]
fn without_partial_tile_files_only_the_journal_holds_the_partial_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let options = || LogOptions::new(ORIGIN).with_partial_tile_files(false);
    let log = Log::open(&dir, options()).unwrap();
    let leaves = entries(0, 270, "a");
    log.append_many(&leaves).unwrap();
    assert!(!dir.join("tile/0/001.p").exists());
    assert!(!dir.join("tile/entries/001.p").exists());
    assert!(dir.join("tile/0/000").exists());
    let hashes: Vec<_> = leaves.iter().map(|l| hash_leaf(l)).collect();
    assert_eq!(log.tile(0, 1, 14).unwrap(), hashes[256..].concat());
    assert_eq!(log.entry_bundle(1, 14).unwrap(), bundle(&leaves[256..]));
    check_all(&log, &leaves);
    drop(log);
    let log = Log::open(&dir, options()).unwrap();
    check_all(&log, &leaves);
    assert!(!dir.join("tile/0/001.p").exists());
}

#[test]
fn restoring_an_old_backup_fails_loudly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let hwm = tmp.path().join("elsewhere-hwm");
    let opts = || LogOptions::new(ORIGIN).with_high_water_mark(&hwm);
    let log = Log::open(&dir, opts()).unwrap();
    log.append_many(&entries(0, 100, "a")).unwrap();
    drop(log);
    let backup = tmp.path().join("backup");
    copy_dir(&dir, &backup);
    let hwm_at_100 = fs::read(&hwm).unwrap();
    let log = Log::open(&dir, opts()).unwrap();
    log.append_many(&entries(100, 200, "a")).unwrap();
    drop(log);

    // The old copy is behind what the signer signed.
    fs::remove_dir_all(&dir).unwrap();
    copy_dir(&backup, &dir);
    let err = Log::open(&dir, opts()).unwrap_err();
    assert_eq!(
        err,
        Error::BehindHighWaterMark {
            durable_size: 100,
            signed_size: 300
        }
    );
    assert!(err.to_string().contains("older backup"), "{err}");

    // The old copy grown with different entries past 300 is inconsistent with it.
    let fork_hwm = tmp.path().join("fork-hwm");
    fs::write(&fork_hwm, &hwm_at_100).unwrap();
    let fork = Log::open(&dir, LogOptions::new(ORIGIN).with_high_water_mark(&fork_hwm)).unwrap();
    fork.append_many(&entries(100, 250, "fork")).unwrap();
    drop(fork);
    assert_eq!(
        Log::open(&dir, opts()).unwrap_err(),
        Error::InconsistentWithHighWaterMark { size: 300 }
    );

    // A log with entries but no high-water mark is refused too.
    fs::remove_file(&fork_hwm).unwrap();
    assert!(matches!(
        Log::open(&dir, LogOptions::new(ORIGIN).with_high_water_mark(&fork_hwm)),
        Err(Error::MissingHighWaterMark(_))
    ));
}

#[test]
fn opens_a_log_whose_checkpoint_and_mark_are_plain_files() {
    // Before slot files, `checkpoint` (text) was the committed state and `signer-hwm` held "size\nroot\n".
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    let leaves = entries(0, 30, "a");
    log.append_many(&leaves).unwrap();
    let (size, root) = (log.size(), log.root());
    drop(log);
    fs::remove_file(dir.join("checkpoint.slots")).unwrap();
    let mark = format!("{size}\n{}\n", base64::engine::general_purpose::STANDARD.encode(root));
    fs::write(dir.join("signer-hwm"), &mark).unwrap();
    let log = open(&dir);
    check_all(&log, &leaves);
    // Converted: both are slot files now (two 4 KiB slots), and appending goes on.
    assert_eq!(fs::metadata(dir.join("checkpoint.slots")).unwrap().len(), 8192);
    assert_eq!(fs::metadata(dir.join("signer-hwm")).unwrap().len(), 8192);
    let more = entries(30, 5, "b");
    log.append_many(&more).unwrap();
    drop(log);
    let all: Vec<Vec<u8>> = leaves.iter().chain(&more).cloned().collect();
    check_all(&open(&dir), &all);
}
