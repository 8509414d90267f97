//! Verification of a time-stamp response against trusted timestamp authorities.

use sigil_crypto::{HashAlgorithm, SignatureScheme};
use sigil_x509::{Certificate, ExtendedKeyUsage, TrustedChain};

use crate::parse::{hash_from_oid, oid};
use crate::{Error, TimeStampResponse};

/// A trusted timestamp authority (one `timestampAuthorities[]` entry of the trusted root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampAuthority {
    /// `[0]` is the signing leaf, then any intermediates, the root last.
    pub chain: Vec<Certificate>,
    /// Start of `validFor`, unix seconds (inclusive).
    pub valid_from: Option<i64>,
    /// End of `validFor`, unix seconds (inclusive).
    pub valid_until: Option<i64>,
}

impl TimestampAuthority {
    /// Whether `t` is inside `[valid_from, valid_until]`.
    pub fn valid_at(&self, t: i64) -> bool {
        self.valid_from.is_none_or(|s| s <= t) && self.valid_until.is_none_or(|e| t <= e)
    }
}

/// Timestamp authorities whose fixed chain links (leaf by intermediate, up to the root) were checked
/// once, so verifying a token costs its own CMS signature only. The time-dependent checks (validity at
/// `genTime`, EKU, windows) still run for every token. Build once per trusted root and reuse.
#[derive(Debug, Clone)]
pub struct PreparedAuthorities {
    list: Vec<(TimestampAuthority, Option<TrustedChain>)>,
}

impl PreparedAuthorities {
    pub fn new(authorities: Vec<TimestampAuthority>) -> Self {
        let list = authorities
            .into_iter()
            .map(|a| {
                // Only a chain whose every link verifies is prepared; others keep the full check, which
                // then reports the precise failure.
                let prepared = match a.chain.as_slice() {
                    [leaf, rest @ ..] if !rest.is_empty() => TrustedChain::new(rest.to_vec())
                        .ok()
                        .filter(|tc| tc.verify_leaf_signature(leaf).is_ok()),
                    _ => None,
                };
                (a, prepared)
            })
            .collect();
        Self { list }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }
}

/// A timestamp that passed every check of [`verify_timestamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    /// The authenticated `genTime`, unix seconds.
    pub time: i64,
    /// Index of the authority (in the slice given) that vouched for it.
    pub authority_index: usize,
}

/// The scheme of a CMS SignerInfo signature: a full signature OID, or a bare key OID combined with the
/// SignerInfo digest algorithm (RFC 5754 allows both spellings).
fn cms_scheme(sig_alg_oid: &str, digest: HashAlgorithm) -> Result<SignatureScheme, Error> {
    let by_digest = |ecdsa: bool| match (ecdsa, digest) {
        (true, HashAlgorithm::Sha2_256) => SignatureScheme::EcdsaSha256,
        (true, HashAlgorithm::Sha2_384) => SignatureScheme::EcdsaSha384,
        (true, HashAlgorithm::Sha2_512) => SignatureScheme::EcdsaSha512,
        (false, HashAlgorithm::Sha2_256) => SignatureScheme::RsaPkcs1Sha256,
        (false, HashAlgorithm::Sha2_384) => SignatureScheme::RsaPkcs1Sha384,
        (false, HashAlgorithm::Sha2_512) => SignatureScheme::RsaPkcs1Sha512,
    };
    match sig_alg_oid {
        "1.2.840.10045.2.1" => Ok(by_digest(true)),
        "1.2.840.113549.1.1.1" => Ok(by_digest(false)),
        other => Ok(SignatureScheme::from_signature_oid(other)?),
    }
}

/// Checks the token against one authority whose leaf the SignerInfo names and whose window contains genTime.
fn verify_with(
    resp: &TimeStampResponse,
    signed_bytes: &[u8],
    authority: &TimestampAuthority,
    prepared: Option<&TrustedChain>,
) -> Result<(), Error> {
    let leaf = authority.chain.first().ok_or(Error::UntrustedSigner)?;
    let si = &resp.signer;
    let tst = resp.tst_info();

    // The signed attributes bind the TSTInfo; the signature binds the signed attributes to the trusted key.
    if si.content_type != oid::CT_TST_INFO {
        return Err(Error::ContentTypeMismatch);
    }
    if si.digest_alg.digest(resp.tst_info_der()) != si.message_digest {
        return Err(Error::MessageDigestMismatch);
    }
    let scheme = cms_scheme(&si.sig_alg_oid, si.digest_alg)?;
    leaf.public_key()
        .verify(scheme, &si.signed_attrs, &si.signature)
        .map_err(|e| match e {
            sigil_crypto::Error::UnsupportedAlgorithm(m) => Error::UnsupportedAlgorithm(m),
            _ => Error::BadSignature,
        })?;
    if let Some((alg, hash)) = &si.signing_cert_v2 {
        if hash_from_oid(alg)?.digest(leaf.der()) != *hash {
            return Err(Error::SigningCertificateMismatch);
        }
    }

    // The trusted chain, for timestamping, at genTime.
    let checked = match (prepared, authority.chain.get(1..)) {
        (Some(links), _) => links.check_leaf_path(leaf, tst.gen_time, ExtendedKeyUsage::TimeStamping),
        (None, Some(rest)) if !rest.is_empty() => {
            sigil_x509::verify_chain(leaf, rest, tst.gen_time, ExtendedKeyUsage::TimeStamping)
        }
        (None, _) => sigil_x509::check_end_entity(leaf, tst.gen_time, ExtendedKeyUsage::TimeStamping),
    };
    checked.map_err(Error::ChainInvalid)?;

    // The timestamp is over these signature bytes.
    if tst.imprint_algorithm.digest(signed_bytes) != tst.imprint {
        return Err(Error::ImprintMismatch);
    }
    Ok(())
}

/// Verifies `resp` over `signed_bytes` (the bundle's signature bytes) against trusted `authorities`.
///
/// Candidates are the authorities whose leaf (`chain[0]`) the SignerInfo identifies; none is
/// [`Error::UntrustedSigner`]. Among them, those whose `validFor` contains `genTime`; none is
/// [`Error::OutsideAuthorityWindow`]. Each remaining candidate is tried in order (see the crate docs for the
/// checks); the first that passes is returned, otherwise the first candidate's error.
pub fn verify_timestamp(
    resp: &TimeStampResponse,
    signed_bytes: &[u8],
    authorities: &[TimestampAuthority],
) -> Result<VerifiedTimestamp, Error> {
    verify_timestamp_prepared(resp, signed_bytes, &PreparedAuthorities::new(authorities.to_vec()))
}

/// [`verify_timestamp`] against authorities prepared once ([`PreparedAuthorities`]).
pub fn verify_timestamp_prepared(
    resp: &TimeStampResponse,
    signed_bytes: &[u8],
    authorities: &PreparedAuthorities,
) -> Result<VerifiedTimestamp, Error> {
    let gen_time = resp.tst_info().gen_time;
    let signer_matches: Vec<(usize, &TimestampAuthority, Option<&TrustedChain>)> = authorities
        .list
        .iter()
        .enumerate()
        .filter(|(_, (a, _))| a.chain.first().is_some_and(|leaf| resp.signer.sid.matches(leaf)))
        .map(|(i, (a, p))| (i, a, p.as_ref()))
        .collect();
    if signer_matches.is_empty() {
        return Err(Error::UntrustedSigner);
    }
    let mut first_err = None;
    let mut in_window = false;
    for (index, authority, prepared) in signer_matches {
        if !authority.valid_at(gen_time) {
            continue;
        }
        in_window = true;
        match verify_with(resp, signed_bytes, authority, prepared) {
            Ok(()) => {
                return Ok(VerifiedTimestamp {
                    time: gen_time,
                    authority_index: index,
                });
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if !in_window {
        return Err(Error::OutsideAuthorityWindow { gen_time });
    }
    Err(first_err.unwrap_or(Error::UntrustedSigner))
}
