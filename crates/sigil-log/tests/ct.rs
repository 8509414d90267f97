//! The RFC 6962 CT log: precertificate chains built in the test (real ECDSA signatures), SCTs that verify with
//! `sigil_x509` once embedded, Merkle inclusion against the signed tree head, rejections, restart, and the HTTP
//! routes' 4xx answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::BodyExt as _;
use sigil_crypto::der_write::{bit_string, boolean, explicit, integer_u64, null, octet_string, oid, sequence, set_of};
use sigil_crypto::{KeyAlgorithm, SignatureScheme, Signer, SigningKey};
use sigil_log::ct::{CtError, CtLog, CtLogOptions, tree_head_signed_data};
use sigil_tlog::{hash_leaf, verify_consistency, verify_inclusion};
use sigil_x509::{Certificate, CtLog as TrustedCtLog, encode_sct_list, verify_embedded_scts};
use tower::ServiceExt as _;

// ---------- a tiny certificate builder (DER by hand, signed with SigningKey) ----------

const POISON: &str = "1.3.6.1.4.1.11129.2.4.3";
const SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn name(cn: &str) -> Vec<u8> {
    let atv = sequence(&[&oid("2.5.4.3").unwrap(), &sigil_crypto::der_write::utf8_string(cn)]);
    sequence(&[&set_of(vec![atv])])
}

fn ext(dotted: &str, critical: bool, value: &[u8]) -> Vec<u8> {
    let id = oid(dotted).unwrap();
    if critical {
        sequence(&[&id, &boolean(true), &octet_string(value)])
    } else {
        sequence(&[&id, &octet_string(value)])
    }
}

fn ca_exts() -> Vec<Vec<u8>> {
    vec![
        ext("2.5.29.19", true, &sequence(&[&boolean(true)])),
        // keyCertSign: bit 5, two unused bits.
        ext("2.5.29.15", true, &[0x03, 0x02, 0x02, 0x04]),
    ]
}

fn leaf_exts(email: &str) -> Vec<Vec<u8>> {
    vec![
        ext("2.5.29.15", true, &[0x03, 0x02, 0x07, 0x80]),
        ext("2.5.29.37", false, &sequence(&[&oid("1.3.6.1.5.5.7.3.3").unwrap()])),
        ext(
            "2.5.29.17",
            true,
            &sequence(&[&sigil_crypto::der::encode(0x81, email.as_bytes())]),
        ),
    ]
}

fn poison() -> Vec<u8> {
    ext(POISON, true, &null())
}

struct Spec {
    serial: u64,
    issuer: String,
    subject: String,
    not_before: i64,
    not_after: i64,
    exts: Vec<Vec<u8>>,
}

impl Spec {
    fn new(issuer: &str, subject: &str, exts: Vec<Vec<u8>>) -> Self {
        Self {
            serial: 7,
            issuer: issuer.into(),
            subject: subject.into(),
            not_before: now() - 3600,
            not_after: now() + 3600,
            exts,
        }
    }

    fn build(&self, subject_key: &dyn Signer, issuer_key: &dyn Signer) -> Vec<u8> {
        let alg = sequence(&[&oid("1.2.840.10045.4.3.2").unwrap()]);
        let validity = sequence(&[
            &sigil_crypto::der_write::x509_time(self.not_before).unwrap(),
            &sigil_crypto::der_write::x509_time(self.not_after).unwrap(),
        ]);
        let exts = explicit(3, &sequence(&self.exts.iter().map(Vec::as_slice).collect::<Vec<_>>()));
        let tbs = sequence(&[
            &explicit(0, &integer_u64(2)),
            &integer_u64(self.serial),
            &alg,
            &name(&self.issuer),
            &validity,
            &name(&self.subject),
            subject_key.public_key().spki_der(),
            &exts,
        ]);
        let sig = issuer_key.sign(&tbs).unwrap();
        sequence(&[&tbs, &alg, &bit_string(&sig)])
    }
}

fn key() -> SigningKey {
    SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap()
}

/// root → intermediate → precertificate (and the final certificate with an SCT list in the poison's place).
struct Pki {
    root_key: SigningKey,
    int_key: SigningKey,
    leaf_key: SigningKey,
    root: Vec<u8>,
    int: Vec<u8>,
}

impl Pki {
    fn new() -> Self {
        let (root_key, int_key) = (key(), key());
        let root = Spec::new("root", "root", ca_exts()).build(&root_key, &root_key);
        let int = Spec::new("root", "intermediate", ca_exts()).build(&int_key, &root_key);
        Self {
            root_key,
            int_key,
            leaf_key: key(),
            root,
            int,
        }
    }

    fn leaf_spec(&self, email: &str, extra: Vec<u8>) -> Spec {
        let mut exts = leaf_exts(email);
        exts.insert(1, extra);
        Spec::new("intermediate", "", exts)
    }

    fn precert(&self, email: &str) -> Vec<u8> {
        self.leaf_spec(email, poison()).build(&self.leaf_key, &self.int_key)
    }

    fn final_cert(&self, email: &str, sct_list: &[u8]) -> Certificate {
        let der = self
            .leaf_spec(email, ext(SCT_LIST, false, sct_list))
            .build(&self.leaf_key, &self.int_key);
        Certificate::from_der(&der).unwrap()
    }

    fn root_cert(&self) -> Certificate {
        Certificate::from_der(&self.root).unwrap()
    }

    fn int_cert(&self) -> Certificate {
        Certificate::from_der(&self.int).unwrap()
    }
}

fn open(dir: &std::path::Path, pki: &Pki) -> CtLog {
    CtLog::open(dir, CtLogOptions::new("ct.example.test/ct", vec![pki.root_cert()])).unwrap()
}

fn trusted(ct: &CtLog) -> Vec<TrustedCtLog> {
    vec![TrustedCtLog::new(ct.public_key())]
}

// ---------- the log ----------

#[tokio::test]
async fn sct_verifies_once_embedded_and_the_leaf_is_in_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let ct = open(dir.path(), &pki);
    for (i, chain) in [
        vec![pki.precert("a@example.test"), pki.int.clone()],
        vec![pki.precert("b@example.test"), pki.int.clone(), pki.root.clone()],
    ]
    .into_iter()
    .enumerate()
    {
        let email = if i == 0 { "a@example.test" } else { "b@example.test" };
        let resp = ct.add_pre_chain(chain).await.unwrap();
        assert_eq!(resp.leaf_index, i as u64);
        assert_eq!(resp.sct.log_id, ct.log_id());
        assert_eq!(B64.decode(&resp.id).unwrap(), ct.log_id());
        assert_eq!(resp.sct_version, 0);
        assert_eq!(resp.extensions, "");
        let sig = B64.decode(&resp.signature).unwrap();
        assert_eq!(sig[..2], [4, 3]);
        assert_eq!(sig[4..], resp.sct.signature[..]);
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["extensions", "id", "sct_version", "signature", "timestamp"]
        );

        // The CA's step: embed the SCT list in the final certificate; the verifier accepts it.
        let list = encode_sct_list(std::slice::from_ref(&resp.sct)).unwrap();
        let leaf = pki.final_cert(email, &list);
        let got = verify_embedded_scts(&leaf, &pki.int_cert(), &trusted(&ct)).unwrap();
        assert_eq!(got[0].timestamp_ms, resp.timestamp);

        // The leaf is the RFC 6962 MerkleTreeLeaf, in the tree the STH signs.
        let tbs = sigil_x509::tbs_without_sct(leaf.tbs_der()).unwrap();
        let mtl =
            sigil_x509::precert_merkle_leaf(resp.timestamp, &pki.int_cert().public_key().sha256_key_id(), &tbs, b"")
                .unwrap();
        assert_eq!(ct.log().entry(resp.leaf_index).unwrap(), mtl);
        assert_eq!(hash_leaf(&mtl), resp.leaf_hash);
        let sth = ct.signed_tree_head().unwrap();
        assert_eq!(sth.tree_size, i as u64 + 1);
        ct.public_key()
            .verify(
                SignatureScheme::EcdsaSha256,
                &tree_head_signed_data(sth.timestamp_ms, sth.tree_size, &sth.root_hash),
                &sth.signature[4..],
            )
            .unwrap();
        assert!(sth.timestamp_ms >= resp.timestamp);
        let proof = ct.log().inclusion_proof(resp.leaf_index, sth.tree_size).unwrap();
        verify_inclusion(resp.leaf_index, sth.tree_size, &resp.leaf_hash, &proof, &sth.root_hash).unwrap();
    }
}

#[tokio::test]
async fn concurrent_submissions_get_distinct_entries() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let ct = Arc::new(open(dir.path(), &pki));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let chain = vec![pki.precert(&format!("u{i}@example.test")), pki.int.clone()];
        let ct = Arc::clone(&ct);
        tasks.push(tokio::spawn(async move { ct.add_pre_chain(chain).await.unwrap() }));
    }
    let mut indexes = Vec::new();
    for t in tasks {
        indexes.push(t.await.unwrap().leaf_index);
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (0..16).collect::<Vec<_>>());
    assert_eq!(ct.log().size(), 16);
}

#[tokio::test]
async fn bad_chains_are_refused_and_nothing_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let ct = open(dir.path(), &pki);
    let other = Pki::new(); // an unknown CA
    let precert = pki.precert("a@example.test");
    let not_precert = pki
        .leaf_spec("a@example.test", ext("1.2.3.4", false, &null()))
        .build(&pki.leaf_key, &pki.int_key);
    let soft_poison = pki
        .leaf_spec("a@example.test", ext(POISON, false, &null()))
        .build(&pki.leaf_key, &pki.int_key);
    let mut expired = Spec::new("root", "intermediate", ca_exts());
    expired.not_after = now() - 60;
    let expired = expired.build(&pki.int_key, &pki.root_key);
    let mut huge = pki.leaf_spec("a@example.test", poison());
    huge.exts.push(ext("1.2.3.5", false, &vec![0u8; 70_000]));
    let huge = huge.build(&pki.leaf_key, &pki.int_key);
    let not_ca_int = Spec::new("root", "intermediate", vec![]).build(&pki.int_key, &pki.root_key);

    type Case = (&'static str, Vec<Vec<u8>>, fn(&CtError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "unknown CA",
            vec![other.precert("a@example.test"), other.int.clone()],
            |e| matches!(e, CtError::UntrustedRoot),
        ),
        (
            "unknown CA, root included",
            vec![other.precert("a@x"), other.int.clone(), other.root.clone()],
            |e| matches!(e, CtError::UntrustedRoot),
        ),
        ("not a precertificate", vec![not_precert, pki.int.clone()], |e| {
            matches!(e, CtError::NotPrecertificate)
        }),
        ("non-critical poison", vec![soft_poison, pki.int.clone()], |e| {
            matches!(e, CtError::NotPrecertificate)
        }),
        ("precert alone", vec![precert.clone()], |e| {
            matches!(e, CtError::ChainTooShort)
        }),
        ("empty", vec![], |e| matches!(e, CtError::ChainTooShort)),
        ("too long", vec![precert.clone(); 11], |e| {
            matches!(e, CtError::ChainTooLong { len: 11 })
        }),
        ("wrong issuer", vec![precert.clone(), pki.root.clone()], |e| {
            matches!(e, CtError::NotIssuedBy { index: 0, .. })
        }),
        ("expired intermediate", vec![precert.clone(), expired], |e| {
            matches!(e, CtError::NotValidNow { index: 1 })
        }),
        ("issuer not a CA", vec![precert.clone(), not_ca_int], |e| {
            matches!(e, CtError::NotCa { index: 1 })
        }),
        ("oversized certificate", vec![huge, pki.int.clone()], |e| {
            matches!(e, CtError::CertTooLarge { index: 0, .. })
        }),
        ("garbage", vec![b"not DER".to_vec(), pki.int.clone()], |e| {
            matches!(e, CtError::Malformed { index: 0, .. })
        }),
    ];
    for (what, chain, expect) in cases {
        // The CA of the same process gets the same answer: only the precertificate's signature is trusted.
        let err = ct.add_own_pre_chain(chain.clone()).await.unwrap_err();
        assert!(expect(&err), "{what}, from the CA of this process: {err:?}");
        let err = ct.add_pre_chain(chain).await.unwrap_err();
        assert!(expect(&err), "{what}: {err:?}");
        assert!(err.is_client_error(), "{what}");
        assert!(
            err.to_string().starts_with(|c: char| c.is_lowercase()),
            "{what}: lowercase message"
        );
    }
    assert_eq!(ct.log().size(), 0);
}

/// The verified suffix (issuer … root) is remembered, but only its signatures: validity at `now` is checked on
/// every use, a tampered suffix is verified afresh, and the precertificate's own signature always is.
#[test]
fn remembered_chain_suffixes_are_rechecked_where_it_matters() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let ct = open(dir.path(), &pki);
    let t = now();
    for suffix in [vec![pki.int.clone()], vec![pki.int.clone(), pki.root.clone()]] {
        let chain = |precert: Vec<u8>| [vec![precert], suffix.clone()].concat();
        // Verified, then served from the cache.
        ct.check_pre_chain(&chain(pki.precert("a@example.test")), t).unwrap();
        ct.check_pre_chain(&chain(pki.precert("b@example.test")), t).unwrap();
        // No longer (or not yet) valid at `now`: refused although remembered.
        let err = ct
            .check_pre_chain(&chain(pki.precert("a@example.test")), t + 7200)
            .unwrap_err();
        assert!(matches!(err, CtError::NotValidNow { .. }), "{err:?}");
        let err = ct
            .check_pre_chain(&chain(pki.precert("a@example.test")), t - 7200)
            .unwrap_err();
        assert!(matches!(err, CtError::NotValidNow { .. }), "{err:?}");
        // The precertificate's signature is checked even with a remembered suffix.
        let other = Pki::new();
        let forged = pki
            .leaf_spec("a@example.test", poison())
            .build(&pki.leaf_key, &other.int_key);
        let err = ct.check_pre_chain(&chain(forged), t).unwrap_err();
        assert!(matches!(err, CtError::NotIssuedBy { index: 0, .. }), "{err:?}");
        ct.check_pre_chain(&chain(pki.precert("a@example.test")), t).unwrap();
    }

    // A tampered intermediate (same names, one signature byte changed) is not served from the cache.
    let mut tampered = pki.int.clone();
    *tampered.last_mut().unwrap() ^= 1;
    Certificate::from_der(&tampered).unwrap();
    let err = ct
        .check_pre_chain(&[pki.precert("a@example.test"), tampered.clone()], t)
        .unwrap_err();
    assert!(matches!(err, CtError::UntrustedRoot), "{err:?}");
    let err = ct
        .check_pre_chain(&[pki.precert("a@example.test"), tampered, pki.root.clone()], t)
        .unwrap_err();
    assert!(matches!(err, CtError::NotIssuedBy { index: 1, .. }), "{err:?}");

    // A root that was valid when the suffix was remembered but no longer is: the chain is refused.
    let mut short_root = Spec::new("root", "root", ca_exts());
    short_root.not_after = t + 60;
    let short_root = short_root.build(&pki.root_key, &pki.root_key);
    let dir2 = tempfile::tempdir().unwrap();
    let ct2 = CtLog::open(
        dir2.path(),
        CtLogOptions::new("ct.example.test/ct", vec![Certificate::from_der(&short_root).unwrap()]),
    )
    .unwrap();
    let chain = [pki.precert("a@example.test"), pki.int.clone()];
    ct2.check_pre_chain(&chain, t).unwrap();
    ct2.check_pre_chain(&chain, t).unwrap();
    let err = ct2.check_pre_chain(&chain, t + 120).unwrap_err();
    assert!(matches!(err, CtError::UntrustedRoot), "{err:?}");
}

#[tokio::test]
async fn restart_keeps_entries_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let (id, leaf_hash, sth_root) = {
        let ct = open(dir.path(), &pki);
        let resp = ct
            .add_pre_chain(vec![pki.precert("a@example.test"), pki.int.clone()])
            .await
            .unwrap();
        let id = ct.log_id();
        let root = ct.signed_tree_head().unwrap().root_hash;
        ct.close();
        (id, resp.leaf_hash, root)
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("keys/ct-ecdsa-p256.pk8"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let ct = open(dir.path(), &pki);
    assert_eq!(ct.log_id(), id);
    assert_eq!(ct.log().size(), 1);
    assert_eq!(ct.log().find(&leaf_hash).unwrap(), Some(0));
    let resp = ct
        .add_pre_chain(vec![pki.precert("b@example.test"), pki.int.clone()])
        .await
        .unwrap();
    assert_eq!(resp.leaf_index, 1);
    let sth = ct.signed_tree_head().unwrap();
    let proof = ct.log().consistency_proof(1, 2).unwrap();
    verify_consistency(1, 2, &proof, &sth_root, &sth.root_hash).unwrap();
    ct.close();
    drop(ct);

    // Another key than the recorded one is refused.
    let other: Arc<dyn Signer> = Arc::new(key());
    let opts = CtLogOptions::new("ct.example.test/ct", vec![pki.root_cert()]).with_signer(other);
    assert!(CtLog::open(dir.path(), opts).is_err());
}

#[tokio::test]
async fn a_given_signer_is_used_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let signer: Arc<dyn Signer> = Arc::new(key());
    let id = signer.public_key().sha256_key_id();
    let opts = CtLogOptions::new("ct.example.test/ct", vec![pki.root_cert()]).with_signer(Arc::clone(&signer));
    let ct = CtLog::open(dir.path(), opts.clone()).unwrap();
    assert_eq!(ct.log_id(), id);
    assert!(!dir.path().join("keys/ct-ecdsa-p256.pk8").exists());
    let entry = ct.trust_entry("http://127.0.0.1:5555/").unwrap();
    assert_eq!(entry.base_url, "http://127.0.0.1:5555");
    assert_eq!(entry.log_id.key_id.0, id.to_vec());
    assert_eq!(
        entry.public_key.raw_bytes.as_ref().unwrap().0,
        signer.public_key().spki_der()
    );
    assert_eq!(entry.public_key.key_details.as_deref(), Some("PKIX_ECDSA_P256_SHA_256"));
    ct.close();
    drop(ct);
    // Without the key on a later start: refused rather than silently generating a new log identity.
    assert!(CtLog::open(dir.path(), CtLogOptions::new("ct.example.test/ct", vec![])).is_err());
    // Ed25519 cannot sign RFC 6962 SCTs.
    let dir2 = tempfile::tempdir().unwrap();
    let ed: Arc<dyn Signer> = Arc::new(SigningKey::generate(KeyAlgorithm::Ed25519).unwrap());
    assert!(
        CtLog::open(
            dir2.path(),
            CtLogOptions::new("ct.example.test/ct", vec![]).with_signer(ed)
        )
        .is_err()
    );
}

// ---------- HTTP ----------

async fn call(app: &axum::Router, method: &str, uri: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, json)
}

fn chain_json(chain: &[Vec<u8>]) -> String {
    serde_json::json!({"chain": chain.iter().map(|c| B64.encode(c)).collect::<Vec<_>>()}).to_string()
}

fn enc(s: &str) -> String {
    s.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

#[tokio::test]
async fn http_routes() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let ct = Arc::new(open(dir.path(), &pki));
    let app = sigil_log::ct_api::router(Arc::clone(&ct));

    let (st, sth0) = call(&app, "GET", "/ct/v1/get-sth", "").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(sth0["tree_size"], 0);

    let mut hashes = Vec::new();
    for email in ["a@example.test", "b@example.test", "c@example.test"] {
        let (st, resp) = call(
            &app,
            "POST",
            "/ct/v1/add-pre-chain",
            &chain_json(&[pki.precert(email), pki.int.clone()]),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{resp}");
        assert_eq!(resp["sct_version"], 0);
        assert_eq!(B64.decode(resp["id"].as_str().unwrap()).unwrap(), ct.log_id());
        // Rebuild the SCT from the JSON alone and check it the way a client would.
        let sig = B64.decode(resp["signature"].as_str().unwrap()).unwrap();
        let sct = sigil_x509::SignedSct {
            log_id: ct.log_id(),
            timestamp_ms: resp["timestamp"].as_u64().unwrap(),
            extensions: vec![],
            hash_alg: sig[0],
            sig_alg: sig[1],
            signature: sig[4..].to_vec(),
        };
        let leaf = pki.final_cert(email, &encode_sct_list(&[sct]).unwrap());
        verify_embedded_scts(&leaf, &pki.int_cert(), &trusted(&ct)).unwrap();
        hashes.push(ct.log().leaf_hash(hashes.len() as u64).unwrap());
    }

    let (st, sth) = call(&app, "GET", "/ct/v1/get-sth", "").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(sth["tree_size"], 3);
    let root: [u8; 32] = B64
        .decode(sth["sha256_root_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let ths = B64.decode(sth["tree_head_signature"].as_str().unwrap()).unwrap();
    assert_eq!(ths[..2], [4, 3]);
    ct.public_key()
        .verify(
            SignatureScheme::EcdsaSha256,
            &tree_head_signed_data(sth["timestamp"].as_u64().unwrap(), 3, &root),
            &ths[4..],
        )
        .unwrap();

    for (i, h) in hashes.iter().enumerate() {
        let uri = format!("/ct/v1/get-proof-by-hash?hash={}&tree_size=3", enc(&B64.encode(h)));
        let (st, proof) = call(&app, "GET", &uri, "").await;
        assert_eq!(st, StatusCode::OK, "{proof}");
        assert_eq!(proof["leaf_index"], i);
        let path: Vec<[u8; 32]> = proof["audit_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| B64.decode(p.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect();
        verify_inclusion(i as u64, 3, h, &path, &root).unwrap();
    }
    let (st, cons) = call(&app, "GET", "/ct/v1/get-sth-consistency?first=1&second=3", "").await;
    assert_eq!(st, StatusCode::OK);
    let path: Vec<[u8; 32]> = cons["consistency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| B64.decode(p.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    verify_consistency(1, 3, &path, &ct.log().root_at(1).unwrap(), &root).unwrap();

    let (st, roots) = call(&app, "GET", "/ct/v1/get-roots", "").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(roots["certificates"][0].as_str().unwrap(), B64.encode(&pki.root));

    // Bad input: 400 (or 404/413) with the {"code","message"} body, never 500, and the tree does not move.
    let not_precert = pki
        .leaf_spec("a@example.test", ext("1.2.3.4", false, &null()))
        .build(&pki.leaf_key, &pki.int_key);
    let other = Pki::new();
    let absent = enc(&B64.encode([7u8; 32]));
    let bad: Vec<(&str, String, String, StatusCode)> = vec![
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            "{".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            "{}".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            r#"{"chain":["!!"]}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            r#"{"chain":[]}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            chain_json(&[not_precert.clone(), pki.int.clone()]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            chain_json(&[other.precert("a@x"), other.int.clone()]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            chain_json(&vec![pki.int.clone(); 11]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/ct/v1/add-pre-chain".into(),
            format!(r#"{{"chain":["{}"]}}"#, "A".repeat(1_100_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/ct/v1/add-chain".into(),
            chain_json(&[not_precert, pki.int.clone()]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/ct/v1/get-sth-consistency?first=3&second=1".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/ct/v1/get-sth-consistency?first=1&second=9".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/ct/v1/get-sth-consistency?first=x&second=1".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/ct/v1/get-sth-consistency?second=1".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/ct/v1/get-sth-consistency?first=1&second=2&x=1".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/ct/v1/get-proof-by-hash?hash=AAAA&tree_size=1".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            format!("/ct/v1/get-proof-by-hash?hash={absent}&tree_size=9"),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            format!("/ct/v1/get-proof-by-hash?hash={absent}&tree_size=0"),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            format!("/ct/v1/get-proof-by-hash?hash={absent}"),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            format!("/ct/v1/get-proof-by-hash?hash={absent}&tree_size=3"),
            String::new(),
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/ct/v1/get-proof-by-hash?hash=%zz&tree_size=3".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, uri, body, want) in bad {
        let (st, json) = call(&app, method, &uri, &body).await;
        assert_eq!(st, want, "{method} {uri}: {json}");
        assert_eq!(json["code"], want.as_u16(), "{method} {uri}");
        assert!(json["message"].is_string());
    }
    // The first entry's proof in a tree where it is not yet: 404 as well.
    let uri = format!(
        "/ct/v1/get-proof-by-hash?hash={}&tree_size=1",
        enc(&B64.encode(hashes[2]))
    );
    assert_eq!(call(&app, "GET", &uri, "").await.0, StatusCode::NOT_FOUND);
    // Wrong media type.
    let req = Request::builder()
        .method("POST")
        .uri("/ct/v1/add-pre-chain")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(ct.log().size(), 3);
}

#[tokio::test]
async fn a_closed_log_gives_no_sct() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let ct = Arc::new(open(dir.path(), &pki));
    ct.close();
    let err = ct
        .add_pre_chain(vec![pki.precert("a@example.test"), pki.int.clone()])
        .await
        .unwrap_err();
    assert!(matches!(err, CtError::Storage(_)), "{err:?}");
    assert!(!err.is_client_error());
    let app = sigil_log::ct_api::router(Arc::clone(&ct));
    let (st, json) = call(
        &app,
        "POST",
        "/ct/v1/add-pre-chain",
        &chain_json(&[pki.precert("a@example.test"), pki.int.clone()]),
    )
    .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json["code"], 503);
}

/// The one check `add_own_pre_chain` leaves out is the precertificate's signature (the CA of the same process
/// made it a moment ago); `add_pre_chain`, what the HTTP route uses, refuses a precertificate whose signature
/// does not verify.
#[tokio::test]
async fn only_the_in_process_ca_skips_the_precertificate_signature() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let ct = open(dir.path(), &pki);
    let mut forged = pki.precert("a@example.test");
    *forged.last_mut().unwrap() ^= 1;
    let chain = vec![forged, pki.int.clone()];
    let err = ct.add_pre_chain(chain.clone()).await.unwrap_err();
    assert!(matches!(err, CtError::NotIssuedBy { index: 0, .. }), "{err:?}");
    assert_eq!(ct.log().size(), 0);
    let own = ct.add_own_pre_chain(chain).await.unwrap();
    assert_eq!(own.leaf_index, 0);
}
