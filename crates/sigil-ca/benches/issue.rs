//! In-process certificate issuance (`CertificateAuthority::issue`), P-256 leaf keys, for the two request shapes:
//! a public key with a proof of possession (sigstore-js, cosign) and a PKCS#10 CSR (sigstore-python).
//!
//! The CA is set up as `sigil serve` sets it up (P-384 root, P-256 intermediate from `material::load_or_create`,
//! real ES256 token validation through `OidcAuthenticator` with the issuer's JWKS cached), but the CT log is an
//! in-memory [`PrecertLog`] that only signs the SCT (sign + self-check, as the real log does): no HTTP, no
//! append, no fsync. The `parts/*` benchmarks split one issuance into its costly steps, plus what the real CT log
//! additionally checks per precertificate (`CtLog::check_pre_chain`: parse the chain and verify each link).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sigil_ca::material::{self, Kind};
use sigil_ca::oidc_auth::OidcAuthenticator;
use sigil_ca::request::SigningCertRequest;
use sigil_ca::{Authenticator, BoxFuture, CertificateAuthority, PrecertLog};
use sigil_crypto::der_write as w;
use sigil_crypto::{KeyAlgorithm, Signer, SigningKey};
use sigil_oidc::dev::{DevClaims, DevIssuer};
use sigil_oidc::fetch::{AsyncValidator, JwksSource};
use sigil_oidc::{IssuerConfig, IssuerType, JwksCache, OidcConfig, Validator};
use sigil_x509::{Certificate, Issuer, LeafRequest, LeafSan, SignedSct};

const ISSUER_URL: &str = "http://127.0.0.1:1/oidc";
const EMAIL: &str = "bench@example.com";

/// A CT log that signs SCTs in memory.
#[derive(Debug)]
struct MemoryCt {
    key: SigningKey,
}

impl PrecertLog for MemoryCt {
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> BoxFuture<'_, Result<SignedSct, String>> {
        Box::pin(async move {
            let precert = Certificate::from_der(&chain[0]).map_err(|e| e.to_string())?;
            let issuer = Certificate::from_der(&chain[1]).map_err(|e| e.to_string())?;
            let issuer_key_hash = issuer.public_key().sha256_key_id();
            sigil_x509::sign_precert_sct(&self.key, 1_780_000_000_000, &issuer_key_hash, precert.tbs_der())
                .map_err(|e| e.to_string())
        })
    }
}

/// The JWKS is cached up front; a fetch would mean the benchmark measures the wrong thing.
#[derive(Debug)]
struct NoFetch;

impl JwksSource for NoFetch {
    async fn fetch_jwks(&self, _: &IssuerConfig) -> Result<Vec<u8>, sigil_oidc::Error> {
        Err(sigil_oidc::Error::Fetch("the benchmark does not fetch".into()))
    }
}

/// A DER PKCS#10 request for `key`: empty subject, no attributes, ecdsa-with-SHA256.
fn csr_der(key: &SigningKey) -> Vec<u8> {
    let info = w::sequence(&[
        &w::integer_u64(0),
        &w::sequence(&[]),
        key.public_key().spki_der(),
        &w::explicit(0, &[]),
    ]);
    let alg = w::sequence(&[&w::oid("1.2.840.10045.4.3.2").unwrap()]);
    let sig = key.sign(&info).unwrap();
    w::sequence(&[&info, &alg, &w::bit_string(&sig)])
}

fn bench(c: &mut Criterion) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let dir = std::env::temp_dir().join(format!("sigil-ca-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ca_material = material::load_or_create(&dir, Kind::CodeSigningCa, "sigil", now).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let dev = DevIssuer::generate(ISSUER_URL).unwrap();
    let oidc = OidcConfig::with_issuers([IssuerConfig::new(ISSUER_URL, IssuerType::Email)]).unwrap();
    let cache = Arc::new(JwksCache::new());
    cache
        .insert(ISSUER_URL, &serde_json::to_vec(&dev.jwks()).unwrap(), now)
        .unwrap();
    let auth = Arc::new(OidcAuthenticator::new(AsyncValidator::new(
        Validator::new(oidc),
        cache,
        NoFetch,
    )));
    let token = dev.mint(&DevClaims::email(EMAIL), now, 86_400).unwrap();

    let issuer = Issuer::from_der(
        ca_material.issuing(),
        Arc::clone(&ca_material.signer) as Arc<dyn Signer>,
    )
    .unwrap();
    let ct = Arc::new(MemoryCt {
        key: SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
    });
    let ca = CertificateAuthority::new(
        issuer,
        ca_material.chain.clone(),
        Arc::clone(&auth) as Arc<dyn Authenticator>,
        Arc::clone(&ct) as Arc<dyn PrecertLog>,
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();

    // One leaf key per request shape (the CA does no per-key caching, so reusing it costs the same).
    let leaf = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let pem = sigil_crypto::pem_encode("PUBLIC KEY", leaf.public_key().spki_der());
    let pop = B64.encode(leaf.sign(EMAIL.as_bytes()).unwrap());
    let pop_body = serde_json::to_vec(&serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {"publicKey": {"algorithm": "ECDSA", "content": pem}, "proofOfPossession": pop},
    }))
    .unwrap();
    let csr_pem = sigil_crypto::pem_encode("CERTIFICATE REQUEST", &csr_der(&leaf));
    let csr_body = serde_json::to_vec(&serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "certificateSigningRequest": B64.encode(csr_pem),
    }))
    .unwrap();

    let mut g = c.benchmark_group("ca");
    g.throughput(Throughput::Elements(1));
    for (name, body) in [("issue_pop_p256", &pop_body), ("issue_csr_p256", &csr_body)] {
        // Sanity: the certificate carries the leaf key.
        let issued = rt
            .block_on(ca.issue(SigningCertRequest::parse(body, None).unwrap(), now))
            .unwrap();
        assert_eq!(
            Certificate::from_der(&issued.certificate).unwrap().public_key(),
            leaf.public_key()
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                let req = SigningCertRequest::parse(black_box(body), None).unwrap();
                black_box(rt.block_on(ca.issue(req, now)).unwrap())
            })
        });
    }
    g.finish();

    // The steps of one issuance.
    let mut g = c.benchmark_group("ca_parts");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_pop_request", |b| {
        b.iter(|| SigningCertRequest::parse(black_box(&pop_body), None).unwrap())
    });
    g.bench_function("authenticate_es256_token", |b| {
        b.iter(|| rt.block_on(auth.authenticate(black_box(&token))).unwrap())
    });
    g.bench_function("verify_pop", |b| {
        b.iter(|| {
            let req = SigningCertRequest::parse(&pop_body, None).unwrap();
            req.proof.verify(black_box(EMAIL)).unwrap()
        })
    });
    g.bench_function("verify_csr", |b| {
        b.iter(|| {
            let req = SigningCertRequest::parse(&csr_body, None).unwrap();
            req.proof.verify(black_box(EMAIL)).unwrap()
        })
    });
    let leaf_req = LeafRequest {
        public_key: leaf.public_key().clone(),
        san: LeafSan::Email(EMAIL.into()),
        oidc_issuer: ISSUER_URL.into(),
        extensions: Default::default(),
        not_before: now,
        not_after: now + 600,
    };
    let issuer = Issuer::from_der(
        ca_material.issuing(),
        Arc::clone(&ca_material.signer) as Arc<dyn Signer>,
    )
    .unwrap();
    let serial = [0x11u8; 20];
    g.bench_function("build_precertificate", |b| {
        b.iter(|| sigil_x509::build_precertificate(&issuer, black_box(&leaf_req), &serial).unwrap())
    });
    let precert = sigil_x509::build_precertificate(&issuer, &leaf_req, &serial).unwrap();
    let mut chain = vec![precert.der.clone()];
    chain.extend(ca_material.chain.iter().cloned());
    g.bench_function("sign_sct", |b| {
        b.iter(|| rt.block_on(ct.add_pre_chain(black_box(chain.clone()))).unwrap())
    });
    // What `CtLog::check_pre_chain` does per precertificate: parse the three certificates and verify both links
    // (precertificate ← P-256 intermediate, intermediate ← P-384 root).
    g.bench_function("ct_check_pre_chain", |b| {
        b.iter(|| {
            let certs: Vec<Certificate> = chain.iter().map(|d| Certificate::from_der(d).unwrap()).collect();
            certs[0].verify_issued_by(&certs[1]).unwrap();
            certs[1].verify_issued_by(&certs[2]).unwrap();
            black_box(certs)
        })
    });
    let root = Certificate::from_der(&chain[2]).unwrap();
    let intermediate = Certificate::from_der(&chain[1]).unwrap();
    g.bench_function("ct_verify_intermediate_p384", |b| {
        b.iter(|| black_box(&intermediate).verify_issued_by(&root).unwrap())
    });
    let sct = rt.block_on(ct.add_pre_chain(chain.clone())).unwrap();
    let sct_list = sigil_x509::encode_sct_list(std::slice::from_ref(&sct)).unwrap();
    g.bench_function("finish_certificate", |b| {
        b.iter(|| sigil_x509::finish_certificate(&issuer, black_box(&leaf_req), &serial, &sct_list).unwrap())
    });
    g.bench_function("pem_encode_chain", |b| {
        b.iter(|| {
            chain
                .iter()
                .map(|d| sigil_crypto::pem_encode("CERTIFICATE", black_box(d)))
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
