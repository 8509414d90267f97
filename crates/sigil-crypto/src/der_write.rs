//! DER writing helpers shared by everything that issues signed structures (certificates, SCT lists, CMS,
//! time-stamp responses). Values are built bottom-up as byte vectors; each helper returns one complete TLV.

use crate::Error;
use crate::der::{encode, tag};

/// `SEQUENCE { parts… }`.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    encode(tag::SEQUENCE, &parts.concat())
}

/// `SET OF { items… }` in DER order: elements sorted by their encodings (X.690 §11.6).
pub fn set_of(mut items: Vec<Vec<u8>>) -> Vec<u8> {
    items.sort();
    encode(tag::SET, &items.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes, minimally encoded.
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let significant = magnitude.get(skip..).unwrap_or(&[]);
    let mut value = Vec::with_capacity(significant.len() + 1);
    match significant.first() {
        None => value.push(0),
        Some(&b) if b & 0x80 != 0 => value.push(0),
        Some(_) => {}
    }
    value.extend_from_slice(significant);
    encode(tag::INTEGER, &value)
}

/// A non-negative INTEGER from a `u64`.
pub fn integer_u64(v: u64) -> Vec<u8> {
    unsigned_integer(&v.to_be_bytes())
}

/// An OBJECT IDENTIFIER from dotted form (`1.2.840.10045.4.3.2`).
pub fn oid(dotted: &str) -> Result<Vec<u8>, Error> {
    let arcs = dotted
        .split('.')
        .map(|a| a.parse::<u64>().map_err(|_| Error::Der("bad OID arc")))
        .collect::<Result<Vec<_>, _>>()?;
    let (first, rest) = match arcs.as_slice() {
        [a, b, rest @ ..] if *a <= 2 && (*a == 2 || *b < 40) => (
            a.checked_mul(40)
                .and_then(|x| x.checked_add(*b))
                .ok_or(Error::Der("OID arc too large"))?,
            rest,
        ),
        _ => return Err(Error::Der("OID needs two valid leading arcs")),
    };
    let mut value = Vec::new();
    for arc in std::iter::once(first).chain(rest.iter().copied()) {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rem = arc >> 7;
        while rem > 0 {
            chunk.push(0x80 | (rem & 0x7f) as u8);
            rem >>= 7;
        }
        chunk.reverse();
        value.extend_from_slice(&chunk);
    }
    Ok(encode(tag::OID, &value))
}

/// `OCTET STRING`.
pub fn octet_string(v: &[u8]) -> Vec<u8> {
    encode(tag::OCTET_STRING, v)
}

/// `BIT STRING` with no unused bits.
pub fn bit_string(v: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(v.len() + 1);
    value.push(0);
    value.extend_from_slice(v);
    encode(tag::BIT_STRING, &value)
}

/// `UTF8String`.
pub fn utf8_string(s: &str) -> Vec<u8> {
    encode(tag::UTF8_STRING, s.as_bytes())
}

/// `BOOLEAN` (DER: TRUE is 0xff).
pub fn boolean(v: bool) -> Vec<u8> {
    encode(tag::BOOLEAN, &[if v { 0xff } else { 0 }])
}

/// `NULL`.
pub fn null() -> Vec<u8> {
    vec![tag::NULL, 0]
}

/// `[n] EXPLICIT` (context-specific, constructed) around `inner`.
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    encode(tag::context_constructed(n), inner)
}

/// Civil date and time of a Unix timestamp (UTC), for the time types below.
fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (secs / 3600) as u32,
        ((secs % 3600) / 60) as u32,
        (secs % 60) as u32,
    )
}

/// `GeneralizedTime` `YYYYMMDDHHMMSS[.fff]Z`; `millis` is written without trailing zeros (DER), or omitted if 0.
pub fn generalized_time(unix: i64, millis: u16) -> Result<Vec<u8>, Error> {
    let (y, mo, d, h, mi, s) = civil(unix);
    if !(0..=9999).contains(&y) || millis > 999 {
        return Err(Error::Der("time out of range"));
    }
    let mut text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}");
    if millis > 0 {
        let frac = format!("{millis:03}");
        text.push('.');
        text.push_str(frac.trim_end_matches('0'));
    }
    text.push('Z');
    Ok(encode(tag::GENERALIZED_TIME, text.as_bytes()))
}

/// An X.509 `Time`: `UTCTime` for 1950–2049, `GeneralizedTime` otherwise (RFC 5280 §4.1.2.5).
pub fn x509_time(unix: i64) -> Result<Vec<u8>, Error> {
    let (y, mo, d, h, mi, s) = civil(unix);
    if (1950..2050).contains(&y) {
        let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        Ok(encode(tag::UTC_TIME, text.as_bytes()))
    } else {
        generalized_time(unix, 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::der::{integer_to_u64, oid_to_string, parse_single};

    #[test]
    fn oids_round_trip() {
        for s in [
            "1.2.840.10045.4.3.2",
            "1.3.6.1.4.1.57264.1.8",
            "2.5.29.17",
            "2.999.3",
            "0.9.2342",
        ] {
            let enc = oid(s).unwrap();
            assert_eq!(oid_to_string(parse_single(&enc).unwrap().value).unwrap(), s);
        }
        assert!(oid("3.1").is_err());
        assert!(oid("1.40").is_err());
        assert!(oid("1").is_err());
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(integer_u64(0), vec![2, 1, 0]);
        assert_eq!(integer_u64(127), vec![2, 1, 127]);
        assert_eq!(integer_u64(128), vec![2, 2, 0, 128]);
        assert_eq!(unsigned_integer(&[0, 0, 1, 0]), vec![2, 2, 1, 0]);
        for v in [0u64, 1, 255, 256, 1 << 40, u64::MAX] {
            assert_eq!(integer_to_u64(parse_single(&integer_u64(v)).unwrap().value).unwrap(), v);
        }
    }

    #[test]
    fn set_of_is_sorted() {
        let s = set_of(vec![vec![4, 1, 2], vec![2, 1, 1], vec![4, 1, 1]]);
        assert_eq!(s, vec![0x31, 9, 2, 1, 1, 4, 1, 1, 4, 1, 2]);
    }

    #[test]
    fn times() {
        // 2026-11-21T21:19:56Z
        let t = 1_795_295_996;
        assert_eq!(x509_time(t).unwrap().get(2..).unwrap(), b"261121211956Z");
        assert_eq!(generalized_time(t, 0).unwrap().get(2..).unwrap(), b"20261121211956Z");
        assert_eq!(
            generalized_time(t, 120).unwrap().get(2..).unwrap(),
            b"20261121211956.12Z"
        );
        assert_eq!(x509_time(2_524_608_000).unwrap().get(2..).unwrap(), b"20500101000000Z");
        assert_eq!(x509_time(0).unwrap().get(2..).unwrap(), b"700101000000Z");
    }
}
