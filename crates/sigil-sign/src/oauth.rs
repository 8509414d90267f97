//! The interactive login: OAuth 2.0 authorization code with PKCE (RFC 7636, S256) against the configured
//! issuer, with a loopback redirect (RFC 8252 §7.3). This module is the state machine; `sigil-client` runs
//! the listener and the HTTP exchanges.
//!
//! SECURITY.md O-11 (sigstore-python GHSA-hm8f): a callback whose `state` is missing or differs from ours
//! aborts the login — it could be a login-CSRF that injects someone else's code — and a code is accepted
//! once; any later callback is refused.

use crate::{Error, b64url, random_bytes};
use sigil_bundle::encoding::percent_encode;

/// The issuer's endpoints (from its discovery document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthEndpoints {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
}

/// One login attempt.
pub struct OAuthSession {
    endpoints: OAuthEndpoints,
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    verifier: String,
    done: bool,
}

impl std::fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSession")
            .field("endpoints", &self.endpoints)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// What a callback request turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The authorization code: exchange it (once).
    Code(String),
    /// A request for another path (a browser's `/favicon.ico`): answer 404 and keep waiting.
    NotCallback,
}

impl OAuthSession {
    /// A fresh session with random `state`, `nonce` and PKCE verifier.
    pub fn new(endpoints: OAuthEndpoints, client_id: &str, redirect_uri: &str) -> Result<Self, Error> {
        Ok(Self {
            endpoints,
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            state: b64url(&random_bytes::<24>()?),
            nonce: b64url(&random_bytes::<24>()?),
            verifier: b64url(&random_bytes::<48>()?),
            done: false,
        })
    }

    /// The URL to open in a browser.
    pub fn authorization_url(&self) -> String {
        let challenge = b64url(&sigil_crypto::sha256(self.verifier.as_bytes()));
        let sep = if self.endpoints.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let params = [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", "openid email"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", self.state.as_str()),
            ("nonce", self.nonce.as_str()),
        ];
        format!("{}{sep}{}", self.endpoints.authorization_endpoint, form_encode(&params))
    }

    /// The path the redirect URI points at (`/auth/callback`).
    pub fn callback_path(&self) -> &str {
        let rest = self
            .redirect_uri
            .split_once("://")
            .map_or(self.redirect_uri.as_str(), |(_, r)| r);
        rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/")
    }

    /// Handles the request target (`/auth/callback?code=…&state=…`) of one request to the loopback listener.
    /// A missing or wrong `state`, an `error` answer, or any callback after the first is an error: abort.
    pub fn accept_callback(&mut self, target: &str) -> Result<Callback, Error> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != self.callback_path() {
            return Ok(Callback::NotCallback);
        }
        if self.done {
            return Err(Error::OAuth(
                "a second callback arrived; the code was already accepted".into(),
            ));
        }
        // From here on the session is spent, whatever the outcome.
        self.done = true;
        let params = parse_query(query);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        match get("state") {
            None => return Err(Error::OAuth("callback without `state`: aborting".into())),
            Some(s) if !constant_time_eq(s.as_bytes(), self.state.as_bytes()) => {
                return Err(Error::OAuth(
                    "callback `state` does not match this login: aborting".into(),
                ));
            }
            Some(_) => {}
        }
        if let Some(e) = get("error") {
            let desc = get("error_description").unwrap_or("");
            return Err(Error::OAuth(format!(
                "the issuer refused: {} {}",
                e.chars().take(100).collect::<String>(),
                desc.chars().take(200).collect::<String>()
            )));
        }
        match get("code") {
            Some(c) if !c.is_empty() => Ok(Callback::Code(c.to_string())),
            _ => Err(Error::OAuth("callback without `code`".into())),
        }
    }

    /// The `application/x-www-form-urlencoded` body of the token request for `code`.
    pub fn token_request_body(&self, code: &str) -> String {
        form_encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("client_id", self.client_id.as_str()),
            ("code_verifier", self.verifier.as_str()),
        ])
    }

    pub fn endpoints(&self) -> &OAuthEndpoints {
        &self.endpoints
    }

    /// The expected `nonce` claim of the returned ID token.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `k=v&…` with RFC 3986 unreserved characters kept and everything else percent-encoded.
pub fn form_encode(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Parses `a=b&c=d` (`+` is a space, `%XX` decoded; malformed escapes are kept literally).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn session() -> OAuthSession {
        OAuthSession::new(
            OAuthEndpoints {
                authorization_endpoint: "https://issuer.test/auth".into(),
                token_endpoint: "https://issuer.test/token".into(),
            },
            "sigstore",
            "http://127.0.0.1:4711/auth/callback",
        )
        .unwrap()
    }

    fn state_of(s: &OAuthSession) -> String {
        let url = s.authorization_url();
        let q = url.split_once('?').unwrap().1;
        parse_query(q).into_iter().find(|(k, _)| k == "state").unwrap().1
    }

    #[test]
    fn authorization_url_carries_pkce_and_state() {
        let s = session();
        let url = s.authorization_url();
        assert!(url.starts_with("https://issuer.test/auth?response_type=code&client_id=sigstore&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Fauth%2Fcallback"));
        assert!(url.contains("code_challenge_method=S256"));
        let q = parse_query(url.split_once('?').unwrap().1);
        let challenge = &q.iter().find(|(k, _)| k == "code_challenge").unwrap().1;
        assert_eq!(challenge, &b64url(&sigil_crypto::sha256(s.verifier.as_bytes())));
        assert!(
            s.token_request_body("c0de")
                .contains(&format!("code_verifier={}", s.verifier))
        );
        assert_eq!(s.callback_path(), "/auth/callback");
    }

    #[test]
    fn right_state_gives_the_code_once() {
        let mut s = session();
        let st = state_of(&s);
        assert_eq!(s.accept_callback("/favicon.ico").unwrap(), Callback::NotCallback);
        assert_eq!(
            s.accept_callback(&format!("/auth/callback?code=abc%2Fd&state={st}"))
                .unwrap(),
            Callback::Code("abc/d".into())
        );
        let replay = s.accept_callback(&format!("/auth/callback?code=abc&state={st}"));
        assert!(matches!(replay, Err(Error::OAuth(_))));
    }

    #[test]
    fn missing_or_wrong_state_aborts_and_spends_the_session() {
        let mut s = session();
        let st = state_of(&s);
        let err = s.accept_callback("/auth/callback?code=abc").unwrap_err();
        assert!(err.to_string().contains("without `state`"), "{err}");
        // Even the right state afterwards is refused: the login was aborted.
        assert!(
            s.accept_callback(&format!("/auth/callback?code=abc&state={st}"))
                .is_err()
        );
        let mut s = session();
        let err = s.accept_callback("/auth/callback?code=abc&state=forged").unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn issuer_error_is_reported() {
        let mut s = session();
        let st = state_of(&s);
        let err = s
            .accept_callback(&format!("/auth/callback?error=access_denied&state={st}"))
            .unwrap_err();
        assert!(err.to_string().contains("access_denied"), "{err}");
    }
}
