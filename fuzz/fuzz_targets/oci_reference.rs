//! Image references and digests (`sigil sign/verify IMAGE`, registry answers): never a panic, and whatever
//! parses prints back to the same reference.
#![no_main]

use sigil_oci::{Digest, Reference};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(r) = s.parse::<Reference>() {
        let again: Reference = r.to_string().parse().unwrap();
        assert_eq!(again, r);
        assert!(r.repository().len() <= 255);
        let _ = r.with_tag("t").unwrap().manifest_reference();
    }
    if let Ok(d) = s.parse::<Digest>() {
        assert_eq!(d.to_string(), s);
    }
});
