//! Running the log as a network service: the accept loop (HTTP/1.1, header-read timeout, connection cap), graceful
//! shutdown that lets in-flight integrations finish, and the trust material (`tlogs` entry, signing-config
//! service) clients need to use the log.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use sigil_bundle::bundle::LogId;
use sigil_bundle::encoding::{Bytes, Timestamp};
use sigil_bundle::trust::{PublicKey, Service, TimeRange, TransparencyLogInstance};
use tokio::net::TcpListener;

use crate::api::{ApiOptions, router};
use crate::search::Search;
use crate::{Error, Log, LogOptions};

pub use sigil_http::{ServerOptions, serve};

/// Everything `sigil log serve` needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// The URL clients use; default `http://<listen address>` (with the port actually bound).
    pub public_url: Option<String>,
    /// Checkpoint origin for a new log; default the public URL's host. An existing log keeps its own.
    pub origin: Option<String>,
    pub high_water_mark: Option<PathBuf>,
    pub max_body: Option<usize>,
    pub server: ServerOptions,
    /// Signing keys to use instead of generated ones.
    pub keys: crate::ImportedKeys,
    /// Metrics of services sharing the listener, rendered on `/metrics` after the log's.
    pub extra_metrics: Vec<Arc<sigil_http::RouteMetrics>>,
}

impl ServeConfig {
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen,
            public_url: None,
            origin: None,
            high_water_mark: None,
            max_body: None,
            server: ServerOptions::default(),
            keys: crate::ImportedKeys::default(),
            extra_metrics: Vec::new(),
        }
    }
}

/// The origin of the log in `dir`, read from its checkpoint (unverified: [`Log::open`] verifies it).
fn existing_origin(dir: &Path) -> Option<String> {
    let text = crate::log::stored_checkpoint(dir).ok()??;
    String::from_utf8_lossy(&text).lines().next().map(str::to_string)
}

/// Opens the existing log in `dir` with the origin it was created with and the default high-water mark, e.g. to
/// rotate its keys while no server runs. [`Error::Locked`] means a server holds it; a directory without a log is
/// an error (nothing is created).
pub fn open_existing(dir: &Path) -> Result<Log, Error> {
    let origin = existing_origin(dir)
        .ok_or_else(|| Error::Corrupt(format!("{} holds no log (no checkpoint)", dir.display())))?;
    Log::open(dir, LogOptions::new(origin))
}

/// An opened log with its search index and HTTP router, ready to be served (alone by [`run`], or merged with
/// other services by `sigil serve`).
#[derive(Debug)]
pub struct LogService {
    pub log: Arc<Log>,
    pub search: Arc<Search>,
    pub router: Router,
}

impl LogService {
    /// Opens (or creates) the log in `config.data_dir` for clients that reach it at `public_url`.
    pub async fn open(config: &ServeConfig, public_url: &str) -> Result<Self, Error> {
        let origin = match (&config.origin, existing_origin(&config.data_dir)) {
            (_, Some(existing)) => existing,
            (Some(o), None) => o.clone(),
            (None, None) => sigil_trust::host_of_authority(&sigil_trust::url_authority(public_url)).to_string(),
        };
        let mut options = LogOptions::new(origin).with_keys(config.keys.clone());
        if let Some(h) = &config.high_water_mark {
            options = options.with_high_water_mark(h);
        }
        let dir = config.data_dir.clone();
        let log = tokio::task::spawn_blocking(move || Log::open(&dir, options))
            .await
            .map_err(|_| Error::Closed)??;
        let log = Arc::new(log);
        let search = Search::start(&config.data_dir.join("search.redb"), Arc::clone(&log))?;
        let mut api = ApiOptions::new(public_url);
        if let Some(m) = config.max_body {
            api.max_body = m;
        }
        api.extra_metrics.clone_from(&config.extra_metrics);
        let router = router(Arc::clone(&log), Some(Arc::clone(&search)), api)?;
        tracing::info!(origin = log.origin(), size = log.size(), url = %public_url, "transparency log ready");
        Ok(Self { log, search, router })
    }

    /// Stops the search indexer, integrates what is queued and closes the log.
    pub async fn close(self) {
        self.search.stop();
        let closing = Arc::clone(&self.log);
        let _ = tokio::task::spawn_blocking(move || closing.close()).await;
        tracing::info!(size = self.log.size(), "transparency log stopped");
    }
}

/// Opens (or creates) the log, binds, calls `ready` with the base URL, and serves until `shutdown`. On the way
/// out, in-flight requests finish, queued batches are integrated, and the log is closed.
pub async fn run(
    config: ServeConfig,
    ready: impl FnOnce(&str),
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::io("bind", PathBuf::from(config.listen.to_string()), &e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::io("local address", PathBuf::from(config.listen.to_string()), &e))?;
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{bound}"));
    let service = LogService::open(&config, &public_url).await?;
    ready(&public_url);
    serve(listener, service.router.clone(), &config.server, shutdown)
        .await
        .map_err(|e| Error::io("serve", PathBuf::from(bound.to_string()), &e))?;
    service.close().await;
    Ok(())
}

/// Which protocol's `tlogs` entry to describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// Rekor v1: ECDSA P-256 key, log ID = SHA-256 of its SPKI.
    V1,
    /// Rekor v2: Ed25519 checkpoint key, log ID = its C2SP key ID.
    V2,
}

/// How long before its activation a rotated-in log key's `validFor` starts in the trusted root.
///
/// A Rekor v2 entry's verified time is its RFC 3161 timestamp, which a client gets *before* it submits the entry.
/// A submission in flight across a rotation is signed by the new key but carries a timestamp from just before
/// it; verifiers check that the log key is valid at that time, so the new key's window starts this much earlier
/// (the lifetime of the certificate such a client signs with), but never before the previous key's start. The
/// windows overlap by as much; both keys are the log's own. The retired key's window ends exactly at the rotation:
/// it signs nothing after it.
pub const NEW_KEY_BACKDATE_SECS: i64 = 600;

/// The trusted-root `tlogs` entry for the current keys of the log in `dir` served at `base_url` (read-only: safe
/// while it runs).
pub fn trust_entry(dir: &Path, base_url: &str, api: ApiVersion) -> Result<TransparencyLogInstance, Error> {
    trust_entries(dir, base_url, api)?
        .pop()
        .ok_or_else(|| Error::Corrupt("the key history is empty".into()))
}

/// The trusted-root `tlogs` entries for every key generation of the log in `dir`, oldest first: retired keys with
/// `validFor.end` = their retirement, the current one open-ended (read-only: safe while it runs).
pub fn trust_entries(dir: &Path, base_url: &str, api: ApiVersion) -> Result<Vec<TransparencyLogInstance>, Error> {
    let info = crate::log::PublicInfo::read(dir)?;
    let time = |t: i64| Timestamp::from_unix(t).ok_or(Error::InvalidRequest("time out of range"));
    let mut out = Vec::with_capacity(info.generations.len());
    let mut previous_start = info.created;
    for (i, g) in info.generations.iter().enumerate() {
        // Backdated, but never before the previous generation's own start (nor the log's creation).
        let start = if i == 0 {
            info.created
        } else {
            g.activated.saturating_sub(NEW_KEY_BACKDATE_SECS).max(previous_start)
        };
        previous_start = start;
        let (key, details, log_id) = match api {
            ApiVersion::V1 => (
                g.v1_key.spki_der().to_vec(),
                "PKIX_ECDSA_P256_SHA_256",
                g.v1_key.sha256_key_id(),
            ),
            ApiVersion::V2 => (
                g.checkpoint_key.spki_der().to_vec(),
                "PKIX_ED25519",
                crate::keys::full_key_id(&info.origin, g.checkpoint_key.raw_key()),
            ),
        };
        out.push(TransparencyLogInstance {
            base_url: base_url.trim_end_matches('/').to_string(),
            hash_algorithm: Some("SHA2_256".into()),
            public_key: PublicKey {
                raw_bytes: Some(Bytes(key)),
                key_details: Some(details.into()),
                valid_for: Some(TimeRange {
                    start: Some(time(start)?),
                    end: g.retired.map(time).transpose()?,
                }),
            },
            log_id: LogId {
                key_id: Bytes(log_id.to_vec()),
            },
            checkpoint_key_id: None,
            operator: None,
        });
    }
    Ok(out)
}

/// The signing-config `rekorTlogUrls` service entry for the log in `dir` at `base_url`.
pub fn signing_config_entry(dir: &Path, base_url: &str, api: ApiVersion) -> Result<Service, Error> {
    let info = crate::log::PublicInfo::read(dir)?;
    Ok(Service {
        url: base_url.trim_end_matches('/').to_string(),
        major_api_version: match api {
            ApiVersion::V1 => 1,
            ApiVersion::V2 => 2,
        },
        valid_for: Some(TimeRange {
            start: Timestamp::from_unix(info.created),
            end: None,
        }),
        operator: info.origin,
    })
}
