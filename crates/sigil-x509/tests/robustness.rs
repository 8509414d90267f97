//! R-07 and friends: hostile DER never panics, overflows the stack or parses as something it is not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use common::*;
use proptest::prelude::*;
use sigil_crypto::der::{encode, tag};
use sigil_x509::{Certificate, Error, ExtendedKeyUsage, verify_chain, verify_embedded_scts};

fn real_leaf() -> Vec<u8> {
    bundle_certs(&read_json(&conformance().join("happy-path-v0.3/bundle.sigstore.json"))).remove(0)
}

fn prod_chain() -> Vec<Certificate> {
    let root = read_json(&shared().join("conformance/production-trusted-root/trusted_root.json"));
    fulcio_chains(&root).pop().unwrap()
}

fn nested(levels: usize, innermost: &[u8]) -> Vec<u8> {
    let mut v = innermost.to_vec();
    for _ in 0..levels {
        v = encode(tag::SEQUENCE, &v);
    }
    v
}

/// Everything a caller might do with a parsed certificate; must never panic.
fn exercise(c: &Certificate, chain: &[Certificate]) {
    let _ = c.identity();
    let _ = verify_chain(c, chain, c.not_before(), ExtendedKeyUsage::CodeSigning);
    let _ = verify_embedded_scts(c, &chain[0], &[]);
    let _ = c.verify_issued_by(&chain[0]);
}

#[test]
fn deeply_nested_sequences_are_rejected_without_recursion() {
    // 10^4 levels fits in 64 KiB; it must fail cleanly (a recursive parser would overflow the stack).
    let deep = nested(10_000, &[0x05, 0x00]);
    assert!(deep.len() <= sigil_x509::MAX_CERT_LEN);
    assert!(matches!(Certificate::from_der(&deep), Err(Error::Parse(_))));
    // 10^5 levels is over the size limit.
    let deeper = nested(100_000, &[]);
    assert!(matches!(Certificate::from_der(&deeper), Err(Error::TooLarge { .. })));
    // Deep nesting hidden in an extension value (an OCTET STRING nobody descends into) is harmless.
    let der = reencode_extensions(&real_leaf(), |exts| {
        exts.push(ext(&[0x2a, 0x03, 0x04], false, &nested(5_000, &[])))
    });
    assert!(der.len() <= sigil_x509::MAX_CERT_LEN);
    let c = Certificate::from_der(&der).unwrap();
    c.identity().unwrap();
    // The same nesting as the TBS's first element.
    let bad = encode(
        tag::SEQUENCE,
        &[nested(5_000, &[]), vec![0x30, 0x00], vec![0x03, 0x01, 0x00]].concat(),
    );
    assert!(Certificate::from_der(&bad).is_err());
}

#[test]
fn non_minimal_lengths_indefinite_lengths_and_trailing_data_are_rejected() {
    let der = real_leaf();
    Certificate::from_der(&der).unwrap();
    // Outer length re-encoded with a redundant length octet: 30 82 LL LL -> 30 83 00 LL LL.
    assert_eq!(der[1], 0x82);
    let mut long = vec![0x30, 0x83, 0x00];
    long.extend_from_slice(&der[2..]);
    assert!(matches!(Certificate::from_der(&long), Err(Error::Parse(_))));
    // Indefinite length.
    let mut indef = vec![0x30, 0x80];
    indef.extend_from_slice(&der[4..]);
    indef.extend_from_slice(&[0, 0]);
    assert!(matches!(Certificate::from_der(&indef), Err(Error::Parse(_))));
    // Trailing bytes.
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(Certificate::from_der(&trailing), Err(Error::Parse(_))));
    let mut two = der.clone();
    two.extend_from_slice(&der);
    assert!(Certificate::from_der(&two).is_err());
    // Oversize input.
    assert!(matches!(
        Certificate::from_der(&vec![0u8; sigil_x509::MAX_CERT_LEN + 1]),
        Err(Error::TooLarge { .. })
    ));
    assert!(Certificate::from_der(&[]).is_err());
    assert!(Certificate::from_der(&[0x30, 0x00]).is_err());
}

#[test]
fn huge_oid_arcs_are_rejected() {
    let der = real_leaf();
    // An extension OID whose last arc is 200 bits long.
    let mut oid = vec![0x2a, 0x03];
    oid.extend(std::iter::repeat_n(0xff, 28));
    oid.push(0x7f);
    let huge = reencode_extensions(&der, |exts| exts.push(ext(&oid, false, &[0x05, 0x00])));
    assert!(matches!(Certificate::from_der(&huge), Err(Error::Parse(_))));
    // A non-minimal arc (leading 0x80).
    let nonmin = reencode_extensions(&der, |exts| exts.push(ext(&[0x2a, 0x80, 0x01], false, &[0x05, 0x00])));
    assert!(matches!(Certificate::from_der(&nonmin), Err(Error::Parse(_))));
    // 10^4 arcs in one OID still parse in linear time, then fail or succeed cleanly.
    let mut many = vec![0x2a];
    many.extend(std::iter::repeat_n(0x01, 10_000));
    let many = reencode_extensions(&der, |exts| exts.push(ext(&many, false, &[0x05, 0x00])));
    let _ = Certificate::from_der(&many);
}

#[test]
fn every_truncation_of_a_real_certificate_fails_cleanly() {
    let der = real_leaf();
    for n in 0..der.len() {
        assert!(Certificate::from_der(&der[..n]).is_err(), "prefix of {n} bytes parsed");
    }
}

#[test]
fn rejects_v1_certificates_and_mismatched_signature_algorithms() {
    let der = real_leaf();
    // Drop the [0] version element: a v1 certificate.
    let cert = sigil_crypto::der::parse_single(&der).unwrap();
    let mut r = cert.reader();
    let tbs = r.read().unwrap();
    let alg = r.read().unwrap();
    let sig = r.read().unwrap();
    let mut t = tbs.reader();
    let _version = t.read().unwrap();
    let mut rest = Vec::new();
    while !t.is_empty() {
        let el = t.read().unwrap();
        if el.tag != 0xa3 {
            rest.extend_from_slice(el.raw);
        }
    }
    let v1 = encode(
        tag::SEQUENCE,
        &[encode(tag::SEQUENCE, &rest), alg.raw.to_vec(), sig.raw.to_vec()].concat(),
    );
    assert_eq!(Certificate::from_der(&v1), Err(Error::UnsupportedVersion));
    // Outer signatureAlgorithm differs from the TBS one.
    let other_alg = encode(
        tag::SEQUENCE,
        &encode(tag::OID, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    );
    let swapped = encode(tag::SEQUENCE, &[tbs.raw.to_vec(), other_alg, sig.raw.to_vec()].concat());
    assert!(matches!(Certificate::from_der(&swapped), Err(Error::Parse(_))));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn bit_flips_never_panic(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut der = real_leaf();
        let i = pos.index(der.len());
        der[i] ^= 1 << bit;
        if let Ok(c) = Certificate::from_der(&der) {
            exercise(&c, &prod_chain());
        }
    }

    #[test]
    fn byte_replacements_and_truncations_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut der = real_leaf();
        for (pos, b) in &edits {
            let i = pos.index(der.len());
            der[i] = *b;
        }
        let keep = der.len() - cut.index(der.len() / 4 + 1);
        der.truncate(keep);
        if let Ok(c) = Certificate::from_der(&der) {
            exercise(&c, &prod_chain());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Certificate::from_der(&bytes);
        let mut seq = vec![0x30, 0x82, (bytes.len() >> 8) as u8, bytes.len() as u8];
        seq.extend_from_slice(&bytes);
        let _ = Certificate::from_der(&seq);
    }
}
