//! Proposed entries: parse a client's request, verify its signature, and build the canonical body that is
//! logged (the leaf). Nothing here touches storage, and nothing a request names is ever fetched (L-06).
//!
//! Rekor v1 (`POST /api/v1/log/entries`): `hashedrekord` 0.0.1, `dsse` 0.0.1 and the legacy `intoto` 0.0.2
//! (what @sigstore/cli `attest` and old cosign write).
//! Rekor v2 (`POST /api/v2/log/entries`): `hashedRekordRequestV002` (sigstore-python and sigil log DSSE as a
//! hashedrekord over the PAE hash) and `dsseRequestV002`. rekor-tiles has deprecated the latter, but sigstore-js
//! 4.x/5.x still sends it for every attestation on Rekor v2, and instances deployed with it accept it, so sigil
//! does too (`dsse/0.0.2` entries, which sigstore-js and sigil verify).

use serde::Deserialize;
use sigil_bundle::encoding::{Bytes, decode_base64, encode_base64};
use sigil_bundle::rekor::{
    DsseV001, DsseV001Signature, HashedRekordData, HashedRekordSignature, HashedRekordV001, HashedRekordV002,
    RekorHash, RekorPublicKey, V2Hash, V2PublicKey, V2Signature, V2Verifier,
};
use sigil_crypto::{HashAlgorithm, KeyAlgorithm, PublicKeyDetails, VerifyingKey};
use sigil_x509::{Certificate, SubjectAltName};

use crate::MAX_ENTRY_SIZE;

/// Most DSSE signatures, and most verifiers, one entry may carry (L-07: rekor-tiles e028746 capped them after a
/// quadratic verification blow-up).
pub const MAX_DSSE_SIGNATURES: usize = 8;
/// Largest DSSE envelope accepted inside a v1 `dsse` request.
const MAX_ENVELOPE: usize = 96 * 1024;

/// Why a proposed entry is refused. Every variant is the client's fault (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryError {
    /// Not JSON, or missing/ill-typed fields.
    Malformed(String),
    /// A kind, version, algorithm or key type this log does not accept.
    Unsupported(String),
    /// The signature does not verify with the given key or certificate.
    BadSignature(String),
    /// The canonical body would not fit a tile entry (65,535 bytes).
    TooLarge,
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(m) => write!(f, "malformed entry: {m}"),
            Self::Unsupported(m) => write!(f, "unsupported entry: {m}"),
            Self::BadSignature(m) => write!(f, "signature does not verify: {m}"),
            Self::TooLarge => write!(
                f,
                "entry too large (the canonical body must be at most {MAX_ENTRY_SIZE} bytes)"
            ),
        }
    }
}

impl std::error::Error for EntryError {}

/// Which kind of leaf an accepted entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    HashedRekordV001,
    DsseV001,
    IntotoV002,
    HashedRekordV002,
    DsseV002,
}

impl Kind {
    pub fn kind_version(self) -> (&'static str, &'static str) {
        match self {
            Self::HashedRekordV001 => ("hashedrekord", "0.0.1"),
            Self::DsseV001 => ("dsse", "0.0.1"),
            Self::IntotoV002 => ("intoto", "0.0.2"),
            Self::DsseV002 => ("dsse", "0.0.2"),
            Self::HashedRekordV002 => ("hashedrekord", "0.0.2"),
        }
    }
}

/// A verified entry, ready to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub kind: Kind,
    /// The canonical body: the exact leaf bytes.
    pub body: Vec<u8>,
}

fn malformed(what: impl Into<String>) -> EntryError {
    EntryError::Malformed(what.into())
}

fn json<T: for<'de> Deserialize<'de>>(v: serde_json::Value, what: &str) -> Result<T, EntryError> {
    serde_json::from_value(v).map_err(|e| malformed(format!("{what}: {e}")))
}

fn finish(kind: Kind, value: &serde_json::Value) -> Result<Accepted, EntryError> {
    accept(kind, sigil_bundle::jcs::canonicalize(value).into_bytes())
}

/// A canonical body within the entry size limit.
fn accept(kind: Kind, body: Vec<u8>) -> Result<Accepted, EntryError> {
    if body.len() > MAX_ENTRY_SIZE {
        return Err(EntryError::TooLarge);
    }
    Ok(Accepted { kind, body })
}

/// The signer of an entry: a certificate (its key is used; the chain is the verifier's business, as in Rekor) or
/// a bare public key.
struct Signer {
    key: VerifyingKey,
    emails: Vec<String>,
}

impl Signer {
    /// From a PEM certificate or PEM public key (Rekor v1 carries base64 of the PEM).
    fn from_pem(pem: &[u8]) -> Result<Self, EntryError> {
        let text = std::str::from_utf8(pem).map_err(|_| malformed("public key is not PEM text"))?;
        let blocks = sigil_crypto::pem_blocks(text).map_err(|e| malformed(format!("public key PEM: {e}")))?;
        let [(label, der)] = blocks.as_slice() else {
            return Err(malformed("public key content must hold exactly one PEM block"));
        };
        match label.as_str() {
            "CERTIFICATE" => Self::from_cert_der(der),
            "PUBLIC KEY" => Ok(Self {
                key: VerifyingKey::from_spki_der(der)
                    .map_err(|e| EntryError::Unsupported(format!("public key: {e}")))?,
                emails: Vec::new(),
            }),
            other => Err(malformed(format!("unexpected PEM block {other:?}"))),
        }
    }

    fn from_cert_der(der: &[u8]) -> Result<Self, EntryError> {
        let cert = Certificate::from_der(der).map_err(|e| malformed(format!("certificate: {e}")))?;
        let emails = cert
            .identity()
            .map(|id| {
                id.sans
                    .iter()
                    .filter_map(|s| match s {
                        SubjectAltName::Email(e) => Some(e.to_ascii_lowercase()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            key: cert.public_key().clone(),
            emails,
        })
    }

    fn search_keys(&self, out: &mut Vec<String>) {
        out.push(format!(
            "key:{}",
            hex::encode(sigil_crypto::sha256(self.key.spki_der()))
        ));
        out.extend(self.emails.iter().map(|e| format!("email:{e}")));
    }

    /// Verifies a signature over a digest (hashedrekord semantics): ECDSA only, the digest's hash must be the one
    /// the key signs with (Ed25519 cannot sign a prehash in these types: L-05).
    fn verify_digest(&self, hash: HashAlgorithm, digest: &[u8], sig: &[u8]) -> Result<(), EntryError> {
        if !matches!(
            self.key.algorithm(),
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521
        ) {
            return Err(EntryError::Unsupported(format!(
                "{:?} keys cannot verify a pre-hashed signature here; use ECDSA",
                self.key.algorithm()
            )));
        }
        self.key
            .verify_prehashed(hash, digest, sig)
            .map_err(|e| EntryError::BadSignature(e.to_string()))
    }
}

/// A v1 hash algorithm name: only the lowercase spellings (`sha256`, …) Rekor v1 bodies use.
fn hash_algorithm_v1(name: &str) -> Result<HashAlgorithm, EntryError> {
    HashAlgorithm::from_name(name)
        .ok()
        .filter(|alg| alg.short_name() == name)
        .ok_or_else(|| EntryError::Unsupported(format!("hash algorithm {name:?}")))
}

fn b64_field(value: Option<&Bytes>, what: &str) -> Result<Vec<u8>, EntryError> {
    match value {
        Some(b) if !b.0.is_empty() => Ok(b.0.clone()),
        _ => Err(malformed(format!("{what} is missing or empty"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProposedV1 {
    api_version: String,
    kind: String,
    spec: serde_json::Value,
}

/// A Rekor v1 `ProposedEntry`.
pub fn accept_v1(request: &[u8]) -> Result<Accepted, EntryError> {
    let p: ProposedV1 = serde_json::from_slice(request).map_err(|e| malformed(e.to_string()))?;
    match (p.kind.as_str(), p.api_version.as_str()) {
        ("hashedrekord", "0.0.1") => hashedrekord_v001(json(p.spec, "hashedrekord spec")?),
        ("dsse", "0.0.1") => dsse_v001(json(p.spec, "dsse spec")?),
        ("intoto", "0.0.2") => intoto_v002(json(p.spec, "intoto spec")?),
        (kind, version) => Err(EntryError::Unsupported(format!(
            "kind {kind:?} version {version:?} (accepted: hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2)"
        ))),
    }
}

fn hashedrekord_v001(spec: HashedRekordV001) -> Result<Accepted, EntryError> {
    let hash = spec
        .data
        .hash
        .as_ref()
        .ok_or_else(|| malformed("spec.data.hash is missing"))?;
    let alg = hash_algorithm_v1(&hash.algorithm)?;
    let digest = hex::decode(&hash.value).map_err(|_| malformed("spec.data.hash.value is not hex"))?;
    if digest.len() != alg.output_len() {
        return Err(malformed(format!(
            "a {} digest is {} bytes, got {}",
            hash.algorithm,
            alg.output_len(),
            digest.len()
        )));
    }
    let sig = b64_field(spec.signature.content.as_ref(), "spec.signature.content")?;
    let pem = b64_field(
        spec.signature.public_key.as_ref().and_then(|k| k.content.as_ref()),
        "spec.signature.publicKey.content",
    )?;
    let signer = Signer::from_pem(&pem)?;
    signer.verify_digest(alg, &digest, &sig)?;

    let hex_digest = hex::encode(&digest);
    let canonical = HashedRekordV001 {
        data: HashedRekordData {
            hash: Some(RekorHash {
                algorithm: hash.algorithm.clone(),
                value: hex_digest.clone(),
            }),
        },
        signature: HashedRekordSignature {
            content: Some(Bytes(sig)),
            public_key: Some(RekorPublicKey {
                content: Some(Bytes(pem)),
            }),
        },
    };
    let value = serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": canonical});
    finish(Kind::HashedRekordV001, &value)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseSpecV001 {
    proposed_content: Option<ProposedContent>,
}

#[derive(Deserialize)]
struct ProposedContent {
    envelope: String,
    #[serde(default)]
    verifiers: Vec<Bytes>,
}

fn dsse_v001(spec: DsseSpecV001) -> Result<Accepted, EntryError> {
    let content = spec
        .proposed_content
        .ok_or_else(|| malformed("spec.proposedContent is missing"))?;
    if content.envelope.len() > MAX_ENVELOPE {
        return Err(EntryError::TooLarge);
    }
    if content.verifiers.is_empty() || content.verifiers.len() > MAX_DSSE_SIGNATURES {
        return Err(malformed(format!(
            "spec.proposedContent.verifiers must hold 1 to {MAX_DSSE_SIGNATURES} entries"
        )));
    }
    let envelope: sigil_bundle::Envelope =
        serde_json::from_str(&content.envelope).map_err(|e| malformed(format!("envelope: {e}")))?;
    if envelope.signatures.is_empty() || envelope.signatures.len() > MAX_DSSE_SIGNATURES {
        return Err(malformed(format!(
            "the envelope must hold 1 to {MAX_DSSE_SIGNATURES} signatures"
        )));
    }
    let signers = content
        .verifiers
        .iter()
        .map(|v| Signer::from_pem(&v.0).map(|s| (s, v)))
        .collect::<Result<Vec<_>, _>>()?;
    let pae = envelope.pae();
    let mut signatures = Vec::with_capacity(envelope.signatures.len());
    for (i, s) in envelope.signatures.iter().enumerate() {
        if s.sig.0.is_empty() {
            return Err(malformed(format!("envelope signature {i} is empty")));
        }
        // Each signature must verify with one of the verifiers; the stored entry pairs it with that verifier.
        let (_, pem) = signers
            .iter()
            .find(|(signer, _)| {
                signer
                    .key
                    .default_scheme()
                    .is_ok_and(|scheme| signer.key.verify(scheme, &pae, &s.sig.0).is_ok())
            })
            .ok_or_else(|| EntryError::BadSignature(format!("envelope signature {i} matches no verifier")))?;
        signatures.push(DsseV001Signature {
            signature: encode_base64(&s.sig.0),
            verifier: Bytes(pem.0.clone()),
        });
    }
    signatures.sort_by(|a, b| a.signature.cmp(&b.signature));
    let envelope_hash = hex::encode(sigil_crypto::sha256(content.envelope.as_bytes()));
    let payload_hash = hex::encode(sigil_crypto::sha256(&envelope.payload));
    let canonical = DsseV001 {
        envelope_hash: Some(RekorHash {
            algorithm: "sha256".into(),
            value: envelope_hash.clone(),
        }),
        payload_hash: Some(RekorHash {
            algorithm: "sha256".into(),
            value: payload_hash.clone(),
        }),
        signatures,
    };
    let value = serde_json::json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": canonical});
    finish(Kind::DsseV001, &value)
}

/// Base64 text inside base64 (how intoto 0.0.2 carries payloads and signatures), decoded twice.
fn double_b64(outer: &Bytes, what: &str) -> Result<Vec<u8>, EntryError> {
    std::str::from_utf8(&outer.0)
        .ok()
        .and_then(decode_base64)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| malformed(format!("{what} is not base64 of base64 text")))
}

/// intoto 0.0.2: the whole envelope travels in the request, payload and signatures base64-encoded twice. The
/// stored body drops the payload (only its hash stays) and keeps each signature with its key, as Rekor does.
fn intoto_v002(spec: sigil_bundle::rekor::IntotoV002) -> Result<Accepted, EntryError> {
    let env = &spec.content.envelope;
    let payload = double_b64(
        env.payload
            .as_ref()
            .ok_or_else(|| malformed("spec.content.envelope.payload is missing"))?,
        "the payload",
    )?;
    if env.signatures.is_empty() || env.signatures.len() > MAX_DSSE_SIGNATURES {
        return Err(malformed(format!(
            "the envelope must hold 1 to {MAX_DSSE_SIGNATURES} signatures"
        )));
    }
    let pae = sigil_bundle::pae(&env.payload_type, &payload);
    let mut signatures = Vec::with_capacity(env.signatures.len());
    let mut sigs_b64 = Vec::with_capacity(env.signatures.len());
    for (i, s) in env.signatures.iter().enumerate() {
        let sig = double_b64(&s.sig, &format!("signature {i}"))?;
        let signer = Signer::from_pem(&s.public_key.0)?;
        let scheme = signer
            .key
            .default_scheme()
            .map_err(|e| EntryError::Unsupported(e.to_string()))?;
        signer
            .key
            .verify(scheme, &pae, &sig)
            .map_err(|e| EntryError::BadSignature(format!("envelope signature {i}: {e}")))?;
        let sig_text = encode_base64(&sig);
        sigs_b64.push(serde_json::json!({"sig": sig_text}));
        signatures.push(sigil_bundle::rekor::IntotoV002Signature {
            sig: Bytes(sig_text.into_bytes()),
            public_key: s.public_key.clone(),
            keyid: s.keyid.clone().filter(|k| !k.is_empty()),
        });
    }
    // `hash` covers the whole envelope; Rekor computes it server-side (client values are ignored). Ours is the
    // SHA-256 of the envelope's JCS form (payload and signatures as single base64); no verifier recomputes it.
    let envelope_json = serde_json::json!({
        "payload": encode_base64(&payload),
        "payloadType": env.payload_type,
        "signatures": sigs_b64,
    });
    let envelope_hash = sigil_crypto::sha256(sigil_bundle::jcs::canonicalize(&envelope_json).as_bytes());
    let canonical = sigil_bundle::rekor::IntotoV002 {
        content: sigil_bundle::rekor::IntotoV002Content {
            envelope: sigil_bundle::rekor::IntotoV002Envelope {
                payload: None,
                payload_type: env.payload_type.clone(),
                signatures,
            },
            hash: Some(RekorHash {
                algorithm: "sha256".into(),
                value: hex::encode(envelope_hash),
            }),
            payload_hash: Some(RekorHash {
                algorithm: "sha256".into(),
                value: hex::encode(sigil_crypto::sha256(&payload)),
            }),
        },
    };
    let value = serde_json::json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": canonical});
    finish(Kind::IntotoV002, &value)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateEntryV2 {
    hashed_rekord_request_v002: Option<HashedRekordRequestV002>,
    dsse_request_v002: Option<DsseRequestV002>,
}

#[derive(Deserialize)]
struct DsseRequestV002 {
    envelope: sigil_bundle::Envelope,
    #[serde(default)]
    verifiers: Vec<V2Verifier>,
}

#[derive(Deserialize)]
struct HashedRekordRequestV002 {
    digest: Bytes,
    signature: V2Signature,
}

/// A Rekor v2 `CreateEntryRequest`.
pub fn accept_v2(request: &[u8]) -> Result<Accepted, EntryError> {
    let req: CreateEntryV2 = serde_json::from_slice(request).map_err(|e| malformed(e.to_string()))?;
    let req = match (req.hashed_rekord_request_v002, req.dsse_request_v002) {
        (Some(h), None) => h,
        (None, Some(d)) => return dsse_v002(d),
        _ => {
            return Err(malformed(
                "exactly one of hashedRekordRequestV002 and dsseRequestV002 is required",
            ));
        }
    };
    let verifier = &req.signature.verifier;
    let (details, signer) = v2_signer(verifier)?;
    if details == PublicKeyDetails::PkixEd25519 {
        return Err(EntryError::Unsupported(
            "PKIX_ED25519 cannot sign a digest; use PKIX_ED25519_PH".into(),
        ));
    }
    let hash = details
        .hash()
        .ok_or_else(|| EntryError::Unsupported(format!("keyDetails {:?}", verifier.key_details)))?;
    if req.digest.0.len() != hash.output_len() {
        return Err(malformed(format!(
            "digest is {} bytes but {} signs {}-byte digests",
            req.digest.0.len(),
            verifier.key_details,
            hash.output_len()
        )));
    }
    if req.signature.content.0.is_empty() {
        return Err(malformed("signature.content is empty"));
    }
    signer.verify_digest(hash, &req.digest.0, &req.signature.content.0)?;

    let leaf = HashedRekordV002 {
        data: V2Hash {
            algorithm: hash.proto_name().to_string(),
            digest: req.digest.clone(),
        },
        signature: V2Signature {
            content: req.signature.content.clone(),
            verifier: canonical_verifier(details, verifier),
        },
    };
    accept(
        Kind::HashedRekordV002,
        leaf.canonical_body().map_err(|e| malformed(e.to_string()))?,
    )
}

/// The key a v2 verifier names, checked against its `keyDetails`.
fn v2_signer(verifier: &V2Verifier) -> Result<(PublicKeyDetails, Signer), EntryError> {
    let details = PublicKeyDetails::from_proto_name(&verifier.key_details)
        .map_err(|_| EntryError::Unsupported(format!("keyDetails {:?}", verifier.key_details)))?;
    let signer = match (&verifier.x509_certificate, &verifier.public_key) {
        (Some(cert), None) => Signer::from_cert_der(&cert.raw_bytes.0)?,
        (None, Some(pk)) => Signer {
            key: VerifyingKey::from_spki_der(&pk.raw_bytes.0)
                .map_err(|e| EntryError::Unsupported(format!("public key: {e}")))?,
            emails: Vec::new(),
        },
        _ => return Err(malformed("verifier needs exactly one of x509Certificate and publicKey")),
    };
    if !details.matches(signer.key.algorithm()) {
        return Err(EntryError::Unsupported(format!(
            "keyDetails {} does not match the {:?} key",
            verifier.key_details,
            signer.key.algorithm()
        )));
    }
    Ok((details, signer))
}

/// A verifier as the leaf stores it: only the key material and the canonical `keyDetails` name.
fn canonical_verifier(details: PublicKeyDetails, verifier: &V2Verifier) -> V2Verifier {
    V2Verifier {
        key_details: details.proto_name().to_string(),
        x509_certificate: verifier.x509_certificate.clone(),
        public_key: verifier.public_key.as_ref().map(|pk| V2PublicKey {
            raw_bytes: pk.raw_bytes.clone(),
        }),
    }
}

/// `dsseRequestV002` → a `dsse/0.0.2` leaf: every envelope signature must verify (over the PAE) with one of the
/// verifiers, and the leaf pairs it with that verifier; the payload itself is not stored, only its SHA-256.
fn dsse_v002(req: DsseRequestV002) -> Result<Accepted, EntryError> {
    let envelope = req.envelope;
    if envelope.signatures.is_empty() || envelope.signatures.len() > MAX_DSSE_SIGNATURES {
        return Err(malformed(format!(
            "the envelope must hold 1 to {MAX_DSSE_SIGNATURES} signatures"
        )));
    }
    if req.verifiers.is_empty() || req.verifiers.len() > MAX_DSSE_SIGNATURES {
        return Err(malformed(format!(
            "verifiers must hold 1 to {MAX_DSSE_SIGNATURES} entries"
        )));
    }
    if envelope.payload.len() > MAX_ENVELOPE {
        return Err(EntryError::TooLarge);
    }
    let signers = req
        .verifiers
        .iter()
        .map(|v| v2_signer(v).map(|(details, signer)| (details, signer, v)))
        .collect::<Result<Vec<_>, _>>()?;
    let pae = envelope.pae();
    let mut signatures = Vec::with_capacity(envelope.signatures.len());
    for (i, s) in envelope.signatures.iter().enumerate() {
        if s.sig.0.is_empty() {
            return Err(malformed(format!("envelope signature {i} is empty")));
        }
        let (details, _, verifier) = signers
            .iter()
            .find(|(details, signer, _)| {
                details
                    .scheme()
                    .is_ok_and(|scheme| signer.key.verify(scheme, &pae, &s.sig.0).is_ok())
            })
            .ok_or_else(|| EntryError::BadSignature(format!("envelope signature {i} matches no verifier")))?;
        signatures.push(V2Signature {
            content: Bytes(s.sig.0.clone()),
            verifier: canonical_verifier(*details, verifier),
        });
    }
    let leaf = sigil_bundle::rekor::DsseV002 {
        payload_hash: V2Hash {
            algorithm: HashAlgorithm::Sha2_256.proto_name().to_string(),
            digest: Bytes(sigil_crypto::sha256(&envelope.payload).to_vec()),
        },
        signatures,
    };
    accept(
        Kind::DsseV002,
        leaf.canonical_body().map_err(|e| malformed(e.to_string()))?,
    )
}

/// Search keys of a v2 leaf: its digest and each verifier's key (and email SANs).
fn v2_search_keys(digest: &V2Hash, signatures: &[V2Signature], keys: &mut Vec<String>) {
    if let Ok(alg) = HashAlgorithm::from_name(&digest.algorithm) {
        keys.push(format!("{}:{}", alg.short_name(), hex::encode(&digest.digest.0)));
    }
    for v in signatures.iter().map(|s| &s.verifier) {
        let signer = match (&v.x509_certificate, &v.public_key) {
            (Some(c), _) => Signer::from_cert_der(&c.raw_bytes.0).ok(),
            (None, Some(pk)) => VerifyingKey::from_spki_der(&pk.raw_bytes.0).ok().map(|key| Signer {
                key,
                emails: Vec::new(),
            }),
            (None, None) => None,
        };
        if let Some(s) = signer {
            s.search_keys(keys);
        }
    }
}

/// Search keys of a logged body, for `POST /api/v1/index/retrieve`: `<alg>:<hex>` of the artifact digest (and, for
/// DSSE, of the payload and envelope), `key:<hex>` (SHA-256 of each signer's SPKI) and `email:<address>` for
/// certificate email SANs. Derived from the leaf alone, so the index can always be rebuilt from the tiles.
pub fn search_keys(body: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let Ok(parsed) = sigil_bundle::RekorBody::from_json(body) else {
        return keys;
    };
    let signer_pem = |pem: &[u8], keys: &mut Vec<String>| {
        if let Ok(s) = Signer::from_pem(pem) {
            s.search_keys(keys);
        }
    };
    match parsed {
        sigil_bundle::RekorBody::HashedRekordV001(h) => {
            if let Some(hash) = &h.data.hash {
                keys.push(format!("{}:{}", hash.algorithm, hash.value));
            }
            if let Some(pem) = h.signature.public_key.as_ref().and_then(|k| k.content.as_ref()) {
                signer_pem(&pem.0, &mut keys);
            }
        }
        sigil_bundle::RekorBody::DsseV001(d) => {
            for h in d.payload_hash.iter().chain(&d.envelope_hash) {
                keys.push(format!("{}:{}", h.algorithm, h.value));
            }
            for s in &d.signatures {
                signer_pem(&s.verifier.0, &mut keys);
            }
        }
        sigil_bundle::RekorBody::IntotoV002(i) => {
            for h in i.content.payload_hash.iter().chain(&i.content.hash) {
                keys.push(format!("{}:{}", h.algorithm, h.value));
            }
            for s in &i.content.envelope.signatures {
                signer_pem(&s.public_key.0, &mut keys);
            }
        }
        sigil_bundle::RekorBody::HashedRekordV002(h) => {
            v2_search_keys(&h.data, std::slice::from_ref(&h.signature), &mut keys);
        }
        sigil_bundle::RekorBody::DsseV002(d) => v2_search_keys(&d.payload_hash, &d.signatures, &mut keys),
        _ => {}
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The `key:<hex>` search key of a base64 PEM certificate or public key (an index search request).
pub(crate) fn signer_search_key(pem_or_der_b64: &str) -> Option<String> {
    let bytes = decode_base64(pem_or_der_b64)?;
    let signer = Signer::from_pem(&bytes).ok()?;
    Some(format!(
        "key:{}",
        hex::encode(sigil_crypto::sha256(signer.key.spki_der()))
    ))
}
