//! The TUF client's costs, one core: the public-good root's self-verification (parse, canonical JSON, ECDSA
//! P-256 threshold of 3), and a whole first refresh plus `trusted_root.json` download against a repository our
//! writer published (Ed25519, in memory: the cost of the client, not of a network), cold cache and warm cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // bench code

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use sigil_crypto::KeyAlgorithm;
use sigil_trust::tuf::repo::Lifetimes;
use sigil_trust::tuf::repo_dir::RepoDir;
use sigil_trust::tuf::trusted::TrustedSet;
use sigil_trust::tuf::{ExpiryPolicy, Fetch, FetchError, Mode, RepositoryConfig, Updater};

const MIRROR: &str = "https://tuf.bench";

struct Mem(BTreeMap<String, Vec<u8>>);

impl Fetch for Mem {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let rel = url.strip_prefix(MIRROR).and_then(|r| r.strip_prefix('/')).unwrap();
        let b = self.0.get(rel).cloned().ok_or(FetchError::NotFound)?;
        if b.len() as u64 > max_len {
            return Err(FetchError::TooLarge(max_len));
        }
        Ok(b)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tuf");
    g.bench_function("public-good root v15: parse + verify threshold 3 (ECDSA P-256)", |b| {
        b.iter(|| TrustedSet::new(sigil_trust::PRODUCTION_TUF_ROOT.as_bytes(), 0, ExpiryPolicy::Enforce).unwrap())
    });

    // A repository like `sigil serve`'s: the production trusted root and signing config as targets.
    let tmp = std::env::temp_dir().join(format!("sigil-tuf-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dir = RepoDir::new(tmp.join("repo"));
    let targets = vec![
        (
            "trusted_root.json".to_string(),
            sigil_trust::PRODUCTION_TRUSTED_ROOT.as_bytes().to_vec(),
        ),
        (
            "signing_config.v0.2.json".to_string(),
            sigil_trust::PRODUCTION_SIGNING_CONFIG.as_bytes().to_vec(),
        ),
    ];
    dir.init(KeyAlgorithm::Ed25519, &Lifetimes::default(), b"", &targets, now())
        .unwrap();
    let mut files = BTreeMap::new();
    let repo = dir.repo();
    for entry in walk(&repo) {
        let rel = entry.strip_prefix(&repo).unwrap().to_string_lossy().replace('\\', "/");
        files.insert(rel, std::fs::read(&entry).unwrap());
    }
    let fetch = Mem(files);
    let root = std::fs::read(dir.first_root()).unwrap();
    let cache = tmp.join("cache");
    let load = |cache: &std::path::Path| {
        let mut u = Updater::open(
            RepositoryConfig::for_mirror(MIRROR, cache.to_path_buf()),
            &root,
            now(),
            Mode::Online,
        )
        .unwrap();
        u.refresh(Some(&fetch)).unwrap();
        u.target("trusted_root.json", Some(&fetch)).unwrap()
    };
    g.bench_function("refresh + trusted_root.json, cold cache", |b| {
        b.iter(|| {
            let _ = std::fs::remove_dir_all(&cache);
            load(&cache)
        })
    });
    load(&cache);
    g.bench_function("refresh + trusted_root.json, warm cache", |b| b.iter(|| load(&cache)));
    g.finish();
    let _ = std::fs::remove_dir_all(&tmp);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

criterion_group!(benches, bench);
criterion_main!(benches);
