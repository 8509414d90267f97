//! HTTP routes of the **development** OIDC issuer (`sigil serve --dev`): discovery, JWKS, and a token endpoint
//! that mints a token for whatever email it is asked for. Anyone who can reach it can obtain any identity from
//! this issuer, which is why it is off unless `--dev` is given and why its tokens only count where this issuer is
//! explicitly trusted.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sigil_http::{BodyLimits, HttpError, read_body};
use sigil_oidc::dev::{DevClaims, DevIssuer};

/// Tokens last ten minutes, like the certificates they buy.
pub const TOKEN_TTL_SECS: i64 = 600;

type S = State<Arc<DevIssuer>>;

/// Routes under `prefix` (the path of the issuer URL, e.g. `/oidc`).
pub fn router(issuer: Arc<DevIssuer>, prefix: &str) -> Router {
    let prefix = prefix.trim_end_matches('/');
    Router::new()
        .route(&format!("{prefix}/.well-known/openid-configuration"), get(discovery))
        .route(&format!("{prefix}/jwks"), get(jwks))
        .route(&format!("{prefix}/token"), get(token_get).post(token_post))
        .with_state(issuer)
}

async fn discovery(State(s): S) -> Response {
    axum::Json(s.discovery_document()).into_response()
}

async fn jwks(State(s): S) -> Response {
    axum::Json(s.jwks()).into_response()
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

fn mint(s: &DevIssuer, req: TokenRequest) -> Result<Response, HttpError> {
    sigil_oidc::check_email(&req.email).map_err(|e| HttpError::bad_request(e.to_string()))?;
    let mut claims = DevClaims::email(req.email);
    claims.sub = req.sub;
    claims.audience = req.audience;
    let now = crate::fulcio_api::unix_now();
    let token = s
        .mint(&claims, now, TOKEN_TTL_SECS)
        .map_err(|e| HttpError::unavailable(e.to_string()))?;
    Ok(axum::Json(serde_json::json!({
        "id_token": token, "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_SECS,
    }))
    .into_response())
}

/// `GET …/token?email=alice@example.test`.
async fn token_get(State(s): S, RawQuery(q): RawQuery) -> Result<Response, HttpError> {
    let q = q.unwrap_or_default();
    if q.len() > 2048 {
        return Err(HttpError::bad_request("query too long"));
    }
    let mut email = None;
    let mut sub = None;
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v).ok_or_else(|| HttpError::bad_request("bad percent-encoding"))?;
        match k {
            "email" => email = Some(v),
            "sub" => sub = Some(v),
            _ => {}
        }
    }
    let email = email.ok_or_else(|| HttpError::bad_request("missing email"))?;
    mint(
        &s,
        TokenRequest {
            email,
            sub,
            audience: None,
        },
    )
}

/// `POST …/token` with `{"email": "...", "sub"?: "...", "audience"?: "..."}`.
async fn token_post(State(s): S, req: Request) -> Result<Response, HttpError> {
    let (_, body) = read_body(req, &BodyLimits::json(4096)).await?;
    let req: TokenRequest =
        serde_json::from_slice(&body).map_err(|e| HttpError::bad_request(format!("token request: {e}")))?;
    mint(&s, req)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
