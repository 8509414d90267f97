//! Binary protobuf encoding of `dev.sigstore.rekor.v1.TransparencyLogEntry`, the form gitsign stores in the
//! commit signature's unsigned attribute 1.3.6.1.4.1.57264.3.1.
//!
//! Field numbers are those of sigstore/protobuf-specs `protos/sigstore_rekor.proto` (checked against the file
//! at commit 02624f25) and `sigstore_common.proto` (`LogId.key_id = 1`):
//!
//! ```text
//! TransparencyLogEntry { int64 log_index = 1; LogId log_id = 2; KindVersion kind_version = 3;
//!                        int64 integrated_time = 4; InclusionPromise inclusion_promise = 5;
//!                        InclusionProof inclusion_proof = 6; bytes canonicalized_body = 7; }
//! LogId { bytes key_id = 1; }      KindVersion { string kind = 1; string version = 2; }
//! InclusionPromise { bytes signed_entry_timestamp = 1; }
//! InclusionProof { int64 log_index = 1; bytes root_hash = 2; int64 tree_size = 3; repeated bytes hashes = 4;
//!                  Checkpoint checkpoint = 5; }
//! Checkpoint { string envelope = 1; }
//! ```
//!
//! Encoding follows proto3: scalar fields equal to their default (0, empty) are left out; a present message field
//! is always written, even when empty. Decoding is bounded (input size, number of hashes; the schema fixes the
//! nesting depth at three), skips unknown fields of wire types 0, 1, 2 and 5, rejects groups, a repeated
//! occurrence of a singular field, non-UTF-8 strings and truncated or overlong varints, and never panics.

use sigil_bundle::bundle::{Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TransparencyLogEntry};
use sigil_bundle::{Bytes, Int64};

use crate::Error;

/// Largest encoded entry [`decode`] accepts.
pub const MAX_ENCODED_LEN: usize = 1 << 20;
/// Most inclusion-proof hashes [`decode`] accepts (a tree of 2^64 leaves needs 64).
pub const MAX_HASHES: usize = 64;

const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;
const I32: u8 = 5;

// ---- encoding ----

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

fn put_int(out: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        put_key(out, field, VARINT);
        put_varint(out, v);
    }
}

/// A length-delimited field, always written (messages, repeated bytes).
fn put_len(out: &mut Vec<u8>, field: u32, v: &[u8]) {
    put_key(out, field, LEN);
    put_varint(out, v.len() as u64);
    out.extend_from_slice(v);
}

/// A scalar bytes/string field, left out when empty (proto3 default).
fn put_bytes(out: &mut Vec<u8>, field: u32, v: &[u8]) {
    if !v.is_empty() {
        put_len(out, field, v);
    }
}

/// The protobuf (binary) encoding of `e`.
pub fn encode(e: &TransparencyLogEntry) -> Vec<u8> {
    let mut out = Vec::new();
    put_int(&mut out, 1, e.log_index.0);
    let mut log_id = Vec::new();
    put_bytes(&mut log_id, 1, &e.log_id.key_id);
    put_len(&mut out, 2, &log_id);
    let mut kv = Vec::new();
    put_bytes(&mut kv, 1, e.kind_version.kind.as_bytes());
    put_bytes(&mut kv, 2, e.kind_version.version.as_bytes());
    put_len(&mut out, 3, &kv);
    put_int(&mut out, 4, e.integrated_time.0);
    if let Some(p) = &e.inclusion_promise {
        let mut m = Vec::new();
        put_bytes(&mut m, 1, &p.signed_entry_timestamp);
        put_len(&mut out, 5, &m);
    }
    if let Some(p) = &e.inclusion_proof {
        let mut m = Vec::new();
        put_int(&mut m, 1, p.log_index.0);
        put_bytes(&mut m, 2, &p.root_hash);
        put_int(&mut m, 3, p.tree_size.0);
        for h in &p.hashes {
            put_len(&mut m, 4, h);
        }
        if let Some(c) = &p.checkpoint {
            let mut cm = Vec::new();
            put_bytes(&mut cm, 1, c.envelope.as_bytes());
            put_len(&mut m, 5, &cm);
        }
        put_len(&mut out, 6, &m);
    }
    if let Some(b) = &e.canonicalized_body {
        put_bytes(&mut out, 7, b);
    }
    out
}

// ---- decoding ----

/// One decoded field value.
enum Value<'a> {
    Int(u64),
    Len(&'a [u8]),
    /// A fixed-width (I64 or I32) value; no known field uses one.
    Fixed,
}

/// A cursor over one message's bytes; `base` is the message's offset in the whole input (for errors).
struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Fields<'a> {
    fn new(data: &'a [u8], base: usize) -> Self {
        Self { data, pos: 0, base }
    }

    fn err(&self, problem: &'static str) -> Error {
        Error::Protobuf {
            offset: self.base.saturating_add(self.pos),
            problem,
        }
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let b = *self.data.get(self.pos).ok_or_else(|| self.err("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut v = 0u64;
        for i in 0..10u32 {
            let b = self.byte()?;
            if i == 9 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.err("length overflows"))?;
        let s = self.data.get(self.pos..end).ok_or_else(|| self.err("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    /// The next known-wire-type field as `(number, value offset, value)`; unknown fields are returned too (the
    /// caller skips numbers it does not know). `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, usize, Value<'a>)>, Error> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = key >> 3;
        if field == 0 {
            return Err(self.err("field number 0"));
        }
        let at = self.base.saturating_add(self.pos);
        let value = match (key & 7) as u8 {
            VARINT => Value::Int(self.varint()?),
            I64 => {
                self.take(8)?;
                Value::Fixed
            }
            LEN => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| self.err("length overflows"))?;
                Value::Len(self.take(n)?)
            }
            I32 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => return Err(self.err("unsupported wire type (groups are not accepted)")),
        };
        Ok(Some((field, at, value)))
    }
}

/// Tracks singular fields already seen in one message (field numbers 1..=7).
#[derive(Default)]
struct Seen(u8);

impl Seen {
    fn once(&mut self, field: u64, at: usize) -> Result<(), Error> {
        let bit = 1u8 << (field & 7);
        if self.0 & bit != 0 {
            return Err(Error::Protobuf {
                offset: at,
                problem: "singular field repeated",
            });
        }
        self.0 |= bit;
        Ok(())
    }
}

fn want_int(v: &Value<'_>, at: usize) -> Result<u64, Error> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Len(_) | Value::Fixed => Err(Error::Protobuf {
            offset: at,
            problem: "expected a varint field",
        }),
    }
}

fn want_len<'a>(v: &Value<'a>, at: usize) -> Result<&'a [u8], Error> {
    match v {
        Value::Len(b) => Ok(b),
        Value::Int(_) | Value::Fixed => Err(Error::Protobuf {
            offset: at,
            problem: "expected a length-delimited field",
        }),
    }
}

fn want_str(v: &Value<'_>, at: usize) -> Result<String, Error> {
    let b = want_len(v, at)?;
    String::from_utf8(b.to_vec()).map_err(|_| Error::Protobuf {
        offset: at,
        problem: "string is not UTF-8",
    })
}

/// Checks that a known field number arrived with the wire type its schema gives (varint for int64, LEN for
/// bytes, strings and messages); fields we do not know are skipped by the callers.
fn known(field: u64, max: u64) -> bool {
    (1..=max).contains(&field)
}

fn decode_log_id(b: &[u8], base: usize) -> Result<LogId, Error> {
    let mut f = Fields::new(b, base);
    let mut seen = Seen::default();
    let mut key_id = Vec::new();
    while let Some((n, at, v)) = f.next()? {
        if n == 1 {
            seen.once(n, at)?;
            key_id = want_len(&v, at)?.to_vec();
        }
    }
    Ok(LogId { key_id: Bytes(key_id) })
}

fn decode_kind_version(b: &[u8], base: usize) -> Result<KindVersion, Error> {
    let mut f = Fields::new(b, base);
    let mut seen = Seen::default();
    let mut kv = KindVersion {
        kind: String::new(),
        version: String::new(),
    };
    while let Some((n, at, v)) = f.next()? {
        if !known(n, 2) {
            continue;
        }
        seen.once(n, at)?;
        if n == 1 {
            kv.kind = want_str(&v, at)?;
        } else {
            kv.version = want_str(&v, at)?;
        }
    }
    Ok(kv)
}

fn decode_promise(b: &[u8], base: usize) -> Result<InclusionPromise, Error> {
    let mut f = Fields::new(b, base);
    let mut seen = Seen::default();
    let mut set = Vec::new();
    while let Some((n, at, v)) = f.next()? {
        if n == 1 {
            seen.once(n, at)?;
            set = want_len(&v, at)?.to_vec();
        }
    }
    Ok(InclusionPromise {
        signed_entry_timestamp: Bytes(set),
    })
}

fn decode_checkpoint(b: &[u8], base: usize) -> Result<Checkpoint, Error> {
    let mut f = Fields::new(b, base);
    let mut seen = Seen::default();
    let mut envelope = String::new();
    while let Some((n, at, v)) = f.next()? {
        if n == 1 {
            seen.once(n, at)?;
            envelope = want_str(&v, at)?;
        }
    }
    Ok(Checkpoint { envelope })
}

fn decode_proof(b: &[u8], base: usize) -> Result<InclusionProof, Error> {
    let mut f = Fields::new(b, base);
    let mut seen = Seen::default();
    let mut p = InclusionProof {
        log_index: Int64(0),
        root_hash: Bytes(Vec::new()),
        tree_size: Int64(0),
        hashes: Vec::new(),
        checkpoint: None,
    };
    while let Some((n, at, v)) = f.next()? {
        if !known(n, 5) {
            continue;
        }
        if n != 4 {
            seen.once(n, at)?;
        }
        match n {
            1 => p.log_index = Int64(want_int(&v, at)?),
            2 => p.root_hash = Bytes(want_len(&v, at)?.to_vec()),
            3 => p.tree_size = Int64(want_int(&v, at)?),
            4 => {
                if p.hashes.len() >= MAX_HASHES {
                    return Err(Error::Protobuf {
                        offset: at,
                        problem: "too many inclusion-proof hashes",
                    });
                }
                p.hashes.push(Bytes(want_len(&v, at)?.to_vec()));
            }
            _ => p.checkpoint = Some(decode_checkpoint(want_len(&v, at)?, at)?),
        }
    }
    Ok(p)
}

/// Decodes the protobuf (binary) encoding of a `TransparencyLogEntry`. Missing scalar fields take their proto3
/// defaults; an absent or empty `canonicalized_body` is `None`.
pub fn decode(bytes: &[u8]) -> Result<TransparencyLogEntry, Error> {
    if bytes.len() > MAX_ENCODED_LEN {
        return Err(Error::TooLarge {
            len: bytes.len(),
            max: MAX_ENCODED_LEN,
        });
    }
    let mut f = Fields::new(bytes, 0);
    let mut seen = Seen::default();
    let mut e = TransparencyLogEntry {
        log_index: Int64(0),
        log_id: LogId {
            key_id: Bytes(Vec::new()),
        },
        kind_version: KindVersion {
            kind: String::new(),
            version: String::new(),
        },
        integrated_time: Int64(0),
        inclusion_promise: None,
        inclusion_proof: None,
        canonicalized_body: None,
    };
    while let Some((n, at, v)) = f.next()? {
        if !known(n, 7) {
            continue;
        }
        seen.once(n, at)?;
        match n {
            1 => e.log_index = Int64(want_int(&v, at)?),
            2 => e.log_id = decode_log_id(want_len(&v, at)?, at)?,
            3 => e.kind_version = decode_kind_version(want_len(&v, at)?, at)?,
            4 => e.integrated_time = Int64(want_int(&v, at)?),
            5 => e.inclusion_promise = Some(decode_promise(want_len(&v, at)?, at)?),
            6 => e.inclusion_proof = Some(decode_proof(want_len(&v, at)?, at)?),
            _ => {
                let b = want_len(&v, at)?;
                e.canonicalized_body = (!b.is_empty()).then(|| Bytes(b.to_vec()));
            }
        }
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    prop_compose! {
        fn entry()(
            log_index in any::<u64>(),
            key_id in bytes(40),
            kind in "[a-z]{0,12}",
            version in "[0-9.]{0,6}",
            integrated_time in any::<u64>(),
            promise in proptest::option::of(bytes(80)),
            proof in proptest::option::of((any::<u64>(), bytes(40), any::<u64>(),
                proptest::collection::vec(bytes(40), 0..8), proptest::option::of("\\PC{0,40}"))),
            body in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..200)),
        ) -> TransparencyLogEntry {
            TransparencyLogEntry {
                log_index: Int64(log_index),
                log_id: LogId { key_id: Bytes(key_id) },
                kind_version: KindVersion { kind, version },
                integrated_time: Int64(integrated_time),
                inclusion_promise: promise.map(|p| InclusionPromise { signed_entry_timestamp: Bytes(p) }),
                inclusion_proof: proof.map(|(li, rh, ts, hashes, cp)| InclusionProof {
                    log_index: Int64(li),
                    root_hash: Bytes(rh),
                    tree_size: Int64(ts),
                    hashes: hashes.into_iter().map(Bytes).collect(),
                    checkpoint: cp.map(|envelope| Checkpoint { envelope }),
                }),
                canonicalized_body: body.map(Bytes),
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip(e in entry()) {
            let enc = encode(&e);
            prop_assert_eq!(decode(&enc).unwrap(), e);
        }

        #[test]
        fn random_bytes_never_panic(b in bytes(512)) {
            let _ = decode(&b);
        }

        #[test]
        fn mutated_encodings_never_panic(e in entry(), pos in any::<usize>(), byte in any::<u8>()) {
            let mut enc = encode(&e);
            if !enc.is_empty() {
                let i = pos % enc.len();
                enc[i] = byte;
            }
            let _ = decode(&enc);
        }
    }

    #[test]
    fn known_encoding() {
        // log_index 5, log_id {key_id "k"}, kind_version {"hashedrekord","0.0.1"}, integrated_time 300.
        let e = TransparencyLogEntry {
            log_index: Int64(5),
            log_id: LogId {
                key_id: Bytes(b"k".to_vec()),
            },
            kind_version: KindVersion {
                kind: "hashedrekord".into(),
                version: "0.0.1".into(),
            },
            integrated_time: Int64(300),
            inclusion_promise: None,
            inclusion_proof: None,
            canonicalized_body: Some(Bytes(b"{}".to_vec())),
        };
        let mut want = vec![0x08, 5, 0x12, 3, 0x0a, 1, b'k', 0x1a, 21, 0x0a, 12];
        want.extend_from_slice(b"hashedrekord");
        want.extend_from_slice(&[0x12, 5]);
        want.extend_from_slice(b"0.0.1");
        want.extend_from_slice(&[0x20, 0xac, 0x02, 0x3a, 2, b'{', b'}']);
        assert_eq!(encode(&e), want);
        // Unknown fields of every wire type are skipped.
        let mut with_unknown = want.clone();
        with_unknown.extend_from_slice(&[0x40, 1, 0x49, 0, 0, 0, 0, 0, 0, 0, 0, 0x52, 1, 0, 0x5d, 0, 0, 0, 0]);
        assert_eq!(decode(&with_unknown).unwrap(), e);
    }

    #[test]
    fn rejects_malformed() {
        assert!(decode(&[0x08]).is_err()); // truncated varint
        assert!(decode(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err()); // overflow
        assert!(decode(&[0x08, 1, 0x08, 2]).is_err()); // repeated singular field
        assert!(decode(&[0x0b]).is_err()); // group
        assert!(decode(&[0x3a, 5, 1]).is_err()); // truncated bytes
        assert!(decode(&[0x0a, 0]).is_err()); // log_index with LEN wire type
        assert!(decode(&[0x0d, 0, 0, 0, 0]).is_err()); // log_index with I32 wire type
        assert!(decode(&[0x1a, 3, 0x0a, 1, 0xff]).is_err()); // kind not UTF-8
        let mut many = vec![0x32];
        let mut proof = Vec::new();
        for _ in 0..=MAX_HASHES {
            proof.extend_from_slice(&[0x22, 0]);
        }
        put_varint(&mut many, proof.len() as u64);
        many.extend_from_slice(&proof);
        assert!(decode(&many).is_err());
        assert!(decode(&vec![0u8; MAX_ENCODED_LEN + 1]).is_err());
        assert_eq!(decode(&[]).unwrap().canonicalized_body, None);
    }
}
