//! A **development-only** OIDC issuer: one in-memory P-256 key that mints ES256 ID tokens for any identity it is
//! asked for. It exists for tests and local `sigil serve` setups; anyone holding it can impersonate any email.
//! Never configure a CA to trust it outside development.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sigil_crypto::der::{Reader, tag};
use sigil_crypto::{KeyAlgorithm, Signer as _, SigningKey};

use crate::Error;

/// A development-only token issuer (ES256, P-256).
pub struct DevIssuer {
    key: SigningKey,
    issuer_url: String,
    kid: String,
    x: String,
    y: String,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer (DEVELOPMENT ONLY: mints tokens for any identity)")
            .field("issuer_url", &self.issuer_url)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The claims of a development token.
#[derive(Debug, Clone, Default)]
pub struct DevClaims {
    /// `email` (with `email_verified: true`).
    pub email: String,
    /// `sub`; defaults to `email` (what sigstore clients sign for the proof of possession either way).
    pub sub: Option<String>,
    /// `aud`; defaults to `sigstore`.
    pub audience: Option<String>,
    /// Further claims, added last (they can override the standard ones, e.g. to mint a bad token in a test).
    pub extra: Map<String, Value>,
}

impl DevClaims {
    /// Claims for `email`.
    pub fn email(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            ..Self::default()
        }
    }
}

impl DevIssuer {
    /// A development issuer with a fresh key.
    pub fn generate(issuer_url: impl Into<String>) -> Result<Self, Error> {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| Error::Signing(e.to_string()))?;
        Self::from_key(key, issuer_url.into())
    }

    /// A development issuer from a PKCS#8 P-256 key (DER), so tokens stay valid across restarts.
    pub fn from_pkcs8_der(der: &[u8], issuer_url: impl Into<String>) -> Result<Self, Error> {
        let key = SigningKey::from_pkcs8_der(der).map_err(|e| Error::Signing(e.to_string()))?;
        Self::from_key(key, issuer_url.into())
    }

    fn from_key(key: SigningKey, issuer_url: String) -> Result<Self, Error> {
        if key.public_key().algorithm() != KeyAlgorithm::EcdsaP256 {
            return Err(Error::Signing("the development issuer needs a P-256 key".to_owned()));
        }
        let point = key.public_key().raw_key();
        let (Some(0x04), Some(x), Some(y)) = (point.first(), point.get(1..33), point.get(33..65)) else {
            return Err(Error::Signing("unexpected P-256 point encoding".to_owned()));
        };
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        // RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(sigil_crypto::sha256(canonical.as_bytes()));
        Ok(Self {
            key,
            issuer_url,
            kid,
            x,
            y,
        })
    }

    /// The issuer URL (`iss`).
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// The key ID (RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#8 DER, to persist it.
    pub fn to_pkcs8_der(&self) -> &[u8] {
        self.key.to_pkcs8_der()
    }

    /// `/.well-known/openid-configuration`.
    pub fn discovery_document(&self) -> Value {
        let iss = &self.issuer_url;
        json!({
            "issuer": iss,
            "jwks_uri": format!("{iss}/jwks"),
            "token_endpoint": format!("{iss}/token"),
            "id_token_signing_alg_values_supported": ["ES256"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["iss", "sub", "aud", "email", "email_verified", "iat", "nbf", "exp"],
        })
    }

    /// The JWKS: the one public key.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "x": self.x, "y": self.y,
            "use": "sig", "alg": "ES256", "kid": self.kid,
        }]})
    }

    /// Mints an ID token valid from `now` for `ttl_secs`.
    pub fn mint(&self, claims: &DevClaims, now: i64, ttl_secs: i64) -> Result<String, Error> {
        let mut body = Map::new();
        body.insert("iss".into(), json!(self.issuer_url));
        body.insert("sub".into(), json!(claims.sub.as_deref().unwrap_or(&claims.email)));
        body.insert(
            "aud".into(),
            json!(claims.audience.as_deref().unwrap_or(crate::config::DEFAULT_CLIENT_ID)),
        );
        body.insert("email".into(), json!(claims.email));
        body.insert("email_verified".into(), json!(true));
        body.insert("iat".into(), json!(now));
        body.insert("nbf".into(), json!(now));
        body.insert("exp".into(), json!(now.saturating_add(ttl_secs)));
        for (k, v) in &claims.extra {
            body.insert(k.clone(), v.clone());
        }
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        self.sign_jwt(&header, &Value::Object(body))
    }

    /// Signs an arbitrary header and payload with the issuer's key (for tests that need unusual tokens). The
    /// header's `alg` is not checked: the signature is always ES256.
    pub fn sign_jwt(&self, header: &Value, payload: &Value) -> Result<String, Error> {
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).map_err(|e| Error::Signing(e.to_string()))?);
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).map_err(|e| Error::Signing(e.to_string()))?);
        let signing_input = format!("{h}.{p}");
        let der = self
            .key
            .sign(signing_input.as_bytes())
            .map_err(|e| Error::Signing(e.to_string()))?;
        let raw = ecdsa_der_to_fixed(&der, 32)?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(raw)))
    }
}

/// ASN.1 `Ecdsa-Sig-Value` → JWS `r ‖ s`, each left-padded to `size` bytes.
fn ecdsa_der_to_fixed(der: &[u8], size: usize) -> Result<Vec<u8>, Error> {
    let bad = |_| Error::Signing("malformed ECDSA signature".to_owned());
    let seq = Reader::new(der).expect(tag::SEQUENCE).map_err(bad)?;
    let mut r = seq.reader();
    let mut out = Vec::with_capacity(2 * size);
    for _ in 0..2 {
        let int = r.expect(tag::INTEGER).map_err(bad)?;
        let v = int.value;
        let v = match v.iter().position(|b| *b != 0) {
            Some(i) => v.get(i..).unwrap_or_default(),
            None => &[],
        };
        if v.len() > size {
            return Err(Error::Signing("ECDSA integer too long".to_owned()));
        }
        out.extend(std::iter::repeat_n(0u8, size - v.len()));
        out.extend_from_slice(v);
    }
    Ok(out)
}
