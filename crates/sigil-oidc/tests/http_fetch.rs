#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The `http` fetcher and AsyncValidator against local servers on 127.0.0.1:0 (O-05, O-06, O-07, R-10).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use sigil_oidc::dev::{DevClaims, DevIssuer};
use sigil_oidc::fetch::{AsyncValidator, FetchConfig, HttpJwksFetcher};
use sigil_oidc::{Error, IssuerConfig, IssuerType, JwksCache, OidcConfig, Validator};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

enum Reply {
    Json(String),
    Status(u16),
    Redirect(String),
    Slow(Duration),
    /// Declares this Content-Length and sends nothing more.
    DeclaredLength(u64),
    /// Streams this many bytes, chunked.
    Chunked(usize),
}

type Handler = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

struct Server {
    base: String,
    hits: Arc<AtomicUsize>,
}

async fn serve(handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let (b, h) = (base.clone(), hits.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (handler, base, hits) = (handler.clone(), b.clone(), h.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&buf);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                hits.fetch_add(1, Ordering::SeqCst);
                let head =
                    |status: u16, extra: &str| format!("HTTP/1.1 {status} X\r\nConnection: close\r\n{extra}\r\n");
                match handler(&base, &path) {
                    Reply::Json(body) => {
                        let h = head(
                            200,
                            &format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()),
                        );
                        let _ = sock.write_all(format!("{h}{body}").as_bytes()).await;
                    }
                    Reply::Status(s) => {
                        let _ = sock.write_all(head(s, "Content-Length: 0\r\n").as_bytes()).await;
                    }
                    Reply::Redirect(to) => {
                        let _ = sock
                            .write_all(head(302, &format!("Location: {to}\r\nContent-Length: 0\r\n")).as_bytes())
                            .await;
                    }
                    Reply::Slow(d) => {
                        tokio::time::sleep(d).await;
                        let _ = sock.write_all(head(200, "Content-Length: 2\r\n").as_bytes()).await;
                        let _ = sock.write_all(b"{}").await;
                    }
                    Reply::DeclaredLength(n) => {
                        let _ = sock
                            .write_all(head(200, &format!("Content-Length: {n}\r\n")).as_bytes())
                            .await;
                        tokio::time::sleep(Duration::from_secs(10)).await;
                    }
                    Reply::Chunked(total) => {
                        let _ = sock
                            .write_all(head(200, "Transfer-Encoding: chunked\r\n").as_bytes())
                            .await;
                        let data = vec![b' '; 64 * 1024];
                        let mut sent = 0;
                        while sent < total {
                            let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
                            frame.extend_from_slice(&data);
                            frame.extend_from_slice(b"\r\n");
                            if sock.write_all(&frame).await.is_err() {
                                return;
                            }
                            sent += data.len();
                        }
                        let _ = sock.write_all(b"0\r\n\r\n").await;
                    }
                }
            });
        }
    });
    Server { base, hits }
}

/// A server that plays a development issuer at its own base URL; `jwks_reply` overrides `/jwks`.
async fn dev_server(fail: Arc<AtomicBool>) -> (Server, Arc<std::sync::OnceLock<DevIssuer>>) {
    let dev: Arc<std::sync::OnceLock<DevIssuer>> = Arc::new(std::sync::OnceLock::new());
    let d = dev.clone();
    let server = serve(Arc::new(move |base: &str, path: &str| {
        if fail.load(Ordering::SeqCst) {
            return Reply::Status(500);
        }
        let issuer = d.get_or_init(|| DevIssuer::generate(base).unwrap());
        match path {
            "/.well-known/openid-configuration" => Reply::Json(issuer.discovery_document().to_string()),
            "/jwks" => Reply::Json(issuer.jwks().to_string()),
            _ => Reply::Status(404),
        }
    }))
    .await;
    // Initialise the issuer with the base URL before any request.
    dev.get_or_init(|| DevIssuer::generate(server.base.as_str()).unwrap());
    (server, dev)
}

fn async_validator(iss: &str, fetch: FetchConfig) -> AsyncValidator {
    let config = OidcConfig::with_issuers([IssuerConfig::new(iss, IssuerType::Email)]).unwrap();
    AsyncValidator::new(
        Validator::new(config),
        Arc::new(JwksCache::new()),
        HttpJwksFetcher::new(fetch).unwrap(),
    )
}

fn fetcher(timeout_ms: u64) -> HttpJwksFetcher {
    HttpJwksFetcher::new(FetchConfig::default().with_timeout(Duration::from_millis(timeout_ms))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_then_jwks_then_cached() {
    let (server, dev) = dev_server(Arc::new(AtomicBool::new(false))).await;
    let v = async_validator(&server.base, FetchConfig::default());
    let token = dev
        .get()
        .unwrap()
        .mint(&DevClaims::email("alice@example.com"), NOW, 600)
        .unwrap();
    v.validate(&token, NOW).await.unwrap();
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    v.validate(&token, NOW + 10).await.unwrap();
    assert_eq!(server.hits.load(Ordering::SeqCst), 2, "keys are cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_issuer_causes_no_request() {
    let (server, _) = dev_server(Arc::new(AtomicBool::new(false))).await;
    let v = async_validator("https://configured.example", FetchConfig::default());
    // A token naming the server (which would answer) as issuer: not configured, so never contacted.
    let rogue = DevIssuer::generate(server.base.as_str()).unwrap();
    let token = rogue.mint(&DevClaims::email("alice@example.com"), NOW, 600).unwrap();
    assert_eq!(v.validate(&token, NOW).await.unwrap_err(), Error::UnknownIssuer);
    let slash = DevIssuer::generate("https://configured.example/").unwrap();
    let token = slash.mint(&DevClaims::email("alice@example.com"), NOW, 600).unwrap();
    assert_eq!(v.validate(&token, NOW).await.unwrap_err(), Error::UnknownIssuer);
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o06_cross_host_redirect_is_refused() {
    let server = serve(Arc::new(|base: &str, _path: &str| {
        Reply::Redirect(base.replace("127.0.0.1", "localhost") + "/.well-known/openid-configuration")
    }))
    .await;
    let err = fetcher(2000)
        .fetch(&IssuerConfig::new(&server.base, IssuerType::Email))
        .await
        .unwrap_err();
    assert_eq!(err, Error::RedirectRefused);
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        1,
        "the redirect target was never requested"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o06_jwks_uri_on_another_host_is_refused() {
    let server = serve(Arc::new(|base: &str, path: &str| match path {
        "/.well-known/openid-configuration" => Reply::Json(
            json!({"issuer": base, "jwks_uri": base.replace("127.0.0.1", "localhost") + "/jwks"}).to_string(),
        ),
        _ => Reply::Status(404),
    }))
    .await;
    let f = fetcher(2000);
    let cfg = IssuerConfig::new(&server.base, IssuerType::Email);
    assert_eq!(f.fetch(&cfg).await.unwrap_err(), Error::JwksHostNotAllowed);
    // Allowing the host is for https only: plain http to another host stays refused.
    assert_eq!(
        f.fetch(&cfg.clone().with_allowed_jwks_host("localhost"))
            .await
            .unwrap_err(),
        Error::JwksHostNotAllowed
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 2, "only discovery was requested");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_issuer_mismatch_is_refused() {
    let server = serve(Arc::new(|base: &str, _path: &str| {
        Reply::Json(json!({"issuer": format!("{base}/"), "jwks_uri": format!("{base}/jwks")}).to_string())
    }))
    .await;
    let err = fetcher(2000)
        .fetch(&IssuerConfig::new(&server.base, IssuerType::Email))
        .await
        .unwrap_err();
    assert_eq!(err, Error::IssuerMismatch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r10_fifty_megabyte_bodies_are_capped() {
    let server = serve(Arc::new(|base: &str, path: &str| match path {
        "/.well-known/openid-configuration" => {
            Reply::Json(json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}).to_string())
        }
        "/jwks" => Reply::Chunked(50 * 1024 * 1024),
        _ => Reply::DeclaredLength(50 * 1024 * 1024),
    }))
    .await;
    let f = fetcher(4000);
    let started = Instant::now();
    let err = f
        .fetch(&IssuerConfig::new(&server.base, IssuerType::Email))
        .await
        .unwrap_err();
    assert_eq!(err, Error::BodyTooLarge { max: 256 * 1024 });
    // Declared too large: refused from the header.
    let err = f
        .fetch(&IssuerConfig::new(
            format!("{}/declared", server.base),
            IssuerType::Email,
        ))
        .await
        .unwrap_err();
    assert_eq!(err, Error::BodyTooLarge { max: 256 * 1024 });
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r10_slow_server_times_out_and_cached_keys_keep_serving() {
    let slow = Arc::new(AtomicBool::new(false));
    let dev: Arc<std::sync::OnceLock<DevIssuer>> = Arc::new(std::sync::OnceLock::new());
    let (s, d) = (slow.clone(), dev.clone());
    let server = serve(Arc::new(move |base: &str, path: &str| {
        if s.load(Ordering::SeqCst) {
            return Reply::Slow(Duration::from_secs(3));
        }
        let issuer = d.get_or_init(|| DevIssuer::generate(base).unwrap());
        match path {
            "/.well-known/openid-configuration" => Reply::Json(issuer.discovery_document().to_string()),
            _ => Reply::Json(issuer.jwks().to_string()),
        }
    }))
    .await;
    dev.get_or_init(|| DevIssuer::generate(server.base.as_str()).unwrap());
    let v = async_validator(
        &server.base,
        FetchConfig::default().with_timeout(Duration::from_millis(300)),
    );
    let token = dev
        .get()
        .unwrap()
        .mint(&DevClaims::email("alice@example.com"), NOW, 3600)
        .unwrap();
    v.validate(&token, NOW).await.unwrap();
    slow.store(true, Ordering::SeqCst);
    // TTL passed: the refresh times out, the cached keys still validate.
    let started = Instant::now();
    v.validate(&token, NOW + 700).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    // The fetcher itself reports the timeout.
    let err = fetcher(300)
        .fetch(&IssuerConfig::new(&server.base, IssuerType::Email))
        .await
        .unwrap_err();
    assert_eq!(err, Error::Timeout);
    // With nothing cached, the failure is returned.
    let fresh = async_validator(
        &server.base,
        FetchConfig::default().with_timeout(Duration::from_millis(300)),
    );
    assert_eq!(fresh.validate(&token, NOW).await.unwrap_err(), Error::Timeout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_refresh_keeps_cached_keys() {
    let fail = Arc::new(AtomicBool::new(false));
    let (server, dev) = dev_server(fail.clone()).await;
    let v = async_validator(&server.base, FetchConfig::default());
    let token = dev
        .get()
        .unwrap()
        .mint(&DevClaims::email("alice@example.com"), NOW, 3600)
        .unwrap();
    v.validate(&token, NOW).await.unwrap();
    fail.store(true, Ordering::SeqCst);
    v.validate(&token, NOW + 700).await.unwrap();
    let hits = server.hits.load(Ordering::SeqCst);
    assert_eq!(hits, 3);
    // The failure pauses fetching for the refresh interval.
    v.validate(&token, NOW + 710).await.unwrap();
    assert_eq!(server.hits.load(Ordering::SeqCst), hits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o07_bad_kid_storm_causes_at_most_one_refresh_and_refreshes_coalesce() {
    let (server, dev) = dev_server(Arc::new(AtomicBool::new(false))).await;
    let v = Arc::new(async_validator(&server.base, FetchConfig::default()));
    let d = dev.get().unwrap();
    // 20 concurrent first requests: one discovery + one JWKS fetch.
    let good = d.mint(&DevClaims::email("alice@example.com"), NOW, 3600).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (v, t) = (v.clone(), good.clone());
        tasks.push(tokio::spawn(async move { v.validate(&t, NOW).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    // 2000 tokens with unknown kids over a few seconds of (simulated) time: at most one refresh.
    let bad = d
        .sign_jwt(
            &json!({"alg": "ES256", "kid": "rotated-away"}),
            &serde_json::Value::Object(std_payload(&server.base)),
        )
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..2000 {
        let (v, t) = (v.clone(), bad.clone());
        tasks.push(tokio::spawn(async move { v.validate(&t, NOW + 40 + i / 500).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap_err(), Error::UnknownKeyId);
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), 4, "one refresh = discovery + JWKS");
}

#[tokio::test]
async fn plain_http_only_to_loopback() {
    let f = fetcher(500);
    for iss in [
        "http://example.com",
        "http://10.0.0.1",
        "ftp://127.0.0.1",
        "http://user@127.0.0.1:1",
    ] {
        assert!(
            matches!(
                f.fetch(&IssuerConfig::new(iss, IssuerType::Email)).await,
                Err(Error::UrlNotAllowed(_))
            ),
            "{iss}"
        );
    }
}
