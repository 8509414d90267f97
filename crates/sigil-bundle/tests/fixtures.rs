//! Every real bundle, trusted root and signing config in `../shared/fixtures` parses, round-trips,
//! and its log entry bodies decode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};

use sigil_bundle::bundle::BundleVersion;
use sigil_bundle::{Bundle, ClientTrustConfig, RekorBody, SigningConfig, TrustedRoot};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn bundle_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let dir = fixtures().join("conformance/bundle-verify");
    for e in std::fs::read_dir(&dir).expect("fixtures (shared/ must sit beside the checkout)") {
        let p = e.unwrap().path().join("bundle.sigstore.json");
        if p.exists() {
            out.push(p);
        }
    }
    for e in std::fs::read_dir(fixtures().join("private-instance")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".sigstore.json") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Cases whose bundle is meant to be unparseable.
const UNPARSEABLE: &[&str] = &[
    "bundle-malformed-json_fail",
    "bundle-unknown-version_fail",
    "bundle-invalid-base64-signature_fail",
    "bundle-negative-log-index_fail",
    "bundle-empty-certificate-chain_fail",
];

#[test]
fn bundles_parse_and_roundtrip() {
    let limits = sigil_bundle::Limits::default();
    let files = bundle_files();
    assert!(
        files.len() >= 84,
        "expected 70 conformance + 14 private-instance bundles, found {}",
        files.len()
    );
    let mut parsed = 0;
    for f in &files {
        let json = std::fs::read(f).unwrap();
        let case = f.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
        let res = Bundle::from_json(&json, &limits);
        if UNPARSEABLE.contains(&case.as_str()) {
            assert!(res.is_err(), "{case} should not parse");
            continue;
        }
        let b = res.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        parsed += 1;
        let again = Bundle::from_json(b.to_json().unwrap().as_bytes(), &limits).unwrap();
        assert_eq!(b, again, "{} did not round-trip", f.display());
        for e in &b.verification_material.tlog_entries {
            let body = e.canonicalized_body.as_ref().expect("body");
            let rb = RekorBody::from_json(body).unwrap_or_else(|err| panic!("{}: {err}", f.display()));
            assert_eq!(
                rb.kind_version(),
                (e.kind_version.kind.as_str(), e.kind_version.version.as_str())
            );
        }
    }
    assert_eq!(parsed, files.len() - UNPARSEABLE.len());
}

#[test]
fn unparseable_cases_fail_for_the_stated_reason() {
    let limits = sigil_bundle::Limits::default();
    let dir = fixtures().join("conformance/bundle-verify");
    let err = |c: &str| {
        Bundle::from_json(
            &std::fs::read(dir.join(c).join("bundle.sigstore.json")).unwrap(),
            &limits,
        )
        .unwrap_err()
    };
    assert!(matches!(
        err("bundle-unknown-version_fail"),
        sigil_bundle::Error::UnknownMediaType(_)
    ));
    assert!(matches!(
        err("bundle-malformed-json_fail"),
        sigil_bundle::Error::Json(_)
    ));
    assert!(
        err("bundle-invalid-base64-signature_fail")
            .to_string()
            .contains("base64")
    );
    assert!(err("bundle-negative-log-index_fail").to_string().contains("negative"));
    assert!(matches!(
        err("bundle-empty-certificate-chain_fail"),
        sigil_bundle::Error::Structure(_)
    ));
}

#[test]
fn media_type_versions() {
    let limits = sigil_bundle::Limits::default();
    let dir = fixtures().join("conformance/bundle-verify");
    for (case, v) in [
        ("happy-path-v0.1", BundleVersion::V0_1),
        ("happy-path-v0.2", BundleVersion::V0_2),
        ("happy-path-v0.3", BundleVersion::V0_3),
        ("happy-path-v0.3-new-mediaType", BundleVersion::V0_3),
    ] {
        let b = Bundle::from_json(
            &std::fs::read(dir.join(case).join("bundle.sigstore.json")).unwrap(),
            &limits,
        )
        .unwrap();
        assert_eq!(b.version().unwrap(), v, "{case}");
    }
}

#[test]
fn trust_material_parses() {
    let limits = sigil_bundle::Limits::default();
    let mut roots = vec![
        fixtures().join("tuf/production/trusted_root.json"),
        fixtures().join("tuf/staging/trusted_root.json"),
        fixtures().join("conformance/production-trusted-root/trusted_root.json"),
        fixtures().join("private-instance/trusted_root.json"),
    ];
    for e in std::fs::read_dir(fixtures().join("conformance/bundle-verify")).unwrap() {
        let p = e.unwrap().path().join("trusted_root.json");
        if p.exists() {
            roots.push(p);
        }
    }
    for r in &roots {
        let t = TrustedRoot::from_json(&std::fs::read(r).unwrap(), &limits)
            .unwrap_or_else(|e| panic!("{}: {e}", r.display()));
        let again = TrustedRoot::from_json(t.to_json().unwrap().as_bytes(), &limits).unwrap();
        assert_eq!(t, again);
    }
    let prod = TrustedRoot::from_json(&std::fs::read(&roots[0]).unwrap(), &limits).unwrap();
    assert_eq!(prod.tlogs.len(), 2);
    assert_eq!(prod.tlogs[0].base_url, "https://rekor.sigstore.dev");
    for s in ["production", "staging"] {
        let c = SigningConfig::from_json(
            &std::fs::read(fixtures().join("tuf").join(s).join("signing_config.v0.2.json")).unwrap(),
            &limits,
        )
        .unwrap();
        assert!(!c.ca_urls.is_empty());
    }
    for f in ["trust_config.json", "trust_config_rekor2.json"] {
        ClientTrustConfig::from_json(
            &std::fs::read(fixtures().join("private-instance").join(f)).unwrap(),
            &limits,
        )
        .unwrap();
    }
}

#[test]
fn limits_are_enforced() {
    let dir = fixtures().join("conformance/bundle-verify");
    let json = std::fs::read(dir.join("happy-path-v0.3/bundle.sigstore.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let entry = v["verificationMaterial"]["tlogEntries"][0].clone();
    v["verificationMaterial"]["tlogEntries"] = serde_json::Value::Array(vec![entry; 33]);
    let err = Bundle::from_json(v.to_string().as_bytes(), &sigil_bundle::Limits::default()).unwrap_err();
    assert_eq!(err, sigil_bundle::Error::LimitExceeded("tlog entries"));
    let small = sigil_bundle::Limits {
        max_bundle_bytes: 100,
        ..Default::default()
    };
    assert_eq!(
        Bundle::from_json(&json, &small).unwrap_err(),
        sigil_bundle::Error::LimitExceeded("bundle size")
    );
    // Deep nesting is refused by the JSON parser's recursion limit, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Bundle::from_json(deep.as_bytes(), &sigil_bundle::Limits::default()).is_err());
    // snake_case keys are not proto3 JSON names: the required fields are then missing.
    let snake = String::from_utf8(json)
        .unwrap()
        .replace("verificationMaterial", "verification_material");
    assert!(Bundle::from_json(snake.as_bytes(), &sigil_bundle::Limits::default()).is_err());
}

#[test]
fn rekor_v2_bodies_reserialize_to_the_exact_leaf_bytes() {
    // rekor-tiles writes the leaf as JCS of the entry: re-encoding the parsed body must give back the
    // very bytes that were hashed into the log.
    let limits = sigil_bundle::Limits::default();
    let mut checked = 0;
    for f in bundle_files() {
        let Ok(b) = Bundle::from_json(&std::fs::read(&f).unwrap(), &limits) else {
            continue;
        };
        for e in &b.verification_material.tlog_entries {
            let body = e.canonicalized_body.as_ref().unwrap();
            if let RekorBody::HashedRekordV002(h) = RekorBody::from_json(body).unwrap() {
                assert_eq!(h.canonical_body().unwrap(), body.0, "{}", f.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} Rekor v2 bodies checked");
}

#[test]
fn signing_and_client_configs_roundtrip() {
    let limits = sigil_bundle::Limits::default();
    for s in ["production", "staging"] {
        let c = SigningConfig::from_json(
            &std::fs::read(fixtures().join("tuf").join(s).join("signing_config.v0.2.json")).unwrap(),
            &limits,
        )
        .unwrap();
        let again = SigningConfig::from_json(serde_json::to_string(&c).unwrap().as_bytes(), &limits).unwrap();
        assert_eq!(c, again);
    }
    let c = ClientTrustConfig::from_json(
        &std::fs::read(fixtures().join("private-instance/trust_config.json")).unwrap(),
        &limits,
    )
    .unwrap();
    let again = ClientTrustConfig::from_json(serde_json::to_string(&c).unwrap().as_bytes(), &limits).unwrap();
    assert_eq!(c, again);
    // A v0.1 signing config media type is refused (clients accept only v0.2).
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("tuf/production/signing_config.v0.2.json")).unwrap())
            .unwrap();
    v["mediaType"] = serde_json::json!("application/vnd.dev.sigstore.signingconfig.v0.1+json");
    assert!(SigningConfig::from_json(v.to_string().as_bytes(), &limits).is_err());
}

/// Proto3 JSON leaves out zero values: sigstore-js writes the first entry of a log without `logIndex` (and, in a
/// tree of one, without the proof's `logIndex` and `hashes`). That is index 0, not a malformed bundle.
#[test]
fn an_absent_log_index_is_zero() {
    let dir = fixtures().join("conformance/bundle-verify");
    let json = std::fs::read(dir.join("happy-path-v0.3/bundle.sigstore.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let entry = &mut v["verificationMaterial"]["tlogEntries"][0];
    entry.as_object_mut().unwrap().remove("logIndex");
    entry["inclusionProof"].as_object_mut().unwrap().remove("logIndex");
    entry["inclusionProof"].as_object_mut().unwrap().remove("hashes");
    let bundle = Bundle::from_json(v.to_string().as_bytes(), &sigil_bundle::Limits::default()).unwrap();
    let e = &bundle.verification_material.tlog_entries[0];
    assert_eq!(e.log_index.0, 0);
    let proof = e.inclusion_proof.as_ref().unwrap();
    assert_eq!(proof.log_index.0, 0);
    assert!(proof.hashes.is_empty());
}
