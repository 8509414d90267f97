//! The HTTP API end to end over loopback: the Rekor v1 and v2 shapes clients parse, and the SECURITY.md rows of
//! sections D (log) and G (load) that the service itself must survive. Each test checks that bad input changes
//! nothing (the tree size stays put) and is answered with a 4xx, never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::*;
use sigil_bundle::TransparencyLogEntry;
use sigil_crypto::SignatureScheme;
use sigil_log::server::ServerOptions;
use sigil_tlog::{Hash, NoteVerifier, SignedCheckpoint, hash_leaf, verify_consistency, verify_inclusion};

fn hashes(v: &serde_json::Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect()
}

fn hex32(v: &serde_json::Value) -> Hash {
    hex::decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

/// Checks a v1 `{entryID: LogEntry}` map the way sigstore-python/-js do; returns (index, body).
fn check_v1_entry(server: &Server, map: &serde_json::Value) -> (u64, Vec<u8>) {
    let obj = map.as_object().unwrap();
    assert_eq!(obj.len(), 1, "exactly one entry");
    let (id, e) = obj.iter().next().unwrap();
    let body = unb64(e["body"].as_str().unwrap());
    let leaf = hash_leaf(&body);
    assert_eq!(id.len(), 80);
    assert_eq!(&id[16..], hex::encode(leaf));
    let index = e["logIndex"].as_u64().unwrap();
    let log_id = server.log.v1_log_id().unwrap();
    assert_eq!(e["logID"].as_str().unwrap(), hex::encode(log_id));
    // SET: ECDSA over the JCS of {body, integratedTime, logID, logIndex}.
    let set_msg = format!(
        "{{\"body\":\"{}\",\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{index}}}",
        e["body"].as_str().unwrap(),
        e["integratedTime"].as_i64().unwrap(),
        hex::encode(log_id)
    );
    let v1_key = server.log.v1_key().unwrap();
    v1_key
        .verify(
            SignatureScheme::EcdsaSha256,
            set_msg.as_bytes(),
            &unb64(e["verification"]["signedEntryTimestamp"].as_str().unwrap()),
        )
        .unwrap();
    let p = &e["verification"]["inclusionProof"];
    assert_eq!(p["logIndex"].as_u64().unwrap(), index);
    let size = p["treeSize"].as_u64().unwrap();
    let root = hex32(&p["rootHash"]);
    verify_inclusion(index, size, &leaf, &hashes(&p["hashes"]), &root).unwrap();
    // The checkpoint: key name = the URL authority (a substring of the trusted root's baseUrl), same root/size.
    let name = server.addr.to_string();
    let verifier = NoteVerifier::ecdsa(&name, v1_key).unwrap();
    let cp = SignedCheckpoint::parse(p["checkpoint"].as_str().unwrap()).unwrap();
    cp.verify(&verifier).unwrap();
    assert!(cp.checkpoint.origin.starts_with(&format!("{name} - ")));
    assert_eq!((cp.checkpoint.size, cp.checkpoint.root_hash), (size, root));
    (index, body)
}

#[test]
fn v1_hashedrekord_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let proposed = signer.hashedrekord(b"artifact one");
    let resp = post(server.addr, "/api/v1/log/entries", &proposed);
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    let created = resp.json();
    let (index, body) = check_v1_entry(&server, &created);
    assert_eq!(index, 0);
    let id = created.as_object().unwrap().keys().next().unwrap().clone();
    assert_eq!(resp.header("etag"), Some(id.as_str()));
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/log/entries/{id}").as_str())
    );
    // The stored body is the JCS-canonical hashedrekord, re-encoded by the server.
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(sigil_bundle::jcs::canonicalize(&parsed).as_bytes(), &body[..]);
    assert_eq!(
        parsed["spec"]["data"]["hash"]["value"],
        hex::encode(sigil_crypto::sha256(b"artifact one"))
    );

    // Reads return the same entry: by index, by 64- and 80-hex UUID, and through retrieve.
    for path in [
        "/api/v1/log/entries?logIndex=0".to_string(),
        format!("/api/v1/log/entries/{id}"),
        format!("/api/v1/log/entries/{}", &id[16..]),
    ] {
        let r = get(server.addr, &path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(check_v1_entry(&server, &r.json()), (0, body.clone()));
    }
    let r = post(
        server.addr,
        "/api/v1/log/entries/retrieve",
        serde_json::json!({"entryUUIDs": [id], "logIndexes": [0, 7]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200);
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "the unknown index is skipped");
    let r = post(
        server.addr,
        "/api/v1/log/entries/retrieve",
        serde_json::json!({"entries": [serde_json::from_slice::<serde_json::Value>(&proposed).unwrap()]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json().as_array().unwrap().len(),
        1,
        "the same proposed entry is found"
    );
    assert_eq!(get(server.addr, "/api/v1/log/entries?logIndex=1").status, 404);
    assert_eq!(
        get(server.addr, &format!("/api/v1/log/entries/{}", "ab".repeat(32))).status,
        404
    );
    assert_eq!(get(server.addr, "/api/v1/log/entries/xyz").status, 400);

    // Log info and the public key.
    let info = get(server.addr, "/api/v1/log").json();
    assert_eq!(info["treeSize"], 1);
    assert_eq!(hex32(&info["rootHash"]), server.log.root());
    let pem = get(server.addr, "/api/v1/log/publicKey");
    assert_eq!(
        sigil_crypto::pem_decode_one(std::str::from_utf8(&pem.body).unwrap(), "PUBLIC KEY").unwrap(),
        server.log.v1_key().unwrap().spki_der()
    );
    // The integrated time is stable across reads (verifiers check the certificate against it).
    let t1 = created[&id]["integratedTime"].as_i64().unwrap();
    let again = get(server.addr, "/api/v1/log/entries?logIndex=0").json();
    assert_eq!(again[&id]["integratedTime"].as_i64().unwrap(), t1);
}

#[test]
fn v1_dsse_is_stored_in_canonical_form() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let resp = post(server.addr, "/api/v1/log/entries", &signer.dsse(payload, 2, 1));
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    let (_, body) = check_v1_entry(&server, &resp.json());
    let b: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(b["kind"], "dsse");
    assert_eq!(
        b["spec"]["payloadHash"]["value"],
        hex::encode(sigil_crypto::sha256(payload))
    );
    let sigs = b["spec"]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    assert!(
        sigs[0]["signature"].as_str() <= sigs[1]["signature"].as_str(),
        "sorted by signature"
    );
    assert_eq!(unb64(sigs[0]["verifier"].as_str().unwrap()), signer.pem().as_bytes());
    // A signature by another key is refused.
    let other = Signer::new();
    let mut forged: serde_json::Value = serde_json::from_slice(&other.dsse(payload, 1, 1)).unwrap();
    forged["spec"]["proposedContent"]["verifiers"] = serde_json::json!([b64(signer.pem().as_bytes())]);
    let r = post(server.addr, "/api/v1/log/entries", forged.to_string().as_bytes());
    assert_eq!(r.status, 400);
    assert_eq!(server.log.size(), 1);
}

#[test]
fn v1_intoto_keeps_the_signature_and_drops_the_payload() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#;
    let resp = post(server.addr, "/api/v1/log/entries", &signer.intoto(payload));
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    let (_, body) = check_v1_entry(&server, &resp.json());
    let sigil_bundle::RekorBody::IntotoV002(i) = sigil_bundle::RekorBody::from_json(&body).unwrap() else {
        panic!("not an intoto 0.0.2 body");
    };
    assert!(i.content.envelope.payload.is_none(), "the payload is not stored");
    assert_eq!(
        i.content.payload_hash.unwrap().value,
        hex::encode(sigil_crypto::sha256(payload))
    );
    let sig = unb64(std::str::from_utf8(&i.content.envelope.signatures[0].sig.0).unwrap());
    signer_verifies(
        &signer,
        &sigil_bundle::pae("application/vnd.in-toto+json", payload),
        &sig,
    );
    assert_ne!(
        i.content.hash.unwrap().value,
        "00",
        "the envelope hash is the server's, not the client's"
    );
    // A signature over another payload is refused.
    let mut forged: serde_json::Value = serde_json::from_slice(&signer.intoto(b"other")).unwrap();
    forged["spec"]["content"]["envelope"]["payload"] = b64(b64(payload).as_bytes()).into();
    assert_eq!(
        post(server.addr, "/api/v1/log/entries", forged.to_string().as_bytes()).status,
        400
    );
    assert_eq!(server.log.size(), 1);
}

fn signer_verifies(signer: &Signer, msg: &[u8], sig: &[u8]) {
    sigil_crypto::VerifyingKey::from_spki_der(&signer.spki())
        .unwrap()
        .verify(SignatureScheme::EcdsaSha256, msg, sig)
        .unwrap();
}

#[test]
fn v2_create_answers_a_transparency_log_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let resp = post(
        server.addr,
        "/api/v2/log/entries",
        &signer.hashedrekord_v2(b"v2 artifact"),
    );
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    let raw = resp.json();
    // Proto3 JSON as Python's strict model wants it: int64 as strings, no unknown or null fields.
    assert_eq!(raw["logIndex"], "0");
    assert_eq!(raw["inclusionProof"]["treeSize"], "1");
    assert!(raw.get("integratedTime").is_none() && raw.get("inclusionPromise").is_none());
    let tle: TransparencyLogEntry = serde_json::from_value(raw).unwrap();
    assert_eq!(tle.log_id.key_id.0, server.log.checkpoint_key_id());
    assert_eq!(
        (tle.kind_version.kind.as_str(), tle.kind_version.version.as_str()),
        ("hashedrekord", "0.0.2")
    );
    let body = tle.canonicalized_body.unwrap().0;
    let parsed = sigil_bundle::RekorBody::from_json(&body).unwrap();
    let sigil_bundle::RekorBody::HashedRekordV002(h) = parsed else {
        panic!("not a hashedrekord 0.0.2 body");
    };
    assert_eq!(h.canonical_body().unwrap(), body);
    assert_eq!(h.data.digest.0, sigil_crypto::sha256(b"v2 artifact"));
    let proof = tle.inclusion_proof.unwrap();
    let cp_text = proof.checkpoint.unwrap().envelope;
    let cp = SignedCheckpoint::open(&cp_text, &server.log.note_verifier().unwrap(), "127.0.0.1").unwrap();
    let hashes: Vec<Hash> = proof.hashes.iter().map(|h| h.0.clone().try_into().unwrap()).collect();
    verify_inclusion(
        0,
        cp.checkpoint.size,
        &hash_leaf(&body),
        &hashes,
        &cp.checkpoint.root_hash,
    )
    .unwrap();
    // The tiles serve the same entry.
    let bundle = get(server.addr, "/tile/entries/000.p/1");
    assert_eq!(bundle.status, 200);
    assert_eq!(&bundle.body[2..], &body[..]);
    assert_eq!(get(server.addr, "/checkpoint").body, cp_text.as_bytes());
}

#[test]
fn l01_duplicates_get_409_with_the_original_index() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    post(server.addr, "/api/v1/log/entries", &signer.hashedrekord(b"first"));
    let entry = signer.hashedrekord(b"dup");
    let first = post(server.addr, "/api/v1/log/entries", &entry);
    assert_eq!(first.status, 201);
    let id = first.json().as_object().unwrap().keys().next().unwrap().clone();
    let again = post(server.addr, "/api/v1/log/entries", &entry);
    assert_eq!(again.status, 409);
    assert_eq!(again.header("x-log-index"), Some("1"));
    assert_eq!(
        again.header("location"),
        Some(format!("/api/v1/log/entries/{}", &id[16..]).as_str())
    );
    assert_eq!(get(server.addr, again.header("location").unwrap()).status, 200);

    // 100 concurrent submissions of one new entry: one index, 99 conflicts naming it, the tree grows by one.
    let entry = Arc::new(signer.hashedrekord(b"concurrent"));
    let before = server.log.size();
    let addr = server.addr;
    let results: Vec<(u16, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let entry = Arc::clone(&entry);
                s.spawn(move || {
                    let r = post(addr, "/api/v1/log/entries", &entry);
                    let idx = match r.status {
                        201 => Some(r.json().as_object().unwrap().values().next().unwrap()["logIndex"].to_string()),
                        _ => r.header("x-log-index").map(str::to_string),
                    };
                    (r.status, idx)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 1);
    assert_eq!(results.iter().filter(|(s, _)| *s == 409).count(), 99);
    assert!(
        results
            .iter()
            .all(|(_, i)| i.as_deref() == Some(&before.to_string()[..]))
    );
    assert_eq!(server.log.size(), before + 1);

    // The same for Rekor v2.
    let v2 = signer.hashedrekord_v2(b"v2 dup");
    assert_eq!(post(server.addr, "/api/v2/log/entries", &v2).status, 201);
    let again = post(server.addr, "/api/v2/log/entries", &v2);
    assert_eq!(again.status, 409);
    assert_eq!(again.header("x-log-index"), Some((before + 1).to_string().as_str()));
    let bundle = get(server.addr, again.header("location").unwrap());
    assert_eq!(bundle.status, 200, "{:?}", again.header("location"));
}

/// Sends a request whose head is given, then as much of `body` as the server takes, and reads the answer.
fn send_partial(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> Response {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body); // the server may stop reading (and close) early
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_response(&buf).unwrap()
}

#[test]
fn l02_bodies_over_the_limit_get_413_without_being_read() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let addr = server.addr;
    // 1 GB declared: refused on the header alone, promptly.
    let started = Instant::now();
    let r = send_partial(
        addr,
        &format!(
            "POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            1u64 << 30
        ),
        b"{",
    );
    assert_eq!(r.status, 413);
    assert!(started.elapsed() < Duration::from_secs(5));
    // 10 MB actually sent.
    let big = vec![b' '; 10 << 20];
    let r = send_partial(
        addr,
        &format!(
            "POST /api/v2/log/entries HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            big.len()
        ),
        &big,
    );
    assert_eq!(r.status, 413);
    // Chunked, no Content-Length: counted as it arrives.
    let mut chunked = Vec::new();
    for _ in 0..40 {
        chunked.extend_from_slice(format!("{:x}\r\n", 8192).as_bytes());
        chunked.extend_from_slice(&[b' '; 8192]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = send_partial(
        addr,
        "POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        &chunked,
    );
    assert_eq!(r.status, 413);
    // Just under the limit is parsed (and refused as JSON, not for its size).
    let mut padded = Signer::new().hashedrekord(b"padded");
    padded.extend(std::iter::repeat_n(b' ', 128 * 1024 - padded.len()));
    assert_eq!(post(addr, "/api/v1/log/entries", &padded).status, 201);
    padded.push(b' ');
    assert_eq!(post(addr, "/api/v1/log/entries", &padded).status, 413);
    assert_eq!(server.log.size(), 1);
}

#[test]
fn l03_l05_l08_malformed_entries_get_400_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let good: serde_json::Value = serde_json::from_slice(&signer.hashedrekord(b"x")).unwrap();
    let with = |path: &[&str], v: serde_json::Value| {
        let mut e = good.clone();
        let mut cur = &mut e;
        for p in &path[..path.len() - 1] {
            cur = &mut cur[*p];
        }
        cur[path[path.len() - 1]] = v;
        e.to_string().into_bytes()
    };
    let ed_pem = {
        let raw = [7u8; 32];
        sigil_crypto::pem_encode(
            "PUBLIC KEY",
            &sigil_crypto::spki_der_for(sigil_crypto::KeyAlgorithm::Ed25519, &raw),
        )
    };
    let v1_cases: Vec<(&str, Vec<u8>)> = vec![
        ("deep nesting", format!("{}{}", "[".repeat(60_000), "]".repeat(60_000)).into_bytes()),
        ("huge array", format!("[{}1]", "1,".repeat(60_000)).into_bytes()),
        ("duplicate keys", br#"{"kind":"hashedrekord","kind":"dsse","apiVersion":"0.0.1","spec":{}}"#.to_vec()),
        ("1e400", br#"{"kind":"hashedrekord","apiVersion":"0.0.1","spec":{"data":1e400}}"#.to_vec()),
        ("invalid UTF-8", b"{\"kind\":\"\xff\xfe\"}".to_vec()),
        ("not an object", b"null".to_vec()),
        ("unknown kind", with(&["kind"], "cose".into())),
        ("unknown version", with(&["apiVersion"], "0.0.9".into())),
        ("intoto without content", br#"{"kind":"intoto","apiVersion":"0.0.2","spec":{}}"#.to_vec()),
        ("no spec", with(&["spec"], serde_json::Value::Null)),
        ("no data", with(&["spec", "data"], serde_json::json!({}))),
        ("empty signature", with(&["spec", "signature", "content"], "".into())),
        ("no public key", with(&["spec", "signature", "publicKey"], serde_json::json!({}))),
        ("key is not PEM", with(&["spec", "signature", "publicKey", "content"], b64(b"junk").into())),
        ("public key URL", with(&["spec", "signature", "publicKey"], serde_json::json!({"url": "http://127.0.0.1:1/k"}))),
        ("Ed25519 in a prehash type", with(&["spec", "signature", "publicKey", "content"], b64(ed_pem.as_bytes()).into())),
        ("digest too short", with(&["spec", "data", "hash", "value"], "abcd".into())),
        ("digest length vs sha512", with(&["spec", "data", "hash", "algorithm"], "sha512".into())),
        ("unknown algorithm", with(&["spec", "data", "hash", "algorithm"], "md5".into())),
        ("upper-case algorithm", with(&["spec", "data", "hash", "algorithm"], "SHA256".into())),
        ("signature over another digest", with(&["spec", "data", "hash", "value"], hex::encode([1u8; 32]).into())),
        ("dsse without envelope", br#"{"kind":"dsse","apiVersion":"0.0.1","spec":{"proposedContent":null}}"#.to_vec()),
        ("dsse without signatures", serde_json::json!({"kind":"dsse","apiVersion":"0.0.1","spec":{"proposedContent":{
            "envelope": r#"{"payload":"e30=","payloadType":"t","signatures":[]}"#, "verifiers":[b64(signer.pem().as_bytes())]}}}).to_string().into_bytes()),
        ("dsse without verifiers", serde_json::json!({"kind":"dsse","apiVersion":"0.0.1","spec":{"proposedContent":{
            "envelope": r#"{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AAAA"}]}"#, "verifiers":[]}}}).to_string().into_bytes()),
    ];
    for (what, body) in &v1_cases {
        let r = post(server.addr, "/api/v1/log/entries", body);
        assert_eq!(r.status, 400, "{what}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["code"], 400, "{what}");
    }
    let v2_good: serde_json::Value = serde_json::from_slice(&signer.hashedrekord_v2(b"y")).unwrap();
    let v2_with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut e = v2_good.clone();
        f(&mut e["hashedRekordRequestV002"]);
        e.to_string().into_bytes()
    };
    let v2_cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"{}".to_vec()),
        ("digest length", v2_with(&|e| e["digest"] = b64(&[0u8; 31]).into())),
        (
            "digest vs P-384 details",
            v2_with(&|e| e["signature"]["verifier"]["keyDetails"] = "PKIX_ECDSA_P384_SHA_384".into()),
        ),
        (
            "pure Ed25519",
            v2_with(&|e| e["signature"]["verifier"]["keyDetails"] = "PKIX_ED25519".into()),
        ),
        (
            "unknown details",
            v2_with(&|e| e["signature"]["verifier"]["keyDetails"] = "PKIX_FOO".into()),
        ),
        (
            "no verifier key",
            v2_with(&|e| e["signature"]["verifier"]["publicKey"] = serde_json::Value::Null),
        ),
        (
            "bad signature",
            v2_with(&|e| e["signature"]["content"] = b64(&[0x30, 0x00]).into()),
        ),
        (
            "empty dsse",
            br#"{"dsseRequestV002":{"envelope":{},"verifiers":[]}}"#.to_vec(),
        ),
        (
            "both requests",
            br#"{"dsseRequestV002":{},"hashedRekordRequestV002":{}}"#.to_vec(),
        ),
    ];
    for (what, body) in &v2_cases {
        let r = post(server.addr, "/api/v2/log/entries", body);
        assert_eq!(r.status, 400, "v2 {what}: {}", String::from_utf8_lossy(&r.body));
    }
    // L-04: compressed bodies are never inflated; they are just bytes that are not JSON.
    let r = send_partial(
        server.addr,
        "POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\nConnection: close\r\n\r\n",
        &[
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xed, 0xc1, 1, 0, 0, 0, 0xc2, 0xa0, 0xf5, 0x4f,
        ],
    );
    assert_eq!(r.status, 400);
    // 415 for a non-JSON media type.
    let r = send_partial(
        server.addr,
        "POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
        b"{}",
    );
    assert_eq!(r.status, 415);
    assert_eq!(server.log.size(), 0, "nothing was appended");
    // And a good entry still goes in.
    assert_eq!(
        post(server.addr, "/api/v1/log/entries", &good.to_string().into_bytes()).status,
        201
    );
}

#[test]
fn l06_no_url_from_a_request_is_fetched() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let url = format!("http://{}/key.pem", trap.local_addr().unwrap());
    let search = serde_json::json!({"publicKey": {"format": "x509", "url": url}});
    assert_eq!(
        post(server.addr, "/api/v1/index/retrieve", search.to_string().as_bytes()).status,
        400
    );
    let mut entry: serde_json::Value = serde_json::from_slice(&Signer::new().hashedrekord(b"u")).unwrap();
    entry["spec"]["signature"]["publicKey"] = serde_json::json!({"url": url});
    assert_eq!(
        post(server.addr, "/api/v1/log/entries", entry.to_string().as_bytes()).status,
        400
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        trap.accept().is_err(),
        "the server connected to a URL named in a request"
    );
}

#[test]
fn l07_dsse_signature_and_verifier_counts_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let payload = b"{}";
    assert_eq!(
        post(server.addr, "/api/v1/log/entries", &signer.dsse(payload, 8, 8)).status,
        201
    );
    let r = post(server.addr, "/api/v1/log/entries", &signer.dsse(payload, 9, 1));
    assert_eq!(r.status, 400);
    assert_eq!(
        post(server.addr, "/api/v1/log/entries", &signer.dsse(payload, 1, 9)).status,
        400
    );
    // 1000 × 1000 does not even fit the body limit.
    let r = post(server.addr, "/api/v1/log/entries", &signer.dsse(payload, 1000, 1000));
    assert!(r.status == 413 || r.status == 400, "{}", r.status);
    assert_eq!(server.log.size(), 1);
}

#[test]
fn l15_consistency_proof_api_checks_its_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let mut roots = vec![];
    for i in 0..9 {
        let r = post(
            server.addr,
            "/api/v1/log/entries",
            &signer.hashedrekord(format!("c{i}").as_bytes()),
        );
        assert_eq!(r.status, 201);
        roots.push(server.log.root());
    }
    for (first, last) in [(1u64, 9u64), (3, 7), (8, 9), (9, 9)] {
        let r = get(
            server.addr,
            &format!("/api/v1/log/proof?firstSize={first}&lastSize={last}"),
        );
        assert_eq!(r.status, 200);
        let p = r.json();
        assert_eq!(hex32(&p["rootHash"]), roots[last as usize - 1]);
        verify_consistency(
            first,
            last,
            &hashes(&p["hashes"]),
            &roots[first as usize - 1],
            &roots[last as usize - 1],
        )
        .unwrap();
    }
    for bad in [
        "firstSize=5&lastSize=3",
        "firstSize=0&lastSize=3",
        "firstSize=1&lastSize=10",
        "firstSize=1&lastSize=18446744073709551615",
        "firstSize=1&lastSize=99999999999999999999999",
        "firstSize=-1&lastSize=3",
        "firstSize=1",
        "lastSize=3&lastSize=4",
        "firstSize=1&lastSize=3&bogus=1",
    ] {
        let r = get(server.addr, &format!("/api/v1/log/proof?{bad}"));
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[test]
fn l16_search_finds_candidates_but_binds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let signer = Signer::new();
    let mut uuids = Vec::new();
    for a in [b"s1".as_slice(), b"s2"] {
        let r = post(server.addr, "/api/v1/log/entries", &signer.hashedrekord(a));
        uuids.push(r.json().as_object().unwrap().keys().next().unwrap().clone());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.search().indexed_size().unwrap() < 2 {
        assert!(Instant::now() < deadline, "search index did not catch up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let by_hash = serde_json::json!({"hash": format!("sha256:{}", hex::encode(sigil_crypto::sha256(b"s2")))});
    let r = post(server.addr, "/api/v1/index/retrieve", by_hash.to_string().as_bytes());
    assert_eq!(r.json(), serde_json::json!([uuids[1]]));
    // A key search returns every entry the key signed: candidates, not proof of anything about an artifact.
    let by_key = serde_json::json!({"publicKey": {"format": "x509", "content": b64(signer.pem().as_bytes())}});
    let r = post(server.addr, "/api/v1/index/retrieve", by_key.to_string().as_bytes());
    assert_eq!(r.json(), serde_json::json!(uuids));
    let both = serde_json::json!({"hash": by_hash["hash"], "publicKey": by_key["publicKey"], "operator": "and"});
    let r = post(server.addr, "/api/v1/index/retrieve", both.to_string().as_bytes());
    assert_eq!(r.json(), serde_json::json!([uuids[1]]));
    assert_eq!(post(server.addr, "/api/v1/index/retrieve", b"{}").status, 400);
}

#[test]
fn r01_slow_headers_are_cut_off_and_others_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = ServerOptions::default();
    opts.header_timeout = Duration::from_secs(1);
    let server = Server::start_with(tmp.path(), |_| {}, opts);
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"P").unwrap();
            s
        })
        .collect();
    // An idle keep-alive connection is closed by the same timeout (it cannot hold a connection slot forever).
    let mut idle = TcpStream::connect(server.addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut first = [0u8; 256];
    let n = idle.read(&mut first).unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));
    // Meanwhile a normal request is answered at once.
    let started = Instant::now();
    assert_eq!(get(server.addr, "/healthz").status, 200);
    assert!(started.elapsed() < Duration::from_millis(500));
    std::thread::sleep(Duration::from_millis(2500));
    let mut rest = Vec::new();
    let closed = idle.read_to_end(&mut rest);
    assert!(
        closed.is_ok() || closed.unwrap_err().kind() != std::io::ErrorKind::WouldBlock,
        "idle connection kept open"
    );
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 512];
        // Closed by the server (EOF, a reset, or a 408 followed by EOF): never still waiting.
        match s.read(&mut buf) {
            Ok(n) => assert!(n == 0 || buf[..n].starts_with(b"HTTP/1.1 408"), "{:?}", &buf[..n]),
            Err(e) => assert_ne!(e.kind(), std::io::ErrorKind::WouldBlock, "connection still open"),
        }
    }
}

#[test]
fn r02_slow_bodies_get_408() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        tmp.path(),
        |o| o.body_timeout = Duration::from_secs(1),
        ServerOptions::default(),
    );
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let r = parse_response(&buf).unwrap();
    assert_eq!(r.status, 408);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn r03_five_thousand_concurrent_submissions_with_back_pressure() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(tmp.path(), |o| o.max_pending_appends = 16, ServerOptions::default());
    let addr = server.addr;
    let total = 5000usize;
    let threads = 64;
    let acked: Mutex<Vec<(u64, Hash, u64, Hash)>> = Mutex::new(Vec::new());
    let busy = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..threads {
            let acked = &acked;
            let busy = &busy;
            s.spawn(move || {
                let signer = Signer::new();
                for i in (t..total).step_by(threads) {
                    let entry = signer.hashedrekord(format!("load {i}").as_bytes());
                    loop {
                        let r = post(addr, "/api/v1/log/entries", &entry);
                        if r.status == 429 {
                            assert_eq!(r.header("retry-after"), Some("1"));
                            busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
                        let map = r.json();
                        let e = map.as_object().unwrap().values().next().unwrap();
                        let p = &e["verification"]["inclusionProof"];
                        let leaf = hash_leaf(&unb64(e["body"].as_str().unwrap()));
                        let (index, size, root) = (
                            e["logIndex"].as_u64().unwrap(),
                            p["treeSize"].as_u64().unwrap(),
                            hex32(&p["rootHash"]),
                        );
                        verify_inclusion(index, size, &leaf, &hashes(&p["hashes"]), &root).unwrap();
                        acked.lock().unwrap().push((index, leaf, size, root));
                        break;
                    }
                }
            });
        }
    });
    let mut acked = acked.into_inner().unwrap();
    acked.sort_by_key(|a| a.0);
    assert_eq!(acked.len(), total);
    assert!(
        acked.iter().enumerate().all(|(i, a)| a.0 == i as u64),
        "indices are contiguous and unique"
    );
    assert_eq!(server.log.size(), total as u64);
    // Every acknowledged entry is in the final tree, and every root it was acknowledged under is consistent.
    let final_root = server.log.root();
    for (index, leaf, size, root) in acked.iter().step_by(97) {
        assert_eq!(server.log.leaf_hash(*index).unwrap(), *leaf);
        let proof = server.log.consistency_proof(*size, total as u64).unwrap();
        verify_consistency(*size, total as u64, &proof, root, &final_root).unwrap();
    }
    println!(
        "R-03: {total} submissions from {threads} threads, {} answered 429 and retried",
        busy.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[test]
fn r04_http2_is_not_spoken() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The HTTP/2 preface followed by a flood of empty frames.
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    let _ = s.write_all(&[0u8; 9 * 1000]);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(
        buf.is_empty() || buf.starts_with(b"HTTP/1.1 4") || buf.starts_with(b"HTTP/1.1 505"),
        "{buf:?}"
    );
    // h2c upgrade requests are served as plain HTTP/1.1.
    let r = raw(
        server.addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn r09_metrics_cardinality_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    post(server.addr, "/api/v1/log/entries", &Signer::new().hashedrekord(b"m"));
    for i in 0..300 {
        let method = format!("M{i}");
        let _ = raw(
            server.addr,
            format!("{method} /unique/path/{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        get(server.addr, &format!("/tile/0/{i}x"));
    }
    let m = String::from_utf8(get(server.addr, "/metrics").body).unwrap();
    let series: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("sigil_log_http_requests_total{"))
        .collect();
    assert!(series.len() <= 6, "{series:#?}");
    assert!(!m.contains("unique"), "request paths never become labels");
    assert!(m.contains("sigil_log_entries_appended_total 1"));
    assert!(m.contains("sigil_log_batch_size_count 1"));
    assert!(m.contains("route=\"/api/v1/log/entries\",status=\"201\""));
    assert!(m.len() < 16 * 1024);
}

#[test]
fn tiles_are_served_as_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let server = Server::start(&dir);
    let leaves: Vec<Vec<u8>> = (0..300).map(|i| format!("tile entry {i}").into_bytes()).collect();
    server.log.append_many(&leaves).unwrap();
    for path in [
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ] {
        let r = get(server.addr, &format!("/{path}"));
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, std::fs::read(dir.join(path)).unwrap(), "{path}");
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    }
    assert_eq!(
        get(server.addr, "/tile/0/000").header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    // A narrower view of a full tile is its prefix; anything past the tree is 404; non-canonical paths are 404.
    assert_eq!(
        get(server.addr, "/tile/0/000.p/3").body,
        std::fs::read(dir.join("tile/0/000")).unwrap()[..96]
    );
    for path in [
        "tile/0/001.p/45",
        "tile/0/002",
        "tile/2/000.p/1",
        "tile/0/0",
        "tile/0/000.p/0",
        "tile/64/000",
        "tile/../keys",
    ] {
        assert_eq!(get(server.addr, &format!("/{path}")).status, 404, "{path}");
    }
    let cp = get(server.addr, "/checkpoint");
    assert_eq!(cp.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(cp.body, std::fs::read(dir.join("checkpoint")).unwrap());
}

mod never_500 {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Arbitrary bytes and arbitrary JSON-ish mutations on every endpoint: always 4xx, nothing appended.
        #[test]
        fn arbitrary_bodies_are_4xx(body in proptest::collection::vec(any::<u8>(), 0..512), mutate in any::<u16>()) {
            static SERVER: std::sync::OnceLock<(tempfile::TempDir, Server)> = std::sync::OnceLock::new();
            let (_, server) = SERVER.get_or_init(|| {
                let tmp = tempfile::tempdir().unwrap();
                let server = Server::start(tmp.path());
                (tmp, server)
            });
            let mut good = Signer::new().hashedrekord(b"p");
            let at = usize::from(mutate) % good.len();
            good[at] = body.first().copied().unwrap_or(b'"');
            for path in ["/api/v1/log/entries", "/api/v2/log/entries", "/api/v1/log/entries/retrieve", "/api/v1/index/retrieve"] {
                for b in [&body, &good] {
                    let r = post(server.addr, path, b);
                    prop_assert!(r.status < 500, "{} on {}: {}", r.status, path, String::from_utf8_lossy(&r.body));
                }
            }
        }
    }
}
