//! The RFC 3161 timestamp authority's REST API, as Sigstore's timestamp-authority serves it:
//! `POST /api/v1/timestamp` (a DER `TimeStampReq`, or the JSON `{"artifactHash","hashAlgorithm"}` form
//! sigstore-js sends) and `GET /api/v1/timestamp/certchain`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use sigil_http::{BodyLimits, HttpError, RouteMetrics, read_body};
use sigil_tsa::{ParsedRequest, TimestampIssuer, hash_algorithm_from_name};

/// Route templates (the only values of the metrics' route label).
pub const ROUTES: &[&str] = &["/api/v1/timestamp", "/api/v1/timestamp/certchain"];

const QUERY: &str = "application/timestamp-query";
const JSON: &str = "application/json";

/// A time-stamp request is under 200 bytes; 4 KiB bounds hostile ones (T-01).
const LIMITS: BodyLimits = BodyLimits {
    max_body: 4096,
    timeout: Duration::from_secs(10),
    media_types: &[QUERY, JSON],
};

#[derive(Debug)]
struct Shared {
    issuer: TimestampIssuer,
    chain_pem: String,
    metrics: Arc<RouteMetrics>,
}

type S = State<Arc<Shared>>;

/// The router. `chain` is the signing certificate followed by its issuers up to the root (DER).
pub fn router(issuer: TimestampIssuer, chain: &[Vec<u8>], metrics: Arc<RouteMetrics>) -> Router {
    let chain_pem = chain
        .iter()
        .map(|c| sigil_crypto::pem_encode("CERTIFICATE", c))
        .collect();
    let shared = Arc::new(Shared {
        issuer,
        chain_pem,
        metrics,
    });
    Router::new()
        .route("/api/v1/timestamp", post(timestamp))
        .route("/api/v1/timestamp/certchain", get(certchain))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), track))
        .with_state(shared)
}

async fn track(State(s): S, req: Request, next: Next) -> Response {
    s.metrics.track(req, next).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsonRequest {
    artifact_hash: String,
    hash_algorithm: String,
    #[serde(default)]
    nonce: Option<u64>,
    #[serde(default)]
    certificates: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    tsa_policy_oid: Option<String>,
}

fn parse_json(body: &[u8]) -> Result<ParsedRequest, HttpError> {
    let req: JsonRequest =
        serde_json::from_slice(body).map_err(|e| HttpError::bad_request(format!("timestamp request: {e}")))?;
    let alg = hash_algorithm_from_name(&req.hash_algorithm).map_err(|e| HttpError::bad_request(e.to_string()))?;
    let digest = B64
        .decode(req.artifact_hash.trim())
        .map_err(|_| HttpError::bad_request("artifactHash is not base64"))?;
    let bad = |e: sigil_tsa::Error| HttpError::bad_request(e.to_string());
    let mut parsed = ParsedRequest::from_digest(alg, &digest).map_err(bad)?;
    if let Some(n) = req.nonce {
        parsed = parsed.with_nonce(&n.to_be_bytes()).map_err(bad)?;
    }
    if req.certificates == Some(true) {
        parsed = parsed.with_cert_req();
    }
    Ok(parsed)
}

async fn timestamp(State(s): S, req: Request) -> Result<Response, HttpError> {
    let (parts, body) = read_body(req, &LIMITS).await?;
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(JSON));
    let parsed = if is_json {
        parse_json(&body)?
    } else {
        s.issuer
            .parse_request(&body)
            .map_err(|e| HttpError::bad_request(e.to_string()))?
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| HttpError::unavailable("clock before 1970"))?;
    let secs = i64::try_from(now.as_secs()).map_err(|_| HttpError::unavailable("clock out of range"))?;
    // Whole seconds: DER drops trailing zeros of a fraction (`.12Z`), and sigstore-js accepts only exactly three
    // fraction digits, so a millisecond genTime would fail there about one time in ten.
    let millis = 0;
    let serial = sigil_x509::random_serial().map_err(|e| HttpError::unavailable(format!("serial: {e}")))?;
    let der = s
        .issuer
        .issue(&parsed, secs, millis, &serial)
        .map_err(|e| HttpError::unavailable(format!("signing the timestamp: {e}")))?;
    let mut resp = (StatusCode::CREATED, der).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/timestamp-reply"),
    );
    Ok(resp)
}

async fn certchain(State(s): S) -> Response {
    let mut resp = s.chain_pem.clone().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pem-certificate-chain"),
    );
    resp
}
