//! Where a verifier's trusted root comes from: a file, a TUF repository (a private instance's, set up with
//! `sigil trust init`, or given with `--tuf-mirror`), or the public-good repository with its embedded root;
//! and `sigil trust init|show`.
//!
//! Only a *transport* failure against the public-good repository falls back to the embedded trusted root,
//! and the fallback is announced. Anything the repository says that fails a TUF check (rollback, freeze,
//! bad signatures) is an error: that is what an attacker would cause.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use sigil_client::HttpClient;
use sigil_trust::TrustedMaterial;
use sigil_trust::tuf::sigstore::{PUBLIC_GOOD_MIRROR, STAGING_MIRROR, SigstoreTuf, TufState};
use sigil_trust::tuf::{Fetch, Mode, TufError};
use sigil_verify::{Code, VerificationError};

use crate::unix_now;

/// Options that choose the trusted root (shared by the verify commands).
#[derive(Debug, Args, Default, Clone)]
pub struct TrustArgs {
    /// A trusted_root.json (or client trust config) to use as it is, instead of TUF.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tuf_mirror", "staging"])]
    pub trusted_root: Option<PathBuf>,
    /// The Sigstore staging instance (TUF repository tuf-repo-cdn.sigstage.dev, embedded root).
    #[arg(long, conflicts_with = "tuf_mirror")]
    pub staging: bool,
    /// A TUF repository to take trusted_root.json from (e.g. `sigil serve`'s `<url>/tuf`); default: the one
    /// set with `sigil trust init`, else the public-good repository.
    #[arg(long, value_name = "URL")]
    pub tuf_mirror: Option<String>,
    /// The root.json that bootstraps trust in `--tuf-mirror` (default: the one `sigil trust init` pinned).
    #[arg(long, value_name = "FILE", requires = "tuf_mirror")]
    pub tuf_root: Option<PathBuf>,
    /// Use only cached TUF metadata (no network): its expiry is reported but not enforced. Without a cache,
    /// the public-good repository falls back to the embedded trusted root.
    #[arg(long)]
    pub offline: bool,
}

/// `sigil trust …`
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Pin a TUF repository's root.json and make it the default for verification (like `cosign initialize`).
    Init(InitArgs),
    /// Show what is trusted, where it came from, and until when.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository's base URL (metadata at `<url>/N.root.json`, targets at `<url>/targets/`).
    #[arg(long, value_name = "URL")]
    mirror: String,
    /// The root.json to trust initially (obtained out of band).
    #[arg(long, value_name = "FILE")]
    root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    trust: TrustArgs,
    /// `text` or `json`.
    #[arg(long, default_value = "text")]
    output: String,
}

/// Where the trusted root came from, to tell the user.
#[derive(Debug, Clone)]
pub enum Provenance {
    File(PathBuf),
    Tuf(TufState),
    /// The embedded root, and why TUF was not used.
    Embedded {
        name: &'static str,
        reason: String,
    },
}

impl Provenance {
    pub fn describe(&self) -> String {
        match self {
            Self::File(p) => format!("the file {}", p.display()),
            Self::Tuf(s) => format!(
                "TUF repository {}{}: {}",
                s.mirror,
                if s.mode == Mode::Offline {
                    " (offline, from the cache)"
                } else {
                    ""
                },
                s.summary()
            ),
            Self::Embedded { name, reason } => {
                format!("the embedded {name} trusted root (from sigstore-python 4.5.1), because {reason}")
            }
        }
    }
}

/// `$SIGIL_HOME`, else `$XDG_DATA_HOME/sigil`, else `~/.local/share/sigil`.
pub fn sigil_home() -> PathBuf {
    if let Some(h) = std::env::var_os("SIGIL_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(x).join("sigil");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/sigil")
}

fn tuf_dir() -> PathBuf {
    sigil_home().join("tuf")
}

/// The cache directory of one repository.
fn cache_dir(mirror: &str) -> PathBuf {
    tuf_dir().join(sigil_trust::tuf::names::file_name(mirror.trim_end_matches('/')))
}

const PINNED_ROOT: &str = "pinned-root.json";
const DEFAULT_FILE: &str = "default-mirror";

fn default_mirror() -> Option<String> {
    let text = std::fs::read_to_string(tuf_dir().join(DEFAULT_FILE)).ok()?;
    let m = text.trim();
    (!m.is_empty()).then(|| m.to_string())
}

/// The HTTP client for TUF: Mozilla's roots, or the CA certificates of `SSL_CERT_FILE` (a private instance's).
fn fetcher() -> Result<HttpClient, String> {
    crate::sign::http_client_trusting(None)
}

fn read_root(path: &Path) -> Result<Vec<u8>, String> {
    sigil_trust::read_bounded(path, 512_000).map_err(|e| e.to_string())
}

/// Loads one TUF repository's Sigstore targets (online unless `offline`).
fn load_tuf(mirror: &str, pinned_root: Vec<u8>, offline: bool) -> Result<TufState, TufError> {
    let repo = SigstoreTuf {
        mirror: mirror.trim_end_matches('/').to_string(),
        cache_dir: cache_dir(mirror),
        pinned_root,
    };
    if offline {
        return repo.load(Mode::Offline, None, unix_now());
    }
    let client = fetcher().map_err(|e| TufError::Fetch {
        url: mirror.to_string(),
        error: sigil_trust::tuf::FetchError::Transport(e),
    })?;
    repo.load(Mode::Online, Some(&client as &dyn Fetch), unix_now())
}

/// The private TUF repository `mirror` (else the `sigil trust init` default) with its pinned root (else the one
/// `trust init` pinned), loaded; `None` when neither names a repository.
pub fn private_tuf(mirror: Option<&str>, root: Option<&Path>, offline: bool) -> Result<Option<TufState>, String> {
    let Some(mirror) = mirror.map(str::to_string).or_else(default_mirror) else {
        return Ok(None);
    };
    let root = match root {
        Some(p) => read_root(p)?,
        None => read_root(&cache_dir(&mirror).join(PINNED_ROOT)).map_err(|e| {
            format!("no root.json pinned for {mirror} ({e}): give --tuf-root or run `sigil trust init`")
        })?,
    };
    load_tuf(&mirror, root, offline)
        .map(Some)
        .map_err(|e| format!("TUF repository {mirror}: {e}"))
}

/// The trusted root chosen by `t`, and where it came from.
pub fn resolve(t: &TrustArgs) -> Result<(TrustedMaterial, Provenance), VerificationError> {
    let invalid = |e: String| VerificationError::new(Code::TrustedRootInvalid, e);
    if let Some(path) = &t.trusted_root {
        return Ok((load_file(path)?, Provenance::File(path.clone())));
    }
    let private = if t.staging {
        None
    } else {
        private_tuf(t.tuf_mirror.as_deref(), t.tuf_root.as_deref(), t.offline).map_err(invalid)?
    };
    let from_tuf = |state: TufState| -> Result<(TrustedMaterial, Provenance), VerificationError> {
        let material = TrustedMaterial::from_json(&state.trusted_root).map_err(|e| invalid(e.to_string()))?;
        Ok((material, Provenance::Tuf(state)))
    };
    if let Some(state) = private {
        return from_tuf(state);
    }
    let (mirror, name, tuf_root) = if t.staging {
        (STAGING_MIRROR, "staging", sigil_trust::STAGING_TUF_ROOT)
    } else {
        (PUBLIC_GOOD_MIRROR, "public-good", sigil_trust::PRODUCTION_TUF_ROOT)
    };
    let embedded = |reason: String| -> Result<(TrustedMaterial, Provenance), VerificationError> {
        let m = if t.staging {
            TrustedMaterial::staging()
        } else {
            TrustedMaterial::production()
        }
        .map_err(|e| invalid(e.to_string()))?;
        Ok((m, Provenance::Embedded { name, reason }))
    };
    match load_tuf(mirror, tuf_root.as_bytes().to_vec(), t.offline) {
        Ok(state) => from_tuf(state),
        // No network (or no cache offline): the embedded copy, said out loud.
        Err(TufError::Fetch { url, error }) => embedded(format!("{url} could not be fetched: {error}")),
        Err(TufError::Offline(why)) => embedded(format!("offline, and {why}")),
        Err(e) => Err(invalid(format!("TUF repository {mirror}: {e}"))),
    }
}

/// The trusted root for a verify command; says on stderr where it came from unless it is a given file.
pub fn load_trust(t: &TrustArgs) -> Result<TrustedMaterial, VerificationError> {
    let (material, provenance) = resolve(t)?;
    if !matches!(provenance, Provenance::File(_)) {
        eprintln!("trusted root: {}", provenance.describe());
    }
    Ok(material)
}

fn load_file(path: &Path) -> Result<TrustedMaterial, VerificationError> {
    let err = |e: sigil_trust::Error| VerificationError::new(Code::TrustedRootInvalid, e.to_string());
    let json = sigil_trust::read_bounded(path, sigil_bundle::Limits::default().max_trusted_root_bytes).map_err(err)?;
    // A client trust config carries the trusted root inside it.
    let is_client_config = serde_json::from_slice::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| {
            v.get("mediaType")
                .and_then(|m| m.as_str())
                .map(|m| m == sigil_bundle::trust::CLIENT_TRUST_CONFIG_MEDIA_TYPE)
        })
        .unwrap_or(false);
    if is_client_config {
        let c = sigil_bundle::ClientTrustConfig::from_json(&json, &sigil_bundle::Limits::default())
            .map_err(|e| VerificationError::new(Code::TrustedRootInvalid, e.to_string()))?;
        TrustedMaterial::from_trusted_root(&c.trusted_root).map_err(err)
    } else {
        TrustedMaterial::from_json(&json).map_err(err)
    }
}

pub fn run(cmd: TrustCommand) -> ExitCode {
    let result = match cmd {
        TrustCommand::Init(a) => init(&a),
        TrustCommand::Show(a) => show(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init(a: &InitArgs) -> Result<(), String> {
    let mirror = a.mirror.trim_end_matches('/').to_string();
    if !(mirror.starts_with("https://") || mirror.starts_with("http://")) {
        return Err(format!("--mirror {mirror:?} is not an http(s) URL"));
    }
    let root = read_root(&a.root)?;
    // The cache only ever holds verified metadata, so loading straight into it is safe; the root is pinned
    // and made the default only once the whole repository checked out.
    let state = load_tuf(&mirror, root.clone(), false).map_err(|e| format!("{mirror}: {e}"))?;
    let dir = cache_dir(&mirror);
    let pinned = dir.join(PINNED_ROOT);
    sigil_trust::write_atomic(&pinned, &root, sigil_trust::Access::Private)
        .map_err(|e| format!("{}: {e}", pinned.display()))?;
    let default = tuf_dir().join(DEFAULT_FILE);
    sigil_trust::write_atomic(&default, format!("{mirror}\n").as_bytes(), sigil_trust::Access::Private)
        .map_err(|e| format!("{}: {e}", default.display()))?;
    println!("trusting {mirror}: {}", state.summary());
    println!("pinned root: {}", dir.join(PINNED_ROOT).display());
    println!("verify commands now use this repository unless given --trusted-root, --tuf-mirror or --staging");
    Ok(())
}

fn show(a: &ShowArgs) -> Result<(), String> {
    let (material, provenance) = resolve(&a.trust).map_err(|e| e.to_string())?;
    let fmt = |t: i64| sigil_trust::tuf::metadata::format_time(t);
    let window = |v: &sigil_trust::Validity| {
        format!(
            "{} .. {}",
            fmt(v.start),
            v.end.map_or_else(|| "(open)".to_string(), fmt)
        )
    };
    if a.output == "json" {
        let authority = |x: &sigil_trust::Authority| {
            serde_json::json!({
                "uri": x.uri,
                "serial": x.chain.first().map(|c| hex::encode(c.serial())),
                "validFor": window(&x.validity),
            })
        };
        let v = serde_json::json!({
            "source": provenance.describe(),
            "tlogs": material.tlogs.iter().map(|t| serde_json::json!({
                "baseUrl": t.base_url, "logId": hex::encode(&t.log_id), "validFor": window(&t.validity)})).collect::<Vec<_>>(),
            "ctlogs": material.ctlogs.iter().map(|t| serde_json::json!({
                "baseUrl": t.base_url, "logId": hex::encode(&t.log_id), "validFor": window(&t.validity)})).collect::<Vec<_>>(),
            "certificateAuthorities": material.certificate_authorities.iter().map(authority).collect::<Vec<_>>(),
            "timestampAuthorities": material.timestamp_authorities.iter().map(authority).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?);
        return Ok(());
    }
    println!("source: {}", provenance.describe());
    let logs = |title: &str, list: Vec<(&String, &Vec<u8>, &sigil_trust::Validity)>| {
        println!("{title}");
        for (url, id, validity) in list {
            println!("  {url}  log ID {}  valid {}", hex::encode(id), window(validity));
        }
    };
    logs(
        "transparency logs:",
        material
            .tlogs
            .iter()
            .map(|t| (&t.base_url, &t.log_id, &t.validity))
            .collect(),
    );
    logs(
        "certificate transparency logs:",
        material
            .ctlogs
            .iter()
            .map(|t| (&t.base_url, &t.log_id, &t.validity))
            .collect(),
    );
    for (title, list) in [
        ("certificate authorities:", &material.certificate_authorities),
        ("timestamp authorities:", &material.timestamp_authorities),
    ] {
        println!("{title}");
        for x in list {
            let serial = x.chain.first().map(|c| hex::encode(c.serial())).unwrap_or_default();
            println!("  {}  serial {serial}  valid {}", x.uri, window(&x.validity));
        }
    }
    for s in &material.skipped {
        println!("skipped (unsupported): {s}");
    }
    Ok(())
}
