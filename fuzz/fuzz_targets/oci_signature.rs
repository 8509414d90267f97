//! What a registry hands the verifier for a legacy image signature: the simple-signing payload, and layer
//! annotations (signature, certificate, Rekor bundle) turned into a bundle. Never a panic.
#![no_main]

use sigil_oci::legacy::{LegacySignature, RekorAnnotation, parse_payload};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = parse_payload(data);
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let rekor = v
        .get("bundle")
        .and_then(|b| serde_json::from_value::<RekorAnnotation>(b.clone()).ok());
    let sig = LegacySignature {
        payload: text("payload").unwrap_or_default().into_bytes(),
        signature: text("signature").unwrap_or_default().into_bytes(),
        certificate_pem: text("certificate"),
        chain_pem: text("chain"),
        rekor,
    };
    if let Ok(bundle) = sig.to_bundle() {
        let _ = bundle.to_json();
    }
});
