#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil sign-blob`, `sign-bundle --in-toto` and `attest` for real over HTTP, against `sigil log serve` (Rekor
//! v1) and the Fulcio test double `tests/interop/test_fulcio.py` (the one tests/log_interop.rs uses), then
//! verified by `sigil verify-bundle` and by sigstore-python 4.5.1. Rekor v2 without a TSA is refused before
//! anything is requested.
//!
//! The double needs the venv that `scripts/install-interop-clients.sh` creates (`.venv`, with `cryptography`
//! and sigstore-python); this test fails, never skips, when it is missing.

mod support;

use serde_json::json;
use support::{LogWithFulcio, Need, SIGIL, cmd, fails, ok, write_json};

const EMAIL: &str = "alice@example.test";
const ISSUER: &str = "https://issuer.sigil.test";

#[test]
fn sigil_signs_against_the_log_and_a_fulcio_double() {
    let python = support::clients_required("sign_interop", &[Need::Python]).python;
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let inst = LogWithFulcio::start(w, &python, ISSUER, EMAIL);
    let token = inst.token.clone();

    let artifact = b"signed by sigil over HTTP\n";
    std::fs::write(w.join("a.txt"), artifact).unwrap();
    write_json(
        &w.join("statement.json"),
        &support::statement("a.txt", artifact, "https://sigil.test/predicate/v1", json!({})),
    );
    write_json(&w.join("predicate.json"), &support::slsa_predicate());
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
    write_json(&w.join("signing_config_v1.json"), &inst.signing_config(&[1]));
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
            "attest-blob",
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
    let b = support::read_json(&w.join("attest.sigstore.json"));
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
    )
    .stderr;
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
    )
    .stderr;
    assert!(err.contains("identity token") && err.contains("audience"), "{err}");
    drop(inst);
}
