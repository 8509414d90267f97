//! `TimeStampResp` (RFC 3161 §2.4.2), CMS `SignedData` (RFC 5652 §5) and `TSTInfo`.

use sigil_crypto::HashAlgorithm;
use sigil_crypto::der::{self, Reader, Tlv, tag};
use sigil_x509::Certificate;

use crate::{Error, MAX_EMBEDDED_CERTS, MAX_RESPONSE_LEN, malformed};

/// DER contents of the OIDs this module reads.
pub(crate) mod oid {
    /// 1.2.840.113549.1.7.2
    pub const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    /// 1.2.840.113549.1.9.16.1.4
    pub const CT_TST_INFO: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04];
    /// 1.2.840.113549.1.9.3
    pub const ATTR_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
    /// 1.2.840.113549.1.9.4
    pub const ATTR_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
    /// 1.2.840.113549.1.9.16.2.47
    pub const ATTR_SIGNING_CERT_V2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f];
    /// 2.16.840.1.101.3.4.2.{1,2,3}
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    pub const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    pub const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
}

pub(crate) fn hash_oid(alg: HashAlgorithm) -> &'static [u8] {
    match alg {
        HashAlgorithm::Sha2_256 => oid::SHA256,
        HashAlgorithm::Sha2_384 => oid::SHA384,
        HashAlgorithm::Sha2_512 => oid::SHA512,
    }
}

/// The contents of an RFC 3161 `TSTInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    /// `genTime`, unix seconds; any fraction of a second is truncated.
    pub gen_time: i64,
    /// The message imprint's hash algorithm.
    pub imprint_algorithm: HashAlgorithm,
    /// The message imprint (`hashedMessage`).
    pub imprint: Vec<u8>,
    /// The nonce's INTEGER contents octets, as encoded (two's complement, minimal).
    pub nonce: Option<Vec<u8>>,
    /// The TSA policy OID, dotted.
    pub policy: String,
    /// The serial number's INTEGER contents octets, as encoded.
    pub serial: Vec<u8>,
}

impl TstInfo {
    /// Checks that the TSTInfo carries the nonce sent in the request (T-05). `expected` is the request nonce
    /// as an unsigned big-endian number (leading zero bytes are ignored), as [`crate::TimeStampRequest`] takes it.
    pub fn check_nonce(&self, expected: &[u8]) -> Result<(), Error> {
        let want = strip_zeros(expected);
        match self.nonce.as_deref() {
            // A negative nonce (high bit set without a leading zero) never equals an unsigned request nonce.
            Some(n) if n.first().is_none_or(|b| b & 0x80 == 0) && strip_zeros(n) == want => Ok(()),
            _ => Err(Error::NonceMismatch),
        }
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    b.get(skip..).unwrap_or(&[])
}

/// How a SignerInfo names its certificate (RFC 5652 §5.3). Public so other CMS users (sigil-git's commit
/// signatures) select the signer certificate the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerId {
    /// `issuerAndSerialNumber`: the issuer Name's DER (with its SEQUENCE header) and the serial's INTEGER
    /// contents octets.
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    /// `subjectKeyIdentifier` `[0]`.
    KeyId(Vec<u8>),
}

impl SignerId {
    /// Whether `cert` is the certificate this identifier names.
    pub fn matches(&self, cert: &Certificate) -> bool {
        match self {
            Self::IssuerSerial { issuer, serial } => cert.issuer_der() == issuer.as_slice() && cert.serial() == serial,
            Self::KeyId(id) => cert.subject_key_id() == Some(id.as_slice()),
        }
    }
}

/// A parsed CMS SignerInfo (RFC 5652 §5.3) with signed attributes: the one SignerInfo of a time-stamp token,
/// and the one of a git commit signature (sigil-git).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfo {
    pub sid: SignerId,
    pub digest_alg: HashAlgorithm,
    /// DER of the signed attributes with the SET tag (what the signature covers).
    pub signed_attrs: Vec<u8>,
    /// The `contentType` attribute value (OID contents).
    pub content_type: Vec<u8>,
    /// The `messageDigest` attribute value.
    pub message_digest: Vec<u8>,
    /// The first ESSCertIDv2 of `signingCertificateV2`, if present: (hash algorithm OID contents, hash).
    pub signing_cert_v2: Option<(Vec<u8>, Vec<u8>)>,
    /// The dotted signature algorithm OID.
    pub sig_alg_oid: String,
    pub signature: Vec<u8>,
    /// The contents octets of `unsignedAttrs [1]` (the concatenated Attribute SEQUENCEs), if present; not
    /// parsed here.
    pub unsigned_attrs: Option<Vec<u8>>,
}

/// A parsed RFC 3161 `TimeStampResp` whose status is granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampResponse {
    der: Vec<u8>,
    status: u64,
    tst_info: TstInfo,
    tst_info_der: Vec<u8>,
    certificates: Vec<Certificate>,
    pub(crate) signer: SignerInfo,
}

fn err<T>(what: &str) -> Result<T, Error> {
    Err(malformed(what))
}

fn expect<'a>(r: &mut Reader<'a>, t: u8, what: &str) -> Result<Tlv<'a>, Error> {
    r.expect(t).map_err(|e| Error::Malformed(format!("{what}: {e}")))
}

fn finish(r: &Reader<'_>, what: &str) -> Result<(), Error> {
    r.finish().map_err(|e| Error::Malformed(format!("{what}: {e}")))
}

/// Reads an AlgorithmIdentifier whose parameters are absent or NULL, returning the OID contents.
fn algorithm_id<'a>(alg: &Tlv<'a>, what: &str) -> Result<&'a [u8], Error> {
    let mut a = alg.reader();
    let o = expect(&mut a, tag::OID, what)?;
    if let Some(p) = a.optional(tag::NULL)? {
        if !p.value.is_empty() {
            return err(what);
        }
    }
    finish(&a, what)?;
    Ok(o.value)
}

pub(crate) fn hash_from_oid(o: &[u8]) -> Result<HashAlgorithm, Error> {
    match o {
        oid::SHA256 => Ok(HashAlgorithm::Sha2_256),
        oid::SHA384 => Ok(HashAlgorithm::Sha2_384),
        oid::SHA512 => Ok(HashAlgorithm::Sha2_512),
        other => Err(Error::UnsupportedAlgorithm(format!(
            "hash {}",
            der::oid_to_string(other).unwrap_or_else(|_| "(invalid OID)".into())
        ))),
    }
}

/// GeneralizedTime `YYYYMMDDHHMMSS[.f+]Z` to unix seconds (fraction truncated).
fn generalized_time(v: &[u8]) -> Result<i64, Error> {
    let bad = || malformed("genTime is not a valid GeneralizedTime");
    let (main, rest) = v.split_at_checked(14).ok_or_else(bad)?;
    if !main.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let rest = match rest {
        [b'.', frac @ .., b'Z'] if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => Ok(()),
        [b'Z'] => Ok(()),
        _ => Err(bad()),
    };
    rest?;
    let n = |a: usize, b: usize| -> Result<u32, Error> {
        main.get(a..b)
            .ok_or_else(bad)?
            .iter()
            .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
            .ok_or_else(bad)
    };
    let year = i32::try_from(n(0, 4)?).map_err(|_| bad())?;
    let month = time::Month::try_from(u8::try_from(n(4, 6)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let day = u8::try_from(n(6, 8)?).map_err(|_| bad())?;
    let hour = u8::try_from(n(8, 10)?).map_err(|_| bad())?;
    let minute = u8::try_from(n(10, 12)?).map_err(|_| bad())?;
    let second = u8::try_from(n(12, 14)?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
    let t = time::Time::from_hms(hour, minute, second).map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp())
}

fn parse_tst_info(der_bytes: &[u8]) -> Result<TstInfo, Error> {
    let seq = der::parse_single(der_bytes)?;
    if seq.tag != tag::SEQUENCE {
        return err("TSTInfo is not a SEQUENCE");
    }
    let mut r = seq.reader();
    let version = expect(&mut r, tag::INTEGER, "TSTInfo version")?;
    if der::integer_to_u64(version.value)? != 1 {
        return err("TSTInfo version is not 1");
    }
    let policy = expect(&mut r, tag::OID, "TSTInfo policy")?;
    let policy = der::oid_to_string(policy.value)?;
    let imprint = expect(&mut r, tag::SEQUENCE, "messageImprint")?;
    let mut m = imprint.reader();
    let alg = expect(&mut m, tag::SEQUENCE, "messageImprint algorithm")?;
    let imprint_algorithm = hash_from_oid(algorithm_id(&alg, "messageImprint algorithm")?)?;
    let hashed = expect(&mut m, tag::OCTET_STRING, "hashedMessage")?;
    finish(&m, "messageImprint")?;
    if hashed.value.len() != imprint_algorithm.output_len() {
        return err("hashedMessage length does not match its algorithm");
    }
    let serial = expect(&mut r, tag::INTEGER, "TSTInfo serialNumber")?;
    if serial.value.is_empty() {
        return err("empty serialNumber");
    }
    let gen_time = expect(&mut r, tag::GENERALIZED_TIME, "genTime")?;
    let gen_time = generalized_time(gen_time.value)?;
    let _accuracy = r.optional(tag::SEQUENCE)?;
    if let Some(o) = r.optional(tag::BOOLEAN)? {
        if o.value != [0x00] && o.value != [0xff] {
            return err("invalid ordering BOOLEAN");
        }
    }
    let nonce = r.optional(tag::INTEGER)?.map(|n| n.value.to_vec());
    if nonce.as_ref().is_some_and(Vec::is_empty) {
        return err("empty nonce");
    }
    let _tsa = r.optional(tag::context_constructed(0))?;
    let _extensions = r.optional(tag::context_constructed(1))?;
    finish(&r, "TSTInfo")?;
    Ok(TstInfo {
        gen_time,
        imprint_algorithm,
        imprint: hashed.value.to_vec(),
        nonce,
        policy,
        serial: serial.value.to_vec(),
    })
}

/// Exactly one value of an attribute: `SET { value }`.
fn single_value<'a>(values: &Tlv<'a>, what: &str) -> Result<Tlv<'a>, Error> {
    let mut v = values.reader();
    let x = v.read().map_err(|e| Error::Malformed(format!("{what}: {e}")))?;
    finish(&v, what)?;
    Ok(x)
}

fn parse_signing_cert_v2(value: &Tlv<'_>) -> Result<(Vec<u8>, Vec<u8>), Error> {
    if value.tag != tag::SEQUENCE {
        return err("signingCertificateV2");
    }
    let mut s = value.reader();
    let certs = expect(&mut s, tag::SEQUENCE, "signingCertificateV2 certs")?;
    let mut c = certs.reader();
    let first = expect(&mut c, tag::SEQUENCE, "ESSCertIDv2")?;
    let mut e = first.reader();
    let alg = match e.optional(tag::SEQUENCE)? {
        Some(a) => algorithm_id(&a, "ESSCertIDv2 hashAlgorithm")?.to_vec(),
        None => oid::SHA256.to_vec(), // DEFAULT id-sha256
    };
    let hash = expect(&mut e, tag::OCTET_STRING, "ESSCertIDv2 certHash")?;
    Ok((alg, hash.value.to_vec()))
}

/// Parses one SignerInfo. Signed attributes are required; each attribute type may occur once (at most 32
/// attributes), `contentType` and `messageDigest` must be present with exactly one value each. The digest
/// algorithm must be SHA-256/384/512. Bounded and non-recursive like the rest of this module.
pub fn parse_signer_info(si: &Tlv<'_>) -> Result<SignerInfo, Error> {
    if si.tag != tag::SEQUENCE {
        return err("SignerInfo is not a SEQUENCE");
    }
    let mut r = si.reader();
    let _version = expect(&mut r, tag::INTEGER, "SignerInfo version")?;
    let sid = r.read()?;
    let sid = match sid.tag {
        tag::SEQUENCE => {
            let mut s = sid.reader();
            let issuer = expect(&mut s, tag::SEQUENCE, "sid issuer")?;
            let serial = expect(&mut s, tag::INTEGER, "sid serialNumber")?;
            finish(&s, "issuerAndSerialNumber")?;
            SignerId::IssuerSerial {
                issuer: issuer.raw.to_vec(),
                serial: serial.value.to_vec(),
            }
        }
        t if t == tag::context_primitive(0) => SignerId::KeyId(sid.value.to_vec()),
        _ => return err("unknown SignerIdentifier"),
    };
    let digest_alg = expect(&mut r, tag::SEQUENCE, "SignerInfo digestAlgorithm")?;
    let digest_alg = hash_from_oid(algorithm_id(&digest_alg, "SignerInfo digestAlgorithm")?)?;
    let attrs = r
        .optional(tag::context_constructed(0))?
        .ok_or_else(|| malformed("SignerInfo has no signed attributes"))?;
    let sig_alg = expect(&mut r, tag::SEQUENCE, "SignerInfo signatureAlgorithm")?;
    let sig_alg_oid = {
        let mut a = sig_alg.reader();
        der::oid_to_string(expect(&mut a, tag::OID, "signatureAlgorithm")?.value)?
    };
    let signature = expect(&mut r, tag::OCTET_STRING, "SignerInfo signature")?;
    let unsigned = r.optional(tag::context_constructed(1))?;
    finish(&r, "SignerInfo")?;

    let mut content_type = None;
    let mut message_digest = None;
    let mut signing_cert_v2 = None;
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut a = attrs.reader();
    while !a.is_empty() {
        let attr = expect(&mut a, tag::SEQUENCE, "Attribute")?;
        let mut at = attr.reader();
        let ty = expect(&mut at, tag::OID, "Attribute type")?;
        let values = expect(&mut at, tag::SET, "Attribute values")?;
        finish(&at, "Attribute")?;
        if seen.contains(&ty.value) || seen.len() >= 32 {
            return err("duplicate or too many signed attributes");
        }
        seen.push(ty.value);
        match ty.value {
            oid::ATTR_CONTENT_TYPE => {
                let v = single_value(&values, "contentType")?;
                if v.tag != tag::OID {
                    return err("contentType is not an OID");
                }
                content_type = Some(v.value.to_vec());
            }
            oid::ATTR_MESSAGE_DIGEST => {
                let v = single_value(&values, "messageDigest")?;
                if v.tag != tag::OCTET_STRING {
                    return err("messageDigest is not an OCTET STRING");
                }
                message_digest = Some(v.value.to_vec());
            }
            oid::ATTR_SIGNING_CERT_V2 => {
                signing_cert_v2 = Some(parse_signing_cert_v2(&single_value(&values, "signingCertificateV2")?)?);
            }
            _ => {}
        }
    }
    let mut signed_attrs = Vec::with_capacity(attrs.raw.len());
    signed_attrs.push(tag::SET);
    signed_attrs.extend_from_slice(attrs.raw.get(1..).unwrap_or(&[]));
    Ok(SignerInfo {
        sid,
        digest_alg,
        signed_attrs,
        content_type: content_type.ok_or_else(|| malformed("signed attributes lack contentType"))?,
        message_digest: message_digest.ok_or_else(|| malformed("signed attributes lack messageDigest"))?,
        signing_cert_v2,
        sig_alg_oid,
        signature: signature.value.to_vec(),
        unsigned_attrs: unsigned.map(|u| u.value.to_vec()),
    })
}

impl TimeStampResponse {
    /// Parses a DER `TimeStampResp` (≤ 64 KiB, no trailing data). The status must be granted (0) or
    /// grantedWithMods (1) and the token a CMS SignedData over a TSTInfo with exactly one SignerInfo carrying
    /// signed attributes. Embedded certificates that do not parse are skipped (they are never trusted anyway).
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, Error> {
        if der_bytes.len() > MAX_RESPONSE_LEN {
            return Err(Error::TooLarge {
                len: der_bytes.len(),
                max: MAX_RESPONSE_LEN,
            });
        }
        let resp = der::parse_single(der_bytes)?;
        if resp.tag != tag::SEQUENCE {
            return err("TimeStampResp is not a SEQUENCE");
        }
        let mut r = resp.reader();
        let status_info = expect(&mut r, tag::SEQUENCE, "PKIStatusInfo")?;
        let token = r.optional(tag::SEQUENCE)?;
        finish(&r, "TimeStampResp")?;
        let status = {
            let mut s = status_info.reader();
            let st = expect(&mut s, tag::INTEGER, "PKIStatus")?;
            der::integer_to_u64(st.value)?
        };
        if status > 1 {
            return Err(Error::NotGranted { status });
        }
        let token = token.ok_or(Error::MissingToken)?;

        // ContentInfo
        let mut ci = token.reader();
        let ct = expect(&mut ci, tag::OID, "ContentInfo contentType")?;
        if ct.value != oid::SIGNED_DATA {
            return err("token is not CMS SignedData");
        }
        let explicit = expect(&mut ci, tag::context_constructed(0), "ContentInfo content")?;
        finish(&ci, "ContentInfo")?;
        let sd = der::parse_single(explicit.value)?;
        if sd.tag != tag::SEQUENCE {
            return err("SignedData is not a SEQUENCE");
        }

        // SignedData
        let mut s = sd.reader();
        let _version = expect(&mut s, tag::INTEGER, "SignedData version")?;
        let _digest_algs = expect(&mut s, tag::SET, "SignedData digestAlgorithms")?;
        let encap = expect(&mut s, tag::SEQUENCE, "encapContentInfo")?;
        let certs = s.optional(tag::context_constructed(0))?;
        let _crls = s.optional(tag::context_constructed(1))?;
        let signer_infos = expect(&mut s, tag::SET, "signerInfos")?;
        finish(&s, "SignedData")?;

        let mut e = encap.reader();
        let e_type = expect(&mut e, tag::OID, "eContentType")?;
        if e_type.value != oid::CT_TST_INFO {
            return err("encapsulated content is not a TSTInfo");
        }
        let e_explicit = expect(&mut e, tag::context_constructed(0), "eContent")?;
        finish(&e, "encapContentInfo")?;
        let e_content = der::parse_single(e_explicit.value)?;
        if e_content.tag != tag::OCTET_STRING {
            return err("eContent is not an OCTET STRING");
        }
        let tst_info = parse_tst_info(e_content.value)?;

        let mut certificates = Vec::new();
        if let Some(c) = certs {
            let mut cr = c.reader();
            let mut n = 0;
            while !cr.is_empty() {
                n += 1;
                if n > MAX_EMBEDDED_CERTS {
                    return err("too many embedded certificates");
                }
                let el = cr.read()?;
                if el.tag == tag::SEQUENCE {
                    if let Ok(cert) = Certificate::from_der(el.raw) {
                        certificates.push(cert);
                    }
                }
            }
        }

        let mut si = signer_infos.reader();
        let first = si.read().map_err(|_| malformed("no SignerInfo"))?;
        if !si.is_empty() {
            return err("more than one SignerInfo");
        }
        let signer = parse_signer_info(&first)?;

        Ok(Self {
            der: der_bytes.to_vec(),
            status,
            tst_info,
            tst_info_der: e_content.value.to_vec(),
            certificates,
            signer,
        })
    }

    /// The whole DER response.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PKIStatus: 0 (granted) or 1 (grantedWithMods).
    pub fn status(&self) -> u64 {
        self.status
    }

    /// The parsed TSTInfo. Its contents are authenticated only once [`crate::verify_timestamp`] succeeded.
    pub fn tst_info(&self) -> &TstInfo {
        &self.tst_info
    }

    /// The DER TSTInfo (the encapsulated content the signature covers through `messageDigest`).
    pub fn tst_info_der(&self) -> &[u8] {
        &self.tst_info_der
    }

    /// Certificates embedded in the token. Informational only: never used to verify anything (T-03).
    pub fn embedded_certificates(&self) -> &[Certificate] {
        &self.certificates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_times() {
        assert_eq!(generalized_time(b"19700101000000Z").unwrap(), 0);
        assert_eq!(generalized_time(b"20250612120220Z").unwrap(), 1_749_729_740);
        assert_eq!(generalized_time(b"20250612120220.5Z").unwrap(), 1_749_729_740);
        assert_eq!(generalized_time(b"20250612120220.999999Z").unwrap(), 1_749_729_740);
        for bad in [
            &b"20250612120220"[..],
            b"20250612120220.Z",
            b"2025061212022Z",
            b"20250230120220Z",
            b"20250612250220Z",
            b"20250612120260Z",
            b"2025-6-12120220Z",
            b"20250612120220+0000",
            b"",
        ] {
            assert!(generalized_time(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn nonce_comparison_is_numeric() {
        let t = TstInfo {
            gen_time: 0,
            imprint_algorithm: HashAlgorithm::Sha2_256,
            imprint: vec![0; 32],
            nonce: Some(vec![0x00, 0x80, 0x01]),
            policy: "1.2".into(),
            serial: vec![1],
        };
        t.check_nonce(&[0x80, 0x01]).unwrap();
        t.check_nonce(&[0x00, 0x00, 0x80, 0x01]).unwrap();
        assert!(t.check_nonce(&[0x80]).is_err());
        assert!(t.check_nonce(&[]).is_err());
    }
}
