//! Transparency-log checkpoints (c2sp.org/tlog-checkpoint): the signed tree head as a note body.
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]*
//! ```
//!
//! Rekor v1 uses the origin `<host> - <tree ID>` and an optional `Timestamp: <ns>` extension; Rekor v2 and other
//! tiled logs use a schema-less URL. The origin is always kept whole; [`split_rekor_v1_origin`] takes the v1 form
//! apart. Parsing is strict: a size with leading zeros, a non-canonical or non-32-byte root, or an empty line is
//! an error, so two different texts can never parse to the same checkpoint.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::Error;
use crate::hash::Hash;
use crate::note::{MAX_NOTE_SIZE, Note, NoteSignature, NoteVerifier, check_key_name};

/// A parsed checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The first line, whole.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash of the tree at `size`.
    pub root_hash: Hash,
    /// Extension lines after the root hash, without their newlines (each non-empty).
    pub extensions: Vec<String>,
}

/// Splits a Rekor v1 origin `"<host> - <tree ID>"` into host and tree ID (decimal, no leading zeros).
pub fn split_rekor_v1_origin(origin: &str) -> Option<(&str, u64)> {
    let (host, tree_id) = origin.split_once(" - ")?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some((host, parse_decimal(tree_id)?))
}

/// A decimal u64 with no sign and no leading zeros (except "0").
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// Parses a checkpoint body (the note text, including its final newline).
    pub fn parse(body: &str) -> Result<Self, Error> {
        if body.len() > MAX_NOTE_SIZE {
            return Err(Error::NoteTooLarge { max: MAX_NOTE_SIZE });
        }
        if let Some(byte) = body.bytes().find(|b| (*b < 0x20 && *b != b'\n') || *b == 0x7f) {
            return Err(Error::NoteControlCharacter { byte });
        }
        let text = body
            .strip_suffix('\n')
            .ok_or(Error::MalformedCheckpoint("does not end in a newline"))?;
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(Error::MalformedCheckpoint("empty origin line"));
        }
        let size = lines
            .next()
            .ok_or(Error::MalformedCheckpoint("missing tree size line"))?;
        let size = parse_decimal(size).ok_or(Error::MalformedCheckpoint(
            "tree size is not a decimal number without leading zeros",
        ))?;
        let root = lines
            .next()
            .ok_or(Error::MalformedCheckpoint("missing root hash line"))?;
        let root = B64
            .decode(root)
            .map_err(|_| Error::MalformedCheckpoint("root hash is not canonical base64"))?;
        let root_hash: Hash = root
            .try_into()
            .map_err(|_| Error::MalformedCheckpoint("root hash is not 32 bytes"))?;
        let extensions = lines
            .map(|l| {
                if l.is_empty() {
                    Err(Error::MalformedCheckpoint("empty extension line"))
                } else {
                    Ok(l.to_owned())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root_hash,
            extensions,
        })
    }

    /// Serializes the body (what the log signs).
    pub fn to_body(&self) -> String {
        let mut out = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root_hash));
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }

    /// Host and tree ID, if the origin has Rekor v1's `"<host> - <tree ID>"` form.
    pub fn rekor_v1_origin(&self) -> Option<(&str, u64)> {
        split_rekor_v1_origin(&self.origin)
    }

    /// Requires the origin to equal `expected` exactly (no prefix, substring or pattern matching).
    pub fn check_origin(&self, expected: &str) -> Result<(), Error> {
        if self.origin == expected {
            Ok(())
        } else {
            Err(self.origin_mismatch(expected))
        }
    }

    /// Requires a Rekor v1 origin whose host equals `host` exactly (any tree ID: shards differ).
    pub fn check_rekor_v1_host(&self, host: &str) -> Result<(), Error> {
        match self.rekor_v1_origin() {
            Some((h, _)) if h == host => Ok(()),
            _ => Err(self.origin_mismatch(&format!("{host} - <tree ID>"))),
        }
    }

    fn origin_mismatch(&self, expected: &str) -> Error {
        Error::OriginMismatch {
            expected: expected.to_owned(),
            actual: self.origin.clone(),
        }
    }

    /// Checks that the body does not exceed note limits and would parse back to `self`.
    fn validate(&self) -> Result<(), Error> {
        let body = self.to_body();
        if Self::parse(&body)? != *self {
            return Err(Error::MalformedCheckpoint("fields do not round-trip"));
        }
        Ok(())
    }
}

/// A signed note whose body is a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub note: Note,
    pub checkpoint: Checkpoint,
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint (note and body). Nothing is verified yet.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let note = Note::parse(text)?;
        let checkpoint = Checkpoint::parse(&note.body)?;
        Ok(Self { note, checkpoint })
    }

    /// Verifies the log's signature (see [`Note::verify`]).
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<&NoteSignature, Error> {
        self.note.verify(verifier)
    }

    /// Parses, verifies the log signature, and requires the origin to be exactly `expected_origin`.
    pub fn open(text: &str, verifier: &NoteVerifier, expected_origin: &str) -> Result<Self, Error> {
        let signed = Self::parse(text)?;
        signed.verify(verifier)?;
        signed.checkpoint.check_origin(expected_origin)?;
        Ok(signed)
    }

    /// Signs `checkpoint` as the log: `sign` receives the body bytes and returns the raw signature (Ed25519 over
    /// the body, or DER ECDSA over SHA-256 of the body), which is put on a line with `name` and `key_hint`.
    pub fn sign(
        checkpoint: Checkpoint,
        name: &str,
        key_hint: [u8; 4],
        sign: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Result<Self, Error> {
        check_key_name(name)?;
        checkpoint.validate()?;
        let mut note = Note::new(checkpoint.to_body())?;
        let signature = sign(note.body.as_bytes());
        if signature.is_empty() {
            return Err(Error::MalformedSignatureLine {
                line: 1,
                reason: "empty signature",
            });
        }
        note.add_signature(name, key_hint, signature)?;
        Ok(Self { note, checkpoint })
    }

    /// The wire form.
    pub fn to_text(&self) -> String {
        self.note.to_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "rekor.sigstore.dev - 2605736670972794746\n23083062\ndauhleYK4YyAdxwwDtR0l0KnSOWZdG2bwqHftlanvcI=\nTimestamp: 1689177396617352539\n";

    #[test]
    fn parses_rekor_v1_body() {
        let c = Checkpoint::parse(BODY).unwrap();
        assert_eq!(c.origin, "rekor.sigstore.dev - 2605736670972794746");
        assert_eq!(c.size, 23083062);
        assert_eq!(c.extensions, vec!["Timestamp: 1689177396617352539".to_string()]);
        assert_eq!(c.rekor_v1_origin(), Some(("rekor.sigstore.dev", 2605736670972794746)));
        assert_eq!(c.to_body(), BODY);
        assert!(c.check_rekor_v1_host("rekor.sigstore.dev").is_ok());
        assert!(c.check_rekor_v1_host("rekor.sigstore").is_err());
        assert!(c.check_origin("rekor.sigstore.dev").is_err());
    }

    #[test]
    fn rekor_v1_origin_split() {
        assert_eq!(split_rekor_v1_origin("a - 0"), Some(("a", 0)));
        assert_eq!(split_rekor_v1_origin("a - 01"), None);
        assert_eq!(split_rekor_v1_origin("a -1"), None);
        assert_eq!(split_rekor_v1_origin(" - 1"), None);
        assert_eq!(split_rekor_v1_origin("log2025-1.rekor.sigstore.dev"), None);
        assert_eq!(split_rekor_v1_origin("a - 99999999999999999999"), None);
    }

    #[test]
    fn rejects_malformed_bodies() {
        let root = "dauhleYK4YyAdxwwDtR0l0KnSOWZdG2bwqHftlanvcI=";
        for (body, what) in [
            (format!("o\n1\n{root}"), "no final newline"),
            (format!("\n1\n{root}\n"), "empty origin"),
            (format!("o\n01\n{root}\n"), "leading zero"),
            (format!("o\n00\n{root}\n"), "leading zero"),
            (format!("o\n+1\n{root}\n"), "sign"),
            (format!("o\n-1\n{root}\n"), "sign"),
            (format!("o\n 1\n{root}\n"), "space"),
            (format!("o\n18446744073709551616\n{root}\n"), "overflow"),
            (format!("o\n\n{root}\n"), "empty size"),
            ("o\n1\n".to_string(), "missing root"),
            (format!("o\n{root}\n"), "missing size"),
            ("o\n1\nAAAA\n".to_string(), "short root"),
            (format!("o\n1\n{}\n", &root[..43]), "unpadded root"),
            (
                "o\n1\ndauhleYK4YyAdxwwDtR0l0KnSOWZdG2bwqHftlanvcJ=\n".to_string(),
                "non-canonical trailing bits",
            ),
            (format!("o\n1\n{root}\n\n"), "empty extension"),
            (format!("o\n1\n{root}\r\n"), "carriage return"),
            (format!("o\t\n1\n{root}\n"), "tab"),
        ] {
            assert!(Checkpoint::parse(&body).is_err(), "{what}: {body:?}");
        }
        assert_eq!(Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size, 0);
    }

    #[test]
    fn sign_rejects_unserializable_fields() {
        let mut c = Checkpoint::parse(BODY).unwrap();
        c.origin = "a\nb".into();
        assert!(SignedCheckpoint::sign(c, "k", [0; 4], |_| vec![1]).is_err());
        let mut c = Checkpoint::parse(BODY).unwrap();
        c.extensions.push(String::new());
        assert!(SignedCheckpoint::sign(c, "k", [0; 4], |_| vec![1]).is_err());
        let c = Checkpoint::parse(BODY).unwrap();
        assert!(SignedCheckpoint::sign(c.clone(), "bad name", [0; 4], |_| vec![1]).is_err());
        let s = SignedCheckpoint::sign(c, "k", [1, 2, 3, 4], |_| vec![9, 9]).unwrap();
        assert_eq!(SignedCheckpoint::parse(&s.to_text()).unwrap(), s);
    }
}
