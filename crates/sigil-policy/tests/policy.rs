//! Policy evaluation, including SECURITY.md V-06, V-07 and V-09.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use proptest::prelude::*;
use sigil_policy::{Error, ExtensionField, Matcher, Policy};
use sigil_x509::{FulcioExtensions, FulcioIdentity, SubjectAltName};

fn id(san: SubjectAltName, issuer: &str) -> FulcioIdentity {
    FulcioIdentity {
        sans: vec![san],
        issuer: Some(issuer.to_string()),
        extensions: FulcioExtensions {
            github_workflow_repository: Some("org/repo".into()),
            github_workflow_ref: Some("refs/heads/main".into()),
            ..Default::default()
        },
    }
}

const GH: &str = "https://token.actions.githubusercontent.com";

#[test]
fn exact_identity() {
    let me = id(
        SubjectAltName::Email("alice@example.com".into()),
        "https://accounts.google.com",
    );
    let p = Policy::identity(
        Matcher::exact("alice@example.com"),
        Matcher::exact("https://accounts.google.com"),
    );
    assert_eq!(p.evaluate(&me), Ok(()));
    // V-06: wrong SAN, wrong issuer.
    let wrong_san = Policy::identity(
        Matcher::exact("bob@example.com"),
        Matcher::exact("https://accounts.google.com"),
    );
    assert!(matches!(wrong_san.evaluate(&me), Err(Error::SanMismatch { .. })));
    let wrong_issuer = Policy::identity(
        Matcher::exact("alice@example.com"),
        Matcher::exact("https://github.com/login/oauth"),
    );
    assert!(matches!(wrong_issuer.evaluate(&me), Err(Error::IssuerMismatch { .. })));
    // Exact means exact: no case folding, no trailing-slash tolerance.
    for near in ["Alice@example.com", "alice@example.com ", "alice@example.co"] {
        assert!(Policy::San(Matcher::exact(near)).evaluate(&me).is_err(), "{near}");
    }
    assert!(
        Policy::Issuer(Matcher::exact("https://accounts.google.com/"))
            .evaluate(&me)
            .is_err()
    );
}

#[test]
fn v07_regexes_are_anchored() {
    // (a) an unanchored-looking pattern cannot match a SAN that merely contains the expected text.
    let evil = id(
        SubjectAltName::Uri("https://evil.example/?https://github.com/org/repo/x".into()),
        GH,
    );
    let p = Policy::San(Matcher::regex(r"https://github\.com/org/repo/.*").unwrap());
    assert!(matches!(p.evaluate(&evil), Err(Error::SanMismatch { .. })));
    let good = id(SubjectAltName::Uri("https://github.com/org/repo/x".into()), GH);
    assert_eq!(p.evaluate(&good), Ok(()));
    // (b) unescaped dots between name characters are refused at build time.
    assert!(matches!(
        Matcher::regex("^https://github.com/org"),
        Err(Error::AmbiguousDot { .. })
    ));
    // Escaped and anchored: no prefix tricks.
    let p = Policy::San(Matcher::regex(r"^https://github\.com/org$").unwrap());
    for bad in [
        "https://githubXcom/org",
        "https://github.com/org-evil/x",
        "https://github.com/org/x",
    ] {
        let i = id(SubjectAltName::Uri(bad.into()), GH);
        assert!(p.evaluate(&i).is_err(), "{bad}");
    }
    // Dots used as wildcards deliberately are fine.
    assert!(Matcher::regex(r"https://github\.com/.*").is_ok());
    assert!(Matcher::regex(r"[a.b]").is_ok());
    assert!(matches!(Matcher::regex("("), Err(Error::InvalidRegex { .. })));
}

#[test]
fn v09_username_identity_never_matches_an_email() {
    // Fulcio encodes username identities as OtherName `user!domain`.
    let user = id(
        SubjectAltName::OtherName("alice@corp.com!example.com".into()),
        "https://auth.example.com",
    );
    assert!(Policy::San(Matcher::exact("alice@corp.com")).evaluate(&user).is_err());
    assert_eq!(
        Policy::San(Matcher::exact("alice@corp.com!example.com")).evaluate(&user),
        Ok(())
    );
}

#[test]
fn extensions_and_combinators() {
    let me = id(
        SubjectAltName::Uri("https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main".into()),
        GH,
    );
    let repo = Policy::Extension(ExtensionField::GithubWorkflowRepository, Matcher::exact("org/repo"));
    let other_repo = Policy::Extension(ExtensionField::GithubWorkflowRepository, Matcher::exact("org/other"));
    let trigger = Policy::Extension(ExtensionField::GithubWorkflowTrigger, Matcher::exact("push"));
    assert_eq!(repo.evaluate(&me), Ok(()));
    assert!(matches!(other_repo.evaluate(&me), Err(Error::ExtensionMismatch { .. })));
    // A missing extension never matches.
    assert!(matches!(
        trigger.evaluate(&me),
        Err(Error::ExtensionMismatch { found: None, .. })
    ));
    assert_eq!(
        Policy::any_of(vec![other_repo.clone(), repo.clone()])
            .unwrap()
            .evaluate(&me),
        Ok(())
    );
    assert!(matches!(
        Policy::any_of(vec![other_repo.clone(), trigger]).unwrap().evaluate(&me),
        Err(Error::NoneMatched(_))
    ));
    assert!(
        Policy::all_of(vec![repo.clone(), other_repo])
            .unwrap()
            .evaluate(&me)
            .is_err()
    );
    // Empty combinators are errors, when built and when evaluated.
    assert_eq!(Policy::any_of(vec![]).unwrap_err(), Error::EmptyAnyOf);
    assert_eq!(Policy::all_of(vec![]).unwrap_err(), Error::EmptyAllOf);
    assert_eq!(Policy::AnyOf(vec![]).evaluate(&me), Err(Error::EmptyAnyOf));
    assert_eq!(Policy::AllOf(vec![]).evaluate(&me), Err(Error::EmptyAllOf));
}

proptest! {
    /// An exact matcher accepts exactly one string.
    #[test]
    fn exact_matches_only_itself(a in ".{0,40}", b in ".{0,40}") {
        prop_assert_eq!(Matcher::exact(a.clone()).is_match(&b), a == b);
    }

    /// An escaped literal regex behaves like an exact match (anchoring holds for any text).
    #[test]
    fn escaped_regex_is_exact(a in "[a-z0-9./:?-]{1,30}", prefix in "[a-z]{0,5}", suffix in "[a-z]{0,5}") {
        let m = Matcher::regex(&regex_escape(&a)).unwrap();
        prop_assert!(m.is_match(&a));
        let padded = format!("{prefix}{a}{suffix}");
        prop_assert_eq!(m.is_match(&padded), padded == a);
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == ':' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}
