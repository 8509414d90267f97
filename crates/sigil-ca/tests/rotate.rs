#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Intermediate rotation of a CA directory: a new issuing certificate under the same root, the history it leaves,
//! what a crash in the middle leaves, and bad input that must change nothing.

use std::path::Path;

use base64::Engine as _;
use sigil_ca::material::{
    self, CaGeneration, Kind, MAX_CA_GENERATIONS, StagedIntermediate, activate_intermediate, generations,
    load_or_create, new_intermediate, parse_history,
};
use sigil_crypto::Signer as _;
use sigil_x509::Certificate;

const NOW: i64 = 1_750_000_000;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn rotation_issues_under_the_same_root_and_keeps_the_history() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW).unwrap();
    let staged = new_intermediate(dir, "sigil", NOW + 100).unwrap();
    let (second, history) = activate_intermediate(dir, &staged, NOW + 100).unwrap();
    assert_eq!(second.root(), first.root());
    assert_ne!(second.issuing(), first.issuing());
    assert_eq!(second.issuing(), staged.certificate.as_slice());
    let root = Certificate::from_der(first.root()).unwrap();
    let new = Certificate::from_der(second.issuing()).unwrap();
    new.verify_issued_by(&root).unwrap();
    assert!(new.is_ca());
    assert_eq!(new.public_key(), second.signer.public_key());
    assert_eq!(
        history,
        vec![
            CaGeneration {
                certificate: first.issuing().to_vec(),
                activated: root.not_before(),
                retired: Some(NOW + 100),
            },
            CaGeneration {
                certificate: second.issuing().to_vec(),
                activated: NOW + 100,
                retired: None,
            },
        ]
    );
    // A restart loads the new one; the history is on disk.
    let reloaded = load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW + 200).unwrap();
    assert_eq!(reloaded.chain, second.chain);
    assert_eq!(generations(dir).unwrap(), history);
    assert!(!dir.join("next-issuer.pem").exists());

    // A third generation.
    let third = new_intermediate(dir, "sigil", NOW + 300).unwrap();
    let (_, history) = activate_intermediate(dir, &third, NOW + 300).unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[1].retired, Some(NOW + 300));
}

#[test]
fn bad_input_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW).unwrap();
    let other = tempfile::tempdir().unwrap();
    load_or_create(other.path(), Kind::CodeSigningCa, "sigil", NOW).unwrap();
    let before = files(dir);
    let good = new_intermediate(dir, "sigil", NOW + 10).unwrap();
    let foreign = new_intermediate(other.path(), "sigil", NOW + 10).unwrap();
    let cases = [
        (
            "another root's intermediate",
            foreign.clone(),
            "not issued by this CA's root",
        ),
        (
            "a key that is not the certificate's",
            StagedIntermediate {
                certificate: good.certificate.clone(),
                key_pkcs8: foreign.key_pkcs8.clone(),
            },
            "the new intermediate",
        ),
        (
            "garbage certificate",
            StagedIntermediate {
                certificate: b"not DER".to_vec(),
                key_pkcs8: good.key_pkcs8.clone(),
            },
            "certificate",
        ),
        (
            "garbage key",
            StagedIntermediate {
                certificate: good.certificate.clone(),
                key_pkcs8: vec![0x30, 0x00],
            },
            "key",
        ),
        (
            "the current certificate again",
            StagedIntermediate {
                certificate: material::load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW)
                    .unwrap()
                    .chain[0]
                    .clone(),
                key_pkcs8: std::fs::read(dir.join("issuer-key.pk8")).unwrap(),
            },
            "used before",
        ),
    ];
    for (name, staged, want) in cases {
        let e = activate_intermediate(dir, &staged, NOW + 10).unwrap_err().to_string();
        assert!(e.contains(want), "{name}: {e}");
        assert_eq!(files(dir), before, "{name} changed the directory");
    }
    // Not yet valid.
    let e = activate_intermediate(dir, &good, NOW - 1000).unwrap_err().to_string();
    assert!(e.contains("not valid now"), "{e}");
    assert_eq!(files(dir), before);
}

#[test]
fn a_crash_during_a_rotation_is_finished_or_undone_at_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW).unwrap();
    let staged = new_intermediate(dir, "sigil", NOW + 5).unwrap();
    let pem = sigil_crypto::pem_encode("CERTIFICATE", &staged.certificate);

    // Staged, never committed: removed.
    std::fs::write(dir.join("next-issuer.pem"), &pem).unwrap();
    std::fs::write(dir.join("next-issuer-key.pk8"), &staged.key_pkcs8).unwrap();
    let m = load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW).unwrap();
    assert_eq!(m.chain, first.chain);
    assert!(!dir.join("next-issuer.pem").exists() && !dir.join("next-issuer-key.pk8").exists());

    // Committed, then a crash after the key was renamed but before the certificate was.
    let saved = tempfile::tempdir().unwrap();
    for (name, bytes) in files(dir) {
        std::fs::write(saved.path().join(name), bytes).unwrap();
    }
    let (second, _) = activate_intermediate(dir, &staged, NOW + 5).unwrap();
    let history = std::fs::read(dir.join("history.json")).unwrap();
    let crashed = saved.path();
    std::fs::write(crashed.join("history.json"), &history).unwrap();
    std::fs::write(crashed.join("next-issuer.pem"), &pem).unwrap();
    std::fs::write(crashed.join("issuer-key.pk8"), &staged.key_pkcs8).unwrap();
    assert_eq!(generations(crashed).unwrap().len(), 2, "the history is the authority");
    let m = load_or_create(crashed, Kind::CodeSigningCa, "sigil", NOW).unwrap();
    assert_eq!(m.chain, second.chain);
    assert!(!crashed.join("next-issuer.pem").exists());

    // A history whose current certificate is not issuer.pem: refused, named.
    std::fs::write(
        dir.join("issuer.pem"),
        sigil_crypto::pem_encode("CERTIFICATE", first.issuing()),
    )
    .unwrap();
    std::fs::write(dir.join("issuer-key.pk8"), first.signer.to_pkcs8_der()).unwrap();
    let e = load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW)
        .unwrap_err()
        .to_string();
    assert!(e.contains("history.json") && e.contains("not issuer.pem"), "{e}");
}

#[test]
fn history_parsing_is_bounded_and_names_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW).unwrap();
    let staged = new_intermediate(dir, "sigil", NOW + 5).unwrap();
    activate_intermediate(dir, &staged, NOW + 5).unwrap();
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("history.json")).unwrap()).unwrap();
    let path = Path::new("ca/history.json");
    let parse = |v: &serde_json::Value| parse_history(&serde_json::to_vec(v).unwrap(), path);
    assert_eq!(parse(&good).unwrap().len(), 2);
    let leaf_like = {
        // The root's certificate is a CA; a non-CA certificate: take the TSA signer of another directory.
        let tsa = tempfile::tempdir().unwrap();
        let m = load_or_create(tsa.path(), Kind::TimestampSigner, "sigil", NOW).unwrap();
        base64::engine::general_purpose::STANDARD.encode(m.issuing())
    };
    type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (Box::new(|v| v["version"] = 9.into()), "version 9"),
        (Box::new(|v| v["x"] = 1.into()), "unknown field"),
        (Box::new(|v| v["generations"] = serde_json::json!([])), "0 generations"),
        (
            Box::new(|v| v["generations"][1]["retired"] = (NOW + 9).into()),
            "generation 1: retired: the current",
        ),
        (
            Box::new(|v| {
                v["generations"][0].as_object_mut().unwrap().remove("retired");
            }),
            "generation 0: retired: missing",
        ),
        (
            Box::new(|v| v["generations"][1]["activated"] = (NOW - 1).into()),
            "generation 1: activated: before the previous",
        ),
        (
            Box::new(|v| v["generations"][0]["activated"] = (-5).into()),
            "generation 0: activated: negative",
        ),
        (
            Box::new(|v| v["generations"][0]["certificate"] = "%%".into()),
            "generation 0: certificate",
        ),
        (
            Box::new(|v| v["generations"][1]["certificate"] = v["generations"][0]["certificate"].clone()),
            "generation 1: certificate: already in an earlier generation",
        ),
        (
            Box::new(move |v| v["generations"][1]["certificate"] = leaf_like.clone().into()),
            "generation 1: certificate: not a CA",
        ),
    ];
    for (mutate, want) in cases {
        let mut v = good.clone();
        mutate(&mut v);
        let e = parse(&v).unwrap_err().to_string();
        assert!(
            e.contains("ca/history.json") && e.contains(want),
            "{e:?} lacks {want:?}"
        );
    }
    let big = vec![b' '; 4 * 1024 * 1024 + 1];
    assert!(parse_history(&big, path).unwrap_err().to_string().contains("more than"));
    let g = good["generations"][0].clone();
    let mut many = good.clone();
    many["generations"] = serde_json::Value::Array(vec![g; MAX_CA_GENERATIONS + 1]);
    assert!(parse(&many).unwrap_err().to_string().contains("1025 generations"));
    assert!(parse_history(b"", path).is_err());
    // On disk, a broken history stops the CA from loading.
    std::fs::write(dir.join("history.json"), b"{").unwrap();
    let e = load_or_create(dir, Kind::CodeSigningCa, "sigil", NOW)
        .unwrap_err()
        .to_string();
    assert!(e.contains("history.json"), "{e}");
}
