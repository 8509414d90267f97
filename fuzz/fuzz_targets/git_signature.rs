//! Git commit signatures (gitsign's CMS layout) and the protobuf TransparencyLogEntry they carry.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // As armored text (the PEM layer), as DER inside the armor (the CMS layer), and as a protobuf entry.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sigil_git::cms::to_bundle(text, b"tree 0\n\nmsg\n");
    }
    let armored = sigil_crypto::pem_encode(sigil_git::cms::PEM_LABEL, data);
    if let Ok(p) = sigil_git::cms::to_bundle(&armored, b"tree 0\n\nmsg\n") {
        let _ = sigil_git::cms::assemble(&p.signed_attrs, &p.bundle);
    }
    if let Ok(e) = sigil_git::tle::decode(data) {
        let _ = sigil_git::tle::encode(&e);
    }
});
