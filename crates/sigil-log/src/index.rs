//! The de-duplication index: leaf hash → index, in redb.
//!
//! The index is derived data: level-0 tiles hold every leaf hash, so whatever the index lacks after a crash is
//! re-read from them at open. Commits therefore use redb's non-durable commits (crash-consistent, no fsync),
//! with a durable commit every [`DURABLE_EVERY`] entries to bound the work of that catch-up.
//!
//! A durable redb commit takes time that grows with the database (about 140 ms at 16 k entries on the project
//! machine), so it must not sit between a batch and its answers. The integrator [`Index::stage`]s a batch's
//! pairs in memory, where lookups see them at once, and a background thread [`Index::commit`]s them to redb
//! and only then drops them from memory: a pair is always in one place or the other.

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{Database, Durability, TableDefinition};
use sigil_tlog::Hash;

use crate::Error;

const LEAVES: TableDefinition<&[u8], u64> = TableDefinition::new("leaves");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const INDEXED_SIZE: &str = "indexed_size";
/// Entries between durable commits of the index.
pub(crate) const DURABLE_EVERY: u64 = 16_384;

#[derive(Debug)]
pub(crate) struct Index {
    db: Database,
    last_durable: AtomicU64,
    /// Pairs staged by the integrator, not yet committed to `db`.
    staged: RwLock<HashMap<Hash, u64>>,
}

impl Index {
    pub(crate) fn open(path: &Path) -> Result<Self, Error> {
        let db = open_db(path)?;
        let txn = db.begin_write().map_err(Error::index)?;
        {
            txn.open_table(LEAVES).map_err(Error::index)?;
            txn.open_table(META).map_err(Error::index)?;
        }
        txn.commit().map_err(Error::index)?;
        let index = Self {
            db,
            last_durable: AtomicU64::new(0),
            staged: RwLock::new(HashMap::new()),
        };
        index.last_durable.store(index.indexed_size()?, Ordering::Relaxed);
        Ok(index)
    }

    /// Number of leaves (from index 0) the index covers.
    pub(crate) fn indexed_size(&self) -> Result<u64, Error> {
        let txn = self.db.begin_read().map_err(Error::index)?;
        let meta = txn.open_table(META).map_err(Error::index)?;
        Ok(meta.get(INDEXED_SIZE).map_err(Error::index)?.map_or(0, |v| v.value()))
    }

    /// Drops every entry (used when the index is ahead of the durable tree).
    pub(crate) fn clear(&self) -> Result<(), Error> {
        let txn = self.db.begin_write().map_err(Error::index)?;
        txn.delete_table(LEAVES).map_err(Error::index)?;
        {
            txn.open_table(LEAVES).map_err(Error::index)?;
            let mut meta = txn.open_table(META).map_err(Error::index)?;
            meta.insert(INDEXED_SIZE, 0).map_err(Error::index)?;
        }
        txn.commit().map_err(Error::index)?;
        self.last_durable.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// The index of `leaf_hash` if it is among the first `size` leaves.
    pub(crate) fn lookup(&self, leaf_hash: &Hash, size: u64) -> Result<Option<u64>, Error> {
        // Staged first: `commit` writes to redb before it unstages, so a pair is never in neither.
        let staged = self.staged.read().map_err(|_| Error::Poisoned)?.get(leaf_hash).copied();
        if let Some(i) = staged {
            return Ok(Some(i).filter(|i| *i < size));
        }
        let txn = self.db.begin_read().map_err(Error::index)?;
        let t = txn.open_table(LEAVES).map_err(Error::index)?;
        let found = t.get(leaf_hash.as_slice()).map_err(Error::index)?.map(|v| v.value());
        Ok(found.filter(|i| *i < size))
    }

    /// Makes `(hash, index)` pairs visible to lookups at once, before they are committed.
    pub(crate) fn stage(&self, pairs: &[(Hash, u64)]) -> Result<(), Error> {
        self.staged
            .write()
            .map_err(|_| Error::Poisoned)?
            .extend(pairs.iter().copied());
        Ok(())
    }

    /// Number of pairs staged and not yet committed.
    pub(crate) fn staged_len(&self) -> usize {
        self.staged.read().map_or(0, |s| s.len())
    }

    /// Commits staged pairs to redb (recording that the first `new_size` leaves are indexed), then unstages them.
    pub(crate) fn commit(&self, pairs: &[(Hash, u64)], new_size: u64) -> Result<(), Error> {
        self.insert(pairs, new_size, false)?;
        let mut staged = self.staged.write().map_err(|_| Error::Poisoned)?;
        for (hash, _) in pairs {
            staged.remove(hash);
        }
        Ok(())
    }

    /// Adds `(hash, index)` pairs and records that the first `new_size` leaves are indexed.
    pub(crate) fn insert(&self, pairs: &[(Hash, u64)], new_size: u64, force_durable: bool) -> Result<(), Error> {
        let mut txn = self.db.begin_write().map_err(Error::index)?;
        let last_durable = self.last_durable.load(Ordering::Relaxed);
        let durable = force_durable || new_size.saturating_sub(last_durable) >= DURABLE_EVERY;
        txn.set_durability(if durable {
            Durability::Immediate
        } else {
            Durability::None
        });
        {
            let mut t = txn.open_table(LEAVES).map_err(Error::index)?;
            for (hash, index) in pairs {
                t.insert(hash.as_slice(), *index).map_err(Error::index)?;
            }
            let mut meta = txn.open_table(META).map_err(Error::index)?;
            meta.insert(INDEXED_SIZE, new_size).map_err(Error::index)?;
        }
        txn.commit().map_err(Error::index)?;
        if durable {
            self.last_durable.store(new_size, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// redb's page cache, per database. redb's default (1 GiB) would let memory grow with the index; the index is
/// read at random by leaf hash, so a large cache buys little, and a fixed one keeps the process's memory flat
/// however long the log grows.
const CACHE_BYTES: usize = 32 << 20;

/// Opens (or creates) a redb database with the bounded cache.
pub(crate) fn open_db(path: &Path) -> Result<Database, Error> {
    redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
        .create(path)
        .map_err(Error::index)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn staged_pairs_are_found_before_and_after_their_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let index = Index::open(&tmp.path().join("dedup.redb")).unwrap();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        index.stage(&[(a, 0), (b, 1)]).unwrap();
        assert_eq!(index.lookup(&a, 2).unwrap(), Some(0));
        // Not yet published at size 1: index 1 is beyond it.
        assert_eq!(index.lookup(&b, 1).unwrap(), None);
        assert_eq!(index.indexed_size().unwrap(), 0);
        index.commit(&[(a, 0), (b, 1)], 2).unwrap();
        assert_eq!(index.staged_len(), 0);
        assert_eq!(index.lookup(&b, 2).unwrap(), Some(1));
        assert_eq!(index.indexed_size().unwrap(), 2);
        assert_eq!(index.lookup(&[3u8; 32], 2).unwrap(), None);
    }
}
