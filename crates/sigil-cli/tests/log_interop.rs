#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The real Sigstore clients against `sigil log serve`: sigstore-python 4.5.1 and sigstore-js sign and attest
//! through our Rekor v1 API (with certificates from the test CA double `tests/interop/test_fulcio.py`), accept
//! the proofs we return, and the bundles they write verify with their own verifiers, each other's and
//! `sigil verify-bundle`. Rekor v2 is driven through sigstore-python's own v2 client code and sigstore-js's
//! signing-config path (neither can produce a verifiable v2 bundle without a TSA, which comes later).
//! Identical resubmissions answer 409, and the clients' conflict handling is exercised.
//!
//! The clients are installed by `scripts/install-interop-clients.sh` (which `cargo xtask test` runs first);
//! this test fails, never skips, when they are missing. The drivers are in `tests/interop/` of this crate.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use support::{Clients, LogWithFulcio, Need, SIGIL, Server, cmd, drivers, fails, ok, write_json};

const EMAIL: &str = "alice@example.test";
const ISSUER: &str = "https://issuer.sigil.test";

struct Env<'a> {
    c: &'a Clients,
    w: &'a Path,
    log: &'a Server,
    fulcio: &'a Server,
    token: String,
}

impl Env<'_> {
    fn p(&self, name: &str) -> PathBuf {
        self.w.join(name)
    }

    /// `python -m sigstore --trust-config … ARGS`.
    fn py(&self, args: &[&str]) -> Command {
        let mut c = cmd(&self.c.python);
        c.args(["-m", "sigstore", "--trust-config"])
            .arg(self.p("trust_config.json"))
            .args(args)
            .current_dir(self.w);
        c
    }

    fn py_verify(&self, bundle: &str, identity: &str) -> Command {
        self.py(&[
            "verify",
            "identity",
            "--offline",
            "--bundle",
            bundle,
            "--cert-identity",
            identity,
            "--cert-oidc-issuer",
            ISSUER,
            "a.txt",
        ])
    }

    /// `node SCRIPT ARGS` with SSJS_DIR set.
    fn node(&self, script: &Path, args: &[&str]) -> Command {
        let mut c = cmd("node");
        c.arg(script)
            .args(args)
            .env("SSJS_DIR", &self.c.js4)
            .env("SIGSTORE_ID_TOKEN", &self.token)
            .env("FULCIO_URL", self.fulcio.url())
            .env("REKOR_URL", self.log.url())
            .env_remove("TSA_URL")
            .current_dir(self.w);
        c
    }

    fn js_verify(&self, bundle: &str, artifact: &str) -> Command {
        self.node(
            &drivers().join("js-verify.js"),
            &["trusted_root.json", bundle, artifact, EMAIL, ISSUER],
        )
    }

    fn sigil_verify(&self, bundle: &str, identity: &str, issuer: &str) -> Command {
        let mut c = Command::new(SIGIL);
        c.args(["verify-bundle", "--bundle", bundle])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer])
            .args(["--trusted-root", "trusted_root.json", "a.txt"])
            .current_dir(self.w);
        c
    }
}

/// sigstore-python 4.5.1: sign + attest on Rekor v1, its own verify, Rekor v2 through its client code, 409.
fn python_side(e: &Env) {
    let token = e.token.as_str();
    ok(
        "sigstore-python attest (Rekor v1, dsse)",
        &mut e.py(&[
            "attest",
            "--rekor-version",
            "1",
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
            "predicate.json",
            "--identity-token",
            token,
            "--bundle",
            "py.dsse.sigstore.json",
            "a.txt",
        ]),
    );
    for b in ["py.sigstore.json", "py.dsse.sigstore.json"] {
        ok(&format!("sigstore-python verify {b}"), &mut e.py_verify(b, EMAIL));
        fails(
            &format!("sigstore-python verify {b} (wrong identity)"),
            &mut e.py_verify(b, "mallory@example.test"),
        );
    }

    // Rekor v2 through sigstore-python's RekorV2Client (see tests/interop/py_driver.py).
    let driver = drivers().join("py_driver.py");
    let out = ok(
        "sigstore-python Rekor v2 client",
        cmd(&e.c.python)
            .arg(&driver)
            .args(["rekor-v2", "trust_config.json", "token.jwt", "a.txt"])
            .current_dir(e.w),
    );
    let v2: Value = serde_json::from_str(&out).unwrap();
    eprintln!("sigstore-python Rekor v2: {v2}");
    for kind in ["hashedrekord", "dsse"] {
        assert_eq!(v2[kind]["kind"], "hashedrekord", "{v2}");
        assert_eq!(v2[kind]["version"], "0.0.2", "{v2}");
    }
    assert!(v2["resubmission"].as_str().unwrap().starts_with("409: "), "{v2}");

    // Rekor v1 conflict: 409 as RekorClientError, and the Location's entry is the original.
    let out = ok(
        "sigstore-python Rekor v1 resubmission",
        cmd(&e.c.python)
            .arg(&driver)
            .args(["rekor-v1-conflict", "trust_config.json", "py.sigstore.json"])
            .current_dir(e.w),
    );
    eprintln!("sigstore-python Rekor v1 resubmission: {out}");
}

/// sigstore-js: sign + attest on Rekor v1 (library), its own verify, 409 handling, Rekor v2 via signing config.
fn js_side(e: &Env) {
    let sign = drivers().join("js-sign.js");
    ok(
        "sigstore-js sign (Rekor v1, hashedrekord)",
        &mut e.node(&sign, &["sign", "a.txt", "js.sigstore.json"]),
    );
    ok(
        "sigstore-js attest (Rekor v1, dsse)",
        &mut e.node(&sign, &["attest", "statement.json", "js.dsse.sigstore.json"]),
    );
    ok(
        "sigstore-js verify js.sigstore.json",
        &mut e.js_verify("js.sigstore.json", "a.txt"),
    );
    ok(
        "sigstore-js verify js.dsse.sigstore.json",
        &mut e.js_verify("js.dsse.sigstore.json", "-"),
    );
    let mut wrong = e.node(
        &drivers().join("js-verify.js"),
        &[
            "trusted_root.json",
            "js.sigstore.json",
            "a.txt",
            "mallory@example.test",
            ISSUER,
        ],
    );
    fails("sigstore-js verify (wrong identity)", &mut wrong);

    // 409: without fetchOnConflict an error; with it, the original entry comes back (and still verifies).
    let out = ok(
        "sigstore-js resubmission",
        &mut e.node(
            &drivers().join("js-conflict.js"),
            &[&e.log.url(), "js.sigstore.json", "js.refetched.sigstore.json"],
        ),
    );
    eprintln!("sigstore-js Rekor v1 resubmission: {out}");
    ok(
        "sigstore-js verify js.refetched.sigstore.json",
        &mut e.js_verify("js.refetched.sigstore.json", "a.txt"),
    );

    // @sigstore/cli `attest` always writes `intoto` 0.0.2 entries: accepted, and the bundle verifies with
    // sigstore-js and sigil (sigstore-python cannot verify intoto bundles at all: INTEROP.md §0.11).
    let mut cli = cmd(e.c.js4.join("node_modules/.bin/sigstore"));
    cli.args(["attest", "statement.json", "--fulcio-url", &e.fulcio.url()])
        .args(["--rekor-url", &e.log.url(), "-o", "cli.sigstore.json"])
        .env("CI", "true")
        .env("SIGSTORE_ID_TOKEN", &e.token)
        .current_dir(e.w);
    ok("@sigstore/cli attest (Rekor v1, intoto)", &mut cli);
    let cli_bundle: Value = serde_json::from_slice(&std::fs::read(e.p("cli.sigstore.json")).unwrap()).unwrap();
    assert_eq!(
        cli_bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"],
        json!({"kind":"intoto","version":"0.0.2"})
    );
    ok(
        "sigstore-js verify cli.sigstore.json",
        &mut e.js_verify("cli.sigstore.json", "-"),
    );
    ok(
        "sigil verify-bundle cli.sigstore.json",
        &mut e.sigil_verify("cli.sigstore.json", EMAIL, ISSUER),
    );
    fails(
        "sigil verify-bundle cli.sigstore.json (wrong identity)",
        &mut e.sigil_verify("cli.sigstore.json", "mallory@example.test", ISSUER),
    );

    // Rekor v2 through the signing config: the entry is made and parsed; without a TSA there is no
    // verified time, which both verifiers (rightly) refuse.
    ok(
        "sigstore-js sign via signing config (Rekor v2)",
        &mut e.node(
            &drivers().join("js-sign-config.js"),
            &["signing_config_v2.json", "sign", "a.txt", "js.v2.sigstore.json"],
        ),
    );
    let v2: Value = serde_json::from_slice(&std::fs::read(e.p("js.v2.sigstore.json")).unwrap()).unwrap();
    let entry = &v2["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"], json!({"kind":"hashedrekord","version":"0.0.2"}));
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    let why = fails(
        "sigstore-js verify js.v2.sigstore.json",
        &mut e.js_verify("js.v2.sigstore.json", "a.txt"),
    )
    .text();
    assert!(why.contains("TIMESTAMP_ERROR"), "{why}");
    let why = fails(
        "sigil verify-bundle js.v2.sigstore.json",
        &mut e.sigil_verify("js.v2.sigstore.json", EMAIL, ISSUER),
    )
    .text();
    assert!(why.contains("NO_TRUSTED_TIME"), "{why}");
}

#[test]
fn real_clients_sign_against_the_log_and_their_bundles_verify() {
    let started = Instant::now();
    let c = support::clients_required("log_interop", &[Need::Python, Need::Js4]);
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();

    // Trust material: the test CA + CT key, and both APIs of our log (`trust_config.json`), and a signing
    // config with only the v2 API for sigstore-js.
    let inst = LogWithFulcio::start(w, &c.python, ISSUER, EMAIL);
    write_json(&w.join("signing_config_v2.json"), &inst.signing_config(&[2]));

    // The artifact, an SLSA v1 predicate for Python's `attest`, an in-toto statement for sigstore-js.
    let artifact = b"sigil interop artifact\n";
    std::fs::write(w.join("a.txt"), artifact).unwrap();
    write_json(&w.join("predicate.json"), &support::slsa_predicate());
    write_json(
        &w.join("statement.json"),
        &support::statement("a.txt", artifact, "https://sigil.test/predicate/v1", json!({})),
    );

    let e = Env {
        c: &c,
        w,
        log: &inst.log,
        fulcio: &inst.fulcio,
        token: inst.token.clone(),
    };
    // sigstore-python signs first, so that log index 0 is its entry: sigstore-js writes protobuf JSON that
    // leaves out a zero `logIndex` (and the empty `hashes` of a size-1 proof), which sigstore-python 4.5.1
    // refuses ("Field required") -- a client gap that only ever concerns the first entry of a log.
    ok(
        "sigstore-python sign (Rekor v1, hashedrekord)",
        &mut e.py(&[
            "sign",
            "--rekor-version",
            "1",
            "--identity-token",
            &e.token,
            "--bundle",
            "py.sigstore.json",
            "a.txt",
        ]),
    );
    std::thread::scope(|s| {
        let py = s.spawn(|| python_side(&e));
        let js = s.spawn(|| js_side(&e));
        let (py, js) = (py.join(), js.join());
        if py.is_err() || js.is_err() {
            panic!(
                "a client side failed (see above); log stderr:\n{}\nfulcio stderr:\n{}",
                std::fs::read_to_string(w.join("log.stderr")).unwrap_or_default(),
                std::fs::read_to_string(w.join("fulcio.stderr")).unwrap_or_default()
            );
        }
    });

    // Every Rekor v1 bundle: sigil accepts it with the right identity and refuses a wrong identity or issuer;
    // and each client verifies the other's.
    let v1_bundles = [
        "py.sigstore.json",
        "py.dsse.sigstore.json",
        "js.sigstore.json",
        "js.dsse.sigstore.json",
        "js.refetched.sigstore.json",
    ];
    for b in v1_bundles {
        ok(
            &format!("sigil verify-bundle {b}"),
            &mut e.sigil_verify(b, EMAIL, ISSUER),
        );
        let why = fails(
            &format!("sigil verify-bundle {b} (wrong identity)"),
            &mut e.sigil_verify(b, "mallory@example.test", ISSUER),
        )
        .text();
        assert!(why.contains("IDENTITY_MISMATCH"), "{why}");
        fails(
            &format!("sigil verify-bundle {b} (wrong issuer)"),
            &mut e.sigil_verify(b, EMAIL, "https://other.sigil.test"),
        );
    }
    for b in ["js.sigstore.json", "js.dsse.sigstore.json"] {
        ok(&format!("sigstore-python verify {b}"), &mut e.py_verify(b, EMAIL));
    }
    ok(
        "sigstore-js verify py.sigstore.json",
        &mut e.js_verify("py.sigstore.json", "a.txt"),
    );
    ok(
        "sigstore-js verify py.dsse.sigstore.json",
        &mut e.js_verify("py.dsse.sigstore.json", "-"),
    );
    eprintln!(
        "log interop: all client checks passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
