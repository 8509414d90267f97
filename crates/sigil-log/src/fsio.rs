//! Durable file writes: temp file, fsync, atomic rename, fsync of the directory.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;

/// Writes files under a root directory so that, once [`Writer::commit`] returns, every file written is durable
/// under its final name (or, after a crash before that, absent or with its previous content: never half-written).
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    root: &'a Path,
    tmp_dir: PathBuf,
    /// Directories whose entries changed (renames, new subdirectories): fsynced at commit.
    dirty_dirs: BTreeSet<PathBuf>,
    /// Temp files written (fsynced at commit, together), waiting for their rename.
    staged: Vec<(PathBuf, PathBuf, File)>,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl<'a> Writer<'a> {
    pub(crate) fn new(root: &'a Path) -> Self {
        Self {
            root,
            tmp_dir: root.join("tmp"),
            dirty_dirs: BTreeSet::new(),
            staged: Vec::new(),
        }
    }

    /// Writes `data` to a temp file; its fsync and the rename to `rel` happen in [`Self::commit`].
    pub(crate) fn stage(&mut self, rel: &str, data: &[u8]) -> Result<(), Error> {
        let target = self.root.join(rel);
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self.tmp_dir.join(format!("{}.{n}.tmp", std::process::id()));
        let f = create_written(&tmp, data)?;
        if let Some(parent) = target.parent() {
            self.ensure_dir(parent)?;
        }
        self.staged.push((tmp, target, f));
        Ok(())
    }

    /// Creates `dir` and any missing parents, remembering every directory whose entries changed.
    fn ensure_dir(&mut self, dir: &Path) -> Result<(), Error> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.ensure_dir(parent)?;
            self.dirty_dirs.insert(parent.to_path_buf());
        }
        match fs::create_dir(dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(Error::io("create directory", dir, &e)),
        }
    }

    /// fsyncs every staged file, renames them into place, then fsyncs every changed directory. The fsyncs of
    /// each phase run concurrently (they are independent; a batch waits for the slowest instead of their sum),
    /// and no rename happens before every file's data is durable.
    pub(crate) fn commit(mut self) -> Result<(), Error> {
        let staged = std::mem::take(&mut self.staged);
        in_parallel(&staged, |(tmp, _, f)| {
            f.sync_all().map_err(|e| Error::io("fsync", tmp, &e))
        })?;
        for (tmp, target, f) in staged {
            drop(f);
            fs::rename(&tmp, &target).map_err(|e| Error::io("rename into", &target, &e))?;
            if let Some(parent) = target.parent() {
                self.dirty_dirs.insert(parent.to_path_buf());
            }
        }
        let dirs: Vec<&PathBuf> = self.dirty_dirs.iter().collect();
        in_parallel(&dirs, |dir| sync_dir(dir))
    }

    /// Renames every staged file into place without fsyncing it: for derived files that must never be seen half
    /// written but need not survive a crash (open rewrites them). Directories it had to create are still made
    /// durable: durable files are written into them later.
    pub(crate) fn publish(mut self) -> Result<(), Error> {
        for (tmp, target, f) in std::mem::take(&mut self.staged) {
            drop(f);
            fs::rename(&tmp, &target).map_err(|e| Error::io("rename into", &target, &e))?;
        }
        let dirs: Vec<&PathBuf> = self.dirty_dirs.iter().collect();
        in_parallel(&dirs, |dir| sync_dir(dir))
    }
}

/// Runs `op` on every item, on scoped threads when there is more than one; the first error wins.
fn in_parallel<T: Sync>(items: &[T], op: impl Fn(&T) -> Result<(), Error> + Sync) -> Result<(), Error> {
    match items {
        [] => Ok(()),
        [one] => op(one),
        many => std::thread::scope(|scope| {
            let op = &op;
            let handles: Vec<_> = many.iter().map(|item| scope.spawn(move || op(item))).collect();
            let mut result = Ok(());
            for h in handles {
                let r = h.join().unwrap_or_else(|_| {
                    Err(Error::io(
                        "fsync",
                        Path::new("(worker thread)"),
                        &std::io::Error::other("it panicked"),
                    ))
                });
                if result.is_ok() {
                    result = r;
                }
            }
            result
        }),
    }
}

/// Creates (or truncates) `path`, writes `data`, fsyncs it. `mode` sets Unix permissions on creation.
pub(crate) fn write_synced(path: &Path, data: &[u8], mode: Option<u32>) -> Result<(), Error> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| Error::io("create", path, &e))?;
    f.write_all(data).map_err(|e| Error::io("write", path, &e))?;
    f.sync_all().map_err(|e| Error::io("fsync", path, &e))
}

/// fsyncs a directory, making renames and creations inside it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    let f = File::open(dir).map_err(|e| Error::io("open directory", dir, &e))?;
    f.sync_all().map_err(|e| Error::io("fsync directory", dir, &e))
}

/// Reads a file; `Ok(None)` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, &e)),
    }
}

/// Removes a file if it exists.
pub(crate) fn remove_optional(path: &Path) -> Result<bool, Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("remove", path, &e)),
    }
}

/// Creates (or truncates) `path` and writes `data`, not synced.
fn create_written(path: &Path, data: &[u8]) -> Result<File, Error> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| Error::io("create", path, &e))?;
    f.write_all(data).map_err(|e| Error::io("write", path, &e))?;
    Ok(f)
}

/// Replaces the file at `path` atomically and durably: a temp file next to it is written and fsynced before
/// the rename, and the directory is fsynced after it. After a crash the file holds its old or its new content.
pub(crate) fn replace_file(path: &Path, data: &[u8]) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let f = create_written(&tmp, data)?;
    f.sync_all().map_err(|e| Error::io("fsync", &tmp, &e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io("rename into", path, &e))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}
