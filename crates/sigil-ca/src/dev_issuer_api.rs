//! HTTP routes of the **development** OIDC issuer (`sigil serve --dev`): discovery, JWKS, a token endpoint that
//! mints a token for whatever email it is asked for, and an OAuth 2.0 authorization-code flow with PKCE so that
//! interactive clients (`sigil sign-blob` without a token) can be exercised end to end. Anyone who can reach it
//! can obtain any identity from this issuer, which is why it is off unless `--dev` is given, why it only redirects
//! to loopback addresses, and why its tokens only count where this issuer is explicitly trusted.

use sigil_bundle::encoding::percent_encode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sigil_http::{BodyLimits, HttpError, form_decode, read_body};
use sigil_oidc::dev::{DevClaims, DevIssuer};

/// Tokens last ten minutes, like the certificates they buy.
pub const TOKEN_TTL_SECS: i64 = 600;
/// An authorization code must be redeemed within a minute, once.
const CODE_TTL_SECS: i64 = 60;
/// Outstanding codes at most; beyond that new logins are refused (429) until codes are redeemed or expire.
const MAX_CODES: usize = 1024;
/// Longest query string or form body the flow reads.
const MAX_QUERY: usize = 4096;

#[derive(Debug)]
struct PendingCode {
    email: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    expires: i64,
}

#[derive(Debug)]
struct Dev {
    issuer: Arc<DevIssuer>,
    codes: Mutex<HashMap<String, PendingCode>>,
}

type S = State<Arc<Dev>>;

/// Routes under `prefix` (the path of the issuer URL, e.g. `/oidc`).
pub fn router(issuer: Arc<DevIssuer>, prefix: &str) -> Router {
    let prefix = prefix.trim_end_matches('/');
    let state = Arc::new(Dev {
        issuer,
        codes: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route(&format!("{prefix}/.well-known/openid-configuration"), get(discovery))
        .route(&format!("{prefix}/jwks"), get(jwks))
        .route(&format!("{prefix}/authorize"), get(authorize))
        .route(&format!("{prefix}/token"), get(token_get).post(token_post))
        .with_state(state)
}

async fn discovery(State(s): S) -> Response {
    let mut doc = s.issuer.discovery_document();
    if let Some(m) = doc.as_object_mut() {
        let iss = s.issuer.issuer_url();
        m.insert("authorization_endpoint".into(), format!("{iss}/authorize").into());
        m.insert(
            "response_types_supported".into(),
            serde_json::json!(["code", "id_token"]),
        );
        m.insert(
            "grant_types_supported".into(),
            serde_json::json!(["authorization_code"]),
        );
        m.insert("code_challenge_methods_supported".into(), serde_json::json!(["S256"]));
        m.insert("scopes_supported".into(), serde_json::json!(["openid", "email"]));
    }
    axum::Json(doc).into_response()
}

async fn jwks(State(s): S) -> Response {
    axum::Json(s.issuer.jwks()).into_response()
}

fn mint(
    s: &Dev,
    email: String,
    sub: Option<String>,
    audience: Option<String>,
    nonce: Option<String>,
) -> Result<Response, HttpError> {
    sigil_oidc::check_email(&email).map_err(|e| HttpError::bad_request(e.to_string()))?;
    let mut claims = DevClaims::email(email);
    claims.sub = sub;
    claims.audience = audience;
    if let Some(n) = nonce {
        claims.extra.insert("nonce".into(), n.into());
    }
    let now = crate::fulcio_api::unix_now();
    let token = s
        .issuer
        .mint(&claims, now, TOKEN_TTL_SECS)
        .map_err(|e| HttpError::unavailable(e.to_string()))?;
    Ok(axum::Json(serde_json::json!({
        "id_token": token, "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_SECS,
    }))
    .into_response())
}

/// `k=v&…` pairs, percent-decoded; bounded by [`MAX_QUERY`].
fn params(q: &str) -> Result<Vec<(String, String)>, HttpError> {
    if q.len() > MAX_QUERY {
        return Err(HttpError::bad_request("query too long"));
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (form_decode(k), form_decode(v)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(HttpError::bad_request("bad percent-encoding")),
            }
        })
        .collect()
}

fn get_param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `GET …/token?email=alice@example.test`: a token without any flow (what `sigil dev-token` does offline).
async fn token_get(State(s): S, RawQuery(q): RawQuery) -> Result<Response, HttpError> {
    let p = params(&q.unwrap_or_default())?;
    let email = get_param(&p, "email")
        .ok_or_else(|| HttpError::bad_request("missing email"))?
        .to_string();
    mint(&s, email, get_param(&p, "sub").map(str::to_string), None, None)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    email: String,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    audience: Option<String>,
}

/// `POST …/token`: JSON `{"email", "sub"?, "audience"?}`, or the OAuth code exchange
/// (`application/x-www-form-urlencoded`, `grant_type=authorization_code`, PKCE verifier required).
async fn token_post(State(s): S, req: Request) -> Result<Response, HttpError> {
    const LIMITS: BodyLimits = BodyLimits {
        max_body: MAX_QUERY,
        timeout: std::time::Duration::from_secs(10),
        media_types: &["application/json", "application/x-www-form-urlencoded"],
    };
    let (parts, body) = read_body(req, &LIMITS).await?;
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        let req: TokenRequest =
            serde_json::from_slice(&body).map_err(|e| HttpError::bad_request(format!("token request: {e}")))?;
        return mint(&s, req.email, req.sub, req.audience, None);
    }
    let text = std::str::from_utf8(&body).map_err(|_| HttpError::bad_request("form body is not UTF-8"))?;
    let p = params(text)?;
    let field = |n: &str| get_param(&p, n).ok_or_else(|| oauth_error("invalid_request", &format!("missing {n}")));
    if field("grant_type")? != "authorization_code" {
        return Err(oauth_error("unsupported_grant_type", "only authorization_code"));
    }
    let code = field("code")?;
    let pending = s
        .codes
        .lock()
        .map_err(|_| HttpError::unavailable("code store unavailable"))?
        .remove(code)
        .ok_or_else(|| oauth_error("invalid_grant", "unknown, used or expired code"))?;
    let now = crate::fulcio_api::unix_now();
    let verifier = field("code_verifier")?;
    let challenge = URL_SAFE_NO_PAD.encode(sigil_crypto::sha256(verifier.as_bytes()));
    if pending.expires < now
        || field("redirect_uri")? != pending.redirect_uri
        || field("client_id")? != pending.client_id
        || challenge != pending.challenge
    {
        return Err(oauth_error("invalid_grant", "code does not match this request"));
    }
    mint(&s, pending.email, None, Some(pending.client_id), pending.nonce)
}

fn oauth_error(code: &str, description: &str) -> HttpError {
    HttpError::bad_request(format!("{code}: {description}"))
}

/// Only loopback redirect targets: the issuer mints any identity, so it must never hand codes to other hosts.
fn loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// `GET …/authorize?response_type=code&client_id&redirect_uri&state&code_challenge&code_challenge_method=S256
/// [&nonce][&login_hint=EMAIL]`. Without `login_hint` it answers a form asking for the email to sign in as.
async fn authorize(State(s): S, RawQuery(q): RawQuery) -> Result<Response, HttpError> {
    let q = q.unwrap_or_default();
    let p = params(&q)?;
    let field = |n: &str| get_param(&p, n).ok_or_else(|| oauth_error("invalid_request", &format!("missing {n}")));
    if field("response_type")? != "code" {
        return Err(oauth_error("unsupported_response_type", "only code"));
    }
    if field("code_challenge_method")? != "S256" {
        return Err(oauth_error("invalid_request", "PKCE with S256 is required"));
    }
    let redirect_uri = field("redirect_uri")?;
    if !loopback_redirect(redirect_uri) {
        return Err(oauth_error(
            "invalid_request",
            "the development issuer only redirects to loopback addresses",
        ));
    }
    let (client_id, state, challenge) = (field("client_id")?, field("state")?, field("code_challenge")?);
    let Some(email) = get_param(&p, "login_hint").filter(|e| !e.is_empty()) else {
        return Ok(login_form(&p));
    };
    sigil_oidc::check_email(email).map_err(|e| HttpError::bad_request(e.to_string()))?;
    let mut raw = [0u8; 32];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| HttpError::unavailable("random code"))?;
    let code = URL_SAFE_NO_PAD.encode(raw);
    let now = crate::fulcio_api::unix_now();
    {
        let mut codes = s
            .codes
            .lock()
            .map_err(|_| HttpError::unavailable("code store unavailable"))?;
        codes.retain(|_, c| c.expires >= now);
        if codes.len() >= MAX_CODES {
            return Err(HttpError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many logins in progress",
            ));
        }
        codes.insert(
            code.clone(),
            PendingCode {
                email: email.to_string(),
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                challenge: challenge.to_string(),
                nonce: get_param(&p, "nonce").map(str::to_string),
                expires: now + CODE_TTL_SECS,
            },
        );
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect_uri}{sep}code={}&state={}",
        percent_encode(&code),
        percent_encode(state)
    );
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

/// The sign-in page: every parameter carried over as a hidden field, plus the email.
fn login_form(p: &[(String, String)]) -> Response {
    let hidden: String = p
        .iter()
        .filter(|(k, _)| k != "login_hint")
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", html(k), html(v)))
        .collect();
    Html(format!(
        "<!doctype html><title>sigil development issuer</title>\
         <p><b>Development OIDC issuer</b>: it vouches for any email you type. Never trust it in production.</p>\
         <form method=\"get\">{hidden}<label>Sign in as <input name=\"login_hint\" type=\"email\" required></label> \
         <button>Continue</button></form>"
    ))
    .into_response()
}

fn html(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_redirects() {
        for ok in [
            "http://localhost:1234/auth/callback",
            "http://127.0.0.1:9/x",
            "http://[::1]:80/cb",
            "http://localhost/cb",
        ] {
            assert!(loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://localhost/cb",
            "http://localhost.evil.example/cb",
            "http://evil.example/?http://localhost/",
            "http://127.0.0.1.evil.example:80/",
            "http://user@evil.example/",
            "javascript:alert(1)",
        ] {
            assert!(!loopback_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn percent_coding_round_trips() {
        for s in ["a b&c=d", "ünï", "%%", "plain"] {
            assert_eq!(form_decode(&percent_encode(s)).as_deref(), Some(s));
        }
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(html("<\"'&>"), "&lt;&quot;&#39;&amp;&gt;");
    }
}
