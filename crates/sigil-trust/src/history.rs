//! The `history.json` of rotated signing material: every generation a service's keys (the log's key pairs, a CA's
//! issuing certificates) have had, oldest first, with when each was activated and retired:
//!
//! ```json
//! {"version": 1, "generations": [
//!   {"…": "…", "activated": 1700000000, "retired": 1700500000},
//!   {"…": "…", "activated": 1700500000}
//! ]}
//! ```
//!
//! What a generation holds is its owner's (each has its own record type and decodes it); the file's frame, its
//! bounds and the timeline are checked here, the same for every owner.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The one version of the format.
pub const VERSION: u32 = 1;

/// A stored generation's times (Unix seconds).
pub trait Dated {
    /// When it started signing.
    fn activated(&self) -> i64;
    /// When it stopped; `None` for the current (last) generation.
    fn retired(&self) -> Option<i64>;
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File<R> {
    version: u32,
    generations: Vec<R>,
}

/// What makes two generations the same, which a history never holds: `same` tells, and an error names
/// `field` and gives `reason`.
#[derive(Debug, Clone, Copy)]
pub struct Reuse<F> {
    pub same: F,
    pub field: &'static str,
    pub reason: &'static str,
}

/// Parses a history's bytes: at most `max_bytes`, [`VERSION`], 1 to `max_generations` generations. Each record
/// is decoded by `decode` (whose error names the field), then checked: not activated at a negative time, every
/// generation but the last retired and the last not, none retired before it was activated nor activated before
/// the previous one was retired, none the same as an earlier one (`reuse`). An error is the reason, for the
/// caller to name its file in; a generation's reads `generation <i>: <field>: <reason>`.
pub fn parse<R, T, F>(
    bytes: &[u8],
    max_bytes: usize,
    max_generations: usize,
    mut decode: impl FnMut(R) -> Result<T, (&'static str, String)>,
    reuse: Reuse<F>,
) -> Result<Vec<T>, String>
where
    R: DeserializeOwned + Dated,
    F: Fn(&T, &T) -> bool,
{
    if bytes.len() > max_bytes {
        return Err(format!("{} bytes, more than the {max_bytes} allowed", bytes.len()));
    }
    let file: File<R> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if file.version != VERSION {
        return Err(format!("version {} is not {VERSION}", file.version));
    }
    let n = file.generations.len();
    if n == 0 || n > max_generations {
        return Err(format!("{n} generations: a history holds 1 to {max_generations}"));
    }
    let mut out: Vec<T> = Vec::with_capacity(n);
    let mut previous_retired = None;
    for (i, r) in file.generations.into_iter().enumerate() {
        let what = |field: &str, reason: &dyn std::fmt::Display| format!("generation {i}: {field}: {reason}");
        let (activated, retired) = (r.activated(), r.retired());
        let item = decode(r).map_err(|(field, reason)| what(field, &reason))?;
        if activated < 0 {
            return Err(what("activated", &"negative"));
        }
        match (retired, i + 1 == n) {
            (Some(_), true) => return Err(what("retired", &"the current (last) generation cannot be retired")),
            (None, false) => return Err(what("retired", &"missing (only the last generation is current)")),
            (Some(t), false) if t < activated => return Err(what("retired", &"before it was activated")),
            _ => {}
        }
        if previous_retired.is_some_and(|t| t > activated) {
            return Err(what("activated", &"before the previous generation was retired"));
        }
        if out.iter().any(|earlier| (reuse.same)(earlier, &item)) {
            return Err(what(reuse.field, &reuse.reason));
        }
        previous_retired = retired;
        out.push(item);
    }
    Ok(out)
}

/// The file's bytes for `generations` (oldest first).
pub fn encode<R: Serialize>(generations: Vec<R>) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec_pretty(&File {
        version: VERSION,
        generations,
    })
}

/// Reads a history file, at most `max_bytes` and one more (so that [`parse`] sees it is too large); `Ok(None)`
/// if there is none.
pub fn read(path: &Path, max_bytes: usize) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(max_bytes as u64 + 1).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}
