//! A small, bounded DER reader.
//!
//! Sigstore verification needs to walk a handful of DER structures that the certificate parser
//! does not expose (SubjectPublicKeyInfo, the TBS of a precertificate, CMS SignedData). This
//! reader never recurses on its own: callers descend one level at a time, so nesting depth is
//! bounded by the caller's code, not by the input. Only definite, minimally encoded lengths and
//! single-byte tags are accepted (all that X.509, CMS and RFC 3161 use).

use crate::Error;

/// Universal tags used by Sigstore's DER structures.
pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const IA5_STRING: u8 = 0x16;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;

    /// `[n]` context-specific, constructed (EXPLICIT tagging or constructed IMPLICIT).
    pub const fn context_constructed(n: u8) -> u8 {
        0xa0 | (n & 0x1f)
    }

    /// `[n]` context-specific, primitive.
    pub const fn context_primitive(n: u8) -> u8 {
        0x80 | (n & 0x1f)
    }
}

/// One tag-length-value element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// The contents octets.
    pub value: &'a [u8],
    /// The whole encoding: identifier, length and contents.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// A reader over this element's contents (for constructed types).
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.value)
    }
}

/// A cursor over a sequence of DER elements.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The identifier octet of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads the next element.
    pub fn read(&mut self) -> Result<Tlv<'a>, Error> {
        let data = self.data;
        let (&tag, rest) = data.split_first().ok_or(Error::Der("unexpected end of data"))?;
        if tag & 0x1f == 0x1f {
            return Err(Error::Der("multi-byte tags are not supported"));
        }
        let (&first, rest) = rest.split_first().ok_or(Error::Der("missing length"))?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 {
                return Err(Error::Der("indefinite length is not DER"));
            }
            if n > 4 {
                return Err(Error::Der("length too large"));
            }
            let (bytes, rest) = rest.split_at_checked(n).ok_or(Error::Der("truncated length"))?;
            let mut len = 0usize;
            for &b in bytes {
                len = (len << 8) | usize::from(b);
            }
            if bytes.first() == Some(&0) || len < 0x80 {
                return Err(Error::Der("non-minimal length"));
            }
            (len, rest)
        };
        let (value, rest) = rest.split_at_checked(len).ok_or(Error::Der("truncated value"))?;
        let header = data.len() - rest.len() - len;
        let raw = data.get(..header + len).ok_or(Error::Der("truncated value"))?;
        self.data = rest;
        Ok(Tlv { tag, value, raw })
    }

    /// Reads the next element and checks its tag.
    pub fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, Error> {
        let tlv = self.read()?;
        if tlv.tag != tag {
            return Err(Error::Der("unexpected tag"));
        }
        Ok(tlv)
    }

    /// Reads the next element only if it has the given tag.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, Error> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails if anything is left.
    pub fn finish(&self) -> Result<(), Error> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(Error::Der("trailing data"))
        }
    }
}

/// Parses exactly one element spanning all of `data`.
pub fn parse_single(data: &[u8]) -> Result<Tlv<'_>, Error> {
    let mut r = Reader::new(data);
    let tlv = r.read()?;
    r.finish()?;
    Ok(tlv)
}

/// Encodes a definite length.
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// Encodes one element.
pub fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    encode_length(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

/// Decodes an unsigned INTEGER's contents to u64 (rejects negatives and overflow).
pub fn integer_to_u64(value: &[u8]) -> Result<u64, Error> {
    match value {
        [] => Err(Error::Der("empty integer")),
        [first, ..] if first & 0x80 != 0 => Err(Error::Der("negative integer")),
        _ => {
            let trimmed: &[u8] = match value {
                [0, rest @ ..] => rest,
                v => v,
            };
            if trimmed.len() > 8 {
                return Err(Error::Der("integer too large"));
            }
            Ok(trimmed.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }
    }
}

/// Formats OID contents in dotted form (for messages and lookups).
pub fn oid_to_string(value: &[u8]) -> Result<String, Error> {
    let mut arcs: Vec<u128> = Vec::new();
    let mut acc: u128 = 0;
    let mut in_arc = false;
    for &b in value {
        if !in_arc && b == 0x80 {
            return Err(Error::Der("non-minimal OID arc"));
        }
        acc = acc.checked_mul(128).ok_or(Error::Der("OID arc too large"))? | u128::from(b & 0x7f);
        in_arc = b & 0x80 != 0;
        if !in_arc {
            arcs.push(acc);
            acc = 0;
        }
    }
    if in_arc || arcs.is_empty() {
        return Err(Error::Der("truncated OID"));
    }
    let first = arcs.first().copied().unwrap_or(0);
    let (a, b) = if first < 40 {
        (0, first)
    } else if first < 80 {
        (1, first - 40)
    } else {
        (2, first - 80)
    };
    let mut s = format!("{a}.{b}");
    for arc in arcs.iter().skip(1) {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_sequence() {
        let data = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xff];
        let seq = parse_single(&data).unwrap();
        let mut r = seq.reader();
        let i = r.expect(tag::INTEGER).unwrap();
        assert_eq!(integer_to_u64(i.value).unwrap(), 5);
        let o = r.expect(tag::OCTET_STRING).unwrap();
        assert_eq!(o.value, &[0xff]);
        r.finish().unwrap();
    }

    #[test]
    fn rejects_bad_lengths() {
        assert!(parse_single(&[0x30, 0x80, 0x00, 0x00]).is_err()); // indefinite
        assert!(parse_single(&[0x04, 0x81, 0x01, 0x00]).is_err()); // non-minimal
        assert!(parse_single(&[0x04, 0x05, 0x00]).is_err()); // truncated
        assert!(parse_single(&[0x04, 0x01, 0x00, 0x00]).is_err()); // trailing
        assert!(parse_single(&[0x1f, 0x01, 0x00]).is_err()); // high tag
    }

    #[test]
    fn oid_formatting() {
        // 1.3.6.1.4.1.57264.1.8
        let v = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];
        assert_eq!(oid_to_string(&v).unwrap(), "1.3.6.1.4.1.57264.1.8");
    }

    #[test]
    fn encode_roundtrip() {
        for len in [0usize, 1, 127, 128, 255, 256, 70000] {
            let v = vec![7u8; len];
            let enc = encode(tag::OCTET_STRING, &v);
            let t = parse_single(&enc).unwrap();
            assert_eq!(t.value.len(), len);
            assert_eq!(t.raw, &enc[..]);
        }
    }
}
