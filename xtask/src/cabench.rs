//! `cargo xtask ca-bench`: a load generator for the certificate authority and the timestamp authority of
//! `sigil serve --dev`, and the measurements `docs/ca-performance.md` reports.
//!
//! What it does, in order:
//! 1. builds `sigil` (and this tool) in release and re-runs itself from the release build, like `log-bench`; the
//!    server binary is copied into the work directory first;
//! 2. starts `sigil serve --dev` on a fresh data directory, pinned to one core (`taskset -c 0`, when `taskset`
//!    exists and the machine has at least two cores), then pins this process to the other cores, so the load
//!    generator never competes with the server for its core;
//! 3. mints one development token (`sigil dev-token --ttl 86400`: the CA is stateless, so one token serves every
//!    request) and prepares every request body before any timing: P-256 keys, proof-of-possession signatures
//!    (the sigstore-js / cosign shape), PKCS#10 CSRs built here with `sigil_crypto::der_write` (the
//!    sigstore-python shape) and DER `TimeStampReq`s with distinct nonces;
//! 4. warms each path up, then for each path and concurrency level runs a closed loop (each keep-alive
//!    HTTP/1.1 connection sends its next request as soon as the previous answer arrived) for a fixed time:
//!    answers/s, client-side p50/p99/max, and the server's own p50/p99 from the deltas of its
//!    `*_http_request_seconds` histogram in `/metrics` (bucket upper bounds: coarse, said so in the output);
//! 5. prints provenance (commit, CPU, cores, load average, pinning) and a Markdown table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use sigil_crypto::der_write as w;
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, Signer as _, SigningKey};

use crate::logbench::{self, ClientResult, Server, Target, number};

type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask ca-bench [--duration SECS] [--warmup SECS] [--concurrency 1,8,64]
                      [--paths pop,csr,tsa,tsa-json] [--keys N] [--client-threads N] [--no-pin]
                      [--wait-idle SECS] [--keep] [--work-dir DIR]

  --duration SECS       length of each timed phase (default 10)
  --warmup SECS         load before the timed phases of each path, at the middle concurrency (default 3)
  --concurrency LIST    keep-alive connections of the timed phases (default 1,8,64)
  --paths LIST          what to measure (default pop,csr,tsa):
                          pop       POST /api/v2/signingCert, publicKeyRequest + proofOfPossession
                          csr       POST /api/v2/signingCert, certificateSigningRequest (PEM CSR, base64)
                          tsa       POST /api/v1/timestamp, DER application/timestamp-query (certReq, nonce)
                          tsa-json  POST /api/v1/timestamp, JSON {artifactHash, hashAlgorithm}
  --keys N              distinct P-256 leaf keys / CSRs / proofs prepared, used round robin (default 1024)
  --client-threads N    tokio worker threads of the load generator (default 1)
  --no-pin              do not pin the server to core 0 and the generator to the others
  --wait-idle SECS      before each phase, wait up to SECS for the rest of the machine to go idle (other
                        processes below 0.25 cores; default 0: do not wait)
  --keep                keep the work directory (data directory, server log)
  --work-dir DIR        where to put the work directory (default: the system temp dir)";

/// Set when the release binaries are already built (by the debug build that started this one, or by hand).
const BUILT_ENV: &str = "SIGIL_CA_BENCH_BUILT";
const EMAIL: &str = "ca-bench@example.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Pop,
    Csr,
    Tsa,
    TsaJson,
}

impl Endpoint {
    fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "pop" => Ok(Self::Pop),
            "csr" => Ok(Self::Csr),
            "tsa" => Ok(Self::Tsa),
            "tsa-json" => Ok(Self::TsaJson),
            other => Err(format!("unknown path {other:?} (pop, csr, tsa, tsa-json)")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Pop => "certificate, PoP",
            Self::Csr => "certificate, CSR",
            Self::Tsa => "timestamp, DER",
            Self::TsaJson => "timestamp, JSON",
        }
    }

    fn route(self) -> &'static str {
        match self {
            Self::Pop | Self::Csr => "/api/v2/signingCert",
            Self::Tsa | Self::TsaJson => "/api/v1/timestamp",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Tsa => "application/timestamp-query",
            _ => "application/json",
        }
    }

    /// The server's request-duration histogram for this path's router.
    fn histogram(self) -> &'static str {
        match self {
            Self::Pop | Self::Csr => "sigil_ca_http_request_seconds",
            Self::Tsa | Self::TsaJson => "sigil_tsa_http_request_seconds",
        }
    }
}

#[derive(Debug)]
struct Options {
    duration: Duration,
    warmup: Duration,
    concurrency: Vec<usize>,
    paths: Vec<Endpoint>,
    keys: usize,
    client_threads: usize,
    pin: bool,
    wait_idle: Duration,
    keep: bool,
    work_dir: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut o = Self {
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(3),
            concurrency: vec![1, 8, 64],
            paths: vec![Endpoint::Pop, Endpoint::Csr, Endpoint::Tsa],
            keys: 1024,
            client_threads: 1,
            pin: true,
            wait_idle: Duration::ZERO,
            keep: false,
            work_dir: None,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--duration" => o.duration = Duration::from_secs_f64(number(value()?)?),
                "--warmup" => o.warmup = Duration::from_secs_f64(number(value()?)?),
                "--concurrency" => {
                    o.concurrency = value()?
                        .split(',')
                        .map(|c| c.trim().parse().map_err(|_| format!("bad concurrency {c:?}")))
                        .collect::<Result<_>>()?;
                }
                "--paths" => o.paths = value()?.split(',').map(Endpoint::parse).collect::<Result<_>>()?,
                "--keys" => o.keys = number(value()?)?,
                "--client-threads" => o.client_threads = number(value()?)?,
                "--no-pin" => o.pin = false,
                "--wait-idle" => o.wait_idle = Duration::from_secs_f64(number(value()?)?),
                "--keep" => o.keep = true,
                "--work-dir" => o.work_dir = Some(PathBuf::from(value()?)),
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown option {other:?}\n{USAGE}")),
            }
        }
        if o.concurrency.is_empty() || o.concurrency.contains(&0) || o.client_threads == 0 || o.keys == 0 {
            return Err("concurrency levels, --client-threads and --keys must be at least 1".into());
        }
        Ok(o)
    }
}

/// `cargo xtask ca-bench ARGS`.
pub fn ca_bench(args: &[String]) -> bool {
    let opts = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return false;
        }
    };
    if let Some(done) = logbench::in_release("ca-bench", BUILT_ENV, args) {
        return done;
    }
    match bench(&opts) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("ca-bench: {e}");
            false
        }
    }
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
        .join(format!("sigil-ca-bench-{}-{nonce}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    println!("ca-bench: work directory {}", work.display());
    let result = bench_in(opts, &work);
    if opts.keep {
        println!("ca-bench: kept {}", work.display());
    } else if let Err(e) = std::fs::remove_dir_all(&work) {
        eprintln!("ca-bench: could not remove {}: {e}", work.display());
    }
    result
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn has_taskset() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Commit, CPU model, cores, kernel, date and load average.
fn provenance(pinning: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "{}\nca-bench: {cpu}, {} cores online to this process, {date}, load average {}\nca-bench: {pinning}",
        logbench::provenance(),
        cores(),
        loadavg()
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn bench_in(opts: &Options, work: &Path) -> Result<()> {
    let sigil = work.join("sigil");
    std::fs::copy(logbench::target_dir().join("release/sigil"), &sigil).map_err(|e| format!("copying sigil: {e}"))?;
    let pin = opts.pin && cores() >= 2 && has_taskset();
    let pinning = if pin {
        format!(
            "server pinned to core 0 (`taskset -c 0`), load generator to cores 1-{}",
            cores().saturating_sub(1)
        )
    } else if opts.pin {
        "NOT pinned (needs `taskset` and at least 2 cores): server and generator share all cores".into()
    } else {
        "not pinned (--no-pin): server and generator share all cores".into()
    };
    println!("ca-bench: measuring {}", provenance(&pinning));
    let data = work.join("data");
    let server = start_server(&sigil, &data, &work.join("server.log"), pin)?;
    println!("ca-bench: serving {} (pid {})", server.addr, server.pid);
    let token = mint_token(&sigil, &data)?;

    println!(
        "ca-bench: preparing {} keys, proofs, CSRs and timestamp requests (before any timing)",
        opts.keys
    );
    let started = Instant::now();
    let bodies = prepare(opts, &token)?;
    println!("ca-bench: prepared in {:.1} s", started.elapsed().as_secs_f64());
    if pin {
        // From now on this process (all its threads, and the runtime's threads created later) stays off core 0.
        let others = format!("1-{}", cores().saturating_sub(1));
        let ok = Command::new("taskset")
            .args(["-a", "-p", "-c", &others, &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err("could not pin the load generator (taskset -a -p)".into());
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.client_threads)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let target = Target {
        addr: server.addr,
        host: server.addr.to_string(),
    };
    let rows = runtime.block_on(async {
        logbench::wait_healthy(&target).await?;
        let mut rows = Vec::new();
        for path in &opts.paths {
            let pool = bodies.get(path).cloned().ok_or("no request bodies")?;
            let load = Load {
                path: *path,
                pool,
                token: Arc::from(token.as_str()),
                cursor: Arc::new(AtomicUsize::new(0)),
            };
            if !opts.warmup.is_zero() {
                let c = opts.concurrency.get(opts.concurrency.len() / 2).copied().unwrap_or(8);
                let r = phase(&target, &server, opts, &load, c, opts.warmup, false).await?;
                println!(
                    "ca-bench: warm-up {} x{c}: {:.0}/s",
                    path.name(),
                    r.ok as f64 / r.secs.max(1e-9)
                );
            }
            for &c in &opts.concurrency {
                let r = phase(&target, &server, opts, &load, c, opts.duration, true).await?;
                print_row(&r);
                rows.push(r);
            }
        }
        Ok::<_, String>(rows)
    });
    drop(runtime);
    let _ = server.stop();
    let rows = rows?;
    println!();
    println!("ca-bench: {pinning}; load average after the run {}", loadavg());
    println!(
        "ca-bench: server p50/p99 are the upper bounds of the `*_http_request_seconds` buckets the quantile falls in \
         (time from the router's middleware to the answer; excludes accept/read queueing)"
    );
    print_table(&rows);
    Ok(())
}

// ---------- requests ----------

/// A DER PKCS#10 request for `key` as sigstore-python builds it: empty subject, an extensionRequest attribute
/// with critical `BasicConstraints CA:false`, ecdsa-with-SHA256.
fn csr_der(key: &SigningKey) -> Result<Vec<u8>> {
    let oid = |s: &str| w::oid(s).map_err(|e| format!("OID {s}: {e}"));
    let basic_constraints = w::sequence(&[
        &oid("2.5.29.19")?,
        &w::boolean(true),
        &w::octet_string(&w::sequence(&[])),
    ]);
    let extension_request = w::sequence(&[
        &oid("1.2.840.113549.1.9.14")?,
        &w::set_of(vec![w::sequence(&[&basic_constraints])]),
    ]);
    let info = w::sequence(&[
        &w::integer_u64(0),
        &w::sequence(&[]),
        key.public_key().spki_der(),
        &w::explicit(0, &extension_request),
    ]);
    let alg = w::sequence(&[&oid("1.2.840.10045.4.3.2")?]);
    let sig = key.sign(&info).map_err(|e| format!("signing the CSR: {e}"))?;
    Ok(w::sequence(&[&info, &alg, &w::bit_string(&sig)]))
}

/// Request bodies per path, `opts.keys` of each.
fn prepare(opts: &Options, token: &str) -> Result<BTreeMap<Endpoint, Arc<Vec<Bytes>>>> {
    let mut out = BTreeMap::new();
    let cert_paths: Vec<Endpoint> = opts
        .paths
        .iter()
        .copied()
        .filter(|p| matches!(p, Endpoint::Pop | Endpoint::Csr))
        .collect();
    let mut pop = Vec::new();
    let mut csr = Vec::new();
    if !cert_paths.is_empty() {
        for _ in 0..opts.keys {
            let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| format!("P-256 key: {e}"))?;
            if cert_paths.contains(&Endpoint::Pop) {
                let proof = key.sign(EMAIL.as_bytes()).map_err(|e| format!("signing: {e}"))?;
                let body = serde_json::json!({
                    "credentials": {"oidcIdentityToken": token},
                    "publicKeyRequest": {
                        "publicKey": {
                            "algorithm": "ECDSA",
                            "content": sigil_crypto::pem_encode("PUBLIC KEY", key.public_key().spki_der()),
                        },
                        "proofOfPossession": B64.encode(proof),
                    },
                });
                pop.push(Bytes::from(body.to_string()));
            }
            if cert_paths.contains(&Endpoint::Csr) {
                let pem = sigil_crypto::pem_encode("CERTIFICATE REQUEST", &csr_der(&key)?);
                let body = serde_json::json!({"certificateSigningRequest": B64.encode(pem)});
                csr.push(Bytes::from(body.to_string()));
            }
        }
    }
    out.insert(Endpoint::Pop, Arc::new(pop));
    out.insert(Endpoint::Csr, Arc::new(csr));
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut tsa = Vec::new();
    let mut tsa_json = Vec::new();
    for i in 0..opts.keys {
        let mut random = [0u8; 16];
        aws_lc_rs::rand::SecureRandom::fill(&rng, &mut random).map_err(|_| "random bytes")?;
        let (sig, nonce) = random.split_at(8);
        let req = sigil_tsa::TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, sig).with_nonce(nonce);
        tsa.push(Bytes::from(req.to_der()));
        let body = serde_json::json!({
            "artifactHash": B64.encode(req.imprint()),
            "hashAlgorithm": "sha256",
            "nonce": i as u64 + 1,
            "certificates": true,
        });
        tsa_json.push(Bytes::from(body.to_string()));
    }
    out.insert(Endpoint::Tsa, Arc::new(tsa));
    out.insert(Endpoint::TsaJson, Arc::new(tsa_json));
    Ok(out)
}

fn mint_token(sigil: &Path, data: &Path) -> Result<String> {
    let out = Command::new(sigil)
        .args(["dev-token", "--email", EMAIL, "--ttl", "86400", "--data-dir"])
        .arg(data)
        .output()
        .map_err(|e| format!("sigil dev-token: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "sigil dev-token failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

// ---------- the server ----------

/// `sigil serve --dev` on a fresh data directory, optionally pinned to core 0.
fn start_server(bin: &Path, data: &Path, log: &Path, pin: bool) -> Result<Server> {
    let mut cmd = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data);
    Server::spawn(cmd, log)
}

// ---------- load ----------

#[derive(Clone)]
struct Load {
    path: Endpoint,
    pool: Arc<Vec<Bytes>>,
    token: Arc<str>,
    /// Round-robin position in `pool`, shared by all connections.
    cursor: Arc<AtomicUsize>,
}

fn request(t: &Target, load: &Load) -> Result<Request<Full<Bytes>>> {
    let n = load.pool.len().max(1);
    let i = load.cursor.fetch_add(1, Ordering::Relaxed) % n;
    let body = load.pool.get(i).cloned().ok_or("empty request pool")?;
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(load.path.route())
        .header(HOST, &t.host)
        .header(CONTENT_TYPE, load.path.content_type());
    if load.path == Endpoint::Csr {
        // sigstore-python sends the token in the Authorization header (INTEROP.md §2.4).
        b = b.header(AUTHORIZATION, format!("Bearer {}", load.token));
    }
    b.body(Full::new(body)).map_err(|e| e.to_string())
}

/// A sanity check of the first answer of a phase.
fn check_answer(path: Endpoint, body: &[u8]) -> Result<()> {
    match path {
        Endpoint::Pop | Endpoint::Csr => {
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| format!("signingCert answer is not JSON: {e}"))?;
            let n = v
                .pointer("/signedCertificateEmbeddedSct/chain/certificates")
                .and_then(serde_json::Value::as_array)
                .map_or(0, Vec::len);
            if n < 2 {
                return Err("signingCert answer without a certificate chain".into());
            }
            Ok(())
        }
        Endpoint::Tsa | Endpoint::TsaJson => match body.first() {
            Some(0x30) => Ok(()),
            _ => Err("timestamp answer is not DER".into()),
        },
    }
}

async fn client(t: Target, mut sender: logbench::Sender, load: Load, deadline: Instant, n: usize) -> ClientResult {
    let mut r = ClientResult::default();
    let mut checked = n != 0;
    while Instant::now() < deadline {
        let req = match request(&t, &load) {
            Ok(req) => req,
            Err(e) => {
                r.check = Some(format!("building a request: {e}"));
                break;
            }
        };
        let sent = Instant::now();
        match logbench::exchange(&mut sender, req).await {
            Ok((status, body)) => {
                let done = Instant::now();
                r.last_done = Some(done);
                if status == 201 || status == 200 {
                    r.ok += 1;
                    r.latencies_us
                        .push(u32::try_from((done - sent).as_micros()).unwrap_or(u32::MAX));
                    if !checked {
                        checked = true;
                        r.check = check_answer(load.path, &body).err();
                    }
                } else {
                    *r.statuses.entry(status).or_default() += 1;
                    if r.first_error.is_none() {
                        r.first_error = Some(format!("{status}: {}", String::from_utf8_lossy(&body)));
                    }
                }
            }
            Err(_) => {
                r.errors += 1;
                match logbench::connect(&t).await {
                    Ok(s) => sender = s,
                    Err(_) => break,
                }
            }
        }
    }
    r
}

/// Cumulative bucket counts (by upper bound, `+Inf` as infinity), count and sum of a histogram in `/metrics`.
#[derive(Debug, Default, Clone)]
struct Hist {
    buckets: Vec<(f64, f64)>,
    count: f64,
    sum: f64,
}

async fn histogram(t: &Target, name: &str) -> Result<Option<Hist>> {
    let (_, body) = logbench::get_once(t, "/metrics").await?;
    let text = String::from_utf8_lossy(&body);
    let mut h = Hist::default();
    let mut found = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(&format!("{name}_bucket{{le=\"")) {
            let Some((bound, value)) = rest.split_once("\"} ") else {
                continue;
            };
            let bound = if bound == "+Inf" {
                f64::INFINITY
            } else {
                bound.parse().unwrap_or(f64::INFINITY)
            };
            h.buckets.push((bound, value.trim().parse().unwrap_or(0.0)));
            found = true;
        } else if let Some(v) = line.strip_prefix(&format!("{name}_count ")) {
            h.count = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix(&format!("{name}_sum ")) {
            h.sum = v.trim().parse().unwrap_or(0.0);
        }
    }
    Ok(found.then_some(h))
}

/// Server-side quantiles from two histogram snapshots: the upper bound of the bucket each falls in, and the mean.
fn server_quantiles(before: &Hist, after: &Hist) -> Option<(f64, f64, f64)> {
    let count = after.count - before.count;
    if count <= 0.0 {
        return None;
    }
    let delta: Vec<(f64, f64)> = after
        .buckets
        .iter()
        .map(|(b, c)| {
            let prior = before.buckets.iter().find(|(pb, _)| pb == b).map_or(0.0, |(_, pc)| *pc);
            (*b, c - prior)
        })
        .collect();
    let q = |q: f64| {
        delta
            .iter()
            .find(|(_, c)| *c >= q * count)
            .map_or(f64::INFINITY, |(b, _)| *b)
    };
    Some((
        q(0.50) * 1000.0,
        q(0.99) * 1000.0,
        (after.sum - before.sum) / count * 1000.0,
    ))
}

struct Row {
    path: Endpoint,
    clients: usize,
    ok: u64,
    secs: f64,
    /// Client-side p50, p99, max (ms).
    latency: Option<(f64, f64, f64)>,
    /// Server-side p50 bound, p99 bound, mean (ms).
    server: Option<(f64, f64, f64)>,
    failures: String,
    /// Server CPU, generator CPU, other processes (cores).
    cpu: (f64, f64, f64),
}

/// Waits (bounded) until the machine is idle apart from the server and this process.
async fn wait_idle(limit: Duration, server_pid: u32) {
    if limit.is_zero() {
        return;
    }
    let give_up = Instant::now() + limit;
    let mut told = false;
    loop {
        let own = || logbench::process_cpu(server_pid) + logbench::process_cpu(std::process::id());
        let (system, ours) = (logbench::system_busy(), own());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let others = (logbench::system_busy() - system) - (own() - ours);
        if others < 0.25 {
            return;
        }
        if Instant::now() >= give_up {
            println!("ca-bench: the machine is still busy ({others:.2} cores used by others); measuring anyway");
            return;
        }
        if !told {
            println!("ca-bench: waiting for the machine to go idle ({others:.2} cores used by others)");
            told = true;
        }
    }
}

async fn phase(
    t: &Target,
    server: &Server,
    opts: &Options,
    load: &Load,
    clients: usize,
    duration: Duration,
    timed: bool,
) -> Result<Row> {
    if timed {
        wait_idle(opts.wait_idle, server.pid).await;
    }
    let mut senders = Vec::with_capacity(clients);
    for _ in 0..clients {
        senders.push(logbench::connect(t).await?);
    }
    let hist_before = histogram(t, load.path.histogram()).await?;
    let server_before = logbench::process_cpu(server.pid);
    let self_before = logbench::process_cpu(std::process::id());
    let busy_before = logbench::system_busy();
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(n, s)| tokio::spawn(client(t.clone(), s, load.clone(), deadline, n)))
        .collect();
    let mut all = logbench::join_clients(tasks).await?;
    let end = all.last_done.unwrap_or_else(Instant::now).max(start);
    let secs = (end - start).as_secs_f64().max(1e-9);
    let server_cpu = logbench::process_cpu(server.pid) - server_before;
    let self_cpu = logbench::process_cpu(std::process::id()) - self_before;
    let busy = logbench::system_busy() - busy_before;
    let hist_after = histogram(t, load.path.histogram()).await?;
    if let Some(problem) = all.check {
        return Err(format!("{}: {problem}", load.path.name()));
    }
    if all.ok == 0 {
        return Err(format!(
            "{}: no request succeeded (first failure: {})",
            load.path.name(),
            all.first_error.unwrap_or_else(|| "transport errors".into())
        ));
    }
    all.latencies_us.sort_unstable();
    let pct = |q: f64| {
        let n = all.latencies_us.len();
        let i = ((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
        all.latencies_us.get(i).map_or(0.0, |v| f64::from(*v) / 1000.0)
    };
    let latency = (!all.latencies_us.is_empty()).then(|| (pct(0.50), pct(0.99), pct(1.0)));
    let server_q = match (&hist_before, &hist_after) {
        (Some(b), Some(a)) => server_quantiles(b, a),
        _ => None,
    };
    let failures = if all.statuses.is_empty() && all.errors == 0 {
        "0".to_string()
    } else {
        let mut parts: Vec<String> = all.statuses.iter().map(|(s, c)| format!("{c}×{s}")).collect();
        if all.errors > 0 {
            parts.push(format!("{} transport errors", all.errors));
        }
        if let Some(e) = &all.first_error {
            parts.push(format!("first: {}", e.chars().take(120).collect::<String>()));
        }
        parts.join(", ")
    };
    Ok(Row {
        path: load.path,
        clients,
        ok: all.ok,
        secs,
        latency,
        server: server_q,
        failures,
        cpu: (
            server_cpu / secs,
            self_cpu / secs,
            ((busy - server_cpu - self_cpu) / secs).max(0.0),
        ),
    })
}

// ---------- output ----------

fn ms(v: f64) -> String {
    if v.is_infinite() {
        "> 10 s".into()
    } else if v < 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

fn server_text(r: &Row) -> (String, String, String) {
    r.server.map_or_else(
        || ("n/a".into(), "n/a".into(), "n/a".into()),
        |(p50, p99, mean)| (format!("≤ {}", ms(p50)), format!("≤ {}", ms(p99)), ms(mean)),
    )
}

fn print_row(r: &Row) {
    let lat = r.latency.map_or_else(String::new, |(p50, p99, max)| {
        format!(", client p50 {} ms, p99 {} ms, max {} ms", ms(p50), ms(p99), ms(max))
    });
    let (s50, s99, mean) = server_text(r);
    let per_core = r.ok as f64 / r.secs / r.cpu.0.max(1e-9);
    println!(
        "ca-bench: {} x{}: {} ok in {:.1} s = {:.0}/s{lat}; server p50 {s50} ms, p99 {s99} ms, mean {mean} ms; \
         failures {}; CPU server {:.2} ({per_core:.0}/s per busy core), generator {:.2}, others {:.2}",
        r.path.name(),
        r.clients,
        r.ok,
        r.secs,
        r.ok as f64 / r.secs,
        r.failures,
        r.cpu.0,
        r.cpu.1,
        r.cpu.2,
    );
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| path | conns | ok | per s | client p50 ms | client p99 ms | client max ms | server p50 ms | server p99 ms | server mean ms | failures | CPU server / generator / others |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let (p50, p99, max) = r
            .latency
            .map_or((String::new(), String::new(), String::new()), |(a, b, c)| {
                (ms(a), ms(b), ms(c))
            });
        let (s50, s99, mean) = server_text(r);
        println!(
            "| {} | {} | {} | {:.0} | {p50} | {p99} | {max} | {s50} | {s99} | {mean} | {} | {:.2} / {:.2} / {:.2} |",
            r.path.name(),
            r.clients,
            r.ok,
            r.ok as f64 / r.secs,
            r.failures,
            r.cpu.0,
            r.cpu.1,
            r.cpu.2,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_is_accepted_by_the_ca() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).ok();
        let csr = key.as_ref().and_then(|k| csr_der(k).ok()).unwrap_or_default();
        let pem = sigil_crypto::pem_encode("CERTIFICATE REQUEST", &csr);
        let body = serde_json::json!({"certificateSigningRequest": B64.encode(pem)}).to_string();
        let req = sigil_ca::request::SigningCertRequest::parse(body.as_bytes(), Some("token"));
        let key_out = req.map(|r| r.proof.verify(EMAIL));
        assert!(
            matches!((&key_out, &key), (Ok(Ok(k)), Some(s)) if k == s.public_key()),
            "{key_out:?}"
        );
    }

    #[test]
    fn quantiles_from_bucket_deltas() {
        let before = Hist {
            buckets: vec![(0.001, 5.0), (0.01, 10.0), (f64::INFINITY, 10.0)],
            count: 10.0,
            sum: 0.02,
        };
        let after = Hist {
            buckets: vec![(0.001, 55.0), (0.01, 109.0), (f64::INFINITY, 110.0)],
            count: 110.0,
            sum: 0.22,
        };
        let q = server_quantiles(&before, &after);
        assert!(q.is_some_and(|(p50, p99, mean)| p50 == 1.0 && p99 == 10.0 && (mean - 2.0).abs() < 1e-9));
    }

    #[test]
    fn options() {
        let args: Vec<String> = ["--concurrency", "2,4", "--paths", "csr,tsa"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = Options::parse(&args);
        assert!(o.is_ok_and(|o| o.concurrency == [2, 4] && o.paths == [Endpoint::Csr, Endpoint::Tsa]));
        assert!(Options::parse(&["--paths".to_string(), "x".to_string()]).is_err());
    }
}
