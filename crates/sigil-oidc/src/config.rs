//! Issuer configuration, compatible with Fulcio's JSON configuration file.
//!
//! ```json
//! {
//!   "OIDCIssuers": {
//!     "https://accounts.example.com": {
//!       "IssuerURL": "https://accounts.example.com", "ClientID": "sigstore", "Type": "email"
//!     }
//!   },
//!   "MetaIssuers": {
//!     "https://oidc.eks.*.amazonaws.com/id/*": { "ClientID": "sigstore", "Type": "kubernetes" }
//!   },
//!   "CIIssuerMetadata": {
//!     "buildkite-job": {
//!       "DefaultTemplateValues": { "url": "https://buildkite.com" },
//!       "ExtensionTemplates": { "BuildTrigger": "build_source" },
//!       "SubjectAlternativeNameTemplate": "{{ .url }}/{{ .organization_slug }}/{{ .pipeline_slug }}"
//!     }
//!   }
//! }
//! ```
//!
//! Field names are Fulcio's. sigil adds one optional field per issuer, `AllowedJWKSHosts` (list of host names),
//! for issuers whose discovery document points `jwks_uri` at another host (Google: `www.googleapis.com`); without
//! it the JWKS must live on the issuer's own host (O-06).
//!
//! Issuers are looked up by the token's `iss` **exactly**: no trailing-slash or case normalisation (O-05). A meta
//! issuer's `*` matches one or more characters of `[A-Za-z0-9-]`, and the whole pattern is anchored at both ends,
//! so a `*` never spans a `.`, `/`, `@`, `?` or `:`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Error;
use crate::template::Template;

/// Largest configuration file accepted.
pub const MAX_CONFIG_LEN: usize = 1 << 20;
/// Most issuers (fixed plus meta) in one configuration.
pub const MAX_ISSUERS: usize = 256;
/// Most CI providers in one configuration.
pub const MAX_CI_PROVIDERS: usize = 64;
/// Longest issuer URL or pattern.
pub const MAX_ISSUER_URL_LEN: usize = 512;
/// Longest claim template.
pub const MAX_TEMPLATE_LEN: usize = 1024;
/// The audience used when an issuer's `ClientID` is empty.
pub const DEFAULT_CLIENT_ID: &str = "sigstore";

/// How an issuer's tokens become a certificate identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuerType {
    /// rfc822Name SAN from the `email` claim; `email_verified` must be true.
    Email,
    /// A CI provider: SAN and extensions rendered from claim templates of the named [`CiProviderMetadata`].
    /// Fulcio's `github-workflow` and `gitlab-pipeline` types are CI providers of those names.
    CiProvider(String),
    /// URI SAN = `sub`, a SPIFFE ID inside the configured trust domain.
    Spiffe,
    /// URI SAN `https://kubernetes.io/namespaces/{ns}/serviceaccounts/{sa}`.
    Kubernetes,
    /// URI SAN = `sub`, which must be inside `SubjectDomain`.
    Uri,
    /// OtherName SAN `sub!SubjectDomain` (never an email SAN, V-09).
    Username,
}

impl IssuerType {
    /// Fulcio's name for the type.
    pub fn name(&self) -> &str {
        match self {
            Self::Email => "email",
            Self::CiProvider(p) if p == GITHUB_WORKFLOW => GITHUB_WORKFLOW,
            Self::CiProvider(p) if p == GITLAB_PIPELINE => GITLAB_PIPELINE,
            Self::CiProvider(_) => "ci-provider",
            Self::Spiffe => "spiffe",
            Self::Kubernetes => "kubernetes",
            Self::Uri => "uri",
            Self::Username => "username",
        }
    }
}

/// The CI provider name (and Fulcio type) of GitHub Actions.
pub const GITHUB_WORKFLOW: &str = "github-workflow";
/// The CI provider name (and Fulcio type) of GitLab CI.
pub const GITLAB_PIPELINE: &str = "gitlab-pipeline";
/// Fulcio's older per-provider type names; each is a CI provider of the same name whose metadata must be configured.
const LEGACY_CI_TYPES: &[&str] = &["buildkite-job", "codefresh-workflow", "circleci-job"];

/// One configured issuer (for a meta issuer: resolved for one concrete `iss`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuerConfig {
    /// The exact `iss` value.
    pub issuer_url: String,
    /// The audience tokens must carry.
    pub client_id: String,
    /// How claims map to an identity.
    pub issuer_type: IssuerType,
    /// Email issuers only: a `$.a.b` path to the claim holding the upstream issuer (federation, e.g. Dex).
    pub issuer_claim: Option<String>,
    /// `uri`: `scheme://host` subjects must live in; `username`: the domain after `!`.
    pub subject_domain: Option<String>,
    /// `spiffe`: the trust domain.
    pub spiffe_trust_domain: Option<String>,
    /// `email`: accept tokens without `email_verified: true`.
    pub skip_email_verification: bool,
    /// The claim a proof of possession signs, when not the type's default.
    pub challenge_claim: Option<String>,
    /// Hosts other than the issuer's own that may serve its JWKS.
    pub allowed_jwks_hosts: Vec<String>,
}

/// One CI provider's claim templates. Extension keys are certificate arcs `1.3.6.1.4.1.57264.1.<arc>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiProviderMetadata {
    /// Values used when a template names a claim the token lacks. Claims win over defaults.
    pub default_template_values: BTreeMap<String, String>,
    /// Arc → template.
    pub extension_templates: BTreeMap<u8, Template>,
    /// The SAN (a URI).
    pub san_template: Template,
}

/// A loaded, validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    issuers: BTreeMap<String, IssuerConfig>,
    meta_issuers: Vec<(MetaPattern, IssuerConfig)>,
    ci_metadata: BTreeMap<String, CiProviderMetadata>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(rename = "OIDCIssuers", default)]
    oidc_issuers: BTreeMap<String, RawIssuer>,
    #[serde(rename = "MetaIssuers", default)]
    meta_issuers: BTreeMap<String, RawIssuer>,
    #[serde(rename = "CIIssuerMetadata", default)]
    ci_issuer_metadata: BTreeMap<String, RawMetadata>,
}

#[derive(Deserialize)]
struct RawIssuer {
    #[serde(rename = "IssuerURL", default)]
    issuer_url: Option<String>,
    #[serde(rename = "ClientID", default)]
    client_id: Option<String>,
    #[serde(rename = "Type")]
    issuer_type: String,
    #[serde(rename = "IssuerClaim", default)]
    issuer_claim: Option<String>,
    #[serde(rename = "SubjectDomain", default)]
    subject_domain: Option<String>,
    #[serde(rename = "SPIFFETrustDomain", default)]
    spiffe_trust_domain: Option<String>,
    #[serde(rename = "CIProvider", default)]
    ci_provider: Option<String>,
    #[serde(rename = "SkipEmailVerification", default)]
    skip_email_verification: bool,
    #[serde(rename = "ChallengeClaim", default)]
    challenge_claim: Option<String>,
    #[serde(rename = "AllowedJWKSHosts", default)]
    allowed_jwks_hosts: Vec<String>,
}

#[derive(Deserialize)]
struct RawMetadata {
    #[serde(rename = "DefaultTemplateValues", default)]
    default_template_values: BTreeMap<String, String>,
    #[serde(rename = "ExtensionTemplates", default)]
    extension_templates: BTreeMap<String, String>,
    #[serde(rename = "SubjectAlternativeNameTemplate", default)]
    subject_alternative_name_template: String,
}

/// Fulcio's `certificate.Extensions` field names → arcs. `Issuer` is deliberately absent: the issuer value never
/// comes from a template (O-10).
const EXTENSION_NAMES: &[(&str, u8)] = &[
    ("GithubWorkflowTrigger", 2),
    ("GithubWorkflowSHA", 3),
    ("GithubWorkflowName", 4),
    ("GithubWorkflowRepository", 5),
    ("GithubWorkflowRef", 6),
    ("BuildSignerURI", 9),
    ("BuildSignerDigest", 10),
    ("RunnerEnvironment", 11),
    ("SourceRepositoryURI", 12),
    ("SourceRepositoryDigest", 13),
    ("SourceRepositoryRef", 14),
    ("SourceRepositoryIdentifier", 15),
    ("SourceRepositoryOwnerURI", 16),
    ("SourceRepositoryOwnerIdentifier", 17),
    ("BuildConfigURI", 18),
    ("BuildConfigDigest", 19),
    ("BuildTrigger", 20),
    ("RunInvocationURI", 21),
    ("SourceRepositoryVisibilityAtSigning", 22),
    ("DeploymentEnvironment", 23),
];

/// The arc of a Fulcio extension field name (`BuildSignerURI` → 9).
pub fn extension_arc(name: &str) -> Option<u8> {
    EXTENSION_NAMES.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

fn cfg_err(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

impl OidcConfig {
    /// Parses and validates a configuration from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_CONFIG_LEN {
            return Err(cfg_err(format!("file larger than {MAX_CONFIG_LEN} bytes")));
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| cfg_err(format!("json: {e}")))?;
        if !value.is_object() {
            return Err(cfg_err("the configuration must be a JSON object"));
        }
        let raw: RawConfig = serde_json::from_value(value).map_err(|e| cfg_err(format!("json: {e}")))?;
        if raw.oidc_issuers.len() + raw.meta_issuers.len() > MAX_ISSUERS {
            return Err(cfg_err(format!("more than {MAX_ISSUERS} issuers")));
        }
        if raw.ci_issuer_metadata.len() > MAX_CI_PROVIDERS {
            return Err(cfg_err(format!("more than {MAX_CI_PROVIDERS} CI providers")));
        }
        let mut ci_metadata = builtin_ci_metadata()?;
        for (name, meta) in raw.ci_issuer_metadata {
            let parsed = parse_metadata(&name, meta)?;
            ci_metadata.insert(name, parsed);
        }
        let mut issuers = BTreeMap::new();
        for (key, raw_issuer) in raw.oidc_issuers {
            let url = match &raw_issuer.issuer_url {
                Some(u) if !u.is_empty() && *u != key => {
                    return Err(cfg_err(format!("issuer key {key:?} differs from its IssuerURL {u:?}")));
                }
                _ => key.clone(),
            };
            check_issuer_url(&url, false)?;
            let issuer = build_issuer(url, raw_issuer, &ci_metadata)?;
            issuers.insert(key, issuer);
        }
        let mut meta_issuers = Vec::new();
        for (pattern, raw_issuer) in raw.meta_issuers {
            check_issuer_url(&pattern, true)?;
            let compiled = MetaPattern::new(&pattern)?;
            let issuer = build_issuer(pattern, raw_issuer, &ci_metadata)?;
            if issuer.issuer_type == IssuerType::Spiffe {
                return Err(cfg_err(
                    "spiffe meta issuers are not supported (one trust domain per issuer)",
                ));
            }
            meta_issuers.push((compiled, issuer));
        }
        Ok(Self {
            issuers,
            meta_issuers,
            ci_metadata,
        })
    }

    /// Reads and parses a configuration file (bounded by [`MAX_CONFIG_LEN`]).
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        use std::io::Read as _;
        let file = std::fs::File::open(path).map_err(|e| cfg_err(format!("open {}: {e}", path.display())))?;
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| cfg_err(format!("read {}: {e}", path.display())))?;
        Self::from_json(&bytes)
    }

    /// A configuration with exactly these fixed issuers (no meta issuers) and the built-in CI metadata.
    pub fn with_issuers(issuers: impl IntoIterator<Item = IssuerConfig>) -> Result<Self, Error> {
        let ci_metadata = builtin_ci_metadata()?;
        let mut map = BTreeMap::new();
        for issuer in issuers {
            check_issuer_url(&issuer.issuer_url, false)?;
            validate_issuer(&issuer, &ci_metadata)?;
            map.insert(issuer.issuer_url.clone(), issuer);
        }
        if map.len() > MAX_ISSUERS {
            return Err(cfg_err(format!("more than {MAX_ISSUERS} issuers")));
        }
        Ok(Self {
            issuers: map,
            meta_issuers: Vec::new(),
            ci_metadata,
        })
    }

    /// Adds (or replaces) one fixed issuer, e.g. the development issuer of `sigil serve --dev` next to the
    /// issuers from a file. Meta issuers and CI metadata are kept.
    pub fn add_issuer(&mut self, issuer: IssuerConfig) -> Result<(), Error> {
        check_issuer_url(&issuer.issuer_url, false)?;
        validate_issuer(&issuer, &self.ci_metadata)?;
        if !self.issuers.contains_key(&issuer.issuer_url) && self.issuers.len() >= MAX_ISSUERS {
            return Err(cfg_err(format!("more than {MAX_ISSUERS} issuers")));
        }
        self.issuers.insert(issuer.issuer_url.clone(), issuer);
        Ok(())
    }

    /// The configuration for a token's `iss`: an exact match among the fixed issuers, else the first meta issuer
    /// (in pattern order) whose anchored pattern matches. `None` means the issuer is unknown and nothing may be
    /// fetched for it.
    pub fn lookup(&self, iss: &str) -> Option<IssuerConfig> {
        if let Some(found) = self.issuers.get(iss) {
            return Some(found.clone());
        }
        if iss.len() > MAX_ISSUER_URL_LEN {
            return None;
        }
        self.meta_issuers
            .iter()
            .find(|(p, _)| p.matches(iss))
            .map(|(_, cfg)| IssuerConfig {
                issuer_url: iss.to_owned(),
                ..cfg.clone()
            })
    }

    /// The templates of a CI provider.
    pub fn ci_metadata(&self, provider: &str) -> Option<&CiProviderMetadata> {
        self.ci_metadata.get(provider)
    }

    /// The fixed issuers.
    pub fn issuers(&self) -> impl Iterator<Item = &IssuerConfig> {
        self.issuers.values()
    }

    /// The meta issuers, with their patterns in `issuer_url`.
    pub fn meta_issuers(&self) -> impl Iterator<Item = &IssuerConfig> {
        self.meta_issuers.iter().map(|(_, c)| c)
    }
}

impl IssuerConfig {
    /// A new issuer with the default audience and no options.
    pub fn new(issuer_url: impl Into<String>, issuer_type: IssuerType) -> Self {
        Self {
            issuer_url: issuer_url.into(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            issuer_type,
            issuer_claim: None,
            subject_domain: None,
            spiffe_trust_domain: None,
            skip_email_verification: false,
            challenge_claim: None,
            allowed_jwks_hosts: Vec::new(),
        }
    }

    /// Sets the client ID (expected audience).
    #[must_use]
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Sets the subject domain (`uri`, `username`).
    #[must_use]
    pub fn with_subject_domain(mut self, domain: impl Into<String>) -> Self {
        self.subject_domain = Some(domain.into());
        self
    }

    /// Sets the SPIFFE trust domain.
    #[must_use]
    pub fn with_spiffe_trust_domain(mut self, domain: impl Into<String>) -> Self {
        self.spiffe_trust_domain = Some(domain.into());
        self
    }

    /// Sets the issuer claim path (email issuers only).
    #[must_use]
    pub fn with_issuer_claim(mut self, path: impl Into<String>) -> Self {
        self.issuer_claim = Some(path.into());
        self
    }

    /// Accepts email tokens without `email_verified: true`. Only for issuers that verify emails another way.
    #[must_use]
    pub fn skip_email_verification_unsafe(mut self) -> Self {
        self.skip_email_verification = true;
        self
    }

    /// Allows the JWKS on another host.
    #[must_use]
    pub fn with_allowed_jwks_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_jwks_hosts.push(host.into());
        self
    }

    /// The claim a proof of possession signs: the configured challenge claim, else `email` for email issuers and
    /// `sub` for all others.
    pub fn challenge_claim_name(&self) -> &str {
        match (&self.challenge_claim, &self.issuer_type) {
            (Some(c), _) => c,
            (None, IssuerType::Email) => "email",
            (None, _) => "sub",
        }
    }
}

fn parse_type(name: &str, ci_provider: Option<&str>) -> Result<IssuerType, Error> {
    Ok(match name {
        "email" => IssuerType::Email,
        GITHUB_WORKFLOW => IssuerType::CiProvider(GITHUB_WORKFLOW.to_owned()),
        GITLAB_PIPELINE => IssuerType::CiProvider(GITLAB_PIPELINE.to_owned()),
        "ci-provider" => match ci_provider {
            Some(p) if !p.is_empty() => IssuerType::CiProvider(p.to_owned()),
            _ => return Err(cfg_err("ci-provider issuer without CIProvider")),
        },
        "spiffe" => IssuerType::Spiffe,
        "kubernetes" => IssuerType::Kubernetes,
        "uri" => IssuerType::Uri,
        "username" => IssuerType::Username,
        other if LEGACY_CI_TYPES.contains(&other) => IssuerType::CiProvider(other.to_owned()),
        other => return Err(cfg_err(format!("unknown issuer type {other:?}"))),
    })
}

fn build_issuer(
    url: String,
    raw: RawIssuer,
    ci_metadata: &BTreeMap<String, CiProviderMetadata>,
) -> Result<IssuerConfig, Error> {
    let issuer_type = parse_type(&raw.issuer_type, raw.ci_provider.as_deref())?;
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let issuer = IssuerConfig {
        issuer_url: url,
        client_id: non_empty(raw.client_id).unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned()),
        issuer_type,
        issuer_claim: non_empty(raw.issuer_claim),
        subject_domain: non_empty(raw.subject_domain),
        spiffe_trust_domain: non_empty(raw.spiffe_trust_domain),
        skip_email_verification: raw.skip_email_verification,
        challenge_claim: non_empty(raw.challenge_claim),
        allowed_jwks_hosts: raw.allowed_jwks_hosts,
    };
    validate_issuer(&issuer, ci_metadata)?;
    Ok(issuer)
}

fn validate_issuer(issuer: &IssuerConfig, ci_metadata: &BTreeMap<String, CiProviderMetadata>) -> Result<(), Error> {
    let url = &issuer.issuer_url;
    if issuer.client_id.len() > 256 {
        return Err(cfg_err(format!("{url}: ClientID too long")));
    }
    if issuer.issuer_claim.is_some() && issuer.issuer_type != IssuerType::Email {
        return Err(cfg_err(format!("{url}: only email issuers can use IssuerClaim")));
    }
    if let Some(path) = &issuer.issuer_claim {
        claim_path(path).ok_or_else(|| cfg_err(format!("{url}: IssuerClaim must look like $.a.b")))?;
    }
    if issuer.allowed_jwks_hosts.len() > 16
        || issuer
            .allowed_jwks_hosts
            .iter()
            .any(|h| h.is_empty() || h.len() > 253 || !is_hostname(h))
    {
        return Err(cfg_err(format!("{url}: AllowedJWKSHosts must be up to 16 host names")));
    }
    if let Some(c) = &issuer.challenge_claim {
        if c.len() > 128 {
            return Err(cfg_err(format!("{url}: ChallengeClaim too long")));
        }
    }
    match &issuer.issuer_type {
        IssuerType::CiProvider(p) => {
            if !ci_metadata.contains_key(p) {
                return Err(cfg_err(format!("{url}: no CIIssuerMetadata for CI provider {p:?}")));
            }
        }
        IssuerType::Spiffe => {
            let td = issuer
                .spiffe_trust_domain
                .as_deref()
                .ok_or_else(|| cfg_err(format!("{url}: spiffe issuer needs SPIFFETrustDomain")))?;
            if !is_trust_domain(td) {
                return Err(cfg_err(format!("{url}: invalid SPIFFE trust domain")));
            }
        }
        IssuerType::Uri => {
            let domain = issuer
                .subject_domain
                .as_deref()
                .ok_or_else(|| cfg_err(format!("{url}: uri issuer needs SubjectDomain")))?;
            let (scheme, host) = split_scheme_host(domain)
                .ok_or_else(|| cfg_err(format!("{url}: SubjectDomain for uri must be scheme://host")))?;
            if scheme.is_empty() || !is_hostname(host) {
                return Err(cfg_err(format!("{url}: SubjectDomain for uri must be scheme://host")));
            }
        }
        IssuerType::Username => {
            let domain = issuer
                .subject_domain
                .as_deref()
                .ok_or_else(|| cfg_err(format!("{url}: username issuer needs SubjectDomain")))?;
            if domain.contains("://") || !is_hostname(domain) {
                return Err(cfg_err(format!(
                    "{url}: SubjectDomain for username must be a host name without scheme"
                )));
            }
        }
        IssuerType::Email | IssuerType::Kubernetes => {}
    }
    Ok(())
}

fn check_issuer_url(url: &str, meta: bool) -> Result<(), Error> {
    if url.is_empty() || url.len() > MAX_ISSUER_URL_LEN {
        return Err(cfg_err("issuer URL empty or too long"));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(cfg_err(format!(
            "issuer URL {url:?} must start with https:// or http://"
        )));
    }
    if url.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(cfg_err(format!("issuer URL {url:?} must be printable ASCII")));
    }
    if !meta && url.contains('*') {
        return Err(cfg_err(format!(
            "fixed issuer URL {url:?} contains '*' (use MetaIssuers)"
        )));
    }
    Ok(())
}

/// `$.a.b` → `["a", "b"]`.
pub(crate) fn claim_path(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix("$.")?;
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.is_empty() || parts.len() > 8 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(parts)
}

/// `scheme://host[:port]` (nothing after the authority except an optional `/`).
pub(crate) fn split_scheme_host(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.contains(['/', '?', '#', '@']) {
        return None;
    }
    Some((scheme, host))
}

/// A DNS host name, optionally with `:port`.
pub(crate) fn is_hostname(h: &str) -> bool {
    let host = match h.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => h,
    };
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A SPIFFE trust domain: lowercase letters, digits, `.`, `-`, `_`.
pub(crate) fn is_trust_domain(td: &str) -> bool {
    !td.is_empty()
        && td.len() <= 255
        && td
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

/// An anchored meta-issuer pattern: literal text and `*` wildcards, each matching one or more `[A-Za-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MetaPattern {
    tokens: Vec<Tok>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Star,
}

fn wildcard_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

impl MetaPattern {
    fn new(pattern: &str) -> Result<Self, Error> {
        if pattern.contains("**") {
            return Err(cfg_err(format!("meta issuer {pattern:?} has adjacent wildcards")));
        }
        let (_, after_scheme) = pattern
            .split_once("://")
            .ok_or_else(|| cfg_err(format!("meta issuer {pattern:?} has no scheme")))?;
        let host = after_scheme.split('/').next().unwrap_or_default();
        if host.is_empty() || host.starts_with('*') && !host.contains('.') {
            return Err(cfg_err(format!(
                "meta issuer {pattern:?} must name a fixed host suffix"
            )));
        }
        let tokens = pattern
            .bytes()
            .map(|b| if b == b'*' { Tok::Star } else { Tok::Lit(b) })
            .collect();
        Ok(Self { tokens })
    }

    /// Anchored match by dynamic programming over (pattern position, input position): O(n·m), no backtracking.
    fn matches(&self, s: &str) -> bool {
        let input = s.as_bytes();
        // reach[j]: the pattern prefix processed so far matches input[..j].
        // in_star[j]: additionally, the last token was a `*` that may still extend.
        let n = input.len();
        let mut reach = vec![false; n + 1];
        if let Some(r) = reach.first_mut() {
            *r = true;
        }
        for tok in &self.tokens {
            let mut next = vec![false; n + 1];
            match tok {
                Tok::Lit(c) => {
                    for j in 0..n {
                        if reach.get(j).copied().unwrap_or(false) && input.get(j) == Some(c) {
                            if let Some(slot) = next.get_mut(j + 1) {
                                *slot = true;
                            }
                        }
                    }
                }
                Tok::Star => {
                    // One or more wildcard characters after any reachable position.
                    let mut active = false;
                    for j in 0..n {
                        let start = reach.get(j).copied().unwrap_or(false);
                        let ch_ok = input.get(j).is_some_and(|b| wildcard_char(*b));
                        active = ch_ok && (active || start);
                        if active {
                            if let Some(slot) = next.get_mut(j + 1) {
                                *slot = true;
                            }
                        }
                    }
                }
            }
            reach = next;
        }
        reach.get(n).copied().unwrap_or(false)
    }
}

fn parse_metadata(name: &str, raw: RawMetadata) -> Result<CiProviderMetadata, Error> {
    if raw.default_template_values.len() > 64 || raw.extension_templates.len() > EXTENSION_NAMES.len() {
        return Err(cfg_err(format!("CI provider {name:?}: too many defaults or templates")));
    }
    for (k, v) in &raw.default_template_values {
        if k.len() > 128 || v.len() > MAX_TEMPLATE_LEN {
            return Err(cfg_err(format!("CI provider {name:?}: default value too long")));
        }
    }
    let mut extension_templates = BTreeMap::new();
    for (field, text) in &raw.extension_templates {
        let arc = extension_arc(field)
            .ok_or_else(|| cfg_err(format!("CI provider {name:?}: unknown extension {field:?}")))?;
        let t = Template::parse(text).map_err(|e| cfg_err(format!("CI provider {name:?}, {field}: {e}")))?;
        extension_templates.insert(arc, t);
    }
    if raw.subject_alternative_name_template.is_empty() {
        return Err(cfg_err(format!(
            "CI provider {name:?}: SubjectAlternativeNameTemplate is required"
        )));
    }
    let san_template = Template::parse(&raw.subject_alternative_name_template)
        .map_err(|e| cfg_err(format!("CI provider {name:?}, SAN: {e}")))?;
    Ok(CiProviderMetadata {
        default_template_values: raw.default_template_values,
        extension_templates,
        san_template,
    })
}

/// GitHub Actions and GitLab CI, as Fulcio's public configuration defines them (claim names from the providers'
/// token documentation). A configuration's own `CIIssuerMetadata` entry of the same name replaces these.
fn builtin_ci_metadata() -> Result<BTreeMap<String, CiProviderMetadata>, Error> {
    let github = RawMetadata {
        default_template_values: [("url", "https://github.com"), ("environment", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        extension_templates: [
            ("GithubWorkflowTrigger", "event_name"),
            ("GithubWorkflowSHA", "sha"),
            ("GithubWorkflowName", "workflow"),
            ("GithubWorkflowRepository", "repository"),
            ("GithubWorkflowRef", "ref"),
            ("BuildSignerURI", "{{ .url }}/{{ .job_workflow_ref }}"),
            ("BuildSignerDigest", "job_workflow_sha"),
            ("RunnerEnvironment", "runner_environment"),
            ("SourceRepositoryURI", "{{ .url }}/{{ .repository }}"),
            ("SourceRepositoryDigest", "sha"),
            ("SourceRepositoryRef", "ref"),
            ("SourceRepositoryIdentifier", "repository_id"),
            ("SourceRepositoryOwnerURI", "{{ .url }}/{{ .repository_owner }}"),
            ("SourceRepositoryOwnerIdentifier", "repository_owner_id"),
            ("BuildConfigURI", "{{ .url }}/{{ .workflow_ref }}"),
            ("BuildConfigDigest", "workflow_sha"),
            ("BuildTrigger", "event_name"),
            (
                "RunInvocationURI",
                "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}",
            ),
            ("SourceRepositoryVisibilityAtSigning", "repository_visibility"),
            ("DeploymentEnvironment", "environment"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        subject_alternative_name_template: "{{ .url }}/{{ .job_workflow_ref }}".to_owned(),
    };
    let gitlab = RawMetadata {
        default_template_values: [("url", "https://gitlab.com"), ("environment", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        extension_templates: [
            ("BuildSignerURI", "https://{{ .ci_config_ref_uri }}"),
            ("BuildSignerDigest", "ci_config_sha"),
            ("RunnerEnvironment", "runner_environment"),
            ("SourceRepositoryURI", "{{ .url }}/{{ .project_path }}"),
            ("SourceRepositoryDigest", "sha"),
            (
                "SourceRepositoryRef",
                "refs/{{if eq .ref_type \"branch\"}}heads/{{ else }}tags/{{end}}{{ .ref }}",
            ),
            ("SourceRepositoryIdentifier", "project_id"),
            ("SourceRepositoryOwnerURI", "{{ .url }}/{{ .namespace_path }}"),
            ("SourceRepositoryOwnerIdentifier", "namespace_id"),
            ("BuildConfigURI", "https://{{ .ci_config_ref_uri }}"),
            ("BuildConfigDigest", "ci_config_sha"),
            ("BuildTrigger", "pipeline_source"),
            (
                "RunInvocationURI",
                "{{ .url }}/{{ .project_path }}/-/jobs/{{ .job_id }}",
            ),
            ("SourceRepositoryVisibilityAtSigning", "project_visibility"),
            ("DeploymentEnvironment", "environment"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        subject_alternative_name_template: "https://{{ .ci_config_ref_uri }}".to_owned(),
    };
    let mut out = BTreeMap::new();
    out.insert(GITHUB_WORKFLOW.to_owned(), parse_metadata(GITHUB_WORKFLOW, github)?);
    out.insert(GITLAB_PIPELINE.to_owned(), parse_metadata(GITLAB_PIPELINE, gitlab)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn meta_pattern_is_anchored_and_single_fragment() {
        let p = MetaPattern::new("https://oidc.eks.*.amazonaws.com/id/*").unwrap();
        assert!(p.matches("https://oidc.eks.us-west-2.amazonaws.com/id/B02C93B6A2D30341"));
        assert!(!p.matches("https://oidc.eks.a.b.amazonaws.com/id/X"));
        assert!(!p.matches("https://oidc.eks.x.amazonaws.com/id/X/extra"));
        assert!(!p.matches("https://oidc.eks..amazonaws.com/id/X"));
        assert!(!p.matches("https://oidc.eks.x.amazonaws.com/id/"));
        assert!(!p.matches("https://oidc.eks.x.amazonaws.com/id/a_b"));
        assert!(!p.matches("xhttps://oidc.eks.x.amazonaws.com/id/a"));
        assert!(!p.matches("https://oidc.eks.x.amazonaws.com.evil/id/a"));
        assert!(!p.matches("https://oidc.eks.evil.com@x.amazonaws.com/id/a"));
    }

    #[test]
    fn builtin_metadata_parses() {
        let m = builtin_ci_metadata().unwrap();
        assert_eq!(m.get(GITHUB_WORKFLOW).unwrap().extension_templates.len(), 20);
        assert_eq!(m.get(GITLAB_PIPELINE).unwrap().extension_templates.len(), 15);
    }
}
