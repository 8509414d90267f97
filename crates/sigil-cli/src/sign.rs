//! `sign-blob`, `sign-bundle` (the sigstore-conformance interface) and `attest`: keyless signing, or with
//! `--key` a key file in cosign's format.
//!
//! Every command: trust material (embedded public-good by default, `--staging`, a client trust config, or a
//! trusted root + signing config) → services selected from the signing config → identity token (flag,
//! `SIGSTORE_ID_TOKEN`, GitHub Actions ambient credentials, or an interactive login) or the decrypted key →
//! `sigil_sign` → a bundle that already passed `sigil-verify` → written to `--bundle`. Failures exit 1 with the
//! step named.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use sigil_bundle::{ClientTrustConfig, Limits, SigningConfig, TrustedRoot};
use sigil_client::{ClientOptions, HttpClient};
use sigil_crypto::SigningKey;
use sigil_sign::{IdentityToken, RekorVersion, SignWith, Signed, SigningContext};
use sigil_trust::TrustedMaterial;

use crate::unix_now;

/// Largest in-toto statement or predicate read (the bundle limit).
const MAX_STATEMENT_BYTES: usize = 32 << 20;

/// Which Sigstore instance to use.
#[derive(Debug, Args, Default)]
pub struct InstanceArgs {
    /// A ClientTrustConfig JSON (`trustedRoot` + `signingConfig`), like sigstore-python's `--trust-config`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["trusted_root", "signing_config", "staging"])]
    trust_config: Option<PathBuf>,
    /// A trusted_root.json (with `--signing-config`).
    #[arg(long, value_name = "FILE", requires = "signing_config")]
    trusted_root: Option<PathBuf>,
    /// A signing_config.v0.2.json (with `--trusted-root`).
    #[arg(long, value_name = "FILE", requires = "trusted_root")]
    signing_config: Option<PathBuf>,
    /// Use the embedded Sigstore staging instance.
    #[arg(long, conflicts_with_all = ["trusted_root", "signing_config"])]
    staging: bool,
    /// Take the trusted root and signing config from this TUF repository (e.g. `sigil serve`'s `<url>/tuf`);
    /// default: the one `sigil trust init` set up, else the embedded public-good instance.
    #[arg(long, value_name = "URL", conflicts_with_all = ["trust_config", "trusted_root", "signing_config", "staging"])]
    tuf_mirror: Option<String>,
    /// The root.json that bootstraps trust in `--tuf-mirror` (default: the one `sigil trust init` pinned).
    #[arg(long, value_name = "FILE", requires = "tuf_mirror")]
    tuf_root: Option<PathBuf>,
    /// Trust the CA certificates in this PEM file for HTTPS (to the instance's services, the OIDC issuer and
    /// GitHub Actions), instead of the built-in Mozilla roots: a private instance's CA. Without the flag,
    /// `SSL_CERT_FILE` is used when set.
    #[arg(long, value_name = "PEM")]
    ca_bundle: Option<PathBuf>,
}

/// Where the identity token comes from when `--identity-token` is absent: `SIGSTORE_ID_TOKEN`, then GitHub
/// Actions, then an interactive login.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// OIDC issuer for the interactive login (default: the signing config's `oidcUrls`).
    #[arg(long, value_name = "URL")]
    oidc_issuer: Option<String>,
    /// OAuth client ID for the interactive login.
    #[arg(long, value_name = "ID", default_value = "sigstore")]
    oidc_client_id: String,
}

/// What `sign-blob` and `attest` share: output, token, log version, instance and login.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// The OIDC identity token (or a file holding it).
    #[arg(long, value_name = "TOKEN")]
    identity_token: Option<String>,
    /// Only use Rekor logs with this major API version.
    #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(u32).range(1..=2))]
    rekor_version: Option<u32>,
    /// Sign with this private key file (cosign's encrypted format, or a PKCS#8 PEM) instead of an identity. The
    /// password comes from SIGIL_PASSWORD or COSIGN_PASSWORD, the terminal, or standard input.
    #[arg(long, value_name = "FILE", conflicts_with = "identity_token")]
    key: Option<PathBuf>,
    /// With --key: `false` records nothing in the transparency log and contacts no service (air-gapped
    /// signing); the bundle then verifies only with `verify-blob --key … --insecure-ignore-tlog`.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, requires = "key")]
    tlog_upload: bool,
    #[command(flatten)]
    instance: InstanceArgs,
    #[command(flatten)]
    login: LoginArgs,
}

#[derive(Debug, Args)]
pub struct SignBlobArgs {
    #[command(flatten)]
    signing: SigningArgs,
    /// The artifact.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct SignBundleArgs {
    /// FILE is an in-toto statement: sign it as a DSSE envelope.
    #[arg(long)]
    in_toto: bool,
    /// The OIDC identity token (or a file holding it).
    #[arg(long, value_name = "TOKEN")]
    identity_token: String,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    #[command(flatten)]
    instance: InstanceArgs,
    /// The artifact, or with `--in-toto` the statement.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The predicate (JSON).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    /// The predicate type URI (e.g. https://slsa.dev/provenance/v1).
    #[arg(long = "type", value_name = "URI")]
    predicate_type: String,
    #[command(flatten)]
    signing: SigningArgs,
    /// The artifact the statement is about (its name and SHA-256 become the subject).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

enum What {
    Blob(PathBuf),
    Statement(PathBuf),
    Attest {
        file: PathBuf,
        predicate: PathBuf,
        predicate_type: String,
    },
}

struct Request {
    what: What,
    bundle: PathBuf,
    token: Option<String>,
    key: Option<(PathBuf, bool)>,
    rekor: RekorVersion,
    instance: InstanceArgs,
    login: Option<LoginArgs>,
}

fn rekor(v: Option<u32>) -> RekorVersion {
    match v {
        Some(1) => RekorVersion::V1,
        Some(_) => RekorVersion::V2,
        None => RekorVersion::Auto,
    }
}

impl SigningArgs {
    fn request(self, what: What) -> Request {
        Request {
            what,
            bundle: self.bundle,
            token: self.identity_token,
            key: self.key.map(|k| (k, self.tlog_upload)),
            rekor: rekor(self.rekor_version),
            instance: self.instance,
            login: Some(self.login),
        }
    }
}

pub fn sign_blob(a: SignBlobArgs) -> ExitCode {
    finish(run(a.signing.request(What::Blob(a.file))))
}

pub fn sign_bundle(a: SignBundleArgs) -> ExitCode {
    finish(run(Request {
        what: if a.in_toto {
            What::Statement(a.file)
        } else {
            What::Blob(a.file)
        },
        bundle: a.bundle,
        token: Some(a.identity_token),
        key: None,
        rekor: RekorVersion::Auto,
        instance: a.instance,
        login: None,
    }))
}

pub fn attest(a: AttestArgs) -> ExitCode {
    finish(run(a.signing.request(What::Attest {
        file: a.file,
        predicate: a.predicate,
        predicate_type: a.predicate_type,
    })))
}

fn finish(r: Result<(Signed, PathBuf), String>) -> ExitCode {
    match r {
        Ok((signed, path)) => {
            for w in &signed.warnings {
                eprintln!("warning: {w}");
            }
            eprintln!("Wrote {} ({})", path.display(), signed.signer);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn read_limited(path: &Path, max: usize, what: &str) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("reading {what} {}: {e}", path.display()))?;
    let mut out = Vec::new();
    f.take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format!("reading {what} {}: {e}", path.display()))?;
    if out.len() > max {
        return Err(format!("reading {what} {}: larger than {max} bytes", path.display()));
    }
    Ok(out)
}

/// The trusted root and signing config of the chosen instance.
pub(crate) fn instance(a: &InstanceArgs) -> Result<(TrustedRoot, SigningConfig), String> {
    let limits = Limits::default();
    let step = |e: String| format!("loading the trust material: {e}");
    if let Some(path) = &a.trust_config {
        let json = read_limited(path, limits.max_trusted_root_bytes, "the trust config").map_err(step)?;
        let c = ClientTrustConfig::from_json(&json, &limits).map_err(|e| step(format!("{}: {e}", path.display())))?;
        return Ok((c.trusted_root, c.signing_config));
    }
    if let (Some(root), Some(config)) = (&a.trusted_root, &a.signing_config) {
        let r = read_limited(root, limits.max_trusted_root_bytes, "the trusted root").map_err(step)?;
        let c = read_limited(config, limits.max_trusted_root_bytes, "the signing config").map_err(step)?;
        return Ok((
            TrustedRoot::from_json(&r, &limits).map_err(|e| step(format!("{}: {e}", root.display())))?,
            SigningConfig::from_json(&c, &limits).map_err(|e| step(format!("{}: {e}", config.display())))?,
        ));
    }
    if !a.staging
        && let Some(state) =
            crate::trust::private_tuf(a.tuf_mirror.as_deref(), a.tuf_root.as_deref(), false).map_err(step)?
    {
        let config = state.signing_config.as_deref().ok_or_else(|| {
            step(format!(
                "the TUF repository {} has no signing_config.v0.2.json target",
                state.mirror
            ))
        })?;
        eprintln!("trust material: TUF repository {}: {}", state.mirror, state.summary());
        return Ok((
            TrustedRoot::from_json(&state.trusted_root, &limits).map_err(|e| step(e.to_string()))?,
            SigningConfig::from_json(config, &limits).map_err(|e| step(e.to_string()))?,
        ));
    }
    let (root, config) = if a.staging {
        (sigil_trust::STAGING_TRUSTED_ROOT, sigil_trust::STAGING_SIGNING_CONFIG)
    } else {
        (
            sigil_trust::PRODUCTION_TRUSTED_ROOT,
            sigil_trust::PRODUCTION_SIGNING_CONFIG,
        )
    };
    Ok((
        TrustedRoot::from_json(root.as_bytes(), &limits).map_err(|e| step(e.to_string()))?,
        SigningConfig::from_json(config.as_bytes(), &limits).map_err(|e| step(e.to_string()))?,
    ))
}

/// Largest `--ca-bundle` read (a whole system bundle is about 200 KB).
const MAX_CA_BUNDLE_BYTES: usize = 1 << 20;

/// The HTTP client: the built-in Mozilla roots, or the certificates of `--ca-bundle` / `SSL_CERT_FILE`.
pub(crate) fn http_client(a: &InstanceArgs) -> Result<HttpClient, String> {
    http_client_trusting(a.ca_bundle.as_deref())
}

/// An HTTP client trusting the CA certificates in `ca_bundle`, else those of `SSL_CERT_FILE`, else the built-in
/// Mozilla roots.
pub(crate) fn http_client_trusting(ca_bundle: Option<&Path>) -> Result<HttpClient, String> {
    let bundle = ca_bundle.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("SSL_CERT_FILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let mut options = ClientOptions::default();
    if let Some(path) = bundle {
        let step = |e: String| format!("loading the CA bundle {}: {e}", path.display());
        let pem = read_limited(&path, MAX_CA_BUNDLE_BYTES, "the CA bundle")?;
        let pem = String::from_utf8(pem).map_err(|_| step("not UTF-8 PEM".into()))?;
        let certs: Vec<Vec<u8>> = sigil_crypto::pem_blocks(&pem)
            .map_err(|e| step(e.to_string()))?
            .into_iter()
            .filter(|(label, _)| label == "CERTIFICATE")
            .map(|(_, der)| der)
            .collect();
        if certs.is_empty() {
            return Err(step("no CERTIFICATE in it".into()));
        }
        options.root_certificates = Some(certs);
    }
    HttpClient::new(options).map_err(|e| e.to_string())
}

/// The flag (a token, or a file holding one), `SIGSTORE_ID_TOKEN`, GitHub Actions, then the interactive login.
pub(crate) fn identity_token(
    flag: Option<&str>,
    login: Option<&LoginArgs>,
    oidc_from_config: Option<&str>,
    http: &HttpClient,
) -> Result<IdentityToken, String> {
    let step = |e: String| format!("getting an identity token: {e}");
    let raw = if let Some(t) = flag {
        let p = Path::new(t);
        if !t.contains('.') || p.is_file() {
            String::from_utf8(read_limited(p, sigil_sign::token::MAX_TOKEN_BYTES, "the identity token").map_err(step)?)
                .map_err(|_| step("the token file is not UTF-8".into()))?
        } else {
            t.to_string()
        }
    } else if let Some(t) = std::env::var("SIGSTORE_ID_TOKEN").ok().filter(|t| !t.is_empty()) {
        t
    } else if let Some(req) = sigil_sign::github_actions_request(|k| std::env::var(k).ok()) {
        http.github_actions_token(&req).map_err(|e| step(e.to_string()))?
    } else if let Some(login) = login {
        let issuer = login
            .oidc_issuer
            .as_deref()
            .or(oidc_from_config)
            .ok_or_else(|| step("no token given and the signing config names no OIDC issuer".into()))?;
        sigil_client::interactive_login(
            http,
            issuer,
            &login.oidc_client_id,
            Duration::from_secs(300),
            &mut |url| eprintln!("Open this URL in a browser to sign in:\n\n    {url}\n"),
        )
        .map_err(|e| step(e.to_string()))?
    } else {
        return Err(step("no identity token".into()));
    };
    IdentityToken::parse(&raw).map_err(|e| step(e.to_string()))
}

/// The private key in `path`: cosign's encrypted format (asking for its password), or an unencrypted PKCS#8 PEM.
pub(crate) fn signing_key(path: &Path) -> Result<SigningKey, String> {
    let step = |e: String| format!("loading the key {}: {e}", path.display());
    let text = read_limited(path, sigil_crypto::MAX_KEY_FILE, "the key")?;
    let text = String::from_utf8(text).map_err(|_| step("not PEM".into()))?;
    if sigil_crypto::is_encrypted_private_key(&text) {
        let password = crate::keys::read_password("Enter the password for the private key: ", false).map_err(step)?;
        sigil_crypto::decrypt_private_key(&text, &password).map_err(|e| step(e.to_string()))
    } else {
        SigningKey::from_pkcs8_pem(&text).map_err(|e| step(e.to_string()))
    }
}

fn run(req: Request) -> Result<(Signed, PathBuf), String> {
    let signed = sign(&req)?;
    std::fs::write(&req.bundle, signed.json.as_bytes())
        .map_err(|e| format!("writing the bundle {}: {e}", req.bundle.display()))?;
    Ok((signed, req.bundle))
}

impl InstanceArgs {
    /// A client trust config file, or (`None`) the default: the `sigil trust init` repository, else public good.
    pub(crate) fn from_trust_config(path: Option<PathBuf>) -> Self {
        Self {
            trust_config: path,
            ..Self::default()
        }
    }
}

/// What a signing run needs before it signs: the trusted material, the selected services and the HTTP client.
struct Prepared {
    trust: TrustedMaterial,
    services: sigil_sign::Services,
    http: HttpClient,
}

impl Prepared {
    /// Loads the instance `instance_args` names (one TUF refresh, when it comes through TUF).
    fn load(instance_args: &InstanceArgs, rekor: RekorVersion) -> Result<Self, String> {
        let (root, config) = instance(instance_args)?;
        let trust =
            TrustedMaterial::from_trusted_root(&root).map_err(|e| format!("loading the trust material: {e}"))?;
        let services = sigil_sign::select_services(&config, unix_now(), rekor).map_err(|e| e.to_string())?;
        Ok(Self {
            trust,
            services,
            http: http_client(instance_args)?,
        })
    }

    fn oidc_url(&self) -> Option<&str> {
        self.services.oidc.as_ref().map(|s| s.url.as_str())
    }
}

/// The login a signing program uses when no token is given (the signing config's issuer, client `sigstore`).
fn default_login() -> LoginArgs {
    LoginArgs {
        oidc_issuer: None,
        oidc_client_id: "sigstore".into(),
    }
}

/// An identity token for `instance_args` (`SIGSTORE_ID_TOKEN`, GitHub Actions, or an interactive login at the
/// signing config's OIDC issuer), as the raw JWT.
pub(crate) fn token_for(instance_args: &InstanceArgs) -> Result<String, String> {
    let p = Prepared::load(instance_args, RekorVersion::V1)?;
    let token = identity_token(None, Some(&default_login()), p.oidc_url(), &p.http)?;
    Ok(token.raw().to_string())
}

/// Where [`sign_bytes_cached`] gets an identity when its cache has no usable certificate.
pub(crate) enum TokenSource<'a> {
    /// None at hand: answer [`Cached::NeedToken`] (the agent, whose caller holds the terminal).
    Absent,
    Given(&'a str),
    /// `SIGSTORE_ID_TOKEN`, GitHub Actions, or an interactive login ([`token_for`]).
    Obtain,
}

/// What [`sign_bytes_cached`] did.
pub(crate) enum Cached {
    Signed(Box<Signed>),
    /// No usable certificate in the cache and no token at hand.
    NeedToken,
}

/// Signs `bytes` with the certified key in `cache` (Rekor v1), certifying a new one with a token from `token`
/// when the cache is empty or its certificate is about to expire. The key and certificate never leave memory.
pub(crate) fn sign_bytes_cached(
    bytes: &[u8],
    instance_args: &InstanceArgs,
    cache: &mut Option<sigil_sign::CertifiedKey>,
    token: TokenSource<'_>,
) -> Result<Cached, String> {
    // Two minutes of margin: the log entry must be integrated while the certificate is valid.
    if cache.as_ref().is_some_and(|c| c.not_after() - unix_now() <= 120) {
        *cache = None;
    }
    if cache.is_none() && matches!(token, TokenSource::Absent) {
        return Ok(Cached::NeedToken);
    }
    let Prepared { trust, services, http } = Prepared::load(instance_args, RekorVersion::V1)?;
    let ctx = SigningContext::new(trust, services, &http, &http, &http).map_err(|e| e.to_string())?;
    let clock = unix_now;
    let key = match cache.take() {
        Some(k) => k,
        None => {
            let token = match token {
                TokenSource::Given(t) => IdentityToken::parse(t).map_err(|e| format!("the identity token: {e}"))?,
                TokenSource::Obtain => {
                    let oidc = ctx.services().oidc.as_ref().map(|s| s.url.as_str());
                    identity_token(None, Some(&default_login()), oidc, &http)?
                }
                TokenSource::Absent => return Ok(Cached::NeedToken),
            };
            ctx.certify_key(&token, &clock).map_err(|e| e.to_string())?
        }
    };
    let signed = ctx.sign_artifact(SignWith::Certified(&key), bytes, &clock);
    *cache = Some(key);
    Ok(Cached::Signed(Box::new(signed.map_err(|e| e.to_string())?)))
}

fn sign(req: &Request) -> Result<Signed, String> {
    let Prepared { trust, services, http } = Prepared::load(&req.instance, req.rekor)?;
    let key;
    let token;
    let with = match &req.key {
        Some((path, tlog)) => {
            key = signing_key(path)?;
            SignWith::Key { key: &key, tlog: *tlog }
        }
        None => {
            token = identity_token(
                req.token.as_deref(),
                req.login.as_ref(),
                services.oidc.as_ref().map(|s| s.url.as_str()),
                &http,
            )?;
            SignWith::Identity(&token)
        }
    };
    let ctx = SigningContext::new(trust, services, &http, &http, &http).map_err(|e| e.to_string())?;
    let clock = unix_now;
    match &req.what {
        What::Blob(path) => {
            let f = std::fs::File::open(path).map_err(|e| format!("reading the artifact {}: {e}", path.display()))?;
            ctx.sign_artifact(with, f, &clock)
        }
        What::Statement(path) => {
            let json = read_limited(path, MAX_STATEMENT_BYTES, "the in-toto statement")?;
            ctx.sign_statement(with, &json, &clock)
        }
        What::Attest {
            file,
            predicate,
            predicate_type,
        } => {
            let pred = read_limited(predicate, MAX_STATEMENT_BYTES, "the predicate")?;
            let pred: serde_json::Value = serde_json::from_slice(&pred)
                .map_err(|e| format!("reading the predicate {}: not JSON: {e}", predicate.display()))?;
            let f = std::fs::File::open(file).map_err(|e| format!("reading the artifact {}: {e}", file.display()))?;
            let digest = sigil_crypto::Hasher::digest_reader(sigil_crypto::HashAlgorithm::Sha2_256, f)
                .map_err(|e| format!("reading the artifact {}: {e}", file.display()))?;
            let digest: [u8; 32] = digest
                .as_slice()
                .try_into()
                .map_err(|_| "hashing the artifact".to_string())?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let statement =
                sigil_sign::flow::statement_for(&name, &digest, predicate_type, pred).map_err(|e| e.to_string())?;
            ctx.sign_statement(with, &statement, &clock)
        }
    }
    .map_err(|e| e.to_string())
}
