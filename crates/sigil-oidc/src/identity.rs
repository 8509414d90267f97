//! The claim → certificate-identity mapping the CA uses.
//!
//! Every value that ends up in a certificate passes [`check_identity_value`] (C-05): no control characters, NUL,
//! line breaks or bidi controls, at most 1 KiB. The issuer value (OIDs `.1` and `.8`) is the authenticated `iss`,
//! or — only for email issuers configured with `IssuerClaim` — that claim (O-10).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::config::{IssuerConfig, IssuerType, OidcConfig, claim_path, split_scheme_host};
use crate::{Error, VerifiedToken};

/// Longest identity value (SAN, issuer, extension, challenge).
pub const MAX_IDENTITY_LEN: usize = 1024;

/// The subject alternative name of the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum San {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// OtherName of type `1.3.6.1.4.1.57264.1.7` holding `user!domain` (UTF8String).
    OtherName(String),
}

impl San {
    /// The SAN's value.
    pub fn value(&self) -> &str {
        match self {
            Self::Email(v) | Self::Uri(v) | Self::OtherName(v) => v,
        }
    }
}

/// What the CA writes into a certificate for one verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertIdentity {
    /// The one SAN.
    pub san: San,
    /// The value of OIDs `1.3.6.1.4.1.57264.1.1` and `.8`.
    pub issuer: String,
    /// Further extensions by arc under `1.3.6.1.4.1.57264.1.`: `.2`–`.6` (legacy GitHub) and `.9`–`.24`. Empty
    /// values are omitted; `.24` (the raw `sub`) is always present.
    pub extensions: BTreeMap<u8, String>,
    /// What a proof of possession must sign: `email` for email issuers, otherwise `sub` (or the configured
    /// challenge claim).
    pub challenge: String,
}

/// Arc of the token-subject extension.
pub const ARC_TOKEN_SUBJECT: u8 = 24;

/// C-05: rejects control characters (C0, DEL, C1), bidi controls and values over [`MAX_IDENTITY_LEN`] bytes.
pub fn check_identity_value(v: &str) -> Result<(), Error> {
    if v.len() > MAX_IDENTITY_LEN {
        return Err(Error::InvalidIdentity("value longer than 1 KiB"));
    }
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
    };
    if v.chars().any(bad) {
        return Err(Error::InvalidIdentity("control, line-break or bidi character"));
    }
    Ok(())
}

/// An RFC 5322 `addr-spec` restricted to what an rfc822Name SAN can hold: a dot-atom local part (no quoted
/// strings, no comments) of at most 64 bytes, `@`, and a DNS domain of at least two labels.
pub fn check_email(email: &str) -> Result<(), Error> {
    check_identity_value(email)?;
    let (local, domain) = email
        .rsplit_once('@')
        .ok_or(Error::InvalidIdentity("email without @"))?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    if local.is_empty() || local.len() > 64 || local.split('.').any(|atom| atom.is_empty() || !atom.bytes().all(atext))
    {
        return Err(Error::InvalidIdentity("email local part is not a dot-atom"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(Error::InvalidIdentity("email domain is not a DNS name"));
    }
    Ok(())
}

/// A URI for a SAN: `scheme:` then printable ASCII without spaces (an IA5String).
fn check_uri(uri: &str) -> Result<(), Error> {
    check_identity_value(uri)?;
    let (scheme, rest) = uri
        .split_once(':')
        .ok_or(Error::InvalidIdentity("uri without scheme"))?;
    let scheme_ok = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.is_empty() || !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidIdentity("not a URI"));
    }
    Ok(())
}

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, Error> {
    match claims.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::InvalidClaim(name.to_owned())),
        None => Err(Error::MissingClaim(name.to_owned())),
    }
}

/// O-09: `email_verified` must be `true` or `"true"`.
fn email_verified(claims: &Map<String, Value>) -> bool {
    match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

fn issuer_value(issuer: &IssuerConfig, claims: &Map<String, Value>) -> Result<String, Error> {
    let Some(path) = &issuer.issuer_claim else {
        return Ok(issuer.issuer_url.clone());
    };
    // Config validation allows this only for email issuers; check again so a hand-built config cannot bypass O-10.
    if issuer.issuer_type != IssuerType::Email {
        return Err(Error::Config("only email issuers can use IssuerClaim".to_owned()));
    }
    let parts = claim_path(path).ok_or_else(|| Error::Config("IssuerClaim must look like $.a.b".to_owned()))?;
    let mut cur: Option<&Value> = None;
    for (i, p) in parts.iter().enumerate() {
        cur = if i == 0 {
            claims.get(*p)
        } else {
            cur.and_then(|v| v.get(*p))
        };
    }
    match cur {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(Error::MissingClaim(path.clone())),
    }
}

/// Maps a verified token to the identity its certificate carries.
pub fn cert_identity(config: &OidcConfig, token: &VerifiedToken) -> Result<CertIdentity, Error> {
    let issuer = &token.issuer;
    let claims = &token.claims;
    let sub = token.subject.as_str();
    check_identity_value(sub)?;
    let mut extensions = BTreeMap::new();
    let san = match &issuer.issuer_type {
        IssuerType::Email => {
            let email = string_claim(claims, "email")?;
            if !issuer.skip_email_verification && !email_verified(claims) {
                return Err(Error::EmailNotVerified);
            }
            check_email(email)?;
            San::Email(email.to_owned())
        }
        IssuerType::CiProvider(provider) => {
            let meta = config
                .ci_metadata(provider)
                .ok_or_else(|| Error::Config(format!("no metadata for CI provider {provider:?}")))?;
            let defaults = &meta.default_template_values;
            for (arc, template) in &meta.extension_templates {
                let value = template.render(claims, defaults).map_err(Error::Template)?;
                if !value.is_empty() {
                    check_identity_value(&value)?;
                    extensions.insert(*arc, value);
                }
            }
            let san = meta.san_template.render(claims, defaults).map_err(Error::Template)?;
            check_uri(&san)?;
            San::Uri(san)
        }
        IssuerType::Spiffe => {
            let td = issuer
                .spiffe_trust_domain
                .as_deref()
                .ok_or(Error::InvalidIdentity("no trust domain"))?;
            let path = sub
                .strip_prefix("spiffe://")
                .and_then(|r| r.strip_prefix(td))
                .and_then(|r| r.strip_prefix('/'))
                .ok_or(Error::InvalidIdentity("sub is not a SPIFFE ID in the trust domain"))?;
            let seg_ok = |s: &str| {
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            };
            if !path.split('/').all(seg_ok) {
                return Err(Error::InvalidIdentity("invalid SPIFFE ID path"));
            }
            check_uri(sub)?;
            San::Uri(sub.to_owned())
        }
        IssuerType::Kubernetes => {
            let k8s = claims
                .get("kubernetes.io")
                .ok_or_else(|| Error::MissingClaim("kubernetes.io".to_owned()))?;
            let ns = k8s.get("namespace").and_then(Value::as_str);
            let sa = k8s
                .get("serviceaccount")
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str);
            let (Some(ns), Some(sa)) = (ns, sa) else {
                return Err(Error::InvalidClaim("kubernetes.io".to_owned()));
            };
            let name_ok = |s: &str| {
                !s.is_empty()
                    && s.len() <= 253
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
            };
            if !name_ok(ns) || !name_ok(sa) {
                return Err(Error::InvalidIdentity("kubernetes namespace or service account name"));
            }
            let uri = format!("https://kubernetes.io/namespaces/{ns}/serviceaccounts/{sa}");
            check_uri(&uri)?;
            San::Uri(uri)
        }
        IssuerType::Uri => {
            let domain = issuer
                .subject_domain
                .as_deref()
                .ok_or(Error::InvalidIdentity("no subject domain"))?;
            let (want_scheme, want_host) =
                split_scheme_host(domain).ok_or(Error::InvalidIdentity("bad subject domain"))?;
            check_uri(sub)?;
            let (scheme, rest) = sub
                .split_once("://")
                .ok_or(Error::InvalidIdentity("sub is not scheme://host"))?;
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if authority.contains('@')
                || !scheme.eq_ignore_ascii_case(want_scheme)
                || !authority.eq_ignore_ascii_case(want_host)
            {
                return Err(Error::InvalidIdentity("sub is not inside the subject domain"));
            }
            San::Uri(sub.to_owned())
        }
        IssuerType::Username => {
            let domain = issuer
                .subject_domain
                .as_deref()
                .ok_or(Error::InvalidIdentity("no subject domain"))?;
            if sub.contains('!') {
                return Err(Error::InvalidIdentity("username contains '!'"));
            }
            let value = format!("{sub}!{domain}");
            check_identity_value(&value)?;
            San::OtherName(value)
        }
    };
    check_identity_value(san.value())?;
    let issuer_val = issuer_value(issuer, claims)?;
    check_identity_value(&issuer_val)?;
    let challenge = match &issuer.challenge_claim {
        None if issuer.issuer_type == IssuerType::Email => string_claim(claims, "email")?.to_owned(),
        None => sub.to_owned(),
        Some(name) => string_claim(claims, name)?.to_owned(),
    };
    check_identity_value(&challenge)?;
    extensions.insert(ARC_TOKEN_SUBJECT, sub.to_owned());
    Ok(CertIdentity {
        san,
        issuer: issuer_val,
        extensions,
        challenge,
    })
}
