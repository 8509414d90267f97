#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

use sigil_bundle::bundle::{Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId};
use sigil_bundle::encoding::Int64;
use sigil_bundle::trust::Service;

use super::*;
use crate::ServiceError;
use crate::token::tests::jwt;

fn entry(kind: &str, version: &str) -> TransparencyLogEntry {
    TransparencyLogEntry {
        log_index: Int64(3),
        log_id: LogId {
            key_id: Bytes(vec![1; 32]),
        },
        kind_version: KindVersion {
            kind: kind.into(),
            version: version.into(),
        },
        integrated_time: Int64(1_700_000_000),
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: Bytes(vec![2; 8]),
        }),
        inclusion_proof: Some(InclusionProof {
            log_index: Int64(3),
            root_hash: Bytes(vec![3; 32]),
            tree_size: Int64(4),
            hashes: vec![Bytes(vec![4; 32])],
            checkpoint: Some(Checkpoint {
                envelope: "origin\n4\nAw==\n\n— origin AAAA\n".into(),
            }),
        }),
        canonicalized_body: Some(Bytes(b"{}".to_vec())),
    }
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn message_signature_bundle_shape() {
    let b = assemble(
        BundleSigner::Certificate(b"leaf"),
        Some(entry("hashedrekord", "0.0.1")),
        vec![],
        vec![9; 70],
        [7; 32],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&b.to_json().unwrap()).unwrap();
    assert_eq!(keys(&v), ["mediaType", "messageSignature", "verificationMaterial"]);
    assert_eq!(v["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    let vm = &v["verificationMaterial"];
    assert_eq!(
        keys(vm),
        ["certificate", "tlogEntries"],
        "leaf only, no chain, no empty timestamps"
    );
    assert_eq!(keys(&vm["certificate"]), ["rawBytes"]);
    let e = &vm["tlogEntries"][0];
    assert_eq!(
        keys(e),
        [
            "canonicalizedBody",
            "inclusionPromise",
            "inclusionProof",
            "integratedTime",
            "kindVersion",
            "logId",
            "logIndex"
        ]
    );
    // int64 as strings (sigstore-python rejects numbers).
    assert_eq!(e["logIndex"], "3");
    assert_eq!(e["integratedTime"], "1700000000");
    assert_eq!(e["inclusionProof"]["logIndex"], "3");
    assert_eq!(e["inclusionProof"]["treeSize"], "4");
    assert_eq!(
        keys(&e["inclusionProof"]),
        ["checkpoint", "hashes", "logIndex", "rootHash", "treeSize"]
    );
    let ms = &v["messageSignature"];
    assert_eq!(keys(ms), ["messageDigest", "signature"]);
    assert_eq!(ms["messageDigest"]["algorithm"], "SHA2_256");
    assert_eq!(
        ms["messageDigest"]["digest"],
        sigil_bundle::encoding::encode_base64(&[7; 32])
    );
    // And it is a structurally valid v0.3 bundle.
    Bundle::from_json(b.to_json().unwrap().as_bytes(), &Limits::default())
        .unwrap()
        .check(&Limits::default())
        .unwrap();
}

#[test]
fn dsse_bundle_shape_with_timestamps() {
    let env = Envelope {
        payload: Bytes(b"{}".to_vec()),
        payload_type: PAYLOAD_TYPE.into(),
        signatures: vec![DsseSignature {
            sig: Bytes(vec![5; 70]),
            keyid: None,
        }],
    };
    let mut e = entry("hashedrekord", "0.0.2");
    e.integrated_time = Int64(0);
    e.inclusion_promise = None;
    let b = assemble(
        BundleSigner::Certificate(b"leaf"),
        Some(e),
        vec![vec![0x30, 0]],
        vec![5; 70],
        [7; 32],
        Some(env),
    );
    let v: serde_json::Value = serde_json::from_str(&b.to_json().unwrap()).unwrap();
    assert_eq!(keys(&v), ["dsseEnvelope", "mediaType", "verificationMaterial"]);
    assert_eq!(keys(&v["dsseEnvelope"]), ["payload", "payloadType", "signatures"]);
    assert_eq!(keys(&v["dsseEnvelope"]["signatures"][0]), ["sig"]);
    let vm = &v["verificationMaterial"];
    assert_eq!(keys(vm), ["certificate", "timestampVerificationData", "tlogEntries"]);
    assert_eq!(
        keys(&vm["timestampVerificationData"]["rfc3161Timestamps"][0]),
        ["signedTimestamp"]
    );
    assert_eq!(
        keys(&vm["tlogEntries"][0]),
        [
            "canonicalizedBody",
            "inclusionProof",
            "kindVersion",
            "logId",
            "logIndex"
        ],
        "a v2 entry has no integrated time and no promise"
    );
}

#[test]
fn log_entries_are_checked_for_kind_and_proofs() {
    check_entry(&entry("hashedrekord", "0.0.1"), 1, false).unwrap();
    check_entry(&entry("dsse", "0.0.1"), 1, true).unwrap();
    check_entry(&entry("hashedrekord", "0.0.2"), 2, true).unwrap();
    assert!(check_entry(&entry("intoto", "0.0.2"), 1, true).is_err());
    let mut e = entry("hashedrekord", "0.0.1");
    e.inclusion_promise = None;
    assert!(
        check_entry(&e, 1, false)
            .unwrap_err()
            .to_string()
            .contains("signed entry timestamp")
    );
    let mut e = entry("hashedrekord", "0.0.1");
    e.inclusion_proof.as_mut().unwrap().checkpoint = None;
    assert!(
        check_entry(&e, 1, false)
            .unwrap_err()
            .to_string()
            .contains("checkpoint")
    );
}

#[test]
fn statement_for_names_the_artifact() {
    let json = statement_for(
        "a.txt",
        &[0xab; 32],
        "https://slsa.dev/provenance/v1",
        serde_json::json!({"x": 1}),
    )
    .unwrap();
    let s = Statement::from_json(&json, &Limits::default()).unwrap();
    assert!(s.has_subject_digest("sha256", &"ab".repeat(32)));
    assert_eq!(s.subject[0].name, "a.txt");
    assert_eq!(s.predicate_type, "https://slsa.dev/provenance/v1");
}

/// A service double that counts calls and answers as told.
struct Fake {
    calls: AtomicUsize,
    chain: Result<Vec<Vec<u8>>, ServiceError>,
}

impl CertificateAuthority for Fake {
    fn signing_certificate(&self, _: &str, r: &CertificateRequest<'_>) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // The proof of possession verifies over the challenge with the requested key.
        let key = sigil_crypto::VerifyingKey::from_pem(&r.public_key_pem).unwrap();
        key.verify(
            sigil_crypto::SignatureScheme::EcdsaSha256,
            b"alice@example.test",
            &r.proof_of_possession,
        )
        .unwrap();
        self.chain.clone()
    }
}

impl TransparencyLog for Fake {
    fn create_entry(&self, _: &str, _: u32, _: &LogEntryRequest<'_>) -> Result<TransparencyLogEntry, ServiceError> {
        panic!("must not be reached")
    }
}

impl TimestampAuthority for Fake {
    fn timestamp(&self, _: &str, _: &TimeStampRequest) -> Result<Vec<u8>, ServiceError> {
        panic!("must not be reached")
    }
}

fn service(url: &str, v: u32) -> Service {
    Service {
        url: url.into(),
        major_api_version: v,
        valid_for: None,
        operator: "test".into(),
    }
}

fn services(v: u32, tsa: bool) -> Services {
    Services {
        ca: service("http://ca", 1),
        tlog: service("http://log", v),
        tsas: if tsa { vec![service("http://tsa/ts", 1)] } else { vec![] },
        oidc: None,
    }
}

fn token() -> IdentityToken {
    IdentityToken::parse(&jwt(
        serde_json::json!({"iss": "https://issuer.test", "sub": "alice@example.test",
        "email": "alice@example.test", "email_verified": true, "aud": "sigstore", "exp": 2_000_000_000i64}),
    ))
    .unwrap()
}

#[test]
fn rekor_v2_without_a_tsa_is_refused_up_front() {
    let f = Fake {
        calls: AtomicUsize::new(0),
        chain: Ok(vec![]),
    };
    let err = SigningContext::new(TrustedMaterial::production().unwrap(), services(2, false), &f, &f, &f).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    SigningContext::new(TrustedMaterial::production().unwrap(), services(2, true), &f, &f, &f).unwrap();
}

#[test]
fn expired_token_fails_before_any_request() {
    let f = Fake {
        calls: AtomicUsize::new(0),
        chain: Ok(vec![]),
    };
    let ctx = SigningContext::new(TrustedMaterial::production().unwrap(), services(1, false), &f, &f, &f).unwrap();
    let err = ctx
        .sign_digest(SignWith::Identity(&token()), [0; 32], &|| 2_100_000_000)
        .unwrap_err();
    assert!(matches!(err, Error::Token(_)), "{err}");
    assert_eq!(f.calls.load(Ordering::SeqCst), 0);
}

#[test]
fn ca_failures_name_the_step_and_the_server_message() {
    let f = Fake {
        calls: AtomicUsize::new(0),
        chain: Err(ServiceError {
            service: "fulcio",
            url: "http://ca/api/v2/signingCert".into(),
            status: Some(401),
            message: "invalid identity token".into(),
        }),
    };
    let ctx = SigningContext::new(TrustedMaterial::production().unwrap(), services(1, false), &f, &f, &f).unwrap();
    let err = ctx
        .sign_digest(SignWith::Identity(&token()), [0; 32], &|| 1_800_000_000)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "getting the signing certificate: fulcio at http://ca/api/v2/signingCert: HTTP 401: invalid identity token"
    );
}

#[test]
fn short_or_foreign_chains_are_refused_before_signing() {
    let prod_ca = TrustedMaterial::production().unwrap().certificate_authorities[0].chain[0]
        .der()
        .to_vec();
    for (chain, want) in [
        (vec![], "no certificate"),
        (vec![prod_ca.clone()], "chain of 1"),
        (vec![prod_ca.clone(), prod_ca], "not for the key"),
    ] {
        let f = Fake {
            calls: AtomicUsize::new(0),
            chain: Ok(chain),
        };
        let ctx = SigningContext::new(TrustedMaterial::production().unwrap(), services(1, false), &f, &f, &f).unwrap();
        let err = ctx
            .sign_digest(SignWith::Identity(&token()), [0; 32], &|| 1_800_000_000)
            .unwrap_err();
        assert!(matches!(err, Error::Certificate(_)), "{err}");
        assert!(err.to_string().contains(want), "{err}");
    }
}

#[test]
fn key_signing_without_the_log_contacts_nothing() {
    let f = Fake {
        calls: AtomicUsize::new(0),
        chain: Ok(vec![]),
    };
    let ctx = SigningContext::new(TrustedMaterial::production().unwrap(), services(1, false), &f, &f, &f).unwrap();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let with = SignWith::Key { key: &key, tlog: false };
    let signed = ctx.sign_digest(with, [7; 32], &|| 1_800_000_000).unwrap();
    assert_eq!(f.calls.load(Ordering::SeqCst), 0, "no CA, log or TSA request");
    let hint = B64.encode(sigil_crypto::sha256(key.public_key().spki_der()));
    assert_eq!(signed.signer, SignedBy::Key { hint: hint.clone() });
    let v: serde_json::Value = serde_json::from_str(&signed.json).unwrap();
    assert_eq!(keys(&v["verificationMaterial"]), ["publicKey"]);
    assert_eq!(v["verificationMaterial"]["publicKey"]["hint"], hint.as_str());
    // It verifies with the key once the caller accepts no transparency, and not under the default policy.
    let artifact = Artifact::Digest {
        algorithm: HashAlgorithm::Sha2_256,
        digest: vec![7; 32],
    };
    let check = SignerCheck::Key(key.public_key());
    ctx.offline_verifier
        .verify(&signed.bundle, &artifact, check, 1_800_000_000)
        .unwrap();
    assert!(
        ctx.verifier
            .verify(&signed.bundle, &artifact, check, 1_800_000_000)
            .is_err()
    );
    let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    assert!(
        ctx.offline_verifier
            .verify(
                &signed.bundle,
                &artifact,
                SignerCheck::Key(other.public_key()),
                1_800_000_000
            )
            .is_err()
    );

    // An Ed25519 key signs statements (DSSE), but cannot make a message signature over a digest.
    let ed = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let statement = statement_for("a.txt", &[7; 32], "https://example.test/p", serde_json::json!({})).unwrap();
    let signed = ctx
        .sign_statement(SignWith::Key { key: &ed, tlog: false }, &statement, &|| 1_800_000_000)
        .unwrap();
    assert!(signed.bundle.dsse_envelope.is_some());
    let err = ctx
        .sign_digest(SignWith::Key { key: &ed, tlog: false }, [7; 32], &|| 1_800_000_000)
        .unwrap_err();
    assert!(err.to_string().contains("P-256"), "{err}");
    assert_eq!(f.calls.load(Ordering::SeqCst), 0);
}
