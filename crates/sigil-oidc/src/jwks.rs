//! A per-issuer cache of parsed JWKS documents, with the refresh rules the async layer follows.
//!
//! The cache never does I/O: the caller fetches and calls [`JwksCache::insert`]. Its lock is a `RwLock` held
//! only to clone an `Arc` out or to swap one in, never across a fetch or a signature check.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};

use crate::Error;

/// Largest JWKS document accepted.
pub const MAX_JWKS_LEN: usize = 64 * 1024;
/// Most keys in one JWKS.
pub const MAX_JWKS_KEYS: usize = 100;
/// Default time after which an issuer's keys are fetched again.
pub const DEFAULT_TTL_SECS: i64 = 600;
/// Default minimum interval between refreshes triggered by an unknown `kid` (O-07), and between retries after a
/// failed fetch.
pub const DEFAULT_REFRESH_INTERVAL_SECS: i64 = 30;
/// Most issuers cached (meta issuers can name many); the least recently fetched is evicted beyond it.
pub const MAX_CACHED_ISSUERS: usize = 1024;

/// The family (and curve) of a key, which must match the token's `alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

/// One usable verification key.
#[derive(Clone)]
pub(crate) struct CachedKey {
    pub(crate) kid: Option<String>,
    pub(crate) kind: KeyKind,
    /// The JWK's own `alg`, when it names one.
    pub(crate) alg: Option<String>,
    pub(crate) key: DecodingKey,
}

impl std::fmt::Debug for CachedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// An issuer's keys as of one fetch.
#[derive(Debug)]
pub struct IssuerKeys {
    pub(crate) keys: Vec<CachedKey>,
    /// When the keys were fetched (unix seconds).
    pub fetched_at: i64,
}

impl IssuerKeys {
    /// How many usable keys the document held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none (never true for a cached entry).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[derive(Debug, Default)]
struct Entry {
    keys: Option<Arc<IssuerKeys>>,
    last_kid_refresh: Option<i64>,
    last_failure: Option<i64>,
    generation: u64,
}

/// Per-issuer JWKS cache. Thread-safe; share it in an `Arc`.
#[derive(Debug)]
pub struct JwksCache {
    entries: RwLock<HashMap<String, Entry>>,
    ttl: i64,
    refresh_interval: i64,
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::new()
    }
}

impl JwksCache {
    /// A cache with the default TTL (10 min) and refresh interval (30 s).
    pub fn new() -> Self {
        Self::with_intervals(DEFAULT_TTL_SECS, DEFAULT_REFRESH_INTERVAL_SECS)
    }

    /// A cache with explicit intervals in seconds.
    pub fn with_intervals(ttl_secs: i64, refresh_interval_secs: i64) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            ttl: ttl_secs.max(1),
            refresh_interval: refresh_interval_secs.max(1),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry>> {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Parses a JWKS document and replaces the issuer's keys. Keys of unsupported types (symmetric `oct`, P-521,
    /// encryption keys) are skipped; a document with none left is an error and leaves the cached keys in place.
    /// Returns the number of usable keys.
    pub fn insert(&self, issuer: &str, jwks: &[u8], now: i64) -> Result<usize, Error> {
        let keys = parse_jwks(jwks)?;
        let count = keys.len();
        let fresh = Arc::new(IssuerKeys { keys, fetched_at: now });
        let mut map = self.write();
        if !map.contains_key(issuer) && map.len() >= MAX_CACHED_ISSUERS {
            let oldest = map
                .iter()
                .min_by_key(|(_, e)| e.keys.as_ref().map_or(i64::MIN, |k| k.fetched_at))
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        let entry = map.entry(issuer.to_owned()).or_default();
        entry.keys = Some(fresh);
        entry.last_failure = None;
        entry.generation = entry.generation.wrapping_add(1);
        Ok(count)
    }

    /// The issuer's cached keys.
    pub fn keys(&self, issuer: &str) -> Option<Arc<IssuerKeys>> {
        self.read().get(issuer).and_then(|e| e.keys.clone())
    }

    /// Whether the issuer's keys should be fetched: none cached or older than the TTL, and no failed fetch within
    /// the refresh interval (a failing endpoint is not hammered; cached keys keep serving meanwhile).
    pub fn needs_fetch(&self, issuer: &str, now: i64) -> bool {
        let map = self.read();
        let Some(entry) = map.get(issuer) else { return true };
        if entry
            .last_failure
            .is_some_and(|t| now.saturating_sub(t) < self.refresh_interval)
        {
            return false;
        }
        entry
            .keys
            .as_ref()
            .is_none_or(|k| now.saturating_sub(k.fetched_at) >= self.ttl)
    }

    /// Whether a token with an unknown `kid` may trigger a refresh now. At most one such refresh per issuer per
    /// refresh interval: a `true` answer records the attempt, so concurrent callers get `false`.
    pub fn may_refresh_for_unknown_kid(&self, issuer: &str, now: i64) -> bool {
        let mut map = self.write();
        if !map.contains_key(issuer) && map.len() >= MAX_CACHED_ISSUERS {
            return false;
        }
        let entry = map.entry(issuer.to_owned()).or_default();
        let recent = |t: Option<i64>| t.is_some_and(|t| now.saturating_sub(t) < self.refresh_interval);
        if recent(entry.last_kid_refresh) || recent(entry.last_failure) {
            return false;
        }
        if entry
            .keys
            .as_ref()
            .is_some_and(|k| now.saturating_sub(k.fetched_at) < self.refresh_interval)
        {
            // The keys were fetched moments ago: a refresh would return the same set.
            return false;
        }
        entry.last_kid_refresh = Some(now);
        true
    }

    /// Records a failed fetch: cached keys stay, and [`JwksCache::needs_fetch`] answers `false` for the refresh
    /// interval.
    pub fn record_fetch_failure(&self, issuer: &str, now: i64) {
        let mut map = self.write();
        if !map.contains_key(issuer) && map.len() >= MAX_CACHED_ISSUERS {
            return;
        }
        let entry = map.entry(issuer.to_owned()).or_default();
        entry.last_failure = Some(now);
        entry.generation = entry.generation.wrapping_add(1);
    }

    /// A counter that changes whenever the issuer's entry is refreshed or a fetch fails; lets concurrent refreshers
    /// see that another one finished while they waited.
    pub fn generation(&self, issuer: &str) -> u64 {
        self.read().get(issuer).map_or(0, |e| e.generation)
    }
}

fn parse_jwks(bytes: &[u8]) -> Result<Vec<CachedKey>, Error> {
    if bytes.len() > MAX_JWKS_LEN {
        return Err(Error::Jwks("document too large"));
    }
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| Error::Jwks("not JSON"))?;
    let list = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or(Error::Jwks("no keys array"))?;
    if list.len() > MAX_JWKS_KEYS {
        return Err(Error::Jwks("too many keys"));
    }
    let mut out: Vec<CachedKey> = Vec::new();
    for value in list {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
            continue;
        };
        let Some(key) = usable_key(&jwk) else { continue };
        if key.kid.is_some() && out.iter().any(|k| k.kid == key.kid) {
            return Err(Error::Jwks("duplicate kid"));
        }
        out.push(key);
    }
    if out.is_empty() {
        return Err(Error::Jwks("no usable signature key"));
    }
    Ok(out)
}

fn usable_key(jwk: &Jwk) -> Option<CachedKey> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let kind = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => KeyKind::Rsa,
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => KeyKind::EcP256,
            EllipticCurve::P384 => KeyKind::EcP384,
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => KeyKind::Ed25519,
        // Symmetric keys never verify an ID token (O-02).
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    let alg = jwk
        .common
        .key_algorithm
        .and_then(|a| serde_json::to_value(a).ok())
        .and_then(|v| v.as_str().map(str::to_owned));
    let kid = jwk.common.key_id.clone().filter(|k| k.len() <= 256);
    Some(CachedKey { kid, kind, alg, key })
}
