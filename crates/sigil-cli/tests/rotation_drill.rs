#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The rotation drill (issue 6): one running `sigil serve --dev`, its trust files published over TUF. A client
//! pins the repository's first root (`sigil trust init`) and then signs and verifies only through TUF while the
//! operator rotates, without a restart:
//! 1. sign A (Rekor v1 and v2);
//! 2. rotate the log's keys (`sigil instance rotate log-key`), sign B;
//! 3. rotate the CA's intermediate (`sigil instance rotate ca-intermediate`), sign C;
//! 4. rotate the TUF root key (`sigil tuf rotate-key --role root`: root v2) and the timestamp key (root v3).
//!
//! Then every bundle verifies for: the client that followed along; a fresh client given only the old root v1,
//! which must walk the root chain 1 → 2 → 3; sigstore-python 4.5.1 (`--instance`, bootstrapped from root v1),
//! which also signs D after all rotations; and sigstore-js 5.0.1 (its own TUF client, `tufMirrorURL` from root
//! v1), which also signs E with the signing config it takes from the repository. B and C carry the new log IDs, C chains
//! to the new intermediate, and the trusted root the clients got through TUF lists both generations of each
//! with their `validFor` windows.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{Need, SIGIL, Server, cmd, ok, read_json, run_logged, serve_dev_command};

const EMAIL: &str = "drill@example.test";
const STEP_TIMEOUT: Duration = Duration::from_secs(90);

struct Drill {
    w: PathBuf,
    data: PathBuf,
    base: String,
    issuer: String,
    python: PathBuf,
    js5: PathBuf,
}

impl Drill {
    fn mirror(&self) -> String {
        format!("{}/tuf", self.base)
    }

    fn root_v1(&self) -> PathBuf {
        self.data.join("tuf/repo/1.root.json")
    }

    /// `sigil ARGS` as the client with home `home`.
    fn sigil(&self, home: &str, args: &[&str]) -> Command {
        let mut c = cmd(SIGIL);
        c.args(args).env("SIGIL_HOME", self.w.join(home)).current_dir(&self.w);
        c
    }

    fn sign(&self, name: &str, rekor: &str) {
        let token = support::dev_token(&self.data, EMAIL, None);
        ok(
            &format!("sign {name}"),
            &mut self.sigil(
                "home-a",
                &[
                    "sign-blob",
                    "a.txt",
                    "--bundle",
                    name,
                    "--identity-token",
                    &token,
                    "--rekor-version",
                    rekor,
                ],
            ),
        );
    }

    fn verify(&self, home: &str, bundle: &str, extra: &[&str]) -> String {
        let mut c = self.sigil(
            home,
            &[
                "verify-bundle",
                "--bundle",
                bundle,
                "--certificate-identity",
                EMAIL,
                "--certificate-oidc-issuer",
                &self.issuer,
            ],
        );
        c.args(extra).arg("a.txt");
        let r = support::run(&mut c);
        assert!(r.status.success(), "{}", r.show(&format!("{home}: verify {bundle}")));
        r.stderr
    }

    fn rotate(&self, what: &str) -> String {
        ok(
            &format!("rotate {what}"),
            cmd(SIGIL)
                .args(["instance", "rotate", "--data-dir"])
                .arg(&self.data)
                .arg(what),
        )
    }

    fn tuf(&self, args: &[&str]) -> String {
        ok(
            &format!("sigil tuf {args:?}"),
            cmd(SIGIL)
                .arg("tuf")
                .args(args)
                .arg("--repo")
                .arg(self.data.join("tuf"))
                .env("SIGIL_TUF_PASSWORD", ""),
        )
    }

    /// A sigstore-js 5.0.1 driver (`tests/interop/`), its TUF cache bootstrapped from root v1.
    fn js(&self, what: &str, driver: &str, args: &[&str], token: Option<&str>) {
        let mut c = cmd("node");
        c.arg(support::drivers().join(driver))
            .args([self.mirror().as_str(), self.w.join("root-v1.json").to_str().unwrap()])
            .arg(self.w.join(format!("js-cache-{driver}")))
            .args(args)
            .env("SSJS_DIR", &self.js5)
            .current_dir(&self.w);
        if let Some(t) = token {
            c.env("SIGSTORE_ID_TOKEN", t);
        }
        let out = run_logged(
            c,
            &self.w.join(format!("js-{}.log", what.replace(' ', "-"))),
            STEP_TIMEOUT,
        );
        assert!(out.ok, "sigstore-js {what}:\n{}", out.detail);
    }

    fn py(&self, what: &str, args: &[&str]) {
        let mut c = cmd(&self.python);
        c.args(["-m", "sigstore", "--instance", &self.mirror()])
            .args(args)
            .env("XDG_DATA_HOME", self.w.join("py-data"))
            .env("XDG_CACHE_HOME", self.w.join("py-cache"))
            .current_dir(&self.w);
        let out = run_logged(
            c,
            &self.w.join(format!("py-{}.log", what.replace(' ', "-"))),
            STEP_TIMEOUT,
        );
        assert!(out.ok, "sigstore-python {what}:\n{}", out.detail);
    }
}

fn log_id(bundle: &Path) -> String {
    read_json(bundle)["verificationMaterial"]["tlogEntries"][0]["logId"]["keyId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The leaf certificate's DER.
fn leaf(bundle: &Path) -> Vec<u8> {
    let b = read_json(bundle);
    let vm = &b["verificationMaterial"];
    let der = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .unwrap();
    sigil_bundle::encoding::decode_base64(der).unwrap()
}

/// The subject key IDs of the retired and the current intermediate, from the instance's trusted root.
fn intermediates(data: &Path) -> (Vec<u8>, Vec<u8>) {
    let root = read_json(&data.join("trusted_root.json"));
    let cas = root["certificateAuthorities"].as_array().unwrap();
    assert_eq!(cas.len(), 2);
    let ski = |ca: &Value| {
        let der =
            sigil_bundle::encoding::decode_base64(ca["certChain"]["certificates"][0]["rawBytes"].as_str().unwrap())
                .unwrap();
        sigil_x509::Certificate::from_der(&der)
            .unwrap()
            .subject_key_id()
            .unwrap()
            .to_vec()
    };
    let (old, new): (Vec<&Value>, Vec<&Value>) = cas.iter().partition(|c| c["validFor"]["end"].is_string());
    (ski(old[0]), ski(new[0]))
}

/// Whether the leaf's Authority Key Identifier holds `ski` (the AKI extension carries the issuer's SKI).
fn issued_under(leaf: &[u8], ski: &[u8]) -> bool {
    leaf.windows(ski.len()).any(|w| w == ski)
}

#[test]
fn rotate_log_key_ca_intermediate_and_tuf_root_while_clients_follow_through_tuf() {
    let c = support::clients_required("rotation_drill", &[Need::Python, Need::Js5]);
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().to_path_buf();
    let data = w.join("instance");
    let server = Server::start(
        serve_dev_command(&data),
        &w.join("serve.stderr"),
        Duration::from_secs(60),
    );
    let d = Drill {
        base: server.url(),
        issuer: format!("{}/oidc", server.url()),
        w: w.clone(),
        data: data.clone(),
        python: c.python.clone(),
        js5: c.js5.clone(),
    };
    std::fs::write(w.join("a.txt"), b"rotation drill\n").unwrap();
    // Kept aside before anything rotates: the root a late client starts from.
    std::fs::copy(d.root_v1(), w.join("root-v1.json")).unwrap();

    // Client A pins the repository and from then on signs and verifies through TUF only.
    let out = ok(
        "trust init",
        &mut d.sigil(
            "home-a",
            &[
                "trust",
                "init",
                "--mirror",
                &d.mirror(),
                "--root",
                w.join("root-v1.json").to_str().unwrap(),
            ],
        ),
    );
    assert!(out.contains("root v1"), "{out}");
    d.py(
        "trust-instance",
        &["trust-instance", w.join("root-v1.json").to_str().unwrap()],
    );

    d.sign("a1.json", "1");
    d.sign("a2.json", "2");
    let said = d.verify("home-a", "a1.json", &[]);
    assert!(said.contains(&format!("TUF repository {}", d.mirror())), "{said}");

    let out = d.rotate("log-key");
    assert!(out.contains("published over TUF"), "{out}");
    d.sign("b1.json", "1");
    d.sign("b2.json", "2");
    let out = d.rotate("ca-intermediate");
    assert!(out.contains("published over TUF"), "{out}");
    d.sign("c1.json", "1");
    d.sign("c2.json", "2");
    assert_ne!(
        log_id(&w.join("a1.json")),
        log_id(&w.join("b1.json")),
        "B is logged under the new key"
    );
    assert_eq!(log_id(&w.join("b1.json")), log_id(&w.join("c1.json")));
    let (old_ca, new_ca) = intermediates(&data);
    for (b, ski) in [
        ("a1.json", &old_ca),
        ("b1.json", &old_ca),
        ("c1.json", &new_ca),
        ("c2.json", &new_ca),
    ] {
        assert!(
            issued_under(&leaf(&w.join(b)), ski),
            "{b} is issued by the expected intermediate"
        );
    }
    assert!(!issued_under(&leaf(&w.join("c1.json")), &old_ca));

    // The TUF root itself rotates (root v2), then the timestamp key (root v3).
    d.tuf(&["rotate-key", "--role", "root"]);
    d.tuf(&["rotate-key", "--role", "timestamp"]);
    assert!(data.join("tuf/repo/3.root.json").is_file());

    // sigstore-python signs after every rotation, with what TUF now says.
    let token = support::dev_token(&data, EMAIL, None);
    d.py(
        "sign d",
        &[
            "sign",
            "--rekor-version",
            "1",
            "--identity-token",
            &token,
            "--bundle",
            "d.json",
            "a.txt",
        ],
    );

    let bundles = [
        "a1.json", "a2.json", "b1.json", "b2.json", "c1.json", "c2.json", "d.json",
    ];
    // The client that followed along, the trust-init default.
    for b in bundles {
        let said = d.verify("home-a", b, &[]);
        assert!(said.contains("root v3"), "{said}");
    }
    // A new client that only has root v1 walks the chain.
    for b in bundles {
        d.verify(
            "home-late",
            b,
            &[
                "--tuf-mirror",
                &d.mirror(),
                "--tuf-root",
                w.join("root-v1.json").to_str().unwrap(),
            ],
        );
    }
    let late_cache = std::fs::read_dir(w.join("home-late/tuf"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for v in [2, 3] {
        assert!(
            late_cache.join(format!("root/{v}.json")).is_file(),
            "root v{v} followed"
        );
    }
    // sigstore-python, bootstrapped from root v1 before the rotations, verifies every bundle too.
    for b in bundles {
        d.py(
            &format!("verify {b}"),
            &[
                "verify",
                "identity",
                "--bundle",
                b,
                "--cert-identity",
                EMAIL,
                "--cert-oidc-issuer",
                &d.issuer,
                "a.txt",
            ],
        );
    }

    // sigstore-js, bootstrapped from root v1, verifies every bundle online through the repository.
    for b in bundles {
        d.js(
            &format!("verify {b}"),
            "js-verify-tuf.js",
            &[b, "a.txt", EMAIL, &d.issuer],
            None,
        );
    }

    // What the clients got through TUF: both log key generations and both intermediates, with windows.
    let shown: Value = serde_json::from_str(&ok(
        "trust show",
        &mut d.sigil("home-a", &["trust", "show", "--output", "json"]),
    ))
    .unwrap();
    let tlogs = shown["tlogs"].as_array().unwrap();
    assert_eq!(tlogs.len(), 4, "two generations of the v1 and the v2 log: {shown}");
    assert_eq!(
        tlogs
            .iter()
            .filter(|t| t["validFor"].as_str().unwrap().ends_with("(open)"))
            .count(),
        2,
        "only the current generation is open-ended: {shown}"
    );
    let cas = shown["certificateAuthorities"].as_array().unwrap();
    assert_eq!(cas.len(), 2, "{shown}");
    assert_eq!(
        cas.iter()
            .filter(|t| t["validFor"].as_str().unwrap().ends_with("(open)"))
            .count(),
        1,
        "{shown}"
    );
    drop(server);
}
