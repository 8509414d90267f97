//! The TUF updater: a cache directory, the refresh workflow (specification §5.3–5.6), delegation search and
//! target download, over a caller-provided [`Fetch`].
//!
//! The cache is never trusted for what it says, only for what it proves: on every open the root chain is
//! re-verified from the pinned root (which the caller holds: embedded, or given at `trust init`), cached
//! timestamp/snapshot/targets are re-verified against it, and a cached target is used only if its length
//! and hashes match the trusted targets metadata (SECURITY.md U-14). Nothing is written to the cache before
//! it is accepted, and every write is atomic ([`crate::write_atomic`]).
//!
//! Cache layout: `root/<version>.json` (every accepted root after the pinned one), `timestamp.json`,
//! `snapshot.json`, `targets.json`, `delegated/<role>.json`, `targets/<name>` (names percent-encoded into
//! one file-name component, [`super::names::file_name`]).

use std::path::{Path, PathBuf};

use super::metadata::{TargetFile, Targets};
use super::names::{check_name, file_name, url_path};
use super::trusted::{Origin, TrustedSet, Update, check_length_and_hashes};
use super::{ExpiryPolicy, Fetch, FetchError, TufError};

/// Byte and count limits for what a repository can make the client read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TufLimits {
    pub root_bytes: u64,
    pub timestamp_bytes: u64,
    /// Used when timestamp gives no length for snapshot.
    pub snapshot_bytes: u64,
    /// Used when snapshot gives no length for a targets file.
    pub targets_bytes: u64,
    /// Root versions followed in one refresh.
    pub max_root_rotations: u64,
    /// Roles visited in one delegation search.
    pub max_delegations: usize,
    /// Largest target accepted, whatever its signed length says.
    pub target_bytes: u64,
}

impl Default for TufLimits {
    /// python-tuf's defaults for metadata; 64 MiB for targets (Sigstore's are a few KiB).
    fn default() -> Self {
        Self {
            root_bytes: 512_000,
            timestamp_bytes: 16_384,
            snapshot_bytes: 2_000_000,
            targets_bytes: 5_000_000,
            max_root_rotations: 256,
            max_delegations: 32,
            target_bytes: 64 << 20,
        }
    }
}

/// Where a repository is and where its cache lives.
#[derive(Debug, Clone)]
pub struct RepositoryConfig {
    /// Base URL of the metadata (`…/N.root.json`, `…/timestamp.json`).
    pub metadata_url: String,
    /// Base URL of the targets (`…/<sha256>.<name>` with consistent snapshots).
    pub targets_url: String,
    pub cache_dir: PathBuf,
    pub limits: TufLimits,
}

impl RepositoryConfig {
    /// The usual layout: metadata at `mirror`, targets at `mirror/targets`.
    pub fn for_mirror(mirror: &str, cache_dir: PathBuf) -> Self {
        let base = mirror.trim_end_matches('/');
        Self {
            metadata_url: base.to_string(),
            targets_url: format!("{base}/targets"),
            cache_dir,
            limits: TufLimits::default(),
        }
    }
}

/// Online (refresh from the repository, expiry enforced) or offline (the cache only, expiry reported but not
/// enforced: an explicit choice, never a fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Online,
    Offline,
}

/// A TUF client over one repository and its cache.
#[derive(Debug)]
pub struct Updater {
    config: RepositoryConfig,
    set: TrustedSet,
    mode: Mode,
    refreshed: bool,
}

impl Updater {
    /// Starts from `pinned_root` and the cache's later root versions, each verified in order. No network.
    pub fn open(config: RepositoryConfig, pinned_root: &[u8], now: i64, mode: Mode) -> Result<Self, TufError> {
        let expiry = match mode {
            Mode::Online => ExpiryPolicy::Enforce,
            Mode::Offline => ExpiryPolicy::IgnoreOffline,
        };
        let mut set = TrustedSet::new(pinned_root, now, expiry)?;
        let roots = config.cache_dir.join("root");
        loop {
            let next = set.root().signed.common.version + 1;
            let path = roots.join(format!("{next}.json"));
            let Ok(bytes) = read_limited(&path, config.limits.root_bytes) else {
                break;
            };
            // A cached root that does not verify ends the chain; the refresh fetches that version again.
            if set.update_root(&bytes).is_err() {
                break;
            }
        }
        Ok(Self {
            config,
            set,
            mode,
            refreshed: false,
        })
    }

    /// The trusted metadata.
    pub fn trusted(&self) -> &TrustedSet {
        &self.set
    }

    pub fn config(&self) -> &RepositoryConfig {
        &self.config
    }

    /// Brings the trusted metadata up to date: root versions one by one, then timestamp, snapshot and
    /// top-level targets. Offline, loads them from the cache and requires them to be complete.
    pub fn refresh(&mut self, fetch: Option<&dyn Fetch>) -> Result<(), TufError> {
        let remote = match (self.mode, fetch) {
            (Mode::Online, Some(f)) => Some(f),
            (Mode::Online, None) => return Err(TufError::Order("an online refresh needs a fetcher")),
            (Mode::Offline, _) => None,
        };
        if self.refreshed {
            return Err(TufError::Order("refresh runs once per updater"));
        }
        self.refreshed = true;
        if let Some(fetch) = remote {
            self.update_root(fetch)?;
        }
        self.set.check_root()?;
        self.load_timestamp(remote)?;
        self.load_snapshot(remote)?;
        self.load_targets("targets", "root", remote)?;
        Ok(())
    }

    fn update_root(&mut self, fetch: &dyn Fetch) -> Result<(), TufError> {
        let before = self.set.root().signed.roles.clone();
        for _ in 0..self.config.limits.max_root_rotations {
            let next = self.set.root().signed.common.version + 1;
            let url = format!("{}/{next}.root.json", self.config.metadata_url);
            let bytes = match fetch.fetch(&url, self.config.limits.root_bytes) {
                Ok(b) => b,
                Err(FetchError::NotFound) => break,
                Err(error) => return Err(TufError::Fetch { url, error }),
            };
            self.set.update_root(&bytes)?;
            self.write(&Path::new("root").join(format!("{next}.json")), &bytes)?;
        }
        let after = &self.set.root().signed.roles;
        // New timestamp or snapshot keys: their cached files are no baseline any more (§5.3.11).
        if before.get("timestamp") != after.get("timestamp") || before.get("snapshot") != after.get("snapshot") {
            self.remove("timestamp.json");
            self.remove("snapshot.json");
        }
        Ok(())
    }

    fn load_timestamp(&mut self, remote: Option<&dyn Fetch>) -> Result<(), TufError> {
        let limit = self.config.limits.timestamp_bytes;
        let cached = self.read_cached("timestamp.json", limit);
        if let Some(bytes) = &cached {
            // A cached timestamp that no longer verifies (new keys) is simply no baseline.
            let _ = self.set.update_timestamp(bytes, Origin::Cache);
        }
        let Some(fetch) = remote else {
            return if self.set.timestamp().is_some() {
                Ok(())
            } else {
                Err(TufError::Offline("no cached timestamp metadata".into()))
            };
        };
        let url = format!("{}/timestamp.json", self.config.metadata_url);
        let bytes = fetch
            .fetch(&url, limit)
            .map_err(|error| TufError::Fetch { url, error })?;
        if self.set.update_timestamp(&bytes, Origin::Remote)? == Update::Accepted {
            self.write(Path::new("timestamp.json"), &bytes)?;
        }
        Ok(())
    }

    fn load_snapshot(&mut self, remote: Option<&dyn Fetch>) -> Result<(), TufError> {
        if let Some(bytes) = self.read_cached("snapshot.json", self.config.limits.snapshot_bytes)
            && self.set.update_snapshot(&bytes, Origin::Cache).is_ok()
        {
            return Ok(());
        }
        let Some(fetch) = remote else {
            self.set.final_snapshot()?;
            return Err(TufError::Offline("no cached snapshot metadata".into()));
        };
        let meta = self
            .set
            .timestamp()
            .map(|t| t.signed.snapshot.clone())
            .ok_or(TufError::Order("snapshot needs a trusted timestamp"))?;
        let name = if self.set.root().signed.consistent_snapshot {
            format!("{}.snapshot.json", meta.version)
        } else {
            "snapshot.json".into()
        };
        let url = format!("{}/{name}", self.config.metadata_url);
        let limit = meta.length.unwrap_or(self.config.limits.snapshot_bytes);
        let bytes = fetch
            .fetch(&url, limit)
            .map_err(|error| TufError::Fetch { url, error })?;
        self.set.update_snapshot(&bytes, Origin::Remote)?;
        self.write(Path::new("snapshot.json"), &bytes)
    }

    /// Loads targets metadata of `role` (delegated by `delegator`), from the cache if it is the version the
    /// snapshot names, otherwise from the repository.
    fn load_targets(&mut self, role: &str, delegator: &str, remote: Option<&dyn Fetch>) -> Result<(), TufError> {
        if self.set.targets(role).is_some() {
            return Ok(());
        }
        let cache_path = if role == "targets" {
            PathBuf::from("targets.json")
        } else {
            check_name(role, "role")?;
            Path::new("delegated").join(format!("{}.json", file_name(role)))
        };
        let meta = self.set.targets_meta(role)?;
        let limit = meta.length.unwrap_or(self.config.limits.targets_bytes);
        if let Ok(bytes) = read_limited(&self.config.cache_dir.join(&cache_path), limit)
            && self.set.update_targets(&bytes, role, delegator, Origin::Cache).is_ok()
        {
            return Ok(());
        }
        let Some(fetch) = remote else {
            return Err(TufError::Offline(format!(
                "no cached {role} metadata of version {}",
                meta.version
            )));
        };
        let file = if self.set.root().signed.consistent_snapshot {
            format!("{}.{}.json", meta.version, url_path(role).replace('/', "%2F"))
        } else {
            format!("{}.json", url_path(role).replace('/', "%2F"))
        };
        let url = format!("{}/{file}", self.config.metadata_url);
        let bytes = fetch
            .fetch(&url, limit)
            .map_err(|error| TufError::Fetch { url, error })?;
        self.set.update_targets(&bytes, role, delegator, Origin::Remote)?;
        self.write(&cache_path, &bytes)
    }

    /// Finds `name` by pre-order search of the delegation graph: a role's own targets first, then its
    /// delegations in order; a terminating delegation that covers the name ends the search (U-12).
    pub fn target_info(&mut self, name: &str, fetch: Option<&dyn Fetch>) -> Result<TargetFile, TufError> {
        check_name(name, "target")?;
        if !self.refreshed {
            return Err(TufError::Order("refresh before looking up targets"));
        }
        let remote = if self.mode == Mode::Online { fetch } else { None };
        let mut to_visit: Vec<(String, String)> = vec![("targets".into(), "root".into())];
        let mut visited = std::collections::BTreeSet::new();
        let mut count = 0usize;
        while let Some((role, delegator)) = to_visit.pop() {
            if !visited.insert(role.clone()) {
                continue;
            }
            count += 1;
            if count > self.config.limits.max_delegations {
                break;
            }
            self.load_targets(&role, &delegator, remote)?;
            let Some(targets) = self.set.targets(&role) else {
                break;
            };
            let targets: &Targets = &targets.signed;
            if let Some(t) = targets.targets.get(name) {
                return Ok(t.clone());
            }
            let mut children = Vec::new();
            for d in targets.delegations.iter().flat_map(|d| &d.roles) {
                if !d.covers(name) {
                    continue;
                }
                children.push((d.name.clone(), role.clone()));
                if d.terminating {
                    to_visit.clear();
                    break;
                }
            }
            to_visit.extend(children.into_iter().rev());
        }
        Err(TufError::TargetNotFound { name: name.to_string() })
    }

    /// The bytes of target `name`, verified against its signed length and hashes: from the cache when they
    /// match, else downloaded (online) and cached.
    pub fn target(&mut self, name: &str, fetch: Option<&dyn Fetch>) -> Result<Vec<u8>, TufError> {
        let info = self.target_info(name, fetch)?;
        if info.length > self.config.limits.target_bytes {
            return Err(TufError::Length {
                file: name.to_string(),
                expected: self.config.limits.target_bytes,
                got: info.length,
            });
        }
        let cache_path = Path::new("targets").join(file_name(name));
        if let Ok(bytes) = read_limited(&self.config.cache_dir.join(&cache_path), info.length)
            && check_length_and_hashes(name, &bytes, Some(info.length), Some(&info.hashes)).is_ok()
        {
            return Ok(bytes);
        }
        let fetch = match (self.mode, fetch) {
            (Mode::Online, Some(f)) => f,
            _ => {
                return Err(TufError::Offline(format!(
                    "the cached {name} is missing or does not match its signed hashes"
                )));
            }
        };
        let path = if self.set.root().signed.consistent_snapshot {
            // The file is named by its SHA-256, or by its first hash when it has none.
            let hash = info
                .hashes
                .get("sha256")
                .or_else(|| info.hashes.values().next())
                .ok_or_else(|| TufError::Malformed {
                    role: "targets".into(),
                    reason: format!("target {name:?} has no hashes"),
                })?;
            match name.rsplit_once('/') {
                Some((dir, base)) => format!("{dir}/{}.{base}", hex::encode(hash)),
                None => format!("{}.{name}", hex::encode(hash)),
            }
        } else {
            name.to_string()
        };
        let url = format!("{}/{}", self.config.targets_url.trim_end_matches('/'), url_path(&path));
        let bytes = fetch.fetch(&url, info.length).map_err(|error| match error {
            FetchError::TooLarge(_) => TufError::Length {
                file: name.to_string(),
                expected: info.length,
                got: info.length + 1,
            },
            error => TufError::Fetch { url, error },
        })?;
        check_length_and_hashes(name, &bytes, Some(info.length), Some(&info.hashes))?;
        self.write(&cache_path, &bytes)?;
        Ok(bytes)
    }

    fn read_cached(&self, rel: &str, limit: u64) -> Option<Vec<u8>> {
        read_limited(&self.config.cache_dir.join(rel), limit).ok()
    }

    fn remove(&self, rel: &str) {
        let _ = std::fs::remove_file(self.config.cache_dir.join(rel));
    }

    /// Cached files are the user's trust decisions: private to the user.
    fn write(&self, rel: &Path, bytes: &[u8]) -> Result<(), TufError> {
        let path = self.config.cache_dir.join(rel);
        crate::write_atomic(&path, bytes, crate::Access::Private).map_err(|e| TufError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }
}

/// Reads a file of at most `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, TufError> {
    crate::read_bounded(path, usize::try_from(limit).unwrap_or(usize::MAX)).map_err(|e| TufError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
