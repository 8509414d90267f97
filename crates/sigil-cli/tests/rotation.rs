#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Key rotation on a running private instance (`sigil instance rotate`), end to end with real processes: sign
//! A, rotate the log's keys (with signings in flight), sign B, rotate the CA intermediate, sign C, all on one
//! `sigil serve --dev` process; then every bundle verifies against the *current* trusted_root.json with sigil and
//! with sigstore-python 4.5.1 (`--trust-config`), each on Rekor v1 and v2. A's entries fail once the old key's
//! window is taken out of the trusted root (they are checked with the old key, not the new one). After a restart
//! the trust files still list every generation and signing uses the new material. A bad rotation request changes
//! nothing.
//!
//! sigstore-python comes from `scripts/install-interop-clients.sh` (`.venv`); without it the Python checks are
//! skipped with a message (a failure with `SIGIL_REQUIRE_INTEROP=1`), the rest runs.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sigil_x509::Certificate;
use support::{
    Need, SIGIL, Server, clients_or_skip, cmd, dev_token, fails, ok, read_json, start_instance, tail, write_json,
};

const EMAIL: &str = "alice@example.test";

struct Env {
    w: PathBuf,
    data: PathBuf,
    token: String,
    issuer: String,
    python: Option<PathBuf>,
}

impl Env {
    fn artifact(&self, name: &str) -> PathBuf {
        let p = self.w.join(format!("{name}.txt"));
        if !p.exists() {
            std::fs::write(&p, format!("artifact {name}\n")).unwrap();
        }
        p
    }

    fn bundle(&self, name: &str, rekor: u8) -> PathBuf {
        self.w.join(format!("{name}.v{rekor}.sigstore.json"))
    }

    fn sign_command(&self, name: &str, rekor: u8) -> Command {
        let mut c = cmd(SIGIL);
        c.arg("sign-blob")
            .arg(self.artifact(name))
            .arg("--bundle")
            .arg(self.bundle(name, rekor))
            .args(["--identity-token", &self.token, "--rekor-version", &rekor.to_string()])
            .arg("--trust-config")
            .arg(self.data.join("trust_config.json"));
        c
    }

    /// Signs artifact `name` keylessly with `sigil sign-blob` on Rekor v1 and v2.
    fn sign(&self, name: &str) {
        for rekor in [1, 2] {
            ok(
                &format!("sign {name} on Rekor v{rekor}"),
                &mut self.sign_command(name, rekor),
            );
        }
    }

    fn sigil_verify(&self, name: &str, rekor: u8, trusted_root: &Path) -> support::Ran {
        let mut c = cmd(SIGIL);
        c.args(["verify-bundle", "--bundle"])
            .arg(self.bundle(name, rekor))
            .args([
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                &self.issuer,
            ])
            .arg("--trusted-root")
            .arg(trusted_root)
            .arg(self.artifact(name));
        support::run(&mut c)
    }

    fn python_verify(&self, name: &str, rekor: u8, trust_config: &Path) -> Option<support::Ran> {
        let python = self.python.as_ref()?;
        let mut c = cmd(python);
        c.args(["-m", "sigstore", "--trust-config"])
            .arg(trust_config)
            .args(["verify", "identity", "--offline", "--bundle"])
            .arg(self.bundle(name, rekor))
            .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &self.issuer])
            .arg(self.artifact(name))
            .current_dir(&self.w);
        Some(support::run(&mut c))
    }

    fn rotate(&self, what: &str) -> String {
        let mut c = cmd(SIGIL);
        c.args(["instance", "rotate", "--data-dir"]).arg(&self.data).arg(what);
        ok(&format!("sigil instance rotate {what}"), &mut c)
    }

    fn trusted_root(&self) -> Value {
        read_json(&self.data.join("trusted_root.json"))
    }

    fn bundle_json(&self, name: &str, rekor: u8) -> Value {
        read_json(&self.bundle(name, rekor))
    }
}

/// The bundle's log ID (base64, as in the trusted root).
fn log_id(bundle: &Value) -> String {
    bundle["verificationMaterial"]["tlogEntries"][0]["logId"]["keyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn leaf(bundle: &Value) -> Certificate {
    let raw = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap();
    Certificate::from_der(&B64.decode(raw).unwrap()).unwrap()
}

/// `tlogs` entries of one key type: (log ID, start, end).
fn tlog_windows(root: &Value, details: &str) -> Vec<(String, String, Option<String>)> {
    root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["publicKey"]["keyDetails"] == details)
        .map(|t| {
            let v = &t["publicKey"]["validFor"];
            (
                t["logId"]["keyId"].as_str().unwrap().to_owned(),
                v["start"].as_str().unwrap().to_owned(),
                v["end"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The intermediates of `certificateAuthorities`: (certificate, start, end).
fn ca_windows(root: &Value) -> Vec<(Certificate, String, Option<String>)> {
    root["certificateAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ca| {
            let der = B64
                .decode(ca["certChain"]["certificates"][0]["rawBytes"].as_str().unwrap())
                .unwrap();
            let v = &ca["validFor"];
            (
                Certificate::from_der(&der).unwrap(),
                v["start"].as_str().unwrap().to_owned(),
                v["end"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn unix(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// Every file under `dir`, with its bytes (sorted): to prove that nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(snapshot(&e.path()));
        } else {
            out.push((e.path(), std::fs::read(e.path()).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn rotate_log_key_and_ca_intermediate_on_a_running_instance() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().to_path_buf();
    let data = w.join("instance");
    let log = w.join("serve.log");
    let python = clients_or_skip("rotation (sigstore-python checks)", &[Need::Python]).map(|c| c.python);
    let server = start_instance(&data, &log);
    let token = dev_token(&data, EMAIL, None);
    let issuer = std::fs::read_to_string(data.join("oidc/issuer-url"))
        .unwrap()
        .trim()
        .to_owned();
    let env = Env {
        w: w.clone(),
        data: data.clone(),
        token,
        issuer,
        python,
    };

    // ---- A, with the first keys ----
    env.sign("a");
    let root0 = env.trusted_root();
    let (v1_old, v2_old) = (
        tlog_windows(&root0, "PKIX_ECDSA_P256_SHA_256"),
        tlog_windows(&root0, "PKIX_ED25519"),
    );
    assert_eq!((v1_old.len(), v2_old.len()), (1, 1));
    assert_eq!(log_id(&env.bundle_json("a", 1)), v1_old[0].0);
    assert_eq!(log_id(&env.bundle_json("a", 2)), v2_old[0].0);

    // ---- rotate the log keys, with signings in flight ----
    let in_flight: Vec<(String, u8, Child)> = (0..3)
        .map(|i| {
            let name = format!("f{i}");
            let rekor = 1 + (i % 2) as u8;
            let child = env
                .sign_command(&name, rekor)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (name, rekor, child)
        })
        .collect();
    let out = env.rotate("log-key");
    assert!(out.contains("rotated the transparency log's keys"), "{out}");
    for (name, rekor, child) in in_flight {
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "signing {name} during the rotation failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // Signed with the old keys or the new ones, either way it verifies against the current trusted root
        // (checked below with the rest, once the root lists both generations).
        let _ = rekor;
    }
    let root1 = env.trusted_root();
    let v1 = tlog_windows(&root1, "PKIX_ECDSA_P256_SHA_256");
    let v2 = tlog_windows(&root1, "PKIX_ED25519");
    assert_eq!((v1.len(), v2.len()), (2, 2), "{root1:#}");
    for (old, now) in [(&v1_old[0], &v1), (&v2_old[0], &v2)] {
        // The old key: same ID and start, now with an end; the new key: another ID, open-ended.
        assert_eq!(now[0].0, old.0);
        assert_eq!(now[0].1, old.1);
        let end = now[0].2.as_deref().expect("the retired key's validFor.end");
        assert!(out.contains(&hex::encode(B64.decode(&old.0).unwrap())), "{out}");
        assert_ne!(now[1].0, old.0);
        assert!(now[1].2.is_none());
        assert!(
            unix(&now[1].1) <= unix(end),
            "the new key's start is at or before the rotation"
        );
        assert!(out.contains(&hex::encode(B64.decode(&now[1].0).unwrap())), "{out}");
    }

    // ---- B, with the new log keys ----
    env.sign("b");
    assert_eq!(log_id(&env.bundle_json("b", 1)), v1[1].0);
    assert_eq!(log_id(&env.bundle_json("b", 2)), v2[1].0);

    // ---- rotate the CA intermediate ----
    let cas0 = ca_windows(&root1);
    assert_eq!(cas0.len(), 1);
    let out = env.rotate("ca-intermediate");
    assert!(out.contains("rotated the CA intermediate"), "{out}");
    let root2 = env.trusted_root();
    let cas = ca_windows(&root2);
    assert_eq!(cas.len(), 2, "{root2:#}");
    assert_eq!(cas[0].0, cas0[0].0);
    assert_eq!(cas[0].1, cas0[0].1);
    let old_ca_end = unix(cas[0].2.as_deref().expect("the old intermediate's validFor.end"));
    let new_ca_start = unix(&cas[1].1);
    assert!(cas[1].2.is_none());
    // The old one stays valid for the lifetime of the last leaves it issued.
    assert_eq!(old_ca_end, new_ca_start + 600);
    assert!(out.contains(&hex::encode(cas[1].0.serial())), "{out}");
    assert_eq!(
        tlog_windows(&root2, "PKIX_ED25519"),
        v2,
        "the CA rotation left the logs alone"
    );

    // ---- C, with the new intermediate ----
    env.sign("c");
    assert_eq!(log_id(&env.bundle_json("c", 1)), v1[1].0);
    assert_eq!(log_id(&env.bundle_json("c", 2)), v2[1].0);
    let (old_ca, new_ca) = (&cas[0].0, &cas[1].0);
    for rekor in [1, 2] {
        let c_leaf = leaf(&env.bundle_json("c", rekor));
        c_leaf.verify_issued_by(new_ca).unwrap();
        assert!(c_leaf.verify_issued_by(old_ca).is_err());
        assert!(c_leaf.not_before() >= new_ca_start);
        for before in ["a", "b"] {
            let l = leaf(&env.bundle_json(before, rekor));
            l.verify_issued_by(old_ca).unwrap();
            assert!(l.verify_issued_by(new_ca).is_err());
        }
    }

    // ---- everything verifies against the current trusted root, with sigil and sigstore-python ----
    let current_root = data.join("trusted_root.json");
    let current_config = data.join("trust_config.json");
    let mut names: Vec<(String, u8)> = ["a", "b", "c"]
        .iter()
        .flat_map(|n| [(n.to_string(), 1), (n.to_string(), 2)])
        .collect();
    names.extend((0..3).map(|i| (format!("f{i}"), 1 + (i % 2) as u8)));
    for (name, rekor) in &names {
        let r = env.sigil_verify(name, *rekor, &current_root);
        assert!(
            r.status.success(),
            "{}",
            r.show(&format!("sigil verify {name} v{rekor}"))
        );
        if let Some(r) = env.python_verify(name, *rekor, &current_config) {
            assert!(
                r.status.success(),
                "{}",
                r.show(&format!("sigstore-python verify {name} v{rekor}"))
            );
        }
    }

    // ---- without the old log keys' window, A's entries no longer verify (they are checked with the old key) ----
    let mut without_old = env.trusted_root();
    without_old["tlogs"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["publicKey"]["validFor"]["end"].is_null());
    let without_old_root = w.join("trusted_root.without-old-log-keys.json");
    write_json(&without_old_root, &without_old);
    let mut config = read_json(&current_config);
    config["trustedRoot"] = without_old.clone();
    let without_old_config = w.join("trust_config.without-old-log-keys.json");
    write_json(&without_old_config, &config);
    for rekor in [1, 2] {
        let r = env.sigil_verify("a", rekor, &without_old_root);
        assert!(!r.status.success(), "{}", r.show("A verified without the old log key"));
        if let Some(r) = env.python_verify("a", rekor, &without_old_config) {
            assert!(
                !r.status.success(),
                "{}",
                r.show("sigstore-python verified A without the old log key")
            );
        }
        for name in ["b", "c"] {
            let r = env.sigil_verify(name, rekor, &without_old_root);
            assert!(
                r.status.success(),
                "{}",
                r.show(&format!("{name} without the old log keys"))
            );
        }
    }

    // ---- a bad request changes nothing ----
    let before = snapshot(&data.join("log/keys"));
    let before_ca = snapshot(&data.join("ca"));
    let root_bytes = std::fs::read(&current_root).unwrap();
    let mut c = cmd(SIGIL);
    c.args(["instance", "rotate", "--data-dir"]).arg(&data).arg("root-key");
    fails("rotate an unknown thing", &mut c);
    let mut c = cmd(SIGIL);
    c.args(["instance", "rotate", "--data-dir"])
        .arg(w.join("no-such-instance"))
        .arg("log-key");
    let r = fails("rotate without an instance", &mut c);
    assert!(
        r.stderr.contains("not the data directory of a private instance"),
        "{}",
        r.stderr
    );
    assert!(!w.join("no-such-instance").exists());
    // A request the server must refuse: keys that do not parse, and an intermediate from another CA.
    let rotate_dir = data.join("rotate");
    std::fs::create_dir_all(&rotate_dir).unwrap();
    let bad = [
        r#"{"kind":"log-key","ed25519Pkcs8":"AAAA","ecdsaP256Pkcs8":"AAAA"}"#.to_owned(),
        r#"{"kind":"log-key","ed25519Pkcs8":"AAAA"}"#.to_owned(),
        "not json".to_owned(),
        serde_json::json!({
            "kind": "ca-intermediate",
            "certificate": B64.encode(cas[1].0.der()),
            "keyPkcs8": B64.encode(b"not a key"),
        })
        .to_string(),
    ];
    for (i, body) in bad.iter().enumerate() {
        std::fs::write(rotate_dir.join(format!("0000000000000000000{i}-1.request")), body).unwrap();
    }
    for i in 0..bad.len() {
        let result = rotate_dir.join(format!("0000000000000000000{i}-1.result"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !result.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "no answer to bad request {i}\n{}",
                tail(&log)
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let answer = read_json(&result);
        assert!(answer["error"].is_string(), "bad request {i} was not refused: {answer}");
        std::fs::remove_file(&result).unwrap();
    }
    assert_eq!(snapshot(&data.join("log/keys")), before);
    assert_eq!(snapshot(&data.join("ca")), before_ca);
    assert_eq!(std::fs::read(&current_root).unwrap(), root_bytes);
    env.sign("d");

    // ---- a restart keeps every generation and signs with the new material ----
    let root_before_restart = env.trusted_root();
    // On the same address: the v1 checkpoints' key name is the URL's host:port, matched against baseUrl.
    let addr = server.addr.clone();
    drop(server);
    let mut c = cmd(SIGIL);
    c.args(["serve", "--dev", "--data-dir"])
        .arg(&data)
        .args(["--listen", &addr]);
    let server = Server::start(c, &log, std::time::Duration::from_secs(30));
    let root3 = env.trusted_root();
    // The same entries.
    let without_urls = |root: &Value, list: &str| -> Vec<Value> {
        let mut v = root[list].as_array().unwrap().clone();
        for e in &mut v {
            let o = e.as_object_mut().unwrap();
            o.remove("baseUrl");
            o.remove("uri");
        }
        v
    };
    for list in ["tlogs", "certificateAuthorities"] {
        assert_eq!(
            without_urls(&root3, list),
            without_urls(&root_before_restart, list),
            "{list}"
        );
    }
    for (name, rekor) in [("a", 1), ("a", 2), ("d", 1), ("d", 2)] {
        let r = env.sigil_verify(name, rekor, &current_root);
        assert!(
            r.status.success(),
            "{}",
            r.show(&format!("after restart: {name} v{rekor}"))
        );
    }
    // A fresh token from the restarted issuer (same key and URL).
    let issuer = std::fs::read_to_string(data.join("oidc/issuer-url"))
        .unwrap()
        .trim()
        .to_owned();
    let env = Env {
        token: dev_token(&data, EMAIL, None),
        issuer,
        ..env
    };
    env.sign("e");
    assert_eq!(log_id(&env.bundle_json("e", 1)), v1[1].0);
    assert_eq!(log_id(&env.bundle_json("e", 2)), v2[1].0);
    leaf(&env.bundle_json("e", 1)).verify_issued_by(new_ca).unwrap();
    for rekor in [1, 2] {
        let r = env.sigil_verify("e", rekor, &current_root);
        assert!(r.status.success(), "{}", r.show(&format!("after restart: e v{rekor}")));
        if let Some(r) = env.python_verify("e", rekor, &current_config) {
            assert!(r.status.success(), "{}", r.show("sigstore-python after restart"));
        }
    }
    drop(server);
}

#[test]
fn rotation_without_a_running_server_applies_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("instance");
    let log = tmp.path().join("serve.log");
    let server: Server = start_instance(&data, &log);
    let root0 = read_json(&data.join("trusted_root.json"));
    drop(server);
    for what in ["log-key", "ca-intermediate"] {
        let mut c = cmd(SIGIL);
        c.args(["instance", "rotate", "--data-dir"]).arg(&data).arg(what);
        let out = ok(what, &mut c);
        assert!(out.contains("no server is running"), "{out}");
    }
    let _server = start_instance(&data, &log);
    let root1 = read_json(&data.join("trusted_root.json"));
    assert_eq!(root0["tlogs"].as_array().unwrap().len(), 2);
    assert_eq!(root1["tlogs"].as_array().unwrap().len(), 4);
    assert_eq!(root1["certificateAuthorities"].as_array().unwrap().len(), 2);
    // The current tree is signed by the new key (the v2 entry without an end).
    let cp = support::http(_server.addr.as_str(), "GET", "/checkpoint", None).unwrap();
    let text = cp.text().to_owned();
    let new_v2 = tlog_windows(&root1, "PKIX_ED25519")
        .into_iter()
        .find(|t| t.2.is_none())
        .unwrap()
        .0;
    let hint = &B64.decode(new_v2).unwrap()[..4];
    let sig_line = text.lines().last().unwrap();
    let sig = B64.decode(sig_line.rsplit(' ').next().unwrap()).unwrap();
    assert_eq!(&sig[..4], hint, "{text}");
}
