//! The HTTP API over a [`Log`]: the Rekor v1 REST API, the Rekor v2 write endpoint, the C2SP tiles, `/healthz` and
//! `/metrics`. Error bodies are Rekor's `{"code": N, "message": "..."}`; bad input is 4xx, storage trouble 503,
//! and nothing is ever answered with 500 (SECURITY.md's error contract).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use sigil_bundle::TransparencyLogEntry;
use sigil_bundle::bundle::{Checkpoint as CheckpointEnvelope, InclusionProof, KindVersion, LogId};
use sigil_bundle::encoding::{Bytes as B64Bytes, Int64};
use sigil_http::{BodyLimits, HttpError, query_params, required_u64, u64_param};
use sigil_tlog::{Hash, hash_leaf};
use tokio::sync::Semaphore;

use crate::entry::{self, Accepted, EntryError};
use crate::metrics::{self, HttpMetrics};
use crate::search::Search;
use crate::{AppendOutcome, Error, Log, TreeHead};

/// Limits and addresses of the HTTP API.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiOptions {
    /// The base URL clients use (`http://host:port`); its authority is the Rekor v1 checkpoint key name, which
    /// clients match against the trusted root's `baseUrl`.
    pub public_url: String,
    /// Largest request body (413 above it). Default 128 KiB.
    pub max_body: usize,
    /// Time allowed to receive a whole body once the headers are in (408 after it). Default 10 s.
    pub body_timeout: Duration,
    /// Longest a submission waits for its durable checkpoint before the client gets 503 (the entry may still be
    /// integrated: a retry then gets 409 with its index). Default 20 s.
    pub append_timeout: Duration,
    /// Submissions waiting for integration at once; more get 429 (back-pressure instead of unbounded queues).
    /// Default 8192.
    pub max_pending_appends: usize,
    /// Metrics of other services sharing this listener (`sigil serve`), appended to `/metrics`.
    pub extra_metrics: Vec<Arc<sigil_http::RouteMetrics>>,
}

impl ApiOptions {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            max_body: 128 * 1024,
            body_timeout: Duration::from_secs(10),
            append_timeout: Duration::from_secs(20),
            max_pending_appends: 8192,
            extra_metrics: Vec::new(),
        }
    }
}

/// Most UUIDs, indexes or entries in one `retrieve` request (Rekor's limit).
const MAX_RETRIEVE: usize = 10;
/// Most UUIDs one index search returns.
const MAX_SEARCH_RESULTS: usize = 1000;

#[derive(Debug)]
struct Shared {
    log: Arc<Log>,
    search: Option<Arc<Search>>,
    opts: ApiOptions,
    /// The v1 checkpoint key name: the public URL's authority (`host[:port]`).
    v1_name: String,
    /// Derived from the first key generation's v1 log ID: the same across key rotations (the tree is the same).
    tree_id: u64,
    /// The last v1 checkpoint signed (size, v1 log ID of the key that signed it, text): most responses in a burst
    /// share a tree head.
    v1_checkpoint: Mutex<Option<V1Cached>>,
    pending: Semaphore,
    metrics: HttpMetrics,
}

type S = State<Arc<Shared>>;

#[derive(Debug)]
struct V1Cached {
    size: u64,
    log_id: [u8; 32],
    text: Arc<str>,
}

/// The tree ID a Rekor v1 client sees: derived from the v1 log ID so that it is stable for this log.
pub fn tree_id(v1_log_id: &[u8; 32]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(v1_log_id.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(b) & (i64::MAX as u64)
}

/// Builds the router. `search`, when given, serves `POST /api/v1/index/retrieve`.
pub fn router(log: Arc<Log>, search: Option<Arc<Search>>, opts: ApiOptions) -> Result<Router, Error> {
    let shared = Arc::new(Shared {
        search,
        v1_name: sigil_trust::url_authority(&opts.public_url),
        tree_id: tree_id(&log.first_v1_log_id()),
        v1_checkpoint: Mutex::new(None),
        pending: Semaphore::new(opts.max_pending_appends),
        metrics: HttpMetrics::default(),
        opts,
        log,
    });
    Ok(Router::new()
        .route("/api/v1/log/entries", post(create_v1).get(get_by_index))
        .route("/api/v1/log/entries/{uuid}", get(get_by_uuid))
        .route("/api/v1/log/entries/retrieve", post(retrieve))
        .route("/api/v1/log", get(log_info))
        .route("/api/v1/log/publicKey", get(public_key))
        .route("/api/v1/log/proof", get(consistency))
        .route("/api/v1/index/retrieve", post(index_retrieve))
        .route("/api/v2/log/entries", post(create_v2))
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/healthz", get(healthz))
        .route("/metrics", get(render_metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), count_requests))
        .with_state(shared))
}

/// Error answers are sigil-http's `{"code","message"}` (Rekor's shape).
type ApiError = HttpError;

impl From<Error> for HttpError {
    fn from(e: Error) -> Self {
        match e {
            Error::OutOfRange { .. } => Self::not_found(e.to_string()),
            Error::InvalidRequest(_) | Error::EntrySize { .. } | Error::Tlog(_) => Self::bad_request(e.to_string()),
            // Storage trouble: nothing was acknowledged; the client may retry.
            _ => Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        }
    }
}

impl From<EntryError> for ApiError {
    fn from(e: EntryError) -> Self {
        Self::bad_request(e.to_string())
    }
}

type ApiResult = Result<Response, ApiError>;

async fn count_requests(State(s): S, req: Request, next: Next) -> Response {
    s.metrics.routes.track(req, next).await
}

/// Reads a request body within the API's limits: 413 beyond the size (checked on `Content-Length` first, so an
/// oversized body is never read), 408 if it does not arrive in time, 415 unless it is JSON.
async fn read_body(s: &Shared, req: Request) -> Result<Bytes, ApiError> {
    let limits = BodyLimits {
        max_body: s.opts.max_body,
        timeout: s.opts.body_timeout,
        media_types: &["application/json"],
    };
    Ok(sigil_http::read_body(req, &limits).await?.1)
}

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    (status, axum::Json(value)).into_response()
}

// ---------- writes ----------

/// Appends an accepted entry, waiting (bounded) for its durable checkpoint.
async fn append(s: &Shared, accepted: &Accepted) -> Result<AppendOutcome, ApiError> {
    let _permit = s.pending.try_acquire().map_err(|_| {
        s.metrics
            .rejected_busy
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "too many submissions pending; retry shortly".into(),
            headers: vec![(header::RETRY_AFTER, "1".into())],
        }
    })?;
    let fut = s.log.append_async(accepted.body.clone());
    match tokio::time::timeout(s.opts.append_timeout, fut).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the entry was not integrated in time; retry (a duplicate answers 409 with its index)",
        )),
    }
}

fn conflict(s: &Shared, index: u64, leaf: &Hash, location: String) -> ApiError {
    let uuid = hex::encode(leaf);
    ApiError {
        status: StatusCode::CONFLICT,
        message: format!("an equivalent entry already exists in the transparency log with UUID {uuid}"),
        headers: vec![
            (header::LOCATION, location),
            (HeaderName::from_static("x-log-index"), index.to_string()),
            (header::ETAG, format!("{:016x}{uuid}", s.tree_id)),
        ],
    }
}

/// The common part of both create routes: read, verify, append; a duplicate becomes 409 naming the original
/// (`location` gives the URL where the original can be read).
async fn submit(
    s: &Shared,
    req: Request,
    accept: fn(&[u8]) -> Result<Accepted, EntryError>,
    location: fn(&crate::Appended) -> String,
) -> Result<(Accepted, crate::Appended), ApiError> {
    let body = read_body(s, req).await?;
    let accepted = accept(&body)?;
    let outcome = append(s, &accepted).await?;
    let a = outcome.appended().clone();
    if outcome.is_duplicate() {
        return Err(conflict(s, a.index, &a.leaf_hash, location(&a)));
    }
    Ok((accepted, a))
}

async fn create_v1(State(s): S, req: Request) -> ApiResult {
    let started = Instant::now();
    let (accepted, a) = submit(&s, req, entry::accept_v1, |a| {
        format!("/api/v1/log/entries/{}", hex::encode(a.leaf_hash))
    })
    .await?;
    let (id, entry) = v1_entry(&s, a.index, &accepted.body, a.integrated_time, &a.head())?;
    s.metrics.append_seconds.observe(started.elapsed().as_secs_f64());
    let mut resp = json_response(StatusCode::CREATED, &serde_json::json!({ id.clone(): entry }));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/log/entries/{id}")) {
        h.insert(header::LOCATION, v);
    }
    Ok(resp)
}

async fn create_v2(State(s): S, req: Request) -> ApiResult {
    let started = Instant::now();
    // Rekor v2 has no read API: the original is readable in the entry bundle that holds it.
    let (accepted, a) = submit(&s, req, entry::accept_v2, |a| {
        let (bundle, size) = (a.index / 256, a.tree_size);
        let width = if bundle < size / 256 { 256 } else { size % 256 };
        let path = sigil_tlog::entries_path(bundle, u16::try_from(width).unwrap_or(256)).unwrap_or_default();
        format!("/{path}")
    })
    .await?;
    let head = a.head();
    let proof = s.log.inclusion_proof(a.index, head.size)?;
    let (kind, version) = accepted.kind.kind_version();
    let tle = TransparencyLogEntry {
        log_index: Int64(a.index),
        // The log ID of the key generation that signed the checkpoint below.
        log_id: LogId {
            key_id: B64Bytes(head.keys.v2_log_id().to_vec()),
        },
        kind_version: KindVersion {
            kind: kind.into(),
            version: version.into(),
        },
        integrated_time: Int64(0),
        inclusion_promise: None,
        inclusion_proof: Some(InclusionProof {
            log_index: Int64(a.index),
            root_hash: B64Bytes(head.root.to_vec()),
            tree_size: Int64(head.size),
            hashes: proof.iter().map(|h| B64Bytes(h.to_vec())).collect(),
            checkpoint: Some(CheckpointEnvelope {
                envelope: head.checkpoint.to_string(),
            }),
        }),
        canonicalized_body: Some(B64Bytes(accepted.body.clone())),
    };
    s.metrics.append_seconds.observe(started.elapsed().as_secs_f64());
    Ok(json_response(StatusCode::CREATED, &tle))
}

// ---------- v1 reads ----------

/// The v1 checkpoint for a tree head, signed by the head's key generation (signed once per size and key, and
/// cached).
fn v1_checkpoint(s: &Shared, head: &TreeHead) -> Result<Arc<str>, ApiError> {
    let log_id = head.keys.v1_log_id();
    if let Ok(cache) = s.v1_checkpoint.lock() {
        if let Some(c) = cache.as_ref() {
            if c.size == head.size && c.log_id == log_id {
                return Ok(Arc::clone(&c.text));
            }
        }
    }
    let text: Arc<str> = Arc::from(s.log.v1_checkpoint(&s.v1_name, s.tree_id, head, None)?.as_str());
    if let Ok(mut cache) = s.v1_checkpoint.lock() {
        // Newer trees replace older ones; at one size, the newer key (a rotation re-signs the same tree).
        if cache.as_ref().is_none_or(|c| c.size <= head.size) {
            *cache = Some(V1Cached {
                size: head.size,
                log_id,
                text: Arc::clone(&text),
            });
        }
    }
    Ok(text)
}

/// A Rekor v1 `LogEntry` (`{entryID: {...}}` value) for entry `index`, proven in `head`: the SET, the log ID and
/// the checkpoint all come from the head's key generation.
fn v1_entry(
    s: &Shared,
    index: u64,
    body: &[u8],
    integrated_time: i64,
    head: &TreeHead,
) -> Result<(String, serde_json::Value), ApiError> {
    let proof = s.log.inclusion_proof(index, head.size)?;
    let checkpoint = v1_checkpoint(s, head)?;
    let set = head.keys.sign_set(body, integrated_time, index)?;
    let id = format!("{:016x}{}", s.tree_id, hex::encode(hash_leaf(body)));
    let entry = serde_json::json!({
        "body": B64.encode(body),
        "integratedTime": integrated_time,
        "logID": hex::encode(head.keys.v1_log_id()),
        "logIndex": index,
        "verification": {
            "inclusionProof": {
                "checkpoint": &*checkpoint,
                "hashes": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                "logIndex": index,
                "rootHash": hex::encode(head.root),
                "treeSize": head.size,
            },
            "signedEntryTimestamp": B64.encode(set),
        },
    });
    Ok((id, entry))
}

/// Entry `index` as a v1 `LogEntry`, proven in the current tree head.
fn v1_entry_at(s: &Shared, index: u64) -> Result<(String, serde_json::Value), ApiError> {
    let head = s.log.head();
    if index >= head.size {
        return Err(ApiError::not_found(format!("no entry at index {index}")));
    }
    let body = s.log.entry(index)?;
    let time = s.log.integrated_time(index)?;
    v1_entry(s, index, &body, time, &head)
}

async fn get_by_index(State(s): S, RawQuery(q): RawQuery) -> ApiResult {
    let [index] = query_params(q.as_deref(), ["logIndex"])?;
    let index = required_u64("logIndex", index)?;
    let (id, entry) = v1_entry_at(&s, index)?;
    Ok(json_response(StatusCode::OK, &serde_json::json!({ id: entry })))
}

/// Resolves a 64-hex UUID or 80-hex entry ID (tree ID ‖ UUID) of this log to an index.
fn resolve_uuid(s: &Shared, uuid: &str) -> Result<u64, ApiError> {
    let bad = || ApiError::bad_request("an entry UUID is 64 hex characters (or 80 with the tree ID)");
    let hash_hex = match uuid.len() {
        64 => uuid,
        80 => {
            let (tree, rest) = uuid.split_at_checked(16).ok_or_else(bad)?;
            let tree = u64::from_str_radix(tree, 16).map_err(|_| bad())?;
            if tree != s.tree_id {
                return Err(ApiError::not_found(format!("tree {tree:016x} is not served here")));
            }
            rest
        }
        _ => return Err(bad()),
    };
    let hash: Hash = hex::decode(hash_hex)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(bad)?;
    s.log
        .find(&hash)?
        .ok_or_else(|| ApiError::not_found(format!("no entry with UUID {hash_hex}")))
}

async fn get_by_uuid(State(s): S, axum::extract::Path(uuid): axum::extract::Path<String>) -> ApiResult {
    let index = resolve_uuid(&s, &uuid)?;
    let (id, entry) = v1_entry_at(&s, index)?;
    Ok(json_response(StatusCode::OK, &serde_json::json!({ id: entry })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RetrieveRequest {
    #[serde(default, rename = "entryUUIDs")]
    entry_uuids: Vec<String>,
    #[serde(default)]
    log_indexes: Vec<u64>,
    #[serde(default)]
    entries: Vec<serde_json::Value>,
}

async fn retrieve(State(s): S, req: Request) -> ApiResult {
    let body = read_body(&s, req).await?;
    let r: RetrieveRequest = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if r.entry_uuids.len() + r.log_indexes.len() + r.entries.len() > MAX_RETRIEVE {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_RETRIEVE} entries per request"
        )));
    }
    let mut indexes = Vec::new();
    for uuid in &r.entry_uuids {
        match resolve_uuid(&s, uuid) {
            Ok(i) => indexes.push(i),
            Err(e) if e.status == StatusCode::NOT_FOUND => {}
            Err(e) => return Err(e),
        }
    }
    indexes.extend(r.log_indexes.iter().copied().filter(|i| *i < s.log.size()));
    for proposed in &r.entries {
        let raw = serde_json::to_vec(proposed).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let accepted = entry::accept_v1(&raw)?;
        if let Some(i) = s.log.find(&hash_leaf(&accepted.body))? {
            indexes.push(i);
        }
    }
    let mut out = Vec::with_capacity(indexes.len());
    for i in indexes {
        let (id, entry) = v1_entry_at(&s, i)?;
        out.push(serde_json::json!({ id: entry }));
    }
    Ok(json_response(StatusCode::OK, &out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchRequest {
    email: Option<String>,
    hash: Option<String>,
    public_key: Option<SearchKey>,
    operator: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchKey {
    format: String,
    content: Option<String>,
    url: Option<String>,
}

async fn index_retrieve(State(s): S, req: Request) -> ApiResult {
    let body = read_body(&s, req).await?;
    let Some(search) = s.search.clone() else {
        return Err(ApiError::not_found("the search index is not enabled on this log"));
    };
    let r: SearchRequest = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut keys = Vec::new();
    if let Some(email) = &r.email {
        keys.push(format!("email:{}", email.to_ascii_lowercase()));
    }
    if let Some(hash) = &r.hash {
        let (alg, value) = hash.split_once(':').unwrap_or(("sha256", hash));
        if !matches!(alg, "sha256" | "sha384" | "sha512") || hex::decode(value).is_err() {
            return Err(ApiError::bad_request("hash must be <sha256|sha384|sha512>:<hex>"));
        }
        keys.push(format!("{alg}:{}", value.to_ascii_lowercase()));
    }
    if let Some(pk) = &r.public_key {
        if pk.url.is_some() {
            // L-06: a URL in a request is never fetched.
            return Err(ApiError::bad_request(
                "publicKey.url is not supported: send the key content",
            ));
        }
        if pk.format != "x509" {
            return Err(ApiError::bad_request(format!(
                "publicKey format {:?} is not supported (x509)",
                pk.format
            )));
        }
        let content = pk
            .content
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("publicKey.content is required"))?;
        keys.push(
            entry::signer_search_key(content)
                .ok_or_else(|| ApiError::bad_request("publicKey.content is not a PEM certificate or public key"))?,
        );
    }
    if keys.is_empty() {
        return Err(ApiError::bad_request("give at least one of email, hash, publicKey"));
    }
    let all = match r.operator.as_deref() {
        None | Some("and") => true,
        Some("or") => false,
        Some(other) => return Err(ApiError::bad_request(format!("operator {other:?} must be and/or"))),
    };
    let found = tokio::task::spawn_blocking(move || search.lookup(&keys, all, MAX_SEARCH_RESULTS))
        .await
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "search failed"))??;
    let uuids: Vec<String> = found
        .into_iter()
        .filter_map(|i| s.log.leaf_hash(i).ok())
        .map(|h| format!("{:016x}{}", s.tree_id, hex::encode(h)))
        .collect();
    Ok(json_response(StatusCode::OK, &uuids))
}

async fn log_info(State(s): S) -> ApiResult {
    let head = s.log.head();
    let checkpoint = v1_checkpoint(&s, &head)?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({
            "rootHash": hex::encode(head.root),
            "treeSize": head.size,
            "signedTreeHead": &*checkpoint,
            "treeID": s.tree_id.to_string(),
            "inactiveShards": [],
        }),
    ))
}

async fn public_key(State(s): S) -> Response {
    let pem = sigil_crypto::pem_encode("PUBLIC KEY", s.log.keys().v1_key().spki_der());
    ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

async fn consistency(State(s): S, RawQuery(q): RawQuery) -> ApiResult {
    let [first, last, tree_id] = query_params(q.as_deref(), ["firstSize", "lastSize", "treeID"])?;
    u64_param("treeID", tree_id)?;
    let last = required_u64("lastSize", last)?;
    let first = u64_param("firstSize", first)?.unwrap_or(1);
    let size = s.log.size();
    if first == 0 {
        return Err(ApiError::bad_request("firstSize must be at least 1"));
    }
    if first > last {
        return Err(ApiError::bad_request(format!(
            "firstSize {first} is larger than lastSize {last}"
        )));
    }
    if last > size {
        return Err(ApiError::bad_request(format!(
            "lastSize {last} is larger than the tree ({size})"
        )));
    }
    let hashes = s.log.consistency_proof(first, last)?;
    let root = s.log.root_at(last)?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({
            "rootHash": hex::encode(root),
            "hashes": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
        }),
    ))
}

// ---------- tiles ----------

async fn checkpoint(State(s): S) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        s.log.checkpoint().to_string(),
    )
        .into_response()
}

async fn tile(State(s): S, axum::extract::Path(path): axum::extract::Path<String>) -> ApiResult {
    let parsed = sigil_tlog::parse_tile_path(&format!("tile/{path}"))
        .map_err(|e| ApiError::not_found(format!("not a tile path: {e}")))?;
    let (bytes, full) = match parsed {
        sigil_tlog::TilePath::Hashes(id) => (s.log.tile(id.level, id.index, id.width)?, id.is_full()),
        sigil_tlog::TilePath::Entries { index, width } => {
            (s.log.entry_bundle(index, width)?, width == sigil_tlog::TILE_WIDTH)
        }
    };
    // Full tiles never change; partial ones are replaced by wider ones as the tree grows.
    let cache = if full {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        Body::from(bytes),
    )
        .into_response())
}

// ---------- operations ----------

async fn healthz(State(s): S) -> Response {
    if s.log.is_healthy() {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "storage failed; restart to recover\n").into_response()
    }
}

async fn render_metrics(State(s): S) -> Response {
    let mut text = metrics::render(s.log.metrics(), &s.metrics, s.log.size());
    for extra in &s.opts.extra_metrics {
        extra.render(&mut text);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}
