//! Password-encrypted private-key files in cosign's format, so that `cosign.key` files keep working.
//!
//! The PEM block `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign ≥ 2.0; `ENCRYPTED COSIGN PRIVATE KEY` before) holds a
//! JSON document: the key-derivation parameters (`scrypt`: `N`, `r`, `p`, base64 salt), the cipher (`nacl/secretbox`,
//! that is XSalsa20-Poly1305, base64 24-byte nonce) and the base64 ciphertext of the private key's PKCS#8 DER. The
//! 32-byte secretbox key is scrypt(password, salt). Public keys are plain `PUBLIC KEY` (SPKI) PEM.
//!
//! Reading is bounded: the file size, and scrypt's cost, which the file chooses: a hostile file could otherwise
//! ask for gigabytes of memory. cosign writes N = 32768 or 65536 with r = 8, p = 1.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};

use crate::{Error, SigningKey, pem_blocks, pem_encode};

/// The PEM label sigil (like cosign ≥ 2.0) writes.
pub const ENCRYPTED_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label of older cosign key files, read too.
pub const LEGACY_ENCRYPTED_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// Largest key file read.
pub const MAX_KEY_FILE: usize = 16 * 1024;
/// scrypt parameters sigil writes (what `cosign generate-key-pair` writes today).
const WRITE_LOG_N: u8 = 16;
const WRITE_R: u32 = 8;
const WRITE_P: u32 = 1;
/// Largest scrypt memory (128 · r · N bytes) and parallelism a file may ask for.
const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
const MAX_SCRYPT_P: u32 = 16;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn secretbox_key(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<XSalsa20Poly1305, Error> {
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|_| Error::KeyFile("unusable scrypt parameters"))?;
    let mut key = Key::default();
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|_| Error::KeyFile("unusable scrypt parameters"))?;
    Ok(XSalsa20Poly1305::new(&key))
}

fn random_bytes(len: usize) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| Error::KeyFile("no randomness"))?;
    Ok(out)
}

/// Encrypts `key` under `password` as an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM block (scrypt N = 65536, r = 8,
/// p = 1, fresh salt and nonce), readable by cosign.
pub fn encrypt_private_key(key: &SigningKey, password: &[u8]) -> Result<String, Error> {
    let salt = random_bytes(SALT_LEN)?;
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::KeyFile("no randomness"))?;
    let cipher = secretbox_key(password, &salt, WRITE_LOG_N, WRITE_R, WRITE_P)?;
    let ciphertext = cipher
        .encrypt(&Nonce::from(nonce), key.to_pkcs8_der())
        .map_err(|_| Error::KeyFile("encryption failed"))?;
    let envelope = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: ScryptParams {
                n: 1 << WRITE_LOG_N,
                r: WRITE_R,
                p: WRITE_P,
            },
            salt: B64.encode(&salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(&ciphertext),
    };
    let json = serde_json::to_vec(&envelope).map_err(|_| Error::KeyFile("encoding failed"))?;
    Ok(pem_encode(ENCRYPTED_KEY_LABEL, &json))
}

/// Whether `text` is an encrypted key file (either label), as opposed to, say, a plain PKCS#8 key.
pub fn is_encrypted_private_key(text: &str) -> bool {
    [ENCRYPTED_KEY_LABEL, LEGACY_ENCRYPTED_KEY_LABEL]
        .iter()
        .any(|label| text.contains(&format!("-----BEGIN {label}-----")))
}

/// Decrypts a cosign-format key file with `password`. A wrong password and a damaged file both fail the
/// secretbox's authentication: [`Error::WrongPassword`].
pub fn decrypt_private_key(text: &str, password: &[u8]) -> Result<SigningKey, Error> {
    if text.len() > MAX_KEY_FILE {
        return Err(Error::KeyFile("the key file is too large"));
    }
    let blocks = pem_blocks(text)?;
    let [(label, json)] = blocks.as_slice() else {
        return Err(Error::KeyFile("expected exactly one PEM block"));
    };
    if label != ENCRYPTED_KEY_LABEL && label != LEGACY_ENCRYPTED_KEY_LABEL {
        return Err(Error::KeyFile("not an encrypted sigstore/cosign private key"));
    }
    let envelope: Envelope =
        serde_json::from_slice(json).map_err(|_| Error::KeyFile("the key file's JSON is malformed"))?;
    if envelope.kdf.name != "scrypt" {
        return Err(Error::KeyFile("unsupported key derivation (only scrypt)"));
    }
    if envelope.cipher.name != "nacl/secretbox" {
        return Err(Error::KeyFile("unsupported cipher (only nacl/secretbox)"));
    }
    let ScryptParams { n, r, p } = envelope.kdf.params;
    if n < 2 || !n.is_power_of_two() {
        return Err(Error::KeyFile("scrypt N must be a power of two"));
    }
    let memory = 128u64.saturating_mul(u64::from(r)).saturating_mul(n);
    if r == 0 || p == 0 || p > MAX_SCRYPT_P || memory > MAX_SCRYPT_MEMORY {
        return Err(Error::KeyFile("scrypt parameters out of bounds"));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| Error::KeyFile("scrypt parameters out of bounds"))?;
    let decode = |what: &'static str, s: &str| B64.decode(s).map_err(|_| Error::KeyFile(what));
    let salt = decode("the salt is not base64", &envelope.kdf.salt)?;
    let nonce = decode("the nonce is not base64", &envelope.cipher.nonce)?;
    let ciphertext = decode("the ciphertext is not base64", &envelope.ciphertext)?;
    let nonce: [u8; NONCE_LEN] = nonce
        .as_slice()
        .try_into()
        .map_err(|_| Error::KeyFile("the nonce is not 24 bytes"))?;
    if salt.is_empty() {
        return Err(Error::KeyFile("the salt is empty"));
    }
    let cipher = secretbox_key(password, &salt, log_n, r, p)?;
    let pkcs8 = cipher
        .decrypt(&Nonce::from(nonce), ciphertext.as_slice())
        .map_err(|_| Error::WrongPassword)?;
    SigningKey::from_pkcs8_der(&pkcs8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{KeyAlgorithm, Signer as _};

    fn wrong_password(r: Result<SigningKey, Error>) -> bool {
        matches!(r, Err(Error::WrongPassword))
    }

    /// Made by `cosign generate-key-pair` with an empty password (N = 65536). Test vector published in the
    /// sigstore-rs repository, `tests/data/keys/cosign_generated_encrypted_empty_private.key`.
    const COSIGN_EMPTY_PASSWORD: &str = include_str!("../testdata/cosign-generated-empty-password.key");

    #[test]
    fn a_cosign_generated_key_decrypts() {
        let key = decrypt_private_key(COSIGN_EMPTY_PASSWORD, b"").unwrap();
        assert_eq!(key.public_key().algorithm(), KeyAlgorithm::EcdsaP256);
        // It signs, and the signature verifies with its public key.
        let sig = key.sign(b"payload").unwrap();
        key.public_key().verify(key.scheme(), b"payload", &sig).unwrap();
        assert!(wrong_password(decrypt_private_key(COSIGN_EMPTY_PASSWORD, b"x")));
        // The older label holds the same format.
        let legacy = COSIGN_EMPTY_PASSWORD.replace(ENCRYPTED_KEY_LABEL, LEGACY_ENCRYPTED_KEY_LABEL);
        assert_eq!(
            decrypt_private_key(&legacy, b"").unwrap().to_pkcs8_der(),
            key.to_pkcs8_der()
        );
        assert!(is_encrypted_private_key(&legacy));
    }

    #[test]
    fn round_trip_and_tampering() {
        for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384, KeyAlgorithm::Ed25519] {
            let key = SigningKey::generate(alg).unwrap();
            let pem = encrypt_private_key(&key, b"correct horse").unwrap();
            assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
            let back = decrypt_private_key(&pem, b"correct horse").unwrap();
            assert_eq!(back.to_pkcs8_der(), key.to_pkcs8_der());
            assert!(wrong_password(decrypt_private_key(&pem, b"wrong")));
        }
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = encrypt_private_key(&key, b"pw").unwrap();
        let json = crate::pem_decode_one(&pem, ENCRYPTED_KEY_LABEL).unwrap();
        let mut env: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(env["kdf"]["params"], serde_json::json!({"N": 65536, "r": 8, "p": 1}));
        let rewrap = |env: &serde_json::Value| pem_encode(ENCRYPTED_KEY_LABEL, &serde_json::to_vec(env).unwrap());
        // One bit of the ciphertext flipped: authentication fails.
        let mut ct = B64.decode(env["ciphertext"].as_str().unwrap()).unwrap();
        ct[5] ^= 1;
        let mut bad = env.clone();
        bad["ciphertext"] = B64.encode(&ct).into();
        assert!(wrong_password(decrypt_private_key(&rewrap(&bad), b"pw")));
        // A file asking for 1 GiB of scrypt memory, or odd parameters, is refused before any work.
        for (n, r, p) in [
            (1u64 << 20, 8, 1),
            (65536, 8, 64),
            (65535, 8, 1),
            (0, 8, 1),
            (65536, 0, 1),
        ] {
            env["kdf"]["params"] = serde_json::json!({"N": n, "r": r, "p": p});
            assert!(
                matches!(decrypt_private_key(&rewrap(&env), b"pw"), Err(Error::KeyFile(_))),
                "N={n} r={r} p={p}"
            );
        }
    }

    #[test]
    fn malformed_files_are_refused() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let plain = pem_encode("PRIVATE KEY", key.to_pkcs8_der());
        assert!(!is_encrypted_private_key(&plain));
        for text in [
            plain.clone(),
            String::new(),
            format!("{plain}{plain}"),
            pem_encode(ENCRYPTED_KEY_LABEL, b"not json"),
            pem_encode(ENCRYPTED_KEY_LABEL, br#"{"kdf":{"name":"pbkdf2","params":{"N":2,"r":1,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AA=="},"ciphertext":""}"#),
            pem_encode(ENCRYPTED_KEY_LABEL, br#"{"kdf":{"name":"scrypt","params":{"N":2,"r":1,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AA=="},"ciphertext":""}"#),
            "x".repeat(MAX_KEY_FILE + 1),
        ] {
            assert!(decrypt_private_key(&text, b"").is_err(), "{text:.60}");
        }
    }
}
