//! TUF metadata (specification 1.x) as typed values, parsed strictly from JSON, with the signature
//! threshold check.
//!
//! Unknown fields are allowed (the specification lets repositories add them, and Sigstore's root has
//! `x-tuf-on-ci-*` fields); they are covered by the signature because what is verified is the canonical form
//! of the whole `signed` object as received. Key IDs are taken as the repository wrote them and never
//! recomputed (tough's recomputation rejected Sigstore's real root). What counts toward a threshold is the
//! *key*, identified by its SubjectPublicKeyInfo, not the key ID: two IDs for one key, or one key in two
//! encodings, count once (SECURITY.md U-03).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use sigil_crypto::{KeyAlgorithm, SignatureScheme, VerifyingKey};

use super::TufError;
use super::canonical::canonical_json;

/// The four top-level roles.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// A signed metadata file before its `signed` part is interpreted: the signatures and the canonical bytes
/// they sign.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub signatures: Vec<(String, Vec<u8>)>,
    pub signed: Value,
    canonical: Vec<u8>,
}

/// A public key of the repository. Keys of types sigil cannot use are kept (so metadata naming them still
/// loads) but never verify anything.
#[derive(Debug, Clone)]
pub struct Key {
    pub keytype: String,
    pub scheme: String,
    usable: Option<(VerifyingKey, SignatureScheme)>,
}

/// The keys and threshold of one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: u32,
}

/// Fields every metadata type has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    pub version: u64,
    /// Unix seconds.
    pub expires: i64,
    pub spec_version: String,
}

impl Common {
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires
    }

    /// `expires` as the repository wrote it.
    pub fn expires_text(&self) -> String {
        format_time(self.expires)
    }
}

#[derive(Debug, Clone)]
pub struct Root {
    pub common: Common,
    pub consistent_snapshot: bool,
    pub keys: BTreeMap<String, Key>,
    pub roles: BTreeMap<String, RoleKeys>,
}

/// Hashes of a file, algorithm name → digest; never empty.
pub type Hashes = BTreeMap<String, Vec<u8>>;

/// What timestamp says about snapshot, and snapshot about each targets file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFile {
    pub version: u64,
    pub length: Option<u64>,
    pub hashes: Option<Hashes>,
}

#[derive(Debug, Clone)]
pub struct Timestamp {
    pub common: Common,
    pub snapshot: MetaFile,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub common: Common,
    /// `"<role>.json"` → what is known of that file.
    pub meta: BTreeMap<String, MetaFile>,
}

/// A target file as targets metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: Hashes,
    pub custom: Option<Value>,
}

/// Which target paths a delegation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPattern {
    /// Shell-style patterns matched segment by segment (`*`, `?`, `[…]`), as python-tuf matches them.
    Paths(Vec<String>),
    /// Hex prefixes of the SHA-256 of the target path.
    HashPrefixes(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedRole {
    pub name: String,
    pub keys: RoleKeys,
    pub terminating: bool,
    pub paths: PathPattern,
}

#[derive(Debug, Clone)]
pub struct Delegations {
    pub keys: BTreeMap<String, Key>,
    pub roles: Vec<DelegatedRole>,
}

#[derive(Debug, Clone)]
pub struct Targets {
    pub common: Common,
    pub targets: BTreeMap<String, TargetFile>,
    pub delegations: Option<Delegations>,
}

/// Something a signed role is verified with: its delegator's keys and the role's key list.
pub trait Delegator {
    fn keys(&self) -> &BTreeMap<String, Key>;
    fn role_keys(&self, role: &str) -> Option<&RoleKeys>;
}

impl Delegator for Root {
    fn keys(&self) -> &BTreeMap<String, Key> {
        &self.keys
    }
    fn role_keys(&self, role: &str) -> Option<&RoleKeys> {
        self.roles.get(role)
    }
}

impl Delegator for Targets {
    fn keys(&self) -> &BTreeMap<String, Key> {
        static EMPTY: BTreeMap<String, Key> = BTreeMap::new();
        self.delegations.as_ref().map_or(&EMPTY, |d| &d.keys)
    }
    fn role_keys(&self, role: &str) -> Option<&RoleKeys> {
        self.delegations
            .as_ref()?
            .roles
            .iter()
            .find(|r| r.name == role)
            .map(|r| &r.keys)
    }
}

fn malformed(role: &str, reason: impl Into<String>) -> TufError {
    TufError::Malformed {
        role: role.to_string(),
        reason: reason.into(),
    }
}

impl Envelope {
    /// Parses `{"signatures": [...], "signed": {...}}`. `role` names the file in errors.
    pub fn parse(bytes: &[u8], role: &str) -> Result<Self, TufError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| malformed(role, format!("not JSON: {e}")))?;
        let Value::Object(mut outer) = value else {
            return Err(malformed(role, "not a JSON object"));
        };
        let signed = outer
            .remove("signed")
            .ok_or_else(|| malformed(role, "no \"signed\" object"))?;
        if !signed.is_object() {
            return Err(malformed(role, "\"signed\" is not an object"));
        }
        let Some(Value::Array(sigs)) = outer.remove("signatures") else {
            return Err(malformed(role, "no \"signatures\" array"));
        };
        let mut signatures = Vec::with_capacity(sigs.len());
        for sig in sigs {
            let keyid = str_field(&sig, "keyid", role)?;
            let hex_sig = str_field(&sig, "sig", role)?;
            // A signature that is not hex cannot verify; keep it out rather than failing the whole file, as
            // another key's valid signature may still meet the threshold.
            if let Ok(bytes) = hex::decode(hex_sig) {
                signatures.push((keyid.to_string(), bytes));
            }
        }
        let canonical = canonical_json(&signed).map_err(|e| malformed(role, e.0))?;
        Ok(Self {
            signatures,
            signed,
            canonical,
        })
    }

    /// The bytes the signatures sign.
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }

    /// Checks that distinct keys of `role` with valid signatures reach its threshold.
    pub fn verify(&self, role: &str, delegator: &dyn Delegator) -> Result<(), TufError> {
        let role_keys = delegator
            .role_keys(role)
            .ok_or_else(|| malformed(role, "the delegating metadata has no such role"))?;
        let mut counted: BTreeSet<Vec<u8>> = BTreeSet::new();
        for (keyid, sig) in &self.signatures {
            if !role_keys.keyids.contains(keyid) {
                continue;
            }
            let Some(key) = delegator.keys().get(keyid) else {
                continue;
            };
            if let Some((vk, scheme)) = &key.usable
                && vk.verify(*scheme, &self.canonical, sig).is_ok()
            {
                counted.insert(vk.spki_der().to_vec());
            }
        }
        if counted.len() < role_keys.threshold as usize {
            return Err(TufError::Threshold {
                role: role.to_string(),
                valid: counted.len(),
                threshold: role_keys.threshold,
            });
        }
        Ok(())
    }
}

fn str_field<'a>(v: &'a Value, name: &str, role: &str) -> Result<&'a str, TufError> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(role, format!("\"{name}\" is missing or not a string")))
}

fn obj_field<'a>(v: &'a Value, name: &str, role: &str) -> Result<&'a Map<String, Value>, TufError> {
    v.get(name)
        .and_then(Value::as_object)
        .ok_or_else(|| malformed(role, format!("\"{name}\" is missing or not an object")))
}

fn u64_field(v: &Value, name: &str, role: &str) -> Result<u64, TufError> {
    v.get(name)
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed(role, format!("\"{name}\" is missing or not a non-negative integer")))
}

fn common(signed: &Value, expected_type: &str, role: &str) -> Result<Common, TufError> {
    let ty = str_field(signed, "_type", role)?;
    if ty != expected_type {
        return Err(malformed(role, format!("_type is {ty:?}, expected {expected_type:?}")));
    }
    let spec_version = str_field(signed, "spec_version", role)?;
    let parts: Vec<&str> = spec_version.split('.').collect();
    if parts.first() != Some(&"1")
        || !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(malformed(role, format!("unsupported spec_version {spec_version:?}")));
    }
    let version = u64_field(signed, "version", role)?;
    if version == 0 || version > i64::MAX as u64 {
        return Err(malformed(role, "version must be a positive integer"));
    }
    let expires = str_field(signed, "expires", role)?;
    let expires = parse_time(expires)
        .ok_or_else(|| malformed(role, format!("expires {expires:?} is not YYYY-MM-DDTHH:MM:SSZ")))?;
    Ok(Common {
        version,
        expires,
        spec_version: spec_version.to_string(),
    })
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ`, the only form the specification allows.
pub fn parse_time(s: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(s, format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Formats unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_time(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn parse_key(v: &Value, role: &str) -> Result<Key, TufError> {
    let keytype = str_field(v, "keytype", role)?;
    let scheme = str_field(v, "scheme", role)?;
    let keyval = obj_field(v, "keyval", role)?;
    let public = keyval
        .get("public")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(role, "key has no keyval.public string"))?;
    let bad = |what: String| malformed(role, format!("{keytype}/{scheme} key: {what}"));
    let usable = match (keytype, scheme) {
        ("ed25519", "ed25519") => {
            let raw = hex::decode(public).map_err(|_| bad("public key is not hex".into()))?;
            if raw.len() != 32 {
                return Err(bad(format!("public key is {} bytes, not 32", raw.len())));
            }
            let spki = sigil_crypto::spki_der_for(KeyAlgorithm::Ed25519, &raw);
            let vk = VerifyingKey::from_spki_der(&spki).map_err(|e| bad(e.to_string()))?;
            Some((vk, SignatureScheme::Ed25519))
        }
        ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
            Some(pem_key(public, KeyAlgorithm::EcdsaP256, SignatureScheme::EcdsaSha256).map_err(bad)?)
        }
        ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
            Some(pem_key(public, KeyAlgorithm::EcdsaP384, SignatureScheme::EcdsaSha384).map_err(bad)?)
        }
        ("rsa", "rsassa-pss-sha256" | "rsa-pkcs1v15-sha256") => {
            let scheme = if scheme == "rsassa-pss-sha256" {
                SignatureScheme::RsaPssSha256
            } else {
                SignatureScheme::RsaPkcs1Sha256
            };
            let vk = VerifyingKey::from_pem(public).map_err(|e| bad(e.to_string()))?;
            if !matches!(vk.algorithm(), KeyAlgorithm::Rsa { .. }) {
                return Err(bad("not an RSA key".into()));
            }
            Some((vk, scheme))
        }
        // Another key type: the metadata stays loadable, the key verifies nothing.
        _ => None,
    };
    Ok(Key {
        keytype: keytype.to_string(),
        scheme: scheme.to_string(),
        usable,
    })
}

fn pem_key(
    public: &str,
    alg: KeyAlgorithm,
    scheme: SignatureScheme,
) -> Result<(VerifyingKey, SignatureScheme), String> {
    let vk = VerifyingKey::from_pem(public).map_err(|e| e.to_string())?;
    if vk.algorithm() != alg {
        return Err(format!("the key is {:?}, the scheme needs {alg:?}", vk.algorithm()));
    }
    Ok((vk, scheme))
}

fn parse_keys(v: &Map<String, Value>, role: &str) -> Result<BTreeMap<String, Key>, TufError> {
    v.iter().map(|(id, k)| Ok((id.clone(), parse_key(k, role)?))).collect()
}

fn parse_role_keys(v: &Value, role: &str, what: &str) -> Result<RoleKeys, TufError> {
    let keyids: Vec<String> = v
        .get("keyids")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(role, format!("{what}: keyids is missing or not an array")))?
        .iter()
        .map(|k| k.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| malformed(role, format!("{what}: a key ID is not a string")))?;
    if keyids.iter().collect::<BTreeSet<_>>().len() != keyids.len() {
        return Err(malformed(role, format!("{what}: a key ID is listed twice")));
    }
    // A threshold of 0 (or below) would accept unsigned metadata (go-tuf GHSA-fphv).
    let threshold = v
        .get("threshold")
        .and_then(Value::as_i64)
        .ok_or_else(|| malformed(role, format!("{what}: threshold is missing or not an integer")))?;
    if threshold < 1 || threshold > u32::MAX as i64 {
        return Err(malformed(
            role,
            format!("{what}: threshold {threshold} is not a positive integer"),
        ));
    }
    Ok(RoleKeys {
        keyids,
        threshold: threshold as u32,
    })
}

fn parse_hashes(v: &Value, role: &str, what: &str) -> Result<Hashes, TufError> {
    let map = v
        .as_object()
        .ok_or_else(|| malformed(role, format!("{what}: hashes is not an object")))?;
    if map.is_empty() {
        return Err(malformed(role, format!("{what}: hashes is empty")));
    }
    map.iter()
        .map(|(alg, h)| {
            let digest = h
                .as_str()
                .and_then(|h| hex::decode(h).ok())
                .ok_or_else(|| malformed(role, format!("{what}: the {alg} hash is not hex")))?;
            Ok((alg.clone(), digest))
        })
        .collect()
}

fn parse_meta_file(v: &Value, role: &str, what: &str) -> Result<MetaFile, TufError> {
    let version =
        u64_field(v, "version", role).map_err(|_| malformed(role, format!("{what}: version is missing or invalid")))?;
    if version == 0 {
        return Err(malformed(role, format!("{what}: version must be positive")));
    }
    let length = match v.get("length") {
        None => None,
        Some(l) => Some(
            l.as_u64()
                .ok_or_else(|| malformed(role, format!("{what}: length is not a non-negative integer")))?,
        ),
    };
    let hashes = match v.get("hashes") {
        None => None,
        Some(h) => Some(parse_hashes(h, role, what)?),
    };
    Ok(MetaFile {
        version,
        length,
        hashes,
    })
}

impl Root {
    pub fn parse(signed: &Value) -> Result<Self, TufError> {
        let role = "root";
        let common = common(signed, "root", role)?;
        let consistent_snapshot = match signed.get("consistent_snapshot") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| malformed(role, "consistent_snapshot is not a boolean"))?,
        };
        let keys = parse_keys(obj_field(signed, "keys", role)?, role)?;
        let roles_v = obj_field(signed, "roles", role)?;
        let mut roles = BTreeMap::new();
        for name in TOP_LEVEL_ROLES {
            let r = roles_v
                .get(name)
                .ok_or_else(|| malformed(role, format!("roles has no {name}")))?;
            let rk = parse_role_keys(r, role, name)?;
            if let Some(missing) = rk.keyids.iter().find(|k| !keys.contains_key(*k)) {
                return Err(malformed(
                    role,
                    format!("{name} names key {missing}, which root does not list"),
                ));
            }
            roles.insert(name.to_string(), rk);
        }
        if roles_v.len() != TOP_LEVEL_ROLES.len() {
            return Err(malformed(
                role,
                "roles has a role that is not root, timestamp, snapshot or targets",
            ));
        }
        Ok(Self {
            common,
            consistent_snapshot,
            keys,
            roles,
        })
    }
}

impl Timestamp {
    pub fn parse(signed: &Value) -> Result<Self, TufError> {
        let role = "timestamp";
        let common = common(signed, "timestamp", role)?;
        let meta = obj_field(signed, "meta", role)?;
        if meta.len() != 1 {
            return Err(malformed(role, "meta must describe snapshot.json and nothing else"));
        }
        let snap = meta
            .get("snapshot.json")
            .ok_or_else(|| malformed(role, "meta has no snapshot.json"))?;
        Ok(Self {
            common,
            snapshot: parse_meta_file(snap, role, "snapshot.json")?,
        })
    }
}

impl Snapshot {
    pub fn parse(signed: &Value) -> Result<Self, TufError> {
        let role = "snapshot";
        let common = common(signed, "snapshot", role)?;
        let meta = obj_field(signed, "meta", role)?
            .iter()
            .map(|(name, m)| Ok((name.clone(), parse_meta_file(m, role, name)?)))
            .collect::<Result<BTreeMap<_, _>, TufError>>()?;
        if !meta.contains_key("targets.json") {
            return Err(malformed(role, "meta has no targets.json"));
        }
        Ok(Self { common, meta })
    }
}

impl Targets {
    /// Parses targets metadata; `role` is `targets` or the delegated role's name.
    pub fn parse(signed: &Value, role: &str) -> Result<Self, TufError> {
        let common = common(signed, "targets", role)?;
        let mut targets = BTreeMap::new();
        for (name, t) in obj_field(signed, "targets", role)? {
            let what = format!("target {name:?}");
            let length =
                u64_field(t, "length", role).map_err(|_| malformed(role, format!("{what}: length is invalid")))?;
            let hashes = parse_hashes(
                t.get("hashes")
                    .ok_or_else(|| malformed(role, format!("{what}: no hashes")))?,
                role,
                &what,
            )?;
            targets.insert(
                name.clone(),
                TargetFile {
                    length,
                    hashes,
                    custom: t.get("custom").cloned(),
                },
            );
        }
        let delegations = match signed.get("delegations") {
            None => None,
            Some(d) => Some(parse_delegations(d, role)?),
        };
        Ok(Self {
            common,
            targets,
            delegations,
        })
    }
}

fn parse_delegations(d: &Value, role: &str) -> Result<Delegations, TufError> {
    let keys = parse_keys(obj_field(d, "keys", role)?, role)?;
    if d.get("succinct_roles").is_some() {
        return Err(malformed(role, "succinct_roles delegations are not supported"));
    }
    let list = d
        .get("roles")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(role, "delegations.roles is missing or not an array"))?;
    let mut roles = Vec::with_capacity(list.len());
    let mut names = BTreeSet::new();
    for r in list {
        let name = str_field(r, "name", role)?;
        let what = format!("delegation {name:?}");
        if TOP_LEVEL_ROLES.contains(&name) {
            return Err(malformed(role, format!("{what} has a top-level role's name")));
        }
        if !names.insert(name.to_string()) {
            return Err(malformed(role, format!("{what} is delegated twice")));
        }
        let keys_of = parse_role_keys(r, role, &what)?;
        if let Some(missing) = keys_of.keyids.iter().find(|k| !keys.contains_key(*k)) {
            return Err(malformed(
                role,
                format!("{what} names key {missing}, which delegations.keys does not list"),
            ));
        }
        let terminating = match r.get("terminating") {
            None => false,
            Some(t) => t
                .as_bool()
                .ok_or_else(|| malformed(role, format!("{what}: terminating is not a boolean")))?,
        };
        let strings = |v: &Value, field: &str| -> Result<Vec<String>, TufError> {
            v.as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect())
                .ok_or_else(|| malformed(role, format!("{what}: {field} is not an array of strings")))
        };
        let paths = match (r.get("paths"), r.get("path_hash_prefixes")) {
            (Some(p), None) => PathPattern::Paths(strings(p, "paths")?),
            (None, Some(p)) => PathPattern::HashPrefixes(strings(p, "path_hash_prefixes")?),
            _ => {
                return Err(malformed(
                    role,
                    format!("{what}: exactly one of paths and path_hash_prefixes must be given"),
                ));
            }
        };
        roles.push(DelegatedRole {
            name: name.to_string(),
            keys: keys_of,
            terminating,
            paths,
        });
    }
    Ok(Delegations { keys, roles })
}

impl DelegatedRole {
    /// Whether this delegation covers `target`.
    pub fn covers(&self, target: &str) -> bool {
        match &self.paths {
            PathPattern::Paths(patterns) => patterns.iter().any(|p| path_matches(p, target)),
            PathPattern::HashPrefixes(prefixes) => {
                let h = hex::encode(sigil_crypto::sha256(target.as_bytes()));
                prefixes.iter().any(|p| h.starts_with(p.as_str()))
            }
        }
    }
}

/// Segment-wise shell pattern match: the pattern and the path have the same number of `/`-separated
/// segments and each segment matches.
fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let t: Vec<&str> = path.split('/').collect();
    p.len() == t.len() && p.iter().zip(&t).all(|(p, t)| glob(p.as_bytes(), t.as_bytes()))
}

/// `fnmatch` for one segment: `*` any run, `?` one byte, `[...]`/`[!...]` a set (ranges allowed). Iterative
/// with one backtrack point, so hostile patterns cost O(len²) at most.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        let step = match pattern.get(p).copied() {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            // An unclosed '[' is a literal.
            Some(b'[') => match class(pattern, p + 1, c) {
                Some((true, next)) => Some(next),
                Some((false, _)) => None,
                None => (c == b'[').then_some(p + 1),
            },
            Some(pc) => (pc == c).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                t += 1;
            }
            (None, Some((sp, st))) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            (None, None) => return false,
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

/// Matches `c` against the set starting after `[` at `start`; returns (matched, index after `]`), or None
/// when the set is not closed.
fn class(pattern: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start;
    let negate = matches!(pattern.get(i), Some(b'!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let b = *pattern.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&e| e != b']') {
            let hi = *pattern.get(i + 2)?;
            matched |= b <= c && c <= hi;
            i += 3;
        } else {
            matched |= b == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globbing_like_fnmatch() {
        assert!(path_matches("*", "trusted_root.json"));
        assert!(!path_matches("*", "a/b"));
        assert!(path_matches("a/*", "a/b"));
        assert!(path_matches("registry.npmjs.org/*", "registry.npmjs.org/keys.json"));
        assert!(path_matches("*.json", "x.json") && !path_matches("*.json", "x.pub"));
        assert!(path_matches("f?o", "foo") && !path_matches("f?o", "fo"));
        assert!(path_matches("[a-c]x", "bx") && !path_matches("[!a-c]x", "bx"));
        assert!(path_matches("a*b*c", "aXXbYYc") && !path_matches("a*b*c", "aXXbYY"));
        assert!(path_matches("[", "["));
        assert!(path_matches("", ""));
        assert!(glob(&[b'*'; 64], b"") && !glob(b"*b", &[b'a'; 4096]));
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:10Z"), Some(10));
        assert_eq!(
            parse_time("2026-11-20T13:58:18Z").map(format_time).as_deref(),
            Some("2026-11-20T13:58:18Z")
        );
        assert_eq!(parse_time("2026-11-20T13:58:18+00:00"), None);
        assert_eq!(parse_time("2026-11-20T13:58:18.5Z"), None);
    }
}
