//! The authorities' keys and certificates: generated on first start and stored in a directory, or loaded from
//! it on later starts. Private keys are PKCS#8 DER files readable only by the owner; certificates are PEM.
//!
//! Layout of a directory: `root.pem` (self-signed), `root-key.pk8`, `issuer.pem` (the certificate that signs
//! leaves or time-stamps), `issuer-key.pk8`. Operators can put their own `root.pem`, `issuer.pem` and issuing key
//! (`issuer-key.pk8`, or PEM `issuer-key.pem`) there before the first start; nothing is generated then.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use sigil_crypto::{KeyAlgorithm, Signer, SigningKey};
use sigil_x509::{Issuer, Name, intermediate, self_signed_root, tsa_leaf};

use crate::Error;

const YEAR: i64 = 365 * 86_400;

/// Certificates and the key that signs with the last one.
#[derive(Debug, Clone)]
pub struct Material {
    /// The issuing certificate's key.
    pub signer: Arc<SigningKey>,
    /// The issuing certificate followed by the root (DER).
    pub chain: Vec<Vec<u8>>,
}

impl Material {
    /// The root (last) certificate.
    pub fn root(&self) -> &[u8] {
        self.chain.last().map_or(&[], Vec::as_slice)
    }

    /// The issuing (first) certificate.
    pub fn issuing(&self) -> &[u8] {
        self.chain.first().map_or(&[], Vec::as_slice)
    }
}

/// What kind of issuing certificate the directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An intermediate CA for code-signing leaves (P-256, so issuance stays fast).
    CodeSigningCa,
    /// An RFC 3161 signer (ECDSA P-256 with critical EKU timeStamping: what sigstore-js and Python accept).
    TimestampSigner,
}

fn setup(what: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Setup(format!("{what}: {e}"))
}

/// Loads the material in `dir`, or creates it (at time `now`) when the directory has none.
pub fn load_or_create(dir: &Path, kind: Kind, organization: &str, now: i64) -> Result<Material, Error> {
    let issuer_pem = dir.join("issuer.pem");
    if issuer_pem.exists() {
        return load(dir);
    }
    std::fs::create_dir_all(dir).map_err(|e| setup("creating the directory")(e.to_string()))?;
    let root_key = SigningKey::generate(KeyAlgorithm::EcdsaP384).map_err(|e| setup("root key")(e.to_string()))?;
    let label = match kind {
        Kind::CodeSigningCa => "sigil-ca",
        Kind::TimestampSigner => "sigil-tsa",
    };
    let root_name = Name {
        organization: organization.to_string(),
        common_name: format!("{label} root"),
    };
    // A minute of slack before now, so a client whose clock lags slightly still sees valid CA certificates.
    let not_before = now - 60;
    let root_der = self_signed_root(&root_key, &root_name, not_before, now + 10 * YEAR)
        .map_err(|e| setup("root certificate")(e.to_string()))?;
    let root_key = Arc::new(root_key);
    let root = Issuer::from_der(&root_der, Arc::clone(&root_key) as Arc<dyn Signer>)
        .map_err(|e| setup("root certificate")(e.to_string()))?;
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).map_err(|e| setup("issuing key")(e.to_string()))?;
    let issuing_der = match kind {
        Kind::CodeSigningCa => intermediate(
            &root,
            key.public_key(),
            &Name {
                organization: organization.to_string(),
                common_name: format!("{label} intermediate"),
            },
            not_before,
            now + 5 * YEAR,
            Some(0),
        ),
        Kind::TimestampSigner => tsa_leaf(
            &root,
            key.public_key(),
            &Name {
                organization: organization.to_string(),
                common_name: format!("{label} signer"),
            },
            not_before,
            now + 5 * YEAR,
        ),
    }
    .map_err(|e| setup("issuing certificate")(e.to_string()))?;
    write_private(&dir.join("root-key.pk8"), root_key.to_pkcs8_der())?;
    write_file(
        &dir.join("root.pem"),
        sigil_crypto::pem_encode("CERTIFICATE", &root_der).as_bytes(),
        false,
    )?;
    write_private(&dir.join("issuer-key.pk8"), key.to_pkcs8_der())?;
    // Written last: its presence marks the directory complete.
    write_file(
        &issuer_pem,
        sigil_crypto::pem_encode("CERTIFICATE", &issuing_der).as_bytes(),
        false,
    )?;
    sync_dir(dir)?;
    Ok(Material {
        signer: Arc::new(key),
        chain: vec![issuing_der, root_der],
    })
}

fn load(dir: &Path) -> Result<Material, Error> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| setup(name)(e.to_string()));
    // An operator's key may come as PEM (`issuer-key.pem`, PKCS#8 `PRIVATE KEY`); generated ones are DER.
    let key = if dir.join("issuer-key.pem").exists() {
        let text =
            String::from_utf8(read("issuer-key.pem")?).map_err(|_| setup("issuer-key.pem")("not UTF-8".into()))?;
        SigningKey::from_pkcs8_pem(&text).map_err(|e| setup("issuer-key.pem")(e.to_string()))?
    } else {
        SigningKey::from_pkcs8_der(&read("issuer-key.pk8")?).map_err(|e| setup("issuer-key.pk8")(e.to_string()))?
    };
    let pem = |name: &str| -> Result<Vec<u8>, Error> {
        let text = String::from_utf8(read(name)?).map_err(|_| setup(name)("not UTF-8".into()))?;
        sigil_crypto::pem_decode_one(&text, "CERTIFICATE").map_err(|e| setup(name)(e.to_string()))
    };
    let issuing = pem("issuer.pem")?;
    let root = pem("root.pem")?;
    let cert = sigil_x509::Certificate::from_der(&issuing).map_err(|e| setup("issuer.pem")(e.to_string()))?;
    if cert.public_key() != key.public_key() {
        return Err(Error::Setup(
            "issuer.pem does not hold the issuing key's public key".into(),
        ));
    }
    Ok(Material {
        signer: Arc::new(key),
        chain: vec![issuing, root],
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_file(path, bytes, true)
}

/// Writes a new file durably (create-new: an existing file is never overwritten).
fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let what = path.display().to_string();
    let mut f = opts.open(path).map_err(|e| setup(&what)(e.to_string()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| setup(&what)(e.to_string()))
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| setup("syncing the directory")(e.to_string()))
}
