//! The search index behind `POST /api/v1/index/retrieve`: search key → entry indexes, in its own redb file.
//!
//! Like Rekor v1's Redis index it is best-effort and eventually consistent: a background thread indexes entries
//! after they are durable, deriving keys from the leaf bytes alone ([`crate::entry::search_keys`]), so after a
//! crash it simply resumes from the size it recorded. Clients must never rely on search for trust (L-16); they
//! bind an entry through its recomputed leaf hash and inclusion proof.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use redb::{Database, Durability, MultimapTableDefinition, TableDefinition};

use crate::index::open_db;
use crate::{Error, Log};

const KEYS: MultimapTableDefinition<&str, u64> = MultimapTableDefinition::new("keys");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const INDEXED_SIZE: &str = "indexed_size";
/// Entries indexed per transaction.
const CHUNK: u64 = 4096;

#[derive(Debug)]
pub struct Search {
    db: Database,
    stop: AtomicBool,
    wake: (Mutex<bool>, Condvar),
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Search {
    /// Opens (or creates) the index at `path` and starts indexing `log` in the background.
    pub fn start(path: &Path, log: Arc<Log>) -> Result<Arc<Self>, Error> {
        let db = open_db(path)?;
        let txn = db.begin_write().map_err(Error::index)?;
        {
            txn.open_multimap_table(KEYS).map_err(Error::index)?;
            txn.open_table(META).map_err(Error::index)?;
        }
        txn.commit().map_err(Error::index)?;
        let search = Arc::new(Self {
            db,
            stop: AtomicBool::new(false),
            wake: (Mutex::new(false), Condvar::new()),
            worker: Mutex::new(None),
        });
        let worker = Arc::clone(&search);
        let handle = std::thread::Builder::new()
            .name("sigil-log-search".into())
            .spawn(move || worker.run(&log))
            .map_err(|e| Error::io("spawn search thread", path, &e))?;
        if let Ok(mut w) = search.worker.lock() {
            *w = Some(handle);
        }
        Ok(search)
    }

    /// Asks the indexer to look for new entries now.
    pub fn notify(&self) {
        let (lock, cv) = &self.wake;
        if let Ok(mut woken) = lock.lock() {
            *woken = true;
            cv.notify_one();
        }
    }

    /// Stops the indexer thread.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
        if let Some(h) = self.worker.lock().ok().and_then(|mut w| w.take()) {
            let _ = h.join();
        }
    }

    pub fn indexed_size(&self) -> Result<u64, Error> {
        let txn = self.db.begin_read().map_err(Error::index)?;
        let meta = txn.open_table(META).map_err(Error::index)?;
        Ok(meta.get(INDEXED_SIZE).map_err(Error::index)?.map_or(0, |v| v.value()))
    }

    /// Entry indexes matching all (`all`) or any of `keys`, ascending, at most `limit`.
    pub fn lookup(&self, keys: &[String], all: bool, limit: usize) -> Result<Vec<u64>, Error> {
        let txn = self.db.begin_read().map_err(Error::index)?;
        let table = txn.open_multimap_table(KEYS).map_err(Error::index)?;
        let mut result: Option<std::collections::BTreeSet<u64>> = None;
        for key in keys {
            let mut set = std::collections::BTreeSet::new();
            for v in table.get(key.as_str()).map_err(Error::index)? {
                set.insert(v.map_err(Error::index)?.value());
                // Bound the work one hot key can cause.
                if set.len() > limit.saturating_mul(4) {
                    break;
                }
            }
            result = Some(match result {
                None => set,
                Some(acc) if all => acc.intersection(&set).copied().collect(),
                Some(acc) => acc.union(&set).copied().collect(),
            });
        }
        Ok(result.unwrap_or_default().into_iter().take(limit).collect())
    }

    fn run(&self, log: &Log) {
        while !self.stop.load(Ordering::SeqCst) {
            if let Err(e) = self.catch_up(log) {
                tracing::warn!(error = %e, "search indexing failed; retrying");
            }
            let (lock, cv) = &self.wake;
            if let Ok(mut woken) = lock.lock() {
                if !*woken {
                    woken = match cv.wait_timeout(woken, Duration::from_millis(200)) {
                        Ok((g, _)) => g,
                        Err(p) => p.into_inner().0,
                    };
                }
                *woken = false;
            }
        }
    }

    /// Indexes every durable entry not indexed yet.
    fn catch_up(&self, log: &Log) -> Result<(), Error> {
        let mut from = self.indexed_size()?;
        let size = log.size();
        if from > size {
            // The index is ahead of the log (an older data directory with a newer index): start over.
            let txn = self.db.begin_write().map_err(Error::index)?;
            txn.delete_multimap_table(KEYS).map_err(Error::index)?;
            txn.open_multimap_table(KEYS).map_err(Error::index)?;
            txn.open_table(META)
                .map_err(Error::index)?
                .insert(INDEXED_SIZE, 0)
                .map_err(Error::index)?;
            txn.commit().map_err(Error::index)?;
            from = 0;
        }
        while from < size && !self.stop.load(Ordering::SeqCst) {
            let to = (from + CHUNK).min(size);
            let entries = log.entries(from, to)?;
            let mut txn = self.db.begin_write().map_err(Error::index)?;
            txn.set_durability(Durability::Eventual);
            {
                let mut table = txn.open_multimap_table(KEYS).map_err(Error::index)?;
                for (i, body) in (from..to).zip(&entries) {
                    for key in crate::entry::search_keys(body) {
                        table.insert(key.as_str(), i).map_err(Error::index)?;
                    }
                }
                let mut meta = txn.open_table(META).map_err(Error::index)?;
                meta.insert(INDEXED_SIZE, to).map_err(Error::index)?;
            }
            txn.commit().map_err(Error::index)?;
            from = to;
        }
        Ok(())
    }
}

impl Drop for Search {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
