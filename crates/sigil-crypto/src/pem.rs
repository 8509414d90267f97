use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;

/// Upper bound on one PEM input; keys and certificate chains are far smaller.
const MAX_PEM_LEN: usize = 1 << 20;

/// All `(label, DER)` blocks in a PEM text, in order.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    if text.len() > MAX_PEM_LEN {
        return Err(Error::Pem("input too large"));
    }
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut b64 = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            if l == end {
                closed = true;
                break;
            }
            if l.contains(':') {
                return Err(Error::Pem("encapsulated headers are not supported"));
            }
            b64.push_str(l);
        }
        if !closed {
            return Err(Error::Pem("missing END line"));
        }
        let der = STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| Error::Pem("invalid base64"))?;
        out.push((label.to_string(), der));
    }
    Ok(out)
}

/// Exactly one block with the given label.
pub fn pem_decode_one(text: &str, label: &str) -> Result<Vec<u8>, Error> {
    let mut blocks = pem_blocks(text)?;
    match blocks.len() {
        0 => Err(Error::Pem("no PEM block")),
        1 => {
            let (l, der) = blocks.remove(0);
            if l == label {
                Ok(der)
            } else {
                Err(Error::Pem("unexpected PEM label"))
            }
        }
        _ => Err(Error::Pem("more than one PEM block")),
    }
}

/// Encodes DER as PEM with 64-character lines and a trailing newline.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    let bytes = b64.as_bytes();
    for chunk in bytes.chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let der: Vec<u8> = (0..200u8).collect();
        let pem = pem_encode("CERTIFICATE", &der);
        assert_eq!(pem_decode_one(&pem, "CERTIFICATE").unwrap(), der);
        assert!(pem_decode_one(&pem, "PUBLIC KEY").is_err());
        let two = format!("{pem}{pem}");
        assert_eq!(pem_blocks(&two).unwrap().len(), 2);
        assert!(pem_decode_one(&two, "CERTIFICATE").is_err());
        assert!(pem_blocks("-----BEGIN X-----\nAAAA\n").is_err());
    }
}
