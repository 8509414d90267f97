//! Bounded DER helpers on top of `sigil_crypto::der`.

use sigil_crypto::der::{Reader, tag};

use crate::Error;

/// Walks every element of `data` (one element, all bytes consumed) without recursion, checking that each
/// length is definite and minimal and that nesting is at most `max_depth` levels. Only SEQUENCE, SET and
/// context/application-specific constructed types may be constructed (constructed strings are BER, not DER).
pub(crate) fn check_der_tree(data: &[u8], max_depth: usize) -> Result<(), Error> {
    let mut stack: Vec<Reader<'_>> = Vec::with_capacity(max_depth);
    stack.push(Reader::new(data));
    let mut top_level_seen = false;
    loop {
        let level = stack.len();
        let Some(top) = stack.last_mut() else {
            break;
        };
        if top.is_empty() {
            stack.pop();
            continue;
        }
        if level == 1 {
            if top_level_seen {
                return Err(Error::Parse("trailing data".into()));
            }
            top_level_seen = true;
        }
        let tlv = top.read()?;
        let constructed = tlv.tag & 0x20 != 0;
        let universal = tlv.tag & 0xc0 == 0;
        if universal {
            let number = tlv.tag & 0x1f;
            let is_seq_or_set = number == 0x10 || number == 0x11;
            if constructed != is_seq_or_set {
                return Err(Error::Parse("constructed/primitive form not allowed in DER".into()));
            }
        }
        if constructed {
            if level >= max_depth {
                return Err(Error::Parse("DER nesting too deep".into()));
            }
            stack.push(tlv.reader());
        }
    }
    if !top_level_seen {
        return Err(Error::Parse("empty input".into()));
    }
    Ok(())
}

/// Reads an optional DER BOOLEAN (TRUE is 0xff, FALSE 0x00; explicit FALSE defaults are tolerated).
pub(crate) fn read_bool(value: &[u8]) -> Result<bool, Error> {
    match value {
        [0xff] => Ok(true),
        [0x00] => Ok(false),
        _ => Err(Error::Parse("invalid BOOLEAN".into())),
    }
}

/// The dotted form of OID contents, as a crate error.
pub(crate) fn oid_string(value: &[u8]) -> Result<String, Error> {
    Ok(sigil_crypto::der::oid_to_string(value)?)
}

/// Contents of a single DER UTF8String, as a `String`.
pub(crate) fn utf8_string(der: &[u8]) -> Option<String> {
    let tlv = sigil_crypto::der::parse_single(der).ok()?;
    if tlv.tag != tag::UTF8_STRING {
        return None;
    }
    String::from_utf8(tlv.value.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_crypto::der::encode;

    #[test]
    fn tree_check_bounds_depth_and_form() {
        let mut v = vec![0x05, 0x00];
        for _ in 0..3 {
            v = encode(tag::SEQUENCE, &v);
        }
        check_der_tree(&v, 4).unwrap();
        assert!(check_der_tree(&v, 3).is_err());
        // Constructed OCTET STRING (BER only), primitive SEQUENCE, trailing element, empty input.
        assert!(check_der_tree(&[0x24, 0x03, 0x04, 0x01, 0x00], 8).is_err());
        assert!(check_der_tree(&[0x10, 0x00], 8).is_err());
        assert!(check_der_tree(&[0x05, 0x00, 0x05, 0x00], 8).is_err());
        assert!(check_der_tree(&[], 8).is_err());
        // Context-specific constructed elements are descended into.
        check_der_tree(&encode(0xa3, &encode(tag::SEQUENCE, &[])), 8).unwrap();
        assert!(check_der_tree(&encode(0xa3, &[0x30, 0x81, 0x01, 0x00]), 8).is_err());
    }

    #[test]
    fn booleans_and_strings() {
        assert!(read_bool(&[0xff]).unwrap());
        assert!(!read_bool(&[0x00]).unwrap());
        assert!(read_bool(&[0x01]).is_err());
        assert!(read_bool(&[]).is_err());
        assert_eq!(utf8_string(&encode(tag::UTF8_STRING, b"x")).as_deref(), Some("x"));
        assert_eq!(utf8_string(&encode(tag::IA5_STRING, b"x")), None);
        assert_eq!(utf8_string(&encode(tag::UTF8_STRING, &[0xff])), None);
    }
}
