//! A TUF repository kept in a directory, for `sigil tuf` and `sigil serve`:
//!
//! - `DIR/repo/`: exactly what is published (serve it as static files): `N.root.json` for every version,
//!   `root.json` (the newest), `timestamp.json`, `N.snapshot.json`, `N.targets.json`, `targets/<sha256>.<name>`.
//!   Older versions stay: a client in the middle of an update may still fetch them.
//! - `DIR/keys/<role>.key`: the private keys, encrypted in cosign's format (scrypt + secretbox); never under
//!   `repo/`. A replaced key is kept as `<role>.key.old.<root version that dropped it>`. A key kept offline is
//!   simply absent: operations that need it fail and say which file to bring back.
//! - `DIR/config.json`: the metadata lifetimes chosen at `init`.
//! - `DIR/.lock`: held (flock) by whoever changes the repository, so `sigil serve` and `sigil tuf` can work on
//!   one directory.
//!
//! Every file is written atomically (temporary file, fsync, rename, directory fsync), in the order
//! [`Repository::publish`] gives, so a reader never sees a timestamp naming a file that is not there yet.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sigil_crypto::{KeyAlgorithm, Signer as _, SigningKey};

use super::repo::{KeyRing, Lifetimes, Published, RepoError, Repository, Role};

/// Largest metadata file read back.
const MAX_METADATA: usize = 16 << 20;

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> RepoError + '_ {
    move |e| RepoError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The exclusive lock on a repository directory; released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

/// A repository directory (see the module documentation for its layout).
#[derive(Debug, Clone)]
pub struct RepoDir {
    dir: PathBuf,
}

impl RepoDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `DIR/repo`: what is published.
    pub fn repo(&self) -> PathBuf {
        self.dir.join("repo")
    }

    /// `DIR/keys/<role>.key`
    pub fn key_file(&self, role: Role) -> PathBuf {
        self.dir.join("keys").join(format!("{role}.key"))
    }

    /// `DIR/repo/1.root.json`: the root clients bootstrap from.
    pub fn first_root(&self) -> PathBuf {
        self.repo().join("1.root.json")
    }

    /// Whether a repository was initialised here.
    pub fn exists(&self) -> bool {
        self.repo().join("root.json").is_file()
    }

    /// Waits for, then takes, the exclusive lock on the directory.
    pub fn lock(&self) -> Result<DirLock, RepoError> {
        crate::create_dir(&self.dir, crate::Access::Private).map_err(io_err(&self.dir))?;
        let path = self.dir.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        fs4::FileExt::lock(&file).map_err(io_err(&path))?;
        Ok(DirLock { _file: file })
    }

    /// The lifetimes chosen at `init` (defaults when `config.json` is absent).
    pub fn lifetimes(&self) -> Result<Lifetimes, RepoError> {
        let path = self.dir.join("config.json");
        let mut lifetimes = Lifetimes::default();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(lifetimes),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| RepoError::Io {
            path: path.display().to_string(),
            reason: format!("not JSON: {e}"),
        })?;
        for role in Role::ALL {
            if let Some(s) = v
                .get("lifetimes")
                .and_then(|l| l.get(role.name()))
                .and_then(Value::as_i64)
                .filter(|s| *s > 0)
            {
                lifetimes.set(role, s);
            }
        }
        Ok(lifetimes)
    }

    fn write_lifetimes(&self, lifetimes: &Lifetimes) -> Result<(), RepoError> {
        let mut l = serde_json::Map::new();
        for role in Role::ALL {
            l.insert(role.name().into(), json!(lifetimes.get(role)));
        }
        let mut bytes = serde_json::to_vec_pretty(&json!({ "lifetimes": l })).map_err(|e| RepoError::Io {
            path: "config.json".into(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        write_atomic(&self.dir.join("config.json"), &bytes, false)
    }

    /// Creates a repository: a fresh `alg` key per role (encrypted under `password`), root version 1 and
    /// targets holding `targets` (name, bytes), with snapshot and timestamp. Refuses a directory that already
    /// holds a repository or keys.
    pub fn init(
        &self,
        alg: KeyAlgorithm,
        lifetimes: &Lifetimes,
        password: &[u8],
        targets: &[(String, Vec<u8>)],
        now: i64,
    ) -> Result<Published, RepoError> {
        let _lock = self.lock()?;
        if self.exists() || Role::ALL.iter().any(|r| self.key_file(*r).exists()) {
            return Err(RepoError::Invalid(format!(
                "{} already holds a TUF repository or keys; choose another directory",
                self.dir.display()
            )));
        }
        let mut keys = Vec::new();
        for role in Role::ALL {
            let key = SigningKey::generate(alg).map_err(|e| RepoError::UnsupportedKey(e.to_string()))?;
            keys.push((role, key));
        }
        let publics: Vec<(Role, &sigil_crypto::VerifyingKey)> =
            keys.iter().map(|(r, k)| (*r, k.public_key())).collect();
        let mut repo = Repository::create(&publics)?;
        for (name, bytes) in targets {
            repo.set_target(name, bytes)?;
        }
        // Everything is checked; now write: keys, configuration, then the metadata.
        for (role, key) in &keys {
            self.write_key(&self.key_file(*role), key, password)?;
        }
        self.write_lifetimes(lifetimes)?;
        let mut ring = KeyRing::new();
        for (_, key) in keys {
            ring.add(Box::new(key))?;
        }
        let published = repo.publish(&ring, lifetimes, now)?;
        self.write(&published)?;
        Ok(published)
    }

    fn write_key(&self, path: &Path, key: &SigningKey, password: &[u8]) -> Result<(), RepoError> {
        let pem = sigil_crypto::encrypt_private_key(key, password).map_err(|e| RepoError::KeyFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        write_atomic(path, pem.as_bytes(), true)
    }

    /// Reads the key of `role` (`keys/<role>.key`, and a `<role>.key.new` an interrupted rotation left), or
    /// nothing when the file is absent (the key is kept offline).
    pub fn load_keys(&self, role: Role, password: &[u8]) -> Result<Vec<SigningKey>, RepoError> {
        let base = self.key_file(role);
        let mut out = Vec::new();
        for path in [base.clone(), base.with_extension("key.new")] {
            let text = match std::fs::read(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&path)(e)),
            };
            let key_err = |reason: String| RepoError::KeyFile {
                path: path.display().to_string(),
                reason,
            };
            let text = String::from_utf8(text).map_err(|_| key_err("not text".into()))?;
            let key = sigil_crypto::decrypt_private_key(&text, password).map_err(|e| key_err(e.to_string()))?;
            out.push(key);
        }
        Ok(out)
    }

    /// A key ring with every key file present for `roles`.
    pub fn key_ring(&self, roles: &[Role], password: &[u8]) -> Result<KeyRing, RepoError> {
        let mut ring = KeyRing::new();
        for role in roles {
            for key in self.load_keys(*role, password)? {
                ring.add(Box::new(key))?;
            }
        }
        Ok(ring)
    }

    /// Loads the published repository (see [`Repository::load`]).
    pub fn load(&self) -> Result<Repository, RepoError> {
        let repo = self.repo();
        let read = |name: &str| -> Result<Vec<u8>, RepoError> {
            crate::read_bounded(&repo.join(name), MAX_METADATA).map_err(|e| RepoError::Io {
                path: repo.join(name).display().to_string(),
                reason: match e {
                    crate::Error::Io { reason, .. } => reason,
                    other => other.to_string(),
                },
            })
        };
        if !self.exists() {
            return Err(RepoError::Invalid(format!(
                "{} holds no TUF repository (no repo/root.json); create one with `sigil tuf init`",
                self.dir.display()
            )));
        }
        let first = read("root.json")?;
        let mut version = super::metadata::Envelope::parse(&first, "root")
            .ok()
            .and_then(|e| e.signed.get("version").and_then(Value::as_u64))
            .ok_or_else(|| RepoError::Invalid("repo/root.json has no version".into()))?;
        let mut roots = vec![first];
        while repo.join(format!("{}.root.json", version + 1)).is_file() {
            version += 1;
            roots.push(read(&format!("{version}.root.json"))?);
        }
        let timestamp = read("timestamp.json")?;
        let ts = super::metadata::Envelope::parse(&timestamp, "timestamp")?;
        let ts = super::metadata::Timestamp::parse(&ts.signed)?;
        let snapshot = read(&format!("{}.snapshot.json", ts.snapshot.version))?;
        let snap = super::metadata::Envelope::parse(&snapshot, "snapshot")?;
        let snap = super::metadata::Snapshot::parse(&snap.signed)?;
        let targets_version = snap.meta.get("targets.json").map_or(0, |m| m.version);
        let targets = read(&format!("{targets_version}.targets.json"))?;
        let mut loaded = Repository::load(&roots, &timestamp, &snapshot, &targets)?;
        for (role, suffix) in [(Role::Snapshot, ".snapshot.json"), (Role::Targets, ".targets.json")] {
            loaded.reserve_versions(role, highest_version(&repo, suffix));
        }
        Ok(loaded)
    }

    /// Writes what a publish produced, in its order. Content-addressed target files that exist are kept.
    pub fn write(&self, published: &Published) -> Result<(), RepoError> {
        let repo = self.repo();
        for f in &published.files {
            let path = repo.join(&f.path);
            if f.path.starts_with("targets/") && path.is_file() {
                continue;
            }
            write_atomic(&path, &f.bytes, false)?;
        }
        Ok(())
    }

    /// Locks, loads, lets `change` edit the repository and publishes what changed with `ring`. Nothing is
    /// written when `change` fails, when a key is missing, or when nothing changed.
    pub fn update<T>(
        &self,
        ring: &KeyRing,
        lifetimes: &Lifetimes,
        now: i64,
        change: impl FnOnce(&mut Repository) -> Result<T, RepoError>,
    ) -> Result<(T, Published), RepoError> {
        let _lock = self.lock()?;
        let mut repo = self.load()?;
        let t = change(&mut repo)?;
        if !repo.has_changes() {
            return Ok((t, Published::default()));
        }
        let published = repo.publish(ring, lifetimes, now)?;
        self.write(&published)?;
        Ok((t, published))
    }

    /// Replaces `role`'s key with a new one (`alg`, or the old key's algorithm): a new root names it (signed by
    /// the old root key and, for the root role, the new one too) and `role`'s metadata is signed with it. The
    /// old key file is kept as `<role>.key.old.<new root version>`.
    pub fn rotate_key(
        &self,
        role: Role,
        alg: Option<KeyAlgorithm>,
        password: &[u8],
        lifetimes: &Lifetimes,
        now: i64,
    ) -> Result<Published, RepoError> {
        let _lock = self.lock()?;
        let mut repo = self.load()?;
        // The role's own key files are read (and decrypted) once: for the ring and for the default algorithm.
        let own = self.load_keys(role, password)?;
        let alg = alg
            .or_else(|| own.first().map(|k| k.public_key().algorithm()))
            .unwrap_or(KeyAlgorithm::Ed25519);
        let others: Vec<Role> = Role::ALL.into_iter().filter(|r| *r != role).collect();
        let mut ring = self.key_ring(&others, password)?;
        for key in own {
            ring.add(Box::new(key))?;
        }
        let new = SigningKey::generate(alg).map_err(|e| RepoError::UnsupportedKey(e.to_string()))?;
        repo.rotate_key(role, new.public_key())?;
        let new_file = self.key_file(role).with_extension("key.new");
        let pem = sigil_crypto::encrypt_private_key(&new, password).map_err(|e| RepoError::KeyFile {
            path: new_file.display().to_string(),
            reason: e.to_string(),
        })?;
        ring.add(Box::new(new))?;
        // Checked before anything is written: every signer the new metadata needs.
        repo.check_signers(&ring)?;
        write_atomic(&new_file, pem.as_bytes(), true)?;
        let published = repo.publish(&ring, lifetimes, now)?;
        self.write(&published)?;
        let old = self.key_file(role);
        if old.exists() {
            let kept = old.with_extension(format!("key.old.{}", repo.version(Role::Root)));
            std::fs::rename(&old, &kept).map_err(io_err(&old))?;
        }
        std::fs::rename(&new_file, &old).map_err(io_err(&new_file))?;
        crate::sync_parent(&old);
        Ok(published)
    }
}

/// The highest N of the `N<suffix>` files in `dir` (0 if none).
fn highest_version(dir: &Path, suffix: &str) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(suffix))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .max()
        .unwrap_or(0)
}

/// [`crate::write_atomic`], keys (`private`) 0600 in a 0700 directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), RepoError> {
    let access = if private {
        crate::Access::Private
    } else {
        crate::Access::Shared
    };
    crate::write_atomic(path, bytes, access).map_err(io_err(path))
}
