//! `sigil generate-key-pair` and the password of key files: signing keys for where no OIDC identity exists,
//! stored in cosign's encrypted format so `cosign.key` / `cosign.pub` files work in both directions.

use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use sigil_crypto::{KeyAlgorithm, Signer as _, SigningKey, encrypt_private_key, pem_encode};

/// Environment variables holding a key file's password, in the order they are read.
pub const PASSWORD_VARS: [&str; 2] = ["SIGIL_PASSWORD", "COSIGN_PASSWORD"];
/// Longest password read from standard input.
const MAX_PASSWORD: usize = 4096;

#[derive(Debug, Args)]
pub struct GenerateKeyPairArgs {
    /// Write PREFIX.key (the encrypted private key, mode 0600) and PREFIX.pub (the public key).
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    output_key_prefix: PathBuf,
    /// Replace existing files instead of refusing.
    #[arg(long)]
    force: bool,
}

/// A key file's password: from `SIGIL_PASSWORD` or `COSIGN_PASSWORD` (an empty value is an empty password), else
/// asked on the terminal without echo (twice with `confirm`), else the first line of standard input.
pub fn read_password(prompt: &str, confirm: bool) -> Result<Vec<u8>, String> {
    for var in PASSWORD_VARS {
        if let Some(password) = env_password(var) {
            return password;
        }
    }
    if std::io::stdin().is_terminal() {
        return prompt_password(prompt, confirm.then_some("Enter the password again: "));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_PASSWORD as u64 + 1)
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    if line.len() > MAX_PASSWORD {
        return Err(format!(
            "the password on standard input is longer than {MAX_PASSWORD} bytes"
        ));
    }
    Ok(line.trim_end_matches(['\n', '\r']).as_bytes().to_vec())
}

/// The password in environment variable `var` (an empty value is an empty password), if it is set.
pub fn env_password(var: &str) -> Option<Result<Vec<u8>, String>> {
    std::env::var_os(var).map(|v| {
        v.into_string()
            .map(String::into_bytes)
            .map_err(|_| format!("{var} is not UTF-8"))
    })
}

/// A password asked on the terminal without echo; with `again`, asked a second time with that prompt and
/// refused unless both match.
pub fn prompt_password(prompt: &str, again: Option<&str>) -> Result<Vec<u8>, String> {
    let first = rpassword::prompt_password(prompt).map_err(|e| format!("reading the password: {e}"))?;
    if let Some(again) = again {
        let second = rpassword::prompt_password(again).map_err(|e| format!("reading the password: {e}"))?;
        if second != first {
            return Err("the passwords do not match".into());
        }
    }
    Ok(first.into_bytes())
}

fn with_extension(prefix: &Path, ext: &str) -> PathBuf {
    let mut p = prefix.as_os_str().to_owned();
    p.push(ext);
    PathBuf::from(p)
}

/// Creates `path` with `data` (mode `mode` on Unix); refuses an existing file unless `force`.
fn write_new(path: &Path, data: &[u8], mode: u32, force: bool) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => format!("{} exists (use --force to replace it)", path.display()),
        _ => format!("{}: {e}", path.display()),
    })?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn generate(args: &GenerateKeyPairArgs) -> Result<(PathBuf, PathBuf), String> {
    let key_path = with_extension(&args.output_key_prefix, ".key");
    let pub_path = with_extension(&args.output_key_prefix, ".pub");
    if !args.force {
        for p in [&key_path, &pub_path] {
            if p.exists() {
                return Err(format!("{} exists (use --force to replace it)", p.display()));
            }
        }
    }
    let password = read_password("Enter a password for the private key: ", true)?;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| e.to_string())?;
    let encrypted = encrypt_private_key(&key, &password).map_err(|e| e.to_string())?;
    let public = pem_encode("PUBLIC KEY", key.public_key().spki_der());
    write_new(&key_path, encrypted.as_bytes(), 0o600, args.force)?;
    write_new(&pub_path, public.as_bytes(), 0o644, args.force)?;
    Ok((key_path, pub_path))
}

/// `sigil generate-key-pair`.
pub fn generate_key_pair(args: GenerateKeyPairArgs) -> ExitCode {
    match generate(&args) {
        Ok((key, public)) => {
            println!("Private key written to {} (encrypted)", key.display());
            println!("Public key written to {}", public.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
