//! SECURITY.md section F against repositories written by an independent TUF implementation: python-tuf
//! (PyPI `tuf`, installed with sigstore-python by `scripts/install-interop-clients.sh`) writes one repository
//! per scenario (`tests/tuf/hostile.py`, documented in `tests/tuf/README.md`), and sigil's updater refreshes
//! against each state in turn with one cache. After every step the test checks the outcome (accepted, or
//! refused for the expected reason) and what the cache trusts: a refused step must leave it unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::{Files, MIRROR, now, scenarios};
use serde_json::Value;
use sigil_trust::tuf::{FetchError, Mode, RepositoryConfig, TufError, Updater};

fn category(e: &TufError) -> &'static str {
    match e {
        TufError::RootVersion { .. } => "root_version",
        TufError::Threshold { .. } => "threshold",
        TufError::Malformed { .. } => "bad_metadata",
        TufError::Rollback { .. } => "rollback",
        TufError::Expired { .. } => "expired",
        TufError::Hash { .. } => "hash_mismatch",
        TufError::Length { .. }
        | TufError::Fetch {
            error: FetchError::TooLarge(_),
            ..
        } => "length_mismatch",
        TufError::VersionMismatch { .. } => "version_mismatch",
        TufError::DelegationDropped { .. } => "delegation_dropped",
        TufError::UnsafeName { .. } => "target_name",
        TufError::TargetNotFound { .. } => "target_not_found",
        _ => "other",
    }
}

fn version_of(path: &Path) -> Option<u64> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v["signed"]["version"].as_u64()
}

/// The versions the cache holds for each top-level role (root: the highest cached, else the bootstrap's).
fn cached_versions(cache: &Path, bootstrap: &Path) -> Value {
    let root = std::fs::read_dir(cache.join("root"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json")?.parse::<u64>().ok())
        .max()
        .or_else(|| version_of(bootstrap));
    let mut out = serde_json::json!({ "root": root });
    for role in ["timestamp", "snapshot", "targets"] {
        out[role] = version_of(&cache.join(format!("{role}.json"))).map_or(Value::Null, Value::from);
    }
    out
}

/// Runs one scenario; returns a description of every mismatch.
fn run(name: &str) -> Vec<String> {
    let dir = scenarios().join(name);
    let expect: Value = serde_json::from_slice(&std::fs::read(dir.join("expect.json")).unwrap()).unwrap();
    let bootstrap_path = dir.join("bootstrap/root.json");
    let bootstrap = std::fs::read(&bootstrap_path).unwrap();
    let cache = tempdir(name);
    let mut problems = Vec::new();
    for (i, step) in expect["steps"].as_array().unwrap().iter().enumerate() {
        let fetch = Files(dir.join(format!("steps/{}", i + 1)));
        let config = RepositoryConfig::for_mirror(MIRROR, cache.clone());
        let result = Updater::open(config, &bootstrap, now(), Mode::Online).and_then(|mut u| {
            u.refresh(Some(&fetch))?;
            match step["target"].as_str() {
                Some(t) => u.target(t, Some(&fetch)).map(Some),
                None => Ok(None),
            }
        });
        let want = step["outcome"].as_str().unwrap();
        match (&result, want) {
            (Ok(bytes), "ok") => {
                if let (Some(b), Some(h)) = (bytes, step["target_sha256"].as_str()) {
                    let got = hex::encode(sigil_crypto::sha256(b));
                    if got != h {
                        problems.push(format!("{name} step {}: target bytes sha256 {got}, want {h}", i + 1));
                    }
                }
            }
            (Err(e), "reject") => {
                let want_cat = step["error"].as_str().unwrap_or("");
                if category(e) != want_cat {
                    problems.push(format!(
                        "{name} step {}: refused as {} ({e}), want {want_cat}",
                        i + 1,
                        category(e)
                    ));
                }
            }
            (Ok(_), _) => problems.push(format!("{name} step {}: accepted, want {want}", i + 1)),
            (Err(e), _) => problems.push(format!("{name} step {}: refused ({e}), want {want}", i + 1)),
        }
        if let Some(tv) = step.get("trusted_versions").and_then(Value::as_object) {
            let got = cached_versions(&cache, &bootstrap_path);
            for (role, v) in tv {
                if &got[role] != v {
                    problems.push(format!(
                        "{name} step {}: cache holds {role} {}, want {v}",
                        i + 1,
                        got[role]
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&cache);
    problems
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sigil-tuf-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn index() -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&std::fs::read(scenarios().join("index.json")).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Runs every scenario of a SECURITY.md row; the row must have at least one.
fn row(id: &str) {
    let names: Vec<String> = index().into_iter().filter(|(_, i)| i == id).map(|(n, _)| n).collect();
    assert!(!names.is_empty(), "no scenario for {id}");
    let problems: Vec<String> = names.iter().flat_map(|n| run(n)).collect();
    assert!(problems.is_empty(), "{id}:\n{}", problems.join("\n"));
}

#[test]
fn u01_root_versions_are_sequential() {
    row("U-01");
}
#[test]
fn u02_new_root_signed_by_old_and_new_keys() {
    row("U-02");
}
#[test]
fn u03_threshold_counts_distinct_keys() {
    row("U-03");
}
#[test]
fn u04_zero_or_negative_thresholds_are_malformed() {
    row("U-04");
}
#[test]
fn u05_rollback_refused() {
    row("U-05");
}
#[test]
fn u06_snapshot_keeps_every_role() {
    row("U-06");
}
#[test]
fn u07_a_refused_timestamp_does_not_poison_the_cache() {
    row("U-07");
}
#[test]
fn u08_freeze_is_refused_as_expired() {
    row("U-08");
}
#[test]
fn u09_mix_and_match_refused() {
    row("U-09");
}
#[test]
fn u10_oversized_files_refused() {
    row("U-10");
}
#[test]
fn u11_unsafe_names_refused() {
    row("U-11");
}
#[test]
fn u12_delegation_search_order_and_termination() {
    row("U-12");
}
#[test]
fn u13_malformed_metadata_is_a_typed_error() {
    row("U-13");
}
#[test]
fn benign_repositories_are_accepted() {
    for (name, id) in index() {
        if id.is_empty() || id == "control" {
            let problems = run(&name);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
    }
}
