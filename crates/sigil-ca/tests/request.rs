//! The signing-certificate request parser and proof-of-possession checks, without a server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use sigil_ca::Error;
use sigil_ca::request::{KeyProof, SigningCertRequest};
use sigil_crypto::der_write as w;
use sigil_crypto::{KeyAlgorithm, Signer as _, SigningKey};

fn pop_body(key: &SigningKey, challenge: &str, token: Option<&str>) -> Vec<u8> {
    let pem = sigil_crypto::pem_encode("PUBLIC KEY", key.public_key().spki_der());
    let sig = B64.encode(key.sign(challenge.as_bytes()).unwrap());
    let mut v = serde_json::json!({
        "publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": pem}, "proofOfPossession": sig}
    });
    if let Some(t) = token {
        v["credentials"] = serde_json::json!({"oidcIdentityToken": t});
    }
    serde_json::to_vec(&v).unwrap()
}

/// A PKCS#10 request for `key`, signed by `signer` (normally the same key).
fn csr(key: &SigningKey, signer: &SigningKey) -> Vec<u8> {
    let info = w::sequence(&[
        &w::integer_u64(0),
        &w::sequence(&[]),
        key.public_key().spki_der(),
        &sigil_crypto::der::encode(0xa0, &[]),
    ]);
    let sig = signer.sign(&info).unwrap();
    w::sequence(&[
        &info,
        &w::sequence(&[&w::oid("1.2.840.10045.4.3.2").unwrap()]),
        &w::bit_string(&sig),
    ])
}

fn csr_body(der: &[u8]) -> Vec<u8> {
    let pem = sigil_crypto::pem_encode("CERTIFICATE REQUEST", der);
    serde_json::to_vec(&serde_json::json!({"certificateSigningRequest": B64.encode(pem)})).unwrap()
}

#[test]
fn proof_of_possession_over_the_challenge_is_accepted_and_nothing_else() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let req = SigningCertRequest::parse(&pop_body(&key, "alice@example.test", Some("t")), None).unwrap();
    assert_eq!(req.token, "t");
    assert_eq!(req.proof.verify("alice@example.test").unwrap(), *key.public_key());
    // C-01: signed over another subject.
    let req = SigningCertRequest::parse(&pop_body(&key, "mallory@example.test", Some("t")), None).unwrap();
    assert!(matches!(
        req.proof.verify("alice@example.test"),
        Err(Error::BadRequest(_))
    ));
}

#[test]
fn token_from_header_or_body_but_not_two_different_ones() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    assert_eq!(
        SigningCertRequest::parse(&pop_body(&key, "x", None), Some("h"))
            .unwrap()
            .token,
        "h"
    );
    assert_eq!(
        SigningCertRequest::parse(&pop_body(&key, "x", Some("h")), Some("h"))
            .unwrap()
            .token,
        "h"
    );
    assert!(matches!(
        SigningCertRequest::parse(&pop_body(&key, "x", Some("b")), Some("h")),
        Err(Error::BadRequest(_))
    ));
    assert!(matches!(
        SigningCertRequest::parse(&pop_body(&key, "x", None), None),
        Err(Error::Unauthenticated(_))
    ));
}

#[test]
fn csr_self_signature_is_the_proof() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let good = SigningCertRequest::parse(&csr_body(&csr(&key, &key)), Some("t")).unwrap();
    assert!(matches!(good.proof, KeyProof::Csr(_)));
    assert_eq!(good.proof.verify("ignored").unwrap(), *key.public_key());
    // C-02: signed by a different key than the one it carries.
    let bad = SigningCertRequest::parse(&csr_body(&csr(&key, &other)), Some("t")).unwrap();
    assert!(matches!(bad.proof.verify("ignored"), Err(Error::BadRequest(_))));
}

#[test]
fn both_or_neither_key_shapes_are_refused() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut both: serde_json::Value = serde_json::from_slice(&pop_body(&key, "x", None)).unwrap();
    both["certificateSigningRequest"] = B64.encode(csr(&key, &key)).into();
    assert!(SigningCertRequest::parse(&serde_json::to_vec(&both).unwrap(), Some("t")).is_err());
    assert!(SigningCertRequest::parse(b"{}", Some("t")).is_err());
    assert!(SigningCertRequest::parse(b"[]", Some("t")).is_err());
}

proptest! {
    /// Arbitrary bodies never panic; whatever parses still has to pass its proof.
    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), challenge in ".{0,16}") {
        if let Ok(req) = SigningCertRequest::parse(&body, Some("t")) {
            let _ = req.proof.verify(&challenge);
        }
    }

    /// Any single flipped byte of a valid CSR is rejected (or changes nothing the CA relies on: never a
    /// different key accepted under the original signature).
    #[test]
    fn flipped_csr_bytes_never_yield_another_key(pos in 0usize..200, bit in 0u8..8) {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let mut der = csr(&key, &key);
        let i = pos % der.len();
        der[i] ^= 1 << bit;
        if let Ok(req) = SigningCertRequest::parse(&csr_body(&der), Some("t")) {
            if let Ok(k) = req.proof.verify("") {
                prop_assert_eq!(k, key.public_key().clone());
            }
        }
    }
}

/// Key material: generated once, then loaded; an operator's PEM key is used instead of generating one.
#[test]
fn material_is_generated_once_and_operator_pem_keys_are_used() {
    use sigil_ca::material::{Kind, load_or_create};
    let dir = std::env::temp_dir().join(format!("sigil-ca-material-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let now = 1_800_000_000;
    let first = load_or_create(&dir.join("ca"), Kind::CodeSigningCa, "test", now).unwrap();
    let again = load_or_create(&dir.join("ca"), Kind::CodeSigningCa, "test", now + 100).unwrap();
    assert_eq!(first.chain, again.chain);
    assert_eq!(first.signer.public_key(), again.signer.public_key());
    // An operator's directory: the same certificates, the key as PEM only.
    let op = dir.join("operator");
    std::fs::create_dir_all(&op).unwrap();
    for f in ["root.pem", "issuer.pem"] {
        std::fs::copy(dir.join("ca").join(f), op.join(f)).unwrap();
    }
    let pem = sigil_crypto::pem_encode("PRIVATE KEY", first.signer.to_pkcs8_der());
    std::fs::write(op.join("issuer-key.pem"), pem).unwrap();
    let loaded = load_or_create(&op, Kind::CodeSigningCa, "test", now).unwrap();
    assert_eq!(loaded.signer.public_key(), first.signer.public_key());
    assert!(
        !op.join("issuer-key.pk8").exists(),
        "nothing generated next to an operator's key"
    );
    // A key that does not match the certificate is refused.
    let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    std::fs::write(
        op.join("issuer-key.pem"),
        sigil_crypto::pem_encode("PRIVATE KEY", other.to_pkcs8_der()),
    )
    .unwrap();
    assert!(load_or_create(&op, Kind::CodeSigningCa, "test", now).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
