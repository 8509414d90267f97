//! A private key file as `sign --key` reads it: cosign's encrypted PEM (scrypt parameters bounded before any
//! work), or an unencrypted PKCS#8 PEM. Never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if sigil_crypto::is_encrypted_private_key(text) {
        let _ = sigil_crypto::decrypt_private_key(text, b"");
    } else {
        let _ = sigil_crypto::SigningKey::from_pkcs8_pem(text);
    }
});
