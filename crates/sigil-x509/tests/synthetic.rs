//! Chains, identities and SCTs built in the test with real signatures (ring), for the cases the fixtures
//! do not contain: expired intermediates (GHSA-wfqv), path length, key usage, critical extensions, V-08.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use common::*;
use sigil_x509::{
    Certificate, CtLog, Error, ExtendedKeyUsage, SubjectAltName, check_end_entity, verify_chain, verify_embedded_scts,
};

const T0: i64 = 1_750_000_000; // 2025-06-15
const DAY: i64 = 86_400;
const CS: ExtendedKeyUsage = ExtendedKeyUsage::CodeSigning;

struct Pki {
    root_key: Key,
    int_key: Key,
    leaf_key: Key,
    root: Spec,
    int: Spec,
    leaf: Spec,
}

impl Pki {
    fn new() -> Self {
        let root = Spec::new("root", "root", T0 - 365 * DAY, T0 + 365 * DAY)
            .ext(bc(true, Some(1)))
            .ext(ku(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
        let int = Spec::new("root", "intermediate", T0 - 30 * DAY, T0 + 30 * DAY)
            .ext(bc(true, Some(0)))
            .ext(ku(KU_KEY_CERT_SIGN))
            .ext(eku(&[oids::CODE_SIGNING]));
        let leaf = Spec::new("intermediate", "", T0 - 300, T0 + 300)
            .ext(ku(KU_DIGITAL_SIGNATURE))
            .ext(eku(&[oids::CODE_SIGNING]))
            .ext(san(true, &[gn_email("alice@example.test")]))
            .ext(fulcio_raw(1, b"https://issuer.example"))
            .ext(fulcio_utf8(8, "https://issuer.example"));
        Self {
            root_key: Key::new(),
            int_key: Key::new(),
            leaf_key: Key::new(),
            root,
            int,
            leaf,
        }
    }

    fn root(&self) -> Certificate {
        Certificate::from_der(&self.root.build(&self.root_key.spki, &self.root_key)).unwrap()
    }

    fn int(&self) -> Certificate {
        Certificate::from_der(&self.int.build(&self.int_key.spki, &self.root_key)).unwrap()
    }

    fn leaf(&self) -> Certificate {
        Certificate::from_der(&self.leaf.build(&self.leaf_key.spki, &self.int_key)).unwrap()
    }

    fn chain(&self) -> Vec<Certificate> {
        vec![self.int(), self.root()]
    }

    fn verify(&self, at: i64) -> Result<(), Error> {
        verify_chain(&self.leaf(), &self.chain(), at, CS)
    }
}

#[test]
fn good_chain_verifies() {
    let p = Pki::new();
    p.verify(T0).unwrap();
    // The anchor may be the intermediate alone.
    verify_chain(&p.leaf(), &[p.int()], T0, CS).unwrap();
    let id = p.leaf().identity().unwrap().clone();
    assert_eq!(id.sans, vec![SubjectAltName::Email("alice@example.test".into())]);
    assert_eq!(id.issuer.as_deref(), Some("https://issuer.example"));
}

#[test]
fn expired_intermediate_fails_even_if_leaf_is_valid() {
    // GHSA-wfqv / V-16: the leaf is valid at T0, the intermediate expired the day before.
    let mut p = Pki::new();
    p.int.not_after = T0 - DAY;
    assert_eq!(
        p.verify(T0),
        Err(Error::Expired {
            depth: 1,
            not_after: T0 - DAY,
            at: T0
        })
    );
    let mut p = Pki::new();
    p.root.not_after = T0 - 1;
    assert!(matches!(p.verify(T0), Err(Error::Expired { depth: 2, .. })));
    let mut p = Pki::new();
    p.int.not_before = T0 + 1;
    assert!(matches!(p.verify(T0), Err(Error::NotYetValid { depth: 1, .. })));
}

#[test]
fn ca_must_be_a_ca_with_key_cert_sign() {
    let mut p = Pki::new();
    p.int.extensions.retain(|e| ext_oid(e) != oids::BC);
    assert_eq!(p.verify(T0), Err(Error::NotCa { depth: 1 }));

    let mut p = Pki::new();
    p.int.extensions[0] = bc(false, None);
    assert_eq!(p.verify(T0), Err(Error::NotCa { depth: 1 }));

    let mut p = Pki::new();
    p.int.extensions[1] = ku(KU_DIGITAL_SIGNATURE);
    assert_eq!(
        p.verify(T0),
        Err(Error::MissingKeyUsage {
            depth: 1,
            usage: "keyCertSign"
        })
    );

    let mut p = Pki::new();
    p.root.extensions.retain(|e| ext_oid(e) != oids::KU);
    assert!(matches!(p.verify(T0), Err(Error::MissingKeyUsage { depth: 2, .. })));
}

#[test]
fn leaf_profile() {
    let mut p = Pki::new();
    p.leaf.extensions.retain(|e| ext_oid(e) != oids::KU);
    assert_eq!(
        p.verify(T0),
        Err(Error::MissingKeyUsage {
            depth: 0,
            usage: "digitalSignature"
        })
    );

    let mut p = Pki::new();
    p.leaf.extensions[0] = ku(KU_KEY_CERT_SIGN);
    assert!(matches!(p.verify(T0), Err(Error::MissingKeyUsage { depth: 0, .. })));

    let mut p = Pki::new();
    p.leaf.extensions.retain(|e| ext_oid(e) != oids::EKU);
    assert_eq!(p.verify(T0), Err(Error::MissingEku { depth: 0, required: CS }));

    let mut p = Pki::new();
    p.leaf.extensions[1] = eku(&[oids::SERVER_AUTH]);
    assert_eq!(p.verify(T0), Err(Error::MissingEku { depth: 0, required: CS }));

    // anyExtendedKeyUsage on a leaf does not stand in for codeSigning.
    let mut p = Pki::new();
    p.leaf.extensions[1] = eku(&[oids::ANY_EKU]);
    assert_eq!(p.verify(T0), Err(Error::MissingEku { depth: 0, required: CS }));

    let mut p = Pki::new();
    p.leaf.extensions.push(bc(true, None));
    assert_eq!(p.verify(T0), Err(Error::LeafIsCa));

    // CA:false is fine on a leaf.
    let mut p = Pki::new();
    p.leaf.extensions.push(bc(false, None));
    p.verify(T0).unwrap();

    // A timestamping leaf.
    let mut p = Pki::new();
    p.leaf.extensions[1] = eku(&[oids::TIME_STAMPING]);
    assert!(p.verify(T0).is_err(), "the intermediate only allows codeSigning");
    check_end_entity(&p.leaf(), T0, ExtendedKeyUsage::TimeStamping).unwrap();
}

#[test]
fn ca_eku_restrictions_nest() {
    let mut p = Pki::new();
    p.int.extensions[2] = eku(&[oids::SERVER_AUTH]);
    assert_eq!(p.verify(T0), Err(Error::MissingEku { depth: 1, required: CS }));
    let mut p = Pki::new();
    p.int.extensions[2] = eku(&[oids::ANY_EKU]);
    p.verify(T0).unwrap();
    let mut p = Pki::new();
    p.int.extensions.remove(2);
    p.verify(T0).unwrap();
}

#[test]
fn unknown_critical_extensions_are_rejected() {
    let unknown = [0x2a, 0x03, 0x04]; // 1.2.3.4
    let mut p = Pki::new();
    p.leaf.extensions.push(ext(&unknown, true, &[0x05, 0x00]));
    assert_eq!(
        p.verify(T0),
        Err(Error::UnknownCriticalExtension {
            depth: 0,
            oid: "1.2.3.4".into()
        })
    );
    // Non-critical unknown extensions are fine.
    let mut p = Pki::new();
    p.leaf.extensions.push(ext(&unknown, false, &[0x05, 0x00]));
    p.verify(T0).unwrap();
    // Name constraints are not processed, so a CA that sets them critically is refused.
    let mut p = Pki::new();
    p.int.extensions.push(ext(oids::NAME_CONSTRAINTS, true, &[0x30, 0x00]));
    assert_eq!(
        p.verify(T0),
        Err(Error::UnknownCriticalExtension {
            depth: 1,
            oid: "2.5.29.30".into()
        })
    );
    // A precertificate (critical CT poison) is never a valid leaf.
    let mut p = Pki::new();
    p.leaf.extensions.push(ext(oids::POISON, true, &[0x05, 0x00]));
    assert!(p.leaf().is_precertificate());
    assert!(matches!(
        p.verify(T0),
        Err(Error::UnknownCriticalExtension { depth: 0, .. })
    ));
    // Critical SAN with a Fulcio OtherName and critical Fulcio extensions are tolerated.
    let mut p = Pki::new();
    p.leaf.extensions[2] = san(true, &[gn_othername(&oids::fulcio(7), "alice!example.test")]);
    p.leaf.extensions[3] = ext(&oids::fulcio(1), true, b"https://issuer.example");
    p.verify(T0).unwrap();
    assert_eq!(
        p.leaf().identity().unwrap().sans,
        vec![SubjectAltName::OtherName("alice!example.test".into())]
    );
}

#[test]
fn path_length_is_enforced_and_self_issued_certs_do_not_count() {
    // root (pathLen 1) -> int (pathLen 0) -> int2 -> leaf: two intermediates below the root.
    let p = Pki::new();
    let k2 = Key::new();
    let int2 = Spec::new("intermediate", "intermediate-2", T0 - DAY, T0 + DAY)
        .ext(bc(true, None))
        .ext(ku(KU_KEY_CERT_SIGN));
    let int2_cert = Certificate::from_der(&int2.build(&k2.spki, &p.int_key)).unwrap();
    let mut leaf = p.leaf.clone();
    leaf.issuer = name("intermediate-2");
    let leaf = Certificate::from_der(&leaf.build(&p.leaf_key.spki, &k2)).unwrap();
    assert_eq!(
        verify_chain(&leaf, &[int2_cert.clone(), p.int(), p.root()], T0, CS),
        Err(Error::PathLenExceeded { depth: 2, path_len: 0 })
    );

    // root "root" (pathLen 1) -> self-issued "root" (key rollover) -> "intermediate" -> leaf.
    let p = Pki::new();
    let roll_key = Key::new();
    let rollover = Spec::new("root", "root", T0 - DAY, T0 + DAY)
        .ext(bc(true, None))
        .ext(ku(KU_KEY_CERT_SIGN));
    let rollover = Certificate::from_der(&rollover.build(&roll_key.spki, &p.root_key)).unwrap();
    assert!(rollover.is_self_issued());
    let int = Certificate::from_der(&p.int.build(&p.int_key.spki, &roll_key)).unwrap();
    verify_chain(&p.leaf(), &[int.clone(), rollover.clone(), p.root()], T0, CS).unwrap();
    // With pathLen 0 on the root the one non-self-issued intermediate is too many.
    let mut root0 = p.root.clone();
    root0.extensions[0] = bc(true, Some(0));
    let root0 = Certificate::from_der(&root0.build(&p.root_key.spki, &p.root_key)).unwrap();
    assert_eq!(
        verify_chain(&p.leaf(), &[int, rollover, root0], T0, CS),
        Err(Error::PathLenExceeded { depth: 3, path_len: 0 })
    );
}

#[test]
fn signatures_are_checked_link_by_link() {
    let p = Pki::new();
    let other = Key::new();
    // Same names, wrong key: the intermediate was signed by an impostor root key.
    let int = Certificate::from_der(&p.int.build(&p.int_key.spki, &other)).unwrap();
    assert_eq!(
        verify_chain(&p.leaf(), &[int, p.root()], T0, CS),
        Err(Error::BadSignature { depth: 1 })
    );
    // The leaf signed by a key other than the intermediate's.
    let leaf = Certificate::from_der(&p.leaf.build(&p.leaf_key.spki, &other)).unwrap();
    assert_eq!(
        verify_chain(&leaf, &p.chain(), T0, CS),
        Err(Error::BadSignature { depth: 0 })
    );
    assert_eq!(leaf.verify_issued_by(&p.int()), Err(Error::BadSignature { depth: 0 }));
    // Names that do not chain.
    assert_eq!(
        p.leaf().verify_issued_by(&p.root()),
        Err(Error::ChainBroken { depth: 0 })
    );
    p.leaf().verify_issued_by(&p.int()).unwrap();
    // A flipped bit in the signed TBS.
    let mut der = p.leaf.build(&p.leaf_key.spki, &p.int_key);
    let pos = der.windows(b"alice".len()).position(|w| w == b"alice").unwrap();
    der[pos] ^= 0x20;
    let tampered = Certificate::from_der(&der).unwrap();
    assert_eq!(
        verify_chain(&tampered, &p.chain(), T0, CS),
        Err(Error::BadSignature { depth: 0 })
    );
}

#[test]
fn duplicate_extensions_are_rejected_at_parse_time() {
    // V-08: the same OID twice, whatever it is, is a parse error. Never "last one wins".
    let p = Pki::new();
    for dup in [fulcio_utf8(8, "https://evil.example"), ku(KU_DIGITAL_SIGNATURE)] {
        let mut spec = p.leaf.clone();
        spec.extensions.push(dup.clone());
        let der = spec.build(&p.leaf_key.spki, &p.int_key);
        let expected = sigil_crypto::der::oid_to_string(&ext_oid(&dup)).unwrap();
        assert_eq!(Certificate::from_der(&der), Err(Error::DuplicateExtension(expected)));
    }
}

#[test]
fn conflicting_issuers_are_rejected_in_either_order() {
    let p = Pki::new();
    for order in [false, true] {
        let mut spec = p.leaf.clone();
        spec.extensions
            .retain(|e| ext_oid(e) != oids::fulcio(1) && ext_oid(e) != oids::fulcio(8));
        let v1 = fulcio_raw(1, b"https://accounts.google.com");
        let v2 = fulcio_utf8(8, "https://evil.example");
        if order {
            spec.extensions.extend([v2, v1]);
        } else {
            spec.extensions.extend([v1, v2]);
        }
        let c = Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap();
        assert_eq!(
            c.identity(),
            Err(Error::IssuerConflict {
                v1: "https://accounts.google.com".into(),
                v2: "https://evil.example".into()
            })
        );
    }
    // Either one alone is the issuer.
    let mut spec = p.leaf.clone();
    spec.extensions.retain(|e| ext_oid(e) != oids::fulcio(8));
    let c = Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap();
    assert_eq!(c.identity().unwrap().issuer.as_deref(), Some("https://issuer.example"));
    assert_eq!(c.identity().unwrap().extensions.issuer_v2, None);
    let mut spec = p.leaf.clone();
    spec.extensions.retain(|e| ext_oid(e) != oids::fulcio(1));
    let c = Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap();
    assert_eq!(c.identity().unwrap().issuer.as_deref(), Some("https://issuer.example"));
}

#[test]
fn v08_on_a_real_fulcio_certificate() {
    // Re-encode a real leaf's TBS with extra or changed extensions. The signature no longer verifies, but
    // identity extraction must already refuse.
    let bundle = read_json(&conformance().join("happy-path-v0.3/bundle.sigstore.json"));
    let der = bundle_certs(&bundle).remove(0);
    let same = reencode_extensions(&der, |_| {});
    assert_eq!(same, der, "re-encoding is lossless");

    let dup = reencode_extensions(&der, |exts| exts.push(fulcio_utf8(8, "https://evil.example")));
    assert_eq!(
        Certificate::from_der(&dup),
        Err(Error::DuplicateExtension("1.3.6.1.4.1.57264.1.8".into()))
    );
    let dup_same_value = reencode_extensions(&der, |exts| {
        exts.push(fulcio_utf8(8, "https://token.actions.githubusercontent.com"))
    });
    assert!(matches!(
        Certificate::from_der(&dup_same_value),
        Err(Error::DuplicateExtension(_))
    ));
    let dup_san = reencode_extensions(&der, |exts| {
        exts.insert(0, san(true, &[gn_uri("https://evil.example")]))
    });
    assert_eq!(
        Certificate::from_der(&dup_san),
        Err(Error::DuplicateExtension("2.5.29.17".into()))
    );

    for move_v2_first in [false, true] {
        let conflict = reencode_extensions(&der, |exts| {
            let i = exts.iter().position(|e| ext_oid(e) == oids::fulcio(8)).unwrap();
            exts.remove(i);
            let evil = fulcio_utf8(8, "https://evil.example");
            if move_v2_first {
                exts.insert(0, evil);
            } else {
                exts.push(evil);
            }
        });
        let c = Certificate::from_der(&conflict).unwrap();
        assert_eq!(
            c.identity(),
            Err(Error::IssuerConflict {
                v1: "https://token.actions.githubusercontent.com".into(),
                v2: "https://evil.example".into()
            })
        );
    }

    // .8 that is not a DER UTF8String, .1 that is not UTF-8.
    let bad_v2 = reencode_extensions(&der, |exts| {
        let i = exts.iter().position(|e| ext_oid(e) == oids::fulcio(8)).unwrap();
        exts[i] = fulcio_raw(8, b"https://token.actions.githubusercontent.com");
    });
    assert!(matches!(
        Certificate::from_der(&bad_v2).unwrap().identity(),
        Err(Error::BadExtension { .. })
    ));
    let bad_v1 = reencode_extensions(&der, |exts| {
        let i = exts.iter().position(|e| ext_oid(e) == oids::fulcio(1)).unwrap();
        exts[i] = fulcio_raw(1, &[0xff, 0xfe]);
    });
    assert!(matches!(
        Certificate::from_der(&bad_v1).unwrap().identity(),
        Err(Error::BadExtension { .. })
    ));
}

#[test]
fn san_kinds_stay_distinct() {
    // V-09: a username identity that looks like an email is an OtherName, never an Email.
    let p = Pki::new();
    let mut spec = p.leaf.clone();
    spec.extensions[2] = san(
        true,
        &[
            gn_othername(&oids::fulcio(7), "alice@corp.com"),
            gn_email("bob@corp.com"),
            gn_uri("https://example.com/x"),
            gn_dns("example.com"),
            gn_othername(&[0x2a, 0x03], "not fulcio"),
            sigil_crypto::der::encode(0x87, &[127, 0, 0, 1]),
        ],
    );
    let c = Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap();
    let sans = &c.identity().unwrap().sans;
    assert_eq!(
        sans,
        &vec![
            SubjectAltName::OtherName("alice@corp.com".into()),
            SubjectAltName::Email("bob@corp.com".into()),
            SubjectAltName::Uri("https://example.com/x".into()),
            SubjectAltName::Dns("example.com".into()),
            SubjectAltName::Other,
            SubjectAltName::Other,
        ]
    );
    assert!(!sans.contains(&SubjectAltName::Email("alice@corp.com".into())));
    // Non-ASCII in an IA5String is malformed.
    let mut spec = p.leaf.clone();
    spec.extensions[2] = san(true, &[sigil_crypto::der::encode(0x81, "alïce@x".as_bytes())]);
    let c = Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap();
    assert!(matches!(c.identity(), Err(Error::BadExtension { .. })));
}

/// A leaf whose SCT list is inserted at `pos` in the extension list, with SCTs signed over the TBS
/// without it.
fn leaf_with_scts(p: &Pki, pos: usize, make: impl Fn(&[u8]) -> Vec<Vec<u8>>) -> Certificate {
    let precert_tbs = tbs_with(&p.leaf, &p.leaf_key.spki, &p.leaf.extensions);
    let scts = make(&precert_tbs);
    let mut spec = p.leaf.clone();
    spec.extensions.insert(pos, sct_list_ext(&scts));
    Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap()
}

#[test]
fn scts_verify_once_per_log() {
    let p = Pki::new();
    let (log_a, log_b, unknown) = (Key::new(), Key::new(), Key::new());
    let ts = (T0 as u64) * 1000;
    let leaf = leaf_with_scts(&p, 2, |tbs| {
        let mut v2 = make_sct(&log_b, ts, &p.int_key.spki, tbs, b"");
        v2[0] = 1; // a future SCT version: ignored
        vec![
            make_sct(&log_a, ts, &p.int_key.spki, tbs, b""),
            make_sct(&log_a, ts + 5, &p.int_key.spki, tbs, b"ext"),
            make_sct(&unknown, ts, &p.int_key.spki, tbs, b""),
            v2,
            make_sct(&log_b, ts + 7, &p.int_key.spki, tbs, b""),
        ]
    });
    verify_chain(&leaf, &p.chain(), T0, CS).unwrap();
    let logs = vec![CtLog::new(log_a.verifying_key()), CtLog::new(log_b.verifying_key())];
    let got = verify_embedded_scts(&leaf, &p.int(), &logs).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].log_id, sigil_crypto::sha256(&log_a.spki));
    assert_eq!(got[0].timestamp_ms, ts);
    assert_eq!(got[1].timestamp_ms, ts + 7);
    // Only one log trusted: one SCT, even though that log signed twice (V-19).
    assert_eq!(verify_embedded_scts(&leaf, &p.int(), &logs[..1]).unwrap().len(), 1);
    // The wrong issuer key hash.
    assert!(matches!(
        verify_embedded_scts(&leaf, &p.root(), &logs),
        Err(Error::SctInvalid { .. })
    ));
    // The log's validity window must contain the SCT time (inclusive bounds).
    let mut windowed = CtLog::new(log_a.verifying_key());
    windowed.valid_from = Some(T0);
    windowed.valid_until = Some(T0);
    assert_eq!(
        verify_embedded_scts(&leaf, &p.int(), &[windowed.clone()])
            .unwrap()
            .len(),
        1
    );
    windowed.valid_until = Some(T0 - 1);
    assert_eq!(
        verify_embedded_scts(&leaf, &p.int(), &[windowed.clone()]),
        Err(Error::NoValidSct)
    );
    windowed.valid_from = Some(T0 + 1);
    windowed.valid_until = None;
    assert_eq!(
        verify_embedded_scts(&leaf, &p.int(), &[windowed]),
        Err(Error::NoValidSct)
    );
    // No trusted log at all.
    assert_eq!(verify_embedded_scts(&leaf, &p.int(), &[]), Err(Error::NoValidSct));
}

#[test]
fn sct_signed_data_excludes_only_the_sct_extension() {
    let p = Pki::new();
    let log = Key::new();
    let logs = [CtLog::new(log.verifying_key())];
    for pos in 0..=p.leaf.extensions.len() {
        let leaf = leaf_with_scts(&p, pos, |tbs| vec![make_sct(&log, 1, &p.int_key.spki, tbs, b"")]);
        verify_embedded_scts(&leaf, &p.int(), &logs).unwrap_or_else(|e| panic!("SCT at {pos}: {e}"));
    }
    // An SCT over a different TBS (another serial) does not verify.
    let mut other = p.leaf.clone();
    other.serial = vec![0x42];
    let other_tbs = other.tbs(&p.leaf_key.spki);
    let leaf = leaf_with_scts(&p, 0, |_| vec![make_sct(&log, 1, &p.int_key.spki, &other_tbs, b"")]);
    assert!(matches!(
        verify_embedded_scts(&leaf, &p.int(), &logs),
        Err(Error::SctInvalid { .. })
    ));
}

#[test]
fn sct_list_shape_errors() {
    let p = Pki::new();
    assert_eq!(verify_embedded_scts(&p.leaf(), &p.int(), &[]), Err(Error::MissingSct));
    let mut spec = p.leaf.clone();
    spec.extensions.push(sct_list_ext(&[vec![0u8; 5]]));
    let c = Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap();
    assert!(matches!(
        verify_embedded_scts(&c, &p.int(), &[]),
        Err(Error::MalformedSct(_))
    ));
    // Not an OCTET STRING inside the extension.
    let mut spec = p.leaf.clone();
    spec.extensions.push(ext(oids::SCT, false, &[0x05, 0x00]));
    let c = Certificate::from_der(&spec.build(&p.leaf_key.spki, &p.int_key)).unwrap();
    assert!(matches!(
        verify_embedded_scts(&c, &p.int(), &[]),
        Err(Error::MalformedSct(_))
    ));
}
