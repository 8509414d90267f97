//! The RFC 6962 §4 HTTP API of a [`CtLog`]: `add-pre-chain`, `get-sth`, `get-sth-consistency`,
//! `get-proof-by-hash`, `get-roots`. Error bodies are `{"code","message"}`; bad input is 400, a log that cannot
//! make an entry durable answers 503, and nothing answers 500.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use sigil_http::{BodyLimits, HttpError, query_params, required_u64};
use tokio::sync::Semaphore;

use crate::Error;
use crate::ct::{CtError, CtLog, MAX_CT_CHAIN};

/// Limits of the CT HTTP API.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CtApiOptions {
    /// Largest request body (413 above it). Default 1 MiB: room for [`MAX_CT_CHAIN`] certificates of 64 KiB in
    /// base64.
    pub max_body: usize,
    /// Submissions waiting for integration at once; more get 429. Default 1024.
    pub max_pending: usize,
}

impl Default for CtApiOptions {
    fn default() -> Self {
        Self {
            max_body: 1024 * 1024,
            max_pending: 1024,
        }
    }
}

#[derive(Debug)]
struct Shared {
    ct: Arc<CtLog>,
    limits: BodyLimits,
    pending: Semaphore,
}

type S = State<Arc<Shared>>;
type ApiResult = Result<Response, HttpError>;

/// The CT routes with default limits.
pub fn router(ct: Arc<CtLog>) -> Router {
    router_with(ct, CtApiOptions::default())
}

/// The CT routes (no fallback, so the router can be merged with others).
pub fn router_with(ct: Arc<CtLog>, opts: CtApiOptions) -> Router {
    let shared = Arc::new(Shared {
        ct,
        limits: BodyLimits::json(opts.max_body),
        pending: Semaphore::new(opts.max_pending),
    });
    Router::new()
        .route("/ct/v1/add-pre-chain", post(add_pre_chain))
        .route("/ct/v1/add-chain", post(add_chain))
        .route("/ct/v1/get-sth", get(get_sth))
        .route("/ct/v1/get-sth-consistency", get(get_sth_consistency))
        .route("/ct/v1/get-proof-by-hash", get(get_proof_by_hash))
        .route("/ct/v1/get-roots", get(get_roots))
        .with_state(shared)
}

fn from_log(e: Error) -> HttpError {
    match e {
        Error::OutOfRange { .. } | Error::InvalidRequest(_) | Error::EntrySize { .. } | Error::Tlog(_) => {
            HttpError::bad_request(e.to_string())
        }
        _ => HttpError::unavailable(e.to_string()),
    }
}

fn from_ct(e: CtError) -> HttpError {
    if e.is_client_error() {
        HttpError::bad_request(e.to_string())
    } else {
        HttpError::unavailable(e.to_string())
    }
}

fn json(value: &impl serde::Serialize) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

#[derive(Deserialize)]
struct ChainRequest {
    chain: Vec<String>,
}

async fn read_chain(s: &Shared, req: Request) -> Result<Vec<Vec<u8>>, HttpError> {
    let (_, body) = sigil_http::read_body(req, &s.limits).await?;
    let parsed: ChainRequest =
        serde_json::from_slice(&body).map_err(|e| HttpError::bad_request(format!("invalid request body: {e}")))?;
    if parsed.chain.len() > MAX_CT_CHAIN {
        return Err(from_ct(CtError::ChainTooLong {
            len: parsed.chain.len(),
        }));
    }
    parsed
        .chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            B64.decode(c)
                .map_err(|_| HttpError::bad_request(format!("chain[{i}] is not base64")))
        })
        .collect()
}

async fn add_pre_chain(State(s): S, req: Request) -> ApiResult {
    let chain = read_chain(&s, req).await?;
    let _permit = s.pending.try_acquire().map_err(|_| {
        HttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many submissions pending; retry shortly",
        )
        .with_header(header::RETRY_AFTER, "1")
    })?;
    let resp = s.ct.add_pre_chain(chain).await.map_err(from_ct)?;
    Ok(json(&resp))
}

async fn add_chain(State(s): S, req: Request) -> ApiResult {
    // The body is still read within limits, so an oversized one gets 413 like everywhere else.
    read_chain(&s, req).await?;
    Err(HttpError::bad_request(
        "only precertificates are accepted (use add-pre-chain)",
    ))
}

async fn get_sth(State(s): S) -> ApiResult {
    let sth = s.ct.signed_tree_head().map_err(from_log)?;
    Ok(json(&sth.to_json()))
}

async fn get_roots(State(s): S) -> Response {
    let certs: Vec<String> = s.ct.accepted_roots().iter().map(|c| B64.encode(c.der())).collect();
    json(&serde_json::json!({ "certificates": certs }))
}

async fn get_sth_consistency(State(s): S, RawQuery(q): RawQuery) -> ApiResult {
    let [first, second] = query_params(q.as_deref(), ["first", "second"])?;
    let first = required_u64("first", first)?;
    let second = required_u64("second", second)?;
    let size = s.ct.log().size();
    if first > second {
        return Err(HttpError::bad_request(format!(
            "first {first} is larger than second {second}"
        )));
    }
    if second > size {
        return Err(HttpError::bad_request(format!(
            "second {second} is larger than the tree ({size})"
        )));
    }
    let proof = s.ct.log().consistency_proof(first, second).map_err(from_log)?;
    let proof: Vec<String> = proof.iter().map(|h| B64.encode(h)).collect();
    Ok(json(&serde_json::json!({ "consistency": proof })))
}

async fn get_proof_by_hash(State(s): S, RawQuery(q): RawQuery) -> ApiResult {
    let [hash, tree_size] = query_params(q.as_deref(), ["hash", "tree_size"])?;
    let tree_size = required_u64("tree_size", tree_size)?;
    let hash: [u8; 32] = hash
        .and_then(|h| B64.decode(h).ok())
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| HttpError::bad_request("hash must be a base64 SHA-256 leaf hash"))?;
    let size = s.ct.log().size();
    if tree_size == 0 || tree_size > size {
        return Err(HttpError::bad_request(format!(
            "tree_size {tree_size} is not a tree size of this log (1 to {size})"
        )));
    }
    let index =
        s.ct.log()
            .find(&hash)
            .map_err(from_log)?
            .filter(|i| *i < tree_size)
            .ok_or_else(|| HttpError::not_found(format!("no entry with this hash in the tree of size {tree_size}")))?;
    let proof = s.ct.log().inclusion_proof(index, tree_size).map_err(from_log)?;
    let proof: Vec<String> = proof.iter().map(|h| B64.encode(h)).collect();
    Ok(json(&serde_json::json!({ "leaf_index": index, "audit_path": proof })))
}
