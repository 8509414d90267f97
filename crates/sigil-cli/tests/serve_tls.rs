#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil serve --dev --tls-cert/--tls-key` over HTTPS with a private CA made at test time
//! (`tests/interop/make_tls_certs.py`: a CA, and a server certificate with SAN IP 127.0.0.1 and EKU serverAuth),
//! the way INTEROP.md §0 item 1 says clients reach such an instance: sigstore-python 4.5.1 with
//! `REQUESTS_CA_BUNDLE`, sigstore-js 5.0.1 with `NODE_EXTRA_CA_CERTS`, `sigil sign-blob --ca-bundle`. Each
//! bundle is then verified (offline) by `sigil verify-bundle` and the client's own verifier. Without the CA each
//! client fails and writes nothing; plain HTTP to the TLS port gets no HTTP answer. And `sigil serve` refuses plain
//! HTTP on a non-loopback address.
//!
//! sigstore-js signs with Rekor v1 and no TSA here, so that sigstore-js can verify what it made: it rejects RFC
//! 3161 timestamps whose `genTime` fraction has fewer than three digits (see serve_interop.rs's occasional
//! `invalid time`), and this test is about transport, not that.
//!
//! The clients come from `scripts/install-interop-clients.sh`; when they are missing the HTTPS test skips with a
//! message, or fails when `SIGIL_REQUIRE_INTEROP=1`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{Clients, Need, Outcome, SIGIL, Server, cmd, drivers, ok, read_json, run_logged, serve_dev_command};

const EMAIL: &str = "alice@example.test";
/// Per client invocation.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

struct Env {
    c: Clients,
    w: PathBuf,
    data: PathBuf,
    ca: PathBuf,
    base: String,
    token: String,
}

impl Env {
    fn p(&self, name: &str) -> PathBuf {
        self.w.join(name)
    }

    fn issuer(&self) -> String {
        format!("{}/oidc", self.base)
    }

    /// Runs `c` (output in `W/NAME.log`).
    fn run(&self, name: &str, c: Command) -> Outcome {
        run_logged(c, &self.p(&format!("{name}.log")), STEP_TIMEOUT)
    }

    #[track_caller]
    fn pass(&self, name: &str, c: Command) {
        let o = self.run(name, c);
        assert!(o.ok, "{name} failed: {}", redact(&o.detail, &self.token));
    }

    /// `c` must fail (not time out) and write no `bundle`; returns its whole output.
    #[track_caller]
    fn refused(&self, name: &str, c: Command, bundle: &str) -> String {
        let o = self.run(name, c);
        assert!(
            o.status.is_some_and(|s| !s.success()),
            "{name} was expected to fail: {}",
            redact(&o.detail, &self.token)
        );
        assert!(!self.p(bundle).exists(), "{name} wrote {bundle}");
        std::fs::read_to_string(self.p(&format!("{name}.log"))).unwrap()
    }

    /// `python -m sigstore --trust-config DATA/trust_config.json sign …` (no CA given).
    fn py_sign(&self, bundle: &str) -> Command {
        let mut c = cmd(&self.c.python);
        c.args(["-m", "sigstore", "--trust-config"])
            .arg(self.data.join("trust_config.json"))
            .args(["sign", "--identity-token", &self.token, "--bundle", bundle, "a.txt"])
            .current_dir(&self.w);
        c
    }

    /// `node js-sign.js sign a.txt BUNDLE`: Rekor v1, no TSA (no CA given).
    fn js_sign(&self, bundle: &str) -> Command {
        let mut c = cmd("node");
        c.arg(drivers().join("js-sign.js"))
            .args(["sign", "a.txt", bundle])
            .env("SSJS_DIR", &self.c.js5)
            .env("SIGSTORE_ID_TOKEN", &self.token)
            .env("FULCIO_URL", &self.base)
            .env("REKOR_URL", &self.base)
            .current_dir(&self.w);
        c
    }

    /// `sigil sign-blob … --rekor-version V` (no CA given).
    fn sigil_sign(&self, bundle: &str, rekor: &str) -> Command {
        let mut c = cmd(SIGIL);
        c.args([
            "sign-blob",
            "a.txt",
            "--bundle",
            bundle,
            "--identity-token",
            &self.token,
        ])
        .arg("--trust-config")
        .arg(self.data.join("trust_config.json"))
        .args(["--rekor-version", rekor])
        .current_dir(&self.w);
        c
    }

    /// Offline verification of `bundle` (of a.txt) by `sigil verify-bundle`, sigstore-python and sigstore-js.
    fn verify_everywhere(&self, bundle: &str, with: &[&str]) {
        let issuer = self.issuer();
        let trusted_root = self.data.join("trusted_root.json");
        for v in with {
            let mut c;
            match *v {
                "sigil" => {
                    c = cmd(SIGIL);
                    c.args(["verify-bundle", "--bundle", bundle, "--certificate-identity", EMAIL])
                        .args(["--certificate-oidc-issuer", &issuer])
                        .arg("--trusted-root")
                        .arg(&trusted_root)
                        .arg("a.txt");
                }
                "python" => {
                    c = cmd(&self.c.python);
                    c.args(["-m", "sigstore", "--trust-config"])
                        .arg(self.data.join("trust_config.json"))
                        .args(["verify", "identity", "--offline", "--bundle", bundle])
                        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &issuer, "a.txt"]);
                }
                _ => {
                    c = cmd("node");
                    c.arg(drivers().join("js-verify.js"))
                        .arg(&trusted_root)
                        .args([bundle, "a.txt", EMAIL, &issuer])
                        .env("SSJS_DIR", &self.c.js5);
                }
            }
            c.current_dir(&self.w);
            self.pass(&format!("verify-{bundle}-{v}"), c);
        }
    }
}

fn redact(text: &str, token: &str) -> String {
    text.replace(token, "$TOKEN")
}

/// A private CA and a server certificate for 127.0.0.1 in `dir`: (ca.pem, server.pem, server.key).
fn make_certs(python: &Path, dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    ok(
        "make_tls_certs.py",
        cmd(python).arg(drivers().join("make_tls_certs.py")).arg(dir),
    );
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

#[test]
fn clients_sign_over_https_with_a_private_ca() {
    let Some(c) = support::clients_or_skip("serve_tls", &[Need::Python, Need::Js5]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().to_path_buf();
    let data = w.join("instance");
    let (ca, cert, key) = make_certs(&c.python, &w.join("certs"));
    let mut serve = serve_dev_command(&data);
    serve.arg("--tls-cert").arg(&cert).arg("--tls-key").arg(&key);
    let server = Server::start(serve, &w.join("serve.stderr"), Duration::from_secs(30));
    let base = server.url();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    // Every service the clients are told about is the HTTPS one.
    let signing_config = read_json(&data.join("signing_config.v0.2.json"));
    for list in ["caUrls", "rekorTlogUrls", "tsaUrls", "oidcUrls"] {
        for s in signing_config[list].as_array().unwrap() {
            assert!(s["url"].as_str().unwrap().starts_with(&base), "{list}: {s}");
        }
    }
    std::fs::write(w.join("a.txt"), b"signed over HTTPS\n").unwrap();
    let e = Env {
        token: support::dev_token(&data, EMAIL, None),
        c,
        w,
        data,
        ca,
        base,
    };

    // sigstore-python: REQUESTS_CA_BUNDLE (its default, Rekor v2 + the TSA); without it, a certificate error.
    let mut py = e.py_sign("py.sigstore.json");
    py.env("REQUESTS_CA_BUNDLE", &e.ca);
    e.pass("python-sign", py);
    e.verify_everywhere("py.sigstore.json", &["sigil", "python"]);
    let out = e.refused("python-sign-without-ca", e.py_sign("py.noca.json"), "py.noca.json");
    assert!(out.contains("CERTIFICATE_VERIFY_FAILED"), "{}", redact(&out, &e.token));

    // sigstore-js 5.0.1: NODE_EXTRA_CA_CERTS; without it, a certificate error.
    let mut js = e.js_sign("js.sigstore.json");
    js.env("NODE_EXTRA_CA_CERTS", &e.ca);
    e.pass("js-sign", js);
    e.verify_everywhere("js.sigstore.json", &["sigil", "python", "js"]);
    let out = e.refused("js-sign-without-ca", e.js_sign("js.noca.json"), "js.noca.json");
    assert!(out.contains("certificate"), "{}", redact(&out, &e.token));

    // sigil: --ca-bundle, on both log versions; without it, the CA is unknown.
    for v in ["1", "2"] {
        let bundle = format!("sigil.v{v}.sigstore.json");
        let mut s = e.sigil_sign(&bundle, v);
        s.arg("--ca-bundle").arg(&e.ca);
        e.pass(&format!("sigil-sign-v{v}"), s);
        e.verify_everywhere(&bundle, &["sigil", "python"]);
    }
    let out = e.refused(
        "sigil-sign-without-ca",
        e.sigil_sign("sigil.noca.json", "1"),
        "sigil.noca.json",
    );
    assert!(out.contains("UnknownIssuer"), "{out}");
    // A --ca-bundle with no certificate in it is refused up front.
    std::fs::write(e.p("empty.pem"), "not a certificate\n").unwrap();
    let mut s = e.sigil_sign("sigil.empty.json", "1");
    s.arg("--ca-bundle").arg(e.p("empty.pem"));
    let out = e.refused("sigil-sign-empty-ca-bundle", s, "sigil.empty.json");
    assert!(out.contains("no CERTIFICATE"), "{out}");

    // Plain HTTP to the TLS port: no HTTP answer (a TLS alert, then the connection closes).
    if let Ok(r) = support::http(&server.addr, "GET", "/healthz", None) {
        panic!(
            "plain HTTP to the TLS port got an HTTP answer: {} {}",
            r.status,
            r.text()
        );
    }
    drop(server);
}

#[test]
fn plain_http_off_loopback_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut serve = cmd(SIGIL);
    serve
        .args(["serve", "--dev", "--data-dir"])
        .arg(tmp.path().join("instance"))
        .args(["--listen", "0.0.0.0:0"]);
    let log = tmp.path().join("serve.log");
    let o = run_logged(serve, &log, Duration::from_secs(30));
    let status = o.status.expect("sigil serve on 0.0.0.0 without TLS kept running");
    assert!(!status.success(), "{}", o.detail);
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(
        out.contains("refusing plain HTTP on 0.0.0.0:0") && out.contains("--tls-cert"),
        "{out}"
    );
}
