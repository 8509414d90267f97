//! sigil-x509 against the real conformance and private-instance bundles (read in place, never copied).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use common::*;
use sigil_x509::{Certificate, Error, ExtendedKeyUsage, SubjectAltName, verify_chain, verify_embedded_scts};

const BEACON_SAN: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GHA_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn leaf_of(case: &str) -> Certificate {
    let bundle = read_json(&conformance().join(case).join("bundle.sigstore.json"));
    Certificate::from_der(&bundle_certs(&bundle)[0]).unwrap()
}

/// The trusted chain (from `root`) that validates `leaf` at `at`, if any.
fn validating_chain(leaf: &Certificate, root: &serde_json::Value, at: i64) -> Option<Vec<Certificate>> {
    fulcio_chains(root)
        .into_iter()
        .find(|c| verify_chain(leaf, c, at, ExtendedKeyUsage::CodeSigning).is_ok())
}

#[test]
fn every_certificate_in_every_bundle_and_root_parses() {
    let bundles = all_bundles();
    assert!(
        bundles.len() >= 80,
        "expected ~69 conformance + 14 private bundles, got {}",
        bundles.len()
    );
    let mut leaves = 0;
    for (name, b) in &bundles {
        let certs = bundle_certs(b);
        for (i, der) in certs.iter().enumerate() {
            let c = Certificate::from_der(der).unwrap_or_else(|e| panic!("{name}: cert {i}: {e}"));
            assert_eq!(c.der(), &der[..]);
            if i == 0 {
                leaves += 1;
                assert!(!c.is_ca(), "{name}: leaf is a CA");
                let id = c.identity().unwrap_or_else(|e| panic!("{name}: identity: {e}"));
                assert_eq!(id.sans.len(), 1, "{name}: Fulcio issues exactly one SAN");
                assert!(id.issuer.is_some(), "{name}: no issuer");
                assert!(c.not_before() < c.not_after());
                assert!(c.extension("1.3.6.1.4.1.11129.2.4.2").is_some(), "{name}: no SCT list");
            } else {
                assert!(c.is_ca(), "{name}: chain cert {i} is not a CA");
            }
        }
    }
    assert!(leaves >= 70, "only {leaves} leaf certificates found");

    // Every trusted-root certificate parses too.
    let mut roots = vec![
        shared().join("conformance/production-trusted-root/trusted_root.json"),
        shared().join("private-instance/trusted_root.json"),
    ];
    for (name, _) in cases() {
        let p = conformance().join(&name).join("trusted_root.json");
        if p.exists() {
            roots.push(p);
        }
    }
    for p in roots {
        let r = read_json(&p);
        assert!(!fulcio_chains(&r).is_empty() || r["certificateAuthorities"].is_null());
        let _ = tsa_chains(&r);
    }
}

#[test]
fn happy_path_v03_identity() {
    let c = leaf_of("happy-path-v0.3");
    let id = c.identity().unwrap();
    assert_eq!(id.sans, vec![SubjectAltName::Uri(BEACON_SAN.into())]);
    assert_eq!(id.issuer.as_deref(), Some(GHA_ISSUER));
    let x = &id.extensions;
    assert_eq!(x.issuer_v1.as_deref(), Some(GHA_ISSUER));
    assert_eq!(x.issuer_v2.as_deref(), Some(GHA_ISSUER));
    assert_eq!(
        x.github_workflow_repository.as_deref(),
        Some("sigstore-conformance/extremely-dangerous-public-oidc-beacon")
    );
    assert_eq!(x.github_workflow_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(x.github_workflow_trigger.as_deref(), x.build_trigger.as_deref());
    assert_eq!(x.github_workflow_sha.as_deref(), x.source_repository_digest.as_deref());
    assert_eq!(x.github_workflow_sha.as_ref().map(String::len), Some(40));
    assert_eq!(
        x.source_repository_uri.as_deref(),
        Some("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon")
    );
    assert_eq!(
        x.source_repository_owner_uri.as_deref(),
        Some("https://github.com/sigstore-conformance")
    );
    assert_eq!(x.source_repository_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(x.build_signer_uri.as_deref(), Some(BEACON_SAN));
    assert_eq!(x.build_config_uri.as_deref(), Some(BEACON_SAN));
    assert_eq!(x.runner_environment.as_deref(), Some("github-hosted"));
    assert_eq!(x.source_repository_visibility_at_signing.as_deref(), Some("public"));
    assert!(
        x.run_invocation_uri.as_deref().unwrap().starts_with(
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/actions/runs/"
        )
    );
    assert_eq!(x.by_oid("1.3.6.1.4.1.57264.1.12"), x.source_repository_uri.as_deref());
    assert_eq!(x.by_arc(5), x.github_workflow_repository.as_deref());
    assert_eq!(x.by_arc(7), None);
    assert_eq!(x.token_subject, None, "this certificate predates .24");
}

#[test]
fn email_identity_from_private_instance_and_dex_issuer() {
    let pi = shared().join("private-instance/py-v2.sigstore.json");
    let c = Certificate::from_der(&bundle_certs(&read_json(&pi))[0]).unwrap();
    let id = c.identity().unwrap();
    assert_eq!(id.sans, vec![SubjectAltName::Email("alice@example.test".into())]);
    assert_eq!(id.issuer.as_deref(), Some("http://127.0.0.1:55500"));
    assert_eq!(id.extensions.github_workflow_repository, None);

    let c = leaf_of("bundle-with-root-cert_fail");
    let id = c.identity().unwrap();
    assert_eq!(id.sans, vec![SubjectAltName::Email("a@tny.town".into())]);
    assert_eq!(id.issuer.as_deref(), Some("https://github.com/login/oauth"));
}

#[test]
fn accepting_cases_chain_and_sct_verify() {
    let mut checked = 0;
    let mut bundles: Vec<_> = all_bundles()
        .into_iter()
        .filter(|(n, _)| n.starts_with("private-instance/") || cases().iter().any(|(c, ok)| c == n && *ok))
        .collect();
    bundles.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, b) in bundles {
        let certs = bundle_certs(&b);
        let Some(der) = certs.first() else {
            continue; // managed-key cases carry no certificate
        };
        let leaf = Certificate::from_der(der).unwrap();
        let root = trusted_root_for(&name);
        // The trusted time: the Rekor v1 integratedTime; for Rekor v2 (timestamp-only) bundles the
        // RFC 3161 time is checked in sigil-tsa's tests, here the middle of the leaf's 10 minutes.
        let at = integrated_time(&b).unwrap_or((leaf.not_before() + leaf.not_after()) / 2);
        let chain = validating_chain(&leaf, &root, at).unwrap_or_else(|| {
            let errs: Vec<_> = fulcio_chains(&root)
                .iter()
                .map(|c| verify_chain(&leaf, c, at, ExtendedKeyUsage::CodeSigning))
                .collect();
            panic!("{name}: no trusted chain validates the leaf at {at}: {errs:?}")
        });
        // One second after the leaf expired, the same chain fails, naming the leaf.
        assert_eq!(
            verify_chain(&leaf, &chain, leaf.not_after() + 1, ExtendedKeyUsage::CodeSigning),
            Err(Error::Expired {
                depth: 0,
                not_after: leaf.not_after(),
                at: leaf.not_after() + 1
            }),
            "{name}"
        );
        assert!(matches!(
            verify_chain(&leaf, &chain, leaf.not_before() - 1, ExtendedKeyUsage::CodeSigning),
            Err(Error::NotYetValid { depth: 0, .. })
        ));
        // The validity bounds are inclusive.
        verify_chain(&leaf, &chain, leaf.not_before(), ExtendedKeyUsage::CodeSigning).unwrap();
        verify_chain(&leaf, &chain, leaf.not_after(), ExtendedKeyUsage::CodeSigning).unwrap();
        // A Fulcio leaf is not a timestamping certificate.
        assert_eq!(
            verify_chain(&leaf, &chain, at, ExtendedKeyUsage::TimeStamping),
            Err(Error::MissingEku {
                depth: 0,
                required: ExtendedKeyUsage::TimeStamping
            })
        );
        leaf.verify_issued_by(&chain[0]).unwrap();
        // A TrustedChain (links checked once) gives the same verdicts as verify_chain.
        let trusted = sigil_x509::TrustedChain::new(chain.clone()).unwrap();
        for t in [at, leaf.not_before() - 1, leaf.not_after() + 1] {
            assert_eq!(
                trusted.verify_leaf(&leaf, t, ExtendedKeyUsage::CodeSigning),
                verify_chain(&leaf, &chain, t, ExtendedKeyUsage::CodeSigning),
                "{name} at {t}"
            );
        }
        if chain.len() > 1 {
            // A chain whose links do not verify is refused when built.
            let mut reversed = chain.clone();
            reversed.reverse();
            assert!(sigil_x509::TrustedChain::new(reversed).is_err(), "{name}");
        }

        let logs = ct_logs(&root);
        let scts =
            verify_embedded_scts(&leaf, &chain[0], &logs).unwrap_or_else(|e| panic!("{name}: SCT verification: {e}"));
        assert_eq!(scts.len(), 1, "{name}");
        assert!(logs.iter().any(|l| l.log_id == scts[0].log_id));
        // The SCT was issued while the leaf was being made.
        let sct_secs = (scts[0].timestamp_ms / 1000) as i64;
        assert!(
            (leaf.not_before() - 60..=leaf.not_after()).contains(&sct_secs),
            "{name}"
        );
        // With the issuing CA's key hash replaced (wrong issuer), the SCT no longer verifies.
        assert!(
            matches!(
                verify_embedded_scts(&leaf, chain.last().unwrap(), &logs),
                Err(Error::SctInvalid { .. })
            ) || chain.len() == 1,
            "{name}"
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} accepting bundles checked");
}

#[test]
fn invalid_ct_key_case_has_no_valid_sct() {
    let case = "invalid-ct-key_fail";
    let leaf = leaf_of(case);
    let root = trusted_root_for(case);
    let at = integrated_time(&read_json(&conformance().join(case).join("bundle.sigstore.json"))).unwrap();
    // The chain itself is fine: only the CT log key set is wrong (the production log is missing).
    let chain = validating_chain(&leaf, &root, at).expect("chain validates");
    let logs = ct_logs(&root);
    assert!(!logs.is_empty());
    assert_eq!(verify_embedded_scts(&leaf, &chain[0], &logs), Err(Error::NoValidSct));
    // Against the production CT logs the same SCT verifies.
    let prod = trusted_root_for("happy-path-v0.1");
    assert!(verify_embedded_scts(&leaf, &chain[0], &ct_logs(&prod)).is_ok());
    // A log with the right ID but another key: the SCT is from a known log and fails.
    let mut impostor = ct_logs(&prod);
    let other_key = logs[logs.len() - 1].key.clone();
    for l in &mut impostor {
        l.key = other_key.clone();
    }
    assert!(matches!(
        verify_embedded_scts(&leaf, &chain[0], &impostor),
        Err(Error::SctInvalid { .. })
    ));
    // A known log whose validity window excludes the SCT time: not counted.
    let mut expired = ct_logs(&prod);
    for l in &mut expired {
        l.valid_until = Some(leaf.not_before() - 3600);
    }
    assert_eq!(verify_embedded_scts(&leaf, &chain[0], &expired), Err(Error::NoValidSct));
    // The same log listed twice still yields one verified SCT.
    let mut twice = ct_logs(&prod);
    twice.extend(ct_logs(&prod));
    assert_eq!(verify_embedded_scts(&leaf, &chain[0], &twice).unwrap().len(), 1);
}

#[test]
fn tampered_sct_signature_is_an_error() {
    let leaf = leaf_of("happy-path-v0.3");
    let root = trusted_root_for("happy-path-v0.3");
    let chain = validating_chain(&leaf, &root, leaf.not_before()).unwrap();
    let (_, sct_value) = leaf.extension("1.3.6.1.4.1.11129.2.4.2").unwrap();
    let pos = leaf
        .der()
        .windows(sct_value.len())
        .position(|w| w == sct_value)
        .unwrap();
    // The SCT list ends with the ECDSA signature's `s`; flip its last byte in place (same length).
    let mut der = leaf.der().to_vec();
    der[pos + sct_value.len() - 1] ^= 0x01;
    let tampered = Certificate::from_der(&der).unwrap();
    assert!(matches!(
        verify_embedded_scts(&tampered, &chain[0], &ct_logs(&root)),
        Err(Error::SctInvalid { .. })
    ));
    // The certificate signature covers the SCT too.
    assert_eq!(
        tampered.verify_issued_by(&chain[0]),
        Err(Error::BadSignature { depth: 0 })
    );
}

#[test]
fn staging_leaf_does_not_chain_to_production() {
    let case = "bundle-from-wrong-instance_fail";
    let leaf = leaf_of(case);
    let at = integrated_time(&read_json(&conformance().join(case).join("bundle.sigstore.json"))).unwrap();
    let root = trusted_root_for(case);
    let errs: Vec<_> = fulcio_chains(&root)
        .iter()
        .map(|c| verify_chain(&leaf, c, at, ExtendedKeyUsage::CodeSigning))
        .collect();
    // Chain 0 (the 2021 root alone) has another name; chain 1 has the same intermediate name but another key.
    assert_eq!(
        errs,
        vec![
            Err(Error::ChainBroken { depth: 0 }),
            Err(Error::BadSignature { depth: 0 })
        ]
    );
    let trusted: Vec<_> = fulcio_chains(&root)
        .into_iter()
        .map(|c| {
            sigil_x509::TrustedChain::new(c)
                .unwrap()
                .verify_leaf(&leaf, at, ExtendedKeyUsage::CodeSigning)
        })
        .collect();
    assert_eq!(trusted, errs);
}

#[test]
fn leaf_outside_ca_window_fails() {
    // The leaf claims validity in 2030; the tlog time is 2023 and the CA expires in 2024.
    let case = "intoto-expired-certificate_fail";
    let leaf = leaf_of(case);
    let root = trusted_root_for(case);
    let chain = &fulcio_chains(&root)[0];
    let at = integrated_time(&read_json(&conformance().join(case).join("bundle.sigstore.json"))).unwrap();
    assert!(matches!(
        verify_chain(&leaf, chain, at, ExtendedKeyUsage::CodeSigning),
        Err(Error::NotYetValid { depth: 0, .. })
    ));
    // At the leaf's own time the CA has expired (GHSA-wfqv: every certificate is checked).
    assert!(matches!(
        verify_chain(&leaf, chain, leaf.not_before() + 1, ExtendedKeyUsage::CodeSigning),
        Err(Error::Expired { depth: 1, .. })
    ));
}

#[test]
fn chain_shape_errors() {
    let leaf = leaf_of("happy-path-v0.3");
    let root = trusted_root_for("happy-path-v0.3");
    let chain = validating_chain(&leaf, &root, leaf.not_before()).unwrap();
    let at = leaf.not_before();
    assert_eq!(
        verify_chain(&leaf, &[], at, ExtendedKeyUsage::CodeSigning),
        Err(Error::EmptyChain)
    );
    let long: Vec<_> = std::iter::repeat_n(chain[0].clone(), 11).collect();
    assert!(matches!(
        verify_chain(&leaf, &long, at, ExtendedKeyUsage::CodeSigning),
        Err(Error::ChainTooLong { len: 11, max: 10 })
    ));
    // Anchor only (skipping the intermediate): names do not chain.
    assert_eq!(
        verify_chain(&leaf, &chain[1..], at, ExtendedKeyUsage::CodeSigning),
        Err(Error::ChainBroken { depth: 0 })
    );
    // The leaf as its own issuer: not a CA.
    assert_eq!(
        verify_chain(&leaf, std::slice::from_ref(&leaf), at, ExtendedKeyUsage::CodeSigning),
        Err(Error::NotCa { depth: 1 })
    );
    // A CA as the leaf.
    assert_eq!(
        verify_chain(&chain[0], &chain[1..], at, ExtendedKeyUsage::CodeSigning),
        Err(Error::LeafIsCa)
    );
    // The intermediate's pathLenConstraint is 0: one intermediate below it is too many.
    assert_eq!(chain[0].path_len_constraint(), Some(0));
    let doubled = vec![chain[0].clone(), chain[0].clone(), chain[1].clone()];
    assert_eq!(
        verify_chain(&leaf, &doubled, at, ExtendedKeyUsage::CodeSigning),
        Err(Error::PathLenExceeded { depth: 2, path_len: 0 })
    );
}

#[test]
fn pem_round_trip() {
    let leaf = leaf_of("happy-path-v0.3");
    let pem = sigil_crypto::pem_encode("CERTIFICATE", leaf.der());
    assert_eq!(Certificate::from_pem(&pem).unwrap(), leaf);
    assert!(Certificate::from_pem(&format!("{pem}{pem}")).is_err());
    assert_eq!(Certificate::all_from_pem(&format!("{pem}{pem}")).unwrap().len(), 2);
    assert!(Certificate::from_pem(&sigil_crypto::pem_encode("PUBLIC KEY", leaf.der())).is_err());
    assert!(Certificate::from_pem("").is_err());
}
