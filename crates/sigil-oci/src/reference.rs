//! Image references (`registry/repository[:tag][@sha256:…]`) and content digests, parsed strictly by the OCI
//! distribution grammar.
//!
//! Docker's conventions apply where a reference names no registry: `alpine` is
//! `docker.io/library/alpine:latest`. The first path component is a registry only if it contains a `.` or a
//! `:`, or is `localhost`.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Longest reference accepted (the distribution spec bounds repository names at 255 characters).
pub const MAX_REFERENCE_LEN: usize = 1024;
const MAX_REPOSITORY_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;
/// The registry a reference without one names, and the host its API is at.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A content digest: `sha256:<64 lowercase hex>` (or `sha512:<128 hex>`, read but never written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: &'static str,
    hex: String,
}

impl Digest {
    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self {
            algorithm: "sha256",
            hex: hex::encode(sigil_crypto::sha256(bytes)),
        }
    }

    pub fn algorithm(&self) -> &str {
        self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The hash function of this digest.
    pub fn hash_algorithm(&self) -> sigil_crypto::HashAlgorithm {
        match self.algorithm {
            "sha256" => sigil_crypto::HashAlgorithm::Sha2_256,
            _ => sigil_crypto::HashAlgorithm::Sha2_512,
        }
    }

    /// Whether `computed` (the output of [`Self::hash_algorithm`]) is this digest.
    pub fn is(&self, computed: &[u8]) -> bool {
        hex::encode(computed) == self.hex
    }

    /// Whether `bytes` have this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.is(&self.hash_algorithm().digest(bytes))
    }

    /// The tag cosign's legacy layout derives from an image digest: `sha256-<hex>` (+ `.sig`, `.att`, …).
    pub fn tag_prefix(&self) -> String {
        format!("{}-{}", self.algorithm, self.hex)
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::Reference(format!("{s:.80?} is not a sha256 or sha512 digest"));
        let (alg, hex) = s.split_once(':').ok_or_else(bad)?;
        let (algorithm, len) = match alg {
            "sha256" => ("sha256", 64),
            "sha512" => ("sha512", 128),
            _ => return Err(bad()),
        };
        if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad());
        }
        Ok(Self {
            algorithm,
            hex: hex.to_string(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// The registry as written (`docker.io` when none was).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host (and port) of the registry's API.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if the reference has one (`latest` is implied only when it has neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to ask the registry for: the digest if there is one, else the tag (`latest` by default).
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }

    /// The same repository at `digest` (no tag).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// The same repository with tag `tag` (no digest).
    pub fn with_tag(&self, tag: &str) -> Result<Self, Error> {
        check_tag(tag)?;
        Ok(Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        })
    }

    /// `registry/repository`, what cosign's simple-signing payload records as `docker-reference`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the registry is on this machine (plain HTTP is allowed there without asking).
    pub fn is_local(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => &self.registry,
        };
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    }
}

fn check_tag(tag: &str) -> Result<(), Error> {
    let ok = !tag.is_empty()
        && tag.len() <= MAX_TAG_LEN
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Reference(format!("{tag:.80?} is not a valid tag")))
    }
}

/// One path component: lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.first().is_none_or(|&x| !alnum(x)) || b.last().is_none_or(|&x| !alnum(x)) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let x = b.get(i).copied().unwrap_or(0);
        if alnum(x) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__`, or one or more `-`, always followed by an alphanumeric.
        let run = b.get(i..).unwrap_or_default();
        let len = match x {
            b'.' => 1,
            b'_' if run.get(1) == Some(&b'_') => 2,
            b'_' => 1,
            b'-' => run.iter().take_while(|&&y| y == b'-').count(),
            _ => return false,
        };
        i += len;
        if !b.get(i).is_some_and(|&y| alnum(y)) {
            return false;
        }
    }
    true
}

fn valid_registry(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || r.starts_with('[') => (h, Some(p)),
        _ => (r, None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_REFERENCE_LEN {
            return Err(Error::Reference(format!(
                "the reference is longer than {MAX_REFERENCE_LEN} characters"
            )));
        }
        let bad = |why: &str| Error::Reference(format!("{s:.120?}: {why}"));
        let (name_tag, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(d.parse::<Digest>()?)),
            None => (s, None),
        };
        let (name, tag) = match name_tag.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (name_tag, None),
        };
        if let Some(t) = tag {
            check_tag(t)?;
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first.to_string(), rest),
            _ => (DOCKER_HUB.to_string(), name),
        };
        if !valid_registry(&registry) {
            return Err(bad("invalid registry host"));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        if repository.len() > MAX_REPOSITORY_LEN {
            return Err(bad("the repository name is longer than 255 characters"));
        }
        if !repository.split('/').all(valid_component) {
            return Err(bad(
                "invalid repository name (lowercase letters, digits and . _ - separators)",
            ));
        }
        Ok(Self {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn docker_conventions() {
        let r: Reference = "alpine".parse().unwrap();
        assert_eq!(r.to_string(), "docker.io/library/alpine");
        assert_eq!(r.manifest_reference(), "latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r: Reference = "user/app:1.0".parse().unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("docker.io", "user/app", Some("1.0"))
        );
        let r: Reference = format!("localhost:5000/a/b-c/d__e:v1@{D}").parse().unwrap();
        assert_eq!(r.registry(), "localhost:5000");
        assert_eq!(r.repository(), "a/b-c/d__e");
        assert_eq!(r.manifest_reference(), D, "a digest wins over the tag");
        assert!(r.is_local());
        let r: Reference = "ghcr.io/org/img".parse().unwrap();
        assert!(!r.is_local());
        assert_eq!(r.name(), "ghcr.io/org/img");
        let r: Reference = "127.0.0.1:5000/x".parse().unwrap();
        assert!(r.is_local());
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "",
            "UPPER/case",
            "a//b",
            "a/b:",
            "a/b:-tag",
            "a/b@sha256:short",
            "a/b@md5:0123456789abcdef0123456789abcdef",
            "a/-b",
            "a/b-",
            "a/b..c",
            "a/b___c",
            "exa mple.com/a",
            "example.com:99999999/a",
            &format!("example.com/{}", "a".repeat(300)),
            &format!("a:{}", "t".repeat(129)),
            &"a".repeat(MAX_REFERENCE_LEN + 1),
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn digests() {
        let d: Digest = D.parse().unwrap();
        assert_eq!(d.tag_prefix(), format!("sha256-{}", &D[7..]));
        assert!(Digest::sha256_of(b"x").matches(b"x"));
        assert!(!Digest::sha256_of(b"x").matches(b"y"));
        assert!(
            "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
                .parse::<Digest>()
                .is_err()
        );
    }

    proptest! {
        /// Whatever parses prints back to something that parses to the same reference.
        #[test]
        fn display_round_trips(s in "[a-z0-9./:@_-]{0,80}") {
            if let Ok(r) = s.parse::<Reference>() {
                let again: Reference = r.to_string().parse().unwrap();
                prop_assert_eq!(again, r);
            }
        }

        #[test]
        fn generated_references_parse(
            host in "[a-z][a-z0-9]{0,10}\\.[a-z]{2,5}",
            port in proptest::option::of(1u16..),
            comps in proptest::collection::vec("[a-z0-9]{1,8}([._-][a-z0-9]{1,8})?", 1..4),
            tag in proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        ) {
            let registry = match port { Some(p) => format!("{host}:{p}"), None => host.clone() };
            let mut s = format!("{registry}/{}", comps.join("/"));
            if let Some(t) = &tag { s.push(':'); s.push_str(t); }
            let r: Reference = s.parse().unwrap();
            prop_assert_eq!(r.registry(), registry.as_str());
            prop_assert_eq!(r.repository(), comps.join("/"));
            prop_assert_eq!(r.tag(), tag.as_deref());
        }
    }
}
