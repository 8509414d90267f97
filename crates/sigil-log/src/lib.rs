//! The transparency-log service core for sigil: durable storage, C2SP tiles and checkpoint signing.

pub mod api;
pub mod ct;
pub mod ct_api;
pub mod entry;
mod error;
mod fsio;
mod history;
mod index;
mod journal;
mod keys;
mod log;
pub mod metrics;
pub mod search;
pub mod server;
mod slots;
mod times;
mod tree;

pub use error::Error;
pub use history::{KeyRecord, MAX_KEY_GENERATIONS};
pub use keys::{ImportedKeys, KeyGeneration};
pub use log::{
    AppendOutcome, Appended, Log, LogOptions, MAX_BATCH, MAX_BATCH_LINGER, MAX_ENTRY_SIZE, Rotation, TreeHead,
};
