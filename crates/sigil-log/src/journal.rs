//! The entries past the last full entry bundle, made durable by appending them to one file per bundle
//! (`<dir>/journal/<bundle index>`, in entry-bundle encoding).
//!
//! A batch used to make its new level-0 partial tile and partial entry bundle durable as two new files (temp
//! file, fsync, rename, fsync of their directories). Creating and syncing files was most of a small batch's
//! cost, and a CA waits for a batch before every certificate. Now a batch appends its entries to the current
//! bundle's journal and fdatasyncs that one file. The level-0 partial tile is the hashes of those entries: kept
//! in memory ([`crate::tree::Edge`]) and re-derived from the journal at open. The partial files a static server
//! would serve are still written when the log is asked to (`LogOptions::partial_tile_files`), but as derived data:
//! visible before the checkpoint that needs them, not fsynced, and rewritten from the journal at open.
//!
//! When a batch fills the bundle, the full bundle and tile are written as durable files as before, and the
//! batch's remaining entries start the next bundle's journal. The filled bundle's journal is removed once a
//! checkpoint covering the full files is durable. After a crash, a journal may hold entries of a batch that was
//! never acknowledged, or a torn last record: recovery keeps exactly the entries of the committed tree.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use sigil_tlog::TILE_WIDTH;

use crate::{Error, fsio, tree};

const WIDTH: u64 = TILE_WIDTH as u64;

/// The journal directory of the log in `root`.
pub(crate) fn dir(root: &Path) -> PathBuf {
    root.join("journal")
}

fn path(root: &Path, bundle: u64) -> PathBuf {
    dir(root).join(bundle.to_string())
}

/// The journal of the bundle being filled, open for appending.
#[derive(Debug)]
pub(crate) struct Journal {
    root: PathBuf,
    bundle: u64,
    /// `None` until the bundle's first entry is appended.
    file: Option<File>,
    /// Bytes of entries written (the append offset).
    len: u64,
    /// Journals of filled bundles, removed by [`Self::remove_filled`].
    filled: Vec<u64>,
}

/// The entries of the partial bundle of a tree of `size` leaves, as the journal (or, for a log written before
/// journals existed, the durable partial bundle file) holds them. Reads only: nothing is repaired here, so a
/// log whose checks fail at open is left as it was.
pub(crate) fn read_partial(root: &Path, size: u64) -> Result<Vec<Vec<u8>>, Error> {
    let want = usize::try_from(size % WIDTH).unwrap_or(usize::MAX);
    if want == 0 {
        return Ok(Vec::new());
    }
    let bundle = size / WIDTH;
    let journal = path(root, bundle);
    let (bytes, what) = match fsio::read_optional(&journal)? {
        Some(bytes) => (bytes, journal.display().to_string()),
        None => {
            let legacy = sigil_tlog::entries_path(bundle, u16::try_from(want).unwrap_or(TILE_WIDTH))?;
            let bytes = fsio::read_optional(&root.join(&legacy))?
                .ok_or_else(|| Error::Corrupt(format!("the journal {} is missing", journal.display())))?;
            (bytes, legacy)
        }
    };
    let (entries, _) = tree::bundle_prefix(&bytes, want).ok_or_else(|| {
        Error::Corrupt(format!(
            "{what} holds fewer than the {want} entries of the tree at size {size}"
        ))
    })?;
    Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
}

/// The first `width` entries of bundle `bundle` in entry-bundle encoding, for readers of a partial bundle: from
/// its journal, or from the full bundle file if the bundle was filled (and its journal removed) meanwhile.
pub(crate) fn read_prefix(root: &Path, bundle: u64, width: u16) -> Result<Vec<u8>, Error> {
    let journal = path(root, bundle);
    let (mut bytes, what) = match fsio::read_optional(&journal)? {
        Some(bytes) => (bytes, journal.display().to_string()),
        None => {
            let full = sigil_tlog::entries_path(bundle, TILE_WIDTH)?;
            let bytes = fsio::read_optional(&root.join(&full))?
                .ok_or_else(|| Error::Corrupt(format!("the journal {} is missing", journal.display())))?;
            (bytes, full)
        }
    };
    let (_, used) = tree::bundle_prefix(&bytes, usize::from(width))
        .ok_or_else(|| Error::Corrupt(format!("{what} holds fewer than {width} entries")))?;
    bytes.truncate(used);
    Ok(bytes)
}

impl Journal {
    /// Recovery at open, once the tree of `size` leaves has been checked: cuts the current bundle's journal to
    /// exactly `partial` (its committed entries, from [`read_partial`]), writes it if the log predates journals,
    /// and removes every other journal (filled bundles whose removal was lost, bundles of an unacknowledged batch).
    pub(crate) fn recover(root: &Path, size: u64, partial: &[Vec<u8>]) -> Result<Self, Error> {
        let bundle = size / WIDTH;
        let jdir = dir(root);
        let keep = bundle.to_string();
        let mut dir_changed = false;
        let listing = fs::read_dir(&jdir).map_err(|e| Error::io("read directory", &jdir, &e))?;
        for entry in listing {
            let entry = entry.map_err(|e| Error::io("read directory", &jdir, &e))?;
            if partial.is_empty() || entry.file_name().to_str() != Some(keep.as_str()) {
                dir_changed |= fsio::remove_optional(&entry.path())?;
            }
        }
        let mut journal = Self {
            root: root.to_path_buf(),
            bundle,
            file: None,
            len: 0,
            filled: Vec::new(),
        };
        if !partial.is_empty() {
            let bytes = tree::bundle_bytes(partial);
            let p = path(root, bundle);
            let existing = OpenOptions::new().write(true).open(&p);
            match existing {
                Ok(file) => {
                    let want = bytes.len() as u64;
                    let len = file.metadata().map_err(|e| Error::io("stat", &p, &e))?.len();
                    if len != want {
                        file.set_len(want).map_err(|e| Error::io("truncate", &p, &e))?;
                        file.sync_data().map_err(|e| Error::io("fdatasync", &p, &e))?;
                    }
                    journal.file = Some(file);
                    journal.len = want;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    journal.append(partial)?;
                    dir_changed = false;
                }
                Err(e) => return Err(Error::io("open", &p, &e)),
            }
        }
        if dir_changed {
            fsio::sync_dir(&jdir)?;
        }
        Ok(journal)
    }

    /// Appends `entries` to the current bundle's journal (creating it for the bundle's first entries) and makes
    /// them durable: one write and one fdatasync (plus a directory fsync when the file is new).
    pub(crate) fn append(&mut self, entries: &[Vec<u8>]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let p = path(&self.root, self.bundle);
        let created = self.file.is_none();
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(
                OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&p)
                    .map_err(|e| Error::io("create", &p, &e))?,
            ),
        };
        let bytes = tree::bundle_bytes(entries);
        file.seek(SeekFrom::Start(self.len))
            .map_err(|e| Error::io("seek", &p, &e))?;
        file.write_all(&bytes).map_err(|e| Error::io("write", &p, &e))?;
        file.sync_data().map_err(|e| Error::io("fdatasync", &p, &e))?;
        if created {
            fsio::sync_dir(&dir(&self.root))?;
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Moves on to bundle `bundle` after a batch filled the current one (its full bundle file is written with the
    /// batch), durably journaling `entries`: the batch's entries past the bundles it filled.
    pub(crate) fn start(&mut self, bundle: u64, entries: &[Vec<u8>]) -> Result<(), Error> {
        self.filled.push(self.bundle);
        self.bundle = bundle;
        self.file = None;
        self.len = 0;
        self.append(entries)
    }

    /// Removes the journals of filled bundles. Call only once a checkpoint covering their full bundle files is
    /// durable. Best effort: a journal left behind is removed by the next recovery.
    pub(crate) fn remove_filled(&mut self) {
        if self.filled.is_empty() {
            return;
        }
        for bundle in std::mem::take(&mut self.filled) {
            let _ = fsio::remove_optional(&path(&self.root, bundle));
        }
        let _ = fsio::sync_dir(&dir(&self.root));
    }
}
