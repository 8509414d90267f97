//! ID-token validation: size and shape first, then the algorithm, then the issuer (exact match), then the key
//! from that issuer's JWKS only, then the signature, then the time and audience claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::config::{IssuerConfig, OidcConfig};
use crate::jwks::{CachedKey, JwksCache, KeyKind};
use crate::{CertIdentity, Error};

/// Longest token accepted (O-08): checked before any decoding.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Longest string claim value accepted (O-08). Identity values have a stricter limit (C-05).
pub const MAX_CLAIM_LEN: usize = 4 * 1024;
/// Most top-level claims in one token.
pub const MAX_CLAIMS: usize = 128;
/// Most entries in an `aud` array.
pub const MAX_AUDIENCES: usize = 32;
/// Default clock-skew allowance for `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;
/// Keys tried for a token without `kid`.
const MAX_KEYS_WITHOUT_KID: usize = 8;

/// Validates ID tokens against a configuration. Cheap to clone; holds no keys (see [`JwksCache`]).
#[derive(Debug, Clone)]
pub struct Validator {
    config: OidcConfig,
    leeway: i64,
}

/// The result of [`Validator::precheck`]: the token's shape, algorithm and issuer are acceptable. Nothing about
/// the token is authenticated yet; use it only to decide which issuer's keys to load.
#[derive(Debug, Clone)]
pub struct Precheck {
    /// The configuration of the token's (unverified) `iss`.
    pub issuer: IssuerConfig,
    /// The header's `alg`.
    pub alg: &'static str,
    /// The header's `kid`.
    pub kid: Option<String>,
}

/// A token whose signature, issuer, audience and times verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// The configuration of the token's issuer (a meta issuer resolved to this `iss`).
    pub issuer: IssuerConfig,
    /// `sub`.
    pub subject: String,
    /// The verified claims.
    pub claims: Map<String, Value>,
    /// The header's `alg`.
    pub alg: &'static str,
    /// The header's `kid`.
    pub kid: Option<String>,
}

impl VerifiedToken {
    /// `iss`, exactly as in the token.
    pub fn iss(&self) -> &str {
        &self.issuer.issuer_url
    }
}

/// Allowed algorithms: asymmetric only (O-01, O-02), with the key kind each needs.
fn algorithm(name: &str) -> Option<(&'static str, Algorithm, &'static [KeyKind])> {
    const RSA: &[KeyKind] = &[KeyKind::Rsa];
    Some(match name {
        "RS256" => ("RS256", Algorithm::RS256, RSA),
        "RS384" => ("RS384", Algorithm::RS384, RSA),
        "RS512" => ("RS512", Algorithm::RS512, RSA),
        "PS256" => ("PS256", Algorithm::PS256, RSA),
        "PS384" => ("PS384", Algorithm::PS384, RSA),
        "PS512" => ("PS512", Algorithm::PS512, RSA),
        "ES256" => ("ES256", Algorithm::ES256, &[KeyKind::EcP256]),
        "ES384" => ("ES384", Algorithm::ES384, &[KeyKind::EcP384]),
        "EdDSA" => ("EdDSA", Algorithm::EdDSA, &[KeyKind::Ed25519]),
        _ => return None,
    })
}

struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
}

/// O-08: size and shape before any decoding.
fn split(token: &str) -> Result<Parts<'_>, Error> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::TokenTooLarge {
            len: token.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Error::MalformedToken("not base64url"));
    }
    let mut it = token.split('.');
    let (Some(header), Some(payload), Some(_sig), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(Error::MalformedToken("not three dot-separated parts"));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(Error::MalformedToken("empty header or payload"));
    }
    Ok(Parts { header, payload })
}

fn decode_object(part: &str, what: &'static str) -> Result<Map<String, Value>, Error> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| Error::MalformedToken(what))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::MalformedToken(what)),
    }
}

fn check_claim_sizes(claims: &Map<String, Value>) -> Result<(), Error> {
    if claims.len() > MAX_CLAIMS {
        return Err(Error::ClaimTooLarge("too many claims"));
    }
    for (k, v) in claims {
        if k.len() > 256 {
            return Err(Error::ClaimTooLarge("claim name"));
        }
        if let Value::String(s) = v {
            if s.len() > MAX_CLAIM_LEN {
                return Err(Error::ClaimTooLarge("claim value"));
            }
        }
    }
    Ok(())
}

/// A NumericDate: an integer, or a finite non-negative float (truncated).
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i));
            }
            match n.as_f64() {
                #[allow(clippy::cast_possible_truncation)]
                Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f as i64)),
                _ => Err(Error::InvalidClaim(name.to_owned())),
            }
        }
        Some(_) => Err(Error::InvalidClaim(name.to_owned())),
    }
}

impl Validator {
    /// A validator with the default leeway (60 s).
    pub fn new(config: OidcConfig) -> Self {
        Self {
            config,
            leeway: DEFAULT_LEEWAY_SECS,
        }
    }

    /// Sets the clock-skew allowance (seconds, clamped to 0..=300).
    #[must_use]
    pub fn with_leeway(mut self, secs: i64) -> Self {
        self.leeway = secs.clamp(0, 300);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Shape, size, algorithm and issuer checks, without keys. An `Err(UnknownIssuer)` here means nothing may be
    /// fetched for this token.
    pub fn precheck(&self, token: &str) -> Result<Precheck, Error> {
        let parts = split(token)?;
        if parts.header.len() > 2048 {
            return Err(Error::MalformedToken("header too large"));
        }
        let header = decode_object(parts.header, "header is not a base64url JSON object")?;
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(Error::MalformedToken("header without alg"))?;
        let (alg, _, _) = algorithm(alg_name).ok_or_else(|| Error::AlgorithmNotAllowed(printable(alg_name)))?;
        if header.contains_key("crit") {
            return Err(Error::MalformedToken("critical header parameters are not supported"));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(k)) if k.len() <= 256 => Some(k.clone()),
            Some(_) => return Err(Error::MalformedToken("kid is not a short string")),
        };
        let claims = decode_object(parts.payload, "payload is not a base64url JSON object")?;
        check_claim_sizes(&claims)?;
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::MissingClaim("iss".to_owned()))?;
        let issuer = self.config.lookup(iss).ok_or(Error::UnknownIssuer)?;
        Ok(Precheck { issuer, alg, kid })
    }

    /// Validates `token` at time `now` (unix seconds) with keys from `jwks`.
    ///
    /// Errors that tell the caller to fetch keys and retry: [`Error::NoKeys`] (nothing cached for the issuer) and
    /// [`Error::UnknownKeyId`] (refresh only if [`JwksCache::may_refresh_for_unknown_kid`] allows it).
    pub fn validate(&self, token: &str, now: i64, jwks: &JwksCache) -> Result<VerifiedToken, Error> {
        let pre = self.precheck(token)?;
        let (alg_name, alg, kinds) =
            algorithm(pre.alg).ok_or_else(|| Error::AlgorithmNotAllowed(pre.alg.to_owned()))?;
        // O-12: keys only from the JWKS of this token's issuer.
        let keys = jwks.keys(&pre.issuer.issuer_url).ok_or(Error::NoKeys)?;
        let compatible = |k: &CachedKey| kinds.contains(&k.kind) && k.alg.as_deref().is_none_or(|a| a == alg_name);
        let candidates: Vec<&CachedKey> = match &pre.kid {
            Some(kid) => {
                let key = keys
                    .keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                    .ok_or(Error::UnknownKeyId)?;
                if !compatible(key) {
                    return Err(Error::KeyMismatch);
                }
                vec![key]
            }
            None => {
                let c: Vec<&CachedKey> = keys
                    .keys
                    .iter()
                    .filter(|k| compatible(k))
                    .take(MAX_KEYS_WITHOUT_KID)
                    .collect();
                if c.is_empty() {
                    return Err(Error::KeyMismatch);
                }
                c
            }
        };
        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        let mut verified = None;
        for key in candidates {
            if let Ok(data) = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation) {
                verified = Some(data.claims);
                break;
            }
        }
        let claims = verified.ok_or(Error::BadSignature)?;
        // The signed payload is the one prechecked, but re-derive everything from the verified claims.
        if claims.get("iss").and_then(Value::as_str) != Some(pre.issuer.issuer_url.as_str()) {
            return Err(Error::UnknownIssuer);
        }
        self.check_times(&claims, now)?;
        check_audience(&claims, &pre.issuer.client_id)?;
        let subject = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(Error::InvalidClaim("sub".to_owned())),
            None => return Err(Error::MissingClaim("sub".to_owned())),
        };
        Ok(VerifiedToken {
            issuer: pre.issuer,
            subject,
            claims,
            alg: alg_name,
            kid: pre.kid,
        })
    }

    /// Validates and maps the token to a certificate identity in one step.
    pub fn validate_identity(
        &self,
        token: &str,
        now: i64,
        jwks: &JwksCache,
    ) -> Result<(VerifiedToken, CertIdentity), Error> {
        let verified = self.validate(token, now, jwks)?;
        let identity = crate::identity::cert_identity(&self.config, &verified)?;
        Ok((verified, identity))
    }

    fn check_times(&self, claims: &Map<String, Value>, now: i64) -> Result<(), Error> {
        let exp = numeric_date(claims, "exp")?.ok_or_else(|| Error::MissingClaim("exp".to_owned()))?;
        if now >= exp.saturating_add(self.leeway) {
            return Err(Error::Expired);
        }
        if let Some(nbf) = numeric_date(claims, "nbf")? {
            if nbf > now.saturating_add(self.leeway) {
                return Err(Error::NotYetValid);
            }
        }
        if let Some(iat) = numeric_date(claims, "iat")? {
            if iat > now.saturating_add(self.leeway) {
                return Err(Error::IssuedInFuture);
            }
        }
        Ok(())
    }
}

/// O-03: a string equal to the client ID, or a non-empty array of strings containing it (exact comparison).
fn check_audience(claims: &Map<String, Value>, client_id: &str) -> Result<(), Error> {
    match claims.get("aud") {
        Some(Value::String(a)) if a == client_id => Ok(()),
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= MAX_AUDIENCES => {
            let mut found = false;
            for v in list {
                match v {
                    Value::String(a) => found |= a == client_id,
                    _ => return Err(Error::InvalidAudience),
                }
            }
            if found { Ok(()) } else { Err(Error::InvalidAudience) }
        }
        _ => Err(Error::InvalidAudience),
    }
}

/// A short, printable rendering of an untrusted value for an error message.
fn printable(s: &str) -> String {
    s.chars()
        .take(32)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}
