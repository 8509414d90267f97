//! The log's key history (`keys/history.json`): every generation of signing keys the log has had, public halves
//! only, with when each was activated and retired.
//!
//! A generation is the pair of keys that signs one stretch of the log: the ECDSA P-256 key (Rekor v1 SETs and
//! checkpoints) and the Ed25519 key (C2SP checkpoints, the Rekor v2 log ID). Both change together in a rotation,
//! so an entry's SET, its log ID and the checkpoint it is proven in always come from one generation.
//!
//! The file is written only by a rotation and is its commit point: once it names a new generation, the new key
//! files are (or, after a crash, are made) the current ones. A log that was never rotated has no file; its one
//! generation is its key files, active since the log was created. Private halves of retired keys are not kept.
//!
//! ```json
//! {"version": 1, "generations": [
//!   {"ecdsaP256Spki": "<b64 DER SPKI>", "ed25519": "<b64 raw 32 bytes>", "activated": 1700000000, "retired": 1700500000},
//!   {"ecdsaP256Spki": "…", "ed25519": "…", "activated": 1700500000}
//! ]}
//! ```

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sigil_crypto::{KeyAlgorithm, VerifyingKey, spki_der_for};

use crate::Error;

/// The history's file name, in the log's `keys/` directory.
pub(crate) const HISTORY_FILE: &str = "history.json";
/// Largest history file read (a generation is about 250 bytes).
pub(crate) const MAX_HISTORY_BYTES: usize = 1 << 20;
/// Most generations a history may hold.
pub const MAX_KEY_GENERATIONS: usize = 1024;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Record {
    ecdsa_p256_spki: String,
    ed25519: String,
    activated: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired: Option<i64>,
}

impl sigil_trust::history::Dated for Record {
    fn activated(&self) -> i64 {
        self.activated
    }
    fn retired(&self) -> Option<i64> {
        self.retired
    }
}

/// One generation of the log's keys, public halves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The ECDSA P-256 key (Rekor v1).
    pub v1_key: VerifyingKey,
    /// The Ed25519 checkpoint key (Rekor v2, C2SP).
    pub checkpoint_key: VerifyingKey,
    /// When it started signing (Unix seconds; for the first generation, when the log was created).
    pub activated: i64,
    /// When it stopped (Unix seconds); `None` for the current generation.
    pub retired: Option<i64>,
}

impl KeyRecord {
    /// A record for keys given as the v1 key's DER SPKI and the raw Ed25519 key.
    pub(crate) fn new(v1_key: VerifyingKey, ed25519_raw: &[u8], activated: i64) -> Result<Self, Error> {
        let checkpoint_key = VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::Ed25519, ed25519_raw))
            .map_err(|e| Error::Key(format!("Ed25519 public key: {e}")))?;
        Ok(Self {
            v1_key,
            checkpoint_key,
            activated,
            retired: None,
        })
    }

    /// Whether `other` shares a key with this generation.
    pub(crate) fn shares_a_key(&self, other: &Self) -> bool {
        self.v1_key == other.v1_key || self.checkpoint_key == other.checkpoint_key
    }
}

fn bad(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::KeyHistory {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Parses a history file's bytes (`path` names it in errors). Bounded: at most [`MAX_HISTORY_BYTES`] and
/// [`MAX_KEY_GENERATIONS`]. Checks what the log relies on: keys of the right types, no key used by two
/// generations, every generation but the last retired, and times that never go backwards
/// ([`sigil_trust::history::parse`]).
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Vec<KeyRecord>, Error> {
    let decode = |r: Record| {
        let spki = B64
            .decode(&r.ecdsa_p256_spki)
            .map_err(|e| ("ecdsaP256Spki", e.to_string()))?;
        let v1_key = VerifyingKey::from_spki_der(&spki).map_err(|e| ("ecdsaP256Spki", e.to_string()))?;
        if v1_key.algorithm() != KeyAlgorithm::EcdsaP256 {
            return Err(("ecdsaP256Spki", "not an ECDSA P-256 key".to_string()));
        }
        let raw = B64.decode(&r.ed25519).map_err(|e| ("ed25519", e.to_string()))?;
        if raw.len() != 32 {
            return Err(("ed25519", format!("{} bytes, not 32", raw.len())));
        }
        let mut record = KeyRecord::new(v1_key, &raw, r.activated).map_err(|e| ("ed25519", e.to_string()))?;
        record.retired = r.retired;
        Ok(record)
    };
    let reuse = sigil_trust::history::Reuse {
        same: KeyRecord::shares_a_key,
        field: "keys",
        reason: "a key of an earlier generation is used again",
    };
    sigil_trust::history::parse(bytes, MAX_HISTORY_BYTES, MAX_KEY_GENERATIONS, decode, reuse).map_err(|r| bad(path, r))
}

/// The file's bytes for `records` (oldest first).
pub(crate) fn encode(records: &[KeyRecord]) -> Result<Vec<u8>, Error> {
    let generations = records
        .iter()
        .map(|r| Record {
            ecdsa_p256_spki: B64.encode(r.v1_key.spki_der()),
            ed25519: B64.encode(r.checkpoint_key.raw_key()),
            activated: r.activated,
            retired: r.retired,
        })
        .collect();
    sigil_trust::history::encode::<Record>(generations)
        .map_err(|e| Error::Key(format!("encoding the key history: {e}")))
}

/// Reads `<keys dir>/history.json`; `Ok(None)` if the log was never rotated.
pub(crate) fn read(keys_dir: &Path) -> Result<Option<Vec<KeyRecord>>, Error> {
    let path = keys_dir.join(HISTORY_FILE);
    match sigil_trust::history::read(&path, MAX_HISTORY_BYTES).map_err(|e| Error::io("read", &path, &e))? {
        Some(bytes) => parse(&bytes, &path).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};

    fn generation(activated: i64, retired: Option<i64>) -> KeyRecord {
        let rng = SystemRandom::new();
        let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
        let v1 = VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::EcdsaP256, ec.public_key().as_ref())).unwrap();
        let mut r = KeyRecord::new(v1, ed.public_key().as_ref(), activated).unwrap();
        r.retired = retired;
        r
    }

    fn path() -> &'static Path {
        Path::new("keys/history.json")
    }

    fn json(records: &[KeyRecord]) -> serde_json::Value {
        serde_json::from_slice(&encode(records).unwrap()).unwrap()
    }

    fn reason(v: &serde_json::Value) -> String {
        match parse(&serde_json::to_vec(v).unwrap(), path()) {
            Err(Error::KeyHistory { path: p, reason }) => {
                assert_eq!(p, path());
                reason
            }
            other => panic!("expected a key-history error, got {other:?}"),
        }
    }

    #[test]
    fn round_trips() {
        let records = vec![
            generation(100, Some(200)),
            generation(200, Some(300)),
            generation(300, None),
        ];
        let parsed = parse(&encode(&records).unwrap(), path()).unwrap();
        assert_eq!(parsed, records);
    }

    #[test]
    fn bad_input_is_a_named_error() {
        let good = json(&[generation(100, Some(200)), generation(200, None)]);
        type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(&str, Mutation, &str)> = vec![
            ("version", Box::new(|v| v["version"] = 2.into()), "version 2"),
            ("unknown field", Box::new(|v| v["extra"] = 1.into()), "unknown field"),
            (
                "no generations",
                Box::new(|v| v["generations"] = serde_json::json!([])),
                "0 generations",
            ),
            (
                "retired current",
                Box::new(|v| v["generations"][1]["retired"] = 300.into()),
                "generation 1: retired: the current",
            ),
            (
                "unretired old",
                Box::new(|v| {
                    v["generations"][0].as_object_mut().unwrap().remove("retired");
                }),
                "generation 0: retired: missing",
            ),
            (
                "retired before activated",
                Box::new(|v| v["generations"][0]["retired"] = 50.into()),
                "generation 0: retired: before it was activated",
            ),
            (
                "overlapping",
                Box::new(|v| v["generations"][1]["activated"] = 150.into()),
                "generation 1: activated: before the previous",
            ),
            (
                "negative time",
                Box::new(|v| v["generations"][0]["activated"] = (-1).into()),
                "generation 0: activated: negative",
            ),
            (
                "not base64",
                Box::new(|v| v["generations"][0]["ed25519"] = "!!".into()),
                "generation 0: ed25519",
            ),
            (
                "short ed25519",
                Box::new(|v| v["generations"][1]["ed25519"] = B64.encode([1u8; 31]).into()),
                "generation 1: ed25519: 31 bytes, not 32",
            ),
            (
                "garbage spki",
                Box::new(|v| v["generations"][0]["ecdsaP256Spki"] = B64.encode(b"not der").into()),
                "generation 0: ecdsaP256Spki",
            ),
            (
                "ed25519 in the v1 slot",
                Box::new(|v| {
                    let raw = B64.decode(v["generations"][0]["ed25519"].as_str().unwrap()).unwrap();
                    v["generations"][0]["ecdsaP256Spki"] = B64.encode(spki_der_for(KeyAlgorithm::Ed25519, &raw)).into();
                }),
                "generation 0: ecdsaP256Spki: not an ECDSA P-256 key",
            ),
            (
                "reused key",
                Box::new(|v| v["generations"][1]["ed25519"] = v["generations"][0]["ed25519"].clone()),
                "generation 1: keys: a key of an earlier generation",
            ),
            (
                "wrong type",
                Box::new(|v| v["generations"][0]["activated"] = "soon".into()),
                "invalid type",
            ),
        ];
        for (name, mutate, want) in cases {
            let mut v = good.clone();
            mutate(&mut v);
            let got = reason(&v);
            assert!(got.contains(want), "{name}: {got:?} does not contain {want:?}");
        }
    }

    #[test]
    fn size_and_count_are_bounded() {
        let big = vec![b' '; MAX_HISTORY_BYTES + 1];
        match parse(&big, path()) {
            Err(Error::KeyHistory { reason, .. }) => assert!(reason.contains("more than"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let one = json(&[generation(1, None)]);
        let mut many = one.clone();
        let g = one["generations"][0].clone();
        many["generations"] = serde_json::Value::Array(vec![g; MAX_KEY_GENERATIONS + 1]);
        assert!(reason(&many).contains("1025 generations"));
        assert!(matches!(parse(b"", path()), Err(Error::KeyHistory { .. })));
        assert!(matches!(parse(b"{", path()), Err(Error::KeyHistory { .. })));
        assert!(matches!(parse(&[0xff, 0xfe], path()), Err(Error::KeyHistory { .. })));
    }

    #[test]
    fn read_is_bounded_and_absent_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join(HISTORY_FILE), vec![b'x'; MAX_HISTORY_BYTES + 10]).unwrap();
        assert!(matches!(read(dir.path()), Err(Error::KeyHistory { .. })));
    }
}
