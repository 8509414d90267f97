#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};
use sigil_oidc::dev::{DevClaims, DevIssuer};
use sigil_oidc::{IssuerConfig, IssuerType, JwksCache, OidcConfig, Validator};

pub const NOW: i64 = 1_750_000_000;
pub const ISS_A: &str = "https://issuer-a.example";
pub const ISS_B: &str = "https://issuer-b.example";

pub fn issuer(url: &str) -> DevIssuer {
    DevIssuer::generate(url).unwrap()
}

/// A validator for the given issuers and a cache holding each dev issuer's JWKS.
pub fn setup(configs: Vec<IssuerConfig>, devs: &[&DevIssuer]) -> (Validator, JwksCache) {
    let config = OidcConfig::with_issuers(configs).unwrap();
    let cache = JwksCache::new();
    for d in devs {
        cache
            .insert(d.issuer_url(), d.jwks().to_string().as_bytes(), NOW)
            .unwrap();
    }
    (Validator::new(config), cache)
}

pub fn email_issuer(url: &str) -> IssuerConfig {
    IssuerConfig::new(url, IssuerType::Email)
}

pub fn claims_with(email: &str, extra: Value) -> DevClaims {
    let mut c = DevClaims::email(email);
    c.extra = extra.as_object().cloned().unwrap_or_default();
    c
}

/// A token with an arbitrary header and payload, signed by `dev`.
pub fn signed(dev: &DevIssuer, header: Value, payload: Value) -> String {
    dev.sign_jwt(&header, &payload).unwrap()
}

pub fn std_payload(iss: &str) -> Map<String, Value> {
    json!({
        "iss": iss, "sub": "alice@example.com", "aud": "sigstore", "email": "alice@example.com",
        "email_verified": true, "iat": NOW, "nbf": NOW, "exp": NOW + 600,
    })
    .as_object()
    .cloned()
    .unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
