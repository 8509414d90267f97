//! TLS for services that face a network: a rustls server configuration (aws-lc-rs provider, HTTP/1.1 ALPN only)
//! from PEM files an operator supplies.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

/// A TLS server configuration built from a PEM certificate chain (leaf first) and a PEM private key (PKCS#8,
/// SEC1 `EC PRIVATE KEY`, or PKCS#1 `RSA PRIVATE KEY`).
pub fn server_config(cert_chain_pem: &str, key_pem: &str) -> Result<Arc<ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = sigil_crypto::pem_blocks(cert_chain_pem)
        .map_err(|e| format!("certificate chain: {e}"))?
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| CertificateDer::from(der))
        .collect();
    if certs.is_empty() {
        return Err("certificate chain: no CERTIFICATE block".into());
    }
    let blocks = sigil_crypto::pem_blocks(key_pem).map_err(|e| format!("private key: {e}"))?;
    let key = blocks
        .into_iter()
        .find_map(|(label, der)| match label.as_str() {
            "PRIVATE KEY" => Some(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der))),
            "EC PRIVATE KEY" => Some(PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der))),
            "RSA PRIVATE KEY" => Some(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der))),
            _ => None,
        })
        .ok_or("private key: no PRIVATE KEY block")?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    // HTTP/1.1 only, like the plain listener (no HTTP/2 attack surface, R-04).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
