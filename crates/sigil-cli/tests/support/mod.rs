//! What the tests that run `sigil log serve` as a process share: starting and stopping it, a tiny HTTP/1.1
//! client, signed hashedrekord submissions, and reading tiles.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
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

/// A running log process; killed (and reaped) when dropped.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:<port>`
    pub addr: String,
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
    /// Spawns `cmd` (which runs `sigil log serve`, possibly under a wrapper), appends its stderr to `stderr_log`,
    /// reads the base URL it prints and waits until `/healthz` answers 200.
    pub fn start(mut cmd: Command, stderr_log: &Path, ready_within: Duration) -> Self {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_log)
            .unwrap();
        let mut child = cmd.stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(addr) = line.trim().strip_prefix("http://").map(str::to_owned) else {
            let status = child.wait();
            panic!(
                "the log did not start ({status:?}); first stdout line {line:?}\n{}",
                tail(stderr_log)
            );
        };
        let server = Self {
            child,
            addr,
            _stdout: stdout,
        };
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

/// `sigil serve --dev` on `dir`, on a free loopback port.
pub fn serve_dev_command(dir: &Path) -> Command {
    let mut cmd = Command::new(SIGIL);
    cmd.args(["serve", "--dev", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"]);
    cmd
}

/// Starts `sigil serve --dev` on `dir` (stderr appended to `stderr_log`), reads the base URL from its first
/// stdout line and waits until `/healthz` answers 200. The trust files (`trusted_root.json`,
/// `signing_config.v0.2.json`, `trust_config.json`) are written before it serves.
pub fn start_instance(dir: &Path, stderr_log: &Path) -> Server {
    Server::start(serve_dev_command(dir), stderr_log, Duration::from_secs(30))
}

impl Server {
    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
