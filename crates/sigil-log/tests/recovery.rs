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
    let old_cp = fs::read(dir.join("checkpoint")).unwrap();
    log.append_many(&leaves[5..]).unwrap();
    drop(log);
    fs::write(dir.join("checkpoint"), old_cp).unwrap();
    let log = open(&dir);
    check_all(&log, &leaves);
}

#[test]
fn refuses_corrupt_committed_tiles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = open(&dir);
    log.append_many(&entries(0, 20, "a")).unwrap();
    drop(log);
    let tile = dir.join("tile/0/000.p/20");
    let mut bytes = fs::read(&tile).unwrap();
    bytes[100] ^= 1;
    fs::write(&tile, &bytes).unwrap();
    assert!(matches!(
        Log::open(&dir, LogOptions::new(ORIGIN)),
        Err(Error::Corrupt(_))
    ));
    bytes[100] ^= 1;
    fs::write(&tile, &bytes[..bytes.len() - 1]).unwrap();
    assert!(matches!(
        Log::open(&dir, LogOptions::new(ORIGIN)),
        Err(Error::Corrupt(_))
    ));
    fs::write(&tile, &bytes).unwrap();
    fs::write(dir.join("tile/entries/000.p/20"), b"\x00\x01x").unwrap();
    assert!(matches!(
        Log::open(&dir, LogOptions::new(ORIGIN)),
        Err(Error::Corrupt(_))
    ));
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
