//! Helpers shared by the integration tests: fixture loading (read in place from /work/shared, never copied)
//! and a tiny DER certificate builder signed with ring, for chains the fixtures do not contain.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sigil_x509::{Certificate, CtLog};

pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

pub fn conformance() -> PathBuf {
    shared().join("conformance/bundle-verify")
}

pub fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Base64 as the fixtures carry it; line breaks are skipped as Go's and Python's decoders do (some real
/// `signedTimestamp` values are wrapped at 76 columns).
pub fn b64(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    STANDARD.decode(s).unwrap()
}

pub fn rfc3339(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// (case name, expect accept?) from cases.tsv.
pub fn cases() -> Vec<(String, bool)> {
    let tsv = std::fs::read_to_string(shared().join("conformance/cases.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split('\t');
            let name = f.next().unwrap().to_string();
            let expect = f.next().unwrap() == "accept";
            (name, expect)
        })
        .collect()
}

/// Every bundle: the conformance cases (parseable JSON only) and the private-instance bundles.
pub fn all_bundles() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, _) in cases() {
        let p = conformance().join(&name).join("bundle.sigstore.json");
        if let Ok(v) = serde_json::from_str::<Value>(&std::fs::read_to_string(&p).unwrap()) {
            out.push((name, v));
        }
    }
    let pi = shared().join("private-instance");
    let mut names: Vec<_> = std::fs::read_dir(&pi)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sigstore.json"))
        .collect();
    names.sort();
    for n in names {
        out.push((format!("private-instance/{n}"), read_json(&pi.join(&n))));
    }
    out
}

/// The bundle's certificates (leaf first), as DER.
pub fn bundle_certs(bundle: &Value) -> Vec<Vec<u8>> {
    let vm = &bundle["verificationMaterial"];
    if let Some(c) = vm["certificate"]["rawBytes"].as_str() {
        return vec![b64(c)];
    }
    vm["x509CertificateChain"]["certificates"]
        .as_array()
        .map(|a| a.iter().map(|c| b64(c["rawBytes"].as_str().unwrap())).collect())
        .unwrap_or_default()
}

pub fn integrated_time(bundle: &Value) -> Option<i64> {
    bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .map(|s| s.parse().unwrap())
        .filter(|&t| t != 0)
}

/// The trusted root a case uses: its own, or production.
pub fn trusted_root_for(case: &str) -> Value {
    if let Some(rest) = case.strip_prefix("private-instance/") {
        let _ = rest;
        return read_json(&shared().join("private-instance/trusted_root.json"));
    }
    let own = conformance().join(case).join("trusted_root.json");
    if own.exists() {
        read_json(&own)
    } else {
        read_json(&shared().join("conformance/production-trusted-root/trusted_root.json"))
    }
}

fn chains(root: &Value, key: &str) -> Vec<Vec<Certificate>> {
    root[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|ca| {
                    ca["certChain"]["certificates"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| Certificate::from_der(&b64(c["rawBytes"].as_str().unwrap())).unwrap())
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn fulcio_chains(root: &Value) -> Vec<Vec<Certificate>> {
    chains(root, "certificateAuthorities")
}

pub fn tsa_chains(root: &Value) -> Vec<Vec<Certificate>> {
    chains(root, "timestampAuthorities")
}

/// The trusted root's CT logs. Keys sigil cannot parse (one fixture ships a bare PKCS#1 RSA key) are skipped.
pub fn ct_logs(root: &Value) -> Vec<CtLog> {
    let mut out = Vec::new();
    for l in root["ctlogs"].as_array().into_iter().flatten() {
        let Ok(key) = sigil_crypto::VerifyingKey::from_spki_der(&b64(l["publicKey"]["rawBytes"].as_str().unwrap()))
        else {
            continue;
        };
        let id = b64(l["logId"]["keyId"].as_str().unwrap());
        let vf = &l["publicKey"]["validFor"];
        out.push(CtLog {
            log_id: id.try_into().unwrap(),
            key,
            valid_from: vf["start"].as_str().map(rfc3339),
            valid_until: vf["end"].as_str().map(rfc3339),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// A small certificate builder, signed with ring (ECDSA P-256 / SHA-256), for chains the fixtures lack.

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use sigil_crypto::der::{encode, tag};

pub mod oids {
    pub const BC: &[u8] = &[0x55, 0x1d, 0x13];
    pub const KU: &[u8] = &[0x55, 0x1d, 0x0f];
    pub const EKU: &[u8] = &[0x55, 0x1d, 0x25];
    pub const SAN: &[u8] = &[0x55, 0x1d, 0x11];
    pub const NAME_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x1e];
    pub const SCT: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
    pub const POISON: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03];
    pub const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
    pub const TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
    pub const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    pub const ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
    pub const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const CN: &[u8] = &[0x55, 0x04, 0x03];

    /// 1.3.6.1.4.1.57264.1.<arc>
    pub fn fulcio(arc: u8) -> Vec<u8> {
        let mut v = vec![0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01];
        v.push(arc);
        v
    }
}

/// KeyUsage bit numbers.
pub const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub const KU_KEY_CERT_SIGN: u16 = 1 << 5;
pub const KU_CRL_SIGN: u16 = 1 << 6;

pub struct Key {
    pair: EcdsaKeyPair,
    pub spki: Vec<u8>,
}

impl Key {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let spki = sigil_crypto::spki_der_for(sigil_crypto::KeyAlgorithm::EcdsaP256, pair.public_key().as_ref());
        Self { pair, spki }
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(&SystemRandom::new(), msg).unwrap().as_ref().to_vec()
    }

    pub fn verifying_key(&self) -> sigil_crypto::VerifyingKey {
        sigil_crypto::VerifyingKey::from_spki_der(&self.spki).unwrap()
    }

    pub fn pem(&self) -> String {
        sigil_crypto::pem_encode("PUBLIC KEY", &self.spki)
    }

    /// SHA-256 of the SPKI: the RFC 6962 log ID of a log using this key.
    pub fn key_id(&self) -> [u8; 32] {
        sigil_crypto::sha256(&self.spki)
    }
}

pub fn name(cn: &str) -> Vec<u8> {
    let atv = encode(
        tag::SEQUENCE,
        &[encode(tag::OID, oids::CN), encode(tag::UTF8_STRING, cn.as_bytes())].concat(),
    );
    encode(tag::SEQUENCE, &encode(tag::SET, &atv))
}

pub fn asn1_time(t: i64) -> Vec<u8> {
    let dt = time::OffsetDateTime::from_unix_timestamp(t).unwrap();
    let (y, mo, d, h, mi, s) = (
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
    );
    if (1950..2050).contains(&y) {
        let v = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        encode(tag::UTC_TIME, v.as_bytes())
    } else {
        let v = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        encode(tag::GENERALIZED_TIME, v.as_bytes())
    }
}

pub fn ext(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut body = encode(tag::OID, oid);
    if critical {
        body.extend_from_slice(&encode(tag::BOOLEAN, &[0xff]));
    }
    body.extend_from_slice(&encode(tag::OCTET_STRING, value));
    encode(tag::SEQUENCE, &body)
}

pub fn bc(ca: bool, path_len: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    if ca {
        body.extend_from_slice(&encode(tag::BOOLEAN, &[0xff]));
    }
    if let Some(n) = path_len {
        body.extend_from_slice(&encode(tag::INTEGER, &[n]));
    }
    ext(oids::BC, true, &encode(tag::SEQUENCE, &body))
}

pub fn ku(bits: u16) -> Vec<u8> {
    let mut bytes = vec![0u8; 2];
    for i in 0..16 {
        if bits & (1 << i) != 0 {
            bytes[i / 8] |= 0x80 >> (i % 8);
        }
    }
    while bytes.last() == Some(&0) && bytes.len() > 1 {
        bytes.pop();
    }
    let unused = bytes
        .last()
        .map(|b| if *b == 0 { 0 } else { b.trailing_zeros() as u8 })
        .unwrap();
    let mut v = vec![unused];
    v.extend_from_slice(&bytes);
    ext(oids::KU, true, &encode(tag::BIT_STRING, &v))
}

pub fn eku(list: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = list.iter().flat_map(|o| encode(tag::OID, o)).collect();
    ext(oids::EKU, false, &encode(tag::SEQUENCE, &body))
}

/// GeneralNames from already-encoded GeneralName elements.
pub fn san(critical: bool, names: &[Vec<u8>]) -> Vec<u8> {
    ext(oids::SAN, critical, &encode(tag::SEQUENCE, &names.concat()))
}

pub fn gn_uri(s: &str) -> Vec<u8> {
    encode(0x86, s.as_bytes())
}

pub fn gn_email(s: &str) -> Vec<u8> {
    encode(0x81, s.as_bytes())
}

pub fn gn_dns(s: &str) -> Vec<u8> {
    encode(0x82, s.as_bytes())
}

pub fn gn_othername(type_id: &[u8], utf8: &str) -> Vec<u8> {
    let inner = [
        encode(tag::OID, type_id),
        encode(0xa0, &encode(tag::UTF8_STRING, utf8.as_bytes())),
    ]
    .concat();
    encode(0xa0, &inner)
}

pub fn fulcio_raw(arc: u8, v: &[u8]) -> Vec<u8> {
    ext(&oids::fulcio(arc), false, v)
}

pub fn fulcio_utf8(arc: u8, v: &str) -> Vec<u8> {
    ext(&oids::fulcio(arc), false, &encode(tag::UTF8_STRING, v.as_bytes()))
}

#[derive(Clone)]
pub struct Spec {
    pub serial: Vec<u8>,
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    pub extensions: Vec<Vec<u8>>,
}

impl Spec {
    pub fn new(issuer: &str, subject: &str, not_before: i64, not_after: i64) -> Self {
        Self {
            serial: vec![0x01, 0x23],
            issuer: name(issuer),
            subject: name(subject),
            not_before,
            not_after,
            extensions: Vec::new(),
        }
    }

    pub fn ext(mut self, e: Vec<u8>) -> Self {
        self.extensions.push(e);
        self
    }

    pub fn tbs(&self, spki: &[u8]) -> Vec<u8> {
        tbs_with(self, spki, &self.extensions)
    }

    pub fn build(&self, spki: &[u8], signer: &Key) -> Vec<u8> {
        sign_tbs(&self.tbs(spki), signer)
    }
}

pub fn alg_ecdsa_sha256() -> Vec<u8> {
    encode(tag::SEQUENCE, &encode(tag::OID, oids::ECDSA_SHA256))
}

pub fn tbs_with(spec: &Spec, spki: &[u8], extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut body = encode(0xa0, &encode(tag::INTEGER, &[2]));
    body.extend_from_slice(&encode(tag::INTEGER, &spec.serial));
    body.extend_from_slice(&alg_ecdsa_sha256());
    body.extend_from_slice(&spec.issuer);
    body.extend_from_slice(&encode(
        tag::SEQUENCE,
        &[asn1_time(spec.not_before), asn1_time(spec.not_after)].concat(),
    ));
    body.extend_from_slice(&spec.subject);
    body.extend_from_slice(spki);
    if !extensions.is_empty() {
        body.extend_from_slice(&encode(0xa3, &encode(tag::SEQUENCE, &extensions.concat())));
    }
    encode(tag::SEQUENCE, &body)
}

pub fn sign_tbs(tbs: &[u8], signer: &Key) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signer.sign(tbs));
    encode(
        tag::SEQUENCE,
        &[tbs.to_vec(), alg_ecdsa_sha256(), encode(tag::BIT_STRING, &bits)].concat(),
    )
}

/// Re-encodes a real certificate with its extension list passed through `f` (the signature is kept, so it
/// no longer verifies: for identity-extraction tests).
pub fn reencode_extensions(der: &[u8], mut f: impl FnMut(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    let cert = sigil_crypto::der::parse_single(der).unwrap();
    let mut r = cert.reader();
    let tbs = r.read().unwrap();
    let alg = r.read().unwrap();
    let sig = r.read().unwrap();
    let mut t = tbs.reader();
    let mut body = Vec::new();
    while !t.is_empty() {
        let el = t.read().unwrap();
        if el.tag == 0xa3 {
            let seq = sigil_crypto::der::parse_single(el.value).unwrap();
            let mut e = seq.reader();
            let mut exts = Vec::new();
            while !e.is_empty() {
                exts.push(e.read().unwrap().raw.to_vec());
            }
            f(&mut exts);
            body.extend_from_slice(&encode(0xa3, &encode(tag::SEQUENCE, &exts.concat())));
        } else {
            body.extend_from_slice(el.raw);
        }
    }
    encode(
        tag::SEQUENCE,
        &[encode(tag::SEQUENCE, &body), alg.raw.to_vec(), sig.raw.to_vec()].concat(),
    )
}

/// The OID contents of an encoded Extension.
pub fn ext_oid(ext: &[u8]) -> Vec<u8> {
    let seq = sigil_crypto::der::parse_single(ext).unwrap();
    seq.reader().read().unwrap().value.to_vec()
}

/// A serialized v1 SCT over a precertificate TBS.
pub fn make_sct(log: &Key, ts_ms: u64, issuer_spki: &[u8], precert_tbs: &[u8], exts: &[u8]) -> Vec<u8> {
    let log_id = sigil_crypto::sha256(&log.spki);
    let issuer_hash = sigil_crypto::sha256(issuer_spki);
    let mut msg = vec![0u8, 0u8];
    msg.extend_from_slice(&ts_ms.to_be_bytes());
    msg.extend_from_slice(&[0, 1]);
    msg.extend_from_slice(&issuer_hash);
    msg.extend_from_slice(&(precert_tbs.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(precert_tbs);
    msg.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    msg.extend_from_slice(exts);
    let sig = log.sign(&msg);
    let mut sct = vec![0u8];
    sct.extend_from_slice(&log_id);
    sct.extend_from_slice(&ts_ms.to_be_bytes());
    sct.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    sct.extend_from_slice(exts);
    sct.extend_from_slice(&[4, 3]);
    sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
    sct.extend_from_slice(&sig);
    sct
}

/// The SCT list extension holding `scts`.
pub fn sct_list_ext(scts: &[Vec<u8>]) -> Vec<u8> {
    let mut items = Vec::new();
    for s in scts {
        items.extend_from_slice(&(s.len() as u16).to_be_bytes());
        items.extend_from_slice(s);
    }
    let mut list = (items.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&items);
    ext(oids::SCT, false, &encode(tag::OCTET_STRING, &list))
}
