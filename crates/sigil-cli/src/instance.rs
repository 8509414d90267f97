//! A whole private Sigstore instance in one process: CA (Fulcio API v2) + CT log + transparency log (Rekor v1 and
//! v2) + timestamp authority, and with `dev` a development OIDC issuer, all on one listener.
//!
//! Layout of the data directory:
//! - `ca/`, `tsa/`: authority keys and certificates (generated on first start);
//! - `log/`: the transparency log; `ct/`: the CT log;
//! - `oidc/`: the development issuer's key and URL (with `dev`);
//! - `trusted_root.json`, `signing_config.v0.2.json`, `trust_config.json`: what clients need, rewritten on every
//!   start before the listener accepts anything, and after every key rotation;
//! - `tuf/`: the TUF repository publishing the first two (see `tuf_publish`);
//! - `rotate/`: rotation requests from `sigil instance rotate` and the answers (`rotate.rs`).
//!
//! **Rotation.** The log's key pair and the CA's intermediate can be replaced while the instance serves
//! (`sigil instance rotate`, `rotate.rs`). The trust files then list every generation: retired ones with
//! `validFor.end`, the current one open-ended. Whoever publishes the trust files (TUF) subscribes to
//! [`Instance::trust_updates`]: a [`TrustUpdate`] is sent after each write, once the files are durable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sigil_bundle::bundle::X509Certificate;
use sigil_bundle::encoding::{Bytes, Timestamp};
use sigil_bundle::trust::{
    CLIENT_TRUST_CONFIG_MEDIA_TYPE, CertChain, CertificateAuthority as TrustedCa, ClientTrustConfig, DistinguishedName,
    SIGNING_CONFIG_MEDIA_TYPE, Service, ServiceConfiguration, SigningConfig, TRUSTED_ROOT_MEDIA_TYPE, TimeRange,
    TrustedRoot,
};
use sigil_ca::authority::LEAF_VALIDITY_SECS;
use sigil_ca::fulcio_api::ActiveCa;
use sigil_ca::material::{self, Kind, Material};
use sigil_ca::oidc_auth::OidcAuthenticator;
use sigil_ca::{BoxFuture, CertificateAuthority, PrecertLog};
use sigil_crypto::Signer;
use sigil_log::Log;
use sigil_log::ct::{CtLog, CtLogOptions};
use sigil_log::server::{ApiVersion, LogService, ServeConfig, ServerOptions};
use sigil_oidc::dev::DevIssuer;
use sigil_oidc::fetch::{AsyncValidator, FetchConfig, HttpJwksFetcher};
use sigil_oidc::{IssuerConfig, IssuerType, JwksCache, OidcConfig, Validator};
use sigil_x509::{Certificate, Issuer, SignedSct};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::rotate::{self, Decoded, Outcome, Request};
use crate::unix_now;

/// Sigstore's TSA policy OID arc (PROTOCOL.md §3): `1.3.6.1.4.1.57264.2`.
pub const TSA_POLICY: &str = "1.3.6.1.4.1.57264.2";
/// Where the development issuer lives under the base URL.
pub const DEV_ISSUER_PATH: &str = "/oidc";
/// Organisation named in the generated certificates and trust files.
pub const ORGANIZATION: &str = "sigil";

/// How to run an instance.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// The URL clients use; default `http://<bound address>`.
    pub public_url: Option<String>,
    /// Run the development OIDC issuer and trust it.
    pub dev: bool,
    /// A Fulcio-format issuer configuration (JSON) of the issuers the CA trusts.
    pub oidc_config: Option<PathBuf>,
    pub server: ServerOptions,
    /// Serve HTTPS with this configuration; without it only loopback addresses (or a TLS-terminating proxy named by
    /// an `https://` public URL) are allowed.
    pub tls: Option<Arc<sigil_http::TlsConfig>>,
    /// Publish the trust files over TUF (`DATA/tuf`, served at `/tuf`).
    pub tuf: bool,
}

/// The files a started instance wrote for its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustFiles {
    pub trusted_root: PathBuf,
    pub signing_config: PathBuf,
    pub trust_config: PathBuf,
}

/// Why the trust files were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustChange {
    /// The instance started (they are written on every start).
    Started,
    /// The transparency log's keys were rotated: a new `tlogs` generation (v1 and v2).
    LogKeyRotated,
    /// The CA's intermediate was rotated: a new `certificateAuthorities` entry.
    CaIntermediateRotated,
}

/// The trust files were (re)written. Sent on [`Instance::trust_updates`] after the three files are durable on
/// disk, so a subscriber (TUF publishing) can read and publish them; `serial` counts the writes since start (0 is
/// the start's own). A subscriber that falls behind sees only the latest value, which is what it should publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustUpdate {
    pub files: TrustFiles,
    pub serial: u64,
    pub change: TrustChange,
}

/// What a running instance needs to rotate keys and rewrite its trust files.
#[derive(Debug)]
struct Live {
    dir: PathBuf,
    base_url: String,
    operator: String,
    issuer_url: Option<String>,
    files: TrustFiles,
    log: Arc<Log>,
    ct: Arc<CtLog>,
    ca: Arc<ActiveCa>,
    tsa: Material,
    /// Held while a rotation is applied and the trust files are written: one at a time.
    writing: tokio::sync::Mutex<()>,
    updates: watch::Sender<TrustUpdate>,
    /// The TUF repository, once started: a rotation is published through it before it is answered.
    tuf: std::sync::OnceLock<crate::tuf_publish::TufState>,
}

/// A started instance, before it serves.
#[derive(Debug)]
pub struct Instance {
    pub base_url: String,
    pub issuer_url: Option<String>,
    pub files: TrustFiles,
    /// The TUF repository publishing the trust files (`DATA/tuf`, served at `/tuf`).
    pub tuf: crate::tuf_publish::TufState,
    listener: TcpListener,
    router: axum::Router,
    log: LogService,
    live: Arc<Live>,
    server: ServerOptions,
    tls: Option<Arc<sigil_http::TlsConfig>>,
}

/// The CT log as the CA's [`PrecertLog`].
#[derive(Debug)]
struct InProcessCt(Arc<CtLog>);

impl PrecertLog for InProcessCt {
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> BoxFuture<'_, Result<SignedSct, String>> {
        Box::pin(async move {
            self.0
                .add_own_pre_chain(chain)
                .await
                .map(|r| r.sct)
                .map_err(|e| e.to_string())
        })
    }
}

fn err(what: &str) -> impl Fn(String) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The development issuer of `dir` (key in `oidc/dev-issuer.pk8`, URL in `oidc/issuer-url`), created if absent.
fn dev_issuer(dir: &Path, issuer_url: &str) -> Result<DevIssuer, String> {
    let oidc = dir.join("oidc");
    let key_path = oidc.join("dev-issuer.pk8");
    let issuer = if key_path.exists() {
        let der = std::fs::read(&key_path).map_err(|e| err("reading the dev issuer key")(e.to_string()))?;
        DevIssuer::from_pkcs8_der(&der, issuer_url).map_err(|e| err("dev issuer key")(e.to_string()))?
    } else {
        std::fs::create_dir_all(&oidc).map_err(|e| err("creating oidc/")(e.to_string()))?;
        let issuer = DevIssuer::generate(issuer_url).map_err(|e| err("dev issuer key")(e.to_string()))?;
        write_atomic(&key_path, issuer.to_pkcs8_der(), true)?;
        issuer
    };
    write_atomic(&oidc.join("issuer-url"), issuer_url.as_bytes(), false)?;
    Ok(issuer)
}

/// Loads the development issuer an instance in `dir` uses (for `sigil dev-token`).
pub fn load_dev_issuer(dir: &Path) -> Result<DevIssuer, String> {
    let oidc = dir.join("oidc");
    let url = std::fs::read_to_string(oidc.join("issuer-url")).map_err(|e| {
        format!(
            "{}: {e} (was `sigil serve --dev` started with this data directory?)",
            dir.display()
        )
    })?;
    let der =
        std::fs::read(oidc.join("dev-issuer.pk8")).map_err(|e| err("reading the dev issuer key")(e.to_string()))?;
    DevIssuer::from_pkcs8_der(&der, url.trim()).map_err(|e| err("dev issuer key")(e.to_string()))
}

/// [`sigil_trust::write_atomic`]: keys (`private`) 0600, the rest readable by all.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    let access = if private {
        sigil_trust::Access::Private
    } else {
        sigil_trust::Access::Shared
    };
    sigil_trust::write_atomic(path, bytes, access).map_err(|e| err(&path.display().to_string())(e.to_string()))
}

fn host_of(url: &str) -> String {
    sigil_trust::host_of_authority(&sigil_trust::url_authority(url)).to_string()
}

/// A `certificateAuthorities`/`timestampAuthorities` entry for `chain` (issuing certificate … root), valid from
/// `start` to `end`.
fn authority_entry(
    chain: &[Vec<u8>],
    (start, end): (i64, Option<i64>),
    common_name: &str,
    uri: String,
    operator: &str,
) -> TrustedCa {
    TrustedCa {
        subject: Some(DistinguishedName {
            organization: ORGANIZATION.into(),
            common_name: common_name.into(),
        }),
        uri,
        cert_chain: CertChain {
            certificates: chain
                .iter()
                .map(|c| X509Certificate {
                    raw_bytes: Bytes(c.clone()),
                })
                .collect(),
        },
        valid_for: Some(TimeRange {
            start: Timestamp::from_unix(start),
            end: end.and_then(Timestamp::from_unix),
        }),
        operator: Some(operator.into()),
    }
}

fn service(url: String, major: u32, start: i64, operator: &str) -> Service {
    Service {
        url,
        major_api_version: major,
        valid_for: Some(TimeRange {
            start: Timestamp::from_unix(start),
            end: None,
        }),
        operator: operator.into(),
    }
}

impl Instance {
    /// Opens everything in the data directory, binds the listener and writes the trust files. Nothing is served
    /// until [`Instance::serve`].
    pub async fn start(config: InstanceConfig) -> Result<Self, String> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir).map_err(|e| err("creating the data directory")(e.to_string()))?;
        let behind_tls_proxy = config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        if config.tls.is_none() && !config.listen.ip().is_loopback() && !behind_tls_proxy {
            return Err(format!(
                "refusing plain HTTP on {}: give --tls-cert/--tls-key, listen on loopback, or name the TLS-terminating \
                 proxy with --public-url https://…",
                config.listen
            ));
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| err("binding")(e.to_string()))?;
        let bound = listener.local_addr().map_err(|e| err("local address")(e.to_string()))?;
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{bound}"));
        let base_url = base_url.trim_end_matches('/').to_string();
        let operator = host_of(&base_url);
        let now = unix_now();

        // Identity: the configured issuers, plus the development issuer with --dev.
        let mut oidc = match &config.oidc_config {
            Some(path) => OidcConfig::from_file(path).map_err(|e| err("OIDC configuration")(e.to_string()))?,
            None => OidcConfig::with_issuers(Vec::new()).map_err(|e| err("OIDC configuration")(e.to_string()))?,
        };
        let cache = Arc::new(JwksCache::new());
        let (dev, issuer_url) = if config.dev {
            let url = format!("{base_url}{DEV_ISSUER_PATH}");
            let issuer = Arc::new(dev_issuer(dir, &url)?);
            oidc.add_issuer(IssuerConfig::new(url.clone(), IssuerType::Email))
                .map_err(|e| err("OIDC configuration")(e.to_string()))?;
            let jwks = serde_json::to_vec(&issuer.jwks()).map_err(|e| err("dev JWKS")(e.to_string()))?;
            cache
                .insert(&url, &jwks, now)
                .map_err(|e| err("dev JWKS")(e.to_string()))?;
            (Some(issuer), Some(url))
        } else {
            (None, None)
        };
        let configuration = fulcio_configuration(&oidc);
        let fetcher = HttpJwksFetcher::new(FetchConfig::default()).map_err(|e| err("HTTP client")(e.to_string()))?;
        let validator = AsyncValidator::new(Validator::new(oidc), cache, fetcher);

        // Authorities.
        let ca_material = material::load_or_create(&dir.join("ca"), Kind::CodeSigningCa, ORGANIZATION, now)
            .map_err(|e| e.to_string())?;
        let tsa_material = material::load_or_create(&dir.join("tsa"), Kind::TimestampSigner, ORGANIZATION, now)
            .map_err(|e| e.to_string())?;

        // Logs.
        let ca_metrics = Arc::new(sigil_http::RouteMetrics::new("sigil_ca", sigil_ca::fulcio_api::ROUTES));
        let tsa_metrics = Arc::new(sigil_http::RouteMetrics::new(
            "sigil_tsa",
            sigil_ca::timestamp_api::ROUTES,
        ));
        let mut log_config = ServeConfig::new(dir.join("log"), bound);
        log_config.public_url = Some(base_url.clone());
        log_config.extra_metrics = vec![Arc::clone(&ca_metrics), Arc::clone(&tsa_metrics)];
        let log = LogService::open(&log_config, &base_url)
            .await
            .map_err(|e| err("transparency log")(e.to_string()))?;
        let ca_root = Certificate::from_der(ca_material.root()).map_err(|e| err("CA root")(e.to_string()))?;
        let ct_dir = dir.join("ct");
        let ct_options = CtLogOptions::new(format!("{operator}/ct"), vec![ca_root]);
        let ct = tokio::task::spawn_blocking(move || CtLog::open(&ct_dir, ct_options))
            .await
            .map_err(|e| err("CT log")(e.to_string()))?
            .map_err(|e| err("CT log")(e.to_string()))?;
        let ct = Arc::new(ct);

        let issuer = Issuer::from_der(
            ca_material.issuing(),
            Arc::clone(&ca_material.signer) as Arc<dyn Signer>,
        )
        .map_err(|e| err("CA certificate")(e.to_string()))?;
        let ca = CertificateAuthority::new(
            issuer,
            ca_material.chain.clone(),
            Arc::new(OidcAuthenticator::new(validator)),
            Arc::new(InProcessCt(Arc::clone(&ct))),
        )
        .map_err(|e| e.to_string())?;
        let tsa = sigil_tsa::TimestampIssuer::new(
            Arc::clone(&tsa_material.signer) as Arc<dyn Signer>,
            tsa_material.chain.clone(),
            TSA_POLICY,
        )
        .map_err(|e| err("timestamp authority")(e.to_string()))?;

        let files = TrustFiles {
            trusted_root: dir.join("trusted_root.json"),
            signing_config: dir.join("signing_config.v0.2.json"),
            trust_config: dir.join("trust_config.json"),
        };
        let active_ca = Arc::new(ActiveCa::new(Arc::new(ca)));
        let (updates, _) = watch::channel(TrustUpdate {
            files: files.clone(),
            serial: 0,
            change: TrustChange::Started,
        });
        let live = Arc::new(Live {
            dir: dir.clone(),
            base_url: base_url.clone(),
            operator: operator.clone(),
            issuer_url: issuer_url.clone(),
            files: files.clone(),
            log: Arc::clone(&log.log),
            ct: Arc::clone(&ct),
            ca: Arc::clone(&active_ca),
            tsa: tsa_material.clone(),
            writing: tokio::sync::Mutex::new(()),
            updates,
            tuf: std::sync::OnceLock::new(),
        });
        // Requests left by a rotate command that stopped waiting, then the trust material for clients, written
        // before anything is served.
        rotate::answer_abandoned(dir);
        live.apply_pending_rotations().await;
        live.write_trust_files(TrustChange::Started)?;

        let mut router = log
            .router
            .clone()
            .merge(sigil_log::ct_api::router(Arc::clone(&ct)))
            .merge(sigil_ca::fulcio_api::router_with(active_ca, configuration, ca_metrics))
            .merge(sigil_ca::timestamp_api::router(tsa, &tsa_material.chain, tsa_metrics));
        if let Some(d) = &dev {
            router = router.merge(sigil_ca::dev_issuer_api::router(Arc::clone(d), DEV_ISSUER_PATH));
        }
        let tuf = if config.tuf {
            crate::tuf_publish::start(dir, config.dev, &[&files.trusted_root, &files.signing_config]).await?
        } else {
            crate::tuf_publish::TufState::Off
        };
        router = router.merge(tuf.router());
        let _ = live.tuf.set(tuf.clone());
        Ok(Self {
            base_url,
            issuer_url,
            files,
            tuf,
            listener,
            router,
            log,
            live,
            server: config.server,
            tls: config.tls,
        })
    }

    /// Notices of trust-file writes (the start's, then one per rotation): what publishes the trust files (TUF)
    /// subscribes here. The current value is the latest write.
    pub fn trust_updates(&self) -> watch::Receiver<TrustUpdate> {
        self.live.updates.subscribe()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish and closes the logs. Meanwhile it
    /// applies rotation requests (`sigil instance rotate`) every [`rotate::POLL_INTERVAL`].
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), String> {
        let live = Arc::clone(&self.live);
        let poller = tokio::spawn(async move {
            loop {
                tokio::time::sleep(rotate::POLL_INTERVAL).await;
                live.apply_pending_rotations().await;
            }
        });
        let result = sigil_http::serve_with_tls(self.listener, self.router, &self.server, self.tls, shutdown).await;
        // Not in the middle of a rotation: it holds the lock until it is done.
        let guard = self.live.writing.lock().await;
        poller.abort();
        drop(guard);
        let ct = Arc::clone(&self.live.ct);
        let _ = tokio::task::spawn_blocking(move || ct.close()).await;
        self.log.close().await;
        result.map_err(|e| err("serving")(e.to_string()))
    }
}

impl Live {
    /// Applies the rotation requests waiting in `rotate/`, answering each. Returns how many rotated.
    async fn apply_pending_rotations(&self) -> usize {
        let pending = rotate::pending(&self.dir);
        if pending.is_empty() {
            return 0;
        }
        let _writing = self.writing.lock().await;
        let mut rotated = 0;
        for (id, path) in pending {
            let Some(read) = rotate::claim(&path) else {
                continue;
            };
            let result = match read.and_then(|bytes| Request::parse(&bytes)) {
                Ok(decoded) => self.rotate(decoded).await,
                Err(e) => Err(e),
            };
            let outcome = match result {
                Ok(report) => {
                    rotated += 1;
                    tracing::info!(request = %id, "{}", report.join("; "));
                    Outcome { report, error: None }
                }
                Err(e) => {
                    tracing::warn!(request = %id, "rotation refused: {e}");
                    Outcome {
                        report: Vec::new(),
                        error: Some(e),
                    }
                }
            };
            if let Err(e) = rotate::answer(&self.dir, &id, &outcome) {
                tracing::warn!(request = %id, "cannot answer the rotation request: {e}");
            }
        }
        rotated
    }

    /// One rotation, then the trust files. For the CA, the trust files list the new intermediate before the CA
    /// issues with it.
    async fn rotate(&self, decoded: Decoded) -> Result<Vec<String>, String> {
        let change = match decoded {
            Decoded::LogKey { .. } => TrustChange::LogKeyRotated,
            Decoded::CaIntermediate(_) => TrustChange::CaIntermediateRotated,
        };
        let (dir, log) = (self.dir.clone(), Arc::clone(&self.log));
        let applied = tokio::task::spawn_blocking(move || rotate::apply(&dir, &log, decoded))
            .await
            .map_err(|e| format!("rotation task: {e}"))??;
        let written = self.write_trust_files(change);
        if let Some(m) = &applied.ca {
            let issuer = Issuer::from_der(m.issuing(), Arc::clone(&m.signer) as Arc<dyn Signer>)
                .map_err(|e| err("the new intermediate")(e.to_string()))?;
            let ca = self
                .ca
                .current()
                .with_issuer(issuer, m.chain.clone())
                .map_err(|e| e.to_string())?;
            self.ca.replace(Arc::new(ca));
        }
        written.map_err(|e| format!("rotated, but the trust files were not rewritten: {e}"))?;
        let mut report = applied.report;
        // Published before the answer, so a client refreshing TUF after `sigil instance rotate` returns sees it.
        if let Some(tuf) = self
            .tuf
            .get()
            .filter(|t| matches!(t, crate::tuf_publish::TufState::Publishing(_)))
        {
            let (tuf, files) = (tuf.clone(), self.files.clone());
            let published = tokio::task::spawn_blocking(move || {
                tuf.trust_files_changed(&[&files.trusted_root, &files.signing_config], unix_now())
            })
            .await
            .map_err(|e| format!("TUF publishing task: {e}"))?;
            report.push(match published {
                Ok(()) => "trust files published over TUF".to_string(),
                Err(e) => format!("trust files NOT published over TUF: {e}"),
            });
        }
        Ok(report)
    }

    /// Writes `trusted_root.json`, `signing_config.v0.2.json` and `trust_config.json` from what is on disk (every
    /// key generation), then notifies [`Instance::trust_updates`].
    fn write_trust_files(&self, change: TrustChange) -> Result<(), String> {
        let (base_url, operator) = (&self.base_url, &self.operator);
        let tsa_url = format!("{base_url}/api/v1/timestamp");
        let log_dir = self.dir.join("log");
        let tlogs = |api| {
            sigil_log::server::trust_entries(&log_dir, base_url, api).map_err(|e| err("log entry")(e.to_string()))
        };
        // Every issuing certificate the CA has had: the chain continues with the root, a retired one stays
        // valid for the leaf lifetime after its retirement (the last leaves it issued live that long).
        let root = self.ca.current().chain().last().cloned().unwrap_or_default();
        let cas = material::generations(&self.dir.join("ca"))
            .map_err(|e| err("CA history")(e.to_string()))?
            .into_iter()
            .map(|g| {
                authority_entry(
                    &[g.certificate, root.clone()],
                    (g.activated, g.retired.map(|t| t + LEAF_VALIDITY_SECS)),
                    "sigil-ca",
                    base_url.clone(),
                    operator,
                )
            })
            .collect();
        let tsa_start = Certificate::from_der(self.tsa.root())
            .map_err(|e| err("TSA root")(e.to_string()))?
            .not_before();
        let trusted_root = TrustedRoot {
            media_type: TRUSTED_ROOT_MEDIA_TYPE.into(),
            tlogs: [tlogs(ApiVersion::V1)?, tlogs(ApiVersion::V2)?].concat(),
            certificate_authorities: cas,
            ctlogs: vec![
                self.ct
                    .trust_entry(&format!("{base_url}/ct"))
                    .map_err(|e| err("CT entry")(e.to_string()))?,
            ],
            timestamp_authorities: vec![authority_entry(
                &self.tsa.chain,
                (tsa_start, None),
                "sigil-tsa",
                tsa_url.clone(),
                operator,
            )],
        };
        let sc_entry = |api| {
            sigil_log::server::signing_config_entry(&log_dir, base_url, api)
                .map_err(|e| err("log service")(e.to_string()))
        };
        let ca_start = Certificate::from_der(&root).map_or_else(|_| unix_now(), |c| c.not_before());
        let signing_config = SigningConfig {
            media_type: SIGNING_CONFIG_MEDIA_TYPE.into(),
            ca_urls: vec![service(base_url.clone(), 1, ca_start, operator)],
            oidc_urls: self
                .issuer_url
                .iter()
                .map(|u| service(u.clone(), 1, ca_start, operator))
                .collect(),
            rekor_tlog_urls: vec![sc_entry(ApiVersion::V1)?, sc_entry(ApiVersion::V2)?],
            tsa_urls: vec![service(tsa_url, 1, ca_start, operator)],
            rekor_tlog_config: Some(ServiceConfiguration {
                selector: "ANY".into(),
                count: None,
            }),
            tsa_config: Some(ServiceConfiguration {
                selector: "ANY".into(),
                count: None,
            }),
        };
        let trust_config = ClientTrustConfig {
            media_type: CLIENT_TRUST_CONFIG_MEDIA_TYPE.into(),
            trusted_root: trusted_root.clone(),
            signing_config: signing_config.clone(),
        };
        let json_err = |e: serde_json::Error| err("encoding the trust files")(e.to_string());
        let root_json = serde_json::to_string_pretty(&trusted_root).map_err(json_err)?;
        let config_json = serde_json::to_string_pretty(&signing_config).map_err(json_err)?;
        let client_json = serde_json::to_string_pretty(&trust_config).map_err(json_err)?;
        write_atomic(&self.files.trusted_root, root_json.as_bytes(), false)?;
        write_atomic(&self.files.signing_config, config_json.as_bytes(), false)?;
        write_atomic(&self.files.trust_config, client_json.as_bytes(), false)?;
        let serial = match change {
            TrustChange::Started => 0,
            _ => self.updates.borrow().serial + 1,
        };
        self.updates.send_replace(TrustUpdate {
            files: self.files.clone(),
            serial,
            change,
        });
        Ok(())
    }
}

/// The body of `GET /api/v2/configuration`: the issuers the CA accepts.
fn fulcio_configuration(oidc: &OidcConfig) -> serde_json::Value {
    let entry = |i: &IssuerConfig, wildcard: bool| {
        let mut m = serde_json::Map::new();
        m.insert(
            if wildcard { "wildcardIssuerUrl" } else { "issuerUrl" }.into(),
            i.issuer_url.clone().into(),
        );
        m.insert("audience".into(), i.client_id.clone().into());
        m.insert("challengeClaim".into(), i.challenge_claim_name().into());
        m.insert("issuerType".into(), i.issuer_type.name().into());
        serde_json::Value::Object(m)
    };
    let issuers: Vec<_> = oidc
        .issuers()
        .map(|i| entry(i, false))
        .chain(oidc.meta_issuers().map(|i| entry(i, true)))
        .collect();
    serde_json::json!({ "issuers": issuers })
}
