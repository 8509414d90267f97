//! Private keys and the [`Signer`] trait every signing component (CA, CT log, TSA, log, client) goes through.
//!
//! The trait is the seam for keys that never leave an HSM or KMS: a service holds a `Arc<dyn Signer>` and
//! never sees key bytes. [`SigningKey`] is the in-memory implementation (ECDSA P-256/P-384, Ed25519).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};

use crate::{Error, KeyAlgorithm, PublicKeyDetails, SignatureScheme, VerifyingKey, spki_der_for};

/// Something that signs messages with one private key.
///
/// Signatures are in the form X.509 and Sigstore carry them: ASN.1 DER `Ecdsa-Sig-Value` for ECDSA, the 64 raw
/// bytes for Ed25519. The message is hashed by the signer according to [`Signer::scheme`].
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// The public half.
    fn public_key(&self) -> &VerifyingKey;
    /// The scheme [`Signer::sign`] produces.
    fn scheme(&self) -> SignatureScheme;
    /// Signs `msg`.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error>;

    /// Sigstore's name for the key and scheme (`PKIX_ECDSA_P256_SHA_256`, …).
    fn key_details(&self) -> Result<PublicKeyDetails, Error> {
        PublicKeyDetails::default_for(self.public_key().algorithm())
    }
}

enum Inner {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// An in-memory private key. Its bytes are only reachable through [`SigningKey::to_pkcs8_der`].
pub struct SigningKey {
    inner: Inner,
    public: VerifyingKey,
    scheme: SignatureScheme,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.public.algorithm())
            .finish_non_exhaustive()
    }
}

const KEY_GENERATION: Error = Error::InvalidKey("key generation failed");

impl SigningKey {
    /// Generates a fresh key. Supported: ECDSA P-256, ECDSA P-384, Ed25519.
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            KeyAlgorithm::EcdsaP256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .map_err(|_| KEY_GENERATION)?
                .as_ref()
                .to_vec(),
            KeyAlgorithm::EcdsaP384 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &rng)
                .map_err(|_| KEY_GENERATION)?
                .as_ref()
                .to_vec(),
            KeyAlgorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| KEY_GENERATION)?
                .as_ref()
                .to_vec(),
            other => return Err(Error::UnsupportedAlgorithm(format!("signing with {other:?}"))),
        };
        Self::from_pkcs8_der(&pkcs8)
    }

    /// Parses a PKCS#8 `PrivateKeyInfo` (DER) holding an ECDSA P-256/P-384 or Ed25519 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            let public =
                VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::EcdsaP256, pair.public_key().as_ref()))?;
            return Ok(Self::new(Inner::Ecdsa(pair), public, SignatureScheme::EcdsaSha256, der));
        }
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, der) {
            let public =
                VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::EcdsaP384, pair.public_key().as_ref()))?;
            return Ok(Self::new(Inner::Ecdsa(pair), public, SignatureScheme::EcdsaSha384, der));
        }
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            let public = VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::Ed25519, pair.public_key().as_ref()))?;
            return Ok(Self::new(Inner::Ed25519(pair), public, SignatureScheme::Ed25519, der));
        }
        Err(Error::InvalidKey(
            "not a PKCS#8 ECDSA P-256/P-384 or Ed25519 private key",
        ))
    }

    /// Parses a PEM `PRIVATE KEY` block (PKCS#8).
    pub fn from_pkcs8_pem(text: &str) -> Result<Self, Error> {
        Self::from_pkcs8_der(&crate::pem_decode_one(text, "PRIVATE KEY")?)
    }

    fn new(inner: Inner, public: VerifyingKey, scheme: SignatureScheme, pkcs8: &[u8]) -> Self {
        Self {
            inner,
            public,
            scheme,
            pkcs8: pkcs8.to_vec(),
            rng: SystemRandom::new(),
        }
    }

    /// The PKCS#8 DER encoding, for storing a generated key. Callers must keep it private.
    pub fn to_pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl Signer for SigningKey {
    fn public_key(&self) -> &VerifyingKey {
        &self.public
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.inner {
            Inner::Ecdsa(pair) => Ok(pair
                .sign(&self.rng, msg)
                .map_err(|_| Error::InvalidKey("signing failed"))?
                .as_ref()
                .to_vec()),
            Inner::Ed25519(pair) => Ok(pair.sign(msg).as_ref().to_vec()),
        }
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        // Best effort: the backend zeroises its own copy; this clears ours.
        self.pkcs8.iter_mut().for_each(|b| *b = 0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_algorithm_signs_what_its_public_key_verifies() {
        for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384, KeyAlgorithm::Ed25519] {
            let key = SigningKey::generate(alg).unwrap();
            let sig = key.sign(b"message").unwrap();
            key.public_key().verify(key.scheme(), b"message", &sig).unwrap();
            assert!(key.public_key().verify(key.scheme(), b"other", &sig).is_err());
            let again = SigningKey::from_pkcs8_der(key.to_pkcs8_der()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
        }
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(SigningKey::from_pkcs8_der(b"\x30\x03\x02\x01\x00").is_err());
        assert!(SigningKey::generate(KeyAlgorithm::Rsa { bits: 2048 }).is_err());
    }
}
