//! Query strings and form bodies: percent-decoding and named parameters, bounded and strict (an unknown or
//! repeated name is a 400, never silently ignored or last-one-wins).

use crate::HttpError;

/// Decodes `%XX` escapes (RFC 3986); `+` stays `+`. `None` for a malformed escape or invalid UTF-8.
pub fn percent_decode(v: &str) -> Option<String> {
    decode(v, false)
}

/// Decodes an `application/x-www-form-urlencoded` value: `+` is a space, then `%XX` escapes.
pub fn form_decode(v: &str) -> Option<String> {
    decode(v, true)
}

fn decode(v: &str, plus_is_space: bool) -> Option<String> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The (percent-decoded) values of `names` in a query string; unknown or repeated names are errors.
pub fn query_params<const N: usize>(q: Option<&str>, names: [&str; N]) -> Result<[Option<String>; N], HttpError> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let shown: String = name.chars().take(64).collect();
        let slot = names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| out.get_mut(i))
            .ok_or_else(|| HttpError::bad_request(format!("unknown query parameter {shown:?}")))?;
        if slot.is_some() {
            return Err(HttpError::bad_request(format!("query parameter {shown:?} given twice")));
        }
        let value =
            percent_decode(value).ok_or_else(|| HttpError::bad_request(format!("{shown} is not well-formed")))?;
        *slot = Some(value);
    }
    Ok(out)
}

/// An optional parameter that must be a non-negative integer fitting an int64 (what the wire formats carry).
pub fn u64_param(name: &str, v: Option<String>) -> Result<Option<u64>, HttpError> {
    v.map(|v| {
        v.parse::<u64>()
            .ok()
            .filter(|v| *v <= i64::MAX as u64)
            .ok_or_else(|| HttpError::bad_request(format!("{name} must be a non-negative integer")))
    })
    .transpose()
}

/// A required [`u64_param`].
pub fn required_u64(name: &str, v: Option<String>) -> Result<u64, HttpError> {
    u64_param(name, v)?.ok_or_else(|| HttpError::bad_request(format!("{name} is required")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Bb%2f%3D+").unwrap(), "a+b/=+");
        assert_eq!(form_decode("a+b%2B").unwrap(), "a b+");
        assert!(percent_decode("%zz").is_none());
        assert!(percent_decode("%2").is_none());
        assert!(percent_decode("%ff").is_none());
    }

    #[test]
    fn query_parsing() {
        let [a, b] = query_params(Some("first=1&second=2"), ["first", "second"]).unwrap();
        assert_eq!((a.as_deref(), b.as_deref()), (Some("1"), Some("2")));
        assert!(query_params(Some("first=1&first=2"), ["first", "second"]).is_err());
        assert!(query_params(Some("third=1"), ["first", "second"]).is_err());
        assert!(required_u64("x", Some("-1".into())).is_err());
        assert!(required_u64("x", Some("9223372036854775808".into())).is_err());
        assert!(required_u64("x", None).is_err());
        assert_eq!(u64_param("x", None).unwrap(), None);
        assert_eq!(u64_param("x", Some("7".into())).unwrap(), Some(7));
    }
}
