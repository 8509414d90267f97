//! Fixed material shared by the fuzz targets and the seed generator (`examples/seeds.rs`): a development OIDC
//! issuer key, the issuer configuration it is trusted under, the proof-of-possession challenge and the TSA
//! policy. Fixed, so that seeds minted once keep validating in every run and a crash reproduces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

/// The TSA policy the `tsa_request` target parses against.
pub const TSA_POLICY: &str = "1.3.6.1.4.1.57264.2";
/// The identity a `publicKeyRequest` proves possession for in the `ca_request` target.
pub const CHALLENGE: &str = "fuzz@example.com";
/// `now` for token validation; seed tokens are minted at [`MINTED_AT`] for an hour.
pub const NOW: i64 = MINTED_AT + 60;
/// When the seed tokens were minted.
pub const MINTED_AT: i64 = 1_750_000_000;

/// A P-256 key generated once with `openssl genpkey` for fuzzing only (it signs nothing real).
const DEV_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgIkJTRyg8YTY5a9pO
nIA/IgrxwPWl0sR7eQDPTwficyehRANCAARUwAI+kdRDSDZSBVTjcDczzy8+cdAG
521jF9kqwtO9ZOPCe6ZUPEeWVz6BjwClPCKY6iDO63C8EkGBW0RtMOWc
-----END PRIVATE KEY-----
";

/// An RSA-2048 public key (for key-policy seeds; its private half was discarded).
pub const RSA_2048_SPKI_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxZmB/P6WaOHVBMxTN+uW
XL5qgvalvuE0eeNZlYts+FQfKTAu8Qy8jRdtHHp1Lyn8iW+vNSMjG+xrf8cgGA23
VjH0HaCiI5mpjyImcxbux1QQk1bX+fbL2A5XblekGASbF8ATKws2ivB9xgjDgLxr
NXc7V2FQLhiie2PePziOp+LkqO+/+HPhGRyNLmpARIaL7NItk5O+/wmnSY+IchC4
q4CbVOHt2vG4EHLlP2LsRg/XnFk3qJeG+v74XLKnCPOXkYeJuv3zh0wrMm+HsuF8
2sh+4XSoooHpwINzisGkOViChju9OwZ2dsHV2CZDdlOGbt5gqC9vFBcEkxacgPKy
9QIDAQAB
-----END PUBLIC KEY-----
";

/// The issuer configuration (every issuer type, meta issuers, a custom CI provider).
pub const OIDC_CONFIG_JSON: &str = include_str!("../../crates/sigil-oidc/testdata/config.json");

/// A concrete URL matching one of the configuration's meta issuers.
pub const META_ISSUER_URL: &str = "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c";

/// The development issuer's key, as PKCS#8 DER.
pub fn dev_key_der() -> Vec<u8> {
    sigil_crypto::pem_decode_one(DEV_KEY_PEM, "PRIVATE KEY").unwrap()
}

/// The development issuer for `issuer_url` (always the same key and `kid`).
pub fn dev_issuer(issuer_url: &str) -> sigil_oidc::dev::DevIssuer {
    sigil_oidc::dev::DevIssuer::from_pkcs8_der(&dev_key_der(), issuer_url).unwrap()
}

/// Every issuer URL the configuration trusts, plus one matching a meta issuer.
pub fn issuer_urls() -> Vec<String> {
    let config = sigil_oidc::OidcConfig::from_json(OIDC_CONFIG_JSON.as_bytes()).unwrap();
    let mut urls: Vec<String> = config.issuers().map(|i| i.issuer_url.clone()).collect();
    urls.push(META_ISSUER_URL.to_owned());
    urls
}

/// The validator and a JWKS cache holding the development key for every configured issuer; built once.
pub fn oidc() -> &'static (sigil_oidc::Validator, sigil_oidc::JwksCache) {
    static OIDC: OnceLock<(sigil_oidc::Validator, sigil_oidc::JwksCache)> = OnceLock::new();
    OIDC.get_or_init(|| {
        let config = sigil_oidc::OidcConfig::from_json(OIDC_CONFIG_JSON.as_bytes()).unwrap();
        let jwks = serde_json::to_vec(&dev_issuer("https://unused.example").jwks()).unwrap();
        let cache = sigil_oidc::JwksCache::new();
        for url in issuer_urls() {
            cache.insert(&url, &jwks, MINTED_AT).unwrap();
        }
        (sigil_oidc::Validator::new(config), cache)
    })
}
