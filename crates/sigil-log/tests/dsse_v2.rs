//! `dsseRequestV002`, as sigstore-js sends it for attestations on Rekor v2: the leaf sigil writes must be the one a
//! reference instance wrote for the same envelope (golden: ../shared/fixtures/private-instance/js5-v2-dsse), and a
//! request whose signature does not verify is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use sigil_log::entry::{Kind, accept_v2};

fn fixture(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/private-instance")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The request sigstore-js would have sent for this bundle.
fn request_for(bundle: &serde_json::Value) -> serde_json::Value {
    let vm = &bundle["verificationMaterial"];
    let cert = vm["certificate"]["rawBytes"].clone();
    let env = &bundle["dsseEnvelope"];
    serde_json::json!({"dsseRequestV002": {
        "envelope": {"payload": env["payload"], "payloadType": env["payloadType"],
                     "signatures": [{"sig": env["signatures"][0]["sig"]}]},
        "verifiers": [{"x509Certificate": {"rawBytes": cert}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}]
    }})
}

#[test]
fn the_leaf_matches_a_reference_instance_byte_for_byte() {
    for name in ["js5-v2-dsse.sigstore.json", "js4-v2-dsse.sigstore.json"] {
        let bundle = fixture(name);
        let accepted = accept_v2(&serde_json::to_vec(&request_for(&bundle)).unwrap()).unwrap();
        assert_eq!(accepted.kind, Kind::DsseV002);
        let expected = sigil_bundle::encoding::decode_base64(
            bundle["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&accepted.body),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
        // The search index finds it by payload digest and by the signer's email.
        let keys = sigil_log::entry::search_keys(&accepted.body);
        assert!(keys.iter().any(|k| k.starts_with("sha256:")), "{keys:?}");
        assert!(keys.iter().any(|k| k.starts_with("email:")), "{keys:?}");
    }
}

#[test]
fn a_signature_that_does_not_verify_is_refused() {
    let bundle = fixture("js5-v2-dsse.sigstore.json");
    let mut req = request_for(&bundle);
    // Another payload under the same signature.
    req["dsseRequestV002"]["envelope"]["payload"] = "e30=".into();
    assert!(accept_v2(&serde_json::to_vec(&req).unwrap()).is_err());
    // A verifier that did not sign it (the intermediate's key is not the signer's).
    let mut req = request_for(&bundle);
    req["dsseRequestV002"]["envelope"]["signatures"] = serde_json::json!([]);
    assert!(accept_v2(&serde_json::to_vec(&req).unwrap()).is_err());
    let mut req = request_for(&bundle);
    req["dsseRequestV002"]["verifiers"] = serde_json::json!([]);
    assert!(accept_v2(&serde_json::to_vec(&req).unwrap()).is_err());
}
