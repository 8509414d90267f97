//! SECURITY.md section A rows on real bundles (the conformance fixtures), mutated one part at a time.
//! Rows that need signatures we cannot make over real data are in `synthetic.rs`; certificate-level
//! rows (V-08, V-16, R-07) are in sigil-x509's tests; policy rows (V-07, V-09) in sigil-policy's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sigil_policy::{Matcher, Policy};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, SignerCheck, Verifier, VerifierOptions};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const NOW: i64 = 1_900_000_000;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance/bundle-verify")
}

fn bundle(case: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir().join(case).join("bundle.sigstore.json")).unwrap()).unwrap()
}

fn verifier(case: &str) -> Verifier {
    let root = dir().join(case).join("trusted_root.json");
    let trust = if root.exists() {
        TrustedMaterial::from_file(&root).unwrap()
    } else {
        TrustedMaterial::production().unwrap()
    };
    Verifier::new(trust, VerifierOptions::default())
}

fn artifact() -> Vec<u8> {
    std::fs::read(dir().join("a.txt")).unwrap()
}

/// Verifies `b` (JSON) as case `case` would be; returns the error code.
fn check(case: &str, b: &Value, policy: &Policy) -> Result<(), String> {
    let v = verifier(case);
    let parsed = v
        .parse_bundle(b.to_string().as_bytes())
        .map_err(|e| e.code().to_string())?;
    let a = artifact();
    v.verify(&parsed, &Artifact::Bytes(&a), SignerCheck::Identity(policy), NOW)
        .map(|_| ())
        .map_err(|e| e.code().to_string())
}

fn default_policy() -> Policy {
    Policy::identity(Matcher::exact(IDENTITY), Matcher::exact(ISSUER))
}

fn flip_b64(v: &mut Value) {
    let mut bytes = sigil_bundle::encoding::decode_base64(v.as_str().unwrap()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    *v = json!(sigil_bundle::encoding::encode_base64(&bytes));
}

/// The happy paths, one per bundle shape.
const SHAPES: &[&str] = &[
    "happy-path-v0.1",
    "happy-path-v0.2",
    "happy-path-v0.3",
    "happy-path-v0.3-new-mediaType",
    "happy-path-intoto-in-dsse-v3",
    "rekor2-happy-path",
    "rekor2-dsse-happy-path",
];

#[test]
fn happy_paths_verify() {
    for case in SHAPES {
        assert_eq!(check(case, &bundle(case), &default_policy()), Ok(()), "{case}");
    }
}

/// V-01/V-02: an authentic entry from another bundle (its own SET/proof intact) is refused in every shape.
#[test]
fn v02_foreign_entry_is_refused_in_every_shape() {
    for case in SHAPES {
        // Donor: another real bundle of the same log.
        let donor = match *case {
            "rekor2-happy-path" => "rekor2-dsse-happy-path",
            "rekor2-dsse-happy-path" => "rekor2-happy-path",
            "happy-path-v0.1" | "happy-path-v0.2" => "happy-path-v0.3",
            _ => "happy-path-v0.1",
        };
        let mut b = bundle(case);
        b["verificationMaterial"]["tlogEntries"] = bundle(donor)["verificationMaterial"]["tlogEntries"].clone();
        assert_eq!(
            check(case, &b, &default_policy()),
            Err("TLOG_BODY_MISMATCH".into()),
            "{case} with {donor}'s entry"
        );
    }
}

/// V-03: one bit of the signature.
#[test]
fn v03_signature_bit_flip() {
    for case in SHAPES {
        let mut b = bundle(case);
        if b.get("messageSignature").is_some() {
            flip_b64(&mut b["messageSignature"]["signature"]);
        } else {
            flip_b64(&mut b["dsseEnvelope"]["signatures"][0]["sig"]);
        }
        assert_eq!(
            check(case, &b, &default_policy()),
            Err("SIGNATURE_INVALID".into()),
            "{case}"
        );
    }
}

/// V-04: the messageDigest of another artifact.
#[test]
fn v04_message_digest_of_another_artifact() {
    let mut b = bundle("happy-path-v0.3");
    b["messageSignature"]["messageDigest"]["digest"] =
        json!(sigil_bundle::encoding::encode_base64(&sigil_crypto::sha256(b"other")));
    assert_eq!(
        check("happy-path-v0.3", &b, &default_policy()),
        Err("ARTIFACT_DIGEST_MISMATCH".into())
    );
}

/// V-05: the leaf replaced by another valid Fulcio certificate.
#[test]
fn v05_other_certificate() {
    let mut b = bundle("happy-path-v0.3");
    let other = bundle("wrong-hashedrekord-cert-and-sig_fail")["verificationMaterial"]["certificate"].clone();
    assert_ne!(other, b["verificationMaterial"]["certificate"]);
    b["verificationMaterial"]["certificate"] = other;
    assert_eq!(
        check("happy-path-v0.3", &b, &default_policy()),
        Err("SIGNATURE_INVALID".into())
    );
}

/// V-06: wrong SAN or issuer on every shape.
#[test]
fn v06_identity_flags_are_enforced() {
    for case in SHAPES {
        let wrong_san = Policy::identity(
            Matcher::exact("https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main"),
            Matcher::exact(ISSUER),
        );
        assert_eq!(
            check(case, &bundle(case), &wrong_san),
            Err("IDENTITY_MISMATCH".into()),
            "{case}"
        );
        let wrong_issuer = Policy::identity(Matcher::exact(IDENTITY), Matcher::exact("https://accounts.google.com"));
        assert_eq!(
            check(case, &bundle(case), &wrong_issuer),
            Err("IDENTITY_MISMATCH".into()),
            "{case}"
        );
        // V-07 (a): an unanchored-looking regex cannot match by containment.
        let contained = Policy::identity(
            Matcher::regex(r"extremely-dangerous-oidc-beacon\.yml@refs/heads/main").unwrap(),
            Matcher::exact(ISSUER),
        );
        assert_eq!(
            check(case, &bundle(case), &contained),
            Err("IDENTITY_MISMATCH".into()),
            "{case}"
        );
        let full = Policy::identity(
            Matcher::regex(r"https://github\.com/sigstore-conformance/.*").unwrap(),
            Matcher::exact(ISSUER),
        );
        assert_eq!(check(case, &bundle(case), &full), Ok(()), "{case}");
    }
}

/// V-17 / V-24: one valid and one bad RFC 3161 timestamp: the bad one fails the bundle.
#[test]
fn v17_every_timestamp_must_verify() {
    let case = "rekor2-happy-path";
    let mut b = bundle(case);
    let good = b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0].clone();
    let other = bundle("rekor2-timestamp-payload-mismatch_fail")["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0].clone();
    b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] = json!([good.clone(), other]);
    assert_eq!(check(case, &b, &default_policy()), Err("TIMESTAMP_INVALID".into()));
    // The same token twice is refused too.
    b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] = json!([good.clone(), good]);
    assert_eq!(check(case, &b, &default_policy()), Err("DUPLICATE_TIMESTAMP".into()));
}

/// V-20: a bundle-supplied intermediate is never used: appending an unrelated CA certificate to a
/// v0.1 chain changes nothing, and a chain made only of an untrusted CA still fails.
#[test]
fn v20_bundle_intermediates_are_ignored() {
    let case = "happy-path-v0.1";
    let mut b = bundle(case);
    // The TSA root of the staging root is a CA that is not in the production trust root.
    let staging: Value = serde_json::from_str(sigil_trust::STAGING_TRUSTED_ROOT).unwrap();
    let ca = staging["timestampAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["rawBytes"]
        .clone();
    b["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array_mut()
        .unwrap()
        .push(json!({"rawBytes": ca}));
    // The stranger is a self-signed root: refused outright (conformance bundle-with-root-cert_fail).
    assert_eq!(check(case, &b, &default_policy()), Err("CHAIN_CONTAINS_ROOT".into()));
    // An intermediate the trusted root does not list (staging's Fulcio intermediate) is ignored: the
    // bundle verifies exactly as without it, because chains are built from trusted material only.
    let mut b = bundle(case);
    let staging_fulcio = staging["certificateAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ca| ca["certChain"]["certificates"].as_array().unwrap().len() > 1)
        .unwrap()["certChain"]["certificates"][0]["rawBytes"]
        .clone();
    b["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array_mut()
        .unwrap()
        .push(json!({"rawBytes": staging_fulcio}));
    assert_eq!(check(case, &b, &default_policy()), Ok(()));
}

/// V-21: a staging bundle against the production root, and a production bundle against staging.
#[test]
fn v21_wrong_instance() {
    assert_eq!(
        check(
            "bundle-from-wrong-instance_fail",
            &bundle("bundle-from-wrong-instance_fail"),
            &default_policy()
        ),
        Err("UNKNOWN_TLOG".into())
    );
    let staging = Verifier::new(TrustedMaterial::staging().unwrap(), VerifierOptions::default());
    let b = staging
        .parse_bundle(bundle("happy-path-v0.3").to_string().as_bytes())
        .unwrap();
    let a = artifact();
    let policy = default_policy();
    let err = staging
        .verify(&b, &Artifact::Bytes(&a), SignerCheck::Identity(&policy), NOW)
        .unwrap_err();
    assert_eq!(err.code().as_str(), "UNKNOWN_TLOG");
}

/// V-23: malformed inputs give a structured error, never a panic.
#[test]
fn v23_malformed_inputs() {
    let v = verifier("happy-path-v0.3");
    let base = bundle("happy-path-v0.3");
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut b = base.clone();
    b["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!("-1");
    cases.push((b, "BUNDLE_FORMAT"));
    let mut b = base.clone();
    b["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!("1e999");
    cases.push((b, "BUNDLE_FORMAT"));
    let mut b = base.clone();
    b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = json!(1.5);
    cases.push((b, "BUNDLE_FORMAT"));
    let mut b = base.clone();
    b["messageSignature"]["signature"] = json!("not base64!");
    cases.push((b, "BUNDLE_FORMAT"));
    let mut b = base.clone();
    b["mediaType"] = json!("application/vnd.dev.sigstore.bundle.v0.4+json");
    cases.push((b, "UNKNOWN_MEDIA_TYPE"));
    let snake: Value = serde_json::from_str(
        &base
            .to_string()
            .replace("verificationMaterial", "verification_material"),
    )
    .unwrap();
    cases.push((snake, "BUNDLE_FORMAT"));
    let mut b = base.clone();
    b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"] =
        json!(sigil_bundle::encoding::encode_base64(b"[[[[[[["));
    cases.push((b, "TLOG_BODY_INVALID"));
    for (b, want) in cases {
        let got = v.parse_bundle(b.to_string().as_bytes()).and_then(|parsed| {
            let a = artifact();
            let policy = default_policy();
            v.verify(&parsed, &Artifact::Bytes(&a), SignerCheck::Identity(&policy), NOW)
                .map(|_| ())
        });
        assert_eq!(got.map_err(|e| e.code().as_str().to_string()), Err(want.to_string()));
    }
    for junk in [
        &b""[..],
        b"{",
        b"null",
        b"[]",
        b"{\"mediaType\": 5}",
        &[0xff, 0xfe, 0x00][..],
    ] {
        assert!(v.parse_bundle(junk).is_err());
    }
}

/// R-06: many candidate CAs with the same names cost bounded work (each is tried once per time),
/// and the right one is still found.
#[test]
fn r06_many_candidate_cas_are_bounded() {
    let mut root: Value = serde_json::from_str(sigil_trust::PRODUCTION_TRUSTED_ROOT).unwrap();
    let cas = root["certificateAuthorities"].as_array().unwrap().clone();
    // 50 copies of the old CA (same names, wrong key for today's leaves) before the real ones.
    let mut many: Vec<Value> = std::iter::repeat_n(cas[0].clone(), 50).collect();
    for ca in &mut many {
        ca["validFor"] = json!({"start": "2021-01-01T00:00:00Z"});
    }
    many.extend(cas);
    root["certificateAuthorities"] = json!(many);
    let trust = TrustedMaterial::from_json(root.to_string().as_bytes()).unwrap();
    let v = Verifier::new(trust, VerifierOptions::default());
    let b = v
        .parse_bundle(bundle("happy-path-v0.3").to_string().as_bytes())
        .unwrap();
    let a = artifact();
    let policy = default_policy();
    let start = std::time::Instant::now();
    v.verify(&b, &Artifact::Bytes(&a), SignerCheck::Identity(&policy), NOW)
        .unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    // And the trusted root itself caps the number of instances.
    let mut huge: Value = serde_json::from_str(sigil_trust::PRODUCTION_TRUSTED_ROOT).unwrap();
    huge["certificateAuthorities"] = json!(vec![huge["certificateAuthorities"][0].clone(); 300]);
    assert!(TrustedMaterial::from_json(huge.to_string().as_bytes()).is_err());
}
