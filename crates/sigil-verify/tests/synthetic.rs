//! SECURITY.md section A rows exercised on bundles made by a throw-away instance (tests/common):
//! each bundle is valid in every respect but the one the row is about.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use common::*;
use serde_json::json;

const ARTIFACT: &[u8] = b"hello, sigil\n";

fn setup() -> (Key, TestLog, serde_json::Value) {
    let signer = Key::new();
    let log = TestLog::new("log.example.test");
    let root = trusted_root(vec![log.tlog_json("2020-01-01T00:00:00Z", None)]);
    (signer, log, root)
}

#[test]
fn baseline_message_and_dsse_bundles_verify() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    assert_eq!(verify_with_key(&v, &b, ARTIFACT, &signer), Ok(()));
    let digest = hex::encode(sigil_crypto::sha256(ARTIFACT));
    let st = statement(vec![json!({"name": "a", "digest": {"sha256": digest}})]);
    let d = dsse_bundle(&st, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    assert_eq!(verify_with_key(&v, &d, ARTIFACT, &signer), Ok(()));
    // And a different key is refused.
    assert_eq!(
        verify_with_key(&v, &b, ARTIFACT, &Key::new()),
        Err("SIGNATURE_INVALID".into())
    );
}

/// V-01/V-02: a valid entry (own SET and proof) for another artifact by the same signer.
#[test]
fn v01_entry_for_another_artifact_is_rejected() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    let other = message_bundle(b"another artifact", &signer, &log, NOW - 100);
    b["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"].clone();
    assert_eq!(
        verify_with_key(&v, &b, ARTIFACT, &signer),
        Err("TLOG_BODY_MISMATCH".into())
    );
    // The same swap on a DSSE bundle.
    let digest = hex::encode(sigil_crypto::sha256(ARTIFACT));
    let st = statement(vec![json!({"digest": {"sha256": digest}})]);
    let mut d = dsse_bundle(&st, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    let st2 = statement(vec![json!({"digest": {"sha256": hex::encode([7u8; 32])}})]);
    let d2 = dsse_bundle(&st2, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    d["verificationMaterial"]["tlogEntries"] = d2["verificationMaterial"]["tlogEntries"].clone();
    assert_eq!(
        verify_with_key(&v, &d, ARTIFACT, &signer),
        Err("TLOG_BODY_MISMATCH".into())
    );
}

/// V-11: a valid signature over a payload that is not an in-toto statement, or not of in-toto type.
#[test]
fn v11_non_intoto_payloads_are_rejected() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let d = dsse_bundle(b"not json", "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    assert_eq!(
        verify_with_key(&v, &d, ARTIFACT, &signer),
        Err("DSSE_PAYLOAD_INVALID".into())
    );
    let digest = hex::encode(sigil_crypto::sha256(ARTIFACT));
    let st = statement(vec![json!({"digest": {"sha256": digest}})]);
    let d = dsse_bundle(&st, "text/plain", &signer, &log, NOW - 100);
    assert_eq!(
        verify_with_key(&v, &d, ARTIFACT, &signer),
        Err("DSSE_PAYLOAD_INVALID".into())
    );
}

/// V-12: a statement without subjects binds to nothing.
#[test]
fn v12_empty_subjects_are_rejected() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let d = dsse_bundle(
        &statement(vec![]),
        "application/vnd.in-toto+json",
        &signer,
        &log,
        NOW - 100,
    );
    assert_eq!(
        verify_with_key(&v, &d, ARTIFACT, &signer),
        Err("DSSE_PAYLOAD_INVALID".into())
    );
}

/// V-13: subject digest of another artifact, or only under another algorithm.
#[test]
fn v13_subject_digest_must_match_under_the_same_algorithm() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let other = statement(vec![json!({"digest": {"sha256": hex::encode([1u8; 32])}})]);
    let d = dsse_bundle(&other, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    assert_eq!(
        verify_with_key(&v, &d, ARTIFACT, &signer),
        Err("ARTIFACT_DIGEST_MISMATCH".into())
    );
    let sha512_only = statement(vec![
        json!({"digest": {"sha512": hex::encode(sigil_crypto::HashAlgorithm::Sha2_512.digest(ARTIFACT))}}),
    ]);
    let d = dsse_bundle(&sha512_only, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    assert_eq!(
        verify_with_key(&v, &d, ARTIFACT, &signer),
        Err("ARTIFACT_DIGEST_MISMATCH".into())
    );
}

/// V-14: an edited integratedTime breaks the SET (the time is never used unauthenticated).
#[test]
fn v14_edited_integrated_time_fails_the_set() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = json!((NOW - 50).to_string());
    assert_eq!(verify_with_key(&v, &b, ARTIFACT, &signer), Err("SET_INVALID".into()));
}

/// V-15: a validly signed integrated time in the future.
#[test]
fn v15_future_integrated_time_is_rejected() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let b = message_bundle(ARTIFACT, &signer, &log, NOW + 30);
    assert_eq!(verify_with_key(&v, &b, ARTIFACT, &signer), Err("TIME_IN_FUTURE".into()));
}

/// V-18: 33 entries, 33 timestamps, 1025 subjects, 33 digests per subject: refused before any crypto.
#[test]
fn v18_counts_are_bounded() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    let e = b["verificationMaterial"]["tlogEntries"][0].clone();
    b["verificationMaterial"]["tlogEntries"] = json!(vec![e; 33]);
    assert_eq!(verify_with_key(&v, &b, ARTIFACT, &signer), Err("LIMIT_EXCEEDED".into()));
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    b["verificationMaterial"]["timestampVerificationData"] =
        json!({"rfc3161Timestamps": vec![json!({"signedTimestamp": "AA=="}); 33]});
    assert_eq!(verify_with_key(&v, &b, ARTIFACT, &signer), Err("LIMIT_EXCEEDED".into()));
    let digest = hex::encode(sigil_crypto::sha256(ARTIFACT));
    let many = statement(vec![json!({"digest": {"sha256": digest}}); 1025]);
    // A garbage signature proves the limit is checked before any signature is.
    let mut d = dsse_bundle(&many, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    d["dsseEnvelope"]["signatures"][0]["sig"] = json!("AAAA");
    assert_eq!(verify_with_key(&v, &d, ARTIFACT, &signer), Err("LIMIT_EXCEEDED".into()));
    let mut digests = serde_json::Map::new();
    for i in 0..33 {
        digests.insert(format!("alg{i}"), json!(digest));
    }
    let wide = statement(vec![json!({"digest": digests})]);
    let d = dsse_bundle(&wide, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    assert_eq!(verify_with_key(&v, &d, ARTIFACT, &signer), Err("LIMIT_EXCEEDED".into()));
}

/// V-19: a threshold of two logs is not met by two entries from one log.
#[test]
fn v19_threshold_counts_distinct_logs() {
    let (signer, log, root) = setup();
    let trust = sigil_trust::TrustedMaterial::from_json(root.to_string().as_bytes()).unwrap();
    let v = sigil_verify::Verifier::new(
        trust,
        sigil_verify::VerifierOptions {
            tlog_threshold: 2,
            ..Default::default()
        },
    );
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    let digest = sigil_crypto::sha256(ARTIFACT);
    let sig = sigil_bundle::encoding::decode_base64(b["messageSignature"]["signature"].as_str().unwrap()).unwrap();
    let body = hashedrekord_body(&digest, &sig, &signer);
    let second = log.entry("hashedrekord", "0.0.1", &body, 5, NOW - 90);
    b["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
        .push(second);
    assert_eq!(verify_with_key(&v, &b, ARTIFACT, &signer), Err("TLOG_THRESHOLD".into()));
    // The same entry twice is refused outright.
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    let e = b["verificationMaterial"]["tlogEntries"][0].clone();
    b["verificationMaterial"]["tlogEntries"].as_array_mut().unwrap().push(e);
    assert_eq!(
        verify_with_key(&v, &b, ARTIFACT, &signer),
        Err("DUPLICATE_TLOG_ENTRY".into())
    );
    // Two distinct logs meet it.
    let log2 = TestLog::new("log2.example.test");
    let root2 = trusted_root(vec![
        log.tlog_json("2020-01-01T00:00:00Z", None),
        log2.tlog_json("2020-01-01T00:00:00Z", None),
    ]);
    let trust2 = sigil_trust::TrustedMaterial::from_json(root2.to_string().as_bytes()).unwrap();
    let v2 = sigil_verify::Verifier::new(
        trust2,
        sigil_verify::VerifierOptions {
            tlog_threshold: 2,
            ..Default::default()
        },
    );
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    let sig = sigil_bundle::encoding::decode_base64(b["messageSignature"]["signature"].as_str().unwrap()).unwrap();
    let body = hashedrekord_body(&digest, &sig, &signer);
    b["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
        .push(log2.entry("hashedrekord", "0.0.1", &body, 3, NOW - 80));
    assert_eq!(verify_with_key(&v2, &b, ARTIFACT, &signer), Ok(()));
}

/// V-21: the log key must be valid at the integrated time (closed interval).
#[test]
fn v21_log_key_validity_window() {
    let (signer, log, _) = setup();
    let t = NOW - 100;
    let end = time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let before = time::OffsetDateTime::from_unix_timestamp(t - 1)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let b = message_bundle(ARTIFACT, &signer, &log, t);
    let inclusive = verifier_for(&trusted_root(vec![log.tlog_json("2020-01-01T00:00:00Z", Some(&end))]));
    assert_eq!(verify_with_key(&inclusive, &b, ARTIFACT, &signer), Ok(()));
    let expired = verifier_for(&trusted_root(vec![
        log.tlog_json("2020-01-01T00:00:00Z", Some(&before)),
    ]));
    assert_eq!(
        verify_with_key(&expired, &b, ARTIFACT, &signer),
        Err("TLOG_KEY_NOT_VALID".into())
    );
    // A log the trusted root does not list.
    let other = verifier_for(&trusted_root(vec![
        TestLog::new("log.example.test").tlog_json("2020-01-01T00:00:00Z", None),
    ]));
    assert_eq!(
        verify_with_key(&other, &b, ARTIFACT, &signer),
        Err("UNKNOWN_TLOG".into())
    );
}

/// V-22: a key-signed bundle with no verified time at all is not accepted.
#[test]
fn v22_key_bundles_need_a_verified_time() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    b["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap()
        .remove("inclusionPromise");
    assert_eq!(
        verify_with_key(&v, &b, ARTIFACT, &signer),
        Err("NO_TRUSTED_TIME".into())
    );
    let mut b = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    b["verificationMaterial"]["tlogEntries"] = json!([]);
    assert_eq!(
        verify_with_key(&v, &b, ARTIFACT, &signer),
        Err("TLOG_ENTRY_MISSING".into())
    );
}

/// V-24 and L-09: each sub-check's failure is the verdict (fault injection on one part at a time).
#[test]
fn v24_every_subcheck_failure_propagates() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let good = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    let entry = "/verificationMaterial/tlogEntries/0";
    let cases: Vec<(&str, Mutation<'_>)> = vec![
        (
            "SET_INVALID",
            Box::new(|b| {
                flip_b64(
                    b.pointer_mut(&format!("{entry}/inclusionPromise/signedEntryTimestamp"))
                        .unwrap(),
                )
            }),
        ),
        (
            "INCLUSION_PROOF_INVALID",
            Box::new(|b| flip_b64(b.pointer_mut(&format!("{entry}/inclusionProof/rootHash")).unwrap())),
        ),
        (
            "INCLUSION_PROOF_INVALID",
            Box::new(|b| *b.pointer_mut(&format!("{entry}/inclusionProof/treeSize")).unwrap() = json!("2")),
        ),
        (
            "INCLUSION_PROOF_INVALID",
            Box::new(|b| *b.pointer_mut(&format!("{entry}/inclusionProof/hashes")).unwrap() = json!([b64(&[0u8; 32])])),
        ),
        (
            "INCLUSION_PROOF_INVALID",
            Box::new(|b| *b.pointer_mut(&format!("{entry}/inclusionProof/logIndex")).unwrap() = json!("1")),
        ),
        (
            "CHECKPOINT_INVALID",
            Box::new(|b| {
                *b.pointer_mut(&format!("{entry}/inclusionProof/checkpoint/envelope"))
                    .unwrap() = json!("garbage")
            }),
        ),
        (
            "SIGNATURE_INVALID",
            Box::new(|b| flip_b64(b.pointer_mut("/messageSignature/signature").unwrap())),
        ),
        (
            "ARTIFACT_DIGEST_MISMATCH",
            Box::new(|b| flip_b64(b.pointer_mut("/messageSignature/messageDigest/digest").unwrap())),
        ),
        (
            "TLOG_BODY_MISMATCH",
            Box::new(|b| *b.pointer_mut(&format!("{entry}/kindVersion/kind")).unwrap() = json!("dsse")),
        ),
        (
            "TLOG_BODY_INVALID",
            Box::new(|b| *b.pointer_mut(&format!("{entry}/canonicalizedBody")).unwrap() = json!(b64(b"{}"))),
        ),
        (
            "INCLUSION_PROOF_MISSING",
            Box::new(|b| {
                b.pointer_mut(entry)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove("inclusionProof");
            }),
        ),
    ];
    for (want, mutate) in cases {
        let mut b = good.clone();
        mutate(&mut b);
        assert_eq!(
            verify_with_key(&v, &b, ARTIFACT, &signer),
            Err(want.to_string()),
            "mutation expecting {want}"
        );
    }
    // A checkpoint signed by another key, or under another origin, is refused.
    let mut b = good.clone();
    let imposter = TestLog::new("log.example.test");
    let root_hash = sigil_tlog::hash_leaf(
        &sigil_bundle::encoding::decode_base64(
            b.pointer(&format!("{entry}/canonicalizedBody"))
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap(),
    );
    *b.pointer_mut(&format!("{entry}/inclusionProof/checkpoint/envelope"))
        .unwrap() = json!(imposter.checkpoint(1, &root_hash));
    assert_eq!(
        verify_with_key(&v, &b, ARTIFACT, &signer),
        Err("CHECKPOINT_SIGNATURE_INVALID".into())
    );
    // A genuine checkpoint of the log, but for another tree.
    let mut b = good.clone();
    *b.pointer_mut(&format!("{entry}/inclusionProof/checkpoint/envelope"))
        .unwrap() = json!(log.checkpoint(1, &[9u8; 32]));
    assert_eq!(
        verify_with_key(&v, &b, ARTIFACT, &signer),
        Err("CHECKPOINT_ROOT_MISMATCH".into())
    );
}

/// L-10: checkpoint origin must be the log's, compared literally.
#[test]
fn l10_checkpoint_origin_is_literal() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let good = message_bundle(ARTIFACT, &signer, &log, NOW - 100);
    let entry = "/verificationMaterial/tlogEntries/0";
    let leaf = sigil_tlog::hash_leaf(
        &sigil_bundle::encoding::decode_base64(
            good.pointer(&format!("{entry}/canonicalizedBody"))
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap(),
    );
    for origin in [
        "evil.log.example.test - 1234",
        "log.example.test.evil - 1234",
        "log.example.test - 12x",
        "log.example.test-1234",
    ] {
        let body = format!("{origin}\n1\n{}\n", b64(&leaf));
        let sig = log.key.sign(body.as_bytes());
        let mut line = log.key.key_id()[..4].to_vec();
        line.extend_from_slice(&sig);
        let note = format!("{body}\n\u{2014} {} {}\n", log.host, b64(&line));
        let mut b = good.clone();
        *b.pointer_mut(&format!("{entry}/inclusionProof/checkpoint/envelope"))
            .unwrap() = json!(note);
        assert_eq!(
            verify_with_key(&v, &b, ARTIFACT, &signer),
            Err("CHECKPOINT_ORIGIN_MISMATCH".into()),
            "{origin}"
        );
    }
}

/// V-10: two DSSE signatures (even if one is valid) are refused.
#[test]
fn v10_two_dsse_signatures_are_refused() {
    let (signer, log, root) = setup();
    let v = verifier_for(&root);
    let digest = hex::encode(sigil_crypto::sha256(ARTIFACT));
    let st = statement(vec![json!({"digest": {"sha256": digest}})]);
    let mut d = dsse_bundle(&st, "application/vnd.in-toto+json", &signer, &log, NOW - 100);
    let s = d["dsseEnvelope"]["signatures"][0].clone();
    d["dsseEnvelope"]["signatures"].as_array_mut().unwrap().push(s);
    assert_eq!(
        verify_with_key(&v, &d, ARTIFACT, &signer),
        Err("DSSE_SIGNATURE_COUNT".into())
    );
}

/// Changes one part of a bundle.
type Mutation<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;

fn flip_b64(v: &mut serde_json::Value) {
    let mut bytes = sigil_bundle::encoding::decode_base64(v.as_str().unwrap()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    *v = json!(b64(&bytes));
}
