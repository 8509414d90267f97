//! `sigil log serve` and `sigil log trust-entry` as an operator uses them: start, readiness, the trust material
//! clients need, imported keys, one process per directory, graceful stop, and a restored old backup refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use sigil_bundle::trust::{Service, TransparencyLogInstance};

const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");

struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(SIGIL)
        .args(["log", "serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "first stdout line is the base URL: {url:?}"
    );
    let served = Served { child, url };
    assert_eq!(http_get(&served.url, "/healthz").0, 200);
    served
}

fn http_get(url: &str, path: &str) -> (u16, Vec<u8>) {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap();
    (status, buf[split + 4..].to_vec())
}

fn trust_entry(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    Command::new(SIGIL)
        .args(["log", "trust-entry", "--data-dir"])
        .arg(dir)
        .args(["--url", url])
        .args(extra)
        .output()
        .unwrap()
}

fn pem_file(dir: &Path, name: &str, der: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, sigil_crypto::pem_encode("PRIVATE KEY", der)).unwrap();
    path
}

#[test]
fn serve_and_describe_a_log_with_given_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let rng = SystemRandom::new();
    let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ec = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let ed_file = pem_file(tmp.path(), "ed.pem", ed.as_ref());
    let ec_file = pem_file(tmp.path(), "ec.pem", ec.as_ref());
    let ed_raw = Ed25519KeyPair::from_pkcs8(ed.as_ref())
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let ec_raw = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, ec.as_ref())
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let keys = [
        "--checkpoint-key",
        ed_file.to_str().unwrap(),
        "--v1-key",
        ec_file.to_str().unwrap(),
    ];
    let served = serve(&dir, &keys);

    // A second process on the same directory is refused, with a reason.
    let second = Command::new(SIGIL)
        .args(["log", "serve", "--data-dir"])
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use by another process"));

    // trust-entry works while the log runs, and describes exactly the keys given.
    let out = trust_entry(&dir, &served.url, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v1: TransparencyLogInstance = serde_json::from_slice(&out.stdout).unwrap();
    let v1_spki = sigil_crypto::spki_der_for(sigil_crypto::KeyAlgorithm::EcdsaP256, &ec_raw);
    assert_eq!(v1.base_url, served.url);
    assert_eq!(v1.public_key.raw_bytes.as_ref().unwrap().0, v1_spki);
    assert_eq!(v1.public_key.key_details.as_deref(), Some("PKIX_ECDSA_P256_SHA_256"));
    assert_eq!(v1.log_id.key_id.0, sigil_crypto::sha256(&v1_spki));
    assert!(v1.public_key.valid_for.as_ref().unwrap().start.is_some());
    let (_, pem) = http_get(&served.url, "/api/v1/log/publicKey");
    assert_eq!(
        sigil_crypto::pem_decode_one(std::str::from_utf8(&pem).unwrap(), "PUBLIC KEY").unwrap(),
        v1_spki
    );
    let out = trust_entry(&dir, &served.url, &["--api", "v2"]);
    let v2: TransparencyLogInstance = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v2.public_key.raw_bytes.as_ref().unwrap().0,
        sigil_crypto::spki_der_for(sigil_crypto::KeyAlgorithm::Ed25519, &ed_raw)
    );
    let mut id_input = b"127.0.0.1\n\x01".to_vec();
    id_input.extend_from_slice(&ed_raw);
    assert_eq!(v2.log_id.key_id.0, sigil_crypto::sha256(&id_input));
    let out = trust_entry(&dir, &served.url, &["--api", "v2", "--signing-config"]);
    let service: Service = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (service.url.as_str(), service.major_api_version),
        (served.url.as_str(), 2)
    );
    // The checkpoint served is signed by the given Ed25519 key.
    let (_, cp) = http_get(&served.url, "/checkpoint");
    let verifier = sigil_tlog::NoteVerifier::ed25519(
        "127.0.0.1",
        sigil_crypto::VerifyingKey::from_spki_der(&v2.public_key.raw_bytes.unwrap().0).unwrap(),
    )
    .unwrap();
    sigil_tlog::SignedCheckpoint::open(std::str::from_utf8(&cp).unwrap(), &verifier, "127.0.0.1").unwrap();

    // SIGTERM stops it gracefully (exit 0), after which it restarts on the same data.
    let mut served = served;
    Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = served.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    drop(serve(&dir, &keys));
    // Different keys than the stored ones are refused.
    let other = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let other_file = pem_file(tmp.path(), "other.pem", other.as_ref());
    let refused = Command::new(SIGIL)
        .args(["log", "serve", "--data-dir"])
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0", "--v1-key", other_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("different v1 log key"));
}

#[test]
fn l14_a_restored_old_backup_is_refused_loudly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let hwm = tmp.path().join("elsewhere-hwm");
    let options = || sigil_log::LogOptions::new("127.0.0.1").with_high_water_mark(&hwm);
    let entries = |from: u32, n: u32| {
        (from..from + n)
            .map(|i| format!("e{i}").into_bytes())
            .collect::<Vec<_>>()
    };
    {
        let log = sigil_log::Log::open(&dir, options()).unwrap();
        log.append_many(&entries(0, 5)).unwrap();
    }
    let backup = tmp.path().join("backup");
    copy_dir(&dir, &backup);
    {
        let log = sigil_log::Log::open(&dir, options()).unwrap();
        log.append_many(&entries(5, 5)).unwrap();
    }
    drop(serve(&dir, &["--high-water-mark", hwm.to_str().unwrap()]));
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(&backup, &dir);
    let out = Command::new(SIGIL)
        .args(["log", "serve", "--data-dir"])
        .arg(&dir)
        .args(["--listen", "127.0.0.1:0", "--high-water-mark", hwm.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an old backup must not be served");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("10") && err.contains("5"),
        "the error names both sizes: {err}"
    );
    assert!(out.stdout.is_empty(), "no URL printed: it never became ready");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn trust_entry_on_a_directory_without_a_log_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trust_entry(tmp.path(), "http://127.0.0.1:1", &[]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
