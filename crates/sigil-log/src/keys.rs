//! The log's signing keys: Ed25519 for C2SP checkpoints (Rekor v2), ECDSA P-256 for Rekor v1 SETs and checkpoints.
//!
//! Both are generated on first start and stored as PKCS#8 DER files readable only by the owner (0600).

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use sigil_crypto::{KeyAlgorithm, VerifyingKey, spki_der_for};

use crate::Error;
use crate::fsio;

/// The pair of signing keys a log holds.
pub(crate) struct Keys {
    pub(crate) ed25519: Ed25519KeyPair,
    pub(crate) ecdsa: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

/// Keys an operator supplies instead of generated ones (PKCS#8 DER), e.g. kept offline for disaster recovery.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ImportedKeys {
    /// Ed25519 checkpoint key (Rekor v2 / C2SP).
    pub ed25519_pkcs8: Option<Vec<u8>>,
    /// ECDSA P-256 key (Rekor v1 SETs and checkpoints).
    pub ecdsa_p256_pkcs8: Option<Vec<u8>>,
}

impl std::fmt::Debug for ImportedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedKeys")
            .field("ed25519", &self.ed25519_pkcs8.is_some())
            .field("ecdsa_p256", &self.ecdsa_p256_pkcs8.is_some())
            .finish()
    }
}

const ED25519_FILE: &str = "checkpoint-ed25519.pk8";
const ECDSA_FILE: &str = "log-ecdsa-p256.pk8";

impl Keys {
    /// Loads the keys from `dir`, generating (and durably storing) any that are missing when `create` allows it.
    /// A key given in `imported` is stored instead of a generated one, and must equal the stored one if present.
    pub(crate) fn load_or_create(dir: &Path, create: bool, imported: &ImportedKeys) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let ed_path = dir.join(ED25519_FILE);
        let ec_path = dir.join(ECDSA_FILE);
        let ed_der = match (fsio::read_optional(&ed_path)?, &imported.ed25519_pkcs8) {
            (Some(der), Some(given)) if der != *given => {
                return Err(Error::Key(format!(
                    "{} holds a different checkpoint key than the one given",
                    ed_path.display()
                )));
            }
            (Some(der), _) => der,
            (None, Some(given)) if create => {
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(given)
                    .map_err(|e| Error::Key(format!("the given Ed25519 key: {e}")))?;
                store_key(dir, ED25519_FILE, given)?;
                given.clone()
            }
            (None, _) if create => {
                let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| Error::Key("Ed25519 generation".into()))?;
                store_key(dir, ED25519_FILE, doc.as_ref())?;
                doc.as_ref().to_vec()
            }
            (None, _) => return Err(Error::Key(format!("{} is missing", ed_path.display()))),
        };
        let ec_der = match (fsio::read_optional(&ec_path)?, &imported.ecdsa_p256_pkcs8) {
            (Some(der), Some(given)) if der != *given => {
                return Err(Error::Key(format!(
                    "{} holds a different v1 log key than the one given",
                    ec_path.display()
                )));
            }
            (Some(der), _) => der,
            (None, Some(given)) if create => {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, given)
                    .map_err(|e| Error::Key(format!("the given ECDSA P-256 key: {e}")))?;
                store_key(dir, ECDSA_FILE, given)?;
                given.clone()
            }
            (None, _) if create => {
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .map_err(|_| Error::Key("ECDSA P-256 generation".into()))?;
                store_key(dir, ECDSA_FILE, doc.as_ref())?;
                doc.as_ref().to_vec()
            }
            (None, _) => return Err(Error::Key(format!("{} is missing", ec_path.display()))),
        };
        let ed25519 =
            Ed25519KeyPair::from_pkcs8(&ed_der).map_err(|e| Error::Key(format!("{}: {e}", ed_path.display())))?;
        let ecdsa = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &ec_der)
            .map_err(|e| Error::Key(format!("{}: {e}", ec_path.display())))?;
        Ok(Self { ed25519, ecdsa, rng })
    }

    /// The raw 32-byte Ed25519 public key.
    pub(crate) fn ed25519_raw(&self) -> &[u8] {
        self.ed25519.public_key().as_ref()
    }

    pub(crate) fn ed25519_verifying_key(&self) -> Result<VerifyingKey, Error> {
        VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::Ed25519, self.ed25519_raw()))
            .map_err(|e| Error::Key(e.to_string()))
    }

    pub(crate) fn ecdsa_verifying_key(&self) -> Result<VerifyingKey, Error> {
        VerifyingKey::from_spki_der(&spki_der_for(KeyAlgorithm::EcdsaP256, self.ecdsa.public_key().as_ref()))
            .map_err(|e| Error::Key(e.to_string()))
    }

    pub(crate) fn sign_ed25519(&self, msg: &[u8]) -> Vec<u8> {
        self.ed25519.sign(msg).as_ref().to_vec()
    }

    /// ASN.1 DER ECDSA P-256 signature over SHA-256 of `msg`.
    pub(crate) fn sign_ecdsa(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        self.ecdsa
            .sign(&self.rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| Error::Key("ECDSA signing failed".into()))
    }
}

fn store_key(dir: &Path, name: &str, der: &[u8]) -> Result<(), Error> {
    let path = dir.join(name);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    fsio::write_synced(&tmp, der, Some(0o600))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename into", &path, &e))?;
    fsio::sync_dir(dir)
}
