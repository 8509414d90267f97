//! The HTTP plumbing every sigil service shares: the accept loop (HTTP/1.1 only, header-read timeout, connection
//! cap, graceful shutdown), request bodies read with a size limit and a time limit, the `{"code","message"}` error
//! body, and request metrics whose label sets are fixed.
//!
//! Services (the log, the CA, the timestamp authority, the dev OIDC issuer) build axum routers and hand them to
//! [`serve`]; `sigil serve` merges several routers onto one listener.

mod body;
mod error;
mod metrics;
mod query;
mod server;
mod tls;

pub use body::{BodyLimits, read_body};
pub use error::HttpError;
pub use metrics::{Histogram, RouteMetrics, SECONDS};
pub use query::{form_decode, percent_decode, query_params, required_u64, u64_param};
/// A TLS server configuration (rustls).
pub use rustls::ServerConfig as TlsConfig;
pub use server::{ServerOptions, serve, serve_with_tls};
pub use tls::server_config as tls_server_config;
