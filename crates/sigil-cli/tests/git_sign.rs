#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Commit and tag signing with the real `git` against `sigil serve --dev`: `sigil git setup`, signed commits
//! and an annotated signed tag, `git verify-commit`, `git verify-tag`, `git log --show-signature`,
//! `sigil verify-commit` with right and wrong identities, and SECURITY.md section H:
//! G-01 ambiguous headers, G-02 broken CMS, G-04 a log entry moved between signatures, G-05 log keys only from
//! the trusted root; plus an amended or copied signature losing its validity.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::{SIGIL, Server, cmd, ok, read_json, run, serve_dev_command, write_json};

const EMAIL: &str = "alice@example.test";

struct Repo {
    w: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    issuer: String,
    token: String,
}

impl Repo {
    fn env(&self, c: &mut Command) {
        c.env("SIGIL_HOME", self.w.join("home"))
            .env("SIGSTORE_ID_TOKEN", &self.token)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("SIGIL_GIT_AGENT_IDLE_SECS", "30")
            .env("HOME", self.w.join("user"))
            .env("GIT_AUTHOR_DATE", "1700000000 +0000")
            .env("GIT_COMMITTER_DATE", "1700000000 +0000");
    }

    fn git(&self, args: &[&str]) -> Command {
        let mut c = cmd("git");
        c.args(args).current_dir(&self.dir);
        self.env(&mut c);
        c
    }

    fn sigil(&self, args: &[&str]) -> Command {
        let mut c = cmd(SIGIL);
        c.args(args).current_dir(&self.dir);
        self.env(&mut c);
        c
    }

    fn verify_commit(&self, rev: &str, identity: &str) -> support::Ran {
        run(&mut self.sigil(&[
            "verify-commit",
            rev,
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            &self.issuer,
        ]))
    }

    /// Writes a raw commit object as given (no checks, like a hostile push) and returns its ID.
    fn hash_object(&self, raw: &[u8]) -> String {
        let path = self.w.join("raw-object");
        std::fs::write(&path, raw).unwrap();
        ok(
            "hash-object",
            &mut self.git(&[
                "hash-object",
                "-t",
                "commit",
                "-w",
                "--literally",
                path.to_str().unwrap(),
            ]),
        )
        .trim()
        .to_string()
    }

    fn cat(&self, rev: &str) -> String {
        ok("cat-file", &mut self.git(&["cat-file", "commit", rev]))
    }
}

/// A commit's payload and armored signature, as git splits them.
fn payload_and_signature(raw: &str) -> (Vec<u8>, String) {
    let o = sigil_git::object::parse(sigil_git::object::Kind::Commit, raw.as_bytes()).unwrap();
    (o.payload, o.signature)
}

/// A commit's signature, parsed and bound to its payload.
fn signature_of(raw: &str) -> sigil_git::cms::ParsedSignature {
    let (payload, signature) = payload_and_signature(raw);
    sigil_git::cms::to_bundle(&signature, &payload).unwrap()
}

fn setup() -> (Server, Repo, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().to_path_buf();
    let data = w.join("instance");
    let server = Server::start(
        serve_dev_command(&data),
        &w.join("serve.stderr"),
        Duration::from_secs(60),
    );
    let token = support::dev_token(&data, EMAIL, None);
    let dir = w.join("repo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(w.join("user")).unwrap();
    let repo = Repo {
        issuer: format!("{}/oidc", server.url()),
        w,
        dir,
        data,
        token,
    };
    ok(
        "trust init",
        &mut repo.sigil(&[
            "trust",
            "init",
            "--mirror",
            &format!("{}/tuf", server.url()),
            "--root",
            repo.data.join("tuf/repo/1.root.json").to_str().unwrap(),
        ]),
    );
    ok("git init", &mut repo.git(&["init", "-q", "-b", "main"]));
    ok("git config", &mut repo.git(&["config", "user.name", "Alice"]));
    ok("git config", &mut repo.git(&["config", "user.email", EMAIL]));
    (server, repo, tmp)
}

#[test]
fn signed_commits_and_tags_verify_with_git_and_sigil() {
    let (_server, r, _tmp) = setup();
    let out = ok("sigil git setup", &mut r.sigil(&["git", "setup"]));
    assert!(out.contains("gpg.format = x509"), "{out}");
    let program = ok("git config", &mut r.git(&["config", "--get", "gpg.x509.program"]));
    assert_eq!(Path::new(program.trim()), Path::new(SIGIL).canonicalize().unwrap());
    assert_eq!(
        ok("git config", &mut r.git(&["config", "--get", "commit.gpgsign"])).trim(),
        "true"
    );

    std::fs::write(r.dir.join("a.txt"), "one\n").unwrap();
    ok("git add", &mut r.git(&["add", "a.txt"]));
    ok("commit 1", &mut r.git(&["commit", "-q", "-m", "first"]));
    // The second commit asks for no identity: the agent still holds the key and certificate of the first.
    std::fs::write(r.dir.join("a.txt"), "two\n").unwrap();
    ok(
        "commit 2, no token",
        r.git(&["commit", "-q", "-am", "second"])
            .env_remove("SIGSTORE_ID_TOKEN"),
    );
    let cert = |rev: &str| signature_of(&r.cat(rev)).signer_der;
    assert_eq!(cert("HEAD"), cert("HEAD~1"), "one certificate for the burst");
    // The signature carries its log entry and the instance TSA's RFC 3161 token.
    let vm = signature_of(&r.cat("HEAD")).bundle.verification_material;
    assert_eq!(vm.tlog_entries.len(), 1);
    assert_eq!(
        vm.timestamp_verification_data.map(|t| t.rfc3161_timestamps.len()),
        Some(1)
    );
    ok("tag", &mut r.git(&["tag", "-m", "release one", "v1"]));
    assert!(r.cat("HEAD").contains("gpgsig -----BEGIN SIGNED MESSAGE-----"));
    let tag = ok("cat tag", &mut r.git(&["cat-file", "tag", "v1"]));
    assert!(tag.contains("-----BEGIN SIGNED MESSAGE-----"), "{tag}");

    // git itself, through `sigil` as its x509 program.
    for args in [
        vec!["verify-commit", "HEAD"],
        vec!["verify-commit", "HEAD~1"],
        vec!["verify-tag", "v1"],
    ] {
        let out = run(&mut r.git(&args));
        assert!(out.status.success(), "{}", out.show(&format!("git {args:?}")));
        assert!(
            out.stderr.contains(&format!("Good signature from {EMAIL}")),
            "{}",
            out.stderr
        );
    }
    let log = ok("git log", &mut r.git(&["log", "--show-signature", "-2"]));
    assert_eq!(log.matches(&format!("Good signature from {EMAIL}")).count(), 2, "{log}");

    // sigil with the identity: right, wrong SAN, wrong issuer, regexp.
    for rev in ["HEAD", "HEAD~1", "v1"] {
        let out = r.verify_commit(rev, EMAIL);
        assert!(out.status.success(), "{}", out.show(rev));
        assert!(out.stdout.contains("Verified OK"), "{}", out.stdout);
    }
    let wrong = r.verify_commit("HEAD", "mallory@example.test");
    assert_eq!(wrong.status.code(), Some(1), "{}", wrong.show("wrong identity"));
    assert!(wrong.stderr.contains("IDENTITY_MISMATCH"), "{}", wrong.stderr);
    let wrong_issuer = run(&mut r.sigil(&[
        "verify-commit",
        "HEAD",
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        "https://accounts.example.test",
    ]));
    assert_eq!(wrong_issuer.status.code(), Some(1));
    let regexp = run(&mut r.sigil(&[
        "verify-commit",
        "HEAD",
        "--certificate-identity-regexp",
        ".*@example\\.test",
        "--certificate-oidc-issuer",
        &r.issuer,
    ]));
    assert!(regexp.status.success(), "{}", regexp.show("regexp"));

    // An amended commit without a new signature is unsigned; the old signature grafted onto the amended
    // content (or onto another commit) does not verify.
    let head = r.cat("HEAD");
    let grafted = head.replace("second", "second, amended");
    let id = r.hash_object(grafted.as_bytes());
    let out = r.verify_commit(&id, EMAIL);
    assert_eq!(out.status.code(), Some(1), "{}", out.show("grafted"));
    let git_out = run(&mut r.git(&["verify-commit", &id]));
    assert!(
        !git_out.status.success(),
        "{}",
        git_out.show("git verify-commit grafted")
    );
    let first = r.cat("HEAD~1");
    let sig_of_head = &head[head.find("gpgsig ").unwrap()..head.find("\n\n").unwrap() + 1];
    let sig_of_first = &first[first.find("gpgsig ").unwrap()..first.find("\n\n").unwrap() + 1];
    let swapped = first.replace(sig_of_first, sig_of_head);
    let id = r.hash_object(swapped.as_bytes());
    assert_eq!(
        r.verify_commit(&id, EMAIL).status.code(),
        Some(1),
        "a signature copied onto another commit"
    );
    ok(
        "amend unsigned",
        &mut r.git(&["commit", "-q", "--amend", "--no-gpg-sign", "-m", "amended"]),
    );
    let out = r.verify_commit("HEAD", EMAIL);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.contains("not signed") || out.stderr.contains("unsigned"),
        "{}",
        out.stderr
    );
}

#[test]
fn hostile_commit_signatures_are_refused() {
    let (_server, r, _tmp) = setup();
    ok("sigil git setup", &mut r.sigil(&["git", "setup"]));
    ok("commit", &mut r.git(&["commit", "-q", "--allow-empty", "-m", "one"]));
    ok("commit", &mut r.git(&["commit", "-q", "--allow-empty", "-m", "two"]));
    let head = r.cat("HEAD");

    // G-01: ambiguous headers, each written verbatim into the object store.
    let tree_line = head.lines().next().unwrap().to_string();
    let author_line = head.lines().find(|l| l.starts_with("author ")).unwrap().to_string();
    let gpg_start = head.find("gpgsig ").unwrap();
    let gpg_end = head.find("\n\n").unwrap() + 1;
    let gpgsig = head[gpg_start..gpg_end].to_string();
    for (what, raw) in [
        (
            "two tree headers",
            head.replacen(&tree_line, &format!("{tree_line}\n{tree_line}"), 1),
        ),
        (
            "two author headers",
            head.replacen(&author_line, &format!("{author_line}\nauthor Mallory <m@x> 1 +0000"), 1),
        ),
        (
            "two gpgsig headers",
            head.replacen(&gpgsig, &format!("{gpgsig}{gpgsig}"), 1),
        ),
        (
            "a broken continuation",
            head.replacen("\n -----END SIGNED MESSAGE-----", "\n-----END SIGNED MESSAGE-----", 1),
        ),
    ] {
        let id = r.hash_object(raw.as_bytes());
        let out = r.verify_commit(&id, EMAIL);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", out.show(what));
    }

    // G-02: a CMS with no certificates, garbage DER, an empty armor: non-zero exit from sigil (never a panic:
    // exit 1, not 101) and from git through sigil.
    let (head_payload, _) = payload_and_signature(&head);
    let with_signature = |armored: &str| {
        let raw = sigil_git::object::signed_object(sigil_git::object::Kind::Commit, &head_payload, armored).unwrap();
        String::from_utf8(raw).unwrap()
    };
    let garbage = |body: &str| {
        with_signature(&format!(
            "-----BEGIN SIGNED MESSAGE-----\n{body}\n-----END SIGNED MESSAGE-----\n"
        ))
    };
    let no_certs = {
        // The real signature re-encoded without its certificates is built by the library test; here the DER
        // of an empty SignedData: ContentInfo{signedData, SignedData{1, {}, {data}, {}}}.
        use base64::Engine as _;
        let der = [
            0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x0d, 0x30, 0x0b, 0x02,
            0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0x31,
            0x00,
        ];
        base64::engine::general_purpose::STANDARD.encode(der)
    };
    for (what, body) in [
        ("zero certificates", no_certs.as_str()),
        ("garbage DER", "AAECAwQFBgcICQ=="),
        ("not base64", "!!!!"),
        ("empty", ""),
    ] {
        let id = r.hash_object(garbage(body).as_bytes());
        let out = r.verify_commit(&id, EMAIL);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", out.show(what));
        let g = run(&mut r.git(&["verify-commit", &id]));
        assert!(!g.status.success(), "git verify-commit, {what}: {}", g.show(what));
        assert!(!g.stderr.contains("panicked"), "{}", g.stderr);
    }

    // G-04: two commits signed under one cached certificate; the log entry of one moved into the other's
    // signature does not verify: each signature is bound to its own entry (the body is recomputed from it).
    let first = r.cat("HEAD~1");
    let (p2, s2) = payload_and_signature(&head);
    let (p1, s1) = payload_and_signature(&first);
    let b2 = sigil_git::cms::to_bundle(&s2, &p2).unwrap();
    let b1 = sigil_git::cms::to_bundle(&s1, &p1).unwrap();
    assert_eq!(b1.signer_der, b2.signer_der, "both commits under one certificate");
    let mut moved = b2.bundle.clone();
    moved.verification_material.tlog_entries = b1.bundle.verification_material.tlog_entries.clone();
    let forged = sigil_git::cms::assemble(&b2.signed_attrs, &moved).unwrap();
    let id = r.hash_object(with_signature(&forged).as_bytes());
    let out = r.verify_commit(&id, EMAIL);
    assert_eq!(out.status.code(), Some(1), "{}", out.show("moved log entry"));
    assert!(out.stderr.contains("TLOG_BODY_MISMATCH"), "{}", out.stderr);

    // G-05: log keys come only from the trusted root: with another key for the same log, the commit fails.
    let mut root: Value = read_json(&r.data.join("trusted_root.json"));
    for t in root["tlogs"].as_array_mut().unwrap() {
        let k = sigil_crypto::SigningKey::generate(sigil_crypto::KeyAlgorithm::EcdsaP256).unwrap();
        let spki = sigil_crypto::Signer::public_key(&k).spki_der().to_vec();
        t["publicKey"]["rawBytes"] = json!(sigil_bundle::encoding::encode_base64(&spki));
    }
    let other = r.w.join("other-root.json");
    write_json(&other, &root);
    let out = run(&mut r.sigil(&[
        "verify-commit",
        "HEAD",
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        &r.issuer,
        "--trusted-root",
        other.to_str().unwrap(),
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", out.show("other log key"));
    assert!(
        r.verify_commit("HEAD", EMAIL).status.success(),
        "the real root still verifies it"
    );
}

#[test]
fn online_mode_binds_the_log_entry_to_the_object_id() {
    let (_server, r, _tmp) = setup();
    ok("sigil git setup", &mut r.sigil(&["git", "setup"]));
    ok(
        "commit, online mode",
        r.git(&["commit", "-q", "--allow-empty", "-m", "online"])
            .env("SIGIL_GIT_REKOR_MODE", "online"),
    );
    let head = r.cat("HEAD");
    let o = sigil_git::object::parse(sigil_git::object::Kind::Commit, head.as_bytes()).unwrap();
    let parsed = sigil_git::cms::to_bundle(&o.signature, &o.payload).unwrap();
    assert!(
        parsed.bundle.verification_material.tlog_entries.is_empty(),
        "online mode: no log entry inside the signature"
    );
    // The log's search index is updated in the background: give it a moment.
    let mut out = r.verify_commit("HEAD", EMAIL);
    for _ in 0..50 {
        if out.status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        out = r.verify_commit("HEAD", EMAIL);
    }
    assert!(out.status.success(), "{}", out.show("verify-commit, online"));
    let g = run(&mut r.git(&["verify-commit", "HEAD"]));
    assert!(g.status.success(), "{}", g.show("git verify-commit, online"));
    assert!(
        g.stderr.contains(&format!("Good signature from {EMAIL}")),
        "{}",
        g.stderr
    );
    assert_eq!(r.verify_commit("HEAD", "mallory@example.test").status.code(), Some(1));

    // The same valid CMS signature in another object (its armor wrapped at another width: the payload and
    // the signature are unchanged, the object ID is not). The log holds an entry for this certificate, but
    // not for this object: refused (G-04, never "any entry for this certificate").
    let b64: String = o
        .signature
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let mut armor = String::from("-----BEGIN SIGNED MESSAGE-----\n");
    for chunk in b64.as_bytes().chunks(48) {
        armor.push_str(std::str::from_utf8(chunk).unwrap());
        armor.push('\n');
    }
    armor.push_str("-----END SIGNED MESSAGE-----\n");
    assert!(
        sigil_git::cms::to_bundle(&armor, &o.payload).is_ok(),
        "still the same valid signature"
    );
    let raw = sigil_git::object::signed_object(sigil_git::object::Kind::Commit, &o.payload, &armor).unwrap();
    let id = r.hash_object(&raw);
    let out = r.verify_commit(&id, EMAIL);
    assert_eq!(out.status.code(), Some(1), "{}", out.show("rewrapped"));
    assert!(out.stderr.contains("TLOG_ENTRY_MISSING"), "{}", out.stderr);
}
