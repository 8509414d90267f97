//! ID tokens as the CA validates them (shape, algorithm, issuer, key, signature, times, audience, identity
//! mapping) and as the signing client reads them; issuer configuration JSON.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (validator, jwks) = sigil_fuzz::oidc();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = validator.precheck(text);
        if let Ok((verified, _identity)) = validator.validate_identity(text, sigil_fuzz::NOW, jwks) {
            assert!(!verified.subject.is_empty());
        }
        let _ = sigil_sign::IdentityToken::parse(text);
    }
    // Arbitrary claims, correctly signed: everything after the signature check.
    if let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice::<serde_json::Value>(data) {
        let dev = sigil_fuzz::dev_issuer("https://unused.example");
        let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": dev.kid()});
        let token = dev.sign_jwt(&header, &serde_json::Value::Object(claims)).unwrap();
        let _ = validator.validate_identity(&token, sigil_fuzz::NOW, jwks);
        if let Ok(t) = sigil_sign::IdentityToken::parse(&token) {
            let _ = t.check_time(sigil_fuzz::NOW);
            let _ = t.expected_san();
            let _ = t.expected_issuer();
        }
    }
    if let Ok(config) = sigil_oidc::OidcConfig::from_json(data) {
        let _ = config.lookup(sigil_fuzz::META_ISSUER_URL);
        let _ = config.lookup("https://token.actions.githubusercontent.com/org/repo");
    }
});
