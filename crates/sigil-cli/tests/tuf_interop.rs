#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil serve --dev` publishes its trust files over TUF at `<base>/tuf`, and the real clients use it:
//!
//! - sigstore-python 4.5.1 `--instance <base>/tuf`: `trust-instance DATA/tuf/repo/1.root.json`, then `sign`
//!   (Rekor v2 and v1, the signing config coming from TUF) and `verify identity` (the trusted root from TUF);
//! - sigstore-js: signs with explicit URLs (JS signing does not use TUF, INTEROP.md §3.4), verifies with
//!   `@sigstore/cli` 0.8.1 `sigstore verify --tuf-mirror-url <base>/tuf --tuf-root-path …` and with the
//!   sigstore-js 5.0.1 library's `sigstore.verify({tufMirrorURL, …})`, both online against the instance;
//! - sigil's own client: `sigil verify-bundle --tuf-mirror <base>/tuf --tuf-root 1.root.json`.
//!
//! Then the repository changes while the instance runs (`sigil tuf resign` of targets, `sigil tuf rotate-key`
//! of the timestamp key, i.e. a new root), and every client picks up the new versions from its own cache.
//! Also: `/tuf` serves files only (no listing, no traversal, nothing outside `repo/`), and the keys are
//! encrypted.
//!
//! The clients come from `scripts/install-interop-clients.sh`; without them the test skips (or fails with
//! `SIGIL_REQUIRE_INTEROP=1`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{Clients, Need, SIGIL, Server, cmd, drivers, http, ok, read_json, run_logged, serve_dev_command};

const EMAIL: &str = "alice@example.test";
const STEP_TIMEOUT: Duration = Duration::from_secs(90);

struct Env {
    c: Clients,
    w: PathBuf,
    data: PathBuf,
    base: String,
    issuer: String,
}

impl Env {
    fn mirror(&self) -> String {
        format!("{}/tuf", self.base)
    }

    fn root(&self) -> PathBuf {
        self.data.join("tuf/repo/1.root.json")
    }

    /// `python -m sigstore --instance <base>/tuf ARGS`, with its TUF state in the work folder.
    fn py(&self, args: &[&str]) -> Command {
        let mut c = cmd(&self.c.python);
        c.args(["-m", "sigstore", "--instance", &self.mirror()])
            .args(args)
            .env("XDG_DATA_HOME", self.w.join("xdg-data"))
            .env("XDG_CACHE_HOME", self.w.join("xdg-cache"))
            .current_dir(&self.w);
        c
    }

    /// sigstore-python's cached metadata for the instance.
    fn py_metadata(&self, role: &str) -> Value {
        let enc = self.mirror().replace(':', "%3A").replace('/', "%2F");
        read_json(
            &self
                .w
                .join("xdg-data/sigstore-python/tuf")
                .join(enc)
                .join(format!("{role}.json")),
        )
    }

    /// `@sigstore/cli` 0.8.1 `sigstore verify`, online against the instance's TUF repository.
    fn js_cli_verify(&self, bundle: &str) -> Command {
        let mut c = cmd(self.c.js4.join("node_modules/.bin/sigstore"));
        c.arg("verify")
            .arg(bundle)
            .arg("--blob-file")
            .arg("artifact.txt")
            .args(["--certificate-identity-email", EMAIL])
            .args(["--certificate-issuer", &self.issuer])
            .args(["--tuf-mirror-url", &self.mirror()])
            .arg("--tuf-root-path")
            .arg(self.root())
            .arg("--tuf-cache-path")
            .arg(self.w.join("js-cli-cache"))
            .current_dir(&self.w);
        c
    }

    /// The sigstore-js 5.0.1 library's `sigstore.verify` with TUF options.
    fn js_lib_verify(&self, bundle: &str, email: &str) -> Command {
        let mut c = cmd("node");
        c.arg(drivers().join("js-verify-tuf.js"))
            .env("SSJS_DIR", &self.c.js5)
            .arg(self.mirror())
            .arg(self.root())
            .arg(self.w.join("js-lib-cache"))
            .arg(bundle)
            .arg("artifact.txt")
            .args([email, self.issuer.as_str()])
            .current_dir(&self.w);
        c
    }

    /// `sigil verify-bundle --tuf-mirror <base>/tuf --tuf-root 1.root.json`, its TUF cache in the work folder.
    fn sigil_verify(&self, bundle: &str) -> Command {
        let mut c = cmd(SIGIL);
        c.args(["verify-bundle", "--bundle", bundle])
            .args(["--certificate-identity", EMAIL])
            .args(["--certificate-oidc-issuer", &self.issuer])
            .args(["--tuf-mirror", &self.mirror()])
            .arg("--tuf-root")
            .arg(self.root())
            .arg("artifact.txt")
            .env("SIGIL_HOME", self.w.join("sigil-home"))
            .current_dir(&self.w);
        c
    }

    /// The version of `role` in the sigstore-js cache at `cache` (one repository inside).
    fn js_metadata_version(&self, cache: &str, role: &str) -> u64 {
        let dir = std::fs::read_dir(self.w.join(cache))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        read_json(&dir.join(format!("{role}.json")))["signed"]["version"]
            .as_u64()
            .unwrap()
    }

    fn step(&self, what: &str, c: Command) {
        let log = self.w.join(format!("{}.log", what.replace([' ', '/'], "_")));
        let o = run_logged(c, &log, STEP_TIMEOUT);
        assert!(o.ok, "{what}: {}", o.detail);
    }

    fn step_fails(&self, what: &str, c: Command) {
        let log = self.w.join(format!("{}.log", what.replace([' ', '/'], "_")));
        let o = run_logged(c, &log, STEP_TIMEOUT);
        assert!(!o.ok && o.status.is_some(), "{what} (expected a failure): {}", o.detail);
    }

    /// Verifies every bundle with every TUF-backed verifier.
    fn verify_all(&self, round: &str, bundles: &[(&str, bool)]) {
        for (b, v1) in bundles {
            self.step(
                &format!("{round} python verify {b}"),
                self.py(&[
                    "verify",
                    "identity",
                    "--bundle",
                    b,
                    "--cert-identity",
                    EMAIL,
                    "--cert-oidc-issuer",
                    &self.issuer,
                    "artifact.txt",
                ]),
            );
            self.step(&format!("{round} js5 verify {b}"), self.js_lib_verify(b, EMAIL));
            self.step(&format!("{round} sigil verify {b}"), self.sigil_verify(b));
            // @sigstore/cli 0.8.1 (@sigstore/verify 2.x) cannot verify Rekor v2 entries.
            if *v1 {
                self.step(&format!("{round} js cli verify {b}"), self.js_cli_verify(b));
            }
        }
    }

    fn sigil_tuf(&self, args: &[&str]) -> String {
        let mut c = cmd(SIGIL);
        c.arg("tuf")
            .args(args)
            .arg("--repo")
            .arg(self.data.join("tuf"))
            .env("SIGIL_TUF_PASSWORD", "");
        ok(&format!("sigil tuf {args:?}"), &mut c)
    }
}

fn repo_version(data: &Path, file: &str) -> u64 {
    read_json(&data.join("tuf/repo").join(file))["signed"]["version"]
        .as_u64()
        .unwrap()
}

#[test]
fn real_clients_use_the_tuf_repository_of_sigil_serve() {
    let Some(c) = support::clients_or_skip("tuf_interop", &[Need::Python, Need::Js4, Need::Js5]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().to_path_buf();
    let data = w.join("instance");
    let server = Server::start(
        serve_dev_command(&data),
        &w.join("serve.stderr"),
        Duration::from_secs(60),
    );
    let base = server.url();
    let issuer = format!("{base}/oidc");

    // The repository: created on first start, its targets the instance's trust files, its keys encrypted
    // and outside what is served.
    let tuf = data.join("tuf");
    for f in [
        "1.root.json",
        "root.json",
        "timestamp.json",
        "1.snapshot.json",
        "1.targets.json",
    ] {
        assert!(tuf.join("repo").join(f).is_file(), "{f}");
    }
    let targets = read_json(&tuf.join("repo/1.targets.json"));
    for (name, file) in [
        ("trusted_root.json", "trusted_root.json"),
        ("signing_config.v0.2.json", "signing_config.v0.2.json"),
    ] {
        let bytes = std::fs::read(data.join(file)).unwrap();
        let h = hex::encode(sigil_crypto::sha256(&bytes));
        assert_eq!(targets["signed"]["targets"][name]["hashes"]["sha256"], h.as_str());
        let r = http(&server.addr, "GET", &format!("/tuf/targets/{h}.{name}"), None).unwrap();
        assert_eq!((r.status, r.body), (200, bytes), "{name}");
    }
    for role in ["root", "timestamp", "snapshot", "targets"] {
        let key = std::fs::read_to_string(tuf.join("keys").join(format!("{role}.key"))).unwrap();
        assert!(
            key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
            "{role}"
        );
    }
    let r = http(&server.addr, "GET", "/tuf/timestamp.json", None).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    for bad in [
        "/tuf",
        "/tuf/",
        "/tuf/targets",
        "/tuf/targets/",
        "/tuf/../keys/root.key",
        "/tuf/..%2fkeys%2froot.key",
        "/tuf/%2e%2e/config.json",
        "/tuf//etc/passwd",
        "/tuf/2.root.json",
        "/tuf/.lock",
        "/tuf/targets/..",
    ] {
        let r = http(&server.addr, "GET", bad, None).unwrap();
        assert_eq!(r.status, 404, "{bad}: {}", String::from_utf8_lossy(&r.body));
    }

    let env = Env {
        c,
        w: w.clone(),
        data: data.clone(),
        base: base.clone(),
        issuer,
    };
    std::fs::write(w.join("artifact.txt"), b"sigil tuf interop\n").unwrap();
    let token = support::dev_token(&data, EMAIL, None);

    // sigstore-python: bootstrap from root v1, then sign with what the TUF-delivered signing config names.
    env.step(
        "python trust-instance",
        env.py(&["trust-instance", env.root().to_str().unwrap()]),
    );
    for (v, bundle) in [("2", "py-v2.sigstore.json"), ("1", "py-v1.sigstore.json")] {
        env.step(
            &format!("python sign rekor v{v}"),
            env.py(&[
                "sign",
                "--rekor-version",
                v,
                "--identity-token",
                &token,
                "--bundle",
                bundle,
                "artifact.txt",
            ]),
        );
    }
    // sigstore-js: the library signs with explicit URLs (Rekor v1, TSA).
    let mut js_sign = cmd("node");
    js_sign
        .arg(drivers().join("js-sign.js"))
        .env("SSJS_DIR", &env.c.js5)
        .env("SIGSTORE_ID_TOKEN", &token)
        .env("FULCIO_URL", &base)
        .env("REKOR_URL", &base)
        .env("TSA_URL", &base)
        .args(["sign", "artifact.txt", "js.sigstore.json"])
        .current_dir(&w);
    env.step("js sign", js_sign);

    let bundles = [
        ("py-v2.sigstore.json", false),
        ("py-v1.sigstore.json", true),
        ("js.sigstore.json", true),
    ];
    env.verify_all("first", &bundles);
    // Negative controls: another identity fails, with each TUF-backed verifier.
    env.step_fails(
        "python verify wrong identity",
        env.py(&[
            "verify",
            "identity",
            "--bundle",
            "js.sigstore.json",
            "--cert-identity",
            "mallory@example.test",
            "--cert-oidc-issuer",
            &env.issuer,
            "artifact.txt",
        ]),
    );
    env.step_fails(
        "js5 verify wrong identity",
        env.js_lib_verify("py-v1.sigstore.json", "mallory@example.test"),
    );
    assert_eq!(env.py_metadata("timestamp")["signed"]["version"], 1);
    assert_eq!(env.js_metadata_version("js-lib-cache", "timestamp"), 1);

    // The repository changes while the instance runs: targets re-signed (targets 2, snapshot 2,
    // timestamp 2)…
    let out = env.sigil_tuf(&["resign", "--role", "targets"]);
    assert!(out.contains("signed targets version 2"), "{out}");
    assert!(out.contains("signed timestamp version 2"), "{out}");
    env.verify_all("after resign", &bundles);
    assert_eq!(env.py_metadata("timestamp")["signed"]["version"], 2);
    assert_eq!(env.py_metadata("targets")["signed"]["version"], 2);
    assert_eq!(env.js_metadata_version("js-lib-cache", "targets"), 2);
    assert_eq!(env.js_metadata_version("js-cli-cache", "timestamp"), 2);

    // …then a new timestamp key, so a new root (version 2) and timestamp 3: the clients follow the rotation.
    let out = env.sigil_tuf(&["rotate-key", "--role", "timestamp"]);
    assert!(out.contains("signed root version 2"), "{out}");
    assert_eq!(repo_version(&data, "timestamp.json"), 3);
    env.verify_all("after rotation", &bundles);
    assert_eq!(env.py_metadata("root")["signed"]["version"], 2);
    assert_eq!(env.py_metadata("timestamp")["signed"]["version"], 3);
    assert_eq!(env.js_metadata_version("js-lib-cache", "root"), 2);
    assert_eq!(env.js_metadata_version("js-cli-cache", "root"), 2);

    // The status command shows it all.
    let out = env.sigil_tuf(&["status"]);
    assert!(out.contains("root      version 2"), "{out}");
    drop(server);

    // A restart: the listener has a new port, so the trust files name new URLs and are published as
    // targets version 3; the rotated timestamp key (read from its key file) signs.
    let restart = |log: &str| Server::start(serve_dev_command(&data), &w.join(log), Duration::from_secs(60));
    let server = restart("serve2.stderr");
    let t3 = read_json(&data.join("tuf/repo/3.targets.json"));
    let now_root = hex::encode(sigil_crypto::sha256(
        &std::fs::read(data.join("trusted_root.json")).unwrap(),
    ));
    assert_eq!(
        t3["signed"]["targets"]["trusted_root.json"]["hashes"]["sha256"],
        now_root.as_str()
    );
    assert_eq!(repo_version(&data, "timestamp.json"), 4);
    drop(server);

    // The targets key kept offline: the next restart (new URLs again) cannot publish the changed trust
    // files; it says how to, and the repository stays consistent.
    std::fs::rename(tuf.join("keys/targets.key"), w.join("targets.key.offline")).unwrap();
    let server = restart("serve3.stderr");
    let stderr = std::fs::read_to_string(w.join("serve3.stderr")).unwrap();
    assert!(
        stderr.contains("targets key") && stderr.contains("sigil tuf add-target"),
        "{stderr}"
    );
    assert!(!data.join("tuf/repo/4.targets.json").exists());
    assert_eq!(repo_version(&data, "timestamp.json"), 4);
    let r = http(&server.addr, "GET", "/tuf/timestamp.json", None).unwrap();
    assert_eq!(r.status, 200);
    drop(server);
}
