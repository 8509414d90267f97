//! Docker credential helpers (`docker-credential-<name>`, e.g. `desktop`, `pass`, `ecr-login`): the program a
//! Docker config names in `credsStore` or `credHelpers` holds the registry logins instead of the config file.
//!
//! The protocol: run `docker-credential-<name> get` with the registry's server URL on standard input; it prints
//! `{"ServerURL":…,"Username":…,"Secret":…}`, or fails with "credentials not found" when it has none. The helper
//! is found on `PATH`; its name may not contain a path, its output is bounded and it must answer within
//! [`TIMEOUT`].

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Credentials, Error};

/// How long a helper may take (one may ask the user to unlock a keychain).
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer read from a helper.
const MAX_OUTPUT: u64 = 64 << 10;

/// What Docker passes as the server URL for `host` (Docker Hub's logins are kept under its v1 index URL).
fn server_url(host: &str) -> String {
    if host == crate::DOCKER_HUB {
        "https://index.docker.io/v1/".to_string()
    } else {
        host.to_string()
    }
}

/// The login the helper `name` holds for `host`, or `None` if it has none.
pub fn get(name: &str, host: &str) -> Result<Option<Credentials>, Error> {
    let bad = |why: String| Error::Auth(format!("credential helper docker-credential-{name}: {why}"));
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad("not a helper name".into()));
    }
    let mut child = Command::new(format!("docker-credential-{name}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| bad(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading closes the pipe; its exit status says what happened.
        let _ = stdin.write_all(format!("{}\n", server_url(host)).as_bytes());
    }
    let mut stdout = child.stdout.take().ok_or_else(|| bad("no output".into()))?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let read = (&mut stdout).take(MAX_OUTPUT + 1).read_to_end(&mut out);
        read.map(|_| out)
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| bad(e.to_string()))? {
            Some(status) => break status,
            None if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(bad(format!("no answer within {} s", TIMEOUT.as_secs())));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let out = reader
        .join()
        .map_err(|_| bad("reading its answer failed".into()))?
        .map_err(|e| bad(e.to_string()))?;
    if out.len() as u64 > MAX_OUTPUT {
        return Err(bad("its answer is too large".into()));
    }
    let text = String::from_utf8_lossy(&out);
    if !status.success() {
        if text.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(bad(format!("it failed ({status}): {}", text.trim())));
    }
    let v: serde_json::Value = serde_json::from_slice(&out).map_err(|_| bad("its answer is not JSON".into()))?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    match (field("Username"), field("Secret")) {
        (Some(username), Some(password)) if !password.is_empty() => Ok(Some(Credentials { username, password })),
        _ => Err(bad("its answer has no Username and Secret".into())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_name_cannot_be_a_path_and_a_missing_helper_is_named() {
        for name in ["", "../evil", "a/b", "x y", "pass;rm"] {
            let e = get(name, "registry.test").unwrap_err();
            assert!(e.to_string().contains("not a helper name"), "{name:?}: {e}");
        }
        let e = get("sigil-no-such-helper", "registry.test").unwrap_err();
        assert!(
            e.to_string()
                .contains("docker-credential-sigil-no-such-helper: cannot run it"),
            "{e}"
        );
        assert_eq!(server_url(crate::DOCKER_HUB), "https://index.docker.io/v1/");
    }
}
