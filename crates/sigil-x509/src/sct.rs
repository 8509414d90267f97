//! Embedded precertificate SCTs (RFC 6962 §3.2, §3.3).

use sigil_crypto::der::{self, tag};
use sigil_crypto::{SignatureScheme, Signer, VerifyingKey};

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

/// The TBSCertificate with every extension whose OID (DER contents) is in `oids` removed, re-encoded. If no
/// extension is left the `[3]` field disappears rather than becoming an empty list (RFC 6962 §3.2 precert TBS).
pub fn tbs_without_extensions(tbs: &[u8], oids: &[&[u8]]) -> Result<Vec<u8>, Error> {
    let seq = der::parse_single(tbs)?;
    if seq.tag != tag::SEQUENCE {
        return Err(Error::Parse("TBSCertificate is not a SEQUENCE".into()));
    }
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
            if !oids.contains(&id.value) {
                kept.extend_from_slice(ext.raw);
            }
        }
        if !kept.is_empty() {
            body.extend_from_slice(&der::encode(el.tag, &der::encode(tag::SEQUENCE, &kept)));
        }
    }
    Ok(der::encode(tag::SEQUENCE, &body))
}

/// The TBSCertificate with the SCT list extension removed (what a log signed, seen from the final certificate).
pub fn tbs_without_sct(tbs: &[u8]) -> Result<Vec<u8>, Error> {
    tbs_without_extensions(tbs, &[oid::SCT_LIST])
}

/// The TBSCertificate with the CT poison (and any SCT list) removed: the `PreCert.tbs_certificate` a log signs
/// and logs for a precertificate (RFC 6962 §3.2).
pub fn tbs_without_poison(tbs: &[u8]) -> Result<Vec<u8>, Error> {
    tbs_without_extensions(tbs, &[oid::CT_POISON, oid::SCT_LIST])
}

fn u24_len(n: usize, what: &'static str) -> Result<[u8; 3], Error> {
    let n = u32::try_from(n)
        .ok()
        .filter(|&n| n < 1 << 24)
        .ok_or(Error::MalformedSct(what))?;
    let [_, a, b, c] = n.to_be_bytes();
    Ok([a, b, c])
}

fn u16_len(n: usize, what: &'static str) -> Result<[u8; 2], Error> {
    u16::try_from(n)
        .map(u16::to_be_bytes)
        .map_err(|_| Error::MalformedSct(what))
}

/// The RFC 6962 `PreCert` entry body: `issuer_key_hash[32] ‖ u24 len ‖ TBS` (shared by the signed data and the
/// Merkle tree leaf).
fn push_precert(out: &mut Vec<u8>, issuer_key_hash: &[u8; 32], tbs: &[u8]) -> Result<(), Error> {
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&u24_len(tbs.len(), "TBS too large")?);
    out.extend_from_slice(tbs);
    Ok(())
}

/// `u64 timestamp ‖ u16 entry_type = precert_entry ‖ PreCert ‖ u16 len ‖ extensions`: the RFC 6962
/// `TimestampedEntry` for a precertificate, which both the SCT signature and the Merkle leaf cover.
fn push_timestamped_precert(
    out: &mut Vec<u8>,
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    extensions: &[u8],
) -> Result<(), Error> {
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out.extend_from_slice(&[0, 1]); // entry_type precert_entry
    push_precert(out, issuer_key_hash, tbs)?;
    out.extend_from_slice(&u16_len(extensions.len(), "extensions too large")?);
    out.extend_from_slice(extensions);
    Ok(())
}

/// The data an RFC 6962 v1 precertificate SCT signs (§3.2):
/// `0x00 (v1) ‖ 0x00 (certificate_timestamp) ‖ u64 timestamp ‖ 0x0001 ‖ issuer_key_hash ‖ u24 len ‖ TBS ‖ u16 len ‖
/// extensions`. `tbs` is the TBSCertificate without poison and SCT list ([`tbs_without_poison`],
/// [`tbs_without_sct`]). The one serialisation both [`verify_embedded_scts`] and [`sign_precert_sct`] use.
pub fn precert_signed_data(
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    extensions: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut msg = Vec::with_capacity(tbs.len() + extensions.len() + 64);
    msg.push(0); // sct_version v1
    msg.push(0); // signature_type certificate_timestamp
    push_timestamped_precert(&mut msg, timestamp_ms, issuer_key_hash, tbs, extensions)?;
    Ok(msg)
}

/// The RFC 6962 §3.4 `MerkleTreeLeaf` for a precertificate entry: `0x00 (v1) ‖ 0x00 (timestamped_entry) ‖
/// TimestampedEntry`. Its leaf hash is `SHA-256(0x00 ‖ leaf)`.
pub fn precert_merkle_leaf(
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    extensions: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut leaf = Vec::with_capacity(tbs.len() + extensions.len() + 64);
    leaf.push(0); // version v1
    leaf.push(0); // leaf_type timestamped_entry
    push_timestamped_precert(&mut leaf, timestamp_ms, issuer_key_hash, tbs, extensions)?;
    Ok(leaf)
}

/// A v1 `SignedCertificateTimestamp` as a log issues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSct {
    /// SHA-256 of the log key's DER SPKI.
    pub log_id: [u8; 32],
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// `CtExtensions` (empty for RFC 6962 logs).
    pub extensions: Vec<u8>,
    /// TLS `HashAlgorithm` (4 = sha256).
    pub hash_alg: u8,
    /// TLS `SignatureAlgorithm` (3 = ecdsa, 1 = rsa).
    pub sig_alg: u8,
    /// The signature (ASN.1 DER `Ecdsa-Sig-Value` for ECDSA).
    pub signature: Vec<u8>,
}

impl SignedSct {
    /// The TLS `digitally-signed` struct: `hash_alg ‖ sig_alg ‖ u16 len ‖ signature` (the `signature` field of the
    /// RFC 6962 add-chain JSON response).
    pub fn digitally_signed(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.signature.len() + 4);
        out.push(self.hash_alg);
        out.push(self.sig_alg);
        out.extend_from_slice(&u16_len(self.signature.len(), "signature too large")?);
        out.extend_from_slice(&self.signature);
        Ok(out)
    }

    /// The TLS encoding of the SCT (RFC 6962 §3.2), as carried in an SCT list.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.extensions.len() + self.signature.len() + 47);
        out.push(0); // sct_version v1
        out.extend_from_slice(&self.log_id);
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&u16_len(self.extensions.len(), "extensions too large")?);
        out.extend_from_slice(&self.extensions);
        out.extend_from_slice(&self.digitally_signed()?);
        Ok(out)
    }

    /// Parses the TLS encoding of a v1 SCT (the inverse of [`Self::encode`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let sct = parse_sct(bytes)?.ok_or(Error::MalformedSct("not a v1 SCT"))?;
        Ok(Self {
            log_id: sct.log_id,
            timestamp_ms: sct.timestamp_ms,
            extensions: sct.extensions.to_vec(),
            hash_alg: sct.hash_alg,
            sig_alg: sct.sig_alg,
            signature: sct.signature.to_vec(),
        })
    }
}

/// The value of the X.509 SCT list extension (1.3.6.1.4.1.11129.2.4.2): a DER OCTET STRING wrapping the TLS
/// `SignedCertificateTimestampList` (`u16 len ‖ (u16 len ‖ SCT)*`, RFC 6962 §3.3).
pub fn encode_sct_list(scts: &[SignedSct]) -> Result<Vec<u8>, Error> {
    if scts.is_empty() {
        return Err(Error::MalformedSct("empty SCT list"));
    }
    let mut items = Vec::new();
    for sct in scts {
        let one = sct.encode()?;
        items.extend_from_slice(&u16_len(one.len(), "SCT too large")?);
        items.extend_from_slice(&one);
    }
    let mut list = Vec::with_capacity(items.len() + 2);
    list.extend_from_slice(&u16_len(items.len(), "SCT list too large")?);
    list.extend_from_slice(&items);
    Ok(der::encode(tag::OCTET_STRING, &list))
}

/// TLS `(HashAlgorithm, SignatureAlgorithm)` for a signer's scheme; RFC 6962 allows only these two.
pub fn tls_signature_algorithm(scheme: SignatureScheme) -> Result<(u8, u8), Error> {
    match scheme {
        SignatureScheme::EcdsaSha256 => Ok((4, 3)),
        SignatureScheme::RsaPkcs1Sha256 => Ok((4, 1)),
        other => Err(Error::UnsupportedAlgorithm(format!(
            "{other:?} cannot sign SCTs (RFC 6962 allows ECDSA or RSA with SHA-256)"
        ))),
    }
}

/// Signs a v1 precertificate SCT with the log key `signer` (RFC 6962 §3.2), with no extensions.
///
/// `tbs` is the precertificate's TBSCertificate (the poison extension, and any SCT list, are removed here) and
/// `issuer_key_hash` the SHA-256 of the issuing CA's DER SPKI. The signature is checked with the signer's public
/// key before it is returned, so a faulty key backend cannot hand out an SCT that does not verify.
pub fn sign_precert_sct(
    signer: &dyn Signer,
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
) -> Result<SignedSct, Error> {
    sign_sct(signer, timestamp_ms, issuer_key_hash, tbs, true)
}

/// [`sign_precert_sct`] with a key held in this process (aws-lc), without the check of the fresh signature. The
/// check guards against faulty key backends (an HSM, a KMS); for an in-memory key it repeated, on every SCT, a
/// verification that costs as much as the signature (~30 µs of the CA's ~500 µs per certificate).
pub fn sign_precert_sct_in_memory(
    key: &sigil_crypto::SigningKey,
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
) -> Result<SignedSct, Error> {
    sign_sct(key, timestamp_ms, issuer_key_hash, tbs, false)
}

fn sign_sct(
    signer: &dyn Signer,
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    check: bool,
) -> Result<SignedSct, Error> {
    let scheme = signer.scheme();
    let (hash_alg, sig_alg) = tls_signature_algorithm(scheme)?;
    let precert_tbs = tbs_without_poison(tbs)?;
    let msg = precert_signed_data(timestamp_ms, issuer_key_hash, &precert_tbs, &[])?;
    let signature = signer.sign(&msg)?;
    let key = signer.public_key();
    if check {
        key.verify(scheme, &msg, &signature).map_err(|_| Error::SctInvalid {
            log_id: key.sha256_key_id(),
        })?;
    }
    Ok(SignedSct {
        log_id: key.sha256_key_id(),
        timestamp_ms,
        extensions: Vec::new(),
        hash_alg,
        sig_alg,
        signature,
    })
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
        let msg = precert_signed_data(sct.timestamp_ms, &issuer_key_hash, tbs, sct.extensions)?;
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
    fn signed_data_layout() {
        let msg = precert_signed_data(0x0102_0304_0506_0708, &[0xaa; 32], b"tbs", b"ex").unwrap();
        let mut want = vec![0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1];
        want.extend_from_slice(&[0xaa; 32]);
        want.extend_from_slice(&[0, 0, 3]);
        want.extend_from_slice(b"tbs");
        want.extend_from_slice(&[0, 2]);
        want.extend_from_slice(b"ex");
        assert_eq!(msg, want);
        let leaf = precert_merkle_leaf(0x0102_0304_0506_0708, &[0xaa; 32], b"tbs", b"ex").unwrap();
        assert_eq!(leaf, want);
        assert!(precert_signed_data(1, &[0; 32], &vec![0u8; 1 << 24], b"").is_err());
        assert!(precert_signed_data(1, &[0; 32], b"", &vec![0u8; 1 << 16]).is_err());
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
