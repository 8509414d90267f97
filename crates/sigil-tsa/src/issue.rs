//! The issuing side of an RFC 3161 timestamp authority: strict request parsing and token issuance.
//!
//! **Requests** ([`parse_request`], T-01/T-02). At most [`MAX_REQUEST_LEN`] bytes, checked before anything is
//! read, so a 100 MB body costs nothing; strict DER (definite, minimal lengths, no trailing data), version 1; the
//! imprint's hash must be SHA-256/384/512 (SHA-1 and MD5 are [`Error::WeakHash`], anything else
//! [`Error::UnsupportedAlgorithm`]) and the imprint must have that hash's length
//! ([`Error::InconsistentDigestLength`]); a `reqPolicy` OID is bounded and must be ours
//! ([`Error::UnsupportedPolicy`]); the nonce is a positive INTEGER of at most [`MAX_NONCE_LEN`] bytes; critical
//! request extensions are refused. [`ParsedRequest::from_digest`] is the JSON form sigstore-js sends.
//!
//! **Responses** ([`TimestampIssuer::issue`]). A DER `TimeStampResp` with status granted and a CMS
//! `SignedData` v3 token: `TSTInfo` v1 (policy, the request's imprint, serial, `genTime` with milliseconds,
//! optional accuracy, no ordering, the nonce echoed byte for byte), the certificates (leaf and chain, as a
//! DER-sorted `SET OF`, only when `certReq`), one `SignerInfo` v1 named by issuer and serial number, with
//! DER-sorted signed attributes `contentType`, `messageDigest` and `signingCertificateV2` (RFC 5816). Every
//! `SET OF` is sorted: Python's rfc3161-client rejects an unsorted one, sigstore-js rejects non-minimal DER.
//! Everything that does not depend on the request (the certificate set, the signer identifier, the ESS
//! attribute, algorithm identifiers) is encoded once in [`TimestampIssuer::new`].

use std::sync::Arc;

use sigil_crypto::der::{self, Reader, encode, tag};
use sigil_crypto::der_write as w;
use sigil_crypto::{HashAlgorithm, SignatureScheme, Signer};
use sigil_x509::Certificate;

use crate::Error;
use crate::parse::{hash_oid, oid};

/// Largest `TimeStampReq` accepted, in bytes (T-01).
pub const MAX_REQUEST_LEN: usize = 4096;
/// Largest nonce accepted, in bytes of magnitude.
pub const MAX_NONCE_LEN: usize = 32;
/// Longest policy OID accepted, in contents bytes (T-01: an OID of 10⁶ arcs is refused before it is decoded).
const MAX_OID_LEN: usize = 64;
/// Most request extensions looked at.
const MAX_REQUEST_EXTENSIONS: usize = 8;
/// Longest TSTInfo serial number, in bytes (RFC 3161: up to 160 bits).
const MAX_SERIAL_LEN: usize = 20;

/// DER contents of OIDs only the issuer needs.
mod oid_i {
    /// 1.3.14.3.2.26 SHA-1
    pub const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    /// 1.2.840.113549.2.5 MD5
    pub const MD5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05];
    /// 1.2.840.10045.4.3.{2,3,4} ecdsa-with-SHA{256,384,512}
    pub const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    pub const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    /// 2.5.29.37 extKeyUsage
    pub const EXT_KEY_USAGE: &str = "2.5.29.37";
    /// 1.3.6.1.5.5.7.3.8 timeStamping
    pub const TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
}

/// A validated time-stamp request: what [`TimestampIssuer::issue`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    hash: HashAlgorithm,
    /// The request's `hashAlgorithm` AlgorithmIdentifier, echoed into the TSTInfo verbatim.
    hash_alg_der: Vec<u8>,
    imprint: Vec<u8>,
    /// The nonce as the request's complete INTEGER TLV (echoed verbatim).
    nonce: Option<Vec<u8>>,
    cert_req: bool,
}

impl ParsedRequest {
    /// A request from a digest alone (sigstore-js's JSON `{"artifactHash", "hashAlgorithm"}`): no nonce, no
    /// certificates. The digest length must match the algorithm.
    pub fn from_digest(alg: HashAlgorithm, digest: &[u8]) -> Result<Self, Error> {
        check_imprint_len(alg, digest)?;
        Ok(Self {
            hash: alg,
            hash_alg_der: w::sequence(&[&encode(tag::OID, hash_oid(alg))]),
            imprint: digest.to_vec(),
            nonce: None,
            cert_req: false,
        })
    }

    /// Adds a nonce (unsigned big-endian, at most [`MAX_NONCE_LEN`] bytes of magnitude).
    pub fn with_nonce(mut self, nonce: &[u8]) -> Result<Self, Error> {
        let int = w::unsigned_integer(nonce);
        check_nonce(&int)?;
        self.nonce = Some(int);
        Ok(self)
    }

    /// Asks for the certificates in the token.
    pub fn with_cert_req(mut self) -> Self {
        self.cert_req = true;
        self
    }

    /// The imprint's hash algorithm.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    /// The message imprint.
    pub fn imprint(&self) -> &[u8] {
        &self.imprint
    }

    /// The nonce's INTEGER contents octets (minimal, positive), if any.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce
            .as_deref()
            .and_then(|n| der::parse_single(n).ok())
            .map(|t| t.value)
    }

    /// Whether the requester asked for the certificates.
    pub fn cert_req(&self) -> bool {
        self.cert_req
    }
}

/// The hash algorithm named in a JSON request (`"sha256"`, `"SHA-384"`, …): SHA-1/MD5 are
/// [`Error::WeakHash`], other names [`Error::UnsupportedAlgorithm`].
pub fn hash_algorithm_from_name(name: &str) -> Result<HashAlgorithm, Error> {
    let n: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    match n.as_str() {
        "sha256" | "sha2256" => Ok(HashAlgorithm::Sha2_256),
        "sha384" | "sha2384" => Ok(HashAlgorithm::Sha2_384),
        "sha512" | "sha2512" => Ok(HashAlgorithm::Sha2_512),
        "sha1" | "md5" => Err(Error::WeakHash(n)),
        _ => Err(Error::UnsupportedAlgorithm(format!(
            "hash {:?}",
            name.chars().take(32).collect::<String>()
        ))),
    }
}

fn check_imprint_len(alg: HashAlgorithm, imprint: &[u8]) -> Result<(), Error> {
    if imprint.len() != alg.output_len() {
        return Err(Error::InconsistentDigestLength {
            expected: alg.output_len(),
            got: imprint.len(),
        });
    }
    Ok(())
}

fn bad(what: &str) -> Error {
    Error::BadRequest(what.to_string())
}

fn rd<'a>(r: &mut Reader<'a>, t: u8, what: &str) -> Result<der::Tlv<'a>, Error> {
    r.expect(t).map_err(|e| Error::BadRequest(format!("{what}: {e}")))
}

/// A nonce INTEGER TLV: minimal, positive, at most [`MAX_NONCE_LEN`] bytes of magnitude.
fn check_nonce(int_tlv: &[u8]) -> Result<(), Error> {
    let t = der::parse_single(int_tlv).map_err(|_| bad("nonce"))?;
    check_positive_minimal(t.value, "nonce")?;
    let magnitude = t.value.strip_prefix(&[0u8]).unwrap_or(t.value);
    if magnitude.len() > MAX_NONCE_LEN {
        return Err(Error::BadRequest(format!(
            "nonce is {} bytes, over the {MAX_NONCE_LEN}-byte limit",
            magnitude.len()
        )));
    }
    Ok(())
}

fn check_positive_minimal(v: &[u8], what: &str) -> Result<(), Error> {
    match v {
        [] => Err(Error::BadRequest(format!("{what}: empty INTEGER"))),
        [b, ..] if b & 0x80 != 0 => Err(Error::BadRequest(format!("{what}: negative INTEGER"))),
        [0, b, ..] if b & 0x80 == 0 => Err(Error::BadRequest(format!("{what}: non-minimal INTEGER"))),
        _ => Ok(()),
    }
}

/// Parses a DER `TimeStampReq` strictly and within bounds (T-01, T-02). `policy_oid` is the TSA's policy
/// (dotted): a request naming another policy is [`Error::UnsupportedPolicy`].
pub fn parse_request(der_bytes: &[u8], policy_oid: &str) -> Result<ParsedRequest, Error> {
    if der_bytes.len() > MAX_REQUEST_LEN {
        return Err(Error::RequestTooLarge {
            len: der_bytes.len(),
            max: MAX_REQUEST_LEN,
        });
    }
    let seq = der::parse_single(der_bytes).map_err(|e| Error::BadRequest(format!("TimeStampReq: {e}")))?;
    if seq.tag != tag::SEQUENCE {
        return Err(bad("TimeStampReq is not a SEQUENCE"));
    }
    let mut r = seq.reader();
    let version = rd(&mut r, tag::INTEGER, "version")?;
    if version.value != [1] {
        return Err(bad("version is not 1"));
    }

    // MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
    let mi = rd(&mut r, tag::SEQUENCE, "messageImprint")?;
    let mut m = mi.reader();
    let alg = rd(&mut m, tag::SEQUENCE, "hashAlgorithm")?;
    let hashed = rd(&mut m, tag::OCTET_STRING, "hashedMessage")?;
    m.finish().map_err(|_| bad("messageImprint: trailing data"))?;
    let mut a = alg.reader();
    let alg_oid = rd(&mut a, tag::OID, "hashAlgorithm")?;
    if let Some(p) = a.optional(tag::NULL).map_err(|_| bad("hashAlgorithm parameters"))? {
        if !p.value.is_empty() {
            return Err(bad("hashAlgorithm parameters"));
        }
    }
    a.finish()
        .map_err(|_| bad("hashAlgorithm parameters must be absent or NULL"))?;
    let hash = match alg_oid.value {
        oid::SHA256 => HashAlgorithm::Sha2_256,
        oid::SHA384 => HashAlgorithm::Sha2_384,
        oid::SHA512 => HashAlgorithm::Sha2_512,
        oid_i::SHA1 => return Err(Error::WeakHash("sha1".into())),
        oid_i::MD5 => return Err(Error::WeakHash("md5".into())),
        other => {
            let name = if other.len() <= MAX_OID_LEN {
                der::oid_to_string(other).unwrap_or_else(|_| "(invalid OID)".into())
            } else {
                "(over-long OID)".into()
            };
            return Err(Error::UnsupportedAlgorithm(format!("hash {name}")));
        }
    };
    check_imprint_len(hash, hashed.value)?;

    // reqPolicy TSAPolicyId OPTIONAL
    if let Some(p) = r.optional(tag::OID).map_err(|_| bad("reqPolicy"))? {
        if p.value.len() > MAX_OID_LEN {
            return Err(Error::UnsupportedPolicy(format!("OID of {} bytes", p.value.len())));
        }
        let requested = der::oid_to_string(p.value).map_err(|_| bad("reqPolicy is not a valid OID"))?;
        if requested != policy_oid {
            return Err(Error::UnsupportedPolicy(requested));
        }
    }
    // nonce INTEGER OPTIONAL
    let nonce = match r.optional(tag::INTEGER).map_err(|_| bad("nonce"))? {
        Some(n) => {
            check_nonce(n.raw)?;
            Some(n.raw.to_vec())
        }
        None => None,
    };
    // certReq BOOLEAN DEFAULT FALSE
    let cert_req = match r.optional(tag::BOOLEAN).map_err(|_| bad("certReq"))? {
        Some(b) if b.value == [0xff] => true,
        Some(b) if b.value == [0x00] => false,
        Some(_) => return Err(bad("certReq is not a DER BOOLEAN")),
        None => false,
    };
    // extensions [0] IMPLICIT Extensions OPTIONAL
    if let Some(exts) = r.optional(tag::context_constructed(0)).map_err(|_| bad("extensions"))? {
        let mut e = exts.reader();
        let mut n = 0usize;
        while !e.is_empty() {
            n += 1;
            if n > MAX_REQUEST_EXTENSIONS {
                return Err(bad("too many extensions"));
            }
            let ext = rd(&mut e, tag::SEQUENCE, "extension")?;
            let mut x = ext.reader();
            let o = rd(&mut x, tag::OID, "extension id")?;
            let critical = x.optional(tag::BOOLEAN).map_err(|_| bad("extension critical"))?;
            rd(&mut x, tag::OCTET_STRING, "extension value")?;
            x.finish().map_err(|_| bad("extension: trailing data"))?;
            if critical.is_some_and(|c| c.value != [0x00]) {
                let name = if o.value.len() <= MAX_OID_LEN {
                    der::oid_to_string(o.value).unwrap_or_else(|_| "(invalid OID)".into())
                } else {
                    "(over-long OID)".into()
                };
                return Err(Error::UnsupportedExtension(name));
            }
        }
    }
    r.finish().map_err(|_| bad("TimeStampReq: trailing data"))?;
    Ok(ParsedRequest {
        hash,
        hash_alg_der: alg.raw.to_vec(),
        imprint: hashed.value.to_vec(),
        nonce,
        cert_req,
    })
}

/// `Accuracy` of the issued `genTime` (RFC 3161 §2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accuracy {
    pub seconds: u32,
    /// 0..=999
    pub millis: u16,
}

/// A timestamp authority's signing side: its key, its certificate chain and policy, prepared once.
#[derive(Debug, Clone)]
pub struct TimestampIssuer {
    signer: Arc<dyn Signer>,
    digest: HashAlgorithm,
    /// DER `policy` OID.
    policy: Vec<u8>,
    policy_dotted: String,
    /// DER `AlgorithmIdentifier` of the digest (SignerInfo and digestAlgorithms).
    digest_alg: Vec<u8>,
    /// DER `SET OF` digestAlgorithms.
    digest_algs: Vec<u8>,
    /// DER `AlgorithmIdentifier` of the signature.
    sig_alg: Vec<u8>,
    /// DER `IssuerAndSerialNumber`.
    sid: Vec<u8>,
    /// `[0] IMPLICIT SET OF Certificate`, DER-sorted.
    certificates: Vec<u8>,
    /// The chain as given (leaf first), for `GET …/certchain`.
    chain_der: Vec<Vec<u8>>,
    /// The complete `signingCertificateV2` Attribute.
    signing_cert_attr: Vec<u8>,
    /// The complete `contentType` Attribute.
    content_type_attr: Vec<u8>,
    /// DER `Accuracy`, if declared.
    accuracy: Option<Vec<u8>>,
}

impl TimestampIssuer {
    /// Prepares a TSA. `chain_der` runs leaf first, root last. The signer's key must be the leaf's key; the leaf
    /// must carry a **critical** EKU listing timeStamping only (RFC 3161 §2.3), each certificate must be signed
    /// by the next, and the signer must be ECDSA (sigstore-js verifies only ECDSA tokens). `policy_oid` is
    /// dotted, e.g. `1.3.6.1.4.1.57264.2`.
    pub fn new(signer: Arc<dyn Signer>, chain_der: Vec<Vec<u8>>, policy_oid: &str) -> Result<Self, Error> {
        let certs = chain_der
            .iter()
            .map(|d| Certificate::from_der(d).map_err(|e| Error::UnsuitableSigner(format!("certificate: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let leaf = certs
            .first()
            .ok_or_else(|| Error::UnsuitableSigner("empty certificate chain".into()))?;
        if signer.public_key() != leaf.public_key() {
            return Err(Error::UnsuitableSigner(
                "signer key does not match the leaf certificate".into(),
            ));
        }
        match leaf.extension(oid_i::EXT_KEY_USAGE) {
            Some((true, value)) if eku_is_time_stamping_only(value) => {}
            Some((true, _)) => {
                return Err(Error::UnsuitableSigner(
                    "leaf extended key usage must be timeStamping only".into(),
                ));
            }
            _ => {
                return Err(Error::UnsuitableSigner(
                    "leaf lacks a critical extended key usage timeStamping".into(),
                ));
            }
        }
        for pair in certs.windows(2) {
            if let [child, parent] = pair {
                child
                    .verify_issued_by(parent)
                    .map_err(|e| Error::UnsuitableSigner(format!("chain: {e}")))?;
            }
        }
        let (digest, sig_oid) = match signer.scheme() {
            SignatureScheme::EcdsaSha256 => (HashAlgorithm::Sha2_256, oid_i::ECDSA_SHA256),
            SignatureScheme::EcdsaSha384 => (HashAlgorithm::Sha2_384, oid_i::ECDSA_SHA384),
            SignatureScheme::EcdsaSha512 => (HashAlgorithm::Sha2_512, oid_i::ECDSA_SHA512),
            other => {
                return Err(Error::UnsuitableSigner(format!(
                    "signature scheme {other:?}: only ECDSA signers are supported"
                )));
            }
        };
        let policy = w::oid(policy_oid).map_err(|_| Error::UnsuitableSigner("invalid policy OID".into()))?;

        let digest_alg = w::sequence(&[&encode(tag::OID, hash_oid(digest))]);
        let digest_algs = w::set_of(vec![digest_alg.clone()]);
        let sig_alg = w::sequence(&[&encode(tag::OID, sig_oid)]);
        let sid = w::sequence(&[leaf.issuer_der(), &encode(tag::INTEGER, leaf.serial())]);
        let mut certificates = w::set_of(chain_der.clone());
        if let Some(t) = certificates.first_mut() {
            *t = tag::context_constructed(0);
        }
        // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }; ESSCertIDv2 with the DEFAULT
        // hash (SHA-256) omits hashAlgorithm (DER).
        let ess_cert_id = w::sequence(&[&w::octet_string(&sigil_crypto::sha256(leaf.der()))]);
        let signing_cert = w::sequence(&[&w::sequence(&[&ess_cert_id])]);
        let signing_cert_attr = attribute(oid::ATTR_SIGNING_CERT_V2, &signing_cert);
        let content_type_attr = attribute(oid::ATTR_CONTENT_TYPE, &encode(tag::OID, oid::CT_TST_INFO));
        Ok(Self {
            signer,
            digest,
            policy,
            policy_dotted: policy_oid.to_string(),
            digest_alg,
            digest_algs,
            sig_alg,
            sid,
            certificates,
            chain_der,
            signing_cert_attr,
            content_type_attr,
            accuracy: None,
        })
    }

    /// Declares the accuracy of `genTime` in every token.
    pub fn with_accuracy(mut self, accuracy: Accuracy) -> Result<Self, Error> {
        if accuracy.millis > 999 {
            return Err(Error::UnsuitableSigner("accuracy millis must be 0..=999".into()));
        }
        let mut parts = Vec::new();
        if accuracy.seconds > 0 {
            parts.push(w::integer_u64(u64::from(accuracy.seconds)));
        }
        if accuracy.millis > 0 {
            let int = w::integer_u64(u64::from(accuracy.millis));
            let mut implicit = int;
            if let Some(t) = implicit.first_mut() {
                *t = tag::context_primitive(0);
            }
            parts.push(implicit);
        }
        self.accuracy = Some(encode(tag::SEQUENCE, &parts.concat()));
        Ok(self)
    }

    /// The certificate chain, leaf first, root last (DER).
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain_der
    }

    /// The policy OID, dotted.
    pub fn policy_oid(&self) -> &str {
        &self.policy_dotted
    }

    /// [`parse_request`] with this TSA's policy.
    pub fn parse_request(&self, der_bytes: &[u8]) -> Result<ParsedRequest, Error> {
        parse_request(der_bytes, &self.policy_dotted)
    }

    /// Issues a `TimeStampResp` (status granted) for `req` at `now_unix` + `millis` (0..=999). `serial` is the
    /// TSTInfo serial number, unsigned big-endian, 1–20 bytes, unique per token (e.g. random).
    pub fn issue(&self, req: &ParsedRequest, now_unix: i64, millis: u16, serial: &[u8]) -> Result<Vec<u8>, Error> {
        let magnitude = serial
            .get(serial.iter().take_while(|&&b| b == 0).count()..)
            .unwrap_or(&[]);
        if magnitude.is_empty() || magnitude.len() > MAX_SERIAL_LEN {
            return Err(Error::BadRequest(
                "serial number must be 1 to 20 bytes and positive".into(),
            ));
        }
        let gen_time = w::generalized_time(now_unix, millis)?;
        let imprint = w::sequence(&[&req.hash_alg_der, &w::octet_string(&req.imprint)]);
        let serial = w::unsigned_integer(serial);
        let mut tst: Vec<&[u8]> = vec![&[0x02, 0x01, 0x01], &self.policy, &imprint, &serial, &gen_time];
        if let Some(a) = &self.accuracy {
            tst.push(a);
        }
        if let Some(n) = &req.nonce {
            tst.push(n);
        }
        let tst_info = w::sequence(&tst);

        let message_digest = attribute(
            oid::ATTR_MESSAGE_DIGEST,
            &w::octet_string(&self.digest.digest(&tst_info)),
        );
        let mut attrs = w::set_of(vec![
            self.content_type_attr.clone(),
            message_digest,
            self.signing_cert_attr.clone(),
        ]);
        let signature = self.signer.sign(&attrs).map_err(|e| Error::Signing(e.to_string()))?;
        if let Some(t) = attrs.first_mut() {
            *t = tag::context_constructed(0);
        }
        let signer_info = w::sequence(&[
            &[0x02, 0x01, 0x01],
            &self.sid,
            &self.digest_alg,
            &attrs,
            &self.sig_alg,
            &w::octet_string(&signature),
        ]);

        let encap = w::sequence(&[
            &encode(tag::OID, oid::CT_TST_INFO),
            &w::explicit(0, &w::octet_string(&tst_info)),
        ]);
        let signer_infos = w::set_of(vec![signer_info]);
        let mut sd: Vec<&[u8]> = vec![&[0x02, 0x01, 0x03], &self.digest_algs, &encap];
        if req.cert_req {
            sd.push(&self.certificates);
        }
        sd.push(&signer_infos);
        let signed_data = w::sequence(&sd);
        let content_info = w::sequence(&[&encode(tag::OID, oid::SIGNED_DATA), &w::explicit(0, &signed_data)]);
        let status = w::sequence(&[&[0x02, 0x01, 0x00]]);
        Ok(w::sequence(&[&status, &content_info]))
    }
}

/// `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF { value } }`.
fn attribute(type_oid: &[u8], value: &[u8]) -> Vec<u8> {
    w::sequence(&[&encode(tag::OID, type_oid), &w::set_of(vec![value.to_vec()])])
}

fn eku_is_time_stamping_only(value: &[u8]) -> bool {
    let Ok(seq) = der::parse_single(value) else {
        return false;
    };
    let mut r = seq.reader();
    matches!(r.read(), Ok(t) if t.tag == tag::OID && t.value == oid_i::TIME_STAMPING) && r.is_empty()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hash_names() {
        assert_eq!(hash_algorithm_from_name("sha256").unwrap(), HashAlgorithm::Sha2_256);
        assert_eq!(hash_algorithm_from_name("SHA-384").unwrap(), HashAlgorithm::Sha2_384);
        assert!(matches!(hash_algorithm_from_name("sha1"), Err(Error::WeakHash(_))));
        assert!(matches!(hash_algorithm_from_name("MD5"), Err(Error::WeakHash(_))));
        assert!(matches!(
            hash_algorithm_from_name("sha3-256"),
            Err(Error::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn nonces() {
        let r = ParsedRequest::from_digest(HashAlgorithm::Sha2_256, &[1; 32]).unwrap();
        assert_eq!(r.clone().with_nonce(&[0, 0x80]).unwrap().nonce().unwrap(), [0, 0x80]);
        assert!(r.clone().with_nonce(&[0xff; 33]).is_err());
        assert!(r.with_nonce(&[0xff; 32]).is_ok());
        assert!(check_nonce(&[2, 2, 0, 1]).is_err());
        assert!(check_nonce(&[2, 1, 0x80]).is_err());
    }
}
