#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Arbitrary token strings never panic and always fail.

mod common;

use common::*;
use proptest::prelude::*;
use sigil_oidc::{JwksCache, Validator};

fn fixture() -> &'static (Validator, JwksCache) {
    static F: std::sync::OnceLock<(Validator, JwksCache)> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let a = issuer(ISS_A);
        setup(vec![email_issuer(ISS_A)], &[&a])
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_always_error(s in ".{0,300}") {
        let (v, cache) = fixture();
        prop_assert!(v.validate(&s, NOW, cache).is_err());
    }

    #[test]
    fn arbitrary_base64url_triples_always_error(
        h in "[A-Za-z0-9_-]{0,80}", p in "[A-Za-z0-9_-]{0,200}", s in "[A-Za-z0-9_-]{0,100}",
    ) {
        let (v, cache) = fixture();
        let token = format!("{h}.{p}.{s}");
        prop_assert!(v.validate(&token, NOW, cache).is_err());
    }

    #[test]
    fn json_shaped_parts_always_error(header in proptest::collection::vec(any::<u8>(), 0..64), payload in proptest::collection::vec(any::<u8>(), 0..256)) {
        let (v, cache) = fixture();
        let mut h = br#"{"alg":"ES256","kid":""#.to_vec();
        h.extend_from_slice(&header);
        let mut p = format!(r#"{{"iss":"{ISS_A}","aud":"sigstore","exp":9999999999,"sub":""#).into_bytes();
        p.extend_from_slice(&payload);
        let token = format!("{}.{}.{}", b64(&h), b64(&p), b64(&payload));
        prop_assert!(v.validate(&token, NOW, cache).is_err());
    }
}
