//! An in-process log server on a loopback port and a minimal blocking HTTP/1.1 client, for API tests.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_log::api::{ApiOptions, router};
use sigil_log::search::Search;
use sigil_log::server::{ServerOptions, serve};
use sigil_log::{Log, LogOptions};

pub struct Server {
    pub addr: SocketAddr,
    pub url: String,
    pub log: Arc<Log>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    done: Option<tokio::task::JoinHandle<()>>,
    search: Arc<Search>,
}

impl Server {
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, |_| {}, ServerOptions::default())
    }

    pub fn start_with(dir: &Path, tweak: impl FnOnce(&mut ApiOptions), server: ServerOptions) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let log = Arc::new(Log::open(dir, LogOptions::new("127.0.0.1")).unwrap());
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let mut opts = ApiOptions::new(url.clone());
        tweak(&mut opts);
        let search = Search::start(&dir.join("search.redb"), Arc::clone(&log)).unwrap();
        let app = router(Arc::clone(&log), Some(Arc::clone(&search)), opts).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = runtime.spawn(async move {
            serve(listener, app, &server, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            url,
            log,
            stop: Some(stop),
            runtime: Some(runtime),
            done: Some(done),
            search,
        }
    }

    pub fn search(&self) -> &Search {
        &self.search
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let (Some(rt), Some(done)) = (self.runtime.as_ref(), self.done.take()) {
            let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), done).await });
        }
        self.search.stop();
        self.log.close();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends raw request bytes on a fresh connection and reads the whole response (the request says `close`).
pub fn raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(request)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse_response(&buf)
}

pub fn parse_response(buf: &[u8]) -> std::io::Result<Response> {
    let bad = || std::io::Error::other(format!("bad response: {:?}", String::from_utf8_lossy(buf)));
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(bad)?;
    let head = std::str::from_utf8(&buf[..split]).map_err(|_| bad())?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Response { status, headers, body })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(std::str::from_utf8(&data[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

pub fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&[u8]>) -> Response {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    raw(addr, &bytes).unwrap()
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, None)
}

pub fn post(addr: SocketAddr, path: &str, body: &[u8]) -> Response {
    request(addr, "POST", path, Some(body))
}

/// A P-256 signer for test entries.
pub struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Default for Signer {
    fn default() -> Self {
        Self::new()
    }
}

impl Signer {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        Self {
            key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap(),
            rng,
        }
    }

    pub fn spki(&self) -> Vec<u8> {
        sigil_crypto::spki_der_for(sigil_crypto::KeyAlgorithm::EcdsaP256, self.key.public_key().as_ref())
    }

    pub fn pem(&self) -> String {
        sigil_crypto::pem_encode("PUBLIC KEY", &self.spki())
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.key.sign(&self.rng, msg).unwrap().as_ref().to_vec()
    }

    /// A Rekor v1 hashedrekord proposed entry for `artifact`.
    pub fn hashedrekord(&self, artifact: &[u8]) -> Vec<u8> {
        let digest = sigil_crypto::sha256(artifact);
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                "signature": {"content": B64.encode(self.sign(artifact)), "publicKey": {"content": B64.encode(self.pem())}},
            },
        }))
        .unwrap()
    }

    /// A Rekor v2 hashedRekordRequestV002 for `artifact`.
    pub fn hashedrekord_v2(&self, artifact: &[u8]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"hashedRekordRequestV002": {
            "digest": B64.encode(sigil_crypto::sha256(artifact)),
            "signature": {"content": B64.encode(self.sign(artifact)), "verifier": {
                "publicKey": {"rawBytes": B64.encode(self.spki())}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}},
        }}))
        .unwrap()
    }

    /// A DSSE envelope (as a JSON string) signed `sigs` times by this key, and a v1 dsse proposed entry with
    /// `verifiers` copies of this key as verifiers.
    pub fn dsse(&self, payload: &[u8], sigs: usize, verifiers: usize) -> Vec<u8> {
        let pae = sigil_bundle::pae("application/vnd.in-toto+json", payload);
        let signatures: Vec<_> = (0..sigs)
            .map(|_| serde_json::json!({"sig": B64.encode(self.sign(&pae)), "keyid": ""}))
            .collect();
        let envelope = serde_json::json!({
            "payload": B64.encode(payload),
            "payloadType": "application/vnd.in-toto+json",
            "signatures": signatures,
        })
        .to_string();
        let verifier = B64.encode(self.pem());
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {"proposedContent": {"envelope": envelope, "verifiers": vec![verifier; verifiers]}},
        }))
        .unwrap()
    }
}

impl Signer {
    /// A v1 intoto 0.0.2 proposed entry (payload and signature base64-encoded twice, as @sigstore/cli sends it).
    pub fn intoto(&self, payload: &[u8]) -> Vec<u8> {
        let payload_type = "application/vnd.in-toto+json";
        let sig = self.sign(&sigil_bundle::pae(payload_type, payload));
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {"content": {
                "envelope": {
                    "payloadType": payload_type,
                    "payload": B64.encode(B64.encode(payload)),
                    "signatures": [{"sig": B64.encode(B64.encode(sig)), "publicKey": B64.encode(self.pem())}],
                },
                "hash": {"algorithm": "sha256", "value": "00"},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(sigil_crypto::sha256(payload))},
            }},
        }))
        .unwrap()
    }
}

pub fn b64(b: &[u8]) -> String {
    B64.encode(b)
}

pub fn unb64(s: &str) -> Vec<u8> {
    B64.decode(s).unwrap()
}
