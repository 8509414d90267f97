use crate::Error;

/// Sigstore's `HashAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha2_256,
    Sha2_384,
    Sha2_512,
}

impl HashAlgorithm {
    /// Output size in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha2_256 => 32,
            Self::Sha2_384 => 48,
            Self::Sha2_512 => 64,
        }
    }

    /// The protobuf enum name (`SHA2_256`).
    pub fn proto_name(self) -> &'static str {
        match self {
            Self::Sha2_256 => "SHA2_256",
            Self::Sha2_384 => "SHA2_384",
            Self::Sha2_512 => "SHA2_512",
        }
    }

    /// The Rekor v1 / in-toto name (`sha256`).
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Sha2_256 => "sha256",
            Self::Sha2_384 => "sha384",
            Self::Sha2_512 => "sha512",
        }
    }

    /// Parses either spelling.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name {
            "SHA2_256" | "sha256" => Ok(Self::Sha2_256),
            "SHA2_384" | "sha384" => Ok(Self::Sha2_384),
            "SHA2_512" | "sha512" => Ok(Self::Sha2_512),
            other => Err(Error::UnsupportedAlgorithm(format!("hash {other:?}"))),
        }
    }

    pub(crate) fn backend(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Self::Sha2_256 => &aws_lc_rs::digest::SHA256,
            Self::Sha2_384 => &aws_lc_rs::digest::SHA384,
            Self::Sha2_512 => &aws_lc_rs::digest::SHA512,
        }
    }

    /// Hashes `data` in one go.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(self.backend(), data).as_ref().to_vec()
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref());
    out
}

/// An incremental hasher, for streaming large artifacts from disk.
#[derive(Clone)]
pub struct Hasher {
    alg: HashAlgorithm,
    ctx: aws_lc_rs::digest::Context,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").field("alg", &self.alg).finish()
    }
}

impl Hasher {
    pub fn new(alg: HashAlgorithm) -> Self {
        Self {
            alg,
            ctx: aws_lc_rs::digest::Context::new(alg.backend()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    pub fn finish(self) -> Vec<u8> {
        self.ctx.finish().as_ref().to_vec()
    }

    /// Hashes everything `reader` yields, in 64 KiB chunks.
    pub fn digest_reader(alg: HashAlgorithm, mut reader: impl std::io::Read) -> std::io::Result<Vec<u8>> {
        let mut h = Self::new(alg);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(buf.get(..n).unwrap_or(&[]));
        }
        Ok(h.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_oneshot() {
        let data = vec![42u8; 200_000];
        let a = HashAlgorithm::Sha2_384.digest(&data);
        let b = Hasher::digest_reader(HashAlgorithm::Sha2_384, &data[..]).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            hex_lower(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn hex_lower(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
