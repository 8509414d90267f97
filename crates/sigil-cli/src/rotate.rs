//! `sigil instance rotate`: key rotation for a private instance (`sigil serve`), running or not.
//!
//! The command makes the new material itself (the log's key pair, or a new CA intermediate signed with the root key
//! in `DATA/ca/`, which the server never reads) and then:
//!
//! - **no server running** (it can open `DATA/log`, whose lock a server holds): applies the rotation to the data
//!   directory directly, holding that lock; the next `sigil serve` uses the new material and writes the trust
//!   files;
//! - **a server running**: writes a request `DATA/rotate/<id>.request` (0600, written under a temporary name and
//!   renamed, so the server never sees half of it) and waits for `DATA/rotate/<id>.result`. The server looks for
//!   requests every second ([`POLL_INTERVAL`]), claims one by renaming it, applies it without stopping
//!   (in-flight requests finish with the material they started with), rewrites the trust files and signals
//!   [`crate::instance::TrustUpdate`] subscribers, then writes the result. The command prints it.
//!
//! Why a file drop and not a signal: there is no pid file to trust (a stale one after a crash could name an
//! unrelated process, and SIGHUP terminates a process that does not handle it), it works the same in a container
//! that shares only the data volume, and whoever can write the data directory already controls every key in it,
//! so it needs no other authentication. There is no HTTP admin endpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use sigil_ca::material::{self, StagedIntermediate};
use sigil_log::Log;
use sigil_x509::Certificate;

use crate::instance::{ORGANIZATION, write_atomic};
use crate::unix_now;
use crate::verify::rfc3339;

/// How often a running server looks for rotation requests.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Largest request file read (a request is about 1 KB).
pub const MAX_REQUEST_BYTES: u64 = 64 * 1024;
/// The directory of requests and results, in the data directory.
pub const ROTATE_DIR: &str = "rotate";

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Rotate a signing key of a private instance (`sigil serve --data-dir DIR`), running or not: the old key
    /// stays in trusted_root.json with validFor.end, the new one is used for everything signed from now on.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The instance's data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// What to rotate.
    pub what: What,
    /// How long to wait for a running server to apply the rotation, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    /// The transparency log's key pair: the ECDSA P-256 key (Rekor v1 SETs and checkpoints, v1 log ID) and the
    /// Ed25519 checkpoint key (Rekor v2 log ID), together.
    LogKey,
    /// The CA's intermediate: a new P-256 issuing key and certificate under the same root.
    CaIntermediate,
}

/// A rotation request, as stored in `DATA/rotate/<id>.request`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    #[serde(rename_all = "camelCase")]
    LogKey {
        /// PKCS#8 DER, base64.
        ed25519_pkcs8: String,
        /// PKCS#8 DER, base64.
        ecdsa_p256_pkcs8: String,
    },
    #[serde(rename_all = "camelCase")]
    CaIntermediate {
        /// DER, base64.
        certificate: String,
        /// PKCS#8 DER, base64.
        key_pkcs8: String,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::LogKey { .. } => "Request::LogKey",
            Self::CaIntermediate { .. } => "Request::CaIntermediate",
        })
    }
}

/// What a request becomes once its fields are decoded.
pub enum Decoded {
    LogKey { ed25519: Vec<u8>, ecdsa: Vec<u8> },
    CaIntermediate(StagedIntermediate),
}

impl Request {
    /// Parses a request file's bytes (at most [`MAX_REQUEST_BYTES`]); every error names the field.
    pub fn parse(bytes: &[u8]) -> Result<Decoded, String> {
        if bytes.len() as u64 > MAX_REQUEST_BYTES {
            return Err(format!(
                "the request is {} bytes, more than {MAX_REQUEST_BYTES}",
                bytes.len()
            ));
        }
        let request: Self = serde_json::from_slice(bytes).map_err(|e| format!("the request: {e}"))?;
        let b64 = |field: &str, v: &str| B64.decode(v).map_err(|e| format!("the request's {field}: {e}"));
        Ok(match request {
            Self::LogKey {
                ed25519_pkcs8,
                ecdsa_p256_pkcs8,
            } => Decoded::LogKey {
                ed25519: b64("ed25519Pkcs8", &ed25519_pkcs8)?,
                ecdsa: b64("ecdsaP256Pkcs8", &ecdsa_p256_pkcs8)?,
            },
            Self::CaIntermediate { certificate, key_pkcs8 } => Decoded::CaIntermediate(StagedIntermediate {
                certificate: b64("certificate", &certificate)?,
                key_pkcs8: b64("keyPkcs8", &key_pkcs8)?,
            }),
        })
    }
}

/// The outcome a server writes to `DATA/rotate/<id>.result`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Outcome {
    /// What was done, one line each (empty on failure).
    pub report: Vec<String>,
    /// Why nothing was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A rotation applied to the data directory (and the open log).
pub struct Applied {
    pub report: Vec<String>,
    /// For a CA rotation, the new issuing material.
    pub ca: Option<material::Material>,
}

/// Applies a decoded request to the instance in `dir` whose log is `log` (open by the caller: the server, or this
/// command when no server runs). Blocking. Either the rotation happened or nothing changed.
pub fn apply(dir: &Path, log: &Log, request: Decoded) -> Result<Applied, String> {
    match request {
        Decoded::LogKey { ed25519, ecdsa } => {
            let r = log
                .rotate_keys(&ed25519, &ecdsa)
                .map_err(|e| format!("rotating the log keys: {e}"))?;
            Ok(Applied {
                report: vec![
                    format!(
                        "rotated the transparency log's keys at {} (unix {})",
                        rfc3339(r.at),
                        r.at
                    ),
                    format!(
                        "  Rekor v1 log ID (ECDSA P-256):  {} -> {}",
                        hex::encode(r.retired.v1_log_id()),
                        hex::encode(r.active.v1_log_id())
                    ),
                    format!(
                        "  Rekor v2 log ID (Ed25519):      {} -> {}",
                        hex::encode(r.retired.v2_log_id()),
                        hex::encode(r.active.v2_log_id())
                    ),
                    format!(
                        "  the old keys' validFor ends at {}; the new ones' starts {} s before the rotation",
                        rfc3339(r.at),
                        sigil_log::server::NEW_KEY_BACKDATE_SECS
                    ),
                ],
                ca: None,
            })
        }
        Decoded::CaIntermediate(staged) => {
            let ca_dir = dir.join("ca");
            let old = material::generations(&ca_dir).map_err(|e| e.to_string())?;
            let now = unix_now();
            let (m, _) = material::activate_intermediate(&ca_dir, &staged, now).map_err(|e| e.to_string())?;
            let describe = |der: &[u8]| {
                Certificate::from_der(der).map_or_else(
                    |e| format!("(unreadable: {e})"),
                    |c| {
                        format!(
                            "serial {}, valid {} -> {}",
                            hex::encode(c.serial()),
                            rfc3339(c.not_before()),
                            rfc3339(c.not_after())
                        )
                    },
                )
            };
            let mut report = vec![format!("rotated the CA intermediate at {} (unix {now})", rfc3339(now))];
            if let Some(prev) = old.last() {
                report.push(format!("  old intermediate: {}", describe(&prev.certificate)));
            }
            report.push(format!("  new intermediate: {}", describe(m.issuing())));
            report.push(format!(
                "  the old one's validFor ends at {} (the rotation plus the {} s leaf lifetime); the new one's starts now",
                rfc3339(now + sigil_ca::authority::LEAF_VALIDITY_SECS),
                sigil_ca::authority::LEAF_VALIDITY_SECS
            ));
            Ok(Applied { report, ca: Some(m) })
        }
    }
}

/// The request files waiting in `DATA/rotate/`, oldest first (ids are time-ordered).
pub fn pending(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(read) = std::fs::read_dir(dir.join(ROTATE_DIR)) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = read
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name.strip_suffix(".request")?;
            is_id(id).then(|| (id.to_string(), e.path()))
        })
        .collect();
    out.sort();
    out
}

/// A request id: `<unix nanoseconds>-<pid>`, digits and one dash, so that it is safe in a file name.
fn is_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// Takes a request (renames it to `<id>.claimed`, so that the command's withdrawal and another server cannot) and
/// reads it, bounded. `None` if it is gone. The claimed file stays until [`answer`], so that a server that stops
/// in between leaves a trace ([`answer_abandoned`]).
pub fn claim(path: &Path) -> Option<Result<Vec<u8>, String>> {
    let claimed = path.with_extension("claimed");
    std::fs::rename(path, &claimed).ok()?;
    Some(sigil_trust::read_bounded(&claimed, MAX_REQUEST_BYTES as usize).map_err(|e| e.to_string()))
}

/// Answers request `id` and removes its claimed file (which holds the new private keys).
pub fn answer(dir: &Path, id: &str, outcome: &Outcome) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(outcome).map_err(|e| format!("encoding the result: {e}"))?;
    let written = write_atomic(&dir.join(ROTATE_DIR).join(format!("{id}.result")), &json, false);
    let _ = std::fs::remove_file(dir.join(ROTATE_DIR).join(format!("{id}.claimed")));
    written
}

/// Requests a server took but never answered (it stopped meanwhile): answered at start, so that nobody waits on
/// them; whether the rotation happened shows in the trust files.
pub fn answer_abandoned(dir: &Path) {
    let Ok(read) = std::fs::read_dir(dir.join(ROTATE_DIR)) else {
        return;
    };
    for e in read.flatten() {
        let Some(name) = e.file_name().into_string().ok() else {
            continue;
        };
        if let Some(id) = name.strip_suffix(".claimed").filter(|id| is_id(id)) {
            let _ = answer(
                dir,
                id,
                &Outcome {
                    report: Vec::new(),
                    error: Some(
                        "the server stopped while applying this request; see trusted_root.json for whether it did"
                            .into(),
                    ),
                },
            );
        }
    }
}

// ---------- the command ----------

pub fn run(cmd: InstanceCommand) -> ExitCode {
    let InstanceCommand::Rotate(args) = cmd;
    crate::image::print_lines(rotate(&args))
}

fn rotate(args: &RotateArgs) -> Result<Vec<String>, String> {
    let dir = &args.data_dir;
    if !dir.join("log").is_dir() || !dir.join("ca").join("issuer.pem").is_file() {
        return Err(format!(
            "{} is not the data directory of a private instance (no log/ or ca/issuer.pem; was `sigil serve` \
             started with it?)",
            dir.display()
        ));
    }
    let request = make_request(dir, args.what)?;
    match sigil_log::server::open_existing(&dir.join("log")) {
        Ok(log) => {
            let decoded = Request::parse(&serde_json::to_vec(&request).map_err(|e| e.to_string())?)?;
            let applied = apply(dir, &log, decoded);
            log.close();
            let mut report = applied?.report;
            report.push(format!(
                "no server is running on {}: applied to the data directory; the next `sigil serve` uses it and \
                 rewrites the trust files",
                dir.display()
            ));
            Ok(report)
        }
        Err(sigil_log::Error::Locked(_)) => through_server(dir, &request, Duration::from_secs(args.timeout)),
        Err(e) => Err(format!("opening the transparency log: {e}")),
    }
}

/// The new material, made by this process.
fn make_request(dir: &Path, what: What) -> Result<Request, String> {
    Ok(match what {
        What::LogKey => {
            let rng = SystemRandom::new();
            let ed = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "generating an Ed25519 key".to_string())?;
            let ec = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .map_err(|_| "generating an ECDSA P-256 key".to_string())?;
            Request::LogKey {
                ed25519_pkcs8: B64.encode(ed.as_ref()),
                ecdsa_p256_pkcs8: B64.encode(ec.as_ref()),
            }
        }
        What::CaIntermediate => {
            let staged = material::new_intermediate(&dir.join("ca"), ORGANIZATION, unix_now())
                .map_err(|e| format!("making the new intermediate: {e}"))?;
            Request::CaIntermediate {
                certificate: B64.encode(&staged.certificate),
                key_pkcs8: B64.encode(&staged.key_pkcs8),
            }
        }
    })
}

/// Hands the request to the running server and waits for its answer.
fn through_server(dir: &Path, request: &Request, timeout: Duration) -> Result<Vec<String>, String> {
    let rotate_dir = dir.join(ROTATE_DIR);
    std::fs::create_dir_all(&rotate_dir).map_err(|e| format!("{}: {e}", rotate_dir.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let id = format!("{nanos:020}-{}", std::process::id());
    let path = rotate_dir.join(format!("{id}.request"));
    let result = rotate_dir.join(format!("{id}.result"));
    let json = serde_json::to_vec(request).map_err(|e| format!("encoding the request: {e}"))?;
    write_atomic(&path, &json, true)?;
    eprintln!(
        "a server is running on {}: asked it to rotate ({})",
        dir.display(),
        path.display()
    );
    let mut deadline = Instant::now() + timeout;
    let mut taken = false;
    loop {
        if let Ok(bytes) = std::fs::read(&result) {
            let _ = std::fs::remove_file(&result);
            let outcome: Outcome =
                serde_json::from_slice(&bytes).map_err(|e| format!("the server's answer {}: {e}", result.display()))?;
            return match outcome.error {
                Some(e) => Err(format!("the server did not rotate: {e}")),
                None => Ok(outcome.report),
            };
        }
        if Instant::now() > deadline {
            if taken {
                return Err(format!(
                    "the server took the request but did not answer within {} s more; see {} and trusted_root.json",
                    timeout.as_secs(),
                    result.display()
                ));
            }
            // Withdraw the request if the server has not taken it; if it has, its answer is coming.
            if std::fs::remove_file(&path).is_ok() {
                return Err(format!(
                    "the server did not take the request within {} s; withdrawn, nothing changed",
                    timeout.as_secs()
                ));
            }
            taken = true;
            deadline = Instant::now() + timeout;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> String {
        match Request::parse(bytes) {
            Err(e) => e,
            Ok(_) => panic!("accepted {:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn requests_parse_strictly() {
        let ok = br#"{"kind":"log-key","ed25519Pkcs8":"AAEC","ecdsaP256Pkcs8":"AwQF"}"#;
        assert!(matches!(Request::parse(ok), Ok(Decoded::LogKey { ed25519, .. }) if ed25519 == [0, 1, 2]));
        let ok = br#"{"kind":"ca-intermediate","certificate":"AAEC","keyPkcs8":"AwQF"}"#;
        assert!(matches!(Request::parse(ok), Ok(Decoded::CaIntermediate(_))));
        assert!(err(br#"{"kind":"root","x":"1"}"#).contains("unknown variant"));
        assert!(err(br#"{"kind":"log-key","ed25519Pkcs8":"AAEC"}"#).contains("ecdsaP256Pkcs8"));
        assert!(
            err(br#"{"kind":"log-key","ed25519Pkcs8":"AAEC","ecdsaP256Pkcs8":"AwQF","more":1}"#)
                .contains("unknown field")
        );
        assert!(err(br#"{"kind":"log-key","ed25519Pkcs8":"!!","ecdsaP256Pkcs8":"AwQF"}"#).contains("ed25519Pkcs8"));
        assert!(err(b"").contains("the request"));
        assert!(err(&vec![b' '; MAX_REQUEST_BYTES as usize + 1]).contains("more than"));
    }

    #[test]
    fn only_well_formed_ids_are_pending() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join(ROTATE_DIR);
        std::fs::create_dir_all(&d).unwrap();
        for name in [
            "0002-1.request",
            "0001-9.request",
            "x.request",
            "0003-1.result",
            "../0004.request",
        ] {
            let _ = std::fs::write(d.join(name), b"{}");
        }
        let ids: Vec<String> = pending(tmp.path()).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["0001-9", "0002-1"]);
        // Claimed: gone from the pending ones, kept until answered.
        let (id, path) = pending(tmp.path()).remove(0);
        assert_eq!(claim(&path).unwrap().unwrap(), b"{}");
        assert!(claim(&path).is_none(), "claimed twice");
        assert!(d.join("0001-9.claimed").exists());
        // A server that stopped before answering: answered at the next start.
        answer_abandoned(tmp.path());
        assert!(!d.join("0001-9.claimed").exists());
        let outcome: Outcome = serde_json::from_slice(&std::fs::read(d.join(format!("{id}.result"))).unwrap()).unwrap();
        assert!(outcome.error.unwrap().contains("stopped"));
    }
}
