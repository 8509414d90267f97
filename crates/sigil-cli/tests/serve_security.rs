#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SECURITY.md sections B (OIDC, O-01…O-12), C (CA, C-01…C-08) and E (TSA, T-01…T-06) against a running
//! `sigil serve --dev` process, over HTTP, the way real clients talk to it. Where a row needs a second issuer that
//! misbehaves (discovery redirects, JWKS on another host, refresh counting), a tiny HTTP server in this test plays
//! it and counts every request it gets; the instance trusts it through `--oidc-config`.
//!
//! Every test starts its own instance (a fresh data directory), so state assertions (CT tree size, request
//! counts, RSS) are not disturbed by the other tests running in parallel.

mod support;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sigil_bundle::encoding::{decode_base64, encode_base64};
use sigil_crypto::der::{self, encode, tag};
use sigil_crypto::der_write as w;
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, Signer, SigningKey, VerifyingKey};
use sigil_oidc::dev::{DevClaims, DevIssuer};
use sigil_x509::{Certificate, ExtendedKeyUsage, SubjectAltName};
use support::{Resp, SIGIL, Server, cmd, parse_response, serve_dev_command, tail};

// ---------- the instance ----------

struct Instance {
    server: Server,
    tmp: tempfile::TempDir,
    dir: PathBuf,
    stderr: PathBuf,
    dev: DevIssuer,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

impl Instance {
    /// `sigil serve --dev` on a fresh data directory, trusting the issuers of `oidc_config` too.
    fn start(oidc_config: Option<&Value>) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let stderr = tmp.path().join("stderr.log");
        let mut cmd = serve_dev_command(&dir);
        if let Some(config) = oidc_config {
            let path = tmp.path().join("oidc.json");
            std::fs::write(&path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
            cmd.arg("--oidc-config").arg(path);
        }
        let server = Server::start(cmd, &stderr, Duration::from_secs(60));
        let url = std::fs::read_to_string(dir.join("oidc/issuer-url")).unwrap();
        let der = std::fs::read(dir.join("oidc/dev-issuer.pk8")).unwrap();
        let dev = DevIssuer::from_pkcs8_der(&der, url.trim()).unwrap();
        Self {
            server,
            tmp,
            dir,
            stderr,
            dev,
        }
    }

    fn addr(&self) -> &str {
        &self.server.addr
    }

    fn iss(&self) -> String {
        self.dev.issuer_url().to_owned()
    }

    /// A good development token for `email` (sub = email).
    fn token(&self, email: &str) -> String {
        self.dev.mint(&DevClaims::email(email), now(), 600).unwrap()
    }

    /// The standard claims of a good token, to edit.
    fn claims(&self, email: &str) -> serde_json::Map<String, Value> {
        claims_for(&self.iss(), email)
    }

    fn sign(&self, payload: &serde_json::Map<String, Value>) -> String {
        sign_with(&self.dev, payload)
    }

    fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        request(self.addr(), method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", tail(&self.stderr)))
    }

    fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[], b"")
    }

    /// `POST /api/v2/signingCert` with a JSON body (token inside it, or in `bearer`).
    fn signing_cert(&self, body: &Value, bearer: Option<&str>) -> Resp {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        self.req(
            "POST",
            "/api/v2/signingCert",
            &headers,
            &serde_json::to_vec(body).unwrap(),
        )
    }

    /// A public-key request for `token` with a good proof of possession over `challenge`.
    fn issue_pk(&self, token: &str, key: &ClientKey, challenge: &str) -> Resp {
        self.signing_cert(&pk_body(token, &key.pem(), &key.pop(challenge)), None)
    }

    /// `/ct/v1/get-sth` tree size.
    fn ct_size(&self) -> u64 {
        let r = self.get("/ct/v1/get-sth");
        assert_eq!(r.status, 200, "get-sth: {}", String::from_utf8_lossy(&r.body));
        r.json()["tree_size"].as_u64().unwrap()
    }

    #[track_caller]
    fn assert_up(&self) {
        let r = self.get("/healthz");
        assert_eq!(r.status, 200, "the instance is not healthy\n{}", tail(&self.stderr));
    }

    fn pid(&self) -> u32 {
        self.server.child.id()
    }
}

fn claims_for(iss: &str, email: &str) -> serde_json::Map<String, Value> {
    let t = now();
    let v = json!({
        "iss": iss, "sub": email, "aud": "sigstore", "email": email, "email_verified": true,
        "iat": t, "nbf": t, "exp": t + 600,
    });
    v.as_object().unwrap().clone()
}

fn sign_with(issuer: &DevIssuer, payload: &serde_json::Map<String, Value>) -> String {
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": issuer.kid()});
    issuer.sign_jwt(&header, &Value::Object(payload.clone())).unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    encode_base64(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

#[track_caller]
fn expect(r: &Resp, want: u16, what: &str) {
    assert_eq!(
        r.status,
        want,
        "{what}: got {} {}",
        r.status,
        String::from_utf8_lossy(&r.body).chars().take(400).collect::<String>()
    );
}

#[track_caller]
fn expect_one_of(r: &Resp, want: &[u16], what: &str) {
    assert!(
        want.contains(&r.status),
        "{what}: got {} (want one of {want:?}) {}",
        r.status,
        String::from_utf8_lossy(&r.body).chars().take(400).collect::<String>()
    );
}

/// One HTTP/1.1 request with arbitrary headers (`Content-Length` added for a non-empty body).
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.set_write_timeout(Some(Duration::from_secs(20)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    // A server may answer (413) and close before the whole body went through: read what it said anyway.
    let written = s.write_all(&bytes);
    let mut buf = Vec::new();
    let read = s.read_to_end(&mut buf);
    if buf.is_empty() {
        written?;
        read?;
    }
    parse_response(&buf)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "incomplete or no response"))
}

// ---------- client keys, requests, certificates ----------

struct ClientKey(SigningKey);

impl ClientKey {
    fn new() -> Self {
        Self(SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
    }

    fn spki(&self) -> Vec<u8> {
        self.0.public_key().spki_der().to_vec()
    }

    fn pem(&self) -> String {
        sigil_crypto::pem_encode("PUBLIC KEY", &self.spki())
    }

    fn pop(&self, challenge: &str) -> String {
        encode_base64(&self.0.sign(challenge.as_bytes()).unwrap())
    }
}

fn pk_body(token: &str, pem: &str, pop: &str) -> Value {
    json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": pem}, "proofOfPossession": pop},
    })
}

fn csr_body(csr_der: &[u8]) -> Value {
    let pem = sigil_crypto::pem_encode("CERTIFICATE REQUEST", csr_der);
    json!({"certificateSigningRequest": encode_base64(pem.as_bytes())})
}

/// The chain of a 201 answer, leaf first.
fn chain_of(r: &Resp) -> Vec<Certificate> {
    let v = r.json();
    v["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Certificate::from_pem(p.as_str().unwrap()).unwrap())
        .collect()
}

fn oid_tlv(dotted: &str) -> Vec<u8> {
    w::oid(dotted).unwrap()
}

/// A PKCS#10 request: `spki` in the info, signed (ECDSA P-256 SHA-256) by `signer`, with `subject` and the
/// `extensions` (DER `Extension`s) in an extensionRequest attribute.
fn csr(spki: &[u8], signer: &SigningKey, subject: &[u8], extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut attrs = Vec::new();
    if !extensions.is_empty() {
        let exts = encode(tag::SEQUENCE, &extensions.concat());
        attrs = w::sequence(&[&oid_tlv("1.2.840.113549.1.9.14"), &encode(tag::SET, &exts)]);
    }
    let info = w::sequence(&[
        &w::integer_u64(0),
        subject,
        spki,
        &encode(tag::context_constructed(0), &attrs),
    ]);
    let sig = signer.sign(&info).unwrap();
    let alg = w::sequence(&[&oid_tlv("1.2.840.10045.4.3.2")]);
    w::sequence(&[&info, &alg, &w::bit_string(&sig)])
}

fn extension(oid: &str, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        w::sequence(&[&oid_tlv(oid), &w::boolean(true), &w::octet_string(value)])
    } else {
        w::sequence(&[&oid_tlv(oid), &w::octet_string(value)])
    }
}

fn cn_name(cn: &str) -> Vec<u8> {
    let atv = w::sequence(&[&oid_tlv("2.5.4.3"), &w::utf8_string(cn)]);
    w::sequence(&[&encode(tag::SET, &atv)])
}

// ---------- a scriptable HTTP server playing OIDC issuers ----------

type Route = (u16, Vec<(String, String)>, Vec<u8>);

/// Answers GETs from a path → response table and records every request path.
struct Mock {
    port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Mock {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, h) = (Arc::clone(&routes), Arc::clone(&hits));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, h) = (Arc::clone(&r), Arc::clone(&h));
                std::thread::spawn(move || Self::handle(stream, &r, &h));
            }
        });
        Self { port, routes, hits }
    }

    fn handle(stream: TcpStream, routes: &Mutex<HashMap<String, Route>>, hits: &Mutex<Vec<String>>) {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        if reader.read_line(&mut first).is_err() {
            return;
        }
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let path = first.split(' ').nth(1).unwrap_or("").to_owned();
        hits.lock().unwrap().push(path.clone());
        let (status, headers, body) =
            routes
                .lock()
                .unwrap()
                .get(&path)
                .cloned()
                .unwrap_or((404, Vec::new(), b"not found".to_vec()));
        let mut out = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (n, v) in headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        let mut stream = reader.into_inner();
        let _ = stream.write_all(out.as_bytes());
        let _ = stream.write_all(&body);
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set(&self, path: &str, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        let headers = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, headers, body.to_vec()));
    }

    fn set_json(&self, path: &str, v: &Value) {
        self.set(
            path,
            200,
            &[("Content-Type", "application/json")],
            &serde_json::to_vec(v).unwrap(),
        );
    }

    /// Serves `issuer`'s discovery document and JWKS under `prefix` (its issuer URL's path).
    fn serve_issuer(&self, prefix: &str, issuer: &DevIssuer) {
        self.set_json(
            &format!("{prefix}/.well-known/openid-configuration"),
            &issuer.discovery_document(),
        );
        self.set_json(&format!("{prefix}/jwks"), &issuer.jwks());
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().iter().filter(|p| *p == path).count()
    }

    fn total(&self) -> usize {
        self.hits.lock().unwrap().len()
    }
}

fn email_issuer(url: &str) -> Value {
    json!({"IssuerURL": url, "ClientID": "sigstore", "Type": "email"})
}

/// An instance that also trusts issuers played by mock servers:
/// - `a` at `{idp}/a` and `k` at `{idp}/k`: well-behaved (their discovery and JWKS served by `idp`);
/// - `{idp}/redir` and the meta issuer `{idp}/meta/*`: discovery answers 302 to `far` (which would serve a
///   valid document and keys there);
/// - `{idp}/j` (`jwks_uri` on `localhost:far`) and `{idp}/j2` (`jwks_uri` on `127.0.0.1:far`): JWKS elsewhere;
/// - `{trap}/real`: configured, never legitimately used; `trap` counts what reaches it.
struct Federation {
    inst: Instance,
    idp: Mock,
    far: Mock,
    trap: Mock,
    a: DevIssuer,
    k: DevIssuer,
    redir: DevIssuer,
    meta: DevIssuer,
    j: DevIssuer,
    j2: DevIssuer,
}

impl Federation {
    fn start() -> Self {
        Self::start_with(false)
    }

    /// With the meta issuer `{idp}/meta/*` configured too.
    fn start_with(with_meta: bool) -> Self {
        let (idp, far, trap) = (Mock::start(), Mock::start(), Mock::start());
        let base = idp.base();
        let a = DevIssuer::generate(format!("{base}/a")).unwrap();
        let k = DevIssuer::generate(format!("{base}/k")).unwrap();
        idp.serve_issuer("/a", &a);
        idp.serve_issuer("/k", &k);
        let far_local = format!("http://localhost:{}", far.port);
        let redir = DevIssuer::generate(format!("{base}/redir")).unwrap();
        let meta = DevIssuer::generate(format!("{base}/meta/x1")).unwrap();
        for (prefix, issuer) in [("/redir", &redir), ("/meta/x1", &meta)] {
            let discovery = format!("{prefix}/.well-known/openid-configuration");
            let location = format!("{far_local}{discovery}");
            idp.set(&discovery, 302, &[("Location", location.as_str())], b"");
            // What a follower of the redirect would find: a matching document and the keys.
            let mut doc = issuer.discovery_document();
            doc["jwks_uri"] = json!(format!("{far_local}{prefix}/jwks"));
            far.set_json(&discovery, &doc);
            far.set_json(&format!("{prefix}/jwks"), &issuer.jwks());
        }
        let j = DevIssuer::generate(format!("{base}/j")).unwrap();
        let j2 = DevIssuer::generate(format!("{base}/j2")).unwrap();
        for (prefix, issuer, host) in [
            ("/j", &j, far_local.clone()),
            ("/j2", &j2, format!("http://127.0.0.1:{}", far.port)),
        ] {
            let mut doc = issuer.discovery_document();
            doc["jwks_uri"] = json!(format!("{host}{prefix}/jwks"));
            idp.set_json(&format!("{prefix}/.well-known/openid-configuration"), &doc);
            far.set_json(&format!("{prefix}/jwks"), &issuer.jwks());
        }
        let trap_iss = format!("{}/real", trap.base());
        let mut issuers = serde_json::Map::new();
        for url in [
            a.issuer_url(),
            k.issuer_url(),
            redir.issuer_url(),
            j.issuer_url(),
            j2.issuer_url(),
            &trap_iss,
        ] {
            issuers.insert(url.to_owned(), email_issuer(url));
        }
        let mut config = json!({"OIDCIssuers": issuers});
        if with_meta {
            config["MetaIssuers"] = json!({format!("{base}/meta/*"): {"ClientID": "sigstore", "Type": "email"}});
        }
        let inst = Instance::start(Some(&config));
        Self {
            inst,
            idp,
            far,
            trap,
            a,
            k,
            redir,
            meta,
            j,
            j2,
        }
    }

    fn trap_iss(&self) -> String {
        format!("{}/real", self.trap.base())
    }
}

// =====================================================================================================
// B. OIDC token attacks
// =====================================================================================================

#[test]
fn o01_alg_none_is_refused() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "o01@example.test";
    let claims = Value::Object(inst.claims(email));
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "none", "typ": "JWT", "kid": inst.dev.kid()}),
        json!({"alg": "None"}),
    ] {
        let token = format!(
            "{}.{}.",
            b64url(&serde_json::to_vec(&header).unwrap()),
            b64url(&serde_json::to_vec(&claims).unwrap())
        );
        let r = inst.issue_pk(&token, &key, email);
        expect(&r, 401, &format!("alg {header}"));
    }
    // The same claims, properly signed, are accepted: the refusal above is about the algorithm.
    let good = inst.sign(&inst.claims(email));
    expect(&inst.issue_pk(&good, &key, email), 201, "control");
}

#[test]
fn o02_hs256_with_the_public_key_as_secret_is_refused() {
    use aws_lc_rs::hmac;
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "o02@example.test";
    let claims = serde_json::to_vec(&Value::Object(inst.claims(email))).unwrap();
    // Every encoding of the issuer's public key an attacker could use as the MAC secret.
    let jwks = inst.get("/oidc/jwks").body;
    let jwk = serde_json::to_vec(&inst.dev.jwks()["keys"][0]).unwrap();
    let jwk_text = inst.dev.jwks()["keys"][0].to_string();
    let secrets: Vec<Vec<u8>> = vec![jwks, jwk, jwk_text.into_bytes()];
    for alg in ["HS256", "HS384", "HS512"] {
        for secret in &secrets {
            let header = json!({"alg": alg, "typ": "JWT", "kid": inst.dev.kid()});
            let input = format!("{}.{}", b64url(&serde_json::to_vec(&header).unwrap()), b64url(&claims));
            let algorithm = match alg {
                "HS256" => hmac::HMAC_SHA256,
                "HS384" => hmac::HMAC_SHA384,
                _ => hmac::HMAC_SHA512,
            };
            let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
            let token = format!("{input}.{}", b64url(tag.as_ref()));
            expect(&inst.issue_pk(&token, &key, email), 401, alg);
        }
    }
}

#[test]
fn o03_audience_must_contain_sigstore() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "o03@example.test";
    for (aud, want) in [
        (json!("other"), 401),
        (json!(["other"]), 401),
        (json!([]), 401),
        (json!("Sigstore"), 401),
        (json!("sigstore "), 401),
        (json!(["sigstorex"]), 401),
        (json!(null), 401),
        (json!(["other", "sigstore"]), 201),
        (json!("sigstore"), 201),
    ] {
        let mut c = inst.claims(email);
        c.insert("aud".into(), aud.clone());
        expect(&inst.issue_pk(&inst.sign(&c), &key, email), want, &format!("aud {aud}"));
    }
    let mut c = inst.claims(email);
    c.remove("aud");
    expect(&inst.issue_pk(&inst.sign(&c), &key, email), 401, "aud missing");
}

#[test]
fn o04_times_are_enforced() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "o04@example.test";
    let t = now();
    type Case<'a> = (&'a str, Vec<(&'a str, Value)>, Vec<&'a str>);
    let cases: Vec<Case<'_>> = vec![
        (
            "exp in the past",
            vec![
                ("exp", json!(t - 3600)),
                ("iat", json!(t - 7200)),
                ("nbf", json!(t - 7200)),
            ],
            vec![],
        ),
        ("iat in the future", vec![("iat", json!(t + 3600))], vec![]),
        ("nbf in the future", vec![("nbf", json!(t + 3600))], vec![]),
        ("exp missing", vec![], vec!["exp"]),
        ("exp a string", vec![("exp", json!((t + 600).to_string()))], vec![]),
        ("exp huge float", vec![("exp", json!(1e300))], vec![]),
    ];
    for (what, set, remove) in cases {
        let mut c = inst.claims(email);
        for (k, v) in set {
            c.insert(k.into(), v);
        }
        for k in remove {
            c.remove(k);
        }
        expect(&inst.issue_pk(&inst.sign(&c), &key, email), 401, what);
    }
    // Inside the 60 s leeway, and the control, are accepted.
    let mut c = inst.claims(email);
    c.insert("iat".into(), json!(t + 5));
    expect(&inst.issue_pk(&inst.sign(&c), &key, email), 201, "iat 5 s ahead");
}

#[test]
fn o05_unknown_issuers_are_refused_without_any_fetch() {
    let fed = Federation::start();
    let inst = &fed.inst;
    let key = ClientKey::new();
    let email = "o05@example.test";
    let trap = fed.trap_iss();
    let t = fed.trap.port;
    let dev = inst.iss();
    let tricks = [
        format!("{trap}/"),
        trap.to_uppercase(),
        format!("HTTP://127.0.0.1:{t}/real"),
        format!("http://127.0.0.1:{t}/REAL"),
        format!("{trap}@evil.example"),
        format!("{trap}?x=1"),
        format!("{trap}#x"),
        format!("http://evil@127.0.0.1:{t}/real"),
        format!("http://127.0.0.1:{t}@evil.example/real"),
        format!("http://127.0.0.1:{t}/real/../real"),
        format!("http://127.0.0.1:{t}/other"),
        format!(" {trap}"),
        format!("{trap}\u{0}"),
        format!("{dev}/"),
        dev.to_uppercase(),
        format!("{dev}?"),
        format!("{dev}@127.0.0.1:{t}"),
    ];
    for iss in &tricks {
        let mut c = inst.claims(email);
        c.insert("iss".into(), json!(iss));
        let r = inst.issue_pk(&inst.sign(&c), &key, email);
        expect(&r, 401, &format!("iss {iss:?}"));
        assert!(
            r.text().contains("unknown issuer"),
            "iss {iss:?}: the error should name the check: {}",
            r.text()
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        fed.trap.total(),
        0,
        "an unknown iss caused outbound HTTP: {:?}",
        fed.trap.hits.lock().unwrap()
    );
    // Control: the exact configured issuer is fetched (the trap serves no discovery: a dependency failure).
    let mut c = inst.claims(email);
    c.insert("iss".into(), json!(trap));
    let r = inst.issue_pk(&inst.sign(&c), &key, email);
    expect(&r, 503, "configured issuer whose discovery is 404");
    assert!(fed.trap.total() >= 1, "the control should have reached the trap");
}

#[test]
fn o06_redirects_and_foreign_jwks_hosts_fail_closed() {
    let fed = Federation::start();
    let inst = &fed.inst;
    let key = ClientKey::new();
    let email = "o06@example.test";
    for (what, issuer) in [
        ("discovery 302 to another host", &fed.redir),
        ("jwks_uri on another host", &fed.j),
        ("jwks_uri on another port", &fed.j2),
    ] {
        let token = sign_with(issuer, &claims_for(issuer.issuer_url(), email));
        let r = inst.issue_pk(&token, &key, email);
        expect(&r, 401, what);
        assert!(r.json().get("signedCertificateEmbeddedSct").is_none());
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        fed.far.total(),
        0,
        "the CA followed a redirect or fetched a foreign jwks_uri: {:?}",
        fed.far.hits.lock().unwrap()
    );
    // The discovery documents were asked for (the redirect was seen and refused, not skipped).
    assert_eq!(fed.idp.hits("/redir/.well-known/openid-configuration"), 1);
    assert_eq!(fed.idp.hits("/j/.well-known/openid-configuration"), 1);
    // Control: a well-behaved configured issuer works.
    let token = sign_with(&fed.a, &claims_for(fed.a.issuer_url(), email));
    expect(&inst.issue_pk(&token, &key, email), 201, "issuer a");
}

#[test]
fn o06_meta_issuer_discovery_redirect_fails_closed() {
    let fed = Federation::start_with(true);
    let key = ClientKey::new();
    let email = "o06m@example.test";
    let token = sign_with(&fed.meta, &claims_for(fed.meta.issuer_url(), email));
    expect(
        &fed.inst.issue_pk(&token, &key, email),
        401,
        "meta issuer discovery 302 to another host",
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        fed.far.total(),
        0,
        "the CA followed a redirect: {:?}",
        fed.far.hits.lock().unwrap()
    );
    assert_eq!(fed.idp.hits("/meta/x1/.well-known/openid-configuration"), 1);
    // A name the pattern does not match is unknown: nothing fetched.
    let other = DevIssuer::generate(format!("{}/meta/a.b", fed.idp.base())).unwrap();
    let token = sign_with(&other, &claims_for(other.issuer_url(), email));
    expect(
        &fed.inst.issue_pk(&token, &key, email),
        401,
        "meta pattern does not span '.'",
    );
    assert_eq!(fed.idp.hits("/meta/a.b/.well-known/openid-configuration"), 0);
}

#[test]
fn o07_unknown_kid_is_refused_without_a_refresh_storm() {
    let fed = Federation::start();
    let inst = &fed.inst;
    let key = ClientKey::new();
    let email = "o07@example.test";
    let claims = claims_for(fed.k.issuer_url(), email);
    expect(
        &inst.issue_pk(&sign_with(&fed.k, &claims), &key, email),
        201,
        "good token from k",
    );
    let jwks_before = fed.idp.hits("/k/jwks");
    let disc_before = fed.idp.hits("/k/.well-known/openid-configuration");
    assert_eq!(jwks_before, 1);
    let statuses: Arc<Mutex<Vec<u16>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (statuses, next, claims) = (Arc::clone(&statuses), Arc::clone(&next), claims.clone());
            let (k, inst, key) = (&fed.k, inst, &key);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= 200 {
                        break;
                    }
                    let header = json!({"alg": "ES256", "typ": "JWT", "kid": format!("bad-kid-{i}")});
                    let token = k.sign_jwt(&header, &Value::Object(claims.clone())).unwrap();
                    let r = inst.issue_pk(&token, key, email);
                    statuses.lock().unwrap().push(r.status);
                }
            });
        }
    });
    let statuses = statuses.lock().unwrap();
    assert_eq!(statuses.len(), 200);
    assert!(statuses.iter().all(|s| *s == 401), "statuses: {statuses:?}");
    let refreshes = fed.idp.hits("/k/jwks") - jwks_before;
    let discoveries = fed.idp.hits("/k/.well-known/openid-configuration") - disc_before;
    assert!(refreshes <= 1, "{refreshes} JWKS fetches for 200 unknown-kid tokens");
    assert!(
        discoveries <= 1,
        "{discoveries} discovery fetches for 200 unknown-kid tokens"
    );
    inst.assert_up();
}

#[test]
fn o08_oversized_tokens_are_refused_early() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "o08@example.test";
    let pem = key.pem();
    let pop = key.pop(email);
    // 10 MB token, and 10⁶ dots, in the body: over the 64 KiB body limit.
    let huge = "a".repeat(10 << 20);
    let dots = format!("a{}", ".a".repeat(1_000_000));
    for (what, token) in [("10 MB token", &huge), ("10^6 dots", &dots)] {
        let r = inst.signing_cert(&pk_body(token, &pem, &pop), None);
        expect(&r, 413, what);
    }
    // 1 MB claim: the token is over the body limit too.
    let mut c = inst.claims(email);
    c.insert("x".into(), json!("b".repeat(1 << 20)));
    let r = inst.signing_cert(&pk_body(&inst.sign(&c), &pem, &pop), None);
    expect(&r, 413, "1 MB claim");
    // The same shapes inside the body limit reach the validator's own limits: 400 (SECURITY.md: size or limit
    // exceeded in parsed content).
    let mut c = inst.claims(email);
    c.insert("x".into(), json!("b".repeat(5 * 1024)));
    expect(
        &inst.signing_cert(&pk_body(&inst.sign(&c), &pem, &pop), None),
        400,
        "5 KiB claim value (limit 4 KiB)",
    );
    let mut many = inst.claims(email);
    for i in 0..200 {
        many.insert(format!("c{i}"), json!(i));
    }
    expect(
        &inst.signing_cert(&pk_body(&inst.sign(&many), &pem, &pop), None),
        400,
        "200 claims",
    );
    let dots_small = format!("a{}", ".a".repeat(20_000));
    let r = inst.signing_cert(&pk_body(&dots_small, &pem, &pop), None);
    expect_one_of(&r, &[400, 401], "20,000 dots (40 KB, inside the body limit)");
    // In the Authorization header: refused by the HTTP layer (431 or closed), never a 5xx.
    for (what, token) in [("10 MB bearer", &huge), ("10^6 dots bearer", &dots)] {
        let body =
            serde_json::to_vec(&json!({"publicKeyRequest": {"publicKey": {"content": pem}, "proofOfPossession": pop}}))
                .unwrap();
        let auth = format!("Bearer {token}");
        match request(
            inst.addr(),
            "POST",
            "/api/v2/signingCert",
            &[("Content-Type", "application/json"), ("Authorization", auth.as_str())],
            &body,
        ) {
            Ok(r) => assert!((400..500).contains(&r.status), "{what}: {}", r.status),
            Err(e) => eprintln!("{what}: connection closed ({e})"),
        }
    }
    inst.assert_up();
}

#[test]
fn o08_token_over_the_token_limit_is_400() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "o08b@example.test";
    let mut c = inst.claims(email);
    c.insert("x".into(), json!("b".repeat(3000)));
    for i in 0..6 {
        c.insert(format!("y{i}"), json!("c".repeat(3000)));
    }
    let token = inst.sign(&c);
    assert!(token.len() > 16 * 1024 && token.len() < 60 * 1024);
    let r = inst.issue_pk(&token, &key, email);
    expect(
        &r,
        400,
        "a 25 KB token (over the 16 KiB token limit, inside the body limit)",
    );
    // C-05's 10 KB identity in both `sub` and `email` makes such a token too.
    let long = format!("{}@example.test", "a".repeat(10 * 1024));
    let mut c = inst.claims(&long);
    c.insert("sub".into(), json!(long));
    expect(
        &inst.issue_pk(&inst.sign(&c), &key, &long),
        400,
        "10 KB email in sub and email",
    );
}

#[test]
fn o09_email_must_be_verified() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "o09@example.test";
    for (what, v) in [
        ("false", Some(json!(false))),
        ("\"false\"", Some(json!("false"))),
        ("missing", None),
        ("null", Some(json!(null))),
        ("0", Some(json!(0))),
        ("\"no\"", Some(json!("no"))),
    ] {
        let mut c = inst.claims(email);
        match v {
            Some(v) => c.insert("email_verified".into(), v),
            None => c.remove("email_verified"),
        };
        expect(
            &inst.issue_pk(&inst.sign(&c), &key, email),
            401,
            &format!("email_verified {what}"),
        );
    }
    let mut c = inst.claims(email);
    c.insert("email_verified".into(), json!("true"));
    expect(
        &inst.issue_pk(&inst.sign(&c), &key, email),
        201,
        "email_verified \"true\" (Fulcio accepts the string)",
    );
}

#[test]
fn o10_issuer_extension_comes_from_the_authenticated_iss() {
    let fed = Federation::start();
    let inst = &fed.inst;
    let key = ClientKey::new();
    let email = "ceo@corp.example";
    let dev = inst.iss();
    // Issuer a's token whose other claims all name the dev issuer (B).
    let mut c = claims_for(fed.a.issuer_url(), email);
    for (k, v) in [
        ("issuer", json!(dev)),
        ("oidc_issuer", json!(dev)),
        ("federated_claims", json!({"connector_id": dev, "user_id": email})),
        ("iss_b", json!(dev)),
    ] {
        c.insert(k.into(), v);
    }
    let r = inst.issue_pk(&sign_with(&fed.a, &c), &key, email);
    expect(&r, 201, "a's token");
    let leaf = &chain_of(&r)[0];
    let id = leaf.identity().unwrap();
    assert_eq!(id.issuer.as_deref(), Some(fed.a.issuer_url()));
    assert_eq!(
        leaf.extension("1.3.6.1.4.1.57264.1.1").unwrap().1,
        fed.a.issuer_url().as_bytes()
    );
    assert_eq!(id.sans, vec![SubjectAltName::Email(email.into())]);
    // And the dev issuer's own token for the same email carries the dev issuer.
    let r = inst.issue_pk(&inst.token(email), &key, email);
    expect(&r, 201, "dev token");
    assert_eq!(
        chain_of(&r)[0].identity().unwrap().issuer.as_deref(),
        Some(dev.as_str())
    );
}

#[test]
fn o12_keys_come_only_from_the_tokens_issuer() {
    let fed = Federation::start();
    let inst = &fed.inst;
    let key = ClientKey::new();
    let email = "o12@example.test";
    let dev_claims = inst.claims(email);
    // Make the CA load a's keys first, so both JWKS are cached.
    let a_claims = claims_for(fed.a.issuer_url(), email);
    expect(
        &inst.issue_pk(&sign_with(&fed.a, &a_claims), &key, email),
        201,
        "a's own token",
    );
    let payload = Value::Object(dev_claims.clone());
    for (what, header) in [
        (
            "a's key, iss = dev, kid = a's",
            json!({"alg": "ES256", "kid": fed.a.kid()}),
        ),
        (
            "a's key, iss = dev, kid = dev's",
            json!({"alg": "ES256", "kid": inst.dev.kid()}),
        ),
        ("a's key, iss = dev, no kid", json!({"alg": "ES256"})),
    ] {
        let token = fed.a.sign_jwt(&header, &payload).unwrap();
        expect(&inst.issue_pk(&token, &key, email), 401, what);
    }
    for (what, header) in [
        (
            "dev key, iss = a, kid = dev's",
            json!({"alg": "ES256", "kid": inst.dev.kid()}),
        ),
        (
            "dev key, iss = a, kid = a's",
            json!({"alg": "ES256", "kid": fed.a.kid()}),
        ),
        ("dev key, iss = a, no kid", json!({"alg": "ES256"})),
    ] {
        let token = inst.dev.sign_jwt(&header, &Value::Object(a_claims.clone())).unwrap();
        expect(&inst.issue_pk(&token, &key, email), 401, what);
    }
    expect(&inst.issue_pk(&inst.sign(&dev_claims), &key, email), 201, "control");
}

// =====================================================================================================
// C. CA misuse
// =====================================================================================================

#[test]
fn c01_bad_proof_of_possession_is_400_and_nothing_is_logged() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "c01@example.test";
    let token = inst.token(email);
    let before = inst.ct_size();
    let other = ClientKey::new();
    let cases: Vec<(&str, Value)> = vec![
        ("empty PoP", pk_body(&token, &key.pem(), "")),
        ("PoP not base64", pk_body(&token, &key.pem(), "!!!")),
        (
            "PoP garbage",
            pk_body(&token, &key.pem(), &encode_base64(&[0x30, 0x03, 0x02, 0x01, 0x01])),
        ),
        (
            "PoP over another sub",
            pk_body(&token, &key.pem(), &key.pop("mallory@example.test")),
        ),
        (
            "PoP over the email + suffix",
            pk_body(&token, &key.pem(), &key.pop(&format!("{email}x"))),
        ),
        ("PoP by another key", pk_body(&token, &key.pem(), &other.pop(email))),
        (
            "PoP missing",
            json!({"credentials": {"oidcIdentityToken": token}, "publicKeyRequest": {"publicKey": {"content": key.pem()}}}),
        ),
        (
            "no public key",
            json!({"credentials": {"oidcIdentityToken": token}, "publicKeyRequest": {"proofOfPossession": key.pop(email)}}),
        ),
    ];
    for (what, body) in cases {
        let r = inst.signing_cert(&body, None);
        expect(&r, 400, what);
    }
    assert_eq!(inst.ct_size(), before, "a refused request reached the CT log");
    expect(&inst.issue_pk(&token, &key, email), 201, "control");
    assert_eq!(inst.ct_size(), before + 1);
}

#[test]
fn c02_bad_csrs_are_400() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let other = ClientKey::new();
    let email = "c02@example.test";
    let token = inst.token(email);
    let before = inst.ct_size();
    let empty_name = w::sequence(&[]);
    let good = csr(&key.spki(), &key.0, &empty_name, &[]);
    // Bit flip in the signature.
    let mut bad_sig = good.clone();
    let n = bad_sig.len();
    bad_sig[n - 3] ^= 0x01;
    // The info names `key` but `other` signed it.
    let other_signed = csr(&key.spki(), &other.0, &empty_name, &[]);
    // Truncated, and trailing data.
    let truncated = good[..good.len() - 10].to_vec();
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0, 0]);
    for (what, der) in [
        ("bad self-signature", &bad_sig),
        ("key differs from the signer", &other_signed),
        ("truncated", &truncated),
        ("trailing data", &trailing),
    ] {
        expect(&inst.signing_cert(&csr_body(der), Some(&token)), 400, what);
    }
    expect(
        &inst.signing_cert(&json!({"certificateSigningRequest": "%%%"}), Some(&token)),
        400,
        "not base64",
    );
    assert_eq!(inst.ct_size(), before);
    expect(&inst.signing_cert(&csr_body(&good), Some(&token)), 201, "control");
}

fn openssl_spki(args: &[&str]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let key = dir.path().join("k.pem");
    let out = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&key)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("openssl genpkey {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(&key)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn rsa_spki(modulus_bytes: usize, exponent: &[u8]) -> Vec<u8> {
    let mut n = vec![0xc5u8; modulus_bytes];
    n[modulus_bytes - 1] = 0x4b; // odd
    let key = w::sequence(&[&w::unsigned_integer(&n), &w::unsigned_integer(exponent)]);
    let alg = w::sequence(&[&oid_tlv("1.2.840.113549.1.1.1"), &w::null()]);
    w::sequence(&[&alg, &w::bit_string(&key)])
}

fn ec_spki(curve: &str, point: &[u8]) -> Vec<u8> {
    let alg = w::sequence(&[&oid_tlv("1.2.840.10045.2.1"), &oid_tlv(curve)]);
    w::sequence(&[&alg, &w::bit_string(point)])
}

#[test]
fn c03_weak_keys_are_400() {
    let inst = Instance::start(None);
    let email = "c03@example.test";
    let token = inst.token(email);
    let before = inst.ct_size();
    let mut keys: Vec<(String, Vec<u8>)> = vec![
        ("RSA-8192".into(), rsa_spki(1024, &[1, 0, 1])),
        ("RSA-1024 (built)".into(), rsa_spki(128, &[1, 0, 1])),
        ("RSA-2048 e=1".into(), rsa_spki(256, &[1])),
        ("RSA-2048 e=3".into(), rsa_spki(256, &[3])),
        ("RSA-2048 e=65536 (even)".into(), rsa_spki(256, &[1, 0, 0])),
        (
            "RSA-2048 e=2^64+2 (even, wide)".into(),
            rsa_spki(256, &[1, 0, 0, 0, 0, 0, 0, 0, 2]),
        ),
        (
            "P-256 point not on the curve".into(),
            ec_spki("1.2.840.10045.3.1.7", &[[4u8].as_slice(), &[1u8; 64]].concat()),
        ),
        ("P-256 point at infinity".into(), ec_spki("1.2.840.10045.3.1.7", &[0])),
        (
            "P-256 truncated point".into(),
            ec_spki("1.2.840.10045.3.1.7", &[4, 1, 2, 3]),
        ),
        (
            "DSA (built)".into(),
            w::sequence(&[
                &w::sequence(&[
                    &oid_tlv("1.2.840.10040.4.1"),
                    &w::sequence(&[
                        &w::unsigned_integer(&[0xc7; 128]),
                        &w::unsigned_integer(&[0xd3; 20]),
                        &w::unsigned_integer(&[0x05; 128]),
                    ]),
                ]),
                &w::bit_string(&w::unsigned_integer(&[0x17; 128])),
            ]),
        ),
        (
            "Ed448 (built)".into(),
            w::sequence(&[&w::sequence(&[&oid_tlv("1.3.101.113")]), &w::bit_string(&[0x42; 57])]),
        ),
    ];
    let generated: [(&str, &[&str]); 5] = [
        ("RSA-1024", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]),
        ("P-224", &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"]),
        (
            "secp256k1",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
        ),
        ("Ed448", &["-algorithm", "ED448"]),
        ("X25519 (not a signature key)", &["-algorithm", "X25519"]),
    ];
    for (name, args) in generated {
        match openssl_spki(args) {
            Some(spki) => keys.push((format!("{name} (openssl)"), spki)),
            None => eprintln!("SKIPPED {name}: openssl could not generate it"),
        }
    }
    let signer = ClientKey::new();
    for (what, spki) in &keys {
        let pem = sigil_crypto::pem_encode("PUBLIC KEY", spki);
        // The proof is irrelevant: the key is refused before it is looked at.
        let r = inst.signing_cert(&pk_body(&token, &pem, &signer.pop(email)), None);
        expect(&r, 400, what);
        // Base64 DER instead of PEM: the same answer.
        let r = inst.signing_cert(&pk_body(&token, &encode_base64(spki), &signer.pop(email)), None);
        expect(&r, 400, &format!("{what} (base64 DER)"));
        // In a CSR (signed by a good key: the CSR's own key is what is certified).
        let r = inst.signing_cert(&csr_body(&csr(spki, &signer.0, &w::sequence(&[]), &[])), Some(&token));
        expect(&r, 400, &format!("{what} (CSR)"));
    }
    assert_eq!(inst.ct_size(), before);
}

#[test]
fn c04_csr_contents_other_than_the_key_are_ignored() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "c04@example.test";
    let token = inst.token(email);
    let san = w::sequence(&[&encode(tag::context_primitive(1), b"ceo@corp")]);
    let bc = w::sequence(&[&w::boolean(true)]);
    let eku = w::sequence(&[&oid_tlv("1.3.6.1.5.5.7.3.1")]);
    let fulcio_issuer = w::utf8_string("https://evil.example");
    let exts = vec![
        extension("2.5.29.17", false, &san),
        extension("2.5.29.19", true, &bc),
        extension("2.5.29.37", false, &eku),
        extension("1.3.6.1.4.1.57264.1.8", false, &fulcio_issuer),
        extension("1.3.6.1.4.1.57264.1.1", false, b"https://evil.example"),
    ];
    let request = csr(&key.spki(), &key.0, &cn_name("ceo@corp"), &exts);
    let r = inst.signing_cert(&csr_body(&request), Some(&token));
    expect(&r, 201, "CSR with extensions");
    let chain = chain_of(&r);
    let leaf = &chain[0];
    let id = leaf.identity().unwrap();
    assert_eq!(id.sans, vec![SubjectAltName::Email(email.into())]);
    assert_eq!(id.issuer.as_deref(), Some(inst.iss().as_str()));
    assert!(!leaf.is_ca());
    if let Some((_, value)) = leaf.extension("2.5.29.19") {
        assert_eq!(value, w::sequence(&[]), "BasicConstraints must be CA:FALSE");
    }
    assert!(leaf.has_extended_key_usage(ExtendedKeyUsage::CodeSigning));
    let (_, eku_value) = leaf.extension("2.5.29.37").unwrap();
    assert_eq!(
        eku_value,
        w::sequence(&[&oid_tlv("1.3.6.1.5.5.7.3.3")]),
        "EKU must be codeSigning only"
    );
    assert_eq!(leaf.not_after() - leaf.not_before(), 600);
    assert_eq!(leaf.subject_der(), w::sequence(&[]), "subject must be empty");
    assert_eq!(leaf.public_key().spki_der(), key.spki());
    assert!(!String::from_utf8_lossy(leaf.der()).contains("ceo@corp"));
    assert!(!String::from_utf8_lossy(leaf.der()).contains("evil.example"));
}

#[test]
fn c05_hostile_identities_are_400_and_never_logged_raw() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let before = inst.ct_size();
    let long = format!("{}@example.test", "a".repeat(10 * 1024));
    let long_3k = format!("{}@example.test", "a".repeat(3 * 1024));
    let cases = [
        ("BEL", "mark\u{7}MARKA@example.test".to_owned()),
        ("NUL", "mark\u{0}MARKB@example.test".to_owned()),
        ("newline", "mark@example.test\nMARKC forged log line".to_owned()),
        ("CR", "mark@example.test\rMARKD".to_owned()),
        ("bidi override", "mark\u{202e}MARKE@example.test".to_owned()),
        ("ANSI escape", "mark\u{1b}[31mMARKF@example.test".to_owned()),
        ("DEL", "mark\u{7f}MARKG@example.test".to_owned()),
        ("10 KB email", long),
        ("3 KB email", long_3k),
        ("no @", "MARKH.example.test".to_owned()),
        ("two @", "a@@MARKI.example.test".to_owned()),
        ("space", "a b@MARKJ.example.test".to_owned()),
        ("empty local part", "@MARKK.example.test".to_owned()),
        ("empty domain", "MARKL@".to_owned()),
        ("display name", "Mallory <MARKM@example.test>".to_owned()),
        ("empty", String::new()),
    ];
    for (what, email) in &cases {
        let mut c = inst.claims("placeholder@example.test");
        c.insert("email".into(), json!(email));
        // `sub` too, except for the empty value (an empty `sub` is a bad token: 401) and the 10 KB one (twice would
        // pass the 16 KiB token limit: see o08_token_…).
        if !email.is_empty() && email.len() < 4096 {
            c.insert("sub".into(), json!(email));
        }
        let r = inst.issue_pk(&inst.sign(&c), &key, email);
        expect(&r, 400, what);
        assert!(
            !r.body.iter().any(|b| (*b < 0x20 && *b != b'\n') || *b == 0x7f),
            "{what}: raw control bytes in the answer"
        );
    }
    // The same with the value in `sub` only is refused too, when sub is the email issuer's challenge … and the
    // CT log saw nothing.
    assert_eq!(inst.ct_size(), before);
    inst.assert_up();
    let metrics = inst.get("/metrics").body;
    let log = std::fs::read(&inst.stderr).unwrap();
    for hay in [("stderr", &log), ("/metrics", &metrics)] {
        let text = String::from_utf8_lossy(hay.1);
        for raw in [
            "\u{7}MARKA",
            "\u{0}MARKB",
            "\nMARKC",
            "\rMARKD",
            "\u{202e}MARKE",
            "\u{1b}[31mMARKF",
            "\u{7f}MARKG",
        ] {
            assert!(
                !text.contains(raw),
                "{}: a raw control sequence {raw:?} was written",
                hay.0
            );
        }
        assert!(
            !text.contains(&"a".repeat(4096)),
            "{}: the 10 KB identity was written",
            hay.0
        );
    }
}

/// Makes files and directories immutable (`chattr +i`: writes fail with EPERM even for root, also through file
/// descriptors already open) and lifts it again when dropped, so the temporary directory can be removed.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: Vec<PathBuf>) -> Self {
        for p in &paths {
            let out = Command::new("chattr").arg("+i").arg(p).output().unwrap();
            assert!(
                out.status.success(),
                "C-06 needs `chattr +i` on the test's file system (ext4): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Self(paths)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(p).output();
        }
    }
}

#[test]
fn c06_no_certificate_without_the_ct_log() {
    // Black-box fault: the CT log's storage stops accepting writes. The process runs as root here, so chmod
    // would not stop it. Instead every file and directory of the CT log's durable state (the journal of the
    // entries, the checkpoint's slot file, the directories new files would go to) is made immutable, which
    // fails writes for root too, including through the descriptors the log holds open.
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "c06@example.test";
    expect(&inst.issue_pk(&inst.token(email), &key, email), 201, "before the fault");
    let size = inst.ct_size();
    let ct = inst.dir.join("ct");
    let state: Vec<PathBuf> = walk(&ct)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            p.is_dir() || name == "checkpoint.slots" || p.parent().is_some_and(|d| d.ends_with("journal"))
        })
        .chain([ct.clone()])
        .collect();
    assert!(
        state.iter().any(|p| p.ends_with("journal/0")) && state.iter().any(|p| p.ends_with("checkpoint.slots")),
        "the CT log's journal and checkpoint were not found under {}: {state:?}",
        ct.display()
    );
    let _fault = Immutable::set(state);
    let before_rekor = inst.get("/api/v1/log").json()["treeSize"].clone();
    for i in 0..3 {
        let r = inst.issue_pk(&inst.token(email), &key, email);
        expect(&r, 503, &format!("issuance #{i} with the CT log failing"));
        assert!(r.json().get("signedCertificateEmbeddedSct").is_none());
        assert!(!r.text().contains("BEGIN CERTIFICATE"), "a certificate was returned");
    }
    inst.assert_up();
    let sth = inst.get("/ct/v1/get-sth");
    if sth.status == 200 {
        assert_eq!(sth.json()["tree_size"].as_u64().unwrap(), size, "the CT tree grew");
    }
    assert_eq!(inst.get("/api/v1/log").json()["treeSize"], before_rekor);
    // Other services are unaffected: the TSA still answers.
    let tsq = sigil_tsa::TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, b"x").to_der();
    expect(
        &inst.req(
            "POST",
            "/api/v1/timestamp",
            &[("Content-Type", "application/timestamp-query")],
            &tsq,
        ),
        201,
        "TSA during the CT fault",
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn c07_replaying_one_token_and_proof_concurrently() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "c07@example.test";
    let body = serde_json::to_vec(&pk_body(&inst.token(email), &key.pem(), &key.pop(email))).unwrap();
    let before = inst.ct_size();
    let statuses: Arc<Mutex<Vec<u16>>> = Arc::default();
    std::thread::scope(|s| {
        for _ in 0..20 {
            let (statuses, body, inst) = (Arc::clone(&statuses), &body, &inst);
            s.spawn(move || {
                for _ in 0..10 {
                    let r = request(
                        inst.addr(),
                        "POST",
                        "/api/v2/signingCert",
                        &[("Content-Type", "application/json")],
                        body,
                    )
                    .expect("no answer");
                    statuses.lock().unwrap().push(r.status);
                }
            });
        }
    });
    let statuses = statuses.lock().unwrap();
    assert_eq!(statuses.len(), 200);
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 429),
        "statuses: {statuses:?}"
    );
    let issued = statuses.iter().filter(|s| **s == 201).count() as u64;
    assert!(issued > 0);
    inst.assert_up();
    // Stateless replay: every certificate handed out was logged.
    assert_eq!(inst.ct_size(), before + issued);
}

#[test]
fn c08_validity_nests_inside_the_issuers() {
    let inst = Instance::start(None);
    let key = ClientKey::new();
    let email = "c08@example.test";
    let r = inst.issue_pk(&inst.token(email), &key, email);
    expect(&r, 201, "issue");
    let chain = chain_of(&r);
    let bundle = inst.get("/api/v2/trustBundle").json();
    let trusted: Vec<Certificate> = bundle["chains"][0]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Certificate::from_pem(p.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(trusted.len(), 2, "intermediate + root");
    let (leaf, inter, root) = (&chain[0], &trusted[0], &trusted[1]);
    assert_eq!(chain[1].der(), inter.der());
    assert!(leaf.not_after() <= inter.not_after() && inter.not_after() <= root.not_after());
    assert!(leaf.not_before() >= inter.not_before() && inter.not_before() >= root.not_before());
    leaf.verify_issued_by(inter).unwrap();
    inter.verify_issued_by(root).unwrap();
    // The trusted root written for clients holds the same chain.
    let tr: Value = serde_json::from_slice(&std::fs::read(inst.dir.join("trusted_root.json")).unwrap()).unwrap();
    let tr_chain = tr["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .unwrap();
    assert_eq!(
        decode_base64(tr_chain[0]["rawBytes"].as_str().unwrap()).unwrap(),
        inter.der()
    );

    // Library level: the builder refuses a leaf beyond its issuer (the CA itself uses it).
    let tmp = tempfile::tempdir().unwrap();
    let t = now();
    let m = sigil_ca::material::load_or_create(tmp.path(), sigil_ca::material::Kind::CodeSigningCa, "test", t).unwrap();
    let issuer = sigil_x509::Issuer::from_der(m.issuing(), Arc::clone(&m.signer) as Arc<dyn Signer>).unwrap();
    let ic = issuer.certificate().clone();
    let leaf_req = |nb: i64, na: i64| sigil_x509::LeafRequest {
        public_key: key.0.public_key().clone(),
        san: sigil_x509::LeafSan::Email(email.into()),
        oidc_issuer: "https://issuer.example".into(),
        extensions: std::collections::BTreeMap::new(),
        not_before: nb,
        not_after: na,
    };
    let serial = sigil_x509::random_serial().unwrap();
    assert!(
        sigil_x509::build_precertificate(&issuer, &leaf_req(ic.not_after() - 600, ic.not_after()), &serial).is_ok()
    );
    assert!(
        sigil_x509::build_precertificate(&issuer, &leaf_req(ic.not_after() - 599, ic.not_after() + 1), &serial)
            .is_err()
    );
    assert!(
        sigil_x509::build_precertificate(&issuer, &leaf_req(ic.not_before() - 1, ic.not_before() + 599), &serial)
            .is_err()
    );
}

// =====================================================================================================
// E. Timestamp authority
// =====================================================================================================

const TSQ: &str = "application/timestamp-query";

/// A DER TimeStampReq with a hash algorithm OID, an imprint, an optional policy OID TLV and nonce.
fn tsq(alg_oid: &str, imprint: &[u8], policy: Option<&[u8]>, nonce: Option<u64>) -> Vec<u8> {
    let alg = w::sequence(&[&oid_tlv(alg_oid)]);
    let mi = w::sequence(&[&alg, &w::octet_string(imprint)]);
    let mut parts: Vec<Vec<u8>> = vec![w::integer_u64(1), mi];
    if let Some(p) = policy {
        parts.push(p.to_vec());
    }
    if let Some(n) = nonce {
        parts.push(w::integer_u64(n));
    }
    parts.push(w::boolean(true));
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    w::sequence(&refs)
}

const SHA256: &str = "2.16.840.1.101.3.4.2.1";

fn tsa_post(inst: &Instance, ctype: &str, body: &[u8]) -> Resp {
    inst.req("POST", "/api/v1/timestamp", &[("Content-Type", ctype)], body)
}

#[test]
fn t01_hostile_requests_are_bounded() {
    let inst = Instance::start(None);
    let digest = sigil_crypto::sha256(b"t01");
    expect(
        &tsa_post(&inst, TSQ, &tsq(SHA256, &digest, None, Some(7))),
        201,
        "control",
    );
    // Policy OID of 10^6 arcs: over the 4 KiB body limit.
    let mut arcs = vec![0x2a];
    arcs.extend(std::iter::repeat_n(0x01, 1_000_000));
    let huge_oid = encode(tag::OID, &arcs);
    expect(
        &tsa_post(&inst, TSQ, &tsq(SHA256, &digest, Some(&huge_oid), None)),
        413,
        "10^6-arc policy",
    );
    // Inside the limit: 1000 arcs, and 1000 huge arcs → 400.
    let mut arcs = vec![0x2a];
    arcs.extend(std::iter::repeat_n(0x01, 1000));
    let long_oid = encode(tag::OID, &arcs);
    expect(
        &tsa_post(&inst, TSQ, &tsq(SHA256, &digest, Some(&long_oid), None)),
        400,
        "1000-arc policy",
    );
    let mut arcs = vec![0x2a];
    arcs.extend(std::iter::repeat_n(0xff, 3000));
    arcs.push(0x7f);
    let wide_arc = encode(tag::OID, &arcs);
    expect(
        &tsa_post(&inst, TSQ, &tsq(SHA256, &digest, Some(&wide_arc), None)),
        400,
        "one 21,000-bit arc",
    );
    // Another policy than ours.
    let other = oid_tlv("1.2.3.4");
    expect(
        &tsa_post(&inst, TSQ, &tsq(SHA256, &digest, Some(&other), None)),
        400,
        "unknown policy",
    );

    // Content-Type repeating `application/` 10^6 times (12 MB of header).
    let ctype = "application/".repeat(1_000_000);
    match request(
        inst.addr(),
        "POST",
        "/api/v1/timestamp",
        &[("Content-Type", ctype.as_str())],
        &tsq(SHA256, &digest, None, None),
    ) {
        Ok(r) => assert!((400..500).contains(&r.status), "huge Content-Type: {}", r.status),
        Err(e) => eprintln!("huge Content-Type: connection closed ({e})"),
    }
    inst.assert_up();
    // A Content-Type of 2 KB (under the header limit) is a wrong media type.
    let ctype = "application/".repeat(170);
    expect(
        &tsa_post(&inst, &ctype, &tsq(SHA256, &digest, None, None)),
        415,
        "2 KB Content-Type",
    );

    // 100 MB declared: 413 on the header, without reading the body.
    let mut s = TcpStream::connect(inst.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /api/v1/timestamp HTTP/1.1\r\nHost: x\r\nContent-Type: {TSQ}\r\nContent-Length: {}\r\n\r\n",
        100u64 << 20
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(&[0u8; 64 * 1024]);
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.starts_with("HTTP/1.1 413"),
        "100 MB body: {}",
        text.lines().next().unwrap_or("")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Sent for real in chunks: the server answers 413 before 100 MB went through.
    let mut s = TcpStream::connect(inst.addr()).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /api/v1/timestamp HTTP/1.1\r\nHost: x\r\nContent-Type: {TSQ}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let chunk = [
        format!("{:x}\r\n", 1 << 20).into_bytes(),
        vec![0u8; 1 << 20],
        b"\r\n".to_vec(),
    ]
    .concat();
    let mut sent = 0usize;
    while sent < 100 << 20 {
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += 1 << 20;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 413"),
        "chunked 100 MB: {}",
        text.lines().next().unwrap_or("")
    );
    assert!(sent < 100 << 20, "the server read all 100 MB");
    inst.assert_up();
}

#[test]
fn t02_weak_or_inconsistent_imprints_are_400() {
    let inst = Instance::start(None);
    let ok = sigil_crypto::sha256(b"t02");
    expect(&tsa_post(&inst, TSQ, &tsq(SHA256, &ok, None, None)), 201, "DER control");
    for (what, oid, imprint) in [
        ("SHA-1", "1.3.14.3.2.26", vec![0x11; 20]),
        ("MD5", "1.2.840.113549.2.5", vec![0x11; 16]),
        ("SHA-256 with 31 bytes", SHA256, vec![0x11; 31]),
        ("SHA-256 with 33 bytes", SHA256, vec![0x11; 33]),
        ("SHA-256 with 0 bytes", SHA256, vec![]),
        ("SHA-384 with 32 bytes", "2.16.840.1.101.3.4.2.2", vec![0x11; 32]),
        ("unknown hash", "1.2.3.4", vec![0x11; 32]),
    ] {
        let r = tsa_post(&inst, TSQ, &tsq(oid, &imprint, None, None));
        expect(&r, 400, &format!("DER {what}"));
    }
    let json_req = |alg: &str, digest: &[u8]| {
        serde_json::to_vec(&json!({"artifactHash": encode_base64(digest), "hashAlgorithm": alg})).unwrap()
    };
    expect(
        &tsa_post(&inst, "application/json", &json_req("sha256", &ok)),
        201,
        "JSON control",
    );
    for (what, alg, digest) in [
        ("sha1", "sha1", vec![0x11; 20]),
        ("SHA1", "SHA1", vec![0x11; 20]),
        ("md5", "md5", vec![0x11; 16]),
        ("sha256 with 31 bytes", "sha256", vec![0x11; 31]),
        ("sha256 with 64 bytes", "sha256", vec![0x11; 64]),
        ("sha512 with 32 bytes", "sha512", vec![0x11; 32]),
        ("unknown", "sha3-256", vec![0x11; 32]),
    ] {
        expect(
            &tsa_post(&inst, "application/json", &json_req(alg, &digest)),
            400,
            &format!("JSON {what}"),
        );
    }
}

/// Signs a file with `sigil sign-blob` (Rekor v2: an RFC 3161 timestamp from the instance's TSA) and returns
/// (artifact path, bundle JSON).
fn real_bundle(inst: &Instance, email: &str) -> (PathBuf, Value) {
    let artifact = inst.tmp.path().join("artifact.txt");
    std::fs::write(&artifact, b"hello from serve_security\n").unwrap();
    let bundle = inst.tmp.path().join("bundle.json");
    let out = cmd(SIGIL)
        .arg("sign-blob")
        .arg(&artifact)
        .arg("--bundle")
        .arg(&bundle)
        .args(["--identity-token", &inst.token(email), "--rekor-version", "2"])
        .arg("--trust-config")
        .arg(inst.dir.join("trust_config.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sign-blob failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    (artifact, v)
}

fn verify_bundle(inst: &Instance, artifact: &Path, bundle: &Value, trusted_root: &Path, email: &str) -> Output {
    let path = inst.tmp.path().join(format!("b-{}.json", rand_u64()));
    std::fs::write(&path, serde_json::to_vec(bundle).unwrap()).unwrap();
    cmd(SIGIL)
        .arg("verify-bundle")
        .arg("--bundle")
        .arg(&path)
        .args([
            "--certificate-identity",
            email,
            "--certificate-oidc-issuer",
            &inst.iss(),
        ])
        .arg("--trusted-root")
        .arg(trusted_root)
        .arg(artifact)
        .output()
        .unwrap()
}

fn tsr_of(bundle: &Value) -> Vec<u8> {
    let ts = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(ts.as_array().map(Vec::len), Some(1), "one RFC 3161 timestamp expected");
    decode_base64(ts[0]["signedTimestamp"].as_str().unwrap()).unwrap()
}

fn with_tsr(bundle: &Value, tsr: &[u8]) -> Value {
    let mut b = bundle.clone();
    b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
        json!(encode_base64(tsr));
    b
}

fn signature_of(bundle: &Value) -> Vec<u8> {
    decode_base64(bundle["messageSignature"]["signature"].as_str().unwrap()).unwrap()
}

/// Rewrites a `TimeStampResp`'s SignedData certificate bag with `f`.
fn edit_cert_bag(tsr: &[u8], f: impl FnOnce(Vec<Vec<u8>>) -> Vec<Vec<u8>>) -> Vec<u8> {
    let resp = der::parse_single(tsr).unwrap();
    let mut r = resp.reader();
    let status = r.expect(tag::SEQUENCE).unwrap();
    let token = r.expect(tag::SEQUENCE).unwrap();
    let mut t = token.reader();
    let ct_oid = t.expect(tag::OID).unwrap();
    let explicit = t.expect(tag::context_constructed(0)).unwrap();
    let sd = der::parse_single(explicit.value).unwrap();
    let mut s = sd.reader();
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut certs_at = None;
    while !s.is_empty() {
        let tlv = s.read().unwrap();
        if tlv.tag == tag::context_constructed(0) {
            let mut c = tlv.reader();
            while !c.is_empty() {
                certs.push(c.read().unwrap().raw.to_vec());
            }
            certs_at = Some(fields.len());
            fields.push(Vec::new());
        } else {
            fields.push(tlv.raw.to_vec());
        }
    }
    let at = certs_at.expect("the token carries no certificates");
    fields[at] = encode(tag::context_constructed(0), &f(certs).concat());
    let sd = encode(tag::SEQUENCE, &fields.concat());
    let token = encode(
        tag::SEQUENCE,
        &[ct_oid.raw.to_vec(), encode(tag::context_constructed(0), &sd)].concat(),
    );
    encode(tag::SEQUENCE, &[status.raw.to_vec(), token].concat())
}

/// Claims one key, signs with another: what a forger with their own key but the real TSA's name does.
#[derive(Debug)]
struct LyingSigner {
    claimed: VerifyingKey,
    real: SigningKey,
}

impl Signer for LyingSigner {
    fn public_key(&self) -> &VerifyingKey {
        &self.claimed
    }
    fn scheme(&self) -> sigil_crypto::SignatureScheme {
        self.real.scheme()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, sigil_crypto::Error> {
        self.real.sign(msg)
    }
}

fn tsa_chain(inst: &Instance) -> Vec<Certificate> {
    let r = inst.get("/api/v1/timestamp/certchain");
    expect(&r, 200, "certchain");
    Certificate::all_from_pem(r.text()).unwrap()
}

fn rand_u64() -> u64 {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    u64::from(t) ^ ((SEQ.fetch_add(1, Ordering::Relaxed) as u64) << 32)
}

fn issue_tsr(issuer: &sigil_tsa::TimestampIssuer, signature: &[u8]) -> Vec<u8> {
    let req = sigil_tsa::ParsedRequest::from_digest(HashAlgorithm::Sha2_256, &sigil_crypto::sha256(signature))
        .unwrap()
        .with_cert_req();
    issuer
        .issue(&req, now(), 0, &sigil_x509::random_serial().unwrap())
        .unwrap()
}

#[test]
fn t03_embedded_certificates_are_never_trusted() {
    let inst = Instance::start(None);
    let email = "t03@example.test";
    let (artifact, bundle) = real_bundle(&inst, email);
    let root = inst.dir.join("trusted_root.json");
    let ok = verify_bundle(&inst, &artifact, &bundle, &root, email);
    assert!(ok.status.success(), "control: {}", String::from_utf8_lossy(&ok.stderr));
    let tsr = tsr_of(&bundle);
    let sig = signature_of(&bundle);
    let real_chain = tsa_chain(&inst);
    let policy = "1.3.6.1.4.1.57264.2";

    // An attacker's own (self-made, well-formed) TSA.
    let tmp = tempfile::tempdir().unwrap();
    let evil = sigil_ca::material::load_or_create(
        tmp.path(),
        sigil_ca::material::Kind::TimestampSigner,
        "sigil",
        now() - 60,
    )
    .unwrap();
    let evil_tsa =
        sigil_tsa::TimestampIssuer::new(Arc::clone(&evil.signer) as Arc<dyn Signer>, evil.chain.clone(), policy)
            .unwrap();

    // (1) A token from the attacker's TSA: its embedded certificate is not the trusted-root TSA certificate.
    let forged = issue_tsr(&evil_tsa, &sig);
    let out = verify_bundle(&inst, &artifact, &with_tsr(&bundle, &forged), &root, email);
    assert!(!out.status.success(), "a token from an untrusted TSA verified");

    // (2) The gitsign fb02437 shape: signed with the attacker's key, the SignerInfo naming the real TSA, and the
    // attacker's certificate injected first in the bag. Only a verifier that takes certs[0] would accept it.
    let liar = LyingSigner {
        claimed: real_chain[0].public_key().clone(),
        real: SigningKey::from_pkcs8_der(evil.signer.to_pkcs8_der()).unwrap(),
    };
    let real_der: Vec<Vec<u8>> = real_chain.iter().map(|c| c.der().to_vec()).collect();
    let lying_tsa = sigil_tsa::TimestampIssuer::new(Arc::new(liar), real_der, policy).unwrap();
    let forged = issue_tsr(&lying_tsa, &sig);
    let evil_leaf = evil.chain[0].clone();
    let forged = edit_cert_bag(&forged, |certs| [vec![evil_leaf.clone()], certs].concat());
    let parsed = sigil_tsa::TimeStampResponse::from_der(&forged).unwrap();
    assert_eq!(parsed.embedded_certificates()[0].der(), evil_leaf.as_slice());
    let out = verify_bundle(&inst, &artifact, &with_tsr(&bundle, &forged), &root, email);
    assert!(
        !out.status.success(),
        "a forged token with the attacker's cert first verified"
    );
    // … and with only the attacker's certificate in the bag.
    let only_evil = edit_cert_bag(&forged, |_| vec![evil_leaf.clone()]);
    let out = verify_bundle(&inst, &artifact, &with_tsr(&bundle, &only_evil), &root, email);
    assert!(
        !out.status.success(),
        "a forged token embedding only the attacker's cert verified"
    );

    // (3) The real token with an unrelated certificate injected first: the SignerInfo still names the trusted
    // certificate, which is the only one used, so the verdict does not change.
    let injected = edit_cert_bag(&tsr, |certs| [vec![evil_leaf.clone()], certs].concat());
    let out = verify_bundle(&inst, &artifact, &with_tsr(&bundle, &injected), &root, email);
    assert!(
        out.status.success(),
        "an injected unrelated cert changed the verdict: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // With no certificate at all: the trusted root supplies it.
    let none = edit_cert_bag(&tsr, |_| Vec::new());
    let out = verify_bundle(&inst, &artifact, &with_tsr(&bundle, &none), &root, email);
    assert!(
        out.status.success(),
        "no embedded certs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn t04_timestamp_outside_the_authority_window_fails() {
    let inst = Instance::start(None);
    let email = "t04@example.test";
    let (artifact, bundle) = real_bundle(&inst, email);
    let root_path = inst.dir.join("trusted_root.json");
    let ok = verify_bundle(&inst, &artifact, &bundle, &root_path, email);
    assert!(ok.status.success(), "control: {}", String::from_utf8_lossy(&ok.stderr));
    let original: Value = serde_json::from_slice(&std::fs::read(&root_path).unwrap()).unwrap();
    let ts = |unix: i64| {
        sigil_bundle::encoding::Timestamp::from_unix(unix)
            .unwrap()
            .as_str()
            .to_owned()
    };
    let t = now();
    let windows = [
        ("window starts tomorrow", json!({"start": ts(t + 86_400)})),
        (
            "window ended an hour ago",
            json!({"start": ts(t - 86_400), "end": ts(t - 3600)}),
        ),
    ];
    for (what, window) in windows {
        let mut root = original.clone();
        root["timestampAuthorities"][0]["validFor"] = window.clone();
        let path = inst.tmp.path().join("tr-edited.json");
        std::fs::write(&path, serde_json::to_vec(&root).unwrap()).unwrap();
        let out = verify_bundle(&inst, &artifact, &bundle, &path, email);
        assert!(!out.status.success(), "{what}: verified");
        // Plus an authority with an empty chain and a window covering everything: still no.
        let mut wide = root.clone();
        let mut empty = original["timestampAuthorities"][0].clone();
        empty["certChain"]["certificates"] = json!([]);
        empty["validFor"] = json!({"start": ts(0)});
        wide["timestampAuthorities"].as_array_mut().unwrap().push(empty);
        std::fs::write(&path, serde_json::to_vec(&wide).unwrap()).unwrap();
        let out = verify_bundle(&inst, &artifact, &bundle, &path, email);
        assert!(!out.status.success(), "{what} + empty wide authority: verified");
    }
}

#[test]
fn t05_nonce_and_imprint_are_checked_on_a_real_response() {
    let inst = Instance::start(None);
    let signature = b"the signature bytes";
    let nonce: u64 = 0x0123_4567_89ab_cdef;
    let req =
        sigil_tsa::TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, signature).with_nonce(&nonce.to_be_bytes());
    let r = tsa_post(&inst, TSQ, &req.to_der());
    expect(&r, 201, "timestamp");
    let resp = sigil_tsa::TimeStampResponse::from_der(&r.body).unwrap();
    let tst = resp.tst_info();
    tst.check_nonce(&nonce.to_be_bytes()).unwrap();
    assert!(
        tst.check_nonce(&(nonce + 1).to_be_bytes()).is_err(),
        "a different nonce was accepted"
    );
    assert!(tst.check_nonce(&[]).is_err());
    assert!(tst.check_nonce(&[0x80, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    // Without a nonce in the request there is none in the response, and any expected nonce fails.
    let r = tsa_post(
        &inst,
        TSQ,
        &sigil_tsa::TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, signature).to_der(),
    );
    let plain = sigil_tsa::TimeStampResponse::from_der(&r.body).unwrap();
    assert!(plain.tst_info().check_nonce(&nonce.to_be_bytes()).is_err());
    // The imprint binds the signature bytes.
    let chain = tsa_chain(&inst);
    let authority = sigil_tsa::TimestampAuthority {
        chain,
        valid_from: None,
        valid_until: None,
    };
    sigil_tsa::verify_timestamp(&resp, signature, std::slice::from_ref(&authority)).unwrap();
    let err =
        sigil_tsa::verify_timestamp(&resp, b"other signature bytes", std::slice::from_ref(&authority)).unwrap_err();
    assert!(matches!(err, sigil_tsa::Error::ImprintMismatch), "{err:?}");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random method + path requests; returns the statuses seen (0 = no parsable answer).
fn flood(addr: &str, n: usize, seed: u64) -> Vec<u16> {
    const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"];
    const PREFIXES: &[&str] = &[
        "/",
        "/api/v1/",
        "/api/v2/",
        "/api/v1/log/entries/",
        "/ct/v1/",
        "/oidc/",
        "/api/v1/timestamp/",
        "/tile/",
        "/metrics/",
        "/api/v2/signingCert/",
    ];
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-._~%2F";
    let mut rng = XorShift(seed | 1);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let method = if rng.below(8) == 0 {
            let len = 1 + rng.below(12);
            (0..len)
                .map(|_| char::from(b'A' + (rng.below(26) as u8)))
                .collect::<String>()
        } else {
            METHODS[rng.below(METHODS.len())].to_owned()
        };
        let mut path = PREFIXES[rng.below(PREFIXES.len())].to_owned();
        for _ in 0..rng.below(60) {
            path.push(char::from(CHARS[rng.below(CHARS.len())]));
        }
        let Ok(mut s) = TcpStream::connect(addr) else {
            out.push(0);
            continue;
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        if s.write_all(req.as_bytes()).is_err() {
            out.push(0);
            continue;
        }
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let status = std::str::from_utf8(&buf[..buf.len().min(12)])
            .ok()
            .and_then(|h| h.strip_prefix("HTTP/1.1 "))
            .and_then(|c| c.get(..3))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        out.push(status);
    }
    out
}

fn metrics_lines(inst: &Instance) -> Vec<String> {
    let r = inst.get("/metrics");
    expect(&r, 200, "/metrics");
    // Series names and labels only (values change).
    r.text()
        .lines()
        .map(|l| l.rsplit_once(' ').map_or(l, |(series, _)| series).to_owned())
        .collect()
}

#[test]
fn t06_random_paths_and_methods_keep_metrics_and_memory_flat() {
    let inst = Instance::start(None);
    let addr = inst.addr().to_owned();
    let run = |n_per_thread: usize, seed: u64| -> Vec<u16> {
        let out: Arc<Mutex<Vec<u16>>> = Arc::default();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (out, addr) = (Arc::clone(&out), addr.clone());
                s.spawn(move || {
                    let v = flood(&addr, n_per_thread, seed.wrapping_mul(31).wrapping_add(t));
                    out.lock().unwrap().extend(v);
                });
            }
        });
        Arc::try_unwrap(out).unwrap().into_inner().unwrap()
    };
    // Warm-up: every route/status combination the flood can produce gets its series.
    let warm = run(1_000, 0x5eed);
    let _ = metrics_lines(&inst); // the /metrics route's own series
    let lines_before = metrics_lines(&inst);
    let rss_before = rss_kib(inst.pid());
    let statuses = run(5_000, 0xfeed);
    let lines_after = metrics_lines(&inst);
    let rss_after = rss_kib(inst.pid());
    for s in warm.iter().chain(&statuses) {
        assert!((100..500).contains(s), "status {s} in the flood");
    }
    assert_eq!(
        lines_before.len(),
        lines_after.len(),
        "metrics series changed: before {} after {}; new: {:?}",
        lines_before.len(),
        lines_after.len(),
        lines_after
            .iter()
            .filter(|l| !lines_before.contains(l))
            .take(10)
            .collect::<Vec<_>>()
    );
    assert_eq!(lines_before, lines_after);
    eprintln!(
        "t06: {} requests, RSS {rss_before} KiB → {rss_after} KiB, {} metrics lines",
        warm.len() + statuses.len(),
        lines_after.len()
    );
    assert!(
        rss_after <= rss_before + 32 * 1024 && rss_after <= rss_before * 3 / 2 + 8 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB over 20,000 requests"
    );
    inst.assert_up();
}

/// Interop regression: sigstore-js parses GeneralizedTime only as `YYYYMMDDHHMMSS[.fff]Z` (exactly three fraction
/// digits), while DER drops trailing fraction zeros; the TSA therefore stamps whole seconds. Checked on many real
/// responses so a millisecond genTime (which broke about one in ten JS verifications) cannot come back.
#[test]
fn tsa_gen_time_is_whole_seconds() {
    let inst = Instance::start(None);
    for i in 0..50u32 {
        let req = sigil_tsa::TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, &i.to_be_bytes());
        let r = tsa_post(&inst, TSQ, &req.to_der());
        expect(&r, 201, "timestamp");
        let resp = sigil_tsa::TimeStampResponse::from_der(&r.body).unwrap();
        // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, … }
        use sigil_crypto::der::{parse_single, tag};
        let tst = parse_single(resp.tst_info_der()).unwrap();
        let mut fields = tst.reader();
        for t in [tag::INTEGER, tag::OID, tag::SEQUENCE, tag::INTEGER] {
            fields.expect(t).unwrap();
        }
        let gen_time = fields.expect(tag::GENERALIZED_TIME).unwrap();
        let text = std::str::from_utf8(gen_time.value).unwrap();
        assert!(
            text.len() == 15 && text.ends_with('Z') && text[..14].bytes().all(|b| b.is_ascii_digit()),
            "genTime {text:?} is not YYYYMMDDHHMMSSZ"
        );
    }
}
