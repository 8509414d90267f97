//! The one verification path for Sigstore bundles.
//!
//! Every bundle shape — message signature or DSSE; certificate, chain or public key; Rekor v1
//! (SET and/or inclusion proof) or Rekor v2 (inclusion proof + RFC 3161 timestamps) — goes through
//! [`Verifier::verify`], which runs the same ordered steps. A [`VerifiedBundle`] can only be built
//! here, so holding one means every step passed. Each step fails with a [`VerificationError`] whose
//! [`Code`] names it. The steps, and what each one prevents (SECURITY.md section A):
//!
//! 1. **Structure and limits** — known media type, one content, one signer material, version rules
//!    (v0.1 needs a SET, v0.2+ an inclusion proof, v0.3 a single certificate), counts bounded before
//!    any cryptography (V-18, V-23), exactly one DSSE signature (V-10), no root certificate in the
//!    bundle's chain and bundle intermediates never used (V-20).
//! 2. **Signer material** — the caller's choice (identity policy or public key) must fit the bundle;
//!    a key-signed bundle is never accepted on an identity, nor the reverse.
//! 3. **Artifact signature** — the bundle's `messageDigest` must equal the artifact's digest (V-04);
//!    the signature must verify over the artifact (V-03) or the DSSE PAE; a DSSE payload must be an
//!    in-toto statement with subjects (V-11, V-12) one of which carries the artifact's digest under
//!    the same algorithm (V-13).
//! 4. **Log entry binding** — each entry's body is decoded and compared field by field with the
//!    bundle: digest, signature bytes and certificate/key (V-01, V-02, V-05). This runs for every
//!    bundle shape, because the bypasses came from paths that skipped it.
//! 5. **Log entry authenticity** — log found by ID in the trusted root only (V-21, U-15); the SET
//!    verified before `integratedTime` is used (V-14) and the log key valid at that time; the
//!    inclusion proof verified against a checkpoint signed by the log's key under its literal name
//!    and origin, whose size and root equal the proof's (L-09, L-10). Duplicate entries are refused
//!    and a threshold counts distinct logs (V-19).
//! 6. **RFC 3161 timestamps** — each one must verify (imprint = the signature bytes, TSA chain and
//!    per-authority window at its time); one bad timestamp fails the bundle (V-17, V-24, T-03..05).
//! 7. **Verified times** — only times from step 5's SETs and step 6; none may lie in the future
//!    (V-15); at least the threshold must exist (a Rekor v2 entry alone gives none).
//! 8. **Certificate** — at *every* verified time the leaf and its whole trusted chain must be valid
//!    and chain to a CA whose trusted-root window contains that time (V-16, V-17), with the
//!    code-signing EKU; embedded SCTs verify against trusted CT logs (threshold counts logs).
//! 9. **Identity policy** — SAN and issuer (anchored regexes only; V-06..V-09).

//!
//! **Cost.** Trusted-root material is parsed once per [`Verifier`], and each Fulcio chain's own
//! links are verified once ([`sigil_x509::TrustedChain`]), so a keyless Rekor v1 bundle costs one
//! P-384 and four P-256 signature checks. A [`Batch`] also remembers, across bundles, which leaf
//! certificates and SCTs verified and which checkpoints were signed — inputs compared byte for byte,
//! never anything time-dependent — so every step still runs for every bundle.

mod artifact;
mod error;

use std::collections::{HashMap, HashSet};

use sigil_bundle::bundle::{BundleVersion, Content, SignerMaterial};
use sigil_bundle::rekor::RekorBody;
use sigil_bundle::{Bundle, Limits, Statement, TransparencyLogEntry};
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, PublicKeyDetails, SignatureScheme, VerifyingKey};
use sigil_policy::Policy;
use sigil_trust::{TlogInstance, TrustedMaterial};
use sigil_tsa::{PreparedAuthorities, TimeStampResponse, TimestampAuthority};
use sigil_x509::{Certificate, CtLog, ExtendedKeyUsage, FulcioIdentity, TrustedChain};

pub use artifact::Artifact;
use error::fail;
pub use error::{Code, VerificationError};

/// Thresholds. The defaults are what Sigstore's clients use: one log entry, one verified time, one SCT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierOptions {
    /// Distinct transparency logs whose entries must verify.
    pub tlog_threshold: usize,
    /// Verified times (SET integrated times plus RFC 3161 timestamps) required.
    pub timestamp_threshold: usize,
    /// Distinct CT logs whose SCTs must verify (keyless only).
    pub sct_threshold: usize,
    /// Input bounds.
    pub limits: Limits,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        Self {
            tlog_threshold: 1,
            timestamp_threshold: 1,
            sct_threshold: 1,
            limits: Limits::default(),
        }
    }
}

/// Who must have signed: a required, positional choice.
#[derive(Debug, Clone, Copy)]
pub enum SignerCheck<'a> {
    /// Keyless: a Fulcio certificate whose identity satisfies the policy.
    Identity(&'a Policy),
    /// Key-based: the bundle must be signed by this key.
    Key(&'a VerifyingKey),
}

/// Where a verified time came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSource {
    /// A transparency log's signed entry timestamp.
    Tlog { base_url: String, log_index: u64 },
    /// An RFC 3161 timestamp authority.
    Tsa { uri: String },
}

/// A time that a trusted party vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTime {
    pub unix: i64,
    pub source: TimeSource,
}

/// A log entry whose inclusion was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLogEntry {
    pub base_url: String,
    /// The entry's (global) log index.
    pub log_index: u64,
    pub kind: String,
    pub version: String,
    /// Present only when a SET vouched for it.
    pub integrated_time: Option<i64>,
    /// `Some((index_in_tree, tree_size))` when an inclusion proof was verified.
    pub inclusion: Option<(u64, u64)>,
}

/// Who signed.
#[derive(Debug, Clone)]
pub enum VerifiedSigner {
    Certificate {
        identity: Box<FulcioIdentity>,
        certificate_der: Vec<u8>,
    },
    Key {
        spki_der: Vec<u8>,
    },
}

/// The facts of a bundle that passed every step. `#[non_exhaustive]`: only the verifier builds one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedBundle {
    pub signer: VerifiedSigner,
    pub times: Vec<VerifiedTime>,
    pub tlog_entries: Vec<VerifiedLogEntry>,
    pub artifact_digest: (HashAlgorithm, Vec<u8>),
    /// The in-toto statement, for DSSE bundles.
    pub statement: Option<Statement>,
    pub payload_type: Option<String>,
    /// Distinct CT logs whose SCTs verified.
    pub sct_count: usize,
}

impl VerifiedBundle {
    /// The SAN of the signing certificate (URI, email or OtherName), if keyless.
    pub fn san(&self) -> Option<&str> {
        match &self.signer {
            VerifiedSigner::Certificate { identity, .. } => identity.sans.iter().find_map(|s| match s {
                sigil_x509::SubjectAltName::Email(v)
                | sigil_x509::SubjectAltName::Uri(v)
                | sigil_x509::SubjectAltName::OtherName(v) => Some(v.as_str()),
                _ => None,
            }),
            VerifiedSigner::Key { .. } => None,
        }
    }

    pub fn issuer(&self) -> Option<&str> {
        match &self.signer {
            VerifiedSigner::Certificate { identity, .. } => identity.issuer.as_deref(),
            VerifiedSigner::Key { .. } => None,
        }
    }

    /// The earliest verified time.
    pub fn earliest_time(&self) -> Option<i64> {
        self.times.iter().map(|t| t.unix).min()
    }
}

/// A verifier bound to one set of trusted material; reuse it across bundles.
#[derive(Debug, Clone)]
pub struct Verifier {
    trust: TrustedMaterial,
    tsas: PreparedAuthorities,
    tsa_uris: Vec<String>,
    ctlogs: Vec<CtLog>,
    /// Fulcio chains with their links checked once, and their trusted-root windows.
    cas: Vec<(TrustedChain, sigil_trust::Validity)>,
    options: VerifierOptions,
}

/// What a [`Batch`] remembers between bundles: results of checks whose inputs are identical
/// (byte for byte) across bundles. Nothing time-dependent is cached.
#[derive(Debug, Default)]
struct Cache {
    /// (leaf DER, CA index) pairs whose leaf signature verified.
    leaf_signatures: HashSet<(Vec<u8>, usize)>,
    /// (leaf DER, CA index) → distinct CT logs whose SCTs verified.
    scts: HashMap<(Vec<u8>, usize), usize>,
    /// (log ID, checkpoint text) → the verified checkpoint.
    checkpoints: HashMap<(Vec<u8>, String), sigil_tlog::Checkpoint>,
}

/// Verifies many bundles against one verifier, reusing what they share (checked leaf
/// certificates and SCTs, verified checkpoints). Each bundle still goes through every step.
#[derive(Debug)]
pub struct Batch<'v> {
    verifier: &'v Verifier,
    cache: Cache,
}

impl Batch<'_> {
    /// Same contract as [`Verifier::verify`].
    pub fn verify(
        &mut self,
        bundle: &Bundle,
        artifact: &Artifact<'_>,
        signer: SignerCheck<'_>,
        now: i64,
    ) -> Result<VerifiedBundle, VerificationError> {
        self.verifier
            .verify_with(bundle, artifact, signer, now, &mut self.cache)
    }
}

/// The key that signed: from the bundle's certificate, or given by the caller.
enum Signer {
    Cert(Box<Certificate>),
    Key(VerifyingKey),
}

impl Signer {
    fn key(&self) -> &VerifyingKey {
        match self {
            Self::Cert(c) => c.public_key(),
            Self::Key(k) => k,
        }
    }

    /// Whether a PEM certificate or key (as Rekor v1 bodies carry it) is this signer.
    fn matches_pem(&self, pem: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(pem) else {
            return false;
        };
        let Ok(blocks) = sigil_crypto::pem_blocks(text) else {
            return false;
        };
        let [(label, der)] = blocks.as_slice() else {
            return false;
        };
        match (self, label.as_str()) {
            (Self::Cert(c), "CERTIFICATE") => c.der() == der.as_slice(),
            (Self::Key(k), "PUBLIC KEY") => k.spki_der() == der.as_slice(),
            _ => false,
        }
    }

    /// Whether a Rekor v2 verifier (DER certificate or SPKI) is this signer.
    fn matches_v2(&self, v: &sigil_bundle::rekor::V2Verifier) -> bool {
        let details_ok =
            PublicKeyDetails::from_proto_name(&v.key_details).is_ok_and(|d| d.matches(self.key().algorithm()));
        let material_ok = match (self, &v.x509_certificate, &v.public_key) {
            (Self::Cert(c), Some(cert), None) => c.der() == &cert.raw_bytes[..],
            (Self::Key(k), None, Some(pk)) => k.spki_der() == &pk.raw_bytes[..],
            _ => false,
        };
        details_ok && material_ok
    }
}

impl Verifier {
    pub fn new(trust: TrustedMaterial, options: VerifierOptions) -> Self {
        let tsas = PreparedAuthorities::new(
            trust
                .timestamp_authorities
                .iter()
                .map(|a| TimestampAuthority {
                    chain: a.chain.clone(),
                    valid_from: Some(a.validity.start),
                    valid_until: a.validity.end,
                })
                .collect(),
        );
        let tsa_uris = trust.timestamp_authorities.iter().map(|a| a.uri.clone()).collect();
        let ctlogs = trust
            .ctlogs
            .iter()
            .filter_map(|c| {
                let log_id: [u8; 32] = c.log_id.as_slice().try_into().ok()?;
                Some(CtLog {
                    log_id,
                    key: c.key.clone(),
                    valid_from: Some(c.validity.start),
                    valid_until: c.validity.end,
                })
            })
            .collect();
        // A CA whose own links do not verify can never validate a leaf: it is left out.
        let cas = trust
            .certificate_authorities
            .iter()
            .filter_map(|ca| TrustedChain::new(ca.chain.clone()).ok().map(|c| (c, ca.validity)))
            .collect();
        Self {
            trust,
            tsas,
            tsa_uris,
            ctlogs,
            cas,
            options,
        }
    }

    /// A batch that shares checked material across bundles (see [`Batch`]).
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            verifier: self,
            cache: Cache::default(),
        }
    }

    pub fn trusted_material(&self) -> &TrustedMaterial {
        &self.trust
    }

    pub fn options(&self) -> &VerifierOptions {
        &self.options
    }

    /// Parses a bundle under this verifier's limits.
    pub fn parse_bundle(&self, json: &[u8]) -> Result<Bundle, VerificationError> {
        Ok(Bundle::from_json(json, &self.options.limits)?)
    }

    /// Runs every step (see the crate docs) at wall-clock time `now` (unix seconds).
    pub fn verify(
        &self,
        bundle: &Bundle,
        artifact: &Artifact<'_>,
        signer: SignerCheck<'_>,
        now: i64,
    ) -> Result<VerifiedBundle, VerificationError> {
        self.verify_with(bundle, artifact, signer, now, &mut Cache::default())
    }

    fn verify_with(
        &self,
        bundle: &Bundle,
        artifact: &Artifact<'_>,
        signer: SignerCheck<'_>,
        now: i64,
        cache: &mut Cache,
    ) -> Result<VerifiedBundle, VerificationError> {
        // 1. Structure and limits.
        bundle.check(&self.options.limits)?;
        let version = bundle.version()?;
        let content = bundle.content()?;
        let material = bundle.signer_material()?;
        // The in-toto statement is parsed (not trusted) here so its counts are bounded before any crypto.
        let statement = match content {
            Content::Dsse(env) => {
                if env.signatures.len() != 1 {
                    return fail(
                        Code::DsseSignatureCount,
                        format!(
                            "DSSE envelope has {} signatures, exactly 1 is required",
                            env.signatures.len()
                        ),
                    );
                }
                if env.payload_type != sigil_bundle::intoto::PAYLOAD_TYPE {
                    return fail(
                        Code::DssePayloadInvalid,
                        format!("payload type {:?} is not in-toto", env.payload_type),
                    );
                }
                Some(
                    Statement::from_json(&env.payload, &self.options.limits).map_err(|e| match e {
                        sigil_bundle::Error::LimitExceeded(_) => {
                            VerificationError::new(Code::LimitExceeded, e.to_string())
                        }
                        other => VerificationError::new(Code::DssePayloadInvalid, other.to_string()),
                    })?,
                )
            }
            Content::MessageSignature(_) => None,
        };
        let entries = &bundle.verification_material.tlog_entries;
        for e in entries {
            if version == BundleVersion::V0_1 && e.inclusion_promise.is_none() {
                return fail(Code::SetMissing, "v0.1 bundles require an inclusion promise");
            }
            if version >= BundleVersion::V0_2 && e.inclusion_proof.is_none() {
                return fail(Code::InclusionProofMissing, "v0.2+ bundles require an inclusion proof");
            }
        }

        // 2. Signer material.
        let signer_key = match (material, signer) {
            (SignerMaterial::PublicKey(_), SignerCheck::Key(k)) => Signer::Key(k.clone()),
            (SignerMaterial::PublicKey(_), SignerCheck::Identity(_)) => {
                return fail(
                    Code::MaterialMismatch,
                    "bundle is signed with a public key; verify it with a key",
                );
            }
            (_, SignerCheck::Key(_)) => {
                return fail(
                    Code::MaterialMismatch,
                    "bundle carries a certificate; verify it with an identity",
                );
            }
            (SignerMaterial::Certificate(c), SignerCheck::Identity(_)) => {
                if version < BundleVersion::V0_3 {
                    return fail(Code::BundleFormat, "bundles before v0.3 carry a certificate chain");
                }
                Signer::Cert(Box::new(parse_cert(&c.raw_bytes)?))
            }
            (SignerMaterial::Chain(chain), SignerCheck::Identity(_)) => {
                if version >= BundleVersion::V0_3 {
                    return fail(
                        Code::BundleFormat,
                        "v0.3 bundles carry a single certificate, not a chain",
                    );
                }
                let certs = chain
                    .iter()
                    .map(|c| parse_cert(&c.raw_bytes))
                    .collect::<Result<Vec<_>, _>>()?;
                if certs.iter().any(|c| c.subject_der() == c.issuer_der() && c.is_ca()) {
                    return fail(
                        Code::ChainContainsRoot,
                        "the bundle's certificate chain includes a root certificate",
                    );
                }
                let mut certs = certs.into_iter();
                let leaf = certs
                    .next()
                    .ok_or_else(|| VerificationError::new(Code::BundleFormat, "empty chain"))?;
                if leaf.is_ca() {
                    return fail(
                        Code::SignerInvalid,
                        "the first certificate of the chain is a CA, not a leaf",
                    );
                }
                // The remaining intermediates are ignored: chains are built from trusted-root material only.
                Signer::Cert(Box::new(leaf))
            }
        };

        // 3. Artifact signature.
        let signature = bundle.signature_bytes()?;
        let artifact_digest = check_signature(content, statement.as_ref(), artifact, &signer_key)?;
        let payload_type = bundle.dsse_envelope.as_ref().map(|e| e.payload_type.clone());

        // 4. Log entry binding.
        if entries.len() < self.options.tlog_threshold {
            return fail(
                Code::TlogEntryMissing,
                format!(
                    "{} log entries, {} required",
                    entries.len(),
                    self.options.tlog_threshold
                ),
            );
        }
        let mut bodies = Vec::with_capacity(entries.len());
        for e in entries {
            let body_bytes = e
                .canonicalized_body
                .as_ref()
                .ok_or_else(|| VerificationError::new(Code::TlogBodyInvalid, "log entry has no canonicalizedBody"))?;
            let body = RekorBody::from_json(body_bytes)
                .map_err(|err| VerificationError::new(Code::TlogBodyInvalid, err.to_string()))?;
            if body.kind_version() != (e.kind_version.kind.as_str(), e.kind_version.version.as_str()) {
                return fail(Code::TlogBodyMismatch, "the entry's kindVersion differs from its body");
            }
            bind_body(&body, content, artifact, &artifact_digest, signature, &signer_key)?;
            bodies.push((e, body_bytes, body));
        }

        // 5. Log entry authenticity.
        let mut seen = HashSet::new();
        let mut verified_entries = Vec::new();
        let mut times = Vec::new();
        let mut logs_verified = HashSet::new();
        let mut unanchored_logs = Vec::new();
        for (e, body_bytes, body) in &bodies {
            if !seen.insert((e.log_id.key_id.0.clone(), e.log_index.0)) {
                return fail(
                    Code::DuplicateTlogEntry,
                    format!("log entry {} appears twice", e.log_index.0),
                );
            }
            let tlog = self.trust.tlogs_by_id(&e.log_id.key_id).next().ok_or_else(|| {
                VerificationError::new(Code::UnknownTlog, "no trusted transparency log has this log ID")
            })?;
            let rekor_v2 = matches!(body, RekorBody::HashedRekordV002(_) | RekorBody::DsseV002(_));
            let v = verify_entry(e, body_bytes, tlog, rekor_v2, cache)?;
            if let Some(t) = v.integrated_time {
                if t > now {
                    return fail(Code::TimeInFuture, format!("integrated time {t} is in the future"));
                }
                times.push(VerifiedTime {
                    unix: t,
                    source: TimeSource::Tlog {
                        base_url: tlog.base_url.clone(),
                        log_index: e.log_index.0,
                    },
                });
            } else {
                unanchored_logs.push(tlog);
            }
            logs_verified.insert(tlog.log_id.clone());
            verified_entries.push(v);
        }
        if logs_verified.len() < self.options.tlog_threshold {
            return fail(
                Code::TlogThreshold,
                format!(
                    "{} distinct logs verified, {} required",
                    logs_verified.len(),
                    self.options.tlog_threshold
                ),
            );
        }

        // 6. RFC 3161 timestamps.
        let stamps = bundle
            .verification_material
            .timestamp_verification_data
            .as_ref()
            .map(|t| &t.rfc3161_timestamps[..])
            .unwrap_or(&[]);
        let mut seen_stamps = HashSet::new();
        for (i, st) in stamps.iter().enumerate() {
            if !seen_stamps.insert(&st.signed_timestamp.0) {
                return fail(Code::DuplicateTimestamp, format!("timestamp {i} appears twice"));
            }
            if self.tsas.is_empty() {
                return fail(
                    Code::TimestampInvalid,
                    "the bundle has timestamps but the trusted root has no timestamp authority",
                );
            }
            let resp = TimeStampResponse::from_der(&st.signed_timestamp)
                .map_err(|err| VerificationError::new(Code::TimestampInvalid, format!("timestamp {i}: {err}")))?;
            let v = sigil_tsa::verify_timestamp_prepared(&resp, signature, &self.tsas)
                .map_err(|err| VerificationError::new(Code::TimestampInvalid, format!("timestamp {i}: {err}")))?;
            if v.time > now {
                return fail(
                    Code::TimeInFuture,
                    format!("timestamp {i} time {} is in the future", v.time),
                );
            }
            let uri = self.tsa_uris.get(v.authority_index).cloned().unwrap_or_default();
            times.push(VerifiedTime {
                unix: v.time,
                source: TimeSource::Tsa { uri },
            });
        }

        // 7. Verified times.
        if times.len() < self.options.timestamp_threshold {
            return fail(
                Code::NoTrustedTime,
                format!(
                    "{} verified times, {} required (Rekor v2 entries need an RFC 3161 timestamp)",
                    times.len(),
                    self.options.timestamp_threshold
                ),
            );
        }
        for tlog in &unanchored_logs {
            if let Some(t) = times.iter().find(|t| !tlog.validity.contains(t.unix)) {
                return fail(
                    Code::TlogKeyNotValid,
                    format!("log {} key not valid at {}", tlog.base_url, t.unix),
                );
            }
        }

        // 8. Certificate, and 9. identity policy.
        let (signer_out, sct_count) = match (&signer_key, signer) {
            (Signer::Cert(leaf), SignerCheck::Identity(policy)) => {
                let ca = self.check_chain(leaf, &times, cache)?;
                let key = (leaf.der().to_vec(), ca);
                let distinct = match cache.scts.get(&key) {
                    Some(n) => *n,
                    None => {
                        let issuer = self.cas.get(ca).and_then(|(c, _)| c.issuer()).ok_or_else(|| {
                            VerificationError::new(Code::CertificateChainInvalid, "issuing CA missing")
                        })?;
                        let scts = sigil_x509::verify_embedded_scts(leaf, issuer, &self.ctlogs)
                            .map_err(|err| VerificationError::new(Code::SctInvalid, err.to_string()))?;
                        let n = scts.iter().map(|s| s.log_id).collect::<HashSet<_>>().len();
                        cache.scts.insert(key, n);
                        n
                    }
                };
                if distinct < self.options.sct_threshold {
                    return fail(
                        Code::SctInvalid,
                        format!("{distinct} SCTs verified, {} required", self.options.sct_threshold),
                    );
                }
                let identity = leaf
                    .identity()
                    .map_err(|err| VerificationError::new(Code::SignerInvalid, err.to_string()))?;
                policy
                    .evaluate(identity)
                    .map_err(|err| VerificationError::new(Code::IdentityMismatch, err.to_string()))?;
                (
                    VerifiedSigner::Certificate {
                        identity: Box::new(identity.clone()),
                        certificate_der: leaf.der().to_vec(),
                    },
                    distinct,
                )
            }
            (signer, _) => (
                VerifiedSigner::Key {
                    spki_der: signer.key().spki_der().to_vec(),
                },
                0,
            ),
        };

        Ok(VerifiedBundle {
            signer: signer_out,
            times,
            tlog_entries: verified_entries,
            artifact_digest,
            statement,
            payload_type,
            sct_count,
        })
    }

    /// Step 8: the leaf chains to a trusted CA at every verified time. Returns the CA's index.
    fn check_chain(
        &self,
        leaf: &Certificate,
        times: &[VerifiedTime],
        cache: &mut Cache,
    ) -> Result<usize, VerificationError> {
        let mut found = None;
        for t in times {
            if !leaf.valid_at(t.unix) {
                return fail(
                    Code::CertificateNotValidAtTime,
                    format!(
                        "certificate valid {}..{}, verified time {} ({:?}) is outside",
                        leaf.not_before(),
                        leaf.not_after(),
                        t.unix,
                        t.source
                    ),
                );
            }
            let mut last_err = String::from("no trusted certificate authority is valid at that time");
            let mut ok = None;
            for (i, (chain, validity)) in self.cas.iter().enumerate() {
                if !validity.contains(t.unix) {
                    continue;
                }
                let checked = chain
                    .check_leaf_path(leaf, t.unix, ExtendedKeyUsage::CodeSigning)
                    .and_then(|()| {
                        let key = (leaf.der().to_vec(), i);
                        if cache.leaf_signatures.contains(&key) {
                            return Ok(());
                        }
                        chain.verify_leaf_signature(leaf)?;
                        cache.leaf_signatures.insert(key);
                        Ok(())
                    });
                match checked {
                    Ok(()) => {
                        ok = Some(i);
                        break;
                    }
                    Err(e) => last_err = e.to_string(),
                }
            }
            match ok {
                Some(i) => found = Some(i),
                None => return fail(Code::CertificateChainInvalid, format!("at {}: {last_err}", t.unix)),
            }
        }
        found.ok_or_else(|| VerificationError::new(Code::NoTrustedTime, "no verified time to check the certificate at"))
    }
}

/// Step 3: the signature covers the artifact (or the DSSE PAE, whose statement names the artifact).
fn check_signature(
    content: Content<'_>,
    statement: Option<&Statement>,
    artifact: &Artifact<'_>,
    signer: &Signer,
) -> Result<(HashAlgorithm, Vec<u8>), VerificationError> {
    let key = signer.key();
    match (content, statement) {
        (Content::MessageSignature(ms), _) => {
            let alg = match &ms.message_digest {
                Some(d) => HashAlgorithm::from_name(&d.algorithm)
                    .map_err(|e| VerificationError::new(Code::UnsupportedAlgorithm, e.to_string()))?,
                None => default_hash(key),
            };
            let digest = artifact.digest(alg)?;
            if let Some(d) = &ms.message_digest {
                if d.digest.0 != digest {
                    return fail(
                        Code::ArtifactDigestMismatch,
                        "the bundle's messageDigest is not the artifact's digest",
                    );
                }
            }
            let scheme = scheme_for(key.algorithm(), alg)?;
            key.verify_artifact(scheme, artifact.bytes(), (alg, &digest), &ms.signature)
                .map_err(crypto_error)?;
            Ok((alg, digest))
        }
        (Content::Dsse(env), Some(statement)) => {
            let sig = env
                .signatures
                .first()
                .ok_or_else(|| VerificationError::new(Code::DsseSignatureCount, "no DSSE signature"))?;
            let scheme = key.default_scheme().map_err(crypto_error)?;
            key.verify(scheme, &env.pae(), &sig.sig).map_err(crypto_error)?;
            let alg = match artifact {
                Artifact::Digest { algorithm, .. } => *algorithm,
                Artifact::Bytes(_) => HashAlgorithm::Sha2_256,
            };
            let digest = artifact.digest(alg)?;
            if !statement.has_subject_digest(alg.short_name(), &hex::encode(&digest)) {
                return fail(
                    Code::ArtifactDigestMismatch,
                    "no in-toto subject has the artifact's digest",
                );
            }
            Ok((alg, digest))
        }
        (Content::Dsse(_), None) => fail(Code::DssePayloadInvalid, "DSSE payload was not parsed"),
    }
}

fn parse_cert(der: &[u8]) -> Result<Certificate, VerificationError> {
    Certificate::from_der(der).map_err(|e| VerificationError::new(Code::SignerInvalid, e.to_string()))
}

fn crypto_error(e: sigil_crypto::Error) -> VerificationError {
    match e {
        sigil_crypto::Error::UnsupportedAlgorithm(a) => VerificationError::new(Code::UnsupportedAlgorithm, a),
        other => VerificationError::new(Code::SignatureInvalid, other.to_string()),
    }
}

fn default_hash(key: &VerifyingKey) -> HashAlgorithm {
    PublicKeyDetails::default_for(key.algorithm())
        .ok()
        .and_then(|d| d.hash())
        .unwrap_or(HashAlgorithm::Sha2_256)
}

fn scheme_for(alg: KeyAlgorithm, hash: HashAlgorithm) -> Result<SignatureScheme, VerificationError> {
    use HashAlgorithm as H;
    Ok(match (alg, hash) {
        (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521, H::Sha2_256) => {
            SignatureScheme::EcdsaSha256
        }
        (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521, H::Sha2_384) => {
            SignatureScheme::EcdsaSha384
        }
        (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521, H::Sha2_512) => {
            SignatureScheme::EcdsaSha512
        }
        (KeyAlgorithm::Ed25519, _) => SignatureScheme::Ed25519,
        (KeyAlgorithm::Rsa { .. }, H::Sha2_256) => SignatureScheme::RsaPkcs1Sha256,
        (KeyAlgorithm::Rsa { .. }, H::Sha2_384) => SignatureScheme::RsaPkcs1Sha384,
        (KeyAlgorithm::Rsa { .. }, H::Sha2_512) => SignatureScheme::RsaPkcs1Sha512,
    })
}

fn mismatch(what: &str) -> VerificationError {
    VerificationError::new(
        Code::TlogBodyMismatch,
        format!("log entry {what} differs from the bundle's"),
    )
}

/// Step 4: the entry's body describes exactly this bundle's signing event.
fn bind_body(
    body: &RekorBody,
    content: Content<'_>,
    artifact: &Artifact<'_>,
    artifact_digest: &(HashAlgorithm, Vec<u8>),
    signature: &[u8],
    signer: &Signer,
) -> Result<(), VerificationError> {
    let digest_under = |alg_name: &str| -> Result<(HashAlgorithm, Vec<u8>), VerificationError> {
        let alg = HashAlgorithm::from_name(alg_name).map_err(|_| mismatch("hash algorithm"))?;
        if alg == artifact_digest.0 {
            Ok((alg, artifact_digest.1.clone()))
        } else {
            Ok((alg, artifact.digest(alg).map_err(|_| mismatch("hash algorithm"))?))
        }
    };
    match (body, content) {
        (RekorBody::HashedRekordV001(h), Content::MessageSignature(_)) => {
            let hash = h.data.hash.as_ref().ok_or_else(|| mismatch("digest"))?;
            let (_, expected) = digest_under(&hash.algorithm)?;
            if !hex_eq(&hash.value, &expected) {
                return Err(mismatch("artifact digest"));
            }
            if h.signature.content.as_deref() != Some(signature) {
                return Err(mismatch("signature"));
            }
            let pem = h
                .signature
                .public_key
                .as_ref()
                .and_then(|k| k.content.as_ref())
                .ok_or_else(|| mismatch("public key"))?;
            if !signer.matches_pem(pem) {
                return Err(mismatch("certificate or public key"));
            }
            Ok(())
        }
        (RekorBody::DsseV001(d), Content::Dsse(env)) => {
            let ph = d.payload_hash.as_ref().ok_or_else(|| mismatch("payload hash"))?;
            let alg = HashAlgorithm::from_name(&ph.algorithm).map_err(|_| mismatch("payload hash algorithm"))?;
            if !hex_eq(&ph.value, &alg.digest(&env.payload)) {
                return Err(mismatch("DSSE payload hash"));
            }
            let [s] = d.signatures.as_slice() else {
                return Err(mismatch("signature count"));
            };
            if sigil_bundle::encoding::decode_base64(&s.signature).as_deref() != Some(signature) {
                return Err(mismatch("DSSE signature"));
            }
            if !signer.matches_pem(&s.verifier) {
                return Err(mismatch("certificate or public key"));
            }
            Ok(())
        }
        (RekorBody::IntotoV002(i), Content::Dsse(env)) => {
            let ph = i
                .content
                .payload_hash
                .as_ref()
                .ok_or_else(|| mismatch("payload hash"))?;
            let alg = HashAlgorithm::from_name(&ph.algorithm).map_err(|_| mismatch("payload hash algorithm"))?;
            if !hex_eq(&ph.value, &alg.digest(&env.payload)) {
                return Err(mismatch("in-toto payload hash"));
            }
            if let Some(p) = &i.content.envelope.payload {
                if std::str::from_utf8(p)
                    .ok()
                    .and_then(sigil_bundle::encoding::decode_base64)
                    .as_deref()
                    != Some(&env.payload[..])
                {
                    return Err(mismatch("in-toto payload"));
                }
            }
            if i.content.envelope.payload_type != env.payload_type {
                return Err(mismatch("payload type"));
            }
            let [s] = i.content.envelope.signatures.as_slice() else {
                return Err(mismatch("signature count"));
            };
            let sig = std::str::from_utf8(&s.sig)
                .ok()
                .and_then(sigil_bundle::encoding::decode_base64);
            if sig.as_deref() != Some(signature) {
                return Err(mismatch("in-toto signature"));
            }
            if !signer.matches_pem(&s.public_key) {
                return Err(mismatch("certificate or public key"));
            }
            Ok(())
        }
        (RekorBody::HashedRekordV002(h), content) => {
            let alg = HashAlgorithm::from_name(&h.data.algorithm).map_err(|_| mismatch("hash algorithm"))?;
            let expected = match content {
                Content::MessageSignature(_) => digest_under(&h.data.algorithm)?.1,
                Content::Dsse(env) => alg.digest(&env.pae()),
            };
            if h.data.digest.0 != expected {
                return Err(mismatch("digest"));
            }
            if h.signature.content.0 != signature {
                return Err(mismatch("signature"));
            }
            if !signer.matches_v2(&h.signature.verifier) {
                return Err(mismatch("verifier"));
            }
            Ok(())
        }
        (RekorBody::DsseV002(d), Content::Dsse(env)) => {
            let alg =
                HashAlgorithm::from_name(&d.payload_hash.algorithm).map_err(|_| mismatch("payload hash algorithm"))?;
            if d.payload_hash.digest.0 != alg.digest(&env.payload) {
                return Err(mismatch("DSSE payload hash"));
            }
            let [s] = d.signatures.as_slice() else {
                return Err(mismatch("signature count"));
            };
            if s.content.0 != signature {
                return Err(mismatch("DSSE signature"));
            }
            if !signer.matches_v2(&s.verifier) {
                return Err(mismatch("verifier"));
            }
            Ok(())
        }
        _ => Err(VerificationError::new(
            Code::TlogBodyMismatch,
            "the log entry's type does not fit the bundle's content",
        )),
    }
}

fn hex_eq(hex_text: &str, bytes: &[u8]) -> bool {
    hex::decode(hex_text).is_ok_and(|v| v == bytes)
}

/// Step 5 for one entry.
fn verify_entry(
    e: &TransparencyLogEntry,
    body: &[u8],
    tlog: &TlogInstance,
    rekor_v2: bool,
    cache: &mut Cache,
) -> Result<VerifiedLogEntry, VerificationError> {
    let mut integrated_time = None;
    if let Some(promise) = &e.inclusion_promise {
        let t = i64::try_from(e.integrated_time.0)
            .map_err(|_| VerificationError::new(Code::BundleFormat, "integrated time out of range"))?;
        let payload = format!(
            r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
            sigil_bundle::encoding::encode_base64(body),
            t,
            hex::encode(&e.log_id.key_id.0),
            e.log_index.0
        );
        let scheme = tlog.key.default_scheme().map_err(crypto_error)?;
        tlog.key
            .verify(scheme, payload.as_bytes(), &promise.signed_entry_timestamp)
            .map_err(|err| VerificationError::new(Code::SetInvalid, format!("signed entry timestamp: {err}")))?;
        if !tlog.validity.contains(t) {
            return fail(
                Code::TlogKeyNotValid,
                format!("log {} key not valid at integrated time {t}", tlog.base_url),
            );
        }
        integrated_time = Some(t);
    }
    // Without a SET, `integratedTime` is unauthenticated and never used.
    let mut inclusion = None;
    if let Some(proof) = &e.inclusion_proof {
        let index = proof.log_index.0;
        if rekor_v2 && index != e.log_index.0 {
            return fail(
                Code::InclusionProofInvalid,
                "Rekor v2 proof index differs from the entry's log index",
            );
        }
        // The proof is checked against its own root first (cheap, no signature), then that root is
        // tied to a checkpoint signed by the log.
        let root: [u8; 32] = proof
            .root_hash
            .0
            .as_slice()
            .try_into()
            .map_err(|_| VerificationError::new(Code::InclusionProofInvalid, "root hash is not 32 bytes"))?;
        let hashes = proof
            .hashes
            .iter()
            .map(|h| <[u8; 32]>::try_from(h.0.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| VerificationError::new(Code::InclusionProofInvalid, "proof hash is not 32 bytes"))?;
        let leaf = sigil_tlog::hash_leaf(body);
        sigil_tlog::verify_inclusion(index, proof.tree_size.0, &leaf, &hashes, &root)
            .map_err(|err| VerificationError::new(Code::InclusionProofInvalid, err.to_string()))?;
        let cp = proof
            .checkpoint
            .as_ref()
            .ok_or_else(|| VerificationError::new(Code::CheckpointMissing, "inclusion proof has no checkpoint"))?;
        let cache_key = (tlog.log_id.clone(), cp.envelope.clone());
        let checkpoint = match cache.checkpoints.get(&cache_key) {
            Some(c) => c.clone(),
            None => {
                let c = verify_checkpoint(&cp.envelope, tlog)?;
                cache.checkpoints.insert(cache_key, c.clone());
                c
            }
        };
        if checkpoint.size != proof.tree_size.0 || checkpoint.root_hash != root {
            return fail(
                Code::CheckpointRootMismatch,
                "the checkpoint's tree size or root hash differ from the inclusion proof's",
            );
        }
        inclusion = Some((index, checkpoint.size));
    } else if rekor_v2 {
        return fail(
            Code::InclusionProofMissing,
            "Rekor v2 entries require an inclusion proof",
        );
    }
    Ok(VerifiedLogEntry {
        base_url: tlog.base_url.clone(),
        log_index: e.log_index.0,
        kind: e.kind_version.kind.clone(),
        version: e.kind_version.version.clone(),
        integrated_time,
        inclusion,
    })
}

/// Verifies a checkpoint note with the log's key under its literal name, and its origin.
fn verify_checkpoint(text: &str, tlog: &TlogInstance) -> Result<sigil_tlog::Checkpoint, VerificationError> {
    let note = sigil_tlog::Note::parse(text).map_err(|e| {
        let code = match e {
            sigil_tlog::Error::NoteNoSignatures => Code::CheckpointSignatureInvalid,
            _ => Code::CheckpointInvalid,
        };
        VerificationError::new(code, e.to_string())
    })?;
    let checkpoint = sigil_tlog::Checkpoint::parse(&note.body)
        .map_err(|e| VerificationError::new(Code::CheckpointInvalid, e.to_string()))?;
    let mut names = vec![tlog.hostname.as_str()];
    if tlog.authority != tlog.hostname {
        names.push(tlog.authority.as_str());
    }
    let mut last_err = String::from("no signature line from the log");
    let mut signed_as = None;
    for name in names {
        let verifier = match tlog.key.algorithm() {
            KeyAlgorithm::Ed25519 => sigil_tlog::NoteVerifier::ed25519(name, tlog.key.clone()),
            _ => sigil_tlog::NoteVerifier::ecdsa(name, tlog.key.clone()),
        };
        match verifier
            .map_err(|e| e.to_string())
            .and_then(|v| note.verify(&v).map(|_| ()).map_err(|e| e.to_string()))
        {
            Ok(()) => {
                signed_as = Some(name);
                break;
            }
            Err(e) => last_err = e,
        }
    }
    let name = signed_as.ok_or_else(|| VerificationError::new(Code::CheckpointSignatureInvalid, last_err))?;
    // The origin is compared literally: `name` (Rekor v2, C2SP) or `name - <tree ID>` (Rekor v1).
    let origin_ok = checkpoint.origin == name
        || checkpoint
            .origin
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(" - "))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    if !origin_ok {
        return fail(
            Code::CheckpointOriginMismatch,
            format!("checkpoint origin {:?} is not the log's ({name})", checkpoint.origin),
        );
    }
    Ok(checkpoint)
}
