//! The authorities' keys and certificates: generated on first start and stored in a directory, or loaded from
//! it on later starts. Private keys are PKCS#8 DER files readable only by the owner; certificates are PEM.
//!
//! Layout of a directory: `root.pem` (self-signed), `root-key.pk8`, `issuer.pem` (the certificate that signs
//! leaves or time-stamps), `issuer-key.pk8`. Operators can put their own `root.pem`, `issuer.pem` and issuing key
//! (`issuer-key.pk8`, or PEM `issuer-key.pem`) there before the first start; nothing is generated then.
//!
//! **Intermediate rotation** (code-signing CAs): [`new_intermediate`] makes a new issuing key and certificate
//! under the same root (it is the only function that reads `root-key.pk8`; a running CA never does), and
//! [`activate_intermediate`] makes it the current one. `history.json` records every issuing certificate the
//! directory has had, with when each was activated and retired; it is the rotation's commit point:
//!
//! ```json
//! {"version": 1, "generations": [
//!   {"certificate": "<b64 DER>", "activated": 1700000000, "retired": 1700500000},
//!   {"certificate": "<b64 DER>", "activated": 1700500000}
//! ]}
//! ```
//!
//! A directory never rotated has no history: its one generation is `issuer.pem`, active since the root's
//! notBefore. The retired issuing keys are not kept.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sigil_crypto::{KeyAlgorithm, Signer, SigningKey};
use sigil_x509::{Certificate, Issuer, Name, intermediate, self_signed_root, tsa_leaf};

use crate::Error;

const YEAR: i64 = 365 * 86_400;

/// Certificates and the key that signs with the last one.
#[derive(Debug, Clone)]
pub struct Material {
    /// The issuing certificate's key.
    pub signer: Arc<SigningKey>,
    /// The issuing certificate followed by the root (DER).
    pub chain: Vec<Vec<u8>>,
}

impl Material {
    /// The root (last) certificate.
    pub fn root(&self) -> &[u8] {
        self.chain.last().map_or(&[], Vec::as_slice)
    }

    /// The issuing (first) certificate.
    pub fn issuing(&self) -> &[u8] {
        self.chain.first().map_or(&[], Vec::as_slice)
    }
}

/// What kind of issuing certificate the directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An intermediate CA for code-signing leaves (P-256, so issuance stays fast).
    CodeSigningCa,
    /// An RFC 3161 signer (ECDSA P-256 with critical EKU timeStamping: what sigstore-js and Python accept).
    TimestampSigner,
}

fn setup(what: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Setup(format!("{what}: {e}"))
}

/// Loads the material in `dir`, or creates it (at time `now`) when the directory has none.
pub fn load_or_create(dir: &Path, kind: Kind, organization: &str, now: i64) -> Result<Material, Error> {
    let issuer_pem = dir.join("issuer.pem");
    if issuer_pem.exists() {
        return load(dir);
    }
    std::fs::create_dir_all(dir).map_err(|e| setup("creating the directory")(e.to_string()))?;
    let root_key = SigningKey::generate(KeyAlgorithm::EcdsaP384).map_err(|e| setup("root key")(e.to_string()))?;
    let label = match kind {
        Kind::CodeSigningCa => "sigil-ca",
        Kind::TimestampSigner => "sigil-tsa",
    };
    let root_name = Name {
        organization: organization.to_string(),
        common_name: format!("{label} root"),
    };
    // A minute of slack before now, so a client whose clock lags slightly still sees valid CA certificates.
    let not_before = now - 60;
    let root_der = self_signed_root(&root_key, &root_name, not_before, now + 10 * YEAR)
        .map_err(|e| setup("root certificate")(e.to_string()))?;
    let root_key = Arc::new(root_key);
    let root = Issuer::from_der(&root_der, Arc::clone(&root_key) as Arc<dyn Signer>)
        .map_err(|e| setup("root certificate")(e.to_string()))?;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| setup("issuing key")(e.to_string()))?;
    let issuing_der = match kind {
        Kind::CodeSigningCa => intermediate(
            &root,
            key.public_key(),
            &Name {
                organization: organization.to_string(),
                common_name: format!("{label} intermediate"),
            },
            not_before,
            now + 5 * YEAR,
            Some(0),
        ),
        Kind::TimestampSigner => tsa_leaf(
            &root,
            key.public_key(),
            &Name {
                organization: organization.to_string(),
                common_name: format!("{label} signer"),
            },
            not_before,
            now + 5 * YEAR,
        ),
    }
    .map_err(|e| setup("issuing certificate")(e.to_string()))?;
    write_private(&dir.join("root-key.pk8"), root_key.to_pkcs8_der())?;
    write_file(
        &dir.join("root.pem"),
        sigil_crypto::pem_encode("CERTIFICATE", &root_der).as_bytes(),
        false,
    )?;
    write_private(&dir.join("issuer-key.pk8"), key.to_pkcs8_der())?;
    // Written last: its presence marks the directory complete.
    write_file(
        &issuer_pem,
        sigil_crypto::pem_encode("CERTIFICATE", &issuing_der).as_bytes(),
        false,
    )?;
    sync_dir(dir)?;
    Ok(Material {
        signer: Arc::new(key),
        chain: vec![issuing_der, root_der],
    })
}

fn load(dir: &Path) -> Result<Material, Error> {
    let history = read_history(dir)?;
    recover(dir, history.as_deref())?;
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| setup(name)(e.to_string()));
    let pem = |name: &str| -> Result<Vec<u8>, Error> {
        let text = String::from_utf8(read(name)?).map_err(|_| setup(name)("not UTF-8".into()))?;
        sigil_crypto::pem_decode_one(&text, "CERTIFICATE").map_err(|e| setup(name)(e.to_string()))
    };
    let issuing = pem("issuer.pem")?;
    let root = pem("root.pem")?;
    let cert = Certificate::from_der(&issuing).map_err(|e| setup("issuer.pem")(e.to_string()))?;
    // An operator's key may come as PEM (`issuer-key.pem`, PKCS#8 `PRIVATE KEY`); generated ones are DER. After
    // a rotation the DER file holds the new key and a PEM one (the operator's first) is stale: the key that
    // matches the certificate is the one.
    let pem_key = if dir.join("issuer-key.pem").exists() {
        let text =
            String::from_utf8(read("issuer-key.pem")?).map_err(|_| setup("issuer-key.pem")("not UTF-8".into()))?;
        Some(SigningKey::from_pkcs8_pem(&text).map_err(|e| setup("issuer-key.pem")(e.to_string()))?)
    } else {
        None
    };
    let key = match pem_key {
        Some(k) if k.public_key() == cert.public_key() || !dir.join("issuer-key.pk8").exists() => k,
        _ => {
            SigningKey::from_pkcs8_der(&read("issuer-key.pk8")?).map_err(|e| setup("issuer-key.pk8")(e.to_string()))?
        }
    };
    if cert.public_key() != key.public_key() {
        return Err(Error::Setup(
            "issuer.pem does not hold the issuing key's public key".into(),
        ));
    }
    if let Some(current) = history.as_ref().and_then(|h| h.last()) {
        if current.certificate != issuing {
            return Err(Error::Setup(format!(
                "{}: its current generation is not issuer.pem",
                dir.join(HISTORY_FILE).display()
            )));
        }
    }
    Ok(Material {
        signer: Arc::new(key),
        chain: vec![issuing, root],
    })
}

// ---------- intermediate rotation ----------

const HISTORY_FILE: &str = "history.json";
/// Largest history file read (a generation is about 1 KB).
const MAX_HISTORY_BYTES: usize = 4 << 20;
/// Most generations a history may hold.
pub const MAX_CA_GENERATIONS: usize = 1024;
/// A rotation's new files before the history names them (then renamed over `issuer.pem` / `issuer-key.pk8`).
const NEXT_CERT: &str = "next-issuer.pem";
const NEXT_KEY: &str = "next-issuer-key.pk8";

/// One issuing certificate a CA directory has had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaGeneration {
    /// The issuing certificate (DER); its chain continues with the directory's root.
    pub certificate: Vec<u8>,
    /// When it started issuing (Unix seconds; for the first, the root's notBefore).
    pub activated: i64,
    /// When it stopped; `None` for the current one. It issued nothing after, and the leaves it issued before
    /// live at most the CA's leaf lifetime beyond it.
    pub retired: Option<i64>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HistoryRecord {
    certificate: String,
    activated: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired: Option<i64>,
}

impl sigil_trust::history::Dated for HistoryRecord {
    fn activated(&self) -> i64 {
        self.activated
    }
    fn retired(&self) -> Option<i64> {
        self.retired
    }
}

fn history_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Setup(format!("CA history {}: {reason}", path.display()))
}

/// Parses a CA history file's bytes (`path` names it in errors). Bounded: at most 4 MiB and
/// [`MAX_CA_GENERATIONS`]. Checks: every certificate parses and is a CA, none appears twice, every generation but
/// the last is retired, and times never go backwards ([`sigil_trust::history::parse`]).
pub fn parse_history(bytes: &[u8], path: &Path) -> Result<Vec<CaGeneration>, Error> {
    let decode = |r: HistoryRecord| {
        let der = B64.decode(&r.certificate).map_err(|e| ("certificate", e.to_string()))?;
        let cert = Certificate::from_der(&der).map_err(|e| ("certificate", e.to_string()))?;
        if !cert.is_ca() {
            return Err(("certificate", "not a CA certificate".to_string()));
        }
        Ok(CaGeneration {
            certificate: der,
            activated: r.activated,
            retired: r.retired,
        })
    };
    let reuse = sigil_trust::history::Reuse {
        same: |a: &CaGeneration, b: &CaGeneration| a.certificate == b.certificate,
        field: "certificate",
        reason: "already in an earlier generation",
    };
    sigil_trust::history::parse(bytes, MAX_HISTORY_BYTES, MAX_CA_GENERATIONS, decode, reuse)
        .map_err(|r| history_error(path, r))
}

fn encode_history(generations: &[CaGeneration]) -> Result<Vec<u8>, Error> {
    let records = generations
        .iter()
        .map(|g| HistoryRecord {
            certificate: B64.encode(&g.certificate),
            activated: g.activated,
            retired: g.retired,
        })
        .collect();
    sigil_trust::history::encode::<HistoryRecord>(records)
        .map_err(|e| Error::Setup(format!("encoding the CA history: {e}")))
}

fn read_history(dir: &Path) -> Result<Option<Vec<CaGeneration>>, Error> {
    let path = dir.join(HISTORY_FILE);
    match sigil_trust::history::read(&path, MAX_HISTORY_BYTES).map_err(|e| history_error(&path, e))? {
        Some(bytes) => parse_history(&bytes, &path).map(Some),
        None => Ok(None),
    }
}

/// Every issuing certificate of the CA in `dir`, oldest first (the last is current). Read-only: safe while a CA
/// runs on the directory. The history, once there is one, is the authority (the files may lag it for a moment
/// during a rotation).
pub fn generations(dir: &Path) -> Result<Vec<CaGeneration>, Error> {
    if let Some(h) = read_history(dir)? {
        return Ok(h);
    }
    let read_pem = |name: &str| -> Result<Vec<u8>, Error> {
        let text = std::fs::read_to_string(dir.join(name)).map_err(|e| setup(name)(e.to_string()))?;
        sigil_crypto::pem_decode_one(&text, "CERTIFICATE").map_err(|e| setup(name)(e.to_string()))
    };
    let root = Certificate::from_der(&read_pem("root.pem")?).map_err(|e| setup("root.pem")(e.to_string()))?;
    Ok(vec![CaGeneration {
        certificate: read_pem("issuer.pem")?,
        activated: root.not_before(),
        retired: None,
    }])
}

/// A new issuing key and certificate, made but not in use yet.
#[derive(Clone, PartialEq, Eq)]
pub struct StagedIntermediate {
    /// The certificate (DER), issued by the directory's root.
    pub certificate: Vec<u8>,
    /// Its key (PKCS#8 DER).
    pub key_pkcs8: Vec<u8>,
}

impl std::fmt::Debug for StagedIntermediate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedIntermediate")
            .field("certificate_len", &self.certificate.len())
            .finish_non_exhaustive()
    }
}

/// Makes a new P-256 issuing key and an intermediate certificate for it, signed by the root key of the CA in
/// `dir` (`root-key.pk8`), valid from a minute before `now` for five years (or until the root expires). Changes
/// nothing on disk.
pub fn new_intermediate(dir: &Path, organization: &str, now: i64) -> Result<StagedIntermediate, Error> {
    let root_key_path = dir.join("root-key.pk8");
    let root_key = std::fs::read(&root_key_path)
        .map_err(|e| setup(&root_key_path.display().to_string())(e.to_string()))
        .and_then(|der| SigningKey::from_pkcs8_der(&der).map_err(|e| setup("root-key.pk8")(e.to_string())))?;
    let root_text = std::fs::read_to_string(dir.join("root.pem")).map_err(|e| setup("root.pem")(e.to_string()))?;
    let root_der =
        sigil_crypto::pem_decode_one(&root_text, "CERTIFICATE").map_err(|e| setup("root.pem")(e.to_string()))?;
    let root = Issuer::from_der(&root_der, Arc::new(root_key) as Arc<dyn Signer>)
        .map_err(|e| setup("root.pem and root-key.pk8")(e.to_string()))?;
    let not_before = now - 60;
    let not_after = (now + 5 * YEAR).min(root.certificate().not_after());
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| setup("issuing key")(e.to_string()))?;
    let certificate = intermediate(
        &root,
        key.public_key(),
        &Name {
            organization: organization.to_string(),
            common_name: "sigil-ca intermediate".into(),
        },
        not_before,
        not_after,
        Some(0),
    )
    .map_err(|e| setup("intermediate certificate")(e.to_string()))?;
    Ok(StagedIntermediate {
        certificate,
        key_pkcs8: key.to_pkcs8_der().to_vec(),
    })
}

/// Checks a staged intermediate against the CA in `dir`: the key is the certificate's, the certificate is a CA
/// issued by the root, valid at `now`, and new. Returns the material it makes.
pub fn check_intermediate(dir: &Path, staged: &StagedIntermediate, now: i64) -> Result<Material, Error> {
    checked(dir, staged, now).map(|(material, _)| material)
}

/// [`check_intermediate`], also returning the history it read.
fn checked(dir: &Path, staged: &StagedIntermediate, now: i64) -> Result<(Material, Vec<CaGeneration>), Error> {
    let bad = |reason: String| Error::Setup(format!("the new intermediate: {reason}"));
    let key = SigningKey::from_pkcs8_der(&staged.key_pkcs8).map_err(|e| bad(format!("key: {e}")))?;
    let cert = Certificate::from_der(&staged.certificate).map_err(|e| bad(format!("certificate: {e}")))?;
    let current = load(dir)?;
    let root = Certificate::from_der(current.root()).map_err(|e| setup("root.pem")(e.to_string()))?;
    cert.verify_issued_by(&root)
        .map_err(|e| bad(format!("not issued by this CA's root: {e}")))?;
    if !cert.valid_at(now) {
        return Err(bad(format!(
            "not valid now (valid {} to {})",
            cert.not_before(),
            cert.not_after()
        )));
    }
    // The same checks as any issuer: a CA with keyCertSign and an SKI, key matching.
    let key = Arc::new(key);
    Issuer::new(cert, Arc::clone(&key) as Arc<dyn Signer>).map_err(|e| bad(e.to_string()))?;
    let history = generations(dir)?;
    if history.iter().any(|g| g.certificate == staged.certificate) {
        return Err(bad("this certificate was used before".into()));
    }
    let material = Material {
        signer: key,
        chain: vec![staged.certificate.clone(), current.root().to_vec()],
    };
    Ok((material, history))
}

/// Makes `staged` the issuing certificate of the CA in `dir` as of `now`: checks it ([`check_intermediate`]),
/// writes it as `next-` files, commits the history (the current certificate retired at `now`, the new one
/// activated), then renames the new files over `issuer.pem` and `issuer-key.pk8`. A failure before the commit
/// changes nothing; after it, the next [`load_or_create`] finishes the rotation. Returns the new material and
/// the history.
pub fn activate_intermediate(
    dir: &Path,
    staged: &StagedIntermediate,
    now: i64,
) -> Result<(Material, Vec<CaGeneration>), Error> {
    let (material, mut history) = checked(dir, staged, now)?;
    if let Some(current) = history.last_mut() {
        if now < current.activated {
            return Err(Error::Setup(format!(
                "rotation time {now} is before the current intermediate was activated ({})",
                current.activated
            )));
        }
        current.retired = Some(now);
    }
    history.push(CaGeneration {
        certificate: staged.certificate.clone(),
        activated: now,
        retired: None,
    });
    let bytes = encode_history(&history)?;
    let undo = |e: Error| {
        let _ = std::fs::remove_file(dir.join(NEXT_CERT));
        let _ = std::fs::remove_file(dir.join(NEXT_KEY));
        e
    };
    let cert_pem = sigil_crypto::pem_encode("CERTIFICATE", &staged.certificate);
    replace_synced(&dir.join(NEXT_CERT), cert_pem.as_bytes(), false).map_err(undo)?;
    replace_synced(&dir.join(NEXT_KEY), &staged.key_pkcs8, true).map_err(undo)?;
    replace_synced(&dir.join(HISTORY_FILE), &bytes, false).map_err(undo)?;
    // Committed.
    promote(dir)?;
    Ok((material, history))
}

/// Renames the `next-` files over the current ones (key first: a crash in between leaves a key that does not
/// match `issuer.pem`, which [`recover`] resolves from the history).
fn promote(dir: &Path) -> Result<(), Error> {
    for (from, to) in [(NEXT_KEY, "issuer-key.pk8"), (NEXT_CERT, "issuer.pem")] {
        if dir.join(from).exists() {
            std::fs::rename(dir.join(from), dir.join(to)).map_err(|e| setup(to)(e.to_string()))?;
        }
    }
    sync_dir(dir)
}

/// A rotation a crash interrupted: if the history names the `next-` certificate (or `issuer.pem` already is it
/// and a `next-` key is left), the rotation committed and is finished; otherwise the `next-` files are removed.
fn recover(dir: &Path, history: Option<&[CaGeneration]>) -> Result<(), Error> {
    let (cert_path, key_path) = (dir.join(NEXT_CERT), dir.join(NEXT_KEY));
    if !cert_path.exists() && !key_path.exists() {
        return Ok(());
    }
    let current = history.and_then(|h| h.last()).map(|g| g.certificate.as_slice());
    let staged_cert = std::fs::read_to_string(&cert_path)
        .ok()
        .and_then(|t| sigil_crypto::pem_decode_one(&t, "CERTIFICATE").ok());
    let committed = match (&staged_cert, current) {
        (Some(c), Some(cur)) => c.as_slice() == cur,
        // The certificate was renamed already: the key is the one left to move if it matches `issuer.pem`.
        (None, Some(cur)) => {
            let key = std::fs::read(&key_path)
                .ok()
                .and_then(|d| SigningKey::from_pkcs8_der(&d).ok());
            let issuing = Certificate::from_der(cur).ok();
            matches!((key, issuing), (Some(k), Some(c)) if k.public_key() == c.public_key())
        }
        _ => false,
    };
    if committed {
        return promote(dir);
    }
    for p in [cert_path, key_path] {
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| setup(&p.display().to_string())(e.to_string()))?;
        }
    }
    sync_dir(dir)
}

/// [`sigil_trust::write_atomic`]: via a temporary name, fsync, rename, fsync of the directory (an existing file is
/// replaced); `private` files are 0600.
fn replace_synced(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    let access = if private {
        sigil_trust::Access::Private
    } else {
        sigil_trust::Access::Shared
    };
    sigil_trust::write_atomic(path, bytes, access).map_err(|e| setup(&path.display().to_string())(e.to_string()))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_file(path, bytes, true)
}

/// Writes a new file durably (create-new: an existing file is never overwritten).
fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let what = path.display().to_string();
    let mut f = opts.open(path).map_err(|e| setup(&what)(e.to_string()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| setup(&what)(e.to_string()))
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| setup("syncing the directory")(e.to_string()))
}
