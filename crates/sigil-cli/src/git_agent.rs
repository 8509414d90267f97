//! The commit-signing agent: a short-lived process that holds one ephemeral key and its certificate in memory,
//! so a burst of commits asks for an identity once (the certificate lives about ten minutes).
//!
//! - Socket: `$SIGIL_HOME/git-agent/agent.sock`, in a directory only the user can enter (0700). The key is never
//!   written anywhere; it dies with the process.
//! - Protocol: one JSON request per connection — `{"instance": "<trust config path or empty>",
//!   "signed_attrs": "<base64>", "token": "<JWT, optional>"}` — answered by `{"bundle": "<JSON>"}`,
//!   `{"need_token": true}` or `{"error": "…"}`. Every signature gets its own log entry.
//! - Lifetime: the agent exits after [`IDLE`] without a request (less with `SIGIL_GIT_AGENT_IDLE_SECS`), when
//!   its socket is removed, when its certificate has expired, and never lives longer than [`MAX_LIFE`].
//! - `SIGIL_GIT_AGENT=0` turns it off: every commit then asks for its own token and certificate.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::sign::{Cached, InstanceArgs};

/// Idle time after which the agent exits.
pub const IDLE: Duration = Duration::from_secs(300);
/// Longest life of an agent.
pub const MAX_LIFE: Duration = Duration::from_secs(3600);
/// Largest request read (signed attributes are a few hundred bytes; tokens a few KiB).
const MAX_REQUEST: u64 = 1 << 20;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The agent's directory and socket.
fn socket_path() -> PathBuf {
    crate::trust::sigil_home().join("git-agent").join("agent.sock")
}

/// Whether the agent is wanted (default yes).
pub fn enabled() -> bool {
    std::env::var("SIGIL_GIT_AGENT").map_or(true, |v| v != "0")
}

/// Runs the agent until idle (`sigil git agent`).
pub fn serve() -> Result<(), String> {
    let path = socket_path();
    let dir = path.parent().ok_or("no agent directory")?;
    sigil_trust::create_dir(dir, sigil_trust::Access::Private).map_err(|e| format!("{}: {e}", dir.display()))?;
    // An existing directory too: nobody else may reach the socket.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // A socket that answers belongs to a live agent: leave it alone.
    if UnixStream::connect(&path).is_ok() {
        return Ok(());
    }
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut last = Instant::now();
    let mut cache: Option<(String, sigil_sign::CertifiedKey)> = None;
    // Tests shorten the idle time.
    let idle = std::env::var("SIGIL_GIT_AGENT_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(IDLE, |s: u64| Duration::from_secs(s).min(IDLE));
    // Also gone when its socket is removed (the directory deleted).
    while last.elapsed() < idle && started.elapsed() < MAX_LIFE && path.exists() {
        match listener.accept() {
            Ok((stream, _)) => {
                last = Instant::now();
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                handle(stream, &mut cache);
                // A certificate past its use: nothing left to keep the agent for.
                if cache.as_ref().is_some_and(|(_, k)| k.not_after() <= crate::unix_now()) {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}

fn handle(stream: UnixStream, cache: &mut Option<(String, sigil_sign::CertifiedKey)>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    })
    .take(MAX_REQUEST);
    let mut line = String::new();
    let answer = match reader.read_line(&mut line) {
        Ok(_) => answer(&line, cache),
        Err(e) => json!({"error": format!("reading the request: {e}")}),
    };
    let mut stream = stream;
    let _ = writeln!(stream, "{answer}");
}

fn answer(line: &str, cache: &mut Option<(String, sigil_sign::CertifiedKey)>) -> Value {
    let req: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"error": format!("not a request: {e}")}),
    };
    let instance = req
        .get("instance")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(attrs) = req
        .get("signed_attrs")
        .and_then(Value::as_str)
        .and_then(|s| b64().decode(s).ok())
    else {
        return json!({"error": "signed_attrs is missing or not base64"});
    };
    // One instance per cached certificate: another instance starts afresh.
    let mut slot = match cache.take() {
        Some((i, k)) if i == instance => Some(k),
        _ => None,
    };
    let args = InstanceArgs::from_trust_config((!instance.is_empty()).then(|| PathBuf::from(&instance)));
    let token = match req.get("token").and_then(Value::as_str) {
        Some(t) => crate::sign::TokenSource::Given(t),
        None => crate::sign::TokenSource::Absent,
    };
    let result = crate::sign::sign_bytes_cached(&attrs, &args, &mut slot, token);
    if let Some(k) = slot {
        *cache = Some((instance, k));
    }
    match result {
        Ok(Cached::Signed(s)) => json!({"bundle": s.json, "signer": s.signer.to_string()}),
        Ok(Cached::NeedToken) => json!({"need_token": true}),
        Err(e) => json!({"error": e}),
    }
}

/// One request to the agent, starting it if it is not running. `None` when no agent could be reached.
pub fn request(instance: &str, signed_attrs: &[u8], token: Option<&str>) -> Option<Result<Value, String>> {
    let path = socket_path();
    let stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(_) => {
            let exe = std::env::current_exe().ok()?;
            std::process::Command::new(exe)
                .args(["git", "agent"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok()?;
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Ok(s) = UnixStream::connect(&path) {
                    break s;
                }
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    let mut req = json!({"instance": instance, "signed_attrs": b64().encode(signed_attrs)});
    if let Some(t) = token {
        if let Some(o) = req.as_object_mut() {
            o.insert("token".into(), t.into());
        }
    }
    let exchange = || -> Result<Value, String> {
        let mut s = stream.try_clone().map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(|e| e.to_string())?;
        writeln!(s, "{req}").map_err(|e| format!("talking to the agent: {e}"))?;
        let mut line = String::new();
        BufReader::new(s.take(64 << 20))
            .read_line(&mut line)
            .map_err(|e| format!("reading the agent's answer: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("the agent's answer: {e}"))
    };
    Some(exchange())
}
