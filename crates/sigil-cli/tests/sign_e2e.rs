#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Keyless signing end to end against one `sigil serve --dev` process (CA + CT log + Rekor v1/v2 + TSA + a
//! development OIDC issuer): `sign-blob` on Rekor v1 and v2, `sign-bundle` (plain and `--in-toto`) and
//! `attest`, each bundle then verified by `sigil verify-bundle` with the identity the token names, and the
//! failure modes a user sees (expired token, wrong identity at verify time).

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{SIGIL, cmd, dev_token, fails, ok, read_json, start_instance};

const EMAIL: &str = "alice@example.test";

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&sigil_bundle::encoding::decode_base64(payload).unwrap()).unwrap()
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
    let inst = start_instance(&dir, &w.join("serve.stderr"));
    let trust_config = dir.join("trust_config.json");

    let token = dev_token(&dir, EMAIL, None);
    let issuer = claims(&token)["iss"].as_str().unwrap().to_string();

    let artifact = b"sigil end-to-end artifact\n";
    std::fs::write(w.join("a.txt"), artifact).unwrap();
    support::write_json(
        &w.join("statement.json"),
        &support::statement("a.txt", artifact, "https://sigil.test/predicate/v1", json!({"k": "v"})),
    );
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
        let b = read_json(&w.join(name));
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
        read_json(&w.join("st.sigstore.json"))["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );

    // attest on both log versions.
    for v in ["1", "2"] {
        let name = format!("attest.v{v}.sigstore.json");
        ok(
            &format!("attest --rekor-version {v}"),
            cmd(SIGIL)
                .args([
                    "attest-blob",
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
    let expired = dev_token(&dir, EMAIL, Some(1));
    std::thread::sleep(Duration::from_millis(2100));
    let err = fails(
        "sign-blob with an expired token",
        cmd(SIGIL)
            .args(["sign-blob", "a.txt", "--bundle", "x.json", "--identity-token", &expired])
            .arg("--trust-config")
            .arg(&trust_config)
            .current_dir(w),
    )
    .stderr;
    assert!(err.contains("identity token") && err.contains("expired"), "{err}");
    assert!(!w.join("x.json").exists());
    drop(inst);
}
