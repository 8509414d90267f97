//! Sigstore's use of TUF: a repository whose targets are `trusted_root.json` and
//! `signing_config.v0.2.json`, bootstrapped from a pinned `root.json`.

use std::path::PathBuf;

use super::client::{Mode, RepositoryConfig, Updater};
use super::{Fetch, TufError};
use crate::{Error, TrustSource, TrustedMaterial};

/// The public-good TUF repository.
pub const PUBLIC_GOOD_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";
/// The staging TUF repository.
pub const STAGING_MIRROR: &str = "https://tuf-repo-cdn.sigstage.dev";
/// The target holding the `TrustedRoot`.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The target holding the `SigningConfig` (v0.2).
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";

/// One TUF repository of Sigstore trust material, with its cache and pinned root.
#[derive(Debug, Clone)]
pub struct SigstoreTuf {
    pub mirror: String,
    pub cache_dir: PathBuf,
    pub pinned_root: Vec<u8>,
}

/// What a refresh established, for reports (`sigil trust show`) and for saying where trust came from.
#[derive(Debug, Clone)]
pub struct TufState {
    pub mirror: String,
    pub mode: Mode,
    /// (role, version, expires as written).
    pub roles: Vec<(String, u64, String)>,
    pub trusted_root: Vec<u8>,
    pub signing_config: Option<Vec<u8>>,
}

impl TufState {
    /// `root v15, timestamp v2300 (expires …)` and so on.
    pub fn summary(&self) -> String {
        self.roles
            .iter()
            .map(|(r, v, e)| format!("{r} v{v} (expires {e})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl SigstoreTuf {
    /// Refreshes (online, through `fetch`) or reads the cache (offline), then returns the verified targets.
    /// The signing config is optional: a repository may distribute only the trusted root.
    pub fn load(&self, mode: Mode, fetch: Option<&dyn Fetch>, now: i64) -> Result<TufState, TufError> {
        let config = RepositoryConfig::for_mirror(&self.mirror, self.cache_dir.clone());
        let mut updater = Updater::open(config, &self.pinned_root, now, mode)?;
        updater.refresh(fetch)?;
        let trusted_root = updater.target(TRUSTED_ROOT_TARGET, fetch)?;
        let signing_config = match updater.target(SIGNING_CONFIG_TARGET, fetch) {
            Ok(b) => Some(b),
            Err(TufError::TargetNotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let set = updater.trusted();
        let mut roles = vec![(
            "root".to_string(),
            set.root().signed.common.version,
            set.root().signed.common.expires_text(),
        )];
        if let Some(t) = set.timestamp() {
            roles.push((
                "timestamp".into(),
                t.signed.common.version,
                t.signed.common.expires_text(),
            ));
        }
        if let Some(s) = set.snapshot() {
            roles.push((
                "snapshot".into(),
                s.signed.common.version,
                s.signed.common.expires_text(),
            ));
        }
        if let Some(t) = set.targets("targets") {
            roles.push((
                "targets".into(),
                t.signed.common.version,
                t.signed.common.expires_text(),
            ));
        }
        Ok(TufState {
            mirror: self.mirror.clone(),
            mode,
            roles,
            trusted_root,
            signing_config,
        })
    }
}

/// A [`TrustSource`] that refreshes through TUF.
#[derive(Debug)]
pub struct TufTrustSource<'a> {
    pub repository: SigstoreTuf,
    pub mode: Mode,
    pub fetch: Option<&'a dyn Fetch>,
    pub now: i64,
}

impl std::fmt::Debug for dyn Fetch + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fetch")
    }
}

impl TrustSource for TufTrustSource<'_> {
    fn trusted_material(&self) -> Result<TrustedMaterial, Error> {
        let state = self.repository.load(self.mode, self.fetch, self.now)?;
        TrustedMaterial::from_json(&state.trusted_root)
    }
}
