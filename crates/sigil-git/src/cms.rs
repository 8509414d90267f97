//! The commit signature: a detached CMS `SignedData` (RFC 5652) in PEM armor `SIGNED MESSAGE`, laid out as
//! gitsign's offline mode does.
//!
//! ```text
//! ContentInfo { id-signedData, [0] SignedData {
//!   version 1, digestAlgorithms { sha256 }, encapContentInfo { id-data }   -- detached: no eContent
//!   certificates [0] { leaf },
//!   signerInfos { SignerInfo {
//!     version 1, sid issuerAndSerialNumber(leaf), digestAlgorithm sha256,
//!     signedAttrs [0] { contentType id-data, signingTime, messageDigest SHA-256(commit payload) },
//!     signatureAlgorithm ecdsa-with-SHA256, signature (over the signed attributes re-tagged as SET 0x31),
//!     unsignedAttrs [1] { id-aa-timeStampToken { RFC 3161 tokens… },
//!                         1.3.6.1.4.1.57264.3.1 { OCTET STRING protobuf TransparencyLogEntry } } } } } }
//! ```
//!
//! The signature over the signed attributes is an ordinary Sigstore message signature, so [`to_bundle`] turns a
//! commit signature back into a v0.3 [`Bundle`] plus the exact bytes (the signed attributes) it signs; the
//! ordinary bundle verifier then checks certificate, log entry and timestamps, and [`to_bundle`] has already
//! bound the signed attributes to the commit (`messageDigest` = SHA-256 of the payload).
//!
//! Parsing is bounded ([`MAX_ARMORED_LEN`], [`MAX_CERTIFICATES`], [`MAX_UNSIGNED_ATTRIBUTES`],
//! [`MAX_TIMESTAMPS`]), walks DER one level at a time (no recursion, so nesting bombs cost nothing), and picks
//! the signer certificate by the SignerInfo's `sid`, never by position (SECURITY.md G-03).

use sigil_bundle::Bundle;
use sigil_bundle::Bytes;
use sigil_bundle::bundle::{
    HashOutput, MEDIA_TYPE_V0_3, MessageSignature, Rfc3161SignedTimestamp, TimestampVerificationData,
    TransparencyLogEntry, VerificationMaterial, X509Certificate,
};
use sigil_bundle::rekor::{HashedRekordData, HashedRekordSignature, HashedRekordV001, RekorHash, RekorPublicKey};
use sigil_crypto::der::{self, Reader, Tlv, tag};
use sigil_crypto::der_write as w;
use sigil_crypto::{HashAlgorithm, SignatureScheme, pem_encode, sha256};
use sigil_x509::Certificate;

use crate::{Error, tle};

/// The PEM label git and gitsign use for the armored signature.
pub const PEM_LABEL: &str = "SIGNED MESSAGE";
/// Largest armored signature [`to_bundle`] accepts, in bytes.
pub const MAX_ARMORED_LEN: usize = 1 << 20;
/// Most certificates a signature may include.
pub const MAX_CERTIFICATES: usize = 16;
/// Most unsigned attributes a SignerInfo may carry.
pub const MAX_UNSIGNED_ATTRIBUTES: usize = 8;
/// Most RFC 3161 timestamp tokens a signature may carry.
pub const MAX_TIMESTAMPS: usize = 8;
/// Most SignerInfos read before giving up (exactly one is accepted).
const MAX_SIGNER_INFOS: usize = 16;

/// DER contents of the OIDs used here.
pub(crate) mod oid {
    /// 1.2.840.113549.1.7.1 id-data
    pub const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    /// 1.2.840.113549.1.7.2 id-signedData
    pub const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    /// 1.2.840.113549.1.9.3 contentType
    pub const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
    /// 1.2.840.113549.1.9.4 messageDigest
    pub const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
    /// 1.2.840.113549.1.9.5 signingTime
    pub const SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
    /// 1.2.840.113549.1.9.16.2.14 id-aa-timeStampToken
    pub const TIMESTAMP_TOKEN: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e];
    /// 1.3.6.1.4.1.57264.3.1 (gitsign: protobuf TransparencyLogEntry)
    pub const TLOG_ENTRY: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x03, 0x01];
    /// 2.16.840.1.101.3.4.2.1 id-sha256
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    /// 1.2.840.10045.4.3.2 ecdsa-with-SHA256
    pub const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
}

fn oid_tlv(contents: &[u8]) -> Vec<u8> {
    der::encode(tag::OID, contents)
}

/// `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF value }`.
fn attribute(ty: &[u8], values: Vec<Vec<u8>>) -> Vec<u8> {
    w::sequence(&[&oid_tlv(ty), &w::set_of(values)])
}

/// `AlgorithmIdentifier` with absent parameters (RFC 5754 §2, RFC 5758 §3.2).
fn algorithm(o: &[u8]) -> Vec<u8> {
    w::sequence(&[&oid_tlv(o)])
}

/// DER of the signed attributes as a SET (tag 0x31, the bytes the signature covers, RFC 5652 §5.4) for a
/// detached signature over `payload`: contentType = id-data, signingTime = `signing_time` (unix seconds; UTCTime
/// for 1950–2049, GeneralizedTime otherwise, RFC 5652 §11.3), messageDigest = SHA-256(`payload`), in DER SET OF
/// order. A `signing_time` outside years 0–9999 cannot be encoded; the signingTime attribute is then left out
/// (it is optional in RFC 5652).
pub fn signed_attributes(payload: &[u8], signing_time: i64) -> Vec<u8> {
    let mut attrs = vec![
        attribute(oid::CONTENT_TYPE, vec![oid_tlv(oid::DATA)]),
        attribute(oid::MESSAGE_DIGEST, vec![w::octet_string(&sha256(payload))]),
    ];
    if let Ok(t) = w::x509_time(signing_time) {
        attrs.push(attribute(oid::SIGNING_TIME, vec![t]));
    }
    w::set_of(attrs)
}

fn bundle_err(problem: impl Into<String>) -> Error {
    Error::Bundle {
        problem: problem.into(),
    }
}

/// The `TimeStampToken` (a ContentInfo) inside a DER `TimeStampResp`, as the bundle stores it.
fn token_from_response(resp: &[u8]) -> Result<Vec<u8>, Error> {
    let bad = |d: &str| bundle_err(format!("RFC 3161 timestamp: {d}"));
    let seq = der::parse_single(resp).map_err(|e| bad(&e.to_string()))?;
    if seq.tag != tag::SEQUENCE {
        return Err(bad("not a SEQUENCE"));
    }
    let mut r = seq.reader();
    r.expect(tag::SEQUENCE).map_err(|e| bad(&e.to_string()))?;
    let token = r
        .optional(tag::SEQUENCE)
        .map_err(|e| bad(&e.to_string()))?
        .ok_or_else(|| bad("the response carries no token"))?;
    r.finish().map_err(|e| bad(&e.to_string()))?;
    Ok(token.raw.to_vec())
}

/// A granted `TimeStampResp` (`SEQUENCE { PKIStatusInfo { granted }, token }`) around a token.
fn response_from_token(token: &[u8]) -> Vec<u8> {
    w::sequence(&[&w::sequence(&[&w::integer_u64(0)]), token])
}

/// The leaf certificate of a bundle: `certificate`, or the first of `x509CertificateChain`.
fn bundle_leaf(bundle: &Bundle) -> Result<&[u8], Error> {
    let vm = &bundle.verification_material;
    if let Some(c) = &vm.certificate {
        return Ok(&c.raw_bytes);
    }
    vm.x509_certificate_chain
        .as_ref()
        .and_then(|c| c.certificates.first())
        .map(|c| c.raw_bytes.0.as_slice())
        .ok_or_else(|| bundle_err("no signing certificate"))
}

/// The armored signature git stores, from `signed_attrs` (the output of [`signed_attributes`]) and a bundle that
/// signed exactly those bytes as a message signature (see the module documentation for the layout). The bundle's
/// message digest, if present, must be SHA-256 of `signed_attrs` and its signature must verify over
/// `signed_attrs` (ECDSA P-256 with SHA-256) under the leaf certificate's key, so a mismatched pair is refused
/// here rather than producing a commit signature nobody can verify. The first tlog entry is stored with its
/// canonicalized body (gitsign clears it; sigil keeps it). Timestamp tokens are written as one
/// id-aa-timeStampToken attribute, values in DER SET OF order.
pub fn assemble(signed_attrs: &[u8], bundle: &Bundle) -> Result<String, Error> {
    let attrs = der::parse_single(signed_attrs).map_err(|e| Error::Malformed {
        step: "signed attributes",
        detail: e.to_string(),
    })?;
    if attrs.tag != tag::SET {
        return Err(Error::Malformed {
            step: "signed attributes",
            detail: "not a SET (tag 0x31)".into(),
        });
    }
    let sig = bundle
        .message_signature
        .as_ref()
        .ok_or_else(|| bundle_err("no messageSignature"))?;
    if let Some(md) = &sig.message_digest {
        if md.algorithm != HashAlgorithm::Sha2_256.proto_name() || md.digest.0.as_slice() != sha256(signed_attrs) {
            return Err(bundle_err("messageDigest is not SHA-256 of the signed attributes"));
        }
    }
    let leaf_der = bundle_leaf(bundle)?;
    let leaf = Certificate::from_der(leaf_der).map_err(|e| Error::Certificate { detail: e.to_string() })?;
    leaf.public_key()
        .verify(SignatureScheme::EcdsaSha256, signed_attrs, &sig.signature)
        .map_err(|e| bundle_err(format!("signature over the signed attributes: {e}")))?;

    let sid = w::sequence(&[leaf.issuer_der(), &der::encode(tag::INTEGER, leaf.serial())]);
    let digest_alg = algorithm(oid::SHA256);
    let signed_implicit = der::encode(tag::context_constructed(0), attrs.value);

    let mut unsigned = Vec::new();
    if let Some(tvd) = &bundle.verification_material.timestamp_verification_data {
        if tvd.rfc3161_timestamps.len() > MAX_TIMESTAMPS {
            return Err(Error::TooMany {
                what: "timestamps",
                max: MAX_TIMESTAMPS,
            });
        }
        let tokens = tvd
            .rfc3161_timestamps
            .iter()
            .map(|t| token_from_response(&t.signed_timestamp))
            .collect::<Result<Vec<_>, _>>()?;
        if !tokens.is_empty() {
            unsigned.push(attribute(oid::TIMESTAMP_TOKEN, tokens));
        }
    }
    if let Some(entry) = bundle.verification_material.tlog_entries.first() {
        unsigned.push(attribute(oid::TLOG_ENTRY, vec![w::octet_string(&tle::encode(entry))]));
    }
    let unsigned = if unsigned.is_empty() {
        Vec::new()
    } else {
        unsigned.sort();
        der::encode(tag::context_constructed(1), &unsigned.concat())
    };

    let signer_info = w::sequence(&[
        &w::integer_u64(1),
        &sid,
        &digest_alg,
        &signed_implicit,
        &algorithm(oid::ECDSA_SHA256),
        &w::octet_string(&sig.signature),
        &unsigned,
    ]);
    let signed_data = w::sequence(&[
        &w::integer_u64(1),
        &w::set_of(vec![digest_alg.clone()]),
        &w::sequence(&[&oid_tlv(oid::DATA)]),
        &der::encode(tag::context_constructed(0), leaf_der),
        &w::set_of(vec![signer_info]),
    ]);
    let content_info = w::sequence(&[&oid_tlv(oid::SIGNED_DATA), &w::explicit(0, &signed_data)]);
    Ok(pem_encode(PEM_LABEL, &content_info))
}

/// A commit signature turned into a Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    /// A v0.3 bundle: the signer certificate, the log entry (if the signature carries one), the RFC 3161
    /// timestamps, and a message signature over [`ParsedSignature::signed_attrs`].
    pub bundle: Bundle,
    /// The artifact the bundle signs: the signed attributes DER with the SET tag 0x31, exactly as signed.
    pub signed_attrs: Vec<u8>,
    /// DER of the certificate the SignerInfo names.
    pub signer_der: Vec<u8>,
    /// The signingTime attribute (unix seconds), if present. Claimed by the signer, not attested.
    pub signing_time: Option<i64>,
}

fn malformed(step: &'static str) -> impl Fn(sigil_crypto::Error) -> Error {
    move |e| Error::Malformed {
        step,
        detail: e.to_string(),
    }
}

fn expect<'a>(r: &mut Reader<'a>, t: u8, step: &'static str) -> Result<Tlv<'a>, Error> {
    r.expect(t).map_err(malformed(step))
}

fn finish(r: &Reader<'_>, step: &'static str) -> Result<(), Error> {
    r.finish().map_err(malformed(step))
}

fn oid_name(contents: &[u8]) -> String {
    der::oid_to_string(contents).unwrap_or_else(|_| "(invalid OID)".into())
}

/// `UTCTime` `YYMMDDHHMMSSZ` or `GeneralizedTime` `YYYYMMDDHHMMSSZ` (the DER forms RFC 5652 §11.3 allows) to
/// unix seconds; the calendar checks are the `time` crate's, as in sigil-tsa's genTime.
fn parse_time(t: &Tlv<'_>) -> Option<i64> {
    let digits = t.value.strip_suffix(b"Z")?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<u16> {
        digits
            .get(a..b)
            .map(|s| s.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')))
    };
    let two = |a: usize| num(a, a + 2).and_then(|n| u8::try_from(n).ok());
    let (year, rest) = match (t.tag, digits.len()) {
        (tag::UTC_TIME, 12) => {
            let yy = num(0, 2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        (tag::GENERALIZED_TIME, 14) => (num(0, 4)?, 4),
        _ => return None,
    };
    let month = time::Month::try_from(two(rest)?).ok()?;
    let date = time::Date::from_calendar_date(i32::from(year), month, two(rest + 2)?).ok()?;
    let clock = time::Time::from_hms(two(rest + 4)?, two(rest + 6)?, two(rest + 8)?).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc().unix_timestamp())
}

/// Walks the signed attributes (`[0]` contents): exactly one contentType and one messageDigest, each with one
/// value (typed errors here; sigil-tsa's SignerInfo parser re-checks the structure), and the signingTime.
fn check_signed_attributes(contents: &[u8]) -> Result<Option<i64>, Error> {
    let attr_err = |attribute: &'static str, problem: &str| Error::SignedAttribute {
        attribute,
        problem: problem.into(),
    };
    let (mut content_type, mut digest, mut time) = (0usize, 0usize, None);
    let mut r = Reader::new(contents);
    while !r.is_empty() {
        let a = expect(&mut r, tag::SEQUENCE, "signed attribute")?;
        let mut ar = a.reader();
        let ty = expect(&mut ar, tag::OID, "signed attribute type")?;
        let values = expect(&mut ar, tag::SET, "signed attribute values")?;
        finish(&ar, "signed attribute")?;
        let name = match ty.value {
            oid::CONTENT_TYPE => {
                content_type += 1;
                "contentType"
            }
            oid::MESSAGE_DIGEST => {
                digest += 1;
                "messageDigest"
            }
            oid::SIGNING_TIME => {
                if time.is_some() {
                    return Err(attr_err("signingTime", "appears more than once"));
                }
                "signingTime"
            }
            _ => continue,
        };
        let mut vr = values.reader();
        let v = vr.read().map_err(|_| attr_err(name, "has no value"))?;
        if !vr.is_empty() {
            return Err(attr_err(name, "has more than one value"));
        }
        match ty.value {
            oid::CONTENT_TYPE if v.tag != tag::OID || v.value != oid::DATA => {
                return Err(attr_err(name, "is not id-data"));
            }
            oid::MESSAGE_DIGEST if v.tag != tag::OCTET_STRING => {
                return Err(attr_err(name, "is not an OCTET STRING"));
            }
            oid::SIGNING_TIME => {
                time = Some(parse_time(&v).ok_or_else(|| attr_err(name, "is not a valid DER time"))?);
            }
            _ => {}
        }
    }
    for (name, n) in [("contentType", content_type), ("messageDigest", digest)] {
        match n {
            1 => {}
            0 => return Err(attr_err(name, "is missing")),
            _ => return Err(attr_err(name, "appears more than once")),
        }
    }
    Ok(time)
}

/// The `[0]` signed attributes of a SignerInfo, located before the full parse so their errors are typed.
fn locate_signed_attributes<'a>(si: &Tlv<'a>) -> Result<Tlv<'a>, Error> {
    if si.tag != tag::SEQUENCE {
        return Err(Error::Malformed {
            step: "signerInfo",
            detail: "not a SEQUENCE".into(),
        });
    }
    let mut r = si.reader();
    expect(&mut r, tag::INTEGER, "signerInfo version")?;
    r.read().map_err(malformed("signerInfo sid"))?;
    expect(&mut r, tag::SEQUENCE, "signerInfo digestAlgorithm")?;
    r.optional(tag::context_constructed(0))
        .map_err(malformed("signerInfo signedAttrs"))?
        .ok_or_else(|| Error::SignedAttribute {
            attribute: "signedAttrs",
            problem: "are missing".into(),
        })
}

/// The Sigstore material in the unsigned attributes: RFC 3161 timestamps (as `TimeStampResp` DER) and the
/// first transparency log entry.
fn unsigned_material(contents: &[u8]) -> Result<(Vec<Vec<u8>>, Option<TransparencyLogEntry>), Error> {
    let mut timestamps = Vec::new();
    let mut entry = None;
    let mut count = 0usize;
    let mut r = Reader::new(contents);
    while !r.is_empty() {
        count += 1;
        if count > MAX_UNSIGNED_ATTRIBUTES {
            return Err(Error::TooMany {
                what: "unsigned attributes",
                max: MAX_UNSIGNED_ATTRIBUTES,
            });
        }
        let a = expect(&mut r, tag::SEQUENCE, "unsigned attribute")?;
        let mut ar = a.reader();
        let ty = expect(&mut ar, tag::OID, "unsigned attribute type")?;
        let values = expect(&mut ar, tag::SET, "unsigned attribute values")?;
        finish(&ar, "unsigned attribute")?;
        let mut vr = values.reader();
        match ty.value {
            oid::TIMESTAMP_TOKEN => {
                while !vr.is_empty() {
                    let token = expect(&mut vr, tag::SEQUENCE, "timeStampToken")?;
                    if timestamps.len() >= MAX_TIMESTAMPS {
                        return Err(Error::TooMany {
                            what: "timestamp tokens",
                            max: MAX_TIMESTAMPS,
                        });
                    }
                    timestamps.push(response_from_token(token.raw));
                }
            }
            oid::TLOG_ENTRY => {
                let bad = |problem: String| Error::UnsignedAttribute {
                    attribute: "transparency log entry",
                    problem,
                };
                if entry.is_some() {
                    return Err(bad("appears more than once".into()));
                }
                let v = vr.read().map_err(|e| bad(e.to_string()))?;
                if !vr.is_empty() || v.tag != tag::OCTET_STRING {
                    return Err(bad("is not exactly one OCTET STRING".into()));
                }
                entry = Some(tle::decode(v.value).map_err(|e| bad(e.to_string()))?);
            }
            _ => {}
        }
    }
    Ok((timestamps, entry))
}

/// The hashedrekord 0.0.1 body Rekor canonicalized for a message signature over `signed_attrs` by `cert_der`:
/// the proposed entry sigil-sign sends (hash, base64 signature, base64 of the PEM certificate) in RFC 8785 form,
/// as sigil-log stores it. Used when the stored entry's body was cleared (gitsign does that).
fn hashedrekord_body(signed_attrs: &[u8], signature: &[u8], cert_der: &[u8]) -> Result<Vec<u8>, Error> {
    let spec = HashedRekordV001 {
        data: HashedRekordData {
            hash: Some(RekorHash {
                algorithm: "sha256".into(),
                value: hex::encode(sha256(signed_attrs)),
            }),
        },
        signature: HashedRekordSignature {
            content: Some(Bytes(signature.to_vec())),
            public_key: Some(RekorPublicKey {
                content: Some(Bytes(pem_encode("CERTIFICATE", cert_der).into_bytes())),
            }),
        },
    };
    spec.canonical_body()
        .map_err(|e| bundle_err(format!("hashedrekord body: {e}")))
}

/// Parses an armored commit signature and binds it to `payload`, the exact bytes git signed; see the module
/// documentation. Every check fails with a typed [`Error`] naming the step: the armor (one `SIGNED MESSAGE`
/// block, ≤ [`MAX_ARMORED_LEN`]); ContentInfo signedData; detached id-data content; exactly one SignerInfo;
/// SHA-256 digest; signed attributes with exactly one contentType = id-data and exactly one messageDigest =
/// SHA-256(`payload`); ECDSA with SHA-256; the signer certificate selected by the SignerInfo's `sid` among the
/// included certificates (≤ [`MAX_CERTIFICATES`]; certificates that do not parse are skipped, never matched).
///
/// The returned bundle is not verified: the caller verifies it (certificate chain, identity, log entry,
/// timestamps, and the signature over [`ParsedSignature::signed_attrs`]) with the ordinary bundle verifier.
/// A log entry whose canonicalized body is empty (gitsign clears it) gets the hashedrekord 0.0.1 body rebuilt
/// from the signature, so the log's inclusion proof and promise check it. Timestamp tokens are returned as
/// granted `TimeStampResp` DER around the token.
pub fn to_bundle(armored: &str, payload: &[u8]) -> Result<ParsedSignature, Error> {
    if armored.len() > MAX_ARMORED_LEN {
        return Err(Error::TooLarge {
            len: armored.len(),
            max: MAX_ARMORED_LEN,
        });
    }
    let blocks = sigil_crypto::pem_blocks(armored).map_err(|e| Error::Armor { problem: e.to_string() })?;
    let der_bytes = match blocks.as_slice() {
        [(label, der)] if label == PEM_LABEL => der,
        [(_, _)] => {
            return Err(Error::Armor {
                problem: format!("the PEM label is not {PEM_LABEL}"),
            });
        }
        _ => {
            return Err(Error::Armor {
                problem: format!("expected one PEM block, found {}", blocks.len()),
            });
        }
    };

    // ContentInfo
    let ci = der::parse_single(der_bytes).map_err(malformed("contentInfo"))?;
    if ci.tag != tag::SEQUENCE {
        return Err(Error::Malformed {
            step: "contentInfo",
            detail: "not a SEQUENCE".into(),
        });
    }
    let mut r = ci.reader();
    let ct = expect(&mut r, tag::OID, "contentInfo contentType")?;
    if ct.value != oid::SIGNED_DATA {
        return Err(Error::NotSignedData {
            oid: oid_name(ct.value),
        });
    }
    let content = expect(&mut r, tag::context_constructed(0), "contentInfo content")?;
    finish(&r, "contentInfo")?;
    let sd = der::parse_single(content.value).map_err(malformed("signedData"))?;
    if sd.tag != tag::SEQUENCE {
        return Err(Error::Malformed {
            step: "signedData",
            detail: "not a SEQUENCE".into(),
        });
    }

    // SignedData
    let mut s = sd.reader();
    expect(&mut s, tag::INTEGER, "signedData version")?;
    expect(&mut s, tag::SET, "signedData digestAlgorithms")?;
    let encap = expect(&mut s, tag::SEQUENCE, "encapContentInfo")?;
    let certs = s
        .optional(tag::context_constructed(0))
        .map_err(malformed("signedData certificates"))?;
    s.optional(tag::context_constructed(1))
        .map_err(malformed("signedData crls"))?;
    let signer_infos = expect(&mut s, tag::SET, "signedData signerInfos")?;
    finish(&s, "signedData")?;

    let mut e = encap.reader();
    let e_type = expect(&mut e, tag::OID, "encapContentInfo eContentType")?;
    if e_type.value != oid::DATA {
        return Err(Error::NotDetached {
            problem: "the content type is not id-data",
        });
    }
    if !e.is_empty() {
        return Err(Error::NotDetached {
            problem: "the content is present (the signature is not detached)",
        });
    }

    // Certificates: parsed in order, bounded; the signer is picked by sid below, never by position.
    let mut certificates = Vec::new();
    if let Some(c) = certs {
        let mut cr = c.reader();
        let mut n = 0usize;
        while !cr.is_empty() {
            n += 1;
            if n > MAX_CERTIFICATES {
                return Err(Error::TooMany {
                    what: "certificates",
                    max: MAX_CERTIFICATES,
                });
            }
            let el = cr.read().map_err(malformed("certificate"))?;
            if el.tag == tag::SEQUENCE {
                if let Ok(cert) = Certificate::from_der(el.raw) {
                    certificates.push(cert);
                }
            }
        }
        if n == 0 {
            return Err(Error::NoCertificates);
        }
    } else {
        return Err(Error::NoCertificates);
    }

    // SignerInfos: exactly one.
    let mut sr = signer_infos.reader();
    let mut infos = Vec::new();
    while !sr.is_empty() && infos.len() < MAX_SIGNER_INFOS {
        infos.push(sr.read().map_err(malformed("signerInfos"))?);
    }
    let si = match infos.as_slice() {
        [one] if sr.is_empty() => *one,
        _ => return Err(Error::SignerInfoCount { count: infos.len() }),
    };

    let attrs = locate_signed_attributes(&si)?;
    let signing_time = check_signed_attributes(attrs.value)?;
    let info = sigil_tsa::parse_signer_info(&si).map_err(|e| match e {
        sigil_tsa::Error::UnsupportedAlgorithm(algorithm) => Error::UnsupportedDigest { algorithm },
        other => Error::Malformed {
            step: "signerInfo",
            detail: other.to_string(),
        },
    })?;
    if info.digest_alg != HashAlgorithm::Sha2_256 {
        return Err(Error::UnsupportedDigest {
            algorithm: info.digest_alg.proto_name().into(),
        });
    }
    if info.message_digest.as_slice() != sha256(payload) {
        return Err(Error::DigestMismatch);
    }
    // ecdsa-with-SHA256, or the bare key OID with the SHA-256 digest algorithm checked above (RFC 5754 allows
    // both spellings).
    let sig_ok = matches!(info.sig_alg_oid.as_str(), "1.2.840.10045.4.3.2" | "1.2.840.10045.2.1");
    if !sig_ok {
        return Err(Error::UnsupportedSignatureAlgorithm { oid: info.sig_alg_oid });
    }

    // The signer certificate: the one the sid names (G-03).
    let mut matching: Vec<&Certificate> = Vec::new();
    for c in certificates.iter().filter(|c| info.sid.matches(c)) {
        if !matching.iter().any(|m| m.der() == c.der()) {
            matching.push(c);
        }
    }
    let signer = match matching.as_slice() {
        [] => return Err(Error::SignerNotFound),
        [one] => *one,
        more => return Err(Error::AmbiguousSigner { count: more.len() }),
    };
    let signer_der = signer.der().to_vec();

    let (timestamps, entry) = match &info.unsigned_attrs {
        Some(u) => unsigned_material(u)?,
        None => (Vec::new(), None),
    };
    let mut tlog_entries = Vec::new();
    if let Some(mut entry) = entry {
        let kv = (entry.kind_version.kind.as_str(), entry.kind_version.version.as_str());
        if entry.canonicalized_body.is_none() && kv == ("hashedrekord", "0.0.1") {
            entry.canonicalized_body = Some(Bytes(hashedrekord_body(
                &info.signed_attrs,
                &info.signature,
                &signer_der,
            )?));
        }
        tlog_entries.push(entry);
    }

    let bundle = message_bundle(
        signer_der.clone(),
        tlog_entries,
        timestamps,
        sha256(&info.signed_attrs),
        info.signature,
    );
    Ok(ParsedSignature {
        bundle,
        signed_attrs: info.signed_attrs,
        signer_der,
        signing_time,
    })
}

#[cfg(test)]
mod tests;

/// A v0.3 message-signature bundle: a certificate, its log entries and RFC 3161 timestamps, and a signature
/// over bytes whose SHA-256 is `digest`. Used for what a commit signature carries, and for gitsign's
/// online-mode entries.
pub fn message_bundle(
    certificate_der: Vec<u8>,
    tlog_entries: Vec<TransparencyLogEntry>,
    timestamps: Vec<Vec<u8>>,
    digest: [u8; 32],
    signature: Vec<u8>,
) -> Bundle {
    Bundle {
        media_type: MEDIA_TYPE_V0_3.into(),
        verification_material: VerificationMaterial {
            public_key: None,
            x509_certificate_chain: None,
            certificate: Some(X509Certificate {
                raw_bytes: Bytes(certificate_der),
            }),
            tlog_entries,
            timestamp_verification_data: (!timestamps.is_empty()).then(|| TimestampVerificationData {
                rfc3161_timestamps: timestamps
                    .into_iter()
                    .map(|t| Rfc3161SignedTimestamp {
                        signed_timestamp: Bytes(t),
                    })
                    .collect(),
            }),
        },
        message_signature: Some(MessageSignature {
            message_digest: Some(HashOutput {
                algorithm: HashAlgorithm::Sha2_256.proto_name().into(),
                digest: Bytes(digest.to_vec()),
            }),
            signature: Bytes(signature),
        }),
        dsse_envelope: None,
    }
}
