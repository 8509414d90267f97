//! A throw-away Sigstore instance for tests: a transparency log and signers with keys made here, so
//! tests can build bundles that are valid in every respect but one.
#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

pub const NOW: i64 = 1_750_000_000;

pub fn b64(b: &[u8]) -> String {
    B64.encode(b)
}

/// The P-256 test key of sigil-x509's test helpers (one key-pair helper for the whole workspace).
#[path = "../../../sigil-x509/tests/common/mod.rs"]
mod x509_common;
pub use x509_common::Key;

/// A Rekor-v1-style log: ECDSA key, SETs, single-leaf trees with signed checkpoints.
pub struct TestLog {
    pub key: Key,
    pub host: String,
}

impl TestLog {
    pub fn new(host: &str) -> Self {
        Self {
            key: Key::new(),
            host: host.to_string(),
        }
    }

    pub fn tlog_json(&self, valid_start: &str, valid_end: Option<&str>) -> Value {
        let mut valid_for = json!({"start": valid_start});
        if let Some(e) = valid_end {
            valid_for["end"] = json!(e);
        }
        json!({
            "baseUrl": format!("https://{}", self.host),
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": b64(&self.key.spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": valid_for},
            "logId": {"keyId": b64(&self.key.key_id())}
        })
    }

    /// A signed checkpoint note for `size`/`root`.
    pub fn checkpoint(&self, size: u64, root: &[u8; 32]) -> String {
        let body = format!("{} - 1234\n{size}\n{}\n", self.host, b64(root));
        let sig = self.key.sign(body.as_bytes());
        let mut line = self.key.key_id()[..4].to_vec();
        line.extend_from_slice(&sig);
        format!("{body}\n\u{2014} {} {}\n", self.host, b64(&line))
    }

    /// A v1 entry for `body` at `index` (a tree of `index + 1` leaves whose other leaves are made up).
    pub fn entry(&self, kind: &str, version: &str, body: &[u8], index: u64, integrated_time: i64) -> Value {
        let mut tree = sigil_tlog::MerkleTree::new();
        for i in 0..index {
            tree.push(sigil_tlog::hash_leaf(format!("other leaf {i}").as_bytes()));
        }
        tree.push(sigil_tlog::hash_leaf(body));
        let size = index + 1;
        let root = tree.root(size).unwrap();
        let proof = tree.inclusion_proof(index, size).unwrap();
        let set_payload = format!(
            r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
            b64(body),
            integrated_time,
            hex::encode(self.key.key_id()),
            index
        );
        json!({
            "logIndex": index.to_string(),
            "logId": {"keyId": b64(&self.key.key_id())},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": b64(&self.key.sign(set_payload.as_bytes()))},
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": b64(&root),
                "treeSize": size.to_string(),
                "hashes": proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
                "checkpoint": {"envelope": self.checkpoint(size, &root)}
            },
            "canonicalizedBody": b64(body)
        })
    }
}

pub fn trusted_root(tlogs: Vec<Value>) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": tlogs,
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": []
    })
}

pub fn hashedrekord_body(digest: &[u8], sig: &[u8], signer: &Key) -> Vec<u8> {
    let v = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
        "signature": {"content": b64(sig), "publicKey": {"content": b64(signer.pem().as_bytes())}}}});
    sigil_bundle::jcs::canonicalize(&v).into_bytes()
}

pub fn dsse_body(payload: &[u8], sig: &[u8], signer: &Key) -> Vec<u8> {
    let v = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
        "envelopeHash": {"algorithm": "sha256", "value": "00"},
        "payloadHash": {"algorithm": "sha256", "value": hex::encode(sigil_crypto::sha256(payload))},
        "signatures": [{"signature": b64(sig), "verifier": b64(signer.pem().as_bytes())}]}});
    sigil_bundle::jcs::canonicalize(&v).into_bytes()
}

/// A valid key-signed v0.3 message-signature bundle over `artifact`, logged once in `log`.
pub fn message_bundle(artifact: &[u8], signer: &Key, log: &TestLog, integrated_time: i64) -> Value {
    let digest = sigil_crypto::sha256(artifact);
    let sig = signer.sign(artifact);
    let body = hashedrekord_body(&digest, &sig, signer);
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "test"}, "tlogEntries": [log.entry("hashedrekord", "0.0.1", &body, 0, integrated_time)]},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(&digest)}, "signature": b64(&sig)}
    })
}

/// A valid key-signed v0.3 DSSE bundle whose payload is `payload`.
pub fn dsse_bundle(payload: &[u8], payload_type: &str, signer: &Key, log: &TestLog, integrated_time: i64) -> Value {
    let pae = sigil_bundle::pae(payload_type, payload);
    let sig = signer.sign(&pae);
    let body = dsse_body(payload, &sig, signer);
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "test"}, "tlogEntries": [log.entry("dsse", "0.0.1", &body, 0, integrated_time)]},
        "dsseEnvelope": {"payload": b64(payload), "payloadType": payload_type, "signatures": [{"sig": b64(&sig), "keyid": ""}]}
    })
}

pub fn statement(subjects: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {}
    }))
    .unwrap()
}

pub fn verifier_for(root: &Value) -> sigil_verify::Verifier {
    let trust = sigil_trust::TrustedMaterial::from_json(root.to_string().as_bytes()).unwrap();
    sigil_verify::Verifier::new(trust, sigil_verify::VerifierOptions::default())
}

/// Verifies a JSON bundle with a key; returns the error code on failure.
pub fn verify_with_key(
    verifier: &sigil_verify::Verifier,
    bundle: &Value,
    artifact: &[u8],
    key: &Key,
) -> Result<(), String> {
    let vk = key.verifying_key();
    let b = verifier
        .parse_bundle(bundle.to_string().as_bytes())
        .map_err(|e| e.code().as_str().to_string())?;
    verifier
        .verify(
            &b,
            &sigil_verify::Artifact::Bytes(artifact),
            sigil_verify::SignerCheck::Key(&vk),
            NOW,
        )
        .map(|_| ())
        .map_err(|e| format!("{}", e.code()))
}
