//! The interactive login's I/O: OIDC discovery, the loopback redirect listener and the token exchange. The
//! state machine (PKCE, `state` checks, single use) is `sigil_sign::OAuthSession`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use sigil_sign::oauth::Callback;
use sigil_sign::{IdentityToken, OAuthEndpoints, OAuthSession};

use crate::Error;
use crate::http::{HttpClient, require_success};

/// Longest request line read from the browser.
const MAX_REQUEST_LINE: u64 = 8 * 1024;

/// Reads `{issuer}/.well-known/openid-configuration`.
pub fn discover(client: &HttpClient, issuer: &str) -> Result<OAuthEndpoints, Error> {
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let reply = client.get("oidc", &url, "application/json", None)?;
    require_success("oidc", &url, &reply)?;
    let v: Value = serde_json::from_slice(&reply.body).map_err(|e| Error::Response {
        service: "oidc",
        url: url.clone(),
        reason: format!("not JSON: {e}"),
    })?;
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::Response {
                service: "oidc",
                url: url.clone(),
                reason: format!("no {k}"),
            })
    };
    Ok(OAuthEndpoints {
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
    })
}

/// Serves the loopback redirect until the callback arrives or `timeout` passes. Requests for other paths get
/// a 404 and are ignored; the first callback decides: with our `state` its code is returned, otherwise the
/// login is aborted (SECURITY.md O-11). Either way the listener is done: the code is accepted once.
pub fn receive_callback(
    listener: &TcpListener,
    session: &mut OAuthSession,
    timeout: Duration,
) -> Result<String, Error> {
    let deadline = Instant::now() + timeout;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::OAuth(format!("loopback listener: {e}")))?;
    loop {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(Error::OAuth("timed out waiting for the browser's redirect".into()));
                }
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => return Err(Error::OAuth(format!("loopback listener: {e}"))),
        };
        let Some(target) = read_target(&stream) else {
            continue;
        };
        match session.accept_callback(&target) {
            Ok(Callback::NotCallback) => respond(stream, "404 Not Found", "not found"),
            Ok(Callback::Code(code)) => {
                respond(stream, "200 OK", "sigil: login complete. You can close this window.");
                return Ok(code);
            }
            Err(e) => {
                respond(stream, "400 Bad Request", "sigil: login aborted.");
                return Err(Error::OAuth(e.to_string()));
            }
        }
    }
}

/// The request target of a `GET` request line, if there is one.
fn read_target(stream: &TcpStream) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut line = String::new();
    let mut reader = BufReader::new(std::io::Read::take(stream, MAX_REQUEST_LINE));
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_ascii_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Some(target.to_string()),
        _ => None,
    }
}

fn respond(mut stream: TcpStream, status: &str, text: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.flush();
}

/// The whole interactive login: discovery, a loopback listener on 127.0.0.1, `show(url)` to let the user open
/// the authorization URL, the callback, and the code exchange. Returns the raw ID token.
pub fn interactive_login(
    client: &HttpClient,
    issuer: &str,
    client_id: &str,
    timeout: Duration,
    show: &mut dyn FnMut(&str),
) -> Result<String, Error> {
    let endpoints = discover(client, issuer)?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::OAuth(format!("loopback listener: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::OAuth(format!("loopback listener: {e}")))?
        .port();
    let redirect = format!("http://localhost:{port}/auth/callback");
    let mut session = OAuthSession::new(endpoints, client_id, &redirect).map_err(|e| Error::OAuth(e.to_string()))?;
    show(&session.authorization_url());
    let code = receive_callback(&listener, &mut session, timeout)?;
    drop(listener);
    let url = session.endpoints().token_endpoint.clone();
    let reply = client.post(
        "oidc",
        &url,
        "application/x-www-form-urlencoded",
        "application/json",
        None,
        session.token_request_body(&code).as_bytes(),
    )?;
    require_success("oidc", &url, &reply)?;
    let v: Value = serde_json::from_slice(&reply.body).map_err(|e| Error::Response {
        service: "oidc",
        url: url.clone(),
        reason: format!("not JSON: {e}"),
    })?;
    let token = v
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Response {
            service: "oidc",
            url: url.clone(),
            reason: "no id_token".into(),
        })?
        .to_string();
    // The token must be the one minted for this login (its `nonce`), not one replayed from elsewhere.
    let parsed = IdentityToken::parse(&token).map_err(|e| Error::OAuth(e.to_string()))?;
    drop(parsed);
    if !token_has_nonce(&token, session.nonce()) {
        return Err(Error::OAuth("the ID token's nonce is not this login's".into()));
    }
    Ok(token)
}

fn token_has_nonce(token: &str, nonce: &str) -> bool {
    use base64::Engine as _;
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("nonce").and_then(Value::as_str).map(|n| n == nonce))
        .unwrap_or(false)
}
