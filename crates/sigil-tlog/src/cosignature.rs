//! Timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature, signature type 0x04).
//!
//! A witness states "as of time T, the largest consistent tree I have seen for this origin has this root" by
//! signing `"cosignature/v1\ntime <T>\n" ‖ checkpoint body`. The signature line carries `u64 BE T ‖ 64-byte
//! Ed25519 signature`. Verifying one yields the witness's timestamp, which a caller may compare with its clock.

use sigil_crypto::{KeyAlgorithm, SignatureScheme, VerifyingKey};

use crate::Error;
use crate::note::{Note, SIG_TYPE_COSIGNATURE_ED25519, check_key_name, key_id};

/// Largest timestamp the spec allows (2^63 − 1).
const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The message an Ed25519 cosignature signs.
pub fn cosignature_message(timestamp: u64, body: &str) -> Vec<u8> {
    let mut msg = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    msg.extend_from_slice(body.as_bytes());
    msg
}

/// A trusted witness key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_hint: [u8; 4],
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// An Ed25519 cosigner with key ID `SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4]`.
    pub fn ed25519(name: &str, key: VerifyingKey) -> Result<Self, Error> {
        check_key_name(name)?;
        if key.algorithm() != KeyAlgorithm::Ed25519 {
            return Err(Error::InvalidKey("cosignature keys must be Ed25519".into()));
        }
        Ok(Self {
            name: name.to_owned(),
            key_hint: key_id(name, SIG_TYPE_COSIGNATURE_ED25519, key.raw_key()),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_hint(&self) -> [u8; 4] {
        self.key_hint
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies one `timestamp ‖ signature` blob over `body` and returns the timestamp.
    pub fn verify_signature(&self, body: &str, signature: &[u8]) -> Result<u64, Error> {
        let (ts, sig) = signature
            .split_first_chunk::<8>()
            .ok_or(Error::MalformedCosignature("shorter than the timestamp"))?;
        if sig.len() != 64 {
            return Err(Error::MalformedCosignature("Ed25519 signature is not 64 bytes"));
        }
        let timestamp = u64::from_be_bytes(*ts);
        if timestamp > MAX_TIMESTAMP {
            return Err(Error::MalformedCosignature("timestamp exceeds 2^63 - 1"));
        }
        self.key
            .verify(SignatureScheme::Ed25519, &cosignature_message(timestamp, body), sig)
            .map_err(|_| Error::SignatureInvalid)?;
        Ok(timestamp)
    }

    /// Finds this witness's lines in `note` (exact name and key hint) and returns the timestamp of the first that
    /// verifies. Other lines are ignored. If none matches: [`Error::NoMatchingSignature`]; if lines matched but
    /// none verified: the first line's error.
    pub fn verify(&self, note: &Note) -> Result<u64, Error> {
        let mut first_error = None;
        for sig in note.signatures_for(&self.name, self.key_hint) {
            match self.verify_signature(&note.body, &sig.signature) {
                Ok(ts) => return Ok(ts),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(Error::NoMatchingSignature))
    }
}
