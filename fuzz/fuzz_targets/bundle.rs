//! Bundle JSON and every log entry body in it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = sigil_bundle::Limits::default();
    if let Ok(b) = sigil_bundle::Bundle::from_json(data, &limits) {
        let _ = b.to_json();
        let _ = b.signature_bytes();
        for e in &b.verification_material.tlog_entries {
            if let Some(body) = &e.canonicalized_body {
                let _ = sigil_bundle::RekorBody::from_json(body);
            }
        }
        if let Some(env) = &b.dsse_envelope {
            let _ = sigil_bundle::Statement::from_json(&env.payload, &limits);
        }
    }
    let _ = sigil_bundle::RekorBody::from_json(data);
});
