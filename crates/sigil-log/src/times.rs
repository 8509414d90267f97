//! The integration time of every entry: `<dir>/integrated-times`, one big-endian i64 (Unix seconds) per entry,
//! at offset `8 × index`.
//!
//! Rekor v1 promises an entry's `integratedTime` in its SET, and a verifier checks the certificate against it, so
//! the time must be the same on every read. The file is appended and fsynced with the batch, before the checkpoint
//! that acknowledges it is signed; recovery truncates whatever a crashed batch wrote past the committed size.
//! A fixed-size record per entry keeps lookups at one positioned read and memory flat.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::Error;

const RECORD: u64 = 8;

#[derive(Debug)]
pub(crate) struct Times {
    path: PathBuf,
    reader: File,
}

#[derive(Debug)]
pub(crate) struct TimesWriter {
    path: PathBuf,
    file: File,
}

/// Opens the file, truncating it to `size` records; fails if it holds fewer (the times of acknowledged entries
/// would be lost). A log created before `size` > 0 with no file at all is also refused.
pub(crate) fn open(dir: &Path, size: u64) -> Result<(Times, TimesWriter), Error> {
    let path = dir.join("integrated-times");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, &e))?;
    let len = file.metadata().map_err(|e| Error::io("stat", &path, &e))?.len();
    let want = size.saturating_mul(RECORD);
    if len < want {
        return Err(Error::Corrupt(format!(
            "{} holds {} entries' times but the tree has {size}",
            path.display(),
            len / RECORD
        )));
    }
    if len > want {
        file.set_len(want).map_err(|e| Error::io("truncate", &path, &e))?;
        file.sync_all().map_err(|e| Error::io("fsync", &path, &e))?;
    }
    crate::fsio::sync_dir(dir)?;
    let reader = File::open(&path).map_err(|e| Error::io("open", &path, &e))?;
    let mut writer = TimesWriter {
        path: path.clone(),
        file,
    };
    writer.seek_end()?;
    Ok((Times { path, reader }, writer))
}

impl TimesWriter {
    fn seek_end(&mut self) -> Result<(), Error> {
        use std::io::Seek as _;
        self.file
            .seek(std::io::SeekFrom::End(0))
            .map(|_| ())
            .map_err(|e| Error::io("seek", &self.path, &e))
    }

    /// Appends `count` records of `time` and makes them durable.
    pub(crate) fn append(&mut self, time: i64, count: usize) -> Result<(), Error> {
        let rec = time.to_be_bytes();
        let buf: Vec<u8> = std::iter::repeat_n(rec, count).flatten().collect();
        self.file
            .write_all(&buf)
            .map_err(|e| Error::io("write", &self.path, &e))?;
        self.file.sync_data().map_err(|e| Error::io("fsync", &self.path, &e))
    }

    /// Drops records past `size` (after a failed batch) so the next append lands at the right offset.
    pub(crate) fn truncate(&mut self, size: u64) -> Result<(), Error> {
        self.file
            .set_len(size.saturating_mul(RECORD))
            .map_err(|e| Error::io("truncate", &self.path, &e))?;
        self.seek_end()
    }
}

impl Times {
    /// The integration time of entry `index` (the caller checks `index` < the committed size).
    pub(crate) fn get(&self, index: u64) -> Result<i64, Error> {
        let mut rec = [0u8; 8];
        read_exact_at(&self.reader, &mut rec, index.saturating_mul(RECORD))
            .map_err(|e| Error::io("read", &self.path, &e))?;
        Ok(i64::from_be_bytes(rec))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = buf.get_mut(n..).unwrap_or_default();
        offset += n as u64;
    }
    Ok(())
}
