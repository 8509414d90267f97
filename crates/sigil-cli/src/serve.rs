//! `sigil serve` (a whole private instance) and `sigil dev-token` (a token from its development issuer).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sigil_oidc::dev::DevClaims;

use crate::instance::{Instance, InstanceConfig, load_dev_issuer};
use crate::log::runtime;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (created if missing): keys, logs and the trust files clients need.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The URL clients use, when not `http://<listen address>` (e.g. behind a TLS proxy).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Run and trust a development OIDC issuer at `<url>/oidc` that mints tokens for any email. Never in
    /// production.
    #[arg(long)]
    pub dev: bool,
    /// Fulcio-format issuer configuration (JSON) of the OIDC issuers the CA trusts.
    #[arg(long)]
    pub oidc_config: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (leaf first)…
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// …and this PEM private key.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DevTokenArgs {
    /// Data directory of a `sigil serve --dev` instance.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The identity: `email` claim, and `sub` unless `--sub` is given.
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub sub: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 600)]
    pub ttl: i64,
}

pub fn serve(args: ServeArgs) -> ExitCode {
    crate::log::init_tracing();
    if !args.dev && args.oidc_config.is_none() {
        eprintln!("error: give --oidc-config FILE (the issuers the CA trusts), or --dev for a development issuer");
        return ExitCode::FAILURE;
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
            match read(cert).and_then(|c| read(key).and_then(|k| sigil_http::tls_server_config(&c, &k))) {
                Ok(config) => Some(config),
                Err(e) => {
                    eprintln!("error: TLS: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => None,
    };
    let config = InstanceConfig {
        data_dir: args.data_dir,
        listen: args.listen,
        public_url: args.public_url,
        dev: args.dev,
        oidc_config: args.oidc_config,
        server: Default::default(),
        tls,
        tuf: true,
    };
    let result = runtime.block_on(async move {
        let instance = Instance::start(config).await?;
        {
            use std::io::Write as _;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{}", instance.base_url);
            let _ = writeln!(out, "ca:            {}", instance.base_url);
            let _ = writeln!(out, "rekor v1, v2:  {}", instance.base_url);
            let _ = writeln!(out, "timestamp:     {}/api/v1/timestamp", instance.base_url);
            let _ = writeln!(out, "ct log:        {}/ct", instance.base_url);
            if let Some(url) = &instance.issuer_url {
                let _ = writeln!(out, "dev issuer:    {url} (development only: mints any identity)");
            }
            let _ = writeln!(out, "trust config:  {}", instance.files.trust_config.display());
            if let Some(root) = instance.tuf.first_root() {
                let _ = writeln!(
                    out,
                    "tuf:           {}{}  (root: {})",
                    instance.base_url,
                    crate::tuf_publish::TUF_PATH,
                    root.display()
                );
            }
            let _ = out.flush();
        }
        // Say on stdout when a rotation rewrote the trust files (what a TUF publisher subscribes to as well).
        let mut updates = instance.trust_updates();
        let files = instance.files.clone();
        tokio::spawn(async move {
            while updates.changed().await.is_ok() {
                let change = updates.borrow_and_update().change;
                use std::io::Write as _;
                let mut out = std::io::stdout();
                let _ = writeln!(
                    out,
                    "trust files rewritten ({change:?}): {}",
                    files.trusted_root.display()
                );
                let _ = out.flush();
            }
        });
        instance.serve(crate::log::shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn dev_token(args: &DevTokenArgs) -> ExitCode {
    let issuer = match load_dev_issuer(&args.data_dir) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut claims = DevClaims::email(args.email.clone());
    claims.sub.clone_from(&args.sub);
    match issuer.mint(&claims, crate::unix_now(), args.ttl) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
