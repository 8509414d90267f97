//! The repository writer checked by two clients: sigil's own [`Updater`] and python-tuf's ngclient (an
//! independent implementation), over the same directory, through init → add a target → rotate the timestamp
//! key → rotate the root key → rotate the targets key → re-sign; each client keeps its own cache across the
//! steps, so every step is an update from the previous state. Plus: expiry and re-signing, crash leftovers,
//! refusals, and "any byte changed in a fetched file ⇒ the client refuses it, or it means the same".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use serde_json::Value;
use sigil_crypto::KeyAlgorithm;
use sigil_trust::tuf::repo::{Lifetimes, RepoError, Role};
use sigil_trust::tuf::repo_dir::RepoDir;
use sigil_trust::tuf::{Fetch, FetchError, Mode, RepositoryConfig, TufError, Updater};

mod common;

use common::{Files as DirFetch, MIRROR as BASE, now};

const PASSWORD: &[u8] = b"test password";

/// Serves `BASE/<path>` from memory.
struct MemFetch(BTreeMap<String, Vec<u8>>);

impl Fetch for MemFetch {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let rel = url.strip_prefix(BASE).and_then(|r| r.strip_prefix('/')).unwrap();
        let bytes = self.0.get(rel).cloned().ok_or(FetchError::NotFound)?;
        if bytes.len() as u64 > max_len {
            return Err(FetchError::TooLarge(max_len));
        }
        Ok(bytes)
    }
}

/// Versions trusted ([root, timestamp, snapshot, targets]) and the targets' bytes.
type Seen = (Vec<u64>, BTreeMap<String, Vec<u8>>);
/// Repository files (path → bytes), the pinned root, and the files a client fetches.
type Fixture = (BTreeMap<String, Vec<u8>>, Vec<u8>, Vec<String>);

/// sigil's updater over `fetch`, with its cache in `cache`, pinned to `root`: refresh, then every target.
fn sigil_client(root: &[u8], cache: &Path, fetch: &dyn Fetch, names: &[&str], at: i64) -> Result<Seen, TufError> {
    let mut u = Updater::open(
        RepositoryConfig::for_mirror(BASE, cache.to_path_buf()),
        root,
        at,
        Mode::Online,
    )?;
    u.refresh(Some(fetch))?;
    let t = u.trusted();
    let versions = vec![
        t.root().signed.common.version,
        t.timestamp().unwrap().signed.common.version,
        t.snapshot().unwrap().signed.common.version,
        t.targets("targets").unwrap().signed.common.version,
    ];
    let mut files = BTreeMap::new();
    for n in names {
        files.insert(n.to_string(), u.target(n, Some(fetch))?);
    }
    Ok((versions, files))
}

fn python() -> Option<PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import tuf.ngclient"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    let msg = format!(
        "python-tuf is not installed in {} (scripts/install-interop-clients.sh installs it)",
        py.display()
    );
    if std::env::var("SIGIL_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!("{msg} (SIGIL_REQUIRE_INTEROP=1, so this is a failure)");
    }
    eprintln!("SKIPPED the python-tuf half: {msg}. Set SIGIL_REQUIRE_INTEROP=1 to make this a failure.");
    None
}

/// python-tuf's view after a refresh: [root, timestamp, snapshot, targets] versions and target hashes.
fn python_client(py: &Path, dir: &RepoDir, state: &Path, names: &[&str]) -> (Vec<u64>, BTreeMap<String, String>) {
    let out = Command::new(py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/tuf_ngclient.py"))
        .arg(dir.repo())
        .arg(dir.first_root())
        .arg(state.join("metadata"))
        .arg(state.join("targets"))
        .args(names)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-tuf refused the repository:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let versions = ["root", "timestamp", "snapshot", "targets"]
        .iter()
        .map(|r| v["versions"][r].as_u64().unwrap())
        .collect();
    let files = v["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, h)| (k.clone(), h.as_str().unwrap().to_owned()))
        .collect();
    (versions, files)
}

struct Clients {
    dir: RepoDir,
    root: Vec<u8>,
    sigil_cache: PathBuf,
    py: Option<PathBuf>,
    py_state: PathBuf,
}

impl Clients {
    /// Both clients update; both must see `versions` and `expected` targets.
    fn check(&self, step: &str, versions: [u64; 4], expected: &[(&str, &[u8])]) {
        let names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
        let fetch = DirFetch(self.dir.repo());
        let (got, files) = sigil_client(&self.root, &self.sigil_cache, &fetch, &names, now())
            .unwrap_or_else(|e| panic!("{step}: sigil's client refused the repository: {e}"));
        assert_eq!(got, versions, "{step}: versions sigil's client trusts");
        for (n, bytes) in expected {
            assert_eq!(files[*n], *bytes, "{step}: sigil's client, target {n}");
        }
        if let Some(py) = &self.py {
            let (got, files) = python_client(py, &self.dir, &self.py_state, &names);
            assert_eq!(got, versions, "{step}: versions python-tuf trusts");
            for (n, bytes) in expected {
                assert_eq!(
                    files[*n],
                    hex::encode(sigil_crypto::sha256(bytes)),
                    "{step}: python-tuf, target {n}"
                );
            }
        }
    }
}

fn init(dir: &RepoDir, alg: KeyAlgorithm, targets: &[(&str, &[u8])]) {
    let t: Vec<(String, Vec<u8>)> = targets.iter().map(|(n, b)| (n.to_string(), b.to_vec())).collect();
    dir.init(alg, &Lifetimes::default(), PASSWORD, &t, now()).unwrap();
}

fn add_target(dir: &RepoDir, name: &str, bytes: &[u8]) -> Vec<(Role, u64)> {
    let ring = dir.key_ring(&Role::ALL, PASSWORD).unwrap();
    let (_, p) = dir
        .update(&ring, &Lifetimes::default(), now(), |r| r.set_target(name, bytes))
        .unwrap();
    p.signed.iter().map(|s| (s.role, s.version)).collect()
}

fn resign(dir: &RepoDir, role: Role, at: i64) {
    let ring = dir.key_ring(&Role::ALL, PASSWORD).unwrap();
    dir.update(&ring, &Lifetimes::default(), at, |r| {
        r.resign(role);
        Ok(())
    })
    .unwrap();
}

fn lifecycle(alg: KeyAlgorithm) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = RepoDir::new(tmp.path().join("tuf"));
    let (a, b, a2) = (
        &b"{\"trusted\": \"root v1\"}\n"[..],
        &b"{\"signing\": \"config\"}\n"[..],
        &b"{\"trusted\": \"root v2\"}\n"[..],
    );
    init(&dir, alg, &[("trusted_root.json", a), ("signing_config.v0.2.json", b)]);
    let clients = Clients {
        root: std::fs::read(dir.first_root()).unwrap(),
        sigil_cache: tmp.path().join("sigil-cache"),
        py: python(),
        py_state: tmp.path().join("python"),
        dir: dir.clone(),
    };
    clients.check(
        "init",
        [1, 1, 1, 1],
        &[("trusted_root.json", a), ("signing_config.v0.2.json", b)],
    );

    // Same content: nothing is published.
    assert!(add_target(&dir, "trusted_root.json", a).is_empty());
    let signed = add_target(&dir, "trusted_root.json", a2);
    assert_eq!(signed, [(Role::Targets, 2), (Role::Snapshot, 2), (Role::Timestamp, 2)]);
    // A target in a subdirectory: hashed file name inside it, as consistent snapshots require.
    add_target(&dir, "extra/keys.json", b"[]");
    assert!(dir.repo().join("targets/extra").is_dir());
    clients.check(
        "add-target",
        [1, 3, 3, 3],
        &[
            ("trusted_root.json", a2),
            ("signing_config.v0.2.json", b),
            ("extra/keys.json", b"[]"),
        ],
    );

    let p = dir
        .rotate_key(Role::Timestamp, None, PASSWORD, &Lifetimes::default(), now())
        .unwrap();
    assert_eq!(
        p.signed.iter().map(|s| (s.role, s.version)).collect::<Vec<_>>(),
        [(Role::Root, 2), (Role::Timestamp, 4)]
    );
    assert!(dir.key_file(Role::Timestamp).with_extension("key.old.2").is_file());
    clients.check("rotate timestamp key", [2, 4, 3, 3], &[("trusted_root.json", a2)]);

    dir.rotate_key(Role::Root, None, PASSWORD, &Lifetimes::default(), now())
        .unwrap();
    // Version 3 is signed by the old and the new root key.
    let v3: Value = serde_json::from_slice(&std::fs::read(dir.repo().join("3.root.json")).unwrap()).unwrap();
    assert_eq!(v3["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(
        std::fs::read(dir.repo().join("root.json")).unwrap(),
        std::fs::read(dir.repo().join("3.root.json")).unwrap()
    );
    clients.check("rotate root key", [3, 4, 3, 3], &[("trusted_root.json", a2)]);

    dir.rotate_key(Role::Targets, None, PASSWORD, &Lifetimes::default(), now())
        .unwrap();
    clients.check("rotate targets key", [4, 5, 4, 4], &[("signing_config.v0.2.json", b)]);

    resign(&dir, Role::Snapshot, now());
    clients.check("resign snapshot", [4, 6, 5, 4], &[("trusted_root.json", a2)]);
    resign(&dir, Role::Root, now());
    clients.check("resign root", [5, 6, 5, 4], &[("trusted_root.json", a2)]);

    // Every old version is still there for clients mid-update.
    for f in [
        "1.root.json",
        "4.root.json",
        "1.snapshot.json",
        "1.targets.json",
        "3.targets.json",
    ] {
        assert!(dir.repo().join(f).is_file(), "{f}");
    }
    // Nothing private is published.
    let mut stack = vec![dir.repo()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let text = std::fs::read(e.path()).unwrap();
                assert!(
                    !String::from_utf8_lossy(&text).contains("PRIVATE KEY"),
                    "{}",
                    e.path().display()
                );
                assert!(
                    !e.file_name().to_string_lossy().starts_with('.'),
                    "{}",
                    e.path().display()
                );
            }
        }
    }
}

#[test]
fn ed25519_repository_through_its_life_with_two_clients() {
    lifecycle(KeyAlgorithm::Ed25519);
}

#[test]
fn ecdsa_p256_repository_through_its_life_with_two_clients() {
    lifecycle(KeyAlgorithm::EcdsaP256);
}

#[test]
fn an_expired_timestamp_is_refused_until_resigned() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = RepoDir::new(tmp.path().join("tuf"));
    init(&dir, KeyAlgorithm::Ed25519, &[("trusted_root.json", b"x")]);
    let root = std::fs::read(dir.first_root()).unwrap();
    let later = now() + 2 * 86_400;
    let fetch = DirFetch(dir.repo());
    let err = sigil_client(&root, &tmp.path().join("c"), &fetch, &["trusted_root.json"], later).unwrap_err();
    assert!(
        matches!(err, TufError::Expired { ref role, .. } if role == "timestamp"),
        "{err}"
    );

    let repo = dir.load().unwrap();
    let l = Lifetimes::default();
    assert!(!repo.needs_refresh(Role::Timestamp, &l, now()));
    assert!(repo.needs_refresh(Role::Timestamp, &l, now() + 13 * 3600));
    assert!(!repo.needs_refresh(Role::Snapshot, &l, now() + 13 * 3600));
    resign(&dir, Role::Timestamp, later);
    let (versions, _) = sigil_client(&root, &tmp.path().join("c"), &fetch, &["trusted_root.json"], later).unwrap();
    assert_eq!(versions, [1, 2, 1, 1]);
}

#[test]
fn refusals_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = RepoDir::new(tmp.path().join("tuf"));
    init(&dir, KeyAlgorithm::Ed25519, &[("trusted_root.json", b"x")]);
    let snapshot_of = || {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut stack = vec![tmp.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    files.push((e.path().display().to_string(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        files.sort();
        files
    };
    let before = snapshot_of();

    // A second init.
    assert!(matches!(
        dir.init(KeyAlgorithm::Ed25519, &Lifetimes::default(), PASSWORD, &[], now()),
        Err(RepoError::Invalid(_))
    ));
    // Unsafe target names.
    let ring = dir.key_ring(&Role::ALL, PASSWORD).unwrap();
    for bad in ["../x", "/etc/passwd", "a/../b", "a\\b", "%2e%2e", "", ".hidden", "a/.b"] {
        let r = dir.update(&ring, &Lifetimes::default(), now(), |r| r.set_target(bad, b"y"));
        assert!(r.is_err(), "{bad:?} accepted");
    }
    // A wrong password.
    assert!(matches!(
        dir.key_ring(&Role::ALL, b"wrong"),
        Err(RepoError::KeyFile { .. })
    ));
    // The targets key kept offline: adding a target needs it.
    let offline = tmp.path().join("targets.key.offline");
    std::fs::rename(dir.key_file(Role::Targets), &offline).unwrap();
    let ring = dir.key_ring(&Role::ALL, PASSWORD).unwrap();
    let err = dir
        .update(&ring, &Lifetimes::default(), now(), |r| {
            r.set_target("trusted_root.json", b"z")
        })
        .unwrap_err();
    assert!(matches!(err, RepoError::MissingKey { role: "targets", .. }), "{err}");
    // …but the timestamp can still be re-signed (shown below, after the comparison).
    std::fs::rename(&offline, dir.key_file(Role::Targets)).unwrap();
    assert_eq!(snapshot_of(), before);

    std::fs::remove_file(dir.key_file(Role::Targets)).unwrap();
    let ring = dir.key_ring(&Role::ALL, PASSWORD).unwrap();
    resign(&dir, Role::Timestamp, now());
    let _ = ring;
    // Rotating the root key without the root key file.
    std::fs::remove_file(dir.key_file(Role::Root)).unwrap();
    let err = dir
        .rotate_key(Role::Timestamp, None, PASSWORD, &Lifetimes::default(), now())
        .unwrap_err();
    assert!(matches!(err, RepoError::MissingKey { role: "root", .. }), "{err}");
    assert!(!dir.key_file(Role::Timestamp).with_extension("key.new").exists());
}

#[test]
fn an_interrupted_publish_is_completed_not_contradicted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = RepoDir::new(tmp.path().join("tuf"));
    init(&dir, KeyAlgorithm::Ed25519, &[("trusted_root.json", b"x")]);
    let root1 = std::fs::read(dir.first_root()).unwrap();
    // Rotate the snapshot key, then undo what comes after the new root: as if the process died after
    // writing 2.snapshot.json and 2.root.json (root.json and the timestamp not yet written).
    let ts_before = std::fs::read(dir.repo().join("timestamp.json")).unwrap();
    dir.rotate_key(Role::Snapshot, None, PASSWORD, &Lifetimes::default(), now())
        .unwrap();
    std::fs::write(dir.repo().join("root.json"), &root1).unwrap();
    std::fs::write(dir.repo().join("timestamp.json"), &ts_before).unwrap();
    let root2 = std::fs::read(dir.repo().join("2.root.json")).unwrap();

    // The next load continues from root 2 and re-signs the snapshot (it verifies only under root 1); the
    // leftover 2.snapshot.json is never reused for other content.
    let repo = dir.load().unwrap();
    assert_eq!(repo.version(Role::Root), 2);
    assert_eq!(repo.pending().collect::<Vec<_>>(), [Role::Snapshot]);
    let ring = dir.key_ring(&Role::ALL, PASSWORD).unwrap();
    let (_, p) = dir.update(&ring, &Lifetimes::default(), now(), |_| Ok(())).unwrap();
    assert_eq!(
        p.signed.iter().map(|s| (s.role, s.version)).collect::<Vec<_>>(),
        [(Role::Snapshot, 3), (Role::Timestamp, 2)]
    );
    assert_eq!(std::fs::read(dir.repo().join("2.root.json")).unwrap(), root2);
    assert_eq!(std::fs::read(dir.repo().join("root.json")).unwrap(), root2);
    let fetch = DirFetch(dir.repo());
    let (versions, _) = sigil_client(&root1, &tmp.path().join("c"), &fetch, &["trusted_root.json"], now()).unwrap();
    assert_eq!(versions, [2, 2, 3, 1]);

    // Metadata altered on disk is refused, never signed over.
    let t = dir.repo().join("1.targets.json");
    let text = std::fs::read_to_string(&t)
        .unwrap()
        .replace("\"length\": 1", "\"length\": 2");
    std::fs::write(&t, text).unwrap();
    assert!(matches!(
        dir.load(),
        Err(RepoError::Metadata(TufError::Threshold { .. }))
    ));
}

/// A published repository (after a root rotation, so a new root is fetched) as URL path → bytes, the pinned
/// root, and the names of the files a client fetches.
fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RepoDir::new(tmp.path().join("tuf"));
        init(&dir, KeyAlgorithm::Ed25519, &[("trusted_root.json", b"{\"a\": 1}")]);
        dir.rotate_key(Role::Root, None, PASSWORD, &Lifetimes::default(), now())
            .unwrap();
        let mut files = BTreeMap::new();
        let mut stack = vec![dir.repo()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    let rel = e.path().strip_prefix(dir.repo()).unwrap().display().to_string();
                    files.insert(rel, std::fs::read(e.path()).unwrap());
                }
            }
        }
        let root = files["1.root.json"].clone();
        // What a client starting from root 1 fetches: 2.root.json, timestamp, snapshot, targets, the target.
        let fetched: Vec<String> = files
            .keys()
            .filter(|k| !["1.root.json", "root.json"].contains(&k.as_str()))
            .cloned()
            .collect();
        assert_eq!(fetched.len(), 5, "{fetched:?}");
        (files, root, fetched)
    })
}

/// Whether two metadata files say the same: equal `signed` and equal decoded signatures.
fn same_meaning(a: &[u8], b: &[u8]) -> bool {
    let (Ok(a), Ok(b)) = (serde_json::from_slice::<Value>(a), serde_json::from_slice::<Value>(b)) else {
        return false;
    };
    let sigs = |v: &Value| -> Option<Vec<(String, Vec<u8>)>> {
        v["signatures"]
            .as_array()?
            .iter()
            .map(|s| Some((s["keyid"].as_str()?.to_owned(), hex::decode(s["sig"].as_str()?).ok()?)))
            .collect()
    };
    a["signed"] == b["signed"] && sigs(&a).is_some() && sigs(&a) == sigs(&b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any byte changed in any file the client fetches: the client refuses the update, or the changed file
    /// means exactly what the original meant (JSON whitespace, hex case in a signature).
    #[test]
    fn a_changed_byte_is_refused_or_harmless(file in 0usize..5, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (files, root, fetched) = fixture();
        let name = &fetched[file];
        let original = &files[name];
        let i = pos.index(original.len());
        prop_assume!(original[i] != byte);
        let mut changed = files.clone();
        changed.get_mut(name).unwrap()[i] = byte;
        let cache = tempfile::tempdir().unwrap();
        let result = sigil_client(root, cache.path(), &MemFetch(changed.clone()), &["trusted_root.json"], now());
        if result.is_ok() {
            prop_assert!(
                same_meaning(original, &changed[name]),
                "{name}: byte {i} changed to {byte:#04x} and the client accepted it"
            );
        }
    }
}

#[test]
fn the_unchanged_fixture_is_accepted() {
    let (files, root, _) = fixture();
    let cache = tempfile::tempdir().unwrap();
    let (versions, got) = sigil_client(
        root,
        cache.path(),
        &MemFetch(files.clone()),
        &["trusted_root.json"],
        now(),
    )
    .unwrap();
    assert_eq!(versions, [2, 1, 1, 1]);
    assert_eq!(got["trusted_root.json"], b"{\"a\": 1}");
}

/// One change to a repository, for the sequence proptest.
#[derive(Debug, Clone)]
enum Op {
    SetTarget(usize, u8),
    RemoveTarget(usize),
    Rotate(usize),
    Resign(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..3, any::<u8>()).prop_map(|(n, b)| Op::SetTarget(n, b)),
        (0usize..3).prop_map(Op::RemoveTarget),
        (0usize..4).prop_map(Op::Rotate),
        (0usize..4).prop_map(Op::Resign),
    ]
}

const NAMES: [&str; 3] = ["trusted_root.json", "signing_config.v0.2.json", "dir/keys.json"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever sequence of changes is published, a client that follows along (keeping its cache) accepts
    /// every state, sees exactly the repository's targets, and never sees a version go back.
    #[test]
    fn any_sequence_of_changes_is_followed_by_the_client(ops in prop::collection::vec(op(), 1..8)) {
        use sigil_crypto::{Signer as _, SigningKey};
        use sigil_trust::tuf::repo::{KeyRing, Repository};
        let mut ring = KeyRing::new();
        let mut publics = Vec::new();
        for role in Role::ALL {
            let k = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
            publics.push((role, k.public_key().clone()));
            ring.add(Box::new(k)).unwrap();
        }
        let pairs: Vec<(Role, &sigil_crypto::VerifyingKey)> = publics.iter().map(|(r, k)| (*r, k)).collect();
        let mut repo = Repository::create(&pairs).unwrap();
        repo.set_target(NAMES[0], b"initial").unwrap();
        let mut files = BTreeMap::new();
        let t = now();
        for f in repo.publish(&ring, &Lifetimes::default(), t).unwrap().files {
            files.insert(f.path, f.bytes);
        }
        let pinned = files["1.root.json"].clone();
        let cache = tempfile::tempdir().unwrap();
        let mut last = vec![0u64; 4];
        for op in ops {
            match op {
                Op::SetTarget(n, b) => {
                    repo.set_target(NAMES[n], &[b; 3]).unwrap();
                }
                Op::RemoveTarget(n) => {
                    repo.remove_target(NAMES[n]).unwrap();
                }
                Op::Rotate(r) => {
                    let k = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
                    repo.rotate_key(Role::ALL[r], k.public_key()).unwrap();
                    ring.add(Box::new(k)).unwrap();
                }
                Op::Resign(r) => repo.resign(Role::ALL[r]),
            }
            for f in repo.publish(&ring, &Lifetimes::default(), t).unwrap().files {
                // Versioned files are never given other content.
                if f.path != "timestamp.json" && f.path != "root.json" {
                    if let Some(old) = files.get(&f.path) {
                        prop_assert_eq!(old, &f.bytes, "{} rewritten", f.path);
                    }
                }
                files.insert(f.path, f.bytes);
            }
            let targets = repo.targets();
            let names: Vec<&str> = targets.keys().map(String::as_str).collect();
            let fetch = MemFetch(files.clone());
            let (versions, got) = sigil_client(&pinned, cache.path(), &fetch, &names, t)
                .map_err(|e| TestCaseError::fail(format!("after {op:?}: {e}")))?;
            for (i, v) in versions.iter().enumerate() {
                prop_assert!(*v >= last[i], "version went back after {:?}: {:?} -> {:?}", op, last, versions);
            }
            last = versions;
            for (name, info) in &targets {
                prop_assert_eq!(sigil_crypto::sha256(&got[name]), info.sha256);
            }
        }
    }
}
