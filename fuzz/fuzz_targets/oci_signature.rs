//! What a registry hands the verifier for a legacy image signature: the simple-signing payload, and layer
//! annotations (signature, certificate, Rekor bundle) turned into a bundle. Never a panic.
#![no_main]

use sigil_oci::legacy::{LegacyAttestation, LegacyMaterial, LegacySignature, RekorAnnotation, parse_payload};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = parse_payload(data);
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let rekor = v
        .get("bundle")
        .and_then(|b| serde_json::from_value::<RekorAnnotation>(b.clone()).ok());
    let material = LegacyMaterial {
        certificate_pem: text("certificate"),
        chain_pem: text("chain"),
        rekor,
    };
    // An attestation layer: the envelope as the registry holds it.
    if let Some(envelope) = v.get("envelope").and_then(|e| serde_json::from_value(e.clone()).ok()) {
        let att = LegacyAttestation {
            envelope,
            predicate_type: text("predicateType"),
            material: material.clone(),
        };
        if let Ok(bundle) = att.to_bundle() {
            let _ = bundle.to_json();
        }
    }
    let sig = LegacySignature {
        payload: text("payload").unwrap_or_default().into_bytes(),
        signature: text("signature").unwrap_or_default().into_bytes(),
        material,
    };
    if let Ok(bundle) = sig.to_bundle() {
        let _ = bundle.to_json();
    }
});
