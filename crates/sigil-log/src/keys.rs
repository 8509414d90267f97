//! The log's signing keys: Ed25519 for C2SP checkpoints (Rekor v2), ECDSA P-256 for Rekor v1 SETs and checkpoints.
//!
//! Both are generated on first start and stored as PKCS#8 DER files readable only by the owner (0600). A rotation
//! ([`crate::Log::rotate_keys`]) replaces both at once: see `history.rs` for the generations and the commit point.

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_crypto::{KeyAlgorithm, VerifyingKey, spki_der_for};
use sigil_tlog::{Checkpoint, SIG_TYPE_ED25519, SignedCheckpoint};

use crate::Error;
use crate::fsio;
use crate::history::{self, KeyRecord};

/// The pair of signing keys a log holds.
pub(crate) struct Keys {
    pub(crate) ed25519: Ed25519KeyPair,
    pub(crate) ecdsa: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

/// Keys an operator supplies instead of generated ones (PKCS#8 DER), e.g. kept offline for disaster recovery.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ImportedKeys {
    /// Ed25519 checkpoint key (Rekor v2 / C2SP).
    pub ed25519_pkcs8: Option<Vec<u8>>,
    /// ECDSA P-256 key (Rekor v1 SETs and checkpoints).
    pub ecdsa_p256_pkcs8: Option<Vec<u8>>,
}

impl std::fmt::Debug for ImportedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedKeys")
            .field("ed25519", &self.ed25519_pkcs8.is_some())
            .field("ecdsa_p256", &self.ecdsa_p256_pkcs8.is_some())
            .finish()
    }
}

const ED25519_FILE: &str = "checkpoint-ed25519.pk8";
const ECDSA_FILE: &str = "log-ecdsa-p256.pk8";
/// A rotation's new keys, before the history names them (then renamed over the current files).
const NEXT_PREFIX: &str = "next-";

impl Keys {
    /// Parses a pair of PKCS#8 DER keys (a rotation's new generation).
    pub(crate) fn from_pkcs8(ed25519: &[u8], ecdsa: &[u8]) -> Result<Self, Error> {
        let ed25519 = Ed25519KeyPair::from_pkcs8_maybe_unchecked(ed25519)
            .map_err(|e| Error::Key(format!("the new Ed25519 key: {e}")))?;
        let ecdsa = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, ecdsa)
            .map_err(|e| Error::Key(format!("the new ECDSA P-256 key: {e}")))?;
        Ok(Self {
            ed25519,
            ecdsa,
            rng: SystemRandom::new(),
        })
    }

    /// Loads the keys from `dir`, generating (and durably storing) any that are missing when `create` allows it.
    /// A key given in `imported` is stored instead of a generated one, and must equal the stored one if present.
    pub(crate) fn load_or_create(dir: &Path, create: bool, imported: &ImportedKeys) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let ed_path = dir.join(ED25519_FILE);
        let ec_path = dir.join(ECDSA_FILE);
        // Given keys are parsed before anything is stored, so a bad one leaves no trace.
        if let Some(given) = &imported.ed25519_pkcs8 {
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(given)
                .map_err(|e| Error::Key(format!("the given Ed25519 key: {e}")))?;
        }
        if let Some(given) = &imported.ecdsa_p256_pkcs8 {
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, given)
                .map_err(|e| Error::Key(format!("the given ECDSA P-256 key: {e}")))?;
        }
        let ed_der = load_one(
            dir,
            ED25519_FILE,
            "checkpoint key",
            create,
            imported.ed25519_pkcs8.as_deref(),
            || {
                Ed25519KeyPair::generate_pkcs8(&rng)
                    .map(|d| d.as_ref().to_vec())
                    .map_err(|_| Error::Key("Ed25519 generation".into()))
            },
        )?;
        let ec_der = load_one(
            dir,
            ECDSA_FILE,
            "v1 log key",
            create,
            imported.ecdsa_p256_pkcs8.as_deref(),
            || {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .map(|d| d.as_ref().to_vec())
                    .map_err(|_| Error::Key("ECDSA P-256 generation".into()))
            },
        )?;
        let ed25519 =
            Ed25519KeyPair::from_pkcs8(&ed_der).map_err(|e| Error::Key(format!("{}: {e}", ed_path.display())))?;
        let ecdsa = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &ec_der)
            .map_err(|e| Error::Key(format!("{}: {e}", ec_path.display())))?;
        Ok(Self { ed25519, ecdsa, rng })
    }

    /// The raw 32-byte Ed25519 public key.
    pub(crate) fn ed25519_raw(&self) -> &[u8] {
        self.ed25519.public_key().as_ref()
    }

    pub(crate) fn ed25519_verifying_key(&self) -> Result<VerifyingKey, Error> {
        VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::Ed25519, self.ed25519_raw()))
            .map_err(|e| Error::Key(e.to_string()))
    }

    pub(crate) fn ecdsa_verifying_key(&self) -> Result<VerifyingKey, Error> {
        VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::EcdsaP256, self.ecdsa.public_key().as_ref()))
            .map_err(|e| Error::Key(e.to_string()))
    }

    pub(crate) fn sign_ed25519(&self, msg: &[u8]) -> Vec<u8> {
        self.ed25519.sign(msg).as_ref().to_vec()
    }

    /// ASN.1 DER ECDSA P-256 signature over SHA-256 of `msg`.
    pub(crate) fn sign_ecdsa(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        self.ecdsa
            .sign(&self.rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| Error::Key("ECDSA signing failed".into()))
    }

    /// The public halves, as a history record activated at `activated`.
    pub(crate) fn record(&self, activated: i64) -> Result<KeyRecord, Error> {
        KeyRecord::new(self.ecdsa_verifying_key()?, self.ed25519_raw(), activated)
    }
}

/// The full C2SP key ID of an Ed25519 note key: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)` (the Rekor v2 log ID).
pub(crate) fn full_key_id(name: &str, ed25519: &[u8]) -> [u8; 32] {
    let mut data = Vec::new();
    data.extend_from_slice(name.as_bytes());
    data.push(b'\n');
    data.push(SIG_TYPE_ED25519);
    data.extend_from_slice(ed25519);
    sigil_crypto::sha256(&data)
}

/// One generation of the log's signing keys: the pair that signs a stretch of the log (SETs, Rekor v1 checkpoints,
/// C2SP checkpoints). Every [`crate::TreeHead`] carries the generation that signed its checkpoint, so whatever is
/// built from a head (an entry's SET and log ID, a v1 checkpoint) is signed by that same generation, even when a
/// rotation happens meanwhile.
/// Cheap to clone (one `Arc`): every appended entry carries one.
#[derive(Clone)]
pub struct KeyGeneration {
    inner: Arc<Generation>,
}

struct Generation {
    keys: Keys,
    origin: String,
    v1_key: VerifyingKey,
    checkpoint_key: VerifyingKey,
    v1_log_id: [u8; 32],
    v2_log_id: [u8; 32],
}

impl std::fmt::Debug for KeyGeneration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyGeneration")
            .field("v1_log_id", &hex::encode(self.inner.v1_log_id))
            .field("v2_log_id", &hex::encode(self.inner.v2_log_id))
            .finish_non_exhaustive()
    }
}

impl PartialEq for KeyGeneration {
    fn eq(&self, other: &Self) -> bool {
        self.inner.v1_log_id == other.inner.v1_log_id && self.inner.v2_log_id == other.inner.v2_log_id
    }
}

impl Eq for KeyGeneration {}

impl KeyGeneration {
    pub(crate) fn new(keys: Keys, origin: &str) -> Result<Self, Error> {
        let v1_key = keys.ecdsa_verifying_key()?;
        let checkpoint_key = keys.ed25519_verifying_key()?;
        Ok(Self {
            inner: Arc::new(Generation {
                v1_log_id: v1_key.sha256_key_id(),
                v2_log_id: full_key_id(origin, keys.ed25519_raw()),
                origin: origin.to_string(),
                keys,
                v1_key,
                checkpoint_key,
            }),
        })
    }

    /// The ECDSA P-256 key of Rekor v1 SETs and checkpoints.
    pub fn v1_key(&self) -> &VerifyingKey {
        &self.inner.v1_key
    }

    /// The Rekor v1 log ID: SHA-256 of the ECDSA key's DER SPKI.
    pub fn v1_log_id(&self) -> [u8; 32] {
        self.inner.v1_log_id
    }

    /// The Ed25519 checkpoint key.
    pub fn checkpoint_key(&self) -> &VerifyingKey {
        &self.inner.checkpoint_key
    }

    /// The Rekor v2 log ID: the full C2SP key ID `SHA-256(origin ‖ "\n" ‖ 0x01 ‖ public key)`.
    pub fn v2_log_id(&self) -> [u8; 32] {
        self.inner.v2_log_id
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// A C2SP checkpoint (origin = key name) signed by the Ed25519 key.
    pub(crate) fn sign_checkpoint(&self, checkpoint: Checkpoint) -> Result<String, Error> {
        let hint = sigil_tlog::key_id(&self.inner.origin, SIG_TYPE_ED25519, self.inner.keys.ed25519_raw());
        Ok(SignedCheckpoint::sign(checkpoint, &self.inner.origin, hint, |m| {
            self.inner.keys.sign_ed25519(m)
        })?
        .to_text())
    }

    /// A Rekor v1 signed entry timestamp: ECDSA over JCS of `{body, integratedTime, logID, logIndex}` (body is
    /// the base64 of the entry, logID this generation's hex v1 log ID).
    pub fn sign_set(&self, body: &[u8], integrated_time: i64, log_index: u64) -> Result<Vec<u8>, Error> {
        let payload = serde_json::json!({
            "body": B64.encode(body),
            "integratedTime": integrated_time,
            "logID": hex::encode(self.inner.v1_log_id),
            "logIndex": log_index,
        });
        self.inner
            .keys
            .sign_ecdsa(sigil_bundle::jcs::canonicalize(&payload).as_bytes())
    }

    /// A Rekor v1 checkpoint: signed by the ECDSA key, key name `host`, key hint `SHA-256(SPKI)[:4]`.
    pub(crate) fn sign_v1_checkpoint(&self, checkpoint: Checkpoint, host: &str) -> Result<String, Error> {
        let id = self.inner.v1_log_id;
        let hint = [id[0], id[1], id[2], id[3]];
        let mut err = None;
        let signed = SignedCheckpoint::sign(checkpoint, host, hint, |msg| match self.inner.keys.sign_ecdsa(msg) {
            Ok(sig) => sig,
            Err(e) => {
                err = Some(e);
                Vec::new()
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        Ok(signed?.to_text())
    }
}

/// Opens the keys of the log whose key directory is `dir`: first finishes (or undoes) a rotation a crash
/// interrupted, then loads (or, with `create`, generates) the current pair and checks it against the history.
/// Returns the keys and the history (`None` for a log never rotated).
pub(crate) fn open(dir: &Path, create: bool, imported: &ImportedKeys) -> Result<(Keys, Option<Vec<KeyRecord>>), Error> {
    let records = history::read(dir)?;
    recover(dir, records.as_deref())?;
    let keys = Keys::load_or_create(dir, create, imported)?;
    if let Some(current) = records.as_ref().and_then(|r| r.last()) {
        let on_disk = keys.record(current.activated)?;
        if on_disk.v1_key != current.v1_key || on_disk.checkpoint_key != current.checkpoint_key {
            return Err(Error::KeyHistory {
                path: dir.join(history::HISTORY_FILE),
                reason: format!(
                    "its current generation is not the key pair in {} and {}",
                    dir.join(ED25519_FILE).display(),
                    dir.join(ECDSA_FILE).display()
                ),
            });
        }
    }
    Ok((keys, records))
}

/// The public key of a stored key file, as the history records it.
fn public_of(file: &str, der: &[u8]) -> Option<VerifyingKey> {
    let spki = if file == ED25519_FILE {
        spki_der_for(
            KeyAlgorithm::Ed25519,
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .ok()?
                .public_key()
                .as_ref(),
        )
    } else {
        spki_der_for(
            KeyAlgorithm::EcdsaP256,
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der)
                .ok()?
                .public_key()
                .as_ref(),
        )
    };
    VerifyingKey::from_spki_der(&spki).ok()
}

/// A rotation interrupted by a crash: a `next-` key the history names as current is renamed into place (the
/// rotation committed); any other `next-` key is removed (it never did).
fn recover(dir: &Path, records: Option<&[KeyRecord]>) -> Result<(), Error> {
    let current = records.and_then(|r| r.last());
    let mut changed = false;
    for file in [ED25519_FILE, ECDSA_FILE] {
        let next = dir.join(format!("{NEXT_PREFIX}{file}"));
        let Some(der) = fsio::read_optional(&next)? else {
            continue;
        };
        let committed = match (current, public_of(file, &der)) {
            (Some(c), Some(k)) => k == c.checkpoint_key || k == c.v1_key,
            _ => false,
        };
        if committed {
            std::fs::rename(&next, dir.join(file)).map_err(|e| Error::io("rename into", dir.join(file), &e))?;
        } else {
            fsio::remove_optional(&next)?;
        }
        changed = true;
    }
    if changed {
        fsio::sync_dir(dir)?;
    }
    Ok(())
}

/// A rotation, on disk: stores the new pair as `next-` files, commits the history that names it (the commit
/// point), then renames the new files over the current ones. Before the commit, a failure removes what it wrote
/// and leaves everything as it was ([`Staged::Nothing`]); after it, the rotation has happened and `open` finishes
/// it after a crash.
pub(crate) fn rotate_on_disk(
    dir: &Path,
    ed25519_pkcs8: &[u8],
    ecdsa_pkcs8: &[u8],
    records: &[KeyRecord],
) -> Result<(), Staged> {
    let undo = |e: Error| {
        for file in [ED25519_FILE, ECDSA_FILE] {
            let _ = fsio::remove_optional(&dir.join(format!("{NEXT_PREFIX}{file}")));
        }
        Staged::Nothing(e)
    };
    store_key(dir, &format!("{NEXT_PREFIX}{ED25519_FILE}"), ed25519_pkcs8).map_err(undo)?;
    store_key(dir, &format!("{NEXT_PREFIX}{ECDSA_FILE}"), ecdsa_pkcs8).map_err(undo)?;
    let bytes = history::encode(records).map_err(undo)?;
    fsio::replace_file(&dir.join(history::HISTORY_FILE), &bytes).map_err(undo)?;
    for file in [ED25519_FILE, ECDSA_FILE] {
        let next = dir.join(format!("{NEXT_PREFIX}{file}"));
        std::fs::rename(&next, dir.join(file))
            .map_err(|e| Staged::Committed(Error::io("rename into", dir.join(file), &e)))?;
    }
    fsio::sync_dir(dir).map_err(Staged::Committed)
}

/// How far a failed [`rotate_on_disk`] got.
pub(crate) enum Staged {
    /// Nothing changed.
    Nothing(Error),
    /// The history names the new keys: the rotation happened, and the next open finishes it.
    Committed(Error),
}

/// One key file: the stored key (which a given key must equal), else the given key, else a generated one (only
/// when `create`).
fn load_one(
    dir: &Path,
    file: &str,
    what: &str,
    create: bool,
    given: Option<&[u8]>,
    generate: impl FnOnce() -> Result<Vec<u8>, Error>,
) -> Result<Vec<u8>, Error> {
    let path = dir.join(file);
    match (fsio::read_optional(&path)?, given) {
        (Some(stored), Some(given)) if stored != given => Err(Error::Key(format!(
            "{} holds a different {what} than the one given",
            path.display()
        ))),
        (Some(stored), _) => Ok(stored),
        (None, _) if !create => Err(Error::Key(format!("{} is missing", path.display()))),
        (None, given) => {
            let der = match given {
                Some(g) => g.to_vec(),
                None => generate()?,
            };
            store_key(dir, file, &der)?;
            Ok(der)
        }
    }
}

pub(crate) fn store_key(dir: &Path, name: &str, der: &[u8]) -> Result<(), Error> {
    let path = dir.join(name);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    fsio::write_synced(&tmp, der, Some(0o600))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename into", &path, &e))?;
    fsio::sync_dir(dir)
}
