#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with an ephemeral
//! port and its own storage directory, stopped when dropped. `cargo xtask test` installs the package.

use std::net::TcpListener;

use sigil_client::{ClientOptions, HttpClient};
use sigil_oci::{Digest, Reference, Registry, RegistryOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestRegistry {
    child: Child,
    pub host: String,
    pub storage: PathBuf,
    _dir: tempfile::TempDir,
}

/// The login of [`TestRegistry::start_with_login`]: user `tester`, password `sigil-pw` (bcrypt, cost 5).
pub const LOGIN: (&str, &str) = ("tester", "sigil-pw");
const LOGIN_HTPASSWD: &str = "tester:$2b$05$mxxXhTa/d.l0SOeMv6xUZuadTnrlTgaG1X.NgIYRCnuRDLiC.nicy\n";

impl TestRegistry {
    pub fn start() -> Self {
        Self::start_inner(false)
    }

    /// A registry that requires HTTP Basic authentication with [`LOGIN`].
    pub fn start_with_login() -> Self {
        Self::start_inner(true)
    }

    fn start_inner(login: bool) -> Self {
        let bin = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect(
                "docker-registry is not installed (Debian package docker-registry; `cargo xtask test` installs it)",
            );
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("data");
        // A free port: bound, released, then given to the registry (it is on loopback; a collision fails loudly).
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.path().join("config.yml");
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if login {
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, LOGIN_HTPASSWD).unwrap();
            yaml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: sigil-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        std::fs::write(&config, yaml).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let host = format!("127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(&host).is_ok() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "docker-registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            host,
            storage,
            _dir: dir,
        }
    }

    /// Where the registry keeps blob `hex` (sha256) on disk: for tampering with what it serves.
    pub fn blob_path(&self, hex: &str) -> PathBuf {
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A registry client with default options (plain HTTP to loopback is allowed by default).
pub fn client() -> Registry {
    Registry::new(
        &HttpClient::new(ClientOptions::default()).unwrap(),
        RegistryOptions::default(),
    )
}

/// Pushes a small image (an image config and one layer) under `tag`; returns its manifest digest.
pub fn push_image(reg: &Registry, r: &Reference, layer: &[u8], tag: &str) -> Digest {
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let c = reg.push_blob(r, config).unwrap();
    let l = reg.push_blob(r, layer).unwrap();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": l.to_string(), "size": layer.len()}],
    });
    reg.put_manifest(
        r,
        Some(tag),
        &serde_json::to_vec(&manifest).unwrap(),
        "application/vnd.oci.image.manifest.v1+json",
    )
    .unwrap()
}
