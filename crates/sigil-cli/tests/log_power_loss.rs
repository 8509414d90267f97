#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SECURITY.md L-13: power loss during a 10k-entry load. There is no fault-injecting file system or dm-flakey
//! here, so power loss is modelled by auditing the system calls of the real server: `sigil log serve` runs under
//! `strace -f`, is driven with 10,000 signed submissions from 32 threads, and the trace is replayed afterwards.
//! The replay tracks, for every file and directory under the data directory, what is not yet durable (a file is
//! dirty from a write/ftruncate until an fsync/fdatasync of it; a directory from a create/rename/unlink/mkdir/rmdir
//! in it until an fsync of it). Dropping every un-fsynced page at the instant a `HTTP/1.1 201` starts to go out
//! must lose nothing that answer acknowledges: the 201 is matched to its entry (the entry ID at the start of the
//! body gives the leaf hash, the client's copy of the answer its index), and every change made up to the commit of
//! the first checkpoint covering that index (the end of the fdatasync of `checkpoint.slots` after its write) must
//! be durable by then. Renaming a file that is not fsynced is a violation on its own. Copies of the real trace with
//! fsyncs removed must fail the same audit.
//!
//! Exempt (derived data, or garbage recovery removes): files under `DIR/tmp/` (temp files not renamed yet; open
//! clears the directory), the redb files `dedup.redb` (index.rs: "derived data … re-read from [level-0
//! tiles] at open", per-batch commits are deliberately non-durable) and `search.redb` (search.rs: best-effort,
//! resumes from the size it recorded), and the copies kept for static servers that open rewrites from the journal
//! and the slot file (journal.rs): the level-0 partial tiles `tile/0/<N>.p/<W>`, the partial entry bundles
//! `tile/entries/<N>.p/<W>` and the text `checkpoint`; with their directory entries. Changes made after that
//! checkpoint's commit belong to later, not yet acknowledged batches (answers of one batch go out while the next
//! is written) and may still be pending.
//!
//! After the load the server is stopped (SIGTERM), restarted without strace, and the L-12 invariants are checked:
//! every acknowledged entry is read back by index with the same leaf hash, the tree re-derived from the tiles
//! matches the checkpoint and the API's tree head, nothing is in the tree twice.
//!
//! `cargo test -p sigil-cli --test log_power_loss -- --nocapture` prints the counts.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use sigil_bundle::encoding::decode_base64;
use sigil_tlog::{Hash, SignedCheckpoint, hash_leaf};
use support::{EntrySigner, SIGIL, Server, http, rederive_tree, serve_command};
/// Acknowledged submissions to drive (the row asks for a 10k-entry load).
const TARGET: u64 = 10_000;
const WORKERS: usize = 32;
const SYSCALLS: &str = "openat,open,creat,write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,rename,renameat,\
                        renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat,ftruncate,fallocate,sendto,sendmsg";

// ---------- the trace audit ----------

/// The durability state replayed from an `strace -f -y` trace.
#[derive(Default)]
struct Audit {
    /// The data directory (absolute, no trailing slash).
    dir: String,
    seq: u64,
    /// pid → (syscall, arguments so far, sequence number of its start) of an `<unfinished ...>` call.
    unfinished: HashMap<u32, (String, String, u64)>,
    /// Files under the data directory written since their last effective fsync (or still tracked).
    files: HashMap<String, FileState>,
    /// directory → entry name → sequence number of the change not yet made durable.
    dirs: HashMap<String, BTreeMap<String, u64>>,
    /// (sequence number of the end of the fdatasync that made it durable, tree size) of every checkpoint committed.
    checkpoints: Vec<(u64, u64)>,
    /// Tree size last written into `checkpoint.slots`, not yet made durable.
    staged_checkpoint: Option<u64>,
    /// First 14 hex digits of a leaf hash → its index (from the clients' 201s): identifies the entry a 201 in the
    /// trace answers (its body starts `{"<16 hex tree ID><leaf hash hex>`, which `-s 32` shows 14 digits of).
    leaf_index: HashMap<String, u64>,
    acks: u64,
    renames: u64,
    dir_fsyncs: u64,
    /// Largest checkpoint size an audited 201 depended on.
    acked_sizes: u64,
    fsyncs: u64,
    violations: Vec<String>,
}

#[derive(Default, Clone)]
struct FileState {
    /// Written since its last effective fsync (the sequence number of the first such write).
    dirty_since: Option<u64>,
    last_write_start: u64,
    writes_in_flight: u32,
}

/// The quoted strings of an strace argument list (escapes kept, except `\"` and `\\`).
fn quoted(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = args.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('"' | '\\')) => s.push(e),
                    Some(e) => {
                        s.push('\\');
                        s.push(e);
                    }
                    None => break,
                },
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

/// The path `-y` annotates the first fd argument with (`12</a/b>`), or `None` (sockets, pipes).
fn fd_path(args: &str) -> Option<String> {
    let head = args.split(['"', '[']).next()?;
    let start = head.find('<')? + 1;
    let end = start + head[start..].find('>')?;
    let p = &head[start..end];
    p.starts_with('/').then(|| p.trim_end_matches(" (deleted)").to_owned())
}

fn parent(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some((d, n)) => (d.to_owned(), n.to_owned()),
        None => (String::new(), path.to_owned()),
    }
}

impl Audit {
    fn new(dir: &Path, acked: &[(u64, Hash)]) -> Self {
        Self {
            dir: dir.to_str().unwrap().trim_end_matches('/').to_owned(),
            leaf_index: acked
                .iter()
                .map(|(i, h)| (hex::encode(h)[..14].to_owned(), *i))
                .collect(),
            ..Self::default()
        }
    }

    fn under(&self, path: &str) -> bool {
        path == self.dir || path.starts_with(&format!("{}/", self.dir))
    }

    /// Derived data and temp files: losing their pages (or directory entries) loses nothing acknowledged.
    fn exempt(&self, path: &str) -> bool {
        let name = parent(path).1;
        let static_copy = ["tile/0/", "tile/entries/"].iter().any(|prefix| {
            path.strip_prefix(&format!("{}/{prefix}", self.dir))
                .and_then(|rest| rest.split('/').next())
                .is_some_and(|tile| tile.ends_with(".p"))
        });
        path.starts_with(&format!("{}/tmp/", self.dir))
            || path == format!("{}/tmp", self.dir)
            || ((name == "dedup.redb" || name == "search.redb" || name == "checkpoint") && parent(path).0 == self.dir)
            || static_copy
    }

    fn checkpoint_slots(&self) -> String {
        format!("{}/checkpoint.slots", self.dir)
    }

    /// A path argument made absolute (relative ones against the annotated dirfd).
    fn abs_path(args: &str, p: &str) -> String {
        let p = if p.starts_with('/') {
            p.to_owned()
        } else {
            format!("{}/{p}", fd_path(args).unwrap_or_default())
        };
        let p = p.trim_end_matches('/');
        if p.is_empty() { "/".to_owned() } else { p.to_owned() }
    }

    fn feed(&mut self, text: &str) {
        for line in text.lines() {
            self.line(line);
        }
    }

    fn line(&mut self, line: &str) {
        self.seq += 1;
        let seq = self.seq;
        let Some((pid, rest)) = line.split_once(' ') else {
            return;
        };
        let Ok(pid) = pid.parse::<u32>() else { return };
        let rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<... ") {
            let Some((name, tail)) = r.split_once(" resumed>") else {
                return;
            };
            let Some((n, args, start)) = self.unfinished.remove(&pid) else {
                return;
            };
            if n != name {
                return;
            }
            self.finish(&n, &format!("{args}{tail}"), start, seq);
            return;
        }
        let Some(open) = rest.find('(') else { return };
        let name = &rest[..open];
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return;
        }
        let body = &rest[open + 1..];
        self.start(name, body, seq);
        if let Some(args) = body.strip_suffix(" <unfinished ...>") {
            self.unfinished.insert(pid, (name.to_owned(), args.to_owned(), seq));
        } else {
            self.finish(name, body, seq, seq);
        }
    }

    /// At a call's start: writes dirty their file, a `201` is checked.
    fn start(&mut self, name: &str, args: &str, seq: u64) {
        match name {
            "write" | "pwrite64" | "writev" | "pwritev" | "pwritev2" | "ftruncate" | "fallocate" | "sendto"
            | "sendmsg" => {}
            _ => return,
        }
        match fd_path(args) {
            Some(p) if self.under(&p) => {
                if p == self.checkpoint_slots() {
                    // A slot starts with the note: `<origin>\n<size>\n<root>\n...` (escaped by strace)
                    let text = quoted(args).into_iter().next().unwrap_or_default();
                    match text.split("\\n").nth(1).and_then(|n| n.parse().ok()) {
                        Some(size) => self.staged_checkpoint = Some(size),
                        None => self.violations.push(format!(
                            "trace line {seq}: a checkpoint of unknown size was written ({text:?})"
                        )),
                    }
                }
                let f = self.files.entry(p).or_default();
                f.dirty_since.get_or_insert(seq);
                f.last_write_start = seq;
                f.writes_in_flight += 1;
            }
            Some(_) => {}
            None => {
                if quoted(args).first().is_some_and(|s| s.starts_with("HTTP/1.1 201")) {
                    self.ack(seq, args);
                }
            }
        }
    }

    /// A 201 starts going out: the entry it answers, and everything up to the first checkpoint covering it, must
    /// be durable.
    fn ack(&mut self, seq: u64, args: &str) {
        self.acks += 1;
        let body = quoted(args).get(1).cloned().unwrap_or_default();
        let prefix = body.strip_prefix("{\"").and_then(|b| b.get(16..30));
        let Some(&index) = prefix.and_then(|p| self.leaf_index.get(p)) else {
            self.violations.push(format!(
                "trace line {seq}: a 201 whose entry cannot be identified (body {body:?})"
            ));
            return;
        };
        let covering = self.checkpoints.iter().find(|(_, size)| *size > index);
        let Some(&(cp, size)) = covering else {
            self.violations.push(format!(
                "trace line {seq}: a 201 for entry {index} before any checkpoint covering it was written"
            ));
            return;
        };
        self.acked_sizes = self.acked_sizes.max(size);
        let mut found = Vec::new();
        for (path, f) in &self.files {
            if let Some(since) = f.dirty_since {
                if since <= cp && !self.exempt(path) {
                    found.push(format!("file {path} written at line {since}, not fsynced"));
                }
            }
        }
        for (dir, pending) in &self.dirs {
            for (entry, at) in pending {
                let p = format!("{dir}/{entry}");
                if *at <= cp && !self.exempt(&p) && !self.exempt(dir) {
                    found.push(format!(
                        "directory {dir}: entry {entry:?} changed at line {at}, not fsynced"
                    ));
                }
            }
        }
        found.sort();
        for f in found.into_iter().take(5) {
            self.violations.push(format!(
                "trace line {seq}: HTTP 201 (checkpoint committed at line {cp}) while {f}"
            ));
        }
    }

    fn dir_change(&mut self, path: &str, seq: u64) {
        if self.under(path) && path != self.dir {
            let (d, n) = parent(path);
            self.dirs.entry(d).or_default().insert(n, seq);
        }
    }

    /// At a call's end (`args` includes ` = <result>`): syncs and namespace changes take effect.
    fn finish(&mut self, name: &str, args: &str, start: u64, seq: u64) {
        // strace pads the result to a column: `...)   = 0`.
        let Some((call_args, result)) = args.rsplit_once(" = ") else {
            return;
        };
        let Some(call_args) = call_args.trim_end().strip_suffix(')') else {
            return;
        };
        let ok = !result.trim_start().starts_with('-') && !result.trim_start().starts_with('?');
        match name {
            "write" | "pwrite64" | "writev" | "pwritev" | "pwritev2" | "ftruncate" | "fallocate" => {
                if let Some(p) = fd_path(call_args) {
                    if let Some(f) = self.files.get_mut(&p) {
                        f.writes_in_flight = f.writes_in_flight.saturating_sub(1);
                    }
                }
            }
            "fsync" | "fdatasync" if ok => {
                let Some(p) = fd_path(call_args) else { return };
                if !self.under(&p) {
                    return;
                }
                self.fsyncs += 1;
                let committing = p == self.checkpoint_slots();
                if let Some(f) = self.files.get_mut(&p) {
                    // Only what was fully written before the fsync started is covered by it.
                    if f.last_write_start < start && f.writes_in_flight == 0 {
                        f.dirty_since = None;
                        if committing {
                            if let Some(size) = self.staged_checkpoint.take() {
                                self.checkpoints.push((seq, size));
                            }
                        }
                    }
                }
                if let Some(pending) = self.dirs.get_mut(&p) {
                    self.dir_fsyncs += 1;
                    pending.retain(|_, at| *at >= start);
                }
            }
            _ if !ok => {}
            "rename" | "renameat" | "renameat2" => {
                let q = quoted(call_args);
                let (Some(from), Some(to)) = (q.first(), q.get(1)) else {
                    return;
                };
                let (from, to) = (Self::abs_path(call_args, from), Self::abs_path(call_args, to));
                if !self.under(&to) && !self.under(&from) {
                    return;
                }
                self.renames += 1;
                let state = self.files.remove(&from).unwrap_or_default();
                if let Some(since) = state.dirty_since {
                    if !self.exempt(&to) {
                        self.violations.push(format!(
                            "trace line {seq}: {from} renamed onto {to} while not fsynced since its write at line \
                             {since}"
                        ));
                    }
                }
                self.files.insert(to.clone(), state);
                self.dir_change(&from, seq);
                self.dir_change(&to, seq);
            }
            "unlink" | "unlinkat" | "rmdir" => {
                let Some(p) = quoted(call_args).into_iter().next() else {
                    return;
                };
                let p = Self::abs_path(call_args, &p);
                let prefix = format!("{p}/");
                self.files.retain(|k, _| *k != p && !k.starts_with(&prefix));
                self.dirs.retain(|k, _| *k != p && !k.starts_with(&prefix));
                self.dir_change(&p, seq);
            }
            "mkdir" | "mkdirat" | "creat" => {
                let Some(p) = quoted(call_args).into_iter().next() else {
                    return;
                };
                let p = Self::abs_path(call_args, &p);
                self.dir_change(&p, seq);
            }
            "open" | "openat" if call_args.contains("O_CREAT") => {
                let Some(p) = quoted(call_args).into_iter().next() else {
                    return;
                };
                let p = Self::abs_path(call_args, &p);
                self.dir_change(&p, seq);
            }
            _ => {}
        }
    }
}

// ---------- the server under strace ----------

fn strace_available() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------- load ----------

/// Submits signed hashedrekord entries until `TARGET` are acknowledged overall; returns (index, leaf hash) of
/// each 201.
fn worker(id: usize, addr: &str, done: &AtomicU64, acked: &Mutex<Vec<(u64, Hash)>>, failures: &Mutex<Vec<String>>) {
    let signer = EntrySigner::new();
    let mut seq = 0u64;
    while done.fetch_add(1, SeqCst) < TARGET {
        seq += 1;
        let artifact = format!("sigil power-loss test worker {id} entry {seq}");
        let (request, _) = signer.hashedrekord(artifact.as_bytes());
        loop {
            match http(addr, "POST", "/api/v1/log/entries", Some(&request)) {
                Ok(r) if r.status == 201 => {
                    let v = r.json();
                    let entry = v.as_object().unwrap().values().next().unwrap();
                    let body = decode_base64(entry["body"].as_str().unwrap()).unwrap();
                    let index = entry["logIndex"].as_u64().unwrap();
                    acked.lock().unwrap().push((index, hash_leaf(&body)));
                    break;
                }
                Ok(r) if r.status == 429 || r.status == 503 => std::thread::sleep(Duration::from_millis(10)),
                Ok(r) => {
                    failures.lock().unwrap().push(format!(
                        "submission answered {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    ));
                    return;
                }
                Err(e) => {
                    failures.lock().unwrap().push(format!("submission failed: {e}"));
                    return;
                }
            }
        }
    }
}

#[test]
fn power_loss_audit_under_load() {
    let began = Instant::now();
    assert!(
        strace_available(),
        "L-13 needs `strace` on PATH (Debian/Ubuntu: `apt-get install -y strace`; `cargo xtask test` tries to \
         install it). The test does not skip without it."
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let trace = tmp.path().join("trace.txt");
    let stderr_log = tmp.path().join("stderr.txt");

    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-y", "--seccomp-bpf", "-s", "32", "-e"])
        .arg(format!("trace={SYSCALLS}"))
        .arg("-o")
        .arg(&trace)
        .arg("--")
        .arg(SIGIL)
        .args(["log", "serve", "--data-dir"])
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0"]);
    let mut server = Server::start(cmd, &stderr_log, Duration::from_secs(60));
    let addr = server.addr.clone();

    let done = AtomicU64::new(0);
    let acked = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for id in 0..WORKERS {
            let (addr, done, acked, failures) = (&addr, &done, &acked, &failures);
            s.spawn(move || worker(id, addr, done, acked, failures));
        }
    });
    let load_time = began.elapsed();
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    let acked = acked.into_inner().unwrap();

    // Stop the server cleanly (SIGTERM to sigil, the child of strace); strace exits with it, trace complete.
    let strace_pid = server.child.id();
    let children = std::fs::read_to_string(format!("/proc/{strace_pid}/task/{strace_pid}/children")).unwrap();
    let sigil_pid = children
        .split_whitespace()
        .next()
        .expect("strace has no child")
        .to_owned();
    assert!(
        Command::new("kill")
            .args(["-TERM", &sigil_pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.child.wait().unwrap();
    assert!(status.success(), "strace/sigil exited with {status:?}");

    let text = std::fs::read_to_string(&trace).unwrap();
    if let Some(keep) = std::env::var_os("SIGIL_POWER_LOSS_TRACE") {
        std::fs::write(keep, &text).unwrap();
    }
    let mut audit = Audit::new(&dir, &acked);
    audit.feed(&text);
    println!(
        "L-13: {} acknowledgements audited (covered by checkpoints up to size {}), {} trace lines, {} \
         fsync/fdatasync of log files ({} of directories), {} renames, {} checkpoints committed, {} violations; \
         load {:.1?}",
        audit.acks,
        audit.acked_sizes,
        audit.seq,
        audit.fsyncs,
        audit.dir_fsyncs,
        audit.renames,
        audit.checkpoints.len(),
        audit.violations.len(),
        load_time
    );
    // The replay must have seen the write path at all (a parser that matches nothing would pass vacuously).
    assert!(
        audit.renames > 0 && audit.dir_fsyncs > 0 && audit.checkpoints.len() > 1,
        "nothing audited"
    );
    // The same trace with fsyncs removed must fail the audit: the replay is not vacuous on real data.
    let d = dir.to_str().unwrap();
    type DropLine<'a> = Box<dyn Fn(&str) -> bool + 'a>;
    let mutations: [(&str, DropLine<'_>, &str); 5] = [
        (
            "no fdatasync of integrated-times",
            Box::new(|l: &str| l.contains("fdatasync(") && l.contains("/integrated-times>")),
            "integrated-times",
        ),
        (
            "no fdatasync of the journal",
            Box::new(|l: &str| l.contains("fdatasync(") && l.contains("/journal/")),
            "/journal/",
        ),
        (
            "no fdatasync of the checkpoint's slot file",
            Box::new(|l: &str| l.contains("fdatasync(") && l.contains("/checkpoint.slots>")),
            "before any checkpoint covering it",
        ),
        (
            "no directory fsyncs under tile/",
            Box::new(move |l: &str| l.contains("fsync(") && l.contains(&format!("{d}/tile"))),
            "directory",
        ),
        (
            "no fsync of temp files",
            Box::new(move |l: &str| l.contains("fsync(") && l.contains(&format!("{d}/tmp/"))),
            "renamed onto",
        ),
    ];
    for (what, drop, expect) in &mutations {
        let mutated: String = text.lines().filter(|l| !drop(l)).flat_map(|l| [l, "\n"]).collect();
        let mut m = Audit::new(&dir, &acked);
        m.feed(&mutated);
        assert!(
            m.violations.iter().any(|v| v.contains(expect)),
            "the audit missed a trace with {what}: {:?}",
            m.violations.first()
        );
    }
    assert!(
        audit.violations.is_empty(),
        "acknowledged state not durable:\n{}",
        audit.violations.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        audit.acks,
        acked.len() as u64,
        "every 201 the clients saw must be in the trace"
    );
    assert!(acked.len() as u64 >= TARGET);

    // L-12 invariants after a clean stop: restart without strace, re-derive the tree from the tiles.
    let server = Server::start(serve_command(&dir), &stderr_log, Duration::from_secs(60));
    let cp_text = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    let cp = SignedCheckpoint::parse(&cp_text).unwrap();
    let (size, root) = (cp.checkpoint.size, cp.checkpoint.root_hash);
    let from_disk = |path: &str| std::fs::read(dir.join(path)).map_err(|e| format!("{path}: {e}"));
    let (leaves, _) = rederive_tree(size, &root, &from_disk, "after the power-loss run");
    let mut seen = HashMap::new();
    for (i, l) in leaves.iter().enumerate() {
        assert!(seen.insert(*l, i).is_none(), "leaf {i} is in the tree twice");
    }
    let head = http(&server.addr, "GET", "/api/v1/log", None).unwrap().json();
    assert_eq!(head["treeSize"].as_u64(), Some(size));
    assert_eq!(head["rootHash"].as_str(), Some(hex::encode(root).as_str()));
    for (index, leaf) in &acked {
        assert_eq!(
            leaves.get(usize::try_from(*index).unwrap()),
            Some(leaf),
            "acknowledged entry {index}"
        );
    }
    // Every acknowledged entry read back through the API by index.
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = usize::try_from(next.fetch_add(1, SeqCst)).unwrap();
                    let Some((index, leaf)) = acked.get(i) else { break };
                    let r = http(
                        &server.addr,
                        "GET",
                        &format!("/api/v1/log/entries?logIndex={index}"),
                        None,
                    )
                    .unwrap();
                    assert_eq!(r.status, 200, "entry {index}");
                    let v = r.json();
                    let entry = v.as_object().unwrap().values().next().unwrap();
                    let body = decode_base64(entry["body"].as_str().unwrap()).unwrap();
                    assert_eq!(hash_leaf(&body), *leaf, "entry {index} read back by index");
                }
            });
        }
    });
    println!(
        "L-13: tree size {size}, {} acknowledged entries read back, total {:.1?}",
        acked.len(),
        began.elapsed()
    );
}

// ---------- the audit can fail ----------

#[cfg(test)]
mod audit_self_test {
    use super::Audit;
    use std::path::Path;

    const LEAF: [u8; 32] = [0xab; 32];

    const GOOD: &str = r#"1 openat(AT_FDCWD</>, "/d/journal/0", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 7</d/journal/0>
1 write(7</d/journal/0>, "\0\3abc", 5) = 5
1 fdatasync(7</d/journal/0>) = 0
1 openat(AT_FDCWD</>, "/d/journal", O_RDONLY|O_CLOEXEC) = 6</d/journal>
1 fsync(6</d/journal> <unfinished ...>
3 writev(16<socket:[1]>, [{iov_base="HTTP/1.1 200 OK\r\n"..., iov_len=1}], 1) = 1
1 <... fsync resumed>) = 0
1 openat(AT_FDCWD</>, "/d/tmp/1.0.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 5</d/tmp/1.0.tmp>
1 write(5</d/tmp/1.0.tmp>, "abc", 3) = 3
1 fsync(5</d/tmp/1.0.tmp>) = 0
1 rename("/d/tmp/1.0.tmp", "/d/tile/0/000") = 0
1 openat(AT_FDCWD</>, "/d/tile/0", O_RDONLY|O_CLOEXEC) = 6</d/tile/0>
1 fsync(6</d/tile/0>) = 0
1 openat(AT_FDCWD</>, "/d/tmp/1.1.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 5</d/tmp/1.1.tmp>
1 write(5</d/tmp/1.1.tmp>, "abc", 3) = 3
1 rename("/d/tmp/1.1.tmp", "/d/tile/entries/001.p/1") = 0
2 pwrite64(9</d/dedup.redb>, "zz", 2, 0) = 2
1 write(10</d/signer-hwm>, "1\nq83vq83v"..., 4096) = 4096
1 write(8</d/checkpoint.slots>, "127.0.0.1\n1\nq83vq83v"..., 4096) = 4096
1 fdatasync(10</d/signer-hwm>) = 0
1 fdatasync(8</d/checkpoint.slots>) = 0
1 openat(AT_FDCWD</>, "/d/tmp/1.2.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 5</d/tmp/1.2.tmp>
1 write(5</d/tmp/1.2.tmp>, "127.0.0.1\n1\nq83vq83v"..., 90) = 90
1 rename("/d/tmp/1.2.tmp", "/d/checkpoint") = 0
1 openat(AT_FDCWD</>, "/d/tmp/1.3.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 5</d/tmp/1.3.tmp>
1 write(5</d/tmp/1.3.tmp>, "abc", 3) = 3
3 writev(16<socket:[1]>, [{iov_base="HTTP/1.1 201 Created\r\ncontent-t"..., iov_len=1}, {iov_base="{\"0123456789abcdefabababababababab"..., iov_len=9}], 2) = 10
"#;

    fn run(trace: &str) -> Audit {
        let mut a = Audit::new(Path::new("/d"), &[(0, LEAF)]);
        a.feed(trace);
        a
    }

    #[test]
    fn a_durable_trace_passes() {
        let a = run(GOOD);
        assert_eq!(a.acks, 1);
        assert!(a.violations.is_empty(), "{:?}", a.violations);
    }

    fn reported(trace: &str, expect: &str) {
        let a = run(trace);
        assert!(
            a.violations.iter().any(|v| v.contains(expect)),
            "{expect}: {:?}",
            a.violations
        );
    }

    #[test]
    fn a_missing_file_fsync_is_reported() {
        reported(
            &GOOD.replacen("1 fsync(5</d/tmp/1.0.tmp>) = 0\n", "", 1),
            "renamed onto /d/tile/0/000",
        );
    }

    #[test]
    fn a_201_before_the_directory_fsync_is_reported() {
        // The new journal's directory fsync only completes after the answer went out.
        let t = GOOD.replace("1 <... fsync resumed>) = 0\n", "").replace(
            "iov_len=9}], 2) = 10\n",
            "iov_len=9}], 2) = 10\n1 <... fsync resumed>) = 0\n",
        );
        reported(&t, "directory /d/journal: entry \"0\"");
    }

    #[test]
    fn a_missing_tile_directory_fsync_is_reported() {
        reported(
            &GOOD.replacen("1 fsync(6</d/tile/0>) = 0\n", "", 1),
            "directory /d/tile/0",
        );
    }

    #[test]
    fn an_unsynced_append_is_reported() {
        let t = GOOD.replacen(
            "1 write(8</d/checkpoint.slots>",
            "1 write(7</d/integrated-times>, \"\\0\\0\", 8) = 8\n1 write(8</d/checkpoint.slots>",
            1,
        );
        reported(&t, "file /d/integrated-times");
    }

    #[test]
    fn an_unsynced_journal_is_reported() {
        reported(
            &GOOD.replacen("1 fdatasync(7</d/journal/0>) = 0\n", "", 1),
            "file /d/journal/0",
        );
    }

    #[test]
    fn a_201_before_the_checkpoint_is_durable_is_reported() {
        reported(
            &GOOD.replacen("1 fdatasync(8</d/checkpoint.slots>) = 0\n", "", 1),
            "before any checkpoint covering it",
        );
    }
}
