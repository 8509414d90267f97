//! RFC 3161 TimeStampResp / CMS SignedData.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(resp) = sigil_tsa::TimeStampResponse::from_der(data) {
        let _ = resp.tst_info();
        let _ = sigil_tsa::verify_timestamp(&resp, b"signature", &[]);
    }
});
