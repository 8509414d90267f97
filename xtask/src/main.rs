//! Project automation: `cargo xtask <command>`.
//!
//! - `test`: the whole test suite (what CI runs); installs the pinned interop clients
//!   (`scripts/install-interop-clients.sh`) and checks that `../shared/fixtures` is present first.
//! - `fuzz [SECONDS]`: runs every `cargo fuzz` target for SECONDS each (default 600).
//! - `bench-compare`: whole-process and in-process comparison against sigstore-python (see `scripts/`).
//! - `log-bench [OPTIONS]`: load generator and measurements for `sigil log serve` (see `docs/log-performance.md`).
//! - `ca-bench [OPTIONS]`: load generator for the CA and TSA of `sigil serve --dev` (see `docs/ca-performance.md`).
//! - `bench-sign [RUNS] [REKOR_VERSIONS]`: end-to-end keyless signing, sigil vs sigstore-python, against one
//!   local `sigil serve --dev` (`scripts/bench-sign.sh`).

mod cabench;
mod logbench;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> bool {
    eprintln!("xtask: running {cmd:?}");
    cmd.status().map(|s| s.success()).unwrap_or(false)
}

fn test() -> bool {
    // The pinned real Sigstore clients the interop tests drive (crates/sigil-cli/tests/log_interop.rs).
    if !run(Command::new("bash")
        .current_dir(root())
        .arg("scripts/install-interop-clients.sh"))
    {
        eprintln!("xtask: scripts/install-interop-clients.sh failed (it needs python3, node and npm)");
        return false;
    }
    // Debian packages the tests run for real: `strace` audits the log's fsyncs under load
    // (crates/sigil-cli/tests/log_power_loss.rs, SECURITY.md L-13); `docker-registry` (distribution 2.8) is the
    // registry images are signed in, `skopeo` an independent client of it (crates/sigil-oci/tests).
    let missing: Vec<&str> = [
        ("strace", "/usr/bin/strace"),
        ("docker-registry", "/usr/bin/docker-registry"),
        ("skopeo", "/usr/bin/skopeo"),
    ]
    .into_iter()
    .filter(|(_, bin)| !std::path::Path::new(bin).exists())
    .map(|(package, _)| package)
    .collect();
    if !missing.is_empty() {
        let install = || {
            run(Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "--no-install-recommends"])
                .args(&missing))
        };
        if !(install() || (run(Command::new("apt-get").arg("update")) && install())) {
            eprintln!(
                "xtask: `apt-get install {}` failed: the tests that need them will fail",
                missing.join(" ")
            );
        }
    }
    let fixtures = root().join("../shared/fixtures/conformance/bundle-verify");
    if !fixtures.is_dir() {
        eprintln!(
            "xtask: {} is missing: the shared fixtures must sit beside the checkout",
            fixtures.display()
        );
        return false;
    }
    // The interop tests must run here, never skip: the clients were just installed.
    run(Command::new("cargo")
        .current_dir(root())
        .env("SIGIL_REQUIRE_INTEROP", "1")
        .args(["test", "--workspace", "--all-targets", "--no-fail-fast"]))
        && run(Command::new("cargo")
            .current_dir(root())
            .args(["test", "--workspace", "--doc"]))
        // Shown again uncaptured: where the conformance cases were read from and how many runs passed.
        && run(Command::new("cargo").current_dir(root()).args([
            "test",
            "-p",
            "sigil-cli",
            "--test",
            "conformance",
            "--",
            "--nocapture",
        ]))
}

const FUZZ_TARGETS: [&str; 16] = [
    "bundle",
    "trusted_root",
    "checkpoint",
    "certificate",
    "timestamp",
    "ca_request",
    "tsa_request",
    "oidc_token",
    "ct_chain",
    "log_entry",
    "oci_reference",
    "oci_signature",
    "predicate_policy",
    "key_file",
    "tuf_metadata",
    "git_signature",
];

/// Writes seed inputs for every fuzz target from the shared fixtures into `fuzz/corpus/<target>/`.
fn seed_corpus() -> std::io::Result<()> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let fixtures = root().join("../shared/fixtures");
    let corpus = root().join("fuzz/corpus");
    for t in FUZZ_TARGETS {
        std::fs::create_dir_all(corpus.join(t))?;
    }
    let mut n = 0usize;
    let mut put = |target: &str, data: &[u8]| -> std::io::Result<()> {
        n += 1;
        std::fs::write(corpus.join(target).join(format!("seed-{n}")), data)
    };
    // Image references and a legacy signature (payload, annotations).
    for r in [
        "alpine",
        "localhost:5000/team/app:v1",
        "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ] {
        put("oci_reference", r.as_bytes())?;
    }
    put(
        "oci_signature",
        br#"{"critical":{"identity":{"docker-reference":"localhost:5000/a"},"image":{"docker-manifest-digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},"type":"cosign container image signature"},"optional":null}"#,
    )?;
    put(
        "oci_signature",
        br#"{"payload":"x","signature":"s","bundle":{"SignedEntryTimestamp":"AA==","Payload":{"body":"eyJraW5kIjoiaGFzaGVkcmVrb3JkIiwiYXBpVmVyc2lvbiI6IjAuMC4xIn0=","integratedTime":1,"logIndex":2,"logID":"00"}}}"#,
    )?;
    // Predicate policies and statements, split at a NUL byte: SLSA v1 provenance, and a bare path.
    put(
        "predicate_policy",
        concat!(
            r#"{"rules": [{"path": "$.predicateType", "equals": "https://slsa.dev/provenance/v1"},"#,
            r#" {"path": "$.predicate.buildDefinition.resolvedDependencies[*].uri", "matches": "git\\+https://github\\.com/acme/.*"},"#,
            r#" {"path": "$['predicate'].runDetails.builder[\"id\"]", "exists": true},"#,
            r#" {"path": "$.subject[0].digest.sha256", "matches": "[0-9a-f]{64}", "quantifier": "any"},"#,
            r#" {"path": "$.predicate.debug", "exists": false}, {"path": "$.predicate.n", "equals": 1.0}]}"#,
            "\0",
            r#"{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "a", "digest": {"sha256": "#,
            r#""0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}], "#,
            r#""predicateType": "https://slsa.dev/provenance/v1", "predicate": {"buildDefinition": "#,
            r#"{"resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main"}, {"uri": 7}]}, "#,
            r#""runDetails": {"builder": {"id": "https://github.com/acme/builder"}}, "n": 1}}"#,
        )
        .as_bytes(),
    )?;
    put("predicate_policy", br#"$.a["b\"c"][0][*]._type"#)?;
    // Key files: cosign's encrypted format (the cosign-made vector) and an unencrypted PKCS#8 key.
    put(
        "key_file",
        include_bytes!("../../crates/sigil-crypto/testdata/cosign-generated-empty-password.key"),
    )?;
    let key = sigil_crypto::SigningKey::generate(sigil_crypto::KeyAlgorithm::EcdsaP256)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    put(
        "key_file",
        sigil_crypto::pem_encode("PRIVATE KEY", key.to_pkcs8_der()).as_bytes(),
    )?;
    // TUF metadata: the public-good and staging roots as shipped.
    for dir in ["production", "staging"] {
        put(
            "tuf_metadata",
            &std::fs::read(fixtures.join("tuf").join(dir).join("root.json"))?,
        )?;
    }
    let mut files = Vec::new();
    let mut stack = vec![fixtures.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    for f in files {
        let data = std::fs::read(&f)?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&data) else {
            put("bundle", &data)?;
            continue;
        };
        if name.contains("trusted_root") || name.contains("signing_config") || name.contains("trust_config") {
            put("trusted_root", &data)?;
        }
        let mut certs = Vec::new();
        let mut stamps = Vec::new();
        let mut checkpoints = Vec::new();
        collect(&v, &mut certs, &mut stamps, &mut checkpoints);
        if name.ends_with("sigstore.json") {
            put("bundle", &data)?;
        }
        for c in certs {
            if let Ok(der) = b64.decode(c.as_bytes()) {
                put("certificate", &der)?;
            }
        }
        for s in stamps {
            if let Ok(der) = b64.decode(s.replace('\n', "").as_bytes()) {
                put("timestamp", &der)?;
            }
        }
        for c in checkpoints {
            put("checkpoint", c.as_bytes())?;
        }
    }
    Ok(())
}

/// Walks a JSON value collecting certificate DER (`rawBytes`), timestamps and checkpoint texts.
fn collect(v: &serde_json::Value, certs: &mut Vec<String>, stamps: &mut Vec<String>, checkpoints: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m {
                match (k.as_str(), val) {
                    ("rawBytes", serde_json::Value::String(s)) => certs.push(s.clone()),
                    ("signedTimestamp", serde_json::Value::String(s)) => stamps.push(s.clone()),
                    ("envelope", serde_json::Value::String(s)) => checkpoints.push(s.clone()),
                    _ => collect(val, certs, stamps, checkpoints),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, certs, stamps, checkpoints)),
        _ => {}
    }
}

fn fuzz(seconds: &str) -> bool {
    if let Err(e) = seed_corpus() {
        eprintln!("xtask: seeding the corpus failed: {e}");
        return false;
    }
    // Generated seeds (CSRs, TimeStampReqs, dev tokens, SCTs, Rekor requests) for the newer targets.
    if !run(Command::new("cargo").current_dir(root().join("fuzz")).args([
        "run",
        "--release",
        "--example",
        "seeds",
        "--",
        "corpus",
    ])) {
        return false;
    }
    let mut ok = true;
    for t in FUZZ_TARGETS {
        ok &= run(Command::new("cargo")
            .current_dir(root().join("fuzz"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args([
                "fuzz",
                "run",
                t,
                &format!("corpus/{t}"),
                "--",
                &format!("-max_total_time={seconds}"),
                "-rss_limit_mb=2048",
            ]));
    }
    ok
}

fn bench_compare() -> bool {
    run(Command::new("bash").current_dir(root()).arg("scripts/bench-compare.sh"))
}

fn bench_sign(args: &[String]) -> bool {
    run(Command::new("bash")
        .current_dir(root())
        .arg("scripts/bench-sign.sh")
        .args(args))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("600")),
        Some("bench-compare") => bench_compare(),
        Some("log-bench") => logbench::log_bench(args.get(1..).unwrap_or_default()),
        Some("ca-bench") => cabench::ca_bench(args.get(1..).unwrap_or_default()),
        Some("bench-sign") => bench_sign(args.get(1..).unwrap_or_default()),
        _ => {
            eprintln!(
                "usage: cargo xtask (test | fuzz [SECONDS] | bench-compare | log-bench [--help] | ca-bench [--help] | bench-sign [RUNS] [1,2])"
            );
            false
        }
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
