//! `cargo xtask log-bench`: a load generator for the transparency log (`sigil log serve`) and the measurements
//! `docs/log-performance.md` reports.
//!
//! What it does, in order:
//! 1. builds `sigil` (and this tool) in release and re-runs itself from the release build (a debug-built load
//!    generator would eat the CPU the server is measured with); the server binary is copied into the work
//!    directory first, so a rebuild during a long run changes nothing;
//! 2. optionally fills a fresh data directory offline through the library (`--prefill N`: `Log::append_many` in
//!    chunks of `MAX_BATCH`, then the search index), to measure appends at a large tree without millions of HTTP
//!    requests;
//! 3. signs a pool of distinct `hashedrekord` entries (P-256, many keys) *before* any timing;
//! 4. starts `sigil log serve` on that directory (port 0) and, for each client count, lets that many keep-alive
//!    HTTP/1.1 connections submit entries back to back for a fixed time: entries/s, p50/p99/max time to the
//!    acknowledged (201, durable) answer, non-201 answers;
//! 5. serves inclusion proofs: concurrent `GET /api/v1/log/entries?logIndex=<random>`;
//! 6. optionally (`--memory N`) appends N more entries and reports the server's RSS over that run.
//!
//! Alongside each phase it samples the server's RSS (`/proc/<pid>/status`), CPU time per server thread group
//! (`/proc/<pid>/task/*/stat`), the generator's own CPU, and the batch sizes from `/metrics`; `--perf` also runs
//! `perf record` on the server for each phase and prints the hottest symbols.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask log-bench [--duration SECS] [--clients 1,16,256] [--proof-clients N]
                       [--proof-duration SECS] [--pool N] [--prefill N] [--memory N] [--api v1|v2]
                       [--client-threads N] [--keys N] [--wait-idle SECS] [--perf] [--keep]
                       [--work-dir DIR] [--data-dir DIR]

  --duration SECS       length of each append phase (default 10)
  --clients LIST        concurrent clients of the append phases (default 1,16,256; `none` skips them)
  --proof-clients N     concurrent clients of the proof-serving phase (default 64; 0 skips it)
  --proof-duration SECS length of the proof-serving phase (default: --duration)
  --pool N              signed entries prepared for the timed append phases (default 400000)
  --prefill N           fill the log to N entries through the library before serving it (default 0)
  --memory N            after the other phases, append N more entries at the largest client count and
                        report the server's RSS over that run (default 0: skipped)
  --api v1|v2           submit Rekor v1 hashedrekord 0.0.1 (default) or Rekor v2 hashedRekordRequestV002
  --client-threads N    tokio worker threads of the load generator (default 1)
  --keys N              distinct P-256 signing keys among the entries (default 4096)
  --wait-idle SECS      before each phase, wait up to SECS for the rest of the machine to go idle (other
                        processes below 0.25 cores; default 0: do not wait). Figures taken while other
                        work runs are skewed: the CPU column always reports how busy the rest was.
  --perf                run `perf record` on the server during each phase and print its hottest symbols
  --keep                keep the work directory (data directory, server log, perf data)
  --work-dir DIR        where to put the work directory (default: the system temp dir)
  --data-dir DIR        use (and keep) this log data directory instead of a fresh one, e.g. to measure a
                        prefilled log again; --prefill then fills it up to N if it holds fewer";

/// Set when the release binaries are already built (by the debug build that started this one, or by hand).
const BUILT_ENV: &str = "SIGIL_LOG_BENCH_BUILT";
/// The origin `sigil log serve` gives a log listening on 127.0.0.1; a prefilled log must carry the same one.
const ORIGIN: &str = "127.0.0.1";
/// Largest chunk handed to `Log::append_many` by the prefill (one integrator batch).
const PREFILL_CHUNK: u64 = sigil_log::MAX_BATCH as u64;
/// DER prefix of a P-256 SubjectPublicKeyInfo; the 65-byte uncompressed point follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    V1,
    V2,
}

impl Api {
    fn path(self) -> &'static str {
        match self {
            Self::V1 => "/api/v1/log/entries",
            Self::V2 => "/api/v2/log/entries",
        }
    }
}

#[derive(Debug)]
struct Options {
    duration: Duration,
    clients: Vec<usize>,
    proof_clients: usize,
    proof_duration: Option<Duration>,
    pool: usize,
    prefill: u64,
    memory: u64,
    api: Api,
    client_threads: usize,
    keys: usize,
    wait_idle: Duration,
    perf: bool,
    keep: bool,
    work_dir: Option<PathBuf>,
    data_dir: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut o = Self {
            duration: Duration::from_secs(10),
            clients: vec![1, 16, 256],
            proof_clients: 64,
            proof_duration: None,
            pool: 400_000,
            prefill: 0,
            memory: 0,
            api: Api::V1,
            client_threads: 1,
            keys: 4096,
            wait_idle: Duration::ZERO,
            perf: false,
            keep: false,
            work_dir: None,
            data_dir: None,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--duration" => o.duration = Duration::from_secs_f64(number(value()?)?),
                "--proof-duration" => o.proof_duration = Some(Duration::from_secs_f64(number(value()?)?)),
                "--clients" => {
                    o.clients = match value()?.as_str() {
                        "none" => Vec::new(),
                        list => list
                            .split(',')
                            .map(|c| c.trim().parse().map_err(|_| format!("bad client count {c:?}")))
                            .collect::<Result<_>>()?,
                    };
                }
                "--proof-clients" => o.proof_clients = number(value()?)?,
                "--pool" => o.pool = number(value()?)?,
                "--prefill" => o.prefill = number(value()?)?,
                "--memory" => o.memory = number(value()?)?,
                "--client-threads" => o.client_threads = number(value()?)?,
                "--keys" => o.keys = number(value()?)?,
                "--api" => {
                    o.api = match value()?.as_str() {
                        "v1" => Api::V1,
                        "v2" => Api::V2,
                        other => return Err(format!("--api must be v1 or v2, not {other:?}")),
                    }
                }
                "--wait-idle" => o.wait_idle = Duration::from_secs_f64(number(value()?)?),
                "--perf" => o.perf = true,
                "--keep" => o.keep = true,
                "--work-dir" => o.work_dir = Some(PathBuf::from(value()?)),
                "--data-dir" => o.data_dir = Some(PathBuf::from(value()?)),
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown option {other:?}\n{USAGE}")),
            }
        }
        if o.clients.contains(&0) || o.client_threads == 0 || o.keys == 0 {
            return Err("client counts, --client-threads and --keys must be at least 1".into());
        }
        Ok(o)
    }
}

pub(crate) fn number<T: std::str::FromStr>(s: &str) -> Result<T> {
    s.replace('_', "")
        .parse()
        .map_err(|_| format!("{s:?} is not a valid number"))
}

/// Benchmarks measure release binaries with a release load generator: the debug build of xtask builds both and
/// hands `subcommand` over to the release build of itself. `Some(outcome)` when it handed over (or the build
/// failed); `None` when this process is the one to measure. Set `built_env` to measure the binaries already in
/// target/release as they are.
pub(crate) fn in_release(subcommand: &str, built_env: &str, args: &[String]) -> Option<bool> {
    if std::env::var_os(built_env).is_none() {
        let built = crate::run(Command::new("cargo").current_dir(crate::root()).args([
            "build",
            "--release",
            "-p",
            "sigil-cli",
            "-p",
            "xtask",
        ]));
        if !built {
            return Some(false);
        }
    }
    if cfg!(debug_assertions) {
        return Some(crate::run(
            Command::new(target_dir().join("release/xtask"))
                .env(built_env, "1")
                .arg(subcommand)
                .args(args),
        ));
    }
    None
}

/// `cargo xtask log-bench ARGS`.
pub fn log_bench(args: &[String]) -> bool {
    let opts = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return false;
        }
    };
    if let Some(done) = in_release("log-bench", BUILT_ENV, args) {
        return done;
    }
    match bench(&opts) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("log-bench: {e}");
            false
        }
    }
}

/// The commit the binaries were built from, and whether the crates had uncommitted changes.
pub(crate) fn provenance() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(crate::root())
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
            .unwrap_or_default()
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = git(&["status", "--porcelain", "--", "crates"]);
    if dirty.is_empty() {
        format!("sigil at commit {commit}")
    } else {
        format!(
            "sigil at commit {commit} plus uncommitted changes to: {}",
            dirty.lines().filter_map(|l| l.get(3..)).collect::<Vec<_>>().join(", ")
        )
    }
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| crate::root().join("target"), PathBuf::from)
}

fn bench(opts: &Options) -> Result<()> {
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_nanos();
    let work = opts
        .work_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("sigil-log-bench-{}-{nonce}", std::process::id()));
    let data = opts.data_dir.clone().unwrap_or_else(|| work.join("data"));
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    println!("log-bench: work directory {}", work.display());
    let result = bench_in(opts, &work, &data, nonce);
    if opts.keep {
        println!("log-bench: kept {}", work.display());
    } else if let Err(e) = std::fs::remove_dir_all(&work) {
        eprintln!("log-bench: could not remove {}: {e}", work.display());
    }
    result
}

fn bench_in(opts: &Options, work: &Path, data: &Path, nonce: u128) -> Result<()> {
    // Run a private copy: the workspace's target/release/sigil may be rebuilt by someone else during a long run.
    let sigil = work.join("sigil");
    std::fs::copy(target_dir().join("release/sigil"), &sigil).map_err(|e| format!("copying sigil: {e}"))?;
    println!("log-bench: measuring {}", provenance());
    let mut report = Vec::new();
    if opts.prefill > 0 {
        report.extend(prefill(data, opts.prefill, opts.keys)?);
    }
    let timed = opts.pool;
    let memory = usize::try_from(opts.memory).map_err(|_| "--memory is too large")?;
    println!(
        "log-bench: signing {} entries with {} P-256 keys (before any timing)",
        timed + memory,
        opts.keys
    );
    let started = Instant::now();
    let pool = Arc::new(sign_pool(timed + memory, opts.keys, opts.api, nonce)?);
    println!(
        "log-bench: signed in {:.1} s ({:.0}/s)",
        started.elapsed().as_secs_f64(),
        pool.len() as f64 / started.elapsed().as_secs_f64()
    );

    let server = Server::start(&sigil, data, &work.join("server.log"))?;
    let rss = RssSampler::start(server.pid);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.client_threads)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let result = runtime.block_on(async {
        let target = Target {
            addr: server.addr,
            host: server.addr.to_string(),
        };
        wait_healthy(&target).await?;
        let ctx = Ctx {
            target,
            server_pid: server.pid,
            rss: &rss,
            wait_idle: opts.wait_idle,
            perf: opts.perf.then(|| work.to_path_buf()),
        };
        let cursor = Arc::new(AtomicUsize::new(0));
        let size = tree_size(&ctx.target).await?;
        println!("log-bench: serving {} at tree size {size}", ctx.target.host);
        for &clients in &opts.clients {
            let load = Load::Append {
                pool: Arc::clone(&pool),
                cursor: Arc::clone(&cursor),
                end: timed,
                api: opts.api,
            };
            let r = phase(
                &ctx,
                &format!("append x{clients}"),
                clients,
                load,
                Limit::Time(opts.duration),
            )
            .await?;
            report.push(r);
        }
        if opts.proof_clients > 0 {
            let size = tree_size(&ctx.target).await?;
            let load = Load::Proof { size };
            let duration = opts.proof_duration.unwrap_or(opts.duration);
            let r = phase(&ctx, "proofs", opts.proof_clients, load, Limit::Time(duration)).await?;
            report.push(r);
        }
        if memory > 0 {
            let clients = opts.clients.iter().copied().max().unwrap_or(256);
            cursor.store(timed, Ordering::SeqCst);
            let load = Load::Append {
                pool: Arc::clone(&pool),
                cursor: Arc::clone(&cursor),
                end: timed + memory,
                api: opts.api,
            };
            let r = phase(&ctx, &format!("memory x{clients}"), clients, load, Limit::Entries).await?;
            report.push(r);
        }
        let size = tree_size(&ctx.target).await?;
        println!("log-bench: final tree size {size}");
        Ok::<_, String>(())
    });
    drop(runtime);
    rss.stop();
    server.stop()?;
    result?;
    print_table(&report);
    Ok(())
}

// ---------- entries ----------

/// A Rekor v1 `hashedrekord` 0.0.1 proposed entry. Written with its keys in JCS order and nothing to escape, so
/// it is byte for byte the canonical body the log stores (checked by [`sign_pool`]).
fn v1_body(digest: &[u8], sig: &[u8], pem_b64: &str) -> String {
    format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{pem_b64}"}}}}}}}}"#,
        hex::encode(digest),
        B64.encode(sig),
    )
}

/// A Rekor v2 `CreateEntryRequest` with a `hashedRekordRequestV002`.
fn v2_body(digest: &[u8], sig: &[u8], spki_b64: &str) -> String {
    format!(
        r#"{{"hashedRekordRequestV002":{{"digest":"{}","signature":{{"content":"{}","verifier":{{"publicKey":{{"rawBytes":"{spki_b64}"}},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}}}}}"#,
        B64.encode(digest),
        B64.encode(sig),
    )
}

struct SigningKey {
    pair: EcdsaKeyPair,
    pem_b64: String,
    spki_b64: String,
}

fn signing_keys(n: usize) -> Result<Vec<SigningKey>> {
    (0..n)
        .map(|_| {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                .map_err(|_| "P-256 key generation failed".to_string())?;
            let mut spki = P256_SPKI_PREFIX.to_vec();
            spki.extend_from_slice(pair.public_key().as_ref());
            let pem = sigil_crypto::pem_encode("PUBLIC KEY", &spki);
            Ok(SigningKey {
                pair,
                pem_b64: B64.encode(pem),
                spki_b64: B64.encode(&spki),
            })
        })
        .collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// `n` distinct, validly signed entries (artifact `i` is `sigil log-bench <nonce> <i>`), signed on every core.
fn sign_pool(n: usize, keys: usize, api: Api, nonce: u128) -> Result<Vec<Bytes>> {
    let keys = signing_keys(keys.min(n.max(1)))?;
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let per = n.div_ceil(threads).max(1);
    let keys = &keys;
    let parts: Vec<Result<Vec<Bytes>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let rng = SystemRandom::new();
                    let (from, to) = ((t * per).min(n), ((t + 1) * per).min(n));
                    (from..to)
                        .map(|i| {
                            let key = keys.get(i % keys.len()).ok_or("no key")?;
                            let artifact = format!("sigil log-bench {nonce} {i}");
                            let sig = key
                                .pair
                                .sign(&rng, artifact.as_bytes())
                                .map_err(|_| "signing failed".to_string())?;
                            let digest = sha256(artifact.as_bytes());
                            let body = match api {
                                Api::V1 => v1_body(&digest, sig.as_ref(), &key.pem_b64),
                                Api::V2 => v2_body(&digest, sig.as_ref(), &key.spki_b64),
                            };
                            Ok(Bytes::from(body))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a signing thread failed".into())))
            .collect()
    });
    let mut pool = Vec::with_capacity(n);
    for part in parts {
        pool.extend(part?);
    }
    // The server must accept what we send; for v1 the body we send is also the canonical leaf.
    if let Some(first) = pool.first() {
        match api {
            Api::V1 => {
                let accepted = sigil_log::entry::accept_v1(first).map_err(|e| format!("generated entry: {e}"))?;
                if accepted.body != first.as_ref() {
                    return Err("generated v1 entry is not in canonical form".into());
                }
            }
            Api::V2 => {
                sigil_log::entry::accept_v2(first).map_err(|e| format!("generated entry: {e}"))?;
            }
        }
    }
    Ok(pool)
}

// ---------- prefill through the library ----------

/// Fills a log in `data` to `n` entries through `Log::append_many`, then builds its search index (as the server
/// would in the background), reporting rates per million entries and this process's RSS.
///
/// The entries are well-formed canonical `hashedrekord` bodies of the usual size, but to keep the prefill about
/// the log, each key's signature is computed once and reused, so it does not verify for the entry's digest (the
/// log never re-verifies stored entries; the timed phases send validly signed entries).
fn prefill(data: &Path, n: u64, keys: usize) -> Result<Option<Row>> {
    let keys = signing_keys(keys.min(4096))?;
    let rng = SystemRandom::new();
    let templates: Vec<(Vec<u8>, &str)> = keys
        .iter()
        .map(|k| {
            let sig = k
                .pair
                .sign(&rng, b"sigil log-bench prefill")
                .map_err(|_| "signing failed")?;
            Ok((sig.as_ref().to_vec(), k.pem_b64.as_str()))
        })
        .collect::<Result<_>>()?;
    let log = sigil_log::Log::open(data, sigil_log::LogOptions::new(ORIGIN)).map_err(|e| format!("open: {e}"))?;
    let from = log.size();
    if from >= n {
        println!("log-bench: the log already holds {from} entries: no prefill");
        return Ok(None);
    }
    let rss_start = rss_kib(std::process::id()).unwrap_or(0);
    let mut rss_peak = rss_start;
    let cpu_start = process_cpu(std::process::id());
    println!("log-bench: prefill {from} → {n} entries through the library (chunks of {PREFILL_CHUNK})");
    let started = Instant::now();
    let mut lap = (Instant::now(), from);
    let mut i = from;
    let mut chunk = Vec::with_capacity(sigil_log::MAX_BATCH);
    while i < n {
        chunk.clear();
        for k in i..(i + PREFILL_CHUNK).min(n) {
            let (sig, pem) = templates.get((k as usize) % templates.len()).ok_or("no key")?;
            let digest = sha256(format!("sigil log-bench prefill {k}").as_bytes());
            chunk.push(v1_body(&digest, sig, pem).into_bytes());
        }
        let outcomes = log.append_many(&chunk).map_err(|e| format!("append: {e}"))?;
        if outcomes.iter().any(sigil_log::AppendOutcome::is_duplicate) {
            return Err("prefill produced a duplicate (reused data directory?)".into());
        }
        i += chunk.len() as u64;
        let rss = rss_kib(std::process::id()).unwrap_or(0);
        rss_peak = rss_peak.max(rss);
        if i / 1_000_000 != (i - chunk.len() as u64) / 1_000_000 || i == n {
            let secs = lap.0.elapsed().as_secs_f64();
            println!(
                "log-bench: prefill at {i}: {:.0} entries/s over the last {} entries, RSS {:.1} MiB",
                (i - lap.1) as f64 / secs,
                i - lap.1,
                rss as f64 / 1024.0
            );
            lap = (Instant::now(), i);
        }
    }
    let elapsed = started.elapsed();
    let rss_end = rss_kib(std::process::id()).unwrap_or(0);
    let cpu = process_cpu(std::process::id()) - cpu_start;
    let log = Arc::new(log);
    println!("log-bench: prefill: building the search index");
    let search_started = Instant::now();
    let search = sigil_log::search::Search::start(&data.join("search.redb"), Arc::clone(&log))
        .map_err(|e| format!("search: {e}"))?;
    let mut last_print = Instant::now();
    loop {
        let done = search.indexed_size().map_err(|e| format!("search: {e}"))?;
        if done >= n {
            break;
        }
        if last_print.elapsed() > Duration::from_secs(30) {
            println!("log-bench: search index at {done}");
            last_print = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    search.stop();
    log.close();
    let search_secs = search_started.elapsed().as_secs_f64();
    println!(
        "log-bench: prefill done: {} entries in {:.1} s ({:.0}/s), search index {:.1} s",
        n - from,
        elapsed.as_secs_f64(),
        (n - from) as f64 / elapsed.as_secs_f64(),
        search_secs
    );
    Ok(Some(Row {
        name: format!("prefill (library) to {n}"),
        clients: 0,
        ok: n - from,
        secs: elapsed.as_secs_f64(),
        latency: None,
        failures: String::new(),
        batch: None,
        cpu: format!("{:.2} cores (this process)", cpu / elapsed.as_secs_f64()),
        rss: Some((rss_start, rss_peak, rss_end)),
        note: format!("+ search index {search_secs:.0} s; RSS is the library's process"),
    }))
}

// ---------- the server ----------

pub(crate) struct Server {
    child: Child,
    pub(crate) pid: u32,
    pub(crate) addr: SocketAddr,
    /// Kept open: the server may write to stdout again.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(bin: &Path, data: &Path, log: &Path) -> Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args([
            "log",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--origin",
            ORIGIN,
            "--data-dir",
        ])
        .arg(data);
        Self::spawn(cmd, log)
    }

    /// Runs `cmd` (a `sigil … serve` that prints its `http://` base URL first; a `taskset` wrapper execs it, so the
    /// pid is the server's), stderr to `log`.
    pub(crate) fn spawn(mut cmd: Command, log: &Path) -> Result<Self> {
        let stderr = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
        let pid = child.id();
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line).map_err(|e| format!("server stdout: {e}"))?;
        let addr = line
            .trim()
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("the server did not print its URL (got {line:?}); see {}", log.display()))?;
        Ok(Self {
            child,
            pid,
            addr,
            _stdout: stdout,
        })
    }

    /// SIGTERM (graceful: queued batches are integrated and the log closed), then wait.
    pub(crate) fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err("the server did not stop within 60 s".into());
                }
            }
        }
    }
}

impl Drop for Server {
    /// A server left running by an early return is killed.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) host: String,
}

pub(crate) type Sender = SendRequest<Full<Bytes>>;

pub(crate) async fn connect(t: &Target) -> Result<Sender> {
    let stream = tokio::net::TcpStream::connect(t.addr)
        .await
        .map_err(|e| format!("connect {}: {e}", t.addr))?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn request(t: &Target, method: Method, path: &str, body: Bytes) -> Result<Request<Full<Bytes>>> {
    let mut b = Request::builder().method(method).uri(path).header(HOST, &t.host);
    if !body.is_empty() {
        b = b.header(CONTENT_TYPE, "application/json");
    }
    b.body(Full::new(body)).map_err(|e| e.to_string())
}

/// Sends one request on `sender` and reads the whole answer.
pub(crate) async fn exchange(sender: &mut Sender, req: Request<Full<Bytes>>) -> Result<(u16, Bytes)> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}

pub(crate) async fn get_once(t: &Target, path: &str) -> Result<(u16, Bytes)> {
    let mut sender = connect(t).await?;
    exchange(&mut sender, request(t, Method::GET, path, Bytes::new())?).await
}

pub(crate) async fn wait_healthy(t: &Target) -> Result<()> {
    for _ in 0..600 {
        if matches!(get_once(t, "/healthz").await, Ok((200, _))) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the server did not become healthy within 60 s".into())
}

async fn tree_size(t: &Target) -> Result<u64> {
    let (status, body) = get_once(t, "/api/v1/log").await?;
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("GET /api/v1/log ({status}): {e}"))?;
    v.get("treeSize")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| format!("GET /api/v1/log ({status}) has no treeSize"))
}

/// `(count, sum)` of a histogram in the server's `/metrics`.
async fn histogram(t: &Target, name: &str) -> Result<(f64, f64)> {
    let (_, body) = get_once(t, "/metrics").await?;
    let text = String::from_utf8_lossy(&body);
    let value = |suffix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}_{suffix} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((value("count"), value("sum")))
}

// ---------- phases ----------

/// What each simulated client does.
#[derive(Clone)]
enum Load {
    /// Submits pool entries `cursor..end` (shared by all clients), expecting 201.
    Append {
        pool: Arc<Vec<Bytes>>,
        cursor: Arc<AtomicUsize>,
        end: usize,
        api: Api,
    },
    /// Reads random entries of the first `size` with their inclusion proofs, expecting 200.
    Proof { size: u64 },
}

#[derive(Clone, Copy)]
enum Limit {
    /// Stop issuing requests after this long.
    Time(Duration),
    /// Run until the load's entries are used up.
    Entries,
}

struct Ctx<'a> {
    target: Target,
    server_pid: u32,
    rss: &'a RssSampler,
    wait_idle: Duration,
    /// Where to put `perf record` data, when profiling.
    perf: Option<PathBuf>,
}

/// What one load-generating client saw (shared by the log and CA benchmarks).
#[derive(Default)]
pub(crate) struct ClientResult {
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) ok: u64,
    pub(crate) statuses: BTreeMap<u16, u64>,
    pub(crate) errors: u64,
    pub(crate) last_done: Option<Instant>,
    pub(crate) check: Option<String>,
    /// The first non-success answer, for the report.
    pub(crate) first_error: Option<String>,
}

/// Waits for every client task and merges what they saw.
pub(crate) async fn join_clients(tasks: Vec<tokio::task::JoinHandle<ClientResult>>) -> Result<ClientResult> {
    let mut all = ClientResult::default();
    for task in tasks {
        let r = task.await.map_err(|e| format!("client task: {e}"))?;
        all.latencies_us.extend(r.latencies_us);
        all.ok += r.ok;
        for (s, c) in r.statuses {
            *all.statuses.entry(s).or_default() += c;
        }
        all.errors += r.errors;
        all.last_done = all.last_done.max(r.last_done);
        all.check = all.check.or(r.check);
        all.first_error = all.first_error.or(r.first_error);
    }
    Ok(all)
}

/// One row of the final table.
struct Row {
    name: String,
    clients: usize,
    ok: u64,
    secs: f64,
    /// p50, p99, max (ms).
    latency: Option<(f64, f64, f64)>,
    failures: String,
    /// Mean entries per integrator batch and mean integration time (ms).
    batch: Option<(f64, f64)>,
    cpu: String,
    /// RSS start, peak, end (KiB).
    rss: Option<(u64, u64, u64)>,
    note: String,
}

async fn phase(ctx: &Ctx<'_>, name: &str, clients: usize, load: Load, limit: Limit) -> Result<Row> {
    let t = &ctx.target;
    // Before connecting: the server closes connections idle for longer than its header timeout (10 s).
    wait_idle(ctx).await;
    let mut senders = Vec::with_capacity(clients);
    for _ in 0..clients {
        senders.push(connect(t).await?);
    }
    let batches_before = histogram(t, "sigil_log_batch_size").await?;
    let integration_before = histogram(t, "sigil_log_integration_seconds").await?;
    let perf = match &ctx.perf {
        Some(dir) => Some(Perf::start(
            ctx.server_pid,
            &dir.join(format!("perf-{}.data", slug(name))),
        )?),
        None => None,
    };
    let cpu_before = thread_cpu(ctx.server_pid);
    let self_before = process_cpu(std::process::id());
    let busy_before = system_busy();
    let start = Instant::now();
    let deadline = match limit {
        Limit::Time(d) => Some(start + d),
        Limit::Entries => None,
    };
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let progress = matches!(limit, Limit::Entries).then(|| {
        let stop = Arc::clone(&stop_sampling);
        let load = load.clone();
        let pid = ctx.server_pid;
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(10)).await;
                if let Load::Append { cursor, .. } = &load {
                    println!(
                        "log-bench: {:.0} s, pool cursor {}, server RSS {} MiB",
                        start.elapsed().as_secs_f64(),
                        cursor.load(Ordering::Relaxed),
                        mib(rss_kib(pid).unwrap_or(0))
                    );
                }
            }
        })
    });
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(n, sender)| tokio::spawn(client(t.clone(), sender, load.clone(), deadline, n)))
        .collect();
    let mut all = join_clients(tasks).await?;
    stop_sampling.store(true, Ordering::Relaxed);
    if let Some(p) = progress {
        p.abort();
    }
    let end = all.last_done.unwrap_or_else(Instant::now).max(start);
    let secs = (end - start).as_secs_f64();
    let cpu = thread_cpu(ctx.server_pid);
    let self_cpu = process_cpu(std::process::id()) - self_before;
    let busy = system_busy() - busy_before;
    if let Some(p) = perf {
        p.finish()?;
    }
    if let Some(problem) = all.check {
        return Err(format!("{name}: {problem}"));
    }
    all.latencies_us.sort_unstable();
    let pct = |q: f64| {
        let n = all.latencies_us.len();
        let i = ((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
        all.latencies_us.get(i).map_or(0.0, |v| f64::from(*v) / 1000.0)
    };
    let latency = (!all.latencies_us.is_empty()).then(|| (pct(0.50), pct(0.99), pct(1.0)));
    let batch = if matches!(load, Load::Append { .. }) {
        let (c1, s1) = histogram(t, "sigil_log_batch_size").await?;
        let (ic, is) = histogram(t, "sigil_log_integration_seconds").await?;
        let (batches, entries) = (c1 - batches_before.0, s1 - batches_before.1);
        let (ints, int_secs) = (ic - integration_before.0, is - integration_before.1);
        (batches > 0.0).then(|| (entries / batches, 1000.0 * int_secs / ints.max(1.0)))
    } else {
        None
    };
    let failures = if all.statuses.is_empty() && all.errors == 0 {
        "0".to_string()
    } else {
        let mut parts: Vec<String> = all.statuses.iter().map(|(s, c)| format!("{c}×{s}")).collect();
        if all.errors > 0 {
            parts.push(format!("{} transport errors", all.errors));
        }
        parts.join(", ")
    };
    let cpu_text = cpu_summary(&cpu_before, &cpu, secs, self_cpu, busy);
    let (rss_start, rss_peak, rss_end) = ctx.rss.window(start, end);
    let row = Row {
        name: name.to_string(),
        clients,
        ok: all.ok,
        secs,
        latency,
        failures,
        batch,
        cpu: cpu_text,
        rss: Some((rss_start, rss_peak, rss_end)),
        note: match &load {
            Load::Append { cursor, end, .. }
                if matches!(limit, Limit::Time(_)) && cursor.load(Ordering::SeqCst) >= *end =>
            {
                "entry pool used up (raise --pool)".into()
            }
            _ => String::new(),
        },
    };
    print_row(&row);
    Ok(row)
}

/// Waits (bounded) until the machine is idle apart from the server and this process.
async fn wait_idle(ctx: &Ctx<'_>) {
    if ctx.wait_idle.is_zero() {
        return;
    }
    let give_up = Instant::now() + ctx.wait_idle;
    let mut told = false;
    loop {
        let (system, ours) = (system_busy(), own_cpu(ctx.server_pid));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let others = (system_busy() - system) - (own_cpu(ctx.server_pid) - ours);
        if others < 0.25 {
            return;
        }
        if Instant::now() >= give_up {
            println!("log-bench: the machine is still busy ({others:.2} cores used by others); measuring anyway");
            return;
        }
        if !told {
            println!("log-bench: waiting for the machine to go idle ({others:.2} cores used by others)");
            told = true;
        }
    }
}

/// CPU seconds of the server and this process together.
fn own_cpu(server_pid: u32) -> f64 {
    process_cpu(server_pid) + process_cpu(std::process::id())
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

async fn client(t: Target, mut sender: Sender, load: Load, deadline: Option<Instant>, n: usize) -> ClientResult {
    let mut r = ClientResult::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (n as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut checked = n != 0;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let (req, expect) = match &load {
            Load::Append { pool, cursor, end, api } => {
                let i = cursor.fetch_add(1, Ordering::Relaxed);
                let Some(body) = pool.get(i).filter(|_| i < *end) else {
                    break;
                };
                (request(&t, Method::POST, api.path(), body.clone()), 201)
            }
            Load::Proof { size } => {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let path = format!("/api/v1/log/entries?logIndex={}", rng % (*size).max(1));
                (request(&t, Method::GET, &path, Bytes::new()), 200)
            }
        };
        let req = match req {
            Ok(req) => req,
            Err(e) => {
                r.check = Some(format!("building a request: {e}"));
                break;
            }
        };
        let sent = Instant::now();
        match exchange(&mut sender, req).await {
            Ok((status, body)) => {
                let done = Instant::now();
                r.last_done = Some(done);
                if status == expect {
                    r.ok += 1;
                    r.latencies_us
                        .push(u32::try_from((done - sent).as_micros()).unwrap_or(u32::MAX));
                    if !checked {
                        checked = true;
                        r.check = check_answer(&load, &body).err();
                    }
                } else {
                    *r.statuses.entry(status).or_default() += 1;
                }
            }
            Err(_) => {
                r.errors += 1;
                match connect(&t).await {
                    Ok(s) => sender = s,
                    Err(_) => break,
                }
            }
        }
    }
    r
}

/// A sanity check of the first answer: it carries what a client needs (proof and SET, or proof and checkpoint).
fn check_answer(load: &Load, body: &[u8]) -> Result<()> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("answer is not JSON: {e}"))?;
    let entry = match load {
        Load::Append { api: Api::V2, .. } => {
            return v
                .pointer("/inclusionProof/checkpoint/envelope")
                .map(|_| ())
                .ok_or_else(|| "v2 answer without an inclusion proof checkpoint".into());
        }
        _ => v
            .as_object()
            .and_then(|m| m.values().next())
            .ok_or("v1 answer is not {uuid: entry}")?,
    };
    let has = |p: &str| entry.pointer(p).is_some();
    if has("/verification/inclusionProof/hashes") && has("/verification/signedEntryTimestamp") {
        Ok(())
    } else {
        Err("v1 answer without inclusion proof or SET".into())
    }
}

// ---------- process accounting ----------

/// Samples a process's RSS every 50 ms in a background thread.
struct RssSampler {
    samples: Arc<Mutex<Vec<(Instant, u64)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&samples), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                if let (Some(kib), Ok(mut v)) = (rss_kib(pid), s.lock()) {
                    v.push((Instant::now(), kib));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self {
            samples,
            stop,
            thread: Some(thread),
        }
    }

    /// RSS at the start, peak and end of a time window (KiB).
    fn window(&self, from: Instant, to: Instant) -> (u64, u64, u64) {
        let Ok(samples) = self.samples.lock() else {
            return (0, 0, 0);
        };
        let inside: Vec<u64> = samples
            .iter()
            .filter(|(t, _)| *t >= from && *t <= to)
            .map(|(_, v)| *v)
            .collect();
        let before = samples.iter().rev().find(|(t, _)| *t < from).map(|(_, v)| *v);
        let first = before.or_else(|| inside.first().copied()).unwrap_or(0);
        let last = inside.last().copied().unwrap_or(first);
        let peak = inside.iter().copied().max().unwrap_or(first).max(first);
        (first, peak, last)
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Clock ticks per second of `/proc/*/stat` times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// `(comm, utime + stime in ticks)` from a `/proc/.../stat` line.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After the comm: state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

pub(crate) fn process_cpu(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse_stat(&s))
        .map_or(0.0, |(_, t)| t as f64 / TICKS)
}

/// CPU ticks per thread id, with the thread's name.
fn thread_cpu(pid: u32) -> BTreeMap<u64, (String, u64)> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for e in dir.flatten() {
        let tid: Option<u64> = e.file_name().to_str().and_then(|s| s.parse().ok());
        let stat = std::fs::read_to_string(e.path().join("stat")).ok();
        if let (Some(tid), Some((comm, ticks))) = (tid, stat.as_deref().and_then(parse_stat)) {
            out.insert(tid, (comm, ticks));
        }
    }
    out
}

/// Busy CPU seconds of the whole machine (all cores; `/proc/stat`, everything but idle and iowait).
pub(crate) fn system_busy() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(cpu) = stat.lines().next().and_then(|l| l.strip_prefix("cpu ")) else {
        return 0.0;
    };
    let fields: Vec<u64> = cpu.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: u64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| *v)
        .sum();
    busy as f64 / TICKS
}

/// CPU over a phase, in cores: the server's threads by name, the load generator, and everything else running
/// on the machine meanwhile (other work skews the figures; it is reported rather than hidden).
fn cpu_summary(
    before: &BTreeMap<u64, (String, u64)>,
    after: &BTreeMap<u64, (String, u64)>,
    secs: f64,
    generator_secs: f64,
    system_secs: f64,
) -> String {
    let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
    for (tid, (comm, ticks)) in after {
        let prior = before.get(tid).map_or(0, |(_, t)| *t);
        *groups.entry(comm.as_str()).or_default() += ticks.saturating_sub(prior);
    }
    let secs = secs.max(1e-9);
    let total = groups.values().sum::<u64>() as f64 / TICKS;
    let parts: Vec<String> = groups
        .iter()
        .filter(|(_, t)| **t > 0)
        .map(|(g, t)| format!("{g} {:.2}", *t as f64 / TICKS / secs))
        .collect();
    format!(
        "server {:.2} ({}); generator {:.2}; other processes {:.2}",
        total / secs,
        parts.join(", "),
        generator_secs / secs,
        ((system_secs - total - generator_secs) / secs).max(0.0)
    )
}

/// `perf record` on the server for one phase.
struct Perf {
    child: Child,
    data: PathBuf,
}

impl Perf {
    fn start(pid: u32, data: &Path) -> Result<Self> {
        let child = Command::new("perf")
            .args(["record", "-q", "-F", "999", "-p", &pid.to_string(), "-o"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("perf: {e}"))?;
        std::thread::sleep(Duration::from_millis(300));
        Ok(Self {
            child,
            data: data.to_path_buf(),
        })
    }

    /// Stops recording (SIGINT) and prints the hottest symbols of the server.
    fn finish(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let out = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--no-children",
                "--sort",
                "comm,dso,sym",
                "--percent-limit",
                "1",
                "-i",
            ])
            .arg(&self.data)
            .output()
            .map_err(|e| format!("perf report: {e}"))?;
        println!("log-bench: perf profile of the server ({}):", self.data.display());
        for line in String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .take(30)
        {
            println!("    {line}");
        }
        Ok(())
    }
}

// ---------- output ----------

fn print_row(r: &Row) {
    let lat = r.latency.map_or_else(String::new, |(p50, p99, max)| {
        format!(", p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms")
    });
    let batch = r.batch.map_or_else(String::new, |(b, ms)| {
        format!(", mean batch {b:.0} entries / {ms:.1} ms")
    });
    println!(
        "log-bench: {}: {} ok in {:.1} s = {:.0}/s{lat}; failures {}{batch}; CPU {}",
        r.name,
        r.ok,
        r.secs,
        r.ok as f64 / r.secs.max(1e-9),
        r.failures,
        r.cpu
    );
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| phase | clients | ok | s | per s | p50 ms | p99 ms | max ms | failures | batch (entries / ms) | CPU (cores) | RSS MiB start/peak/end | note |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let (p50, p99, max) = r
            .latency
            .map_or((String::new(), String::new(), String::new()), |(a, b, c)| {
                (format!("{a:.1}"), format!("{b:.1}"), format!("{c:.1}"))
            });
        let batch = r.batch.map_or_else(String::new, |(b, ms)| format!("{b:.0} / {ms:.1}"));
        let rss = r
            .rss
            .map_or_else(String::new, |(a, b, c)| format!("{} / {} / {}", mib(a), mib(b), mib(c)));
        println!(
            "| {} | {} | {} | {:.1} | {:.0} | {p50} | {p99} | {max} | {} | {batch} | {} | {rss} | {} |",
            r.name,
            r.clients,
            r.ok,
            r.secs,
            r.ok as f64 / r.secs.max(1e-9),
            r.failures,
            r.cpu,
            r.note
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_line_with_spaces_in_comm() {
        let line = "42 (tokio runtime) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 3 0";
        assert_eq!(parse_stat(line), Some(("tokio runtime".to_string(), 175)));
    }

    #[test]
    fn generated_entries_are_accepted_and_canonical() {
        let pool = sign_pool(3, 2, Api::V1, 7).unwrap_or_default();
        assert_eq!(pool.len(), 3);
        for body in &pool {
            let accepted = sigil_log::entry::accept_v1(body);
            assert!(accepted.as_ref().is_ok_and(|a| a.body == body.as_ref()), "{accepted:?}");
        }
        let pool = sign_pool(2, 1, Api::V2, 7).unwrap_or_default();
        assert!(pool.iter().all(|b| sigil_log::entry::accept_v2(b).is_ok()));
    }

    #[test]
    fn options() {
        let args: Vec<String> = ["--clients", "2,4", "--prefill", "10_000", "--api", "v2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = Options::parse(&args);
        assert!(
            o.as_ref()
                .is_ok_and(|o| o.clients == [2, 4] && o.prefill == 10_000 && o.api == Api::V2)
        );
        assert!(Options::parse(&["--clients".to_string(), "0".to_string()]).is_err());
    }
}
