//! The interactive login end to end: `sigil sign-blob` without a token prints the authorization URL of the
//! instance's OIDC issuer (the development issuer of `sigil serve --dev`), a "browser" follows it, the issuer
//! redirects to the CLI's loopback listener with a code, the CLI redeems it (PKCE) and signs as that identity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::Duration;

use support::{SIGIL, cmd, http, ok, start_instance};

/// `http://host:port/path?query` → (`host:port`, `/path?query`).
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let i = rest.find('/').unwrap();
    let authority = rest[..i].replace("localhost", "127.0.0.1");
    (authority, rest[i..].to_string())
}

/// Starts `sign-blob` without a token; returns the child and the authorization URL it printed.
fn start_login(dir: &std::path::Path, artifact: &std::path::Path) -> (std::process::Child, String) {
    let mut child = cmd(SIGIL)
        .arg("sign-blob")
        .arg(artifact)
        .arg("--bundle")
        .arg(dir.join("out.sigstore.json"))
        .arg("--trust-config")
        .arg(dir.join("instance/trust_config.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("sign-blob ended without printing a URL").unwrap();
        if let Some(u) = line
            .trim()
            .strip_prefix("http://")
            .filter(|u| u.contains("/authorize?"))
        {
            break format!("http://{u}");
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

fn wait(child: &mut std::process::Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn interactive_login_against_the_development_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_instance(&dir.path().join("instance"), &dir.path().join("serve.log"));
    let artifact = dir.path().join("a.txt");
    std::fs::write(&artifact, b"signed after an interactive login").unwrap();
    let (mut child, url) = start_login(dir.path(), &artifact);

    // Without a login hint the issuer shows a form (what a person would fill in).
    let (issuer, path) = split_url(&url);
    let form = http(&issuer, "GET", &path, None).unwrap();
    assert_eq!(form.status, 200);
    assert!(form.text().contains("Development OIDC issuer"));
    // Submitting it: the issuer redirects to the CLI's loopback callback with a code and the same state.
    let approve = http(&issuer, "GET", &format!("{path}&login_hint=dave%40example.test"), None).unwrap();
    assert_eq!(approve.status, 302, "{}", approve.text());
    let location = approve.header("location").unwrap().to_string();
    let state = url.split("state=").nth(1).unwrap().split('&').next().unwrap();
    assert!(location.contains(&format!("state={state}")), "{location}");
    let (callback, cb_path) = split_url(&location);
    let done = http(&callback, "GET", &cb_path, None).unwrap();
    assert_eq!(done.status, 200);

    let status = wait(&mut child, Duration::from_secs(30)).expect("sign-blob did not finish");
    assert!(status.success());
    ok(
        "sigil verify-bundle",
        cmd(SIGIL)
            .args(["verify-bundle", "--bundle"])
            .arg(dir.path().join("out.sigstore.json"))
            .args([
                "--certificate-identity",
                "dave@example.test",
                "--certificate-oidc-issuer",
            ])
            .arg(format!("{}/oidc", server.url()))
            .arg("--trusted-root")
            .arg(dir.path().join("instance/trusted_root.json"))
            .arg(&artifact),
    );

    // The code was spent: redeeming it again (a replay) is refused.
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let body = format!("grant_type=authorization_code&code={code}&redirect_uri=x&client_id=sigstore&code_verifier=y");
    let replay = support::http_with_type(
        &issuer,
        "POST",
        "/oidc/token",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(replay.status, 400, "{}", replay.text());
}

#[test]
fn a_callback_with_the_wrong_state_aborts_the_login() {
    let dir = tempfile::tempdir().unwrap();
    let _server = start_instance(&dir.path().join("instance"), &dir.path().join("serve.log"));
    let artifact = dir.path().join("a.txt");
    std::fs::write(&artifact, b"never signed").unwrap();
    let (mut child, url) = start_login(dir.path(), &artifact);
    let (issuer, path) = split_url(&url);
    let approve = http(&issuer, "GET", &format!("{path}&login_hint=eve%40example.test"), None).unwrap();
    let location = approve.header("location").unwrap().to_string();
    // An attacker's callback (a code for another login) arrives with a forged state (O-11).
    let forged = location.split("state=").next().unwrap().to_string() + "state=forged";
    let (callback, cb_path) = split_url(&forged);
    let _ = http(&callback, "GET", &cb_path, None);
    let status = wait(&mut child, Duration::from_secs(30)).expect("sign-blob did not finish");
    assert!(!status.success());
    assert!(!dir.path().join("out.sigstore.json").exists());
}

#[test]
fn the_development_issuer_only_redirects_to_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_instance(&dir.path().join("instance"), &dir.path().join("serve.log"));
    let addr = server.url().trim_start_matches("http://").to_string();
    let path = "/oidc/authorize?response_type=code&client_id=sigstore&state=s&code_challenge=c\
                &code_challenge_method=S256&login_hint=a%40example.test&redirect_uri=";
    for target in [
        "https%3A%2F%2Fevil.example%2Fcb",
        "http%3A%2F%2Flocalhost.evil.example%2Fcb",
    ] {
        let resp = http(&addr, "GET", &format!("{path}{target}"), None).unwrap();
        assert_eq!(resp.status, 400, "{target}: {}", resp.text());
    }
    // PKCE is mandatory.
    let plain = path.replace("S256", "plain") + "http%3A%2F%2Flocalhost%3A1%2Fcb";
    assert_eq!(http(&addr, "GET", &plain, None).unwrap().status, 400);
}
