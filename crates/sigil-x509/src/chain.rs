//! Path validation over a given, trusted chain.

use crate::cert::{Certificate, KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN, oid};
use crate::{Error, MAX_CHAIN_LEN};

/// The extended key usage a leaf must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtendedKeyUsage {
    /// `1.3.6.1.5.5.7.3.3`: Fulcio signing certificates.
    CodeSigning,
    /// `1.3.6.1.5.5.7.3.8`: RFC 3161 timestamping certificates.
    TimeStamping,
}

impl ExtendedKeyUsage {
    /// The dotted OID.
    pub fn oid(self) -> &'static str {
        match self {
            Self::CodeSigning => "1.3.6.1.5.5.7.3.3",
            Self::TimeStamping => "1.3.6.1.5.5.7.3.8",
        }
    }

    pub(crate) fn oid_der(self) -> &'static [u8] {
        match self {
            Self::CodeSigning => oid::EKU_CODE_SIGNING,
            Self::TimeStamping => oid::EKU_TIME_STAMPING,
        }
    }
}

impl std::fmt::Display for ExtendedKeyUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CodeSigning => "codeSigning",
            Self::TimeStamping => "timeStamping",
        })
    }
}

/// Whether sigil processes (or deliberately tolerates) a critical extension with this OID.
///
/// BasicConstraints, KeyUsage, ExtendedKeyUsage and SubjectAltName are processed; the key identifiers are
/// harmless; Fulcio's own extensions are read by the identity policy. Everything else (name constraints,
/// policies, the CT poison, …) is unknown, so a certificate marking it critical is rejected.
fn known_critical(oid_der: &[u8]) -> bool {
    matches!(
        oid_der,
        oid::BASIC_CONSTRAINTS
            | oid::KEY_USAGE
            | oid::EXT_KEY_USAGE
            | oid::SUBJECT_ALT_NAME
            | oid::SUBJECT_KEY_ID
            | oid::AUTHORITY_KEY_ID
    ) || oid::fulcio_arc(oid_der).is_some_and(|a| (1..=24).contains(&a))
}

fn check_critical(cert: &Certificate, depth: usize) -> Result<(), Error> {
    match cert.extensions.iter().find(|e| e.critical && !known_critical(&e.oid)) {
        Some(e) => Err(Error::UnknownCriticalExtension {
            depth,
            oid: e.oid_str.clone(),
        }),
        None => Ok(()),
    }
}

fn check_validity(cert: &Certificate, depth: usize, at: i64) -> Result<(), Error> {
    if at < cert.not_before() {
        return Err(Error::NotYetValid {
            depth,
            not_before: cert.not_before(),
            at,
        });
    }
    if at > cert.not_after() {
        return Err(Error::Expired {
            depth,
            not_after: cert.not_after(),
            at,
        });
    }
    Ok(())
}

/// The end-entity checks of [`verify_chain`], without any issuer: no unknown critical extension, not a CA,
/// KeyUsage with `digitalSignature`, ExtendedKeyUsage listing `eku`, valid at `at`.
///
/// Use it alone only when the leaf itself is the trust anchor (a trusted-root TSA chain of one certificate).
pub fn check_end_entity(leaf: &Certificate, at: i64, eku: ExtendedKeyUsage) -> Result<(), Error> {
    check_critical(leaf, 0)?;
    if leaf.is_ca() {
        return Err(Error::LeafIsCa);
    }
    if leaf.key_usage.is_none_or(|ku| ku & KU_DIGITAL_SIGNATURE == 0) {
        return Err(Error::MissingKeyUsage {
            depth: 0,
            usage: "digitalSignature",
        });
    }
    if !leaf.has_extended_key_usage(eku) {
        return Err(Error::MissingEku {
            depth: 0,
            required: eku,
        });
    }
    check_validity(leaf, 0, at)
}

/// Validates `leaf` up a trusted chain at time `at` (unix seconds).
///
/// `chain` is trusted-root material (a CA's `certChain`, or its tail): issuing CA first, trust anchor last;
/// the anchor may be an intermediate. **Never pass certificates taken from a bundle here** (V-20): the chain
/// is trusted as given and no path building happens. At most [`MAX_CHAIN_LEN`] certificates.
///
/// Checks, in order (cheap checks before signatures, so the most specific failure is reported):
/// 1. the leaf: [`check_end_entity`];
/// 2. each CA (depth 1 is `chain[0]`): no unknown critical extension, BasicConstraints `cA=true`, KeyUsage
///    `keyCertSign`, `pathLenConstraint` ≥ the number of non-self-issued intermediates below it, if it has an
///    ExtendedKeyUsage extension it lists `eku` (or anyExtendedKeyUsage), valid at `at` (GHSA-wfqv);
/// 3. signatures link by link, with name chaining: leaf by `chain[0]`, `chain[i]` by `chain[i + 1]`.
pub fn verify_chain(leaf: &Certificate, chain: &[Certificate], at: i64, eku: ExtendedKeyUsage) -> Result<(), Error> {
    check_path(leaf, chain, at, eku)?;
    let mut child = leaf;
    for (i, parent) in chain.iter().enumerate() {
        child.issued_by_at_depth(parent, i)?;
        child = parent;
    }
    Ok(())
}

/// Everything [`verify_chain`] checks except signatures.
fn check_path(leaf: &Certificate, chain: &[Certificate], at: i64, eku: ExtendedKeyUsage) -> Result<(), Error> {
    if chain.is_empty() {
        return Err(Error::EmptyChain);
    }
    if chain.len() > MAX_CHAIN_LEN {
        return Err(Error::ChainTooLong {
            len: chain.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    check_end_entity(leaf, at, eku)?;
    for (i, ca) in chain.iter().enumerate() {
        let depth = i + 1;
        check_critical(ca, depth)?;
        if !ca.is_ca() {
            return Err(Error::NotCa { depth });
        }
        if ca.key_usage.is_none_or(|ku| ku & KU_KEY_CERT_SIGN == 0) {
            return Err(Error::MissingKeyUsage {
                depth,
                usage: "keyCertSign",
            });
        }
        if let Some(path_len) = ca.path_len_constraint() {
            // Intermediates strictly between this CA and the leaf; self-issued ones do not count (RFC 5280 §6.1.4 (l)).
            let below = chain.iter().take(i).filter(|c| !c.is_self_issued()).count() as u64;
            if below > path_len {
                return Err(Error::PathLenExceeded { depth, path_len });
            }
        }
        if let Some(list) = &ca.eku {
            if !list.iter().any(|o| o == eku.oid_der() || o == oid::ANY_EKU) {
                return Err(Error::MissingEku { depth, required: eku });
            }
        }
        check_validity(ca, depth, at)?;
    }
    Ok(())
}

/// A trusted-root CA chain (issuing CA first, anchor last) whose internal signatures were verified
/// once, when it was built: they never change, so validating a leaf against it costs a single
/// signature check. Everything else [`verify_chain`] checks (validity at the time, CA flags, key
/// usages, path length, critical extensions) still runs on every call.
#[derive(Debug, Clone)]
pub struct TrustedChain {
    certs: Vec<Certificate>,
}

impl TrustedChain {
    /// Checks the chain's links (name chaining and signatures) once.
    pub fn new(certs: Vec<Certificate>) -> Result<Self, Error> {
        if certs.is_empty() {
            return Err(Error::EmptyChain);
        }
        if certs.len() > MAX_CHAIN_LEN {
            return Err(Error::ChainTooLong {
                len: certs.len(),
                max: MAX_CHAIN_LEN,
            });
        }
        for (i, pair) in certs.windows(2).enumerate() {
            if let [child, parent] = pair {
                child.issued_by_at_depth(parent, i + 1)?;
            }
        }
        Ok(Self { certs })
    }

    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// The CA that issues leaves (`certChain[0]`).
    pub fn issuer(&self) -> Option<&Certificate> {
        self.certs.first()
    }

    /// Same result as [`verify_chain`] over this chain.
    pub fn verify_leaf(&self, leaf: &Certificate, at: i64, eku: ExtendedKeyUsage) -> Result<(), Error> {
        self.check_leaf_path(leaf, at, eku)?;
        self.verify_leaf_signature(leaf)
    }

    /// The time-dependent and structural checks only (no signature): for callers that cached
    /// [`TrustedChain::verify_leaf_signature`] for this exact leaf.
    pub fn check_leaf_path(&self, leaf: &Certificate, at: i64, eku: ExtendedKeyUsage) -> Result<(), Error> {
        check_path(leaf, &self.certs, at, eku)
    }

    /// The leaf's signature by the issuing CA (and name chaining).
    pub fn verify_leaf_signature(&self, leaf: &Certificate) -> Result<(), Error> {
        let issuer = self.certs.first().ok_or(Error::EmptyChain)?;
        leaf.issued_by_at_depth(issuer, 0)
    }
}
