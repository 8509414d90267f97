//! SECURITY.md U-14: the cache proves, it does not assert. A python-tuf-written repository (`good`: roots
//! 1→2→3, a delegation, Sigstore's two targets) is loaded once; then the cache is tampered with, and the
//! updater must notice every change, refuse offline what it cannot re-verify, and repair it online. Also: the
//! offline mode reports expiry instead of enforcing it, and only when chosen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::{Files, MIRROR, now, scenarios};
use sigil_trust::tuf::sigstore::SigstoreTuf;
use sigil_trust::tuf::{Mode, RepositoryConfig, TufError, Updater};

struct Repo {
    fetch: Files,
    bootstrap: Vec<u8>,
    cache: PathBuf,
}

fn repo(tag: &str) -> Repo {
    let dir = scenarios().join("good");
    let cache = std::env::temp_dir().join(format!("sigil-tuf-u14-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    Repo {
        fetch: Files(dir.join("steps/1")),
        bootstrap: std::fs::read(dir.join("bootstrap/root.json")).unwrap(),
        cache,
    }
}

impl Repo {
    fn updater(&self, mode: Mode, at: i64) -> Updater {
        Updater::open(
            RepositoryConfig::for_mirror(MIRROR, self.cache.clone()),
            &self.bootstrap,
            at,
            mode,
        )
        .unwrap()
    }
    /// Offline, or online against the repository: refresh and read `trusted_root.json`.
    fn load(&self, mode: Mode, at: i64) -> Result<Vec<u8>, TufError> {
        let mut u = self.updater(mode, at);
        let fetch = (mode == Mode::Online).then_some(&self.fetch as &dyn sigil_trust::tuf::Fetch);
        u.refresh(fetch)?;
        u.target("trusted_root.json", fetch)
    }
    fn good_bytes(&self) -> Vec<u8> {
        let dir = self.fetch.0.join("targets");
        let entry = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".trusted_root.json"))
            .unwrap();
        std::fs::read(entry).unwrap()
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = std::fs::read(path).unwrap();
    f(&mut b);
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_tampered_cached_target_is_refused_offline_and_repaired_online() {
    let r = repo("target");
    let good = r.good_bytes();
    assert_eq!(r.load(Mode::Online, now()).unwrap(), good);
    assert_eq!(
        r.load(Mode::Offline, now()).unwrap(),
        good,
        "a clean cache works offline"
    );
    // Swap a log key's bytes the way an attacker editing trusted_root.json would.
    let cached = r.cache.join("targets/trusted_root.json");
    edit(&cached, |b| {
        let i = b.len() / 2;
        b[i] ^= 1;
    });
    let err = r.load(Mode::Offline, now()).unwrap_err();
    assert!(
        matches!(err, TufError::Offline(ref m) if m.contains("does not match its signed hashes")),
        "{err}"
    );
    assert_eq!(
        r.load(Mode::Online, now()).unwrap(),
        good,
        "online, the file is fetched again"
    );
    assert_eq!(std::fs::read(&cached).unwrap(), good, "and the cache repaired");
}

#[test]
fn a_forged_cached_root_is_not_trusted() {
    let r = repo("root");
    r.load(Mode::Online, now()).unwrap();
    assert_eq!(r.updater(Mode::Online, now()).trusted().root().signed.common.version, 3);
    // Replace cached root v2 by v1's bytes (validly signed, wrong version), and v3 by garbage.
    std::fs::copy(r.fetch.0.join("1.root.json"), r.cache.join("root/2.json")).unwrap();
    std::fs::write(r.cache.join("root/3.json"), b"{}").unwrap();
    let u = r.updater(Mode::Offline, now());
    assert_eq!(
        u.trusted().root().signed.common.version,
        1,
        "the chain stops at the first file that fails"
    );
    // Offline, the cached timestamp was signed by keys root v1 does not have: nothing to trust.
    assert!(r.load(Mode::Offline, now()).is_err());
    // Online repairs the chain.
    assert_eq!(r.load(Mode::Online, now()).unwrap(), r.good_bytes());
    assert_eq!(r.updater(Mode::Online, now()).trusted().root().signed.common.version, 3);
}

#[test]
fn tampered_cached_metadata_is_ignored_and_replaced() {
    let r = repo("meta");
    r.load(Mode::Online, now()).unwrap();
    for file in ["timestamp.json", "snapshot.json", "targets.json"] {
        let path = r.cache.join(file);
        let original = std::fs::read(&path).unwrap();
        // A changed byte inside "signed": the signature no longer verifies.
        edit(&path, |b| {
            let s = String::from_utf8(b.clone())
                .unwrap()
                .replacen("\"version\": 1", "\"version\": 9", 1);
            *b = s.into_bytes();
        });
        assert_ne!(std::fs::read(&path).unwrap(), original, "{file} was edited");
        assert!(r.load(Mode::Offline, now()).is_err(), "offline with a forged {file}");
        r.load(Mode::Online, now()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), original, "{file} repaired online");
    }
}

#[test]
fn offline_reports_expiry_and_online_enforces_it() {
    let r = repo("expiry");
    let sigstore = SigstoreTuf {
        mirror: MIRROR.into(),
        cache_dir: r.cache.clone(),
        pinned_root: r.bootstrap.clone(),
    };
    // Both targets, so the delegated role that holds the signing config is cached too.
    sigstore.load(Mode::Online, Some(&r.fetch), now()).unwrap();
    let in_two_years = now() + 2 * 365 * 86_400;
    let err = r.load(Mode::Online, in_two_years).unwrap_err();
    assert!(
        matches!(err, TufError::Expired { ref role, .. } if role == "root"),
        "{err}"
    );
    assert!(err.to_string().contains("freeze"), "{err}");
    // The explicit offline mode uses the (verified) cache whatever the date.
    assert_eq!(r.load(Mode::Offline, in_two_years).unwrap(), r.good_bytes());
    // And the Sigstore layer reports the expiry dates it used.
    let state = sigstore.load(Mode::Offline, None, in_two_years).unwrap();
    assert!(
        state.summary().contains("timestamp v1 (expires "),
        "{}",
        state.summary()
    );
    assert!(
        state.signing_config.is_some(),
        "signing_config.v0.2.json found through the delegation"
    );
}

#[test]
fn offline_without_a_cache_is_an_error_not_a_fallback() {
    let r = repo("empty");
    let err = r.load(Mode::Offline, now()).unwrap_err();
    assert!(matches!(err, TufError::Offline(_)), "{err}");
}
