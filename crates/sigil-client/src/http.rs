//! The HTTP transport: one pooled `ureq` agent with bounded, redirect-free, timed calls.

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

use crate::Error;

/// Limits and trust for [`HttpClient`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Global timeout per call (connect + send + receive).
    pub timeout: Duration,
    /// Largest response body read.
    pub max_response_bytes: u64,
    /// `User-Agent`.
    pub user_agent: String,
    /// DER trust anchors for https instead of Mozilla's roots (a private instance's CA).
    pub root_certificates: Option<Vec<Vec<u8>>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            // rekor-tiles answers after the next checkpoint; its own clients allow 20 s or more.
            timeout: Duration::from_secs(30),
            max_response_bytes: 1 << 20,
            user_agent: concat!("sigil/", env!("CARGO_PKG_VERSION")).to_string(),
            root_certificates: None,
        }
    }
}

/// A response: status and body (bounded).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The HTTP client every service call goes through. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    options: ClientOptions,
}

impl HttpClient {
    pub fn new(options: ClientOptions) -> Result<Self, Error> {
        let roots = match &options.root_certificates {
            Some(ders) => RootCerts::new_with_certs(
                &ders
                    .iter()
                    .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
                    .collect::<Vec<_>>(),
            ),
            None => RootCerts::WebPki,
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(roots)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .timeout_global(Some(options.timeout))
            .user_agent(options.user_agent.as_str())
            .accept_encoding("identity")
            .build()
            .new_agent();
        Ok(Self { agent, options })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The underlying agent (pool and TLS trust), for protocols that need more of HTTP than the Sigstore
    /// services do (the OCI registry client: HEAD, PUT, response headers). It follows no redirects.
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// `POST url` with `body`; returns any status (the caller decides) with the body read up to the limit.
    pub(crate) fn post(
        &self,
        service: &'static str,
        url: &str,
        content_type: &str,
        accept: &str,
        bearer: Option<&str>,
        body: &[u8],
    ) -> Result<Reply, Error> {
        let mut req = self
            .agent
            .post(url)
            .header("Content-Type", content_type)
            .header("Accept", accept);
        if let Some(b) = bearer {
            req = req.header("Authorization", format!("Bearer {b}"));
        }
        let resp = req.send(body).map_err(|e| transport(service, url, &e))?;
        self.read(service, url, resp)
    }

    /// `GET url` (optionally with a bearer token, sent to this URL's host only: no redirects are followed).
    pub(crate) fn get(
        &self,
        service: &'static str,
        url: &str,
        accept: &str,
        bearer: Option<&str>,
    ) -> Result<Reply, Error> {
        let mut req = self.agent.get(url).header("Accept", accept);
        if let Some(b) = bearer {
            req = req.header("Authorization", format!("Bearer {b}"));
        }
        let resp = req.call().map_err(|e| transport(service, url, &e))?;
        self.read(service, url, resp)
    }

    fn read(
        &self,
        service: &'static str,
        url: &str,
        mut resp: ureq::http::Response<ureq::Body>,
    ) -> Result<Reply, Error> {
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.options.max_response_bytes)
            .read_to_vec()
            .map_err(|e| transport(service, url, &e))?;
        Ok(Reply { status, body })
    }
}

fn transport(service: &'static str, url: &str, e: &ureq::Error) -> Error {
    let reason = match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::BodyExceedsLimit(n) => format!("response larger than {n} bytes"),
        other => other.to_string(),
    };
    Error::Transport {
        service,
        url: url.to_string(),
        reason,
    }
}

/// Maps a non-2xx reply to [`Error::Status`] with the server's message: the `message` field of a JSON error
/// body (Fulcio, Rekor), else the body's first 300 characters of text.
pub(crate) fn require_success(service: &'static str, url: &str, reply: &Reply) -> Result<(), Error> {
    if (200..300).contains(&reply.status) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&reply.body);
    let message = serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| text.trim().to_string());
    let message: String = message.chars().take(300).collect();
    Err(Error::Status {
        service,
        url: url.to_string(),
        status: reply.status,
        message: if message.is_empty() {
            "(no message)".into()
        } else {
            message
        },
    })
}
