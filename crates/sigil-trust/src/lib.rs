//! Trusted material: the keys and certificates a verifier may rely on, and where they come from.
//!
//! A [`TrustedMaterial`] is built from a Sigstore `TrustedRoot` and is the verifier's *only* key
//! source (SECURITY.md U-15, GHSA-xvrc): transparency-log keys, CT-log keys, Fulcio chains and TSA
//! chains, each with the validity window the root gives it. Windows are closed intervals and must
//! have a start; a root whose window lacks one is malformed and refused rather than read as
//! "valid forever" (conformance `trust-root-tlog-missing-validity-start_fail`).
//!
//! Sources: the public-good and staging roots embedded in the binary ([`TrustedMaterial::production`],
//! [`TrustedMaterial::staging`], from the sigstore-python 4.5.1 wheel, see `roots/README.md`), a file,
//! or anything implementing [`TrustSource`], such as a TUF repository ([`tuf::sigstore::TufTrustSource`]).

pub mod history;
pub mod tuf;

use std::path::Path;

use sigil_bundle::trust::{TimeRange, TransparencyLogInstance};
use sigil_bundle::{Limits, TrustedRoot};
use sigil_crypto::VerifyingKey;
use sigil_x509::Certificate;

/// The embedded public-good trusted root.
pub const PRODUCTION_TRUSTED_ROOT: &str = include_str!("../roots/production/trusted_root.json");
/// The embedded staging trusted root.
pub const STAGING_TRUSTED_ROOT: &str = include_str!("../roots/staging/trusted_root.json");
/// The embedded public-good signing config.
pub const PRODUCTION_SIGNING_CONFIG: &str = include_str!("../roots/production/signing_config.v0.2.json");
/// The embedded staging signing config.
pub const STAGING_SIGNING_CONFIG: &str = include_str!("../roots/staging/signing_config.v0.2.json");
/// The TUF root metadata that bootstraps the public-good TUF repository.
pub const PRODUCTION_TUF_ROOT: &str = include_str!("../roots/production/root.json");
/// The TUF root metadata that bootstraps the staging TUF repository.
pub const STAGING_TUF_ROOT: &str = include_str!("../roots/staging/root.json");

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("trusted root: {0}")]
    Format(#[from] sigil_bundle::Error),
    #[error("trusted root: {what} has a validity window without a start")]
    MissingValidityStart { what: String },
    #[error("trusted root: {what} has no validity window")]
    MissingValidity { what: String },
    #[error("trusted root: {what}: {reason}")]
    Invalid { what: String, reason: String },
    #[error("reading {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("TUF: {0}")]
    Tuf(#[from] tuf::TufError),
}

/// A closed time interval `[start, end]` in unix seconds; `end` may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub start: i64,
    pub end: Option<i64>,
}

impl Validity {
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|e| t <= e)
    }

    fn from_range(range: Option<&TimeRange>, what: &str) -> Result<Self, Error> {
        let range = range.ok_or_else(|| Error::MissingValidity { what: what.to_string() })?;
        let start = range
            .start
            .as_ref()
            .ok_or_else(|| Error::MissingValidityStart { what: what.to_string() })?;
        Ok(Self {
            start: start.unix(),
            end: range.end.as_ref().map(|e| e.unix()),
        })
    }
}

/// A transparency log (Rekor v1 or v2) the verifier trusts.
#[derive(Debug, Clone)]
pub struct TlogInstance {
    pub base_url: String,
    /// `host[:port]` of `base_url`.
    pub authority: String,
    /// The host name alone: a Rekor v2 checkpoint origin.
    pub hostname: String,
    pub log_id: Vec<u8>,
    pub checkpoint_key_id: Option<Vec<u8>>,
    pub key: VerifyingKey,
    pub validity: Validity,
}

/// A certificate-transparency log whose SCTs the verifier accepts.
#[derive(Debug, Clone)]
pub struct CtLogInstance {
    pub base_url: String,
    pub log_id: Vec<u8>,
    pub key: VerifyingKey,
    pub validity: Validity,
}

/// A certificate authority (Fulcio) or timestamp authority: its chain, issuing/leaf certificate first
/// and trust anchor last.
#[derive(Debug, Clone)]
pub struct Authority {
    pub uri: String,
    pub chain: Vec<Certificate>,
    pub validity: Validity,
}

/// Everything a verifier trusts, parsed and checked once.
#[derive(Debug, Clone)]
pub struct TrustedMaterial {
    pub tlogs: Vec<TlogInstance>,
    pub ctlogs: Vec<CtLogInstance>,
    pub certificate_authorities: Vec<Authority>,
    pub timestamp_authorities: Vec<Authority>,
    /// Instances skipped because sigil cannot use their key type (named for diagnostics).
    pub skipped: Vec<String>,
}

/// Where trusted material comes from.
pub trait TrustSource {
    fn trusted_material(&self) -> Result<TrustedMaterial, Error>;
}

impl TrustedMaterial {
    /// The embedded public-good root.
    pub fn production() -> Result<Self, Error> {
        Self::from_json(PRODUCTION_TRUSTED_ROOT.as_bytes())
    }

    /// The embedded staging root.
    pub fn staging() -> Result<Self, Error> {
        Self::from_json(STAGING_TRUSTED_ROOT.as_bytes())
    }

    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        Self::from_trusted_root(&TrustedRoot::from_json(json, &Limits::default())?)
    }

    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let json = read_bounded(path, Limits::default().max_trusted_root_bytes)?;
        Self::from_json(&json)
    }

    pub fn from_trusted_root(root: &TrustedRoot) -> Result<Self, Error> {
        let mut skipped = Vec::new();
        let mut tlogs = Vec::new();
        for (i, t) in root.tlogs.iter().enumerate() {
            let what = format!("tlogs[{i}] ({})", t.base_url);
            let Some(key) = log_key(t, &what, &mut skipped)? else {
                continue;
            };
            let authority = url_authority(&t.base_url);
            tlogs.push(TlogInstance {
                base_url: t.base_url.clone(),
                hostname: host_of_authority(&authority).to_string(),
                authority,
                log_id: t.log_id.key_id.0.clone(),
                checkpoint_key_id: t.checkpoint_key_id.as_ref().map(|k| k.key_id.0.clone()),
                key,
                validity: Validity::from_range(t.public_key.valid_for.as_ref(), &what)?,
            });
        }
        let mut ctlogs = Vec::new();
        for (i, t) in root.ctlogs.iter().enumerate() {
            let what = format!("ctlogs[{i}] ({})", t.base_url);
            let Some(key) = log_key(t, &what, &mut skipped)? else {
                continue;
            };
            ctlogs.push(CtLogInstance {
                base_url: t.base_url.clone(),
                log_id: t.log_id.key_id.0.clone(),
                key,
                validity: Validity::from_range(t.public_key.valid_for.as_ref(), &what)?,
            });
        }
        let authorities =
            |list: &[sigil_bundle::trust::CertificateAuthority], kind: &str| -> Result<Vec<Authority>, Error> {
                let mut out = Vec::new();
                for (i, ca) in list.iter().enumerate() {
                    let what = format!("{kind}[{i}] ({})", ca.uri);
                    if ca.cert_chain.certificates.is_empty() {
                        return Err(Error::Invalid {
                            what,
                            reason: "empty certificate chain".into(),
                        });
                    }
                    let chain = ca
                        .cert_chain
                        .certificates
                        .iter()
                        .map(|c| Certificate::from_der(&c.raw_bytes))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| Error::Invalid {
                            what: what.clone(),
                            reason: e.to_string(),
                        })?;
                    out.push(Authority {
                        uri: ca.uri.clone(),
                        chain,
                        validity: Validity::from_range(ca.valid_for.as_ref(), &what)?,
                    });
                }
                Ok(out)
            };
        Ok(Self {
            tlogs,
            ctlogs,
            certificate_authorities: authorities(&root.certificate_authorities, "certificateAuthorities")?,
            timestamp_authorities: authorities(&root.timestamp_authorities, "timestampAuthorities")?,
            skipped,
        })
    }

    /// The transparency logs whose log ID or checkpoint key ID equals `key_id`.
    pub fn tlogs_by_id<'a>(&'a self, key_id: &'a [u8]) -> impl Iterator<Item = &'a TlogInstance> + 'a {
        self.tlogs
            .iter()
            .filter(move |t| t.log_id == key_id || t.checkpoint_key_id.as_deref() == Some(key_id))
    }
}

/// Parses a log key; unusable key types are skipped (recorded), malformed keys of known types are errors.
fn log_key(t: &TransparencyLogInstance, what: &str, skipped: &mut Vec<String>) -> Result<Option<VerifyingKey>, Error> {
    let Some(raw) = &t.public_key.raw_bytes else {
        return Err(Error::Invalid {
            what: what.to_string(),
            reason: "public key has no rawBytes".into(),
        });
    };
    let parsed = match t.public_key.key_details.as_deref() {
        Some(d) if d.starts_with("PKCS1_") => VerifyingKey::from_pkcs1_rsa_der(raw),
        _ => VerifyingKey::from_spki_der(raw),
    };
    match parsed {
        Ok(k) => Ok(Some(k)),
        Err(sigil_crypto::Error::UnsupportedAlgorithm(a)) => {
            skipped.push(format!("{what}: {a}"));
            Ok(None)
        }
        Err(e) => Err(Error::Invalid {
            what: what.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// `host[:port]` of a URL (scheme and path removed).
pub fn url_authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest).to_string()
}

/// The host of `host[:port]` (IPv6 literals keep their brackets removed).
pub fn host_of_authority(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// Reads a file of at most `max` bytes.
pub fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    f.take(max as u64 + 1).read_to_end(&mut buf).map_err(io)?;
    if buf.len() > max {
        return Err(Error::Io {
            path: path.display().to_string(),
            reason: format!("larger than {max} bytes"),
        });
    }
    Ok(buf)
}

/// Who may read what [`write_atomic`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// 0644 files in 0755 directories (published metadata, trust files).
    Shared,
    /// 0600 files in 0700 directories (keys, caches of what a user trusts).
    Private,
}

/// Creates `dir` and its parents with the modes of `access` (Unix).
pub fn create_dir(dir: &Path, access: Access) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(if access == Access::Private { 0o700 } else { 0o755 });
    }
    #[cfg(not(unix))]
    let _ = access;
    builder.create(dir)
}

/// Fsyncs the directory holding `file`, so a rename into it is durable (best effort).
pub fn sync_parent(file: &Path) {
    if let Some(parent) = file.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` so readers never see half a file and a crash leaves the old or the new one:
/// a temporary file in the same directory (created if missing), fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent directory"))?;
    create_dir(dir, access)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(if access == Access::Private { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes).and_then(|()| f.sync_all())?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_parent(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_load() {
        let p = TrustedMaterial::production().unwrap();
        assert_eq!(p.tlogs.len(), 2);
        assert_eq!(p.tlogs[0].hostname, "rekor.sigstore.dev");
        assert_eq!(p.tlogs[1].hostname, "log2025-1.rekor.sigstore.dev");
        assert_eq!(p.certificate_authorities.len(), 2);
        assert_eq!(p.timestamp_authorities.len(), 1);
        assert!(p.skipped.is_empty());
        let s = TrustedMaterial::staging().unwrap();
        assert!(!s.tlogs.is_empty());
        assert_eq!(
            hex(&sigil_crypto::sha256(PRODUCTION_TRUSTED_ROOT.as_bytes())),
            "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66"
        );
    }

    #[test]
    fn rekor_v1_log_id_is_spki_hash() {
        let p = TrustedMaterial::production().unwrap();
        for t in p
            .tlogs
            .iter()
            .filter(|t| t.key.algorithm() != sigil_crypto::KeyAlgorithm::Ed25519)
        {
            assert_eq!(t.log_id, t.key.sha256_key_id().to_vec());
        }
        for c in &p.ctlogs {
            assert_eq!(c.log_id, c.key.sha256_key_id().to_vec());
        }
    }

    #[test]
    fn missing_start_is_refused() {
        let mut v: serde_json::Value = serde_json::from_str(PRODUCTION_TRUSTED_ROOT).unwrap();
        v["tlogs"][0]["publicKey"]["validFor"]
            .as_object_mut()
            .unwrap()
            .remove("start");
        let err = TrustedMaterial::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(matches!(err, Error::MissingValidityStart { .. }), "{err}");
        let mut v: serde_json::Value = serde_json::from_str(PRODUCTION_TRUSTED_ROOT).unwrap();
        v["certificateAuthorities"][0]
            .as_object_mut()
            .unwrap()
            .remove("validFor");
        assert!(matches!(
            TrustedMaterial::from_json(v.to_string().as_bytes()),
            Err(Error::MissingValidity { .. })
        ));
    }

    #[test]
    fn validity_is_closed() {
        let v = Validity {
            start: 10,
            end: Some(20),
        };
        assert!(v.contains(10) && v.contains(20) && !v.contains(9) && !v.contains(21));
        assert!(Validity { start: 10, end: None }.contains(i64::MAX));
    }

    #[test]
    fn urls() {
        assert_eq!(url_authority("https://rekor.sigstore.dev"), "rekor.sigstore.dev");
        assert_eq!(url_authority("http://127.0.0.1:3002/api"), "127.0.0.1:3002");
        assert_eq!(host_of_authority("127.0.0.1:3002"), "127.0.0.1");
        assert_eq!(host_of_authority("[::1]:80"), "::1");
        assert_eq!(host_of_authority("example.com"), "example.com");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
