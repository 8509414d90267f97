//! Request bodies with a size limit (413, checked on `Content-Length` before reading and while reading chunked
//! bodies: L-02), a time limit (408: R-02) and a media-type check (415).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use http_body_util::BodyExt as _;

use crate::HttpError;

/// How much body a route accepts, how fast it must arrive, and in which media types.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_body: usize,
    pub timeout: Duration,
    /// Accepted `Content-Type` media types (case-insensitive, parameters ignored). A missing header is accepted
    /// as the first type, as Rekor and Fulcio do.
    pub media_types: &'static [&'static str],
}

impl BodyLimits {
    /// JSON bodies up to `max_body` bytes, 10 s to arrive.
    pub const fn json(max_body: usize) -> Self {
        Self {
            max_body,
            timeout: Duration::from_secs(10),
            media_types: &["application/json"],
        }
    }
}

/// Reads a whole request body within `limits`; returns the request head as well.
pub async fn read_body(req: Request, limits: &BodyLimits) -> Result<(Parts, Bytes), HttpError> {
    let (parts, body) = req.into_parts();
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        // Bounded by hyper's header limits; compared without allocating per parameter.
        let ct = ct.to_str().unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !limits.media_types.iter().any(|m| mime.eq_ignore_ascii_case(m)) {
            let shown: String = mime.chars().take(64).collect();
            return Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported media type {shown:?}; expected {}",
                    limits.media_types.join(" or ")
                ),
            ));
        }
    }
    let too_large = || {
        HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds {} bytes", limits.max_body),
        )
    };
    if let Some(len) = parts.headers.get(header::CONTENT_LENGTH) {
        let len: u64 = len
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| HttpError::bad_request("bad Content-Length"))?;
        if len > limits.max_body as u64 {
            return Err(too_large());
        }
    }
    let limited = http_body_util::Limited::new(body, limits.max_body);
    match tokio::time::timeout(limits.timeout, limited.collect()).await {
        Err(_) => Err(HttpError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request body not received in time",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(HttpError::bad_request(format!("reading the request body: {e}"))),
        Ok(Ok(collected)) => Ok((parts, collected.to_bytes())),
    }
}
