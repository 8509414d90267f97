#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SECURITY.md section B at library level: one test per row O-01…O-10 and O-12 (O-11 is the client's OAuth flow).

mod common;

use common::*;
use serde_json::{Value, json};
use sigil_crypto::{KeyAlgorithm, Signer as _, SigningKey};
use sigil_oidc::dev::DevClaims;
use sigil_oidc::{Error, IssuerConfig, IssuerType, JwksCache, OidcConfig, Validator};

#[test]
fn a_dev_token_validates() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let token = a.mint(&DevClaims::email("alice@example.com"), NOW, 600).unwrap();
    let t = v.validate(&token, NOW, &cache).unwrap();
    assert_eq!(t.iss(), ISS_A);
    assert_eq!(t.subject, "alice@example.com");
    assert_eq!(t.alg, "ES256");
    assert_eq!(t.kid.as_deref(), Some(a.kid()));
}

#[test]
fn o01_alg_none_is_rejected() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64(Value::Object(std_payload(ISS_A)).to_string().as_bytes());
    for token in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
        let err = v.validate(&token, NOW, &cache).unwrap_err();
        assert!(
            matches!(err, Error::AlgorithmNotAllowed(_) | Error::MalformedToken(_)),
            "{err:?}"
        );
    }
    // "None", "NONE" too.
    for alg in ["None", "NONE", ""] {
        let header = b64(json!({"alg": alg}).to_string().as_bytes());
        let err = v
            .validate(&format!("{header}.{payload}.AAAA"), NOW, &cache)
            .unwrap_err();
        assert!(matches!(err, Error::AlgorithmNotAllowed(_)), "{err:?}");
    }
}

#[test]
fn o02_hs256_with_the_public_key_as_secret_is_rejected() {
    let a = issuer(ISS_A);
    let (v, _) = setup(vec![email_issuer(ISS_A)], &[&a]);
    // The JWKS also carries a symmetric key holding the attacker's secret: it must never be used.
    let secret = a.jwks().to_string();
    let mut jwks = a.jwks();
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "oct", "k": b64(secret.as_bytes()), "kid": "hmac"}));
    let cache = JwksCache::new();
    cache.insert(ISS_A, jwks.to_string().as_bytes(), NOW).unwrap();
    for (alg, kid) in [
        (jsonwebtoken::Algorithm::HS256, Some(a.kid().to_owned())),
        (jsonwebtoken::Algorithm::HS256, Some("hmac".to_owned())),
        (jsonwebtoken::Algorithm::HS384, None),
        (jsonwebtoken::Algorithm::HS512, None),
    ] {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = kid;
        let token = jsonwebtoken::encode(
            &header,
            &Value::Object(std_payload(ISS_A)),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert!(matches!(
            v.validate(&token, NOW, &cache),
            Err(Error::AlgorithmNotAllowed(_))
        ));
    }
    // Key type must match alg: an RS256 / ES384 / EdDSA header over the P-256 key.
    for alg in ["RS256", "PS256", "ES384", "EdDSA"] {
        let token = signed(
            &a,
            json!({"alg": alg, "kid": a.kid()}),
            Value::Object(std_payload(ISS_A)),
        );
        assert_eq!(
            v.validate(&token, NOW, &cache).unwrap_err(),
            Error::KeyMismatch,
            "{alg}"
        );
    }
}

#[test]
fn o03_audience_must_contain_the_client_id() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let with_aud = |aud: Value| {
        let mut p = std_payload(ISS_A);
        p.insert("aud".into(), aud);
        signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p))
    };
    for bad in [
        json!("other"),
        json!([]),
        json!(["other"]),
        json!("Sigstore"),
        json!("sigstore "),
        json!(null),
        json!(7),
        json!(["sigstore", 7]),
    ] {
        assert_eq!(
            v.validate(&with_aud(bad.clone()), NOW, &cache).unwrap_err(),
            Error::InvalidAudience,
            "{bad}"
        );
    }
    let mut p = std_payload(ISS_A);
    p.remove("aud");
    let token = signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p));
    assert_eq!(v.validate(&token, NOW, &cache).unwrap_err(), Error::InvalidAudience);
    for good in [json!("sigstore"), json!(["other", "sigstore"])] {
        v.validate(&with_aud(good), NOW, &cache).unwrap();
    }
    // A custom client ID is what counts.
    let (v2, cache2) = setup(vec![email_issuer(ISS_A).with_client_id("my-ca")], &[&a]);
    assert_eq!(
        v2.validate(&with_aud(json!("sigstore")), NOW, &cache2).unwrap_err(),
        Error::InvalidAudience
    );
    v2.validate(&with_aud(json!(["my-ca"])), NOW, &cache2).unwrap();
}

#[test]
fn o04_times_are_enforced_with_leeway() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let token_with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut p = std_payload(ISS_A);
        edit(&mut p);
        signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p))
    };
    let expired = token_with(&|p| {
        p.insert("exp".into(), json!(NOW - 61));
    });
    assert_eq!(v.validate(&expired, NOW, &cache).unwrap_err(), Error::Expired);
    let in_leeway = token_with(&|p| {
        p.insert("exp".into(), json!(NOW - 30));
    });
    v.validate(&in_leeway, NOW, &cache).unwrap();
    assert_eq!(
        v.clone().with_leeway(0).validate(&in_leeway, NOW, &cache).unwrap_err(),
        Error::Expired
    );
    let future_iat = token_with(&|p| {
        p.insert("iat".into(), json!(NOW + 3600));
    });
    assert_eq!(v.validate(&future_iat, NOW, &cache).unwrap_err(), Error::IssuedInFuture);
    let future_nbf = token_with(&|p| {
        p.insert("nbf".into(), json!(NOW + 3600));
    });
    assert_eq!(v.validate(&future_nbf, NOW, &cache).unwrap_err(), Error::NotYetValid);
    let no_exp = token_with(&|p| {
        p.remove("exp");
    });
    assert_eq!(
        v.validate(&no_exp, NOW, &cache).unwrap_err(),
        Error::MissingClaim("exp".into())
    );
    let string_exp = token_with(&|p| {
        p.insert("exp".into(), json!("9999999999"));
    });
    assert_eq!(
        v.validate(&string_exp, NOW, &cache).unwrap_err(),
        Error::InvalidClaim("exp".into())
    );
}

#[test]
fn o05_issuer_is_matched_exactly_before_any_key_lookup() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    for iss in [
        "https://issuer-a.example/",
        "https://ISSUER-A.example",
        "HTTPS://issuer-a.example",
        "https://issuer-a.example@evil.example",
        "https://evil.example/?https://issuer-a.example",
        "https://issuer-a.example.evil.example",
        "https://issuer-a.example#",
        " https://issuer-a.example",
    ] {
        // Signed by the right key: still an unknown issuer, and an empty cache is never consulted (no NoKeys).
        let mut p = std_payload(ISS_A);
        p.insert("iss".into(), json!(iss));
        let token = signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p));
        assert_eq!(
            v.validate(&token, NOW, &cache).unwrap_err(),
            Error::UnknownIssuer,
            "{iss}"
        );
        assert_eq!(
            v.validate(&token, NOW, &JwksCache::new()).unwrap_err(),
            Error::UnknownIssuer
        );
        assert_eq!(v.precheck(&token).unwrap_err(), Error::UnknownIssuer);
    }
}

#[test]
fn o05_meta_issuer_wildcards_are_anchored_single_labels() {
    let config = OidcConfig::from_json(
        br#"{"MetaIssuers": {"https://oidc.eks.*.amazonaws.com/id/*": {"ClientID": "sigstore", "Type": "kubernetes"}}}"#,
    )
    .unwrap();
    assert!(
        config
            .lookup("https://oidc.eks.us-west-2.amazonaws.com/id/B02C93B6A2D30341AD01E1B6D48164CB")
            .is_some()
    );
    for bad in [
        "https://oidc.eks.evil.com/x.amazonaws.com/id/A",
        "https://oidc.eks.a.b.amazonaws.com/id/A",
        "https://oidc.eks.a.amazonaws.com/id/A/",
        "https://oidc.eks.a.amazonaws.com/id/A?x",
        "https://oidc.eks.a.amazonaws.com/id/",
        "https://oidc.eks.a@b.amazonaws.com/id/A",
        "https://oidc.eks.a.amazonaws.com.evil/id/A",
        "http://oidc.eks.a.amazonaws.com/id/A",
    ] {
        assert!(config.lookup(bad).is_none(), "{bad}");
    }
    let resolved = config.lookup("https://oidc.eks.x.amazonaws.com/id/Y").unwrap();
    assert_eq!(resolved.issuer_url, "https://oidc.eks.x.amazonaws.com/id/Y");
}

#[test]
fn o06_jwks_hosts_are_config_checked() {
    // The fetch-side rules are in tests/http_fetch.rs; here the config's own bounds.
    let bad = br#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "email", "AllowedJWKSHosts": ["evil.example/x"]}}}"#;
    assert!(matches!(OidcConfig::from_json(bad), Err(Error::Config(_))));
}

#[test]
fn o07_unknown_kid_is_distinct_and_refresh_is_rate_limited() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let token = signed(
        &a,
        json!({"alg": "ES256", "kid": "not-a-known-kid"}),
        Value::Object(std_payload(ISS_A)),
    );
    assert_eq!(v.validate(&token, NOW, &cache).unwrap_err(), Error::UnknownKeyId);
    // Keys fetched at NOW: no refresh within the interval, then exactly one per interval for 10k bad tokens.
    let mut allowed = 0;
    for i in 0..10_000 {
        let now = NOW + 30 + i / 1000; // ten seconds of traffic
        if cache.may_refresh_for_unknown_kid(ISS_A, now) {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 1);
    assert!(!cache.may_refresh_for_unknown_kid(ISS_A, NOW + 59));
    assert!(cache.may_refresh_for_unknown_kid(ISS_A, NOW + 61));
    // No keys at all is a different error.
    assert_eq!(v.validate(&token, NOW, &JwksCache::new()).unwrap_err(), Error::NoKeys);
}

#[test]
fn o08_oversized_and_malformed_tokens_fail_before_decoding() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let huge = "a".repeat(10 * 1024 * 1024);
    assert!(matches!(
        v.validate(&huge, NOW, &cache),
        Err(Error::TokenTooLarge { .. })
    ));
    let dots = ".".repeat(1_000_000);
    assert!(matches!(
        v.validate(&dots, NOW, &cache),
        Err(Error::TokenTooLarge { .. })
    ));
    let few_dots = ".".repeat(100);
    assert!(matches!(
        v.validate(&few_dots, NOW, &cache),
        Err(Error::MalformedToken(_))
    ));
    for bad in [
        "", "a", "a.b", "a.b.c.d", "..", "a..c", ".b.c", "a b.c.d", "a.b.c=", "a+b.c.d", "a.b/c.d", "é.b.c",
    ] {
        assert!(
            matches!(v.validate(bad, NOW, &cache), Err(Error::MalformedToken(_))),
            "{bad:?}"
        );
    }
    // A 1 MB claim does not fit the 16 KiB token; a 5 KiB claim fits but exceeds the per-claim bound.
    let mut p = std_payload(ISS_A);
    p.insert("big".into(), json!("x".repeat(5000)));
    let token = signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p));
    assert!(matches!(v.validate(&token, NOW, &cache), Err(Error::ClaimTooLarge(_))));
    let mut p = std_payload(ISS_A);
    p.insert("big".into(), json!("x".repeat(1 << 20)));
    let token = signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p));
    assert!(matches!(
        v.validate(&token, NOW, &cache),
        Err(Error::TokenTooLarge { .. })
    ));
}

#[test]
fn o09_email_verified_must_be_true() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let cases: [(Option<Value>, bool); 7] = [
        (Some(json!(true)), true),
        (Some(json!("true")), true),
        (Some(json!(false)), false),
        (Some(json!("false")), false),
        (Some(json!("TRUE")), false),
        (Some(json!(1)), false),
        (None, false),
    ];
    for (value, ok) in cases {
        let mut p = std_payload(ISS_A);
        match &value {
            Some(x) => p.insert("email_verified".into(), x.clone()),
            None => p.remove("email_verified"),
        };
        let token = signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p));
        let r = v.validate_identity(&token, NOW, &cache);
        if ok {
            r.unwrap();
        } else {
            assert_eq!(r.unwrap_err(), Error::EmailNotVerified, "{value:?}");
        }
    }
    // Skip configured.
    let (v2, cache2) = setup(vec![email_issuer(ISS_A).skip_email_verification_unsafe()], &[&a]);
    let mut p = std_payload(ISS_A);
    p.insert("email_verified".into(), json!(false));
    let token = signed(&a, json!({"alg": "ES256", "kid": a.kid()}), Value::Object(p));
    v2.validate_identity(&token, NOW, &cache2).unwrap();
}

#[test]
fn o10_issuer_extension_comes_from_the_authenticated_iss() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    // Claims that mimic another issuer's identity claims change nothing.
    let claims = claims_with(
        "alice@example.com",
        json!({"federated_claims": {"connector_id": "https://accounts.google.com"}, "issuer": "https://accounts.google.com"}),
    );
    let token = a.mint(&claims, NOW, 600).unwrap();
    let (_, id) = v.validate_identity(&token, NOW, &cache).unwrap();
    assert_eq!(id.issuer, ISS_A);
    // Only a configured IssuerClaim (email issuers, e.g. Dex) takes the value from a claim.
    let (v2, cache2) = setup(
        vec![email_issuer(ISS_A).with_issuer_claim("$.federated_claims.connector_id")],
        &[&a],
    );
    let (_, id) = v2.validate_identity(&token, NOW, &cache2).unwrap();
    assert_eq!(id.issuer, "https://accounts.google.com");
    // … and it is required then.
    let plain = a.mint(&DevClaims::email("alice@example.com"), NOW, 600).unwrap();
    assert!(matches!(
        v2.validate_identity(&plain, NOW, &cache2),
        Err(Error::MissingClaim(_))
    ));
    // IssuerClaim on a non-email issuer is a config error.
    let bad = br#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "kubernetes", "IssuerClaim": "$.x"}}}"#;
    assert!(matches!(OidcConfig::from_json(bad), Err(Error::Config(_))));
}

#[test]
fn o12_key_from_another_issuers_jwks_is_not_used() {
    let a = issuer(ISS_A);
    let b = issuer(ISS_B);
    let (v, cache) = setup(vec![email_issuer(ISS_A), email_issuer(ISS_B)], &[&a, &b]);
    // Claims iss = A, signed by B's key, naming B's kid (present only in B's JWKS).
    let token = signed(
        &b,
        json!({"alg": "ES256", "kid": b.kid()}),
        Value::Object(std_payload(ISS_A)),
    );
    assert_eq!(v.validate(&token, NOW, &cache).unwrap_err(), Error::UnknownKeyId);
    // Without kid: A's keys are tried, B's never.
    let token = signed(&b, json!({"alg": "ES256"}), Value::Object(std_payload(ISS_A)));
    assert_eq!(v.validate(&token, NOW, &cache).unwrap_err(), Error::BadSignature);
    // With A's kid but B's signature.
    let token = signed(
        &b,
        json!({"alg": "ES256", "kid": a.kid()}),
        Value::Object(std_payload(ISS_A)),
    );
    assert_eq!(v.validate(&token, NOW, &cache).unwrap_err(), Error::BadSignature);
}

#[test]
fn any_flipped_byte_in_signed_material_is_rejected() {
    let a = issuer(ISS_A);
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let token = a.mint(&DevClaims::email("alice@example.com"), NOW, 600).unwrap();
    let bytes = token.as_bytes();
    for i in (0..bytes.len()).step_by(7) {
        if bytes[i] == b'.' {
            continue;
        }
        let mut t = bytes.to_vec();
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(t).unwrap();
        if t == token {
            continue;
        }
        assert!(v.validate(&t, NOW, &cache).is_err(), "flip at {i}");
    }
}

#[test]
fn eddsa_and_es384_tokens_validate() {
    let payload = Value::Object(std_payload(ISS_A));
    for (alg, key_alg, jwk_base) in [
        ("EdDSA", KeyAlgorithm::Ed25519, json!({"kty": "OKP", "crv": "Ed25519"})),
        ("ES384", KeyAlgorithm::EcdsaP384, json!({"kty": "EC", "crv": "P-384"})),
    ] {
        let key = SigningKey::generate(key_alg).unwrap();
        let raw = key.public_key().raw_key();
        let mut jwk = jwk_base;
        if alg == "EdDSA" {
            jwk["x"] = json!(b64(raw));
        } else {
            jwk["x"] = json!(b64(&raw[1..49]));
            jwk["y"] = json!(b64(&raw[49..97]));
        }
        jwk["kid"] = json!("k1");
        let cache = JwksCache::new();
        cache
            .insert(ISS_A, json!({"keys": [jwk]}).to_string().as_bytes(), NOW)
            .unwrap();
        let v = Validator::new(OidcConfig::with_issuers([email_issuer(ISS_A)]).unwrap());
        let input = format!(
            "{}.{}",
            b64(json!({"alg": alg, "kid": "k1"}).to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let sig = key.sign(input.as_bytes()).unwrap();
        let sig = if alg == "EdDSA" { sig } else { der_to_fixed(&sig, 48) };
        let token = format!("{input}.{}", b64(&sig));
        v.validate(&token, NOW, &cache).unwrap();
    }
}

fn der_to_fixed(der: &[u8], size: usize) -> Vec<u8> {
    let seq = sigil_crypto::der::Reader::new(der).expect(0x30).unwrap();
    let mut r = seq.reader();
    let mut out = Vec::new();
    for _ in 0..2 {
        let v = r.expect(0x02).unwrap().value;
        let v = &v[v.iter().position(|b| *b != 0).unwrap_or(v.len())..];
        out.extend(std::iter::repeat_n(0, size - v.len()));
        out.extend_from_slice(v);
    }
    out
}

#[test]
fn jwks_cache_bounds() {
    let cache = JwksCache::new();
    assert!(matches!(
        cache.insert(ISS_A, &vec![b' '; 70 * 1024], NOW),
        Err(Error::Jwks(_))
    ));
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": i.to_string()}))
        .collect();
    assert!(matches!(
        cache.insert(ISS_A, json!({"keys": many}).to_string().as_bytes(), NOW),
        Err(Error::Jwks(_))
    ));
    assert!(matches!(
        cache.insert(ISS_A, br#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#, NOW),
        Err(Error::Jwks(_))
    ));
    assert!(cache.keys(ISS_A).is_none());
    assert!(cache.needs_fetch(ISS_A, NOW));
    let a = issuer(ISS_A);
    cache.insert(ISS_A, a.jwks().to_string().as_bytes(), NOW).unwrap();
    assert!(!cache.needs_fetch(ISS_A, NOW + 599));
    assert!(cache.needs_fetch(ISS_A, NOW + 600));
    // A failed fetch keeps the keys and pauses fetching for the refresh interval.
    cache.record_fetch_failure(ISS_A, NOW + 600);
    assert!(cache.keys(ISS_A).is_some());
    assert!(!cache.needs_fetch(ISS_A, NOW + 620));
    assert!(cache.needs_fetch(ISS_A, NOW + 631));
}

#[test]
fn dev_issuer_round_trips_and_says_what_it_is() {
    let a = issuer(ISS_A);
    let again = sigil_oidc::dev::DevIssuer::from_pkcs8_der(a.to_pkcs8_der(), ISS_A).unwrap();
    assert_eq!(again.kid(), a.kid());
    assert!(format!("{a:?}").contains("DEVELOPMENT ONLY"));
    let d = a.discovery_document();
    assert_eq!(d["issuer"], ISS_A);
    assert_eq!(d["jwks_uri"], format!("{ISS_A}/jwks"));
    assert_eq!(d["token_endpoint"], format!("{ISS_A}/token"));
    assert_eq!(a.jwks()["keys"][0]["kid"], a.kid());
    let p384 = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
    assert!(sigil_oidc::dev::DevIssuer::from_pkcs8_der(p384.to_pkcs8_der(), ISS_A).is_err());
    // sub defaults to the email.
    let (v, cache) = setup(vec![email_issuer(ISS_A)], &[&a]);
    let t = v
        .validate(
            &a.mint(&DevClaims::email("bob@example.com"), NOW, 60).unwrap(),
            NOW,
            &cache,
        )
        .unwrap();
    assert_eq!(t.subject, "bob@example.com");
    assert_eq!(t.claims["email_verified"], json!(true));
}

#[test]
fn config_rejects_unknown_types_and_bad_shapes() {
    for bad in [
        r#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "chainguard-identity"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "nope"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example": {"IssuerURL": "https://b.example", "ClientID": "sigstore", "Type": "email"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "spiffe"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "uri"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "username", "SubjectDomain": "https://a.example"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "ci-provider", "CIProvider": "nope"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example": {"ClientID": "sigstore", "Type": "buildkite-job"}}}"#,
        r#"{"OIDCIssuers": {"https://a.example/*": {"ClientID": "sigstore", "Type": "email"}}}"#,
        r#"{"MetaIssuers": {"https://*.example/*": {"ClientID": "sigstore", "Type": "spiffe", "SPIFFETrustDomain": "x"}}}"#,
        r#"{"CIIssuerMetadata": {"x": {"ExtensionTemplates": {"Issuer": "iss"}, "SubjectAlternativeNameTemplate": "sub"}}}"#,
        r#"{"CIIssuerMetadata": {"x": {"ExtensionTemplates": {"BuildTrigger": "{{ printf .a }}"}, "SubjectAlternativeNameTemplate": "sub"}}}"#,
        r#"[]"#,
    ] {
        assert!(
            matches!(OidcConfig::from_json(bad.as_bytes()), Err(Error::Config(_))),
            "{bad}"
        );
    }
    let too_big = vec![b' '; sigil_oidc::MAX_CONFIG_LEN + 1];
    assert!(OidcConfig::from_json(&too_big).is_err());
    let long = format!(
        r#"{{"CIIssuerMetadata": {{"x": {{"SubjectAlternativeNameTemplate": "{}"}}}}}}"#,
        "{{ .a }}".repeat(200)
    );
    assert!(OidcConfig::from_json(long.as_bytes()).is_err());
    let many: serde_json::Map<String, Value> = (0..300)
        .map(|i| {
            (
                format!("https://i{i}.example"),
                json!({"ClientID": "sigstore", "Type": "email"}),
            )
        })
        .collect();
    assert!(OidcConfig::from_json(json!({"OIDCIssuers": many}).to_string().as_bytes()).is_err());
}

#[test]
fn fulcio_style_config_loads() {
    let cfg = OidcConfig::from_json(include_bytes!("../testdata/config.json")).unwrap();
    let gh = cfg.lookup("https://token.actions.githubusercontent.com").unwrap();
    assert_eq!(gh.issuer_type, IssuerType::CiProvider("github-workflow".into()));
    let dex = cfg.lookup("https://oauth2.sigstore.dev/auth").unwrap();
    assert_eq!(dex.issuer_claim.as_deref(), Some("$.federated_claims.connector_id"));
    let bk = cfg.lookup("https://agent.buildkite.com").unwrap();
    assert_eq!(bk.issuer_type, IssuerType::CiProvider("buildkite-job".into()));
    assert!(cfg.ci_metadata("buildkite-job").is_some());
    assert!(
        cfg.lookup("https://token.actions.githubusercontent.com/my-enterprise")
            .is_some()
    );
    assert_eq!(
        cfg.lookup("https://accounts.google.com").unwrap().allowed_jwks_hosts,
        vec!["www.googleapis.com".to_owned()]
    );
    let _: IssuerConfig = cfg
        .lookup("https://container.googleapis.com/v1/projects/p/locations/l/clusters/c")
        .unwrap();
}
