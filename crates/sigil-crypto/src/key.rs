use std::sync::Arc;

use aws_lc_rs::signature as lc;

use crate::der::{self, tag};
use crate::{Error, HashAlgorithm};

// DER contents of the OIDs a SubjectPublicKeyInfo can carry.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];

/// The family and size of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Ed25519,
    Rsa { bits: usize },
}

/// How a signature was made: key family plus hash (and padding for RSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    Ed25519,
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    RsaPssSha256,
    RsaPssSha384,
    RsaPssSha512,
}

impl SignatureScheme {
    /// Maps an X.509/CMS `AlgorithmIdentifier` OID (dotted form) to a scheme.
    pub fn from_signature_oid(oid: &str) -> Result<Self, Error> {
        Ok(match oid {
            "1.2.840.10045.4.3.2" => Self::EcdsaSha256,
            "1.2.840.10045.4.3.3" => Self::EcdsaSha384,
            "1.2.840.10045.4.3.4" => Self::EcdsaSha512,
            "1.3.101.112" => Self::Ed25519,
            "1.2.840.113549.1.1.11" => Self::RsaPkcs1Sha256,
            "1.2.840.113549.1.1.12" => Self::RsaPkcs1Sha384,
            "1.2.840.113549.1.1.13" => Self::RsaPkcs1Sha512,
            other => return Err(Error::UnsupportedAlgorithm(format!("signature algorithm {other}"))),
        })
    }

    /// The hash the scheme applies to the message (Ed25519 has none exposed).
    pub fn hash(self) -> Option<HashAlgorithm> {
        match self {
            Self::EcdsaSha256 | Self::RsaPkcs1Sha256 | Self::RsaPssSha256 => Some(HashAlgorithm::Sha2_256),
            Self::EcdsaSha384 | Self::RsaPkcs1Sha384 | Self::RsaPssSha384 => Some(HashAlgorithm::Sha2_384),
            Self::EcdsaSha512 | Self::RsaPkcs1Sha512 | Self::RsaPssSha512 => Some(HashAlgorithm::Sha2_512),
            Self::Ed25519 => None,
        }
    }
}

/// Sigstore's `PublicKeyDetails` registry (protobuf-specs `sigstore_common.proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKeyDetails {
    PkixEcdsaP256Sha256,
    PkixEcdsaP384Sha384,
    PkixEcdsaP521Sha512,
    PkixEd25519,
    PkixEd25519Ph,
    PkixRsaPkcs1v15_2048Sha256,
    PkixRsaPkcs1v15_3072Sha256,
    PkixRsaPkcs1v15_4096Sha256,
    PkixRsaPss2048Sha256,
    PkixRsaPss3072Sha256,
    PkixRsaPss4096Sha256,
    MlDsa65,
    MlDsa87,
    MlDsa44,
}

impl PublicKeyDetails {
    const NAMES: [(Self, &'static str); 14] = [
        (Self::PkixEcdsaP256Sha256, "PKIX_ECDSA_P256_SHA_256"),
        (Self::PkixEcdsaP384Sha384, "PKIX_ECDSA_P384_SHA_384"),
        (Self::PkixEcdsaP521Sha512, "PKIX_ECDSA_P521_SHA_512"),
        (Self::PkixEd25519, "PKIX_ED25519"),
        (Self::PkixEd25519Ph, "PKIX_ED25519_PH"),
        (Self::PkixRsaPkcs1v15_2048Sha256, "PKIX_RSA_PKCS1V15_2048_SHA256"),
        (Self::PkixRsaPkcs1v15_3072Sha256, "PKIX_RSA_PKCS1V15_3072_SHA256"),
        (Self::PkixRsaPkcs1v15_4096Sha256, "PKIX_RSA_PKCS1V15_4096_SHA256"),
        (Self::PkixRsaPss2048Sha256, "PKIX_RSA_PSS_2048_SHA256"),
        (Self::PkixRsaPss3072Sha256, "PKIX_RSA_PSS_3072_SHA256"),
        (Self::PkixRsaPss4096Sha256, "PKIX_RSA_PSS_4096_SHA256"),
        (Self::MlDsa65, "ML_DSA_65"),
        (Self::MlDsa87, "ML_DSA_87"),
        (Self::MlDsa44, "ML_DSA_44"),
    ];

    /// Parses the protobuf enum name.
    pub fn from_proto_name(name: &str) -> Result<Self, Error> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(d, _)| *d)
            .ok_or_else(|| Error::UnsupportedAlgorithm(format!("key details {name:?}")))
    }

    /// The protobuf enum name.
    pub fn proto_name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(d, _)| *d == self)
            .map(|(_, n)| *n)
            .unwrap_or("")
    }

    /// The hash used when signing an artifact digest with such a key.
    pub fn hash(self) -> Option<HashAlgorithm> {
        match self {
            Self::PkixEcdsaP384Sha384 => Some(HashAlgorithm::Sha2_384),
            Self::PkixEcdsaP521Sha512 | Self::PkixEd25519Ph => Some(HashAlgorithm::Sha2_512),
            Self::PkixEd25519 | Self::MlDsa65 | Self::MlDsa87 | Self::MlDsa44 => None,
            _ => Some(HashAlgorithm::Sha2_256),
        }
    }

    /// The signature scheme for messages under this key type.
    pub fn scheme(self) -> Result<SignatureScheme, Error> {
        Ok(match self {
            Self::PkixEcdsaP256Sha256 => SignatureScheme::EcdsaSha256,
            Self::PkixEcdsaP384Sha384 => SignatureScheme::EcdsaSha384,
            Self::PkixEcdsaP521Sha512 => SignatureScheme::EcdsaSha512,
            Self::PkixEd25519 => SignatureScheme::Ed25519,
            Self::PkixRsaPkcs1v15_2048Sha256 | Self::PkixRsaPkcs1v15_3072Sha256 | Self::PkixRsaPkcs1v15_4096Sha256 => {
                SignatureScheme::RsaPkcs1Sha256
            }
            Self::PkixRsaPss2048Sha256 | Self::PkixRsaPss3072Sha256 | Self::PkixRsaPss4096Sha256 => {
                SignatureScheme::RsaPssSha256
            }
            other => return Err(Error::UnsupportedAlgorithm(other.proto_name().to_string())),
        })
    }

    /// Whether a key of `alg` may be used under these details.
    pub fn matches(self, alg: KeyAlgorithm) -> bool {
        match self {
            Self::PkixEcdsaP256Sha256 => alg == KeyAlgorithm::EcdsaP256,
            Self::PkixEcdsaP384Sha384 => alg == KeyAlgorithm::EcdsaP384,
            Self::PkixEcdsaP521Sha512 => alg == KeyAlgorithm::EcdsaP521,
            Self::PkixEd25519 | Self::PkixEd25519Ph => alg == KeyAlgorithm::Ed25519,
            Self::PkixRsaPkcs1v15_2048Sha256 | Self::PkixRsaPss2048Sha256 => alg == KeyAlgorithm::Rsa { bits: 2048 },
            Self::PkixRsaPkcs1v15_3072Sha256 | Self::PkixRsaPss3072Sha256 => alg == KeyAlgorithm::Rsa { bits: 3072 },
            Self::PkixRsaPkcs1v15_4096Sha256 | Self::PkixRsaPss4096Sha256 => alg == KeyAlgorithm::Rsa { bits: 4096 },
            Self::MlDsa65 | Self::MlDsa87 | Self::MlDsa44 => false,
        }
    }

    /// The usual details for a key (ECDSA curve hash, PKCS#1 v1.5 for RSA).
    pub fn default_for(alg: KeyAlgorithm) -> Result<Self, Error> {
        Ok(match alg {
            KeyAlgorithm::EcdsaP256 => Self::PkixEcdsaP256Sha256,
            KeyAlgorithm::EcdsaP384 => Self::PkixEcdsaP384Sha384,
            KeyAlgorithm::EcdsaP521 => Self::PkixEcdsaP521Sha512,
            KeyAlgorithm::Ed25519 => Self::PkixEd25519,
            KeyAlgorithm::Rsa { bits: 2048 } => Self::PkixRsaPkcs1v15_2048Sha256,
            KeyAlgorithm::Rsa { bits: 3072 } => Self::PkixRsaPkcs1v15_3072Sha256,
            KeyAlgorithm::Rsa { bits: 4096 } => Self::PkixRsaPkcs1v15_4096Sha256,
            KeyAlgorithm::Rsa { bits } => return Err(Error::UnsupportedAlgorithm(format!("RSA-{bits}"))),
        })
    }
}

/// A parsed public key that can verify signatures.
///
/// The backend parses the key once, for its default scheme (ECDSA with the curve's hash, Ed25519,
/// RSA PKCS#1 v1.5 with SHA-256); other schemes parse per call.
#[derive(Clone)]
pub struct VerifyingKey {
    alg: KeyAlgorithm,
    spki: Vec<u8>,
    /// EC point (SEC1, uncompressed), raw Ed25519 key, or RSAPublicKey DER.
    key: Vec<u8>,
    parsed: Option<Arc<lc::ParsedPublicKey>>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("spki_len", &self.spki.len())
            .finish()
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for VerifyingKey {}

/// The backend algorithm for a key family and scheme.
fn backend_algorithm(
    alg: KeyAlgorithm,
    scheme: SignatureScheme,
) -> Result<&'static dyn lc::VerificationAlgorithm, Error> {
    use SignatureScheme as S;
    Ok(match (alg, scheme) {
        (KeyAlgorithm::EcdsaP256, S::EcdsaSha256) => &lc::ECDSA_P256_SHA256_ASN1,
        (KeyAlgorithm::EcdsaP256, S::EcdsaSha384) => &lc::ECDSA_P256_SHA384_ASN1,
        (KeyAlgorithm::EcdsaP256, S::EcdsaSha512) => &lc::ECDSA_P256_SHA512_ASN1,
        (KeyAlgorithm::EcdsaP384, S::EcdsaSha256) => &lc::ECDSA_P384_SHA256_ASN1,
        (KeyAlgorithm::EcdsaP384, S::EcdsaSha384) => &lc::ECDSA_P384_SHA384_ASN1,
        (KeyAlgorithm::EcdsaP384, S::EcdsaSha512) => &lc::ECDSA_P384_SHA512_ASN1,
        (KeyAlgorithm::EcdsaP521, S::EcdsaSha256) => &lc::ECDSA_P521_SHA256_ASN1,
        (KeyAlgorithm::EcdsaP521, S::EcdsaSha384) => &lc::ECDSA_P521_SHA384_ASN1,
        (KeyAlgorithm::EcdsaP521, S::EcdsaSha512) => &lc::ECDSA_P521_SHA512_ASN1,
        (KeyAlgorithm::Ed25519, S::Ed25519) => &lc::ED25519,
        (KeyAlgorithm::Rsa { .. }, S::RsaPkcs1Sha256) => &lc::RSA_PKCS1_2048_8192_SHA256,
        (KeyAlgorithm::Rsa { .. }, S::RsaPkcs1Sha384) => &lc::RSA_PKCS1_2048_8192_SHA384,
        (KeyAlgorithm::Rsa { .. }, S::RsaPkcs1Sha512) => &lc::RSA_PKCS1_2048_8192_SHA512,
        (KeyAlgorithm::Rsa { .. }, S::RsaPssSha256) => &lc::RSA_PSS_2048_8192_SHA256,
        (KeyAlgorithm::Rsa { .. }, S::RsaPssSha384) => &lc::RSA_PSS_2048_8192_SHA384,
        (KeyAlgorithm::Rsa { .. }, S::RsaPssSha512) => &lc::RSA_PSS_2048_8192_SHA512,
        _ => return Err(Error::KeyMismatch),
    })
}

/// The ECDSA scheme that hashes with `hash`.
fn ecdsa_scheme(hash: HashAlgorithm) -> SignatureScheme {
    match hash {
        HashAlgorithm::Sha2_256 => SignatureScheme::EcdsaSha256,
        HashAlgorithm::Sha2_384 => SignatureScheme::EcdsaSha384,
        HashAlgorithm::Sha2_512 => SignatureScheme::EcdsaSha512,
    }
}

impl VerifyingKey {
    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, Error> {
        let outer = der::parse_single(spki)?;
        if outer.tag != tag::SEQUENCE {
            return Err(Error::InvalidKey("SubjectPublicKeyInfo is not a SEQUENCE"));
        }
        let mut r = outer.reader();
        let alg_id = r.expect(tag::SEQUENCE)?;
        let bits = r.expect(tag::BIT_STRING)?;
        r.finish()?;
        let mut a = alg_id.reader();
        let oid = a.expect(tag::OID)?;
        let params = if a.is_empty() { None } else { Some(a.read()?) };
        a.finish()?;
        let key = match bits.value.split_first() {
            Some((0, key)) => key,
            _ => return Err(Error::InvalidKey("public key BIT STRING has unused bits")),
        };
        let alg = match oid.value {
            OID_EC_PUBLIC_KEY => {
                let curve = params
                    .filter(|p| p.tag == tag::OID)
                    .ok_or(Error::InvalidKey("EC key without named curve"))?;
                let (alg, len) = match curve.value {
                    OID_P256 => (KeyAlgorithm::EcdsaP256, 65),
                    OID_P384 => (KeyAlgorithm::EcdsaP384, 97),
                    OID_P521 => (KeyAlgorithm::EcdsaP521, 133),
                    _ => return Err(Error::UnsupportedAlgorithm("elliptic curve".into())),
                };
                if key.len() != len || key.first() != Some(&0x04) {
                    return Err(Error::InvalidKey(
                        "EC point is not an uncompressed point of the curve's size",
                    ));
                }
                alg
            }
            OID_ED25519 => {
                if params.is_some() || key.len() != 32 {
                    return Err(Error::InvalidKey("Ed25519 key must be 32 bytes without parameters"));
                }
                KeyAlgorithm::Ed25519
            }
            OID_RSA | OID_RSA_PSS => KeyAlgorithm::Rsa {
                bits: rsa_modulus_bits(key)?,
            },
            _ => return Err(Error::UnsupportedAlgorithm("public key algorithm".into())),
        };
        let default_scheme = PublicKeyDetails::default_for(alg).and_then(|d| d.scheme());
        let parsed = match default_scheme.and_then(|s| backend_algorithm(alg, s)) {
            Ok(a) => {
                Some(Arc::new(lc::ParsedPublicKey::new(a, key).map_err(|_| {
                    Error::InvalidKey("the key is not valid for its algorithm")
                })?))
            }
            // RSA sizes outside the registry still verify, parsing per call.
            Err(_) => None,
        };
        Ok(Self {
            alg,
            spki: spki.to_vec(),
            key: key.to_vec(),
            parsed,
        })
    }

    /// Parses a bare PKCS#1 `RSAPublicKey` (the deprecated `PKCS1_RSA_*` key details of old trusted roots).
    pub fn from_pkcs1_rsa_der(rsa_public_key: &[u8]) -> Result<Self, Error> {
        Self::from_spki_der(&spki_der_for(KeyAlgorithm::Rsa { bits: 0 }, rsa_public_key))
    }

    /// Parses a PEM `PUBLIC KEY`.
    pub fn from_pem(text: &str) -> Result<Self, Error> {
        Self::from_spki_der(&crate::pem_decode_one(text, "PUBLIC KEY")?)
    }

    /// The pre-parsed key when `scheme` is the key's default one.
    fn parsed_for(&self, scheme: SignatureScheme) -> Option<&lc::ParsedPublicKey> {
        let default = PublicKeyDetails::default_for(self.alg).and_then(|d| d.scheme()).ok()?;
        if default == scheme {
            self.parsed.as_deref()
        } else {
            None
        }
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key bytes inside the SPKI BIT STRING.
    pub fn raw_key(&self) -> &[u8] {
        &self.key
    }

    /// SHA-256 of the DER SPKI: the RFC 6962 log ID and Rekor v1 key ID.
    pub fn sha256_key_id(&self) -> [u8; 32] {
        crate::sha256(&self.spki)
    }

    /// The scheme a signature over a message uses by default for this key.
    pub fn default_scheme(&self) -> Result<SignatureScheme, Error> {
        PublicKeyDetails::default_for(self.alg)?.scheme()
    }

    /// Verifies `sig` over `msg`.
    pub fn verify(&self, scheme: SignatureScheme, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let algorithm = backend_algorithm(self.alg, scheme)?;
        let result = match self.parsed_for(scheme) {
            Some(p) => p.verify_sig(msg, sig),
            None => lc::UnparsedPublicKey::new(algorithm, &self.key).verify(msg, sig),
        };
        result.map_err(|_| Error::BadSignature)
    }

    /// Verifies an ECDSA signature over a digest computed elsewhere (hashedrekord semantics).
    pub fn verify_prehashed(&self, hash: HashAlgorithm, digest: &[u8], sig: &[u8]) -> Result<(), Error> {
        if digest.len() != hash.output_len() {
            return Err(Error::BadSignature);
        }
        if !matches!(
            self.alg,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521
        ) {
            return Err(Error::UnsupportedAlgorithm(format!(
                "pre-hashed verification with {:?}",
                self.alg
            )));
        }
        let scheme = ecdsa_scheme(hash);
        let digest =
            aws_lc_rs::digest::Digest::import_less_safe(digest, hash.backend()).map_err(|_| Error::BadSignature)?;
        let result = match self.parsed_for(scheme) {
            Some(p) => p.verify_digest_sig(&digest, sig),
            None => lc::ParsedPublicKey::new(backend_algorithm(self.alg, scheme)?, &self.key)
                .map_err(|_| Error::InvalidKey("the key is not valid for its algorithm"))?
                .verify_digest_sig(&digest, sig),
        };
        result.map_err(|_| Error::BadSignature)
    }

    /// Verifies a signature over an artifact given either whole or as its digest.
    ///
    /// With the whole message, any supported key works; with only a digest, ECDSA is required.
    pub fn verify_artifact(
        &self,
        scheme: SignatureScheme,
        message: Option<&[u8]>,
        digest: (HashAlgorithm, &[u8]),
        sig: &[u8],
    ) -> Result<(), Error> {
        match message {
            Some(msg) => self.verify(scheme, msg, sig),
            None => {
                if scheme.hash() != Some(digest.0) {
                    return Err(Error::KeyMismatch);
                }
                self.verify_prehashed(digest.0, digest.1, sig)
            }
        }
    }
}

/// Wraps raw key bytes (an uncompressed EC point, a 32-byte Ed25519 key, or a PKCS#1 `RSAPublicKey`)
/// in a DER SubjectPublicKeyInfo. The bytes are not checked here; parse the result with
/// [`VerifyingKey::from_spki_der`] to validate them.
pub fn spki_der_for(alg: KeyAlgorithm, raw: &[u8]) -> Vec<u8> {
    let oid = |o: &[u8]| der::encode(tag::OID, o);
    let alg_id = match alg {
        KeyAlgorithm::EcdsaP256 => [oid(OID_EC_PUBLIC_KEY), oid(OID_P256)].concat(),
        KeyAlgorithm::EcdsaP384 => [oid(OID_EC_PUBLIC_KEY), oid(OID_P384)].concat(),
        KeyAlgorithm::EcdsaP521 => [oid(OID_EC_PUBLIC_KEY), oid(OID_P521)].concat(),
        KeyAlgorithm::Ed25519 => oid(OID_ED25519),
        KeyAlgorithm::Rsa { .. } => [oid(OID_RSA), der::encode(tag::NULL, &[])].concat(),
    };
    let mut bits = Vec::with_capacity(raw.len() + 1);
    bits.push(0);
    bits.extend_from_slice(raw);
    der::encode(
        tag::SEQUENCE,
        &[der::encode(tag::SEQUENCE, &alg_id), der::encode(tag::BIT_STRING, &bits)].concat(),
    )
}

fn rsa_modulus_bits(rsa_public_key: &[u8]) -> Result<usize, Error> {
    let seq = der::parse_single(rsa_public_key)?;
    let mut r = seq.reader();
    let n = r.expect(tag::INTEGER)?;
    let e = r.expect(tag::INTEGER)?;
    r.finish()?;
    let n = match n.value {
        [0, rest @ ..] => rest,
        v => v,
    };
    if e.value.is_empty() || e.value.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(Error::InvalidKey("RSA exponent"));
    }
    let lead = n.first().copied().ok_or(Error::InvalidKey("RSA modulus"))?;
    Ok((n.len() - 1) * 8 + (8 - lead.leading_zeros() as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    const CONFORMANCE_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExRRST79+PsrRBnGAI4cMu6Omz2Jh
fwlMW+gIutNKVRaMyS4rQKvgngc5p8UbLj55pVHhIoAxi/SRgURZI0J3Xw==
-----END PUBLIC KEY-----";

    fn spki_for_p256(point: &[u8]) -> Vec<u8> {
        spki_der_for(KeyAlgorithm::EcdsaP256, point)
    }

    #[test]
    fn parses_real_key() {
        let k = VerifyingKey::from_pem(CONFORMANCE_KEY).unwrap();
        assert_eq!(k.algorithm(), KeyAlgorithm::EcdsaP256);
        assert_eq!(k.default_scheme().unwrap(), SignatureScheme::EcdsaSha256);
    }

    #[test]
    fn ecdsa_message_and_prehash_agree() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let kp =
            EcdsaKeyPair::from_pkcs8(&ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let vk = VerifyingKey::from_spki_der(&spki_for_p256(kp.public_key().as_ref())).unwrap();
        let msg = b"hello sigil";
        let sig = kp.sign(&rng, msg).unwrap();
        vk.verify(SignatureScheme::EcdsaSha256, msg, sig.as_ref()).unwrap();
        let d = HashAlgorithm::Sha2_256.digest(msg);
        vk.verify_prehashed(HashAlgorithm::Sha2_256, &d, sig.as_ref()).unwrap();
        vk.verify_artifact(
            SignatureScheme::EcdsaSha256,
            None,
            (HashAlgorithm::Sha2_256, &d),
            sig.as_ref(),
        )
        .unwrap();
        let mut bad = sig.as_ref().to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            vk.verify(SignatureScheme::EcdsaSha256, msg, &bad),
            Err(Error::BadSignature)
        );
        assert_eq!(
            vk.verify_prehashed(HashAlgorithm::Sha2_256, &d, &bad),
            Err(Error::BadSignature)
        );
        assert_eq!(
            vk.verify(SignatureScheme::Ed25519, msg, sig.as_ref()),
            Err(Error::KeyMismatch)
        );
    }

    #[test]
    fn ed25519() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let spki = spki_der_for(KeyAlgorithm::Ed25519, kp.public_key().as_ref());
        let vk = VerifyingKey::from_spki_der(&spki).unwrap();
        let sig = kp.sign(b"m");
        vk.verify(SignatureScheme::Ed25519, b"m", sig.as_ref()).unwrap();
        assert!(vk.verify(SignatureScheme::Ed25519, b"n", sig.as_ref()).is_err());
        assert!(
            vk.verify_prehashed(HashAlgorithm::Sha2_256, &[0; 32], sig.as_ref())
                .is_err()
        );
    }

    #[test]
    fn rejects_bad_points_and_garbage() {
        assert!(VerifyingKey::from_spki_der(&spki_for_p256(&[4u8; 65])).is_err());
        assert!(VerifyingKey::from_spki_der(b"").is_err());
        assert!(VerifyingKey::from_spki_der(&[0x30, 0x00]).is_err());
    }

    #[test]
    fn details_names_roundtrip() {
        for (d, n) in PublicKeyDetails::NAMES {
            assert_eq!(PublicKeyDetails::from_proto_name(n).unwrap(), d);
            assert_eq!(d.proto_name(), n);
        }
    }
}
