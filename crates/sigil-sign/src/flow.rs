//! The signing flow (keyless, or with a key the caller holds) and bundle assembly.

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use sigil_bundle::bundle::{
    HashOutput, MEDIA_TYPE_V0_3, MessageSignature, PublicKeyIdentifier, Rfc3161SignedTimestamp,
    TimestampVerificationData, VerificationMaterial, X509Certificate,
};
use sigil_bundle::dsse::DsseSignature;
use sigil_bundle::intoto::{PAYLOAD_TYPE, STATEMENT_V1, Subject};
use sigil_bundle::{Bundle, Bytes, Envelope, Limits, Statement, TransparencyLogEntry};
use sigil_crypto::{HashAlgorithm, Hasher, KeyAlgorithm, Signer as _, SigningKey, pem_encode};
use sigil_policy::{Matcher, Policy};
use sigil_trust::{TrustedMaterial, Validity};
use sigil_tsa::{TimeStampRequest, TimeStampResponse};
use sigil_verify::{Artifact, SignerCheck, Verifier, VerifierOptions};
use sigil_x509::{Certificate, CtLog, ExtendedKeyUsage, TrustedChain, verify_embedded_scts};

use crate::select::Services;
use crate::token::IdentityToken;
use crate::{
    CertificateAuthority, CertificateRequest, Error, LogEntryRequest, LogVerifier, TimestampAuthority, TransparencyLog,
    random_bytes,
};

/// How to sign.
#[derive(Debug, Clone, Copy)]
pub enum SignWith<'a> {
    /// Keyless: an ephemeral key, certified by the CA for this identity token, used once and dropped.
    Identity(&'a IdentityToken),
    /// A key the caller holds (a cosign key file, say). With `tlog: false` nothing is contacted and the bundle
    /// has no log entry and no timestamp (air-gapped signing): it verifies only with the key and an explicit
    /// decision to accept that (`verify-blob --key … --insecure-ignore-tlog`).
    Key { key: &'a SigningKey, tlog: bool },
    /// An ephemeral key certified earlier ([`SigningContext::certify_key`]) and kept in memory to sign a burst
    /// (commits in a row) with one certificate; each signature still gets its own log entry.
    Certified(&'a CertifiedKey),
}

/// An ephemeral key and the certificate the CA issued for it, checked as a fresh one is. Lives only in memory;
/// usable until the certificate expires.
pub struct CertifiedKey {
    key: SigningKey,
    leaf: Certificate,
    san: String,
    issuer: String,
}

impl std::fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("san", &self.san)
            .field("issuer", &self.issuer)
            .field("not_after", &self.leaf.not_after())
            .finish_non_exhaustive()
    }
}

impl CertifiedKey {
    /// Unix seconds after which the certificate no longer covers a signature.
    pub fn not_after(&self) -> i64 {
        self.leaf.not_after()
    }

    /// Who the certificate names.
    pub fn identity(&self) -> (&str, &str) {
        (&self.san, &self.issuer)
    }

    /// The certificate (DER).
    pub fn certificate_der(&self) -> &[u8] {
        self.leaf.der()
    }
}

/// Who signed, as the self-verification established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedBy {
    /// The identity in the certificate.
    Identity { san: String, issuer: String },
    /// A key, named by the bundle's hint (base64 of the SHA-256 of its SPKI).
    Key { hint: String },
}

impl std::fmt::Display for SignedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Identity { san, issuer } => write!(f, "signed as {san} from {issuer}"),
            Self::Key { hint } => write!(f, "signed with the key {hint}"),
        }
    }
}

/// A signed, self-verified bundle.
#[derive(Debug, Clone)]
pub struct Signed {
    pub bundle: Bundle,
    /// The bundle's JSON exactly as it was verified.
    pub json: String,
    pub signer: SignedBy,
    /// Non-fatal problems (a TSA that failed while the log's SET still gives a verified time).
    pub warnings: Vec<String>,
}

/// What the verification material of the bundle will be.
enum Material {
    Certificate {
        leaf: Box<Certificate>,
        san: String,
        issuer: String,
    },
    Key {
        hint: String,
    },
}

/// How far ahead of the local clock the CA, log and TSA clocks may run.
const MAX_CLOCK_SKEW: i64 = 60;

/// The log entry, the DER timestamps, and warnings about TSAs that failed.
type Witnessed = (TransparencyLogEntry, Vec<Vec<u8>>, Vec<String>);

/// What is being signed.
enum Payload<'p> {
    /// A message signature over this SHA-256 digest.
    Digest([u8; 32]),
    /// A DSSE envelope; `subject` is the digest the self-verification presents as the artifact.
    Dsse {
        payload_type: &'p str,
        payload: &'p [u8],
        subject: [u8; 32],
    },
}

/// The trusted root, the selected services and the backends that reach them. Build one per signing run or
/// reuse it: it holds no key.
pub struct SigningContext<'a> {
    services: Services,
    verifier: Verifier,
    /// For bundles signed with a key and no log: no log entry or verified time required.
    offline_verifier: Verifier,
    cas: Vec<(TrustedChain, Validity)>,
    ctlogs: Vec<CtLog>,
    ca: &'a dyn CertificateAuthority,
    log: &'a dyn TransparencyLog,
    tsa: &'a dyn TimestampAuthority,
}

impl std::fmt::Debug for SigningContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningContext")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl<'a> SigningContext<'a> {
    /// Fails early when Rekor v2 is selected without any TSA: a v2 entry carries no time, so the bundle could
    /// never verify (INTEROP.md §0.7).
    pub fn new(
        trust: TrustedMaterial,
        services: Services,
        ca: &'a dyn CertificateAuthority,
        log: &'a dyn TransparencyLog,
        tsa: &'a dyn TimestampAuthority,
    ) -> Result<Self, Error> {
        if !matches!(services.tlog.major_api_version, 1 | 2) {
            return Err(Error::Config(format!(
                "unsupported Rekor API version {}",
                services.tlog.major_api_version
            )));
        }
        if services.tlog.major_api_version == 2 && services.tsas.is_empty() {
            return Err(Error::Config(
                "Rekor v2 entries carry no signed time, so a timestamp authority is required and the signing config selects none"
                    .into(),
            ));
        }
        let cas = trust
            .certificate_authorities
            .iter()
            .filter_map(|a| TrustedChain::new(a.chain.clone()).ok().map(|c| (c, a.validity)))
            .collect();
        let ctlogs = trust
            .ctlogs
            .iter()
            .filter_map(|c| {
                Some(CtLog {
                    log_id: c.log_id.as_slice().try_into().ok()?,
                    key: c.key.clone(),
                    valid_from: Some(c.validity.start),
                    valid_until: c.validity.end,
                })
            })
            .collect();
        let offline = VerifierOptions {
            tlog_threshold: 0,
            timestamp_threshold: 0,
            ..VerifierOptions::default()
        };
        Ok(Self {
            services,
            offline_verifier: Verifier::new(trust.clone(), offline),
            verifier: Verifier::new(trust, VerifierOptions::default()),
            cas,
            ctlogs,
            ca,
            log,
            tsa,
        })
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Signs an artifact read from `artifact`, streamed through SHA-256 with a bounded buffer.
    pub fn sign_artifact(
        &self,
        with: SignWith<'_>,
        artifact: impl Read,
        clock: &dyn Fn() -> i64,
    ) -> Result<Signed, Error> {
        let digest =
            Hasher::digest_reader(HashAlgorithm::Sha2_256, artifact).map_err(|e| Error::Artifact(e.to_string()))?;
        let digest: [u8; 32] = digest
            .as_slice()
            .try_into()
            .map_err(|_| Error::Artifact("digest length".into()))?;
        self.sign_digest(with, digest, clock)
    }

    /// Signs an artifact given its SHA-256 digest (`messageSignature`, `hashedrekord`).
    pub fn sign_digest(&self, with: SignWith<'_>, digest: [u8; 32], clock: &dyn Fn() -> i64) -> Result<Signed, Error> {
        self.run(with, Payload::Digest(digest), clock)
    }

    /// Signs an in-toto statement (its JSON bytes, kept verbatim) as a DSSE envelope of type
    /// `application/vnd.in-toto+json`.
    pub fn sign_statement(
        &self,
        with: SignWith<'_>,
        statement_json: &[u8],
        clock: &dyn Fn() -> i64,
    ) -> Result<Signed, Error> {
        let statement = Statement::from_json(statement_json, &Limits::default())
            .map_err(|e| Error::Artifact(format!("not an in-toto statement: {e}")))?;
        let subject = statement
            .subject
            .iter()
            .find_map(|s| {
                let d = hex::decode(s.digest.get("sha256")?).ok()?;
                <[u8; 32]>::try_from(d.as_slice()).ok()
            })
            .ok_or_else(|| Error::Artifact("the statement has no subject with a sha256 digest".into()))?;
        self.run(
            with,
            Payload::Dsse {
                payload_type: PAYLOAD_TYPE,
                payload: statement_json,
                subject,
            },
            clock,
        )
    }

    fn run(&self, with: SignWith<'_>, payload: Payload<'_>, clock: &dyn Fn() -> i64) -> Result<Signed, Error> {
        // The ephemeral key of a keyless run: generated here, dropped (and its PKCS#8 copy zeroed) once it signed.
        let ephemeral = match with {
            SignWith::Identity(token) => {
                token.check_time(clock())?;
                Some(SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| Error::Key(e.to_string()))?)
            }
            SignWith::Key { .. } | SignWith::Certified(_) => None,
        };
        let (key, material, tlog) = match (with, &ephemeral) {
            (SignWith::Identity(token), Some(key)) => (key, self.certify(key, token, clock)?, true),
            (SignWith::Certified(c), _) => {
                // The log must integrate the entry while the certificate is valid; leave it a margin.
                if clock() + MAX_CLOCK_SKEW >= c.leaf.not_after() {
                    return Err(Error::Certificate("the cached certificate has expired".into()));
                }
                let material = Material::Certificate {
                    leaf: Box::new(c.leaf.clone()),
                    san: c.san.clone(),
                    issuer: c.issuer.clone(),
                };
                (&c.key, material, true)
            }
            (SignWith::Key { key, tlog }, _) => {
                let hint = B64.encode(sigil_crypto::sha256(key.public_key().spki_der()));
                (key, Material::Key { hint }, tlog)
            }
            (SignWith::Identity(_), None) => return Err(Error::Key("no ephemeral key".into())),
        };

        // The signature, and what the log records.
        let (signature, envelope, digest) = match &payload {
            Payload::Digest(d) => (sign_prehashed(key, d)?, None, *d),
            Payload::Dsse {
                payload_type,
                payload,
                subject,
            } => {
                let sig = key
                    .sign(&sigil_bundle::pae(payload_type, payload))
                    .map_err(|e| Error::Signing(e.to_string()))?;
                let env = Envelope {
                    payload: Bytes(payload.to_vec()),
                    payload_type: (*payload_type).to_string(),
                    signatures: vec![DsseSignature {
                        sig: Bytes(sig.clone()),
                        keyid: None,
                    }],
                };
                (sig, Some(env), *subject)
            }
        };
        let details = key.key_details().map_err(|e| Error::Key(e.to_string()))?;
        let public_key = key.public_key().clone();
        drop(ephemeral);

        let verifier = match &material {
            Material::Certificate { leaf, .. } => LogVerifier::Certificate(leaf.der()),
            Material::Key { .. } => LogVerifier::PublicKey {
                spki_der: public_key.spki_der(),
                details,
            },
        };
        let log_request = match &envelope {
            None => LogEntryRequest::HashedRekord {
                digest: &digest,
                signature: &signature,
                verifier,
            },
            Some(env) => LogEntryRequest::Dsse {
                envelope: env,
                verifier,
            },
        };
        let (entry, stamps, warnings) = if tlog {
            let (entry, stamps, warnings) = self.witness(&signature, &log_request)?;
            check_entry(&entry, self.services.tlog.major_api_version, envelope.is_some())?;
            (Some(entry), stamps, warnings)
        } else {
            (None, Vec::new(), Vec::new())
        };

        let bundle_signer = match &material {
            Material::Certificate { leaf, .. } => BundleSigner::Certificate(leaf.der()),
            Material::Key { hint } => BundleSigner::KeyHint(hint),
        };
        let bundle = assemble(bundle_signer, entry, stamps, signature, digest, envelope);

        // Self-verification of the JSON exactly as it will be written.
        let json = bundle.to_json().map_err(|e| Error::Bundle(e.to_string()))?;
        let verifier = if tlog { &self.verifier } else { &self.offline_verifier };
        let parsed = verifier
            .parse_bundle(json.as_bytes())
            .map_err(|e| Error::SelfVerify(e.to_string()))?;
        let artifact = Artifact::Digest {
            algorithm: HashAlgorithm::Sha2_256,
            digest: digest.to_vec(),
        };
        let (policy, signer) = match material {
            Material::Certificate { san, issuer, .. } => (
                Some(Policy::identity(
                    Matcher::exact(san.clone()),
                    Matcher::exact(issuer.clone()),
                )),
                SignedBy::Identity { san, issuer },
            ),
            Material::Key { hint } => (None, SignedBy::Key { hint }),
        };
        let check = match &policy {
            Some(p) => SignerCheck::Identity(p),
            None => SignerCheck::Key(&public_key),
        };
        // "Now" for the self-check tolerates services whose clocks run slightly ahead of ours (a verified time
        // in the future is otherwise refused, V-15); every other check is at the verified times.
        verifier
            .verify(&parsed, &artifact, check, clock().saturating_add(MAX_CLOCK_SKEW))
            .map_err(|e| Error::SelfVerify(e.to_string()))?;
        Ok(Signed {
            bundle: parsed,
            json,
            signer,
            warnings,
        })
    }

    /// Keyless: the CA's certificate for `key` and the token's identity, checked.
    /// Certifies a fresh ephemeral key for `token` (checked exactly as in a one-shot keyless run), to sign several
    /// artifacts with [`SignWith::Certified`].
    pub fn certify_key(&self, token: &IdentityToken, clock: &dyn Fn() -> i64) -> Result<CertifiedKey, Error> {
        token.check_time(clock())?;
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| Error::Key(e.to_string()))?;
        match self.certify(&key, token, clock)? {
            Material::Certificate { leaf, san, issuer } => Ok(CertifiedKey {
                key,
                leaf: *leaf,
                san,
                issuer,
            }),
            Material::Key { .. } => Err(Error::Key("no certificate".into())),
        }
    }

    fn certify(&self, key: &SigningKey, token: &IdentityToken, clock: &dyn Fn() -> i64) -> Result<Material, Error> {
        let proof = key
            .sign(token.challenge().as_bytes())
            .map_err(|e| Error::Signing(format!("proof of possession: {e}")))?;
        let request = CertificateRequest {
            identity_token: token.raw(),
            public_key_pem: pem_encode("PUBLIC KEY", key.public_key().spki_der()),
            proof_of_possession: proof,
        };
        let chain = self
            .ca
            .signing_certificate(&self.services.ca.url, &request)
            .map_err(Error::CertificateRequest)?;
        let (leaf, san, issuer) = self.check_certificate(&chain, key, token, clock())?;
        Ok(Material::Certificate {
            leaf: Box::new(leaf),
            san,
            issuer,
        })
    }

    /// Checks what the CA returned before anything is signed or published: the leaf certifies our key, chains
    /// to a trusted CA valid now (with the code-signing EKU), carries exactly one SCT that verifies against a
    /// currently valid trusted CT log, and names the identity the token claims.
    fn check_certificate(
        &self,
        chain: &[Vec<u8>],
        key: &SigningKey,
        token: &IdentityToken,
        now: i64,
    ) -> Result<(Certificate, String, String), Error> {
        let bad = |m: String| Error::Certificate(m);
        let leaf_der = chain
            .first()
            .ok_or_else(|| bad("the CA returned no certificate".into()))?;
        if chain.len() < 2 {
            return Err(bad(format!(
                "the CA returned a chain of {} certificate(s); the leaf and its issuer are required",
                chain.len()
            )));
        }
        let leaf = Certificate::from_der(leaf_der).map_err(|e| bad(format!("leaf: {e}")))?;
        if leaf.public_key().spki_der() != key.public_key().spki_der() {
            return Err(bad("the certificate is not for the key that requested it".into()));
        }
        // The CA's clock may run a little ahead of ours: a certificate issued "in the future" by less than
        // its own lifetime is checked at its notBefore.
        let now = if now < leaf.not_before() && leaf.not_before() - now <= MAX_CLOCK_SKEW {
            leaf.not_before()
        } else {
            now
        };
        let mut why = String::from("the trusted root has no certificate authority valid now");
        let mut issuer = None;
        for (ca, validity) in &self.cas {
            if !validity.contains(now) {
                continue;
            }
            match ca.verify_leaf(&leaf, now, ExtendedKeyUsage::CodeSigning) {
                Ok(()) => {
                    issuer = ca.issuer();
                    break;
                }
                Err(e) => why = e.to_string(),
            }
        }
        let issuer = issuer.ok_or_else(|| bad(format!("does not chain to a trusted CA: {why}")))?;
        let logs: Vec<CtLog> = self.ctlogs.iter().filter(|l| l.valid_at(now)).cloned().collect();
        let scts = verify_embedded_scts(&leaf, issuer, &logs).map_err(|e| bad(format!("SCT: {e}")))?;
        if scts.len() != 1 {
            return Err(bad(format!(
                "expected exactly one SCT from a trusted CT log, found {}",
                scts.len()
            )));
        }
        let id = leaf.identity().map_err(|e| bad(format!("identity: {e}")))?;
        let issuer_ext = id
            .issuer
            .clone()
            .ok_or_else(|| bad("no OIDC issuer extension".into()))?;
        if issuer_ext != token.expected_issuer() {
            return Err(bad(format!(
                "OIDC issuer {issuer_ext:?} is not the token's {:?}",
                token.expected_issuer()
            )));
        }
        let sans: Vec<&str> = id.sans.iter().filter_map(|s| s.value()).collect();
        let san = match token.expected_san() {
            Some(want) if sans.contains(&want) => want.to_string(),
            Some(want) => return Err(bad(format!("SAN {sans:?} does not name the token's {want:?}"))),
            None => sans
                .first()
                .map(|s| (*s).to_string())
                .ok_or_else(|| bad("no subject alternative name".into()))?,
        };
        Ok((leaf, san, issuer_ext))
    }

    /// Timestamps (one per selected TSA) and the log entry, concurrently: both need only the signature.
    fn witness(&self, signature: &[u8], log_request: &LogEntryRequest<'_>) -> Result<Witnessed, Error> {
        let tlog = &self.services.tlog;
        let (entry, results) = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .services
                .tsas
                .iter()
                .map(|t| s.spawn(move || (t.url.as_str(), self.timestamp(&t.url, signature))))
                .collect();
            let entry = self.log.create_entry(&tlog.url, tlog.major_api_version, log_request);
            let results: Vec<_> = handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or(("?", Err(Error::Timestamp("the TSA request thread panicked".into()))))
                })
                .collect();
            (entry, results)
        });
        let entry = entry.map_err(Error::LogRequest)?;
        let mut stamps = Vec::new();
        let mut warnings = Vec::new();
        for (url, r) in results {
            match r {
                Ok(der) => stamps.push(der),
                Err(e) => warnings.push(format!("{url}: {e}")),
            }
        }
        if tlog.major_api_version == 2 && stamps.is_empty() {
            return Err(Error::Timestamp(format!(
                "Rekor v2 needs at least one timestamp and every TSA failed: {}",
                warnings.join("; ")
            )));
        }
        Ok((entry, stamps, warnings))
    }

    /// One RFC 3161 request: SHA-256 of the signature bytes, a random 64-bit nonce, `certReq`; the answer
    /// must be granted and carry our nonce and imprint.
    fn timestamp(&self, url: &str, signature: &[u8]) -> Result<Vec<u8>, Error> {
        let nonce = random_bytes::<8>()?;
        let request = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, signature).with_nonce(&nonce);
        let der = self
            .tsa
            .timestamp(url, &request)
            .map_err(|e| Error::Timestamp(e.to_string()))?;
        check_timestamp(&der, &request)?;
        Ok(der)
    }
}

/// How a bundle names its signer.
#[derive(Debug, Clone, Copy)]
enum BundleSigner<'a> {
    /// The leaf certificate (DER).
    Certificate(&'a [u8]),
    /// A key, by its hint.
    KeyHint(&'a str),
}

/// The v0.3 bundle: the leaf certificate only (never the chain) or the key's hint, the log entry if any, the
/// timestamps if any, and either a message signature (with the artifact digest) or the DSSE envelope.
fn assemble(
    signer: BundleSigner<'_>,
    entry: Option<TransparencyLogEntry>,
    stamps: Vec<Vec<u8>>,
    signature: Vec<u8>,
    digest: [u8; 32],
    envelope: Option<Envelope>,
) -> Bundle {
    let (certificate, public_key) = match signer {
        BundleSigner::Certificate(der) => (
            Some(X509Certificate {
                raw_bytes: Bytes(der.to_vec()),
            }),
            None,
        ),
        BundleSigner::KeyHint(hint) => (
            None,
            Some(PublicKeyIdentifier {
                hint: Some(hint.to_string()),
            }),
        ),
    };
    Bundle {
        media_type: MEDIA_TYPE_V0_3.to_string(),
        verification_material: VerificationMaterial {
            public_key,
            x509_certificate_chain: None,
            certificate,
            tlog_entries: entry.into_iter().collect(),
            timestamp_verification_data: (!stamps.is_empty()).then(|| TimestampVerificationData {
                rfc3161_timestamps: stamps
                    .into_iter()
                    .map(|der| Rfc3161SignedTimestamp {
                        signed_timestamp: Bytes(der),
                    })
                    .collect(),
            }),
        },
        message_signature: envelope.is_none().then(|| MessageSignature {
            message_digest: Some(HashOutput {
                algorithm: HashAlgorithm::Sha2_256.proto_name().to_string(),
                digest: Bytes(digest.to_vec()),
            }),
            signature: Bytes(signature),
        }),
        dsse_envelope: envelope,
    }
}

/// Checks a `TimeStampResp` against the request it answers.
pub fn check_timestamp(der: &[u8], request: &TimeStampRequest) -> Result<(), Error> {
    let resp = TimeStampResponse::from_der(der).map_err(|e| Error::Timestamp(format!("response: {e}")))?;
    let info = resp.tst_info();
    if let Some(n) = request.nonce() {
        info.check_nonce(n).map_err(|e| Error::Timestamp(e.to_string()))?;
    }
    if info.imprint_algorithm != HashAlgorithm::Sha2_256 || info.imprint != request.imprint() {
        return Err(Error::Timestamp(
            "the response's message imprint is not our signature's".into(),
        ));
    }
    Ok(())
}

fn check_entry(entry: &TransparencyLogEntry, major: u32, dsse: bool) -> Result<(), Error> {
    let kv = (entry.kind_version.kind.as_str(), entry.kind_version.version.as_str());
    let expected = match (major, dsse) {
        (1, false) => ("hashedrekord", "0.0.1"),
        (1, true) => ("dsse", "0.0.1"),
        _ => ("hashedrekord", "0.0.2"),
    };
    if kv != expected {
        return Err(Error::LogEntry(format!(
            "the log recorded {}/{}, expected {}/{}",
            kv.0, kv.1, expected.0, expected.1
        )));
    }
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or_else(|| Error::LogEntry("no inclusion proof".into()))?;
    if proof.checkpoint.is_none() {
        return Err(Error::LogEntry("the inclusion proof has no checkpoint".into()));
    }
    if major == 1 && entry.inclusion_promise.is_none() {
        return Err(Error::LogEntry("no signed entry timestamp (inclusion promise)".into()));
    }
    if entry.canonicalized_body.is_none() {
        return Err(Error::LogEntry("no canonicalized body".into()));
    }
    Ok(())
}

/// ECDSA P-256 over a SHA-256 digest computed elsewhere (the artifact is streamed, never held whole).
/// A message signature over a SHA-256 digest: ECDSA P-256 only (the digest is all the flow has; other key types
/// would sign the whole artifact or with another hash).
fn sign_prehashed(key: &SigningKey, digest: &[u8; 32]) -> Result<Vec<u8>, Error> {
    let err = |what: &str| Error::Signing(format!("signing the artifact digest: {what}"));
    if key.public_key().algorithm() != KeyAlgorithm::EcdsaP256 {
        return Err(Error::Signing(format!(
            "a message signature needs an ECDSA P-256 key, this one is {:?}; sign an in-toto statement (DSSE) instead",
            key.public_key().algorithm()
        )));
    }
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, key.to_pkcs8_der()).map_err(|_| err("key"))?;
    let d =
        aws_lc_rs::digest::Digest::import_less_safe(digest, &aws_lc_rs::digest::SHA256).map_err(|_| err("digest"))?;
    let sig = pair.sign_digest(&d).map_err(|_| err("signature"))?;
    Ok(sig.as_ref().to_vec())
}

/// An in-toto Statement v1 over one artifact (`name`, SHA-256), with the given predicate; the JSON `attest`
/// signs.
pub fn statement_for(
    name: &str,
    sha256: &[u8; 32],
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Result<Vec<u8>, Error> {
    let statement = Statement {
        statement_type: STATEMENT_V1.to_string(),
        subject: vec![Subject {
            name: name.to_string(),
            digest: [("sha256".to_string(), hex::encode(sha256))].into_iter().collect(),
        }],
        predicate_type: predicate_type.to_string(),
        predicate: Some(predicate),
    };
    serde_json::to_vec(&statement).map_err(|e| Error::Artifact(e.to_string()))
}

#[cfg(test)]
mod tests;
