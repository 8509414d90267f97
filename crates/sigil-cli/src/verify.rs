//! `verify-bundle` and `verify-blob`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use sigil_bundle::bundle::Content;
use sigil_crypto::{HashAlgorithm, VerifyingKey};
use sigil_policy::{ExtensionField, Matcher, Policy};

pub use crate::trust::TrustArgs;
use crate::trust::load_trust;
use sigil_verify::{
    Artifact, Code, SignerCheck, TimeSource, VerificationError, VerifiedBundle, VerifiedSigner, Verifier,
    VerifierOptions,
};

#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The bundle (`.sigstore.json`).
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// The exact SAN the signing certificate must carry.
    #[arg(long, requires = "certificate_oidc_issuer", conflicts_with = "key")]
    certificate_identity: Option<String>,
    /// The exact OIDC issuer the signing certificate must carry.
    #[arg(long, requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// Verify with this PEM public key instead of a certificate identity.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
    /// The artifact: a path, or `sha256:<hex>` of it.
    #[arg(value_name = "FILE_OR_DIGEST")]
    artifact: String,
}

/// cosign's identity flags (verify-blob, verify IMAGE).
#[derive(Debug, Args)]
pub struct IdentityFlags {
    /// Exact SAN (email or URI) of the signer.
    #[arg(long)]
    certificate_identity: Option<String>,
    /// Regular expression the SAN must match; always anchored at both ends.
    #[arg(long, conflicts_with = "certificate_identity")]
    certificate_identity_regexp: Option<String>,
    /// Exact OIDC issuer.
    #[arg(long)]
    certificate_oidc_issuer: Option<String>,
    /// Regular expression the OIDC issuer must match; always anchored at both ends.
    #[arg(long, conflicts_with = "certificate_oidc_issuer")]
    certificate_oidc_issuer_regexp: Option<String>,
    /// Exact GitHub workflow trigger (extension 1.3.6.1.4.1.57264.1.2).
    #[arg(long)]
    certificate_github_workflow_trigger: Option<String>,
    /// Exact GitHub workflow commit SHA (1.3.6.1.4.1.57264.1.3).
    #[arg(long)]
    certificate_github_workflow_sha: Option<String>,
    /// Exact GitHub workflow name (1.3.6.1.4.1.57264.1.4).
    #[arg(long)]
    certificate_github_workflow_name: Option<String>,
    /// Exact GitHub workflow repository, `owner/repo` (1.3.6.1.4.1.57264.1.5).
    #[arg(long)]
    certificate_github_workflow_repository: Option<String>,
    /// Exact GitHub workflow ref (1.3.6.1.4.1.57264.1.6).
    #[arg(long)]
    certificate_github_workflow_ref: Option<String>,
}

impl From<&IdentityFlags> for IdentityArgs {
    fn from(a: &IdentityFlags) -> Self {
        let extensions = [
            (
                ExtensionField::GithubWorkflowTrigger,
                &a.certificate_github_workflow_trigger,
            ),
            (ExtensionField::GithubWorkflowSha, &a.certificate_github_workflow_sha),
            (ExtensionField::GithubWorkflowName, &a.certificate_github_workflow_name),
            (
                ExtensionField::GithubWorkflowRepository,
                &a.certificate_github_workflow_repository,
            ),
            (ExtensionField::GithubWorkflowRef, &a.certificate_github_workflow_ref),
        ]
        .into_iter()
        .filter_map(|(f, v)| v.clone().map(|v| (f, v)))
        .collect();
        Self {
            san: a.certificate_identity.clone(),
            san_regex: a.certificate_identity_regexp.clone(),
            issuer: a.certificate_oidc_issuer.clone(),
            issuer_regex: a.certificate_oidc_issuer_regexp.clone(),
            extensions,
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyBlobArgs {
    /// The bundle (`.sigstore.json`).
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    #[command(flatten)]
    identity: IdentityFlags,
    /// Verify with this PEM public key instead of a certificate identity.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    /// With --key: accept a bundle without a transparency-log entry or verified time (signed with
    /// `--tlog-upload=false`). The signature and the key are still checked; nothing shows when it was signed
    /// or that anyone could have seen it.
    #[arg(long, requires = "key")]
    insecure_ignore_tlog: bool,
    #[command(flatten)]
    trust: TrustArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// The artifact: a path, or `sha256:<hex>` of it.
    #[arg(value_name = "FILE_OR_DIGEST")]
    artifact: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// What both commands boil down to.
pub struct Request {
    bundle: PathBuf,
    identity: IdentityArgs,
    key: Option<PathBuf>,
    ignore_tlog: bool,
    trust: TrustArgs,
    output: Output,
    artifact: String,
}

#[derive(Default)]
pub(crate) struct IdentityArgs {
    san: Option<String>,
    san_regex: Option<String>,
    issuer: Option<String>,
    issuer_regex: Option<String>,
    extensions: Vec<(ExtensionField, String)>,
}

impl From<VerifyBundleArgs> for Request {
    fn from(a: VerifyBundleArgs) -> Self {
        Self {
            bundle: a.bundle,
            identity: IdentityArgs {
                san: a.certificate_identity,
                issuer: a.certificate_oidc_issuer,
                ..Default::default()
            },
            key: a.key,
            ignore_tlog: false,
            trust: a.trust,
            output: Output::Text,
            artifact: a.artifact,
        }
    }
}

impl From<VerifyBlobArgs> for Request {
    fn from(a: VerifyBlobArgs) -> Self {
        Self {
            bundle: a.bundle,
            identity: IdentityArgs::from(&a.identity),
            key: a.key,
            ignore_tlog: a.insecure_ignore_tlog,
            trust: a.trust,
            output: a.output,
            artifact: a.artifact,
        }
    }
}

/// Runs a verification and prints the outcome; exit status 0 only when verified.
pub fn run(req: Request) -> ExitCode {
    let output = req.output;
    match verify(&req) {
        Ok((v, media_type)) => {
            match output {
                Output::Text => println!("{}", summary(&v)),
                Output::Json => println!("{}", facts_json(&v, &media_type)),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            match output {
                Output::Text => eprintln!("Verification FAILED: {e}"),
                Output::Json => println!(
                    "{}",
                    serde_json::json!({"verified": false, "code": e.code().as_str(), "step": e.code().step(), "error": e.detail()})
                ),
            }
            ExitCode::FAILURE
        }
    }
}

fn verify(req: &Request) -> Result<(VerifiedBundle, String), VerificationError> {
    // What is expected is checked before any trust material is fetched: a malformed command touches no network.
    let expected = ExpectedSigner::new(req.key.as_deref(), &req.identity)?;
    let signer = expected.check();
    let trust = load_trust(&req.trust)?;
    let verifier = Verifier::new(trust, verifier_options(req.ignore_tlog));
    let bundle_json = sigil_trust::read_bounded(&req.bundle, verifier.options().limits.max_bundle_bytes)
        .map_err(|e| VerificationError::new(Code::BundleFormat, e.to_string()))?;
    let bundle = verifier.parse_bundle(&bundle_json)?;

    let now = crate::unix_now();

    let digest_alg = match bundle.content()? {
        Content::MessageSignature(ms) => match &ms.message_digest {
            Some(d) => HashAlgorithm::from_name(&d.algorithm).unwrap_or(HashAlgorithm::Sha2_256),
            None => HashAlgorithm::Sha2_256,
        },
        Content::Dsse(_) => HashAlgorithm::Sha2_256,
    };
    let is_digest = req
        .artifact
        .split_once(':')
        .is_some_and(|(a, _)| matches!(a, "sha256" | "sha384" | "sha512"))
        && !Path::new(&req.artifact).exists();
    let result = if is_digest {
        let artifact = Artifact::parse_digest(&req.artifact)?;
        verifier.verify(&bundle, &artifact, signer, now)
    } else {
        let open = || {
            std::fs::File::open(&req.artifact).map_err(|e| {
                VerificationError::new(
                    Code::ArtifactDigestMismatch,
                    format!("reading artifact {}: {e}", req.artifact),
                )
            })
        };
        let artifact = Artifact::from_reader(digest_alg, open()?)
            .map_err(|e| VerificationError::new(Code::ArtifactDigestMismatch, format!("reading artifact: {e}")))?;
        match verifier.verify(&bundle, &artifact, signer, now) {
            // Non-ECDSA keys sign whole messages: read the artifact and try again.
            Err(e) if e.code() == Code::UnsupportedAlgorithm => {
                let bytes = std::fs::read(&req.artifact).map_err(|e| {
                    VerificationError::new(Code::ArtifactDigestMismatch, format!("reading artifact: {e}"))
                })?;
                verifier.verify(&bundle, &Artifact::Bytes(&bytes), signer, now)
            }
            other => other,
        }
    };
    result.map(|v| (v, bundle.media_type.clone()))
}

/// Who must have signed: a key read from a PEM file, or an identity policy.
pub(crate) enum ExpectedSigner {
    Key(VerifyingKey),
    Identity(Policy),
}

impl ExpectedSigner {
    /// The key in `key` (a PEM file) if given, else the policy of `identity` (which must name one).
    pub(crate) fn new(key: Option<&Path>, identity: &IdentityArgs) -> Result<Self, VerificationError> {
        match key {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    VerificationError::new(Code::SignerInvalid, format!("reading {}: {e}", path.display()))
                })?;
                VerifyingKey::from_pem(&text)
                    .map(Self::Key)
                    .map_err(|e| VerificationError::new(Code::SignerInvalid, format!("{}: {e}", path.display())))
            }
            None => build_policy(identity).map(Self::Identity),
        }
    }

    pub(crate) fn check(&self) -> SignerCheck<'_> {
        match self {
            Self::Key(k) => SignerCheck::Key(k),
            Self::Identity(p) => SignerCheck::Identity(p),
        }
    }
}

/// The default thresholds, or with `ignore_tlog` (`--insecure-ignore-tlog`, key-based only) none: no log
/// entry and no verified time required.
pub(crate) fn verifier_options(ignore_tlog: bool) -> VerifierOptions {
    if ignore_tlog {
        VerifierOptions {
            tlog_threshold: 0,
            timestamp_threshold: 0,
            ..VerifierOptions::default()
        }
    } else {
        VerifierOptions::default()
    }
}

fn build_policy(id: &IdentityArgs) -> Result<Policy, VerificationError> {
    let bad = |e: sigil_policy::Error| VerificationError::new(Code::IdentityMismatch, format!("invalid policy: {e}"));
    let san = match (&id.san, &id.san_regex) {
        (Some(s), _) => Matcher::exact(s.clone()),
        (None, Some(r)) => Matcher::regex(r).map_err(bad)?,
        (None, None) => {
            return Err(VerificationError::new(
                Code::MaterialMismatch,
                "an identity (--certificate-identity or --certificate-identity-regexp) or --key is required",
            ));
        }
    };
    let issuer = match (&id.issuer, &id.issuer_regex) {
        (Some(s), _) => Matcher::exact(s.clone()),
        (None, Some(r)) => Matcher::regex(r).map_err(bad)?,
        (None, None) => {
            return Err(VerificationError::new(
                Code::MaterialMismatch,
                "an issuer (--certificate-oidc-issuer or --certificate-oidc-issuer-regexp) is required",
            ));
        }
    };
    let mut all = vec![Policy::San(san), Policy::Issuer(issuer)];
    all.extend(
        id.extensions
            .iter()
            .map(|(f, v)| Policy::Extension(*f, Matcher::exact(v.clone()))),
    );
    Policy::all_of(all).map_err(bad)
}

pub(crate) fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

fn summary(v: &VerifiedBundle) -> String {
    let who = match &v.signer {
        VerifiedSigner::Certificate { .. } => {
            format!(
                "signed by {} (issuer {})",
                v.san().unwrap_or("?"),
                v.issuer().unwrap_or("?")
            )
        }
        VerifiedSigner::Key { spki_der } => {
            format!("signed by key sha256:{}", hex::encode(sigil_crypto::sha256(spki_der)))
        }
    };
    let when = v.earliest_time().map(rfc3339).unwrap_or_else(|| "?".into());
    let logs: Vec<String> = v
        .tlog_entries
        .iter()
        .map(|e| format!("{} index {}", e.base_url, e.log_index))
        .collect();
    format!("Verified OK: {who} at {when}; logged in {}", logs.join(", "))
}

fn facts_json(v: &VerifiedBundle, media_type: &str) -> serde_json::Value {
    let signer = match &v.signer {
        VerifiedSigner::Certificate { identity, .. } => {
            let e = &identity.extensions;
            serde_json::json!({
                "identity": v.san(),
                "issuer": v.issuer(),
                "githubWorkflowTrigger": e.github_workflow_trigger,
                "githubWorkflowSha": e.github_workflow_sha,
                "githubWorkflowName": e.github_workflow_name,
                "githubWorkflowRepository": e.github_workflow_repository,
                "githubWorkflowRef": e.github_workflow_ref,
                "buildSignerUri": e.build_signer_uri,
                "sourceRepositoryUri": e.source_repository_uri,
                "runnerEnvironment": e.runner_environment,
            })
        }
        VerifiedSigner::Key { spki_der } => {
            serde_json::json!({"publicKeySha256": hex::encode(sigil_crypto::sha256(spki_der))})
        }
    };
    let times: Vec<_> = v
        .times
        .iter()
        .map(|t| match &t.source {
            TimeSource::Tlog { base_url, log_index } => {
                serde_json::json!({"time": rfc3339(t.unix), "source": "tlog", "log": base_url, "logIndex": log_index})
            }
            TimeSource::Tsa { uri } => {
                serde_json::json!({"time": rfc3339(t.unix), "source": "rfc3161", "authority": uri})
            }
        })
        .collect();
    let entries: Vec<_> = v
        .tlog_entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "log": e.base_url, "logIndex": e.log_index, "kind": format!("{}/{}", e.kind, e.version),
                "integratedTime": e.integrated_time.map(rfc3339),
                "treeSize": e.inclusion.map(|(_, s)| s),
            })
        })
        .collect();
    serde_json::json!({
        "verified": true,
        "mediaType": media_type,
        "signer": signer,
        "artifactDigest": format!("{}:{}", v.artifact_digest.0.short_name(), hex::encode(&v.artifact_digest.1)),
        "predicateType": v.statement.as_ref().map(|s| s.predicate_type.clone()),
        "times": times,
        "tlogEntries": entries,
        "sctCount": v.sct_count,
    })
}
