#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Key rotation on an open log: what is signed before and after, appends in flight across it, the history and the
//! trust entries it leaves on disk, and the states a crash during a rotation can leave.

mod common;

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use common::*;
use sigil_crypto::SignatureScheme;
use sigil_log::server::{ApiVersion, NEW_KEY_BACKDATE_SECS, trust_entries, trust_entry};
use sigil_log::{Appended, Error, ImportedKeys, KeyGeneration, Log, LogOptions};
use sigil_tlog::{NoteVerifier, SignedCheckpoint, verify_inclusion};

struct Pair {
    ed25519: Vec<u8>,
    ecdsa: Vec<u8>,
}

fn fresh_pair() -> Pair {
    let rng = SystemRandom::new();
    Pair {
        ed25519: Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref().to_vec(),
        ecdsa: EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .unwrap()
            .as_ref()
            .to_vec(),
    }
}

fn open_with(dir: &Path, pair: &Pair) -> Log {
    Log::open(
        dir,
        LogOptions::new(ORIGIN).with_keys(ImportedKeys {
            ed25519_pkcs8: Some(pair.ed25519.clone()),
            ecdsa_p256_pkcs8: Some(pair.ecdsa.clone()),
        }),
    )
    .unwrap()
}

/// The entry's checkpoint verifies with its generation's key (and not with `other`), proves it, and its SET
/// verifies with the same generation's v1 key.
fn check_signed_by(a: &Appended, leaf: &[u8], keys: &KeyGeneration, other: &KeyGeneration) {
    assert_eq!(&a.keys, keys);
    let verifier = NoteVerifier::ed25519(ORIGIN, keys.checkpoint_key().clone()).unwrap();
    let cp = SignedCheckpoint::open(&a.checkpoint, &verifier, ORIGIN).unwrap();
    assert_eq!(cp.checkpoint.root_hash, a.root_hash);
    let wrong = NoteVerifier::ed25519(ORIGIN, other.checkpoint_key().clone()).unwrap();
    assert!(SignedCheckpoint::open(&a.checkpoint, &wrong, ORIGIN).is_err());
    let set = a.keys.sign_set(leaf, a.integrated_time, a.index).unwrap();
    let msg = format!(
        "{{\"body\":\"{}\",\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
        sigil_bundle::encoding::encode_base64(leaf),
        a.integrated_time,
        hex::encode(keys.v1_log_id()),
        a.index
    );
    keys.v1_key()
        .verify(SignatureScheme::EcdsaSha256, msg.as_bytes(), &set)
        .unwrap();
}

#[test]
fn rotation_switches_every_signature_and_keeps_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let log = open(tmp.path());
    let before: Vec<_> = entries(0, 5, "a").iter().map(|e| log.append(e).unwrap()).collect();
    let old = log.keys();
    let (size, root) = (log.size(), log.root());

    let pair = fresh_pair();
    let rotation = log.rotate_keys(&pair.ed25519, &pair.ecdsa).unwrap();
    assert_eq!(rotation.retired, old);
    assert_eq!(log.keys(), rotation.active);
    let new = log.keys();
    assert_ne!(new.v1_log_id(), old.v1_log_id());
    assert_ne!(new.v2_log_id(), old.v2_log_id());
    // The same tree, re-signed by the new key.
    assert_eq!((log.size(), log.root()), (size, root));
    let verifier = NoteVerifier::ed25519(ORIGIN, new.checkpoint_key().clone()).unwrap();
    SignedCheckpoint::open(&log.checkpoint(), &verifier, ORIGIN).unwrap();
    assert_eq!(log.head().keys, new);

    let after: Vec<_> = entries(5, 5, "a").iter().map(|e| log.append(e).unwrap()).collect();
    for (i, a) in before.iter().enumerate() {
        check_signed_by(a.appended(), &entries(0, 5, "a")[i], &old, &new);
    }
    for (i, a) in after.iter().enumerate() {
        check_signed_by(a.appended(), &entries(5, 5, "a")[i], &new, &old);
    }
    // Old entries are proven in the new trees.
    let head = log.head();
    let proof = log.inclusion_proof(2, head.size).unwrap();
    verify_inclusion(2, head.size, &before[2].appended().leaf_hash, &proof, &head.root).unwrap();

    // The history: old retired at the rotation, new activated then.
    let history = log.key_history();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].retired, Some(rotation.at));
    assert_eq!(history[1].activated, rotation.at);
    assert_eq!(history[1].retired, None);
    assert_eq!(&history[1].v1_key, new.v1_key());
    assert_eq!(log.first_v1_log_id(), old.v1_log_id());
    let first_integrated = before[0].appended().integrated_time;
    assert!(rotation.at >= before[4].appended().integrated_time);
    drop(log);

    // After a restart: the new keys, the history, and the trust entries of both generations.
    let log = open(tmp.path());
    assert_eq!(log.keys(), new);
    assert_eq!(log.key_history(), history);
    assert_eq!(log.size(), 10);
    drop(log);
    for api in [ApiVersion::V1, ApiVersion::V2] {
        let all = trust_entries(tmp.path(), "http://log.example.test", api).unwrap();
        assert_eq!(all.len(), 2);
        let (ids, keys): (Vec<_>, Vec<_>) = match api {
            ApiVersion::V1 => (
                vec![old.v1_log_id(), new.v1_log_id()],
                vec![old.v1_key().spki_der().to_vec(), new.v1_key().spki_der().to_vec()],
            ),
            ApiVersion::V2 => (
                vec![old.v2_log_id(), new.v2_log_id()],
                vec![
                    old.checkpoint_key().spki_der().to_vec(),
                    new.checkpoint_key().spki_der().to_vec(),
                ],
            ),
        };
        for (i, t) in all.iter().enumerate() {
            assert_eq!(t.log_id.key_id.0, ids[i].to_vec());
            assert_eq!(t.public_key.raw_bytes.as_ref().unwrap().0, keys[i]);
        }
        let w0 = all[0].public_key.valid_for.as_ref().unwrap();
        let w1 = all[1].public_key.valid_for.as_ref().unwrap();
        assert!(w0.start.as_ref().unwrap().unix() <= first_integrated);
        assert_eq!(w0.end.as_ref().unwrap().unix(), rotation.at);
        // Backdated for submissions in flight, but not before the first key's start.
        let w0_start = w0.start.as_ref().unwrap().unix();
        assert_eq!(
            w1.start.as_ref().unwrap().unix(),
            (rotation.at - NEW_KEY_BACKDATE_SECS).max(w0_start)
        );
        assert!(w1.end.is_none());
        assert_eq!(trust_entry(tmp.path(), "http://log.example.test", api).unwrap(), all[1]);
    }
}

#[test]
fn appends_in_flight_across_a_rotation_are_signed_by_one_generation() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(open(tmp.path()));
    let old = log.keys();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let leaves = entries(0, 60, &format!("t{t}"));
                leaves
                    .iter()
                    .map(|l| (l.clone(), log.append(l).unwrap().appended().clone()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let pair = fresh_pair();
    let rotation = log.rotate_keys(&pair.ed25519, &pair.ecdsa).unwrap();
    let new = rotation.active.clone();
    let mut counts = [0, 0];
    for t in threads {
        for (leaf, a) in t.join().unwrap() {
            if a.keys == old {
                counts[0] += 1;
                check_signed_by(&a, &leaf, &old, &new);
                assert!(a.integrated_time <= rotation.at);
            } else {
                counts[1] += 1;
                check_signed_by(&a, &leaf, &new, &old);
            }
        }
    }
    assert_eq!(counts[0] + counts[1], 240, "{counts:?}");
    assert_eq!(log.size(), 240);
}

#[test]
fn a_bad_or_reused_key_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let first = fresh_pair();
    let log = open_with(tmp.path(), &first);
    log.append(b"one").unwrap();
    let keys_dir = tmp.path().join("keys");
    let snapshot = |dir: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot(&keys_dir);
    let cp = log.checkpoint();
    let good = fresh_pair();
    assert!(matches!(log.rotate_keys(b"garbage", &good.ecdsa), Err(Error::Key(_))));
    assert!(matches!(log.rotate_keys(&good.ed25519, b""), Err(Error::Key(_))));
    // Keys swapped between the slots.
    assert!(log.rotate_keys(&good.ecdsa, &good.ed25519).is_err());
    // The current keys again: refused.
    let e = log.rotate_keys(&first.ed25519, &good.ecdsa).unwrap_err();
    assert!(e.to_string().contains("earlier generation"), "{e}");
    assert_eq!(snapshot(&keys_dir), before);
    assert_eq!(log.checkpoint(), cp);
    assert!(log.is_healthy());

    // A retired key is refused too.
    log.rotate_keys(&good.ed25519, &good.ecdsa).unwrap();
    let again = fresh_pair();
    let e = log.rotate_keys(&again.ed25519, &first.ecdsa).unwrap_err();
    assert!(e.to_string().contains("earlier generation"), "{e}");
    assert_eq!(log.key_history().len(), 2);
    log.append(b"two").unwrap();
}

#[test]
fn a_crash_during_a_rotation_is_finished_or_undone_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = fresh_pair();
    let log = open_with(dir, &first);
    for e in entries(0, 3, "c") {
        log.append(&e).unwrap();
    }
    let old = log.keys();
    drop(log);
    let saved = tempfile::tempdir().unwrap();
    copy_dir(dir, saved.path());

    // Staged but never committed (no history names the keys): removed at open, the old keys stay.
    let stray = fresh_pair();
    std::fs::write(dir.join("keys/next-checkpoint-ed25519.pk8"), &stray.ed25519).unwrap();
    std::fs::write(dir.join("keys/next-log-ecdsa-p256.pk8"), &stray.ecdsa).unwrap();
    let log = open(dir);
    assert_eq!(log.keys(), old);
    assert!(!dir.join("keys/next-checkpoint-ed25519.pk8").exists());
    assert!(!dir.join("keys/next-log-ecdsa-p256.pk8").exists());

    // Committed, then a crash before the renames and before the re-signed checkpoint: the state is the old one
    // plus the history and the new keys as `next-` files.
    let second = fresh_pair();
    let rotation = log.rotate_keys(&second.ed25519, &second.ecdsa).unwrap();
    drop(log);
    let history = std::fs::read(dir.join("keys/history.json")).unwrap();
    let crashed = tempfile::tempdir().unwrap();
    copy_dir(saved.path(), crashed.path());
    std::fs::write(crashed.path().join("keys/history.json"), &history).unwrap();
    std::fs::write(crashed.path().join("keys/next-checkpoint-ed25519.pk8"), &second.ed25519).unwrap();
    std::fs::write(crashed.path().join("keys/next-log-ecdsa-p256.pk8"), &second.ecdsa).unwrap();
    // …with one rename done.
    std::fs::rename(
        crashed.path().join("keys/next-log-ecdsa-p256.pk8"),
        crashed.path().join("keys/log-ecdsa-p256.pk8"),
    )
    .unwrap();
    // Before open, the public view already follows the history.
    let entries_now = trust_entries(crashed.path(), "http://x", ApiVersion::V2).unwrap();
    assert_eq!(entries_now.len(), 2);
    let log = open(crashed.path());
    assert_eq!(log.keys(), rotation.active);
    assert!(!crashed.path().join("keys/next-checkpoint-ed25519.pk8").exists());
    // The stored checkpoint was the old key's: it was re-signed with the new one.
    let verifier = NoteVerifier::ed25519(ORIGIN, rotation.active.checkpoint_key().clone()).unwrap();
    let cp = SignedCheckpoint::open(&log.checkpoint(), &verifier, ORIGIN).unwrap();
    assert_eq!(cp.checkpoint.size, 3);
    let a = log.append(b"after the crash").unwrap();
    assert_eq!(a.appended().keys, rotation.active);
    drop(log);
    assert_eq!(open(crashed.path()).keys(), rotation.active);

    // History and key files that disagree (keys restored from elsewhere): refused, named.
    let mismatched = tempfile::tempdir().unwrap();
    copy_dir(saved.path(), mismatched.path());
    std::fs::write(mismatched.path().join("keys/history.json"), &history).unwrap();
    let e = Log::open(mismatched.path(), LogOptions::new(ORIGIN)).unwrap_err();
    assert!(matches!(e, Error::KeyHistory { .. }), "{e}");
    assert!(e.to_string().contains("history.json"), "{e}");
}
