//! OIDC discovery and JWKS fetching over HTTP(S), and an [`AsyncValidator`] that fetches keys when needed.
//! Behind the `http` feature; the rest of the crate stays sans-IO.
//!
//! Rules (SECURITY.md O-05, O-06, O-07, R-10):
//! - only configured issuers are ever fetched: [`AsyncValidator`] looks the issuer up (exactly) before anything;
//! - discovery at `{iss}/.well-known/openid-configuration`; its `issuer` must equal `iss` exactly;
//! - redirects are never followed ([`Error::RedirectRefused`]);
//! - `jwks_uri` must be on the issuer's own scheme, host and port unless the issuer allows another host
//!   (`AllowedJWKSHosts`, https only);
//! - `https://` only, except `http://` to a loopback address (local development);
//! - each request (connect, headers and body) has a timeout (5 s) and the body is read frame by frame and
//!   capped (256 KiB);
//! - concurrent refreshes for one issuer are coalesced; the cache's lock is never held across I/O; cached keys
//!   keep serving when a refresh fails.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::config::IssuerConfig;
use crate::{Error, JwksCache, Validator, VerifiedToken};

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default response-body cap.
pub const DEFAULT_MAX_BODY: usize = 256 * 1024;

/// Where an issuer's JWKS comes from. [`HttpJwksFetcher`] is the real one; tests can supply their own.
pub trait JwksSource: Send + Sync {
    /// Fetches the issuer's JWKS document (raw bytes). Called only for configured issuers.
    fn fetch_jwks(&self, issuer: &IssuerConfig) -> impl Future<Output = Result<Vec<u8>, Error>> + Send;
}

/// Limits of [`HttpJwksFetcher`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchConfig {
    /// Per request: connect, headers and the whole body.
    pub timeout: Duration,
    /// Largest response body.
    pub max_body: usize,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl FetchConfig {
    /// Sets the per-request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the body cap.
    #[must_use]
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Discovery + JWKS over HTTP/1.1 (rustls with the aws-lc-rs provider, Mozilla roots from webpki-roots).
#[derive(Clone)]
pub struct HttpJwksFetcher {
    client: HttpsClient,
    config: FetchConfig,
}

impl std::fmt::Debug for HttpJwksFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpJwksFetcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parses a URL we may fetch: `https://`, or `http://` to loopback; no userinfo.
fn fetchable(url: &str) -> Result<Uri, Error> {
    let uri: Uri = url.parse().map_err(|_| Error::UrlNotAllowed("not a URL"))?;
    let authority = uri.authority().ok_or(Error::UrlNotAllowed("no host"))?;
    if authority.as_str().contains('@') {
        return Err(Error::UrlNotAllowed("userinfo in URL"));
    }
    let host = uri.host().ok_or(Error::UrlNotAllowed("no host"))?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback(host) => Ok(uri),
        Some("http") => Err(Error::UrlNotAllowed("http:// is allowed only to loopback")),
        _ => Err(Error::UrlNotAllowed("scheme must be https")),
    }
}

impl HttpJwksFetcher {
    /// A fetcher with the given limits.
    pub fn new(config: FetchConfig) -> Result<Self, Error> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| Error::Fetch(format!("tls setup: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(Self { client, config })
    }

    /// GET with the timeout and body cap; any redirect is refused.
    async fn get(&self, uri: Uri) -> Result<Vec<u8>, Error> {
        let request = Request::get(uri)
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::USER_AGENT, "sigil-oidc")
            .body(Empty::<Bytes>::new())
            .map_err(|_| Error::UrlNotAllowed("cannot build request"))?;
        let max = self.config.max_body;
        let work = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| Error::Fetch(format!("request: {e}")))?;
            let status = response.status();
            if status.is_redirection() {
                return Err(Error::RedirectRefused);
            }
            if !status.is_success() {
                return Err(Error::Fetch(format!("status {}", status.as_u16())));
            }
            let declared = response
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > max as u64) {
                return Err(Error::BodyTooLarge { max });
            }
            let mut body = response.into_body();
            let mut out = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| Error::Fetch(format!("body: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    if out.len().saturating_add(data.len()) > max {
                        return Err(Error::BodyTooLarge { max });
                    }
                    out.extend_from_slice(&data);
                }
            }
            Ok(out)
        };
        tokio::time::timeout(self.config.timeout, work)
            .await
            .map_err(|_| Error::Timeout)?
    }

    /// Discovery, then the JWKS, under the rules in the module docs.
    pub async fn fetch(&self, issuer: &IssuerConfig) -> Result<Vec<u8>, Error> {
        let iss = issuer.issuer_url.as_str();
        let iss_uri = fetchable(iss)?;
        let discovery_url = format!("{}/.well-known/openid-configuration", iss.trim_end_matches('/'));
        let discovery = self.get(fetchable(&discovery_url)?).await?;
        let doc: Value = serde_json::from_slice(&discovery)
            .map_err(|_| Error::Fetch("discovery document is not JSON".to_owned()))?;
        if doc.get("issuer").and_then(Value::as_str) != Some(iss) {
            return Err(Error::IssuerMismatch);
        }
        let jwks_url = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Fetch("discovery document has no jwks_uri".to_owned()))?;
        let jwks_uri = fetchable(jwks_url)?;
        let same_origin = jwks_uri.scheme_str() == iss_uri.scheme_str()
            && jwks_uri
                .host()
                .zip(iss_uri.host())
                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
            && jwks_uri.port_u16() == iss_uri.port_u16();
        let allowed_elsewhere = jwks_uri.scheme_str() == Some("https")
            && jwks_uri.port_u16().is_none_or(|p| p == 443)
            && jwks_uri
                .host()
                .is_some_and(|h| issuer.allowed_jwks_hosts.iter().any(|a| a.eq_ignore_ascii_case(h)));
        if !same_origin && !allowed_elsewhere {
            return Err(Error::JwksHostNotAllowed);
        }
        self.get(jwks_uri).await
    }
}

impl JwksSource for HttpJwksFetcher {
    fn fetch_jwks(&self, issuer: &IssuerConfig) -> impl Future<Output = Result<Vec<u8>, Error>> + Send {
        self.fetch(issuer)
    }
}

/// Most per-issuer refresh locks kept; idle ones are dropped beyond it.
const MAX_REFRESH_LOCKS: usize = 256;

/// A [`Validator`] that loads keys on demand: when none are cached or they are older than the TTL, and once
/// (rate-limited per issuer) when a token names an unknown `kid`. Unknown issuers never cause a fetch.
#[derive(Debug)]
pub struct AsyncValidator<S = HttpJwksFetcher> {
    validator: Validator,
    cache: Arc<JwksCache>,
    source: S,
    refresh_locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<S: JwksSource> AsyncValidator<S> {
    /// Wraps a validator, a (shared) cache and a key source.
    pub fn new(validator: Validator, cache: Arc<JwksCache>, source: S) -> Self {
        Self {
            validator,
            cache,
            source,
            refresh_locks: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The cache.
    pub fn cache(&self) -> &Arc<JwksCache> {
        &self.cache
    }

    /// The synchronous validator.
    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Validates `token` at `now` (unix seconds), fetching keys when needed.
    pub async fn validate(&self, token: &str, now: i64) -> Result<VerifiedToken, Error> {
        // Shape, alg and exact issuer lookup first: an unknown issuer returns here, before any fetch (O-05).
        let pre = self.validator.precheck(token)?;
        let iss = pre.issuer.issuer_url.as_str();
        if self.cache.needs_fetch(iss, now) {
            if let Err(e) = self.refresh(&pre.issuer, now).await {
                if self.cache.keys(iss).is_none() {
                    return Err(e);
                }
                // Cached keys keep serving.
            }
        }
        match self.validator.validate(token, now, &self.cache) {
            Err(Error::UnknownKeyId) if self.cache.may_refresh_for_unknown_kid(iss, now) => {
                if self.refresh(&pre.issuer, now).await.is_err() {
                    return Err(Error::UnknownKeyId);
                }
                self.validator.validate(token, now, &self.cache)
            }
            other => other,
        }
    }

    /// Fetches the issuer's JWKS into the cache. Concurrent calls for one issuer are coalesced: a caller that
    /// waited while another refreshed does not fetch again.
    pub async fn refresh(&self, issuer: &IssuerConfig, now: i64) -> Result<(), Error> {
        let iss = issuer.issuer_url.as_str();
        let before = self.cache.generation(iss);
        let lock = self.refresh_lock(iss);
        let _guard = lock.lock().await;
        if self.cache.generation(iss) != before {
            return Ok(());
        }
        match self.source.fetch_jwks(issuer).await {
            Ok(bytes) => match self.cache.insert(iss, &bytes, now) {
                Ok(_) => Ok(()),
                Err(e) => {
                    self.cache.record_fetch_failure(iss, now);
                    Err(e)
                }
            },
            Err(e) => {
                self.cache.record_fetch_failure(iss, now);
                Err(e)
            }
        }
    }

    fn refresh_lock(&self, iss: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .refresh_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if locks.len() >= MAX_REFRESH_LOCKS && !locks.contains_key(iss) {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(iss.to_owned()).or_default().clone()
    }
}
