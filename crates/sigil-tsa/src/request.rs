//! `TimeStampReq` (RFC 3161 §2.4.1), for the signing side.

use sigil_crypto::HashAlgorithm;
use sigil_crypto::der::{encode, tag};

use crate::Error;
use crate::parse::hash_oid;

/// A time-stamp request: hash algorithm, imprint, optional nonce, and `certReq = TRUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    algorithm: HashAlgorithm,
    imprint: Vec<u8>,
    nonce: Option<Vec<u8>>,
}

impl TimeStampRequest {
    /// A request for an imprint already computed with `algorithm` (its length must match).
    pub fn new(algorithm: HashAlgorithm, imprint: Vec<u8>) -> Result<Self, Error> {
        if imprint.len() != algorithm.output_len() {
            return Err(Error::Malformed("imprint length does not match its algorithm".into()));
        }
        Ok(Self {
            algorithm,
            imprint,
            nonce: None,
        })
    }

    /// A request over Sigstore signature bytes: the imprint is `H(signature)` (PROTOCOL.md §6).
    pub fn for_signature(algorithm: HashAlgorithm, signature: &[u8]) -> Self {
        Self {
            algorithm,
            imprint: algorithm.digest(signature),
            nonce: None,
        }
    }

    /// Adds a nonce, an unsigned big-endian number (e.g. 8 random bytes). Check the response with
    /// [`crate::TstInfo::check_nonce`] and the same bytes.
    pub fn with_nonce(mut self, nonce: &[u8]) -> Self {
        self.nonce = Some(nonce.to_vec());
        self
    }

    /// The nonce, as given.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_deref()
    }

    /// The imprint.
    pub fn imprint(&self) -> &[u8] {
        &self.imprint
    }

    /// The DER `TimeStampReq` (version 1, no policy, `certReq` TRUE, no extensions).
    pub fn to_der(&self) -> Vec<u8> {
        let alg = encode(tag::SEQUENCE, &encode(tag::OID, hash_oid(self.algorithm)));
        let imprint = encode(tag::SEQUENCE, &[alg, encode(tag::OCTET_STRING, &self.imprint)].concat());
        let mut body = encode(tag::INTEGER, &[1]);
        body.extend_from_slice(&imprint);
        if let Some(n) = &self.nonce {
            body.extend_from_slice(&encode(tag::INTEGER, &unsigned_integer(n)));
        }
        body.extend_from_slice(&encode(tag::BOOLEAN, &[0xff]));
        encode(tag::SEQUENCE, &body)
    }
}

/// INTEGER contents for an unsigned big-endian number: minimal, with a leading zero if the high bit is set.
fn unsigned_integer(n: &[u8]) -> Vec<u8> {
    let skip = n.iter().take_while(|&&b| b == 0).count();
    let trimmed = n.get(skip..).unwrap_or(&[]);
    match trimmed.first() {
        None => vec![0],
        Some(b) if b & 0x80 != 0 => [&[0u8][..], trimmed].concat(),
        Some(_) => trimmed.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding() {
        let req = TimeStampRequest::for_signature(HashAlgorithm::Sha2_256, b"sig").with_nonce(&[0x00, 0x9f, 0x01]);
        let der = req.to_der();
        let seq = sigil_crypto::der::parse_single(&der).unwrap();
        let mut r = seq.reader();
        assert_eq!(r.expect(tag::INTEGER).unwrap().value, &[1]);
        let mi = r.expect(tag::SEQUENCE).unwrap();
        let mut m = mi.reader();
        let alg = m.expect(tag::SEQUENCE).unwrap();
        assert_eq!(
            alg.reader().expect(tag::OID).unwrap().value,
            hash_oid(HashAlgorithm::Sha2_256)
        );
        assert_eq!(m.expect(tag::OCTET_STRING).unwrap().value, sigil_crypto::sha256(b"sig"));
        assert_eq!(r.expect(tag::INTEGER).unwrap().value, &[0x00, 0x9f, 0x01]);
        assert_eq!(r.expect(tag::BOOLEAN).unwrap().value, &[0xff]);
        r.finish().unwrap();
        assert!(TimeStampRequest::new(HashAlgorithm::Sha2_384, vec![0; 32]).is_err());
        assert_eq!(unsigned_integer(&[0, 0, 0x12]), vec![0x12]);
        assert_eq!(unsigned_integer(&[]), vec![0]);
    }
}
