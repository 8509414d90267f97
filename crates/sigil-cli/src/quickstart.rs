//! `sigil quickstart`: the whole keyless flow on an embedded instance, in one command.
//!
//! It starts a private instance in a temporary directory (the same one `sigil serve --dev` runs), gets a token
//! from its development issuer, signs a file with an ephemeral key (certificate from the CA, SCT from the CT log,
//! RFC 3161 timestamp, Rekor v2 entry), verifies the bundle offline against the instance's trusted root, and
//! prints what the verification established. The directory is removed at the end.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use sigil_bundle::{Limits, SigningConfig, TrustedRoot};
use sigil_client::{ClientOptions, HttpClient};
use sigil_crypto::HashAlgorithm;
use sigil_oidc::dev::DevClaims;
use sigil_policy::{Matcher, Policy};
use sigil_sign::{IdentityToken, RekorVersion, SignWith, SigningContext};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, SignerCheck, TimeSource, VerifiedBundle, VerifiedSigner, Verifier, VerifierOptions};

use crate::instance::{Instance, InstanceConfig, load_dev_issuer};
use crate::unix_now;

#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// The file to sign; default: a small file written into the temporary directory.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// The identity the development issuer vouches for.
    #[arg(long, default_value = "alice@example.test")]
    email: String,
    /// Where to keep the bundle (default: only in the temporary directory, removed at the end).
    #[arg(long)]
    bundle: Option<PathBuf>,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, String> {
        let mut random = [0u8; 8];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| "random name".to_string())?;
        let path = std::env::temp_dir().join(format!("sigil-quickstart-{}", hex::encode(random)));
        std::fs::create_dir(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

pub fn run(args: QuickstartArgs) -> ExitCode {
    match quickstart(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn quickstart(args: &QuickstartArgs) -> Result<(), String> {
    let started = Instant::now();
    let tmp = TempDir::new()?;
    let data_dir = tmp.0.join("instance");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let config = InstanceConfig {
        data_dir: data_dir.clone(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: None,
        dev: true,
        oidc_config: None,
        server: Default::default(),
        tls: None,
        tuf: false,
    };
    let instance = runtime.block_on(Instance::start(config))?;
    let base_url = instance.base_url.clone();
    let files = instance.files.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(instance.serve(async {
        let _ = stopped.await;
    }));
    println!("1. Started a private instance at {base_url}");
    println!(
        "   (CA, CT log, Rekor v1/v2 log, timestamp authority and a development OIDC issuer; data in {})",
        data_dir.display()
    );

    let result = sign_and_verify(args, &tmp.0, &data_dir, &files);

    let _ = stop.send(());
    let _ = runtime.block_on(server);
    let (bundle_path, verified, token_issuer, signed_ms) = result?;
    print_facts(&verified, &token_issuer);
    if let Some(keep) = &args.bundle {
        std::fs::copy(&bundle_path, keep).map_err(|e| format!("copying the bundle to {}: {e}", keep.display()))?;
        println!("   Bundle saved to {}", keep.display());
    }
    println!(
        "Done in {} ms (signing {signed_ms} ms). The private key existed only in memory and is gone.",
        started.elapsed().as_millis()
    );
    Ok(())
}

type Outcome = (PathBuf, VerifiedBundle, String, u128);

fn sign_and_verify(
    args: &QuickstartArgs,
    tmp: &Path,
    data_dir: &Path,
    files: &crate::instance::TrustFiles,
) -> Result<Outcome, String> {
    let artifact = match &args.file {
        Some(f) => f.clone(),
        None => {
            let f = tmp.join("hello.txt");
            std::fs::write(&f, b"Hello from sigil: signed with an identity, not a key.\n")
                .map_err(|e| format!("writing {}: {e}", f.display()))?;
            f
        }
    };
    let issuer = load_dev_issuer(data_dir)?;
    let raw = issuer
        .mint(&DevClaims::email(args.email.clone()), unix_now(), 600)
        .map_err(|e| format!("minting a token: {e}"))?;
    let token = IdentityToken::parse(&raw).map_err(|e| format!("reading the token: {e}"))?;
    println!("2. Got an identity token for {} from {}", args.email, token.issuer());

    let limits = Limits::default();
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let root = TrustedRoot::from_json(&read(&files.trusted_root)?, &limits).map_err(|e| e.to_string())?;
    let config = SigningConfig::from_json(&read(&files.signing_config)?, &limits).map_err(|e| e.to_string())?;
    let trust = TrustedMaterial::from_trusted_root(&root).map_err(|e| e.to_string())?;

    let signing_started = Instant::now();
    let services = sigil_sign::select_services(&config, unix_now(), RekorVersion::Auto).map_err(|e| e.to_string())?;
    let http = HttpClient::new(ClientOptions::default()).map_err(|e| e.to_string())?;
    let ctx = SigningContext::new(trust.clone(), services, &http, &http, &http).map_err(|e| e.to_string())?;
    let file = std::fs::File::open(&artifact).map_err(|e| format!("reading {}: {e}", artifact.display()))?;
    let signed = ctx
        .sign_artifact(SignWith::Identity(&token), file, &unix_now)
        .map_err(|e| e.to_string())?;
    let signed_ms = signing_started.elapsed().as_millis();
    let bundle_path = tmp.join("bundle.sigstore.json");
    std::fs::write(&bundle_path, signed.json.as_bytes()).map_err(|e| format!("writing the bundle: {e}"))?;
    println!(
        "3. Signed {} keylessly: ephemeral P-256 key → certificate → timestamp → log entry ({signed_ms} ms)",
        artifact.display()
    );

    // Offline verification, exactly what `sigil verify-bundle` does, against the instance's trusted root.
    let verifier = Verifier::new(trust, VerifierOptions::default());
    let bundle = verifier
        .parse_bundle(signed.json.as_bytes())
        .map_err(|e| e.to_string())?;
    let policy = Policy::identity(
        Matcher::exact(args.email.clone()),
        Matcher::exact(token.issuer().to_string()),
    );
    let file = std::fs::File::open(&artifact).map_err(|e| format!("reading {}: {e}", artifact.display()))?;
    let digest =
        Artifact::from_reader(HashAlgorithm::Sha2_256, file).map_err(|e| format!("reading the artifact: {e}"))?;
    let verified = verifier
        .verify(&bundle, &digest, SignerCheck::Identity(&policy), unix_now())
        .map_err(|e| format!("verification failed: {e}"))?;
    println!(
        "4. Verified the bundle offline against {}:",
        files.trusted_root.display()
    );
    Ok((bundle_path, verified, token.issuer().to_string(), signed_ms))
}

fn print_facts(v: &VerifiedBundle, issuer: &str) {
    println!(
        "   Signed by:    {} (OIDC issuer {})",
        v.san().unwrap_or("?"),
        v.issuer().unwrap_or(issuer)
    );
    if let VerifiedSigner::Certificate { certificate_der, .. } = &v.signer {
        if let Ok(cert) = sigil_x509::Certificate::from_der(certificate_der) {
            println!(
                "   Certificate:  valid {} → {} ({} minutes), {} embedded SCT verified",
                rfc3339(cert.not_before()),
                rfc3339(cert.not_after()),
                (cert.not_after() - cert.not_before()) / 60,
                v.sct_count
            );
        }
    }
    for e in &v.tlog_entries {
        let inclusion = match e.inclusion {
            Some((index, size)) => {
                format!("inclusion proof verified (leaf {index} of a {size}-entry tree, signed checkpoint)")
            }
            None => "inclusion promise (SET) verified".to_string(),
        };
        println!(
            "   Log entry:    {} index {} ({}/{}): {inclusion}",
            e.base_url, e.log_index, e.kind, e.version
        );
    }
    for t in &v.times {
        let source = match &t.source {
            TimeSource::Tsa { uri } => format!("RFC 3161 timestamp from {uri}"),
            TimeSource::Tlog { base_url, log_index } => format!("log integration time ({base_url} #{log_index})"),
        };
        println!("   Signed at:    {} ({source})", rfc3339(t.unix));
    }
}
