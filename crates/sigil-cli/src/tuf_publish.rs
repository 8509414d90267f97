//! `sigil serve` publishes its trust files over TUF: a repository in `DATA/tuf` (layout in
//! `sigil_trust::tuf::repo_dir`) whose targets are the instance's `trusted_root.json` and
//! `signing_config.v0.2.json`, served read-only at `GET /tuf/<file>`.
//!
//! The instance holds the online keys (timestamp, snapshot, and targets unless the operator removed its key
//! file to keep it offline), never the root key. On start, and whenever the trust files change
//! ([`TufPublisher::publish_trust_files`]), changed targets are published; a background task re-signs timestamp
//! (and snapshot and targets when their keys are here) once less than half of their lifetime is left.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path as UrlPath;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use sigil_trust::tuf::repo::{KeyRing, Lifetimes, Published, RepoError, Role};
use sigil_trust::tuf::repo_dir::RepoDir;

use crate::tuf::PASSWORD_VAR;

/// Where the repository is served under the base URL.
pub const TUF_PATH: &str = "/tuf";
/// The roles whose keys the instance holds online.
const ONLINE: [Role; 3] = [Role::Timestamp, Role::Snapshot, Role::Targets];
/// Largest file served.
const MAX_FILE: u64 = 64 << 20;

/// What the instance does with TUF. Cheap to clone (the publisher is shared).
#[derive(Debug, Clone)]
pub enum TufState {
    /// Publishes and re-signs.
    Publishing(Arc<TufPublisher>),
    /// Serves an existing repository as it is (no password to sign with).
    ReadOnly(PathBuf),
    /// No repository.
    Off,
}

impl TufState {
    /// `DATA/tuf/repo/1.root.json`, when a repository is served.
    pub fn first_root(&self) -> Option<PathBuf> {
        match self {
            Self::Publishing(p) => Some(p.dir.first_root()),
            Self::ReadOnly(dir) => Some(RepoDir::new(dir).first_root()),
            Self::Off => None,
        }
    }

    /// The hook for when the instance's trust files change (e.g. after a key rotation): publishes the files at
    /// `paths` (target name = file name) if their content differs from the published targets. Does nothing
    /// when the instance does not publish. Blocking (file I/O, perhaps key decryption): call it from
    /// `tokio::task::spawn_blocking` in async code.
    pub fn trust_files_changed(&self, paths: &[&Path], now: i64) -> Result<(), String> {
        let Self::Publishing(p) = self else {
            return Ok(());
        };
        p.publish_trust_files(&trust_file_targets(paths)?, now).map(|_| ())
    }

    /// The routes serving the repository (none when off).
    pub fn router(&self) -> Router {
        let repo = match self {
            Self::Publishing(p) => p.dir.repo(),
            Self::ReadOnly(dir) => RepoDir::new(dir).repo(),
            Self::Off => return Router::new(),
        };
        router(repo)
    }
}

/// The trust files as targets: (file name, content).
pub fn trust_file_targets(paths: &[&Path]) -> Result<Vec<(String, Vec<u8>)>, String> {
    paths
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("{}: no file name", p.display()))?;
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok((name.to_string(), bytes))
        })
        .collect()
}

/// For `sigil serve`: [`TufPublisher::start`] with the trust files at `paths`, and the background re-signing.
pub async fn start(data_dir: &Path, dev: bool, paths: &[&Path]) -> Result<TufState, String> {
    let files = trust_file_targets(paths)?;
    let data_dir = data_dir.to_path_buf();
    let state = tokio::task::spawn_blocking(move || TufPublisher::start(&data_dir, dev, &files, crate::unix_now()))
        .await
        .map_err(|e| format!("TUF: {e}"))??;
    if let TufState::Publishing(p) = &state {
        p.spawn_refresher();
    }
    Ok(state)
}

/// The online half of a repository: its directory, the password of its key files and the keys loaded.
#[derive(Debug)]
pub struct TufPublisher {
    dir: RepoDir,
    password: Vec<u8>,
    ring: Mutex<KeyRing>,
    lifetimes: Lifetimes,
    warned_offline_targets: Mutex<bool>,
}

fn e(err: RepoError) -> String {
    format!("TUF: {err}")
}

impl TufPublisher {
    /// Opens (creating on first start) `DATA/tuf` and publishes `files` as targets. The password is
    /// `SIGIL_TUF_PASSWORD`; with `dev` and no password, an empty one (with a warning); without either, an
    /// existing repository is served as it is and none is created.
    pub fn start(data_dir: &Path, dev: bool, files: &[(String, Vec<u8>)], now: i64) -> Result<TufState, String> {
        let dir = RepoDir::new(data_dir.join("tuf"));
        let env_password = crate::keys::env_password(PASSWORD_VAR).transpose()?;
        let from_env = env_password.is_some();
        let password = match env_password {
            Some(password) => password,
            None if dev => {
                eprintln!(
                    "warning: {PASSWORD_VAR} is not set: the TUF keys in {} use an empty password (--dev only)",
                    dir.path().join("keys").display()
                );
                Vec::new()
            }
            None if dir.exists() => {
                eprintln!(
                    "warning: {PASSWORD_VAR} is not set: serving {} as it is, without re-signing (its timestamp \
                     expires unless `sigil tuf resign` runs elsewhere)",
                    dir.repo().display()
                );
                return Ok(TufState::ReadOnly(dir.path().to_path_buf()));
            }
            None => {
                eprintln!(
                    "warning: {PASSWORD_VAR} is not set: the trust files are not published over TUF (set it to \
                     create and maintain {})",
                    dir.path().display()
                );
                return Ok(TufState::Off);
            }
        };
        if !dir.exists() {
            let published = dir
                .init(
                    sigil_crypto::KeyAlgorithm::Ed25519,
                    &Lifetimes::default(),
                    &password,
                    files,
                    now,
                )
                .map_err(e)?;
            for s in &published.signed {
                tracing::info!("TUF: created {}: signed {s}", dir.path().display());
            }
        }
        let ring = match dir.key_ring(&ONLINE, &password) {
            Ok(r) => r,
            // --dev without a password, over a repository whose keys have one: serve it as it is.
            Err(RepoError::KeyFile { path, reason }) if !from_env => {
                eprintln!(
                    "warning: {path}: {reason}: set {PASSWORD_VAR}; serving {} as it is, without re-signing",
                    dir.repo().display()
                );
                return Ok(TufState::ReadOnly(dir.path().to_path_buf()));
            }
            Err(err) => return Err(e(err)),
        };
        let lifetimes = dir.lifetimes().map_err(e)?;
        let publisher = Self {
            dir,
            password,
            ring: Mutex::new(ring),
            lifetimes,
            warned_offline_targets: Mutex::new(false),
        };
        if let Ok(repo) = publisher.dir.load() {
            let root_expires = repo.expires(Role::Root);
            if root_expires - now < 30 * 86_400 {
                eprintln!(
                    "warning: TUF root metadata expires {}: re-sign it with the root key (`sigil tuf resign --repo {} \
                     --role root`)",
                    sigil_trust::tuf::metadata::format_time(root_expires),
                    publisher.dir.path().display()
                );
            }
        }
        match publisher.publish_trust_files(files, now) {
            Ok(_) => {}
            Err(msg) => eprintln!("warning: {msg}"),
        }
        if let Err(msg) = publisher.refresh(now) {
            eprintln!("warning: {msg}");
        }
        Ok(TufState::Publishing(Arc::new(publisher)))
    }

    /// Publishes `files` (target name, content) whose content differs from the published targets. Call it
    /// when the instance's trust files change. Without the targets key the targets stay as they are and the
    /// error says how to publish them.
    pub fn publish_trust_files(&self, files: &[(String, Vec<u8>)], now: i64) -> Result<Published, String> {
        let result = self.with_ring(|ring| {
            self.dir.update(ring, &self.lifetimes, now, |repo| {
                for (name, bytes) in files {
                    repo.set_target(name, bytes)?;
                }
                Ok(())
            })
        });
        match result {
            Ok(((), published)) => {
                log_published("trust files", &published);
                Ok(published)
            }
            Err(RepoError::MissingKey { role: "targets", .. }) => Err(format!(
                "TUF: the trust files changed but the targets key ({}) is offline: publish them with `sigil tuf \
                 add-target --repo {} FILE` for each of {}",
                self.dir.key_file(Role::Targets).display(),
                self.dir.path().display(),
                files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            )),
            Err(err) => Err(e(err)),
        }
    }

    /// Re-signs what has less than half of its lifetime left (targets only with its key online).
    pub fn refresh(&self, now: i64) -> Result<Published, String> {
        let targets_online = self.dir.key_file(Role::Targets).is_file();
        let result = self.with_ring(|ring| {
            self.dir.update(ring, &self.lifetimes, now, |repo| {
                for role in [Role::Targets, Role::Snapshot, Role::Timestamp] {
                    if !repo.needs_refresh(role, &self.lifetimes, now) {
                        continue;
                    }
                    if role == Role::Targets && !targets_online {
                        let mut warned = self.warned_offline_targets.lock().unwrap_or_else(|p| p.into_inner());
                        if !*warned {
                            eprintln!(
                                "warning: TUF targets metadata expires {} and its key is offline: run `sigil tuf \
                                 resign --repo {} --role targets`",
                                sigil_trust::tuf::metadata::format_time(repo.expires(role)),
                                self.dir.path().display()
                            );
                            *warned = true;
                        }
                        continue;
                    }
                    repo.resign(role);
                }
                Ok(())
            })
        });
        match result {
            Ok(((), published)) => {
                log_published("refresh", &published);
                Ok(published)
            }
            Err(err) => Err(e(err)),
        }
    }

    /// Runs `op` with the loaded keys; when a key is missing (rotated by `sigil tuf rotate-key` since they were
    /// loaded), loads the key files again and retries once.
    fn with_ring<T>(&self, op: impl Fn(&KeyRing) -> Result<T, RepoError>) -> Result<T, RepoError> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        match op(&ring) {
            Err(RepoError::MissingKey { .. }) => {
                *ring = self.dir.key_ring(&ONLINE, &self.password)?;
                op(&ring)
            }
            other => other,
        }
    }

    /// How often the background task looks at expiry: an eighth of the timestamp lifetime, at most 10 minutes.
    pub fn check_interval(&self) -> Duration {
        let secs = (self.lifetimes.timestamp / 8).clamp(1, 600);
        Duration::from_secs(u64::try_from(secs).unwrap_or(600))
    }

    /// Starts the background task that keeps the metadata fresh; it ends with the runtime.
    pub fn spawn_refresher(self: &Arc<Self>) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let interval = this.check_interval();
            loop {
                tokio::time::sleep(interval).await;
                let p = Arc::clone(&this);
                match tokio::task::spawn_blocking(move || p.refresh(crate::unix_now())).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(msg)) => tracing::warn!("{msg}"),
                    Err(join) => tracing::warn!("TUF refresh: {join}"),
                }
            }
        });
    }
}

fn log_published(what: &str, published: &Published) {
    for s in &published.signed {
        tracing::info!("TUF ({what}): signed {s}");
    }
}

/// `GET /tuf/<path>`: a file of `repo`, read-only. Names are checked like target names (no `..`, no
/// absolute or encoded paths), hidden files (temporaries) and directories are not served, and there is no
/// listing.
pub fn router(repo: PathBuf) -> Router {
    let repo = Arc::new(repo);
    Router::new().route(
        &format!("{TUF_PATH}/{{*path}}"),
        get(move |UrlPath(path): UrlPath<String>| {
            let repo = Arc::clone(&repo);
            async move { serve_file(&repo, path).await }
        }),
    )
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn serve_file(repo: &Path, path: String) -> Response {
    if sigil_trust::tuf::names::check_name(&path, "file").is_err() || path.split('/').any(|s| s.starts_with('.')) {
        return not_found();
    }
    let full = repo.join(&path);
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<Option<Vec<u8>>> {
        use std::io::Read as _;
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !meta.is_file() || meta.len() > MAX_FILE {
            return Ok(None);
        }
        let mut buf = Vec::new();
        std::fs::File::open(&full)?.take(MAX_FILE).read_to_end(&mut buf)?;
        Ok(Some(buf))
    })
    .await;
    let bytes = match read {
        Ok(Ok(Some(b))) => b,
        Ok(Ok(None)) => return not_found(),
        _ => return (StatusCode::INTERNAL_SERVER_ERROR, "read error\n").into_response(),
    };
    let content_type = if path.ends_with(".json") {
        "application/json"
    } else {
        "application/octet-stream"
    };
    // timestamp.json and root.json change in place; everything else is versioned or content-addressed.
    let cache = if path == "timestamp.json" || path == "root.json" {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    (
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache)],
        Body::from(bytes),
    )
        .into_response()
}
