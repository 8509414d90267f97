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
        // Given keys are parsed before anything is stored, so a bad one leaves no trace.
        if let Some(given) = &imported.ed25519_pkcs8 {
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(given)
                .map_err(|e| Error::Key(format!("the given Ed25519 key: {e}")))?;
        }
        if let Some(given) = &imported.ecdsa_p256_pkcs8 {
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, given)
                .map_err(|e| Error::Key(format!("the given ECDSA P-256 key: {e}")))?;
        }
        let ed_der = load_one(
            dir,
            ED25519_FILE,
            "checkpoint key",
            create,
            imported.ed25519_pkcs8.as_deref(),
            || {
                Ed25519KeyPair::generate_pkcs8(&rng)
                    .map(|d| d.as_ref().to_vec())
                    .map_err(|_| Error::Key("Ed25519 generation".into()))
            },
        )?;
        let ec_der = load_one(
            dir,
            ECDSA_FILE,
            "v1 log key",
            create,
            imported.ecdsa_p256_pkcs8.as_deref(),
            || {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .map(|d| d.as_ref().to_vec())
                    .map_err(|_| Error::Key("ECDSA P-256 generation".into()))
            },
        )?;
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

/// One key file: the stored key (which a given key must equal), else the given key, else a generated one (only
/// when `create`).
fn load_one(
    dir: &Path,
    file: &str,
    what: &str,
    create: bool,
    given: Option<&[u8]>,
    generate: impl FnOnce() -> Result<Vec<u8>, Error>,
) -> Result<Vec<u8>, Error> {
    let path = dir.join(file);
    match (fsio::read_optional(&path)?, given) {
        (Some(stored), Some(given)) if stored != given => Err(Error::Key(format!(
            "{} holds a different {what} than the one given",
            path.display()
        ))),
        (Some(stored), _) => Ok(stored),
        (None, _) if !create => Err(Error::Key(format!("{} is missing", path.display()))),
        (None, given) => {
            let der = match given {
                Some(g) => g.to_vec(),
                None => generate()?,
            };
            store_key(dir, file, &der)?;
            Ok(der)
        }
    }
}

pub(crate) fn store_key(dir: &Path, name: &str, der: &[u8]) -> Result<(), Error> {
    let path = dir.join(name);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    fsio::write_synced(&tmp, der, Some(0o600))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename into", &path, &e))?;
    fsio::sync_dir(dir)
}
