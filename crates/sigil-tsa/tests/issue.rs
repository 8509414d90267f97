//! The issuing side: strict request parsing (T-01, T-02) and tokens that this crate's verifier (and, if present,
//! `openssl ts`) accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use sigil_crypto::der::{self, encode, tag};
use sigil_crypto::der_write as w;
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, Signer, SigningKey};
use sigil_tsa::{
    Accuracy, Error, ParsedRequest, TimeStampRequest, TimeStampResponse, TimestampAuthority, TimestampIssuer,
    parse_request, verify_timestamp,
};
use sigil_x509::{Certificate, Issuer, LeafRequest, LeafSan, Name, self_signed_root, tsa_leaf};

const NOW: i64 = 1_780_000_000;
const DAY: i64 = 86_400;
const POLICY: &str = "1.3.6.1.4.1.57264.2";

fn name(cn: &str) -> Name {
    Name {
        organization: "sigil-test".into(),
        common_name: cn.into(),
    }
}

struct Tsa {
    issuer: TimestampIssuer,
    chain: Vec<Vec<u8>>,
}

impl Tsa {
    fn authority(&self) -> TimestampAuthority {
        TimestampAuthority {
            chain: self.chain.iter().map(|d| Certificate::from_der(d).unwrap()).collect(),
            valid_from: None,
            valid_until: None,
        }
    }
}

fn chain_for(tsa_key: &Arc<dyn Signer>, now: i64) -> Vec<Vec<u8>> {
    let root_key: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap());
    let root_der = self_signed_root(root_key.as_ref(), &name("tsa root"), now - 10 * DAY, now + 3650 * DAY).unwrap();
    let root = Issuer::from_der(&root_der, root_key).unwrap();
    let leaf = tsa_leaf(&root, tsa_key.public_key(), &name("tsa"), now - DAY, now + 365 * DAY).unwrap();
    vec![leaf, root_der]
}

fn make_tsa(alg: KeyAlgorithm) -> Tsa {
    let key: Arc<dyn Signer> = Arc::new(SigningKey::generate(alg).unwrap());
    let chain = chain_for(&key, NOW);
    Tsa {
        issuer: TimestampIssuer::new(key, chain.clone(), POLICY).unwrap(),
        chain,
    }
}

fn p256_tsa() -> &'static Tsa {
    static TSA: OnceLock<Tsa> = OnceLock::new();
    TSA.get_or_init(|| make_tsa(KeyAlgorithm::EcdsaP256))
}

/// A hand-built TimeStampReq: `[version, imprint(alg oid, digest), extra…]`.
fn req_der(version: u64, hash_oid: &str, digest: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    let alg = w::sequence(&[&w::oid(hash_oid).unwrap()]);
    let imprint = w::sequence(&[&alg, &w::octet_string(digest)]);
    let mut parts: Vec<&[u8]> = Vec::new();
    let v = w::integer_u64(version);
    parts.push(&v);
    parts.push(&imprint);
    for e in extra {
        parts.push(e);
    }
    w::sequence(&parts)
}

const SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// Every `SET` (0x31) in `data`, recursively, has its elements in DER order.
fn assert_sets_sorted(data: &[u8]) {
    let mut r = der::Reader::new(data);
    while !r.is_empty() {
        let t = r.read().unwrap();
        if t.tag & 0x20 != 0 {
            if t.tag == tag::SET {
                assert_sorted(t.value);
            }
            assert_sets_sorted(t.value);
        }
    }
}

fn assert_sorted(contents: &[u8]) {
    let mut r = der::Reader::new(contents);
    let mut items = Vec::new();
    while !r.is_empty() {
        items.push(r.read().unwrap().raw.to_vec());
    }
    let mut sorted = items.clone();
    sorted.sort();
    assert_eq!(items, sorted, "SET OF not in DER order");
}

/// The SignedData fields of a TimeStampResp.
fn signed_data_fields(resp: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let outer = der::parse_single(resp).unwrap();
    let mut r = outer.reader();
    r.expect(tag::SEQUENCE).unwrap();
    let ci = r.expect(tag::SEQUENCE).unwrap();
    let mut c = ci.reader();
    c.expect(tag::OID).unwrap();
    let explicit = c.expect(tag::context_constructed(0)).unwrap();
    let sd = der::parse_single(explicit.value).unwrap();
    let mut s = sd.reader();
    let mut out = Vec::new();
    while !s.is_empty() {
        let f = s.read().unwrap();
        out.push((f.tag, f.value.to_vec()));
    }
    out
}

#[test]
fn issued_tokens_verify_against_the_chain() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let tsa = make_tsa(alg);
        let sig = b"the signature bytes";
        let nonce = 0xfedc_ba98_7654_3210u64.to_be_bytes();
        for cert_req in [true, false] {
            let req = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, sig).with_nonce(&nonce);
            let der_req = req.to_der();
            let mut parsed = tsa.issuer.parse_request(&der_req).unwrap();
            assert!(parsed.cert_req());
            if !cert_req {
                parsed = ParsedRequest::from_digest(HashAlgorithm::Sha2_256, req.imprint())
                    .unwrap()
                    .with_nonce(&nonce)
                    .unwrap();
            }
            let resp_der = tsa.issuer.issue(&parsed, NOW, 250, &[0x42; 20]).unwrap();
            let resp = TimeStampResponse::from_der(&resp_der).unwrap();
            let v = verify_timestamp(&resp, sig, &[tsa.authority()]).unwrap();
            assert_eq!(v.time, NOW);
            let tst = resp.tst_info();
            assert_eq!(tst.policy, POLICY);
            assert_eq!(tst.imprint, req.imprint());
            assert_eq!(tst.serial, [0x42; 20]);
            tst.check_nonce(&nonce).unwrap();
            assert_eq!(resp.embedded_certificates().len(), if cert_req { 2 } else { 0 });
            // Strict DER: every SET sorted, and the IMPLICIT [0] sets (certificates) too.
            assert_sets_sorted(&resp_der);
            for (t, v) in signed_data_fields(&resp_der) {
                if t == tag::context_constructed(0) {
                    assert_sorted(&v);
                }
            }
            // Another signature's bytes do not match.
            assert_eq!(
                verify_timestamp(&resp, b"other", &[tsa.authority()]),
                Err(Error::ImprintMismatch)
            );
        }
    }
}

#[test]
fn nonce_is_echoed_and_checked() {
    let tsa = p256_tsa();
    for nonce in [vec![0x00], vec![0x7f], vec![0x80], vec![0xff; 32], vec![0x01; 8]] {
        let req = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, b"s").with_nonce(&nonce);
        let parsed = tsa.issuer.parse_request(&req.to_der()).unwrap();
        let resp = TimeStampResponse::from_der(&tsa.issuer.issue(&parsed, NOW, 0, &[1]).unwrap()).unwrap();
        resp.tst_info().check_nonce(&nonce).unwrap();
        let mut other = nonce.clone();
        other.push(1);
        assert_eq!(resp.tst_info().check_nonce(&other), Err(Error::NonceMismatch));
    }
    // No nonce in the request: none in the token.
    let parsed = ParsedRequest::from_digest(HashAlgorithm::Sha2_256, &[7; 32]).unwrap();
    let resp = TimeStampResponse::from_der(&tsa.issuer.issue(&parsed, NOW, 0, &[1]).unwrap()).unwrap();
    assert_eq!(resp.tst_info().nonce, None);
    assert!(resp.tst_info().check_nonce(&[1]).is_err());
}

#[test]
fn json_form_and_accuracy() {
    let key: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let chain = chain_for(&key, NOW);
    let issuer = TimestampIssuer::new(key, chain.clone(), POLICY)
        .unwrap()
        .with_accuracy(Accuracy {
            seconds: 1,
            millis: 500,
        })
        .unwrap();
    let sig = b"sig";
    for alg in [
        HashAlgorithm::Sha2_256,
        HashAlgorithm::Sha2_384,
        HashAlgorithm::Sha2_512,
    ] {
        let parsed = ParsedRequest::from_digest(alg, &alg.digest(sig)).unwrap();
        let resp_der = issuer.issue(&parsed, NOW + 5, 999, &[9, 9]).unwrap();
        let resp = TimeStampResponse::from_der(&resp_der).unwrap();
        let auth = TimestampAuthority {
            chain: chain.iter().map(|d| Certificate::from_der(d).unwrap()).collect(),
            valid_from: Some(NOW),
            valid_until: Some(NOW + 10),
        };
        assert_eq!(verify_timestamp(&resp, sig, &[auth]).unwrap().time, NOW + 5);
        assert_eq!(resp.tst_info().imprint_algorithm, alg);
    }
    assert!(matches!(
        ParsedRequest::from_digest(HashAlgorithm::Sha2_256, &[0; 20]),
        Err(Error::InconsistentDigestLength { expected: 32, got: 20 })
    ));
    assert!(
        p256_tsa()
            .issuer
            .issue(
                &ParsedRequest::from_digest(HashAlgorithm::Sha2_256, &[0; 32]).unwrap(),
                NOW,
                1000,
                &[1]
            )
            .is_err()
    );
    // Serial: positive, at most 20 bytes.
    let p = ParsedRequest::from_digest(HashAlgorithm::Sha2_256, &[0; 32]).unwrap();
    assert!(p256_tsa().issuer.issue(&p, NOW, 0, &[0, 0]).is_err());
    assert!(p256_tsa().issuer.issue(&p, NOW, 0, &[1; 21]).is_err());
    p256_tsa().issuer.issue(&p, NOW, 0, &[0xff; 20]).unwrap();
}

#[test]
fn t01_oversized_requests_are_refused_fast() {
    // A policy OID of 10⁶ arcs.
    let huge_oid = encode(tag::OID, &[0x01; 1_000_000]);
    let req = req_der(1, SHA256, &[0; 32], &[huge_oid]);
    let start = std::time::Instant::now();
    assert!(matches!(
        parse_request(&req, POLICY),
        Err(Error::RequestTooLarge { .. })
    ));
    // A few-MB request.
    let big = vec![0x30; 4 * 1024 * 1024];
    assert!(matches!(
        parse_request(&big, POLICY),
        Err(Error::RequestTooLarge { .. })
    ));
    assert!(start.elapsed() < std::time::Duration::from_millis(50));
    // Just over the limit / a long OID inside the limit.
    assert!(matches!(
        parse_request(&vec![0; sigil_tsa::MAX_REQUEST_LEN + 1], POLICY),
        Err(Error::RequestTooLarge { .. })
    ));
    let long_oid = encode(
        tag::OID,
        &[0x81; 3000].iter().copied().chain([0x01]).collect::<Vec<_>>(),
    );
    assert!(matches!(
        parse_request(&req_der(1, SHA256, &[0; 32], &[long_oid]), POLICY),
        Err(Error::UnsupportedPolicy(_))
    ));
    // Policies: ours or none.
    parse_request(&req_der(1, SHA256, &[0; 32], &[w::oid(POLICY).unwrap()]), POLICY).unwrap();
    assert!(matches!(
        parse_request(&req_der(1, SHA256, &[0; 32], &[w::oid("1.2.3.4").unwrap()]), POLICY),
        Err(Error::UnsupportedPolicy(p)) if p == "1.2.3.4"
    ));
}

#[test]
fn t02_weak_unsupported_and_inconsistent_hashes() {
    assert!(matches!(
        parse_request(&req_der(1, "1.3.14.3.2.26", &[0; 20], &[]), POLICY),
        Err(Error::WeakHash(_))
    ));
    assert!(matches!(
        parse_request(&req_der(1, "1.2.840.113549.2.5", &[0; 16], &[]), POLICY),
        Err(Error::WeakHash(_))
    ));
    assert!(matches!(
        parse_request(&req_der(1, "2.16.840.1.101.3.4.2.8", &[0; 32], &[]), POLICY),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    for (oid, len) in [
        (SHA256, 31),
        (SHA256, 33),
        (SHA256, 0),
        ("2.16.840.1.101.3.4.2.2", 32),
        ("2.16.840.1.101.3.4.2.3", 48),
    ] {
        assert!(
            matches!(
                parse_request(&req_der(1, oid, &vec![0; len], &[]), POLICY),
                Err(Error::InconsistentDigestLength { .. })
            ),
            "{oid} {len}"
        );
    }
    for (oid, len) in [
        (SHA256, 32),
        ("2.16.840.1.101.3.4.2.2", 48),
        ("2.16.840.1.101.3.4.2.3", 64),
    ] {
        parse_request(&req_der(1, oid, &vec![0; len], &[]), POLICY).unwrap();
    }
}

#[test]
fn malformed_requests_are_refused() {
    let ok = req_der(1, SHA256, &[0; 32], &[]);
    parse_request(&ok, POLICY).unwrap();
    let bad_cases: Vec<(&str, Vec<u8>)> = vec![
        ("version 2", req_der(2, SHA256, &[0; 32], &[])),
        ("trailing data", [ok.clone(), vec![0]].concat()),
        ("not a sequence", w::octet_string(&[1, 2, 3])),
        (
            "negative nonce",
            req_der(1, SHA256, &[0; 32], &[encode(tag::INTEGER, &[0x80])]),
        ),
        (
            "non-minimal nonce",
            req_der(1, SHA256, &[0; 32], &[encode(tag::INTEGER, &[0, 1])]),
        ),
        (
            "long nonce",
            req_der(1, SHA256, &[0; 32], &[w::unsigned_integer(&[0x11; 33])]),
        ),
        (
            "bad boolean",
            req_der(1, SHA256, &[0; 32], &[encode(tag::BOOLEAN, &[1])]),
        ),
        (
            "critical extension",
            req_der(
                1,
                SHA256,
                &[0; 32],
                &[encode(
                    tag::context_constructed(0),
                    &w::sequence(&[&w::oid("1.2.3").unwrap(), &w::boolean(true), &w::octet_string(&[])]),
                )],
            ),
        ),
        (
            "fields out of order",
            req_der(1, SHA256, &[0; 32], &[w::boolean(true), w::integer_u64(5)]),
        ),
        (
            "non-minimal length",
            [vec![0x30, 0x81, 0x03], w::integer_u64(1)].concat(),
        ),
    ];
    for (what, der_bytes) in bad_cases {
        assert!(parse_request(&der_bytes, POLICY).is_err(), "{what}");
    }
    // A non-critical extension is ignored; a full request with everything parses.
    let ext = encode(
        tag::context_constructed(0),
        &w::sequence(&[&w::oid("1.2.3").unwrap(), &w::octet_string(&[])]),
    );
    let full = req_der(
        1,
        SHA256,
        &[5; 32],
        &[
            w::oid(POLICY).unwrap(),
            w::unsigned_integer(&[0xff; 32]),
            w::boolean(true),
            ext,
        ],
    );
    let p = parse_request(&full, POLICY).unwrap();
    assert!(p.cert_req());
    assert_eq!(p.nonce().unwrap().len(), 33);
    assert_eq!(p.imprint(), [5; 32]);
}

#[test]
fn unsuitable_signers_are_refused() {
    let key: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let chain = chain_for(&key, NOW);
    // Another key.
    let other: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    assert!(matches!(
        TimestampIssuer::new(other, chain.clone(), POLICY),
        Err(Error::UnsuitableSigner(_))
    ));
    // Empty chain, broken chain, bad policy.
    assert!(TimestampIssuer::new(key.clone(), vec![], POLICY).is_err());
    let unrelated = chain_for(&key, NOW).pop().unwrap();
    assert!(TimestampIssuer::new(key.clone(), vec![chain[0].clone(), unrelated], POLICY).is_err());
    assert!(TimestampIssuer::new(key.clone(), chain.clone(), "not an oid").is_err());
    // Ed25519 signer (sigstore-js verifies ECDSA only).
    let ed: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::Ed25519).unwrap());
    let ed_chain = chain_for(&ed, NOW);
    assert!(matches!(
        TimestampIssuer::new(ed, ed_chain, POLICY),
        Err(Error::UnsuitableSigner(_))
    ));
    // A certificate without the critical timeStamping EKU: a Fulcio code-signing leaf.
    let ca_key: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let ca_der = self_signed_root(ca_key.as_ref(), &name("ca"), NOW - DAY, NOW + DAY).unwrap();
    let ca = Issuer::from_der(&ca_der, ca_key).unwrap();
    let req = LeafRequest {
        public_key: key.public_key().clone(),
        san: LeafSan::Email("a@example.com".into()),
        oidc_issuer: "https://i".into(),
        extensions: Default::default(),
        not_before: NOW,
        not_after: NOW + 600,
    };
    let sct = w::octet_string(&[0, 0]);
    let code_leaf = sigil_x509::finish_certificate(&ca, &req, &[1], &sct).unwrap();
    assert!(matches!(
        TimestampIssuer::new(key, vec![code_leaf, ca_der], POLICY),
        Err(Error::UnsuitableSigner(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_request_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_request(&bytes, POLICY);
    }

    #[test]
    fn mutated_requests_never_panic(pos in 0usize..200, byte in any::<u8>(), cut in 0usize..200) {
        let mut req = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, b"x")
            .with_nonce(&[1, 2, 3, 4, 5, 6, 7, 8])
            .to_der();
        let at = pos % req.len();
        if let Some(b) = req.get_mut(at) {
            *b = byte;
        }
        let _ = parse_request(&req, POLICY);
        req.truncate(cut % (req.len() + 1));
        let _ = parse_request(&req, POLICY);
    }
}

/// `openssl ts -reply -text` and `openssl ts -verify` (with the query, so the nonce and ESS cert are checked).
#[test]
fn openssl_verifies_issued_tokens() {
    let Ok(out) = std::process::Command::new("openssl").arg("version").output() else {
        eprintln!("openssl not found; skipped");
        return;
    };
    if !out.status.success() {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let key: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap());
    let chain = chain_for(&key, now);
    let tsa = TimestampIssuer::new(key, chain.clone(), POLICY).unwrap();
    let dir = std::env::temp_dir().join(format!("sigil-tsa-issue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    std::fs::write(&data, b"signature bytes").unwrap();
    let query = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, b"signature bytes")
        .with_nonce(&[0x8a, 1, 2, 3, 4, 5, 6, 7])
        .to_der();
    std::fs::write(dir.join("q.tsq"), &query).unwrap();
    let parsed = tsa.parse_request(&query).unwrap();
    std::fs::write(dir.join("r.tsr"), tsa.issue(&parsed, now, 7, &[0x33; 16]).unwrap()).unwrap();
    std::fs::write(dir.join("root.pem"), sigil_crypto::pem_encode("CERTIFICATE", &chain[1])).unwrap();
    std::fs::write(dir.join("leaf.pem"), sigil_crypto::pem_encode("CERTIFICATE", &chain[0])).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "openssl {args:?}: {text}");
        text
    };
    let text = run(&["ts", "-reply", "-in", "r.tsr", "-text"]);
    assert!(text.contains("Status: Granted"), "{text}");
    assert!(text.contains(POLICY), "{text}");
    assert!(text.contains(":34.007") || text.contains(".007 "), "{text}");
    let text = run(&[
        "ts",
        "-verify",
        "-queryfile",
        "q.tsq",
        "-in",
        "r.tsr",
        "-CAfile",
        "root.pem",
    ]);
    assert!(text.contains("Verification: OK"), "{text}");
    let text = run(&[
        "ts",
        "-verify",
        "-data",
        "data",
        "-in",
        "r.tsr",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "leaf.pem",
    ]);
    assert!(text.contains("Verification: OK"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}
