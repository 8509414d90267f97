#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SECURITY.md O-11: the loopback redirect listener aborts the login on a callback with a missing or
//! mismatched `state`, and accepts a code once.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use sigil_sign::oauth::parse_query;
use sigil_sign::{OAuthEndpoints, OAuthSession};

fn session(port: u16) -> OAuthSession {
    OAuthSession::new(
        OAuthEndpoints {
            authorization_endpoint: "http://127.0.0.1:9/auth".into(),
            token_endpoint: "http://127.0.0.1:9/token".into(),
        },
        "sigstore",
        &format!("http://localhost:{port}/auth/callback"),
    )
    .unwrap()
}

fn state(s: &OAuthSession) -> String {
    let url = s.authorization_url();
    parse_query(url.split_once('?').unwrap().1)
        .into_iter()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
}

/// Sends `GET target` to the listener and returns the status line of the answer.
fn get(port: u16, target: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.lines().next().unwrap_or_default().to_string()
}

fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn mismatched_state_aborts_the_login() {
    let (l, port) = listener();
    let mut s = session(port);
    let waiter = std::thread::spawn(move || sigil_client::receive_callback(&l, &mut s, Duration::from_secs(10)));
    assert!(get(port, "/favicon.ico").contains("404"));
    assert!(get(port, "/auth/callback?code=attacker&state=forged").contains("400"));
    let err = waiter.join().unwrap().unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    // The listener is gone with the aborted login: the real callback finds nobody to take its code.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn missing_state_aborts_the_login() {
    let (l, port) = listener();
    let mut s = session(port);
    let waiter = std::thread::spawn(move || sigil_client::receive_callback(&l, &mut s, Duration::from_secs(10)));
    assert!(get(port, "/auth/callback?code=attacker").contains("400"));
    let err = waiter.join().unwrap().unwrap_err();
    assert!(err.to_string().contains("without `state`"), "{err}");
}

#[test]
fn matching_state_yields_the_code_once() {
    let (l, port) = listener();
    let mut s = session(port);
    let st = state(&s);
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let code = sigil_client::receive_callback(&l, &mut s, Duration::from_secs(10));
        tx.send(()).unwrap();
        // The same session refuses a replayed callback even if it were delivered again.
        let replay = s.accept_callback("/auth/callback?code=again&state=x");
        (code, replay)
    });
    assert!(get(port, &format!("/auth/callback?code=c0de&state={st}")).contains("200"));
    rx.recv().unwrap();
    let (code, replay) = waiter.join().unwrap();
    assert_eq!(code.unwrap(), "c0de");
    assert!(replay.is_err());
}

#[test]
fn no_callback_times_out() {
    let (l, port) = listener();
    let mut s = session(port);
    let err = sigil_client::receive_callback(&l, &mut s, Duration::from_millis(100)).unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
}
