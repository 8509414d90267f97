//! RFC 3161 `TimeStampReq` as the TSA parses it, and the JSON-request path (algorithm name + digest). What
//! parses must be issuable, and what is issued must parse as a response.
#![no_main]

use std::sync::{Arc, OnceLock};

use sigil_crypto::{KeyAlgorithm, Signer as _, SigningKey};
use sigil_tsa::{ParsedRequest, TimestampIssuer};

fn issuer() -> &'static TimestampIssuer {
    static ISSUER: OnceLock<TimestampIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let name = |cn: &str| sigil_x509::Name {
            organization: "fuzz".into(),
            common_name: cn.into(),
        };
        let root_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let root = sigil_x509::self_signed_root(&root_key, &name("root"), 0, 4_000_000_000).unwrap();
        let ca = sigil_x509::Issuer::from_der(&root, Arc::new(root_key)).unwrap();
        let tsa_key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let leaf = sigil_x509::tsa_leaf(&ca, tsa_key.public_key(), &name("tsa"), 0, 4_000_000_000).unwrap();
        TimestampIssuer::new(Arc::new(tsa_key), vec![leaf, root], sigil_fuzz::TSA_POLICY).unwrap()
    })
}

fn check(req: &ParsedRequest) {
    assert_eq!(req.imprint().len(), req.hash_algorithm().output_len());
    let der = issuer().issue(req, sigil_fuzz::MINTED_AT, 0, &[1, 2, 3]).unwrap();
    let resp = sigil_tsa::TimeStampResponse::from_der(&der).unwrap();
    // The token echoes the request.
    let info = resp.tst_info();
    assert_eq!(info.imprint_algorithm, req.hash_algorithm());
    assert_eq!(info.imprint, req.imprint());
    assert_eq!(info.nonce.as_deref(), req.nonce());
    assert_eq!(info.policy, sigil_fuzz::TSA_POLICY);
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(req) = sigil_tsa::parse_request(data, sigil_fuzz::TSA_POLICY) {
        check(&req);
    }
    // `name \n digest [nonce]`: the JSON request's algorithm name and digest.
    let (name, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (data.get(..i).unwrap(), data.get(i + 1..).unwrap()),
        None => (data, &[][..]),
    };
    let Ok(alg) = sigil_tsa::hash_algorithm_from_name(&String::from_utf8_lossy(name)) else {
        return;
    };
    let _ = ParsedRequest::from_digest(alg, rest);
    let (digest, nonce) = rest.split_at(rest.len().min(alg.output_len()));
    if let Ok(req) = ParsedRequest::from_digest(alg, digest) {
        let req = if nonce.is_empty() {
            req
        } else {
            match req.with_nonce(nonce) {
                Ok(r) => r.with_cert_req(),
                Err(_) => return,
            }
        };
        check(&req);
    }
});
