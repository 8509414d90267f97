#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Claim → certificate-identity mapping per issuer type, golden GitHub Actions and GitLab claim sets, and C-05.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{Value, json};
use sigil_oidc::dev::{DevClaims, DevIssuer};
use sigil_oidc::{CertIdentity, Error, IssuerConfig, IssuerType, OidcConfig, San, Validator, check_email};

/// Mints a token whose claims are `claims` (plus iss/aud/times) and maps it under `config`.
fn map(config: &OidcConfig, dev: &DevIssuer, claims: Value) -> Result<CertIdentity, Error> {
    let cache = sigil_oidc::JwksCache::new();
    cache
        .insert(dev.issuer_url(), dev.jwks().to_string().as_bytes(), NOW)
        .unwrap();
    let mut payload = json!({"iss": dev.issuer_url(), "aud": "sigstore", "iat": NOW, "exp": NOW + 300});
    for (k, v) in claims.as_object().unwrap() {
        payload[k] = v.clone();
    }
    let token = dev
        .sign_jwt(&json!({"alg": "ES256", "kid": dev.kid()}), &payload)
        .unwrap();
    Validator::new(config.clone())
        .validate_identity(&token, NOW, &cache)
        .map(|(_, id)| id)
}

fn one(cfg: IssuerConfig) -> OidcConfig {
    OidcConfig::with_issuers([cfg]).unwrap()
}

#[test]
fn email_issuer_maps_to_rfc822_and_challenge_is_email() {
    let d = issuer(ISS_A);
    let id = map(
        &one(email_issuer(ISS_A)),
        &d,
        json!({"sub": "1234567890", "email": "alice@example.com", "email_verified": true}),
    )
    .unwrap();
    assert_eq!(id.san, San::Email("alice@example.com".into()));
    assert_eq!(id.issuer, ISS_A);
    assert_eq!(id.challenge, "alice@example.com");
    assert_eq!(id.extensions, BTreeMap::from([(24, "1234567890".to_owned())]));
    // No email claim.
    assert_eq!(
        map(
            &one(email_issuer(ISS_A)),
            &d,
            json!({"sub": "x", "email_verified": true})
        )
        .unwrap_err(),
        Error::MissingClaim("email".into())
    );
}

#[test]
fn emails_must_be_rfc5322_addr_specs() {
    for ok in [
        "a@example.com",
        "first.last+tag@sub.example.co",
        "o'neil@example.com",
        "x_y-z@a-b.example",
    ] {
        check_email(ok).unwrap();
    }
    for bad in [
        "",
        "a",
        "@example.com",
        "a@",
        "a@@example.com",
        "a@localhost",
        ".a@example.com",
        "a.@example.com",
        "a..b@example.com",
        "\"a b\"@example.com",
        "a b@example.com",
        "a@exa mple.com",
        "a@-example.com",
        "a@example-.com",
        "a@example..com",
        "a(comment)@example.com",
        "a@[127.0.0.1]",
        "ä@example.com",
        "a@exämple.com",
        "a@example.com\n",
        "a\u{202E}@example.com",
    ] {
        assert!(check_email(bad).is_err(), "{bad:?}");
    }
    assert!(check_email(&format!("{}@example.com", "a".repeat(65))).is_err());
}

#[test]
fn github_actions_golden_claims() {
    let d = issuer("https://token.actions.githubusercontent.com");
    let cfg = one(IssuerConfig::new(
        d.issuer_url(),
        IssuerType::CiProvider("github-workflow".into()),
    ));
    // The claim set GitHub documents for Actions ID tokens (values are the documentation's examples).
    let claims = json!({
        "jti": "example-id",
        "sub": "repo:octo-org/octo-repo:environment:prod",
        "environment": "prod",
        "ref": "refs/heads/main",
        "sha": "8cbd9a2f5ce1c8d7d1a0e3e0b8d2f4c9e5a6b7c8",
        "repository": "octo-org/octo-repo",
        "repository_owner": "octo-org",
        "actor_id": "12",
        "repository_visibility": "private",
        "repository_id": "74",
        "repository_owner_id": "65",
        "run_id": "5437912845",
        "run_number": "10",
        "run_attempt": "2",
        "runner_environment": "github-hosted",
        "actor": "octocat",
        "workflow": "example-workflow",
        "head_ref": "",
        "base_ref": "",
        "event_name": "workflow_dispatch",
        "ref_type": "branch",
        "ref_protected": "true",
        "workflow_ref": "octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main",
        "workflow_sha": "8cbd9a2f5ce1c8d7d1a0e3e0b8d2f4c9e5a6b7c8",
        "job_workflow_ref": "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
        "job_workflow_sha": "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c",
    });
    let id = map(&cfg, &d, claims).unwrap();
    assert_eq!(
        id.san,
        San::Uri("https://github.com/octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main".into())
    );
    assert_eq!(id.issuer, "https://token.actions.githubusercontent.com");
    assert_eq!(id.challenge, "repo:octo-org/octo-repo:environment:prod");
    let want: BTreeMap<u8, String> = [
        (2, "workflow_dispatch"),
        (3, "8cbd9a2f5ce1c8d7d1a0e3e0b8d2f4c9e5a6b7c8"),
        (4, "example-workflow"),
        (5, "octo-org/octo-repo"),
        (6, "refs/heads/main"),
        (
            9,
            "https://github.com/octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
        ),
        (10, "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"),
        (11, "github-hosted"),
        (12, "https://github.com/octo-org/octo-repo"),
        (13, "8cbd9a2f5ce1c8d7d1a0e3e0b8d2f4c9e5a6b7c8"),
        (14, "refs/heads/main"),
        (15, "74"),
        (16, "https://github.com/octo-org"),
        (17, "65"),
        (
            18,
            "https://github.com/octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main",
        ),
        (19, "8cbd9a2f5ce1c8d7d1a0e3e0b8d2f4c9e5a6b7c8"),
        (20, "workflow_dispatch"),
        (
            21,
            "https://github.com/octo-org/octo-repo/actions/runs/5437912845/attempts/2",
        ),
        (22, "private"),
        (23, "prod"),
        (24, "repo:octo-org/octo-repo:environment:prod"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    assert_eq!(id.extensions, want);
}

#[test]
fn github_without_environment_omits_23_and_missing_claims_fail() {
    let d = issuer("https://token.actions.githubusercontent.com");
    let cfg = one(IssuerConfig::new(
        d.issuer_url(),
        IssuerType::CiProvider("github-workflow".into()),
    ));
    let mut claims = json!({
        "sub": "repo:o/r:ref:refs/heads/main", "ref": "refs/heads/main", "sha": "abc", "repository": "o/r",
        "repository_owner": "o", "repository_visibility": "public", "repository_id": "1", "repository_owner_id": "2",
        "run_id": "3", "run_attempt": "1", "runner_environment": "self-hosted", "workflow": "w", "event_name": "push",
        "workflow_ref": "o/r/.github/workflows/a.yml@refs/heads/main", "workflow_sha": "abc",
        "job_workflow_ref": "o/r/.github/workflows/a.yml@refs/heads/main", "job_workflow_sha": "abc",
    });
    let id = map(&cfg, &d, claims.clone()).unwrap();
    assert!(!id.extensions.contains_key(&23));
    claims.as_object_mut().unwrap().remove("job_workflow_ref");
    assert!(matches!(map(&cfg, &d, claims), Err(Error::Template(_))));
}

#[test]
fn gitlab_golden_claims() {
    let d = issuer("https://gitlab.com");
    let cfg = one(IssuerConfig::new(
        d.issuer_url(),
        IssuerType::CiProvider("gitlab-pipeline".into()),
    ));
    // The claim set GitLab documents for CI/CD ID tokens.
    let claims = json!({
        "namespace_id": "72",
        "namespace_path": "my-group",
        "project_id": "20",
        "project_path": "my-group/my-project",
        "user_id": "1",
        "user_login": "sample-user",
        "user_email": "sample-user@example.com",
        "user_identities": [{"provider": "github", "extern_uid": "2435223452345"}],
        "pipeline_id": "574",
        "pipeline_source": "push",
        "job_id": "302",
        "ref": "feature-branch-1",
        "ref_type": "branch",
        "ref_path": "refs/heads/feature-branch-1",
        "ref_protected": "false",
        "environment": "test-environment2",
        "environment_protected": "false",
        "deployment_tier": "testing",
        "environment_action": "start",
        "runner_id": 1,
        "runner_environment": "self-hosted",
        "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "project_visibility": "public",
        "ci_config_ref_uri": "gitlab.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
        "ci_config_sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "jti": "235b3a54-b797-45c7-ae9a-f72d7bc6ef5b",
        "sub": "project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1",
    });
    let id = map(&cfg, &d, claims.clone()).unwrap();
    assert_eq!(
        id.san,
        San::Uri("https://gitlab.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main".into())
    );
    assert_eq!(id.issuer, "https://gitlab.com");
    let want: BTreeMap<u8, String> = [
        (
            9,
            "https://gitlab.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
        ),
        (10, "714a629c0b401fdce83e847fc9589983fc6f46bc"),
        (11, "self-hosted"),
        (12, "https://gitlab.com/my-group/my-project"),
        (13, "714a629c0b401fdce83e847fc9589983fc6f46bc"),
        (14, "refs/heads/feature-branch-1"),
        (15, "20"),
        (16, "https://gitlab.com/my-group"),
        (17, "72"),
        (
            18,
            "https://gitlab.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
        ),
        (19, "714a629c0b401fdce83e847fc9589983fc6f46bc"),
        (20, "push"),
        (21, "https://gitlab.com/my-group/my-project/-/jobs/302"),
        (22, "public"),
        (23, "test-environment2"),
        (
            24,
            "project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    assert_eq!(id.extensions, want);
    // A tag pipeline.
    let mut tag = claims;
    tag["ref_type"] = json!("tag");
    tag["ref"] = json!("v1.0.0");
    assert_eq!(map(&cfg, &d, tag).unwrap().extensions[&14], "refs/tags/v1.0.0");
}

#[test]
fn buildkite_style_templates_from_config() {
    let cfg = OidcConfig::from_json(include_bytes!("../testdata/config.json")).unwrap();
    let d = issuer("https://agent.buildkite.com");
    let id = map(
        &cfg,
        &d,
        json!({
            "sub": "organization:acme:pipeline:app:ref:refs/heads/main:commit:abc:step:build",
            "organization_slug": "acme", "pipeline_slug": "app", "build_number": 17, "job_id": "0190-aa",
            "runner_environment": "buildkite-hosted", "build_commit": "abc", "build_source": "webhook",
        }),
    )
    .unwrap();
    assert_eq!(id.san, San::Uri("https://buildkite.com/acme/app".into()));
    assert_eq!(id.extensions[&21], "https://buildkite.com/acme/app/builds/17#0190-aa");
    assert_eq!(id.extensions[&20], "webhook");
    assert_eq!(id.extensions[&13], "abc");
    assert_eq!(id.extensions[&11], "buildkite-hosted");
    // Non-scalar claims never render.
    assert!(matches!(
        map(
            &cfg,
            &d,
            json!({"sub": "s", "organization_slug": {"x": 1}, "pipeline_slug": "p", "build_number": 1, "job_id": "j",
            "runner_environment": "r", "build_commit": "c", "build_source": "b"})
        ),
        Err(Error::Template(_))
    ));
}

#[test]
fn spiffe_subject_must_be_in_the_trust_domain() {
    let d = issuer("https://spire.example.org");
    let cfg = one(IssuerConfig::new(d.issuer_url(), IssuerType::Spiffe).with_spiffe_trust_domain("example.org"));
    let id = map(&cfg, &d, json!({"sub": "spiffe://example.org/ns/prod/sa/builder"})).unwrap();
    assert_eq!(id.san, San::Uri("spiffe://example.org/ns/prod/sa/builder".into()));
    assert_eq!(id.challenge, "spiffe://example.org/ns/prod/sa/builder");
    for bad in [
        "spiffe://evil.org/ns/prod",
        "spiffe://example.org.evil/x",
        "spiffe://example.org",
        "spiffe://example.org/",
        "spiffe://example.org//x",
        "spiffe://example.org/../x",
        "https://example.org/x",
        "spiffe://example.org/x?y",
    ] {
        assert!(map(&cfg, &d, json!({"sub": bad})).is_err(), "{bad}");
    }
}

#[test]
fn kubernetes_service_account_uri() {
    let d = issuer("https://oidc.eks.us-west-2.amazonaws.com/id/ABC");
    let cfg = one(IssuerConfig::new(d.issuer_url(), IssuerType::Kubernetes));
    let id = map(
        &cfg,
        &d,
        json!({"sub": "system:serviceaccount:build:signer", "kubernetes.io": {"namespace": "build", "serviceaccount": {"name": "signer", "uid": "x"}}}),
    )
    .unwrap();
    assert_eq!(
        id.san,
        San::Uri("https://kubernetes.io/namespaces/build/serviceaccounts/signer".into())
    );
    assert_eq!(id.challenge, "system:serviceaccount:build:signer");
    assert!(map(&cfg, &d, json!({"sub": "s"})).is_err());
    assert!(
        map(
            &cfg,
            &d,
            json!({"sub": "s", "kubernetes.io": {"namespace": "a/../b", "serviceaccount": {"name": "x"}}})
        )
        .is_err()
    );
}

#[test]
fn uri_subject_must_be_inside_the_subject_domain() {
    let d = issuer("https://accounts.example.com");
    let cfg = one(IssuerConfig::new(d.issuer_url(), IssuerType::Uri).with_subject_domain("https://example.com"));
    let id = map(&cfg, &d, json!({"sub": "https://example.com/users/alice"})).unwrap();
    assert_eq!(id.san, San::Uri("https://example.com/users/alice".into()));
    for bad in [
        "https://evil.com/users/alice",
        "http://example.com/users/alice",
        "https://example.com.evil.com/x",
        "https://example.com@evil.com/x",
        "https://evil.com#https://example.com",
        "https://example.com:8443/x",
        "example.com/x",
        "https://example.com/a b",
    ] {
        assert!(map(&cfg, &d, json!({"sub": bad})).is_err(), "{bad}");
    }
}

#[test]
fn username_is_an_othername_never_an_email() {
    let d = issuer("https://login.example.com");
    let cfg = one(IssuerConfig::new(d.issuer_url(), IssuerType::Username).with_subject_domain("example.com"));
    // V-09: looks like an email, still an OtherName.
    let id = map(
        &cfg,
        &d,
        json!({"sub": "alice@corp.com", "email": "alice@corp.com", "email_verified": true}),
    )
    .unwrap();
    assert_eq!(id.san, San::OtherName("alice@corp.com!example.com".into()));
    assert_eq!(id.challenge, "alice@corp.com");
    assert!(map(&cfg, &d, json!({"sub": "al!ce"})).is_err());
}

#[test]
fn c05_identity_values_with_control_or_bidi_characters_are_rejected() {
    let d = issuer(ISS_A);
    let email_cfg = one(email_issuer(ISS_A));
    let bad_values = [
        "alice\u{0}@example.com",
        "alice\n@example.com",
        "alice\r@example.com",
        "alice\t@example.com",
        "alice\u{7f}@example.com",
        "alice\u{85}@example.com",
        "alice\u{202E}@example.com",
        "alice\u{2066}@example.com",
        "alice\u{2069}@example.com",
    ];
    for v in bad_values {
        let r = map(&email_cfg, &d, json!({"sub": "ok", "email": v, "email_verified": true}));
        assert!(matches!(r, Err(Error::InvalidIdentity(_))), "{v:?}: {r:?}");
        // The same in sub (→ extension .24 and challenge) for a non-email type.
        let uname = one(IssuerConfig::new(ISS_A, IssuerType::Username).with_subject_domain("example.com"));
        assert!(
            matches!(map(&uname, &d, json!({"sub": v})), Err(Error::InvalidIdentity(_))),
            "{v:?}"
        );
    }
    // 10 KB values (the token still fits in 16 KiB).
    let long = format!("{}@example.com", "a".repeat(10_000));
    assert!(
        map(
            &email_cfg,
            &d,
            json!({"sub": "ok", "email": long, "email_verified": true})
        )
        .is_err()
    );
    let uname = one(IssuerConfig::new(ISS_A, IssuerType::Username).with_subject_domain("example.com"));
    assert!(matches!(
        map(&uname, &d, json!({"sub": "a".repeat(2000)})),
        Err(Error::InvalidIdentity(_))
    ));
    // Error messages never carry the value.
    let err = map(
        &email_cfg,
        &d,
        json!({"sub": "ok", "email": "x\u{202E}@evil", "email_verified": true}),
    )
    .unwrap_err();
    assert!(!err.to_string().contains('\u{202E}'));
    // Through CI templates too.
    let gh = issuer("https://token.actions.githubusercontent.com");
    let cfg = one(IssuerConfig::new(
        gh.issuer_url(),
        IssuerType::CiProvider("github-workflow".into()),
    ));
    let claims = json!({
        "sub": "s", "ref": "refs/heads/main\u{202E}", "sha": "a", "repository": "o/r", "repository_owner": "o",
        "repository_visibility": "public", "repository_id": "1", "repository_owner_id": "2", "run_id": "3",
        "run_attempt": "1", "runner_environment": "x", "workflow": "w", "event_name": "push",
        "workflow_ref": "o/r/a.yml@x", "workflow_sha": "a", "job_workflow_ref": "o/r/a.yml@x", "job_workflow_sha": "a",
    });
    assert!(matches!(map(&cfg, &gh, claims), Err(Error::InvalidIdentity(_))));
}

#[test]
fn challenge_claim_override() {
    let d = issuer(ISS_A);
    let mut cfg = IssuerConfig::new(ISS_A, IssuerType::Username).with_subject_domain("example.com");
    cfg.challenge_claim = Some("preferred_username".into());
    let id = map(&one(cfg), &d, json!({"sub": "u1", "preferred_username": "alice"})).unwrap();
    assert_eq!(id.challenge, "alice");
    let _ = DevClaims::default();
}
