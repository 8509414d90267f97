//! Trusted root JSON, through to parsed keys and certificates.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sigil_trust::TrustedMaterial::from_json(data);
    let _ = sigil_bundle::SigningConfig::from_json(data, &sigil_bundle::Limits::default());
});
