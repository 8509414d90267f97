//! What the integration tests that run `sigil` as a process share: spawning it (and the interop clients) with a
//! clean environment, capturing what they print, starting `sigil log serve` and `sigil serve --dev`, minting
//! development tokens, finding the real Sigstore clients (and the `SIGIL_REQUIRE_INTEROP` rule), a tiny
//! HTTP/1.1 client, signed hashedrekord submissions, and reading tiles.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};
use sigil_bundle::encoding::encode_base64;
use sigil_tlog::TILE_WIDTH;

pub const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");
pub const WIDTH: u64 = TILE_WIDTH as u64;

/// `sigil log serve` on `dir`, on a free loopback port.
pub fn serve_command(dir: &Path) -> Command {
    let mut cmd = Command::new(SIGIL);
    cmd.args(["log", "serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"]);
    cmd
}

/// A running server process (`sigil log serve`, `sigil serve`, the Fulcio double); killed (and reaped) when
/// dropped.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:<port>`
    pub addr: String,
    /// The base URL it printed (`http://…` or `https://…`).
    url: String,
    /// Kept open: the server may write to stdout later.
    _stdout: BufReader<ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Spawns `cmd`, appends its stderr to `stderr_log` and reads the base URL it prints as its first stdout line
    /// (`http://` or `https://` and a loopback address). Does not wait for anything else.
    pub fn spawn(mut cmd: Command, stderr_log: &Path) -> Self {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_log)
            .unwrap();
        let mut child = cmd.stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line.trim().to_owned();
        let addr = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        let Some(addr) = addr.filter(|a| a.starts_with("127.0.0.1:")).map(str::to_owned) else {
            let status = child.wait();
            panic!(
                "{cmd:?} did not start ({status:?}); first stdout line {line:?}\n{}",
                tail(stderr_log)
            );
        };
        Self {
            child,
            addr,
            url,
            _stdout: stdout,
        }
    }

    /// [`Server::spawn`], then (plain HTTP) waits until `/healthz` answers 200. With HTTPS it does not wait: the
    /// listener is bound before the URL is printed, so connections queue until it serves.
    pub fn start(cmd: Command, stderr_log: &Path, ready_within: Duration) -> Self {
        let server = Self::spawn(cmd, stderr_log);
        if server.url.starts_with("https://") {
            return server;
        }
        let deadline = Instant::now() + ready_within;
        while !matches!(http(&server.addr, "GET", "/healthz", None), Ok(r) if r.status == 200) {
            assert!(
                Instant::now() < deadline,
                "/healthz never answered 200\n{}",
                tail(stderr_log)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        server
    }

    /// The base URL it printed, `http://127.0.0.1:<port>` (or `https://…`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// SIGKILL (what `Child::kill` sends on unix), and reap it.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The last lines of the server's stderr, for failure messages.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(40);
    format!("--- server stderr (last lines) ---\n{}", lines[from..].join("\n"))
}

// ---------- a tiny HTTP/1.1 client (one connection per request) ----------

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

pub fn http(addr: &str, method: &str, path: &str, body: Option<&[u8]>) -> std::io::Result<Resp> {
    request(addr, method, path, body.map(|b| ("application/json", b)))
}

/// A request whose body has the given media type.
pub fn http_with_type(addr: &str, method: &str, path: &str, media_type: &str, body: &[u8]) -> std::io::Result<Resp> {
    request(addr, method, path, Some((media_type, body)))
}

fn request(addr: &str, method: &str, path: &str, body: Option<(&str, &[u8])>) -> std::io::Result<Resp> {
    let sock: SocketAddr = addr.parse().unwrap();
    let mut s = TcpStream::connect_timeout(&sock, Duration::from_secs(5))?;
    // Above the server's 20 s append timeout: a live server always answers first.
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    s.set_nodelay(true)?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some((media_type, b)) = body {
        req.push_str(&format!(
            "Content-Type: {media_type}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.map_or(&[][..], |(_, b)| b));
    s.write_all(&bytes)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse_response(&buf).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "incomplete response"))
}

/// Parses a complete response; a truncated one (the server died while answering) is `None`.
pub fn parse_response(buf: &[u8]) -> Option<Resp> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..split]).ok()?;
    let rest = &buf[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_owned(), v.trim().to_owned()))
        })
        .collect::<Option<_>>()?;
    let mut resp = Resp {
        status,
        headers,
        body: Vec::new(),
    };
    if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut rest = rest;
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&rest[..eol]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            rest = rest.get(eol + 2..)?;
            if size == 0 {
                return Some(resp);
            }
            resp.body.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
    }
    let len: usize = resp.header("content-length")?.parse().ok()?;
    if rest.len() != len {
        return None;
    }
    resp.body = rest.to_vec();
    Some(resp)
}

// ---------- submissions and tiles ----------

/// A P-256 key that signs artifacts into Rekor v1 hashedrekord proposed entries.
pub struct EntrySigner {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// Base64 of the PEM public key, as the entry carries it.
    public_key: String,
}

impl EntrySigner {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let spki = sigil_crypto::spki_der_for(sigil_crypto::KeyAlgorithm::EcdsaP256, key.public_key().as_ref());
        let public_key = encode_base64(sigil_crypto::pem_encode("PUBLIC KEY", &spki).as_bytes());
        Self { key, rng, public_key }
    }

    /// The request body and the artifact's SHA-256 (hex).
    pub fn hashedrekord(&self, artifact: &[u8]) -> (Vec<u8>, String) {
        let digest_hex = hex::encode(sigil_crypto::sha256(artifact));
        let signature = self.key.sign(&self.rng, artifact).unwrap();
        let request = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest_hex}},
                "signature": {
                    "content": encode_base64(signature.as_ref()),
                    "publicKey": {"content": self.public_key},
                },
            },
        });
        (serde_json::to_vec(&request).unwrap(), digest_hex)
    }
}

/// The entries of a C2SP entry bundle (uint16 big-endian length prefixes); `None` if truncated.
pub fn parse_bundle(mut bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let len = usize::from(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]));
        out.push(bytes.get(2..2 + len)?);
        bytes = &bytes[2 + len..];
    }
    Some(out)
}

/// (index, width) of the tiles of a level holding `n` hashes.
pub fn tiles_of(n: u64) -> impl Iterator<Item = (u64, u16)> {
    (0..n.div_ceil(WIDTH)).map(move |i| (i, u16::try_from((n - i * WIDTH).min(WIDTH)).unwrap()))
}

// ---------- a whole private instance (`sigil serve --dev`) ----------

/// `sigil serve --dev` on `dir`, on a free loopback port, with a clean environment ([`cmd`]).
pub fn serve_dev_command(dir: &Path) -> Command {
    let mut c = cmd(SIGIL);
    c.args(["serve", "--dev", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"]);
    c
}

/// Starts `sigil serve --dev` on `dir` (stderr appended to `stderr_log`), reads the base URL from its first
/// stdout line and waits until `/healthz` answers 200. The trust files (`trusted_root.json`,
/// `signing_config.v0.2.json`, `trust_config.json`) are written before it serves.
pub fn start_instance(dir: &Path, stderr_log: &Path) -> Server {
    Server::start(serve_dev_command(dir), stderr_log, Duration::from_secs(30))
}

/// A token from the development issuer of the `sigil serve --dev` instance on `dir` (`sigil dev-token`), for
/// `email`, valid for `ttl` seconds (default 600).
pub fn dev_token(dir: &Path, email: &str, ttl: Option<u32>) -> String {
    let mut c = cmd(SIGIL);
    c.args(["dev-token", "--data-dir"]).arg(dir).args(["--email", email]);
    if let Some(ttl) = ttl {
        c.args(["--ttl", &ttl.to_string()]);
    }
    ok("sigil dev-token", &mut c).trim().to_owned()
}

// ---------- running processes ----------

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interop driver scripts (`tests/interop/` of this crate).
pub fn drivers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// A command for the loopback tests: no proxies, no ambient identity token (`SIGSTORE_ID_TOKEN`, GitHub
/// Actions), no CA settings from the environment, no stray Python bytecode files.
pub fn cmd(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "SIGSTORE_ID_TOKEN",
        "SIGSTORE_IDENTITY_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        // Trust comes only from what a test passes (`--ca-bundle`, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS).
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        // A TUF key password comes only from the test (`sigil serve --dev` then uses an empty one).
        "SIGIL_TUF_PASSWORD",
    ] {
        c.env_remove(v);
    }
    // Never the developer's own `sigil trust init` choice or TUF cache: without a test's own SIGIL_HOME, trust
    // resolution finds nothing pinned and no cache.
    c.env("SIGIL_HOME", repo().join("target/test-sigil-home"));
    c.env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    c
}

/// How a process ended and what it printed.
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// For failure messages.
    pub fn show(&self, what: &str) -> String {
        format!(
            "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }

    /// stdout then stderr.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `c` to its end (stdin closed), capturing stdout and stderr.
pub fn run(c: &mut Command) -> Ran {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {c:?}: {e}"));
    Ran {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `c`, which must succeed; returns its stdout.
#[track_caller]
pub fn ok(what: &str, c: &mut Command) -> String {
    let r = run(c);
    assert!(r.status.success(), "{}", r.show(what));
    if std::env::var_os("SHOW_OUTPUT").is_some() {
        eprintln!("{}", r.show(what));
    }
    r.stdout
}

/// Runs `c`, which must fail.
#[track_caller]
pub fn fails(what: &str, c: &mut Command) -> Ran {
    let r = run(c);
    assert!(!r.status.success(), "{} (expected a failure)", r.show(what));
    if std::env::var_os("SHOW_OUTPUT").is_some() {
        eprintln!("{}", r.show(what));
    }
    r
}

/// How a [`run_logged`] invocation ended.
pub struct Outcome {
    pub ok: bool,
    /// `None`: killed after the timeout.
    pub status: Option<ExitStatus>,
    /// The command, exit status and the tail of the output, for failure messages.
    pub detail: String,
}

/// Runs `c` with its output (stdout and stderr) in `log`, so nothing blocks on a full pipe, killing it after
/// `timeout`.
pub fn run_logged(mut c: Command, log: &Path, timeout: Duration) -> Outcome {
    let out = std::fs::File::create(log).unwrap();
    let mut child = c
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {c:?}: {e}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(6)..].join("\n    ");
    let ok = status.is_some_and(|s| s.success());
    let how = status.map_or_else(|| format!("timed out after {timeout:?}"), |s| s.to_string());
    Outcome {
        ok,
        status,
        detail: format!("{c:?}\n  {how}; output ({}):\n    {tail}", log.display()),
    }
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// An in-toto v1 statement about the artifact `name` with these bytes.
pub fn statement(name: &str, artifact: &[u8], predicate_type: &str, predicate: Value) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hex::encode(sigil_crypto::sha256(artifact))}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })
}

/// A minimal SLSA provenance v1 predicate.
pub fn slsa_predicate() -> Value {
    json!({
        "buildDefinition": {"buildType": "https://sigil.test/build/v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": "https://sigil.test/builder"}},
    })
}

// ---------- the real Sigstore clients ----------

pub const PY_VERSION: &str = "4.5.1";
pub const JS_VERSION: &str = "5.0.1";

/// Where `scripts/install-interop-clients.sh` puts the clients.
pub struct Clients {
    /// `.venv/bin/python`, with sigstore-python [`PY_VERSION`] (and `cryptography`).
    pub python: PathBuf,
    /// `.interop/js`: sigstore-js 4.x and `@sigstore/cli` (for `log_interop`).
    pub js4: PathBuf,
    /// `.interop/js5`: sigstore-js [`JS_VERSION`].
    pub js5: PathBuf,
}

/// A client a test needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Python,
    /// sigstore-js 4.x with `@sigstore/cli`, and node.
    Js4,
    /// sigstore-js [`JS_VERSION`], and node.
    Js5,
}

/// The clients, or what is missing of `needs`.
pub fn find_clients(needs: &[Need]) -> Result<Clients, String> {
    let root = repo();
    let c = Clients {
        python: root.join(".venv/bin/python"),
        js4: root.join(".interop/js"),
        js5: root.join(".interop/js5"),
    };
    let mut missing = Vec::new();
    if needs.contains(&Need::Python) {
        let py_ok = Command::new(&c.python)
            .args([
                "-c",
                &format!("import cryptography, sigstore, sys; sys.exit(sigstore.__version__ != '{PY_VERSION}')"),
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if !py_ok {
            missing.push(format!("sigstore-python {PY_VERSION} in {}", c.python.display()));
        }
    }
    if needs.contains(&Need::Js4) || needs.contains(&Need::Js5) {
        let node_ok = Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !node_ok {
            missing.push("node on PATH".to_owned());
        }
    }
    if needs.contains(&Need::Js4) && !c.js4.join("node_modules/sigstore/package.json").is_file() {
        missing.push(format!("sigstore-js in {}", c.js4.display()));
    }
    if needs.contains(&Need::Js5) {
        let js_version = std::fs::read(c.js5.join("node_modules/sigstore/package.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned));
        if js_version.as_deref() != Some(JS_VERSION) {
            missing.push(format!(
                "sigstore-js {JS_VERSION} in {} (found {js_version:?})",
                c.js5.display()
            ));
        }
    }
    if missing.is_empty() {
        Ok(c)
    } else {
        Err(format!(
            "the real Sigstore clients are not installed: {}. Run scripts/install-interop-clients.sh \
             (`cargo xtask test` runs it first).",
            missing.join("; ")
        ))
    }
}

/// The clients `needs` names. When one is missing the test skips (`None`, with a message), or fails when
/// `SIGIL_REQUIRE_INTEROP=1`.
pub fn clients_or_skip(test: &str, needs: &[Need]) -> Option<Clients> {
    match find_clients(needs) {
        Ok(c) => Some(c),
        Err(msg) if std::env::var("SIGIL_REQUIRE_INTEROP").is_ok_and(|v| v == "1") => {
            panic!("{test}: {msg} (SIGIL_REQUIRE_INTEROP=1, so this is a failure)")
        }
        Err(msg) => {
            eprintln!("SKIPPED: {test}: {msg} Set SIGIL_REQUIRE_INTEROP=1 to make this a failure.");
            None
        }
    }
}

/// The clients `needs` names; missing ones fail the test, whatever `SIGIL_REQUIRE_INTEROP` says (for the tests
/// that never skip).
pub fn clients_required(test: &str, needs: &[Need]) -> Clients {
    find_clients(needs).unwrap_or_else(|msg| panic!("{test}: {msg}"))
}

// ---------- `sigil log serve` with the Fulcio test double ----------

/// `sigil log serve` (data in `W/log`) and the Fulcio test double `tests/interop/test_fulcio.py` (its CA in
/// `W/ca`) in the work folder `W`, with what a client needs written there: `token.jwt` (from the double),
/// `trusted_root.json` (the double's CA and CT key, the log's v1 and v2 APIs) and `trust_config.json` (with
/// [`LogWithFulcio::signing_config`] of both APIs).
pub struct LogWithFulcio {
    pub log: Server,
    pub fulcio: Server,
    /// The log's data directory.
    pub data: PathBuf,
    pub token: String,
    pub trusted_root: Value,
}

impl LogWithFulcio {
    pub fn start(w: &Path, python: &Path, issuer: &str, email: &str) -> Self {
        let data = w.join("log");
        let mut log_cmd = cmd(SIGIL);
        log_cmd
            .args(["log", "serve", "--data-dir"])
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"]);
        let log = Server::spawn(log_cmd, &w.join("log.stderr"));
        let mut fulcio_cmd = cmd(python);
        fulcio_cmd
            .arg(drivers().join("test_fulcio.py"))
            .arg("--out")
            .arg(w.join("ca"))
            .args(["--issuer", issuer, "--email", email]);
        let fulcio = Server::spawn(fulcio_cmd, &w.join("fulcio.stderr"));
        let ca = read_json(&w.join("ca/trust.json"));
        let token = std::fs::read_to_string(w.join("ca/token.jwt")).unwrap();
        std::fs::write(w.join("token.jwt"), &token).unwrap();
        let mut me = Self {
            log,
            fulcio,
            data,
            token,
            trusted_root: Value::Null,
        };
        // Both APIs of our log (same operator: sigstore-python picks v2 unless told `--rekor-version 1`).
        me.trusted_root = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [me.trust_entry(&[]), me.trust_entry(&["--api", "v2"])],
            "certificateAuthorities": [ca["certificateAuthority"]],
            "ctlogs": [ca["ctlog"]],
        });
        write_json(&w.join("trusted_root.json"), &me.trusted_root);
        write_json(
            &w.join("trust_config.json"),
            &json!({
                "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                "trustedRoot": me.trusted_root,
                "signingConfig": me.signing_config(&[1, 2]),
            }),
        );
        me
    }

    /// `sigil log trust-entry` of the log, with `extra` flags.
    pub fn trust_entry(&self, extra: &[&str]) -> Value {
        let out = ok(
            "sigil log trust-entry",
            cmd(SIGIL)
                .args(["log", "trust-entry", "--data-dir"])
                .arg(&self.data)
                .args(["--url", &self.log.url()])
                .args(extra),
        );
        serde_json::from_str(&out).unwrap()
    }

    /// A signing config: the double as the CA, the log's Rekor APIs of these major versions.
    pub fn signing_config(&self, rekor_versions: &[u8]) -> Value {
        let tlogs: Vec<Value> = rekor_versions
            .iter()
            .map(|v| match v {
                1 => self.trust_entry(&["--signing-config"]),
                _ => self.trust_entry(&["--signing-config", "--api", "v2"]),
            })
            .collect();
        json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [{"url": self.fulcio.url(), "majorApiVersion": 1, "operator": "sigil-test"}],
            "rekorTlogUrls": tlogs,
            "rekorTlogConfig": {"selector": "ANY"},
        })
    }
}

/// Re-derives the tree of size `size` from the level-0 tiles and entry bundles that `source` serves (by tile path),
/// checks it against the signed `root`, and checks every higher-level tile against it (fsck for L-12/L-13).
/// Returns the leaf hashes and the tree.
pub fn rederive_tree(
    size: u64,
    root: &sigil_tlog::Hash,
    source: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    what: &str,
) -> (Vec<sigil_tlog::Hash>, sigil_tlog::MerkleTree) {
    let mut leaves = Vec::with_capacity(usize::try_from(size).unwrap());
    for (index, width) in tiles_of(size) {
        let tile_path = sigil_tlog::tile_path(0, index, width).unwrap();
        let tile = source(&tile_path).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            tile.len(),
            usize::from(width) * 32,
            "{what}: {tile_path} has the wrong length"
        );
        let bundle_path = sigil_tlog::entries_path(index, width).unwrap();
        let bundle = source(&bundle_path).unwrap_or_else(|e| panic!("{what}: {e}"));
        let entries = parse_bundle(&bundle).unwrap_or_else(|| panic!("{what}: {bundle_path} is malformed"));
        assert_eq!(
            entries.len(),
            usize::from(width),
            "{what}: {bundle_path} has the wrong count"
        );
        for (hash, entry) in tile.chunks_exact(32).zip(entries) {
            let hash: sigil_tlog::Hash = hash.try_into().unwrap();
            assert_eq!(
                hash,
                sigil_tlog::hash_leaf(entry),
                "{what}: {tile_path} and {bundle_path} disagree at leaf {}",
                leaves.len()
            );
            leaves.push(hash);
        }
    }
    let tree = sigil_tlog::MerkleTree::from_leaf_hashes(leaves.iter().copied());
    assert_eq!(
        &tree.current_root(),
        root,
        "{what}: the tree re-derived from the tiles is not the signed one"
    );
    for level in 1..=sigil_tlog::MAX_TILE_LEVEL {
        let n = size >> (8 * u32::from(level));
        if n == 0 {
            break;
        }
        for (index, width) in tiles_of(n) {
            let path = sigil_tlog::tile_path(level, index, width).unwrap();
            let tile = source(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
            let expected: Vec<u8> = tree.tile(level, index, width).unwrap().concat();
            assert_eq!(tile, expected, "{what}: {path} is not the tree re-derived from level 0");
        }
    }
    (leaves, tree)
}
