#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The transport's guarantees against a scripted local server: the server's status and message reach the
//! error, oversized bodies are cut off, redirects are not followed (so a bearer token stays on its host).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;

use sigil_client::{ClientOptions, HttpClient};
use sigil_sign::{AmbientRequest, TimestampAuthority as _};

/// Serves one canned response per connection, `n` times; returns the base URL and the received requests.
fn serve(responses: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    let h = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for resp in responses {
            let (mut s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            seen.push(head);
            s.write_all(resp.as_bytes()).unwrap();
        }
        seen
    });
    (url, h)
}

fn response(status: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
}

#[test]
fn status_and_server_message_are_reported() {
    let (url, h) = serve(vec![response(
        "400 Bad Request",
        "Content-Type: application/json\r\n",
        r#"{"code":400,"message":"bad timestamp request"}"#,
    )]);
    let client = HttpClient::new(ClientOptions::default()).unwrap();
    let req = sigil_tsa::TimeStampRequest::for_signature(sigil_crypto::HashAlgorithm::Sha2_256, b"sig");
    let err = client.timestamp(&format!("{url}/api/v1/timestamp"), &req).unwrap_err();
    assert_eq!(err.service, "tsa");
    assert_eq!(err.status, Some(400));
    assert_eq!(err.message, "bad timestamp request");
    let seen = h.join().unwrap();
    assert!(seen[0].contains("application/timestamp-query"), "{}", seen[0]);
}

#[test]
fn oversized_responses_are_refused() {
    let big = "x".repeat(2048);
    let (url, h) = serve(vec![response("200 OK", "", &big)]);
    let client = HttpClient::new(ClientOptions {
        max_response_bytes: 1024,
        ..ClientOptions::default()
    })
    .unwrap();
    let req = sigil_tsa::TimeStampRequest::for_signature(sigil_crypto::HashAlgorithm::Sha2_256, b"sig");
    let err = client.timestamp(&url, &req).unwrap_err();
    assert!(err.message.contains("larger than"), "{err}");
    h.join().unwrap();
}

#[test]
fn redirects_are_not_followed_with_the_bearer_token() {
    let (url, h) = serve(vec![response(
        "302 Found",
        "Location: http://127.0.0.1:9/steal\r\n",
        "",
    )]);
    let client = HttpClient::new(ClientOptions::default()).unwrap();
    let err = client
        .github_actions_token(&AmbientRequest {
            url: format!("{url}/token?audience=sigstore"),
            bearer: "request-token".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 302"), "{err}");
    let seen = h.join().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].contains("Bearer request-token"));
}

#[test]
fn github_actions_token_is_read() {
    let (url, h) = serve(vec![response("200 OK", "", r#"{"count":1,"value":"ey.token.sig"}"#)]);
    let client = HttpClient::new(ClientOptions::default()).unwrap();
    let t = client
        .github_actions_token(&AmbientRequest {
            url: format!("{url}/token?audience=sigstore"),
            bearer: "rt".into(),
        })
        .unwrap();
    assert_eq!(t, "ey.token.sig");
    assert!(h.join().unwrap()[0].starts_with("GET /token?audience=sigstore "));
    let plain = client.github_actions_token(&AmbientRequest {
        url: "http://example.com/token".into(),
        bearer: "rt".into(),
    });
    assert!(plain.unwrap_err().to_string().contains("plain http"));
}
