//! hostile DER in time-stamp responses never panics or overflows the stack.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

#[path = "../../sigil-x509/tests/common/mod.rs"]
mod common;

use common::*;
use proptest::prelude::*;
use sigil_crypto::der::{encode, tag};
use sigil_tsa::{Error, TimeStampResponse, TimestampAuthority, verify_timestamp};

fn real(case: &str) -> (Vec<u8>, Vec<u8>, Vec<TimestampAuthority>) {
    let b = read_json(&conformance().join(case).join("bundle.sigstore.json"));
    let ts = b64(
        b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]
            .as_str()
            .unwrap(),
    );
    let sig = b64(b["messageSignature"]["signature"].as_str().unwrap());
    let root = trusted_root_for(case);
    let auths = tsa_chains(&root)
        .into_iter()
        .map(|chain| TimestampAuthority {
            chain,
            valid_from: None,
            valid_until: None,
        })
        .collect();
    (ts, sig, auths)
}

fn exercise(der: &[u8], sig: &[u8], auths: &[TimestampAuthority]) {
    if let Ok(r) = TimeStampResponse::from_der(der) {
        let _ = verify_timestamp(&r, sig, auths);
        let _ = r.tst_info().check_nonce(&[1, 2, 3]);
    }
}

#[test]
fn nesting_trailing_data_and_size() {
    let mut deep = vec![0x05, 0x00];
    for _ in 0..10_000 {
        deep = encode(tag::SEQUENCE, &deep);
    }
    assert!(matches!(TimeStampResponse::from_der(&deep), Err(Error::Malformed(_))));
    // Deep nesting as the token content.
    let mut inner = Vec::new();
    for _ in 0..5_000 {
        inner = encode(tag::SEQUENCE, &inner);
    }
    let resp = encode(
        tag::SEQUENCE,
        &[encode(tag::SEQUENCE, &encode(tag::INTEGER, &[0])), inner].concat(),
    );
    assert!(TimeStampResponse::from_der(&resp).is_err());

    let (der, sig, auths) = real("rekor2-happy-path");
    let r = TimeStampResponse::from_der(&der).unwrap();
    verify_timestamp(&r, &sig, &auths).unwrap();
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(
        TimeStampResponse::from_der(&trailing),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        TimeStampResponse::from_der(&vec![0x30; sigil_tsa::MAX_RESPONSE_LEN + 1]),
        Err(Error::TooLarge { .. })
    ));
    // A non-minimal outer length.
    assert_eq!(der[1], 0x82);
    let mut long = vec![0x30, 0x83, 0x00];
    long.extend_from_slice(&der[2..]);
    assert!(matches!(TimeStampResponse::from_der(&long), Err(Error::Malformed(_))));
    assert!(TimeStampResponse::from_der(&[]).is_err());
}

#[test]
fn every_truncation_fails_cleanly() {
    for case in [
        "rekor2-happy-path",
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
    ] {
        let (der, _, _) = real(case);
        for n in 0..der.len() {
            assert!(
                TimeStampResponse::from_der(&der[..n]).is_err(),
                "{case}: prefix {n} parsed"
            );
        }
    }
}

#[test]
fn any_flipped_bit_in_signed_content_is_rejected() {
    // Every single-bit change inside the TSTInfo either breaks parsing or fails verification.
    let (der, sig, auths) = real("rekor2-happy-path");
    let r = TimeStampResponse::from_der(&der).unwrap();
    let tst = r.tst_info_der().to_vec();
    let start = der.windows(tst.len()).position(|w| w == tst.as_slice()).unwrap();
    for i in start..start + tst.len() {
        for bit in 0..8 {
            let mut d = der.clone();
            d[i] ^= 1 << bit;
            if let Ok(r) = TimeStampResponse::from_der(&d) {
                assert!(
                    verify_timestamp(&r, &sig, &auths).is_err(),
                    "byte {i} bit {bit} accepted"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn bit_flips_never_panic(pos in any::<prop::sample::Index>(), bit in 0u8..8, which in 0usize..2) {
        let case = ["rekor2-happy-path", "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail"][which];
        let (mut der, sig, auths) = real(case);
        let i = pos.index(der.len());
        der[i] ^= 1 << bit;
        exercise(&der, &sig, &auths);
    }

    #[test]
    fn edits_and_truncations_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (mut der, sig, auths) = real("rekor2-timestamp-with-embedded-cert");
        for (pos, b) in &edits {
            let i = pos.index(der.len());
            der[i] = *b;
        }
        let keep = der.len() - cut.index(der.len() / 4 + 1);
        der.truncate(keep);
        exercise(&der, &sig, &auths);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = TimeStampResponse::from_der(&bytes);
        let mut seq = vec![0x30, 0x82, (bytes.len() >> 8) as u8, bytes.len() as u8];
        seq.extend_from_slice(&bytes);
        let _ = TimeStampResponse::from_der(&seq);
    }
}
