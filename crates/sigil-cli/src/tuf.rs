//! `sigil tuf …`: create and maintain a TUF repository that distributes trust files (a private instance's
//! `trusted_root.json` and `signing_config.v0.2.json`) to Sigstore clients. The layout and rules are in
//! `sigil_trust::tuf::repo_dir`; `docs/tuf.md` ("Repository") is the operator's guide.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use sigil_crypto::KeyAlgorithm;
use sigil_trust::tuf::metadata::format_time;
use sigil_trust::tuf::repo::{Lifetimes, Published, RepoError, Role};
use sigil_trust::tuf::repo_dir::RepoDir;

use crate::unix_now;

/// The environment variable holding the password of the repository's key files.
pub const PASSWORD_VAR: &str = "SIGIL_TUF_PASSWORD";
const DAY: i64 = 86_400;

#[derive(Debug, Subcommand)]
pub enum TufCommand {
    /// Create a repository: a new key per role (encrypted in DIR/keys), root version 1, and targets,
    /// snapshot and timestamp metadata (with the given target files, if any) in DIR/repo.
    Init(InitArgs),
    /// Add a target file, or replace one with new content: new targets, snapshot and timestamp versions.
    AddTarget(AddTargetArgs),
    /// Remove a target from the targets metadata (its file stays for clients mid-update).
    RemoveTarget(RemoveTargetArgs),
    /// Replace a role's key: a new root version names the new key (signed by the old root key, and for the
    /// root role by the new one too) and the role's metadata is signed with it.
    RotateKey(RotateKeyArgs),
    /// Sign a role's metadata again with a new version and expiry (and what depends on it: targets →
    /// snapshot → timestamp).
    Resign(ResignArgs),
    /// Show the repository: versions, expiry, keys present, targets.
    Status(StatusArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyType {
    Ed25519,
    EcdsaP256,
}

impl From<KeyType> for KeyAlgorithm {
    fn from(k: KeyType) -> Self {
        match k {
            KeyType::Ed25519 => KeyAlgorithm::Ed25519,
            KeyType::EcdsaP256 => KeyAlgorithm::EcdsaP256,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Root,
    Targets,
    Snapshot,
    Timestamp,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Root => Role::Root,
            RoleArg::Targets => Role::Targets,
            RoleArg::Snapshot => Role::Snapshot,
            RoleArg::Timestamp => Role::Timestamp,
        }
    }
}

#[derive(Debug, Args)]
pub struct RepoArg {
    /// The repository directory: DIR/repo is published, DIR/keys holds the encrypted keys.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    repo: RepoArg,
    #[arg(long, value_enum, default_value = "ed25519")]
    key_type: KeyType,
    /// Days root metadata stays valid.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    root_expires: u32,
    /// Days targets metadata stays valid.
    #[arg(long, value_name = "DAYS", default_value_t = 180)]
    targets_expires: u32,
    /// Days snapshot metadata stays valid.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    snapshot_expires: u32,
    /// Days timestamp metadata stays valid (re-sign it before then: `sigil tuf resign`, or `sigil serve`).
    #[arg(long, value_name = "DAYS", default_value_t = 1)]
    timestamp_expires: u32,
    /// Target files to publish from the start (named by their file name).
    #[arg(long = "target", value_name = "FILE")]
    targets: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AddTargetArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// The file to publish.
    file: PathBuf,
    /// Its target name (default: the file name), e.g. `trusted_root.json`.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveTargetArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// The target name.
    name: String,
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    #[command(flatten)]
    repo: RepoArg,
    #[arg(long, value_enum)]
    role: RoleArg,
    /// The new key's type (default: the old key's).
    #[arg(long, value_enum)]
    key_type: Option<KeyType>,
}

#[derive(Debug, Args)]
pub struct ResignArgs {
    #[command(flatten)]
    repo: RepoArg,
    #[arg(long, value_enum, default_value = "timestamp")]
    role: RoleArg,
    /// Days the re-signed role stays valid this time (default: the repository's lifetime for the role).
    #[arg(long, value_name = "DAYS")]
    expires: Option<u32>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    repo: RepoArg,
}

/// The password of the key files: `SIGIL_TUF_PASSWORD` (an empty value is an empty password), else asked on
/// the terminal (twice with `confirm`), else an error.
pub fn password(confirm: bool) -> Result<Vec<u8>, String> {
    if let Some(password) = crate::keys::env_password(PASSWORD_VAR) {
        return password;
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "no password for the TUF keys: set {PASSWORD_VAR} or run on a terminal"
        ));
    }
    crate::keys::prompt_password("Password for the TUF keys: ", confirm.then_some("Enter it again: "))
}

pub fn run(cmd: TufCommand) -> ExitCode {
    let result = match cmd {
        TufCommand::Init(a) => init(&a),
        TufCommand::AddTarget(a) => add_target(&a),
        TufCommand::RemoveTarget(a) => remove_target(&a),
        TufCommand::RotateKey(a) => rotate_key(&a),
        TufCommand::Resign(a) => resign(&a),
        TufCommand::Status(a) => status(&a.repo.repo),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn err(e: RepoError) -> String {
    e.to_string()
}

/// Prints what a publish signed.
pub fn report(published: &Published) {
    if published.signed.is_empty() {
        println!("nothing changed");
    }
    for s in &published.signed {
        println!("signed {s}");
    }
}

fn days(d: u32) -> i64 {
    i64::from(d) * DAY
}

fn read_target(file: &Path, name: Option<&str>) -> Result<(String, Vec<u8>), String> {
    let name = match name {
        Some(n) => n.to_string(),
        None => file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: no usable file name; give --name", file.display()))?
            .to_string(),
    };
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((name, bytes))
}

fn init(a: &InitArgs) -> Result<(), String> {
    let dir = RepoDir::new(&a.repo.repo);
    let lifetimes = Lifetimes {
        root: days(a.root_expires),
        targets: days(a.targets_expires),
        snapshot: days(a.snapshot_expires),
        timestamp: days(a.timestamp_expires),
    };
    if Role::ALL.into_iter().any(|r| lifetimes.get(r) <= 0) {
        return Err("lifetimes must be at least one day".into());
    }
    let targets = a
        .targets
        .iter()
        .map(|f| read_target(f, None))
        .collect::<Result<Vec<_>, _>>()?;
    if dir.exists() {
        return Err(format!("{} already holds a TUF repository", dir.path().display()));
    }
    let password = password(true)?;
    let published = dir
        .init(a.key_type.into(), &lifetimes, &password, &targets, unix_now())
        .map_err(err)?;
    report(&published);
    for (name, _) in &targets {
        println!("target {name}");
    }
    println!(
        "published: {}  (serve this directory as static files)",
        dir.repo().display()
    );
    println!(
        "keys:      {}  (encrypted; keep the root key offline)",
        dir.path().join("keys").display()
    );
    println!("root:      {}  (what clients start from)", dir.first_root().display());
    Ok(())
}

fn update(
    dir: &RepoDir,
    lifetimes: &Lifetimes,
    change: impl FnOnce(&mut sigil_trust::tuf::repo::Repository) -> Result<bool, RepoError>,
) -> Result<(), String> {
    // Fail on a bad repository before asking for a password.
    dir.load().map_err(err)?;
    let password = password(false)?;
    let ring = dir.key_ring(&Role::ALL, &password).map_err(err)?;
    let (_, published) = dir.update(&ring, lifetimes, unix_now(), change).map_err(err)?;
    report(&published);
    Ok(())
}

fn add_target(a: &AddTargetArgs) -> Result<(), String> {
    let dir = RepoDir::new(&a.repo.repo);
    let (name, bytes) = read_target(&a.file, a.name.as_deref())?;
    sigil_trust::tuf::names::check_name(&name, "target").map_err(|e| e.to_string())?;
    let lifetimes = dir.lifetimes().map_err(err)?;
    update(&dir, &lifetimes, |r| {
        let changed = r.set_target(&name, &bytes)?;
        if changed {
            println!(
                "target {name}: {} bytes, sha256 {}",
                bytes.len(),
                hex::encode(sigil_crypto::sha256(&bytes))
            );
        } else {
            println!("target {name} already has this content");
        }
        Ok(changed)
    })
}

fn remove_target(a: &RemoveTargetArgs) -> Result<(), String> {
    let dir = RepoDir::new(&a.repo.repo);
    let lifetimes = dir.lifetimes().map_err(err)?;
    let name = a.name.clone();
    update(&dir, &lifetimes, |r| {
        if !r.remove_target(&name)? {
            return Err(RepoError::Invalid(format!("there is no target {name:?}")));
        }
        println!("target {name} removed");
        Ok(true)
    })
}

fn rotate_key(a: &RotateKeyArgs) -> Result<(), String> {
    let dir = RepoDir::new(&a.repo.repo);
    let role: Role = a.role.into();
    dir.load().map_err(err)?;
    let lifetimes = dir.lifetimes().map_err(err)?;
    let password = password(false)?;
    let published = dir
        .rotate_key(role, a.key_type.map(Into::into), &password, &lifetimes, unix_now())
        .map_err(err)?;
    report(&published);
    let repo = dir.load().map_err(err)?;
    println!(
        "{role} key is now {} (keys/{role}.key; the old one is kept as keys/{role}.key.old.{})",
        repo.key_ids(role).join(", "),
        repo.version(Role::Root)
    );
    Ok(())
}

fn resign(a: &ResignArgs) -> Result<(), String> {
    let dir = RepoDir::new(&a.repo.repo);
    let role: Role = a.role.into();
    let mut lifetimes = dir.lifetimes().map_err(err)?;
    if let Some(d) = a.expires {
        if d == 0 {
            return Err("--expires must be at least one day".into());
        }
        lifetimes.set(role, days(d));
    }
    update(&dir, &lifetimes, |r| {
        r.resign(role);
        Ok(true)
    })
}

fn status(path: &Path) -> Result<(), String> {
    let dir = RepoDir::new(path);
    let repo = dir.load().map_err(err)?;
    let now = unix_now();
    println!("repository: {}", dir.repo().display());
    for role in Role::ALL {
        let expires = repo.expires(role);
        let state = if expires <= now { "EXPIRED" } else { "valid" };
        let key = if dir.key_file(role).is_file() {
            "key present"
        } else {
            "key offline"
        };
        println!(
            "{role:<9} version {:<4} expires {} ({state}), {key}, key ID {}",
            repo.version(role),
            format_time(expires),
            repo.key_ids(role).join(",")
        );
    }
    for (name, t) in repo.targets() {
        println!("target {name}: {} bytes, sha256 {}", t.length, hex::encode(t.sha256));
    }
    Ok(())
}
