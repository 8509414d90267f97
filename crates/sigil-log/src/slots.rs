//! A small state file rewritten in place: two fixed-size slots, written alternately, each whole and checksummed.
//!
//! The checkpoint and the signer's high-water mark change with every batch. Replacing them as files (temp file,
//! fsync, rename, fsync of the directory) made the file system allocate and free two inodes per batch, which was
//! a fifth of a CA's CPU per certificate under load (docs/ca-performance.md). A slot file is written with one
//! positioned write and one fdatasync, and never changes size. A write torn by a crash damages only the slot it
//! went to, whose checksum then fails, and the other slot still holds the previous value: a reader always gets
//! the last value whose fdatasync completed, or the one before it.
//!
//! Slot layout (`SLOT` bytes): the payload, zero padding, then a footer of the payload length (u16), the write
//! sequence number (u64), SHA-256 over payload, length and sequence number, and the magic. The payload comes first
//! so that a system-call trace shows its beginning (the power-loss test reads the tree size there).

use std::fs::{File, OpenOptions};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use crate::{Error, fsio};

const SLOT: usize = 4096;
const MAGIC: &[u8; 8] = b"sigilSLT";
const FOOTER: usize = 2 + 8 + 32 + 8;
/// Largest payload a slot holds.
pub(crate) const MAX_PAYLOAD: usize = SLOT - FOOTER;

/// A slot file open for writing.
#[derive(Debug)]
pub(crate) struct SlotFile {
    path: PathBuf,
    file: File,
    /// Sequence number of the newest valid slot.
    seq: u64,
}

/// What a file holds, if it is a slot file: the newest valid payload and its sequence number.
enum Content {
    Slots {
        payload: Vec<u8>,
        seq: u64,
    },
    /// Not a slot file (a state file written before slot files existed): its bytes.
    Plain(Vec<u8>),
}

fn checksum(payload: &[u8], len: u16, seq: u64) -> [u8; 32] {
    let mut data = Vec::with_capacity(payload.len() + 10);
    data.extend_from_slice(payload);
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(&seq.to_be_bytes());
    sigil_crypto::sha256(&data)
}

fn encode(payload: &[u8], seq: u64) -> Result<Vec<u8>, Error> {
    let len = u16::try_from(payload.len())
        .ok()
        .filter(|_| payload.len() <= MAX_PAYLOAD)
        .ok_or(Error::InvalidRequest("state too large for a slot"))?;
    let mut slot = vec![0u8; SLOT - FOOTER];
    slot.get_mut(..payload.len())
        .ok_or(Error::InvalidRequest("state too large for a slot"))?
        .copy_from_slice(payload);
    slot.extend_from_slice(&len.to_be_bytes());
    slot.extend_from_slice(&seq.to_be_bytes());
    slot.extend_from_slice(&checksum(payload, len, seq));
    slot.extend_from_slice(MAGIC);
    Ok(slot)
}

/// A slot's payload and sequence number, if the slot is whole.
fn decode(slot: &[u8]) -> Option<(&[u8], u64)> {
    let (body, footer) = slot.split_at_checked(SLOT - FOOTER)?;
    let (len, rest) = footer.split_first_chunk::<2>()?;
    let (seq, rest) = rest.split_first_chunk::<8>()?;
    let (sum, magic) = rest.split_first_chunk::<32>()?;
    if magic != MAGIC {
        return None;
    }
    let len = u16::from_be_bytes(*len);
    let seq = u64::from_be_bytes(*seq);
    let payload = body.get(..usize::from(len))?;
    (checksum(payload, len, seq) == *sum).then_some((payload, seq))
}

fn parse(bytes: Vec<u8>, path: &Path) -> Result<Content, Error> {
    if bytes.len() != 2 * SLOT || !bytes.chunks_exact(SLOT).any(|slot| slot.ends_with(MAGIC)) {
        return Ok(Content::Plain(bytes));
    }
    let newest = bytes.chunks_exact(SLOT).filter_map(decode).max_by_key(|(_, seq)| *seq);
    match newest {
        Some((payload, seq)) => Ok(Content::Slots {
            payload: payload.to_vec(),
            seq,
        }),
        None => Err(Error::Corrupt(format!("{}: neither slot is intact", path.display()))),
    }
}

/// The current value of the state file at `path` (a slot file, or a plain file from before slot files); `None`
/// if there is none.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fsio::read_optional(path)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(match parse(bytes, path)? {
            Content::Slots { payload, .. } | Content::Plain(payload) => payload,
        })),
    }
}

impl SlotFile {
    /// Opens the slot file at `path` for writing. A missing file, or a plain one from before slot files, is
    /// (re)created durably as a slot file holding `initial`.
    pub(crate) fn open(path: &Path, initial: &[u8]) -> Result<Self, Error> {
        let existing = fsio::read_optional(path)?.map(|b| parse(b, path)).transpose()?;
        if let Some(Content::Slots { seq, .. }) = existing {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io("open", path, &e))?;
            return Ok(Self {
                path: path.to_path_buf(),
                file,
                seq,
            });
        }
        let mut bytes = encode(initial, 0)?;
        bytes.extend_from_slice(&encode(initial, 0)?);
        fsio::replace_file(path, &bytes)?;
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open", path, &e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            seq: 0,
        })
    }

    /// Writes `payload` into the slot not holding the newest value. Not durable until [`Self::sync`].
    pub(crate) fn write(&mut self, payload: &[u8]) -> Result<(), Error> {
        let seq = self.seq + 1;
        let slot = encode(payload, seq)?;
        let offset = (seq % 2) * SLOT as u64;
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seek", &self.path, &e))?;
        self.file
            .write_all(&slot)
            .map_err(|e| Error::io("write", &self.path, &e))?;
        self.seq = seq;
        Ok(())
    }

    /// Makes the last write durable.
    pub(crate) fn sync(&self) -> Result<(), Error> {
        self.file
            .sync_data()
            .map_err(|e| Error::io("fdatasync", &self.path, &e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_intact_slot_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state");
        let mut f = SlotFile::open(&path, b"zero").unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"zero");
        f.write(b"one").unwrap();
        f.sync().unwrap();
        f.write(b"two").unwrap();
        f.sync().unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"two");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * SLOT as u64);
        // A torn write of the next value (to slot 1, which held "one"; "two" is in slot 0) leaves "two".
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..3], b"two");
        bytes[SLOT..SLOT + 3].copy_from_slice(b"thr");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"two");
        // Reopened, the writer continues after the newest slot and overwrites the damaged one.
        let mut f = SlotFile::open(&path, b"unused").unwrap();
        f.write(b"three").unwrap();
        f.sync().unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"three");
        // Both slots damaged: refused, not guessed.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] ^= 1;
        bytes[SLOT] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(read(&path), Err(Error::Corrupt(_))));
    }

    #[test]
    fn a_plain_file_is_read_then_converted() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state");
        std::fs::write(&path, b"5\nroot\n").unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"5\nroot\n");
        let mut f = SlotFile::open(&path, b"5\nroot\n").unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"5\nroot\n");
        f.write(b"6\nroot\n").unwrap();
        f.sync().unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"6\nroot\n");
        assert!(encode(&[0; MAX_PAYLOAD + 1], 1).is_err());
        assert!(decode(&encode(&[7; MAX_PAYLOAD], 9).unwrap()).is_some());
    }
}
