#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Keyless signing end to end against one `sigil serve --dev` process (CA + CT log + Rekor v1/v2 + TSA + a
//! development OIDC issuer): `sign-blob` on Rekor v1 and v2, `sign-bundle` (plain and `--in-toto`) and
//! `attest`, each bundle then verified by `sigil verify-bundle` with the identity the token names, and the
//! failure modes a user sees (expired token, wrong identity at verify time).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");
const EMAIL: &str = "alice@example.test";

/// The instance process, killed when the test ends.
struct Instance {
    child: Child,
    dir: PathBuf,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, stderr: &Path) -> Instance {
    let mut child = cmd(SIGIL)
        .args(["serve", "--dev", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(
        line.trim().starts_with("http://127.0.0.1:"),
        "sigil serve printed {line:?}; stderr:\n{}",
        std::fs::read_to_string(stderr).unwrap_or_default()
    );
    let instance = Instance {
        child,
        dir: dir.to_path_buf(),
        _stdout: out,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    for f in ["trusted_root.json", "signing_config.v0.2.json", "trust_config.json"] {
        while !dir.join(f).is_file() {
            assert!(Instant::now() < deadline, "{f} never appeared in {}", dir.display());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    instance
}

/// A command with no proxies (everything here is loopback).
fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    c.env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    c
}

fn show(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(what: &str, c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", show(what, &out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(what: &str, c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(!out.status.success(), "{} (expected a failure)", show(what, &out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&sigil_bundle::encoding::decode_base64(payload).unwrap()).unwrap()
}

fn bundle_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn verify(w: &Path, dir: &Path, bundle: &str, identity: &str, issuer: &str) -> Command {
    let mut c = cmd(SIGIL);
    c.args(["verify-bundle", "--bundle", bundle])
        .args(["--certificate-identity", identity, "--certificate-oidc-issuer", issuer])
        .arg("--trusted-root")
        .arg(dir.join("trusted_root.json"))
        .arg("a.txt")
        .current_dir(w);
    c
}

#[test]
fn sign_and_attest_against_sigil_serve_then_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let dir = w.join("instance");
    let inst = start(&dir, &w.join("serve.stderr"));
    let trust_config = inst.dir.join("trust_config.json");

    let token = ok(
        "sigil dev-token",
        cmd(SIGIL)
            .args(["dev-token", "--data-dir"])
            .arg(&dir)
            .args(["--email", EMAIL]),
    )
    .trim()
    .to_string();
    let issuer = claims(&token)["iss"].as_str().unwrap().to_string();

    let artifact = b"sigil end-to-end artifact\n";
    std::fs::write(w.join("a.txt"), artifact).unwrap();
    let digest = hex::encode(sigil_crypto::sha256(artifact));
    std::fs::write(
        w.join("statement.json"),
        json!({"_type": "https://in-toto.io/Statement/v1",
               "subject": [{"name": "a.txt", "digest": {"sha256": digest}}],
               "predicateType": "https://sigil.test/predicate/v1", "predicate": {"k": "v"}})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        w.join("predicate.json"),
        r#"{"builder":{"id":"https://sigil.test/builder"}}"#,
    )
    .unwrap();

    // sign-blob on Rekor v1 (SET + proof) and v2 (proof + RFC 3161 timestamp).
    for (v, name) in [("1", "v1.sigstore.json"), ("2", "v2.sigstore.json")] {
        let started = Instant::now();
        ok(
            &format!("sign-blob --rekor-version {v}"),
            cmd(SIGIL)
                .args(["sign-blob", "a.txt", "--bundle", name, "--identity-token", &token])
                .arg("--trust-config")
                .arg(&trust_config)
                .args(["--rekor-version", v])
                .current_dir(w),
        );
        eprintln!("sign-blob (Rekor v{v}) took {:?}", started.elapsed());
        ok(&format!("verify {name}"), &mut verify(w, &dir, name, EMAIL, &issuer));
        let b = bundle_json(&w.join(name));
        let e = &b["verificationMaterial"]["tlogEntries"][0];
        assert!(e["logIndex"].is_string(), "int64 as strings: {e}");
        assert!(b["verificationMaterial"]["certificate"]["rawBytes"].is_string());
        if v == "1" {
            assert_eq!(e["kindVersion"]["version"], "0.0.1");
            assert!(e["inclusionPromise"].is_object());
        } else {
            assert_eq!(e["kindVersion"]["version"], "0.0.2");
            assert!(b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0].is_object());
        }
    }

    // The conformance interface, with a trusted root and a signing config (Rekor chosen by the config).
    ok(
        "sign-bundle",
        cmd(SIGIL)
            .args([
                "sign-bundle",
                "--identity-token",
                &token,
                "--bundle",
                "sb.sigstore.json",
            ])
            .arg("--trusted-root")
            .arg(dir.join("trusted_root.json"))
            .arg("--signing-config")
            .arg(dir.join("signing_config.v0.2.json"))
            .arg("a.txt")
            .current_dir(w),
    );
    ok(
        "verify sign-bundle",
        &mut verify(w, &dir, "sb.sigstore.json", EMAIL, &issuer),
    );
    ok(
        "sign-bundle --in-toto",
        cmd(SIGIL)
            .args([
                "sign-bundle",
                "--in-toto",
                "--identity-token",
                &token,
                "--bundle",
                "st.sigstore.json",
            ])
            .arg("--trusted-root")
            .arg(dir.join("trusted_root.json"))
            .arg("--signing-config")
            .arg(dir.join("signing_config.v0.2.json"))
            .arg("statement.json")
            .current_dir(w),
    );
    ok(
        "verify sign-bundle --in-toto",
        &mut verify(w, &dir, "st.sigstore.json", EMAIL, &issuer),
    );
    assert_eq!(
        bundle_json(&w.join("st.sigstore.json"))["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );

    // attest on both log versions.
    for v in ["1", "2"] {
        let name = format!("attest.v{v}.sigstore.json");
        ok(
            &format!("attest --rekor-version {v}"),
            cmd(SIGIL)
                .args([
                    "attest",
                    "--predicate",
                    "predicate.json",
                    "--type",
                    "https://slsa.dev/provenance/v1",
                ])
                .args(["--bundle", &name, "--identity-token", &token, "--rekor-version", v])
                .arg("--trust-config")
                .arg(&trust_config)
                .arg("a.txt")
                .current_dir(w),
        );
        ok(&format!("verify {name}"), &mut verify(w, &dir, &name, EMAIL, &issuer));
    }

    // Wrong identity at verify time fails; an expired token fails at the token step, before any request.
    fails(
        "verify with another identity",
        &mut verify(w, &dir, "v1.sigstore.json", "mallory@example.test", &issuer),
    );
    let expired = ok(
        "sigil dev-token --ttl 1",
        cmd(SIGIL)
            .args(["dev-token", "--data-dir"])
            .arg(&dir)
            .args(["--email", EMAIL, "--ttl", "1"]),
    )
    .trim()
    .to_string();
    std::thread::sleep(Duration::from_millis(2100));
    let err = fails(
        "sign-blob with an expired token",
        cmd(SIGIL)
            .args(["sign-blob", "a.txt", "--bundle", "x.json", "--identity-token", &expired])
            .arg("--trust-config")
            .arg(&trust_config)
            .current_dir(w),
    );
    assert!(err.contains("identity token") && err.contains("expired"), "{err}");
    assert!(!w.join("x.json").exists());
    drop(inst);
}
