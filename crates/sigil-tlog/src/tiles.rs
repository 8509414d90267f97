//! Tile coordinates and paths of c2sp.org/tlog-tiles.
//!
//! A tiled log serves its Merkle tree as static "tiles" of 256 consecutive hashes at heights 0, 8, 16, … and its
//! entries as bundles aligned with the level-0 tiles. This module names those resources (`tile/<L>/<N>[.p/<W>]`,
//! `tile/entries/<N>[.p/<W>]`), parses such paths back (only the canonical form, with bounded work, since paths
//! come from HTTP requests), and lists which tiles a tree of a given size consists of.

use crate::Error;

/// Number of hashes in a full tile (and entries in a full entry bundle).
pub const TILE_WIDTH: u16 = 256;
/// Highest tile level the spec allows.
pub const MAX_TILE_LEVEL: u8 = 63;
/// Longest path [`parse_tile_path`] looks at: `tile/63/` + 7 groups of `x000/` + `.p/255` is well below it.
const MAX_PATH_LEN: usize = 64;

/// One tile: `width` hashes (1..=256; 256 = full) of `level`, the `index`-th tile of that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub level: u8,
    pub index: u64,
    pub width: u16,
}

impl TileId {
    /// Checks the ranges: level 0..=63, width 1..=256.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, Error> {
        if level > MAX_TILE_LEVEL {
            return Err(Error::InvalidTile("level above 63"));
        }
        if width == 0 || width > TILE_WIDTH {
            return Err(Error::InvalidTile("width must be 1 to 256"));
        }
        Ok(Self { level, index, width })
    }

    /// Whether the tile holds all 256 hashes.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The hash tile's path, `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, index_and_width(self.index, self.width))
    }

    /// The path of the entry bundle aligned with this tile (meaningful for level 0), `tile/entries/<N>[.p/<W>]`.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", index_and_width(self.index, self.width))
    }
}

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// A tile of Merkle tree hashes.
    Hashes(TileId),
    /// An entry bundle: `width` (1..=256) entries of bundle `index`.
    Entries { index: u64, width: u16 },
}

/// `tile/<L>/<N>[.p/<W>]` for the tile of `width` hashes (1..=256; 256 is a full tile, without `.p/`).
pub fn tile_path(level: u8, index: u64, width: u16) -> Result<String, Error> {
    Ok(TileId::new(level, index, width)?.path())
}

/// `tile/entries/<N>[.p/<W>]` for the entry bundle of `width` entries (1..=256; 256 is a full bundle).
pub fn entries_path(index: u64, width: u16) -> Result<String, Error> {
    Ok(TileId::new(0, index, width)?.entries_path())
}

/// `<N>` as `x001/x234/067`, plus `.p/<W>` for partial widths.
fn index_and_width(index: u64, width: u16) -> String {
    let mut groups = Vec::with_capacity(7);
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(groups.len() * 5 + 6);
    for (i, group) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{group:03}/"));
        } else {
            out.push_str(&format!("{group:03}"));
        }
    }
    if width < TILE_WIDTH {
        out.push_str(&format!(".p/{width}"));
    }
    out
}

/// A decimal number without sign or leading zeros, at most `max`.
fn parse_decimal(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse::<u64>().ok().filter(|v| *v <= max)
}

/// Parses a path relative to the log prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
///
/// Only the canonical encoding is accepted: no leading zeros in `L` or `W`, exactly three digits per `N` group,
/// no all-zero leading `x000` group, `W` in 1..=255, no empty or extra segments.
pub fn parse_tile_path(path: &str) -> Result<TilePath, Error> {
    if path.len() > MAX_PATH_LEN {
        return Err(Error::MalformedTilePath("too long"));
    }
    let rest = path
        .strip_prefix("tile/")
        .ok_or(Error::MalformedTilePath("does not start with tile/"))?;
    let (kind, rest) = rest.split_once('/').ok_or(Error::MalformedTilePath("missing index"))?;
    let level = if kind == "entries" {
        None
    } else {
        let level = parse_decimal(kind, u64::from(MAX_TILE_LEVEL)).ok_or(Error::MalformedTilePath("bad level"))?;
        Some(u8::try_from(level).map_err(|_| Error::MalformedTilePath("bad level"))?)
    };
    // Split off the partial-width suffix: the last segment before "/<W>" ends in ".p".
    let (index_part, width) = match rest.split_once(".p/") {
        Some((idx, w)) => {
            let w = parse_decimal(w, u64::from(TILE_WIDTH) - 1)
                .filter(|w| *w >= 1)
                .ok_or(Error::MalformedTilePath("bad partial width"))?;
            (
                idx,
                u16::try_from(w).map_err(|_| Error::MalformedTilePath("bad partial width"))?,
            )
        }
        None => (rest, TILE_WIDTH),
    };
    let mut index: u64 = 0;
    let segments: Vec<&str> = index_part.split('/').collect();
    if segments.len() > 7 {
        return Err(Error::MalformedTilePath("index has too many groups"));
    }
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        let digits = if i < last {
            segment
                .strip_prefix('x')
                .ok_or(Error::MalformedTilePath("index group without x prefix"))?
        } else {
            segment
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::MalformedTilePath("index group is not three digits"));
        }
        if i == 0 && i < last && digits == "000" {
            return Err(Error::MalformedTilePath("index has a leading zero group"));
        }
        let group: u64 = digits
            .parse()
            .map_err(|_| Error::MalformedTilePath("index group is not three digits"))?;
        index = index
            .checked_mul(1000)
            .and_then(|v| v.checked_add(group))
            .ok_or(Error::MalformedTilePath("index overflows"))?;
    }
    Ok(match level {
        Some(level) => TilePath::Hashes(TileId::new(level, index, width)?),
        None => TilePath::Entries { index, width },
    })
}

/// The tiles a tree of `size` leaves consists of, level by level, full tiles first then the partial one.
///
/// Level `l` has `size / 256^l` hashes; they fill `⌊that / 256⌋` full tiles and one partial tile of the
/// remainder (if non-zero). The iterator is lazy: a huge size yields a huge number of full tiles, so callers
/// usually want only [`TilesForSize::partial`] or a window of it.
pub fn tiles_for_size(size: u64) -> TilesForSize {
    TilesForSize {
        size,
        level: 0,
        next_index: 0,
    }
}

/// Iterator returned by [`tiles_for_size`].
#[derive(Debug, Clone)]
pub struct TilesForSize {
    size: u64,
    level: u8,
    next_index: u64,
}

impl TilesForSize {
    /// Number of hashes at `level` for this tree (0 once the level is above the tree's top).
    fn hashes_at(&self, level: u8) -> u64 {
        self.size.checked_shr(8 * u32::from(level)).unwrap_or(0)
    }

    /// Only the partial tiles (at most one per level): the ones that change as the tree grows.
    pub fn partial(&self) -> Vec<TileId> {
        (0..=MAX_TILE_LEVEL)
            .map_while(|level| {
                let n = self.hashes_at(level);
                (n > 0).then_some((level, n))
            })
            .filter_map(|(level, n)| {
                let width = u16::try_from(n % u64::from(TILE_WIDTH)).ok()?;
                (width > 0).then_some(TileId {
                    level,
                    index: n / u64::from(TILE_WIDTH),
                    width,
                })
            })
            .collect()
    }
}

impl Iterator for TilesForSize {
    type Item = TileId;

    fn next(&mut self) -> Option<TileId> {
        loop {
            if self.level > MAX_TILE_LEVEL {
                return None;
            }
            let n = self.hashes_at(self.level);
            if n == 0 {
                return None;
            }
            let full = n / u64::from(TILE_WIDTH);
            let index = self.next_index;
            if index < full {
                self.next_index += 1;
                return Some(TileId {
                    level: self.level,
                    index,
                    width: TILE_WIDTH,
                });
            }
            let rem = u16::try_from(n % u64::from(TILE_WIDTH)).unwrap_or(0);
            self.level += 1;
            self.next_index = 0;
            if index == full && rem > 0 {
                return Some(TileId {
                    level: self.level - 1,
                    index,
                    width: rem,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(tile_path(0, 0, 256).unwrap(), "tile/0/000");
        assert_eq!(tile_path(0, 1234067, 256).unwrap(), "tile/0/x001/x234/067");
        assert_eq!(tile_path(2, 1000, 17).unwrap(), "tile/2/x001/000.p/17");
        assert_eq!(
            tile_path(63, u64::MAX, 1).unwrap(),
            "tile/63/x018/x446/x744/x073/x709/x551/615.p/1"
        );
        assert_eq!(entries_path(5, 256).unwrap(), "tile/entries/005");
        assert_eq!(entries_path(5, 3).unwrap(), "tile/entries/005.p/3");
        assert!(tile_path(64, 0, 256).is_err());
        assert!(tile_path(0, 0, 0).is_err());
        assert!(tile_path(0, 0, 257).is_err());
        assert!(entries_path(0, 0).is_err());
    }

    #[test]
    fn parse_roundtrip() {
        for (level, index, width) in [
            (0, 0, 256),
            (1, 999, 1),
            (2, 1000, 255),
            (63, u64::MAX, 256),
            (7, 1234067, 9),
        ] {
            let path = tile_path(level, index, width).unwrap();
            assert_eq!(
                parse_tile_path(&path).unwrap(),
                TilePath::Hashes(TileId { level, index, width }),
                "{path}"
            );
            let path = entries_path(index, width).unwrap();
            assert_eq!(
                parse_tile_path(&path).unwrap(),
                TilePath::Entries { index, width },
                "{path}"
            );
        }
    }

    #[test]
    fn parse_rejects_non_canonical() {
        for bad in [
            "",
            "tile/",
            "tile/0",
            "tile/0/",
            "tile/00/000",
            "tile/64/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/0/x1/002",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/000.p/",
            "tile/0/000.p/1/",
            "tile/0/000/",
            "tile/0//000",
            "/tile/0/000",
            "tile/entries/",
            "tile/entries/x000/000",
            "tile/data/000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
            "tile/0/x001/x002/x003/x004/x005/x006/x007/x008/x009/x010/x011/012",
            "tile/0/0a0",
            "tile/0/000.p/1.p/2",
        ] {
            assert!(parse_tile_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn tiles_for_sizes_match_spec_examples() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of
        // width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of
        // width 1."
        let tiles: Vec<TileId> = tiles_for_size(70_000).collect();
        assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1);
        assert!(
            tiles[..273]
                .iter()
                .enumerate()
                .all(|(i, t)| t.level == 0 && t.index == i as u64 && t.is_full())
        );
        assert_eq!(
            tiles[273],
            TileId {
                level: 0,
                index: 273,
                width: 112
            }
        );
        assert_eq!(
            tiles[274],
            TileId {
                level: 1,
                index: 0,
                width: 256
            }
        );
        assert_eq!(
            tiles[275],
            TileId {
                level: 1,
                index: 1,
                width: 17
            }
        );
        assert_eq!(
            tiles[276],
            TileId {
                level: 2,
                index: 0,
                width: 1
            }
        );
        assert_eq!(
            tiles_for_size(70_000).partial(),
            vec![tiles[273], tiles[275], tiles[276]]
        );
        // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1."
        let tiles: Vec<TileId> = tiles_for_size(256).collect();
        assert_eq!(
            tiles,
            vec![
                TileId {
                    level: 0,
                    index: 0,
                    width: 256
                },
                TileId {
                    level: 1,
                    index: 0,
                    width: 1
                }
            ]
        );
        assert_eq!(tiles_for_size(0).count(), 0);
        assert_eq!(
            tiles_for_size(1).collect::<Vec<_>>(),
            vec![TileId {
                level: 0,
                index: 0,
                width: 1
            }]
        );
        let top = tiles_for_size(u64::MAX).partial();
        assert_eq!(top.len(), 8);
        assert_eq!(top.last().unwrap().level, 7);
    }
}
