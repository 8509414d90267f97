//! Writes generated seeds for the `ca_request`, `tsa_request`, `oidc_token`, `ct_chain` and `log_entry` targets
//! into `<corpus>/<target>/gen-*` (default `corpus`, relative to `fuzz/`). Certificates and bundles already seeded
//! from the shared fixtures (`corpus/certificate`, `corpus/bundle`) are mined for TBSCertificates, SCTs and Rekor
//! bodies. Nothing is written outside the corpus directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use sigil_crypto::der_write as w;
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, Signer as _, SigningKey};

struct Out {
    dir: PathBuf,
    n: usize,
}

impl Out {
    fn put(&mut self, target: &str, data: &[u8]) {
        let dir = self.dir.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        self.n += 1;
        std::fs::write(dir.join(format!("gen-{}", self.n)), data).unwrap();
    }
}

fn read_dir(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect()
}

fn csr_der(key: &SigningKey, sig_oid: &str) -> Vec<u8> {
    let info = w::sequence(&[
        &w::integer_u64(0),
        &w::sequence(&[]),
        key.public_key().spki_der(),
        &w::explicit(0, &[]),
    ]);
    let alg = w::sequence(&[&w::oid(sig_oid).unwrap()]);
    let sig = key.sign(&info).unwrap();
    w::sequence(&[&info, &alg, &w::bit_string(&sig)])
}

fn pem_public(key: &SigningKey) -> String {
    sigil_crypto::pem_encode("PUBLIC KEY", key.public_key().spki_der())
}

fn ca_request(out: &mut Out) {
    let token = sigil_fuzz::dev_issuer("https://accounts.google.com")
        .mint(
            &sigil_oidc::dev::DevClaims::email(sigil_fuzz::CHALLENGE),
            sigil_fuzz::MINTED_AT,
            3600,
        )
        .unwrap();
    let keys = [
        (KeyAlgorithm::EcdsaP256, "1.2.840.10045.4.3.2"),
        (KeyAlgorithm::EcdsaP384, "1.2.840.10045.4.3.3"),
        (KeyAlgorithm::Ed25519, "1.3.101.112"),
    ];
    for (alg, oid) in keys {
        let key = SigningKey::generate(alg).unwrap();
        let csr = csr_der(&key, oid);
        let pem = sigil_crypto::pem_encode("CERTIFICATE REQUEST", &csr);
        for field in [B64.encode(pem.as_bytes()), B64.encode(&csr)] {
            let body = json!({"credentials": {"oidcIdentityToken": token}, "certificateSigningRequest": field});
            out.put("ca_request", &serde_json::to_vec(&body).unwrap());
        }
        let pop = B64.encode(key.sign(sigil_fuzz::CHALLENGE.as_bytes()).unwrap());
        for content in [pem_public(&key), B64.encode(key.public_key().spki_der())] {
            let body = json!({
                "credentials": {"oidcIdentityToken": token},
                "publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": content}, "proofOfPossession": pop},
            });
            out.put("ca_request", &serde_json::to_vec(&body).unwrap());
        }
        // The token in the header only.
        let body = json!({"publicKeyRequest": {"publicKey": {"content": pem_public(&key)}, "proofOfPossession": pop}});
        out.put("ca_request", &serde_json::to_vec(&body).unwrap());
    }
    // RSA: key policy and PKCS#1 verification paths (the signature is not valid).
    let body = json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {"publicKey": {"algorithm": "RSA_PSS", "content": sigil_fuzz::RSA_2048_SPKI_PEM},
                             "proofOfPossession": B64.encode([1u8; 256])},
    });
    out.put("ca_request", &serde_json::to_vec(&body).unwrap());
}

fn tsa_request(out: &mut Out) {
    for alg in [HashAlgorithm::Sha2_256, HashAlgorithm::Sha2_384, HashAlgorithm::Sha2_512] {
        let req = sigil_tsa::TimeStampRequest::for_signature(alg, b"signature");
        out.put("tsa_request", &req.to_der());
        out.put("tsa_request", &req.clone().with_nonce(&[0x9c, 1, 2, 3, 4, 5, 6, 7]).to_der());
        let digest = alg.digest(b"artifact");
        for name in [alg.short_name().to_owned(), alg.short_name().to_uppercase().replace("SHA", "SHA-")] {
            out.put("tsa_request", &[name.as_bytes(), b"\n", &digest].concat());
            out.put("tsa_request", &[name.as_bytes(), b"\n", &digest, &[0x42, 0x01]].concat());
        }
    }
    out.put("tsa_request", b"sha1\n0123456789abcdefghij");
}

fn oidc_token(out: &mut Out) {
    let email = |e: &str| json!({"email": e, "email_verified": true, "sub": e});
    let github = json!({
        "sub": "repo:octo/app:ref:refs/heads/main", "repository": "octo/app", "repository_id": "1",
        "repository_owner": "octo", "repository_owner_id": "2", "workflow_ref": "octo/app/.github/workflows/r.yml@refs/heads/main",
        "workflow_sha": "0123456789abcdef0123456789abcdef01234567", "job_workflow_ref": "octo/app/.github/workflows/r.yml@refs/heads/main",
        "job_workflow_sha": "0123456789abcdef0123456789abcdef01234567", "event_name": "push", "ref": "refs/heads/main",
        "sha": "0123456789abcdef0123456789abcdef01234567", "run_id": "3", "run_attempt": "1", "runner_environment": "github-hosted",
        "repository_visibility": "public", "workflow": "r",
    });
    let gitlab = json!({
        "sub": "project_path:g/p:ref_type:branch:ref:main", "project_path": "g/p", "project_id": "1", "namespace_path": "g",
        "namespace_id": "2", "ref": "main", "ref_type": "branch", "pipeline_source": "push", "ci_config_ref_uri": "gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main",
        "ci_config_sha": "0123456789abcdef0123456789abcdef01234567", "sha": "0123456789abcdef0123456789abcdef01234567",
        "pipeline_id": "3", "job_id": "4", "runner_environment": "gitlab-hosted", "project_visibility": "public",
    });
    let buildkite = json!({"sub": "organization:o:pipeline:p", "organization_slug": "o", "pipeline_slug": "p",
        "build_number": 7, "job_id": "j", "runner_environment": "self-hosted", "build_commit": "abc", "build_source": "ui"});
    let kubernetes = json!({"sub": "system:serviceaccount:ns:sa",
        "kubernetes.io": {"namespace": "ns", "serviceaccount": {"name": "sa", "uid": "u"}}});
    let cases = [
        ("https://accounts.google.com", email("alice@example.com")),
        ("https://oauth2.sigstore.dev/auth", {
            let mut c = email("bob@example.com");
            c["federated_claims"] = json!({"connector_id": "https://github.com/login/oauth", "user_id": "1"});
            c
        }),
        ("https://token.actions.githubusercontent.com", github.clone()),
        ("https://gitlab.com", gitlab),
        ("https://agent.buildkite.com", buildkite),
        ("https://accounts.example.com", json!({"sub": "https://example.com/users/alice"})),
        ("https://login.example.com", json!({"sub": "alice"})),
        ("https://spire.example.org", json!({"sub": "spiffe://example.org/ns/default/sa/x"})),
        (sigil_fuzz::META_ISSUER_URL, kubernetes),
    ];
    for (iss, claims) in cases {
        let dev = sigil_fuzz::dev_issuer(iss);
        let mut dc = sigil_oidc::dev::DevClaims::default();
        let serde_json::Value::Object(extra) = claims else { unreachable!() };
        dc.email = extra.get("email").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        dc.sub = extra.get("sub").and_then(|v| v.as_str()).map(str::to_owned);
        dc.extra = extra;
        let token = dev.mint(&dc, sigil_fuzz::MINTED_AT, 3600).unwrap();
        let (validator, jwks) = sigil_fuzz::oidc();
        if let Err(e) = validator.validate_identity(&token, sigil_fuzz::NOW, jwks) {
            eprintln!("seeds: the {iss} token does not validate: {e}");
        }
        out.put("oidc_token", token.as_bytes());
        // The claims alone: the target signs them itself.
        let payload = token.split('.').nth(1).unwrap();
        out.put("oidc_token", &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap());
    }
    out.put("oidc_token", sigil_fuzz::OIDC_CONFIG_JSON.as_bytes());
}

/// The SCTs in a certificate's SCT list extension.
fn scts_of(cert: &sigil_x509::Certificate) -> Vec<Vec<u8>> {
    let mut scts = Vec::new();
    let Some((_, value)) = cert.extension("1.3.6.1.4.1.11129.2.4.2") else {
        return scts;
    };
    let Ok(os) = sigil_crypto::der::parse_single(value) else {
        return scts;
    };
    let list = os.value.get(2..).unwrap_or_default();
    let mut rest = list;
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        let Some(one) = tail.get(..len) else { break };
        scts.push(one.to_vec());
        rest = tail.get(len..).unwrap_or_default();
    }
    scts
}

fn ct_chain(out: &mut Out, corpus: &Path) {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let name = sigil_x509::Name {
        organization: "fuzz".into(),
        common_name: "root".into(),
    };
    let root = sigil_x509::self_signed_root(&key, &name, 0, 4_000_000_000).unwrap();
    let mut certs = vec![root];
    certs.extend(read_dir(&corpus.join("certificate")));
    let mut seen = std::collections::BTreeSet::new();
    for der in certs {
        let Ok(cert) = sigil_x509::Certificate::from_der(&der) else { continue };
        if !seen.insert(cert.tbs_der().to_vec()) {
            continue;
        }
        out.put("ct_chain", cert.tbs_der());
        for sct in scts_of(&cert) {
            out.put("ct_chain", &sct);
        }
        if seen.len() == 1 {
            let sct = sigil_x509::sign_precert_sct(&key, sigil_fuzz::MINTED_AT as u64 * 1000, &[7; 32], cert.tbs_der());
            out.put("ct_chain", &sct.unwrap().encode().unwrap());
        }
    }
}

fn log_entry(out: &mut Out, corpus: &Path) {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let artifact = b"artifact";
    let digest = sigil_crypto::sha256(artifact);
    let sig = key.sign(artifact).unwrap();
    let pem = pem_public(&key);
    let v1 = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": hex_encode(&digest)}},
        "signature": {"content": B64.encode(&sig), "publicKey": {"content": B64.encode(pem.as_bytes())}},
    }});
    let v2 = json!({"hashedRekordRequestV002": {"digest": B64.encode(digest), "signature": {
        "content": B64.encode(&sig),
        "verifier": {"publicKey": {"rawBytes": B64.encode(key.public_key().spki_der())}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"},
    }}});
    let payload_type = "application/vnd.in-toto+json";
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}"#;
    let pae = [
        format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).as_bytes(),
        payload,
    ]
    .concat();
    let envelope = json!({"payload": B64.encode(payload), "payloadType": payload_type,
        "signatures": [{"sig": B64.encode(key.sign(&pae).unwrap()), "keyid": ""}]});
    let dsse = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
        "envelope": envelope.to_string(), "verifiers": [B64.encode(pem.as_bytes())]}}});
    for (what, req, v2) in [("hashedrekord v1", v1, false), ("hashedrekord v2", v2, true), ("dsse v1", dsse, false)] {
        let bytes = serde_json::to_vec(&req).unwrap();
        let r = if v2 {
            sigil_log::entry::accept_v2(&bytes)
        } else {
            sigil_log::entry::accept_v1(&bytes)
        };
        if let Err(e) = r {
            eprintln!("seeds: the {what} request is not accepted: {e}");
        }
        out.put("log_entry", &bytes);
    }
    // Logged bodies from the fixture bundles (a v1 body is also a well-formed proposed entry).
    for bundle in read_dir(&corpus.join("bundle")) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bundle) else { continue };
        let entries = v["verificationMaterial"]["tlogEntries"].as_array().cloned().unwrap_or_default();
        for e in entries {
            if let Some(body) = e["canonicalizedBody"].as_str().and_then(|b| B64.decode(b).ok()) {
                out.put("log_entry", &body);
            }
        }
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    let corpus = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    let mut out = Out {
        dir: corpus.clone(),
        n: 0,
    };
    ca_request(&mut out);
    tsa_request(&mut out);
    oidc_token(&mut out);
    ct_chain(&mut out, &corpus);
    log_entry(&mut out, &corpus);
    eprintln!("seeds: wrote {} files under {}", out.n, corpus.display());
}
