//! A small OCI distribution client: manifests and blobs by tag or digest, monolithic blob uploads, the
//! referrers API, and registry authentication (anonymous, HTTP Basic, and Bearer tokens from the registry's
//! token service). Blobs of any size are copied between repositories without being held in memory: a
//! cross-repository mount, or a download ([`BlobStream`], checked against the digest and size while it is read)
//! streamed into an upload ([`Registry::upload_stream`]).
//!
//! Everything fetched by digest is checked against it, and every body is bounded. HTTPS always, except for a
//! registry on this machine (`localhost`, `127.0.0.1`, `[::1]`) or when the caller allows plain HTTP.
//! Redirects are followed only for blob downloads (registries send them to storage), at most three, never
//! carrying the registry's credentials, and the content is still checked against its digest.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_bundle::encoding::percent_encode;
use sigil_client::HttpClient;
use sigil_crypto::Hasher;
use ureq::http::Response;
use ureq::{Body, RequestBuilder, SendBody};

use crate::{Digest, Error, Reference};

/// Media types of image manifests and indexes, in the order sigil asks for them.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
/// Largest manifest read (the distribution spec suggests registries accept at least 4 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
const MAX_REDIRECTS: usize = 3;
/// Largest error or token response read.
const MAX_SMALL_BODY: u64 = 64 << 10;
/// A blob transfer (download or upload) may take as long as it needs, but not stall: each read or write of the
/// connection must make progress within this time.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A registry login.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Allow plain HTTP to registries that are not on this machine.
    pub plain_http: bool,
    /// Credentials per registry host (as written in references, e.g. `ghcr.io`, `localhost:5000`).
    pub credentials: HashMap<String, Credentials>,
}

/// Largest Docker config file read.
const MAX_DOCKER_CONFIG: u64 = 1 << 20;

/// A Docker config file (`~/.docker/config.json`) as JSON, bounded; `None` if there is no file.
fn read_docker_config(path: &std::path::Path) -> Result<Option<serde_json::Value>, Error> {
    use std::io::Read as _;
    let bad = |why: String| Error::Auth(format!("{}: {why}", path.display()));
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_DOCKER_CONFIG + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > MAX_DOCKER_CONFIG {
        return Err(bad("larger than 1 MiB".into()));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| bad(format!("not JSON: {e}")))
}

/// The credential helper a Docker config names for `host`: `credHelpers.<host>`, else `credsStore`; `None`
/// without a file or a helper. Run it with [`crate::credential_helper::get`].
pub fn docker_config_helper(path: &std::path::Path, host: &str) -> Result<Option<String>, Error> {
    let Some(v) = read_docker_config(path)? else {
        return Ok(None);
    };
    let named =
        |n: Option<&serde_json::Value>| n.and_then(|n| n.as_str()).filter(|n| !n.is_empty()).map(str::to_string);
    Ok(named(v.get("credHelpers").and_then(|h| h.get(host))).or_else(|| named(v.get("credsStore"))))
}

/// The logins in a Docker config file (`~/.docker/config.json`): `auths.<registry>.auth`, base64 of
/// `user:password`, keyed by registry host (an `https://` prefix and a trailing path, as `docker login` writes for
/// Docker Hub, are dropped; `index.docker.io` is `docker.io`). Credential helpers are found by
/// [`docker_config_helper`]. A missing file is no logins.
pub fn docker_config_credentials(path: &std::path::Path) -> Result<HashMap<String, Credentials>, Error> {
    let bad = |why: String| Error::Auth(format!("{}: {why}", path.display()));
    let Some(v) = read_docker_config(path)? else {
        return Ok(HashMap::new());
    };
    let mut out = HashMap::new();
    let Some(auths) = v.get("auths").and_then(|a| a.as_object()) else {
        return Ok(out);
    };
    for (key, entry) in auths {
        let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) else {
            continue;
        };
        let decoded = B64
            .decode(auth)
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| bad(format!("the login for {key} is not base64 of user:password")))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad(format!("the login for {key} is not user:password")))?;
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        let host = if host == "index.docker.io" {
            crate::DOCKER_HUB
        } else {
            host
        };
        out.insert(
            host.to_string(),
            Credentials {
                username: username.to_string(),
                password: password.to_string(),
            },
        );
    }
    Ok(out)
}

/// A manifest as the registry served it.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Head,
    Put,
    Post,
}

/// How long a call may take: a small exchange within the HTTP client's global timeout, or a blob transfer that
/// has no total limit but must keep moving ([`STALL_TIMEOUT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    Call,
    Stream,
}

fn timeouts<B>(b: RequestBuilder<B>, transfer: Transfer) -> RequestBuilder<B> {
    match transfer {
        Transfer::Call => b,
        Transfer::Stream => b
            .config()
            .timeout_global(None)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(STALL_TIMEOUT))
            .timeout_per_write(Some(STALL_TIMEOUT))
            .build(),
    }
}

/// An upload started in a repository (`POST /v2/<repo>/blobs/uploads/`): where to send the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    url: String,
}

impl UploadSession {
    /// The session at the `Location` a registry answered to `url` with.
    fn at(url: &str, location: Option<String>) -> Result<Self, Error> {
        let location = location.ok_or_else(|| Error::Transport(format!("{url}: no upload Location")))?;
        Ok(Self {
            url: absolute(url, &location),
        })
    }

    /// Where to `PUT` blob `digest` to complete the session.
    fn put_url(&self, digest: &Digest) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}digest={}", self.url, percent_encode(&digest.to_string()))
    }
}

/// What a cross-repository mount request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    /// The destination repository has the blob now.
    Mounted,
    /// The registry did not mount it (another registry's policy, no read access to the source) and started an
    /// ordinary upload instead.
    Upload(UploadSession),
}

/// The access a request asks the registry for (its token scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

/// A blob being downloaded, checked as it is read (see [`Registry::blob_stream`]).
pub struct BlobStream {
    body: Box<dyn Read>,
    digest: Digest,
    what: String,
    size: u64,
    read: u64,
    /// `None` once the end was checked.
    hasher: Option<Hasher>,
    failure: Option<Error>,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("what", &self.what)
            .field("size", &self.size)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl BlobStream {
    /// Why a read failed, if the blob was wrong (rather than the connection).
    pub fn failure(&mut self) -> Option<Error> {
        self.failure.take()
    }

    /// Whether the whole blob was read and found to be what its descriptor says.
    pub fn is_verified(&self) -> bool {
        self.hasher.is_none() && self.failure.is_none()
    }

    /// At the declared size: the source must end here and the content must hash to the digest.
    fn check_end(&mut self) -> Result<(), Error> {
        let mut probe = [0u8; 1];
        let extra = self
            .body
            .read(&mut probe)
            .map_err(|e| Error::Transport(format!("{}: {e}", self.what)))?;
        if extra > 0 {
            return Err(Error::TooLarge(format!(
                "{}: more than the {} bytes its descriptor says",
                self.what, self.size
            )));
        }
        let computed = self.hasher.take().map(Hasher::finish).unwrap_or_default();
        if !self.digest.is(&computed) {
            return Err(Error::DigestMismatch(format!(
                "{}: the content does not hash to {}",
                self.what, self.digest
            )));
        }
        Ok(())
    }

    fn fail(&mut self, e: Error) -> std::io::Error {
        let io = std::io::Error::other(e.to_string());
        self.failure = Some(e);
        io
    }
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.failure.is_some() {
            return Err(std::io::Error::other("the blob already failed its check"));
        }
        if self.hasher.is_none() {
            return Ok(0);
        }
        let remaining = self.size.saturating_sub(self.read);
        let want = usize::try_from(remaining).unwrap_or(usize::MAX).min(buf.len());
        let Some(window) = buf.get_mut(..want) else {
            return Ok(0);
        };
        if window.is_empty() {
            return Ok(0);
        }
        let n = self.body.read(window)?;
        if n == 0 {
            let e = Error::DigestMismatch(format!(
                "{}: ended after {} of the {} bytes its descriptor says",
                self.what, self.read, self.size
            ));
            return Err(self.fail(e));
        }
        if let (Some(h), Some(chunk)) = (self.hasher.as_mut(), window.get(..n)) {
            h.update(chunk);
        }
        self.read += n as u64;
        if self.read == self.size {
            // The read that completes the blob succeeds only if the blob is right.
            if let Err(e) = self.check_end() {
                return Err(self.fail(e));
            }
        }
        Ok(n)
    }
}

/// A registry client. One serves any number of registries and repositories.
#[derive(Debug)]
pub struct Registry {
    agent: ureq::Agent,
    options: RegistryOptions,
    /// `Authorization` values (a Bearer token, or Basic credentials the registry asked for) by registry host and
    /// scope.
    authorizations: Mutex<HashMap<(String, String), String>>,
}

fn with_headers<B>(mut b: RequestBuilder<B>, headers: &[(&str, String)]) -> RequestBuilder<B> {
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    b
}

fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The parameters of a `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` challenge.
fn bearer_challenge(value: &str) -> Option<HashMap<String, String>> {
    let rest = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    let mut params = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let after = after.trim_start();
        let (val, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (q.get(..end)?, q.get(end + 1..)?)
        } else {
            match after.split_once(',') {
                Some((v, t)) => (v, t),
                None => (after, ""),
            }
        };
        params.insert(key.trim().to_ascii_lowercase(), val.to_string());
        s = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some(params)
}

impl Registry {
    /// A client on `http`'s connection pool and TLS trust (its roots, or a private CA's).
    pub fn new(http: &HttpClient, options: RegistryOptions) -> Self {
        Self {
            agent: http.agent().clone(),
            options,
            authorizations: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a login is configured for `registry` (a host as in references).
    pub fn has_credentials(&self, registry: &str) -> bool {
        self.options.credentials.contains_key(registry)
    }

    /// Adds (or replaces) the login for registry host `registry` (as written in references), before the first
    /// call to it.
    pub fn add_credentials(&mut self, registry: &str, credentials: Credentials) {
        self.options.credentials.insert(registry.to_string(), credentials);
        if let Ok(a) = self.authorizations.get_mut() {
            a.retain(|(host, _), _| host != registry);
        }
    }

    fn repo_url(&self, r: &Reference) -> Result<String, Error> {
        let scheme = if r.is_local() || self.options.plain_http {
            "http"
        } else {
            "https"
        };
        Ok(format!("{scheme}://{}/v2/{}", r.api_host(), r.repository()))
    }

    fn basic(&self, r: &Reference) -> Option<String> {
        self.options
            .credentials
            .get(r.registry())
            .map(|c| format!("Basic {}", B64.encode(format!("{}:{}", c.username, c.password))))
    }

    fn send_raw(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        transfer: Transfer,
    ) -> Result<Response<Body>, Error> {
        let transport = |e: ureq::Error| Error::Transport(format!("{url}: {e}"));
        match method {
            Method::Get => timeouts(with_headers(self.agent.get(url), headers), transfer).call(),
            Method::Head => timeouts(with_headers(self.agent.head(url), headers), transfer).call(),
            Method::Put => timeouts(with_headers(self.agent.put(url), headers), transfer).send(body),
            Method::Post => timeouts(with_headers(self.agent.post(url), headers), transfer).send(body),
        }
        .map_err(transport)
    }

    fn scope_key(r: &Reference, push: bool) -> (String, String) {
        let scope = format!(
            "repository:{}:{}",
            r.repository(),
            if push { "pull,push" } else { "pull" }
        );
        (r.registry().to_string(), scope)
    }

    /// One call with the registry's authentication: a cached token first, and on a 401 the challenge answered
    /// (Basic credentials, or a Bearer token from the realm it names) and the call repeated once.
    fn send(
        &self,
        r: &Reference,
        push: bool,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response<Body>, Error> {
        self.send_with(r, push, method, url, headers, body, Transfer::Call)
    }

    #[allow(clippy::too_many_arguments)] // private; `send` is the common case
    fn send_with(
        &self,
        r: &Reference,
        push: bool,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        transfer: Transfer,
    ) -> Result<Response<Body>, Error> {
        let key = Self::scope_key(r, push);
        let cached = self.cached_authorization(&key);
        let mut all: Vec<(&str, String)> = headers.to_vec();
        if let Some(a) = &cached {
            all.push(("Authorization", a.clone()));
        }
        let resp = self.send_raw(method, url, &all, body, transfer)?;
        if resp.status().as_u16() != 401 {
            return Ok(resp);
        }
        let challenge = header(&resp, "www-authenticate").unwrap_or_default();
        let authorization = if challenge.to_ascii_lowercase().starts_with("basic") {
            self.basic(r)
                .ok_or_else(|| Error::Auth(format!("{} wants a login and none is configured", r.registry())))?
        } else {
            let params = bearer_challenge(&challenge)
                .ok_or_else(|| Error::Auth(format!("{url}: unusable WWW-Authenticate {challenge:.200?}")))?;
            let token = self.fetch_token(r, &params, &key.1)?;
            format!("Bearer {token}")
        };
        if let Ok(mut t) = self.authorizations.lock() {
            t.insert(key, authorization.clone());
        }
        let mut all: Vec<(&str, String)> = headers.to_vec();
        all.push(("Authorization", authorization));
        let resp = self.send_raw(method, url, &all, body, transfer)?;
        if resp.status().as_u16() == 401 {
            return Err(Error::Auth(format!("{url}: the registry refused the credentials")));
        }
        Ok(resp)
    }

    fn cached_authorization(&self, key: &(String, String)) -> Option<String> {
        self.authorizations.lock().ok().and_then(|t| t.get(key).cloned())
    }

    fn fetch_token(&self, r: &Reference, params: &HashMap<String, String>, scope: &str) -> Result<String, Error> {
        let realm = params
            .get("realm")
            .ok_or_else(|| Error::Auth("the Bearer challenge names no realm".into()))?;
        if !realm.starts_with("https://")
            && !(realm.starts_with("http://") && (r.is_local() || self.options.plain_http))
        {
            return Err(Error::Auth(format!(
                "refusing the token realm {realm:.200?} (not https)"
            )));
        }
        let mut url = format!(
            "{realm}?scope={}",
            percent_encode(params.get("scope").map_or(scope, String::as_str))
        );
        if let Some(service) = params.get("service") {
            url.push_str(&format!("&service={}", percent_encode(service)));
        }
        let mut headers = Vec::new();
        if let Some(b) = self.basic(r) {
            headers.push(("Authorization", b));
        }
        let mut resp = self.send_raw(Method::Get, &url, &headers, &[], Transfer::Call)?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, MAX_SMALL_BODY, &url)?;
        if status != 200 {
            return Err(Error::Auth(format!("{realm}: HTTP {status} for a token")));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| Error::Auth(format!("{realm}: the token answer is not JSON")))?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| Error::Auth(format!("{realm}: no token in the answer")))
    }

    /// The manifest `r` names (by digest if it has one, else by tag), or `None` if there is none. Fetched by
    /// digest, it must hash to that digest.
    pub fn manifest(&self, r: &Reference) -> Result<Option<Manifest>, Error> {
        let url = format!("{}/manifests/{}", self.repo_url(r)?, r.manifest_reference());
        let accept = ("Accept", MANIFEST_MEDIA_TYPES.join(", "));
        let mut resp = self.send(r, false, Method::Get, &url, &[accept], &[])?;
        let status = resp.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        let media_type = header(&resp, "content-type").unwrap_or_default();
        let bytes = read_limited(&mut resp, MAX_MANIFEST_BYTES, &url)?;
        if status != 200 {
            return Err(status_error(&url, status, &bytes));
        }
        let digest = Digest::sha256_of(&bytes);
        if let Some(want) = r.digest() {
            if !want.matches(&bytes) {
                return Err(Error::DigestMismatch(format!(
                    "{url}: the manifest does not hash to {want}"
                )));
            }
        }
        Ok(Some(Manifest {
            media_type: media_type.split(';').next().unwrap_or_default().trim().to_string(),
            bytes,
            digest: r.digest().cloned().unwrap_or(digest),
        }))
    }

    /// The digest `r` resolves to now: its own digest, or the digest of the manifest its tag points at.
    pub fn resolve(&self, r: &Reference) -> Result<Digest, Error> {
        if let Some(d) = r.digest() {
            return Ok(d.clone());
        }
        self.manifest(r)?
            .map(|m| m.digest)
            .ok_or_else(|| Error::NotFound(r.to_string()))
    }

    /// Uploads a manifest under `tag` (or by its digest when `tag` is `None`); returns its digest.
    pub fn put_manifest(
        &self,
        r: &Reference,
        tag: Option<&str>,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, Error> {
        let digest = Digest::sha256_of(bytes);
        let target = tag.map_or_else(|| digest.to_string(), str::to_string);
        let url = format!("{}/manifests/{target}", self.repo_url(r)?);
        let mut resp = self.send(
            r,
            true,
            Method::Put,
            &url,
            &[("Content-Type", media_type.to_string())],
            bytes,
        )?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, MAX_SMALL_BODY, &url)?;
        if !(200..300).contains(&status) {
            return Err(status_error(&url, status, &body));
        }
        Ok(digest)
    }

    /// The response to `GET` blob `digest`, following the registry's redirects to storage; `NotFound` on a 404.
    fn blob_response(
        &self,
        r: &Reference,
        digest: &Digest,
        transfer: Transfer,
    ) -> Result<(Response<Body>, String), Error> {
        let mut url = format!("{}/blobs/{digest}", self.repo_url(r)?);
        let mut resp = self.send_with(r, false, Method::Get, &url, &[], &[], transfer)?;
        for _ in 0..MAX_REDIRECTS {
            if !resp.status().is_redirection() {
                break;
            }
            let location = header(&resp, "location")
                .ok_or_else(|| Error::Transport(format!("{url}: redirect without a Location")))?;
            url = absolute(&url, &location);
            // Storage URLs carry their own authorization; the registry's credentials stay with the registry.
            resp = self.send_raw(Method::Get, &url, &[], &[], transfer)?;
        }
        if resp.status().as_u16() == 404 {
            return Err(Error::NotFound(format!("{r}: blob {digest}")));
        }
        Ok((resp, url))
    }

    /// A blob, at most `max` bytes, checked against its digest.
    pub fn blob(&self, r: &Reference, digest: &Digest, max: u64) -> Result<Vec<u8>, Error> {
        let (mut resp, url) = self.blob_response(r, digest, Transfer::Call)?;
        let status = resp.status().as_u16();
        let bytes = read_limited(&mut resp, max, &url)?;
        if status != 200 {
            return Err(status_error(&url, status, &bytes));
        }
        if !digest.matches(&bytes) {
            return Err(Error::DigestMismatch(format!(
                "{url}: the blob does not hash to {digest}"
            )));
        }
        Ok(bytes)
    }

    /// Blob `digest` of `size` bytes as a reader that checks it while it is read: more bytes than `size`, fewer,
    /// or content that does not hash to `digest` make the read that would complete the blob fail (so a consumer,
    /// an upload say, never sees a whole wrong blob), and [`BlobStream::failure`] then says which. Nothing is
    /// held in memory beyond the read buffer.
    pub fn blob_stream(&self, r: &Reference, digest: &Digest, size: u64) -> Result<BlobStream, Error> {
        let (mut resp, url) = self.blob_response(r, digest, Transfer::Stream)?;
        let status = resp.status().as_u16();
        if status != 200 {
            let body = read_limited(&mut resp, MAX_SMALL_BODY, &url)?;
            return Err(status_error(&url, status, &body));
        }
        let what = format!("blob {digest} from {}", r.name());
        if let Some(len) = header(&resp, "content-length").and_then(|l| l.parse::<u64>().ok()) {
            if len > size {
                return Err(Error::TooLarge(format!(
                    "{what}: the registry sends {len} bytes, the descriptor says {size}"
                )));
            }
            if len < size {
                return Err(Error::DigestMismatch(format!(
                    "{what}: the registry sends {len} bytes, the descriptor says {size}"
                )));
            }
        }
        let mut stream = BlobStream {
            body: Box::new(resp.into_body().into_reader()),
            digest: digest.clone(),
            what,
            size,
            read: 0,
            hasher: Some(Hasher::new(digest.hash_algorithm())),
            failure: None,
        };
        if size == 0 {
            stream.check_end()?;
        }
        Ok(stream)
    }

    /// Whether repository `r` has blob `digest`, asked with `access` (`Push` before an upload to the same
    /// repository: one token instead of two on registries that issue tokens per scope).
    pub fn has_blob(&self, r: &Reference, digest: &Digest, access: Access) -> Result<bool, Error> {
        let url = format!("{}/blobs/{digest}", self.repo_url(r)?);
        self.exists(r, access == Access::Push, &url, &[])
    }

    /// Whether repository `r` has the manifest it names (by digest, or by tag).
    pub fn has_manifest(&self, r: &Reference) -> Result<bool, Error> {
        let url = format!("{}/manifests/{}", self.repo_url(r)?, r.manifest_reference());
        let accept = ("Accept", MANIFEST_MEDIA_TYPES.join(", "));
        self.exists(r, false, &url, &[accept])
    }

    /// `HEAD url`: 200 is there, 404 is not, anything else an error.
    fn exists(&self, r: &Reference, push: bool, url: &str, headers: &[(&str, String)]) -> Result<bool, Error> {
        let resp = self.send(r, push, Method::Head, url, headers, &[])?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            status => Err(status_error(url, status, &[])),
        }
    }

    /// Starts an upload to repository `r`.
    pub fn start_upload(&self, r: &Reference) -> Result<UploadSession, Error> {
        let url = format!("{}/blobs/uploads/", self.repo_url(r)?);
        let mut resp = self.send(r, true, Method::Post, &url, &[], &[])?;
        let status = resp.status().as_u16();
        let location = header(&resp, "location");
        let body = read_limited(&mut resp, MAX_SMALL_BODY, &url)?;
        if status != 202 {
            return Err(status_error(&url, status, &body));
        }
        UploadSession::at(&url, location)
    }

    /// Asks the registry to mount blob `digest` of repository `from` into repository `r` (the same registry):
    /// no bytes move. A registry that does not mount starts an ordinary upload instead.
    pub fn mount_blob(&self, r: &Reference, digest: &Digest, from: &Reference) -> Result<Mount, Error> {
        let url = format!(
            "{}/blobs/uploads/?mount={}&from={}",
            self.repo_url(r)?,
            percent_encode(&digest.to_string()),
            percent_encode(from.repository())
        );
        let mut resp = self.send(r, true, Method::Post, &url, &[], &[])?;
        let status = resp.status().as_u16();
        let location = header(&resp, "location");
        let body = read_limited(&mut resp, MAX_SMALL_BODY, &url)?;
        match status {
            201 => Ok(Mount::Mounted),
            202 => UploadSession::at(&url, location).map(Mount::Upload),
            _ => Err(status_error(&url, status, &body)),
        }
    }

    /// Completes `session` with blob `digest` of `size` bytes read from `body`, in one streamed request
    /// (`PUT <location>?digest=…` with `Content-Length: size`). The registry checks the digest too. The request
    /// cannot be repeated (the body is consumed), so it carries the login the session was started with; a
    /// registry that asks again is an authentication error.
    pub fn upload_stream(
        &self,
        r: &Reference,
        session: UploadSession,
        digest: &Digest,
        size: u64,
        body: &mut dyn Read,
    ) -> Result<(), Error> {
        let url = session.put_url(digest);
        let mut headers = vec![
            ("Content-Type", "application/octet-stream".to_string()),
            ("Content-Length", size.to_string()),
        ];
        if let Some(a) = self.cached_authorization(&Self::scope_key(r, true)) {
            headers.push(("Authorization", a));
        }
        let request = timeouts(with_headers(self.agent.put(&url), &headers), Transfer::Stream);
        let mut resp = request
            .send(SendBody::from_reader(body))
            .map_err(|e| Error::Transport(format!("{url}: {e}")))?;
        let status = resp.status().as_u16();
        let answer = read_limited(&mut resp, MAX_SMALL_BODY, &url)?;
        match status {
            201 => Ok(()),
            401 => Err(Error::Auth(format!(
                "{url}: the registry asked for a login during the upload"
            ))),
            _ => Err(status_error(&url, status, &answer)),
        }
    }

    /// Uploads a blob (unless the repository has it already) in one request; returns its digest.
    pub fn push_blob(&self, r: &Reference, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::sha256_of(bytes);
        if self.has_blob(r, &digest, Access::Push)? {
            return Ok(digest);
        }
        let put_url = self.start_upload(r)?.put_url(&digest);
        let mut resp = self.send(
            r,
            true,
            Method::Put,
            &put_url,
            &[("Content-Type", "application/octet-stream".to_string())],
            bytes,
        )?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, MAX_SMALL_BODY, &put_url)?;
        if status != 201 {
            return Err(status_error(&put_url, status, &body));
        }
        Ok(digest)
    }

    /// The OCI 1.1 referrers index of `digest`, or `None` when the registry has no referrers API.
    pub fn referrers(&self, r: &Reference, digest: &Digest) -> Result<Option<Vec<u8>>, Error> {
        let url = format!("{}/referrers/{digest}", self.repo_url(r)?);
        let accept = ("Accept", "application/vnd.oci.image.index.v1+json".to_string());
        let mut resp = self.send(r, false, Method::Get, &url, &[accept], &[])?;
        let status = resp.status().as_u16();
        let bytes = read_limited(&mut resp, MAX_MANIFEST_BYTES, &url)?;
        match status {
            200 => Ok(Some(bytes)),
            404 | 405 => Ok(None),
            _ => Err(status_error(&url, status, &bytes)),
        }
    }
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    // Scheme and authority of `base`, then the absolute path of `location`.
    let origin_end = base
        .find("://")
        .and_then(|i| base.get(i + 3..).and_then(|rest| rest.find('/')).map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{location}", base.get(..origin_end).unwrap_or(base))
}

/// The body, at most `max` bytes. (ureq's own limit refuses a body of exactly the limit, since it reads once
/// more to see the end; so the limit is one more, and the length checked here.)
fn read_limited(resp: &mut Response<Body>, max: u64, url: &str) -> Result<Vec<u8>, Error> {
    let too_large = || Error::TooLarge(format!("{url}: larger than {max} bytes"));
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(max.saturating_add(1))
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => too_large(),
            other => Error::Transport(format!("{url}: {other}")),
        })?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

fn status_error(url: &str, status: u16, body: &[u8]) -> Error {
    // Registries answer `{"errors":[{"code":"…","message":"…"}]}`.
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let e = v.get("errors")?.get(0)?;
            Some(format!(
                "{}: {}",
                e.get("code").and_then(|c| c.as_str()).unwrap_or("?"),
                e.get("message").and_then(|m| m.as_str()).unwrap_or("")
            ))
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    Error::Status {
        url: url.to_string(),
        status,
        message,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn challenges_and_urls() {
        let p = bearer_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        )
        .unwrap();
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull");
        assert!(bearer_challenge("Basic realm=\"x\"").is_none());
        assert_eq!(
            absolute(
                "http://127.0.0.1:5000/v2/a/blobs/uploads/",
                "/v2/a/blobs/uploads/u1?_state=s"
            ),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=s"
        );
        assert_eq!(
            absolute("http://h/v2/x", "https://s3.example/obj"),
            "https://s3.example/obj"
        );
        assert_eq!(percent_encode("sha256:ab/c d"), "sha256%3Aab%2Fc%20d");
    }

    #[test]
    fn docker_config_logins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        assert!(
            docker_config_credentials(&path).unwrap().is_empty(),
            "no file, no logins"
        );
        let auth = |s: &str| B64.encode(s);
        std::fs::write(
            &path,
            serde_json::json!({"auths": {
                "https://index.docker.io/v1/": {"auth": auth("hub:secret")},
                "localhost:5000": {"auth": auth("me:p:w")},
                "ghcr.io": {},
            }, "credsStore": "desktop"})
            .to_string(),
        )
        .unwrap();
        let c = docker_config_credentials(&path).unwrap();
        assert_eq!(c["docker.io"].username, "hub");
        assert_eq!(c["localhost:5000"].password, "p:w");
        assert!(!c.contains_key("ghcr.io"));
        std::fs::write(&path, r#"{"auths":{"x":{"auth":"not base64!"}}}"#).unwrap();
        assert!(docker_config_credentials(&path).is_err());
    }
}
