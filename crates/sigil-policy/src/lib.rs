//! Identity policy as data: who must have signed, checked against a Fulcio certificate's identity.
//!
//! The rules that keep this safe (SECURITY.md V-06, V-07, V-09):
//! - **Regular expressions are always anchored.** A pattern is compiled as `^(?:pattern)$`, so
//!   `https://github\.com/org/.*` cannot match `https://evil.example/?https://github.com/org/x`.
//!   Leading `^`/trailing `$` are accepted and redundant.
//! - **Unescaped dots between name characters are refused** (`github.com` in a regex also matches
//!   `githubXcom`): write `github\.com`. Use `[^/]` or `\w` when any character is really meant.
//! - **Exact matches are byte-for-byte**; no case folding, no trimming.
//! - **Empty combinators are errors**: an empty `any_of` would deny everything and an empty
//!   `all_of` would allow everything; both are refused when built and when evaluated.
//! - SAN matching looks at email, URI and Fulcio OtherName (`1.3.6.1.4.1.57264.1.7`) values; a
//!   username identity (OtherName `user!domain`) never equals an email address.
//!
//! [`predicate`] holds the second kind of policy: rules over an attestation's in-toto statement
//! (`verify-attestation --policy`), checked after its signature and signer are.

pub mod predicate;

use predicate::Violation;
use sigil_x509::{FulcioIdentity, SubjectAltName};

/// Errors of this crate: building a policy, or a certificate or statement not satisfying it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex { pattern: String, reason: String },
    #[error(
        "regular expression {pattern:?} has an unescaped '.' between name characters (write \\. for a literal dot)"
    )]
    AmbiguousDot { pattern: String },
    #[error("an empty any-of policy matches nothing and is refused")]
    EmptyAnyOf,
    #[error("an empty all-of policy would match everything and is refused")]
    EmptyAllOf,
    #[error("certificate identity mismatch: no subject alternative name matches {expected} (found {found:?})")]
    SanMismatch { expected: String, found: Vec<String> },
    #[error("certificate issuer mismatch: expected {expected}, found {found:?}")]
    IssuerMismatch { expected: String, found: Option<String> },
    #[error("certificate extension {field} mismatch: expected {expected}, found {found:?}")]
    ExtensionMismatch {
        field: &'static str,
        expected: String,
        found: Option<String>,
    },
    #[error("none of the any-of policies matched: {0}")]
    NoneMatched(String),

    // Predicate policy (`predicate`): reading a policy file.
    #[error("predicate policy is {len} bytes, more than the limit of {max}")]
    PolicyTooLarge { len: usize, max: usize },
    #[error("predicate policy is not valid: {reason}")]
    PolicyFormat { reason: String },
    #[error("a predicate policy without rules checks nothing and is refused")]
    NoRules,
    #[error("predicate policy has {count} rules, more than the limit of {max}")]
    TooManyRules { count: usize, max: usize },
    /// A rule of a predicate policy is invalid; `rule` counts from 1.
    #[error("rule {rule}: {error}")]
    InvalidRule { rule: usize, error: Box<Error> },
    #[error("no check: give one of equals, matches or exists")]
    NoCheck,
    #[error("more than one check ({}): give exactly one of equals, matches or exists", .checks.join(", "))]
    ConflictingChecks { checks: Vec<&'static str> },
    #[error("a quantifier has no meaning with exists (true asks for at least one value, false for none)")]
    QuantifierWithExists,
    /// `column` counts characters from 1.
    #[error("invalid path {path:?} at character {column}: {reason}")]
    InvalidPath {
        path: String,
        column: usize,
        reason: &'static str,
    },
    #[error("path is {len} bytes, more than the limit of {max}")]
    PathTooLong { len: usize, max: usize },

    // Predicate policy: evaluating it.
    #[error("statement is {len} bytes, more than the limit of {max}")]
    StatementTooLarge { len: usize, max: usize },
    #[error("statement is not a JSON object: {reason}")]
    InvalidStatement { reason: String },
    /// The statement broke at least one rule; every broken rule is listed, in policy order.
    #[error(
        "statement does not satisfy the predicate policy ({} of {rules} rules failed): {}",
        .violations.len(),
        predicate::join(.violations)
    )]
    PredicateMismatch { rules: usize, violations: Vec<Violation> },
}

/// An anchored regular expression.
#[derive(Debug, Clone)]
pub struct AnchoredRegex {
    pattern: String,
    re: regex::Regex,
}

impl AnchoredRegex {
    /// Compiles `pattern` anchored at both ends. Refuses ambiguous dots (see the crate docs).
    pub fn new(pattern: &str) -> Result<Self, Error> {
        let inner = pattern.strip_prefix('^').unwrap_or(pattern);
        let inner = match inner.strip_suffix('$') {
            Some(s) if !s.ends_with('\\') => s,
            _ => inner,
        };
        if has_ambiguous_dot(inner) {
            return Err(Error::AmbiguousDot {
                pattern: pattern.to_string(),
            });
        }
        let re = regex::RegexBuilder::new(&format!("^(?:{inner})$"))
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .nest_limit(64)
            .build()
            .map_err(|e| Error::InvalidRegex {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            pattern: pattern.to_string(),
            re,
        })
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

/// True if an unescaped `.` outside a character class sits between two ASCII alphanumerics.
fn has_ambiguous_dot(p: &str) -> bool {
    let chars: Vec<char> = p.chars().collect();
    let mut in_class = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => i += 1,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '.' if !in_class => {
                let before = i
                    .checked_sub(1)
                    .and_then(|j| chars.get(j))
                    .is_some_and(|c| c.is_ascii_alphanumeric());
                let after = chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric());
                if before && after {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// How a value is matched.
#[derive(Debug, Clone)]
pub enum Matcher {
    Exact(String),
    Regex(AnchoredRegex),
}

impl Matcher {
    pub fn exact(s: impl Into<String>) -> Self {
        Self::Exact(s.into())
    }

    pub fn regex(pattern: &str) -> Result<Self, Error> {
        AnchoredRegex::new(pattern).map(Self::Regex)
    }

    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Self::Exact(e) => e == s,
            Self::Regex(r) => r.is_match(s),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact(e) => write!(f, "{e:?}"),
            Self::Regex(r) => write!(f, "regex {:?}", r.as_str()),
        }
    }
}

/// A Fulcio extension a policy can constrain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionField {
    /// `1.3.6.1.4.1.57264.1.2` (event that triggered the workflow).
    GithubWorkflowTrigger,
    /// `.1.3` commit SHA.
    GithubWorkflowSha,
    /// `.1.4` workflow name.
    GithubWorkflowName,
    /// `.1.5` `owner/repo`.
    GithubWorkflowRepository,
    /// `.1.6` git ref.
    GithubWorkflowRef,
    /// `.1.9` build signer URI.
    BuildSignerUri,
    /// `.1.12` source repository URI.
    SourceRepositoryUri,
    /// `.1.13` source repository digest.
    SourceRepositoryDigest,
    /// `.1.14` source repository ref.
    SourceRepositoryRef,
    /// `.1.11` runner environment.
    RunnerEnvironment,
}

impl ExtensionField {
    pub fn name(self) -> &'static str {
        match self {
            Self::GithubWorkflowTrigger => "github-workflow-trigger",
            Self::GithubWorkflowSha => "github-workflow-sha",
            Self::GithubWorkflowName => "github-workflow-name",
            Self::GithubWorkflowRepository => "github-workflow-repository",
            Self::GithubWorkflowRef => "github-workflow-ref",
            Self::BuildSignerUri => "build-signer-uri",
            Self::SourceRepositoryUri => "source-repository-uri",
            Self::SourceRepositoryDigest => "source-repository-digest",
            Self::SourceRepositoryRef => "source-repository-ref",
            Self::RunnerEnvironment => "runner-environment",
        }
    }

    fn value(self, id: &FulcioIdentity) -> Option<&str> {
        let e = &id.extensions;
        match self {
            Self::GithubWorkflowTrigger => e.github_workflow_trigger.as_deref(),
            Self::GithubWorkflowSha => e.github_workflow_sha.as_deref(),
            Self::GithubWorkflowName => e.github_workflow_name.as_deref(),
            Self::GithubWorkflowRepository => e.github_workflow_repository.as_deref(),
            Self::GithubWorkflowRef => e.github_workflow_ref.as_deref(),
            Self::BuildSignerUri => e.build_signer_uri.as_deref(),
            Self::SourceRepositoryUri => e.source_repository_uri.as_deref(),
            Self::SourceRepositoryDigest => e.source_repository_digest.as_deref(),
            Self::SourceRepositoryRef => e.source_repository_ref.as_deref(),
            Self::RunnerEnvironment => e.runner_environment.as_deref(),
        }
    }
}

/// An identity policy.
#[derive(Debug, Clone)]
pub enum Policy {
    /// A subject alternative name (email, URI or OtherName) matches.
    San(Matcher),
    /// The OIDC issuer (`.1.8`, falling back to `.1.1`) matches.
    Issuer(Matcher),
    /// A Fulcio extension is present and matches.
    Extension(ExtensionField, Matcher),
    /// Every policy holds (never empty).
    AllOf(Vec<Policy>),
    /// At least one policy holds (never empty).
    AnyOf(Vec<Policy>),
}

impl Policy {
    /// The usual policy: SAN and issuer both match.
    pub fn identity(san: Matcher, issuer: Matcher) -> Self {
        Self::AllOf(vec![Self::San(san), Self::Issuer(issuer)])
    }

    pub fn all_of(policies: Vec<Policy>) -> Result<Self, Error> {
        if policies.is_empty() {
            Err(Error::EmptyAllOf)
        } else {
            Ok(Self::AllOf(policies))
        }
    }

    pub fn any_of(policies: Vec<Policy>) -> Result<Self, Error> {
        if policies.is_empty() {
            Err(Error::EmptyAnyOf)
        } else {
            Ok(Self::AnyOf(policies))
        }
    }

    /// Checks the identity; the error names the first constraint that failed.
    pub fn evaluate(&self, id: &FulcioIdentity) -> Result<(), Error> {
        match self {
            Self::San(m) => {
                let values: Vec<&str> = id.sans.iter().filter_map(san_value).collect();
                if values.iter().any(|v| m.is_match(v)) {
                    Ok(())
                } else {
                    Err(Error::SanMismatch {
                        expected: m.to_string(),
                        found: values.iter().map(|s| s.to_string()).collect(),
                    })
                }
            }
            Self::Issuer(m) => match id.issuer.as_deref() {
                Some(i) if m.is_match(i) => Ok(()),
                found => Err(Error::IssuerMismatch {
                    expected: m.to_string(),
                    found: found.map(str::to_string),
                }),
            },
            Self::Extension(field, m) => match field.value(id) {
                Some(v) if m.is_match(v) => Ok(()),
                found => Err(Error::ExtensionMismatch {
                    field: field.name(),
                    expected: m.to_string(),
                    found: found.map(str::to_string),
                }),
            },
            Self::AllOf(ps) => {
                if ps.is_empty() {
                    return Err(Error::EmptyAllOf);
                }
                ps.iter().try_for_each(|p| p.evaluate(id))
            }
            Self::AnyOf(ps) => {
                let mut errors = Vec::new();
                for p in ps {
                    match p.evaluate(id) {
                        Ok(()) => return Ok(()),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                if errors.is_empty() {
                    Err(Error::EmptyAnyOf)
                } else {
                    Err(Error::NoneMatched(errors.join("; ")))
                }
            }
        }
    }
}

fn san_value(s: &SubjectAltName) -> Option<&str> {
    match s {
        SubjectAltName::Email(v) | SubjectAltName::Uri(v) | SubjectAltName::OtherName(v) => Some(v),
        _ => None,
    }
}
