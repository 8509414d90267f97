//! The log: open and recover, durable group-committed appends, reads and proofs.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_crypto::VerifyingKey;
use sigil_tlog::{Checkpoint, EMPTY_ROOT, Hash, NoteVerifier, SignedCheckpoint, TILE_WIDTH, hash_leaf};

use crate::history::KeyRecord;
use crate::index::Index;
use crate::journal::{self, Journal};
use crate::keys::{self, ImportedKeys, KeyGeneration, Keys, Staged};
use crate::metrics::LogMetrics;
use crate::slots::{self, SlotFile};
use crate::times::{self, Times, TimesWriter};
use crate::tree::{self, Edge, FullTile, TileCache, TileTree, hashes_at};
use crate::{Error, fsio};

/// Most entries integrated in one batch. Also bounds how far past the committed size a crashed batch can have
/// written, which recovery relies on when it removes that garbage.
pub const MAX_BATCH: usize = 4096;
/// Largest entry: a tile entry bundle prefixes each entry with a uint16 length.
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;
const WIDTH: u64 = TILE_WIDTH as u64;
/// Tile levels a u64-sized tree can have.
const LEVELS: u8 = 8;
/// The checkpoint's slot file (the text file `checkpoint` is a copy for static servers).
const CHECKPOINT_SLOTS: &str = "checkpoint.slots";
/// Longest [`LogOptions::batch_linger`].
pub const MAX_BATCH_LINGER: Duration = Duration::from_millis(20);

/// How to open a log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogOptions {
    /// The checkpoint origin and key name: a schema-less URL, usually the host name (e.g. `log.example.com`).
    pub origin: String,
    /// Where the signer's high-water mark lives. Default: `<data dir>/signer-hwm`. Put it on another volume (next
    /// to an off-box copy of the key) so that restoring an old backup of the data directory is detected.
    pub high_water_mark: Option<PathBuf>,
    /// Most entries per batch (1..=[`MAX_BATCH`]).
    pub max_batch: usize,
    /// Signing keys to use instead of generating them on first start.
    pub keys: ImportedKeys,
    /// How long the integrator may wait for more entries before writing a batch (0, the default: never). It
    /// waits only when more than one entry was already queued when it took the batch (so a lone request is
    /// never delayed) and the batch holds fewer than [`Self::linger_target`] entries, and stops as soon as it
    /// does. At most [`MAX_BATCH_LINGER`]. See [`Self::with_batch_linger`].
    pub batch_linger: Duration,
    /// The batch size at which the integrator stops lingering.
    pub linger_target: usize,
    /// Whether to record each entry's integration time (`integrated-times`, one fdatasync per batch). Default
    /// true: Rekor v1 promises `integratedTime` in its SETs. A log whose entries carry their own time (the CT
    /// log: the SCT timestamp is in the leaf) turns it off: [`Log::integrated_time`] then fails and
    /// [`Appended::integrated_time`] is 0 for an earlier entry's duplicate. Turning it back on for a log that
    /// grew meanwhile is refused at open (the file would lack those entries).
    pub record_times: bool,
    /// Whether to keep the partial level-0 tile and partial entry bundle as files under `tile/` too (default
    /// true), so that a static file server or CDN can serve the data directory. They are derived data: the
    /// journal (`journal.rs`) is what makes entries durable, and open rewrites them from it. A log served only
    /// through its own API (the CT log) turns them off and saves two file creations per batch.
    pub partial_tile_files: bool,
}

impl LogOptions {
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            high_water_mark: None,
            max_batch: MAX_BATCH,
            keys: ImportedKeys::default(),
            batch_linger: Duration::ZERO,
            linger_target: 1,
            record_times: true,
            partial_tile_files: true,
        }
    }

    /// See [`Self::partial_tile_files`].
    pub fn with_partial_tile_files(mut self, write: bool) -> Self {
        self.partial_tile_files = write;
        self
    }

    /// See [`Self::record_times`].
    pub fn with_record_times(mut self, record: bool) -> Self {
        self.record_times = record;
        self
    }

    /// Lets the integrator wait up to `linger` for a batch to reach `target` entries, when entries are arriving
    /// concurrently. Every batch costs a fixed set of writes and fsyncs whatever its size, so
    /// under load a short wait buys fewer, larger batches (less CPU per entry) for a bounded extra latency.
    pub fn with_batch_linger(mut self, linger: Duration, target: usize) -> Self {
        self.batch_linger = linger;
        self.linger_target = target;
        self
    }

    /// Uses these signing keys (stored on first start; checked against the stored ones later).
    pub fn with_keys(mut self, keys: ImportedKeys) -> Self {
        self.keys = keys;
        self
    }

    pub fn with_high_water_mark(mut self, path: impl Into<PathBuf>) -> Self {
        self.high_water_mark = Some(path.into());
        self
    }
}

/// A durably integrated entry and the first checkpoint that contains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub index: u64,
    pub leaf_hash: Hash,
    /// The signed checkpoint (note text) the entry is included in.
    pub checkpoint: Arc<str>,
    pub tree_size: u64,
    pub root_hash: Hash,
    /// When the entry was integrated (Unix seconds; for a duplicate, the original's time, or 0 if the log does
    /// not record times: [`LogOptions::record_times`]).
    pub integrated_time: i64,
    /// The key generation that signed `checkpoint`: sign anything else about this entry (a SET) with it too.
    pub keys: KeyGeneration,
}

impl Appended {
    /// The tree head this entry was first acknowledged in.
    pub fn head(&self) -> TreeHead {
        TreeHead {
            size: self.tree_size,
            root: self.root_hash,
            checkpoint: Arc::clone(&self.checkpoint),
            keys: self.keys.clone(),
        }
    }
}

/// A signed tree head of this log: size, root and the checkpoint that signs them. Only the log constructs one,
/// so anything signed for a `TreeHead` (a v1 checkpoint) is a tree the log really committed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
    /// The Ed25519-signed C2SP checkpoint of this tree.
    pub checkpoint: Arc<str>,
    /// The key generation that signed `checkpoint`.
    pub keys: KeyGeneration,
}

/// Result of [`Log::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// A new entry, now durable.
    New(Appended),
    /// The same bytes were appended before, at `index`; nothing was added.
    Duplicate(Appended),
}

impl AppendOutcome {
    pub fn appended(&self) -> &Appended {
        match self {
            Self::New(a) | Self::Duplicate(a) => a,
        }
    }

    pub fn index(&self) -> u64 {
        self.appended().index
    }

    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Duplicate(_))
    }
}

/// The published state readers see.
#[derive(Debug)]
struct Published {
    edge: Edge,
    root: Hash,
    checkpoint: Arc<str>,
    /// The generation that signed `checkpoint`: the current one.
    keys: KeyGeneration,
}

#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    origin: String,
    /// Every key generation, oldest first; the last is the current one (`keys/history.json`, or for a log never
    /// rotated, its one pair since creation).
    history: Mutex<Vec<KeyRecord>>,
    /// The signer's high-water mark and the checkpoint: slot files rewritten in place (`slots.rs`).
    hwm_file: Mutex<SlotFile>,
    checkpoint_file: Mutex<SlotFile>,
    /// [`LogOptions::partial_tile_files`]: also keep `checkpoint` as a text file for a static server.
    static_files: bool,
    published: RwLock<Arc<Published>>,
    poisoned: AtomicBool,
    /// `None` when the log does not record integration times.
    times: Option<Times>,
    /// When the log was created (Unix seconds): the start of its keys' validity.
    created: i64,
    metrics: LogMetrics,
    tiles: TileCache,
}

type AppendResult = Result<AppendOutcome, Error>;

/// Where the integrator sends a request's outcome: a blocked thread or an awaiting task.
enum Reply {
    Blocking(mpsc::SyncSender<AppendResult>),
    Async(tokio::sync::oneshot::Sender<AppendResult>),
}

impl Reply {
    fn send(self, result: AppendResult) {
        // A caller that went away (timeout, dropped connection) simply does not hear back; the entry stays.
        match self {
            Self::Blocking(tx) => {
                let _ = tx.send(result);
            }
            Self::Async(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

struct AppendRequest {
    leaf: Vec<u8>,
    reply: Reply,
}

/// A rotation for the integrator: the new pair, parsed, and its PKCS#8 DER to store.
struct RotateRequest {
    keys: Keys,
    ed25519_pkcs8: Vec<u8>,
    ecdsa_pkcs8: Vec<u8>,
    reply: mpsc::SyncSender<Result<Rotation, Error>>,
}

/// What the integrator takes from its queue, in order.
enum Request {
    Append(AppendRequest),
    Rotate(Box<RotateRequest>),
}

/// A completed key rotation ([`Log::rotate_keys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rotation {
    /// The generation that signed until now.
    pub retired: KeyGeneration,
    /// The generation that signs from now on.
    pub active: KeyGeneration,
    /// When the switch happened (Unix seconds): the retired keys' last moment and the new keys' first.
    pub at: i64,
}

/// A transparency log stored in a data directory. See the crate documentation for the layout and guarantees.
#[derive(Debug)]
pub struct Log {
    shared: Arc<Shared>,
    index: Arc<Index>,
    tx: Mutex<Option<mpsc::Sender<Request>>>,
    integrator: Mutex<Option<JoinHandle<()>>>,
    /// Commits the index behind the integrator (`index.rs`).
    indexer: Mutex<Option<JoinHandle<()>>>,
    /// The exclusive lock on the data directory, held while the log is open (released by the OS on exit, even
    /// after `kill -9`).
    _lock: fs::File,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Append(a) => f.debug_struct("Append").field("len", &a.leaf.len()).finish(),
            Self::Rotate(_) => f.debug_struct("Rotate").finish_non_exhaustive(),
        }
    }
}

/// The signer's high-water mark: the largest checkpoint it ever signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HighWater {
    size: u64,
    root: Hash,
}

impl HighWater {
    fn encode(&self) -> String {
        format!("{}\n{}\n", self.size, B64.encode(self.root))
    }

    fn decode(bytes: &[u8], path: &Path) -> Result<Self, Error> {
        let bad = || Error::Corrupt(format!("high-water mark {} is malformed", path.display()));
        let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
        let mut lines = text.lines();
        let size = lines.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let root = lines
            .next()
            .and_then(|s| B64.decode(s).ok())
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(bad)?;
        Ok(Self { size, root })
    }
}

impl Log {
    /// Opens the log in `dir`, creating it (and its keys) on first start, or recovering the last durable state.
    ///
    /// Fails if the durable tree is smaller than, or inconsistent with, the last checkpoint the signer signed
    /// (its high-water mark): that is what restoring an old backup looks like.
    pub fn open(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self, Error> {
        let dir = dir.as_ref().to_path_buf();
        sigil_tlog::check_key_name(&options.origin)?;
        if options.max_batch == 0 || options.max_batch > MAX_BATCH {
            return Err(Error::InvalidRequest("max_batch must be 1 to 4096"));
        }
        if options.batch_linger > MAX_BATCH_LINGER {
            return Err(Error::InvalidRequest("batch_linger must be at most 20 ms"));
        }
        for sub in ["", "keys", "tmp", "tile", "journal"] {
            let d = dir.join(sub);
            fs::create_dir_all(&d).map_err(|e| Error::io("create directory", &d, &e))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let d = dir.join("keys");
            fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).map_err(|e| Error::io("chmod", &d, &e))?;
        }
        fsio::sync_dir(&dir)?;
        let lock = lock_dir(&dir)?;
        clear_tmp(&dir.join("tmp"))?;

        let cp_text = stored_checkpoint(&dir)?;
        let (keys, records) = keys::open(&dir.join("keys"), cp_text.is_none(), &options.keys)?;
        let generation = KeyGeneration::new(keys, &options.origin)?;
        // The stored checkpoint may be signed by the previous generation: a crash came between a rotation's
        // commit and the checkpoint it re-signs. It is re-signed below.
        let mut signed_by_old_key = false;
        let hwm_path = options
            .high_water_mark
            .clone()
            .unwrap_or_else(|| dir.join("signer-hwm"));
        let hwm = slots::read(&hwm_path)?
            .map(|b| HighWater::decode(&b, &hwm_path))
            .transpose()?;

        let committed = match &cp_text {
            Some(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|_| Error::Corrupt("checkpoint is not UTF-8".into()))?;
                let retired = records.iter().flatten().filter(|r| r.retired.is_some());
                let (cp, current) = open_checkpoint(
                    text,
                    &options.origin,
                    generation.checkpoint_key(),
                    retired.map(|r| &r.checkpoint_key),
                )?;
                signed_by_old_key = !current;
                HighWater {
                    size: cp.checkpoint.size,
                    root: cp.checkpoint.root_hash,
                }
            }
            None => HighWater {
                size: 0,
                root: EMPTY_ROOT,
            },
        };
        let hwm = match hwm {
            Some(h) => h,
            None if committed.size == 0 => committed,
            None => return Err(Error::MissingHighWaterMark(hwm_path)),
        };

        // The signer may have signed (and persisted its mark for) one batch past the checkpoint file if the crash
        // came between the two writes; the tiles for it are durable by then, so adopt it.
        let target = committed.size.max(hwm.size);
        let loaded = journal::read_partial(&dir, target).and_then(|entries| {
            let level0 = entries.iter().map(|e| hash_leaf(e)).collect();
            Ok((load_edge(&dir, target, level0)?, entries))
        });
        let (edge, entries) = match loaded {
            Ok(loaded) => loaded,
            Err(_) if target > committed.size => {
                return Err(Error::BehindHighWaterMark {
                    durable_size: committed.size,
                    signed_size: hwm.size,
                });
            }
            Err(e) => return Err(e),
        };
        let root = edge.root();
        let recovery_cache = TileCache::default();
        let tree = TileTree {
            root: &dir,
            edge: &edge,
            cache: &recovery_cache,
        };
        if target == committed.size && root != committed.root {
            return Err(Error::Corrupt(format!(
                "the tree re-derived from tiles at size {target} does not match the checkpoint"
            )));
        }
        if tree.subtree(0, hwm.size)? != hwm.root {
            return Err(Error::InconsistentWithHighWaterMark { size: hwm.size });
        }
        if tree.subtree(0, committed.size)? != committed.root {
            return Err(Error::InconsistentWithHighWaterMark { size: committed.size });
        }
        let journal = Journal::recover(&dir, target, &entries)?;
        remove_garbage(&dir, target)?;
        if options.partial_tile_files {
            // Files of narrower widths may be garbage after a power loss (they were never fsynced): drop them all.
            let bundle = target / WIDTH;
            remove_partials(&dir, &sigil_tlog::tile_path(0, bundle, 1)?, 0);
            remove_partials(&dir, &sigil_tlog::entries_path(bundle, 1)?, 0);
            write_partial_files(&dir, &edge, &entries)?;
        }
        let (times, times_writer) = if options.record_times {
            let (t, w) = times::open(&dir, target)?;
            (Some(t), Some(w))
        } else {
            (None, None)
        };
        let created = match fsio::read_optional(&dir.join("created"))? {
            Some(b) => std::str::from_utf8(&b)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| Error::Corrupt("the creation time file is malformed".into()))?,
            None => {
                let t = match &times {
                    Some(times) if target > 0 => times.get(0)?,
                    _ => unix_now(),
                };
                fsio::replace_file(&dir.join("created"), format!("{t}\n").as_bytes())?;
                t
            }
        };

        let hwm_file = SlotFile::open(&hwm_path, hwm.encode().as_bytes())?;
        let checkpoint_file = SlotFile::open(&dir.join(CHECKPOINT_SLOTS), cp_text.as_deref().unwrap_or_default())?;
        if !options.partial_tile_files {
            // A text checkpoint left by an older version would only go stale.
            fsio::remove_optional(&dir.join("checkpoint"))?;
        }
        let history = match records {
            Some(r) => r,
            None => vec![generation.keys().record(created)?],
        };
        let shared = Shared {
            dir: dir.clone(),
            origin: options.origin.clone(),
            history: Mutex::new(history),
            hwm_file: Mutex::new(hwm_file),
            checkpoint_file: Mutex::new(checkpoint_file),
            static_files: options.partial_tile_files,
            published: RwLock::new(Arc::new(Published {
                edge: edge.clone(),
                root,
                checkpoint: Arc::from(""),
                keys: generation.clone(),
            })),
            poisoned: AtomicBool::new(false),
            times,
            created,
            metrics: LogMetrics::default(),
            tiles: TileCache::default(),
        };
        let checkpoint: Arc<str> = match (&cp_text, target == committed.size && !signed_by_old_key) {
            (Some(bytes), true) => {
                let text = String::from_utf8_lossy(bytes);
                shared.write_static_checkpoint(&text)?;
                Arc::from(text.as_ref())
            }
            _ => Arc::from(shared.sign_and_store(&edge, root, hwm, &generation)?.as_str()),
        };
        shared.publish(Published {
            edge: edge.clone(),
            root,
            checkpoint,
            keys: generation,
        });

        let index = Index::open(&dir.join("dedup.redb"))?;
        catch_up_index(&index, &dir, &edge)?;
        let index = Arc::new(index);

        let shared = Arc::new(shared);
        let (tx, rx) = mpsc::channel::<Request>();
        let (to_indexer, indexer_rx) = mpsc::sync_channel::<IndexBatch>(INDEXER_QUEUE);
        let indexer = {
            let (index, shared) = (Arc::clone(&index), Arc::clone(&shared));
            std::thread::Builder::new()
                .name("sigil-log-indexer".into())
                .spawn(move || run_indexer(&index, &shared, &indexer_rx))
                .map_err(|e| Error::io("spawn indexer thread", &dir, &e))?
        };
        let integrator = Integrator {
            to_indexer,
            shared: Arc::clone(&shared),
            index: Arc::clone(&index),
            edge,
            entries,
            journal,
            partial_files: options.partial_tile_files,
            max_batch: options.max_batch,
            linger: options.batch_linger,
            linger_target: options.linger_target.clamp(1, options.max_batch),
            times: times_writer,
        };
        let handle = std::thread::Builder::new()
            .name("sigil-log-integrator".into())
            .spawn(move || integrator.run(&rx))
            .map_err(|e| Error::io("spawn integrator thread", &dir, &e))?;
        Ok(Self {
            shared,
            index,
            tx: Mutex::new(Some(tx)),
            integrator: Mutex::new(Some(handle)),
            indexer: Mutex::new(Some(indexer)),
            _lock: lock,
        })
    }

    /// Appends an entry and returns once it, the tiles that prove it and a checkpoint containing it are durable.
    ///
    /// Callable from many threads: concurrent calls are integrated together in one batch (one set of fsyncs).
    /// Appending bytes that are already in the log returns [`AppendOutcome::Duplicate`] with the original index.
    pub fn append(&self, leaf: &[u8]) -> Result<AppendOutcome, Error> {
        if leaf.is_empty() || leaf.len() > MAX_ENTRY_SIZE {
            return Err(Error::EntrySize { len: leaf.len() });
        }
        let (reply, rx) = mpsc::sync_channel(1);
        self.submit(leaf.to_vec(), Reply::Blocking(reply))?;
        rx.recv().map_err(|_| Error::Closed)?
    }

    /// Replaces both signing keys with a new generation (PKCS#8 DER: an Ed25519 checkpoint key and an ECDSA
    /// P-256 Rekor v1 key), without stopping: the integrator finishes the batch it holds (signed by the old
    /// keys), then stores the new keys, commits them to `keys/history.json` (old keys' public halves with their
    /// retirement time), re-signs the current tree with the new key (the signer's high-water mark is checked as
    /// for any checkpoint) and publishes it. Appends queued after this call are signed by the new keys.
    ///
    /// Fails, changing nothing, if a key does not parse or was used by an earlier generation. A storage failure
    /// after the history was committed poisons the log; reopening it finishes the rotation.
    pub fn rotate_keys(&self, ed25519_pkcs8: &[u8], ecdsa_p256_pkcs8: &[u8]) -> Result<Rotation, Error> {
        let keys = Keys::from_pkcs8(ed25519_pkcs8, ecdsa_p256_pkcs8)?;
        let (reply, rx) = mpsc::sync_channel(1);
        {
            let tx = self.tx.lock().map_err(|_| Error::Closed)?;
            tx.as_ref()
                .ok_or(Error::Closed)?
                .send(Request::Rotate(Box::new(RotateRequest {
                    keys,
                    ed25519_pkcs8: ed25519_pkcs8.to_vec(),
                    ecdsa_pkcs8: ecdsa_p256_pkcs8.to_vec(),
                    reply,
                })))
                .map_err(|_| Error::Closed)?;
        }
        rx.recv().map_err(|_| Error::Closed)?
    }

    /// The current key generation (the one that signed the latest checkpoint).
    pub fn keys(&self) -> KeyGeneration {
        self.snapshot().keys.clone()
    }

    /// Every key generation, oldest first; the last one is current.
    pub fn key_history(&self) -> Vec<KeyRecord> {
        match self.shared.history.lock() {
            Ok(h) => h.clone(),
            Err(h) => h.into_inner().clone(),
        }
    }

    /// The first generation's Rekor v1 log ID: what the v1 tree ID is derived from, so that it (and the 80-hex
    /// entry IDs that contain it) stays the same across rotations: the tree is the same tree.
    pub fn first_v1_log_id(&self) -> [u8; 32] {
        self.key_history()
            .first()
            .map_or_else(|| self.keys().v1_log_id(), |r| r.v1_key.sha256_key_id())
    }

    /// [`Self::append`] for async callers: the future resolves once the entry is durable, without blocking a
    /// runtime thread meanwhile. Dropping the future does not withdraw the entry.
    pub fn append_async(&self, leaf: Vec<u8>) -> impl std::future::Future<Output = AppendResult> + Send + 'static {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let submitted = if leaf.is_empty() || leaf.len() > MAX_ENTRY_SIZE {
            Err(Error::EntrySize { len: leaf.len() })
        } else {
            self.submit(leaf, Reply::Async(reply))
        };
        async move {
            submitted?;
            rx.await.map_err(|_| Error::Closed)?
        }
    }

    fn submit(&self, leaf: Vec<u8>, reply: Reply) -> Result<(), Error> {
        let tx = self.tx.lock().map_err(|_| Error::Closed)?;
        tx.as_ref()
            .ok_or(Error::Closed)?
            .send(Request::Append(AppendRequest { leaf, reply }))
            .map_err(|_| Error::Closed)
    }

    /// Appends many entries at once (e.g. an import): the same as calling [`Self::append`] for each from
    /// concurrent threads, in order; returns one outcome per entry.
    pub fn append_many(&self, leaves: &[Vec<u8>]) -> Result<Vec<AppendOutcome>, Error> {
        if let Some(bad) = leaves.iter().find(|l| l.is_empty() || l.len() > MAX_ENTRY_SIZE) {
            return Err(Error::EntrySize { len: bad.len() });
        }
        let mut waiting = Vec::with_capacity(leaves.len());
        {
            let tx = self.tx.lock().map_err(|_| Error::Closed)?;
            let tx = tx.as_ref().ok_or(Error::Closed)?;
            for leaf in leaves {
                let (reply, rx) = mpsc::sync_channel(1);
                tx.send(Request::Append(AppendRequest {
                    leaf: leaf.clone(),
                    reply: Reply::Blocking(reply),
                }))
                .map_err(|_| Error::Closed)?;
                waiting.push(rx);
            }
        }
        waiting
            .into_iter()
            .map(|rx| rx.recv().map_err(|_| Error::Closed)?)
            .collect()
    }

    /// Stops the integrator after the batches already queued; later appends fail with [`Error::Closed`].
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(handle) = self.integrator.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
        // The integrator's end dropped the indexer's queue: it commits what is left and stops.
        if let Some(handle) = self.indexer.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
    }

    fn snapshot(&self) -> Arc<Published> {
        self.shared.snapshot()
    }

    /// The latest signed checkpoint (C2SP note text).
    pub fn checkpoint(&self) -> Arc<str> {
        Arc::clone(&self.snapshot().checkpoint)
    }

    /// Number of entries in the latest checkpoint.
    pub fn size(&self) -> u64 {
        self.snapshot().edge.size
    }

    /// Root hash of the latest checkpoint.
    pub fn root(&self) -> Hash {
        self.snapshot().root
    }

    /// The latest signed tree head (size, root and checkpoint from one snapshot).
    pub fn head(&self) -> TreeHead {
        let snap = self.snapshot();
        TreeHead {
            size: snap.edge.size,
            root: snap.root,
            checkpoint: Arc::clone(&snap.checkpoint),
            keys: snap.keys.clone(),
        }
    }

    /// Counters and histograms of the integrator.
    pub fn metrics(&self) -> &LogMetrics {
        &self.shared.metrics
    }

    /// When the log was created (Unix seconds); no entry is older.
    pub fn created_at(&self) -> i64 {
        self.shared.created
    }

    /// When entry `index` was integrated (Unix seconds).
    pub fn integrated_time(&self, index: u64) -> Result<i64, Error> {
        let size = self.size();
        if index >= size {
            return Err(Error::OutOfRange {
                what: "leaf index",
                requested: index,
                size,
            });
        }
        self.shared
            .times
            .as_ref()
            .ok_or(Error::InvalidRequest("this log does not record integration times"))?
            .get(index)
    }

    /// The checkpoint origin (also the key name).
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, Error> {
        self.entries(index, index.saturating_add(1))?
            .pop()
            .ok_or(Error::InvalidRequest("empty range"))
    }

    /// The entries at indexes `from..to` (reading each entry bundle once).
    pub fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, Error> {
        let size = self.size();
        if from >= to || to > size {
            return Err(Error::OutOfRange {
                what: "leaf index",
                requested: to.saturating_sub(1).max(from),
                size,
            });
        }
        let mut out = Vec::new();
        for bundle in from / WIDTH..=(to - 1) / WIDTH {
            let width = if bundle < size / WIDTH {
                TILE_WIDTH
            } else {
                u16::try_from(size % WIDTH).map_err(|_| Error::InvalidRequest("width"))?
            };
            let rel = sigil_tlog::entries_path(bundle, width)?;
            let bytes = self.bundle_bytes(bundle, width)?;
            // Only the wanted entries are copied out (a full bundle of hashedrekords is ~170 KB).
            let entries = tree::bundle_slices(&bytes).ok_or_else(|| Error::Corrupt(format!("{rel} is truncated")))?;
            if entries.len() != usize::from(width) {
                return Err(Error::Corrupt(format!("{rel} has the wrong number of entries")));
            }
            let first = bundle * WIDTH;
            out.extend(
                entries
                    .into_iter()
                    .zip(first..)
                    .filter(|(_, i)| (from..to).contains(i))
                    .map(|(e, _)| e.to_vec()),
            );
        }
        Ok(out)
    }

    /// Whether appends can proceed (false after a failed durable write, until the log is reopened).
    pub fn is_healthy(&self) -> bool {
        !self.shared.poisoned.load(Ordering::SeqCst)
    }

    /// The leaf hash at `index`.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, Error> {
        let snap = self.snapshot();
        let tree = TileTree {
            root: &self.shared.dir,
            edge: &snap.edge,
            cache: &self.shared.tiles,
        };
        if index >= snap.edge.size {
            return Err(Error::OutOfRange {
                what: "leaf index",
                requested: index,
                size: snap.edge.size,
            });
        }
        tree.perfect(0, index)
    }

    /// The index of the entry whose leaf hash is `leaf_hash`, if any.
    pub fn find(&self, leaf_hash: &Hash) -> Result<Option<u64>, Error> {
        let size = self.size();
        self.index.lookup(leaf_hash, size)
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of size `tree_size` (≤ the current size).
    pub fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Vec<Hash>, Error> {
        let snap = self.snapshot();
        TileTree {
            root: &self.shared.dir,
            edge: &snap.edge,
            cache: &self.shared.tiles,
        }
        .inclusion_proof(index, tree_size)
    }

    /// RFC 9162 consistency proof between two tree sizes (≤ the current size; empty when `first` is 0 or equal).
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, Error> {
        let snap = self.snapshot();
        TileTree {
            root: &self.shared.dir,
            edge: &snap.edge,
            cache: &self.shared.tiles,
        }
        .consistency_proof(first, second)
    }

    /// Root hash of the tree of the first `tree_size` entries.
    pub fn root_at(&self, tree_size: u64) -> Result<Hash, Error> {
        let snap = self.snapshot();
        TileTree {
            root: &self.shared.dir,
            edge: &snap.edge,
            cache: &self.shared.tiles,
        }
        .subtree(0, tree_size)
    }

    /// The bytes of hash tile `tile/<level>/<index>[.p/<width>]`, if the current tree contains it.
    pub fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>, Error> {
        let id = sigil_tlog::TileId::new(level, index, width)?;
        let snap = self.snapshot();
        let n = hashes_at(snap.edge.size, level);
        let count = usize::from(id.width);
        let out_of_range = || Error::OutOfRange {
            what: "tile",
            requested: index,
            size: snap.edge.size,
        };
        if index < n / WIDTH {
            let hashes = tree::read_full_tile(&self.shared.dir, level, index)?;
            hashes.get(..count).map(tree::tile_bytes).ok_or_else(out_of_range)
        } else if index == n / WIDTH {
            snap.edge
                .partial(level)
                .get(..count)
                .map(tree::tile_bytes)
                .ok_or_else(out_of_range)
        } else {
            Err(out_of_range())
        }
    }

    /// The bytes of entry bundle `tile/entries/<index>[.p/<width>]`, if the current tree contains it.
    pub fn entry_bundle(&self, index: u64, width: u16) -> Result<Vec<u8>, Error> {
        sigil_tlog::TileId::new(0, index, width)?;
        let size = self.size();
        let full = index < size / WIDTH;
        let current = if full { WIDTH } else { size % WIDTH };
        if index > size / WIDTH || u64::from(width) > current {
            return Err(Error::OutOfRange {
                what: "entry bundle",
                requested: index,
                size,
            });
        }
        if full && width < TILE_WIDTH {
            let bytes = self.bundle_bytes(index, TILE_WIDTH)?;
            let (_, used) = tree::bundle_prefix(&bytes, usize::from(width))
                .ok_or_else(|| Error::Corrupt(format!("entry bundle {index} is truncated")))?;
            return Ok(bytes.get(..used).unwrap_or_default().to_vec());
        }
        self.bundle_bytes(index, width)
    }

    /// The first `width` entries of bundle `index` (all of a full one, or a prefix of the partial one, which
    /// lives in the journal), encoded as an entry bundle.
    fn bundle_bytes(&self, index: u64, width: u16) -> Result<Vec<u8>, Error> {
        if width < TILE_WIDTH {
            return journal::read_prefix(&self.shared.dir, index, width);
        }
        let rel = sigil_tlog::entries_path(index, width)?;
        fsio::read_optional(&self.shared.dir.join(&rel))?.ok_or_else(|| Error::Corrupt(format!("{rel} is missing")))
    }

    /// The current Ed25519 checkpoint key.
    pub fn checkpoint_key(&self) -> Result<VerifyingKey, Error> {
        Ok(self.keys().checkpoint_key().clone())
    }

    /// A verifier for this log's current checkpoints (name = origin).
    pub fn note_verifier(&self) -> Result<NoteVerifier, Error> {
        Ok(NoteVerifier::ed25519(&self.shared.origin, self.checkpoint_key()?)?)
    }

    /// The current Rekor v2 log ID: the full C2SP key ID `SHA-256(origin ‖ "\n" ‖ 0x01 ‖ public key)`.
    pub fn checkpoint_key_id(&self) -> [u8; 32] {
        self.keys().v2_log_id()
    }

    /// The current ECDSA P-256 key for Rekor v1 SETs and checkpoints.
    pub fn v1_key(&self) -> Result<VerifyingKey, Error> {
        Ok(self.keys().v1_key().clone())
    }

    /// The current Rekor v1 log ID: SHA-256 of the ECDSA key's DER SPKI.
    pub fn v1_log_id(&self) -> Result<[u8; 32], Error> {
        Ok(self.keys().v1_log_id())
    }

    /// A Rekor v1 signed entry timestamp by the current keys (see [`KeyGeneration::sign_set`]; to sign for an
    /// entry just appended, use its [`Appended::keys`]).
    pub fn sign_set(&self, body: &[u8], integrated_time: i64, log_index: u64) -> Result<Vec<u8>, Error> {
        self.keys().sign_set(body, integrated_time, log_index)
    }

    /// A tree head as a Rekor v1 checkpoint: origin `<host> - <tree ID>`, optional `Timestamp: <ns>`
    /// extension, ECDSA signature with key hint `SHA-256(SPKI)[:4]` by the head's key generation (the one that
    /// signed its C2SP checkpoint).
    pub fn v1_checkpoint(
        &self,
        host: &str,
        tree_id: u64,
        head: &TreeHead,
        timestamp_ns: Option<u64>,
    ) -> Result<String, Error> {
        let checkpoint = Checkpoint {
            origin: format!("{host} - {tree_id}"),
            size: head.size,
            root_hash: head.root,
            extensions: timestamp_ns
                .map(|t| vec![format!("Timestamp: {t}")])
                .unwrap_or_default(),
        };
        head.keys.sign_v1_checkpoint(checkpoint, host)
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.close();
    }
}

impl Shared {
    fn snapshot(&self) -> Arc<Published> {
        match self.published.read() {
            Ok(p) => Arc::clone(&p),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// With [`LogOptions::partial_tile_files`], `checkpoint` as a text file for a static server: renamed into
    /// place after the checkpoint is durable in its slot file, not fsynced (open writes it again).
    fn write_static_checkpoint(&self, text: &str) -> Result<(), Error> {
        if !self.static_files {
            return Ok(());
        }
        let mut writer = fsio::Writer::new(&self.dir);
        writer.stage("checkpoint", text.as_bytes())?;
        writer.publish()
    }

    fn publish(&self, p: Published) {
        match self.published.write() {
            Ok(mut g) => *g = Arc::new(p),
            Err(g) => *g.into_inner() = Arc::new(p),
        }
    }

    /// The checkpoint signer: checks the new tree against the high-water mark, persists the new mark, then signs
    /// and durably writes `checkpoint`. Returns the note text.
    fn sign_and_store(&self, edge: &Edge, root: Hash, hwm: HighWater, keys: &KeyGeneration) -> Result<String, Error> {
        let size = edge.size;
        if size < hwm.size {
            return Err(Error::BehindHighWaterMark {
                durable_size: size,
                signed_size: hwm.size,
            });
        }
        let tree = TileTree {
            root: &self.dir,
            edge,
            cache: &self.tiles,
        };
        let proof = tree.consistency_proof(hwm.size, size)?;
        sigil_tlog::verify_consistency(hwm.size, size, &proof, &hwm.root, &root)
            .map_err(|_| Error::InconsistentWithHighWaterMark { size: hwm.size })?;
        let new = HighWater { size, root };
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root_hash: root,
            extensions: Vec::new(),
        };
        let text = keys.sign_checkpoint(checkpoint)?;
        // The high-water mark and the checkpoint go to disk together (one round of fdatasyncs). The tiles and
        // journal they describe are already durable, so any mix of old and new after a crash is consistent: a new
        // mark with an old checkpoint is re-signed at start, an old mark with a new checkpoint is below it.
        {
            let mut hwm_file = self.hwm_file.lock().map_err(|_| Error::Poisoned)?;
            let mut checkpoint_file = self.checkpoint_file.lock().map_err(|_| Error::Poisoned)?;
            let moved = new != hwm;
            if moved {
                hwm_file.write(new.encode().as_bytes())?;
            }
            checkpoint_file.write(text.as_bytes())?;
            if moved {
                hwm_file.sync()?;
            }
            checkpoint_file.sync()?;
        }
        self.write_static_checkpoint(&text)?;
        Ok(text)
    }
}

/// The single writer: takes every queued request, integrates them as one batch, wakes the callers.
struct Integrator {
    shared: Arc<Shared>,
    index: Arc<Index>,
    /// Batches staged in the index, for the indexer to commit.
    to_indexer: mpsc::SyncSender<IndexBatch>,
    edge: Edge,
    /// The entries of the partial entry bundle.
    entries: Vec<Vec<u8>>,
    /// Where those entries are durable.
    journal: Journal,
    /// [`LogOptions::partial_tile_files`].
    partial_files: bool,
    max_batch: usize,
    linger: Duration,
    linger_target: usize,
    times: Option<TimesWriter>,
}

enum Slot {
    New(u64, Hash),
    Dup(u64, Hash),
}

impl Integrator {
    fn run(mut self, rx: &mpsc::Receiver<Request>) {
        while let Ok(first) = rx.recv() {
            let mut batch = match first {
                Request::Append(a) => vec![a],
                Request::Rotate(r) => {
                    self.rotate(*r);
                    continue;
                }
            };
            // A rotation ends the batch: what was queued before it is signed by the old keys, the rest by the new.
            let mut rotation = None;
            while batch.len() < self.max_batch && rotation.is_none() {
                match rx.try_recv() {
                    Ok(Request::Append(a)) => batch.push(a),
                    Ok(Request::Rotate(r)) => rotation = Some(r),
                    Err(_) => break,
                }
            }
            if rotation.is_none() {
                rotation = self.linger(rx, &mut batch);
            }
            self.integrate_batch(batch);
            if let Some(r) = rotation {
                self.rotate(*r);
            }
        }
    }

    fn integrate_batch(&mut self, batch: Vec<AppendRequest>) {
        if self.shared.poisoned.load(Ordering::SeqCst) {
            for r in batch {
                r.reply.send(Err(Error::Poisoned));
            }
            return;
        }
        let (leaves, replies): (Vec<Vec<u8>>, Vec<_>) = batch.into_iter().map(|r| (r.leaf, r.reply)).unzip();
        let started = Instant::now();
        let shared = Arc::clone(&self.shared);
        let m = &shared.metrics;
        m.batch_size.observe(leaves.len() as f64);
        match self.integrate(leaves) {
            Ok(results) => {
                m.integration_seconds.observe(started.elapsed().as_secs_f64());
                let dups = results.iter().filter(|r| r.is_duplicate()).count() as u64;
                m.duplicates.fetch_add(dups, Ordering::Relaxed);
                m.entries_appended
                    .fetch_add(results.len() as u64 - dups, Ordering::Relaxed);
                for (reply, result) in replies.into_iter().zip(results) {
                    reply.send(Ok(result));
                }
            }
            Err(e) => {
                // Nothing of this batch was acknowledged; files past the committed size are ignored and
                // cleaned up by the recovery of the next open.
                self.shared.poisoned.store(true, Ordering::SeqCst);
                for reply in replies {
                    reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// A key rotation, between two batches (see [`Log::rotate_keys`]).
    fn rotate(&mut self, request: RotateRequest) {
        let RotateRequest {
            keys,
            ed25519_pkcs8,
            ecdsa_pkcs8,
            reply,
        } = request;
        let _ = reply.send(self.rotate_to(keys, &ed25519_pkcs8, &ecdsa_pkcs8));
    }

    fn rotate_to(&mut self, keys: Keys, ed25519_pkcs8: &[u8], ecdsa_pkcs8: &[u8]) -> Result<Rotation, Error> {
        if self.shared.poisoned.load(Ordering::SeqCst) {
            return Err(Error::Poisoned);
        }
        let old = self.shared.snapshot();
        let mut history = match self.shared.history.lock() {
            Ok(h) => h.clone(),
            Err(h) => h.into_inner().clone(),
        };
        let last_activated = history.last().map_or(0, |r| r.activated);
        // Never before the current generation started, and never before the last integration time the old keys
        // signed (both read this clock, from this thread).
        let at = unix_now().max(last_activated);
        let new = keys.record(at)?;
        if history.iter().any(|r| r.shares_a_key(&new)) {
            return Err(Error::Key(
                "a new key was used by an earlier generation of this log: a rotation needs two fresh keys".into(),
            ));
        }
        if let Some(current) = history.last_mut() {
            current.retired = Some(at);
        }
        history.push(new);
        let generation = KeyGeneration::new(keys, &self.shared.origin)?;
        match keys::rotate_on_disk(&self.shared.dir.join("keys"), ed25519_pkcs8, ecdsa_pkcs8, &history) {
            Ok(()) => {}
            Err(Staged::Nothing(e)) => return Err(e),
            Err(Staged::Committed(e)) => {
                // The history names the new keys but they are not all in place: reopening finishes it.
                self.shared.poisoned.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        match self.shared.history.lock() {
            Ok(mut h) => *h = history,
            Err(h) => *h.into_inner() = history,
        }
        // The current tree, signed by the new key: the same size and root, so the high-water mark check is the
        // trivial one and the mark stays where it is.
        let hwm = HighWater {
            size: old.edge.size,
            root: old.root,
        };
        let text = match self.shared.sign_and_store(&self.edge, old.root, hwm, &generation) {
            Ok(t) => t,
            Err(e) => {
                // The keys on disk are the new ones and the stored checkpoint is the old key's: open re-signs it.
                self.shared.poisoned.store(true, Ordering::SeqCst);
                return Err(e);
            }
        };
        self.shared.publish(Published {
            edge: self.edge.clone(),
            root: old.root,
            checkpoint: Arc::from(text.as_str()),
            keys: generation.clone(),
        });
        tracing::info!(
            retired_v1_log_id = %hex::encode(old.keys.v1_log_id()),
            v1_log_id = %hex::encode(generation.v1_log_id()),
            v2_log_id = %hex::encode(generation.v2_log_id()),
            size = old.edge.size,
            "log keys rotated"
        );
        Ok(Rotation {
            retired: old.keys.clone(),
            active: generation,
            at,
        })
    }

    /// With [`LogOptions::batch_linger`]: if entries are arriving concurrently (more than one was queued) and the
    /// batch is still small, waits up to the linger for it to reach the target. A lone request is not delayed.
    /// Stops at a rotation, which it returns (to run after the batch).
    fn linger(&self, rx: &mpsc::Receiver<Request>, batch: &mut Vec<AppendRequest>) -> Option<Box<RotateRequest>> {
        if self.linger.is_zero() || batch.len() < 2 || batch.len() >= self.linger_target {
            return None;
        }
        let deadline = Instant::now() + self.linger;
        while batch.len() < self.linger_target {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match rx.recv_timeout(left) {
                Ok(Request::Append(a)) => batch.push(a),
                Ok(Request::Rotate(r)) => return Some(r),
                Err(_) => break,
            }
        }
        while batch.len() < self.max_batch {
            match rx.try_recv() {
                Ok(Request::Append(a)) => batch.push(a),
                Ok(Request::Rotate(r)) => return Some(r),
                Err(_) => break,
            }
        }
        None
    }

    fn integrate(&mut self, leaves: Vec<Vec<u8>>) -> Result<Vec<AppendOutcome>, Error> {
        let old = self.shared.snapshot();
        let old_size = self.edge.size;
        let mut slots = Vec::with_capacity(leaves.len());
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        let mut new_pairs = Vec::new();
        let mut new_leaves = Vec::new();
        {
            let index = &self.index;
            for leaf in leaves {
                let hash = hash_leaf(&leaf);
                if let Some(i) = in_batch.get(&hash) {
                    slots.push(Slot::Dup(*i, hash));
                } else if let Some(i) = index.lookup(&hash, old_size)? {
                    slots.push(Slot::Dup(i, hash));
                } else {
                    let i = old_size + new_pairs.len() as u64;
                    in_batch.insert(hash, i);
                    new_pairs.push((hash, i));
                    new_leaves.push(leaf);
                    slots.push(Slot::New(i, hash));
                }
            }
        }

        let now = unix_now();
        let published = if new_pairs.is_empty() {
            old
        } else {
            let saved = (self.edge.clone(), self.entries.clone());
            match self.write_batch(&new_pairs, new_leaves, &old, now) {
                Ok(p) => p,
                Err(e) => {
                    (self.edge, self.entries) = saved;
                    if let Some(times) = &mut self.times {
                        let _ = times.truncate(old_size);
                    }
                    return Err(e);
                }
            }
        };

        if !new_pairs.is_empty() {
            self.index.stage(&new_pairs)?;
            self.shared
                .metrics
                .index_backlog
                .store(self.index.staged_len() as u64, Ordering::Relaxed);
            // Blocks only when the indexer is INDEXER_QUEUE batches behind.
            self.to_indexer
                .send((new_pairs, self.edge.size))
                .map_err(|_| Error::Poisoned)?;
        }
        slots
            .into_iter()
            .map(|slot| {
                let make = |index, leaf_hash, integrated_time| Appended {
                    index,
                    leaf_hash,
                    checkpoint: Arc::clone(&published.checkpoint),
                    tree_size: published.edge.size,
                    root_hash: published.root,
                    integrated_time,
                    keys: published.keys.clone(),
                };
                Ok(match slot {
                    Slot::New(i, h) => AppendOutcome::New(make(i, h, now)),
                    Slot::Dup(i, h) if i >= old_size => AppendOutcome::Duplicate(make(i, h, now)),
                    Slot::Dup(i, h) => {
                        let time = match &self.shared.times {
                            Some(times) => times.get(i)?,
                            None => 0,
                        };
                        AppendOutcome::Duplicate(make(i, h, time))
                    }
                })
            })
            .collect()
    }

    /// Writes tiles and bundles, makes them durable, signs and publishes the checkpoint.
    fn write_batch(
        &mut self,
        pairs: &[(Hash, u64)],
        leaves: Vec<Vec<u8>>,
        old: &Published,
        now: i64,
    ) -> Result<Arc<Published>, Error> {
        let dir = self.shared.dir.clone();
        let old_size = self.edge.size;
        let mut writer = fsio::Writer::new(&dir);
        let mut full = Vec::new();
        let mut full_bundles = Vec::new();
        let before = self.entries.len();
        for ((hash, _), leaf) in pairs.iter().zip(leaves) {
            self.edge.push(*hash, &mut full);
            self.entries.push(leaf);
            if self.entries.len() == usize::from(TILE_WIDTH) {
                let bundle = std::mem::take(&mut self.entries);
                full_bundles.push(((self.edge.size - 1) / WIDTH, bundle));
            }
        }
        let new_size = self.edge.size;
        // The entries first: once they are in the journal, everything else this batch writes is derivable or
        // durable files, and the checkpoint can follow.
        if full_bundles.is_empty() {
            self.journal.append(self.entries.get(before..).unwrap_or_default())?;
        } else {
            self.journal.start(new_size / WIDTH, &self.entries)?;
        }
        for (index, bundle) in &full_bundles {
            writer.stage(
                &sigil_tlog::entries_path(*index, TILE_WIDTH)?,
                &tree::bundle_bytes(bundle),
            )?;
        }
        for FullTile { level, index, hashes } in &full {
            writer.stage(
                &sigil_tlog::tile_path(*level, *index, TILE_WIDTH)?,
                &tree::tile_bytes(hashes),
            )?;
        }
        // Level 0's partial tile is the journal's entries; the higher levels change only when a tile below fills.
        for level in 1..LEVELS {
            let n = hashes_at(new_size, level);
            if n == 0 {
                break;
            }
            let partial = self.edge.partial(level);
            if partial.is_empty() || n == hashes_at(old_size, level) {
                continue;
            }
            let w = u16::try_from(partial.len()).map_err(|_| Error::InvalidRequest("width"))?;
            writer.stage(&sigil_tlog::tile_path(level, n / WIDTH, w)?, &tree::tile_bytes(partial))?;
        }
        writer.commit()?;
        if self.partial_files {
            write_partial_files(&dir, &self.edge, &self.entries)?;
        }
        if let Some(times) = &mut self.times {
            times.append(now, pairs.len())?;
        }

        let root = self.edge.root();
        let hwm = HighWater {
            size: old.edge.size,
            root: old.root,
        };
        let text = self.shared.sign_and_store(&self.edge, root, hwm, &old.keys)?;
        let published = Arc::new(Published {
            edge: self.edge.clone(),
            root,
            checkpoint: Arc::from(text.as_str()),
            keys: old.keys.clone(),
        });
        match self.shared.published.write() {
            Ok(mut g) => *g = Arc::clone(&published),
            Err(g) => *g.into_inner() = Arc::clone(&published),
        }
        // Partial tiles superseded by a now-committed full tile are garbage (readers are served prefixes of the
        // full tile). Failing to remove them is harmless.
        for FullTile { level, index, .. } in &full {
            remove_partials(&dir, &sigil_tlog::tile_path(*level, *index, 1).unwrap_or_default(), 0);
        }
        for (index, _) in &full_bundles {
            remove_partials(&dir, &sigil_tlog::entries_path(*index, 1).unwrap_or_default(), 0);
        }
        self.journal.remove_filled();
        Ok(published)
    }
}

/// Removes partial-tile files of widths above `keep_up_to` in the `.p/` directory of `partial_rel` (a path of
/// that tile with some partial width). Returns whether anything was removed.
fn remove_partials(root: &Path, partial_rel: &str, keep_up_to: u16) -> bool {
    let Some(pdir) = Path::new(partial_rel).parent() else {
        return false;
    };
    let pdir = root.join(pdir);
    let Ok(read) = fs::read_dir(&pdir) else {
        return false;
    };
    let mut removed = false;
    for entry in read.flatten() {
        let name = entry.file_name();
        let w: Option<u16> = name.to_str().and_then(|s| s.parse().ok());
        if w.is_none_or(|w| w > keep_up_to) && fs::remove_file(entry.path()).is_ok() {
            removed = true;
        }
    }
    if keep_up_to == 0 && fs::remove_dir(&pdir).is_ok() {
        removed = true;
    }
    if removed {
        let _ = fsio::sync_dir(&pdir);
        if let Some(parent) = pdir.parent() {
            let _ = fsio::sync_dir(parent);
        }
    }
    removed
}

/// Recovery: deletes every tile, bundle and partial a crashed batch may have written past `size`.
fn remove_garbage(root: &Path, size: u64) -> Result<(), Error> {
    let span = (MAX_BATCH as u64) / WIDTH + 2;
    for level in 0..LEVELS {
        let n = hashes_at(size, level);
        let k = n / WIDTH;
        let w = u16::try_from(n % WIDTH).map_err(|_| Error::InvalidRequest("width"))?;
        for j in k..k.saturating_add(span) {
            let keep = if j == k { w } else { 0 };
            let full_rel = sigil_tlog::tile_path(level, j, TILE_WIDTH)?;
            fsio::remove_optional(&root.join(full_rel))?;
            remove_partials(root, &sigil_tlog::tile_path(level, j, 1)?, keep);
            if level == 0 {
                fsio::remove_optional(&root.join(sigil_tlog::entries_path(j, TILE_WIDTH)?))?;
                remove_partials(root, &sigil_tlog::entries_path(j, 1)?, keep);
            }
        }
    }
    Ok(())
}

fn clear_tmp(tmp: &Path) -> Result<(), Error> {
    let read = fs::read_dir(tmp).map_err(|e| Error::io("read directory", tmp, &e))?;
    for entry in read.flatten() {
        fsio::remove_optional(&entry.path())?;
    }
    Ok(())
}

/// The right edge of a tree of `size` leaves: level 0's partial tile as given (the hashes of the journal's
/// entries), the higher levels' partial tiles read from their files.
fn load_edge(root: &Path, size: u64, level0: Vec<Hash>) -> Result<Edge, Error> {
    let mut edge = Edge {
        size,
        levels: Vec::new(),
    };
    for level in 0..LEVELS {
        let n = hashes_at(size, level);
        if n == 0 {
            break;
        }
        let w = n % WIDTH;
        let hashes = if level == 0 {
            if level0.len() as u64 != w {
                return Err(Error::Corrupt(format!(
                    "the journal holds {} entries, the tree needs {w}",
                    level0.len()
                )));
            }
            level0.clone()
        } else if w == 0 {
            Vec::new()
        } else {
            let rel = sigil_tlog::tile_path(level, n / WIDTH, u16::try_from(w).unwrap_or(0))?;
            let bytes = fsio::read_optional(&root.join(&rel))?
                .ok_or_else(|| Error::Corrupt(format!("tile {rel} is missing")))?;
            tree::parse_tile(&bytes)
                .filter(|h| h.len() as u64 == w)
                .ok_or_else(|| Error::Corrupt(format!("tile {rel} has the wrong length")))?
        };
        edge.levels.push(hashes);
    }
    Ok(edge)
}

/// The stored checkpoint note of the log in `dir` (unverified): from its slot file, or for a log written before
/// slot files, from the text file.
pub(crate) fn stored_checkpoint(dir: &Path) -> Result<Option<Vec<u8>>, Error> {
    match slots::read(&dir.join(CHECKPOINT_SLOTS))?.filter(|b| !b.is_empty()) {
        Some(bytes) => Ok(Some(bytes)),
        None => fsio::read_optional(&dir.join("checkpoint")),
    }
}

/// Writes the partial level-0 tile and entry bundle of the tree as files, for a static server: renamed into
/// place (a reader never sees half a file) before the checkpoint that needs them, but not fsynced. They are
/// derived from the journal, and open writes them again.
fn write_partial_files(root: &Path, edge: &Edge, entries: &[Vec<u8>]) -> Result<(), Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let w = u16::try_from(entries.len()).map_err(|_| Error::InvalidRequest("width"))?;
    let bundle = edge.size / WIDTH;
    let mut writer = fsio::Writer::new(root);
    writer.stage(
        &sigil_tlog::tile_path(0, bundle, w)?,
        &tree::tile_bytes(edge.partial(0)),
    )?;
    writer.stage(&sigil_tlog::entries_path(bundle, w)?, &tree::bundle_bytes(entries))?;
    writer.publish()
}

/// Staged index pairs and the tree size they bring the index to.
type IndexBatch = (Vec<(Hash, u64)>, u64);

/// Batches the indexer may fall behind before the integrator waits for it.
const INDEXER_QUEUE: usize = 64;

/// Pairs the indexer gathers into one redb commit, or…
const INDEX_COMMIT_PAIRS: usize = 4096;
/// … how long it gathers at most.
const INDEX_COMMIT_WAIT: Duration = Duration::from_millis(250);

/// The indexer thread: commits staged pairs to the index in large commits. Every redb commit writes fresh copies
/// of the pages it touches, and a durable commit flushes all of them since the last one: committing every batch
/// made that flush about 100 MB every 16 k entries, long enough to hold up the journal's fdatasync behind it.
/// After a failure the log is poisoned (the pairs stay staged, so lookups stay right) until it is reopened,
/// which catches the index up from the tiles.
fn run_indexer(index: &Index, shared: &Shared, rx: &mpsc::Receiver<IndexBatch>) {
    while let Ok((mut pairs, mut size)) = rx.recv() {
        let deadline = Instant::now() + INDEX_COMMIT_WAIT;
        let mut open = true;
        while pairs.len() < INDEX_COMMIT_PAIRS {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok((more, s)) => {
                    pairs.extend(more);
                    size = s;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        if index.commit(&pairs, size).is_err() {
            shared.poisoned.store(true, Ordering::SeqCst);
            return;
        }
        if !open {
            return;
        }
    }
}

/// Brings the de-duplication index up to the durable tree, re-reading leaf hashes from level-0 tiles.
fn catch_up_index(index: &Index, root: &Path, edge: &Edge) -> Result<(), Error> {
    let mut from = index.indexed_size()?;
    if from > edge.size {
        index.clear()?;
        from = 0;
    }
    if from == edge.size {
        return Ok(());
    }
    let mut pairs = Vec::new();
    let mut i = from;
    while i < edge.size {
        let tile = i / WIDTH;
        let end = ((tile + 1) * WIDTH).min(edge.size);
        let hashes = if tile < edge.size / WIDTH {
            tree::read_full_tile(root, 0, tile)?
        } else {
            edge.partial(0).to_vec()
        };
        for j in i..end {
            let h = hashes
                .get(usize::try_from(j % WIDTH).unwrap_or(usize::MAX))
                .ok_or_else(|| Error::Corrupt(format!("level-0 tile {tile} is short")))?;
            pairs.push((*h, j));
        }
        i = end;
        if pairs.len() >= 65_536 || i == edge.size {
            index.insert(&pairs, i, i == edge.size)?;
            pairs.clear();
        }
    }
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Opens a stored checkpoint with the current key or, failing that, a retired one. Returns it and whether the
/// current key signed it.
fn open_checkpoint<'a>(
    text: &str,
    origin: &str,
    current: &VerifyingKey,
    mut retired: impl Iterator<Item = &'a VerifyingKey>,
) -> Result<(SignedCheckpoint, bool), Error> {
    let open = |key: &VerifyingKey| -> Result<SignedCheckpoint, Error> {
        let verifier = NoteVerifier::ed25519(origin, key.clone())?;
        Ok(SignedCheckpoint::open(text, &verifier, origin)?)
    };
    // The current key's error is the one reported when no key opens it.
    let err = match open(current) {
        Ok(cp) => return Ok((cp, true)),
        Err(e) => e,
    };
    match retired.find_map(|key| open(key).ok()) {
        Some(cp) => Ok((cp, false)),
        None => Err(Error::Corrupt(format!(
            "checkpoint does not verify with the log key (nor a retired one): {err}"
        ))),
    }
}

/// The public facts of a log directory, read without opening the log and without writing anything (safe while a
/// server runs on it).
#[derive(Debug)]
pub(crate) struct PublicInfo {
    pub(crate) origin: String,
    pub(crate) created: i64,
    /// Every key generation, oldest first (the last is current).
    pub(crate) generations: Vec<KeyRecord>,
}

impl PublicInfo {
    pub(crate) fn read(dir: &Path) -> Result<Self, Error> {
        let keys_dir = dir.join("keys");
        let created = fsio::read_optional(&dir.join("created"))?
            .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
            .ok_or_else(|| Error::Corrupt("the creation time file is missing or malformed".into()))?;
        // The history, once there is one, is the authority (it is a rotation's commit point: the key files may
        // lag it for a moment). Before any rotation, the key files are the one generation.
        let generations = match crate::history::read(&keys_dir)? {
            Some(g) => g,
            None => vec![Keys::load_or_create(&keys_dir, false, &ImportedKeys::default())?.record(created)?],
        };
        let checkpoint = stored_checkpoint(dir)?
            .ok_or_else(|| Error::Corrupt(format!("{} holds no log (no checkpoint)", dir.display())))?;
        let text = String::from_utf8_lossy(&checkpoint);
        let origin = text.lines().next().unwrap_or("").to_string();
        let mut keys = generations.iter().rev().map(|g| &g.checkpoint_key);
        let current = keys
            .next()
            .ok_or_else(|| Error::Corrupt("the key history is empty".into()))?;
        open_checkpoint(&text, &origin, current, keys)?;
        Ok(Self {
            origin,
            created,
            generations,
        })
    }
}

/// Takes the exclusive lock on `<dir>/lock`: two processes (or two `Log`s) integrating into one directory would
/// corrupt it, so the second one is refused.
fn lock_dir(dir: &Path) -> Result<fs::File, Error> {
    let path = dir.join("lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, &e))?;
    // Called through the trait: on newer toolchains std's inherent `File::try_lock` would shadow it.
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(file),
        Err(fs4::TryLockError::WouldBlock) => Err(Error::Locked(dir.to_path_buf())),
        Err(fs4::TryLockError::Error(e)) => Err(Error::io("lock", &path, &e)),
    }
}
