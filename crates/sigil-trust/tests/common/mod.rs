//! Shared by the TUF tests: the python-tuf-written scenarios (`tests/tuf/hostile.py`) and a [`Fetch`] that
//! serves a scenario step from disk.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sigil_trust::tuf::{Fetch, FetchError};

pub const MIRROR: &str = "https://tuf.test/repo";

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The scenarios, generated once per test process.
pub fn scenarios() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let python = workspace().join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/install-interop-clients.sh (cargo xtask test does)",
            python.display()
        );
        let out = std::env::temp_dir().join(format!("sigil-tuf-hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let status = std::process::Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tuf/hostile.py"))
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "hostile.py failed");
        out
    })
}

/// Serves one step directory: `MIRROR/<path>` is the file `<dir>/<path>`, with the byte cap enforced.
pub struct Files(pub PathBuf);

impl Fetch for Files {
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let rel = url
            .strip_prefix(MIRROR)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| FetchError::Transport(format!("unexpected URL {url}")))?;
        // The generator names files exactly as the client asks for them (percent-encoding kept).
        let rel = rel.to_string();
        assert!(!rel.split('/').any(|s| s == ".."), "the client asked for {url}");
        let path = self.0.join(rel);
        let Ok(data) = std::fs::read(&path) else {
            return Err(FetchError::NotFound);
        };
        if data.len() as u64 > max_len {
            return Err(FetchError::TooLarge(max_len));
        }
        Ok(data)
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
