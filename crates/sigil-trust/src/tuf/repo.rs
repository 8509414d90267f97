//! The repository side of TUF: builds, signs and lays out the metadata of a small repository with the four
//! top-level roles and no delegations, one key per role (threshold 1). That is what a private Sigstore
//! instance needs to hand `trusted_root.json` and `signing_config.v0.2.json` to clients safely.
//!
//! Sans-IO: a [`Repository`] is loaded from the bytes of the current metadata, changed ([`Repository::set_target`],
//! [`Repository::rotate_key`], [`Repository::resign`]) and [`Repository::publish`]ed with a [`KeyRing`] and a time;
//! publishing returns the files to write, in the order a reader mid-update can rely on (what the new timestamp
//! points to exists before the timestamp does). [`super::repo_dir`] stores them in a directory.
//!
//! What is written, by the specification (1.0.31):
//! - consistent snapshots: `N.root.json` for every root version, `N.snapshot.json`, `N.targets.json`,
//!   `targets/<sha256 hex>.<name>`; plus `root.json` (the newest root) and `timestamp.json`;
//! - key IDs are the SHA-256 of the canonical JSON of the key object; keys are written as securesystemslib
//!   writes them (`ed25519`: hex of the raw key; `ecdsa`: PEM SubjectPublicKeyInfo, scheme
//!   `ecdsa-sha2-nistp256`/`…384`) so python-tuf, go-tuf and tuf-js read them;
//! - timestamp gives snapshot's version, length and SHA-256, snapshot gives the same of targets: a client
//!   checks them before parsing, and a changed byte anywhere in those files is a hash mismatch;
//! - a new root is signed by the previous root's root keys and by its own (clients require both).
//!
//! Published versioned files are never rewritten with other content: version numbers only grow, and
//! [`Repository::reserve_versions`] skips numbers a crashed publish may have left behind.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use sigil_crypto::{KeyAlgorithm, Signer, VerifyingKey};

use super::TufError;
use super::canonical::canonical_json;
use super::metadata::{Envelope, Root, Snapshot, Targets, Timestamp, format_time};
use super::names::check_name;

/// The specification version written into metadata.
pub const SPEC_VERSION: &str = "1.0.31";

/// One of the four top-level roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Root,
    Timestamp,
    Snapshot,
    Targets,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Root, Role::Timestamp, Role::Snapshot, Role::Targets];

    pub fn name(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Timestamp => "timestamp",
            Role::Snapshot => "snapshot",
            Role::Targets => "targets",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// How long each role's metadata is valid after it is signed, in seconds.
///
/// The defaults follow the roles' exposure: the timestamp key is online and re-signs every few hours, so its
/// metadata lives a day (a client cut off from updates notices within a day: the freeze-attack bound);
/// snapshot is online too but changes only with targets; targets and root are signed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub root: i64,
    pub timestamp: i64,
    pub snapshot: i64,
    pub targets: i64,
}

const DAY: i64 = 86_400;

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            root: 365 * DAY,
            timestamp: DAY,
            snapshot: 30 * DAY,
            targets: 180 * DAY,
        }
    }
}

impl Lifetimes {
    pub fn get(&self, role: Role) -> i64 {
        match role {
            Role::Root => self.root,
            Role::Timestamp => self.timestamp,
            Role::Snapshot => self.snapshot,
            Role::Targets => self.targets,
        }
    }

    pub fn set(&mut self, role: Role, seconds: i64) {
        match role {
            Role::Root => self.root = seconds,
            Role::Timestamp => self.timestamp = seconds,
            Role::Snapshot => self.snapshot = seconds,
            Role::Targets => self.targets = seconds,
        }
    }
}

/// Errors of the repository writer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// Existing metadata did not load or verify.
    #[error("{0}")]
    Metadata(#[from] TufError),
    /// Signing needs a key that is not loaded.
    #[error("{role} metadata must be signed with key {keyid}, which is not loaded{hint}")]
    MissingKey {
        role: &'static str,
        keyid: String,
        hint: &'static str,
    },
    /// A key sigil cannot write as TUF metadata.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A request that makes no sense for this repository.
    #[error("{0}")]
    Invalid(String),
    /// Signing failed.
    #[error("signing {role} metadata: {reason}")]
    Signing { role: &'static str, reason: String },
    /// A file or directory of the repository.
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    /// A private-key file.
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}

fn invalid(msg: impl Into<String>) -> RepoError {
    RepoError::Invalid(msg.into())
}

/// A public key as TUF metadata writes it, and its key ID.
pub fn key_object(key: &VerifyingKey) -> Result<(String, Value), RepoError> {
    let value = match key.algorithm() {
        KeyAlgorithm::Ed25519 => json!({
            "keytype": "ed25519",
            "scheme": "ed25519",
            "keyval": {"public": hex::encode(key.raw_key())},
        }),
        KeyAlgorithm::EcdsaP256 => json!({
            "keytype": "ecdsa",
            "scheme": "ecdsa-sha2-nistp256",
            "keyval": {"public": sigil_crypto::pem_encode("PUBLIC KEY", key.spki_der())},
        }),
        KeyAlgorithm::EcdsaP384 => json!({
            "keytype": "ecdsa",
            "scheme": "ecdsa-sha2-nistp384",
            "keyval": {"public": sigil_crypto::pem_encode("PUBLIC KEY", key.spki_der())},
        }),
        other => {
            return Err(RepoError::UnsupportedKey(format!(
                "{other:?} (use Ed25519 or ECDSA P-256)"
            )));
        }
    };
    let canonical = canonical_json(&value).map_err(|e| RepoError::UnsupportedKey(e.0.into()))?;
    Ok((hex::encode(sigil_crypto::sha256(&canonical)), value))
}

/// The signing keys at hand, by key ID. Publishing picks the ones each role needs.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, Box<dyn Signer>>,
}

impl KeyRing {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; returns its TUF key ID.
    pub fn add(&mut self, key: Box<dyn Signer>) -> Result<String, RepoError> {
        let (id, _) = key_object(key.public_key())?;
        self.keys.insert(id.clone(), key);
        Ok(id)
    }

    pub fn contains(&self, keyid: &str) -> bool {
        self.keys.contains_key(keyid)
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    fn get(&self, keyid: &str) -> Option<&dyn Signer> {
        self.keys.get(keyid).map(|k| k.as_ref())
    }
}

/// A file to write, relative to the repository directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A role's metadata as one publish left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub role: Role,
    pub version: u64,
    /// Unix seconds.
    pub expires: i64,
}

impl std::fmt::Display for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} version {}, expires {}",
            self.role,
            self.version,
            format_time(self.expires)
        )
    }
}

/// What [`Repository::publish`] produced: the files, in write order, and the roles it signed.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub files: Vec<OutputFile>,
    pub signed: Vec<Signed>,
}

/// What a target looks like in targets metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    pub length: u64,
    pub sha256: [u8; 32],
}

/// The repository's current state and the changes not yet published.
#[derive(Debug, Clone)]
pub struct Repository {
    /// The newest published root (`None` before the first publish).
    published_root: Option<Value>,
    /// The root as it will be published next.
    root: Value,
    timestamp: Value,
    snapshot: Value,
    targets: Value,
    /// Roles whose metadata the next publish signs anew.
    dirty: BTreeSet<Role>,
    /// Target files added since the last publish (path relative to the repository, bytes).
    staged: Vec<OutputFile>,
    /// Lowest version a new snapshot/targets may take (after versions a crashed publish left behind).
    floors: BTreeMap<Role, u64>,
    /// `root.json` is older than the newest `N.root.json` and must be rewritten.
    root_pointer_stale: bool,
    /// The bytes of the newest published root (what `root.json` must hold).
    published_root_raw: Option<Vec<u8>>,
}

fn empty_signed(role: Role) -> Value {
    let mut v = json!({
        "_type": role.name(),
        "spec_version": SPEC_VERSION,
        "version": 0,
        "expires": format_time(0),
    });
    if let Value::Object(m) = &mut v {
        match role {
            Role::Root => {
                m.insert("consistent_snapshot".into(), Value::Bool(true));
                m.insert("keys".into(), json!({}));
                m.insert(
                    "roles".into(),
                    json!({
                        "root": {"keyids": [], "threshold": 1},
                        "timestamp": {"keyids": [], "threshold": 1},
                        "snapshot": {"keyids": [], "threshold": 1},
                        "targets": {"keyids": [], "threshold": 1},
                    }),
                );
            }
            Role::Timestamp | Role::Snapshot => {
                m.insert("meta".into(), json!({}));
            }
            Role::Targets => {
                m.insert("targets".into(), json!({}));
            }
        }
    }
    v
}

fn obj_mut<'a>(v: &'a mut Value, path: &[&str]) -> Result<&'a mut Map<String, Value>, RepoError> {
    let mut cur = v;
    for p in path {
        cur = cur
            .get_mut(*p)
            .ok_or_else(|| invalid(format!("metadata has no {p:?}")))?;
    }
    cur.as_object_mut()
        .ok_or_else(|| invalid(format!("{path:?} is not an object")))
}

fn version_of(v: &Value) -> u64 {
    v.get("version").and_then(Value::as_u64).unwrap_or(0)
}

fn expires_of(v: &Value) -> i64 {
    v.get("expires")
        .and_then(Value::as_str)
        .and_then(super::metadata::parse_time)
        .unwrap_or(0)
}

/// The key IDs a root names for `role`.
fn role_keyids(root: &Value, role: Role) -> Vec<String> {
    root.get("roles")
        .and_then(|r| r.get(role.name()))
        .and_then(|r| r.get("keyids"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn role_threshold(root: &Value, role: Role) -> usize {
    root.get("roles")
        .and_then(|r| r.get(role.name()))
        .and_then(|r| r.get("threshold"))
        .and_then(Value::as_u64)
        .and_then(|t| usize::try_from(t).ok())
        .unwrap_or(1)
}

/// `targets/<dir>/<sha256>.<base>`: where a consistent-snapshot repository keeps target `name`.
pub fn target_path(name: &str, sha256: &[u8]) -> String {
    let h = hex::encode(sha256);
    match name.rsplit_once('/') {
        Some((dir, base)) => format!("targets/{dir}/{h}.{base}"),
        None => format!("targets/{h}.{name}"),
    }
}

/// The bytes of the whole file around `signed`: signatures from every loaded key of `keyids`, pretty
/// printed (clients verify the canonical form of `signed`, not the file's bytes).
fn sign(role: Role, signed: &Value, keyids: &[String], ring: &KeyRing) -> Result<Vec<u8>, RepoError> {
    let canonical = canonical_json(signed).map_err(|e| RepoError::Signing {
        role: role.name(),
        reason: e.0.into(),
    })?;
    let mut signatures = Vec::new();
    for id in keyids {
        let Some(key) = ring.get(id) else { continue };
        let sig = key.sign(&canonical).map_err(|e| RepoError::Signing {
            role: role.name(),
            reason: e.to_string(),
        })?;
        signatures.push(json!({"keyid": id, "sig": hex::encode(sig)}));
    }
    let file = json!({"signatures": signatures, "signed": signed});
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| RepoError::Signing {
        role: role.name(),
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Checks that `ring` holds enough of `keyids` to reach `threshold`.
fn check_keys(
    role: Role,
    keyids: &[String],
    threshold: usize,
    ring: &KeyRing,
    hint: &'static str,
) -> Result<(), RepoError> {
    let have = keyids.iter().filter(|k| ring.contains(k)).count();
    if have >= threshold.max(1) {
        return Ok(());
    }
    let missing = keyids.iter().find(|k| !ring.contains(k)).cloned().unwrap_or_default();
    Err(RepoError::MissingKey {
        role: role.name(),
        keyid: missing,
        hint,
    })
}

/// Length and SHA-256 as timestamp and snapshot record them.
fn meta_entry(version: u64, bytes: &[u8]) -> Value {
    json!({
        "version": version,
        "length": bytes.len(),
        "hashes": {"sha256": hex::encode(sigil_crypto::sha256(bytes))},
    })
}

impl Repository {
    /// A new repository: the given key for each role, nothing published yet, every role to be signed.
    pub fn create(keys: &[(Role, &VerifyingKey)]) -> Result<Self, RepoError> {
        let mut repo = Self {
            published_root: None,
            root: empty_signed(Role::Root),
            timestamp: empty_signed(Role::Timestamp),
            snapshot: empty_signed(Role::Snapshot),
            targets: empty_signed(Role::Targets),
            dirty: Role::ALL.into_iter().collect(),
            staged: Vec::new(),
            floors: BTreeMap::new(),
            root_pointer_stale: false,
            published_root_raw: None,
        };
        for role in Role::ALL {
            let key = keys
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, k)| *k)
                .ok_or_else(|| invalid(format!("no key for the {role} role")))?;
            repo.set_role_key(role, key)?;
        }
        Ok(repo)
    }

    /// Loads a published repository: the chain of roots from `root.json`'s version up to the newest
    /// `N.root.json` (each verified by its predecessor and itself), and the timestamp, snapshot and targets
    /// the timestamp names.
    ///
    /// A role whose metadata verifies only under an earlier root of the chain (a publish that stopped after
    /// writing the new root) is marked to be signed again; anything else that does not verify is refused, so
    /// nothing altered on disk is ever signed over.
    pub fn load(roots: &[Vec<u8>], timestamp: &[u8], snapshot: &[u8], targets: &[u8]) -> Result<Self, RepoError> {
        let (first, rest) = roots.split_first().ok_or_else(|| invalid("no root metadata"))?;
        let env = Envelope::parse(first, "root")?;
        let mut chain = vec![Root::parse(&env.signed)?];
        let mut root_value = env.signed.clone();
        if let Some(r) = chain.last() {
            env.verify("root", r)?;
        }
        for bytes in rest {
            let env = Envelope::parse(bytes, "root")?;
            let new = Root::parse(&env.signed)?;
            if let Some(prev) = chain.last() {
                env.verify("root", prev)?;
                if new.common.version != prev.common.version + 1 {
                    return Err(TufError::RootVersion {
                        trusted: prev.common.version,
                        got: new.common.version,
                    }
                    .into());
                }
            }
            env.verify("root", &new)?;
            chain.push(new);
            root_value = env.signed.clone();
        }
        let mut dirty = BTreeSet::new();
        let mut check = |role: Role, env: &Envelope| -> Result<(), RepoError> {
            let mut roots_newest_first = chain.iter().rev();
            let newest = roots_newest_first.next().ok_or_else(|| invalid("no root metadata"))?;
            match env.verify(role.name(), newest) {
                Ok(()) => Ok(()),
                Err(e) => {
                    if roots_newest_first.any(|r| env.verify(role.name(), r).is_ok()) {
                        dirty.insert(role);
                        Ok(())
                    } else {
                        Err(e.into())
                    }
                }
            }
        };
        let ts_env = Envelope::parse(timestamp, "timestamp")?;
        let ts = Timestamp::parse(&ts_env.signed)?;
        check(Role::Timestamp, &ts_env)?;
        let snap_env = Envelope::parse(snapshot, "snapshot")?;
        let snap = Snapshot::parse(&snap_env.signed)?;
        check(Role::Snapshot, &snap_env)?;
        let targets_env = Envelope::parse(targets, "targets")?;
        let tgts = Targets::parse(&targets_env.signed, "targets")?;
        check(Role::Targets, &targets_env)?;
        if ts.snapshot.version != snap.common.version {
            return Err(invalid(format!(
                "timestamp names snapshot version {}, but version {} was loaded",
                ts.snapshot.version, snap.common.version
            )));
        }
        let named = snap.meta.get("targets.json").map(|m| m.version);
        if named != Some(tgts.common.version) {
            return Err(invalid(format!(
                "snapshot names targets version {named:?}, but version {} was loaded",
                tgts.common.version
            )));
        }
        if tgts.delegations.is_some() {
            return Err(invalid("delegated targets are not supported by this writer"));
        }
        Ok(Self {
            published_root: Some(root_value.clone()),
            root: root_value,
            timestamp: ts_env.signed,
            snapshot: snap_env.signed,
            targets: targets_env.signed,
            dirty,
            staged: Vec::new(),
            floors: BTreeMap::new(),
            root_pointer_stale: roots.len() > 1,
            published_root_raw: roots.last().cloned(),
        })
    }

    /// Makes the next snapshot or targets version at least `above + 1` (files of that role up to `above`
    /// exist on disk, perhaps unreferenced after an interrupted publish).
    pub fn reserve_versions(&mut self, role: Role, above: u64) {
        let floor = self.floors.entry(role).or_insert(0);
        *floor = (*floor).max(above);
    }

    fn value(&self, role: Role) -> &Value {
        match role {
            Role::Root => &self.root,
            Role::Timestamp => &self.timestamp,
            Role::Snapshot => &self.snapshot,
            Role::Targets => &self.targets,
        }
    }

    /// The version of `role`'s published metadata (0 before the first publish).
    pub fn version(&self, role: Role) -> u64 {
        match role {
            Role::Root => self.published_root.as_ref().map_or(0, version_of),
            _ => version_of(self.value(role)),
        }
    }

    /// When `role`'s published metadata expires (unix seconds).
    pub fn expires(&self, role: Role) -> i64 {
        match role {
            Role::Root => self.published_root.as_ref().map_or(0, expires_of),
            _ => expires_of(self.value(role)),
        }
    }

    /// The key IDs the (working) root names for `role`.
    pub fn key_ids(&self, role: Role) -> Vec<String> {
        role_keyids(&self.root, role)
    }

    /// Whether anything waits to be published.
    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty() || self.root_pointer_stale
    }

    /// Roles the next publish signs (before the targets → snapshot → timestamp cascade).
    pub fn pending(&self) -> impl Iterator<Item = Role> + '_ {
        self.dirty.iter().copied()
    }

    /// The targets as published (or staged).
    pub fn targets(&self) -> BTreeMap<String, TargetInfo> {
        let mut out = BTreeMap::new();
        let Some(map) = self.targets.get("targets").and_then(Value::as_object) else {
            return out;
        };
        for (name, t) in map {
            let length = t.get("length").and_then(Value::as_u64);
            let sha = t
                .get("hashes")
                .and_then(|h| h.get("sha256"))
                .and_then(Value::as_str)
                .and_then(|h| hex::decode(h).ok())
                .and_then(|h| <[u8; 32]>::try_from(h).ok());
            if let (Some(length), Some(sha256)) = (length, sha) {
                out.insert(name.clone(), TargetInfo { length, sha256 });
            }
        }
        out
    }

    /// Adds or replaces target `name` with `bytes`. Returns false (and changes nothing) when the target
    /// already has exactly this content.
    pub fn set_target(&mut self, name: &str, bytes: &[u8]) -> Result<bool, RepoError> {
        check_name(name, "target")?;
        if name.split('/').any(|s| s.starts_with('.')) {
            return Err(invalid(format!(
                "target name {name:?}: segments starting with '.' are not published (hidden files)"
            )));
        }
        let sha256 = sigil_crypto::sha256(bytes);
        let info = TargetInfo {
            length: bytes.len() as u64,
            sha256,
        };
        if self.targets().get(name) == Some(&info) {
            return Ok(false);
        }
        let entry = json!({"length": bytes.len(), "hashes": {"sha256": hex::encode(sha256)}});
        obj_mut(&mut self.targets, &["targets"])?.insert(name.to_string(), entry);
        self.staged.push(OutputFile {
            path: target_path(name, &sha256),
            bytes: bytes.to_vec(),
        });
        self.dirty.insert(Role::Targets);
        Ok(true)
    }

    /// Removes target `name` from the targets metadata (its file stays, for clients mid-update). Returns
    /// whether it was there.
    pub fn remove_target(&mut self, name: &str) -> Result<bool, RepoError> {
        let removed = obj_mut(&mut self.targets, &["targets"])?.remove(name).is_some();
        if removed {
            self.dirty.insert(Role::Targets);
        }
        Ok(removed)
    }

    /// Signs `role` anew at the next publish (new version and expiry), and what depends on it.
    pub fn resign(&mut self, role: Role) {
        self.dirty.insert(role);
    }

    /// Replaces `role`'s key with `new`: a new root version names it, and `role`'s metadata is signed with
    /// it. For the root role the new root is signed by the old root key(s) and the new one.
    pub fn rotate_key(&mut self, role: Role, new: &VerifyingKey) -> Result<(), RepoError> {
        let (id, _) = key_object(new)?;
        if self.key_ids(role) == [id.clone()] {
            return Err(invalid(format!("the {role} role already uses key {id}")));
        }
        self.set_role_key(role, new)?;
        self.dirty.insert(Role::Root);
        self.dirty.insert(role);
        Ok(())
    }

    fn set_role_key(&mut self, role: Role, key: &VerifyingKey) -> Result<(), RepoError> {
        let (id, object) = key_object(key)?;
        let old = role_keyids(&self.root, role);
        let roles = obj_mut(&mut self.root, &["roles", role.name()])?;
        roles.insert("keyids".into(), json!([id.clone()]));
        roles.insert("threshold".into(), json!(1));
        obj_mut(&mut self.root, &["keys"])?.insert(id, object);
        // Keys no role names any more leave the root.
        let still_used: BTreeSet<String> = Role::ALL.into_iter().flat_map(|r| role_keyids(&self.root, r)).collect();
        let keys = obj_mut(&mut self.root, &["keys"])?;
        for k in old {
            if !still_used.contains(&k) {
                keys.remove(&k);
            }
        }
        Ok(())
    }

    /// Whether `role`'s metadata should be signed again: less than half its lifetime is left.
    pub fn needs_refresh(&self, role: Role, lifetimes: &Lifetimes, now: i64) -> bool {
        self.expires(role).saturating_sub(now) < lifetimes.get(role) / 2
    }

    /// Checks that `ring` can sign everything the next publish signs, without changing anything.
    pub fn check_signers(&self, ring: &KeyRing) -> Result<(), RepoError> {
        for role in self.roles_to_sign() {
            self.check_role_signers(role, ring)?;
        }
        Ok(())
    }

    fn check_role_signers(&self, role: Role, ring: &KeyRing) -> Result<(), RepoError> {
        const OFFLINE: &str = " (give its key file, keys/<role>.key)";
        if role == Role::Root
            && let Some(prev) = &self.published_root
        {
            check_keys(
                role,
                &role_keyids(prev, Role::Root),
                role_threshold(prev, Role::Root),
                ring,
                " (a new root must also be signed by the previous root's key)",
            )?;
        }
        check_keys(
            role,
            &role_keyids(&self.root, role),
            role_threshold(&self.root, role),
            ring,
            OFFLINE,
        )
    }

    /// The dirty roles with the cascade applied: new targets need a new snapshot, which needs a new timestamp.
    fn roles_to_sign(&self) -> BTreeSet<Role> {
        let mut roles = self.dirty.clone();
        if roles.contains(&Role::Targets) {
            roles.insert(Role::Snapshot);
        }
        if roles.contains(&Role::Snapshot) {
            roles.insert(Role::Timestamp);
        }
        roles
    }

    /// Signs every changed role with a new version expiring `lifetimes` after `now`, and returns the files
    /// to write in order: target files, targets, snapshot, the new root (`N.root.json`, then `root.json`), and
    /// `timestamp.json` last. On error nothing has changed.
    pub fn publish(&mut self, ring: &KeyRing, lifetimes: &Lifetimes, now: i64) -> Result<Published, RepoError> {
        let roles = self.roles_to_sign();
        self.check_signers(ring)?;
        let mut next = self.clone();
        let mut out = Published::default();
        let stamp = |v: &mut Value, role: Role, version: u64| -> Result<(), RepoError> {
            let expires = now
                .checked_add(lifetimes.get(role))
                .ok_or_else(|| invalid("expiry out of range"))?;
            let m = v.as_object_mut().ok_or_else(|| invalid("metadata is not an object"))?;
            m.insert("version".into(), json!(version));
            m.insert("expires".into(), json!(format_time(expires)));
            m.insert("spec_version".into(), json!(SPEC_VERSION));
            Ok(())
        };
        let bump = |current: u64, role: Role, floors: &BTreeMap<Role, u64>| {
            current.max(floors.get(&role).copied().unwrap_or(0)) + 1
        };
        let mut ordered: Vec<OutputFile> = std::mem::take(&mut next.staged);
        let mut signed = Vec::new();

        if roles.contains(&Role::Targets) {
            let v = bump(version_of(&next.targets), Role::Targets, &next.floors);
            stamp(&mut next.targets, Role::Targets, v)?;
            let bytes = sign(Role::Targets, &next.targets, &next.key_ids(Role::Targets), ring)?;
            obj_mut(&mut next.snapshot, &["meta"])?.insert("targets.json".into(), meta_entry(v, &bytes));
            ordered.push(OutputFile {
                path: format!("{v}.targets.json"),
                bytes,
            });
            signed.push(Role::Targets);
        }
        if roles.contains(&Role::Snapshot) {
            let v = bump(version_of(&next.snapshot), Role::Snapshot, &next.floors);
            stamp(&mut next.snapshot, Role::Snapshot, v)?;
            let bytes = sign(Role::Snapshot, &next.snapshot, &next.key_ids(Role::Snapshot), ring)?;
            obj_mut(&mut next.timestamp, &["meta"])?.insert("snapshot.json".into(), meta_entry(v, &bytes));
            ordered.push(OutputFile {
                path: format!("{v}.snapshot.json"),
                bytes,
            });
            signed.push(Role::Snapshot);
        }
        if roles.contains(&Role::Root) {
            let v = next.published_root.as_ref().map_or(0, version_of) + 1;
            stamp(&mut next.root, Role::Root, v)?;
            let mut keyids = next
                .published_root
                .as_ref()
                .map_or_else(Vec::new, |p| role_keyids(p, Role::Root));
            for k in next.key_ids(Role::Root) {
                if !keyids.contains(&k) {
                    keyids.push(k);
                }
            }
            let bytes = sign(Role::Root, &next.root, &keyids, ring)?;
            ordered.push(OutputFile {
                path: format!("{v}.root.json"),
                bytes: bytes.clone(),
            });
            ordered.push(OutputFile {
                path: "root.json".into(),
                bytes: bytes.clone(),
            });
            next.published_root = Some(next.root.clone());
            next.published_root_raw = Some(bytes);
            signed.push(Role::Root);
        } else if next.root_pointer_stale
            && let Some(raw) = &next.published_root_raw
        {
            // Only the pointer is behind (an interrupted publish): it gets the newest versioned root's bytes.
            ordered.push(OutputFile {
                path: "root.json".into(),
                bytes: raw.clone(),
            });
        }
        if roles.contains(&Role::Timestamp) {
            let v = version_of(&next.timestamp) + 1;
            stamp(&mut next.timestamp, Role::Timestamp, v)?;
            let bytes = sign(Role::Timestamp, &next.timestamp, &next.key_ids(Role::Timestamp), ring)?;
            ordered.push(OutputFile {
                path: "timestamp.json".into(),
                bytes,
            });
            signed.push(Role::Timestamp);
        }
        next.dirty.clear();
        next.root_pointer_stale = false;
        out.signed = signed
            .into_iter()
            .map(|role| Signed {
                role,
                version: next.version(role),
                expires: next.expires(role),
            })
            .collect();
        out.files = ordered;
        *self = next;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use sigil_crypto::SigningKey;

    #[test]
    fn key_ids_are_the_hash_of_the_canonical_key() {
        let k = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let (id, obj) = key_object(k.public_key()).unwrap();
        assert_eq!(obj["keyval"]["public"].as_str().unwrap().len(), 64);
        let canon = format!(
            "{{\"keytype\":\"ed25519\",\"keyval\":{{\"public\":\"{}\"}},\"scheme\":\"ed25519\"}}",
            obj["keyval"]["public"].as_str().unwrap()
        );
        assert_eq!(id, hex::encode(sigil_crypto::sha256(canon.as_bytes())));
        let e = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let (_, obj) = key_object(e.public_key()).unwrap();
        assert_eq!(obj["keytype"], "ecdsa");
        assert!(
            obj["keyval"]["public"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
    }

    #[test]
    fn publish_without_a_key_changes_nothing() {
        let keys: Vec<SigningKey> = (0..4)
            .map(|_| SigningKey::generate(KeyAlgorithm::Ed25519).unwrap())
            .collect();
        let pairs: Vec<(Role, &VerifyingKey)> =
            Role::ALL.into_iter().zip(keys.iter().map(|k| k.public_key())).collect();
        let mut repo = Repository::create(&pairs).unwrap();
        let ring = KeyRing::new();
        let before = format!("{repo:?}");
        let err = repo.publish(&ring, &Lifetimes::default(), 1000).unwrap_err();
        assert!(matches!(err, RepoError::MissingKey { .. }), "{err}");
        assert_eq!(format!("{repo:?}"), before);
    }
}
