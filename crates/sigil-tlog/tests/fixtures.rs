//! Golden vectors: real inclusion proofs and checkpoints from the Sigstore conformance bundles (Rekor v1 with
//! ECDSA P-256 checkpoints, Rekor v2 with Ed25519 checkpoints and witness cosignatures).
//!
//! The fixtures live in the shared tree beside the checkout (`../../../shared/fixtures/` from this crate); they
//! are read, never copied. Tampered variants are built in memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sigil_crypto::{KeyAlgorithm, VerifyingKey};
use sigil_tlog::{
    Checkpoint, Error, Hash, Note, NoteVerifier, SignedCheckpoint, hash_leaf, root_from_inclusion_proof,
    verify_inclusion,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

fn hash(v: &Value) -> Hash {
    b64(v).try_into().unwrap()
}

fn num(v: &Value) -> u64 {
    v.as_str().unwrap().parse().unwrap()
}

/// The authority (`host[:port]`) of a trusted-root `baseUrl`.
fn authority(base_url: &str) -> &str {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    rest.split('/').next().unwrap()
}

/// The hostname of a trusted-root `baseUrl` (what Rekor v2 verifiers compare with the origin).
fn hostname(base_url: &str) -> &str {
    authority(base_url).split(':').next().unwrap()
}

/// A transparency log from a trusted root: checkpoint key name (its host) and note verifier.
struct Log {
    host: String,
    verifier: NoteVerifier,
}

fn log_for(trusted_root: &Value, key_id: &str) -> Option<Log> {
    let tlog = trusted_root["tlogs"]
        .as_array()?
        .iter()
        .find(|t| t["logId"]["keyId"] == key_id)?;
    let key = VerifyingKey::from_spki_der(&b64(&tlog["publicKey"]["rawBytes"])).unwrap();
    // Rekor v1 names its key after the URL authority (the custom-root fixture uses `localhost:8000`); Rekor v2
    // uses the hostname.
    let base_url = tlog["baseUrl"].as_str()?;
    let host = match key.algorithm() {
        KeyAlgorithm::Ed25519 => hostname(base_url),
        _ => authority(base_url),
    }
    .to_string();
    let verifier = match key.algorithm() {
        KeyAlgorithm::Ed25519 => NoteVerifier::ed25519(&host, key).unwrap(),
        _ => NoteVerifier::ecdsa(&host, key).unwrap(),
    };
    Some(Log { host, verifier })
}

fn trusted_root_for(case: &Path) -> Value {
    let custom = case.join("trusted_root.json");
    if custom.exists() {
        read_json(&custom)
    } else {
        read_json(&fixtures().join("production-trusted-root/trusted_root.json"))
    }
}

/// Everything this crate checks for one tlog entry, stopping at the first failure.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    NoProof,
    NoCheckpoint,
    UnknownLog,
    Inclusion(Error),
    Checkpoint(Error),
    CheckpointMismatch,
    Signature(Error),
    Origin(Error),
}

fn check_entry(entry: &Value, trusted_root: &Value) -> Outcome {
    let Some(proof) = entry.get("inclusionProof") else {
        return Outcome::NoProof;
    };
    let leaf = hash_leaf(&b64(&entry["canonicalizedBody"]));
    let index = num(&proof["logIndex"]);
    let size = num(&proof["treeSize"]);
    let root = hash(&proof["rootHash"]);
    let hashes: Vec<Hash> = proof["hashes"].as_array().unwrap().iter().map(hash).collect();
    if let Err(e) = verify_inclusion(index, size, &leaf, &hashes, &root) {
        return Outcome::Inclusion(e);
    }
    let Some(envelope) = proof.get("checkpoint").and_then(|c| c["envelope"].as_str()) else {
        return Outcome::NoCheckpoint;
    };
    let signed = match SignedCheckpoint::parse(envelope) {
        Ok(s) => s,
        Err(e) => return Outcome::Checkpoint(e),
    };
    if signed.checkpoint.root_hash != root || signed.checkpoint.size != size {
        return Outcome::CheckpointMismatch;
    }
    let Some(log) = log_for(trusted_root, entry["logId"]["keyId"].as_str().unwrap()) else {
        return Outcome::UnknownLog;
    };
    if let Err(e) = signed.verify(&log.verifier) {
        return Outcome::Signature(e);
    }
    let origin = if signed.checkpoint.rekor_v1_origin().is_some() {
        signed.checkpoint.check_rekor_v1_host(&log.host)
    } else {
        signed.checkpoint.check_origin(&log.host)
    };
    if let Err(e) = origin {
        return Outcome::Origin(e);
    }
    Outcome::Ok
}

fn outcomes() -> Vec<(String, Outcome)> {
    let dir = fixtures().join("bundle-verify");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").exists())
        .collect();
    cases.sort();
    let mut out = Vec::new();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(bundle) =
            serde_json::from_str::<Value>(&std::fs::read_to_string(case.join("bundle.sigstore.json")).unwrap())
        else {
            continue; // bundle-malformed-json_fail
        };
        let root = trusted_root_for(&case);
        for entry in bundle["verificationMaterial"]["tlogEntries"].as_array().unwrap() {
            out.push((name.clone(), check_entry(entry, &root)));
        }
    }
    out
}

#[test]
fn conformance_bundles_tlog_layer() {
    let outcomes = outcomes();
    assert!(outcomes.len() > 60, "fixtures not found or empty");
    let expect_failure = |name: &str, o: &Outcome| -> bool {
        match name {
            "invalid-inclusion-proof_fail" => matches!(o, Outcome::Inclusion(_)),
            "inclusion-proof-corrupted-hash_fail" => *o == Outcome::Inclusion(Error::RootMismatch),
            "checkpoint-wrong-roothash_fail" => *o == Outcome::CheckpointMismatch,
            "checkpoint-bad-keyhint_fail" => *o == Outcome::Signature(Error::NoMatchingSignature),
            "invalid-checkpoint-signature_fail" => *o == Outcome::Signature(Error::SignatureInvalid),
            "rekor2-checkpoint-missing-log-signature_fail" => {
                matches!(
                    o,
                    Outcome::Checkpoint(Error::NoteNoSignatures | Error::NoteSeparator { .. })
                )
            }
            "rekor2-checkpoint-missing-origin_fail"
            | "rekor2-checkpoint-missing-root-hash_fail"
            | "rekor2-checkpoint-missing-size_fail" => matches!(o, Outcome::Checkpoint(Error::MalformedCheckpoint(_))),
            "rekor2-checkpoint-no-matching-signature_fail" => *o == Outcome::Signature(Error::NoMatchingSignature),
            "bundle-from-wrong-instance_fail" => *o == Outcome::UnknownLog,
            _ => unreachable!(),
        }
    };
    let tlog_failures = [
        "invalid-inclusion-proof_fail",
        "inclusion-proof-corrupted-hash_fail",
        "checkpoint-wrong-roothash_fail",
        "checkpoint-bad-keyhint_fail",
        "invalid-checkpoint-signature_fail",
        "rekor2-checkpoint-missing-log-signature_fail",
        "rekor2-checkpoint-missing-origin_fail",
        "rekor2-checkpoint-missing-root-hash_fail",
        "rekor2-checkpoint-missing-size_fail",
        "rekor2-checkpoint-no-matching-signature_fail",
        "bundle-from-wrong-instance_fail",
    ];
    let mut verified = 0;
    for (name, outcome) in &outcomes {
        if tlog_failures.contains(&name.as_str()) {
            assert!(expect_failure(name, outcome), "{name}: unexpected {outcome:?}");
        } else if !name.ends_with("_fail") {
            // Every passing case whose entry has a proof and a checkpoint must pass all tlog checks.
            assert!(
                matches!(outcome, Outcome::Ok | Outcome::NoProof | Outcome::NoCheckpoint),
                "{name}: {outcome:?}"
            );
            verified += usize::from(*outcome == Outcome::Ok);
        }
    }
    assert!(verified >= 20, "only {verified} entries fully verified");
    for name in tlog_failures {
        assert!(outcomes.iter().any(|(n, _)| n == name), "case {name} missing");
    }
}

/// The data of one fixture entry.
struct Entry {
    leaf: Hash,
    index: u64,
    size: u64,
    root: Hash,
    proof: Vec<Hash>,
    checkpoint: String,
}

fn entry(case: &str) -> (Entry, Value) {
    let dir = fixtures().join("bundle-verify").join(case);
    let bundle = read_json(&dir.join("bundle.sigstore.json"));
    let e = &bundle["verificationMaterial"]["tlogEntries"][0];
    let p = &e["inclusionProof"];
    let entry = Entry {
        leaf: hash_leaf(&b64(&e["canonicalizedBody"])),
        index: num(&p["logIndex"]),
        size: num(&p["treeSize"]),
        root: hash(&p["rootHash"]),
        proof: p["hashes"].as_array().unwrap().iter().map(hash).collect(),
        checkpoint: p["checkpoint"]["envelope"].as_str().unwrap().to_string(),
    };
    (entry, trusted_root_for(&dir))
}

fn rekor_v1_verifier() -> NoteVerifier {
    let root = read_json(&fixtures().join("production-trusted-root/trusted_root.json"));
    let tlog = root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["baseUrl"] == "https://rekor.sigstore.dev")
        .unwrap();
    let key = VerifyingKey::from_spki_der(&b64(&tlog["publicKey"]["rawBytes"])).unwrap();
    let verifier = NoteVerifier::ecdsa("rekor.sigstore.dev", key).unwrap();
    // The ECDSA hint is SHA256(SPKI)[:4], which is also the first four bytes of the log ID.
    assert_eq!(verifier.key_hint().to_vec(), b64(&tlog["logId"]["keyId"])[..4].to_vec());
    verifier
}

fn rekor_v2_verifier(trusted_root: &Value) -> NoteVerifier {
    let tlog = trusted_root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["publicKey"]["keyDetails"] == "PKIX_ED25519")
        .unwrap();
    let host = hostname(tlog["baseUrl"].as_str().unwrap());
    let key = VerifyingKey::from_spki_der(&b64(&tlog["publicKey"]["rawBytes"])).unwrap();
    NoteVerifier::ed25519(host, key).unwrap()
}

#[test]
fn rekor_v1_happy_path_v03() {
    let (e, _) = entry("happy-path-v0.3");
    assert_eq!((e.index, e.size), (75408392, 75408393));
    verify_inclusion(e.index, e.size, &e.leaf, &e.proof, &e.root).unwrap();
    assert_eq!(
        root_from_inclusion_proof(e.index, e.size, &e.leaf, &e.proof).unwrap(),
        e.root
    );

    let signed = SignedCheckpoint::parse(&e.checkpoint).unwrap();
    assert_eq!(signed.checkpoint.origin, "rekor.sigstore.dev - 2605736670972794746");
    assert_eq!(
        signed.checkpoint.rekor_v1_origin(),
        Some(("rekor.sigstore.dev", 2605736670972794746))
    );
    assert_eq!(signed.checkpoint.size, e.size);
    assert_eq!(signed.checkpoint.root_hash, e.root);
    assert!(signed.checkpoint.extensions.is_empty());
    assert_eq!(signed.note.to_text(), e.checkpoint, "serialization round-trips");
    assert_eq!(signed.checkpoint.to_body(), signed.note.body);

    let verifier = rekor_v1_verifier();
    let sig = signed.verify(&verifier).unwrap();
    assert_eq!(sig.name, "rekor.sigstore.dev");
    signed.checkpoint.check_rekor_v1_host("rekor.sigstore.dev").unwrap();
}

#[test]
fn rekor_v1_tampering_is_rejected() {
    let (e, _) = entry("happy-path-v0.3");
    let verifier = rekor_v1_verifier();
    // Proof mutations.
    let mut p = e.proof.clone();
    p.push(e.root);
    assert!(matches!(
        verify_inclusion(e.index, e.size, &e.leaf, &p, &e.root),
        Err(Error::InclusionProofLength { .. })
    ));
    let mut p = e.proof.clone();
    p.pop();
    assert!(matches!(
        verify_inclusion(e.index, e.size, &e.leaf, &p, &e.root),
        Err(Error::InclusionProofLength { .. })
    ));
    for i in 0..e.proof.len() {
        let mut p = e.proof.clone();
        p[i][31] ^= 1;
        assert_eq!(
            verify_inclusion(e.index, e.size, &e.leaf, &p, &e.root),
            Err(Error::RootMismatch)
        );
    }
    assert!(verify_inclusion(e.index - 1, e.size, &e.leaf, &e.proof, &e.root).is_err());
    assert!(verify_inclusion(e.index, e.size, &e.leaf, &e.proof, &[0; 32]).is_err());
    assert!(verify_inclusion(e.size, e.size, &e.leaf, &e.proof, &e.root).is_err());

    // Any change to the signed body breaks the ECDSA signature.
    let signed = SignedCheckpoint::parse(&e.checkpoint).unwrap();
    let tampered = e.checkpoint.replacen("75408393", "75408394", 1);
    let t = SignedCheckpoint::parse(&tampered).unwrap();
    assert_eq!(t.verify(&verifier), Err(Error::SignatureInvalid));
    // Signature bytes flipped.
    let mut note = signed.note.clone();
    let last = note.signatures[0].signature.len() - 1;
    note.signatures[0].signature[last] ^= 1;
    assert_eq!(
        Note::parse(&note.to_text()).unwrap().verify(&verifier),
        Err(Error::SignatureInvalid)
    );
    // A different key name with the same hint is an unknown key: ignored.
    let renamed = e
        .checkpoint
        .replace("\u{2014} rekor.sigstore.dev ", "\u{2014} rekor.sigstore.dev.evil ");
    assert_eq!(
        SignedCheckpoint::parse(&renamed).unwrap().verify(&verifier),
        Err(Error::NoMatchingSignature)
    );
    // Origin checks are exact.
    assert!(signed.checkpoint.check_rekor_v1_host("rekor.sigstore").is_err());
    assert!(signed.checkpoint.check_rekor_v1_host("sigstore.dev").is_err());
    assert!(signed.checkpoint.check_origin("rekor.sigstore.dev").is_err());
}

#[test]
fn rekor_v1_checkpoint_with_timestamp_extension() {
    // This case's checkpoint is genuine but its hint byte was altered; restore it and the signature verifies.
    let (e, _) = entry("checkpoint-bad-keyhint_fail");
    let verifier = rekor_v1_verifier();
    let signed = SignedCheckpoint::parse(&e.checkpoint).unwrap();
    assert_eq!(
        signed.checkpoint.extensions,
        vec!["Timestamp: 1689177396617352539".to_string()]
    );
    assert_eq!(signed.verify(&verifier), Err(Error::NoMatchingSignature));
    let mut note = signed.note.clone();
    note.signatures[0].key_hint = verifier.key_hint();
    note.verify(&verifier).unwrap();
    verify_inclusion(e.index, e.size, &e.leaf, &e.proof, &e.root).unwrap();
    assert_eq!(signed.checkpoint.root_hash, e.root);
}

#[test]
fn rekor_v2_ed25519_happy_path() {
    let (e, trusted_root) = entry("rekor2-happy-path");
    verify_inclusion(e.index, e.size, &e.leaf, &e.proof, &e.root).unwrap();
    let verifier = rekor_v2_verifier(&trusted_root);
    assert_eq!(verifier.name(), "log2025-alpha1.rekor.sigstage.dev");
    let signed = SignedCheckpoint::open(&e.checkpoint, &verifier, "log2025-alpha1.rekor.sigstage.dev").unwrap();
    assert_eq!(signed.checkpoint.root_hash, e.root);
    assert_eq!(signed.checkpoint.size, e.size);
    assert_eq!(signed.checkpoint.rekor_v1_origin(), None);
    // The C2SP key ID of an Ed25519 key is also Rekor v2's log ID prefix.
    let log_id = b64(&trusted_root["tlogs"][1]["logId"]["keyId"]);
    assert_eq!(verifier.key_hint().to_vec(), log_id[..4].to_vec());
    // Wrong origin (substring, superstring, other host) is rejected even though the signature verifies.
    for wrong in [
        "rekor.sigstage.dev",
        "log2025-alpha1.rekor.sigstage.dev.evil",
        "alpha1.rekor.sigstage.dev",
        "",
    ] {
        assert!(matches!(
            SignedCheckpoint::open(&e.checkpoint, &verifier, wrong),
            Err(Error::OriginMismatch { .. })
        ));
    }
    // Tampered body.
    let tampered = e.checkpoint.replacen("\n736\n", "\n737\n", 1);
    assert_eq!(
        SignedCheckpoint::parse(&tampered).unwrap().verify(&verifier),
        Err(Error::SignatureInvalid)
    );
}

#[test]
fn rekor_v2_unknown_signatures_are_ignored() {
    for case in [
        "rekor2-checkpoint-cosigned",
        "rekor2-checkpoint-multiple-cosigs",
        "rekor2-checkpoint-origin-not-first",
        "rekor2-checkpoint-two-sigs-cosigned",
        "rekor2-checkpoint-two-sigs-from-origin",
    ] {
        let (e, trusted_root) = entry(case);
        let verifier = rekor_v2_verifier(&trusted_root);
        let signed = SignedCheckpoint::open(&e.checkpoint, &verifier, verifier.name())
            .unwrap_or_else(|err| panic!("{case}: {err}"));
        assert!(signed.note.signatures.len() >= 2, "{case}");
        assert_eq!(signed.checkpoint.root_hash, e.root);
        verify_inclusion(e.index, e.size, &e.leaf, &e.proof, &e.root).unwrap();
    }
    // The first signature line of this case is a witness's, the log's is second.
    let (e, _) = entry("rekor2-checkpoint-origin-not-first");
    let note = Note::parse(&e.checkpoint).unwrap();
    assert_eq!(note.signatures[0].name, "witness.example");
}

#[test]
fn rekor_v2_failures() {
    for (case, check) in [
        ("rekor2-checkpoint-missing-origin_fail", "origin"),
        ("rekor2-checkpoint-missing-size_fail", "size"),
        ("rekor2-checkpoint-missing-root-hash_fail", "root"),
    ] {
        let (e, _) = entry(case);
        let note = Note::parse(&e.checkpoint).unwrap();
        let err = Checkpoint::parse(&note.body).unwrap_err();
        assert!(matches!(err, Error::MalformedCheckpoint(_)), "{case} ({check}): {err}");
    }
    let (e, trusted_root) = entry("rekor2-checkpoint-missing-log-signature_fail");
    assert!(Note::parse(&e.checkpoint).is_err());
    let (e, _) = entry("rekor2-checkpoint-no-matching-signature_fail");
    let verifier = rekor_v2_verifier(&trusted_root);
    let signed = SignedCheckpoint::parse(&e.checkpoint).unwrap();
    assert_eq!(signed.verify(&verifier), Err(Error::NoMatchingSignature));
    assert!(signed.checkpoint.check_origin(verifier.name()).is_err());
}
