//! The de-duplication index: leaf hash → index, in redb.
//!
//! The index is derived data: level-0 tiles hold every leaf hash, so whatever the index lacks after a crash is
//! re-read from them at open. Per-batch commits therefore use redb's non-durable commits (crash-consistent, no
//! fsync), with a durable commit every [`DURABLE_EVERY`] entries to bound the work of that catch-up.

use std::path::Path;

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
    last_durable: u64,
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
        let mut index = Self { db, last_durable: 0 };
        index.last_durable = index.indexed_size()?;
        Ok(index)
    }

    /// Number of leaves (from index 0) the index covers.
    pub(crate) fn indexed_size(&self) -> Result<u64, Error> {
        let txn = self.db.begin_read().map_err(Error::index)?;
        let meta = txn.open_table(META).map_err(Error::index)?;
        Ok(meta.get(INDEXED_SIZE).map_err(Error::index)?.map_or(0, |v| v.value()))
    }

    /// Drops every entry (used when the index is ahead of the durable tree).
    pub(crate) fn clear(&mut self) -> Result<(), Error> {
        let txn = self.db.begin_write().map_err(Error::index)?;
        txn.delete_table(LEAVES).map_err(Error::index)?;
        {
            txn.open_table(LEAVES).map_err(Error::index)?;
            let mut meta = txn.open_table(META).map_err(Error::index)?;
            meta.insert(INDEXED_SIZE, 0).map_err(Error::index)?;
        }
        txn.commit().map_err(Error::index)?;
        self.last_durable = 0;
        Ok(())
    }

    /// The index of `leaf_hash` if it is among the first `size` leaves.
    pub(crate) fn lookup(&self, leaf_hash: &Hash, size: u64) -> Result<Option<u64>, Error> {
        let txn = self.db.begin_read().map_err(Error::index)?;
        let t = txn.open_table(LEAVES).map_err(Error::index)?;
        let found = t.get(leaf_hash.as_slice()).map_err(Error::index)?.map(|v| v.value());
        Ok(found.filter(|i| *i < size))
    }

    /// Adds `(hash, index)` pairs and records that the first `new_size` leaves are indexed.
    pub(crate) fn insert(&mut self, pairs: &[(Hash, u64)], new_size: u64, force_durable: bool) -> Result<(), Error> {
        let mut txn = self.db.begin_write().map_err(Error::index)?;
        let durable = force_durable || new_size.saturating_sub(self.last_durable) >= DURABLE_EVERY;
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
            self.last_durable = new_size;
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
