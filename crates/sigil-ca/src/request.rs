//! The body of `POST /api/v2/signingCert` and the public key it asks to certify.
//!
//! Two shapes are accepted (INTEROP.md §0 item 3): a PKCS#10 CSR whose self-signature is the proof of possession
//! (sigstore-python), and a public key with a signature over the identity's challenge string (sigstore-js,
//! cosign). The token travels in `Authorization: Bearer` or in `credentials.oidcIdentityToken`. Nothing but the
//! public key is taken from a CSR: its subject, SAN and extensions are ignored by construction (C-04).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use sigil_crypto::der::{self, tag};
use sigil_crypto::{KeyAlgorithm, SignatureScheme, VerifyingKey};

use crate::Error;

/// Largest base64 CSR or public key accepted (an RSA-4096 CSR is about 2.3 KB of PEM).
const MAX_KEY_MATERIAL: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    credentials: Option<Credentials>,
    #[serde(default)]
    public_key_request: Option<PublicKeyRequest>,
    #[serde(default)]
    certificate_signing_request: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    #[serde(default)]
    oidc_identity_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest {
    public_key: PublicKeyField,
    #[serde(default)]
    proof_of_possession: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PublicKeyField {
    /// `ECDSA`, `ED25519`, `RSA_PSS`, …: advisory only; the key's own algorithm identifier decides.
    #[serde(default)]
    #[allow(dead_code)]
    algorithm: Option<String>,
    content: String,
}

/// What the client asks to certify, not yet checked.
#[derive(Debug)]
pub enum KeyProof {
    /// A DER PKCS#10 request.
    Csr(Vec<u8>),
    /// A public key and a signature over the challenge.
    Possession {
        public_key: VerifyingKey,
        signature: Vec<u8>,
    },
}

/// A parsed request.
#[derive(Debug)]
pub struct SigningCertRequest {
    pub token: String,
    pub proof: KeyProof,
}

impl SigningCertRequest {
    /// Parses the JSON body; `bearer` is the token from the `Authorization` header, if any.
    pub fn parse(body: &[u8], bearer: Option<&str>) -> Result<Self, Error> {
        let body: Body = serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("request body: {e}")))?;
        let in_body = body
            .credentials
            .and_then(|c| c.oidc_identity_token)
            .filter(|t| !t.is_empty());
        let token = match (bearer, in_body) {
            (Some(h), Some(b)) if h != b => {
                return Err(Error::BadRequest(
                    "two different identity tokens (header and body)".into(),
                ));
            }
            (Some(h), _) => h.to_string(),
            (None, Some(b)) => b,
            (None, None) => return Err(Error::Unauthenticated("no identity token".into())),
        };
        let proof = match (body.public_key_request, body.certificate_signing_request) {
            (Some(_), Some(_)) => {
                return Err(Error::BadRequest(
                    "give either publicKeyRequest or certificateSigningRequest".into(),
                ));
            }
            (None, None) => {
                return Err(Error::BadRequest(
                    "missing publicKeyRequest or certificateSigningRequest".into(),
                ));
            }
            (None, Some(csr)) => KeyProof::Csr(decode_csr(&csr)?),
            (Some(pk), None) => {
                let public_key = parse_public_key(&pk.public_key.content)?;
                let signature = pk
                    .proof_of_possession
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| Error::BadRequest("missing proofOfPossession".into()))?;
                if signature.len() > MAX_KEY_MATERIAL {
                    return Err(Error::BadRequest("proofOfPossession too large".into()));
                }
                let signature = B64
                    .decode(signature.trim())
                    .map_err(|_| Error::BadRequest("proofOfPossession is not base64".into()))?;
                KeyProof::Possession { public_key, signature }
            }
        };
        Ok(Self { token, proof })
    }
}

/// The CSR field is base64 of a PEM request (what Fulcio's clients send); base64 of DER is accepted too.
fn decode_csr(field: &str) -> Result<Vec<u8>, Error> {
    if field.len() > MAX_KEY_MATERIAL {
        return Err(Error::BadRequest("certificateSigningRequest too large".into()));
    }
    let raw = B64
        .decode(field.trim())
        .map_err(|_| Error::BadRequest("certificateSigningRequest is not base64".into()))?;
    match std::str::from_utf8(&raw) {
        Ok(text) if text.contains("-----BEGIN") => sigil_crypto::pem_decode_one(text, "CERTIFICATE REQUEST")
            .map_err(|e| Error::BadRequest(format!("certificateSigningRequest: {e}"))),
        _ => Ok(raw),
    }
}

/// A public key given as PEM, or base64 DER SubjectPublicKeyInfo.
fn parse_public_key(content: &str) -> Result<VerifyingKey, Error> {
    if content.len() > MAX_KEY_MATERIAL {
        return Err(Error::BadRequest("public key too large".into()));
    }
    let der = if content.contains("-----BEGIN") {
        sigil_crypto::pem_decode_one(content, "PUBLIC KEY")
            .map_err(|e| Error::BadRequest(format!("public key: {e}")))?
    } else {
        B64.decode(content.trim())
            .map_err(|_| Error::BadRequest("public key is neither PEM nor base64 DER".into()))?
    };
    key_from_spki(&der)
}

fn key_from_spki(der: &[u8]) -> Result<VerifyingKey, Error> {
    let key = VerifyingKey::from_spki_der(der).map_err(|e| Error::InsecureKey(e.to_string()))?;
    check_key_policy(&key)?;
    Ok(key)
}

/// Keys the CA certifies (C-03): ECDSA P-256/P-384/P-521, Ed25519, RSA 2048–4096 bits with an odd public
/// exponent ≥ 65537. Everything else (RSA-1024, RSA-8192, DSA, P-224, secp256k1, Ed448, invalid points — the
/// last rejected when the key is parsed) is refused.
pub fn check_key_policy(key: &VerifyingKey) -> Result<(), Error> {
    match key.algorithm() {
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521 | KeyAlgorithm::Ed25519 => Ok(()),
        KeyAlgorithm::Rsa { bits } => {
            if !(2048..=4096).contains(&bits) {
                return Err(Error::InsecureKey(format!(
                    "RSA keys must have 2048 to 4096 bits, not {bits}"
                )));
            }
            let exponent = rsa_exponent(key.raw_key())?;
            if exponent < 65537 || exponent % 2 == 0 {
                return Err(Error::InsecureKey(format!(
                    "RSA public exponent {exponent} is not allowed"
                )));
            }
            Ok(())
        }
    }
}

/// The public exponent of a PKCS#1 `RSAPublicKey`, if it fits in 64 bits.
fn rsa_exponent(rsa_public_key: &[u8]) -> Result<u64, Error> {
    let bad = |_| Error::InsecureKey("malformed RSA public key".into());
    let seq = der::parse_single(rsa_public_key).map_err(bad)?;
    let mut r = seq.reader();
    r.expect(tag::INTEGER).map_err(bad)?;
    let e = r.expect(tag::INTEGER).map_err(bad)?;
    r.finish().map_err(bad)?;
    der::integer_to_u64(e.value).map_err(|_| Error::InsecureKey("RSA public exponent out of range".into()))
}

/// The scheme a proof of possession uses for `key`: Fulcio verifies with SHA-256 for ECDSA and RSA
/// (PKCS#1 v1.5), and pure Ed25519.
fn possession_scheme(key: &VerifyingKey) -> SignatureScheme {
    match key.algorithm() {
        KeyAlgorithm::Ed25519 => SignatureScheme::Ed25519,
        KeyAlgorithm::Rsa { .. } => SignatureScheme::RsaPkcs1Sha256,
        _ => SignatureScheme::EcdsaSha256,
    }
}

impl KeyProof {
    /// Checks the proof and returns the key to certify. `challenge` is what a public-key request must have signed
    /// (the identity's email or subject, C-01); a CSR proves possession by its self-signature (C-02).
    pub fn verify(self, challenge: &str) -> Result<VerifyingKey, Error> {
        match self {
            KeyProof::Possession { public_key, signature } => {
                public_key
                    .verify(possession_scheme(&public_key), challenge.as_bytes(), &signature)
                    .map_err(|_| {
                        Error::BadRequest(
                            "invalid proof of possession: the signature does not verify over the identity".into(),
                        )
                    })?;
                Ok(public_key)
            }
            KeyProof::Csr(der) => verify_csr(&der),
        }
    }
}

/// Parses a PKCS#10 `CertificationRequest` just far enough to take its key and check its self-signature.
fn verify_csr(csr: &[u8]) -> Result<VerifyingKey, Error> {
    let bad = |what: &str| Error::BadRequest(format!("malformed CSR: {what}"));
    let outer = der::parse_single(csr).map_err(|_| bad("not DER"))?;
    if outer.tag != tag::SEQUENCE {
        return Err(bad("not a SEQUENCE"));
    }
    let mut r = outer.reader();
    let info = r.expect(tag::SEQUENCE).map_err(|_| bad("certificationRequestInfo"))?;
    let alg = r.expect(tag::SEQUENCE).map_err(|_| bad("signatureAlgorithm"))?;
    let sig = r.expect(tag::BIT_STRING).map_err(|_| bad("signature"))?;
    r.finish().map_err(|_| bad("trailing data"))?;
    // certificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name, subjectPKInfo, [0] attributes }
    let mut i = info.reader();
    let version = i.expect(tag::INTEGER).map_err(|_| bad("version"))?;
    if version.value != [0] {
        return Err(bad("version must be 1 (0)"));
    }
    i.expect(tag::SEQUENCE).map_err(|_| bad("subject"))?;
    let spki = i.expect(tag::SEQUENCE).map_err(|_| bad("subjectPublicKeyInfo"))?;
    let key = key_from_spki(spki.raw).map_err(|e| match e {
        Error::InsecureKey(m) => Error::InsecureKey(m),
        _ => bad("subjectPublicKeyInfo"),
    })?;
    let mut a = alg.reader();
    let oid = a.expect(tag::OID).map_err(|_| bad("signature algorithm"))?;
    let oid = der::oid_to_string(oid.value).map_err(|_| bad("signature algorithm"))?;
    let scheme = SignatureScheme::from_signature_oid(&oid)
        .map_err(|_| Error::BadRequest(format!("CSR signature algorithm {oid} is not permitted")))?;
    let signature = match sig.value.split_first() {
        Some((0, s)) => s,
        _ => return Err(bad("signature has unused bits")),
    };
    key.verify(scheme, info.raw, signature)
        .map_err(|_| Error::BadRequest("invalid CSR signature: it does not verify with the CSR's key".into()))?;
    Ok(key)
}
