#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use proptest::prelude::*;
use sigil_bundle::Int64;
use sigil_bundle::bundle::{Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId};
use sigil_crypto::{KeyAlgorithm, Signer, SigningKey};
use sigil_x509::{Name, self_signed_root};

/// 2026-11-21T21:19:56Z
const T: i64 = 1_795_295_996;
const PAYLOAD: &[u8] = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1 +0000\n\nmsg\n";

fn key() -> SigningKey {
    SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap()
}

fn cert(k: &SigningKey, cn: &str) -> Vec<u8> {
    let name = Name {
        organization: "sigil test".into(),
        common_name: cn.into(),
    };
    self_signed_root(k, &name, T - 3600, T + 3600).unwrap()
}

fn entry(body: Option<Vec<u8>>) -> TransparencyLogEntry {
    TransparencyLogEntry {
        log_index: Int64(12345),
        log_id: LogId {
            key_id: Bytes(vec![7; 32]),
        },
        kind_version: KindVersion {
            kind: "hashedrekord".into(),
            version: "0.0.1".into(),
        },
        integrated_time: Int64(T as u64),
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: Bytes(vec![1, 2, 3]),
        }),
        inclusion_proof: Some(InclusionProof {
            log_index: Int64(45),
            root_hash: Bytes(vec![9; 32]),
            tree_size: Int64(100),
            hashes: vec![Bytes(vec![4; 32]), Bytes(vec![5; 32])],
            checkpoint: Some(Checkpoint {
                envelope: "log\n100\nroot\n\n— sig\n".into(),
            }),
        }),
        canonicalized_body: body.map(Bytes),
    }
}

/// A granted TimeStampResp around a stand-in token (a ContentInfo-shaped SEQUENCE).
fn tsr(n: u64) -> Vec<u8> {
    let token = w::sequence(&[
        &oid_tlv(oid::SIGNED_DATA),
        &w::explicit(0, &w::sequence(&[&w::integer_u64(n)])),
    ]);
    response_from_token(&token)
}

struct Signed {
    attrs: Vec<u8>,
    bundle: Bundle,
    armored: String,
    cert: Vec<u8>,
    key: SigningKey,
}

fn bundle_for(
    attrs: &[u8],
    k: &SigningKey,
    cert_der: &[u8],
    e: Option<TransparencyLogEntry>,
    tsrs: Vec<Vec<u8>>,
) -> Bundle {
    let signature = k.sign(attrs).unwrap();
    message_bundle(
        cert_der.to_vec(),
        e.into_iter().collect(),
        tsrs,
        sha256(attrs),
        signature,
    )
}

fn signed(payload: &[u8], time: i64, e: Option<TransparencyLogEntry>, tsrs: Vec<Vec<u8>>) -> Signed {
    let k = key();
    let cert_der = cert(&k, "signer");
    let attrs = signed_attributes(payload, time);
    let bundle = bundle_for(&attrs, &k, &cert_der, e, tsrs);
    let armored = assemble(&attrs, &bundle).unwrap();
    Signed {
        attrs,
        bundle,
        armored,
        cert: cert_der,
        key: k,
    }
}

// ---- a test-only CMS builder, to make signatures `assemble` never writes ----

fn sid_of(cert_der: &[u8]) -> Vec<u8> {
    let c = Certificate::from_der(cert_der).unwrap();
    w::sequence(&[c.issuer_der(), &der::encode(tag::INTEGER, c.serial())])
}

fn signer_info(sid: &[u8], digest_oid: &[u8], attrs_set: &[u8], sig: &[u8]) -> Vec<u8> {
    let attrs = der::parse_single(attrs_set).unwrap();
    w::sequence(&[
        &w::integer_u64(1),
        sid,
        &algorithm(digest_oid),
        &der::encode(tag::context_constructed(0), attrs.value),
        &algorithm(oid::ECDSA_SHA256),
        &w::octet_string(sig),
    ])
}

fn cms(certs: Option<&[&[u8]]>, encap: &[u8], infos: Vec<Vec<u8>>) -> String {
    let certs = certs
        .map(|c| der::encode(tag::context_constructed(0), &c.concat()))
        .unwrap_or_default();
    let sd = w::sequence(&[
        &w::integer_u64(1),
        &w::set_of(vec![algorithm(oid::SHA256)]),
        encap,
        &certs,
        &der::encode(tag::SET, &infos.concat()),
    ]);
    pem_encode(
        PEM_LABEL,
        &w::sequence(&[&oid_tlv(oid::SIGNED_DATA), &w::explicit(0, &sd)]),
    )
}

fn detached() -> Vec<u8> {
    w::sequence(&[&oid_tlv(oid::DATA)])
}

// ---- tests ----

#[test]
fn oid_constants_match_their_dotted_names() {
    for (c, s) in [
        (oid::DATA, "1.2.840.113549.1.7.1"),
        (oid::SIGNED_DATA, "1.2.840.113549.1.7.2"),
        (oid::CONTENT_TYPE, "1.2.840.113549.1.9.3"),
        (oid::MESSAGE_DIGEST, "1.2.840.113549.1.9.4"),
        (oid::SIGNING_TIME, "1.2.840.113549.1.9.5"),
        (oid::TIMESTAMP_TOKEN, "1.2.840.113549.1.9.16.2.14"),
        (oid::TLOG_ENTRY, "1.3.6.1.4.1.57264.3.1"),
        (oid::SHA256, "2.16.840.1.101.3.4.2.1"),
        (oid::ECDSA_SHA256, "1.2.840.10045.4.3.2"),
    ] {
        assert_eq!(oid_tlv(c), w::oid(s).unwrap(), "{s}");
    }
}

#[test]
fn signed_attributes_layout_and_times() {
    let attrs = signed_attributes(PAYLOAD, T);
    let set = der::parse_single(&attrs).unwrap();
    assert_eq!(set.tag, tag::SET);
    assert_eq!(check_signed_attributes(set.value).unwrap(), Some(T));
    // DER SET OF order: encodings sorted.
    let mut r = set.reader();
    let mut items = Vec::new();
    while !r.is_empty() {
        items.push(r.read().unwrap().raw.to_vec());
    }
    assert_eq!(items.len(), 3);
    let mut sorted = items.clone();
    sorted.sort();
    assert_eq!(items, sorted);
    assert!(
        attrs.windows(15).any(|w| w == b"\x17\x0d261121211956Z"),
        "UTCTime before 2050"
    );
    // 2051-01-01T00:00:00Z: GeneralizedTime.
    let later = 2_556_144_000;
    let attrs = signed_attributes(PAYLOAD, later);
    assert!(attrs.windows(17).any(|w| w == b"\x18\x0f20510101000000Z"));
    assert_eq!(
        check_signed_attributes(der::parse_single(&attrs).unwrap().value).unwrap(),
        Some(later)
    );
    // 1950 boundary and a year that cannot be encoded (attribute left out).
    let t1950 = -631_152_000;
    let a = signed_attributes(PAYLOAD, t1950);
    assert!(a.windows(15).any(|w| w == b"\x17\x0d500101000000Z"));
    assert_eq!(
        check_signed_attributes(der::parse_single(&a).unwrap().value).unwrap(),
        Some(t1950)
    );
    let a = signed_attributes(PAYLOAD, i64::MAX);
    assert_eq!(
        check_signed_attributes(der::parse_single(&a).unwrap().value).unwrap(),
        None
    );
}

#[test]
fn round_trip() {
    let e = entry(Some(b"{\"kind\":\"hashedrekord\"}".to_vec()));
    let s = signed(PAYLOAD, T, Some(e.clone()), vec![tsr(1), tsr(2)]);
    assert!(s.armored.starts_with("-----BEGIN SIGNED MESSAGE-----\n"));
    assert!(s.armored.ends_with("-----END SIGNED MESSAGE-----\n"));
    assert!(s.armored.lines().all(|l| l.len() <= 64));

    let p = to_bundle(&s.armored, PAYLOAD).unwrap();
    assert_eq!(p.signed_attrs, s.attrs);
    assert_eq!(p.signer_der, s.cert);
    assert_eq!(p.signing_time, Some(T));
    let vm = &p.bundle.verification_material;
    assert_eq!(p.bundle.media_type, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert_eq!(vm.certificate.as_ref().unwrap().raw_bytes.0, s.cert);
    assert_eq!(vm.tlog_entries, vec![e]);
    let mut got: Vec<Vec<u8>> = vm
        .timestamp_verification_data
        .as_ref()
        .unwrap()
        .rfc3161_timestamps
        .iter()
        .map(|t| t.signed_timestamp.0.clone())
        .collect();
    got.sort();
    let mut want = vec![tsr(1), tsr(2)];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(p.bundle.message_signature, s.bundle.message_signature);

    // The signature verifies over the returned signed attributes with the leaf key, and the bundle is valid.
    let sig = &p.bundle.message_signature.as_ref().unwrap().signature;
    let leaf = Certificate::from_der(&p.signer_der).unwrap();
    leaf.public_key()
        .verify(SignatureScheme::EcdsaSha256, &p.signed_attrs, sig)
        .unwrap();
    s.key
        .public_key()
        .verify(SignatureScheme::EcdsaSha256, &p.signed_attrs, sig)
        .unwrap();
    p.bundle.check(&sigil_bundle::Limits::default()).unwrap();

    // Re-assembling the parsed bundle gives the same signature bytes.
    assert_eq!(assemble(&p.signed_attrs, &p.bundle).unwrap(), s.armored);
}

#[test]
fn no_tlog_no_timestamps() {
    let s = signed(PAYLOAD, T, None, vec![]);
    let p = to_bundle(&s.armored, PAYLOAD).unwrap();
    assert!(p.bundle.verification_material.tlog_entries.is_empty());
    assert!(p.bundle.verification_material.timestamp_verification_data.is_none());
}

#[test]
fn cleared_body_is_rebuilt_as_the_log_canonicalized_it() {
    let s = signed(PAYLOAD, T, Some(entry(None)), vec![]);
    let p = to_bundle(&s.armored, PAYLOAD).unwrap();
    let body = p.bundle.verification_material.tlog_entries[0]
        .canonicalized_body
        .clone()
        .unwrap();
    // Exactly what sigil-log stores for the hashedrekord request sigil-sign would send (JCS).
    let text = String::from_utf8(body.0.clone()).unwrap();
    assert!(text.starts_with("{\"apiVersion\":\"0.0.1\",\"kind\":\"hashedrekord\",\"spec\":{\"data\":{\"hash\":"));
    match sigil_bundle::RekorBody::from_json(&body).unwrap() {
        sigil_bundle::RekorBody::HashedRekordV001(h) => {
            assert_eq!(h.data.hash.unwrap().value, hex::encode(sha256(&s.attrs)));
            let sig = &s.bundle.message_signature.as_ref().unwrap().signature;
            assert_eq!(h.signature.content.unwrap(), *sig);
            let pem = h.signature.public_key.unwrap().content.unwrap();
            assert_eq!(String::from_utf8(pem.0).unwrap(), pem_encode("CERTIFICATE", &s.cert));
        }
        other => panic!("unexpected body {other:?}"),
    }
    // Another kind with an empty body is left alone.
    let mut e = entry(None);
    e.kind_version.kind = "dsse".into();
    let s = signed(PAYLOAD, T, Some(e), vec![]);
    let p = to_bundle(&s.armored, PAYLOAD).unwrap();
    assert!(
        p.bundle.verification_material.tlog_entries[0]
            .canonicalized_body
            .is_none()
    );
}

#[test]
fn openssl_verifies_the_cms() {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: openssl is not installed; the CMS was not checked with OpenSSL");
        return;
    }
    let s = signed(PAYLOAD, T, Some(entry(Some(b"{}".to_vec()))), vec![tsr(1)]);
    let dir = tempfile::tempdir().unwrap();
    // OpenSSL's PEM reader wants the CMS/PKCS7 label; the DER is what matters.
    let sig = dir.path().join("sig.der");
    let payload = dir.path().join("payload");
    let bad = dir.path().join("bad");
    std::fs::write(&sig, sigil_crypto::pem_decode_one(&s.armored, PEM_LABEL).unwrap()).unwrap();
    std::fs::write(&payload, PAYLOAD).unwrap();
    std::fs::write(&bad, b"tampered").unwrap();
    let run = |content: &std::path::Path| {
        std::process::Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
            .arg(&sig)
            .arg("-content")
            .arg(content)
            .args(["-noverify", "-out"])
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    let ok = run(&payload);
    assert!(
        ok.status.success(),
        "openssl rejected the signature: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(!run(&bad).status.success(), "openssl accepted a tampered payload");
    // The structure as OpenSSL prints it: one signer, the unsigned attributes present.
    let print = std::process::Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&sig)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&print.stdout);
    assert!(print.status.success());
    assert!(text.contains("id-smime-aa-timeStampToken"), "{text}");
    assert!(text.contains("1.3.6.1.4.1.57264.3.1"), "{text}");
}

#[test]
fn binds_to_the_payload() {
    let s = signed(PAYLOAD, T, None, vec![]);
    assert_eq!(
        to_bundle(&s.armored, b"another commit").unwrap_err(),
        Error::DigestMismatch
    );
}

#[test]
fn assemble_refuses_a_mismatched_bundle() {
    let s = signed(PAYLOAD, T, None, vec![]);
    let other_attrs = signed_attributes(b"x", T);
    assert!(matches!(assemble(&other_attrs, &s.bundle), Err(Error::Bundle { .. })));
    let mut b = s.bundle.clone();
    b.message_signature.as_mut().unwrap().message_digest = None;
    b.message_signature.as_mut().unwrap().signature = Bytes(vec![0x30, 0]);
    assert!(matches!(assemble(&s.attrs, &b), Err(Error::Bundle { .. })));
    let mut b = s.bundle.clone();
    b.verification_material.certificate = None;
    assert!(matches!(assemble(&s.attrs, &b), Err(Error::Bundle { .. })));
    assert!(matches!(assemble(b"\x30\x00", &s.bundle), Err(Error::Malformed { .. })));
}

// ---- G-02: malformed input is an error, never a panic ----

#[test]
fn g02_zero_certificates() {
    let s = signed(PAYLOAD, T, None, vec![]);
    let sig = s.bundle.message_signature.as_ref().unwrap().signature.0.clone();
    let si = signer_info(&sid_of(&s.cert), oid::SHA256, &s.attrs, &sig);
    assert_eq!(
        to_bundle(&cms(None, &detached(), vec![si.clone()]), PAYLOAD).unwrap_err(),
        Error::NoCertificates
    );
    assert_eq!(
        to_bundle(&cms(Some(&[]), &detached(), vec![si]), PAYLOAD).unwrap_err(),
        Error::NoCertificates
    );
}

#[test]
fn g02_garbage() {
    let pem = |der: &[u8]| pem_encode(PEM_LABEL, der);
    assert!(matches!(to_bundle("", PAYLOAD), Err(Error::Armor { .. })));
    assert!(matches!(
        to_bundle("not a signature", PAYLOAD),
        Err(Error::Armor { .. })
    ));
    assert!(matches!(
        to_bundle(
            "-----BEGIN SIGNED MESSAGE-----\n-----END SIGNED MESSAGE-----\n",
            PAYLOAD
        ),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        to_bundle(
            "-----BEGIN SIGNED MESSAGE-----\n!!!\n-----END SIGNED MESSAGE-----\n",
            PAYLOAD
        ),
        Err(Error::Armor { .. })
    ));
    assert!(matches!(
        to_bundle(&pem_encode("PKCS7", &[0x30, 0]), PAYLOAD),
        Err(Error::Armor { .. })
    ));
    assert!(matches!(
        to_bundle(&pem(b"garbage"), PAYLOAD),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        to_bundle(&pem(&[0x30, 0]), PAYLOAD),
        Err(Error::Malformed { .. })
    ));
    let id_data = w::sequence(&[&oid_tlv(oid::DATA), &w::explicit(0, &w::octet_string(b"x"))]);
    assert!(matches!(
        to_bundle(&pem(&id_data), PAYLOAD),
        Err(Error::NotSignedData { .. })
    ));
    // Every truncation of a good signature fails cleanly.
    let s = signed(PAYLOAD, T, Some(entry(None)), vec![tsr(1)]);
    let der = sigil_crypto::pem_decode_one(&s.armored, PEM_LABEL).unwrap();
    for n in 0..der.len() {
        assert!(to_bundle(&pem(&der[..n]), PAYLOAD).is_err(), "truncated to {n}");
    }
    // Too large.
    let big = "A".repeat(MAX_ARMORED_LEN + 1);
    assert!(matches!(to_bundle(&big, PAYLOAD), Err(Error::TooLarge { .. })));
}

#[test]
fn g02_nesting_bomb() {
    // 50 000 nested SEQUENCEs, and the same inside the ContentInfo's [0].
    let mut bomb = Vec::new();
    for _ in 0..50_000 {
        bomb = der::encode(tag::SEQUENCE, &bomb);
    }
    assert!(to_bundle(&pem_encode(PEM_LABEL, &bomb), PAYLOAD).is_err());
    let ci = w::sequence(&[&oid_tlv(oid::SIGNED_DATA), &w::explicit(0, &bomb)]);
    assert!(to_bundle(&pem_encode(PEM_LABEL, &ci), PAYLOAD).is_err());
    let mut inner = Vec::new();
    for _ in 0..50_000 {
        inner = der::encode(tag::context_constructed(0), &inner);
    }
    let ci = w::sequence(&[&oid_tlv(oid::SIGNED_DATA), &inner]);
    assert!(to_bundle(&pem_encode(PEM_LABEL, &ci), PAYLOAD).is_err());
}

#[test]
fn attached_content_is_refused() {
    let s = signed(PAYLOAD, T, None, vec![]);
    let sig = s.bundle.message_signature.as_ref().unwrap().signature.0.clone();
    let si = signer_info(&sid_of(&s.cert), oid::SHA256, &s.attrs, &sig);
    let attached = w::sequence(&[&oid_tlv(oid::DATA), &w::explicit(0, &w::octet_string(PAYLOAD))]);
    assert!(matches!(
        to_bundle(&cms(Some(&[&s.cert]), &attached, vec![si.clone()]), PAYLOAD),
        Err(Error::NotDetached { .. })
    ));
    let other_type = w::sequence(&[&oid_tlv(oid::SIGNED_DATA)]);
    assert!(matches!(
        to_bundle(&cms(Some(&[&s.cert]), &other_type, vec![si]), PAYLOAD),
        Err(Error::NotDetached { .. })
    ));
}

// ---- G-03: the signer is the certificate the sid names ----

#[test]
fn g03_signer_is_selected_by_sid() {
    let s = signed(PAYLOAD, T, Some(entry(None)), vec![]);
    let unrelated_key = key();
    let unrelated = cert(&unrelated_key, "unrelated");
    let sig = s.bundle.message_signature.as_ref().unwrap().signature.0.clone();
    let si = signer_info(&sid_of(&s.cert), oid::SHA256, &s.attrs, &sig);
    // With a gitsign-style log entry (body cleared) as unsigned attribute.
    let mut with_tlog = der::parse_single(&si).unwrap().value.to_vec();
    let tlog = attribute(oid::TLOG_ENTRY, vec![w::octet_string(&tle::encode(&entry(None)))]);
    with_tlog.extend(der::encode(tag::context_constructed(1), &tlog));
    let with_tlog = der::encode(tag::SEQUENCE, &with_tlog);

    let p = to_bundle(
        &cms(Some(&[&unrelated, &s.cert]), &detached(), vec![with_tlog]),
        PAYLOAD,
    )
    .unwrap();
    assert_eq!(p.signer_der, s.cert);
    assert_eq!(p.bundle.verification_material.certificate.unwrap().raw_bytes.0, s.cert);
    // The rebuilt log body names the signer's certificate too.
    let body = p.bundle.verification_material.tlog_entries[0]
        .canonicalized_body
        .clone()
        .unwrap();
    let pem = pem_encode("CERTIFICATE", &s.cert);
    let b64 = sigil_bundle::encoding::encode_base64(pem.as_bytes());
    assert!(String::from_utf8(body.0).unwrap().contains(&b64));

    // The sid names a certificate that is absent.
    assert_eq!(
        to_bundle(&cms(Some(&[&unrelated]), &detached(), vec![si.clone()]), PAYLOAD).unwrap_err(),
        Error::SignerNotFound
    );
    // Garbage in the certificate bag is never the signer.
    assert_eq!(
        to_bundle(&cms(Some(&[&[0x30, 0x00]]), &detached(), vec![si.clone()]), PAYLOAD).unwrap_err(),
        Error::SignerNotFound
    );
    // The same certificate twice is not ambiguous.
    let p = to_bundle(&cms(Some(&[&s.cert, &s.cert]), &detached(), vec![si]), PAYLOAD).unwrap();
    assert_eq!(p.signer_der, s.cert);

    // subjectKeyIdentifier [0] sid.
    let ski = Certificate::from_der(&s.cert)
        .unwrap()
        .subject_key_id()
        .unwrap()
        .to_vec();
    let si = signer_info(
        &der::encode(tag::context_primitive(0), &ski),
        oid::SHA256,
        &s.attrs,
        &sig,
    );
    let p = to_bundle(&cms(Some(&[&unrelated, &s.cert]), &detached(), vec![si]), PAYLOAD).unwrap();
    assert_eq!(p.signer_der, s.cert);
}

#[test]
fn too_many_certificates() {
    let s = signed(PAYLOAD, T, None, vec![]);
    let sig = s.bundle.message_signature.as_ref().unwrap().signature.0.clone();
    let si = signer_info(&sid_of(&s.cert), oid::SHA256, &s.attrs, &sig);
    let certs: Vec<&[u8]> = std::iter::repeat_n(s.cert.as_slice(), MAX_CERTIFICATES + 1).collect();
    assert!(matches!(
        to_bundle(&cms(Some(&certs), &detached(), vec![si]), PAYLOAD),
        Err(Error::TooMany {
            what: "certificates",
            ..
        })
    ));
}

#[test]
fn signer_infos_and_attributes() {
    let s = signed(PAYLOAD, T, None, vec![]);
    let sig = s.bundle.message_signature.as_ref().unwrap().signature.0.clone();
    let sid = sid_of(&s.cert);
    let certs: &[&[u8]] = &[&s.cert];
    let si = signer_info(&sid, oid::SHA256, &s.attrs, &sig);

    // Two SignerInfos, zero SignerInfos.
    assert_eq!(
        to_bundle(&cms(Some(certs), &detached(), vec![si.clone(), si.clone()]), PAYLOAD).unwrap_err(),
        Error::SignerInfoCount { count: 2 }
    );
    assert_eq!(
        to_bundle(&cms(Some(certs), &detached(), vec![]), PAYLOAD).unwrap_err(),
        Error::SignerInfoCount { count: 0 }
    );

    let attr = |ty: &[u8], v: Vec<u8>| attribute(ty, vec![v]);
    let ct = attr(oid::CONTENT_TYPE, oid_tlv(oid::DATA));
    let md = attr(oid::MESSAGE_DIGEST, w::octet_string(&sha256(PAYLOAD)));
    let run = |attrs: Vec<Vec<u8>>| {
        let set = der::encode(tag::SET, &attrs.concat());
        to_bundle(
            &cms(
                Some(certs),
                &detached(),
                vec![signer_info(&sid, oid::SHA256, &set, &sig)],
            ),
            PAYLOAD,
        )
    };
    let attr_err = |r: Result<ParsedSignature, Error>, name: &str| match r {
        Err(Error::SignedAttribute { attribute, .. }) => assert_eq!(attribute, name),
        other => panic!("expected a {name} error, got {other:?}"),
    };
    // Minimal good set (no signingTime).
    let p = run(vec![ct.clone(), md.clone()]).unwrap();
    assert_eq!(p.signing_time, None);
    // Two messageDigest attributes (even both correct), two contentTypes, missing ones.
    attr_err(run(vec![ct.clone(), md.clone(), md.clone()]), "messageDigest");
    let other_md = attr(oid::MESSAGE_DIGEST, w::octet_string(&sha256(b"other")));
    attr_err(run(vec![ct.clone(), other_md, md.clone()]), "messageDigest");
    attr_err(run(vec![ct.clone(), ct.clone(), md.clone()]), "contentType");
    attr_err(run(vec![md.clone()]), "contentType");
    attr_err(run(vec![ct.clone()]), "messageDigest");
    // One attribute with two values.
    let two_values = attribute(
        oid::MESSAGE_DIGEST,
        vec![w::octet_string(&sha256(PAYLOAD)), w::octet_string(&sha256(b"x"))],
    );
    attr_err(run(vec![ct.clone(), two_values]), "messageDigest");
    // contentType other than id-data.
    attr_err(
        run(vec![attr(oid::CONTENT_TYPE, oid_tlv(oid::SIGNED_DATA)), md.clone()]),
        "contentType",
    );
    // Bad signingTime.
    let bad_time = attr(oid::SIGNING_TIME, der::encode(tag::UTC_TIME, b"261341211956Z"));
    attr_err(run(vec![ct.clone(), md.clone(), bad_time]), "signingTime");
    // No signed attributes at all.
    let no_attrs = w::sequence(&[
        &w::integer_u64(1),
        &sid,
        &algorithm(oid::SHA256),
        &algorithm(oid::ECDSA_SHA256),
        &w::octet_string(&sig),
    ]);
    attr_err(
        to_bundle(&cms(Some(certs), &detached(), vec![no_attrs]), PAYLOAD),
        "signedAttrs",
    );
    // SHA-384 and an unknown digest algorithm.
    let si384 = signer_info(
        &sid,
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
        &s.attrs,
        &sig,
    );
    assert!(matches!(
        to_bundle(&cms(Some(certs), &detached(), vec![si384]), PAYLOAD),
        Err(Error::UnsupportedDigest { .. })
    ));
    let md5 = signer_info(&sid, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05], &s.attrs, &sig);
    assert!(matches!(
        to_bundle(&cms(Some(certs), &detached(), vec![md5]), PAYLOAD),
        Err(Error::UnsupportedDigest { .. })
    ));
}

#[test]
fn unsigned_attribute_limits() {
    let s = signed(PAYLOAD, T, None, vec![]);
    let sig = s.bundle.message_signature.as_ref().unwrap().signature.0.clone();
    let sid = sid_of(&s.cert);
    let certs: &[&[u8]] = &[&s.cert];
    let with_unsigned = |attrs: Vec<Vec<u8>>| {
        let si = signer_info(&sid, oid::SHA256, &s.attrs, &sig);
        let mut body = der::parse_single(&si).unwrap().value.to_vec();
        body.extend(der::encode(tag::context_constructed(1), &attrs.concat()));
        to_bundle(
            &cms(Some(certs), &detached(), vec![der::encode(tag::SEQUENCE, &body)]),
            PAYLOAD,
        )
    };
    let token = || der::parse_single(&tsr(1)).unwrap().reader().nth_token();
    let many_tokens = attribute(
        oid::TIMESTAMP_TOKEN,
        (0..=MAX_TIMESTAMPS as u64).map(|_| token()).collect(),
    );
    assert!(matches!(with_unsigned(vec![many_tokens]), Err(Error::TooMany { .. })));
    let other = attribute(&[0x2a, 0x03], vec![w::null()]);
    assert!(matches!(
        with_unsigned(vec![other; MAX_UNSIGNED_ATTRIBUTES + 1]),
        Err(Error::TooMany { .. })
    ));
    let tlog = attribute(oid::TLOG_ENTRY, vec![w::octet_string(&tle::encode(&entry(None)))]);
    assert!(matches!(
        with_unsigned(vec![tlog.clone(), tlog.clone()]),
        Err(Error::UnsignedAttribute { .. })
    ));
    let bad_tlog = attribute(oid::TLOG_ENTRY, vec![w::octet_string(&[0x08])]);
    assert!(matches!(
        with_unsigned(vec![bad_tlog]),
        Err(Error::UnsignedAttribute { .. })
    ));
    let not_octets = attribute(oid::TLOG_ENTRY, vec![w::null()]);
    assert!(matches!(
        with_unsigned(vec![not_octets]),
        Err(Error::UnsignedAttribute { .. })
    ));
    // Unknown unsigned attributes are ignored.
    let p = with_unsigned(vec![attribute(&[0x2a, 0x03], vec![w::null()]), tlog]).unwrap();
    assert_eq!(p.bundle.verification_material.tlog_entries.len(), 1);
}

/// The token (second element) of a TimeStampResp.
trait NthToken {
    fn nth_token(self) -> Vec<u8>;
}

impl NthToken for Reader<'_> {
    fn nth_token(mut self) -> Vec<u8> {
        self.read().unwrap();
        self.read().unwrap().raw.to_vec()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_input_never_panics(s in "\\PC{0,300}", b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = to_bundle(&s, PAYLOAD);
        let _ = to_bundle(&pem_encode(PEM_LABEL, &b), PAYLOAD);
    }
}

#[test]
fn mutated_signatures_never_panic() {
    let s = signed(PAYLOAD, T, Some(entry(None)), vec![tsr(1)]);
    let der = sigil_crypto::pem_decode_one(&s.armored, PEM_LABEL).unwrap();
    for i in 0..der.len() {
        for v in [0x00, 0x80, 0xff, der[i] ^ 0x01] {
            let mut m = der.clone();
            m[i] = v;
            let _ = to_bundle(&pem_encode(PEM_LABEL, &m), PAYLOAD);
        }
    }
}
