#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil sign-blob`, `sign-bundle --in-toto` and `attest` for real over HTTP, against `sigil log serve` (Rekor
//! v1) and the Fulcio test double `tests/interop/test_fulcio.py` (the one tests/log_interop.rs uses), then
//! verified by `sigil verify-bundle` and by sigstore-python 4.5.1. Rekor v2 without a TSA is refused before
//! anything is requested.
//!
//! The double needs the venv that `scripts/install-interop-clients.sh` creates (`.venv`, with `cryptography`
//! and sigstore-python); this test fails, never skips, when it is missing.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");
const EMAIL: &str = "alice@example.test";
const ISSUER: &str = "https://issuer.sigil.test";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Server {
    child: Child,
    url: String,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(cmd: &mut Command, log: &Path) -> Server {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "{cmd:?} printed {line:?}; stderr: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    Server {
        child,
        url,
        _stdout: out,
    }
}

fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
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
    c.env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("SIGSTORE_ID_TOKEN")
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

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn trust_entry(dir: &Path, url: &str, extra: &[&str]) -> Value {
    let out = ok(
        "sigil log trust-entry",
        cmd(SIGIL)
            .args(["log", "trust-entry", "--data-dir"])
            .arg(dir)
            .args(["--url", url])
            .args(extra),
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn sigil_signs_against_the_log_and_a_fulcio_double() {
    let python = repo().join(".venv/bin/python");
    assert!(
        cmd(&python)
            .args(["-c", "import cryptography, sigstore"])
            .output()
            .is_ok_and(|o| o.status.success()),
        "{} lacks cryptography/sigstore: run scripts/install-interop-clients.sh",
        python.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let data = w.join("log");
    let log = start(
        cmd(SIGIL)
            .args(["log", "serve", "--data-dir"])
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"]),
        &w.join("log.stderr"),
    );
    let fulcio = start(
        cmd(&python)
            .arg(repo().join("tests/interop/test_fulcio.py"))
            .arg("--out")
            .arg(w.join("ca"))
            .args(["--issuer", ISSUER, "--email", EMAIL]),
        &w.join("fulcio.stderr"),
    );
    let ca: Value = serde_json::from_slice(&std::fs::read(w.join("ca/trust.json")).unwrap()).unwrap();
    let token = std::fs::read_to_string(w.join("ca/token.jwt")).unwrap();
    std::fs::write(w.join("token.jwt"), &token).unwrap();

    let trusted_root = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [trust_entry(&data, &log.url, &[]), trust_entry(&data, &log.url, &["--api", "v2"])],
        "certificateAuthorities": [ca["certificateAuthority"]],
        "ctlogs": [ca["ctlog"]],
    });
    let service = |extra: &[&str]| {
        let mut args = vec!["--signing-config"];
        args.extend_from_slice(extra);
        trust_entry(&data, &log.url, &args)
    };
    let signing_config = json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [{"url": fulcio.url, "majorApiVersion": 1, "operator": "sigil-test"}],
        "rekorTlogUrls": [service(&[]), service(&["--api", "v2"])],
        "rekorTlogConfig": {"selector": "ANY"},
    });
    write_json(&w.join("trusted_root.json"), &trusted_root);
    write_json(&w.join("signing_config.json"), &signing_config);
    write_json(
        &w.join("trust_config.json"),
        &json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": trusted_root,
            "signingConfig": signing_config,
        }),
    );
    let artifact = b"signed by sigil over HTTP\n";
    std::fs::write(w.join("a.txt"), artifact).unwrap();
    write_json(
        &w.join("statement.json"),
        &json!({"_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": "a.txt", "digest": {"sha256": hex::encode(sigil_crypto::sha256(artifact))}}],
                "predicateType": "https://sigil.test/predicate/v1", "predicate": {}}),
    );
    write_json(
        &w.join("predicate.json"),
        &json!({"buildDefinition": {"buildType": "https://sigil.test/build/v1", "externalParameters": {}},
                "runDetails": {"builder": {"id": "https://sigil.test/builder"}}}),
    );
    let sigil = |args: &[&str]| {
        let mut c = cmd(SIGIL);
        c.args(args).current_dir(w);
        c
    };

    // The token file form of --identity-token, the trust config, Rekor v1 forced (the config prefers v2).
    ok(
        "sign-blob",
        &mut sigil(&[
            "sign-blob",
            "a.txt",
            "--bundle",
            "blob.sigstore.json",
            "--identity-token",
            "token.jwt",
            "--trust-config",
            "trust_config.json",
            "--rekor-version",
            "1",
        ]),
    );
    // The conformance form: explicit token, trusted root + signing config; this config offers v2 first, so
    // pin the config to v1 for it.
    let mut v1_only = signing_config.clone();
    v1_only["rekorTlogUrls"] = json!([service(&[])]);
    write_json(&w.join("signing_config_v1.json"), &v1_only);
    ok(
        "sign-bundle --in-toto",
        &mut sigil(&[
            "sign-bundle",
            "--in-toto",
            "--identity-token",
            &token,
            "--bundle",
            "statement.sigstore.json",
            "--trusted-root",
            "trusted_root.json",
            "--signing-config",
            "signing_config_v1.json",
            "statement.json",
        ]),
    );
    ok(
        "attest",
        &mut sigil(&[
            "attest",
            "--predicate",
            "predicate.json",
            "--type",
            "https://slsa.dev/provenance/v1",
            "--bundle",
            "attest.sigstore.json",
            "--identity-token",
            &token,
            "--trust-config",
            "trust_config.json",
            "--rekor-version",
            "1",
            "a.txt",
        ]),
    );

    for b in ["blob.sigstore.json", "statement.sigstore.json", "attest.sigstore.json"] {
        ok(
            &format!("sigil verify-bundle {b}"),
            &mut sigil(&[
                "verify-bundle",
                "--bundle",
                b,
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                ISSUER,
                "--trusted-root",
                "trusted_root.json",
                "a.txt",
            ]),
        );
        let mut py = cmd(&python);
        py.args([
            "-m",
            "sigstore",
            "--trust-config",
            "trust_config.json",
            "verify",
            "identity",
            "--offline",
        ])
        .args([
            "--bundle",
            b,
            "--cert-identity",
            EMAIL,
            "--cert-oidc-issuer",
            ISSUER,
            "a.txt",
        ])
        .current_dir(w);
        ok(&format!("sigstore-python verify {b}"), &mut py);
    }
    let b: Value = serde_json::from_slice(&std::fs::read(w.join("attest.sigstore.json")).unwrap()).unwrap();
    assert_eq!(
        b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );

    // Rekor v2 needs a TSA and this instance has none: refused up front, naming the step.
    let err = fails(
        "sign-blob --rekor-version 2 without a TSA",
        &mut sigil(&[
            "sign-blob",
            "a.txt",
            "--bundle",
            "v2.sigstore.json",
            "--identity-token",
            &token,
            "--trust-config",
            "trust_config.json",
            "--rekor-version",
            "2",
        ]),
    );
    assert!(err.contains("timestamp authority is required"), "{err}");
    // A token the CA refuses: the CA's message reaches the user with the step.
    let err = fails(
        "sign-blob with a token for the wrong audience",
        &mut sigil(&[
            "sign-blob",
            "a.txt",
            "--bundle",
            "x.json",
            "--identity-token",
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5zaWdpbC50ZXN0Iiwic3ViIjoiYSIsImF1ZCI6Im90aGVyIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln",
            "--trust-config",
            "trust_config.json",
            "--rekor-version",
            "1",
        ]),
    );
    assert!(err.contains("identity token") && err.contains("audience"), "{err}");
    drop(fulcio);
    drop(log);
}
