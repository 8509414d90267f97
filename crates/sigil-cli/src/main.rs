//! `sigil`: Sigstore signing and verification from the command line.

mod attest;
mod copy;
mod git;
mod git_agent;
mod git_online;
mod image;
mod instance;
mod keys;
mod log;
mod quickstart;
mod rotate;
mod serve;
mod sign;
mod trust;
mod tuf;
mod tuf_publish;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sigil",
    version,
    about = "Sigstore, rebuilt in Rust: sign and verify artifacts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a bundle against an exact identity or a key (the sigstore-conformance interface).
    VerifyBundle(verify::VerifyBundleArgs),
    /// Verify a blob's bundle with cosign-style identity flags.
    VerifyBlob(verify::VerifyBlobArgs),
    /// Sign a file keylessly and write a Sigstore bundle (cosign-like).
    SignBlob(sign::SignBlobArgs),
    /// Sign a file, or an in-toto statement as DSSE (the sigstore-conformance interface).
    SignBundle(sign::SignBundleArgs),
    /// Sign an in-toto statement about a file (subject: its name and SHA-256) as DSSE.
    AttestBlob(sign::AttestArgs),
    /// Run and describe the transparency log (Rekor v1 and v2 APIs, C2SP tiles).
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Run a whole private Sigstore instance: CA, CT log, transparency log, timestamp authority (and with
    /// --dev a development OIDC issuer), writing the trust files clients need into the data directory.
    Serve(serve::ServeArgs),
    /// Try the whole keyless flow in one command: start an embedded instance in a temporary directory, get a
    /// development token, sign a file, verify the bundle and show what was established.
    Quickstart(quickstart::QuickstartArgs),
    /// Print a token from the development issuer of a `sigil serve --dev` instance.
    DevToken(serve::DevTokenArgs),
    /// Operate a private instance's data directory: `rotate log-key|ca-intermediate` (on a running server too).
    #[command(subcommand)]
    Instance(rotate::InstanceCommand),
    /// Generate a P-256 key pair for signing without an identity: PREFIX.key, encrypted with a password in
    /// cosign's format (from SIGIL_PASSWORD or COSIGN_PASSWORD, the terminal, or standard input), and PREFIX.pub.
    GenerateKeyPair(keys::GenerateKeyPairArgs),
    /// Sign a container image in its registry, keyless or with a key: a bundle attached as an OCI referrer, or
    /// cosign's legacy `sha256-<digest>.sig` layout.
    Sign(image::SignImageArgs),
    /// Verify the signatures attached to a container image, against an identity or a public key.
    Verify(image::VerifyImageArgs),
    /// Attest about a container image: an in-toto statement with the given predicate, signed and attached
    /// (a bundle referrer, or cosign's legacy `sha256-<digest>.att` layout).
    Attest(attest::AttestImageArgs),
    /// Verify the attestations of a container image of one predicate type, and check them against a policy.
    VerifyAttestation(attest::VerifyAttestationArgs),
    /// List what is attached to a container image (signatures and attestations in both layouts); verifies
    /// nothing.
    Tree(image::TreeArgs),
    /// Download what is attached to a container image.
    #[command(subcommand)]
    Download(Download),
    /// Copy a container image and its signatures to another repository or registry.
    Copy(copy::CopyArgs),
    /// Create and maintain a TUF repository that distributes trust files (trusted_root.json,
    /// signing_config.v0.2.json) to Sigstore clients; `sigil serve` keeps one in DATA/tuf.
    #[command(subcommand)]
    Tuf(tuf::TufCommand),
    /// Choose and inspect the trusted root: pin a TUF repository (`init`), show what is trusted (`show`).
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Verify a signed commit or tag against an identity: the CMS signature over the raw object, the
    /// certificate chain at the logged time, the log entry inside the signature, the identity policy.
    VerifyCommit(git::VerifyCommitArgs),
    /// Commit signing with git (`sigil git setup`); git then runs `sigil` as its x509 signing program.
    #[command(subcommand)]
    Git(git::GitCommand),
}

#[derive(Debug, Subcommand)]
enum Download {
    /// The signatures of an image, one JSON object per line (legacy ones with cosign's field names, bundles as
    /// they are); verifies nothing.
    Signature(image::DownloadSignatureArgs),
    /// The attestations of an image, one JSON object per line (legacy ones as DSSE envelopes, referrers as
    /// bundles); verifies nothing.
    Attestation(attest::DownloadAttestationArgs),
}

/// The wall clock in Unix seconds: the CLI's only clock read (libraries take time as a parameter).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn main() -> ExitCode {
    // git calls its x509 signing program with gpg's flags; `sigil` answers them directly (`sigil git setup`).
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if git::is_git_invocation(&args) {
        return git::git_program(&args);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::VerifyBundle(args) => verify::run(args.into()),
        Command::VerifyBlob(args) => verify::run(args.into()),
        Command::Log(cmd) => log::run(cmd),
        Command::SignBlob(args) => sign::sign_blob(args),
        Command::SignBundle(args) => sign::sign_bundle(args),
        Command::AttestBlob(args) => sign::attest(args),
        Command::Attest(args) => attest::attest_image(args),
        Command::VerifyAttestation(args) => attest::verify_attestation_image(args),
        Command::Serve(args) => serve::serve(args),
        Command::GenerateKeyPair(args) => keys::generate_key_pair(args),
        Command::Sign(args) => image::sign_image(args),
        Command::Verify(args) => image::verify_image(args),
        Command::Tree(args) => image::tree_image(args),
        Command::Download(Download::Signature(args)) => image::download_signature(args),
        Command::Download(Download::Attestation(args)) => attest::download_attestation(args),
        Command::Quickstart(args) => quickstart::run(args),
        Command::DevToken(args) => serve::dev_token(&args),
        Command::Instance(cmd) => rotate::run(cmd),
        Command::Copy(args) => copy::copy(args),
        Command::Tuf(cmd) => tuf::run(cmd),
        Command::Trust(cmd) => trust::run(cmd),
        Command::VerifyCommit(args) => git::verify_commit(args),
        Command::Git(git::GitCommand::Setup(args)) => git::setup(&args),
        Command::Git(git::GitCommand::Agent) => match git_agent::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
