//! Fulcio's REST API v2 over a [`CertificateAuthority`]: `POST /api/v2/signingCert`, `GET /api/v2/trustBundle`,
//! `GET /api/v2/configuration`.

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sigil_http::{BodyLimits, HttpError, RouteMetrics, read_body};

use crate::authority::CertificateAuthority;
use crate::request::SigningCertRequest;

/// Route templates (the only values of the metrics' route label).
pub const ROUTES: &[&str] = &["/api/v2/signingCert", "/api/v2/trustBundle", "/api/v2/configuration"];

/// A signing request is a token plus a key or CSR: a few KB. 64 KiB leaves room for RSA-4096 CSRs.
const LIMITS: BodyLimits = BodyLimits::json(64 * 1024);

#[derive(Debug)]
struct Shared {
    ca: Arc<ActiveCa>,
    configuration: serde_json::Value,
    metrics: Arc<RouteMetrics>,
}

/// The CA a running service issues with, replaceable while it serves (an intermediate rotation). Each request
/// takes the current CA once, so its certificate and the chain it is returned with always belong together; a
/// request in flight during [`ActiveCa::replace`] finishes with the CA it started with.
#[derive(Debug)]
pub struct ActiveCa(RwLock<Arc<Issuing>>);

#[derive(Debug)]
struct Issuing {
    ca: Arc<CertificateAuthority>,
    /// The CA's chain (issuing certificate … root) as PEM, encoded once.
    chain_pem: Vec<String>,
}

impl Issuing {
    fn new(ca: Arc<CertificateAuthority>) -> Arc<Self> {
        Arc::new(Self {
            chain_pem: ca.chain().iter().map(|der| pem(der)).collect(),
            ca,
        })
    }
}

impl ActiveCa {
    pub fn new(ca: Arc<CertificateAuthority>) -> Self {
        Self(RwLock::new(Issuing::new(ca)))
    }

    /// The CA new requests are served by.
    pub fn current(&self) -> Arc<CertificateAuthority> {
        Arc::clone(&self.issuing().ca)
    }

    /// Serves every later request with `ca`.
    pub fn replace(&self, ca: Arc<CertificateAuthority>) {
        let next = Issuing::new(ca);
        match self.0.write() {
            Ok(mut g) => *g = next,
            Err(g) => *g.into_inner() = next,
        }
    }

    fn issuing(&self) -> Arc<Issuing> {
        match self.0.read() {
            Ok(g) => Arc::clone(&g),
            Err(g) => Arc::clone(&g.into_inner()),
        }
    }
}

type S = State<Arc<Shared>>;

/// The router. `configuration` is the body of `GET /api/v2/configuration` (the issuers the CA accepts).
pub fn router(ca: Arc<CertificateAuthority>, configuration: serde_json::Value, metrics: Arc<RouteMetrics>) -> Router {
    router_with(Arc::new(ActiveCa::new(ca)), configuration, metrics)
}

/// [`router`] over a CA that can be replaced while it serves.
pub fn router_with(ca: Arc<ActiveCa>, configuration: serde_json::Value, metrics: Arc<RouteMetrics>) -> Router {
    let shared = Arc::new(Shared {
        ca,
        configuration,
        metrics,
    });
    Router::new()
        .route("/api/v2/signingCert", post(signing_cert))
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration_doc))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), track))
        .with_state(shared)
}

async fn track(State(s): S, req: Request, next: Next) -> Response {
    s.metrics.track(req, next).await
}

/// The token from `Authorization: Bearer <token>`, if the header is there.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, HttpError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| HttpError::unauthorized("Authorization header is not ASCII"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(HttpError::unauthorized("Authorization header must be `Bearer <token>`")),
    }
}

fn pem(der: &[u8]) -> String {
    sigil_crypto::pem_encode("CERTIFICATE", der)
}

async fn signing_cert(State(s): S, req: Request) -> Result<Response, HttpError> {
    let (parts, body) = read_body(req, &LIMITS).await?;
    let request = SigningCertRequest::parse(&body, bearer(&parts.headers)?)?;
    let now = unix_now();
    let issuing = s.ca.issuing();
    let issued = issuing.ca.issue(request, now).await?;
    let body = serde_json::json!({
        "signedCertificateEmbeddedSct": {"chain": {"certificates":
            std::iter::once(pem(&issued.certificate)).chain(issuing.chain_pem.iter().cloned()).collect::<Vec<_>>()}}
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

async fn trust_bundle(State(s): S) -> Response {
    let body = serde_json::json!({"chains": [{"certificates": s.ca.issuing().chain_pem}]});
    axum::Json(body).into_response()
}

async fn configuration_doc(State(s): S) -> Response {
    axum::Json(s.configuration.clone()).into_response()
}

/// The wall clock in Unix seconds (the CA's only clock read).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
