#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil tuf …` as an operator uses it: what each command prints and writes, refusals that change nothing,
//! and `sigil serve` taking over a repository made with `sigil tuf init` and re-signing its timestamp in the
//! background before it expires.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{SIGIL, Server, cmd, fails, http, ok, read_json, serve_dev_command};

fn tuf(dir: &Path, args: &[&str]) -> std::process::Command {
    let mut c = cmd(SIGIL);
    c.arg("tuf")
        .args(args)
        .arg("--repo")
        .arg(dir)
        .env("SIGIL_TUF_PASSWORD", "pw");
    c
}

/// Every file under `dir` with its bytes, sorted.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn version(dir: &Path, file: &str) -> u64 {
    read_json(&dir.join("repo").join(file))["signed"]["version"]
        .as_u64()
        .unwrap()
}

#[test]
fn init_add_rotate_resign_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tuf");
    let root_file = tmp.path().join("trusted_root.json");
    std::fs::write(&root_file, b"{\"v\": 1}").unwrap();

    // No password and no terminal: refused before anything is created.
    let mut c = tuf(&dir, &["init"]);
    c.env_remove("SIGIL_TUF_PASSWORD");
    let r = fails("init without a password", &mut c);
    assert!(r.stderr.contains("SIGIL_TUF_PASSWORD"), "{}", r.stderr);
    assert!(!dir.join("keys").exists());

    let out = ok(
        "init",
        tuf(&dir, &["init", "--key-type", "ecdsa-p256", "--timestamp-expires", "2"])
            .arg("--target")
            .arg(&root_file),
    );
    for line in [
        "signed targets version 1",
        "signed snapshot version 1",
        "signed root version 1",
        "signed timestamp version 1",
        "target trusted_root.json",
        "1.root.json",
    ] {
        assert!(out.contains(line), "{line:?} in {out}");
    }
    let root = read_json(&dir.join("repo/1.root.json"));
    let keys = root["signed"]["keys"].as_object().unwrap();
    assert_eq!(keys.len(), 4);
    assert!(
        keys.values()
            .all(|k| k["keytype"] == "ecdsa" && k["scheme"] == "ecdsa-sha2-nistp256")
    );
    assert_eq!(
        read_json(&dir.join("config.json"))["lifetimes"]["timestamp"],
        2 * 86_400
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("keys/root.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }

    // Refusals: nothing changes.
    let before = tree(&dir);
    fails("init again", &mut tuf(&dir, &["init"]));
    for bad in ["../evil", "/abs", "a/../b", "%2e%2e", ".hidden", "a\\b"] {
        let r = fails(
            "unsafe target name",
            tuf(&dir, &["add-target", "--name", bad]).arg(&root_file),
        );
        assert!(
            r.stderr.contains("refused") || r.stderr.contains("not published"),
            "{bad}: {}",
            r.stderr
        );
    }
    let mut c = tuf(&dir, &["add-target"]);
    c.arg(&root_file).env("SIGIL_TUF_PASSWORD", "wrong");
    let r = fails("wrong password", &mut c);
    assert!(r.stderr.contains("key file"), "{}", r.stderr);
    fails(
        "missing file",
        tuf(&dir, &["add-target"]).arg(tmp.path().join("absent")),
    );
    fails("unknown target", &mut tuf(&dir, &["remove-target", "nope.json"]));
    fails("zero expiry", &mut tuf(&dir, &["resign", "--expires", "0"]));
    fails("bad role", &mut tuf(&dir, &["rotate-key", "--role", "mirror"]));
    fails("not a repository", &mut tuf(&tmp.path().join("nothing"), &["status"]));
    assert_eq!(tree(&dir), before);

    // Same content again: nothing changes; new content: targets, snapshot, timestamp 2.
    let out = ok("same target", tuf(&dir, &["add-target"]).arg(&root_file));
    assert!(
        out.contains("already has this content") && out.contains("nothing changed"),
        "{out}"
    );
    std::fs::write(&root_file, b"{\"v\": 2}").unwrap();
    let out = ok("new target", tuf(&dir, &["add-target"]).arg(&root_file));
    assert!(
        out.contains("signed targets version 2") && out.contains("signed timestamp version 2"),
        "{out}"
    );

    let out = ok("rotate root", &mut tuf(&dir, &["rotate-key", "--role", "root"]));
    assert!(out.contains("signed root version 2"), "{out}");
    assert!(dir.join("keys/root.key.old.2").is_file());
    let v2 = read_json(&dir.join("repo/2.root.json"));
    assert_eq!(v2["signatures"].as_array().unwrap().len(), 2);

    let out = ok(
        "resign",
        &mut tuf(&dir, &["resign", "--role", "snapshot", "--expires", "3"]),
    );
    assert!(
        out.contains("signed snapshot version 3") && out.contains("signed timestamp version 3"),
        "{out}"
    );
    let out = ok("resign timestamp", &mut tuf(&dir, &["resign"]));
    assert!(out.contains("signed timestamp version 4"), "{out}");
    assert_eq!(version(&dir, "timestamp.json"), 4);

    let out = ok("status", &mut tuf(&dir, &["status"]));
    assert!(
        out.contains("root      version 2") && out.contains("target trusted_root.json"),
        "{out}"
    );

    let out = ok("remove", &mut tuf(&dir, &["remove-target", "trusted_root.json"]));
    assert!(out.contains("signed targets version 3"), "{out}");
}

#[test]
fn serve_takes_over_a_repository_and_keeps_its_timestamp_fresh() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("instance");
    let dir = data.join("tuf");
    ok("init", &mut tuf(&dir, &["init"]));
    // A timestamp lifetime of 8 s: serve checks every second and re-signs with less than 4 s left.
    let config = dir.join("config.json");
    let mut c = read_json(&config);
    c["lifetimes"]["timestamp"] = 8.into();
    std::fs::write(&config, serde_json::to_vec(&c).unwrap()).unwrap();

    let mut serve = serve_dev_command(&data);
    serve.env("SIGIL_TUF_PASSWORD", "pw");
    let server = Server::start(serve, &tmp.path().join("serve.stderr"), Duration::from_secs(60));
    // The trust files became targets 2.
    let targets = read_json(&dir.join("repo/2.targets.json"));
    assert!(targets["signed"]["targets"]["trusted_root.json"].is_object());
    let first = version(&dir, "timestamp.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while version(&dir, "timestamp.json") < first + 2 {
        assert!(Instant::now() < deadline, "the timestamp was not re-signed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = http(&server.addr, "GET", "/tuf/timestamp.json", None).unwrap();
    assert_eq!(r.status, 200);
    drop(server);

    // With the wrong password serve refuses to start rather than publish nothing silently.
    let mut serve = serve_dev_command(&data);
    serve.env("SIGIL_TUF_PASSWORD", "wrong");
    let o = support::run_logged(serve, &tmp.path().join("wrong.log"), Duration::from_secs(60));
    assert!(o.status.is_some_and(|s| !s.success()), "{}", o.detail);
    assert!(
        std::fs::read_to_string(tmp.path().join("wrong.log"))
            .unwrap()
            .contains("key file")
    );

    // --dev without a password over keys that have one: the repository is served as it is, not re-signed.
    let serve = serve_dev_command(&data);
    let log = tmp.path().join("readonly.stderr");
    let server = Server::start(serve, &log, Duration::from_secs(60));
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(stderr.contains("without re-signing"), "{stderr}");
    let v = version(&dir, "timestamp.json");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(version(&dir, "timestamp.json"), v);
    let r = http(&server.addr, "GET", "/tuf/1.root.json", None).unwrap();
    assert_eq!(r.status, 200);
    drop(server);
}
