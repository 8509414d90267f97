#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `sigil generate-key-pair`: cosign-format key files, the password sources, and never overwriting by accident.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use sigil_crypto::{Signer as _, VerifyingKey, decrypt_private_key};

const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");

/// Runs `sigil generate-key-pair` with only the given password variables set and `stdin` as standard input.
fn generate(prefix: &Path, env: &[(&str, &str)], stdin: Option<&str>, extra: &[&str]) -> Output {
    let mut cmd = Command::new(SIGIL);
    cmd.args(["generate-key-pair", "--output-key-prefix"])
        .arg(prefix)
        .args(extra)
        .env_remove("SIGIL_PASSWORD")
        .env_remove("COSIGN_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// The key pair at `prefix` decrypts with `password` and its halves match.
fn check_pair(prefix: &Path, password: &str) {
    let key_text = std::fs::read_to_string(prefix.with_extension("key")).unwrap();
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let key = decrypt_private_key(&key_text, password.as_bytes()).unwrap();
    let public = VerifyingKey::from_pem(&std::fs::read_to_string(prefix.with_extension("pub")).unwrap()).unwrap();
    assert_eq!(public.spki_der(), key.public_key().spki_der());
    let sig = key.sign(b"x").unwrap();
    public.verify(key.scheme(), b"x", &sig).unwrap();
}

#[test]
fn generate_key_pair_writes_cosign_format_files() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("release");
    let out = generate(&prefix, &[("COSIGN_PASSWORD", "from cosign var")], None, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    check_pair(&prefix, "from cosign var");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(prefix.with_extension("key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // An existing pair is never replaced without --force, and stays as it was.
    let before = std::fs::read(prefix.with_extension("key")).unwrap();
    let out = generate(&prefix, &[("COSIGN_PASSWORD", "other")], None, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read(prefix.with_extension("key")).unwrap(), before);
    check_pair(&prefix, "from cosign var");

    // SIGIL_PASSWORD wins over COSIGN_PASSWORD; --force replaces.
    let out = generate(
        &prefix,
        &[("COSIGN_PASSWORD", "loser"), ("SIGIL_PASSWORD", "winner")],
        None,
        &["--force"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    check_pair(&prefix, "winner");
    assert!(
        decrypt_private_key(
            &std::fs::read_to_string(prefix.with_extension("key")).unwrap(),
            b"loser"
        )
        .is_err()
    );
}

#[test]
fn the_password_can_come_from_standard_input() {
    // As in `echo -n "$PASS" | cosign generate-key-pair`: the first line, without its newline.
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("piped");
    let out = generate(&prefix, &[], Some("line password\nignored\n"), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    check_pair(&prefix, "line password");
    // An empty password (an empty variable) is a password too, as with cosign.
    let prefix = dir.path().join("empty");
    let out = generate(&prefix, &[("COSIGN_PASSWORD", "")], None, &[]);
    assert!(out.status.success());
    check_pair(&prefix, "");
}
