//! Identity tokens as a signer sees them.
//!
//! A signer cannot verify the token (it has no reason to trust a JWKS more than the CA does; the CA does the
//! real validation). It reads the claims *unverified* for three things: the proof-of-possession subject, the
//! identity it expects in the certificate (so that the bundle is self-verified against it), and an early,
//! friendly failure when the token is expired or not meant for Sigstore. The raw token never appears in
//! `Debug` output or error messages.

use serde::Deserialize;

use crate::Error;

/// Largest token accepted (SECURITY.md O-08: bounded before decoding).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The audience Sigstore tokens carry.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// An OIDC identity token with its (unverified) claims.
#[derive(Clone)]
pub struct IdentityToken {
    raw: String,
    claims: Claims,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToken")
            .field("iss", &self.claims.iss)
            .field("sub", &self.claims.sub)
            .field("email", &self.claims.email)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Claims {
    iss: String,
    sub: String,
    aud: Vec<String>,
    exp: i64,
    nbf: Option<i64>,
    email: Option<String>,
    email_verified: bool,
    federated_issuer: Option<String>,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<serde_json::Value>,
    nbf: Option<serde_json::Value>,
    email: Option<String>,
    email_verified: Option<serde_json::Value>,
    federated_claims: Option<FederatedClaims>,
}

#[derive(Deserialize)]
struct FederatedClaims {
    connector_id: Option<String>,
}

fn numeric(v: Option<&serde_json::Value>) -> Option<i64> {
    match v? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

impl IdentityToken {
    /// Parses a compact JWS and its claims: `iss`, `sub`, `exp` required, `aud` must contain `sigstore`.
    /// Time is not checked here (see [`IdentityToken::check_time`]).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let raw = raw.trim();
        if raw.len() > MAX_TOKEN_BYTES {
            return Err(Error::Token(format!("token is larger than {MAX_TOKEN_BYTES} bytes")));
        }
        let mut parts = raw.split('.');
        let (Some(_header), Some(payload), Some(_sig), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Token("not a JWT (expected three dot-separated parts)".into()));
        };
        use base64::Engine as _;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| Error::Token("claims are not base64url".into()))?;
        let c: RawClaims =
            serde_json::from_slice(&json).map_err(|e| Error::Token(format!("claims are not a JSON object: {e}")))?;
        let iss = c
            .iss
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Token("no `iss` claim".into()))?;
        let sub = c
            .sub
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Token("no `sub` claim".into()))?;
        let exp = numeric(c.exp.as_ref()).ok_or_else(|| Error::Token("no numeric `exp` claim".into()))?;
        let aud = match c.aud {
            Some(serde_json::Value::String(s)) => vec![s],
            Some(serde_json::Value::Array(a)) => a.into_iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            _ => Vec::new(),
        };
        if !aud.iter().any(|a| a == SIGSTORE_AUDIENCE) {
            return Err(Error::Token(format!("audience does not include {SIGSTORE_AUDIENCE:?}")));
        }
        let email_verified = match c.email_verified {
            Some(serde_json::Value::Bool(b)) => b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        Ok(Self {
            raw: raw.to_string(),
            claims: Claims {
                iss,
                sub,
                aud,
                exp,
                nbf: numeric(c.nbf.as_ref()),
                email: c.email.filter(|e| !e.is_empty()),
                email_verified,
                federated_issuer: c
                    .federated_claims
                    .and_then(|f| f.connector_id)
                    .filter(|s| !s.is_empty()),
            },
        })
    }

    /// Fails if the token has expired or is not yet valid at `now` (unix seconds).
    pub fn check_time(&self, now: i64) -> Result<(), Error> {
        if self.claims.exp <= now {
            return Err(Error::Token(format!(
                "token expired {} s ago",
                now.saturating_sub(self.claims.exp)
            )));
        }
        if let Some(nbf) = self.claims.nbf {
            if nbf > now {
                return Err(Error::Token(format!("token not valid for another {} s", nbf - now)));
            }
        }
        Ok(())
    }

    /// The compact token, for the CA.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn issuer(&self) -> &str {
        &self.claims.iss
    }

    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    pub fn audience(&self) -> &[String] {
        &self.claims.aud
    }

    pub fn expires_at(&self) -> i64 {
        self.claims.exp
    }

    /// The `email` claim, only if `email_verified` is true.
    pub fn verified_email(&self) -> Option<&str> {
        self.claims.email.as_deref().filter(|_| self.claims.email_verified)
    }

    /// What the proof of possession signs (like sigstore-js 4.x): the verified `email`, else `sub`.
    pub fn challenge(&self) -> &str {
        self.verified_email().unwrap_or(&self.claims.sub)
    }

    /// The OIDC issuer the certificate will carry: `iss`, or the upstream connector of a federating issuer
    /// (`federated_claims.connector_id`, as sigstore.dev's Dex reports it).
    pub fn expected_issuer(&self) -> &str {
        self.claims.federated_issuer.as_deref().unwrap_or(&self.claims.iss)
    }

    /// The SAN the certificate will carry when the token says it (a verified email); CI identities are URIs
    /// templated by the CA and cannot be predicted here.
    pub fn expected_san(&self) -> Option<&str> {
        self.verified_email()
    }
}

/// An ambient-credential request: GitHub Actions' OIDC endpoint and the bearer token that unlocks it.
#[derive(Clone, PartialEq, Eq)]
pub struct AmbientRequest {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` with `audience=sigstore` appended.
    pub url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; send it to `url`'s host only, never across a redirect.
    pub bearer: String,
}

impl std::fmt::Debug for AmbientRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmbientRequest")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Detects GitHub Actions ambient credentials from the environment (`env` looks a variable up).
pub fn github_actions_request(env: impl Fn(&str) -> Option<String>) -> Option<AmbientRequest> {
    let url = env("ACTIONS_ID_TOKEN_REQUEST_URL").filter(|s| !s.is_empty())?;
    let bearer = env("ACTIONS_ID_TOKEN_REQUEST_TOKEN").filter(|s| !s.is_empty())?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(AmbientRequest {
        url: format!("{url}{sep}audience={SIGSTORE_AUDIENCE}"),
        bearer,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn jwt(claims: serde_json::Value) -> String {
        let b = |v: &serde_json::Value| crate::b64url(v.to_string().as_bytes());
        format!("{}.{}.c2ln", b(&serde_json::json!({"alg": "ES256"})), b(&claims))
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"iss": "https://issuer.test", "sub": "alice@example.test", "email": "alice@example.test",
            "email_verified": true, "aud": "sigstore", "iat": 100, "nbf": 100, "exp": 1000})
    }

    #[test]
    fn parses_claims_and_checks_time() {
        let t = IdentityToken::parse(&jwt(claims())).unwrap();
        assert_eq!(t.issuer(), "https://issuer.test");
        assert_eq!(t.expected_issuer(), "https://issuer.test");
        assert_eq!(t.expected_san(), Some("alice@example.test"));
        t.check_time(500).unwrap();
        assert!(t.check_time(1000).unwrap_err().to_string().contains("expired"));
        assert!(t.check_time(99).unwrap_err().to_string().contains("not valid"));
        assert!(!format!("{t:?}").contains(t.raw()), "Debug must not print the token");
    }

    #[test]
    fn rejects_malformed_tokens() {
        for bad in ["", "a.b", "a.b.c.d", "a.!!!.c", &"x".repeat(MAX_TOKEN_BYTES + 1)] {
            assert!(matches!(IdentityToken::parse(bad), Err(Error::Token(_))), "{bad:.20}");
        }
        for missing in ["iss", "sub", "exp"] {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(missing);
            let err = IdentityToken::parse(&jwt(c)).unwrap_err();
            assert!(err.to_string().contains(missing), "{err}");
        }
        let mut c = claims();
        c["aud"] = serde_json::json!(["other"]);
        assert!(
            IdentityToken::parse(&jwt(c))
                .unwrap_err()
                .to_string()
                .contains("audience")
        );
        let mut c = claims();
        c["aud"] = serde_json::json!(["other", "sigstore"]);
        IdentityToken::parse(&jwt(c)).unwrap();
    }

    #[test]
    fn proof_of_possession_signs_the_verified_email_else_sub() {
        let t = IdentityToken::parse(&jwt(claims())).unwrap();
        assert_eq!(t.challenge(), "alice@example.test");
        let mut c = claims();
        c["sub"] = serde_json::json!("1234");
        c["email_verified"] = serde_json::json!(false);
        let t = IdentityToken::parse(&jwt(c.clone())).unwrap();
        assert_eq!(t.challenge(), "1234");
        assert_eq!(t.expected_san(), None);
        c["email_verified"] = serde_json::json!("true");
        assert_eq!(
            IdentityToken::parse(&jwt(c.clone())).unwrap().challenge(),
            "alice@example.test"
        );
        c.as_object_mut().unwrap().remove("email");
        assert_eq!(IdentityToken::parse(&jwt(c)).unwrap().challenge(), "1234");
    }

    #[test]
    fn federated_issuer_is_the_connector() {
        let mut c = claims();
        c["federated_claims"] = serde_json::json!({"connector_id": "https://github.com/login/oauth"});
        let t = IdentityToken::parse(&jwt(c)).unwrap();
        assert_eq!(t.expected_issuer(), "https://github.com/login/oauth");
        assert_eq!(t.issuer(), "https://issuer.test");
    }

    #[test]
    fn github_actions_detection() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert!(github_actions_request(env(&[])).is_none());
        assert!(github_actions_request(env(&[("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh/t?x=1")])).is_none());
        let r = github_actions_request(env(&[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh/t?x=1"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "secret"),
        ]))
        .unwrap();
        assert_eq!(r.url, "https://gh/t?x=1&audience=sigstore");
        assert!(!format!("{r:?}").contains("secret"));
        let r = github_actions_request(env(&[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh/t"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "secret"),
        ]))
        .unwrap();
        assert_eq!(r.url, "https://gh/t?audience=sigstore");
    }
}
