//! Issuing: roots, intermediates, Fulcio leaves (precertificate + final) and TSA leaves, read back with this
//! crate's own parser, chain validation and identity extraction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use sigil_crypto::der::{self, tag};
use sigil_crypto::{KeyAlgorithm, Signer, SigningKey};
use sigil_x509::{
    Certificate, Error, ExtendedKeyUsage, Issuer, LeafRequest, LeafSan, Name, SubjectAltName, build_precertificate,
    check_end_entity, finish_certificate, intermediate, random_serial, self_signed_root, tsa_leaf, verify_chain,
};

const NOW: i64 = 1_780_000_000;
const DAY: i64 = 86_400;
const SCT_OID: &str = "1.3.6.1.4.1.11129.2.4.2";
const POISON_OID: &str = "1.3.6.1.4.1.11129.2.4.3";

fn key(alg: KeyAlgorithm) -> Arc<dyn Signer> {
    Arc::new(SigningKey::generate(alg).unwrap())
}

fn name(cn: &str) -> Name {
    Name {
        organization: "sigil-test".into(),
        common_name: cn.into(),
    }
}

struct Pki {
    root: Certificate,
    inter: Certificate,
    inter_issuer: Issuer,
}

fn pki_with(root_alg: KeyAlgorithm, inter_alg: KeyAlgorithm) -> Pki {
    let root_key = key(root_alg);
    let root_der = self_signed_root(root_key.as_ref(), &name("root"), NOW - 10 * DAY, NOW + 3650 * DAY).unwrap();
    let root_issuer = Issuer::from_der(&root_der, root_key).unwrap();
    let inter_key = key(inter_alg);
    let inter_der = intermediate(
        &root_issuer,
        inter_key.public_key(),
        &name("intermediate"),
        NOW - 5 * DAY,
        NOW + 365 * DAY,
        Some(0),
    )
    .unwrap();
    let inter = Certificate::from_der(&inter_der).unwrap();
    Pki {
        root: root_issuer.certificate().clone(),
        inter_issuer: Issuer::new(inter.clone(), inter_key).unwrap(),
        inter,
    }
}

fn pki() -> Pki {
    pki_with(KeyAlgorithm::EcdsaP384, KeyAlgorithm::EcdsaP384)
}

fn request(san: LeafSan, issuer: &str, extensions: BTreeMap<u8, String>) -> LeafRequest {
    LeafRequest {
        public_key: SigningKey::generate(KeyAlgorithm::EcdsaP256)
            .unwrap()
            .public_key()
            .clone(),
        san,
        oidc_issuer: issuer.into(),
        extensions,
        not_before: NOW,
        not_after: NOW + 600,
    }
}

/// An SCT-list extension value: OCTET STRING wrapping a TLS list with one opaque SCT.
fn sct_value() -> Vec<u8> {
    let sct = vec![0x5a; 40];
    let mut list = (u16::try_from(sct.len()).unwrap()).to_be_bytes().to_vec();
    list.extend_from_slice(&sct);
    let mut tls = (u16::try_from(list.len()).unwrap()).to_be_bytes().to_vec();
    tls.extend_from_slice(&list);
    sigil_crypto::der_write::octet_string(&tls)
}

/// The TBS with the extensions whose dotted OID is in `drop` removed (re-encoded, everything else verbatim).
fn tbs_without(tbs: &[u8], drop: &[&str]) -> Vec<u8> {
    let seq = der::parse_single(tbs).unwrap();
    let mut r = seq.reader();
    let mut body = Vec::new();
    while !r.is_empty() {
        let f = r.read().unwrap();
        if f.tag == tag::context_constructed(3) {
            let exts = der::parse_single(f.value).unwrap();
            let mut e = exts.reader();
            let mut kept = Vec::new();
            while !e.is_empty() {
                let ext = e.read().unwrap();
                let o = ext.reader().expect(tag::OID).unwrap();
                if !drop.contains(&der::oid_to_string(o.value).unwrap().as_str()) {
                    kept.extend_from_slice(ext.raw);
                }
            }
            body.extend(der::encode(
                tag::context_constructed(3),
                &der::encode(tag::SEQUENCE, &kept),
            ));
        } else {
            body.extend_from_slice(f.raw);
        }
    }
    der::encode(tag::SEQUENCE, &body)
}

/// Dotted OIDs of the extensions, in order, with their criticality.
fn extension_list(cert: &Certificate) -> Vec<(String, bool)> {
    let seq = der::parse_single(cert.tbs_der()).unwrap();
    let mut r = seq.reader();
    while let Ok(f) = r.read() {
        if f.tag == tag::context_constructed(3) {
            let exts = der::parse_single(f.value).unwrap();
            let mut e = exts.reader();
            let mut out = Vec::new();
            while !e.is_empty() {
                let ext = e.read().unwrap();
                let mut x = ext.reader();
                let o = der::oid_to_string(x.expect(tag::OID).unwrap().value).unwrap();
                let critical = x.optional(tag::BOOLEAN).unwrap().is_some_and(|b| b.value == [0xff]);
                out.push((o, critical));
            }
            return out;
        }
    }
    panic!("no extensions");
}

fn issue_leaf(p: &Pki, req: &LeafRequest) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let serial = random_serial().unwrap();
    let pre = build_precertificate(&p.inter_issuer, req, &serial).unwrap();
    let fin = finish_certificate(&p.inter_issuer, req, &serial, &sct_value()).unwrap();
    (pre.der, pre.tbs_without_poison, fin)
}

#[test]
fn issued_chain_verifies_inside_validity_only() {
    for (root_alg, inter_alg) in [
        (KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP256),
        (KeyAlgorithm::EcdsaP384, KeyAlgorithm::EcdsaP384),
        (KeyAlgorithm::EcdsaP384, KeyAlgorithm::EcdsaP256),
    ] {
        let p = pki_with(root_alg, inter_alg);
        let req = request(
            LeafSan::Email("a@example.com".into()),
            "https://issuer.example",
            BTreeMap::new(),
        );
        let (_, _, fin) = issue_leaf(&p, &req);
        let leaf = Certificate::from_der(&fin).unwrap();
        let chain = [p.inter.clone(), p.root.clone()];
        for t in [NOW, NOW + 300, NOW + 600] {
            verify_chain(&leaf, &chain, t, ExtendedKeyUsage::CodeSigning).unwrap();
        }
        assert!(matches!(
            verify_chain(&leaf, &chain, NOW - 1, ExtendedKeyUsage::CodeSigning),
            Err(Error::NotYetValid { depth: 0, .. })
        ));
        assert!(matches!(
            verify_chain(&leaf, &chain, NOW + 601, ExtendedKeyUsage::CodeSigning),
            Err(Error::Expired { depth: 0, .. })
        ));
        // Wrong EKU, and a chain without the intermediate, fail.
        assert!(verify_chain(&leaf, &chain, NOW, ExtendedKeyUsage::TimeStamping).is_err());
        assert!(verify_chain(&leaf, std::slice::from_ref(&p.root), NOW, ExtendedKeyUsage::CodeSigning).is_err());
        // The intermediate itself chains to the root.
        p.inter.verify_issued_by(&p.root).unwrap();
        p.root.verify_issued_by(&p.root).unwrap();
    }
}

#[test]
fn precertificate_and_final_share_the_tbs() {
    let p = pki();
    let mut ext = BTreeMap::new();
    ext.insert(2, "push".to_string());
    ext.insert(12, "https://github.com/o/r".to_string());
    let req = request(
        LeafSan::Uri("https://github.com/o/r/.github/workflows/w.yml@refs/heads/main".into()),
        "https://token.actions.githubusercontent.com",
        ext,
    );
    let (pre_der, tbs_without_poison, fin) = issue_leaf(&p, &req);
    let pre = Certificate::from_der(&pre_der).unwrap();
    let leaf = Certificate::from_der(&fin).unwrap();
    assert!(pre.is_precertificate());
    assert!(!leaf.is_precertificate());
    assert_eq!(tbs_without(pre.tbs_der(), &[POISON_OID]), tbs_without_poison);
    assert_eq!(tbs_without(leaf.tbs_der(), &[SCT_OID]), tbs_without_poison);
    // Poison and SCT list are last; the poison critical, the SCT list not.
    assert_eq!(extension_list(&pre).last().unwrap(), &(POISON_OID.to_string(), true));
    assert_eq!(extension_list(&leaf).last().unwrap(), &(SCT_OID.to_string(), false));
    assert_eq!(pre.extension(POISON_OID).unwrap().1, [0x05, 0x00]);
    assert_eq!(leaf.extension(SCT_OID).unwrap().1, sct_value().as_slice());
    // The precertificate is signed by the issuer but is not a usable leaf (critical poison).
    pre.verify_issued_by(&p.inter).unwrap();
    assert!(matches!(
        verify_chain(
            &pre,
            &[p.inter.clone(), p.root.clone()],
            NOW,
            ExtendedKeyUsage::CodeSigning
        ),
        Err(Error::UnknownCriticalExtension { depth: 0, .. })
    ));
    assert_eq!(pre.serial(), leaf.serial());
}

#[test]
fn leaf_profile() {
    let p = pki();
    let req = request(
        LeafSan::Email("a@example.com".into()),
        "https://issuer.example",
        BTreeMap::new(),
    );
    let (_, _, fin) = issue_leaf(&p, &req);
    let leaf = Certificate::from_der(&fin).unwrap();
    assert_eq!(leaf.subject_der(), [0x30, 0x00]);
    assert_eq!(leaf.issuer_der(), p.inter.subject_der());
    assert_eq!(leaf.not_after() - leaf.not_before(), 600);
    assert!(!leaf.is_ca());
    assert_eq!(leaf.public_key(), &req.public_key);
    let exts = extension_list(&leaf);
    let want: Vec<(String, bool)> = [
        ("2.5.29.15", true),
        ("2.5.29.37", false),
        ("2.5.29.14", false),
        ("2.5.29.35", false),
        ("2.5.29.17", true),
        ("1.3.6.1.4.1.57264.1.1", false),
        ("1.3.6.1.4.1.57264.1.8", false),
        (SCT_OID, false),
    ]
    .iter()
    .map(|(o, c)| ((*o).to_string(), *c))
    .collect();
    assert_eq!(exts, want);
    assert_eq!(leaf.extension("2.5.29.15").unwrap().1, [0x03, 0x02, 0x07, 0x80]);
    assert!(leaf.has_extended_key_usage(ExtendedKeyUsage::CodeSigning));
    // AKI = the issuer's SKI; SKI is 20 bytes.
    let aki = leaf.extension("2.5.29.35").unwrap().1;
    let aki = der::parse_single(aki).unwrap();
    let kid = aki.reader().expect(tag::context_primitive(0)).unwrap();
    assert_eq!(Some(kid.value), p.inter.subject_key_id());
    assert_eq!(leaf.subject_key_id().unwrap().len(), 20);
    // Serial: positive, ≤ 20 octets.
    assert!(leaf.serial().len() <= 20 && leaf.serial()[0] < 0x80);
    // `.1` raw bytes, `.8` UTF8String.
    assert_eq!(
        leaf.extension("1.3.6.1.4.1.57264.1.1").unwrap().1,
        b"https://issuer.example"
    );
    assert_eq!(leaf.extension("1.3.6.1.4.1.57264.1.8").unwrap().1[0], 0x0c);
    check_end_entity(&leaf, NOW, ExtendedKeyUsage::CodeSigning).unwrap();
}

#[test]
fn ca_profiles() {
    let p = pki();
    for (cert, critical_bc) in [(&p.root, true), (&p.inter, true)] {
        assert!(cert.is_ca());
        assert_eq!(cert.extension("2.5.29.19").unwrap().0, critical_bc);
        let (ku_critical, ku) = cert.extension("2.5.29.15").unwrap();
        assert!(ku_critical);
        assert_eq!(ku, [0x03, 0x02, 0x01, 0x06]);
        assert_eq!(cert.subject_key_id().unwrap().len(), 20);
    }
    assert!(p.root.is_self_issued());
    assert_eq!(p.root.path_len_constraint(), None);
    assert_eq!(p.inter.path_len_constraint(), Some(0));
    assert!(p.inter.has_extended_key_usage(ExtendedKeyUsage::CodeSigning));
    assert!(p.inter.extension("2.5.29.35").is_some());
    assert!(p.root.extension("2.5.29.35").is_none());
    assert_eq!(p.inter.signature_algorithm_oid(), "1.2.840.10045.4.3.3");
}

#[test]
fn tsa_leaf_profile() {
    let root_key = key(KeyAlgorithm::EcdsaP256);
    let root_der = self_signed_root(root_key.as_ref(), &name("tsa root"), NOW - DAY, NOW + 3650 * DAY).unwrap();
    let root = Issuer::from_der(&root_der, root_key).unwrap();
    let tsa_key = key(KeyAlgorithm::EcdsaP256);
    let der = tsa_leaf(&root, tsa_key.public_key(), &name("tsa"), NOW - DAY, NOW + 365 * DAY).unwrap();
    let leaf = Certificate::from_der(&der).unwrap();
    let exts = extension_list(&leaf);
    assert!(exts.contains(&("2.5.29.37".into(), true)));
    assert!(exts.contains(&("2.5.29.15".into(), true)));
    assert!(exts.contains(&("2.5.29.19".into(), true)));
    assert!(!leaf.is_ca());
    assert!(leaf.has_extended_key_usage(ExtendedKeyUsage::TimeStamping));
    assert!(!leaf.has_extended_key_usage(ExtendedKeyUsage::CodeSigning));
    verify_chain(
        &leaf,
        &[root.certificate().clone()],
        NOW,
        ExtendedKeyUsage::TimeStamping,
    )
    .unwrap();
    assert!(
        verify_chain(
            &leaf,
            &[root.certificate().clone()],
            NOW + 366 * DAY,
            ExtendedKeyUsage::TimeStamping
        )
        .is_err()
    );
}

#[test]
fn c08_validity_beyond_issuer_is_refused() {
    let p = pki();
    let mut req = request(LeafSan::Email("a@example.com".into()), "https://i", BTreeMap::new());
    req.not_before = p.inter.not_after() - 300;
    req.not_after = p.inter.not_after() + 300;
    let serial = random_serial().unwrap();
    assert!(matches!(
        build_precertificate(&p.inter_issuer, &req, &serial),
        Err(Error::ValidityBeyondIssuer { .. })
    ));
    assert!(matches!(
        finish_certificate(&p.inter_issuer, &req, &serial, &sct_value()),
        Err(Error::ValidityBeyondIssuer { .. })
    ));
    req.not_before = p.inter.not_before() - 1;
    req.not_after = p.inter.not_before() + 599;
    assert!(matches!(
        build_precertificate(&p.inter_issuer, &req, &serial),
        Err(Error::ValidityBeyondIssuer { .. })
    ));
    // Exactly at the issuer's ends is fine.
    req.not_before = p.inter.not_after() - 600;
    req.not_after = p.inter.not_after();
    build_precertificate(&p.inter_issuer, &req, &serial).unwrap();
    req.not_before = NOW + 10;
    req.not_after = NOW;
    assert!(matches!(
        build_precertificate(&p.inter_issuer, &req, &serial),
        Err(Error::InvalidValidity { .. })
    ));
    // Intermediates and TSA leaves too.
    let root_key = key(KeyAlgorithm::EcdsaP256);
    let root_der = self_signed_root(root_key.as_ref(), &name("r"), NOW, NOW + DAY).unwrap();
    let root = Issuer::from_der(&root_der, root_key).unwrap();
    let k = key(KeyAlgorithm::EcdsaP256);
    assert!(matches!(
        intermediate(&root, k.public_key(), &name("i"), NOW, NOW + DAY + 1, None),
        Err(Error::ValidityBeyondIssuer { .. })
    ));
    assert!(matches!(
        tsa_leaf(&root, k.public_key(), &name("t"), NOW - 1, NOW + DAY),
        Err(Error::ValidityBeyondIssuer { .. })
    ));
}

#[test]
fn unsuitable_issuers_and_keys_are_refused() {
    // Ed25519 CA keys.
    let ed = key(KeyAlgorithm::Ed25519);
    assert!(matches!(
        self_signed_root(ed.as_ref(), &name("r"), NOW, NOW + DAY),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    let p = pki();
    let root_signer = key(KeyAlgorithm::EcdsaP384);
    let root_der = self_signed_root(root_signer.as_ref(), &name("r"), NOW - DAY, NOW + DAY).unwrap();
    let root = Issuer::from_der(&root_der, root_signer).unwrap();
    assert!(matches!(
        intermediate(&root, ed.public_key(), &name("i"), NOW, NOW + 10, None),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    // Signer key ≠ certificate key.
    assert!(matches!(
        Issuer::new(p.root.clone(), key(KeyAlgorithm::EcdsaP384)),
        Err(Error::IssuerKeyMismatch)
    ));
    // A leaf cannot issue.
    let leaf_key = key(KeyAlgorithm::EcdsaP256);
    let mut req = request(LeafSan::Email("a@example.com".into()), "https://i", BTreeMap::new());
    req.public_key = leaf_key.public_key().clone();
    let (_, _, fin) = issue_leaf(&p, &req);
    assert!(matches!(
        Issuer::from_der(&fin, leaf_key),
        Err(Error::UnsuitableIssuer(_))
    ));
}

#[test]
fn invalid_identities_are_refused() {
    let p = pki();
    let serial = random_serial().unwrap();
    for arc in [0u8, 1, 7, 8, 25, 200] {
        let mut ext = BTreeMap::new();
        ext.insert(arc, "x".to_string());
        let req = request(LeafSan::Email("a@example.com".into()), "https://i", ext);
        assert!(
            matches!(
                build_precertificate(&p.inter_issuer, &req, &serial),
                Err(Error::InvalidRequest(_))
            ),
            "arc {arc}"
        );
    }
    for san in [
        LeafSan::Email(String::new()),
        LeafSan::Email("é@example.com".into()),
        LeafSan::Uri("https://exämple".into()),
        LeafSan::OtherName(String::new()),
    ] {
        let req = request(san, "https://i", BTreeMap::new());
        assert!(matches!(
            build_precertificate(&p.inter_issuer, &req, &serial),
            Err(Error::InvalidRequest(_))
        ));
    }
    let req = request(LeafSan::Email("a@example.com".into()), "", BTreeMap::new());
    assert!(build_precertificate(&p.inter_issuer, &req, &serial).is_err());
    // Serial zero or over 20 octets.
    let req = request(LeafSan::Email("a@example.com".into()), "https://i", BTreeMap::new());
    assert!(build_precertificate(&p.inter_issuer, &req, &[0]).is_err());
    assert!(build_precertificate(&p.inter_issuer, &req, &[0xff; 20]).is_err());
    // The SCT extension value must be an OCTET STRING.
    assert!(matches!(
        finish_certificate(&p.inter_issuer, &req, &serial, &[0x30, 0x00]),
        Err(Error::MalformedSct(_))
    ));
}

fn arb_ext_value() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,40}", "\\PC{1,20}",]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn identity_round_trips(
        kind in 0u8..3,
        san_ascii in "[!-~]{1,60}",
        san_utf8 in "\\PC{1,30}",
        issuer in "\\PC{1,60}",
        raw_ext in proptest::collection::btree_map(2u8..=6, arb_ext_value(), 0..5),
        der_ext in proptest::collection::btree_map(9u8..=24, arb_ext_value(), 0..16),
    ) {
        let p = shared_pki();
        let san = match kind {
            0 => LeafSan::Email(san_ascii.clone()),
            1 => LeafSan::Uri(san_ascii.clone()),
            _ => LeafSan::OtherName(san_utf8.clone()),
        };
        let mut extensions = raw_ext.clone();
        extensions.extend(der_ext.clone());
        let req = request(san.clone(), &issuer, extensions.clone());
        let serial = random_serial().unwrap();
        let pre = build_precertificate(&p.inter_issuer, &req, &serial).unwrap();
        let fin = finish_certificate(&p.inter_issuer, &req, &serial, &sct_value()).unwrap();
        let leaf = Certificate::from_der(&fin).unwrap();
        prop_assert_eq!(tbs_without(leaf.tbs_der(), &[SCT_OID]), pre.tbs_without_poison);
        let id = leaf.identity().unwrap();
        let want_san = match san {
            LeafSan::Email(s) => SubjectAltName::Email(s),
            LeafSan::Uri(s) => SubjectAltName::Uri(s),
            LeafSan::OtherName(s) => SubjectAltName::OtherName(s),
        };
        prop_assert_eq!(&id.sans, &vec![want_san]);
        prop_assert_eq!(id.issuer.as_deref(), Some(issuer.as_str()));
        prop_assert_eq!(id.extensions.by_arc(1), Some(issuer.as_str()));
        prop_assert_eq!(id.extensions.by_arc(8), Some(issuer.as_str()));
        for arc in (2u8..=6).chain(9..=24) {
            let want = extensions.get(&arc).filter(|v| !v.is_empty()).map(String::as_str);
            prop_assert_eq!(id.extensions.by_arc(arc), want, "arc {}", arc);
        }
        verify_chain(&leaf, &[p.inter.clone(), p.root.clone()], NOW + 1, ExtendedKeyUsage::CodeSigning).unwrap();
    }
}

fn shared_pki() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(pki)
}

/// `openssl verify -x509_strict` and `x509 -text` on a chain issued for the current time, if openssl exists.
#[test]
fn openssl_accepts_the_chain() {
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
    let root_key = key(KeyAlgorithm::EcdsaP384);
    let root_der = self_signed_root(root_key.as_ref(), &name("root"), now - DAY, now + 3650 * DAY).unwrap();
    let root = Issuer::from_der(&root_der, root_key).unwrap();
    let inter_key = key(KeyAlgorithm::EcdsaP384);
    let inter_der = intermediate(
        &root,
        inter_key.public_key(),
        &name("intermediate"),
        now - DAY,
        now + 365 * DAY,
        Some(0),
    )
    .unwrap();
    let inter = Issuer::from_der(&inter_der, inter_key).unwrap();
    let mut req = request(
        LeafSan::Email("a@example.com".into()),
        "https://issuer.example",
        BTreeMap::new(),
    );
    req.not_before = now - 60;
    req.not_after = now + 540;
    let serial = random_serial().unwrap();
    let leaf_der = finish_certificate(&inter, &req, &serial, &sct_value()).unwrap();
    let tsa_key = key(KeyAlgorithm::EcdsaP256);
    let tsa_der = tsa_leaf(&root, tsa_key.public_key(), &name("tsa"), now - DAY, now + DAY).unwrap();

    let dir = std::env::temp_dir().join(format!("sigil-x509-issue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |n: &str, der: &[u8]| {
        let path = dir.join(n);
        std::fs::write(&path, sigil_crypto::pem_encode("CERTIFICATE", der)).unwrap();
        path
    };
    let root_pem = write("root.pem", &root_der);
    let inter_pem = write("inter.pem", &inter_der);
    let leaf_pem = write("leaf.pem", &leaf_der);
    let tsa_pem = write("tsa.pem", &tsa_der);
    let verify = |leaf: &std::path::Path, untrusted: Option<&std::path::Path>, purpose: &str| {
        let mut cmd = std::process::Command::new("openssl");
        cmd.arg("verify")
            .arg("-x509_strict")
            .arg("-purpose")
            .arg(purpose)
            .arg("-CAfile")
            .arg(&root_pem);
        if let Some(u) = untrusted {
            cmd.arg("-untrusted").arg(u);
        }
        let out = cmd.arg(leaf).output().unwrap();
        assert!(
            out.status.success(),
            "openssl verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    verify(&leaf_pem, Some(&inter_pem), "any");
    verify(&tsa_pem, None, "timestampsign");
    let text = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&leaf_pem)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("X509v3 Subject Alternative Name: critical"), "{text}");
    assert!(text.contains("email:a@example.com"), "{text}");
    assert!(text.contains("Code Signing"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The full CT flow: precertificate → SCT over its TBS → final certificate whose embedded SCT verifies.
#[test]
fn embedded_sct_from_the_precertificate_verifies_in_the_final_certificate() {
    let p = pki();
    let log_key = key(KeyAlgorithm::EcdsaP256);
    let req = request(
        LeafSan::Email("a@example.com".into()),
        "https://issuer.example",
        BTreeMap::new(),
    );
    let serial = random_serial().unwrap();
    let pre = build_precertificate(&p.inter_issuer, &req, &serial).unwrap();
    let pre_cert = Certificate::from_der(&pre.der).unwrap();
    assert_eq!(
        sigil_x509::tbs_without_poison(pre_cert.tbs_der()).unwrap(),
        pre.tbs_without_poison
    );
    let issuer_key_hash = p.inter.public_key().sha256_key_id();
    let sct = sigil_x509::sign_precert_sct(
        log_key.as_ref(),
        u64::try_from(NOW).unwrap() * 1000,
        &issuer_key_hash,
        pre_cert.tbs_der(),
    )
    .unwrap();
    let value = sigil_x509::encode_sct_list(&[sct]).unwrap();
    let fin = finish_certificate(&p.inter_issuer, &req, &serial, &value).unwrap();
    let leaf = Certificate::from_der(&fin).unwrap();
    assert_eq!(
        sigil_x509::tbs_without_sct(leaf.tbs_der()).unwrap(),
        pre.tbs_without_poison
    );
    let logs = [sigil_x509::CtLog::new(log_key.public_key().clone())];
    assert_eq!(
        sigil_x509::verify_embedded_scts(&leaf, &p.inter, &logs).unwrap().len(),
        1
    );
    verify_chain(
        &leaf,
        &[p.inter.clone(), p.root.clone()],
        NOW + 1,
        ExtendedKeyUsage::CodeSigning,
    )
    .unwrap();
}
