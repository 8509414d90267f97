//! The crash test the log's issue asks for: `sigil log serve` is driven with thousands of concurrent signed
//! submissions from this (other) process and `kill -9`ed at random moments at least 20 times, restarting on the
//! same data directory each time. After every crash it checks:
//!
//! - every acknowledged entry (201, or 409 naming its index after a lost answer) is at its acknowledged index with
//!   the same leaf hash: in the raw data directory before recovery, in the tiles served after it, and (for a
//!   sample, and for all at the end) through `GET /api/v1/log/entries?logIndex=N`; a resubmission is 409 at the
//!   acknowledged index; no leaf is in the tree twice;
//! - every checkpoint published before a crash (polled `GET /checkpoint`, and the tree heads of the inclusion proofs
//!   in 201 answers) is consistent with the one after: a consistency proof computed from the tiles verifies, and so
//!   does the one the API serves for the checkpoints of the last run;
//! - the tree re-derived from the tiles (level 0 and every higher level, and the entry bundles) matches the root
//!   the log signed (Ed25519, origin `127.0.0.1`).
//!
//! It prints the counts (`cargo test -p sigil-cli --test log_crash -- --nocapture`). `SIGIL_CRASH_SEED=<n>` replays
//! the random kill moments of an earlier run (the seed is printed); the server's stderr is echoed when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sigil_bundle::encoding::decode_base64;
use sigil_tlog::{Hash, MerkleTree, NoteVerifier, SignedCheckpoint, hash_leaf};
use support::{EntrySigner, Resp, SIGIL, Server, http, rederive_tree, serve_command, tail};
/// The checkpoint origin of a log served on 127.0.0.1 (whatever the port).
const ORIGIN: &str = "127.0.0.1";
/// The minimums.
const MIN_KILLS: u32 = 20;
const MIN_ACKED: usize = 5_000;
/// Submitting threads (each with its own key and its own entries).
const WORKERS: usize = 48;
/// How long the log runs under load before each kill: uniformly random in this range (the last run first waits
/// for `MIN_ACKED` acknowledged entries).
const LOAD_MS: (u64, u64) = (50, 400);
/// Samples checked through the API after each restart (the tiles are checked in full every time).
const API_SAMPLE: usize = 48;
/// The run fails instead of hanging if it takes longer than this.
const DEADLINE: Duration = Duration::from_secs(300);

// ---------- what the submitters saw ----------

/// One proposed entry; resubmitted byte for byte until acknowledged (an ECDSA signature is randomized, so a
/// re-signed entry would be a different entry).
struct Job {
    request: Vec<u8>,
    digest_hex: String,
}

#[derive(Default)]
struct Book {
    /// index → leaf hash of every acknowledged entry.
    acked: BTreeMap<u64, Hash>,
    leaf_index: HashMap<Hash, u64>,
    acked_jobs: Vec<(Arc<Job>, u64)>,
    /// size → root of every checkpoint seen (signed notes and tree heads of inclusion proofs).
    checkpoints: BTreeMap<u64, Hash>,
    /// What was seen since the last restart: checked through the API after the next one.
    recent_checkpoints: BTreeMap<u64, Hash>,
    recent_acked: Vec<usize>,
    failures: Vec<String>,
}

impl Book {
    fn ack(&mut self, index: u64, leaf: Hash, job: &Arc<Job>, how: &str) {
        if let Some(old) = self.acked.get(&index) {
            if *old != leaf {
                self.failures
                    .push(format!("index {index} acknowledged for two leaves ({how})"));
            }
            return;
        }
        if let Some(old) = self.leaf_index.insert(leaf, index) {
            if old != index {
                self.failures.push(format!(
                    "leaf {} acknowledged at {old} and at {index} ({how})",
                    hex::encode(leaf)
                ));
            }
        }
        self.acked.insert(index, leaf);
        self.recent_acked.push(self.acked_jobs.len());
        self.acked_jobs.push((Arc::clone(job), index));
    }

    fn checkpoint(&mut self, size: u64, root: Hash, source: &str) {
        if let Some(old) = self.checkpoints.insert(size, root) {
            if old != root {
                self.failures
                    .push(format!("two roots for tree size {size} (the second from {source})"));
            }
        }
        self.recent_checkpoints.insert(size, root);
    }
}

#[derive(Default)]
struct Counts {
    attempted: AtomicU64,
    created: AtomicU64,
    conflicts: AtomicU64,
    busy: AtomicU64,
    transport_errors: AtomicU64,
    polled: AtomicU64,
}

struct Shared {
    addr: RwLock<String>,
    /// Submitters and the poller run only while this is set (cleared for the checks after a restart).
    load: AtomicBool,
    in_flight: AtomicUsize,
    stop: AtomicBool,
    book: Mutex<Book>,
    counts: Counts,
    checkpoint_verifier: NoteVerifier,
    v1_key: sigil_crypto::VerifyingKey,
    run_id: u64,
}

impl Shared {
    /// Runs `f` if the load is on, counted as in flight (so `pause` can wait for it).
    fn under_load(&self, f: impl FnOnce()) -> bool {
        if !self.load.load(SeqCst) {
            return false;
        }
        self.in_flight.fetch_add(1, SeqCst);
        let on = self.load.load(SeqCst);
        if on {
            f();
        }
        self.in_flight.fetch_sub(1, SeqCst);
        on
    }

    fn pause(&self) {
        self.load.store(false, SeqCst);
        let deadline = Instant::now() + Duration::from_secs(90);
        while self.in_flight.load(SeqCst) != 0 {
            assert!(Instant::now() < deadline, "submissions still in flight after 90 s");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn fail(&self, message: String) {
        self.book.lock().unwrap().failures.push(message);
    }

    fn addr(&self) -> String {
        self.addr.read().unwrap().clone()
    }
}

fn worker(id: usize, sh: &Shared) {
    let signer = EntrySigner::new();
    let mut seq = 0u64;
    let mut pending: Option<Arc<Job>> = None;
    while !sh.stop.load(SeqCst) {
        let ran = sh.under_load(|| {
            let job = pending.take().unwrap_or_else(|| {
                seq += 1;
                let artifact = format!("sigil crash test {:x} worker {id} entry {seq}", sh.run_id);
                let (request, digest_hex) = signer.hashedrekord(artifact.as_bytes());
                Arc::new(Job { request, digest_hex })
            });
            let addr = sh.addr();
            sh.counts.attempted.fetch_add(1, SeqCst);
            match http(&addr, "POST", "/api/v1/log/entries", Some(&job.request)) {
                Ok(r) if r.status == 201 => {
                    sh.counts.created.fetch_add(1, SeqCst);
                    on_created(sh, &addr, &job, &r);
                }
                Ok(r) if r.status == 409 => {
                    sh.counts.conflicts.fetch_add(1, SeqCst);
                    let (index, leaf) = conflict_index(&r);
                    sh.book.lock().unwrap().ack(index, leaf, &job, "409");
                }
                Ok(r) if r.status == 429 || r.status == 503 => {
                    sh.counts.busy.fetch_add(1, SeqCst);
                    pending = Some(job);
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(r) => {
                    sh.fail(format!("unexpected answer {} to a submission: {}", r.status, r.text()));
                    pending = Some(job);
                }
                Err(_) => {
                    // The log died (or is restarting): not acknowledged, so submit the same entry again.
                    sh.counts.transport_errors.fetch_add(1, SeqCst);
                    pending = Some(job);
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        });
        if !ran {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// A 201: the entry, its index, and a tree head (verified inclusion proof, v1-signed checkpoint).
fn on_created(sh: &Shared, addr: &str, job: &Arc<Job>, r: &Resp) {
    let v = r.json();
    let (id, entry) = v.as_object().unwrap().iter().next().unwrap();
    let body = decode_base64(entry["body"].as_str().unwrap()).unwrap();
    let leaf = hash_leaf(&body);
    let index = entry["logIndex"].as_u64().unwrap();
    let mut problems = Vec::new();
    if !id.ends_with(&hex::encode(leaf)) || !String::from_utf8_lossy(&body).contains(&job.digest_hex) {
        problems.push(format!(
            "201 at {index}: the entry ID or body is not the entry submitted"
        ));
    }
    let proof = &entry["verification"]["inclusionProof"];
    let size = proof["treeSize"].as_u64().unwrap();
    let root = hash32(proof["rootHash"].as_str().unwrap());
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash32(h.as_str().unwrap()))
        .collect();
    if sigil_tlog::verify_inclusion(index, size, &leaf, &hashes, &root).is_err() {
        problems.push(format!("201 at {index}: the inclusion proof does not verify"));
    }
    let v1 = NoteVerifier::ecdsa(addr, sh.v1_key.clone()).unwrap();
    match SignedCheckpoint::parse(proof["checkpoint"].as_str().unwrap()) {
        Ok(cp) if cp.verify(&v1).is_ok() && cp.checkpoint.size == size && cp.checkpoint.root_hash == root => {}
        _ => problems.push(format!("201 at {index}: the v1 checkpoint does not verify or match")),
    }
    let mut book = sh.book.lock().unwrap();
    book.failures.extend(problems);
    book.ack(index, leaf, job, "201");
    book.checkpoint(size, root, "an inclusion proof");
}

/// A 409: the original's index (`x-log-index`) and leaf hash (the UUID ending `Location`).
fn conflict_index(r: &Resp) -> (u64, Hash) {
    let index = r.header("x-log-index").unwrap().parse().unwrap();
    let location = r.header("location").unwrap();
    let uuid = location.rsplit('/').next().unwrap();
    (index, hash32(&uuid[uuid.len() - 64..]))
}

/// Polls `GET /checkpoint` while the load runs; every signed checkpoint seen is one "published before a crash".
fn poller(sh: &Shared) {
    while !sh.stop.load(SeqCst) {
        sh.under_load(|| {
            if let Ok(r) = http(&sh.addr(), "GET", "/checkpoint", None) {
                match SignedCheckpoint::open(r.text(), &sh.checkpoint_verifier, ORIGIN) {
                    Ok(cp) => {
                        sh.counts.polled.fetch_add(1, SeqCst);
                        let (size, root) = (cp.checkpoint.size, cp.checkpoint.root_hash);
                        sh.book.lock().unwrap().checkpoint(size, root, "GET /checkpoint");
                    }
                    Err(e) => sh.fail(format!("GET /checkpoint {}: {e}: {:?}", r.status, r.text())),
                }
            }
        });
        std::thread::sleep(Duration::from_millis(15));
    }
}

fn hash32(hex_text: &str) -> Hash {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

// ---------- checks ----------

/// Reads a tile or bundle by its path under the tile root (`tile/...`).
type Source<'a> = dyn Fn(&str) -> Result<Vec<u8>, String> + 'a;

fn disk_source(dir: &Path) -> impl Fn(&str) -> Result<Vec<u8>, String> + '_ {
    move |path: &str| std::fs::read(dir.join(path)).map_err(|e| format!("{path}: {e}"))
}

fn http_source(addr: &str) -> impl Fn(&str) -> Result<Vec<u8>, String> + '_ {
    move |path: &str| match http(addr, "GET", &format!("/{path}"), None) {
        Ok(r) if r.status == 200 => Ok(r.body),
        Ok(r) => Err(format!("GET /{path}: {} {}", r.status, r.text())),
        Err(e) => Err(format!("GET /{path}: {e}")),
    }
}

struct Checked {
    size: u64,
    root: Hash,
    tree: MerkleTree,
    consistency_checks: u64,
}

/// Verifies the signed checkpoint, re-derives the tree from the level-0 tiles and entry bundles, compares every
/// higher-level tile and the signed root, then checks every acknowledged entry and every checkpoint seen.
fn check_tree(checkpoint_text: &str, source: &Source<'_>, sh: &Shared, what: &str) -> Checked {
    let cp = SignedCheckpoint::open(checkpoint_text, &sh.checkpoint_verifier, ORIGIN)
        .unwrap_or_else(|e| panic!("{what}: the checkpoint does not verify: {e}\n{checkpoint_text}"));
    let (size, root) = (cp.checkpoint.size, cp.checkpoint.root_hash);
    let (leaves, tree) = rederive_tree(size, &root, source, what);
    let mut seen = HashMap::with_capacity(leaves.len());
    for (i, leaf) in leaves.iter().enumerate() {
        if let Some(first) = seen.insert(*leaf, i) {
            panic!("{what}: the same entry is in the log at {first} and {i}");
        }
    }

    let (acked, checkpoints) = {
        let book = sh.book.lock().unwrap();
        (book.acked.clone(), book.checkpoints.clone())
    };
    for (index, leaf) in &acked {
        assert_eq!(
            leaves.get(usize::try_from(*index).unwrap()),
            Some(leaf),
            "{what}: acknowledged entry {index} is lost or changed (tree size {size})"
        );
    }
    let mut consistency_checks = 0;
    for (old_size, old_root) in &checkpoints {
        assert!(
            *old_size <= size,
            "{what}: a checkpoint of size {old_size} was published, the log has only {size}"
        );
        let proof = tree.consistency_proof(*old_size, size).unwrap();
        sigil_tlog::verify_consistency(*old_size, size, &proof, old_root, &root).unwrap_or_else(|e| {
            panic!("{what}: the checkpoint of size {old_size} seen before is inconsistent with {size}: {e}")
        });
        consistency_checks += 1;
    }
    Checked {
        size,
        root,
        tree,
        consistency_checks,
    }
}

/// Checks through the API (after a restart, load paused): the tree head, consistency proofs from the checkpoints
/// seen in the last run, a sample of entries (those acknowledged in the last run first), and 409s with the
/// acknowledged index for resubmissions. Returns (consistency proofs, entries read, resubmissions).
fn check_api(addr: &str, checked: &Checked, sh: &Shared, rng: &mut XorShift, all: bool) -> (u64, u64, u64) {
    let (size, root) = (checked.size, checked.root);
    let head = http(addr, "GET", "/api/v1/log", None).unwrap().json();
    assert_eq!(head["treeSize"].as_u64(), Some(size));
    assert_eq!(head["rootHash"].as_str(), Some(hex::encode(root).as_str()));

    let (recent_checkpoints, jobs, recent) = {
        let mut book = sh.book.lock().unwrap();
        let recent_cp = std::mem::take(&mut book.recent_checkpoints);
        let recent = std::mem::take(&mut book.recent_acked);
        (recent_cp, book.acked_jobs.clone(), recent)
    };
    // Consistency proofs served by the log, from the checkpoints of the last run (evenly spaced, plus the last).
    let sizes: Vec<(u64, Hash)> = recent_checkpoints.into_iter().filter(|(s, _)| *s > 0).collect();
    let step = sizes.len().div_ceil(API_SAMPLE).max(1);
    let mut picked: Vec<&(u64, Hash)> = sizes.iter().step_by(step).collect();
    picked.extend(sizes.last());
    let mut proofs = 0;
    for (old_size, old_root) in picked {
        let r = http(
            addr,
            "GET",
            &format!("/api/v1/log/proof?firstSize={old_size}&lastSize={size}"),
            None,
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(hash32(v["rootHash"].as_str().unwrap()), root);
        let hashes: Vec<Hash> = v["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hash32(h.as_str().unwrap()))
            .collect();
        sigil_tlog::verify_consistency(*old_size, size, &hashes, old_root, &root)
            .unwrap_or_else(|e| panic!("the log's consistency proof {old_size} → {size} does not verify: {e}"));
        proofs += 1;
    }

    // Entries: all (at the end), or the last run's plus random older ones.
    let mut sample: Vec<usize> = if all {
        (0..jobs.len()).collect()
    } else {
        let step = recent.len().div_ceil(API_SAMPLE).max(1);
        let mut s: Vec<usize> = recent.iter().copied().step_by(step).collect();
        s.extend(
            (0..API_SAMPLE / 2)
                .filter(|_| !jobs.is_empty())
                .map(|_| rng.below(jobs.len())),
        );
        s
    };
    sample.sort_unstable();
    sample.dedup();
    for &i in &sample {
        let (job, index) = &jobs[i];
        let r = http(addr, "GET", &format!("/api/v1/log/entries?logIndex={index}"), None).unwrap();
        assert_eq!(r.status, 200, "entry {index}: {}", r.text());
        let v = r.json();
        let entry = v.as_object().unwrap().values().next().unwrap();
        let body = decode_base64(entry["body"].as_str().unwrap()).unwrap();
        let leaf = hash_leaf(&body);
        assert_eq!(
            Some(leaf),
            checked.tree.leaf_hash(*index),
            "entry {index} read through the API"
        );
        assert!(String::from_utf8_lossy(&body).contains(&job.digest_hex));
        let proof = &entry["verification"]["inclusionProof"];
        let hashes: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hash32(h.as_str().unwrap()))
            .collect();
        sigil_tlog::verify_inclusion(*index, size, &leaf, &hashes, &root)
            .unwrap_or_else(|e| panic!("entry {index}: inclusion proof: {e}"));
    }

    // Resubmitting acknowledged entries: 409 at the acknowledged index (the de-duplication index survived or was
    // rebuilt). The last run's entries are the ones most likely to be missing from a non-durable index commit.
    let mut resubmit: Vec<usize> = recent.iter().rev().take(API_SAMPLE / 3).copied().collect();
    resubmit.extend(
        (0..API_SAMPLE / 6)
            .filter(|_| !jobs.is_empty())
            .map(|_| rng.below(jobs.len())),
    );
    for &i in &resubmit {
        let (job, index) = &jobs[i];
        let r = http(addr, "POST", "/api/v1/log/entries", Some(&job.request)).unwrap();
        assert_eq!(r.status, 409, "resubmitting acknowledged entry {index}: {}", r.text());
        assert_eq!(conflict_index(&r).0, *index, "a resubmission names another index");
    }
    (proofs, sample.len() as u64, resubmit.len() as u64)
}

/// The log's Ed25519 checkpoint key, from `sigil log trust-entry --api v2` (`publicKey.rawBytes` is the SPKI).
fn checkpoint_verifier(dir: &Path, url: &str) -> NoteVerifier {
    let out = Command::new(SIGIL)
        .args(["log", "trust-entry", "--data-dir"])
        .arg(dir)
        .args(["--url", url, "--api", "v2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let spki = decode_base64(v["publicKey"]["rawBytes"].as_str().unwrap()).unwrap();
    NoteVerifier::ed25519(ORIGIN, sigil_crypto::VerifyingKey::from_spki_der(&spki).unwrap()).unwrap()
}

/// xorshift64*: the kill moments, reproducible from the printed seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn range(&mut self, (lo, hi): (u64, u64)) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

#[test]
fn crash_test_kill_9_under_load() {
    let started = Instant::now();
    let seed = std::env::var("SIGIL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash test: SIGIL_CRASH_SEED={seed}");
    let mut rng = XorShift(seed.max(1));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let stderr_log: PathBuf = tmp.path().join("server.stderr");

    let mut server = Server::start(serve_command(&dir), &stderr_log, Duration::from_secs(30));
    let checkpoint_verifier = checkpoint_verifier(&dir, &format!("http://{}", server.addr));
    let pem = http(&server.addr, "GET", "/api/v1/log/publicKey", None).unwrap();
    let v1_key = sigil_crypto::VerifyingKey::from_pem(pem.text()).unwrap();
    let sh = Arc::new(Shared {
        addr: RwLock::new(server.addr.clone()),
        load: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        book: Mutex::new(Book::default()),
        counts: Counts::default(),
        checkpoint_verifier,
        v1_key,
        run_id: seed,
    });
    let mut threads = Vec::new();
    for id in 0..WORKERS {
        let sh = Arc::clone(&sh);
        threads.push(std::thread::spawn(move || worker(id, &sh)));
    }
    {
        let sh = Arc::clone(&sh);
        threads.push(std::thread::spawn(move || poller(&sh)));
    }
    // Stop the threads even if a check panics.
    struct StopOnDrop(Arc<Shared>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.stop.store(true, SeqCst);
        }
    }
    let _stop = StopOnDrop(Arc::clone(&sh));

    let (mut kills, mut consistency, mut api_proofs, mut api_reads, mut resubmitted) = (0u32, 0u64, 0u64, 0u64, 0u64);
    let mut adopted = 0u32;
    let mut last_size = 0;
    loop {
        sh.load.store(true, SeqCst);
        if kills + 1 >= MIN_KILLS {
            // The last run goes on until enough entries were acknowledged, then dies at a random moment too.
            while sh.book.lock().unwrap().acked.len() < MIN_ACKED {
                assert!(started.elapsed() < DEADLINE, "too slow: {:?}", started.elapsed());
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        std::thread::sleep(Duration::from_millis(rng.range(LOAD_MS)));
        server.kill9();
        kills += 1;
        sh.pause();
        let failures = std::mem::take(&mut sh.book.lock().unwrap().failures);
        assert!(
            failures.is_empty(),
            "before kill {kills}: {failures:#?}\n{}",
            tail(&stderr_log)
        );

        // The raw data directory, before any recovery: the committed checkpoint and the tiles under it.
        let on_disk = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
        let disk = check_tree(
            &on_disk,
            &disk_source(&dir),
            &sh,
            &format!("data dir after kill {kills}"),
        );
        consistency += disk.consistency_checks;

        server = Server::start(serve_command(&dir), &stderr_log, Duration::from_secs(30));
        *sh.addr.write().unwrap() = server.addr.clone();
        let served = http(&server.addr, "GET", "/checkpoint", None).unwrap();
        let what = format!("restart after kill {kills}");
        let checked = check_tree(served.text(), &http_source(&server.addr), &sh, &what);
        consistency += checked.consistency_checks;
        assert!(checked.size >= disk.size && checked.size >= last_size);
        if checked.size > disk.size {
            // The signer's mark was one batch past the checkpoint file: recovery adopted that batch.
            adopted += 1;
        }
        let proof = checked.tree.consistency_proof(disk.size, checked.size).unwrap();
        sigil_tlog::verify_consistency(disk.size, checked.size, &proof, &disk.root, &checked.root).unwrap();
        sh.book
            .lock()
            .unwrap()
            .checkpoint(checked.size, checked.root, "GET /checkpoint after a restart");
        last_size = checked.size;

        let acked = sh.book.lock().unwrap().acked.len();
        let done = kills >= MIN_KILLS && acked >= MIN_ACKED;
        let (p, r, s) = check_api(&server.addr, &checked, &sh, &mut rng, done);
        (api_proofs, api_reads, resubmitted) = (api_proofs + p, api_reads + r, resubmitted + s);
        if done {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "too slow: {kills} kills and {acked} acknowledged entries after {:?}",
            started.elapsed()
        );
    }
    sh.stop.store(true, SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    drop(server);

    let book = sh.book.lock().unwrap();
    assert!(book.failures.is_empty(), "{:#?}", book.failures);
    let c = &sh.counts;
    println!(
        "crash test: {} submissions attempted by {WORKERS} threads; {} acknowledged ({} with 201, {} with 409 after \
         an answer lost in a crash); {} transport errors and {} busy answers retried; {kills} kills (SIGKILL), \
         {adopted} of the restarts adopted a batch signed just before the crash; {} distinct checkpoints seen ({} polled \
         from /checkpoint); {consistency} consistency proofs from tiles and {api_proofs} from the API verified; \
         {api_reads} entries read back through the API; {resubmitted} resubmissions answered 409 at the \
         acknowledged index; final tree size {last_size}; {:.1} s",
        c.attempted.load(SeqCst),
        book.acked.len(),
        c.created.load(SeqCst),
        c.conflicts.load(SeqCst),
        c.transport_errors.load(SeqCst),
        c.busy.load(SeqCst),
        book.checkpoints.len(),
        c.polled.load(SeqCst),
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= MIN_KILLS);
    assert!(book.acked.len() >= MIN_ACKED);
}
