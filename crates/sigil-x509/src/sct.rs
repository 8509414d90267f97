//! Embedded precertificate SCTs (RFC 6962 §3.2, §3.3).

use sigil_crypto::der::{self, tag};
use sigil_crypto::{SignatureScheme, VerifyingKey};

use crate::cert::{Certificate, oid};
use crate::{Error, MAX_SCTS};

/// A trusted CT log (from the trusted root's `ctlogs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtLog {
    /// The trusted root's `logId.keyId` (for RFC 6962 logs, SHA-256 of the DER SPKI). SCTs are matched on it.
    pub log_id: [u8; 32],
    /// The log's public key.
    pub key: VerifyingKey,
    /// Start of the log's `validFor`, unix seconds (inclusive).
    pub valid_from: Option<i64>,
    /// End of the log's `validFor`, unix seconds (inclusive).
    pub valid_until: Option<i64>,
}

impl CtLog {
    /// A log identified by the SHA-256 of its key, with no validity bounds.
    pub fn new(key: VerifyingKey) -> Self {
        Self {
            log_id: key.sha256_key_id(),
            key,
            valid_from: None,
            valid_until: None,
        }
    }

    /// Whether `t` (unix seconds) is inside `[valid_from, valid_until]`.
    pub fn valid_at(&self, t: i64) -> bool {
        self.valid_from.is_none_or(|s| s <= t) && self.valid_until.is_none_or(|e| t <= e)
    }
}

/// An SCT that verified against a trusted log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedSct {
    pub log_id: [u8; 32],
    /// The SCT timestamp, milliseconds since the epoch.
    pub timestamp_ms: u64,
}

/// One parsed `SignedCertificateTimestamp` (v1).
struct Sct<'a> {
    log_id: [u8; 32],
    timestamp_ms: u64,
    extensions: &'a [u8],
    hash_alg: u8,
    sig_alg: u8,
    signature: &'a [u8],
}

/// A cursor over TLS presentation-language data.
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(Error::MalformedSct("truncated"))?;
        self.0 = rest;
        Ok(head)
    }

    fn uint(&mut self, n: usize) -> Result<u64, Error> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn u8(&mut self) -> Result<u8, Error> {
        let b = self.take(1)?;
        b.first().copied().ok_or(Error::MalformedSct("truncated"))
    }

    fn vec16(&mut self) -> Result<&'a [u8], Error> {
        let n = self.uint(2)? as usize;
        self.take(n)
    }
}

/// Parses one serialized SCT; `Ok(None)` for versions other than v1 (ignored, like unknown logs).
fn parse_sct(bytes: &[u8]) -> Result<Option<Sct<'_>>, Error> {
    let mut t = Tls(bytes);
    if t.u8()? != 0 {
        return Ok(None);
    }
    let mut log_id = [0u8; 32];
    log_id.copy_from_slice(t.take(32)?);
    let timestamp_ms = t.uint(8)?;
    let extensions = t.vec16()?;
    let hash_alg = t.u8()?;
    let sig_alg = t.u8()?;
    let signature = t.vec16()?;
    if !t.0.is_empty() {
        return Err(Error::MalformedSct("trailing bytes in SCT"));
    }
    Ok(Some(Sct {
        log_id,
        timestamp_ms,
        extensions,
        hash_alg,
        sig_alg,
        signature,
    }))
}

/// The TBSCertificate with the SCT list extension removed, re-encoded (the precertificate TBS the log signed).
fn tbs_without_sct(tbs: &[u8]) -> Result<Vec<u8>, Error> {
    let seq = der::parse_single(tbs)?;
    let mut r = seq.reader();
    let mut body = Vec::with_capacity(tbs.len());
    while !r.is_empty() {
        let el = r.read()?;
        if el.tag != tag::context_constructed(3) {
            body.extend_from_slice(el.raw);
            continue;
        }
        let exts = der::parse_single(el.value)?;
        let mut e = exts.reader();
        let mut kept = Vec::with_capacity(exts.value.len());
        while !e.is_empty() {
            let ext = e.expect(tag::SEQUENCE)?;
            let id = ext.reader().expect(tag::OID)?;
            if id.value != oid::SCT_LIST {
                kept.extend_from_slice(ext.raw);
            }
        }
        if !kept.is_empty() {
            body.extend_from_slice(&der::encode(el.tag, &der::encode(tag::SEQUENCE, &kept)));
        }
    }
    Ok(der::encode(tag::SEQUENCE, &body))
}

fn scheme(hash_alg: u8, sig_alg: u8) -> Result<SignatureScheme, Error> {
    // RFC 5246 §7.4.1.4.1: hash 4 = sha256; signature 1 = rsa, 3 = ecdsa. RFC 6962 allows only these.
    match (hash_alg, sig_alg) {
        (4, 3) => Ok(SignatureScheme::EcdsaSha256),
        (4, 1) => Ok(SignatureScheme::RsaPkcs1Sha256),
        (h, s) => Err(Error::UnsupportedAlgorithm(format!(
            "SCT signature hash {h}, signature {s}"
        ))),
    }
}

/// Verifies the precertificate SCTs embedded in `leaf` (extension 1.3.6.1.4.1.11129.2.4.2) against `logs`.
///
/// `issuer` is the certificate that signed the leaf; `SHA-256(issuer SPKI)` is the `issuer_key_hash`. The
/// signed data is RFC 6962 §3.2 with `entry_type = precert_entry`:
/// `0x00 ‖ 0x00 ‖ u64 timestamp ‖ 0x0001 ‖ SHA256(issuer SPKI) ‖ u24 len ‖ TBS-without-SCT ‖ u16 len ‖ extensions`.
///
/// SCTs from unknown logs, of an unknown version, or dated outside their log's `validFor` are not counted; an
/// SCT from a known log whose signature fails is an error ([`Error::SctInvalid`]). Verified SCTs are returned
/// once per log (a threshold counts distinct logs, V-19). None verified is [`Error::NoValidSct`].
pub fn verify_embedded_scts(
    leaf: &Certificate,
    issuer: &Certificate,
    logs: &[CtLog],
) -> Result<Vec<VerifiedSct>, Error> {
    let ext = leaf
        .extensions
        .iter()
        .find(|e| e.oid == oid::SCT_LIST)
        .ok_or(Error::MissingSct)?;
    let list = der::parse_single(&ext.value).map_err(|_| Error::MalformedSct("not an OCTET STRING"))?;
    if list.tag != tag::OCTET_STRING {
        return Err(Error::MalformedSct("not an OCTET STRING"));
    }
    let mut outer = Tls(list.value);
    let mut items = Tls(outer.vec16()?);
    if !outer.0.is_empty() {
        return Err(Error::MalformedSct("trailing bytes after the SCT list"));
    }

    let issuer_key_hash = issuer.public_key().sha256_key_id();
    let mut precert_tbs: Option<Vec<u8>> = None;
    let mut verified: Vec<VerifiedSct> = Vec::new();
    let mut count = 0usize;
    while !items.0.is_empty() {
        count += 1;
        if count > MAX_SCTS {
            return Err(Error::MalformedSct("too many SCTs"));
        }
        let raw = items.vec16()?;
        if raw.is_empty() {
            return Err(Error::MalformedSct("empty SCT"));
        }
        let Some(sct) = parse_sct(raw)? else {
            continue;
        };
        let Some(log) = logs.iter().find(|l| l.log_id == sct.log_id) else {
            continue;
        };
        let secs = i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX);
        if !log.valid_at(secs) {
            continue;
        }
        let scheme = scheme(sct.hash_alg, sct.sig_alg)?;
        let tbs = match &precert_tbs {
            Some(t) => t,
            None => precert_tbs.insert(tbs_without_sct(leaf.tbs_der())?),
        };
        let tbs_len = u32::try_from(tbs.len())
            .ok()
            .filter(|&n| n < 1 << 24)
            .ok_or(Error::MalformedSct("TBS too large"))?;
        let ext_len = u16::try_from(sct.extensions.len()).map_err(|_| Error::MalformedSct("extensions too large"))?;
        let mut msg = Vec::with_capacity(tbs.len() + sct.extensions.len() + 64);
        msg.push(0); // sct_version v1
        msg.push(0); // signature_type certificate_timestamp
        msg.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        msg.extend_from_slice(&[0, 1]); // entry_type precert_entry
        msg.extend_from_slice(&issuer_key_hash);
        msg.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        msg.extend_from_slice(tbs);
        msg.extend_from_slice(&ext_len.to_be_bytes());
        msg.extend_from_slice(sct.extensions);
        log.key
            .verify(scheme, &msg, sct.signature)
            .map_err(|_| Error::SctInvalid { log_id: sct.log_id })?;
        if !verified.iter().any(|v| v.log_id == sct.log_id) {
            verified.push(VerifiedSct {
                log_id: sct.log_id,
                timestamp_ms: sct.timestamp_ms,
            });
        }
    }
    if verified.is_empty() {
        return Err(Error::NoValidSct);
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sct_bytes(version: u8, ext: &[u8], sig: &[u8]) -> Vec<u8> {
        let mut v = vec![version];
        v.extend_from_slice(&[7u8; 32]);
        v.extend_from_slice(&1234u64.to_be_bytes());
        v.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        v.extend_from_slice(ext);
        v.extend_from_slice(&[4, 3]);
        v.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        v.extend_from_slice(sig);
        v
    }

    #[test]
    fn parses_v1_and_skips_other_versions() {
        let b = sct_bytes(0, b"ext", b"sig");
        let s = parse_sct(&b).unwrap().unwrap();
        assert_eq!(s.log_id, [7u8; 32]);
        assert_eq!(s.timestamp_ms, 1234);
        assert_eq!(s.extensions, b"ext");
        assert_eq!((s.hash_alg, s.sig_alg), (4, 3));
        assert_eq!(s.signature, b"sig");
        assert!(parse_sct(&sct_bytes(1, b"", b"")).unwrap().is_none());
        for n in 1..b.len() {
            assert!(parse_sct(&b[..n]).is_err(), "prefix {n}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(parse_sct(&long).is_err());
    }

    #[test]
    fn only_sha256_ecdsa_or_rsa() {
        assert_eq!(scheme(4, 3).unwrap(), SignatureScheme::EcdsaSha256);
        assert_eq!(scheme(4, 1).unwrap(), SignatureScheme::RsaPkcs1Sha256);
        assert!(scheme(5, 3).is_err());
        assert!(scheme(4, 7).is_err());
    }

    #[test]
    fn removes_only_the_sct_extension() {
        use sigil_crypto::der::encode;
        let ext = |oid: &[u8]| {
            encode(
                tag::SEQUENCE,
                &[encode(tag::OID, oid), encode(tag::OCTET_STRING, &[0x05, 0x00])].concat(),
            )
        };
        let other = ext(&[0x2a, 0x03]);
        let tbs = |exts: &[Vec<u8>]| {
            encode(
                tag::SEQUENCE,
                &[
                    encode(tag::INTEGER, &[1]),
                    encode(0xa3, &encode(tag::SEQUENCE, &exts.concat())),
                ]
                .concat(),
            )
        };
        let with = tbs(&[other.clone(), ext(oid::SCT_LIST), other.clone()]);
        assert_eq!(tbs_without_sct(&with).unwrap(), tbs(&[other.clone(), other]));
        // Only the SCT list: the extensions field disappears rather than becoming empty.
        let only = tbs(&[ext(oid::SCT_LIST)]);
        assert_eq!(
            tbs_without_sct(&only).unwrap(),
            encode(tag::SEQUENCE, &encode(tag::INTEGER, &[1]))
        );
    }
}
