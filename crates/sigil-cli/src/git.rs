//! Commit and tag signing: git's `gpg.format=x509` program protocol, `sigil verify-commit`, `sigil git setup`.
//!
//! git runs its x509 program as `PROGRAM --status-fd=2 -bsau KEY` (sign: payload on stdin, armored signature
//! on stdout) and `PROGRAM --status-fd=1 --verify SIGFILE -` (verify: payload on stdin). `sigil` itself
//! answers both when called that way, so `gpg.x509.program` can name the `sigil` binary (`sigil git setup`
//! writes that). The signature is CMS SignedData over the payload (`sigil-git`); its signed attributes are
//! signed keylessly like any blob, and the transparency-log entry travels inside the signature, so
//! verification is offline and bound to this very signature (PROTOCOL.md §9, gitsign's offline layout).

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Args, Subcommand};
use serde_json::Value;
use sigil_git::object::{self, Kind};
use sigil_policy::{Matcher, Policy};
use sigil_verify::{Artifact, Code, SignerCheck, VerificationError, VerifiedBundle, Verifier, VerifierOptions};

use crate::sign::TokenSource;
use crate::trust::{TrustArgs, load_trust};
use crate::unix_now;
use crate::verify::{ExpectedSigner, IdentityArgs, IdentityFlags};

/// Largest payload git may hand over (a commit or tag object).
const MAX_PAYLOAD: usize = object::MAX_OBJECT_BYTES;
/// Largest signature file read.
const MAX_SIGNATURE: usize = 1 << 20;

/// `sigil git …`
#[derive(Debug, Subcommand)]
pub enum GitCommand {
    /// Configure git to sign commits and tags with sigil (gpg.format=x509, gpg.x509.program, commit.gpgsign,
    /// tag.gpgsign), for this repository or with --global for the user.
    Setup(SetupArgs),
    /// The signing agent (started by the signing program itself): holds one ephemeral key and certificate in
    /// memory for a burst of commits, and exits when idle.
    #[command(hide = true)]
    Agent,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Write the user's global git configuration instead of this repository's.
    #[arg(long)]
    global: bool,
}

#[derive(Debug, Args)]
pub struct VerifyCommitArgs {
    /// The commit or tag (anything `git rev-parse` takes); default HEAD.
    #[arg(default_value = "HEAD")]
    rev: String,
    #[command(flatten)]
    identity: IdentityFlags,
    #[command(flatten)]
    trust: TrustArgs,
    /// The repository (default: the current directory).
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
}

/// Whether `args` (without the program name) are git calling its signing program.
pub fn is_git_invocation(args: &[OsString]) -> bool {
    args.first()
        .and_then(|a| a.to_str())
        .is_some_and(|a| a.starts_with("--status-fd") || a == "-bsau" || a == "--verify")
}

/// What git asked for.
#[derive(Debug, PartialEq, Eq)]
enum GitRequest {
    Sign { status_fd: Option<u32> },
    Verify { status_fd: Option<u32>, signature: PathBuf },
}

/// Parses git's flags: `--status-fd=N` (or `--status-fd N`), `-b`/`--detach-sign`, `-s`/`--sign`, `-a`/`--armor`,
/// `-u KEY`/`--local-user KEY` (ignored: the identity comes from the token), combined short flags (`-bsau KEY`),
/// `-v`/`--verify SIGFILE -`, and the gpg compatibility flags git may add (`--keyid-format`, `--include-certs`).
fn parse_git_args(args: &[OsString]) -> Result<GitRequest, String> {
    let mut status_fd = None;
    let mut verify = None;
    let mut sign = false;
    let mut it = args.iter().map(|a| a.to_string_lossy().into_owned()).peekable();
    let fd = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("--status-fd {v:?} is not a file descriptor"))
    };
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--status-fd=") {
            status_fd = Some(fd(v)?);
        } else if a == "--status-fd" {
            status_fd = Some(fd(&it.next().ok_or("--status-fd needs a value")?)?);
        } else if a == "--verify" || a == "-v" {
            verify = Some(PathBuf::from(it.next().ok_or("--verify needs a signature file")?));
        } else if a == "--detach-sign" || a == "--sign" || a == "--armor" {
            sign = true;
        } else if a == "--local-user" || a == "--keyid-format" || a == "--include-certs" {
            let _ = it.next();
        } else if a.starts_with("--keyid-format=") || a.starts_with("--include-certs=") || a == "-" {
        } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.starts_with('-') && !s.is_empty()) {
            for c in short.chars() {
                match c {
                    'b' | 's' | 'a' => sign = true,
                    'u' => {
                        let _ = it.next();
                    }
                    other => return Err(format!("unknown flag -{other}")),
                }
            }
        } else {
            return Err(format!("unexpected argument {a:?}"));
        }
    }
    match (verify, sign) {
        (Some(signature), false) => Ok(GitRequest::Verify { status_fd, signature }),
        (None, true) => Ok(GitRequest::Sign { status_fd }),
        _ => Err("expected a signing (-bsau KEY) or a verification (--verify SIGFILE -) request".into()),
    }
}

/// Where `[GNUPG:]` status lines go: the descriptor git names (1 and 2 directly, others through `/dev/fd`).
struct Status(Option<Box<dyn std::io::Write>>);

impl Status {
    fn open(fd: Option<u32>) -> Self {
        Self(match fd {
            None => None,
            Some(1) => Some(Box::new(std::io::stdout())),
            Some(2) => Some(Box::new(std::io::stderr())),
            Some(n) => std::fs::OpenOptions::new()
                .write(true)
                .open(format!("/dev/fd/{n}"))
                .ok()
                .map(|f| Box::new(f) as Box<dyn std::io::Write>),
        })
    }

    fn line(&mut self, text: &str) {
        if let Some(w) = &mut self.0 {
            let _ = writeln!(w, "[GNUPG:] {text}");
            let _ = w.flush();
        }
    }
}

fn read_stdin(max: usize) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(max as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("reading the payload: {e}"))?;
    if buf.len() > max {
        return Err(format!("the payload is larger than {max} bytes"));
    }
    Ok(buf)
}

/// Runs git's signing-program protocol.
pub fn git_program(args: &[OsString]) -> ExitCode {
    let req = match parse_git_args(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sigil: {e}");
            return ExitCode::FAILURE;
        }
    };
    match req {
        GitRequest::Sign { status_fd } => {
            let mut status = Status::open(status_fd);
            match sign_payload() {
                Ok((armored, fingerprint)) => {
                    // A line before SIG_CREATED: older git wanted it to start after a newline.
                    status.line("BEGIN_SIGNING");
                    // 19 = ECDSA, 8 = SHA-256 (OpenPGP algorithm IDs), D = detached.
                    status.line(&format!("SIG_CREATED D 19 8 00 {} {fingerprint}", unix_now()));
                    let mut out = std::io::stdout();
                    if out.write_all(armored.as_bytes()).and_then(|()| out.flush()).is_err() {
                        return ExitCode::FAILURE;
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("sigil: signing failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        GitRequest::Verify { status_fd, signature } => {
            let mut status = Status::open(status_fd);
            status.line("NEWSIG");
            let result = read_stdin(MAX_PAYLOAD)
                .map_err(|e| VerificationError::new(Code::BundleFormat, e))
                .and_then(|payload| {
                    let sig = crate::sign::read_limited(&signature, MAX_SIGNATURE, "the signature")
                        .map_err(|e| VerificationError::new(Code::BundleFormat, e))?;
                    let sig = String::from_utf8(sig)
                        .map_err(|_| VerificationError::new(Code::BundleFormat, "the signature is not text"))?;
                    let any = Policy::identity(any_matcher()?, any_matcher()?);
                    verify_signature(&sig, &payload, SignerCheck::Identity(&any), &TrustArgs::default(), None)
                });
            match result {
                Ok(v) => {
                    let (fpr, who) = describe(&v);
                    status.line(&format!("GOODSIG {fpr} {who}"));
                    status.line("TRUST_FULLY 0 shell");
                    eprintln!("sigil: Good signature from {who}");
                    eprintln!(
                        "sigil: the identity is not checked here; use `sigil verify-commit` with --certificate-identity"
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    status.line(&format!("BADSIG 0000000000000000 {}", e.code().as_str()));
                    eprintln!("sigil: Bad signature: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn any_matcher() -> Result<Matcher, VerificationError> {
    Matcher::regex(".*").map_err(|e| VerificationError::new(Code::IdentityMismatch, e.to_string()))
}

/// Signs the payload on stdin; returns the armored signature and the certificate's fingerprint (hex SHA-256).
/// One certified key serves the whole run (and, through the agent, a burst of commits) unless
/// `SIGIL_GIT_AGENT=0`. `SIGIL_GIT_REKOR_MODE=online` writes gitsign's online layout: no entry in the
/// signature; the object ID is signed with the same certificate and logged instead.
fn sign_payload() -> Result<(String, String), String> {
    let payload = read_stdin(MAX_PAYLOAD)?;
    let signed_attrs = sigil_git::cms::signed_attributes(&payload, unix_now());
    // The agent runs elsewhere: an absolute path.
    let trust_config = std::env::var_os("SIGIL_TRUST_CONFIG")
        .filter(|v| !v.is_empty())
        .map(|p| std::fs::canonicalize(&p).unwrap_or_else(|_| PathBuf::from(p)));
    let instance = crate::sign::InstanceArgs::from_trust_config(trust_config.clone());
    let name = trust_config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut local: Option<sigil_sign::CertifiedKey> = None;
    let mut token: Option<String> = None;
    let mut sign = |bytes: &[u8]| -> Result<sigil_bundle::Bundle, String> {
        if !crate::git_agent::enabled() {
            return sign_here(bytes, &instance, &mut local);
        }
        loop {
            // No agent could be started: sign here, with this run's own certificate.
            let Some(answer) = crate::git_agent::request(&name, bytes, token.as_deref()) else {
                return sign_here(bytes, &instance, &mut local);
            };
            let v = answer?;
            if v.get("need_token").and_then(Value::as_bool) == Some(true) && token.is_none() {
                token = Some(crate::sign::token_for(&instance)?);
                continue;
            }
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                return Err(e.to_string());
            }
            let json = v
                .get("bundle")
                .and_then(Value::as_str)
                .ok_or("the agent answered without a bundle")?;
            eprintln!("sigil: {}", v.get("signer").and_then(Value::as_str).unwrap_or("signed"));
            return sigil_bundle::Bundle::from_json(json.as_bytes(), &sigil_bundle::Limits::default())
                .map_err(|e| format!("the agent's bundle: {e}"));
        }
    };
    let bundle = sign(&signed_attrs)?;
    let online = std::env::var("SIGIL_GIT_REKOR_MODE").is_ok_and(|m| m == "online");
    let mut for_cms = bundle;
    if online {
        for_cms.verification_material.tlog_entries.clear();
    }
    let armored = sigil_git::cms::assemble(&signed_attrs, &for_cms).map_err(|e| e.to_string())?;
    if online {
        let kind = object::kind_of_payload(&payload).ok_or("the payload is neither a commit nor a tag")?;
        let signed_object = object::signed_object(kind, &payload, &armored).map_err(|e| e.to_string())?;
        let id = crate::git_online::object_id(kind, &signed_object);
        sign(id.as_bytes())?;
    }
    let parsed = sigil_git::cms::to_bundle(&armored, &payload).map_err(|e| e.to_string())?;
    Ok((armored, hex::encode(sigil_crypto::sha256(&parsed.signer_der))))
}

/// Signs `bytes` in this process with the run's certified key (`local`), asking for a token when it has none.
fn sign_here(
    bytes: &[u8],
    instance: &crate::sign::InstanceArgs,
    local: &mut Option<sigil_sign::CertifiedKey>,
) -> Result<sigil_bundle::Bundle, String> {
    match crate::sign::sign_bytes_cached(bytes, instance, local, TokenSource::Obtain)? {
        crate::sign::Cached::Signed(s) => {
            eprintln!("sigil: {}", s.signer);
            Ok(s.bundle)
        }
        crate::sign::Cached::NeedToken => Err("no certificate could be obtained".into()),
    }
}

/// Verifies an armored signature over `payload` through the one verification path, with the signed
/// attributes as the artifact. A signature without a log entry (gitsign's online mode) is checked against the
/// key of its certificate, and the entry for the object ID (`object_id`, else recomputed from payload and
/// signature) is looked up in the trusted logs and verified.
fn verify_signature(
    armored: &str,
    payload: &[u8],
    signer: SignerCheck<'_>,
    trust: &TrustArgs,
    object_id: Option<&str>,
) -> Result<VerifiedBundle, VerificationError> {
    let parsed = sigil_git::cms::to_bundle(armored, payload)
        .map_err(|e| VerificationError::new(Code::BundleFormat, format!("commit signature: {e}")))?;
    let verifier = Verifier::new(load_trust(trust)?, VerifierOptions::default());
    if !parsed.bundle.verification_material.tlog_entries.is_empty() {
        return verifier.verify(
            &parsed.bundle,
            &Artifact::Bytes(&parsed.signed_attrs),
            signer,
            unix_now(),
        );
    }
    let bad_sig = |m: String| VerificationError::new(Code::SignatureInvalid, m);
    let signature = match parsed.bundle.content() {
        Ok(sigil_bundle::bundle::Content::MessageSignature(ms)) => ms.signature.0.clone(),
        _ => return Err(bad_sig("commit signature: no message signature".into())),
    };
    let cert = sigil_x509::Certificate::from_der(&parsed.signer_der)
        .map_err(|e| VerificationError::new(Code::SignerInvalid, e.to_string()))?;
    cert.public_key()
        .verify(
            sigil_crypto::SignatureScheme::EcdsaSha256,
            &parsed.signed_attrs,
            &signature,
        )
        .map_err(|e| bad_sig(format!("commit signature: {e}")))?;
    let id = match object_id {
        Some(id) => id.to_string(),
        None => {
            let kind = object::kind_of_payload(payload).ok_or_else(|| {
                VerificationError::new(Code::BundleFormat, "the payload is neither a commit nor a tag")
            })?;
            let obj = object::signed_object(kind, payload, armored)
                .map_err(|e| VerificationError::new(Code::BundleFormat, e.to_string()))?;
            crate::git_online::object_id(kind, &obj)
        }
    };
    let http =
        crate::sign::http_client_trusting(None).map_err(|e| VerificationError::new(Code::TlogEntryMissing, e))?;
    crate::git_online::verify(&id, &parsed.signer_der, &verifier, signer, &http, unix_now())
}

/// (fingerprint, "SAN (issuer)") of a verified signer.
fn describe(v: &VerifiedBundle) -> (String, String) {
    match &v.signer {
        sigil_verify::VerifiedSigner::Certificate {
            identity,
            certificate_der,
        } => (
            hex::encode(sigil_crypto::sha256(certificate_der)),
            format!(
                "{} ({})",
                v.san().unwrap_or("(no SAN)"),
                identity.issuer.as_deref().unwrap_or("no issuer")
            ),
        ),
        sigil_verify::VerifiedSigner::Key { spki_der } => {
            (hex::encode(sigil_crypto::sha256(spki_der)), "a key".to_string())
        }
    }
}

fn git(repo: Option<&Path>) -> Command {
    let mut c = Command::new("git");
    if let Some(r) = repo {
        c.arg("-C").arg(r);
    }
    c
}

fn git_output(repo: Option<&Path>, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = git(repo).args(args).output().map_err(|e| format!("running git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// `sigil verify-commit REV`: the raw object from git, its signature verified against the identity.
pub fn verify_commit(a: VerifyCommitArgs) -> ExitCode {
    let run = || -> Result<(Kind, VerifiedBundle), VerificationError> {
        let expected = ExpectedSigner::new(None, &IdentityArgs::from(&a.identity))?;
        let fail = |e: String| VerificationError::new(Code::BundleFormat, e);
        let repo = a.repo.as_deref();
        let kind = match String::from_utf8_lossy(&git_output(repo, &["cat-file", "-t", &a.rev]).map_err(fail)?).trim() {
            "commit" => Kind::Commit,
            "tag" => Kind::Tag,
            other => return Err(fail(format!("{} is a {other}, not a commit or tag", a.rev))),
        };
        let raw = git_output(repo, &["cat-file", kind.name(), &a.rev]).map_err(fail)?;
        let obj = object::parse(kind, &raw).map_err(|e| fail(format!("{} {}: {e}", kind.name(), a.rev)))?;
        let id = crate::git_online::object_id(kind, &raw);
        let v = verify_signature(&obj.signature, &obj.payload, expected.check(), &a.trust, Some(&id))?;
        Ok((kind, v))
    };
    match run() {
        Ok((kind, v)) => {
            let (_, who) = describe(&v);
            println!("Verified OK: {} {} signed by {who}", kind.name(), a.rev);
            for e in &v.tlog_entries {
                println!("  transparency log entry {} at {}", e.log_index, e.base_url);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Verification FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `sigil git setup [--global]`.
pub fn setup(a: &SetupArgs) -> ExitCode {
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find the sigil executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let program = program.to_string_lossy().into_owned();
    let scope = if a.global { "--global" } else { "--local" };
    let settings = [
        ("gpg.format", "x509", "signatures are x509 (CMS), not OpenPGP"),
        (
            "gpg.x509.program",
            program.as_str(),
            "git runs sigil to sign and verify",
        ),
        ("commit.gpgsign", "true", "every commit is signed"),
        ("tag.gpgsign", "true", "every annotated tag is signed"),
    ];
    for (key, value, _) in &settings {
        if let Err(e) = git_output(None, &["config", scope, key, value]) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!(
        "git is set up to sign with sigil ({}):",
        if a.global {
            "your global configuration"
        } else {
            "this repository"
        }
    );
    for (key, value, why) in &settings {
        println!("  {key} = {value}    ({why})");
    }
    println!(
        "Signing asks for an identity token (SIGSTORE_ID_TOKEN, GitHub Actions, or a browser login) and uses the \
         instance `sigil trust init` set up (or SIGIL_TRUST_CONFIG=trust_config.json); the log entry is kept in \
         the signature. Check who signed with `sigil verify-commit REV --certificate-identity … \
         --certificate-oidc-issuer …`; `git verify-commit` checks the signature but not the identity."
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn git_flags() {
        assert_eq!(
            parse_git_args(&args(&["--status-fd=2", "-bsau", "Alice <a@x>"])).unwrap(),
            GitRequest::Sign { status_fd: Some(2) }
        );
        assert_eq!(
            parse_git_args(&args(&["--status-fd=1", "--verify", "/tmp/sig", "-"])).unwrap(),
            GitRequest::Verify {
                status_fd: Some(1),
                signature: PathBuf::from("/tmp/sig")
            }
        );
        assert_eq!(
            parse_git_args(&args(&["--keyid-format=long", "--status-fd", "1", "-v", "s", "-"])).unwrap(),
            GitRequest::Verify {
                status_fd: Some(1),
                signature: PathBuf::from("s")
            }
        );
        assert!(parse_git_args(&args(&["--status-fd=x", "-bsau", "k"])).is_err());
        assert!(parse_git_args(&args(&["-bsau"])).is_ok());
        assert!(parse_git_args(&args(&["--status-fd=2"])).is_err());
        assert!(parse_git_args(&args(&["-bsz", "k"])).is_err());
        assert!(is_git_invocation(&args(&["--status-fd=2", "-bsau", "k"])));
        assert!(!is_git_invocation(&args(&["verify-commit"])));
    }
}
