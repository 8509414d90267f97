//! An RFC 6962 Certificate Transparency log for precertificates, on top of the durable [`Log`].
//!
//! Each accepted precertificate is stored as its RFC 6962 §3.4 `MerkleTreeLeaf` (v1, `timestamped_entry`,
//! `precert_entry`, no extensions), so the tree, its leaf hashes and its proofs are RFC 6962's. The SCT is
//! returned only once that leaf is durable (fsynced and covered by a signed checkpoint): a CA that embeds it
//! never issues an un-logged certificate (SECURITY.md C-06). Storage trouble is an error, never an SCT.
//!
//! The SCT key (ECDSA P-256, or any [`Signer`] with an RFC 6962 scheme) is separate from the [`Log`]'s own
//! checkpoint keys; its log ID is SHA-256 of its DER SPKI, the trusted root's `ctlogs[].logId.keyId`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_bundle::bundle::LogId;
use sigil_bundle::encoding::{Bytes, Timestamp};
use sigil_bundle::trust::{PublicKey, TimeRange, TransparencyLogInstance};
use sigil_crypto::{KeyAlgorithm, Signer, SigningKey, VerifyingKey};
use sigil_tlog::Hash;
use sigil_x509::{Certificate, SignedSct};

use crate::{Error, Log, LogOptions, MAX_ENTRY_SIZE, fsio};

/// Most certificates in one submitted chain.
pub const MAX_CT_CHAIN: usize = 10;
/// Largest certificate in a submitted chain, in bytes.
pub const MAX_CT_CERT: usize = sigil_x509::MAX_CERT_LEN;

const POISON_OID: &str = "1.3.6.1.4.1.11129.2.4.3";
const EKU_OID: &str = "2.5.29.37";
/// DER of the OID 1.3.6.1.4.1.11129.2.4.4 (Precertificate Signing Certificate EKU, RFC 6962 §3.1).
const PRECERT_SIGNING_EKU: &[u8] = &[0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x04];
const KEY_FILE: &str = "ct-ecdsa-p256.pk8";
const PUBLIC_FILE: &str = "ct-public.spki";

/// How to open a CT log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CtLogOptions {
    /// The underlying log's checkpoint origin (e.g. `ca.example.com/ct`).
    pub origin: String,
    /// Roots a submitted chain must end at or be issued by.
    pub accepted_roots: Vec<Certificate>,
    /// The SCT key. `None`: an ECDSA P-256 key is generated on first start and stored (PKCS#8, 0600) in the
    /// data directory. A given key must be the same on every start (its public key is recorded).
    pub signer: Option<Arc<dyn Signer>>,
    /// Where the underlying log keeps its high-water mark (see [`LogOptions::high_water_mark`]).
    pub high_water_mark: Option<PathBuf>,
    /// Longest [`CtLog::add_pre_chain`] waits for the entry to become durable before failing.
    pub append_timeout: Duration,
    /// How long the log may hold a batch open for more precertificates when several are arriving at once
    /// ([`LogOptions::batch_linger`], up to [`CT_LINGER_TARGET`] entries). Default [`DEFAULT_CT_LINGER`].
    pub batch_linger: Duration,
}

/// Default [`CtLogOptions::batch_linger`]: none. When a batch created files (a partial tile and bundle, the
/// checkpoint and high-water mark), a 2 ms linger bought larger batches and +27 % throughput at saturation. Since
/// a batch is an append to the journal and two slot-file writes, lingering only adds latency: with `cargo xtask
/// ca-bench` (PoP, server on one core; docs/ca-performance.md) 8 connections gave 1,695/s without a linger and
/// 1,161/s with 2 ms, server p99 ≤ 10 ms both.
pub const DEFAULT_CT_LINGER: Duration = Duration::ZERO;
/// Batch size at which the CT log stops lingering.
pub const CT_LINGER_TARGET: usize = 64;

impl CtLogOptions {
    pub fn new(origin: impl Into<String>, accepted_roots: Vec<Certificate>) -> Self {
        Self {
            origin: origin.into(),
            accepted_roots,
            signer: None,
            high_water_mark: None,
            append_timeout: Duration::from_secs(20),
            batch_linger: DEFAULT_CT_LINGER,
        }
    }

    /// See [`CtLogOptions::batch_linger`]; `Duration::ZERO` turns lingering off.
    pub fn with_batch_linger(mut self, linger: Duration) -> Self {
        self.batch_linger = linger;
        self
    }

    /// Signs SCTs with `signer` instead of a generated key.
    pub fn with_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    pub fn with_high_water_mark(mut self, path: impl Into<PathBuf>) -> Self {
        self.high_water_mark = Some(path.into());
        self
    }

    pub fn with_append_timeout(mut self, timeout: Duration) -> Self {
        self.append_timeout = timeout;
        self
    }
}

/// Why a submission was refused or failed. [`CtError::is_client_error`] tells the submitter's fault (HTTP 400)
/// from the log's (503: nothing was logged, no SCT).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CtError {
    /// The chain is empty or holds only the precertificate.
    ChainTooShort,
    /// More than [`MAX_CT_CHAIN`] certificates.
    ChainTooLong { len: usize },
    /// A certificate over [`MAX_CT_CERT`] bytes.
    CertTooLarge { index: usize, len: usize },
    /// A certificate that does not parse.
    Malformed { index: usize, reason: sigil_x509::Error },
    /// The first certificate has no critical CT poison extension.
    NotPrecertificate,
    /// A Precertificate Signing Certificate issued the precertificate (not supported).
    PrecertSigningCertificate,
    /// A certificate is not issued by the next one.
    NotIssuedBy { index: usize, reason: sigil_x509::Error },
    /// An issuer in the chain is not a CA.
    NotCa { index: usize },
    /// A certificate in the chain is not valid now.
    NotValidNow { index: usize },
    /// The chain does not end at, and is not issued by, an accepted root.
    UntrustedRoot,
    /// The precertificate's TBS does not fit in a log entry.
    EntryTooLarge { len: usize },
    /// Signing the SCT failed (the log's key backend).
    Signing(String),
    /// The entry was not made durable (storage failure, log closed, or not in time). Nothing was acknowledged.
    Storage(Error),
}

impl CtError {
    /// Whether the submission itself is at fault (400) rather than the log (503).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::Signing(_) | Self::Storage(_))
    }
}

impl std::fmt::Display for CtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ChainTooShort => write!(f, "the chain must hold the precertificate and its issuer"),
            Self::ChainTooLong { len } => {
                write!(f, "the chain has {len} certificates, over the limit of {MAX_CT_CHAIN}")
            }
            Self::CertTooLarge { index, len } => {
                write!(
                    f,
                    "certificate {index} is {len} bytes, over the {MAX_CT_CERT}-byte limit"
                )
            }
            Self::Malformed { index, reason } => write!(f, "certificate {index}: {reason}"),
            Self::NotPrecertificate => write!(
                f,
                "only precertificates are accepted (the first certificate needs the critical poison extension)"
            ),
            Self::PrecertSigningCertificate => write!(f, "precertificate signing certificates are not supported"),
            Self::NotIssuedBy { index, reason } => {
                write!(f, "certificate {index} is not issued by the next one: {reason}")
            }
            Self::NotCa { index } => write!(f, "certificate {index} issues a certificate but is not a CA"),
            Self::NotValidNow { index } => write!(f, "certificate {index} is not valid now"),
            Self::UntrustedRoot => write!(f, "the chain does not lead to an accepted root"),
            Self::EntryTooLarge { len } => {
                write!(
                    f,
                    "the precertificate entry is {len} bytes, over the {MAX_ENTRY_SIZE}-byte limit"
                )
            }
            Self::Signing(m) => write!(f, "signing the SCT failed: {m}"),
            Self::Storage(e) => write!(f, "the entry was not logged: {e}"),
        }
    }
}

impl std::error::Error for CtError {}

/// The RFC 6962 §4.1 `add-pre-chain` answer, and the SCT it encodes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddChainResponse {
    /// 0 (v1).
    pub sct_version: u8,
    /// Base64 log ID.
    pub id: String,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// Base64 `CtExtensions` (empty).
    pub extensions: String,
    /// Base64 TLS `digitally-signed` struct.
    pub signature: String,
    /// The SCT (to embed with [`sigil_x509::encode_sct_list`]).
    #[serde(skip)]
    pub sct: SignedSct,
    /// Where the entry is in the log.
    #[serde(skip)]
    pub leaf_index: u64,
    /// The entry's RFC 6962 leaf hash.
    #[serde(skip)]
    pub leaf_hash: Hash,
}

impl AddChainResponse {
    fn new(sct: SignedSct, leaf_index: u64, leaf_hash: Hash) -> Result<Self, CtError> {
        let signed = sct.digitally_signed().map_err(|e| CtError::Signing(e.to_string()))?;
        Ok(Self {
            sct_version: 0,
            id: B64.encode(sct.log_id),
            timestamp: sct.timestamp_ms,
            extensions: B64.encode(&sct.extensions),
            signature: B64.encode(signed),
            sct,
            leaf_index,
            leaf_hash,
        })
    }
}

/// An RFC 6962 signed tree head (`get-sth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    pub tree_size: u64,
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    pub root_hash: Hash,
    /// TLS `digitally-signed` struct over the `TreeHeadSignature`.
    pub signature: Vec<u8>,
}

impl SignedTreeHead {
    /// The RFC 6962 §4.3 JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "tree_size": self.tree_size,
            "timestamp": self.timestamp_ms,
            "sha256_root_hash": B64.encode(self.root_hash),
            "tree_head_signature": B64.encode(&self.signature),
        })
    }
}

/// The RFC 6962 §3.5 `TreeHeadSignature`: `0x00 (v1) ‖ 0x01 (tree_hash) ‖ u64 timestamp ‖ u64 size ‖ root`.
pub fn tree_head_signed_data(timestamp_ms: u64, tree_size: u64, root: &Hash) -> Vec<u8> {
    let mut msg = Vec::with_capacity(50);
    msg.extend_from_slice(&[0, 1]);
    msg.extend_from_slice(&timestamp_ms.to_be_bytes());
    msg.extend_from_slice(&tree_size.to_be_bytes());
    msg.extend_from_slice(root);
    msg
}

/// A CT log for precertificates. See the module documentation.
#[derive(Debug)]
pub struct CtLog {
    log: Log,
    signer: Arc<dyn Signer>,
    /// The same key as `signer` when the log generated or loaded it itself (in process memory, aws-lc): SCTs
    /// are then signed without re-verifying each fresh signature, a check meant for external key backends.
    local_key: LocalKey,
    log_id: [u8; 32],
    roots: Vec<Certificate>,
    append_timeout: Duration,
    /// The last STH signed (most `get-sth` calls in a row see the same tree).
    sth: Mutex<Option<SignedTreeHead>>,
    /// Chain suffixes (issuer … last) whose signatures and anchoring were verified.
    verified: VerifiedSuffixes,
}

/// How many distinct verified chain suffixes are remembered. A CA submits one suffix (two while it rotates its
/// intermediate); the bound keeps a submitter cycling through many valid chains from growing memory.
const VERIFIED_SUFFIXES: usize = 16;

/// How a verified suffix reaches an accepted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// Its last certificate is an accepted root (byte for byte).
    IsRoot,
    /// Its last certificate is issued by accepted root `i` (whose validity is re-checked at each use).
    IssuedBy(usize),
}

/// A bounded, first-in-first-out set of chain suffixes whose signatures (each certificate by the next, the last
/// by or as an accepted root) verified, keyed by SHA-256 over the length-prefixed DER of the suffix. Only the
/// signature checks and the time-independent CA flags are remembered: a tampered suffix hashes differently and
/// is verified in full, and validity at `now` is checked on every use.
#[derive(Debug, Default)]
struct VerifiedSuffixes(Mutex<std::collections::VecDeque<([u8; 32], Anchor)>>);

impl VerifiedSuffixes {
    fn get(&self, key: &[u8; 32]) -> Option<Anchor> {
        let set = self.0.lock().ok()?;
        set.iter().find(|(k, _)| k == key).map(|(_, a)| *a)
    }

    fn insert(&self, key: [u8; 32], anchor: Anchor) {
        if let Ok(mut set) = self.0.lock() {
            set.retain(|(k, _)| *k != key);
            while set.len() >= VERIFIED_SUFFIXES {
                set.pop_front();
            }
            set.push_back((key, anchor));
        }
    }
}

/// SHA-256 over `len ‖ DER` of each certificate of a chain suffix (lengths make the split unambiguous).
fn suffix_key(suffix: &[Vec<u8>]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(suffix.iter().map(|d| d.len() + 8).sum());
    for der in suffix {
        buf.extend_from_slice(&(der.len() as u64).to_be_bytes());
        buf.extend_from_slice(der);
    }
    sigil_crypto::sha256(&buf)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Whether [`CtLog::check_chain`] verifies the precertificate's signature by its issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precert {
    Verify,
    /// Signed by the CA of this process a moment ago ([`CtLog::add_own_pre_chain`]).
    SignedHere,
}

impl CtLog {
    /// Opens (or creates) the CT log in `dir`: the underlying [`Log`] and the SCT key.
    pub fn open(dir: &Path, options: CtLogOptions) -> Result<Self, Error> {
        let mut log_options = LogOptions::new(options.origin).with_batch_linger(options.batch_linger, CT_LINGER_TARGET);
        // The leaf carries the SCT timestamp; nothing reads the log's own integration times, and recording them
        // cost a write and an fdatasync per batch.
        log_options = log_options.with_record_times(false);
        // Served only through RFC 6962 routes, never as static tiles: no partial tile files per batch.
        log_options = log_options.with_partial_tile_files(false);
        if let Some(hwm) = options.high_water_mark {
            log_options = log_options.with_high_water_mark(hwm);
        }
        let log = Log::open(dir, log_options)?;
        let (signer, local_key) = load_signer(&dir.join("keys"), options.signer)?;
        sigil_x509::tls_signature_algorithm(signer.scheme()).map_err(|e| Error::Key(e.to_string()))?;
        Ok(Self {
            log_id: signer.public_key().sha256_key_id(),
            log,
            signer,
            local_key,
            roots: options.accepted_roots,
            append_timeout: options.append_timeout,
            sth: Mutex::new(None),
            verified: VerifiedSuffixes::default(),
        })
    }

    /// SHA-256 of the SCT key's DER SPKI: the SCTs' `log_id` and the trusted root's `logId.keyId`.
    pub fn log_id(&self) -> [u8; 32] {
        self.log_id
    }

    /// The SCT key.
    pub fn public_key(&self) -> VerifyingKey {
        self.signer.public_key().clone()
    }

    /// The underlying log (tree, proofs, entries).
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The accepted roots (`get-roots`).
    pub fn accepted_roots(&self) -> &[Certificate] {
        &self.roots
    }

    /// Stops the underlying log after the queued appends.
    pub fn close(&self) {
        self.log.close();
    }

    /// The trusted-root `ctlogs` entry for this log served at `base_url`.
    pub fn trust_entry(&self, base_url: &str) -> Result<TransparencyLogInstance, Error> {
        let key = self.signer.public_key();
        let details = self.signer.key_details().map_err(|e| Error::Key(e.to_string()))?;
        let start = Timestamp::from_unix(self.log.created_at()).ok_or(Error::InvalidRequest("creation time"))?;
        Ok(TransparencyLogInstance {
            base_url: base_url.trim_end_matches('/').to_string(),
            hash_algorithm: Some("SHA2_256".into()),
            public_key: PublicKey {
                raw_bytes: Some(Bytes(key.spki_der().to_vec())),
                key_details: Some(details.proto_name().into()),
                valid_for: Some(TimeRange {
                    start: Some(start),
                    end: None,
                }),
            },
            log_id: LogId {
                key_id: Bytes(self.log_id.to_vec()),
            },
            checkpoint_key_id: None,
            operator: None,
        })
    }

    /// Checks a submitted chain (precertificate first) without logging anything; returns the parsed chain.
    ///
    /// The signatures above the precertificate (issuer … root) are verified once per distinct suffix and then
    /// remembered (see [`VerifiedSuffixes`]): a CA submits the same intermediate on every request, and verifying
    /// its P-384 root signature again cost 149 µs of the ~780 µs of server CPU per certificate
    /// (docs/ca-performance.md). Everything that depends on `now` (validity of every certificate and of the root
    /// that anchors the chain) and the precertificate's own signature by its issuer are checked every time.
    pub fn check_pre_chain(&self, chain: &[Vec<u8>], now: i64) -> Result<Vec<Certificate>, CtError> {
        self.check_chain(chain, now, Precert::Verify)
    }

    fn check_chain(
        &self,
        chain: &[Vec<u8>],
        now: i64,
        precert_signature: Precert,
    ) -> Result<Vec<Certificate>, CtError> {
        if chain.len() > MAX_CT_CHAIN {
            return Err(CtError::ChainTooLong { len: chain.len() });
        }
        if chain.len() < 2 {
            return Err(CtError::ChainTooShort);
        }
        let mut certs = Vec::with_capacity(chain.len());
        for (index, der) in chain.iter().enumerate() {
            if der.len() > MAX_CT_CERT {
                return Err(CtError::CertTooLarge { index, len: der.len() });
            }
            certs.push(Certificate::from_der(der).map_err(|reason| CtError::Malformed { index, reason })?);
        }
        let (Some(precert), Some(issuer), Some(last)) = (certs.first(), certs.get(1), certs.last()) else {
            return Err(CtError::ChainTooShort);
        };
        match precert.extension(POISON_OID) {
            Some((true, [0x05, 0x00])) => {}
            _ => return Err(CtError::NotPrecertificate),
        }
        if issuer
            .extension(EKU_OID)
            .is_some_and(|(_, v)| v.windows(PRECERT_SIGNING_EKU.len()).any(|w| w == PRECERT_SIGNING_EKU))
        {
            return Err(CtError::PrecertSigningCertificate);
        }
        // The precertificate's own link: never cached (it is new on every request).
        if !issuer.is_ca() {
            return Err(CtError::NotCa { index: 1 });
        }
        match precert_signature {
            Precert::Verify => precert
                .verify_issued_by(issuer)
                .map_err(|reason| CtError::NotIssuedBy { index: 0, reason })?,
            // The names must still chain: the SCT commits to the issuer's key.
            Precert::SignedHere if precert.issuer_der() != issuer.subject_der() => {
                return Err(CtError::NotIssuedBy {
                    index: 0,
                    reason: sigil_x509::Error::ChainBroken { depth: 0 },
                });
            }
            Precert::SignedHere => {}
        }
        let suffix_key = suffix_key(chain.get(1..).unwrap_or_default());
        let cached = self.verified.get(&suffix_key);
        if cached.is_none() {
            for (index, pair) in certs.windows(2).enumerate().skip(1) {
                let [child, parent] = pair else { continue };
                if !parent.is_ca() {
                    return Err(CtError::NotCa { index: index + 1 });
                }
                child
                    .verify_issued_by(parent)
                    .map_err(|reason| CtError::NotIssuedBy { index, reason })?;
            }
        }
        if let Some(index) = certs.iter().position(|c| !c.valid_at(now)) {
            return Err(CtError::NotValidNow { index });
        }
        // A remembered anchor still has to be valid now; if it is not, search again (another root may do).
        let still_anchored = match cached {
            Some(Anchor::IsRoot) => true,
            Some(Anchor::IssuedBy(i)) => self.roots.get(i).is_some_and(|root| root.valid_at(now)),
            None => false,
        };
        if !still_anchored {
            let anchor = self.roots.iter().enumerate().find_map(|(i, root)| {
                if root.der() == last.der() {
                    Some(Anchor::IsRoot)
                } else if root.is_ca() && root.valid_at(now) && last.verify_issued_by(root).is_ok() {
                    Some(Anchor::IssuedBy(i))
                } else {
                    None
                }
            });
            let Some(anchor) = anchor else {
                return Err(CtError::UntrustedRoot);
            };
            self.verified.insert(suffix_key, anchor);
        }
        Ok(certs)
    }

    /// RFC 6962 `add-pre-chain`: checks the chain, logs the precertificate and returns its SCT once the entry is
    /// durable. Any storage failure is an error and no SCT is returned.
    pub async fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> Result<AddChainResponse, CtError> {
        self.add(chain, Precert::Verify).await
    }

    /// `add-pre-chain` for the CA of the same process, which has just signed the precertificate: the same checks
    /// except the precertificate's own signature, which is not verified a second time (one ECDSA verification,
    /// about a tenth of the server's CPU per certificate). Its issuer chain, anchoring, poison extension and
    /// validity are checked as for any submission. Never expose this to requests from outside the process.
    pub async fn add_own_pre_chain(&self, chain: Vec<Vec<u8>>) -> Result<AddChainResponse, CtError> {
        self.add(chain, Precert::SignedHere).await
    }

    async fn add(&self, chain: Vec<Vec<u8>>, precert_signature: Precert) -> Result<AddChainResponse, CtError> {
        let timestamp_ms = now_ms();
        let now = i64::try_from(timestamp_ms / 1000).unwrap_or(i64::MAX);
        let certs = self.check_chain(&chain, now, precert_signature)?;
        let (Some(precert), Some(issuer)) = (certs.first(), certs.get(1)) else {
            return Err(CtError::ChainTooShort);
        };
        let issuer_key_hash = issuer.public_key().sha256_key_id();
        let tbs = sigil_x509::tbs_without_poison(precert.tbs_der())
            .map_err(|reason| CtError::Malformed { index: 0, reason })?;
        let leaf = sigil_x509::precert_merkle_leaf(timestamp_ms, &issuer_key_hash, &tbs, &[])
            .map_err(|reason| CtError::Malformed { index: 0, reason })?;
        if leaf.len() > MAX_ENTRY_SIZE {
            return Err(CtError::EntryTooLarge { len: leaf.len() });
        }
        // Signed before anything is appended: a broken key backend logs nothing.
        let sct = match &self.local_key {
            Some(key) => sigil_x509::sign_precert_sct_in_memory(key, timestamp_ms, &issuer_key_hash, precert.tbs_der()),
            None => {
                sigil_x509::sign_precert_sct(self.signer.as_ref(), timestamp_ms, &issuer_key_hash, precert.tbs_der())
            }
        }
        .map_err(|e| CtError::Signing(e.to_string()))?;
        let appended = match tokio::time::timeout(self.append_timeout, self.log.append_async(leaf)).await {
            Ok(Ok(outcome)) => outcome.appended().clone(),
            Ok(Err(e)) => return Err(CtError::Storage(e)),
            Err(_) => return Err(CtError::Storage(Error::Timeout)),
        };
        AddChainResponse::new(sct, appended.index, appended.leaf_hash)
    }

    /// The latest tree head, signed with the SCT key (RFC 6962 §3.5). Re-signed only when the tree has grown.
    pub fn signed_tree_head(&self) -> Result<SignedTreeHead, Error> {
        let head = self.log.head();
        if let Ok(cached) = self.sth.lock() {
            if let Some(sth) = cached
                .as_ref()
                .filter(|s| s.tree_size == head.size && s.root_hash == head.root)
            {
                return Ok(sth.clone());
            }
        }
        let timestamp_ms = now_ms();
        let msg = tree_head_signed_data(timestamp_ms, head.size, &head.root);
        let signature = self.signer.sign(&msg).map_err(|e| Error::Key(e.to_string()))?;
        let (hash_alg, sig_alg) =
            sigil_x509::tls_signature_algorithm(self.signer.scheme()).map_err(|e| Error::Key(e.to_string()))?;
        let len = u16::try_from(signature.len()).map_err(|_| Error::Key("tree head signature too long".into()))?;
        let mut signed = Vec::with_capacity(signature.len() + 4);
        signed.extend_from_slice(&[hash_alg, sig_alg]);
        signed.extend_from_slice(&len.to_be_bytes());
        signed.extend_from_slice(&signature);
        let sth = SignedTreeHead {
            tree_size: head.size,
            timestamp_ms,
            root_hash: head.root,
            signature: signed,
        };
        if let Ok(mut cached) = self.sth.lock() {
            *cached = Some(sth.clone());
        }
        Ok(sth)
    }
}

/// The SCT key when it is the log's own, in memory (`CtLog::local_key`).
type LocalKey = Option<Arc<SigningKey>>;

/// The SCT key: the given signer (checked against the recorded public key), else the stored generated key, else
/// a new one (stored PKCS#8, 0600). The public key is recorded on first start. Also returns the key itself when
/// it is one of the log's own (in memory), not a given signer.
fn load_signer(keys_dir: &Path, given: Option<Arc<dyn Signer>>) -> Result<(Arc<dyn Signer>, LocalKey), Error> {
    let public_path = keys_dir.join(PUBLIC_FILE);
    let recorded = fsio::read_optional(&public_path)?;
    let mut local = None;
    let signer: Arc<dyn Signer> = match given {
        Some(s) => s,
        None => match fsio::read_optional(&keys_dir.join(KEY_FILE))? {
            Some(der) => {
                let key = Arc::new(
                    SigningKey::from_pkcs8_der(&der)
                        .map_err(|e| Error::Key(format!("{}: {e}", keys_dir.join(KEY_FILE).display())))?,
                );
                local = Some(Arc::clone(&key));
                key
            }
            None if recorded.is_some() => {
                return Err(Error::Key(format!(
                    "{} records an SCT key given on an earlier start; give it again",
                    public_path.display()
                )));
            }
            None => {
                let key =
                    SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| Error::Key(format!("SCT key: {e}")))?;
                crate::keys::store_key(keys_dir, KEY_FILE, key.to_pkcs8_der())?;
                let key = Arc::new(key);
                local = Some(Arc::clone(&key));
                key
            }
        },
    };
    let spki = signer.public_key().spki_der();
    match recorded {
        Some(r) if r != spki => Err(Error::Key(format!(
            "{} records a different SCT key than the one given",
            public_path.display()
        ))),
        Some(_) => Ok((signer, local)),
        None => {
            crate::keys::store_key(keys_dir, PUBLIC_FILE, spki)?;
            Ok((signer, local))
        }
    }
}
