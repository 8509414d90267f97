//! Rekor v1 `ProposedEntry` and v2 `CreateEntryRequest` bodies as the log accepts them, and the search keys
//! of what it would store.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for accepted in [sigil_log::entry::accept_v1(data), sigil_log::entry::accept_v2(data)] {
        if let Ok(a) = accepted {
            // What the log stores, verifiers must be able to read.
            assert!(
                sigil_bundle::RekorBody::from_json(&a.body).is_ok(),
                "accepted body does not parse: {}",
                String::from_utf8_lossy(&a.body)
            );
            let _ = sigil_log::entry::search_keys(&a.body);
        }
    }
    let _ = sigil_log::entry::search_keys(data);
});
