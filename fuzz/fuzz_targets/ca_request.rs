//! The CA's `POST /api/v2/signingCert` body: JSON, CSR (self-signature, key policy) or public key plus proof of
//! possession.
#![no_main]

use sigil_ca::request::SigningCertRequest;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The token from the body alone, then a header token (equal or conflicting with the body's).
    for bearer in [None, Some("header-token")] {
        if let Ok(req) = SigningCertRequest::parse(data, bearer) {
            assert!(!req.token.is_empty());
            if let Ok(key) = req.proof.verify(sigil_fuzz::CHALLENGE) {
                // Whatever verified must satisfy the key policy on its own.
                sigil_ca::request::check_key_policy(&key).unwrap();
            }
        }
    }
});
