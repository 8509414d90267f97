//! The parsed certificate.

use sigil_crypto::der::{self, tag};
use sigil_crypto::{SignatureScheme, VerifyingKey};
use x509_parser::certificate::X509CertificateParser;
use x509_parser::nom::Parser as _;

use crate::derutil::{check_der_tree, oid_string, read_bool};
use crate::identity::{self, FulcioIdentity};
use crate::{Error, MAX_CERT_LEN, MAX_DER_DEPTH, MAX_EXTENSIONS};

/// DER contents of the OIDs this crate interprets.
pub(crate) mod oid {
    pub const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
    pub const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    pub const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    pub const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
    pub const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
    pub const AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
    /// 1.3.6.1.4.1.11129.2.4.2: embedded SCT list.
    pub const SCT_LIST: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
    /// 1.3.6.1.4.1.11129.2.4.3: CT precertificate poison.
    pub const CT_POISON: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03];
    /// 1.3.6.1.4.1.57264.1 (Fulcio); an extension OID is this plus one arc byte.
    pub const FULCIO_ARC: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01];
    /// 2.5.29.37.0: anyExtendedKeyUsage.
    pub const ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
    /// 1.3.6.1.5.5.7.3.3
    pub const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
    /// 1.3.6.1.5.5.7.3.8
    pub const EKU_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

    /// The Fulcio arc number (`x` in 1.3.6.1.4.1.57264.1.x) of an OID, for single-byte arcs.
    pub fn fulcio_arc(oid: &[u8]) -> Option<u8> {
        match oid.strip_prefix(FULCIO_ARC) {
            Some([n]) if *n < 0x80 => Some(*n),
            _ => None,
        }
    }
}

/// One extension, as read from the TBS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extension {
    /// OID contents.
    pub oid: Vec<u8>,
    /// Dotted OID.
    pub oid_str: String,
    pub critical: bool,
    /// Contents of `extnValue`.
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u64>,
}

/// KeyUsage bits (RFC 5280 §4.2.1.3): bit 0 digitalSignature … bit 5 keyCertSign.
pub(crate) const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub(crate) const KU_KEY_CERT_SIGN: u16 = 1 << 5;

/// A parsed X.509 v3 certificate. It owns its DER and keeps the facts sigil needs, parsed once.
///
/// Two certificates are equal when their DER is equal.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    serial: Vec<u8>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    sig_alg_oid: String,
    signature: Vec<u8>,
    key: VerifyingKey,
    not_before: i64,
    not_after: i64,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) basic_constraints: Option<BasicConstraints>,
    pub(crate) key_usage: Option<u16>,
    /// EKU OIDs (contents), when the extension is present.
    pub(crate) eku: Option<Vec<Vec<u8>>>,
    ski: Option<Vec<u8>>,
    identity: Result<FulcioIdentity, Error>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate (≤ 64 KiB, no trailing data, v3 only).
    ///
    /// Fails on duplicate extensions (V-08), on malformed BasicConstraints, KeyUsage, ExtendedKeyUsage or
    /// SubjectKeyIdentifier, and on a public key `sigil-crypto` cannot parse. A malformed SAN or Fulcio
    /// extension does not fail parsing; it makes [`Certificate::identity`] fail.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        if der.len() > MAX_CERT_LEN {
            return Err(Error::TooLarge {
                len: der.len(),
                max: MAX_CERT_LEN,
            });
        }
        // Strict, non-recursive structural check first, so the typed parser only sees bounded DER.
        check_der_tree(der, MAX_DER_DEPTH)?;

        let outer = der::parse_single(der)?;
        if outer.tag != tag::SEQUENCE {
            return Err(Error::Parse("certificate is not a SEQUENCE".into()));
        }
        let mut r = outer.reader();
        let tbs = r.expect(tag::SEQUENCE)?;
        let sig_alg = r.expect(tag::SEQUENCE)?;
        let sig_bits = r.expect(tag::BIT_STRING)?;
        r.finish()?;
        let signature = match sig_bits.value.split_first() {
            Some((0, sig)) => sig.to_vec(),
            _ => return Err(Error::Parse("signature BIT STRING has unused bits".into())),
        };
        let sig_alg_oid = {
            let mut a = sig_alg.reader();
            let o = a.expect(tag::OID)?;
            oid_string(o.value)?
        };

        let mut t = tbs.reader();
        let version = t.optional(tag::context_constructed(0))?;
        let version = match version {
            Some(v) => {
                let i = der::parse_single(v.value)?;
                if i.tag != tag::INTEGER {
                    return Err(Error::Parse("version is not an INTEGER".into()));
                }
                der::integer_to_u64(i.value)?
            }
            None => 0,
        };
        if version != 2 {
            return Err(Error::UnsupportedVersion);
        }
        let serial = t.expect(tag::INTEGER)?;
        let tbs_sig_alg = t.expect(tag::SEQUENCE)?;
        if tbs_sig_alg.raw != sig_alg.raw {
            return Err(Error::Parse(
                "signatureAlgorithm differs from the TBS signature field".into(),
            ));
        }
        let issuer = t.expect(tag::SEQUENCE)?;
        let _validity = t.expect(tag::SEQUENCE)?;
        let subject = t.expect(tag::SEQUENCE)?;
        let spki = t.expect(tag::SEQUENCE)?;
        let _issuer_uid = t.optional(tag::context_primitive(1))?;
        let _subject_uid = t.optional(tag::context_primitive(2))?;
        let exts = t.optional(tag::context_constructed(3))?;
        t.finish()?;

        // The typed parser: validity, names and overall structure. Extensions are read below, by sigil.
        let (rest, x) = X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(der)
            .map_err(|e| Error::Parse(format!("x509-parser: {e}")))?;
        if !rest.is_empty() {
            return Err(Error::Parse("trailing data".into()));
        }
        let xt = &x.tbs_certificate;
        if xt.version.0 != 2 {
            return Err(Error::UnsupportedVersion);
        }
        if xt.as_ref() != tbs.raw || xt.subject.as_raw() != subject.raw || xt.issuer.as_raw() != issuer.raw {
            return Err(Error::Parse("parsers disagree on the certificate structure".into()));
        }
        let not_before = xt.validity.not_before.timestamp();
        let not_after = xt.validity.not_after.timestamp();

        let key = VerifyingKey::from_spki_der(spki.raw)?;

        let extensions = match exts {
            Some(e) => parse_extensions(e.value)?,
            None => Vec::new(),
        };

        let mut cert = Certificate {
            der: der.to_vec(),
            tbs: tbs.raw.to_vec(),
            serial: serial.value.to_vec(),
            issuer: issuer.raw.to_vec(),
            subject: subject.raw.to_vec(),
            sig_alg_oid,
            signature,
            key,
            not_before,
            not_after,
            extensions: Vec::new(),
            basic_constraints: None,
            key_usage: None,
            eku: None,
            ski: None,
            identity: Ok(FulcioIdentity::default()),
        };
        for ext in &extensions {
            let bad = |reason: &'static str| Error::BadExtension {
                oid: ext.oid_str.clone(),
                reason,
            };
            match ext.oid.as_slice() {
                oid::BASIC_CONSTRAINTS => {
                    cert.basic_constraints =
                        Some(parse_basic_constraints(&ext.value).map_err(|_| bad("BasicConstraints"))?)
                }
                oid::KEY_USAGE => cert.key_usage = Some(parse_key_usage(&ext.value).map_err(|_| bad("KeyUsage"))?),
                oid::EXT_KEY_USAGE => cert.eku = Some(parse_eku(&ext.value).map_err(|_| bad("ExtendedKeyUsage"))?),
                oid::SUBJECT_KEY_ID => {
                    let o = der::parse_single(&ext.value).map_err(|_| bad("SubjectKeyIdentifier"))?;
                    if o.tag != tag::OCTET_STRING {
                        return Err(bad("SubjectKeyIdentifier is not an OCTET STRING"));
                    }
                    cert.ski = Some(o.value.to_vec());
                }
                _ => {}
            }
        }
        cert.identity = identity::extract(&extensions);
        cert.extensions = extensions;
        Ok(cert)
    }

    /// Parses a PEM text holding exactly one `CERTIFICATE` block.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        Self::from_der(&sigil_crypto::pem_decode_one(pem, "CERTIFICATE")?)
    }

    /// Parses every block of a PEM text; each must be a `CERTIFICATE`. At least one is required.
    pub fn all_from_pem(pem: &str) -> Result<Vec<Self>, Error> {
        let blocks = sigil_crypto::pem_blocks(pem)?;
        if blocks.is_empty() {
            return Err(Error::Parse("no PEM block".into()));
        }
        blocks
            .into_iter()
            .map(|(label, der)| {
                if label == "CERTIFICATE" {
                    Self::from_der(&der)
                } else {
                    Err(Error::Parse(format!("unexpected PEM label {label:?}")))
                }
            })
            .collect()
    }

    /// The whole DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER TBSCertificate (what the issuer signed).
    pub fn tbs_der(&self) -> &[u8] {
        &self.tbs
    }

    /// The subject public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// `notBefore`, unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `notAfter`, unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// `not_before <= t <= not_after` (RFC 5280 validity is inclusive at both ends).
    pub fn valid_at(&self, t: i64) -> bool {
        self.not_before <= t && t <= self.not_after
    }

    /// BasicConstraints `cA` is true.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.is_some_and(|bc| bc.ca)
    }

    /// BasicConstraints `pathLenConstraint`, if any.
    pub fn path_len_constraint(&self) -> Option<u64> {
        self.basic_constraints.and_then(|bc| bc.path_len)
    }

    /// The DER subject Name.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject
    }

    /// The DER issuer Name.
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer
    }

    /// Issuer and subject names are byte-identical.
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    /// The serial number's INTEGER contents octets, as encoded.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The SubjectKeyIdentifier, if present.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.ski.as_deref()
    }

    /// The dotted OID of the issuer's signature algorithm.
    pub fn signature_algorithm_oid(&self) -> &str {
        &self.sig_alg_oid
    }

    /// Whether the certificate is a CT precertificate (carries the critical poison extension).
    pub fn is_precertificate(&self) -> bool {
        self.extensions.iter().any(|e| e.oid == oid::CT_POISON)
    }

    /// `(critical, extnValue contents)` of the extension with the given dotted OID, if present.
    pub fn extension(&self, dotted_oid: &str) -> Option<(bool, &[u8])> {
        self.extensions
            .iter()
            .find(|e| e.oid_str == dotted_oid)
            .map(|e| (e.critical, e.value.as_slice()))
    }

    /// Whether the ExtendedKeyUsage extension is present and lists `eku`.
    pub fn has_extended_key_usage(&self, eku: crate::ExtendedKeyUsage) -> bool {
        self.eku.as_ref().is_some_and(|l| l.iter().any(|o| o == eku.oid_der()))
    }

    /// The Fulcio identity: SANs, issuer and every `1.3.6.1.4.1.57264.1.x` extension.
    ///
    /// Fails if the SAN or a Fulcio extension is malformed, or if the `.1.1` and `.1.8` issuers disagree
    /// ([`Error::IssuerConflict`]). A certificate without SAN has an empty `sans` list; the identity policy
    /// decides what that means.
    pub fn identity(&self) -> Result<&FulcioIdentity, Error> {
        self.identity.as_ref().map_err(Clone::clone)
    }

    /// Checks that `issuer` issued this certificate: this issuer name equals the issuer's subject name
    /// (byte-exact), and the signature verifies under the issuer's key. No other property is checked; use
    /// [`crate::verify_chain`] for path validation.
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), Error> {
        self.issued_by_at_depth(issuer, 0)
    }

    pub(crate) fn issued_by_at_depth(&self, issuer: &Certificate, depth: usize) -> Result<(), Error> {
        if self.issuer != issuer.subject {
            return Err(Error::ChainBroken { depth });
        }
        let scheme = SignatureScheme::from_signature_oid(&self.sig_alg_oid)?;
        issuer
            .key
            .verify(scheme, &self.tbs, &self.signature)
            .map_err(|e| match e {
                sigil_crypto::Error::UnsupportedAlgorithm(m) => Error::UnsupportedAlgorithm(m),
                _ => Error::BadSignature { depth },
            })
    }
}

/// Reads the `Extensions` SEQUENCE (contents of `[3]`), rejecting duplicates.
fn parse_extensions(explicit: &[u8]) -> Result<Vec<Extension>, Error> {
    let seq = der::parse_single(explicit)?;
    if seq.tag != tag::SEQUENCE {
        return Err(Error::Parse("extensions is not a SEQUENCE".into()));
    }
    let mut r = seq.reader();
    let mut out: Vec<Extension> = Vec::new();
    while !r.is_empty() {
        if out.len() >= MAX_EXTENSIONS {
            return Err(Error::Parse(format!("more than {MAX_EXTENSIONS} extensions")));
        }
        let ext = r.expect(tag::SEQUENCE)?;
        let mut e = ext.reader();
        let oid = e.expect(tag::OID)?;
        let critical = match e.optional(tag::BOOLEAN)? {
            Some(b) => read_bool(b.value)?,
            None => false,
        };
        let value = e.expect(tag::OCTET_STRING)?;
        e.finish()?;
        let oid_str = oid_string(oid.value)?;
        if out.iter().any(|x| x.oid == oid.value) {
            return Err(Error::DuplicateExtension(oid_str));
        }
        out.push(Extension {
            oid: oid.value.to_vec(),
            oid_str,
            critical,
            value: value.value.to_vec(),
        });
    }
    Ok(out)
}

fn parse_basic_constraints(value: &[u8]) -> Result<BasicConstraints, Error> {
    let seq = der::parse_single(value)?;
    if seq.tag != tag::SEQUENCE {
        return Err(Error::Parse("BasicConstraints".into()));
    }
    let mut r = seq.reader();
    let ca = match r.optional(tag::BOOLEAN)? {
        Some(b) => read_bool(b.value)?,
        None => false,
    };
    let path_len = match r.optional(tag::INTEGER)? {
        Some(i) => Some(der::integer_to_u64(i.value)?),
        None => None,
    };
    r.finish()?;
    Ok(BasicConstraints { ca, path_len })
}

fn parse_key_usage(value: &[u8]) -> Result<u16, Error> {
    let bits = der::parse_single(value)?;
    if bits.tag != tag::BIT_STRING {
        return Err(Error::Parse("KeyUsage".into()));
    }
    let (&unused, bytes) = bits.value.split_first().ok_or(Error::Parse("KeyUsage".into()))?;
    if unused > 7 || (bytes.is_empty() && unused != 0) || bytes.len() > 2 {
        return Err(Error::Parse("KeyUsage".into()));
    }
    let mut out = 0u16;
    for (i, b) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if b & (0x80 >> bit) != 0 {
                out |= 1 << (i * 8 + bit);
            }
        }
    }
    Ok(out)
}

fn parse_eku(value: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let seq = der::parse_single(value)?;
    if seq.tag != tag::SEQUENCE {
        return Err(Error::Parse("ExtendedKeyUsage".into()));
    }
    let mut r = seq.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        let o = r.expect(tag::OID)?;
        // Validates the OID encoding (minimal arcs, bounded size).
        oid_string(o.value)?;
        out.push(o.value.to_vec());
    }
    if out.is_empty() {
        return Err(Error::Parse("empty ExtendedKeyUsage".into()));
    }
    Ok(out)
}
