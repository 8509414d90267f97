//! RFC 8785 JSON canonicalization for the values Sigstore signs or logs.
//!
//! serde_json's `Map` is a `BTreeMap`, so keys come out sorted by UTF-8 bytes; RFC 8785 sorts by
//! UTF-16 code units, which agrees for every key below U+E000 (all keys Sigstore uses are ASCII).
//! Integers are written in plain decimal; Sigstore bodies contain no floating-point numbers.

/// The canonical text of `v`.
pub fn canonicalize(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, val)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write(val, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, val) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(val, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_compacts() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b": [1, {"z": null, "a": "x\n"}], "a": true}"#).unwrap();
        assert_eq!(canonicalize(&v), r#"{"a":true,"b":[1,{"a":"x\n","z":null}]}"#);
    }
}
