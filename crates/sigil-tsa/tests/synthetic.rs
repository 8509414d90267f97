//! Time-stamp tokens built and signed in the test (ring), for what the fixtures lack: subject-key-identifier
//! signers, bad signed attributes, wrong ESS certificate hash, status codes, nonces, single-certificate
//! authorities.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

#[path = "../../sigil-x509/tests/common/mod.rs"]
mod common;

use common::*;
use sigil_crypto::HashAlgorithm;
use sigil_crypto::der::{encode, tag};
use sigil_tsa::{Error, TimeStampRequest, TimeStampResponse, TimestampAuthority, verify_timestamp};
use sigil_x509::{Certificate, ExtendedKeyUsage};

const T0: i64 = 1_750_000_000; // 2025-06-15T15:06:40Z
const DAY: i64 = 86_400;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_TST_INFO: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04];
const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const OID_SIGNING_CERT_V2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_POLICY: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x02];
const OID_SKI: &[u8] = &[0x55, 0x1d, 0x0e];

struct Tsa {
    leaf_key: Key,
    root: Certificate,
    leaf: Certificate,
}

impl Tsa {
    fn new() -> Self {
        Self::with_leaf_eku(oids::TIME_STAMPING)
    }

    fn with_leaf_eku(eku_oid: &[u8]) -> Self {
        let root_key = Key::new();
        let leaf_key = Key::new();
        let root_spec = Spec::new("tsa-root", "tsa-root", T0 - 365 * DAY, T0 + 365 * DAY)
            .ext(bc(true, Some(0)))
            .ext(ku(KU_KEY_CERT_SIGN));
        let mut leaf_spec = Spec::new("tsa-root", "tsa", T0 - 30 * DAY, T0 + 30 * DAY)
            .ext(ku(KU_DIGITAL_SIGNATURE))
            .ext(ext(OID_SKI, false, &encode(tag::OCTET_STRING, b"tsa-key-id")));
        leaf_spec
            .extensions
            .push(ext(oids::EKU, true, &encode(tag::SEQUENCE, &encode(tag::OID, eku_oid))));
        leaf_spec.serial = vec![0x00, 0x9a, 0x77];
        let root = Certificate::from_der(&root_spec.build(&root_key.spki, &root_key)).unwrap();
        let leaf = Certificate::from_der(&leaf_spec.build(&leaf_key.spki, &root_key)).unwrap();
        Self { leaf_key, root, leaf }
    }

    fn authority(&self) -> TimestampAuthority {
        TimestampAuthority {
            chain: vec![self.leaf.clone(), self.root.clone()],
            valid_from: None,
            valid_until: None,
        }
    }
}

#[derive(Clone)]
enum Sid {
    IssuerSerial,
    KeyId(Vec<u8>),
}

/// Every knob of a token; `Token::new` is a valid one.
#[derive(Clone)]
struct Token {
    status: u8,
    with_token: bool,
    gen_time: String,
    imprint_alg: Vec<u8>,
    imprint: Vec<u8>,
    nonce: Option<Vec<u8>>,
    e_content_type: Vec<u8>,
    sid: Sid,
    content_type_attr: Option<Vec<u8>>,
    message_digest: Option<Option<Vec<u8>>>,
    ess_hash: Option<Vec<u8>>,
    duplicate_attr: bool,
    signed_attrs: bool,
    sig_alg: Vec<u8>,
    certs: Vec<Vec<u8>>,
    two_signers: bool,
    flip_signature: bool,
}

impl Token {
    fn new(tsa: &Tsa, signed: &[u8]) -> Self {
        Self {
            status: 0,
            with_token: true,
            gen_time: "20250615150640Z".into(),
            imprint_alg: OID_SHA256.to_vec(),
            imprint: sigil_crypto::sha256(signed).to_vec(),
            nonce: None,
            e_content_type: OID_TST_INFO.to_vec(),
            sid: Sid::IssuerSerial,
            content_type_attr: Some(OID_TST_INFO.to_vec()),
            message_digest: None,
            ess_hash: Some(sigil_crypto::sha256(tsa.leaf.der()).to_vec()),
            duplicate_attr: false,
            signed_attrs: true,
            sig_alg: oids::ECDSA_SHA256.to_vec(),
            certs: vec![tsa.leaf.der().to_vec()],
            two_signers: false,
            flip_signature: false,
        }
    }

    fn tst_info(&self) -> Vec<u8> {
        let mut body = encode(tag::INTEGER, &[1]);
        body.extend_from_slice(&encode(tag::OID, OID_POLICY));
        let alg = encode(tag::SEQUENCE, &encode(tag::OID, &self.imprint_alg));
        body.extend_from_slice(&encode(
            tag::SEQUENCE,
            &[alg, encode(tag::OCTET_STRING, &self.imprint)].concat(),
        ));
        body.extend_from_slice(&encode(tag::INTEGER, &[0x42]));
        body.extend_from_slice(&encode(tag::GENERALIZED_TIME, self.gen_time.as_bytes()));
        if let Some(n) = &self.nonce {
            body.extend_from_slice(&encode(tag::INTEGER, n));
        }
        encode(tag::SEQUENCE, &body)
    }

    fn build(&self, tsa: &Tsa, signer: &Key) -> Vec<u8> {
        let status = encode(tag::SEQUENCE, &encode(tag::INTEGER, &[self.status]));
        if !self.with_token {
            return encode(tag::SEQUENCE, &status);
        }
        let tst = self.tst_info();
        let attr = |oid: &[u8], value: Vec<u8>| {
            encode(
                tag::SEQUENCE,
                &[encode(tag::OID, oid), encode(tag::SET, &value)].concat(),
            )
        };
        let mut attrs = Vec::new();
        if let Some(ct) = &self.content_type_attr {
            attrs.push(attr(OID_CONTENT_TYPE, encode(tag::OID, ct)));
        }
        match &self.message_digest {
            None => attrs.push(attr(
                OID_MESSAGE_DIGEST,
                encode(tag::OCTET_STRING, &sigil_crypto::sha256(&tst)),
            )),
            Some(Some(d)) => attrs.push(attr(OID_MESSAGE_DIGEST, encode(tag::OCTET_STRING, d))),
            Some(None) => {}
        }
        if let Some(h) = &self.ess_hash {
            let cert_id = encode(tag::SEQUENCE, &encode(tag::OCTET_STRING, h));
            let signing_cert = encode(tag::SEQUENCE, &encode(tag::SEQUENCE, &cert_id));
            attrs.push(attr(OID_SIGNING_CERT_V2, signing_cert));
        }
        if self.duplicate_attr {
            attrs.push(attrs[0].clone());
        }
        let attrs = attrs.concat();
        let mut sig = signer.sign(&encode(tag::SET, &attrs));
        if self.flip_signature {
            let n = sig.len();
            sig[n - 1] ^= 1;
        }
        let sid = match &self.sid {
            Sid::IssuerSerial => encode(
                tag::SEQUENCE,
                &[tsa.leaf.issuer_der().to_vec(), encode(tag::INTEGER, tsa.leaf.serial())].concat(),
            ),
            Sid::KeyId(id) => encode(0x80, id),
        };
        let mut si = encode(tag::INTEGER, &[1]);
        si.extend_from_slice(&sid);
        si.extend_from_slice(&encode(tag::SEQUENCE, &encode(tag::OID, OID_SHA256)));
        if self.signed_attrs {
            si.extend_from_slice(&encode(0xa0, &attrs));
        }
        si.extend_from_slice(&encode(tag::SEQUENCE, &encode(tag::OID, &self.sig_alg)));
        si.extend_from_slice(&encode(tag::OCTET_STRING, &sig));
        let si = encode(tag::SEQUENCE, &si);
        let signer_infos = if self.two_signers {
            [si.clone(), si].concat()
        } else {
            si
        };

        let mut sd = encode(tag::INTEGER, &[3]);
        sd.extend_from_slice(&encode(tag::SET, &encode(tag::SEQUENCE, &encode(tag::OID, OID_SHA256))));
        sd.extend_from_slice(&encode(
            tag::SEQUENCE,
            &[
                encode(tag::OID, &self.e_content_type),
                encode(0xa0, &encode(tag::OCTET_STRING, &tst)),
            ]
            .concat(),
        ));
        if !self.certs.is_empty() {
            sd.extend_from_slice(&encode(0xa0, &self.certs.concat()));
        }
        sd.extend_from_slice(&encode(tag::SET, &signer_infos));
        let content_info = encode(
            tag::SEQUENCE,
            &[
                encode(tag::OID, OID_SIGNED_DATA),
                encode(0xa0, &encode(tag::SEQUENCE, &sd)),
            ]
            .concat(),
        );
        encode(tag::SEQUENCE, &[status, content_info].concat())
    }

    fn parse(&self, tsa: &Tsa) -> Result<TimeStampResponse, Error> {
        TimeStampResponse::from_der(&self.build(tsa, &tsa.leaf_key))
    }

    fn verify(&self, tsa: &Tsa, signed: &[u8]) -> Result<sigil_tsa::VerifiedTimestamp, Error> {
        verify_timestamp(&self.parse(tsa)?, signed, &[tsa.authority()])
    }
}

const SIG: &[u8] = b"the bundle's signature bytes";

#[test]
fn good_token_verifies_with_either_signer_identifier() {
    let tsa = Tsa::new();
    let tok = Token::new(&tsa, SIG);
    let v = tok.verify(&tsa, SIG).unwrap();
    assert_eq!(v.time, T0);
    assert_eq!(v.authority_index, 0);
    let r = tok.parse(&tsa).unwrap();
    assert_eq!(r.tst_info().policy, "1.3.6.1.4.1.57264.2");
    assert_eq!(r.embedded_certificates(), std::slice::from_ref(&tsa.leaf));

    let mut by_key = tok.clone();
    by_key.sid = Sid::KeyId(b"tsa-key-id".to_vec());
    by_key.certs.clear();
    by_key.verify(&tsa, SIG).unwrap();
    let mut other_key = tok.clone();
    other_key.sid = Sid::KeyId(b"another-id".to_vec());
    assert_eq!(other_key.verify(&tsa, SIG), Err(Error::UntrustedSigner));

    // A bare ecPublicKey signatureAlgorithm with the SignerInfo digest (RFC 5754 style).
    let mut bare = tok.clone();
    bare.sig_alg = OID_EC_PUBLIC_KEY.to_vec();
    bare.verify(&tsa, SIG).unwrap();
    // No ESS attribute at all is tolerated.
    let mut no_ess = tok.clone();
    no_ess.ess_hash = None;
    no_ess.verify(&tsa, SIG).unwrap();
}

#[test]
fn cms_failures_are_distinct() {
    let tsa = Tsa::new();
    let tok = Token::new(&tsa, SIG);

    let mut t = tok.clone();
    t.flip_signature = true;
    assert_eq!(t.verify(&tsa, SIG), Err(Error::BadSignature));

    // Signed by another key that claims the trusted leaf's issuer and serial (T-03): the trusted key decides.
    let impostor = Key::new();
    let forged = TimeStampResponse::from_der(&tok.build(&tsa, &impostor)).unwrap();
    assert_eq!(
        verify_timestamp(&forged, SIG, &[tsa.authority()]),
        Err(Error::BadSignature)
    );

    let mut t = tok.clone();
    t.message_digest = Some(Some(vec![0u8; 32]));
    assert_eq!(t.verify(&tsa, SIG), Err(Error::MessageDigestMismatch));

    let mut t = tok.clone();
    t.content_type_attr = Some(OID_DATA.to_vec());
    assert_eq!(t.verify(&tsa, SIG), Err(Error::ContentTypeMismatch));

    let mut t = tok.clone();
    t.ess_hash = Some(sigil_crypto::sha256(tsa.root.der()).to_vec());
    assert_eq!(t.verify(&tsa, SIG), Err(Error::SigningCertificateMismatch));

    assert_eq!(tok.verify(&tsa, b"other bytes"), Err(Error::ImprintMismatch));
}

#[test]
fn malformed_tokens_are_rejected_at_parse_time() {
    let tsa = Tsa::new();
    let tok = Token::new(&tsa, SIG);
    let malformed = |t: &Token| matches!(t.parse(&tsa), Err(Error::Malformed(_)));

    let mut t = tok.clone();
    t.signed_attrs = false;
    assert!(malformed(&t), "signed attributes are required");
    let mut t = tok.clone();
    t.message_digest = Some(None);
    assert!(malformed(&t), "messageDigest is required");
    let mut t = tok.clone();
    t.content_type_attr = None;
    assert!(malformed(&t), "contentType is required");
    let mut t = tok.clone();
    t.duplicate_attr = true;
    assert!(malformed(&t), "duplicate attributes");
    let mut t = tok.clone();
    t.two_signers = true;
    assert!(malformed(&t), "exactly one SignerInfo");
    let mut t = tok.clone();
    t.e_content_type = OID_DATA.to_vec();
    assert!(malformed(&t), "eContentType must be TSTInfo");
    let mut t = tok.clone();
    t.imprint = vec![0; 31];
    assert!(malformed(&t), "imprint length");
    let mut t = tok.clone();
    t.imprint_alg = OID_SHA1.to_vec();
    t.imprint = vec![0; 20];
    assert!(matches!(t.parse(&tsa), Err(Error::UnsupportedAlgorithm(_))));
    for bad_time in [
        "20251315000000Z",
        "20250615150640",
        "2025061515064Z",
        "20250615150640.Z",
        "20250615150640+0100",
    ] {
        let mut t = tok.clone();
        t.gen_time = bad_time.into();
        assert!(malformed(&t), "genTime {bad_time}");
    }
    let mut t = tok.clone();
    t.certs = vec![tsa.leaf.der().to_vec(); 17];
    assert!(malformed(&t), "too many embedded certificates");
}

#[test]
fn gen_time_fraction_is_truncated() {
    let tsa = Tsa::new();
    let mut t = Token::new(&tsa, SIG);
    t.gen_time = "20250615150640.999Z".into();
    assert_eq!(t.verify(&tsa, SIG).unwrap().time, T0);
}

#[test]
fn status_and_missing_token() {
    let tsa = Tsa::new();
    let mut t = Token::new(&tsa, SIG);
    t.status = 2;
    assert_eq!(t.parse(&tsa), Err(Error::NotGranted { status: 2 }));
    t.with_token = false;
    assert_eq!(t.parse(&tsa), Err(Error::NotGranted { status: 2 }));
    t.status = 0;
    assert_eq!(t.parse(&tsa), Err(Error::MissingToken));
    let mut t = Token::new(&tsa, SIG);
    t.status = 1; // grantedWithMods
    t.verify(&tsa, SIG).unwrap();
}

#[test]
fn chain_checks_at_gen_time() {
    // A leaf without EKU timeStamping.
    let tsa = Tsa::with_leaf_eku(oids::CODE_SIGNING);
    let t = Token::new(&tsa, SIG);
    assert_eq!(
        t.verify(&tsa, SIG),
        Err(Error::ChainInvalid(sigil_x509::Error::MissingEku {
            depth: 0,
            required: ExtendedKeyUsage::TimeStamping
        }))
    );
    // genTime after the leaf expired.
    let tsa = Tsa::new();
    let mut t = Token::new(&tsa, SIG);
    t.gen_time = "20251231000000Z".into();
    assert!(matches!(
        t.verify(&tsa, SIG),
        Err(Error::ChainInvalid(sigil_x509::Error::Expired { depth: 0, .. }))
    ));
    // A chain of the leaf alone: the leaf is the anchor, its profile and validity still apply.
    let t = Token::new(&tsa, SIG);
    let alone = TimestampAuthority {
        chain: vec![tsa.leaf.clone()],
        valid_from: Some(T0),
        valid_until: Some(T0),
    };
    verify_timestamp(&t.parse(&tsa).unwrap(), SIG, &[alone]).unwrap();
    // A root that did not sign the leaf.
    let other_root_key = Key::new();
    let other_root = Spec::new("tsa-root", "tsa-root", T0 - DAY, T0 + DAY)
        .ext(bc(true, None))
        .ext(ku(KU_KEY_CERT_SIGN));
    let other_root = Certificate::from_der(&other_root.build(&other_root_key.spki, &other_root_key)).unwrap();
    let wrong = TimestampAuthority {
        chain: vec![tsa.leaf.clone(), other_root],
        valid_from: None,
        valid_until: None,
    };
    assert_eq!(
        verify_timestamp(&t.parse(&tsa).unwrap(), SIG, &[wrong]),
        Err(Error::ChainInvalid(sigil_x509::Error::BadSignature { depth: 0 }))
    );
}

#[test]
fn request_nonce_round_trip() {
    let tsa = Tsa::new();
    let req = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, SIG).with_nonce(&[0x9c, 0x01, 0x02, 0x03]);
    assert_eq!(req.imprint(), sigil_crypto::sha256(SIG));
    // The TSA echoes the nonce as a positive INTEGER.
    let mut t = Token::new(&tsa, SIG);
    t.nonce = Some(vec![0x00, 0x9c, 0x01, 0x02, 0x03]);
    let r = t.parse(&tsa).unwrap();
    verify_timestamp(&r, SIG, &[tsa.authority()]).unwrap();
    r.tst_info().check_nonce(req.nonce().unwrap()).unwrap();
    assert_eq!(
        r.tst_info().check_nonce(&[0x9c, 0x01, 0x02, 0x04]),
        Err(Error::NonceMismatch)
    );
    // A negative nonce never matches.
    t.nonce = Some(vec![0x9c, 0x01, 0x02, 0x03]);
    let r = t.parse(&tsa).unwrap();
    assert_eq!(
        r.tst_info().check_nonce(req.nonce().unwrap()),
        Err(Error::NonceMismatch)
    );
    let der = req.to_der();
    assert!(der.len() > 40);
}
