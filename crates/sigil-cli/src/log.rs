//! `sigil log serve` and `sigil log trust-entry`: run the transparency log, describe it for clients.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use sigil_log::server::{self, ApiVersion, ServeConfig};

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Serve the Rekor v1 and v2 APIs and the C2SP tiles, creating the log on first start.
    ///
    /// Prints the base URL on stdout once listening; ready when `GET /healthz` answers 200. SIGINT/SIGTERM stop
    /// it gracefully (in-flight submissions are integrated and answered first).
    Serve(ServeArgs),
    /// Print the trusted-root `tlogs` entry (JSON) for the log in a data directory.
    TrustEntry(TrustEntryArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (created if missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// Address to listen on, e.g. 127.0.0.1:3002 (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:3002")]
    listen: SocketAddr,
    /// The URL clients reach the log at, if not http://<listen address>.
    #[arg(long)]
    public_url: Option<String>,
    /// Checkpoint origin of a new log (default: the public URL's host).
    #[arg(long)]
    origin: Option<String>,
    /// Where the checkpoint signer keeps its high-water mark (ideally another volume).
    #[arg(long)]
    high_water_mark: Option<PathBuf>,
    /// Largest request body in bytes (413 above it).
    #[arg(long, default_value_t = 128 * 1024)]
    max_body: usize,
    /// Seconds a client has to send a request's headers.
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Most simultaneous connections.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Ed25519 checkpoint key (PEM PKCS#8 "PRIVATE KEY") to use instead of generating one on first start.
    #[arg(long)]
    checkpoint_key: Option<PathBuf>,
    /// ECDSA P-256 Rekor v1 key (PEM PKCS#8 "PRIVATE KEY") to use instead of generating one on first start.
    #[arg(long)]
    v1_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Api {
    /// Rekor v1 (ECDSA P-256 log key, SETs).
    V1,
    /// Rekor v2 (Ed25519 checkpoint key).
    V2,
}

#[derive(Debug, Args)]
pub struct TrustEntryArgs {
    /// Data directory of the log.
    #[arg(long)]
    data_dir: PathBuf,
    /// Base URL clients use for the log.
    #[arg(long)]
    url: String,
    /// Which API's key to describe.
    #[arg(long, value_enum, default_value = "v1")]
    api: Api,
    /// Print the signing config's `rekorTlogUrls` entry instead.
    #[arg(long)]
    signing_config: bool,
}

pub fn run(cmd: LogCommand) -> ExitCode {
    match cmd {
        LogCommand::Serve(args) => serve(args),
        LogCommand::TrustEntry(args) => trust_entry(&args),
    }
}

/// The multi-threaded runtime the servers run on; `None` (after saying why) if it cannot start.
pub fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            None
        }
    }
}

/// Logs to stderr, filtered by `SIGIL_LOG` (default `info`).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SIGIL_LOG").unwrap_or_else(|_| "info".into()))
        .init();
}

fn serve(args: ServeArgs) -> ExitCode {
    init_tracing();
    let mut config = ServeConfig::new(args.data_dir, args.listen);
    config.public_url = args.public_url;
    config.origin = args.origin;
    config.high_water_mark = args.high_water_mark;
    config.max_body = Some(args.max_body);
    config.server.header_timeout = std::time::Duration::from_secs(args.header_timeout);
    config.server.max_connections = args.max_connections;
    for (path, slot) in [
        (&args.checkpoint_key, &mut config.keys.ed25519_pkcs8),
        (&args.v1_key, &mut config.keys.ecdsa_p256_pkcs8),
    ] {
        if let Some(path) = path {
            match read_private_key(path) {
                Ok(der) => *slot = Some(der),
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let result = runtime.block_on(server::run(
        config,
        |url| {
            use std::io::Write as _;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{url}");
            let _ = out.flush();
        },
        shutdown_signal(),
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A PEM `PRIVATE KEY` (PKCS#8) file.
fn read_private_key(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    sigil_crypto::pem_decode_one(&text, "PRIVATE KEY").map_err(|e| e.to_string())
}

pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn trust_entry(args: &TrustEntryArgs) -> ExitCode {
    let api = match args.api {
        Api::V1 => ApiVersion::V1,
        Api::V2 => ApiVersion::V2,
    };
    let json = if args.signing_config {
        server::signing_config_entry(&args.data_dir, &args.url, api).map(|s| serde_json::to_string_pretty(&s))
    } else {
        server::trust_entry(&args.data_dir, &args.url, api).map(|t| serde_json::to_string_pretty(&t))
    };
    match json {
        Ok(Ok(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
