//! Issuing certificates: a self-signed root, intermediates, Fulcio leaves (CT precertificate, then the final
//! certificate with the embedded SCT list) and RFC 3161 timestamping leaves.
//!
//! The DER is written by hand with `sigil_crypto::der_write`, so every byte of the profile is fixed here: the
//! extension order, each criticality flag, the raw-bytes encoding of the Fulcio `.1`–`.6` extensions, and the
//! position of the CT poison / SCT-list extension (always last), which makes the precertificate's TBS without
//! the poison byte-identical to the final TBS without the SCT list (RFC 6962 §3.2). Signatures go through the
//! [`Signer`] trait, so an HSM or KMS key works the same as an in-memory one. See `docs/dependencies.md` for why
//! this is not built on rcgen.
//!
//! What a leaf contains comes only from [`LeafRequest`], which the CA fills from a verified identity token and
//! a public key: there is no way to pass a CSR's subject, SANs or extensions in (C-04). No issued certificate
//! may outlive its issuer or start before it (C-08, [`Error::ValidityBeyondIssuer`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use sigil_crypto::der::{self, encode, tag};
use sigil_crypto::der_write as w;
use sigil_crypto::{SignatureScheme, Signer, VerifyingKey};

use crate::cert::{KU_KEY_CERT_SIGN, oid};
use crate::{Certificate, Error};

/// DER contents of the OIDs only this module writes.
mod oid_w {
    /// 2.5.4.10 organizationName
    pub const ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
    /// 2.5.4.3 commonName
    pub const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
    /// 1.2.840.10045.4.3.{2,3,4} ecdsa-with-SHA{256,384,512}
    pub const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    pub const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    /// 1.2.840.113549.1.1.{11,12,13} sha{256,384,512}WithRSAEncryption
    pub const RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub const RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    pub const RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    /// 1.3.6.1.4.1.57264.1.7: the Fulcio username OtherName.
    pub const FULCIO_OTHERNAME: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x07];
}

/// KeyUsage `digitalSignature` (bit 0): BIT STRING, 7 unused bits.
const KU_DIGITAL_SIGNATURE_DER: &[u8] = &[0x03, 0x02, 0x07, 0x80];
/// KeyUsage `keyCertSign` + `cRLSign` (bits 5, 6): BIT STRING, 1 unused bit.
const KU_CA_DER: &[u8] = &[0x03, 0x02, 0x01, 0x06];
/// Longest serial number, in INTEGER contents octets (RFC 5280 §4.1.2.2).
const MAX_SERIAL_OCTETS: usize = 20;

/// A distinguished name for CA and TSA certificates: `O=<organization>, CN=<common_name>` (UTF8String). An
/// empty organization is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub organization: String,
    pub common_name: String,
}

impl Name {
    /// The DER `Name`.
    fn to_der(&self) -> Result<Vec<u8>, Error> {
        if self.common_name.is_empty() {
            return Err(Error::InvalidRequest("name needs a common name".into()));
        }
        let rdn = |o: &[u8], v: &str| w::set_of(vec![w::sequence(&[&encode(tag::OID, o), &w::utf8_string(v)])]);
        let mut rdns = Vec::new();
        if !self.organization.is_empty() {
            rdns.push(rdn(oid_w::ORGANIZATION, &self.organization));
        }
        rdns.push(rdn(oid_w::COMMON_NAME, &self.common_name));
        Ok(encode(tag::SEQUENCE, &rdns.concat()))
    }
}

/// A CA certificate and the key that signs with it.
#[derive(Debug, Clone)]
pub struct Issuer {
    cert: Certificate,
    signer: Arc<dyn Signer>,
    /// DER `AlgorithmIdentifier` of the signer's scheme.
    sig_alg: Vec<u8>,
    /// The certificate's SubjectKeyIdentifier (becomes the AKI of what it issues).
    ski: Vec<u8>,
}

impl Issuer {
    /// Pairs a CA certificate with its signer. The signer's public key must be the certificate's key
    /// ([`Error::IssuerKeyMismatch`]); the certificate must be a CA with KeyUsage `keyCertSign` and a
    /// SubjectKeyIdentifier ([`Error::UnsuitableIssuer`]); Ed25519 CA keys are refused (Python's `cryptography`
    /// rejects them in a chain).
    pub fn new(cert: Certificate, signer: Arc<dyn Signer>) -> Result<Self, Error> {
        if signer.public_key() != cert.public_key() {
            return Err(Error::IssuerKeyMismatch);
        }
        if !cert.is_ca() {
            return Err(Error::UnsuitableIssuer("issuer certificate is not a CA"));
        }
        if cert.key_usage.is_none_or(|ku| ku & KU_KEY_CERT_SIGN == 0) {
            return Err(Error::UnsuitableIssuer(
                "issuer certificate lacks key usage keyCertSign",
            ));
        }
        let ski = cert
            .subject_key_id()
            .ok_or(Error::UnsuitableIssuer(
                "issuer certificate has no subject key identifier",
            ))?
            .to_vec();
        let sig_alg = ca_signature_algorithm(signer.scheme())?;
        Ok(Self {
            cert,
            signer,
            sig_alg,
            ski,
        })
    }

    /// [`Issuer::new`] from DER.
    pub fn from_der(der: &[u8], signer: Arc<dyn Signer>) -> Result<Self, Error> {
        Self::new(Certificate::from_der(der)?, signer)
    }

    /// The issuer's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The issuer's signer.
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }

    /// C-08: what it issues must lie inside its own validity.
    fn check_validity(&self, not_before: i64, not_after: i64) -> Result<(), Error> {
        check_order(not_before, not_after)?;
        if not_before < self.cert.not_before() || not_after > self.cert.not_after() {
            return Err(Error::ValidityBeyondIssuer {
                not_before,
                not_after,
                issuer_not_before: self.cert.not_before(),
                issuer_not_after: self.cert.not_after(),
            });
        }
        Ok(())
    }

    fn issue(&self, tbs: &TbsFields<'_>, extensions: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
        let tbs = tbs.encode(&self.sig_alg, self.cert.subject_der(), extensions)?;
        sign_certificate(self.signer.as_ref(), &self.sig_alg, &tbs)
    }
}

fn check_order(not_before: i64, not_after: i64) -> Result<(), Error> {
    if not_before > not_after {
        return Err(Error::InvalidValidity { not_before, not_after });
    }
    Ok(())
}

/// The `AlgorithmIdentifier` a CA key signs with. ECDSA (and RSA PKCS#1 for external signers) only.
fn ca_signature_algorithm(scheme: SignatureScheme) -> Result<Vec<u8>, Error> {
    let (o, null_params) = match scheme {
        SignatureScheme::EcdsaSha256 => (oid_w::ECDSA_SHA256, false),
        SignatureScheme::EcdsaSha384 => (oid_w::ECDSA_SHA384, false),
        SignatureScheme::EcdsaSha512 => (oid_w::ECDSA_SHA512, false),
        SignatureScheme::RsaPkcs1Sha256 => (oid_w::RSA_SHA256, true),
        SignatureScheme::RsaPkcs1Sha384 => (oid_w::RSA_SHA384, true),
        SignatureScheme::RsaPkcs1Sha512 => (oid_w::RSA_SHA512, true),
        SignatureScheme::Ed25519 => {
            return Err(Error::UnsupportedAlgorithm(
                "Ed25519 CA keys (Python's cryptography rejects them)".into(),
            ));
        }
        other => return Err(Error::UnsupportedAlgorithm(format!("CA signature scheme {other:?}"))),
    };
    let o = encode(tag::OID, o);
    Ok(if null_params {
        w::sequence(&[&o, &w::null()])
    } else {
        w::sequence(&[&o])
    })
}

fn sign_certificate(signer: &dyn Signer, sig_alg: &[u8], tbs: &[u8]) -> Result<Vec<u8>, Error> {
    let sig = signer.sign(tbs).map_err(|e| Error::Signing(e.to_string()))?;
    Ok(w::sequence(&[tbs, sig_alg, &w::bit_string(&sig)]))
}

/// The TBSCertificate fields other than the issuer-derived ones.
struct TbsFields<'a> {
    serial: Vec<u8>,
    not_before: i64,
    not_after: i64,
    subject: Vec<u8>,
    spki: &'a [u8],
}

impl TbsFields<'_> {
    fn encode(&self, sig_alg: &[u8], issuer: &[u8], extensions: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
        let validity = w::sequence(&[&w::x509_time(self.not_before)?, &w::x509_time(self.not_after)?]);
        let exts = w::explicit(3, &encode(tag::SEQUENCE, &extensions.concat()));
        Ok(w::sequence(&[
            &w::explicit(0, &w::integer_u64(2)),
            &self.serial,
            sig_alg,
            issuer,
            &validity,
            &self.subject,
            self.spki,
            &exts,
        ]))
    }
}

/// A positive serial INTEGER of at most 20 contents octets.
fn serial_integer(serial: &[u8]) -> Result<Vec<u8>, Error> {
    let int = w::unsigned_integer(serial);
    let contents = der::parse_single(&int)?.value;
    if contents.iter().all(|&b| b == 0) {
        return Err(Error::InvalidRequest("serial number must be positive".into()));
    }
    if contents.len() > MAX_SERIAL_OCTETS {
        return Err(Error::InvalidRequest(format!(
            "serial number is {} octets, over the {MAX_SERIAL_OCTETS}-octet limit",
            contents.len()
        )));
    }
    Ok(int)
}

/// A random positive 160-bit serial (top bit clear, so it encodes in 20 octets), from aws-lc-rs's system RNG.
pub fn random_serial() -> Result<[u8; 20], Error> {
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
    let rng = SystemRandom::new();
    let mut s = [0u8; 20];
    // All-zero (after clearing the top bit) has probability 2^-159; loop rather than ever return it.
    loop {
        rng.fill(&mut s)
            .map_err(|_| Error::Signing("random number generator failed".into()))?;
        if let Some(first) = s.first_mut() {
            *first &= 0x7f;
        }
        if s.iter().any(|&b| b != 0) {
            return Ok(s);
        }
    }
}

/// One `Extension` (DER: `critical` is omitted when false).
fn extension(oid_contents: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let o = encode(tag::OID, oid_contents);
    let v = w::octet_string(value);
    if critical {
        w::sequence(&[&o, &w::boolean(true), &v])
    } else {
        w::sequence(&[&o, &v])
    }
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey BIT STRING contents.
fn key_identifier(key: &VerifyingKey) -> Vec<u8> {
    sigil_crypto::sha256(key.raw_key()).iter().take(20).copied().collect()
}

fn ski_extension(key: &VerifyingKey) -> Vec<u8> {
    extension(oid::SUBJECT_KEY_ID, false, &w::octet_string(&key_identifier(key)))
}

fn aki_extension(issuer_ski: &[u8]) -> Vec<u8> {
    let kid = encode(tag::context_primitive(0), issuer_ski);
    extension(oid::AUTHORITY_KEY_ID, false, &w::sequence(&[&kid]))
}

fn basic_constraints(ca: bool, path_len: Option<u8>) -> Vec<u8> {
    let value = match (ca, path_len) {
        (false, _) => w::sequence(&[]),
        (true, None) => w::sequence(&[&w::boolean(true)]),
        (true, Some(n)) => w::sequence(&[&w::boolean(true), &w::integer_u64(u64::from(n))]),
    };
    extension(oid::BASIC_CONSTRAINTS, true, &value)
}

fn eku_extension(critical: bool, eku: &[u8]) -> Vec<u8> {
    extension(oid::EXT_KEY_USAGE, critical, &w::sequence(&[&encode(tag::OID, eku)]))
}

/// Refuses Ed25519 keys for CA certificates.
fn check_ca_key(key: &VerifyingKey) -> Result<(), Error> {
    if key.algorithm() == sigil_crypto::KeyAlgorithm::Ed25519 {
        return Err(Error::UnsupportedAlgorithm(
            "Ed25519 CA keys (Python's cryptography rejects them)".into(),
        ));
    }
    Ok(())
}

/// A self-signed root: BasicConstraints critical `cA`, KeyUsage critical keyCertSign + cRLSign, SKI. The serial
/// is random. Ed25519 keys are refused.
pub fn self_signed_root(signer: &dyn Signer, name: &Name, not_before: i64, not_after: i64) -> Result<Vec<u8>, Error> {
    check_order(not_before, not_after)?;
    check_ca_key(signer.public_key())?;
    let sig_alg = ca_signature_algorithm(signer.scheme())?;
    let subject = name.to_der()?;
    let fields = TbsFields {
        serial: serial_integer(&random_serial()?)?,
        not_before,
        not_after,
        subject: subject.clone(),
        spki: signer.public_key().spki_der(),
    };
    let exts = [
        basic_constraints(true, None),
        extension(oid::KEY_USAGE, true, KU_CA_DER),
        ski_extension(signer.public_key()),
    ];
    let tbs = fields.encode(&sig_alg, &subject, &exts)?;
    sign_certificate(signer, &sig_alg, &tbs)
}

/// An intermediate CA: BasicConstraints critical `cA` (with `pathLenConstraint` if given), KeyUsage critical
/// keyCertSign + cRLSign, EKU codeSigning, SKI, AKI. Random serial; validity inside the issuer's (C-08).
pub fn intermediate(
    issuer: &Issuer,
    subject_key: &VerifyingKey,
    name: &Name,
    not_before: i64,
    not_after: i64,
    path_len: Option<u8>,
) -> Result<Vec<u8>, Error> {
    issuer.check_validity(not_before, not_after)?;
    check_ca_key(subject_key)?;
    let fields = TbsFields {
        serial: serial_integer(&random_serial()?)?,
        not_before,
        not_after,
        subject: name.to_der()?,
        spki: subject_key.spki_der(),
    };
    let exts = [
        basic_constraints(true, path_len),
        extension(oid::KEY_USAGE, true, KU_CA_DER),
        eku_extension(false, oid::EKU_CODE_SIGNING),
        ski_extension(subject_key),
        aki_extension(&issuer.ski),
    ];
    issuer.issue(&fields, &exts)
}

/// An RFC 3161 timestamping leaf: KeyUsage critical digitalSignature, BasicConstraints critical `cA` false,
/// EKU **critical** timeStamping only (RFC 3161 §2.3), SKI, AKI. Random serial; validity inside the issuer's.
pub fn tsa_leaf(
    issuer: &Issuer,
    subject_key: &VerifyingKey,
    name: &Name,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, Error> {
    issuer.check_validity(not_before, not_after)?;
    let fields = TbsFields {
        serial: serial_integer(&random_serial()?)?,
        not_before,
        not_after,
        subject: name.to_der()?,
        spki: subject_key.spki_der(),
    };
    let exts = [
        extension(oid::KEY_USAGE, true, KU_DIGITAL_SIGNATURE_DER),
        basic_constraints(false, None),
        eku_extension(true, oid::EKU_TIME_STAMPING),
        ski_extension(subject_key),
        aki_extension(&issuer.ski),
    ];
    issuer.issue(&fields, &exts)
}

/// The one SubjectAltName of a Fulcio leaf.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LeafSan {
    /// rfc822Name (IA5String: ASCII only).
    Email(String),
    /// uniformResourceIdentifier (IA5String: ASCII only).
    Uri(String),
    /// Fulcio's username OtherName `1.3.6.1.4.1.57264.1.7`, a UTF8String (`user!domain`).
    OtherName(String),
}

/// Everything a Fulcio leaf says, from a verified token and a public key; nothing comes from a CSR (C-04).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRequest {
    pub public_key: VerifyingKey,
    pub san: LeafSan,
    /// Written as both `.1` (raw bytes) and `.8` (DER UTF8String).
    pub oidc_issuer: String,
    /// Other Fulcio extensions by arc: `.2`–`.6` are written as raw UTF-8 bytes, `.9`–`.24` as DER UTF8String.
    /// Empty values are left out; arcs 1, 7, 8 and anything outside `2..=24` are refused.
    pub extensions: BTreeMap<u8, String>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds (the CA uses `not_before + 600`).
    pub not_after: i64,
}

/// A CT precertificate and the TBS a CT log signs for it (RFC 6962 §3.2: the TBS without the poison).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precertificate {
    /// The signed precertificate (critical poison extension last).
    pub der: Vec<u8>,
    /// Its TBSCertificate without the poison extension; equal to the final certificate's TBS without the
    /// SCT list.
    pub tbs_without_poison: Vec<u8>,
}

fn ia5(s: &str, what: &str) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::InvalidRequest(format!("{what} SAN is empty")));
    }
    if !s.is_ascii() {
        return Err(Error::InvalidRequest(format!("{what} SAN is not ASCII (IA5String)")));
    }
    Ok(())
}

fn san_extension(san: &LeafSan) -> Result<Vec<u8>, Error> {
    let name = match san {
        LeafSan::Email(s) => {
            ia5(s, "email")?;
            encode(tag::context_primitive(1), s.as_bytes())
        }
        LeafSan::Uri(s) => {
            ia5(s, "URI")?;
            encode(tag::context_primitive(6), s.as_bytes())
        }
        LeafSan::OtherName(s) => {
            if s.is_empty() {
                return Err(Error::InvalidRequest("OtherName SAN is empty".into()));
            }
            let type_id = encode(tag::OID, oid_w::FULCIO_OTHERNAME);
            encode(
                tag::context_constructed(0),
                &[type_id, w::explicit(0, &w::utf8_string(s))].concat(),
            )
        }
    };
    Ok(extension(oid::SUBJECT_ALT_NAME, true, &w::sequence(&[&name])))
}

fn fulcio_extension(arc: u8, value: &[u8]) -> Vec<u8> {
    let mut o = oid::FULCIO_ARC.to_vec();
    o.push(arc);
    extension(&o, false, value)
}

/// The leaf's extensions without poison or SCT list, in their fixed order: KU, EKU, SKI, AKI, SAN, then the
/// Fulcio extensions by ascending arc.
fn leaf_extensions(issuer: &Issuer, req: &LeafRequest) -> Result<Vec<Vec<u8>>, Error> {
    if req.oidc_issuer.is_empty() {
        return Err(Error::InvalidRequest("OIDC issuer is empty".into()));
    }
    let mut exts = vec![
        extension(oid::KEY_USAGE, true, KU_DIGITAL_SIGNATURE_DER),
        eku_extension(false, oid::EKU_CODE_SIGNING),
        ski_extension(&req.public_key),
        aki_extension(&issuer.ski),
        san_extension(&req.san)?,
    ];
    let mut fulcio: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    fulcio.insert(1, req.oidc_issuer.as_bytes().to_vec());
    fulcio.insert(8, w::utf8_string(&req.oidc_issuer));
    for (&arc, value) in &req.extensions {
        let encoded = match arc {
            2..=6 => value.as_bytes().to_vec(),
            9..=24 => w::utf8_string(value),
            1 | 8 => {
                return Err(Error::InvalidRequest(format!(
                    "extension 1.3.6.1.4.1.57264.1.{arc} comes from the OIDC issuer, not the extension map"
                )));
            }
            other => {
                return Err(Error::InvalidRequest(format!(
                    "extension 1.3.6.1.4.1.57264.1.{other} cannot be set"
                )));
            }
        };
        if !value.is_empty() {
            fulcio.insert(arc, encoded);
        }
    }
    exts.extend(fulcio.iter().map(|(&arc, v)| fulcio_extension(arc, v)));
    Ok(exts)
}

fn leaf_fields<'a>(issuer: &Issuer, req: &'a LeafRequest, serial: &[u8]) -> Result<TbsFields<'a>, Error> {
    issuer.check_validity(req.not_before, req.not_after)?;
    Ok(TbsFields {
        serial: serial_integer(serial)?,
        not_before: req.not_before,
        not_after: req.not_after,
        subject: w::sequence(&[]),
        spki: req.public_key.spki_der(),
    })
}

/// The CT precertificate for `req`: the leaf's TBS plus the critical poison extension
/// `1.3.6.1.4.1.11129.2.4.3` (NULL), last, signed by `issuer`.
pub fn build_precertificate(issuer: &Issuer, req: &LeafRequest, serial: &[u8]) -> Result<Precertificate, Error> {
    let fields = leaf_fields(issuer, req, serial)?;
    let mut exts = leaf_extensions(issuer, req)?;
    let tbs_without_poison = fields.encode(&issuer.sig_alg, issuer.cert.subject_der(), &exts)?;
    exts.push(extension(oid::CT_POISON, true, &w::null()));
    let der = issuer.issue(&fields, &exts)?;
    Ok(Precertificate {
        der,
        tbs_without_poison,
    })
}

/// The final Fulcio leaf: the same TBS as the precertificate (same `req` and `serial`), with the non-critical
/// SCT list extension `1.3.6.1.4.1.11129.2.4.2` last in place of the poison. `sct_list_extension_value` is the
/// `extnValue` contents: a DER OCTET STRING wrapping the TLS `SignedCertificateTimestampList`.
pub fn finish_certificate(
    issuer: &Issuer,
    req: &LeafRequest,
    serial: &[u8],
    sct_list_extension_value: &[u8],
) -> Result<Vec<u8>, Error> {
    let inner = der::parse_single(sct_list_extension_value).map_err(|_| Error::MalformedSct("not an OCTET STRING"))?;
    if inner.tag != tag::OCTET_STRING {
        return Err(Error::MalformedSct("not an OCTET STRING"));
    }
    let fields = leaf_fields(issuer, req, serial)?;
    let mut exts = leaf_extensions(issuer, req)?;
    exts.push(extension(oid::SCT_LIST, false, sct_list_extension_value));
    issuer.issue(&fields, &exts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn serials_are_positive_and_bounded() {
        let s = random_serial().unwrap();
        assert!(s[0] < 0x80);
        let int = serial_integer(&s).unwrap();
        assert!(int.len() <= 22);
        assert!(serial_integer(&[0, 0]).is_err());
        assert!(serial_integer(&[0xff; 20]).is_err());
        assert_eq!(serial_integer(&[0x80]).unwrap(), vec![2, 2, 0, 0x80]);
    }

    #[test]
    fn names_encode() {
        let n = Name {
            organization: "o".into(),
            common_name: "c".into(),
        };
        let d = n.to_der().unwrap();
        assert_eq!(
            d,
            vec![
                0x30, 0x18, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x01, b'o', 0x31, 0x0a, 0x30,
                0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, b'c'
            ]
        );
    }
}
