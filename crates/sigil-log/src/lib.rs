//! The transparency-log service core for sigil: durable storage, C2SP tiles and checkpoint signing.

mod error;
mod fsio;
mod index;
mod keys;
mod log;
mod tree;

pub use error::Error;
pub use log::{AppendOutcome, Appended, Log, LogOptions, MAX_BATCH, MAX_ENTRY_SIZE};
