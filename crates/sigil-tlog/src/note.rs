//! C2SP signed notes (c2sp.org/signed-note): parsing, serializing and verifying.
//!
//! A note is a UTF-8 text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(4-byte key hint ‖ signature)>`. A verifier is configured with (name, hint, key); it looks
//! only at lines whose name *and* hint both equal its own (a literal comparison: never a substring or pattern),
//! ignores every other line, and accepts the note if one matching line verifies.
//!
//! The parser is stricter than the spec where Sigstore clients are: it requires *exactly one* `"\n\n"` in the
//! whole note (sigstore-python rejects any other count, so a note with blank lines in its text could not be
//! verified by everyone), and it bounds the work hostile input can cause ([`MAX_NOTE_SIZE`], [`MAX_SIGNATURES`]).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_crypto::{KeyAlgorithm, SignatureScheme, VerifyingKey};

use crate::Error;

/// Largest note accepted, in bytes.
pub const MAX_NOTE_SIZE: usize = 1 << 20;
/// Most signature lines accepted (the spec requires at least 16).
pub const MAX_SIGNATURES: usize = 64;

/// The signature-line prefix: U+2014 EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Signed-note signature type of Ed25519 keys.
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signed-note signature type of ECDSA keys (key hint = `SHA-256(SPKI)[:4]`).
pub const SIG_TYPE_ECDSA: u8 = 0x02;
/// Signed-note signature type of timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature).
pub const SIG_TYPE_COSIGNATURE_ED25519: u8 = 0x04;

/// A parsed signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline (but not the blank separator line).
    pub body: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The first four bytes of the decoded signature: the key ID.
    pub key_hint: [u8; 4],
    /// The rest of the decoded signature.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line as it appears in a note, without the final newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_hint);
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}", self.name, B64.encode(raw))
    }
}

/// `SHA-256(name ‖ "\n" ‖ sig_type ‖ key)[:4]`: the key ID the signed-note spec recommends.
pub fn key_id(name: &str, sig_type: u8, key: &[u8]) -> [u8; 4] {
    let mut data = Vec::with_capacity(name.len() + 2 + key.len());
    data.extend_from_slice(name.as_bytes());
    data.push(b'\n');
    data.push(sig_type);
    data.extend_from_slice(key);
    first4(&sigil_crypto::sha256(&data))
}

fn first4(h: &[u8; 32]) -> [u8; 4] {
    let [a, b, c, d, ..] = *h;
    [a, b, c, d]
}

/// Checks a key name: non-empty, no Unicode space, no `+`.
pub fn check_key_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::InvalidKeyName("empty"));
    }
    if name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(Error::InvalidKeyName("contains a space or a plus sign"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidKeyName("contains a control character"));
    }
    Ok(())
}

/// Rejects ASCII control characters other than newline (and DEL).
fn check_text(text: &str) -> Result<(), Error> {
    match text.bytes().find(|b| (*b < 0x20 && *b != b'\n') || *b == 0x7f) {
        Some(byte) => Err(Error::NoteControlCharacter { byte }),
        None => Ok(()),
    }
}

/// Number of (possibly overlapping) `"\n\n"` occurrences, and the position of the first.
fn blank_lines(text: &str) -> (usize, Option<usize>) {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut first = None;
    for (i, pair) in bytes.windows(2).enumerate() {
        if pair == b"\n\n" {
            count += 1;
            first.get_or_insert(i);
        }
    }
    (count, first)
}

impl Note {
    /// A note with `body` (which must end in a newline) and no signatures yet.
    pub fn new(body: impl Into<String>) -> Result<Self, Error> {
        let body = body.into();
        check_body(&body)?;
        Ok(Self {
            body,
            signatures: Vec::new(),
        })
    }

    /// Parses note bytes, which must be UTF-8.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(Error::NoteTooLarge { max: MAX_NOTE_SIZE });
        }
        Self::parse(std::str::from_utf8(bytes).map_err(|_| Error::NoteNotUtf8)?)
    }

    /// Parses a signed note.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_NOTE_SIZE {
            return Err(Error::NoteTooLarge { max: MAX_NOTE_SIZE });
        }
        check_text(text)?;
        let (found, first) = blank_lines(text);
        let split = match (found, first) {
            (1, Some(i)) => i,
            _ => return Err(Error::NoteSeparator { found }),
        };
        let (body, sigs) = text.split_at_checked(split + 1).ok_or(Error::NoteSeparator { found })?;
        check_body(body)?;
        // `sigs` starts with the blank line's newline.
        let sigs = sigs.strip_prefix('\n').ok_or(Error::NoteSeparator { found })?;
        if sigs.is_empty() {
            return Err(Error::NoteNoSignatures);
        }
        let sigs = sigs.strip_suffix('\n').ok_or(Error::MalformedSignatureLine {
            line: sigs.matches('\n').count() + 1,
            reason: "does not end in a newline",
        })?;
        // Count before decoding anything, so a note with many lines costs nothing.
        if sigs.split('\n').nth(MAX_SIGNATURES).is_some() {
            return Err(Error::TooManySignatures { max: MAX_SIGNATURES });
        }
        let signatures = sigs
            .split('\n')
            .enumerate()
            .map(|(i, line)| {
                parse_signature_line(line).map_err(|reason| Error::MalformedSignatureLine { line: i + 1, reason })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            body: body.to_owned(),
            signatures,
        })
    }

    /// The note in its wire form: body, blank line, one line per signature.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.body.len() + 1 + self.signatures.len() * 128);
        out.push_str(&self.body);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
            out.push('\n');
        }
        out
    }

    /// Appends a signature line after checking the key name.
    pub fn add_signature(&mut self, name: &str, key_hint: [u8; 4], signature: Vec<u8>) -> Result<(), Error> {
        check_key_name(name)?;
        self.signatures.push(NoteSignature {
            name: name.to_owned(),
            key_hint,
            signature,
        });
        Ok(())
    }

    /// The signature lines carrying exactly `name` and `key_hint`.
    pub fn signatures_for<'a>(&'a self, name: &str, key_hint: [u8; 4]) -> impl Iterator<Item = &'a NoteSignature> {
        self.signatures
            .iter()
            .filter(move |s| s.name == name && s.key_hint == key_hint)
    }

    /// Verifies the note with one trusted key.
    ///
    /// Lines whose name or hint differ from the verifier's are ignored (other logs, witnesses, rotated keys).
    /// Every matching line is tried; the first that verifies is returned. Errors:
    /// [`Error::NoMatchingSignature`] if no line matches, [`Error::SignatureInvalid`] if lines matched but none
    /// verified.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<&NoteSignature, Error> {
        let mut matched = false;
        for sig in self.signatures_for(&verifier.name, verifier.key_hint) {
            matched = true;
            if verifier.verify_signature(self.body.as_bytes(), &sig.signature).is_ok() {
                return Ok(sig);
            }
        }
        Err(if matched {
            Error::SignatureInvalid
        } else {
            Error::NoMatchingSignature
        })
    }
}

/// A note body must be non-empty, end in a newline, contain no blank line, and no control characters.
fn check_body(body: &str) -> Result<(), Error> {
    if body.len() > MAX_NOTE_SIZE {
        return Err(Error::NoteTooLarge { max: MAX_NOTE_SIZE });
    }
    check_text(body)?;
    let Some(text) = body.strip_suffix('\n') else {
        return Err(Error::NoteBodyNotTerminated);
    };
    if text.is_empty() {
        return Err(Error::NoteEmptyBody);
    }
    if text.contains("\n\n") || text.ends_with('\n') {
        return Err(Error::NoteSeparator { found: 2 });
    }
    Ok(())
}

/// Parses `— <name> <base64>`.
fn parse_signature_line(line: &str) -> Result<NoteSignature, &'static str> {
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or("does not start with an em dash and a space")?;
    let (name, b64) = rest.split_once(' ').ok_or("missing signature")?;
    if name.is_empty() {
        return Err("empty key name");
    }
    if name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err("key name contains a space or a plus sign");
    }
    if b64.is_empty() {
        return Err("missing signature");
    }
    let raw = B64.decode(b64).map_err(|_| "signature is not canonical base64")?;
    let (hint, signature) = raw
        .split_first_chunk::<4>()
        .ok_or("signature shorter than the key hint")?;
    if signature.is_empty() {
        return Err("empty signature");
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        key_hint: *hint,
        signature: signature.to_vec(),
    })
}

/// A trusted note-signing key: the (name, key hint, public key) triple a signature line must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_hint: [u8; 4],
    key: VerifyingKey,
    scheme: SignatureScheme,
}

impl NoteVerifier {
    /// An Ed25519 verifier with the spec's key ID: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[:4]`.
    pub fn ed25519(name: &str, key: VerifyingKey) -> Result<Self, Error> {
        if key.algorithm() != KeyAlgorithm::Ed25519 {
            return Err(Error::InvalidKey("not an Ed25519 key".into()));
        }
        let hint = key_id(name, SIG_TYPE_ED25519, key.raw_key());
        Self::with_hint(name, hint, key)
    }

    /// An ECDSA verifier with Rekor v1's key ID (and signature type 0x02's): `SHA-256(DER SPKI)[:4]`.
    ///
    /// The signature is ASN.1 DER ECDSA over SHA-256 of the note text.
    pub fn ecdsa(name: &str, key: VerifyingKey) -> Result<Self, Error> {
        if !matches!(key.algorithm(), KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384) {
            return Err(Error::InvalidKey("not a P-256 or P-384 ECDSA key".into()));
        }
        let hint = first4(&key.sha256_key_id());
        Self::with_hint(name, hint, key)
    }

    /// A verifier with an explicitly given key hint (Ed25519, or ECDSA P-256/P-384 over SHA-256).
    pub fn with_hint(name: &str, key_hint: [u8; 4], key: VerifyingKey) -> Result<Self, Error> {
        check_key_name(name)?;
        let scheme = match key.algorithm() {
            KeyAlgorithm::Ed25519 => SignatureScheme::Ed25519,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => SignatureScheme::EcdsaSha256,
            other => return Err(Error::InvalidKey(format!("{other:?} keys cannot sign notes"))),
        };
        Ok(Self {
            name: name.to_owned(),
            key_hint,
            key,
            scheme,
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

    /// Checks one signature over `msg` (the note text) with this key.
    pub fn verify_signature(&self, msg: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.key
            .verify(self.scheme, msg, signature)
            .map_err(|_| Error::SignatureInvalid)
    }
}

/// The DER SubjectPublicKeyInfo of a raw 32-byte Ed25519 public key.
pub fn ed25519_spki(raw: &[u8]) -> Result<Vec<u8>, Error> {
    if raw.len() != 32 {
        return Err(Error::InvalidKey("Ed25519 keys are 32 bytes".into()));
    }
    Ok(sigil_crypto::spki_der_for(sigil_crypto::KeyAlgorithm::Ed25519, raw))
}

/// A verifying key of the form `<name>+<hex key ID>+<base64(type ‖ key)>` (signed-note "vkey").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub key_hint: [u8; 4],
    /// The signature type byte (0x01 Ed25519, 0x02 ECDSA, 0x04 Ed25519 cosignature, …).
    pub key_type: u8,
    /// The key material after the type byte (raw 32 bytes for Ed25519, DER SPKI for ECDSA).
    pub key: Vec<u8>,
}

/// Parses `<name>+<8 lowercase hex digits>+<base64(type ‖ key)>`.
pub fn parse_verifier_key(text: &str) -> Result<VerifierKey, Error> {
    if text.len() > 16 * 1024 {
        return Err(Error::MalformedVerifierKey("too long"));
    }
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::MalformedVerifierKey("expected name+id+key"));
    };
    check_key_name(name).map_err(|_| Error::MalformedVerifierKey("invalid key name"))?;
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(Error::MalformedVerifierKey("key ID is not 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(hex, 16).map_err(|_| Error::MalformedVerifierKey("key ID is not hex"))?;
    let raw = B64
        .decode(b64)
        .map_err(|_| Error::MalformedVerifierKey("key is not canonical base64"))?;
    let (key_type, key) = raw.split_first().ok_or(Error::MalformedVerifierKey("key is empty"))?;
    if key.is_empty() {
        return Err(Error::MalformedVerifierKey("key is empty"));
    }
    Ok(VerifierKey {
        name: name.to_owned(),
        key_hint: id.to_be_bytes(),
        key_type: *key_type,
        key: key.to_vec(),
    })
}

impl VerifierKey {
    /// A note verifier for an Ed25519 (0x01) or ECDSA (0x02, key = DER SPKI) key; the stated key ID must be the
    /// one the key and name produce.
    pub fn to_note_verifier(&self) -> Result<NoteVerifier, Error> {
        let verifier = match self.key_type {
            SIG_TYPE_ED25519 => {
                let vk = VerifyingKey::from_spki_der(&ed25519_spki(&self.key)?).map_err(|e| Error::key(&e))?;
                NoteVerifier::ed25519(&self.name, vk)?
            }
            SIG_TYPE_ECDSA => {
                let vk = VerifyingKey::from_spki_der(&self.key).map_err(|e| Error::key(&e))?;
                NoteVerifier::ecdsa(&self.name, vk)?
            }
            other => {
                return Err(Error::InvalidKey(format!(
                    "signature type {other:#04x} is not a note key"
                )));
            }
        };
        if verifier.key_hint() != self.key_hint {
            return Err(Error::MalformedVerifierKey("key ID does not match the name and key"));
        }
        Ok(verifier)
    }

    /// A witness-cosignature verifier for an Ed25519 cosignature (0x04) key; the key ID must match.
    pub fn to_cosignature_verifier(&self) -> Result<crate::CosignatureVerifier, Error> {
        if self.key_type != SIG_TYPE_COSIGNATURE_ED25519 {
            return Err(Error::InvalidKey(format!(
                "signature type {:#04x} is not an Ed25519 cosignature key",
                self.key_type
            )));
        }
        let vk = VerifyingKey::from_spki_der(&ed25519_spki(&self.key)?).map_err(|e| Error::key(&e))?;
        let verifier = crate::CosignatureVerifier::ed25519(&self.name, vk)?;
        if verifier.key_hint() != self.key_hint {
            return Err(Error::MalformedVerifierKey("key ID does not match the name and key"));
        }
        Ok(verifier)
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(1 + self.key.len());
        raw.push(self.key_type);
        raw.extend_from_slice(&self.key);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            u32::from_be_bytes(self.key_hint),
            B64.encode(raw)
        )
    }
}
