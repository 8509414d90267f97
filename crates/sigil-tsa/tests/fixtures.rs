//! sigil-tsa against the real RFC 3161 timestamps in the conformance and private-instance bundles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

// Fixture loading and the ring-signed certificate builder are shared with sigil-x509's tests.
#[path = "../../sigil-x509/tests/common/mod.rs"]
mod common;

use common::*;
use serde_json::Value;
use sigil_tsa::{Error, TimeStampResponse, TimestampAuthority, verify_timestamp};
use sigil_x509::{Certificate, ExtendedKeyUsage};

fn case_bundle(case: &str) -> Value {
    read_json(&conformance().join(case).join("bundle.sigstore.json"))
}

fn timestamps(bundle: &Value) -> Vec<Vec<u8>> {
    bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .map(|a| a.iter().map(|t| b64(t["signedTimestamp"].as_str().unwrap())).collect())
        .unwrap_or_default()
}

/// The bytes the timestamp covers: the message signature, or the first DSSE signature.
fn signed_bytes(bundle: &Value) -> Vec<u8> {
    match bundle["messageSignature"]["signature"].as_str() {
        Some(s) => b64(s),
        None => b64(bundle["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap()),
    }
}

fn authorities(root: &Value) -> Vec<TimestampAuthority> {
    let chains = tsa_chains(root);
    root["timestampAuthorities"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(chains)
        .map(|(a, chain)| TimestampAuthority {
            chain,
            valid_from: a["validFor"]["start"].as_str().map(rfc3339),
            valid_until: a["validFor"]["end"].as_str().map(rfc3339),
        })
        .collect()
}

fn response(case: &str) -> (TimeStampResponse, Vec<u8>, Vec<TimestampAuthority>) {
    let b = case_bundle(case);
    let ts = timestamps(&b);
    assert_eq!(ts.len(), 1, "{case}");
    (
        TimeStampResponse::from_der(&ts[0]).unwrap(),
        signed_bytes(&b),
        authorities(&trusted_root_for(case)),
    )
}

#[test]
fn every_timestamp_in_every_bundle_parses() {
    let mut n = 0;
    for (name, b) in all_bundles() {
        for der in timestamps(&b) {
            let r = TimeStampResponse::from_der(&der).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(r.der(), &der[..]);
            assert_eq!(r.status(), 0, "{name}");
            let t = r.tst_info();
            assert_eq!(t.imprint_algorithm, sigil_crypto::HashAlgorithm::Sha2_256, "{name}");
            assert_eq!(t.imprint.len(), 32);
            assert!(t.gen_time > 1_600_000_000, "{name}");
            assert!(!t.serial.is_empty());
            n += 1;
        }
    }
    assert!(n >= 30, "only {n} timestamps found");

    let (r, _, _) = response("rekor2-happy-path");
    let t = r.tst_info();
    assert_eq!(t.gen_time, rfc3339("2025-06-12T12:02:20Z"));
    assert_eq!(t.policy, "1.3.6.1.4.1.57264.2");
    assert_eq!(
        t.nonce.as_deref(),
        Some(&[0x00, 0x8f, 0x59, 0xf2, 0xaf, 0xe6, 0x9c, 0xc8, 0xa8][..])
    );
    assert_eq!(t.serial, hex("559742c71edae5b645233a7ac43a8d033142a5ac"));
    assert_eq!(r.embedded_certificates().len(), 1);
    assert_eq!(
        r.embedded_certificates()[0],
        authorities(&trusted_root_for("rekor2-happy-path"))[0].chain[0]
    );
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn accepting_cases_verify() {
    let mut checked = 0;
    let mut cases_run = Vec::new();
    let mut list: Vec<(String, Value)> = all_bundles()
        .into_iter()
        .filter(|(n, _)| n.starts_with("private-instance/") || cases().iter().any(|(c, ok)| c == n && *ok))
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, b) in list {
        let ts = timestamps(&b);
        if ts.is_empty() {
            continue;
        }
        let auths = authorities(&trusted_root_for(&name));
        for der in ts {
            let r = TimeStampResponse::from_der(&der).unwrap();
            let v = verify_timestamp(&r, &signed_bytes(&b), &auths).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(v.time, r.tst_info().gen_time);
            assert!(auths[v.authority_index].valid_at(v.time));
            // The verifier's next step: the signing certificate must be valid at the verified time.
            if let Some(der) = bundle_certs(&b).first() {
                let leaf = Certificate::from_der(der).unwrap();
                assert!(leaf.valid_at(v.time), "{name}: timestamp outside the leaf's validity");
                let root = trusted_root_for(&name);
                assert!(
                    fulcio_chains(&root).iter().any(|c| sigil_x509::verify_chain(
                        &leaf,
                        c,
                        v.time,
                        ExtendedKeyUsage::CodeSigning
                    )
                    .is_ok()),
                    "{name}: no Fulcio chain at the timestamp"
                );
            }
            // Any other signature bytes: the imprint no longer matches.
            let mut other = signed_bytes(&b);
            other[0] ^= 1;
            assert_eq!(
                verify_timestamp(&r, &other, &auths),
                Err(Error::ImprintMismatch),
                "{name}"
            );
            checked += 1;
        }
        cases_run.push(name);
    }
    for must in [
        "rekor2-happy-path",
        "rekor2-timestamp-with-embedded-cert",
        "rekor2-timestamp-without-embedded-cert",
        "rekor2-timestamp-with-expired-cert-chain",
        "trust-root-tsa-validity-end-inclusive",
        "intoto-with-custom-trust-root",
        "managed-key-happy-path",
        "bundle-with-sct-with-extensions",
    ] {
        assert!(cases_run.iter().any(|c| c == must), "{must} was not checked");
    }
    assert!(checked >= 15, "only {checked} timestamps verified");
}

#[test]
fn without_embedded_cert_the_trusted_chain_is_enough() {
    let (r, sig, auths) = response("rekor2-timestamp-without-embedded-cert");
    assert!(r.embedded_certificates().is_empty());
    verify_timestamp(&r, &sig, &auths).unwrap();
}

#[test]
fn expired_chain_is_fine_if_valid_at_gen_time() {
    let (r, sig, auths) = response("rekor2-timestamp-with-expired-cert-chain");
    let v = verify_timestamp(&r, &sig, &auths).unwrap();
    // The chain has long expired, but it was valid when the token was made.
    assert!(
        auths[0]
            .chain
            .iter()
            .all(|c| c.not_after() < 1_800_000_000 && c.valid_at(v.time))
    );
    assert_eq!(auths[0].chain.len(), 3);
}

#[test]
fn outside_trust_root_tsa_validity_fails() {
    let (r, sig, auths) = response("rekor2-timestamp-outside-trust-root-tsa-validity_fail");
    let gen_time = r.tst_info().gen_time;
    assert!(auths[0].valid_until.unwrap() < gen_time);
    assert_eq!(
        verify_timestamp(&r, &sig, &auths),
        Err(Error::OutsideAuthorityWindow { gen_time })
    );
}

#[test]
fn outside_tsa_cert_validity_fails() {
    // The window is open, the signer is trusted and the signature is good, but the TSA leaf had expired
    // 84 seconds before genTime.
    let (r, sig, auths) = response("rekor2-timestamp-outside-tsa-cert-validity_fail");
    let gen_time = r.tst_info().gen_time;
    let leaf = &auths[0].chain[0];
    assert_eq!(
        verify_timestamp(&r, &sig, &auths),
        Err(Error::ChainInvalid(sigil_x509::Error::Expired {
            depth: 0,
            not_after: leaf.not_after(),
            at: gen_time
        }))
    );
}

#[test]
fn payload_mismatch_fails() {
    // A valid token, but over another bundle's signature.
    let (r, sig, auths) = response("rekor2-timestamp-payload-mismatch_fail");
    assert_eq!(verify_timestamp(&r, &sig, &auths), Err(Error::ImprintMismatch));
}

#[test]
fn untrusted_tsa_fails_with_or_without_embedded_certs() {
    let (r, sig, auths) = response("rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail");
    assert_eq!(r.embedded_certificates().len(), 2, "FreeTSA embeds its leaf and root");
    assert_eq!(verify_timestamp(&r, &sig, &auths), Err(Error::UntrustedSigner));
    // The embedded certificates are never a source of trust (T-03), even though they name the signer.
    let (r, sig, auths) = response("rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail");
    assert!(r.embedded_certificates().is_empty());
    assert_eq!(verify_timestamp(&r, &sig, &auths), Err(Error::UntrustedSigner));
}

#[test]
fn embedded_cert_does_not_replace_the_trusted_one() {
    // T-03: a response that embeds the right certificate, checked against another TSA's trusted chain.
    let (r, sig, _) = response("rekor2-timestamp-with-embedded-cert");
    let production = authorities(&read_json(
        &shared().join("conformance/production-trusted-root/trusted_root.json"),
    ));
    assert_eq!(verify_timestamp(&r, &sig, &production), Err(Error::UntrustedSigner));
    assert_eq!(verify_timestamp(&r, &sig, &[]), Err(Error::UntrustedSigner));
}

#[test]
fn incorrect_time_passes_the_tsa_but_not_the_signing_certificate() {
    // The token is valid; the failure is that genTime is outside the Fulcio leaf's validity, which the
    // verifier checks with the verified time.
    for case in [
        "rekor2-timestamp-with-incorrect-time_fail",
        "intoto-tsa-timestamp-outside-cert-validity_fail",
    ] {
        let (r, sig, auths) = response(case);
        let v = verify_timestamp(&r, &sig, &auths).unwrap_or_else(|e| panic!("{case}: {e}"));
        let leaf = Certificate::from_der(&bundle_certs(&case_bundle(case))[0]).unwrap();
        assert!(!leaf.valid_at(v.time), "{case}");
        let root = trusted_root_for(case);
        for chain in fulcio_chains(&root) {
            assert!(matches!(
                sigil_x509::verify_chain(&leaf, &chain, v.time, ExtendedKeyUsage::CodeSigning),
                Err(sigil_x509::Error::Expired { depth: 0, .. })
            ));
        }
    }
}

#[test]
fn authority_window_is_inclusive_and_per_authority() {
    let (r, sig, auths) = response("trust-root-tsa-validity-end-inclusive");
    let gen_time = r.tst_info().gen_time;
    assert_eq!(auths[0].valid_until, Some(gen_time));
    assert_eq!(verify_timestamp(&r, &sig, &auths).unwrap().time, gen_time);
    let mut narrow = auths.clone();
    narrow[0].valid_until = Some(gen_time - 1);
    assert_eq!(
        verify_timestamp(&r, &sig, &narrow),
        Err(Error::OutsideAuthorityWindow { gen_time })
    );
    let mut late = auths.clone();
    late[0].valid_from = Some(gen_time + 1);
    late[0].valid_until = None;
    assert_eq!(
        verify_timestamp(&r, &sig, &late),
        Err(Error::OutsideAuthorityWindow { gen_time })
    );
    // T-04: an authority with an empty chain and an unbounded window does not rescue it.
    let mut with_empty = narrow.clone();
    with_empty.push(TimestampAuthority {
        chain: Vec::new(),
        valid_from: None,
        valid_until: None,
    });
    assert_eq!(
        verify_timestamp(&r, &sig, &with_empty),
        Err(Error::OutsideAuthorityWindow { gen_time })
    );
    // The same TSA listed twice: the entry whose window fits is used.
    let mut two = narrow.clone();
    two.extend(auths.clone());
    assert_eq!(verify_timestamp(&r, &sig, &two).unwrap().authority_index, 1);
}

#[test]
fn nonce_check() {
    let (r, _, _) = response("rekor2-happy-path");
    let t = r.tst_info();
    let nonce = [0x8f, 0x59, 0xf2, 0xaf, 0xe6, 0x9c, 0xc8, 0xa8];
    t.check_nonce(&nonce).unwrap();
    t.check_nonce(&[&[0u8, 0][..], &nonce].concat()).unwrap();
    assert_eq!(t.check_nonce(&nonce[1..]), Err(Error::NonceMismatch));
    assert_eq!(t.check_nonce(&[0x12]), Err(Error::NonceMismatch));
    let (r, _, _) = response("rekor2-dsse-happy-path");
    assert_eq!(r.tst_info().nonce, None);
    assert_eq!(r.tst_info().check_nonce(&nonce), Err(Error::NonceMismatch));
}
