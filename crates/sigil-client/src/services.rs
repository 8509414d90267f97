//! Fulcio, Rekor v1/v2 and TSA exchanges (INTEROP.md §2.4, §3.2; PROTOCOL.md §3–§6).

use serde_json::{Value, json};
use sigil_bundle::bundle::{Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId};
use sigil_bundle::encoding::{Int64, decode_base64, encode_base64};
use sigil_bundle::{Bytes, RekorBody, TransparencyLogEntry};
use sigil_sign::{
    AmbientRequest, CertificateAuthority, CertificateRequest, LogEntryRequest, LogVerifier, ServiceError,
    TimestampAuthority, TransparencyLog,
};
use sigil_tsa::TimeStampRequest;

use crate::Error;
use crate::http::{HttpClient, require_success};

/// Most certificates accepted in a Fulcio chain.
const MAX_CHAIN: usize = 10;

fn invalid(service: &'static str, url: &str, reason: impl Into<String>) -> Error {
    Error::Response {
        service,
        url: url.to_string(),
        reason: reason.into(),
    }
}

impl CertificateAuthority for HttpClient {
    fn signing_certificate(&self, ca_url: &str, r: &CertificateRequest<'_>) -> Result<Vec<Vec<u8>>, ServiceError> {
        let url = format!("{}/api/v2/signingCert", ca_url.trim_end_matches('/'));
        let body = json!({
            "credentials": {"oidcIdentityToken": r.identity_token},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": r.public_key_pem},
                "proofOfPossession": encode_base64(&r.proof_of_possession),
            },
        });
        let reply = self.post(
            "fulcio",
            &url,
            "application/json",
            "application/json",
            None,
            body.to_string().as_bytes(),
        )?;
        require_success("fulcio", &url, &reply)?;
        Ok(fulcio_chain_from_response(&reply.body).map_err(|r| invalid("fulcio", &url, r))?)
    }
}

/// The DER chain (leaf first) of a Fulcio v2 `SigningCertificate` response. Only
/// `signedCertificateEmbeddedSct` is accepted: a detached SCT cannot go into a bundle.
pub fn fulcio_chain_from_response(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("signedCertificateDetachedSct").is_some() {
        return Err("the CA returned a detached SCT; only certificates with an embedded SCT are supported".into());
    }
    let certs = v
        .pointer("/signedCertificateEmbeddedSct/chain/certificates")
        .and_then(Value::as_array)
        .ok_or("no signedCertificateEmbeddedSct.chain.certificates")?;
    let mut out = Vec::new();
    for c in certs {
        let pem = c.as_str().ok_or("a chain entry is not a PEM string")?;
        for (label, der) in sigil_crypto::pem_blocks(pem).map_err(|e| e.to_string())? {
            if label == "CERTIFICATE" {
                out.push(der);
            }
        }
        if out.len() > MAX_CHAIN {
            return Err(format!("more than {MAX_CHAIN} certificates"));
        }
    }
    if out.is_empty() {
        return Err("empty certificate chain".into());
    }
    Ok(out)
}

/// A Rekor v1 verifier: base64 of the certificate's or the public key's PEM.
fn verifier_pem_b64(verifier: &LogVerifier<'_>) -> String {
    let pem = match verifier {
        LogVerifier::Certificate(der) => sigil_crypto::pem_encode("CERTIFICATE", der),
        LogVerifier::PublicKey { spki_der, .. } => sigil_crypto::pem_encode("PUBLIC KEY", spki_der),
    };
    encode_base64(pem.as_bytes())
}

impl TransparencyLog for HttpClient {
    fn create_entry(
        &self,
        log_url: &str,
        major_api_version: u32,
        request: &LogEntryRequest<'_>,
    ) -> Result<TransparencyLogEntry, ServiceError> {
        let base = log_url.trim_end_matches('/');
        match major_api_version {
            1 => {
                let url = format!("{base}/api/v1/log/entries");
                let body = rekor_v1_request(request).map_err(|r| invalid("rekor", &url, r))?;
                let reply = self.post("rekor", &url, "application/json", "application/json", None, &body)?;
                require_success("rekor", &url, &reply)?;
                Ok(rekor_v1_entry_from_response(&reply.body).map_err(|r| invalid("rekor", &url, r))?)
            }
            2 => {
                let url = format!("{base}/api/v2/log/entries");
                let body = rekor_v2_request(request).map_err(|r| invalid("rekor", &url, r))?;
                let reply = self.post("rekor", &url, "application/json", "application/json", None, &body)?;
                require_success("rekor", &url, &reply)?;
                let entry: TransparencyLogEntry = serde_json::from_slice(&reply.body)
                    .map_err(|e| invalid("rekor", &url, format!("not a TransparencyLogEntry: {e}")))?;
                Ok(entry)
            }
            v => Err(invalid("rekor", base, format!("unsupported Rekor API version {v}")).into()),
        }
    }
}

/// The `POST /api/v1/log/entries` body: `hashedrekord` 0.0.1 or `dsse` 0.0.1 (certificates as base64 PEM).
fn rekor_v1_request(request: &LogEntryRequest<'_>) -> Result<Vec<u8>, String> {
    let v = match request {
        LogEntryRequest::HashedRekord {
            digest,
            signature,
            verifier,
        } => json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "signature": {"content": encode_base64(signature), "publicKey": {"content": verifier_pem_b64(verifier)}},
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
            },
        }),
        LogEntryRequest::Dsse { envelope, verifier } => json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {"proposedContent": {
                "envelope": serde_json::to_string(envelope).map_err(|e| e.to_string())?,
                "verifiers": [verifier_pem_b64(verifier)],
            }},
        }),
    };
    Ok(v.to_string().into_bytes())
}

/// The `POST /api/v2/log/entries` body: always `hashedRekordRequestV002`; a DSSE envelope is logged over
/// SHA-256(PAE) with its one signature (rekor-tiles refuses the deprecated `dsseRequestV002`).
fn rekor_v2_request(request: &LogEntryRequest<'_>) -> Result<Vec<u8>, String> {
    let (digest, signature, verifier): (Vec<u8>, &[u8], &LogVerifier<'_>) = match request {
        LogEntryRequest::HashedRekord {
            digest,
            signature,
            verifier,
        } => (digest.to_vec(), signature, verifier),
        LogEntryRequest::Dsse { envelope, verifier } => {
            let [sig] = envelope.signatures.as_slice() else {
                return Err("a DSSE envelope must have exactly one signature".into());
            };
            (sigil_crypto::sha256(&envelope.pae()).to_vec(), &sig.sig, verifier)
        }
    };
    // Keyless certificates are always for sigil's ephemeral P-256 key.
    let verifier = match verifier {
        LogVerifier::Certificate(der) => {
            json!({"x509Certificate": {"rawBytes": encode_base64(der)}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"})
        }
        LogVerifier::PublicKey { spki_der, details } => {
            json!({"publicKey": {"rawBytes": encode_base64(spki_der)}, "keyDetails": details.proto_name()})
        }
    };
    let v = json!({"hashedRekordRequestV002": {
        "digest": encode_base64(&digest),
        "signature": {"content": encode_base64(signature), "verifier": verifier},
    }});
    Ok(v.to_string().into_bytes())
}

fn int(v: Option<&Value>, what: &str) -> Result<u64, String> {
    match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("{what} is not a non-negative integer")),
        Some(Value::String(s)) => s.parse().map_err(|_| format!("{what} is not an integer")),
        _ => Err(format!("no {what}")),
    }
}

fn hex_field(v: Option<&Value>, what: &str) -> Result<Vec<u8>, String> {
    let s = v.and_then(Value::as_str).ok_or_else(|| format!("no {what}"))?;
    hex::decode(s).map_err(|_| format!("{what} is not hex"))
}

/// Converts a Rekor v1 `{uuid: LogEntry}` answer into a bundle `TransparencyLogEntry`: hex `logID`,
/// `rootHash` and `hashes` become bytes, the SET becomes the inclusion promise, the kind and version come from
/// the body itself.
pub fn rekor_v1_entry_from_response(body: &[u8]) -> Result<TransparencyLogEntry, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let map = v.as_object().ok_or("not a JSON object")?;
    let mut entries = map.values();
    let (Some(e), None) = (entries.next(), entries.next()) else {
        return Err(format!("expected exactly one entry, got {}", map.len()));
    };
    let body_b64 = e.get("body").and_then(Value::as_str).ok_or("no body")?;
    let canonical = decode_base64(body_b64).ok_or("body is not base64")?;
    let (kind, version) = RekorBody::from_json(&canonical)
        .map_err(|e| format!("body: {e}"))?
        .kind_version();
    let verification = e.get("verification").ok_or("no verification")?;
    let set = verification
        .get("signedEntryTimestamp")
        .and_then(Value::as_str)
        .ok_or("no signedEntryTimestamp")?;
    let set = decode_base64(set).ok_or("signedEntryTimestamp is not base64")?;
    let p = verification.get("inclusionProof").ok_or("no inclusionProof")?;
    let hashes = p
        .get("hashes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|h| hex_field(Some(h), "inclusionProof.hashes[]").map(Bytes))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    if hashes.len() > 64 {
        return Err("more than 64 proof hashes".into());
    }
    let checkpoint = p
        .get("checkpoint")
        .and_then(Value::as_str)
        .ok_or("no inclusionProof.checkpoint")?;
    Ok(TransparencyLogEntry {
        log_index: Int64(int(e.get("logIndex"), "logIndex")?),
        log_id: LogId {
            key_id: Bytes(hex_field(e.get("logID"), "logID")?),
        },
        kind_version: KindVersion {
            kind: kind.to_string(),
            version: version.to_string(),
        },
        integrated_time: Int64(int(e.get("integratedTime"), "integratedTime")?),
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: Bytes(set),
        }),
        inclusion_proof: Some(InclusionProof {
            log_index: Int64(int(p.get("logIndex"), "inclusionProof.logIndex")?),
            root_hash: Bytes(hex_field(p.get("rootHash"), "inclusionProof.rootHash")?),
            tree_size: Int64(int(p.get("treeSize"), "inclusionProof.treeSize")?),
            hashes,
            checkpoint: Some(Checkpoint {
                envelope: checkpoint.to_string(),
            }),
        }),
        canonicalized_body: Some(Bytes(canonical)),
    })
}

impl TimestampAuthority for HttpClient {
    fn timestamp(&self, tsa_url: &str, request: &TimeStampRequest) -> Result<Vec<u8>, ServiceError> {
        let reply = self.post(
            "tsa",
            tsa_url,
            "application/timestamp-query",
            "application/timestamp-reply",
            None,
            &request.to_der(),
        )?;
        require_success("tsa", tsa_url, &reply)?;
        sigil_sign::flow::check_timestamp(&reply.body, request).map_err(|e| invalid("tsa", tsa_url, e.to_string()))?;
        Ok(reply.body)
    }
}

fn is_loopback_http(url: &str) -> bool {
    let authority = authority(url);
    let host = authority.rsplit_once(':').map_or(authority.as_str(), |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or(rest).to_string()
}

impl HttpClient {
    /// Fetches an identity token from GitHub Actions' OIDC endpoint. The bearer token goes to that URL only:
    /// over https (or plain http on loopback, for tests), never across a redirect.
    pub fn github_actions_token(&self, request: &AmbientRequest) -> Result<String, Error> {
        const SERVICE: &str = "github-actions";
        let url = request.url.as_str();
        if !(url.starts_with("https://") || (url.starts_with("http://") && is_loopback_http(url))) {
            return Err(invalid(
                SERVICE,
                url,
                "refusing to send the request token over plain http",
            ));
        }
        let reply = self.get(SERVICE, url, "application/json", Some(&request.bearer))?;
        require_success(SERVICE, url, &reply)?;
        let v: Value =
            serde_json::from_slice(&reply.body).map_err(|e| invalid(SERVICE, url, format!("not JSON: {e}")))?;
        v.get("value")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| invalid(SERVICE, url, "no `value`"))
    }
}

/// Rekor v1 search and lookup (`POST /api/v1/index/retrieve`, `GET /api/v1/log/entries/{uuid}`): what gitsign's
/// online mode needs to find a commit's entry. The answers are untrusted: callers verify what they use.
impl HttpClient {
    /// The entry UUIDs whose artifact hash is `sha256:<hex>` (at most `max`).
    pub fn rekor_search_hash(&self, base_url: &str, sha256_hex: &str, max: usize) -> Result<Vec<String>, Error> {
        let url = format!("{}/api/v1/index/retrieve", base_url.trim_end_matches('/'));
        let body = json!({ "hash": format!("sha256:{sha256_hex}") }).to_string();
        let reply = self.post(
            "rekor",
            &url,
            "application/json",
            "application/json",
            None,
            body.as_bytes(),
        )?;
        require_success("rekor", &url, &reply)?;
        let v: Value = serde_json::from_slice(&reply.body).map_err(|e| Error::Response {
            service: "rekor",
            url: url.clone(),
            reason: format!("not JSON: {e}"),
        })?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|u| u.len() <= 128 && u.bytes().all(|b| b.is_ascii_hexdigit()))
            .take(max)
            .map(str::to_string)
            .collect())
    }

    /// The entry `uuid` as a `TransparencyLogEntry`.
    pub fn rekor_v1_entry(&self, base_url: &str, uuid: &str) -> Result<TransparencyLogEntry, Error> {
        let url = format!("{}/api/v1/log/entries/{uuid}", base_url.trim_end_matches('/'));
        let reply = self.get("rekor", &url, "application/json", None)?;
        require_success("rekor", &url, &reply)?;
        rekor_v1_entry_from_response(&reply.body).map_err(|reason| Error::Response {
            service: "rekor",
            url,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn detached_scts_and_empty_chains_are_refused() {
        let e = fulcio_chain_from_response(br#"{"signedCertificateDetachedSct":{"chain":{"certificates":[]}}}"#);
        assert!(e.unwrap_err().contains("detached"));
        assert!(
            fulcio_chain_from_response(br#"{"signedCertificateEmbeddedSct":{"chain":{"certificates":[]}}}"#).is_err()
        );
        assert!(fulcio_chain_from_response(b"{}").is_err());
        let pem = sigil_crypto::pem_encode("CERTIFICATE", b"\x30\x00");
        let body = json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [pem, pem]}}});
        assert_eq!(
            fulcio_chain_from_response(body.to_string().as_bytes()).unwrap().len(),
            2
        );
    }

    #[test]
    fn rekor_v1_response_is_converted() {
        let body = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}},
            "signature": {"content": "AA==", "publicKey": {"content": "AA=="}}}});
        let resp = json!({"24296fb2": {
            "body": encode_base64(body.to_string().as_bytes()),
            "integratedTime": 1_700_000_000u64,
            "logID": "ab".repeat(32),
            "logIndex": 7,
            "verification": {
                "signedEntryTimestamp": "MEUC",
                "inclusionProof": {"logIndex": 7, "rootHash": "cd".repeat(32), "treeSize": "8",
                    "hashes": ["ef".repeat(32)], "checkpoint": "o\n8\nAA==\n\n— o AAAA\n"}}}});
        let e = rekor_v1_entry_from_response(resp.to_string().as_bytes()).unwrap();
        assert_eq!(e.log_index.0, 7);
        assert_eq!(e.log_id.key_id.0, vec![0xab; 32]);
        assert_eq!(e.kind_version.kind, "hashedrekord");
        assert_eq!(e.kind_version.version, "0.0.1");
        let p = e.inclusion_proof.unwrap();
        assert_eq!(p.root_hash.0, vec![0xcd; 32]);
        assert_eq!(p.tree_size.0, 8);
        assert_eq!(p.hashes[0].0, vec![0xef; 32]);
        assert!(e.inclusion_promise.is_some());

        let two = json!({"a": resp["24296fb2"], "b": resp["24296fb2"]});
        assert!(
            rekor_v1_entry_from_response(two.to_string().as_bytes())
                .unwrap_err()
                .contains("exactly one")
        );
        let mut no_cp = resp.clone();
        no_cp["24296fb2"]["verification"]["inclusionProof"]
            .as_object_mut()
            .unwrap()
            .remove("checkpoint");
        assert!(
            rekor_v1_entry_from_response(no_cp.to_string().as_bytes())
                .unwrap_err()
                .contains("checkpoint")
        );
        let mut no_set = resp;
        no_set["24296fb2"]["verification"]
            .as_object_mut()
            .unwrap()
            .remove("signedEntryTimestamp");
        assert!(
            rekor_v1_entry_from_response(no_set.to_string().as_bytes())
                .unwrap_err()
                .contains("signedEntryTimestamp")
        );
    }

    #[test]
    fn rekor_requests_have_the_documented_shapes() {
        let digest = [1u8; 32];
        let r = LogEntryRequest::HashedRekord {
            digest: &digest,
            signature: b"sig",
            verifier: LogVerifier::Certificate(b"\x30\x00"),
        };
        let v1: Value = serde_json::from_slice(&rekor_v1_request(&r).unwrap()).unwrap();
        assert_eq!(v1["spec"]["data"]["hash"]["value"], "01".repeat(32));
        let pem = String::from_utf8(
            decode_base64(v1["spec"]["signature"]["publicKey"]["content"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let v2: Value = serde_json::from_slice(&rekor_v2_request(&r).unwrap()).unwrap();
        let h = &v2["hashedRekordRequestV002"];
        assert_eq!(h["digest"], encode_base64(&digest));
        assert_eq!(h["signature"]["verifier"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
        assert_eq!(h["signature"]["verifier"]["x509Certificate"]["rawBytes"], "MAA=");

        let env = sigil_bundle::Envelope {
            payload: Bytes(b"{}".to_vec()),
            payload_type: "application/vnd.in-toto+json".into(),
            signatures: vec![sigil_bundle::dsse::DsseSignature {
                sig: Bytes(b"s".to_vec()),
                keyid: None,
            }],
        };
        let d = LogEntryRequest::Dsse {
            envelope: &env,
            verifier: LogVerifier::Certificate(b"\x30\x00"),
        };
        let v1: Value = serde_json::from_slice(&rekor_v1_request(&d).unwrap()).unwrap();
        assert_eq!(v1["kind"], "dsse");
        let inner: Value = serde_json::from_str(v1["spec"]["proposedContent"]["envelope"].as_str().unwrap()).unwrap();
        assert_eq!(inner["payloadType"], "application/vnd.in-toto+json");
        let v2: Value = serde_json::from_slice(&rekor_v2_request(&d).unwrap()).unwrap();
        assert_eq!(
            v2["hashedRekordRequestV002"]["digest"],
            encode_base64(&sigil_crypto::sha256(&env.pae()))
        );
        assert_eq!(v2["hashedRekordRequestV002"]["signature"]["content"], "cw==");
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_http("http://127.0.0.1:8080/token?x"));
        assert!(is_loopback_http("http://localhost/x"));
        assert!(!is_loopback_http("http://example.com/x"));
    }
}
