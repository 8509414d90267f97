#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SECURITY.md U-10 over real HTTP: a TUF file streamed without end, or longer than the signed length, is cut
//! off at the limit and refused; 404 and 403 mean "no such file" (they end the root version search).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sigil_client::{ClientOptions, HttpClient};
use sigil_trust::tuf::{Fetch, FetchError};

/// Answers one request with `head` and then `body_chunks` 1 KiB chunks (`u64::MAX`: forever, until the
/// client hangs up). Returns the URL and a counter of the bytes written.
fn serve(head: &'static str, body_chunks: u64) -> (String, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/timestamp.json", l.local_addr().unwrap().port());
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        if s.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = [b'a'; 1024];
        let mut n = 0;
        while n < body_chunks {
            if s.write_all(&chunk).is_err() {
                return;
            }
            counter.fetch_add(1024, Ordering::Relaxed);
            n += 1;
        }
    });
    (url, sent)
}

fn client() -> HttpClient {
    HttpClient::new(ClientOptions::default()).unwrap()
}

#[test]
fn an_endless_body_is_cut_off_at_the_limit() {
    // No Content-Length, connection-delimited: the server would stream forever.
    let (url, sent) = serve("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", u64::MAX);
    let err = client().fetch(&url, 16_384).unwrap_err();
    assert_eq!(err, FetchError::TooLarge(16_384));
    // The client stopped reading soon after the limit (socket buffers allow some slack, not megabytes).
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        sent.load(Ordering::Relaxed) < 16 << 20,
        "{} bytes sent",
        sent.load(Ordering::Relaxed)
    );
}

#[test]
fn a_body_longer_than_its_signed_length_is_refused() {
    let (url, _) = serve(
        "HTTP/1.1 200 OK\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n",
        2,
    );
    assert_eq!(client().fetch(&url, 2047).unwrap_err(), FetchError::TooLarge(2047));
    let (url, _) = serve(
        "HTTP/1.1 200 OK\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n",
        2,
    );
    assert_eq!(client().fetch(&url, 2048).unwrap().len(), 2048);
}

#[test]
fn not_found_and_forbidden_mean_absent() {
    let (url, _) = serve(
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        0,
    );
    assert_eq!(client().fetch(&url, 100).unwrap_err(), FetchError::NotFound);
    let (url, _) = serve(
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        0,
    );
    assert_eq!(client().fetch(&url, 100).unwrap_err(), FetchError::NotFound);
    let (url, _) = serve("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0);
    assert!(matches!(
        client().fetch(&url, 100).unwrap_err(),
        FetchError::Transport(_)
    ));
}
