//! proto3-JSON scalar encodings: `bytes` as base64, `int64`/`uint64` as strings (numbers accepted),
//! `google.protobuf.Timestamp` as RFC 3339.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Decodes base64 the way proto3 JSON parsers must: standard or URL-safe alphabet, padded or not.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    // Line breaks are skipped, as Go's and Python's decoders do (real bundles carry them).
    let stripped: String;
    let s = if s.contains(['\n', '\r']) {
        stripped = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        stripped.as_str()
    } else {
        s
    };
    STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| URL_SAFE_NO_PAD.decode(s))
        .ok()
}

/// Standard, padded base64 (what proto3 JSON emits).
pub fn encode_base64(b: &[u8]) -> String {
    STANDARD.encode(b)
}

/// Percent-encodes everything but RFC 3986's unreserved characters: a URL query value or path segment.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A proto `bytes` field.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({})", encode_base64(&self.0))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Self(v)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_base64(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode_base64(&s)
            .map(Bytes)
            .ok_or_else(|| de::Error::custom("invalid base64"))
    }
}

/// A non-negative proto `int64` (log indexes, sizes, times): a JSON string or number of decimal
/// digits. Negative values, exponents and fractions are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Int64(pub u64);

impl Serialize for Int64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

struct Int64Visitor;

impl Visitor<'_> for Int64Visitor {
    type Value = Int64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a non-negative integer as a string or number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int64, E> {
        if v > i64::MAX as u64 {
            return Err(E::custom("integer out of int64 range"));
        }
        Ok(Int64(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int64, E> {
        u64::try_from(v).map(Int64).map_err(|_| E::custom("negative integer"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Int64, E> {
        Err(E::custom("integer expected, found a fraction or exponent"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Int64, E> {
        if v.starts_with('-') {
            return Err(E::custom("negative integer"));
        }
        if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom("integer string must be decimal digits"));
        }
        let n: u64 = v.parse().map_err(|_| E::custom("integer out of range"))?;
        self.visit_u64(n)
    }
}

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Int64Visitor)
    }
}

/// A `google.protobuf.Timestamp` in RFC 3339 form, keeping the original text for lossless output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    unix: i64,
}

impl Timestamp {
    /// Parses RFC 3339 (`2021-03-07T03:20:29.000Z`).
    pub fn parse(text: &str) -> Option<Self> {
        let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
        Some(Self {
            text: text.to_string(),
            unix: t.unix_timestamp(),
        })
    }

    /// From unix seconds (formats as RFC 3339 UTC).
    pub fn from_unix(unix: i64) -> Option<Self> {
        let t = time::OffsetDateTime::from_unix_timestamp(unix).ok()?;
        let text = t.format(&time::format_description::well_known::Rfc3339).ok()?;
        Some(Self { text, unix })
    }

    /// Seconds since the epoch (fractions truncated).
    pub fn unix(&self) -> i64 {
        self.unix
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| de::Error::custom("invalid RFC 3339 timestamp"))
    }
}

pub(crate) fn is_zero(v: &Int64) -> bool {
    v.0 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_forms() {
        let ok: Vec<Int64> = serde_json::from_str(r#"["25915956", 25915956, "0"]"#).unwrap();
        assert_eq!(ok, vec![Int64(25915956), Int64(25915956), Int64(0)]);
        for bad in [
            r#""-1""#,
            "-1",
            r#""1e999""#,
            "1e999",
            "1.5",
            r#""""#,
            r#"" 1""#,
            "99999999999999999999",
        ] {
            assert!(serde_json::from_str::<Int64>(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&Int64(7)).unwrap(), r#""7""#);
    }

    #[test]
    fn base64_forms() {
        let b: Bytes = serde_json::from_str(r#""+/8=""#).unwrap();
        assert_eq!(b.0, vec![0xfb, 0xff]);
        let u: Bytes = serde_json::from_str(r#""-_8""#).unwrap();
        assert_eq!(u.0, vec![0xfb, 0xff]);
        assert!(serde_json::from_str::<Bytes>(r#""!!!""#).is_err());
    }

    #[test]
    fn timestamps() {
        let t = Timestamp::parse("2022-12-31T23:59:59.999Z").unwrap();
        assert_eq!(t.unix(), 1672531199);
        assert_eq!(serde_json::to_string(&t).unwrap(), r#""2022-12-31T23:59:59.999Z""#);
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
