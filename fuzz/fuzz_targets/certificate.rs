//! DER certificates: parsing, Fulcio identity extraction, SCT list decoding.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = sigil_x509::Certificate::from_der(data) {
        let _ = cert.identity();
        let _ = sigil_x509::verify_embedded_scts(&cert, &cert, &[]);
        let _ = sigil_x509::verify_chain(&cert, std::slice::from_ref(&cert), cert.not_before(), sigil_x509::ExtendedKeyUsage::CodeSigning);
    }
});
