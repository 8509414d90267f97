//! The set of metadata a client trusts, and the only ways it may change (TUF specification §5.3–5.6).
//!
//! Every update is checked against what is trusted *before* it replaces anything, so rejected metadata
//! never becomes a baseline (SECURITY.md U-07, tough GHSA-76g3). Time is a parameter.

use std::collections::BTreeMap;

use super::metadata::{Delegator, Envelope, MetaFile, Root, Snapshot, Targets, Timestamp};
use super::{ExpiryPolicy, TufError};

/// A verified piece of metadata with the bytes it came from (what gets cached).
#[derive(Debug, Clone)]
pub struct Verified<T> {
    pub signed: T,
    pub raw: Vec<u8>,
}

/// Where metadata bytes come from. Cached bytes were verified when they were stored; they serve as the
/// rollback baseline even when expired or superseded, and are used only once shown to be final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cache,
    Remote,
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Accepted and now trusted.
    Accepted,
    /// The same version as the trusted one: nothing changed.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct TrustedSet {
    root: Verified<Root>,
    timestamp: Option<Verified<Timestamp>>,
    snapshot: Option<Verified<Snapshot>>,
    targets: BTreeMap<String, Verified<Targets>>,
    now: i64,
    expiry: ExpiryPolicy,
}

fn expired(role: &str, expires: String) -> TufError {
    TufError::Expired {
        role: role.to_string(),
        expires,
    }
}

impl TrustedSet {
    /// Starts from a root trusted out of band (embedded or pinned). It must be signed by its own root keys;
    /// its expiry is checked only once the root updates are done.
    pub fn new(root: &[u8], now: i64, expiry: ExpiryPolicy) -> Result<Self, TufError> {
        let env = Envelope::parse(root, "root")?;
        let parsed = Root::parse(&env.signed)?;
        env.verify("root", &parsed)?;
        Ok(Self {
            root: Verified {
                signed: parsed,
                raw: root.to_vec(),
            },
            timestamp: None,
            snapshot: None,
            targets: BTreeMap::new(),
            now,
            expiry,
        })
    }

    pub fn root(&self) -> &Verified<Root> {
        &self.root
    }
    pub fn timestamp(&self) -> Option<&Verified<Timestamp>> {
        self.timestamp.as_ref()
    }
    pub fn snapshot(&self) -> Option<&Verified<Snapshot>> {
        self.snapshot.as_ref()
    }
    pub fn targets(&self, role: &str) -> Option<&Verified<Targets>> {
        self.targets.get(role)
    }
    pub fn now(&self) -> i64 {
        self.now
    }

    fn check_expiry(&self, role: &str, common: &super::metadata::Common) -> Result<(), TufError> {
        if self.expiry == ExpiryPolicy::Enforce && common.is_expired(self.now) {
            return Err(expired(role, common.expires_text()));
        }
        Ok(())
    }

    /// Root version N+1: signed by a threshold of the trusted root's keys *and* of its own.
    pub fn update_root(&mut self, bytes: &[u8]) -> Result<(), TufError> {
        if self.timestamp.is_some() {
            return Err(TufError::Order("root cannot change after timestamp was loaded"));
        }
        let env = Envelope::parse(bytes, "root")?;
        let new = Root::parse(&env.signed)?;
        env.verify("root", &self.root.signed)?;
        let expected = self.root.signed.common.version + 1;
        if new.common.version != expected {
            return Err(TufError::RootVersion {
                trusted: self.root.signed.common.version,
                got: new.common.version,
            });
        }
        env.verify("root", &new)?;
        // Keys of timestamp or snapshot changed: what they signed before is no longer a baseline (§5.3.11).
        let rotated = |role: &str| self.root.signed.roles.get(role) != new.roles.get(role);
        if rotated("timestamp") || rotated("snapshot") {
            self.timestamp = None;
            self.snapshot = None;
        }
        self.root = Verified {
            signed: new,
            raw: bytes.to_vec(),
        };
        Ok(())
    }

    /// The final root must not be expired.
    pub fn check_root(&self) -> Result<(), TufError> {
        self.check_expiry("root", &self.root.signed.common)
    }

    /// A new timestamp: signed by root's timestamp keys, never older than the trusted one, and never naming
    /// an older snapshot. An equal version leaves the trusted one in place.
    pub fn update_timestamp(&mut self, bytes: &[u8], origin: Origin) -> Result<Update, TufError> {
        if !self.targets.is_empty() || self.snapshot.is_some() {
            return Err(TufError::Order("timestamp must be loaded before snapshot and targets"));
        }
        if origin == Origin::Remote {
            self.check_root()?;
        }
        let env = Envelope::parse(bytes, "timestamp")?;
        let new = Timestamp::parse(&env.signed)?;
        env.verify("timestamp", &self.root.signed)?;
        if let Some(old) = &self.timestamp {
            let (old_v, new_v) = (old.signed.common.version, new.common.version);
            if new_v < old_v {
                return Err(TufError::Rollback {
                    role: "timestamp".into(),
                    trusted: old_v,
                    got: new_v,
                });
            }
            if new.snapshot.version < old.signed.snapshot.version {
                return Err(TufError::Rollback {
                    role: "snapshot (as timestamp names it)".into(),
                    trusted: old.signed.snapshot.version,
                    got: new.snapshot.version,
                });
            }
            if new_v == old_v {
                self.check_expiry("timestamp", &old.signed.common)?;
                return Ok(Update::Unchanged);
            }
        }
        // Checked last, so an expired timestamp is still refused as a rollback first. A cached one stays the
        // baseline even when expired; it is never final then.
        if origin == Origin::Remote {
            self.check_expiry("timestamp", &new.common)?;
        }
        self.timestamp = Some(Verified {
            signed: new,
            raw: bytes.to_vec(),
        });
        // A new timestamp makes any snapshot without the version it names non-final; kept as a baseline.
        Ok(Update::Accepted)
    }

    /// What the trusted timestamp says of snapshot; `Remote` use needs it unexpired.
    fn timestamp_meta(&self, origin: Origin) -> Result<&MetaFile, TufError> {
        let ts = self
            .timestamp
            .as_ref()
            .ok_or(TufError::Order("snapshot needs a trusted timestamp"))?;
        if origin == Origin::Remote {
            self.check_expiry("timestamp", &ts.signed.common)?;
        }
        Ok(&ts.signed.snapshot)
    }

    /// A new snapshot. Cached bytes, whose hash a newer timestamp cannot vouch for, are the rollback baseline
    /// and are final only if their version is the one the timestamp names.
    pub fn update_snapshot(&mut self, bytes: &[u8], origin: Origin) -> Result<(), TufError> {
        if !self.targets.is_empty() {
            return Err(TufError::Order("snapshot cannot change after targets were loaded"));
        }
        let meta = self.timestamp_meta(origin)?.clone();
        if origin == Origin::Remote {
            check_length_and_hashes("snapshot.json", bytes, meta.length, meta.hashes.as_ref())?;
        }
        let env = Envelope::parse(bytes, "snapshot")?;
        let new = Snapshot::parse(&env.signed)?;
        env.verify("snapshot", &self.root.signed)?;
        if let Some(old) = &self.snapshot {
            for (name, old_meta) in &old.signed.meta {
                match new.meta.get(name) {
                    None => {
                        return Err(TufError::DelegationDropped {
                            role: name.clone(),
                            change: "no longer lists it".into(),
                        });
                    }
                    Some(m) if m.version < old_meta.version && name == "targets.json" => {
                        return Err(TufError::Rollback {
                            role: "targets (as snapshot names it)".into(),
                            trusted: old_meta.version,
                            got: m.version,
                        });
                    }
                    Some(m) if m.version < old_meta.version => {
                        return Err(TufError::DelegationDropped {
                            role: name.clone(),
                            change: format!("lowers its version from {} to {}", old_meta.version, m.version),
                        });
                    }
                    Some(_) => {}
                }
            }
            if new.common.version < old.signed.common.version {
                return Err(TufError::Rollback {
                    role: "snapshot".into(),
                    trusted: old.signed.common.version,
                    got: new.common.version,
                });
            }
        }
        let version = new.common.version;
        let common = new.common.clone();
        // Trusted as a baseline from here on; whether it is final is checked below and before every use.
        let candidate = Verified {
            signed: new,
            raw: bytes.to_vec(),
        };
        if origin == Origin::Remote {
            if version != meta.version {
                return Err(TufError::VersionMismatch {
                    role: "snapshot".into(),
                    expected: meta.version,
                    got: version,
                });
            }
            self.check_expiry("snapshot", &common)?;
        }
        self.snapshot = Some(candidate);
        if origin == Origin::Cache {
            self.final_snapshot()?;
        }
        Ok(())
    }

    /// The snapshot, if it is the one the timestamp names and not expired.
    pub fn final_snapshot(&self) -> Result<&Snapshot, TufError> {
        let meta = self.timestamp_meta(Origin::Remote)?;
        let snap = self
            .snapshot
            .as_ref()
            .ok_or(TufError::Order("targets need a trusted snapshot"))?;
        if snap.signed.common.version != meta.version {
            return Err(TufError::VersionMismatch {
                role: "snapshot".into(),
                expected: meta.version,
                got: snap.signed.common.version,
            });
        }
        self.check_expiry("snapshot", &snap.signed.common)?;
        Ok(&snap.signed)
    }

    /// What the final snapshot says of `<role>.json`.
    pub fn targets_meta(&self, role: &str) -> Result<MetaFile, TufError> {
        self.final_snapshot()?
            .meta
            .get(&format!("{role}.json"))
            .cloned()
            .ok_or_else(|| TufError::Malformed {
                role: "snapshot".into(),
                reason: format!("meta does not list {role}.json"),
            })
    }

    /// Targets metadata for `role` (`targets`, or a delegated role of `delegator`), as the snapshot names it.
    pub fn update_targets(
        &mut self,
        bytes: &[u8],
        role: &str,
        delegator: &str,
        origin: Origin,
    ) -> Result<(), TufError> {
        let meta = self.targets_meta(role)?;
        if origin == Origin::Remote {
            check_length_and_hashes(&format!("{role}.json"), bytes, meta.length, meta.hashes.as_ref())?;
        }
        let env = Envelope::parse(bytes, role)?;
        let new = Targets::parse(&env.signed, role)?;
        let signer: &dyn Delegator = if delegator == "root" {
            &self.root.signed
        } else {
            &self
                .targets
                .get(delegator)
                .ok_or(TufError::Order("a delegated role needs its delegator loaded first"))?
                .signed
        };
        env.verify(role, signer)?;
        if new.common.version != meta.version {
            return Err(TufError::VersionMismatch {
                role: role.to_string(),
                expected: meta.version,
                got: new.common.version,
            });
        }
        self.check_expiry(role, &new.common)?;
        self.targets.insert(
            role.to_string(),
            Verified {
                signed: new,
                raw: bytes.to_vec(),
            },
        );
        Ok(())
    }
}

/// Checks `bytes` against a signed length and hashes (all of them; an unknown algorithm fails).
pub fn check_length_and_hashes(
    file: &str,
    bytes: &[u8],
    length: Option<u64>,
    hashes: Option<&super::metadata::Hashes>,
) -> Result<(), TufError> {
    if let Some(len) = length
        && bytes.len() as u64 != len
    {
        return Err(TufError::Length {
            file: file.to_string(),
            expected: len,
            got: bytes.len() as u64,
        });
    }
    for (alg, digest) in hashes.into_iter().flatten() {
        let actual = match alg.as_str() {
            "sha256" => sigil_crypto::HashAlgorithm::Sha2_256.digest(bytes),
            "sha384" => sigil_crypto::HashAlgorithm::Sha2_384.digest(bytes),
            "sha512" => sigil_crypto::HashAlgorithm::Sha2_512.digest(bytes),
            _ => {
                return Err(TufError::Hash {
                    file: file.to_string(),
                    algorithm: format!("{alg} (unsupported)"),
                });
            }
        };
        if &actual != digest {
            return Err(TufError::Hash {
                file: file.to_string(),
                algorithm: alg.clone(),
            });
        }
    }
    Ok(())
}
